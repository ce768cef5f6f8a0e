//! Where webhooks may be sent: the addresses a delivery may connect to, so
//! that an endpoint cannot turn the sandbox into a probe of the machine it
//! runs on or of that machine's network.
//!
//! An endpoint's URL is checked when it is registered or changed (a literal
//! address as it is, a name by resolving it) and again at every delivery,
//! since a name can be re-pointed after registration: the delivery client
//! resolves names through a [`CheckedResolver`], so it connects only to
//! addresses that passed, and a literal address, which the client does not
//! resolve, is checked before sending ([`Reach::check_literal`]). Redirects
//! are not followed (`deliveries`), so a 3xx cannot lead anywhere else.
//!
//! Refused in every mode: private (10/8, 172.16/12, 192.168/16, fc00::/7),
//! link-local (169.254/16, where cloud metadata services answer, and
//! fe80::/10), shared address space (100.64/10), unspecified and "this
//! network" (0/8, `::`), multicast (224/4, ff00::/8), reserved and broadcast
//! (240/4, 255.255.255.255), and the IPv6 forms that carry one of those IPv4
//! addresses (mapped `::ffff:0:0/96`, compatible `::/96`, NAT64
//! `64:ff9b::/96`). Loopback (127/8, `::1`) is refused outside test mode; in
//! test mode, where the project's receivers listen on 127.0.0.1, and for the
//! demo's own receiver, it is allowed.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use ipnet::{Ipv4Net, Ipv6Net};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;

/// Shared address space (carrier-grade NAT), RFC 6598.
const SHARED: Ipv4Net = Ipv4Net::new_assert(Ipv4Addr::new(100, 64, 0, 0), 10);
/// "This network", RFC 791: 0.0.0.0 is only its first address.
const THIS_NETWORK: Ipv4Net = Ipv4Net::new_assert(Ipv4Addr::UNSPECIFIED, 8);
/// Reserved for future use, RFC 1112, with the limited broadcast address.
const RESERVED: Ipv4Net = Ipv4Net::new_assert(Ipv4Addr::new(240, 0, 0, 0), 4);
/// IPv4-compatible IPv6 addresses (deprecated, RFC 4291).
const IPV4_COMPATIBLE: Ipv6Net = Ipv6Net::new_assert(Ipv6Addr::UNSPECIFIED, 96);
/// The NAT64 well-known prefix, RFC 6052: its last 32 bits are an IPv4
/// address a NAT64 gateway connects to.
const NAT64: Ipv6Net = Ipv6Net::new_assert(Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96);

/// How long registering an endpoint waits for its name to resolve.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// Why an address is not public.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// 127/8, `::1`.
    Loopback,
    /// 10/8, 172.16/12, 192.168/16, fc00::/7.
    Private,
    /// 169.254/16, fe80::/10.
    LinkLocal,
    /// 100.64/10.
    Shared,
    /// 0/8, `::`.
    Unspecified,
    /// 224/4, ff00::/8.
    Multicast,
    /// 240/4, 255.255.255.255 included.
    Reserved,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Loopback => "loopback",
            Kind::Private => "private",
            Kind::LinkLocal => "link-local",
            Kind::Shared => "shared (carrier-grade NAT)",
            Kind::Unspecified => "unspecified",
            Kind::Multicast => "multicast",
            Kind::Reserved => "reserved",
        })
    }
}

/// What kind of non-public address `address` is; `None` for a public one.
fn kind(address: IpAddr) -> Option<Kind> {
    match address {
        IpAddr::V4(address) => v4_kind(address),
        IpAddr::V6(address) => v6_kind(address),
    }
}

fn v4_kind(address: Ipv4Addr) -> Option<Kind> {
    if address.is_loopback() {
        Some(Kind::Loopback)
    } else if address.is_private() {
        Some(Kind::Private)
    } else if address.is_link_local() {
        Some(Kind::LinkLocal)
    } else if SHARED.contains(&address) {
        Some(Kind::Shared)
    } else if THIS_NETWORK.contains(&address) {
        Some(Kind::Unspecified)
    } else if address.is_multicast() {
        Some(Kind::Multicast)
    } else if RESERVED.contains(&address) {
        Some(Kind::Reserved)
    } else {
        None
    }
}

