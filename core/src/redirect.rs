//! Which payment pages the widget may send the candidate to.
//!
//! For `candidate_pays` the API returns a `payment_url`; the widget navigates
//! the top window there only if this policy accepts it. The URL is parsed by
//! hand (the `url` crate's IDNA tables would not fit the widget's size
//! budget), strictly: anything unusual is refused rather than interpreted.
//!
//! Invariants:
//! * An accepted URL is `https` (or `http` to an allow-listed loopback
//!   origin, for the local sandbox), has no user info, and its scheme, host
//!   and port equal an allow-listed origin exactly (host compared in lower
//!   case, the default port written or not).
//! * [`PaymentRedirectPolicy::check`] returns the URL with its origin in
//!   canonical form (lower case, default port dropped) followed by the rest
//!   exactly as sent; that string, and nothing else, is what the widget
//!   navigates to. It starts with an allowed origin followed by `/`, `?`,
//!   `#` or nothing.
//! * Whitespace, control characters, backslashes and non-ASCII characters
//!   anywhere are refused: browsers strip or reinterpret them, which is how
//!   look-alike URLs get through naive checks.
//! * The servers read URLs and origins with the same parser ([`split_url`],
//!   [`origin_of`], [`parse_origin`], [`parse_payment_origin`]), so the
//!   gateway accepts as a payment origin exactly what the widget honours,
//!   and a URL the servers accept is one the widget can read.

use std::fmt;

/// The origin of Stripe Checkout, the only payment page allowed by default.
pub const STRIPE_CHECKOUT_ORIGIN: &str = "https://checkout.stripe.com";

/// Hosts for which an `http://` payment origin is honoured (a local sandbox).
pub const LOOPBACK_HOSTS: [&str; 3] = ["127.0.0.1", "localhost", "[::1]"];

/// The payment pages the widget may redirect to. Configuration: Stripe
/// Checkout by default, the sandbox's own checkout page in the demo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRedirectPolicy {
    /// Allowed origins, e.g. `https://checkout.stripe.com` or, for the local
    /// sandbox only, `http://127.0.0.1:8080`. Entries that are not a bare
    /// origin, and `http` entries for hosts other than loopback, never match.
    pub allowed_origins: Vec<String>,
}

impl Default for PaymentRedirectPolicy {
    /// Stripe Checkout only.
    fn default() -> Self {
        PaymentRedirectPolicy {
            allowed_origins: vec![STRIPE_CHECKOUT_ORIGIN.to_owned()],
        }
    }
}

/// Why a payment URL was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedirectRefused {
    /// No URL at all.
    Empty,
    /// Whitespace, a control character, a backslash or a non-ASCII character.
    ForbiddenCharacter,
    /// Not `https` (including `javascript:`, `data:`, relative and
    /// protocol-relative URLs), and not an allowed loopback `http` origin;
    /// from [`split_url`], [`origin_of`] and [`parse_origin`], which read
    /// `http` too: neither `http` nor `https`.
    NotHttps,
    /// No host after the scheme.
    MissingHost,
    /// User info (`user@host`) before the host.
    UserInfo,
    /// The host has characters a plain domain name or IP address cannot.
    MalformedHost,
    /// The port is not a number from 0 to 65535.
    BadPort,
    /// Something after an origin that must stand alone: a path other than
    /// `/`, a query or a fragment.
    NotAnOrigin,
    /// A well-formed origin that is not on the allow-list.
    NotAllowed {
        /// The refused origin, canonical form.
        origin: String,
    },
}

impl RedirectRefused {
    /// What to tell the candidate.
    pub fn message(&self) -> &'static str {
        "We could not open the payment page because its address is not one we trust"
    }
}

impl fmt::Display for RedirectRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RedirectRefused::Empty => f.write_str("payment URL is empty"),
            RedirectRefused::ForbiddenCharacter => f.write_str(
                "payment URL has whitespace, control, backslash or non-ASCII characters",
            ),
            RedirectRefused::NotHttps => f.write_str("payment URL is not https"),
            RedirectRefused::MissingHost => f.write_str("payment URL has no host"),
            RedirectRefused::UserInfo => f.write_str("payment URL has user info"),
            RedirectRefused::MalformedHost => f.write_str("payment URL host is malformed"),
            RedirectRefused::BadPort => f.write_str("payment URL port is malformed"),
            RedirectRefused::NotAnOrigin => {
                f.write_str("origin has a path, query or fragment after it")
            }
            RedirectRefused::NotAllowed { origin } => {
                write!(f, "payment URL origin {origin} is not allowed")
            }
        }
    }
}

