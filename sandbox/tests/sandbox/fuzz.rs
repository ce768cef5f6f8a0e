//! Hostile input at every POST endpoint (and the odd path and header): the
//! sandbox must answer each with a non-5xx status and, outside the checkout
//! page, a JSON body with a message.

use crate::common::bls::{bls_booking_body, earliest_bookable, next_open, BLS_DEMO, UPDATE};
use crate::common::{booking_body, Harness, DEMO};
use chrono::Weekday;
use reqwest::{Method, StatusCode};
use serde_json::{json, Map, Value};

/// Values that are wrong for every field in some way.
fn hostile_values() -> Vec<Value> {
    let mut nested = json!("deep");
    for _ in 0..100 {
        nested = json!([nested]);
    }
    vec![
        Value::Null,
        json!(true),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(1e308),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(""),
        json!("   "),
        json!("'; DROP TABLE bookings; --"),
        json!("1 OR 1=1"),
        json!("\u{0000}\u{0001}\u{001b}[31m\u{007f}"),
        json!("😀 Zoë Ñandú 李小龙 \u{202e}gnp.exe"),
        json!("<script>alert(1)</script>"),
        json!("%00%2e%2e%2f"),
        json!("9999-12-31T23:59:59Z"),
        json!("0000-01-01T00:00:00+23:59"),
        json!("-262143-01-01T00:00:00Z"),
        json!("x".repeat(20_000)),
        json!([]),
        json!({}),
        json!({ "$ne": null }),
        json!(["a", 1, null]),
        nested,
    ]
}

/// Whole bodies that are not what any endpoint expects.
fn hostile_bodies() -> Vec<Vec<u8>> {
    let mut bodies: Vec<Vec<u8>> = [
        "",
        " ",
        "null",
        "true",
        "0",
        "-1e999",
        "\"text\"",
        "[]",
        "[{}]",
        "{",
        "}",
        "{\"a\":}",
        "{\"a\" 1}",
        "{'single': 'quotes'}",
        "{\"a\":1,}",
        "{\"hold_hash\":\"x\",\"hold_hash\":[1]}",
        "{\"a\":NaN}",
        "{\"a\":Infinity}",
        "{\"a\":\"\\ud800\"}",
        "{\"a\":\"\\u0000\"}",
        "\u{feff}{}",
        "{\"pay_option\":\"credits\"}\u{0000}",
        "<xml></xml>",
        "a=1&b=2",
    ]
    .iter()
    .map(|text| text.as_bytes().to_vec())
    .collect();
    bodies.push(vec![0xff, 0xfe, 0x00, 0x7b, 0x7d]);
    bodies.push(vec![0x80; 64]);
    bodies.push(format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes());
    bodies.push(format!("{}1{}", "{\"a\":".repeat(5_000), "}".repeat(5_000)).into_bytes());
    let many_keys: Map<String, Value> = (0..3_000).map(|n| (format!("k{n}"), json!(n))).collect();
    bodies.push(serde_json::to_vec(&many_keys).unwrap());
    bodies.push(format!("{{\"first_name\":\"{}\"}}", "x".repeat(1024 * 1024)).into_bytes());
    bodies
}

/// Sends one request and checks the answer. Each probe has a connection of
/// its own: an endpoint that answers without reading a large body closes
/// the connection, and a pooled one could be reused just as it closes.
async fn probe(
    h: &Harness,
    method: Method,
    url: &str,
    token: Option<&str>,
    body: Vec<u8>,
    headers: &[(&str, &str)],
) -> StatusCode {
    let mut request = h.client.request(method.clone(), url).body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request
        .header("content-type", "application/json")
        .header("connection", "close")
        .send()
        .await
        .unwrap_or_else(|error| panic!("{method} {url}: no answer: {error}"));
    let status = response.status();
    let is_page = url.contains("/checkout/") || url.contains("/paypal/");
    let bytes = response.bytes().await.expect("body");
    assert!(
        !status.is_server_error(),
        "{method} {url} answered {status}: {}",
        String::from_utf8_lossy(&bytes)
    );
    if !is_page {
        let body: Value = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            panic!(
                "{method} {url} answered {status} without JSON: {:?}",
                String::from_utf8_lossy(&bytes)
            )
        });
        assert!(
            body["message"].is_string() || status.is_success(),
            "{method} {url}: {body}"
        );
    }
    status
}

