//! `/healthz` and `/readyz`: what a load balancer polls. Liveness answers
//! without asking anything; readiness checks each product's token, the
//! store and that the upstream answered lately, probing it at most once a
//! minute per product however often it is asked.

use axum::http::{Method, StatusCode};
use booking_gateway::Secret;
use booking_sandbox::SandboxConfig;

use crate::support::{send, unused_address, Fault, RedisServer, Reply, Stack, Target, WAIT_LIMIT};

/// GET a path of the gateway, outside `/api`, with no session.
async fn get(stack: &Stack, path: &str) -> Reply {
    send(stack.client.get(format!("{}{path}", stack.gateway.url()))).await
}

/// The failing checks a `/readyz` answer names, as `check` and `problem`.
fn failing(reply: &Reply) -> Vec<(String, String)> {
    reply.body["failing"]
        .as_array()
        .map(|checks| {
            checks
                .iter()
                .map(|check| {
                    (
                        check["check"].as_str().unwrap_or_default().to_owned(),
                        check["problem"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Asks `/readyz` again, each time its answer comes, until it answers 200
/// (the store's client reconnects as it is asked), failing after
/// [`WAIT_LIMIT`].
async fn wait_until_ready(stack: &Stack) {
    let waiting = async { while get(stack, "/readyz").await.status != StatusCode::OK {} };
    tokio::time::timeout(WAIT_LIMIT, waiting)
        .await
        .unwrap_or_else(|_| panic!("/readyz was not ready within {WAIT_LIMIT:?}"));
}

#[tokio::test]
async fn healthz_answers_ok_without_calling_the_upstream() {
    let stack = Stack::start().await;
    let reply = get(&stack, "/healthz").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body, serde_json::json!({ "status": "ok" }));
    assert_eq!(reply.headers["cache-control"], "no-store");
    assert!(stack.proxy.seen().is_empty(), "{:?}", stack.proxy.seen());
}

#[tokio::test]
async fn health_checks_are_outside_the_per_client_rate_limit_and_origin_rules() {
    let stack = Stack::start_with(|config, _| config.rate_limit = 1).await;
    for path in ["/healthz", "/readyz", "/healthz", "/readyz", "/readyz"] {
        let reply = send(
            stack
                .client
                .get(format!("{}{path}", stack.gateway.url()))
                .header("origin", "https://elsewhere.example"),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
    }
}

#[tokio::test]
async fn readyz_is_ready_on_a_fresh_stack() {
    let stack = Stack::start().await;
    let reply = get(&stack, "/readyz").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["status"], "ready");
    assert_eq!(reply.body.get("failing"), None);
    assert_eq!(reply.headers["cache-control"], "no-store");
}

#[tokio::test]
async fn readyz_names_the_store_while_redis_is_stopped_and_is_ready_when_it_is_back() {
    let mut redis = RedisServer::start().await;
    let url = redis.url();
    let stack = Stack::start_with(|config, _| {
        config.shared_store = Some(Secret::new(url));
    })
    .await;
    assert_eq!(get(&stack, "/readyz").await.status, StatusCode::OK);

    redis.stop();
    let reply = get(&stack, "/readyz").await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.text
    );
    assert_eq!(reply.headers["cache-control"], "no-store");
    let failing = failing(&reply);
    assert_eq!(failing.len(), 1, "{failing:?}");
    assert_eq!(failing[0].0, "store");
    assert!(failing[0].1.contains("store"), "{failing:?}");
    assert!(
        reply.body["message"]
            .as_str()
            .is_some_and(|message| message.contains(&failing[0].1)),
        "{}",
        reply.text
    );

    redis.restart().await;
    wait_until_ready(&stack).await;
}

#[tokio::test]
async fn readyz_names_the_upstream_when_the_token_exchange_is_refused() {
    let stack = Stack::start().await;
    stack.proxy.fault_next(
        Target::exactly(Method::POST, "/auth/token"),
        Fault::Unauthorized,
    );
    let reply = get(&stack, "/readyz").await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.text
    );
    let failing = failing(&reply);
    assert_eq!(failing.len(), 1, "{failing:?}");
    assert_eq!(failing[0].0, "upstream");
    assert!(failing[0].1.contains("credentials"), "{failing:?}");
    assert_eq!(reply.body["failing"][0]["product"], "practical");
}

#[tokio::test]
async fn readyz_names_the_upstream_when_it_is_unreachable() {
    let nowhere = unused_address().await;
    let stack = Stack::start_with(|config, _| {
        config.upstream = format!("http://{nowhere}/api/v1");
    })
    .await;
    let reply = get(&stack, "/readyz").await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.text
    );
    let failing = failing(&reply);
    assert_eq!(failing.len(), 1, "{failing:?}");
    assert_eq!(failing[0].0, "upstream");
    assert!(failing[0].1.contains("not reachable"), "{failing:?}");
}

/// The upstream calls seen that are not the token's.
fn probes(stack: &Stack) -> usize {
    stack
        .proxy
        .seen()
        .iter()
        .filter(|seen| !seen.path.starts_with("/auth/"))
        .count()
}

#[tokio::test]
async fn quick_readyz_calls_make_at_most_one_probe_a_minute() {
    let stack = Stack::start_on_manual_clock(SandboxConfig::for_tests(), |_, _| {}).await;
    assert_eq!(get(&stack, "/readyz").await.status, StatusCode::OK);
    assert_eq!(probes(&stack), 0, "the token exchange was an answer");

    stack.advance(61).await;
    let (first, second) = tokio::join!(get(&stack, "/readyz"), get(&stack, "/readyz"));
    assert_eq!(
        (first.status, second.status),
        (StatusCode::OK, StatusCode::OK)
    );
    assert_eq!(get(&stack, "/readyz").await.status, StatusCode::OK);
    assert_eq!(probes(&stack), 1, "{:?}", stack.proxy.seen());
    assert_eq!(stack.proxy.count(Method::GET, "/courses"), 1);

    stack.advance(61).await;
    assert_eq!(get(&stack, "/readyz").await.status, StatusCode::OK);
    assert_eq!(probes(&stack), 2, "a minute later, one more");
}

#[tokio::test]
async fn a_failed_probe_is_not_repeated_within_the_minute() {
    let stack = Stack::start_on_manual_clock(SandboxConfig::for_tests(), |_, _| {}).await;
    assert_eq!(get(&stack, "/readyz").await.status, StatusCode::OK);
    stack.advance(61).await;
    stack
        .proxy
        .fault_next(Target::exactly(Method::GET, "/courses"), Fault::ServerError);
    for _ in 0..3 {
        let reply = get(&stack, "/readyz").await;
        assert_eq!(
            reply.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            reply.text
        );
        assert_eq!(failing(&reply)[0].0, "upstream");
    }
    assert_eq!(probes(&stack), 1, "{:?}", stack.proxy.seen());

    stack.advance(61).await;
    assert_eq!(get(&stack, "/readyz").await.status, StatusCode::OK);
    assert_eq!(probes(&stack), 2);
}
