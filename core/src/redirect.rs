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

use std::fmt;

/// The origin of Stripe Checkout, the only payment page allowed by default.
pub const STRIPE_CHECKOUT_ORIGIN: &str = "https://checkout.stripe.com";

/// Hosts for which an `http://` allow-list entry is honoured.
const LOOPBACK_HOSTS: [&str; 3] = ["127.0.0.1", "localhost", "[::1]"];

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
    /// protocol-relative URLs), and not an allowed loopback `http` origin.
    NotHttps,
    /// No host after the scheme.
    MissingHost,
    /// User info (`user@host`) before the host.
    UserInfo,
    /// The host has characters a plain domain name or IP address cannot.
    MalformedHost,
    /// The port is not a number from 0 to 65535.
    BadPort,
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
        self.allowed_origins.iter().filter_map(|entry| {
            let (origin, rest) = parse(entry).ok()?;
            let bare = rest.is_empty() || rest == "/";
            let secure_enough = origin.https || LOOPBACK_HOSTS.contains(&origin.host.as_str());
            (bare && secure_enough).then_some(origin)
        })
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
