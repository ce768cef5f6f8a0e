//! Redirect policy properties: nothing passes unless it starts with an
//! allowed origin followed by `/`, `?`, `#` or nothing, and every such URL
//! with ordinary characters passes.

use booking_core::redirect::{origin_of, parse_payment_origin, PaymentRedirectPolicy};
use proptest::prelude::*;

const ALLOWED: [&str; 2] = ["https://checkout.stripe.com", "http://127.0.0.1:8080"];

fn policy() -> PaymentRedirectPolicy {
    PaymentRedirectPolicy::new(ALLOWED)
}

/// Whether a URL is one of the allowed origins followed by `/`, `?`, `#`
/// or nothing.
fn starts_with_allowed_origin(url: &str) -> bool {
    ALLOWED.iter().any(|origin| {
        url.strip_prefix(origin)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?', '#']))
    })
}

/// Strings built from pieces of real and look-alike URLs (scheme, host,
/// port, rest), so that random cases come close to passing.
fn near_misses() -> impl Strategy<Value = String> {
    let scheme = prop_oneof![
        Just("https://"),
        Just("http://"),
        Just("HTTPS://"),
        Just("https:"),
        Just("https:///"),
        Just("//"),
        Just("javascript:"),
        Just("data:"),
        Just(""),
    ];
    let host = prop_oneof![
        Just("checkout.stripe.com"),
        Just("CHECKOUT.stripe.com"),
        Just("127.0.0.1"),
        Just("localhost"),
        Just("[::1]"),
        Just(".evil.example"),
        Just("evil"),
        Just("."),
        Just("-"),
        Just("@"),
        Just("\\"),
        Just("%2e"),
        Just(" "),
        Just("\t"),
        Just("\u{3002}"),
        Just("\u{0435}"),
    ];
    let port = prop_oneof![
        Just(""),
        Just(":8080"),
        Just(":443"),
        Just(":"),
        Just(":80"),
        Just(":08080")
    ];
    let rest = prop_oneof![
        Just(""),
        Just("/"),
        Just("?"),
        Just("#"),
        Just("/pay/cs_test_1"),
        Just("@evil.example"),
        Just("\\evil")
    ];
    (
        scheme,
        prop::collection::vec(host, 1..4),
        port,
        prop::collection::vec(rest, 0..3),
    )
        .prop_map(|(scheme, host, port, rest)| {
            format!("{scheme}{}{port}{}", host.concat(), rest.concat())
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Whatever is accepted is returned as an allowed origin followed by
    /// `/`, `?`, `#` or nothing, with the rest of the input unchanged.
    #[test]
    fn only_allowed_origins_pass(url in prop_oneof![any::<String>(), near_misses(), "[ -~]{0,40}"]) {
        if let Ok(accepted) = policy().check(&url) {
            prop_assert!(starts_with_allowed_origin(&accepted), "{:?} accepted as {:?}", url, accepted);
            let origin_len = ALLOWED.iter().find(|o| accepted.starts_with(*o)).unwrap().len();
            prop_assert!(url.ends_with(&accepted[origin_len..]));
            prop_assert_eq!(policy().check(&accepted), Ok(accepted.clone()));
        }
    }

    /// An allowed origin followed by an ordinary path, query or fragment
    /// passes unchanged.
    #[test]
    fn allowed_origins_with_ordinary_paths_pass(
        origin in prop::sample::select(ALLOWED.to_vec()),
        rest in "([/?#][A-Za-z0-9._~!$&'()*+,;=:@%/?#-]{0,60})?",
    ) {
        let url = format!("{origin}{rest}");
        prop_assert_eq!(policy().check(&url), Ok(url.clone()));
    }

    /// A configured payment origin is accepted exactly when the widget's
    /// policy honours it, and its canonical form is honoured for the same
    /// URLs: what a gateway accepts at start-up, the widget accepts.
    #[test]
    fn payment_origins_are_accepted_exactly_when_honoured(
        entry in prop_oneof![any::<String>(), near_misses(), "[ -~]{0,40}"],
        url in prop_oneof![near_misses(), "[ -~]{0,40}"],
    ) {
        let as_written = PaymentRedirectPolicy::new([entry.as_str()]);
        let accepted = parse_payment_origin(&entry);
        prop_assert_eq!(accepted.is_ok(), as_written.check(&entry).is_ok(), "{:?}", entry);
        if let Ok(canonical) = accepted {
            let canonical = PaymentRedirectPolicy::new([canonical]);
            prop_assert_eq!(canonical.check(&url), as_written.check(&url), "{:?} {:?}", entry, url);
        }
    }

    /// An accepted payment URL's origin, as the servers read it, is the
    /// allowed origin it was accepted for.
    #[test]
    fn origin_of_an_accepted_url_is_its_allowed_origin(url in prop_oneof![near_misses(), "[ -~]{0,40}"]) {
        if policy().check(&url).is_ok() {
            let origin = origin_of(&url);
            prop_assert!(origin.as_deref().is_ok_and(|origin| ALLOWED.contains(&origin)), "{:?}: {:?}", url, origin);
        }
    }

    /// Anything wrapped around an allowed host that changes it is refused.
    #[test]
    fn hosts_around_the_allowed_one_are_refused(
        before in "[a-z0-9.-]{0,12}",
        after in "[a-z0-9.-]{0,12}",
    ) {
        prop_assume!(!(before.is_empty() && after.is_empty()));
        let url = format!("https://{before}checkout.stripe.com{after}/pay");
        prop_assert!(policy().check(&url).is_err(), "{}", url);
    }
}
