//! The gateway against a troubled upstream: token expiry and refresh, an
//! upstream that is down, slow, failing or rate limiting, and recovery; and
//! token revocation on shutdown.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::support::{
    create_account, gateway_config, send, temp_dir, unused_address, Mode, Proxy, Stack, Widget,
};
use booking_core::api::PayOption;
use booking_gateway::spawn_gateway;
use booking_sandbox::{spawn_sandbox, SandboxConfig};
use reqwest::{Method, StatusCode};

const COURSE: u64 = 4;

#[tokio::test]
async fn the_token_is_refreshed_once_the_sandbox_clock_passes_its_lifetime() {
    let stack = Stack::start().await;
    let widget = stack.widget().await;
    assert_eq!(
        widget
            .get(&format!("/training-events?course_id={COURSE}"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(stack.proxy.count(Method::POST, "/auth/token"), 1);
    assert_eq!(stack.proxy.count(Method::POST, "/auth/refresh"), 0);

    stack.advance_clock(3601).await;
    let event_id = stack.create_event(COURSE, 10).await;
    let held = widget.hold(event_id, None).await;
    assert_eq!(held.status, StatusCode::OK, "{}", held.text);

    let seen = stack.proxy.seen();
    let holds: Vec<u16> = seen
        .iter()
        .filter(|s| s.path == format!("/training-events/{event_id}/hold"))
        .map(|s| s.status)
        .collect();
    assert_eq!(
        holds,
        vec![401, 200],
        "refused with the old token, then retried"
    );
    assert_eq!(stack.proxy.count(Method::POST, "/auth/refresh"), 1);
    assert_eq!(
        stack.proxy.count(Method::POST, "/auth/token"),
        1,
        "no new exchange"
    );

    // The refreshed token keeps working (a list not read before, so the
    // upstream is asked).
    let again = widget
        .get(&format!(
            "/training-events?course_id={COURSE}&location_id=1"
        ))
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(stack.proxy.count(Method::GET, "/training-events"), 2);
    assert_eq!(stack.proxy.count(Method::POST, "/auth/refresh"), 1);
}

#[tokio::test]
async fn an_expired_refresh_token_falls_back_to_the_credentials() {
    let stack = Stack::start().await;
    let widget = stack.widget().await;
    assert_eq!(stack.proxy.count(Method::POST, "/auth/token"), 1);
    stack.advance_clock(8 * 24 * 3600).await;
    let event_id = stack.create_event(COURSE, 10).await;
    let held = widget.hold(event_id, None).await;
    assert_eq!(held.status, StatusCode::OK, "{}", held.text);
    let refresh: Vec<u16> = stack
        .proxy
        .seen()
        .iter()
        .filter(|s| s.path == "/auth/refresh")
        .map(|s| s.status)
        .collect();
    assert_eq!(refresh, vec![401]);
    assert_eq!(stack.proxy.count(Method::POST, "/auth/token"), 2);
}

#[tokio::test]
async fn an_upstream_that_is_down_is_a_502_and_the_gateway_recovers() {
    let sandbox = spawn_sandbox(SandboxConfig::for_tests()).await.unwrap();
    let client = reqwest::Client::new();
    let account = create_account(&client, sandbox.url()).await;
    let down: SocketAddr = unused_address().await;
    let dir = temp_dir("down");
    let mut config = gateway_config(&format!("http://{down}/api/v1"), &account, dir.path());
    config.upstream_timeout = Duration::from_secs(2);
    let gateway = spawn_gateway(config).await.unwrap();

    let options = send(client.get(format!("{}/api/options", gateway.url()))).await;
    assert_eq!(options.status, StatusCode::BAD_GATEWAY, "{}", options.text);
    assert_eq!(
        options.body["message"],
        "The booking service is not reachable. Please try again in a moment."
    );
    assert!(
        !options.text.contains(&down.to_string()),
        "no upstream address in the message"
    );

    let _proxy = Proxy::start(down, sandbox.url()).await;
    let widget = Widget::start(client.clone(), gateway.url()).await;
    assert_eq!(widget.get("/courses").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_slow_upstream_is_a_504_and_the_gateway_recovers() {
    let stack = Stack::start_with(|config, _| {
        config.upstream_timeout = Duration::from_millis(300);
    })
    .await;
    let widget = stack.widget().await;
    stack.proxy.set_mode(Mode::Delay(Duration::from_secs(3)));
    let started = Instant::now();
    let slow = widget.get("/courses").await;
    assert_eq!(slow.status, StatusCode::GATEWAY_TIMEOUT, "{}", slow.text);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        slow.body["message"],
        "The booking service did not answer in time. Please try again in a moment."
    );
    stack.proxy.set_mode(Mode::Pass);
    let courses = widget.get("/courses").await;
    assert_eq!(courses.status, StatusCode::OK, "{}", courses.text);
}

#[tokio::test]
async fn an_upstream_server_error_is_a_502_json() {
    let stack = Stack::start().await;
    let widget = stack.widget().await;
    stack.proxy.set_mode(Mode::Fail(500));
    let failed = widget.get("/courses").await;
    assert_eq!(failed.status, StatusCode::BAD_GATEWAY, "{}", failed.text);
    assert_eq!(failed.headers["content-type"], "application/json");
    assert!(
        !failed.text.contains("Server Error"),
        "the upstream body is not passed on"
    );
    stack.proxy.set_mode(Mode::Pass);
    assert_eq!(widget.get("/courses").await.status, StatusCode::OK);
}

#[tokio::test]
async fn reads_are_answered_from_cache_while_the_upstream_rate_limits() {
    const TTL: Duration = Duration::from_millis(100);
    let stack = Stack::start_on_manual_clock(SandboxConfig::for_tests(), |config, _| {
        config.cache.catalogue = TTL;
        config.cache.events = TTL;
    })
    .await;
    let widget = stack.widget().await;
    let fresh = widget.get("/courses").await;
    assert_eq!(fresh.status, StatusCode::OK);
    stack.clock.as_ref().expect("a manual clock").advance(TTL);

    stack.proxy.set_mode(Mode::RateLimit {
        count: 1000,
        retry_after: 30,
        method: None,
        path: None,
    });
    let stale = widget.get("/courses").await;
    assert_eq!(stale.status, StatusCode::OK, "{}", stale.text);
    assert_eq!(stale.body, fresh.body);
    assert!(
        stack
            .proxy
            .seen()
            .iter()
            .any(|s| s.path == "/courses" && s.status == 429),
        "the upstream was asked and said 429"
    );

    // Nothing cached for this one: a long Retry-After is passed on.
    let uncached = widget.get("/training-events?course_id=999").await;
    assert_eq!(
        uncached.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        uncached.text
    );
    assert_eq!(uncached.headers["retry-after"], "30");
}

#[tokio::test]
async fn a_booking_waits_out_a_short_rate_limit_and_retries() {
    let stack = Stack::start_with(|config, _| {
        config.pay_options = vec![PayOption::Credits];
    })
    .await;
    let event_id = stack.create_event(COURSE, 10).await;
    let widget = stack.widget().await;
    let hold_ref = widget.hold_ref(event_id).await;
    stack.proxy.set_mode(Mode::RateLimit {
        count: 1,
        retry_after: 1,
        method: Some(Method::POST),
        path: Some("/bookings".into()),
    });
    let started = Instant::now();
    let booked = widget.book(&hold_ref, &PayOption::Credits, "k").await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited Retry-After"
    );
    let statuses: Vec<u16> = stack
        .proxy
        .seen()
        .iter()
        .filter(|s| s.path == "/bookings")
        .map(|s| s.status)
        .collect();
    assert_eq!(statuses, vec![429, 201]);
}

#[tokio::test]
async fn a_hold_under_a_long_rate_limit_is_a_503_with_retry_after() {
    let stack = Stack::start().await;
    let event_id = stack.create_event(COURSE, 10).await;
    let widget = stack.widget().await;
    stack.proxy.set_mode(Mode::RateLimit {
        count: 10,
        retry_after: 40,
        method: Some(Method::POST),
        path: None,
    });
    let started = Instant::now();
    let held = widget.hold(event_id, None).await;
    assert_eq!(
        held.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        held.text
    );
    assert_eq!(held.headers["retry-after"], "40");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "no pointless wait"
    );
}

#[tokio::test]
async fn shutdown_revokes_the_token() {
    let stack = Stack::start().await;
    let widget = stack.widget().await;
    assert_eq!(widget.get("/courses").await.status, StatusCode::OK);
    let access = stack.proxy.tokens()[0].clone();
    let Stack {
        gateway,
        sandbox,
        proxy,
        client,
        ..
    } = stack;
    gateway.shutdown().await.unwrap();
    assert_eq!(proxy.count(Method::POST, "/auth/revoke"), 1);
    let info = client
        .get(format!("{}/auth/token-info", sandbox.api_url()))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), StatusCode::UNAUTHORIZED);
}