fn v6_kind(address: Ipv6Addr) -> Option<Kind> {
    if let Some(mapped) = address.to_ipv4_mapped() {
        v4_kind(mapped)
    } else if address.is_loopback() {
        Some(Kind::Loopback)
    } else if address.is_unspecified() {
        Some(Kind::Unspecified)
    } else if address.is_unicast_link_local() {
        Some(Kind::LinkLocal)
    } else if address.is_unique_local() {
        Some(Kind::Private)
    } else if address.is_multicast() {
        Some(Kind::Multicast)
    } else if IPV4_COMPATIBLE.contains(&address) || NAT64.contains(&address) {
        let [.., a, b, c, d] = address.octets();
        v4_kind(Ipv4Addr::new(a, b, c, d))
    } else {
        None
    }
}

/// An address a webhook may not be sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{address} is a {kind} address")]
pub(crate) struct Refused {
    /// The address.
    address: IpAddr,
    /// Why it is refused.
    kind: Kind,
}

/// Which addresses webhooks may be delivered to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// Public addresses only: the sandbox outside test mode.
    Public,
    /// Public and loopback addresses: test mode, and the demo's receiver.
    PublicAndLoopback,
}

impl Reach {
    /// The reach of a sandbox in test mode or outside it.
    pub(crate) fn for_mode(test_mode: bool) -> Reach {
        if test_mode {
            Reach::PublicAndLoopback
        } else {
            Reach::Public
        }
    }

    /// Whether a delivery may connect to `address`.
    pub(crate) fn check(self, address: IpAddr) -> Result<(), Refused> {
        match kind(address) {
            None => Ok(()),
            Some(Kind::Loopback) if self == Reach::PublicAndLoopback => Ok(()),
            Some(kind) => Err(Refused { address, kind }),
        }
    }

    /// Checks the host of `url` when it is a literal address, which the
    /// delivery client connects to without resolving; a name passes (the
    /// [`CheckedResolver`] checks it), and so does a URL that does not
    /// parse (it cannot be sent at all).
    pub(crate) fn check_literal(self, url: &str) -> Result<(), Refused> {
        match Url::parse(url).ok().and_then(|url| literal(&url)) {
            Some(address) => self.check(address),
            None => Ok(()),
        }
    }

    /// Checks the host of `url`: a literal address as it is, a name by
    /// resolving it, refused if any of its addresses is. A name that does
    /// not resolve now passes: there is nothing to connect to, and every
    /// delivery resolves and checks it again.
    pub(crate) async fn check_url(self, url: &Url) -> Result<(), Refused> {
        if let Some(address) = literal(url) {
            return self.check(address);
        }
        let (Some(name), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
            return Ok(());
        };
        match tokio::time::timeout(LOOKUP_TIMEOUT, tokio::net::lookup_host((name, port))).await {
            Ok(Ok(addresses)) => self.check_all(addresses).map(drop),
            Ok(Err(_)) | Err(_) => Ok(()),
        }
    }

    /// The addresses, if every one passes.
    fn check_all(
        self,
        addresses: impl IntoIterator<Item = SocketAddr>,
    ) -> Result<Vec<SocketAddr>, Refused> {
        addresses
            .into_iter()
            .map(|address| self.check(address.ip()).map(|()| address))
            .collect()
    }
}

/// The host of `url` when it is a literal IPv4 or IPv6 address.
fn literal(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(address) => Some(address.into()),
        url::Host::Ipv6(address) => Some(address.into()),
        url::Host::Domain(_) => None,
    }
}

