//! The gateway's protections: CORS allow-list, the per-IP rate limit, body
//! limits, JSON errors for bad input, the allow-list of routes, and the
//! headers of API answers.

use crate::support::{send, Stack, HOST_ORIGIN};
use reqwest::header::{
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD,
    ORIGIN,
};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn cors_admits_listed_and_own_origins_and_refuses_others() {
    let stack = Stack::start().await;
    let url = format!("{}/api/courses", stack.gateway.url());
    let widget = stack.widget().await;
    let preflight = |origin: &str| {
        stack
            .client
            .request(
                Method::OPTIONS,
                format!("{}/api/holds", stack.gateway.url()),
            )
            .header(ORIGIN, origin)
            .header(ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(ACCESS_CONTROL_REQUEST_HEADERS, "content-type,x-hbg-session")
    };

    let allowed = preflight(HOST_ORIGIN).send().await.unwrap();
    assert!(allowed.status().is_success());
    assert_eq!(allowed.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], HOST_ORIGIN);
    let allow_headers = allowed.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(allow_headers.contains("x-hbg-session") && allow_headers.contains("idempotency-key"));

    let refused = preflight("https://evil.example").send().await.unwrap();
    assert!(refused.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());

    let simple = send(
        stack
            .client
            .get(&url)
            .header(ORIGIN, "https://evil.example")
            .header("x-hbg-session", &widget.session),
    )
    .await;
    assert_eq!(simple.status, StatusCode::FORBIDDEN, "{}", simple.text);
    assert!(simple.headers.get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    let beacon = send(
        stack
            .client
            .post(format!("{}/api/holds/release", stack.gateway.url()))
            .header(ORIGIN, "https://evil.example")
            .header("content-type", "text/plain")
            .body(json!({ "session": widget.session, "hold_ref": "x.y" }).to_string()),
    )
    .await;
    assert_eq!(beacon.status, StatusCode::FORBIDDEN);
    let null_origin = send(
        stack
            .client
            .get(&url)
            .header(ORIGIN, "null")
            .header("x-hbg-session", &widget.session),
    )
    .await;
    assert_eq!(null_origin.status, StatusCode::FORBIDDEN);

    let listed = send(
        stack
            .client
            .get(&url)
            .header(ORIGIN, HOST_ORIGIN)
            .header("x-hbg-session", &widget.session),
    )
    .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.headers[ACCESS_CONTROL_ALLOW_ORIGIN], HOST_ORIGIN);

    let own = send(
        stack
            .client
            .get(&url)
            .header(ORIGIN, stack.gateway.url())
            .header("x-hbg-session", &widget.session),
    )
    .await;
    assert_eq!(own.status, StatusCode::OK, "same-origin is always allowed");
}

