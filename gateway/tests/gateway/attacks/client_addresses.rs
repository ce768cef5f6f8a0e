//! Whose address the rate limit counts: a client that reaches the gateway
//! directly cannot name itself another address with `X-Forwarded-For`, nor
//! spend another address's allowance; only a trusted proxy's word is taken,
//! and IPv6 clients are counted per /64.

use reqwest::StatusCode;

use crate::support::{client_from, send, Stack};

/// Requests a minute each client is allowed in these tests.
const LIMIT: u32 = 3;

/// The trusted proxy's address: another loopback address than the one
/// the direct clients use (127.0.0.1).
const PROXY: &str = "127.0.0.2";

/// A stack whose gateway allows [`LIMIT`] requests a minute per client and
/// trusts the proxy at [`PROXY`].
async fn stack_behind_a_proxy() -> Stack {
    Stack::start_with(|config, _| {
        config.rate_limit = LIMIT;
        config.trusted_proxies = vec![format!("{PROXY}/32").parse().unwrap()];
    })
    .await
}

/// The status of `GET /api/options` from `client`, forwarded for `forwarded_for`.
async fn options_status(
    stack: &Stack,
    client: &reqwest::Client,
    forwarded_for: &str,
) -> StatusCode {
    send(
        client
            .get(format!("{}/api/options", stack.gateway.url()))
            .header("x-forwarded-for", forwarded_for),
    )
    .await
    .status
}

#[tokio::test]
async fn a_direct_client_rotating_x_forwarded_for_is_limited_by_its_own_address() {
    let stack = stack_behind_a_proxy().await;
    let direct = client_from("127.0.0.1");
    let mut statuses = Vec::new();
    for n in 1..=2 * LIMIT {
        statuses.push(options_status(&stack, &direct, &format!("198.51.100.{n}")).await);
    }
    let accepted = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(accepted, LIMIT as usize, "{statuses:?}");
    assert!(statuses[LIMIT as usize..]
        .iter()
        .all(|s| *s == StatusCode::TOO_MANY_REQUESTS));
}

#[tokio::test]
async fn a_direct_client_cannot_spend_another_addresses_allowance() {
    let stack = stack_behind_a_proxy().await;
    let victim = "198.51.100.7";
    let direct = client_from("127.0.0.1");
    for _ in 0..2 * LIMIT {
        options_status(&stack, &direct, victim).await;
    }
    let proxy = client_from(PROXY);
    assert_eq!(
        options_status(&stack, &proxy, victim).await,
        StatusCode::OK,
        "the victim was limited by requests it never sent"
    );
}

#[tokio::test]
async fn ipv6_clients_of_one_64_share_one_allowance() {
    let stack = stack_behind_a_proxy().await;
    let proxy = client_from(PROXY);
    let mut statuses = Vec::new();
    for n in 1..=LIMIT + 1 {
        statuses.push(options_status(&stack, &proxy, &format!("2001:db8:1:2::{n:x}")).await);
    }
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    assert_eq!(
        options_status(&stack, &proxy, "2001:db8:1:2:ffff:ffff:ffff:ffff").await,
        StatusCode::TOO_MANY_REQUESTS,
        "the same /64"
    );
    assert_eq!(
        options_status(&stack, &proxy, "2001:db8:1:3::1").await,
        StatusCode::OK,
        "another /64"
    );
}

#[tokio::test]
async fn an_ipv4_mapped_address_shares_its_ipv4_addresses_allowance() {
    let stack = stack_behind_a_proxy().await;
    let proxy = client_from(PROXY);
    for _ in 0..LIMIT {
        assert_eq!(
            options_status(&stack, &proxy, "198.51.100.9").await,
            StatusCode::OK
        );
    }
    assert_eq!(
        options_status(&stack, &proxy, "::ffff:198.51.100.9").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}