/// A body built from `base` with `field` replaced by `value`.
fn with_field(base: &Value, field: &str, value: &Value) -> Vec<u8> {
    let mut body = base.clone();
    body[field] = value.clone();
    serde_json::to_vec(&body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_bodies_never_cause_a_server_error() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let event = h.create_event(2, 500, 48).await;
    let hash = h.hold_hash(&token, event).await;
    let booking = h.book(&token, &hash, "candidate_pays").await;
    assert_eq!(booking.status, StatusCode::CREATED);
    let booking_id = booking.body["id"].as_i64().unwrap();
    let checkout = booking.body["payment_url"].as_str().unwrap().to_owned();
    let future = h.now().await + chrono::Duration::days(3);

    // (url, needs a token, a valid body whose fields get replaced)
    let endpoints: Vec<(String, bool, Value)> = vec![
        (
            h.api("/auth/token"),
            false,
            json!({ "hb_client_id": "HB-DEMO", "api_key": "wrong" }),
        ),
        (
            h.api("/auth/refresh"),
            false,
            json!({ "refresh_token": "rft_x" }),
        ),
        (
            h.api(&format!("/training-events/{event}/hold")),
            true,
            json!({}),
        ),
        (
            h.api("/bookings"),
            true,
            booking_body("QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ", "credits"),
        ),
        (h.api("/bookings/999999/cancel"), true, json!({})),
        (checkout.clone(), false, json!({})),
        (
            h.url("/_sandbox/clock"),
            false,
            json!({ "advance_seconds": "x" }),
        ),
        (
            h.url("/_sandbox/accounts"),
            false,
            json!({ "hb_client_id": "FUZZ", "api_key": "k", "balance": 1, "credits": [] }),
        ),
        (
            h.url("/_sandbox/training-events"),
            false,
            json!({ "course_id": 99, "location_id": 1, "start_date": future.to_rfc3339() }),
        ),
        (
            h.url("/_sandbox/training-events/999999/fill"),
            false,
            json!({}),
        ),
        (
            h.url(&format!("/_sandbox/bookings/{booking_id}/attendance")),
            false,
            json!({ "attendance": "attended" }),
        ),
    ];
    let mut probes = 0;
    for (url, needs_token, base) in &endpoints {
        let token = needs_token.then_some(token.as_str());
        for body in hostile_bodies() {
            probe(&h, Method::POST, url, token, body, &[]).await;
            probes += 1;
        }
        let fields: Vec<String> = match base.as_object() {
            Some(map) if !map.is_empty() => map.keys().cloned().collect(),
            _ => vec!["anything".to_owned()],
        };
        for field in &fields {
            for value in hostile_values() {
                probe(
                    &h,
                    Method::POST,
                    url,
                    token,
                    with_field(base, field, &value),
                    &[],
                )
                .await;
                probes += 1;
            }
        }
    }
    // Revoking ignores its body; each probe gets a token of its own.
    for body in hostile_bodies().into_iter().take(8) {
        let own = h.login(DEMO).await;
        let status = probe(
            &h,
            Method::POST,
            &h.api("/auth/revoke"),
            Some(&own),
            body,
            &[],
        )
        .await;
        assert!(status == StatusCode::OK || status == StatusCode::PAYLOAD_TOO_LARGE);
        probes += 1;
    }
    // The original token still works and the sandbox still books.
    let fresh = h.create_event(2, 12, 48).await;
    let hash = h.hold_hash(&token, fresh).await;
    assert_eq!(
        h.book(&token, &hash, "credits").await.status,
        StatusCode::CREATED
    );
    assert!(probes > 500, "{probes} probes");
}

#[tokio::test]
async fn oversized_bodies_are_413_json() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let body = format!("{{\"first_name\":\"{}\"}}", "x".repeat(70 * 1024)).into_bytes();
    for (url, token) in [
        (h.api("/bookings"), Some(token.as_str())),
        (h.api("/auth/token"), None),
        (h.url("/_sandbox/accounts"), None),
    ] {
        let status = probe(&h, Method::POST, &url, token, body.clone(), &[]).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{url}");
    }
}