/// The delivery client's resolver: resolves a name with the system's
/// resolver and yields its addresses only if every one passes the reach, so
/// the client connects to nothing else. A refusal is a [`Refused`] error.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CheckedResolver(pub Reach);

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let reach = self.0;
        Box::pin(async move {
            let resolved = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let addresses: Addrs = Box::new(reach.check_all(resolved)?.into_iter());
            Ok(addresses)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(reach: Reach, address: &str) -> Option<Kind> {
        let address: IpAddr = address.parse().expect("an address");
        reach.check(address).err().map(|refused| refused.kind)
    }

    #[test]
    fn every_non_public_range_is_refused_in_every_mode() {
        for reach in [Reach::Public, Reach::PublicAndLoopback] {
            for (address, kind) in [
                ("10.0.0.1", Kind::Private),
                ("172.16.0.1", Kind::Private),
                ("172.31.255.255", Kind::Private),
                ("192.168.1.1", Kind::Private),
                ("169.254.169.254", Kind::LinkLocal),
                ("100.64.0.1", Kind::Shared),
                ("100.127.255.254", Kind::Shared),
                ("0.0.0.0", Kind::Unspecified),
                ("0.1.2.3", Kind::Unspecified),
                ("224.0.0.1", Kind::Multicast),
                ("239.255.255.250", Kind::Multicast),
                ("240.0.0.1", Kind::Reserved),
                ("255.255.255.255", Kind::Reserved),
                ("::", Kind::Unspecified),
                ("fe80::1", Kind::LinkLocal),
                ("fc00::1", Kind::Private),
                ("fd00:ec2::254", Kind::Private),
                ("ff02::1", Kind::Multicast),
                ("::ffff:10.0.0.1", Kind::Private),
                ("::ffff:169.254.169.254", Kind::LinkLocal),
                ("::10.0.0.1", Kind::Private),
                ("64:ff9b::a9fe:a9fe", Kind::LinkLocal),
            ] {
                assert_eq!(refused(reach, address), Some(kind), "{address} {reach:?}");
            }
        }
    }

    #[test]
    fn loopback_is_refused_outside_test_mode_only() {
        for address in ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"] {
            assert_eq!(refused(Reach::Public, address), Some(Kind::Loopback));
            assert_eq!(refused(Reach::PublicAndLoopback, address), None);
        }
    }

    #[test]
    fn public_addresses_pass() {
        for address in [
            "93.184.215.14",
            "100.63.255.255",
            "100.128.0.0",
            "172.32.0.1",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:93.184.215.14",
            "64:ff9b::5db8:d70e",
        ] {
            assert_eq!(refused(Reach::Public, address), None, "{address}");
        }
    }

    #[test]
    fn literal_hosts_are_read_as_the_client_reads_them() {
        for url in [
            "https://2130706433/",
            "https://0x7f.1/",
            "https://[::ffff:7f00:1]/",
        ] {
            assert!(Reach::Public.check_literal(url).is_err(), "{url}");
            assert!(Reach::PublicAndLoopback.check_literal(url).is_ok(), "{url}");
        }
        assert!(Reach::Public
            .check_literal("https://hooks.agency.example/tdta")
            .is_ok());
    }

    #[tokio::test]
    async fn a_name_is_checked_by_its_addresses() {
        let url = Url::parse("https://localhost:6379/").expect("url");
        let refused = Reach::Public.check_url(&url).await.expect_err("loopback");
        assert_eq!(refused.kind, Kind::Loopback);
        assert!(Reach::PublicAndLoopback.check_url(&url).await.is_ok());
        let unknown = Url::parse("https://hooks.agency.invalid/tdta").expect("url");
        assert!(Reach::Public.check_url(&unknown).await.is_ok());
    }

    #[tokio::test]
    async fn the_resolver_refuses_a_name_that_leads_to_a_refused_address() {
        let name = || "localhost".parse::<Name>().expect("name");
        let error = match CheckedResolver(Reach::Public).resolve(name()).await {
            Ok(addresses) => panic!("resolved to {:?}", addresses.collect::<Vec<_>>()),
            Err(error) => error,
        };
        let refused = error.downcast_ref::<Refused>().expect("a refusal");
        assert_eq!(refused.kind, Kind::Loopback);
        let addresses: Vec<SocketAddr> = CheckedResolver(Reach::PublicAndLoopback)
            .resolve(name())
            .await
            .expect("resolves")
            .collect();
        assert!(addresses.iter().all(|address| address.ip().is_loopback()));
        assert!(!addresses.is_empty());
    }
}