impl std::error::Error for RedirectRefused {}

/// The scheme, host and port of a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    https: bool,
    host: String,
    port: u16,
}

impl Origin {
    fn default_port(&self) -> u16 {
        if self.https {
            443
        } else {
            80
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        write!(f, "{scheme}://{}", self.host)?;
        if self.port != self.default_port() {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

/// Splits a URL into its origin and the rest (empty or starting with `/`,
/// `?` or `#`).
fn parse(url: &str) -> Result<(Origin, &str), RedirectRefused> {
    if url.is_empty() {
        return Err(RedirectRefused::Empty);
    }
    if url
        .bytes()
        .any(|b| !b.is_ascii() || b.is_ascii_control() || b == b' ' || b == b'\\')
    {
        return Err(RedirectRefused::ForbiddenCharacter);
    }
    let (scheme, after_scheme) = url.split_once(':').ok_or(RedirectRefused::NotHttps)?;
    let https = if scheme.eq_ignore_ascii_case("https") {
        true
    } else if scheme.eq_ignore_ascii_case("http") {
        false
    } else {
        return Err(RedirectRefused::NotHttps);
    };
    let after_slashes = after_scheme
        .strip_prefix("//")
        .ok_or(RedirectRefused::MissingHost)?;
    let end = after_slashes
        .find(['/', '?', '#'])
        .unwrap_or(after_slashes.len());
    let (authority, rest) = after_slashes.split_at(end);
    if authority.contains('@') {
        return Err(RedirectRefused::UserInfo);
    }
    if authority.is_empty() {
        return Err(RedirectRefused::MissingHost);
    }
    let (host, port) = split_host_port(authority)?;
    let default_port = if https { 443 } else { 80 };
    let port = match port {
        None => default_port,
        Some(digits) => parse_port(digits)?,
    };
    Ok((
        Origin {
            https,
            host: host.to_ascii_lowercase(),
            port,
        },
        rest,
    ))
}

/// Splits `host[:port]` or `[ipv6][:port]`, checking the host's characters.
fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), RedirectRefused> {
    let (host, after_host) = if authority.starts_with('[') {
        let close = authority.find(']').ok_or(RedirectRefused::MalformedHost)?;
        let (host, after) = authority.split_at(close + 1);
        let inner = &host[1..host.len() - 1];
        if inner.is_empty()
            || !inner
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return Err(RedirectRefused::MalformedHost);
        }
        (host, after)
    } else {
        let colon = authority.find(':').unwrap_or(authority.len());
        let (host, after) = authority.split_at(colon);
        if host.is_empty() {
            return Err(RedirectRefused::MissingHost);
        }
        if !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        {
            return Err(RedirectRefused::MalformedHost);
        }
        (host, after)
    };
    match after_host.strip_prefix(':') {
        Some(port) => Ok((host, Some(port))),
        None if after_host.is_empty() => Ok((host, None)),
        None => Err(RedirectRefused::MalformedHost),
    }
}

fn parse_port(digits: &str) -> Result<u16, RedirectRefused> {
    if digits.is_empty() || digits.len() > 5 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RedirectRefused::BadPort);
    }
    digits.parse().map_err(|_| RedirectRefused::BadPort)
}

/// An origin with nothing after it but an optional `/`.
fn bare_origin(value: &str) -> Result<Origin, RedirectRefused> {
    let (origin, rest) = parse(value)?;
    if rest.is_empty() || rest == "/" {
        Ok(origin)
    } else {
        Err(RedirectRefused::NotAnOrigin)
    }
}

/// A bare origin that is `https`, or `http` on a loopback host.
fn payment_origin(value: &str) -> Result<Origin, RedirectRefused> {
    let origin = bare_origin(value)?;
    if origin.https || LOOPBACK_HOSTS.contains(&origin.host.as_str()) {
        Ok(origin)
    } else {
        Err(RedirectRefused::NotHttps)
    }
}

/// Reads an absolute `http` or `https` URL with the parser the payment
/// policy uses: its origin in canonical form (lower case, default port
/// dropped) and the rest (empty or starting with `/`, `?` or `#`) exactly as
/// written. Any host is accepted, over `http` too: this reads a URL, it does
/// not decide whether the widget may be sent there.
pub fn split_url(url: &str) -> Result<(String, &str), RedirectRefused> {
    let (origin, rest) = parse(url)?;
    Ok((origin.to_string(), rest))
}

/// The canonical origin of an absolute `http` or `https` URL (see
/// [`split_url`]).
pub fn origin_of(url: &str) -> Result<String, RedirectRefused> {
    split_url(url).map(|(origin, _)| origin)
}