#[tokio::test]
async fn a_client_over_the_rate_limit_gets_429_with_retry_after() {
    let stack = Stack::start_with(|config, _| config.rate_limit = 5).await;
    let widget = stack.widget().await;
    for _ in 0..4 {
        assert_eq!(widget.get("/courses").await.status, StatusCode::OK);
    }
    let limited = widget.get("/courses").await;
    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        limited.text
    );
    let retry_after: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    // The widget's files are not limited.
    let page = stack
        .client
        .get(format!("{}/missing.html", stack.gateway.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_bodies_are_json_errors_never_500() {
    let stack = Stack::start().await;
    let widget = stack.widget().await;
    let holds = format!("{}/api/holds", stack.gateway.url());
    let post = |body: String| {
        stack
            .client
            .post(&holds)
            .header("x-hbg-session", &widget.session)
            .header("content-type", "application/json")
            .body(body)
    };
    let huge = send(post(format!(
        "{{\"event_id\":1,\"pad\":\"{}\"}}",
        "x".repeat(20 * 1024)
    )))
    .await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", huge.text);

    let cases = [
        ("{not json", StatusCode::UNPROCESSABLE_ENTITY),
        ("{}", StatusCode::UNPROCESSABLE_ENTITY),
        ("{\"event_id\":\"seven\"}", StatusCode::UNPROCESSABLE_ENTITY),
        ("{\"event_id\":-1}", StatusCode::UNPROCESSABLE_ENTITY),
        ("", StatusCode::UNPROCESSABLE_ENTITY),
    ];
    for (body, status) in cases {
        let reply = send(post(body.to_owned())).await;
        assert_eq!(reply.status, status, "{body:?}: {}", reply.text);
    }
    let missing = send(post("{}".into())).await;
    assert_eq!(
        missing.body["errors"]["event_id"],
        json!(["The event_id field is required."])
    );

    let events = widget.get("/training-events?course_id=abc").await;
    assert_eq!(
        events.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        events.text
    );
    assert!(events.body["errors"]["course_id"].is_array());
    let event = widget.get("/training-events/not-a-number").await;
    assert_eq!(event.status, StatusCode::NOT_FOUND, "{}", event.text);
    let booking = widget.get("/bookings/%FF%FE").await;
    assert_eq!(booking.status.as_u16() / 100, 4, "{}", booking.text);
    assert!(stack.proxy.seen().iter().all(|s| s.status < 500));
}

#[tokio::test]
async fn nothing_else_of_the_upstream_api_is_reachable() {
    let stack = Stack::start().await;
    let widget = stack.widget().await;
    stack.proxy.clear();
    for path in [
        "/locations",
        "/training-events/1",
        "/credits",
        "/profile",
        "/transactions",
        "/bookings",
        "/auth/token-info",
        "/v1/credits",
        "/booking-url",
        "/bookings/1/certificate",
    ] {
        let reply = widget.get(path).await;
        assert!(
            matches!(
                reply.status,
                StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
            ),
            "{path}: {}",
            reply.status
        );
    }
    let cancel = widget.post("/bookings/1/cancel", json!({}), &[]).await;
    assert_eq!(cancel.status, StatusCode::NOT_FOUND);
    let token = widget.post("/auth/token", json!({}), &[]).await;
    assert_eq!(token.status, StatusCode::NOT_FOUND);
    assert!(stack.proxy.seen().is_empty(), "{:?}", stack.proxy.seen());

    let wrong_method = widget.delete("/courses").await;
    assert_eq!(
        wrong_method.status,
        StatusCode::METHOD_NOT_ALLOWED,
        "{}",
        wrong_method.text
    );
}

#[tokio::test]
async fn api_answers_are_uncacheable_traceable_and_compressed() {
    let stack = Stack::start().await;
    let widget = stack.widget().await;
    let courses = widget.get("/courses").await;
    assert_eq!(courses.headers["cache-control"], "no-store");
    assert_eq!(courses.headers["x-content-type-options"], "nosniff");
    assert_eq!(courses.headers["content-type"], "application/json");
    assert!(!courses.headers["x-request-id"].is_empty());
    let error = widget.get("/nope").await;
    assert_eq!(error.status, StatusCode::NOT_FOUND);
    assert_eq!(error.headers["cache-control"], "no-store");

    let traced = stack
        .client
        .get(format!("{}/api/courses", stack.gateway.url()))
        .header("x-hbg-session", &widget.session)
        .header("x-request-id", "lb-1234")
        .send()
        .await
        .unwrap();
    assert_eq!(traced.headers()["x-request-id"], "lb-1234");

    for encoding in ["br", "gzip"] {
        let compressed = stack
            .client
            .get(format!("{}/api/courses", stack.gateway.url()))
            .header("x-hbg-session", &widget.session)
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(compressed.headers()["content-encoding"], encoding);
    }
}

#[tokio::test]
async fn behind_a_load_balancer_each_forwarded_client_has_its_own_budget() {
    let stack = Stack::start_with(|config, _| {
        config.rate_limit = 2;
        config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let url = format!("{}/api/options", stack.gateway.url());
    let from = |client: &str| {
        stack
            .client
            .get(&url)
            .header("x-forwarded-for", format!("203.0.113.9, {client}"))
    };
    for client in ["198.51.100.1", "198.51.100.2"] {
        assert_eq!(send(from(client)).await.status, StatusCode::OK);
        assert_eq!(send(from(client)).await.status, StatusCode::OK);
        assert_eq!(
            send(from(client)).await.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{client}"
        );
    }
}