#[tokio::test]
async fn hostile_paths_and_headers_are_4xx_json() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let paths = [
        (Method::POST, "/training-events/%00/hold"),
        (
            Method::POST,
            "/training-events/99999999999999999999999/hold",
        ),
        (Method::POST, "/training-events/%F0%9F%98%80/hold"),
        (Method::POST, "/training-events/%FF/hold"),
        (Method::GET, "/training-events/1%20OR%201=1"),
        (Method::DELETE, "/training-events/hold/%2e%2e%2f%2e%2e%2f"),
        (Method::DELETE, "/training-events/hold/'%20OR%20'1'='1"),
        (Method::POST, "/bookings/-1/cancel"),
        (Method::GET, "/bookings/0/certificate"),
        (Method::GET, "/bookings?status=%00&per_page=%FF&page=1e9"),
        (
            Method::GET,
            "/training-events?date_from=0000-00-00&course_id=-0",
        ),
        (Method::PATCH, "/bookings/1"),
        (Method::PUT, "/auth/token"),
        (Method::GET, "/auth/token"),
        (Method::GET, "/no/such/route"),
        (Method::GET, ""),
    ];
    for (method, path) in paths {
        let url = h.api(path);
        let status = probe(&h, method.clone(), &url, Some(&token), Vec::new(), &[]).await;
        assert!(status.is_client_error(), "{method} {path}: {status}");
    }
    let long_token = "a".repeat(8_000);
    let status = probe(
        &h,
        Method::GET,
        &h.api("/profile"),
        Some(&long_token),
        Vec::new(),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let status = probe(
        &h,
        Method::GET,
        &h.api("/profile"),
        None,
        Vec::new(),
        &[("authorization", "Bearer")],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let status = probe(
        &h,
        Method::POST,
        &h.api("/bookings"),
        Some(&token),
        b"{}".to_vec(),
        &[("idempotency-key", &"k".repeat(300))],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_to_the_bls_api_never_causes_a_server_error() {
    let h = Harness::start().await;
    let token = h.bls_login(BLS_DEMO).await;
    let saturday = next_open(earliest_bookable(h.uk_today().await), Weekday::Sat);
    let hash = h.bls_hold_hash(&token, UPDATE, saturday, "09:00").await;
    let booking = h.bls_book(&token, &hash, "candidate_pays").await;
    assert_eq!(booking.status, StatusCode::CREATED, "{}", booking.body);
    let booking_id = booking.body["id"].as_i64().unwrap();
    let paypal = booking.body["payment_url"].as_str().unwrap().to_owned();
    let endpoints: Vec<(String, bool, Value)> = vec![
        (
            h.bls("/auth/token"),
            false,
            json!({ "hb_client_id": "HB-BLS-DEMO", "api_key": "wrong" }),
        ),
        (
            h.bls("/timeslots/hold"),
            true,
            json!({ "course_id": 41, "date": saturday.to_string(), "time": "10:30" }),
        ),
        (
            h.bls("/bookings"),
            true,
            bls_booking_body("QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ", "credits"),
        ),
        (paypal.clone(), false, json!({})),
        (
            h.url(&format!("/_sandbox/bls/bookings/{booking_id}/status")),
            false,
            json!({ "training_status": "completed", "equipment_status": "in" }),
        ),
    ];
    let mut probes = 0;
    for (url, needs_token, base) in &endpoints {
        // A fresh token each time: the clock moves between endpoints.
        let fresh = h.bls_login(BLS_DEMO).await;
        let token = needs_token.then_some(fresh.as_str());
        for body in hostile_bodies() {
            probe(&h, Method::POST, url, token, body, &[]).await;
            probes += 1;
        }
        let fields: Vec<String> = match base.as_object() {
            Some(map) if !map.is_empty() => map.keys().cloned().collect(),
            _ => vec!["anything".to_owned()],
        };
        for field in &fields {
            for value in hostile_values() {
                probe(
                    &h,
                    Method::POST,
                    url,
                    token,
                    with_field(base, field, &value),
                    &[],
                )
                .await;
                probes += 1;
            }
        }
        // Every held timeslot is released again, so the next probe meets
        // the same state.
        h.fixture("/_sandbox/clock", json!({ "advance_seconds": 1801 }))
            .await;
    }
    let token = h.bls_login(BLS_DEMO).await;
    for path in [
        "/timeslots?course_id=%00&date_from=0000-01-01&date_to=9999-12-31",
        "/timeslots?date_from=0001-01-01&date_to=0001-12-31",
        "/timeslots?date_from=9999-01-01&date_to=9999-12-31",
        "/timeslots?per_page=%FF&page=1e9",
        "/timeslots/hold/%2e%2e%2f",
        "/bookings/%F0%9F%98%80",
        "/bookings/1/certificate/x",
        "/bookings?status=%00&date_to=2026-02-31",
    ] {
        let status = probe(&h, Method::GET, &h.bls(path), Some(&token), Vec::new(), &[]).await;
        assert!(!status.is_server_error(), "{path}: {status}");
        probes += 1;
    }
    let status = probe(
        &h,
        Method::DELETE,
        &h.bls("/timeslots/hold/'%20OR%20'1'='1"),
        Some(&token),
        Vec::new(),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The sandbox still holds and books.
    let hash = h.bls_hold_hash(&token, UPDATE, saturday, "10:30").await;
    assert_eq!(
        h.bls_book(&token, &hash, "credits").await.status,
        StatusCode::CREATED
    );
    assert!(probes > 300, "{probes} probes");
}