/// An origin as written in a configuration, `scheme://host[:port]` with at
/// most a trailing `/`, in canonical form. Any host, over `http` too.
pub fn parse_origin(value: &str) -> Result<String, RedirectRefused> {
    bare_origin(value).map(|origin| origin.to_string())
}

/// A payment page origin as written in a configuration, in canonical form,
/// if the widget honours it: a bare origin (see [`parse_origin`]) that is
/// `https`, or `http` on one of the [`LOOPBACK_HOSTS`]. An entry refused
/// here never matches in a [`PaymentRedirectPolicy`]; one accepted here
/// matches every URL on that origin, written as given or in canonical form.
pub fn parse_payment_origin(value: &str) -> Result<String, RedirectRefused> {
    payment_origin(value).map(|origin| origin.to_string())
}

impl PaymentRedirectPolicy {
    /// A policy allowing these origins.
    pub fn new<I, S>(allowed_origins: I) -> PaymentRedirectPolicy
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        PaymentRedirectPolicy {
            allowed_origins: allowed_origins.into_iter().map(Into::into).collect(),
        }
    }

    /// The allow-list entries that can match, as parsed origins.
    fn usable_origins(&self) -> impl Iterator<Item = Origin> + '_ {
        self.allowed_origins
            .iter()
            .filter_map(|entry| payment_origin(entry).ok())
    }

    /// Accepts a payment URL, returning it with a canonical origin, or says
    /// why it must not be opened.
    pub fn check(&self, url: &str) -> Result<String, RedirectRefused> {
        let (origin, rest) = parse(url)?;
        if self.usable_origins().any(|allowed| allowed == origin) {
            Ok(format!("{origin}{rest}"))
        } else if !origin.https {
            Err(RedirectRefused::NotHttps)
        } else {
            Err(RedirectRefused::NotAllowed {
                origin: origin.to_string(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SESSION: &str =
        "https://checkout.stripe.com/c/pay/cs_test_a1B2c3#fidkdWxOYHwnPyd1blpxYHZxWjA0";

    #[test]
    fn stripe_checkout_is_accepted_by_default() {
        let policy = PaymentRedirectPolicy::default();
        let accepted = [
            (SESSION, SESSION),
            ("https://checkout.stripe.com", "https://checkout.stripe.com"),
            (
                "https://checkout.stripe.com/",
                "https://checkout.stripe.com/",
            ),
            (
                "https://checkout.stripe.com?x=1",
                "https://checkout.stripe.com?x=1",
            ),
            (
                "https://checkout.stripe.com#frag",
                "https://checkout.stripe.com#frag",
            ),
            (
                "HTTPS://Checkout.Stripe.COM/Pay/AbC",
                "https://checkout.stripe.com/Pay/AbC",
            ),
            (
                "https://checkout.stripe.com:443/pay",
                "https://checkout.stripe.com/pay",
            ),
            (
                "https://checkout.stripe.com/pay/a@b",
                "https://checkout.stripe.com/pay/a@b",
            ),
        ];
        for (url, canonical) in accepted {
            assert_eq!(policy.check(url).as_deref(), Ok(canonical), "{url}");
        }
    }

    #[test]
    fn look_alikes_and_tricks_are_refused() {
        use RedirectRefused::*;
        let policy = PaymentRedirectPolicy::default();
        let not_allowed = |origin: &str| NotAllowed {
            origin: origin.to_owned(),
        };
        let table = [
            ("", Empty),
            ("http://checkout.stripe.com/pay", NotHttps),
            ("javascript:alert(1)", NotHttps),
            ("JavaScript://checkout.stripe.com/%0aalert(1)", NotHttps),
            ("data:text/html,<script>alert(1)</script>", NotHttps),
            ("//checkout.stripe.com/pay", NotHttps),
            ("/pay", NotHttps),
            ("checkout.stripe.com/pay", NotHttps),
            ("ftp://checkout.stripe.com/", NotHttps),
            ("https:checkout.stripe.com", MissingHost),
            ("https:/checkout.stripe.com", MissingHost),
            ("https:///checkout.stripe.com", MissingHost),
            ("https://", MissingHost),
            ("https://:443/", MissingHost),
            ("https://checkout.stripe.com@evil.example/", UserInfo),
            ("https://user:pw@checkout.stripe.com/", UserInfo),
            ("https://@checkout.stripe.com/", UserInfo),
            (
                "https://checkout.stripe.com\\@evil.example/",
                ForbiddenCharacter,
            ),
            (
                "https://checkout.stripe.com\\.evil.example/",
                ForbiddenCharacter,
            ),
            (" https://checkout.stripe.com/", ForbiddenCharacter),
            ("https://checkout.stripe.com/\n", ForbiddenCharacter),
            (
                "https://checkout.stripe.com\t.evil.example/",
                ForbiddenCharacter,
            ),
            ("https://checkout.stripe.com%2eevil.example/", MalformedHost),
            ("https://checkout_stripe.com/", MalformedHost),
            ("https://chеckout.stripe.com/", ForbiddenCharacter),
            (
                "https://checkout.stripe.com。evil.example/",
                ForbiddenCharacter,
            ),
            (
                "https://checkout.stripe.com.evil.example/",
                not_allowed("https://checkout.stripe.com.evil.example"),
            ),
            (
                "https://checkout.stripe.com./",
                not_allowed("https://checkout.stripe.com."),
            ),
            (
                "https://evilcheckout.stripe.com/",
                not_allowed("https://evilcheckout.stripe.com"),
            ),
            ("https://stripe.com/", not_allowed("https://stripe.com")),
            (
                "https://checkout.stripe.com:8443/",
                not_allowed("https://checkout.stripe.com:8443"),
            ),
            ("https://checkout.stripe.com:/", BadPort),
            ("https://checkout.stripe.com:+443/", BadPort),
            ("https://checkout.stripe.com:65536/", BadPort),
            ("https://checkout.stripe.com:0000443/", BadPort),
            ("https://checkout.stripe.com:443:443/", BadPort),
            ("https://[::1/", MalformedHost),
            ("https://[::g]/", MalformedHost),
            ("https://[::1]x/", MalformedHost),
            ("https://127.0.0.1/", not_allowed("https://127.0.0.1")),
        ];
        for (url, reason) in table {
            assert_eq!(policy.check(url), Err(reason), "{url:?}");
        }
    }

    #[test]
    fn loopback_http_entries_allow_exactly_that_origin() {
        let policy = PaymentRedirectPolicy::new([
            "http://127.0.0.1:8080",
            "http://LOCALHOST:3000/",
            "http://[::1]:9000",
            "http://sandbox.example:8080",
            "https://checkout.stripe.com/c/pay",
        ]);
        let accepted = [
            (
                "http://127.0.0.1:8080/checkout/42",
                "http://127.0.0.1:8080/checkout/42",
            ),
            (
                "http://localhost:3000/pay?b=7",
                "http://localhost:3000/pay?b=7",
            ),
            ("http://[::1]:9000/", "http://[::1]:9000/"),
        ];
        for (url, canonical) in accepted {
            assert_eq!(policy.check(url).as_deref(), Ok(canonical), "{url}");
        }
        let refused = [
            ("http://127.0.0.1:8081/checkout", RedirectRefused::NotHttps),
            ("http://127.0.0.1/checkout", RedirectRefused::NotHttps),
            ("http://localhost:8080/", RedirectRefused::NotHttps),
            // An http entry for a non-loopback host is ignored.
            ("http://sandbox.example:8080/", RedirectRefused::NotHttps),
            // An entry with a path is not an origin and never matches.
            (
                "https://checkout.stripe.com/c/pay/x",
                RedirectRefused::NotAllowed {
                    origin: "https://checkout.stripe.com".into(),
                },
            ),
            (
                "https://127.0.0.1:8080/",
                RedirectRefused::NotAllowed {
                    origin: "https://127.0.0.1:8080".into(),
                },
            ),
        ];
        for (url, reason) in refused {
            assert_eq!(policy.check(url), Err(reason), "{url}");
        }
    }

    #[test]
    fn urls_are_read_with_the_policy_s_parser_on_any_host() {
        use RedirectRefused::*;
        assert_eq!(
            split_url("HTTP://Agency.Example:80/Booked?x=1#top"),
            Ok(("http://agency.example".to_owned(), "/Booked?x=1#top"))
        );
        assert_eq!(
            split_url("https://tdta.hbcompliance.co.uk/api/v1/"),
            Ok(("https://tdta.hbcompliance.co.uk".to_owned(), "/api/v1/"))
        );
        assert_eq!(
            origin_of("https://www.agency.example:443/booked").as_deref(),
            Ok("https://www.agency.example")
        );
        assert_eq!(
            origin_of("http://sandbox.example:8080?x").as_deref(),
            Ok("http://sandbox.example:8080")
        );
        for (url, reason) in [
            ("", Empty),
            ("javascript:alert(1)", NotHttps),
            ("/relative", NotHttps),
            ("//agency.example/", NotHttps),
            ("https://", MissingHost),
            ("https://user@agency.example/", UserInfo),
            ("https://agency.example/ x", ForbiddenCharacter),
            ("https://agency.example\\@evil.example/", ForbiddenCharacter),
            ("https://agency_example/", MalformedHost),
            ("https://agency.example:99999/", BadPort),
        ] {
            assert_eq!(origin_of(url), Err(reason), "{url:?}");
        }
    }

    #[test]
    fn configured_origins_stand_alone_and_are_canonical() {
        use RedirectRefused::*;
        for (value, origin) in [
            (
                "https://www.Agency.example:443/",
                "https://www.agency.example",
            ),
            ("http://127.0.0.1:8081", "http://127.0.0.1:8081"),
            ("http://agency.test", "http://agency.test"),
            ("https://[::1]:8443", "https://[::1]:8443"),
        ] {
            assert_eq!(parse_origin(value).as_deref(), Ok(origin), "{value}");
        }
        for (value, reason) in [
            ("https://www.agency.example/booking", NotAnOrigin),
            ("https://www.agency.example/?x=1", NotAnOrigin),
            ("https://www.agency.example#top", NotAnOrigin),
            ("https://www.agency.example//", NotAnOrigin),
            ("www.agency.example", NotHttps),
            ("ftp://files.example", NotHttps),
            ("https://tom@www.agency.example", UserInfo),
        ] {
            assert_eq!(parse_origin(value), Err(reason), "{value}");
        }
    }

    #[test]
    fn payment_origins_are_https_or_loopback_http() {
        use RedirectRefused::*;
        for (value, origin) in [
            ("https://checkout.stripe.com", "https://checkout.stripe.com"),
            (
                "HTTPS://Checkout.Stripe.com:443/",
                "https://checkout.stripe.com",
            ),
            (
                "https://pay.agency.example:8443",
                "https://pay.agency.example:8443",
            ),
            ("http://127.0.0.1:8081", "http://127.0.0.1:8081"),
            ("http://LOCALHOST:3000/", "http://localhost:3000"),
            ("http://[::1]:9000", "http://[::1]:9000"),
        ] {
            assert_eq!(
                parse_payment_origin(value).as_deref(),
                Ok(origin),
                "{value}"
            );
        }
        for (value, reason) in [
            ("http://sandbox.example:8080", NotHttps),
            ("http://checkout.stripe.com", NotHttps),
            ("http://127.0.0.2:8081", NotHttps),
            ("http://0.0.0.0:8081", NotHttps),
            ("https://checkout.stripe.com/c/pay", NotAnOrigin),
            ("checkout.stripe.com", NotHttps),
        ] {
            assert_eq!(parse_payment_origin(value), Err(reason), "{value}");
        }
    }

    #[test]
    fn a_payment_origin_is_honoured_exactly_when_it_is_accepted() {
        let schemes = ["https://", "http://", "HTTP://", "ftp://", ""];
        let hosts = [
            "checkout.stripe.com",
            "Sandbox.Example",
            "127.0.0.1",
            "localhost",
            "[::1]",
            "10.0.0.5",
            "",
        ];
        let ports = ["", ":443", ":80", ":8081", ":x"];
        let rests = ["", "/", "/pay", "?x", "#f"];
        for scheme in schemes {
            for host in hosts {
                for port in ports {
                    for rest in rests {
                        let entry = format!("{scheme}{host}{port}{rest}");
                        let honoured = PaymentRedirectPolicy::new([entry.as_str()])
                            .check(&entry)
                            .is_ok();
                        let accepted = parse_payment_origin(&entry);
                        assert_eq!(accepted.is_ok(), honoured, "{entry:?}: {accepted:?}");
                        if let Ok(canonical) = accepted {
                            let page = format!("{canonical}/checkout/1");
                            let policy = PaymentRedirectPolicy::new([canonical]);
                            assert!(policy.check(&entry).is_ok(), "{entry:?}");
                            assert_eq!(policy.check(&page), Ok(page.clone()));
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn an_empty_allow_list_refuses_everything() {
        let policy = PaymentRedirectPolicy::new(Vec::<String>::new());
        assert!(policy.check(SESSION).is_err());
    }

    #[test]
    fn messages() {
        let refused = PaymentRedirectPolicy::default()
            .check("https://evil.example/")
            .unwrap_err();
        assert_eq!(
            refused.to_string(),
            "payment URL origin https://evil.example is not allowed"
        );
        assert!(refused.message().contains("not one we trust"));
    }
}
