//! Webhooks over real HTTP: the endpoint API and its errors, the events
//! each booking change sends (signed, with the documented envelope and
//! headers, in order), retries and their log, a restart mid-retry, and the
//! `webhook-receiver` that agencies run.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::receiver::{eventually, hmac_sha256_hex, HoldPoint, TestReceiver};
use crate::common::{booking_body, credits_for, temp_db, Harness, ALL_EVENTS, DEMO, NOINV};
use booking_http::background::Background;
use booking_sandbox::webhook_check::{
    signature, spawn_receiver, Sink, Verified, Verifier, DELIVERY_ID_HEADER, EVENT_HEADER,
    EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};
use booking_sandbox::SandboxConfig;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A sandbox over a SQLite file, HB-DEMO's token, a receiver and an
/// endpoint for `events` pointing at it (the receiver knows its secret).
async fn setup(events: &[&str]) -> (Harness, String, TestReceiver, Value) {
    let h = Harness::start_with_file().await;
    let token = h.login(DEMO).await;
    let receiver = TestReceiver::start().await;
    let endpoint = h.create_endpoint(&token, &receiver.url, events).await;
    receiver.set_secret(endpoint["secret"].as_str().expect("secret"));
    (h, token, receiver, endpoint)
}

/// Holds a seat on `event` and books it with `pay_option`; returns the
/// booking.
async fn book(h: &Harness, token: &str, event: i64, pay_option: &str) -> Value {
    let hold = h.hold_hash(token, event).await;
    let reply = h.book(token, &hold, pay_option).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

fn types(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|event| event["event_type"].as_str().unwrap_or(""))
        .collect()
}

async fn send_json(
    h: &Harness,
    method: Method,
    token: Option<&str>,
    path: &str,
    body: Value,
) -> crate::common::Reply {
    let bytes = serde_json::to_vec(&body).expect("json");
    h.send(method, &h.api(path), token, Some(bytes), &[]).await
}

#[tokio::test]
async fn endpoints_are_created_listed_read_updated_rotated_and_deleted() {
    let h = Harness::start_with_file().await;
    let token = h.login(DEMO).await;
    let reply = h
        .post(
            Some(&token),
            "/webhooks",
            json!({
                "name": "Staging booking feed",
                "url": "https://hooks.northwestcare.example/tdta",
                "events": ["booking.created", "booking.confirmed"],
                "timeout_seconds": 8,
                "is_active": true
            }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let created = reply.body;
    let secret = created["secret"].as_str().expect("secret shown on create");
    assert_eq!(secret.len(), 64);
    assert!(secret.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(created["secret_prefix"], secret[..12]);
    assert_eq!(
        created["notice"],
        "Keep this secret safe; it is shown only once."
    );
    assert_eq!(created["name"], "Staging booking feed");
    assert_eq!(created["url"], "https://hooks.northwestcare.example/tdta");
    assert_eq!(
        created["events"],
        json!(["booking.created", "booking.confirmed"])
    );
    assert_eq!(created["timeout_seconds"], 8);
    assert_eq!(created["is_active"], true);
    assert!(created["created_at"].as_str().unwrap().ends_with("+00:00"));
    let id = created["id"].as_i64().expect("id");

    let shown = h.get(&token, &format!("/webhooks/{id}")).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.body.get("secret").is_none(), "{}", shown.body);
    assert!(shown.body.get("notice").is_none());
    assert_eq!(shown.body["secret_prefix"], secret[..12]);

    let listed = h.get(&token, "/webhooks").await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["meta"]["total"], 1);
    assert_eq!(listed.body["data"][0]["id"], id);
    assert!(listed.body["data"][0].get("secret").is_none());

    let patched = send_json(
        &h,
        Method::PATCH,
        Some(&token),
        &format!("/webhooks/{id}"),
        json!({ "name": "Renamed", "is_active": false }),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["name"], "Renamed");
    assert_eq!(patched.body["is_active"], false);
    assert_eq!(
        patched.body["timeout_seconds"], 8,
        "PATCH keeps what it does not name"
    );
    assert_eq!(
        patched.body["url"],
        "https://hooks.northwestcare.example/tdta"
    );
    assert!(patched.body.get("secret").is_none());

    let put = send_json(
        &h,
        Method::PUT,
        Some(&token),
        &format!("/webhooks/{id}"),
        json!({ "name": "Replaced", "url": "https://hooks.example/new", "events": ["booking.cancelled"] }),
    )
    .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(put.body["events"], json!(["booking.cancelled"]));
    assert_eq!(put.body["timeout_seconds"], 10, "PUT restores the default");
    assert_eq!(put.body["is_active"], true);

    let rotated = h
        .post_empty(&token, &format!("/webhooks/{id}/rotate-secret"))
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let new_secret = rotated.body["secret"]
        .as_str()
        .expect("secret shown on rotate");
    assert_ne!(new_secret, secret);
    assert_eq!(rotated.body["secret_prefix"], new_secret[..12]);
    assert!(rotated.body["notice"].is_string());
    let shown = h.get(&token, &format!("/webhooks/{id}")).await;
    assert_eq!(shown.body["secret_prefix"], new_secret[..12]);
    assert!(shown.body.get("secret").is_none());

    let deleted = h.delete(&token, &format!("/webhooks/{id}")).await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(deleted.body["message"], "Webhook endpoint deleted.");
    let gone = h.get(&token, &format!("/webhooks/{id}")).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.body["message"], "Webhook endpoint not found.");
    assert_eq!(
        h.delete(&token, &format!("/webhooks/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(h.get(&token, "/webhooks").await.body["meta"]["total"], 0);
}

#[tokio::test]
async fn endpoint_bodies_are_validated_field_by_field() {
    let h = Harness::start_with_file().await;
    let token = h.login(DEMO).await;
    let invalid = |body: Value| {
        let h = &h;
        let token = token.clone();
        async move {
            let reply = h.post(Some(&token), "/webhooks", body).await;
            assert_eq!(
                reply.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{}",
                reply.body
            );
            assert!(reply.body["message"].is_string());
            reply.body["errors"].clone()
        }
    };
    let errors = invalid(json!({})).await;
    assert_eq!(errors["name"], json!(["The name field is required."]));
    assert_eq!(errors["url"], json!(["The url field is required."]));
    assert_eq!(errors["events"], json!(["The events field is required."]));

    let base = |url: &str, events: Value| json!({ "name": "n", "url": url, "events": events });
    let errors = invalid(base("http://hooks.example/x", json!(["booking.created"]))).await;
    assert_eq!(
        errors["url"],
        json!(["The url field must be an https URL (or http to a loopback address)."])
    );
    let errors = invalid(base("not a url", json!(["booking.created"]))).await;
    assert_eq!(errors["url"], json!(["The url field must be a valid URL."]));
    let errors = invalid(base(
        "https://h.example/",
        json!(["booking.created", "booking.exploded"]),
    ))
    .await;
    assert_eq!(
        errors["events.1"],
        json!(["The selected events.1 is invalid."])
    );
    let errors = invalid(base(
        "https://h.example/",
        json!(["booking.created", "booking.created"]),
    ))
    .await;
    assert_eq!(
        errors["events.1"],
        json!(["The events.1 field has a duplicate value."])
    );
    let errors = invalid(base("https://h.example/", json!([]))).await;
    assert_eq!(
        errors["events"],
        json!(["The events field must have at least 1 item."])
    );
    let errors = invalid(base("https://h.example/", json!("booking.created"))).await;
    assert_eq!(
        errors["events"],
        json!(["The events field must be an array."])
    );
    let errors = invalid(base("https://h.example/", json!([7]))).await;
    assert_eq!(
        errors["events.0"],
        json!(["The events.0 field must be a string."])
    );
    let mut body = base("https://h.example/", json!(["booking.created"]));
    body["timeout_seconds"] = json!(31);
    body["is_active"] = json!("yes");
    let errors = invalid(body).await;
    assert_eq!(
        errors["timeout_seconds"],
        json!(["The timeout seconds field must be between 1 and 30."])
    );
    assert_eq!(
        errors["is_active"],
        json!(["The is active field must be true or false."])
    );

    let not_json = h
        .send(
            Method::POST,
            &h.api("/webhooks"),
            Some(&token),
            Some(b"[1".to_vec()),
            &[],
        )
        .await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);

    let endpoint = h
        .create_endpoint(&token, "https://h.example/", &["booking.created"])
        .await;
    let id = endpoint["id"].as_i64().unwrap();
    let put = send_json(
        &h,
        Method::PUT,
        Some(&token),
        &format!("/webhooks/{id}"),
        json!({ "name": "x" }),
    )
    .await;
    assert_eq!(put.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(put.body["errors"]["url"].is_array() && put.body["errors"]["events"].is_array());
    let patch = send_json(
        &h,
        Method::PATCH,
        Some(&token),
        &format!("/webhooks/{id}"),
        json!({ "url": "ftp://h.example/" }),
    )
    .await;
    assert_eq!(patch.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        h.get(&token, &format!("/webhooks/{id}")).await.body["url"],
        "https://h.example/"
    );
}

#[tokio::test]
async fn endpoints_need_a_token_and_belong_to_their_account() {
    let h = Harness::start_with_file().await;
    let token = h.login(DEMO).await;
    let other = h.login(NOINV).await;
    let endpoint = h
        .create_endpoint(&token, "https://h.example/", &["booking.created"])
        .await;
    let id = endpoint["id"].as_i64().unwrap();

    for (method, path) in [
        (Method::GET, "/webhooks".to_owned()),
        (Method::POST, "/webhooks".to_owned()),
        (Method::GET, format!("/webhooks/{id}")),
        (Method::PATCH, format!("/webhooks/{id}")),
        (Method::PUT, format!("/webhooks/{id}")),
        (Method::DELETE, format!("/webhooks/{id}")),
        (Method::POST, format!("/webhooks/{id}/rotate-secret")),
        (Method::POST, format!("/webhooks/{id}/test")),
    ] {
        let reply = h.send(method.clone(), &h.api(&path), None, None, &[]).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {path}");
        assert_eq!(reply.body["message"], "Unauthenticated.");
        if path != "/webhooks" {
            let reply = h
                .send(
                    method.clone(),
                    &h.api(&path),
                    Some(&other),
                    Some(b"{}".to_vec()),
                    &[],
                )
                .await;
            assert_eq!(
                reply.status,
                StatusCode::NOT_FOUND,
                "{method} {path} by another account"
            );
            assert_eq!(reply.body["message"], "Webhook endpoint not found.");
        }
    }
    assert_eq!(h.get(&other, "/webhooks").await.body["meta"]["total"], 0);
    assert_eq!(
        h.get(&token, "/webhooks/999999").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        h.get(&token, "/webhooks/abc").await.status,
        StatusCode::NOT_FOUND
    );
    let wrong = h
        .send(
            Method::POST,
            &h.api(&format!("/webhooks/{id}")),
            Some(&token),
            None,
            &[],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    // Still there, unchanged, for its own account.
    assert_eq!(
        h.get(&token, &format!("/webhooks/{id}")).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn loopback_http_is_for_test_mode_only() {
    let h = Harness::start_with(SandboxConfig {
        test_clock: false,
        ..SandboxConfig::for_tests()
    })
    .await;
    let token = h.login(DEMO).await;
    let reply = h
        .post(
            Some(&token),
            "/webhooks",
            json!({ "name": "n", "url": "http://127.0.0.1:9090/hook", "events": ["booking.created"] }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply.body["errors"]["url"],
        json!(["The url field must be an https URL."])
    );
    let https = h
        .create_endpoint(&token, "https://hooks.example/", &["booking.created"])
        .await;
    assert!(https["secret"].is_string());
}

#[tokio::test]
async fn a_test_event_carries_the_documented_envelope_headers_and_signature() {
    let (h, token, receiver, endpoint) = setup(&["booking.created"]).await;
    let id = endpoint["id"].as_i64().unwrap();
    let before = chrono::Utc::now().timestamp();
    let reply = h.post_empty(&token, &format!("/webhooks/{id}/test")).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let event_id = reply.body["event_id"]
        .as_str()
        .expect("event id")
        .to_owned();
    let events = receiver.wait_for_events(1).await;
    let request = &receiver.requests()[0];
    assert_eq!(request.status, 200);
    assert!(receiver.rejections().is_empty());
    let envelope = &events[0];
    assert_eq!(envelope["event_type"], "webhook.test");
    assert_eq!(envelope["event_id"], event_id.as_str());
    assert_eq!(envelope["data"]["webhook_endpoint"]["id"], id);
    assert!(envelope["occurred_at"]
        .as_str()
        .unwrap()
        .ends_with("+00:00"));
    assert_eq!(envelope.as_object().unwrap().len(), 4, "{envelope}");
    // The documented headers, and a version 7 UUID as the event id.
    assert_eq!(request.header(EVENT_HEADER), "webhook.test");
    assert_eq!(request.header(EVENT_ID_HEADER), event_id);
    assert_eq!(&event_id[14..15], "7");
    assert!(request.header(DELIVERY_ID_HEADER).parse::<u64>().is_ok());
    let timestamp: i64 = request
        .header(TIMESTAMP_HEADER)
        .parse()
        .expect("unix seconds");
    assert!((before - 1..=chrono::Utc::now().timestamp()).contains(&timestamp));
    assert_eq!(request.header("content-type"), "application/json");
    // The signature, recomputed here with the HMAC crate directly, not with
    // the sender's own function.
    let secret = endpoint["secret"].as_str().unwrap();
    assert_eq!(
        request.header(SIGNATURE_HEADER),
        hmac_sha256_hex(secret, timestamp, &request.body)
    );

    // An inactive endpoint gets no test event.
    let patched = send_json(
        &h,
        Method::PATCH,
        Some(&token),
        &format!("/webhooks/{id}"),
        json!({ "is_active": false }),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK);
    let refused = h.post_empty(&token, &format!("/webhooks/{id}/test")).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body["errors"]["is_active"].is_array());
}

#[tokio::test]
async fn a_rotated_secret_signs_every_later_delivery() {
    let (h, token, receiver, endpoint) = setup(&["booking.created"]).await;
    let id = endpoint["id"].as_i64().unwrap();
    let rotated = h
        .post_empty(&token, &format!("/webhooks/{id}/rotate-secret"))
        .await;
    let new_secret = rotated.body["secret"].as_str().unwrap().to_owned();
    receiver.set_secret(&new_secret);
    h.post_empty(&token, &format!("/webhooks/{id}/test")).await;
    receiver.wait_for_events(1).await;
    let request = &receiver.requests()[0];
    let mut old = Verifier::new(endpoint["secret"].as_str().unwrap());
    let now = chrono::Utc::now().timestamp();
    assert!(old.check(&request.headers, &request.body, now).is_err());
    assert!(receiver.rejections().is_empty());
}

#[tokio::test]
async fn each_pay_option_produces_exactly_its_documented_events_in_order() {
    let (h, token, receiver, _) = setup(ALL_EVENTS).await;
    let event = h.create_event(2, 12, 72).await;
    let mut expected: Vec<(String, i64)> = Vec::new();
    for pay_option in ["credits", "balance", "inv"] {
        let booking = book(&h, &token, event, pay_option).await;
        expected.push(("booking.created".into(), booking["id"].as_i64().unwrap()));
        let events = receiver.wait_for_events(expected.len()).await;
        let last = events.last().unwrap();
        assert_eq!(last["data"]["pay_option"], pay_option);
        assert_eq!(last["data"]["booking_status"], "booked");
        assert_eq!(
            last["data"], booking,
            "the event carries the booking as answered"
        );
    }
    let pending = book(&h, &token, event, "candidate_pays").await;
    let pending_id = pending["id"].as_i64().unwrap();
    expected.push(("booking.created".into(), pending_id));
    let events = receiver.wait_for_events(expected.len()).await;
    assert_eq!(events.last().unwrap()["data"]["booking_status"], "pending");
    // The candidate pays on the checkout page.
    let payment_url = pending["payment_url"].as_str().expect("payment url");
    let paid = h.client.post(payment_url).send().await.expect("checkout");
    assert!(paid.status().is_success() || paid.status().is_redirection());
    expected.push(("booking.confirmed".into(), pending_id));
    let events = receiver.wait_for_events(expected.len()).await;
    assert_eq!(events.last().unwrap()["data"]["booking_status"], "booked");
    assert_eq!(events.last().unwrap()["data"]["pay_status"], "completed");
    // Paying twice confirms once.
    h.client
        .post(payment_url)
        .send()
        .await
        .expect("checkout again");
    // Cancelling the first booking.
    let first = expected[0].1;
    let cancelled = h
        .post_empty(&token, &format!("/bookings/{first}/cancel"))
        .await;
    assert_eq!(cancelled.status, StatusCode::OK);
    expected.push(("booking.cancelled".into(), first));
    let events = receiver.wait_for_events(expected.len()).await;
    let got: Vec<(String, i64)> = events
        .iter()
        .map(|event| {
            (
                event["event_type"].as_str().unwrap().to_owned(),
                event["data"]["id"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, expected);
    assert_eq!(
        events.last().unwrap()["data"]["booking_status"],
        "cancelled"
    );
    // Every delivery was signed correctly, once each, with distinct event ids.
    assert!(receiver.rejections().is_empty());
    assert_eq!(receiver.requests().len(), expected.len());
    let mut ids: Vec<&str> = events
        .iter()
        .map(|e| e["event_id"].as_str().unwrap())
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), expected.len());
    // The log holds one delivered delivery per event.
    let log = h.deliveries(&token, "").await;
    assert_eq!(log.len(), expected.len());
    assert!(log.iter().all(|d| d["status"] == "delivered"));
}

#[tokio::test]
async fn attendance_certificates_and_no_shows_are_reported() {
    let (h, token, receiver, _) = setup(ALL_EVENTS).await;
    let event = h.create_event(2, 12, 1).await;
    let attended = book(&h, &token, event, "inv").await["id"].as_i64().unwrap();
    let absent = book(&h, &token, event, "inv").await["id"].as_i64().unwrap();
    receiver.wait_for_events(2).await;
    h.advance(2 * 3600).await;
    let reply = h
        .fixture(
            &format!("/_sandbox/bookings/{attended}/attendance"),
            json!({ "attendance": "attended" }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = h
        .fixture(
            &format!("/_sandbox/bookings/{absent}/attendance"),
            json!({ "attendance": "no_show" }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let events = receiver.wait_for_events(6).await;
    assert_eq!(
        types(&events[2..]),
        [
            "booking.attendance_marked",
            "booking.certificate_available",
            "booking.attendance_marked",
            "booking.no_show"
        ]
    );
    assert_eq!(events[3]["data"]["id"], attended);
    assert_eq!(events[3]["data"]["certificate_available"], true);
    assert_eq!(events[5]["data"]["id"], absent);
    assert_eq!(events[5]["data"]["attendance"], "no_show");
    assert!(receiver.rejections().is_empty());
}

#[tokio::test]
async fn review_refusal_cancels_and_approval_confirms() {
    let (h, token, receiver, _) = setup(&["booking.confirmed", "booking.cancelled"]).await;
    let event = h.create_event(3, 12, 72).await;
    let approved = book(&h, &token, event, "inv").await["id"].as_i64().unwrap();
    let refused = book(&h, &token, event, "inv").await["id"].as_i64().unwrap();
    let reply = h
        .fixture(
            &format!("/_sandbox/bookings/{approved}/review"),
            json!({ "approve": true }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = h
        .fixture(
            &format!("/_sandbox/bookings/{refused}/review"),
            json!({ "approve": false }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let events = receiver.wait_for_events(2).await;
    assert_eq!(types(&events), ["booking.confirmed", "booking.cancelled"]);
    assert_eq!(events[0]["data"]["id"], approved);
    assert_eq!(events[1]["data"]["id"], refused);
}

#[tokio::test]
async fn holds_seats_credits_and_balance_running_out_are_reported() {
    let (h, token, receiver, _) = setup(ALL_EVENTS).await;
    // A hold left to lapse.
    let lapsing = h.create_event(2, 12, 72).await;
    let hash = h.hold_hash(&token, lapsing).await;
    h.advance(1801).await;
    let events = receiver.wait_for_events(1).await;
    assert_eq!(types(&events), ["hold.expired"]);
    assert_eq!(events[0]["data"]["hold_hash"], hash.as_str());
    assert_eq!(events[0]["data"]["training_event"]["id"], lapsing);

    // Three seats: one booking leaves two, the low mark.
    let small = h.create_event(4, 3, 72).await;
    book(&h, &token, small, "credits").await;
    // HB-DEMO has two Basic Life Support credits: one left is low, none is depleted.
    let events = receiver.wait_for_events(4).await;
    assert_eq!(
        types(&events[1..]),
        ["booking.created", "training_event.seats_low", "credits.low"]
    );
    assert_eq!(events[2]["data"]["training_event"]["remaining_slots"], 2);
    assert_eq!(events[3]["data"]["course_id"], 4);
    assert_eq!(events[3]["data"]["credits"], 1);
    let other = h.create_event(4, 12, 72).await;
    book(&h, &token, other, "credits").await;
    let events = receiver.wait_for_events(6).await;
    assert_eq!(types(&events[4..]), ["booking.created", "credits.depleted"]);
    assert_eq!(events[5]["data"]["credits"], 0);

    // An account with £150: a £95 booking leaves £55 (low), a £55 one nothing.
    h.create_account("HB-LOW", "low-key", json!({ "balance": 150 }))
        .await;
    let low = h.login(("HB-LOW", "low-key")).await;
    let low_receiver = TestReceiver::start().await;
    let endpoint = h.create_endpoint(&low, &low_receiver.url, ALL_EVENTS).await;
    low_receiver.set_secret(endpoint["secret"].as_str().unwrap());
    let moving = h.create_event(2, 12, 72).await;
    book(&h, &low, moving, "balance").await;
    let fire = h.create_event(5, 12, 72).await;
    book(&h, &low, fire, "balance").await;
    let events = low_receiver.wait_for_events(4).await;
    assert_eq!(
        types(&events),
        [
            "booking.created",
            "balance.low",
            "booking.created",
            "balance.depleted"
        ]
    );
    assert_eq!(events[1]["data"]["booking_money_balance"], 55);
    assert_eq!(events[3]["data"]["booking_money_balance"], 0);
    // HB-DEMO's endpoint heard nothing of HB-LOW's wallet.
    assert_eq!(receiver.events().len(), 6);
    assert!(receiver.rejections().is_empty() && low_receiver.rejections().is_empty());
}

#[tokio::test]
async fn only_subscribed_active_endpoints_of_the_account_get_an_event() {
    let (h, token, receiver, _) = setup(&["booking.created"]).await;
    let cancelled_only = h
        .create_endpoint(&token, &receiver.url, &["booking.cancelled"])
        .await;
    let inactive = h
        .create_endpoint(&token, &receiver.url, &["booking.created"])
        .await;
    let inactive_id = inactive["id"].as_i64().unwrap();
    send_json(
        &h,
        Method::PATCH,
        Some(&token),
        &format!("/webhooks/{inactive_id}"),
        json!({ "is_active": false }),
    )
    .await;
    let other = h.login(NOINV).await;
    let foreign = h
        .create_endpoint(&other, &receiver.url, &["booking.created"])
        .await;
    let event = h.create_event(2, 12, 72).await;
    book(&h, &token, event, "credits").await;
    receiver.wait_for_events(1).await;
    // Written in the same transaction as the booking, so the log is final.
    for endpoint in [&cancelled_only, &inactive, &foreign] {
        let id = endpoint["id"].as_i64().unwrap();
        assert!(
            h.deliveries(&token, &format!("?endpoint_id={id}"))
                .await
                .is_empty(),
            "endpoint {id}"
        );
    }
    assert_eq!(h.deliveries(&token, "").await.len(), 1);
}

#[tokio::test]
async fn a_receiver_failing_twice_gets_the_event_three_times_and_the_log_shows_it() {
    let (h, token, receiver, endpoint) = setup(&["booking.created"]).await;
    receiver.fail_next(2);
    let event = h.create_event(2, 12, 72).await;
    let booking = book(&h, &token, event, "credits").await;
    receiver.wait_for_events(1).await;
    let requests = receiver.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(
        requests.iter().map(|r| r.status).collect::<Vec<_>>(),
        [500, 500, 200]
    );
    let event_ids: Vec<&str> = requests.iter().map(|r| r.header(EVENT_ID_HEADER)).collect();
    assert!(
        event_ids.iter().all(|id| *id == event_ids[0]),
        "one event id: {event_ids:?}"
    );
    let mut delivery_ids: Vec<&str> = requests
        .iter()
        .map(|r| r.header(DELIVERY_ID_HEADER))
        .collect();
    delivery_ids.dedup();
    assert_eq!(delivery_ids.len(), 3, "a new delivery id per attempt");
    assert!(requests.windows(2).all(|pair| pair[0].body == pair[1].body));
    assert_eq!(receiver.events()[0]["data"]["id"], booking["id"]);

    let id = endpoint["id"].as_i64().unwrap();
    let log = eventually("the delivery marked delivered", || async {
        let log = h.deliveries(&token, &format!("?endpoint_id={id}")).await;
        (log.len() == 1 && log[0]["status"] == "delivered").then_some(log)
    })
    .await;
    let attempts = log[0]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3);
    let summary: Vec<(i64, &str, i64)> = attempts
        .iter()
        .map(|a| {
            (
                a["attempt"].as_i64().unwrap(),
                a["outcome"].as_str().unwrap(),
                a["status_code"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (1, "failed", 500),
            (2, "failed", 500),
            (3, "succeeded", 200)
        ]
    );
    assert!(attempts.iter().all(|a| a["duration_ms"].as_i64().is_some()));
    let delivery_attempt_ids: Vec<String> = attempts
        .iter()
        .map(|a| a["delivery_attempt_id"].to_string())
        .collect();
    assert_eq!(delivery_attempt_ids, delivery_ids);
    assert_eq!(log[0]["event_type"], "booking.created");
}

#[tokio::test]
async fn a_timeout_is_a_failed_attempt_and_is_retried() {
    let (h, token, receiver, endpoint) = setup(&["booking.created"]).await;
    let id = endpoint["id"].as_i64().unwrap();
    let patched = send_json(
        &h,
        Method::PATCH,
        Some(&token),
        &format!("/webhooks/{id}"),
        json!({ "timeout_seconds": 1 }),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK);
    // The first request is held unanswered until the sandbox has given up
    // on it.
    let mut held = receiver.hold_next(HoldPoint::BeforeChecking);
    let event = h.create_event(2, 12, 72).await;
    book(&h, &token, event, "credits").await;
    held.reached().await;
    eventually("the first attempt to time out", || async {
        let log = h.deliveries(&token, "").await;
        (log.first()?["attempts"][0]["outcome"] == "failed").then_some(())
    })
    .await;
    held.release();
    let log = eventually("the delivery after a timeout", || async {
        let log = h.deliveries(&token, "").await;
        (log.len() == 1 && log[0]["status"] == "delivered").then_some(log)
    })
    .await;
    let attempts = log[0]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert_eq!(attempts[0]["outcome"], "failed");
    assert_eq!(attempts[0]["error"], "timed out");
    assert!(attempts[0]["status_code"].is_null());
    assert_eq!(attempts[1]["status_code"], 200);
    assert_eq!(receiver.events().len(), 1);
}

#[tokio::test]
async fn a_redirect_is_a_failed_attempt_and_is_not_followed() {
    let h = Harness::start_with_file().await;
    let token = h.login(DEMO).await;
    // The redirect leads to a receiver the sandbox could reach; it must
    // still not be sent anything.
    let elsewhere = TestReceiver::start().await;
    let location = elsewhere.url.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let app = axum::Router::new().fallback(move || {
        let location = location.clone();
        async move {
            (
                axum::http::StatusCode::TEMPORARY_REDIRECT,
                [(axum::http::header::LOCATION, location)],
            )
        }
    });
    let _redirector = Background::spawn(address, |stop| async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
    });
    let endpoint = h
        .create_endpoint(&token, &format!("http://{address}/hook"), &["webhook.test"])
        .await;
    let id = endpoint["id"].as_i64().unwrap();
    let queued = h.post_empty(&token, &format!("/webhooks/{id}/test")).await;
    assert_eq!(queued.status, StatusCode::ACCEPTED, "{}", queued.body);
    let attempt = eventually("the first attempt", || async {
        let log = h.deliveries(&token, "").await;
        log.first()?["attempts"]
            .as_array()?
            .iter()
            .find(|attempt| attempt["outcome"] != "sending")
            .cloned()
    })
    .await;
    assert_eq!(attempt["outcome"], "failed", "{attempt}");
    assert_eq!(attempt["status_code"], 307, "{attempt}");
    assert!(elsewhere.requests().is_empty(), "the redirect was followed");
}

#[tokio::test]
async fn the_demos_receiver_on_loopback_is_reached_outside_test_mode() {
    let receiver = TestReceiver::start().await;
    receiver.set_secret("demo-secret");
    let h = Harness::start_with(SandboxConfig {
        test_clock: false,
        demo_webhook: Some(booking_sandbox::DemoWebhook {
            url: receiver.url.clone(),
            secret: "demo-secret".to_owned(),
        }),
        ..SandboxConfig::for_tests()
    })
    .await;
    let token = h.login(DEMO).await;
    let listed = h.get(&token, "/webhooks").await;
    let id = listed.body["data"][0]["id"]
        .as_i64()
        .expect("the demo's endpoint");
    let queued = h.post_empty(&token, &format!("/webhooks/{id}/test")).await;
    assert_eq!(queued.status, StatusCode::ACCEPTED, "{}", queued.body);
    let events = receiver.wait_for_events(1).await;
    assert_eq!(types(&events), ["webhook.test"]);
    // An endpoint registered through the API may not follow it there.
    let other = h
        .post(
            Some(&token),
            "/webhooks",
            json!({ "name": "n", "url": receiver.url.replace("http:", "https:"), "events": ["webhook.test"] }),
        )
        .await;
    assert_eq!(
        other.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        other.body
    );
}

#[tokio::test]
async fn deleting_an_endpoint_abandons_its_pending_deliveries() {
    let (h, token, receiver, endpoint) = setup(&["booking.created"]).await;
    receiver.fail_next(usize::MAX);
    let event = h.create_event(2, 12, 72).await;
    book(&h, &token, event, "credits").await;
    receiver.wait_for_requests(1).await;
    let id = endpoint["id"].as_i64().unwrap();
    assert_eq!(
        h.delete(&token, &format!("/webhooks/{id}")).await.status,
        StatusCode::OK
    );
    let log = h.deliveries(&token, "").await;
    assert_eq!(log[0]["status"], "abandoned");
    let seen = receiver.requests().len();
    // A witness: another endpoint's delivery, failed three times and retried
    // a retry period (50 ms) apart, is delivered only after several periods
    // in which the abandoned delivery would have been due again. By then
    // nothing more has been sent to the deleted endpoint (an in-flight
    // attempt at the moment of deletion may still land).
    let witness = TestReceiver::start().await;
    let other = h
        .create_endpoint(&token, &witness.url, &["booking.created"])
        .await;
    witness.set_secret(other["secret"].as_str().expect("secret"));
    witness.fail_next(3);
    book(&h, &token, event, "credits").await;
    witness.wait_for_events(1).await;
    assert_eq!(witness.requests().len(), 4);
    assert!(receiver.requests().len() <= seen + 1);
}

#[tokio::test]
async fn the_delivery_log_rejects_a_bad_filter() {
    let h = Harness::start_with_file().await;
    let token = h.login(DEMO).await;
    let reply = h
        .send(
            Method::GET,
            &h.url("/_sandbox/webhook-deliveries?endpoint_id=x"),
            Some(&token),
            None,
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body["errors"]["endpoint_id"].is_array());
    let without_test_mode = Harness::start_with(SandboxConfig {
        test_clock: false,
        ..SandboxConfig::for_tests()
    })
    .await;
    let reply = without_test_mode
        .send(
            Method::GET,
            &without_test_mode.url("/_sandbox/webhook-deliveries"),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

/// A `booking-sandbox` process; killed (SIGKILL) when dropped.
struct Process {
    child: Child,
    url: String,
}

impl Process {
    fn start(args: &[&str]) -> Process {
        let mut child = Command::new(env!("CARGO_BIN_EXE_booking-sandbox"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("booking-sandbox starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().expect("a line").expect("text");
        let url = first
            .split_once("listening on ")
            .map(|(_, url)| url.to_owned())
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
        // Keep reading stdout so the process never blocks on a full pipe.
        let rest = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = rest.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Process { child, url }
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The command line of a sandbox process over the SQLite file `db`: test
/// mode, and a retry 300 ms after a failed attempt.
fn serve_args(db: &str) -> [&str; 10] {
    [
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--db",
        db,
        "--test-clock",
        "--rate-limit",
        "100000",
        "--webhook-retry-ms",
        "300",
    ]
}

/// HB-DEMO's token from the sandbox process at `base`.
async fn process_login(client: &reqwest::Client, base: &str) -> String {
    let reply: Value = client
        .post(format!("{base}/api/v1/auth/token"))
        .json(&json!({ "hb_client_id": DEMO.0, "api_key": DEMO.1 }))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("json");
    reply["access_token"].as_str().expect("a token").to_owned()
}

/// Registers an endpoint for `events` at `receiver` on the sandbox process
/// at `base` and gives the receiver its secret; returns the endpoint's id.
/// Its timeout is the longest (30 s), so an attempt cut off by a kill is
/// not due again by its lease (the timeout and a retry period) within a
/// test's patience: only the recovery at start makes it again in time.
async fn process_endpoint(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    receiver: &TestReceiver,
    events: &[&str],
) -> i64 {
    let endpoint: Value = client
        .post(format!("{base}/api/v1/webhooks"))
        .bearer_auth(token)
        .json(&json!({
            "name": "n",
            "url": receiver.url,
            "events": events,
            "timeout_seconds": 30,
        }))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("json");
    receiver.set_secret(endpoint["secret"].as_str().expect("secret"));
    endpoint["id"].as_i64().expect("id")
}

/// Queues a `webhook.test` delivery to endpoint `id` on the sandbox
/// process at `base`.
async fn process_test_event(client: &reqwest::Client, base: &str, token: &str, id: i64) {
    let status = client
        .post(format!("{base}/api/v1/webhooks/{id}/test"))
        .bearer_auth(token)
        .send()
        .await
        .expect("answered")
        .status();
    assert_eq!(status, StatusCode::ACCEPTED);
}

/// Polls the delivery log of the sandbox process at `base` until it has
/// deliveries and all are delivered; returns them.
async fn process_delivered_log(client: &reqwest::Client, base: &str, token: &str) -> Vec<Value> {
    eventually("the log to show every delivery delivered", || async {
        let log: Value = client
            .get(format!("{base}/_sandbox/webhook-deliveries"))
            .bearer_auth(token)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        let log = log["data"].as_array()?.clone();
        (!log.is_empty() && log.iter().all(|d| d["status"] == "delivered")).then_some(log)
    })
    .await
}

/// Each attempt of a logged delivery as (attempt, outcome, status code,
/// `X-TDTA-Delivery-Id`).
fn attempt_summary(delivery: &Value) -> Vec<(i64, String, Option<i64>, String)> {
    delivery["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|a| {
            (
                a["attempt"].as_i64().expect("attempt"),
                a["outcome"].as_str().expect("outcome").to_owned(),
                a["status_code"].as_i64(),
                a["delivery_attempt_id"].to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_sandbox_killed_mid_retry_delivers_the_rest_after_a_restart() {
    let db = temp_db();
    let args = serve_args(db.to_str().expect("path"));
    let receiver = TestReceiver::start().await;
    receiver.fail_next(usize::MAX);
    let client = reqwest::Client::new();
    let first = Process::start(&args);
    let api = format!("{}/api/v1", first.url);
    let token = process_login(&client, &first.url).await;
    process_endpoint(&client, &first.url, &token, &receiver, &["booking.created"]).await;
    let events: Value = client
        .get(format!(
            "{api}/training-events?course_id=2&available_only=true&per_page=2"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut booked = Vec::new();
    for event in events["data"].as_array().unwrap() {
        let hold: Value = client
            .post(format!("{api}/training-events/{}/hold", event["id"]))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let booking: Value = client
            .post(format!("{api}/bookings"))
            .bearer_auth(&token)
            .json(&booking_body(
                hold["hold_hash"].as_str().unwrap(),
                "credits",
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        booked.push(booking["id"].as_i64().expect("booked"));
    }
    assert_eq!(booked.len(), 2);
    // Both deliveries fail at least once, then the sandbox is killed.
    receiver
        .wait_until("both deliveries to fail", |receiver| {
            let requests = receiver.requests();
            let mut ids: Vec<String> = requests
                .iter()
                .map(|r| r.header(EVENT_ID_HEADER).to_owned())
                .collect();
            ids.sort();
            ids.dedup();
            (ids.len() == 2).then_some(())
        })
        .await;
    first.kill();
    assert!(receiver.events().is_empty());
    receiver.fail_next(0);

    let second = Process::start(&args);
    let events = receiver.wait_for_events(2).await;
    let mut ids: Vec<i64> = events
        .iter()
        .map(|e| e["data"]["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, booked);
    let log = process_delivered_log(&client, &second.url, &token).await;
    assert_eq!(log.len(), 2);
    for delivery in &log {
        let attempts = delivery["attempts"].as_array().unwrap();
        assert!(attempts.len() >= 2, "{attempts:?}");
        assert_eq!(attempts.last().unwrap()["outcome"], "succeeded");
        assert!(attempts[..attempts.len() - 1]
            .iter()
            .all(|a| a["outcome"] == "failed" || a["outcome"] == "interrupted"));
    }
    assert!(receiver.rejections().is_empty());
}

#[tokio::test]
async fn an_attempt_cut_off_by_a_kill_is_made_again_after_a_restart_and_delivered_once() {
    let db = temp_db();
    let args = serve_args(db.to_str().expect("path"));
    let receiver = TestReceiver::start().await;
    // The receiver accepts the first request and makes nothing of it.
    let mut held = receiver.hold_next(HoldPoint::BeforeChecking);
    let client = reqwest::Client::new();
    let first = Process::start(&args);
    let token = process_login(&client, &first.url).await;
    let id = process_endpoint(&client, &first.url, &token, &receiver, &["webhook.test"]).await;
    process_test_event(&client, &first.url, &token, id).await;
    let cut_off = held.reached().await;
    first.kill();
    assert!(receiver.requests().is_empty(), "nothing answered yet");

    let second = Process::start(&args);
    let answered = receiver.wait_for_requests(1).await;
    let again = &answered[0];
    assert_eq!(again.status, 200);
    let event_id = cut_off.header(EVENT_ID_HEADER);
    assert!(!event_id.is_empty());
    assert_eq!(again.header(EVENT_ID_HEADER), event_id);
    assert_eq!(again.body, cut_off.body, "the same bytes");
    match &again.checked {
        Some(Ok(Verified::New(envelope))) => assert_eq!(envelope["event_id"], event_id),
        other => panic!("the repeat was not accepted as the event: {other:?}"),
    }
    assert_ne!(
        again.header(DELIVERY_ID_HEADER),
        cut_off.header(DELIVERY_ID_HEADER),
        "a new delivery id per attempt"
    );

    let log = process_delivered_log(&client, &second.url, &token).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["event_id"], event_id);
    assert_eq!(
        attempt_summary(&log[0]),
        [
            (
                1,
                "interrupted".to_owned(),
                None,
                cut_off.header(DELIVERY_ID_HEADER).to_owned()
            ),
            (
                2,
                "succeeded".to_owned(),
                Some(200),
                again.header(DELIVERY_ID_HEADER).to_owned()
            ),
        ]
    );
    assert_eq!(
        log[0]["attempts"][0]["error"],
        "the sandbox stopped during the attempt"
    );
    let arrivals = receiver.arrivals();
    assert_eq!(arrivals.len(), 2, "the event twice, no more");
    assert!(arrivals
        .iter()
        .all(|arrival| arrival.header(EVENT_ID_HEADER) == event_id));
    assert!(receiver.rejections().is_empty());
    held.release();
}

#[tokio::test]
async fn a_2xx_the_killed_sandbox_missed_is_repeated_with_its_event_id_and_dropped_as_a_repeat() {
    let db = temp_db();
    let args = serve_args(db.to_str().expect("path"));
    let receiver = TestReceiver::start().await;
    // The receiver accepts the event and decides on 200, but the answer
    // waits until the sandbox has been killed, so the sandbox never hears
    // of the success.
    let mut held = receiver.hold_next(HoldPoint::BeforeAnswering);
    let client = reqwest::Client::new();
    let first = Process::start(&args);
    let token = process_login(&client, &first.url).await;
    let id = process_endpoint(&client, &first.url, &token, &receiver, &["webhook.test"]).await;
    process_test_event(&client, &first.url, &token, id).await;
    let accepted = held.reached().await;
    first.kill();
    held.release();
    let event_id = accepted.header(EVENT_ID_HEADER).to_owned();
    assert!(!event_id.is_empty());
    let answered = receiver.requests();
    assert_eq!(answered.len(), 1);
    assert_eq!(answered[0].status, 200);
    assert!(
        matches!(&answered[0].checked, Some(Ok(Verified::New(_)))),
        "{:?}",
        answered[0].checked
    );

    let second = Process::start(&args);
    let answered = receiver.wait_for_requests(2).await;
    let repeat = &answered[1];
    assert_eq!(
        repeat.header(EVENT_ID_HEADER),
        event_id,
        "the idempotency key"
    );
    assert_eq!(repeat.body, accepted.body, "the same bytes");
    assert_eq!(
        repeat.checked,
        Some(Ok(Verified::Duplicate(event_id.clone()))),
        "the verifier knows it as a repeat"
    );
    assert_eq!(repeat.status, 200, "a repeat is acknowledged");
    assert_eq!(receiver.events().len(), 1, "the event is taken once");

    let log = process_delivered_log(&client, &second.url, &token).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["event_id"], event_id.as_str());
    assert_eq!(
        attempt_summary(&log[0]),
        [
            (
                1,
                "interrupted".to_owned(),
                None,
                accepted.header(DELIVERY_ID_HEADER).to_owned()
            ),
            (
                2,
                "succeeded".to_owned(),
                Some(200),
                repeat.header(DELIVERY_ID_HEADER).to_owned()
            ),
        ]
    );
    assert_eq!(receiver.arrivals().len(), 2, "the event twice, no more");
}

/// Sends a delivery to a receiver with the given timestamp and signature.
async fn deliver(
    url: &str,
    body: &str,
    timestamp: i64,
    signed: &str,
    event_id: &str,
) -> StatusCode {
    reqwest::Client::new()
        .post(url)
        .header(EVENT_HEADER, "booking.created")
        .header(EVENT_ID_HEADER, event_id)
        .header(DELIVERY_ID_HEADER, "1")
        .header(TIMESTAMP_HEADER, timestamp.to_string())
        .header(SIGNATURE_HEADER, signed)
        .body(body.to_owned())
        .send()
        .await
        .expect("answered")
        .status()
}

#[tokio::test]
async fn the_receiver_rejects_forged_and_stale_signatures_and_prints_each_event_once() {
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let collected = lines.clone();
    let sink: Sink = Arc::new(move |line| collected.lock().unwrap().push(line));
    let secret = "p3Lq9ZtR0wXv8YbN5kHj2MdC7sFa4GeU1iOo6TrWy3QzE9nB0mVc5xLk8JhG2fDs";
    let server = spawn_receiver("127.0.0.1:0".parse().unwrap(), secret, sink)
        .await
        .expect("receiver");
    let url = format!("{}/tdta", server.url());
    let event_id = "01914c2e-7a10-7c3d-9f21-4b8e0d6a5c17";
    let body = json!({
        "event_id": event_id,
        "event_type": "booking.created",
        "occurred_at": "2026-07-20T14:17:04+00:00",
        "data": { "id": 102388 }
    })
    .to_string();
    let now = chrono::Utc::now().timestamp();
    let good = signature(secret, now, body.as_bytes());

    let forged = signature("not-the-secret", now, body.as_bytes());
    assert_eq!(
        deliver(&url, &body, now, &forged, event_id).await,
        StatusCode::UNAUTHORIZED
    );
    let tampered = body.replace("102388", "102389");
    assert_eq!(
        deliver(&url, &tampered, now, &good, event_id).await,
        StatusCode::UNAUTHORIZED
    );
    let stale = now - 301;
    let stale_sig = signature(secret, stale, body.as_bytes());
    assert_eq!(
        deliver(&url, &body, stale, &stale_sig, event_id).await,
        StatusCode::UNAUTHORIZED
    );
    let early = now + 301;
    let early_sig = signature(secret, early, body.as_bytes());
    assert_eq!(
        deliver(&url, &body, early, &early_sig, event_id).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        deliver(&url, &body, now, "", event_id).await,
        StatusCode::BAD_REQUEST
    );
    assert!(
        lines.lock().unwrap().is_empty(),
        "nothing printed for a refused delivery"
    );

    assert_eq!(
        deliver(&url, &body, now, &good, event_id).await,
        StatusCode::OK
    );
    // A retry of the same event (new timestamp, new signature) is acknowledged, not printed.
    let retry_sig = signature(secret, now + 1, body.as_bytes());
    assert_eq!(
        deliver(&url, &body, now + 1, &retry_sig, event_id).await,
        StatusCode::OK
    );
    let printed = lines.lock().unwrap().clone();
    assert_eq!(printed.len(), 1);
    let line: Value = serde_json::from_str(&printed[0]).expect("one JSON line");
    assert_eq!(line["event_id"], event_id);
    assert!(!printed[0].contains('\n'));
    // A timestamp just inside the tolerance is accepted.
    let other = body.replace(event_id, "01914c2e-7a10-7c3d-9f21-4b8e0d6a5c18");
    let edge = now - 290;
    assert_eq!(
        deliver(
            &url,
            &other,
            edge,
            &signature(secret, edge, other.as_bytes()),
            "01914c2e-7a10-7c3d-9f21-4b8e0d6a5c18"
        )
        .await,
        StatusCode::OK
    );
    assert_eq!(lines.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn the_receiver_command_prints_a_sandbox_event() {
    let h = Harness::start_with_file().await;
    let token = h.login(DEMO).await;
    // The endpoint first (its secret is the receiver's), pointed at the
    // receiver once it listens.
    let endpoint = h
        .create_endpoint(
            &token,
            "http://127.0.0.1:9/placeholder",
            &["booking.created"],
        )
        .await;
    let id = endpoint["id"].as_i64().unwrap();
    let secret = endpoint["secret"].as_str().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_booking-sandbox"))
        .args(["webhook-receiver", "--listen", "127.0.0.1:0"])
        .env("TDTA_WEBHOOK_SECRET", secret)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("receiver starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .split_once("listening on ")
        .expect("announced")
        .1
        .to_owned();
    let patched = send_json(
        &h,
        Method::PATCH,
        Some(&token),
        &format!("/webhooks/{id}"),
        json!({ "url": format!("{url}/tdta") }),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    let event = h.create_event(2, 12, 72).await;
    let booking = book(&h, &token, event, "credits").await;
    let line = tokio::time::timeout(
        Duration::from_secs(15),
        tokio::task::spawn_blocking(move || lines.next()),
    )
    .await;
    let _ = child.kill();
    let _ = child.wait();
    let line = line
        .expect("the receiver printed within 15 s")
        .unwrap()
        .expect("a line")
        .expect("text");
    let printed: Value = serde_json::from_str(&line).expect("a JSON line");
    assert_eq!(printed["event_type"], "booking.created");
    assert_eq!(printed["data"]["id"], booking["id"]);
}

#[tokio::test]
async fn a_replayed_or_refused_booking_sends_nothing() {
    let (h, token, receiver, _) = setup(ALL_EVENTS).await;
    let event = h.create_event(2, 12, 72).await;
    let hold = h.hold_hash(&token, event).await;
    let body = serde_json::to_vec(&booking_body(&hold, "credits")).unwrap();
    let headers = [("idempotency-key", "replay-1")];
    let first = h
        .send(
            Method::POST,
            &h.api("/bookings"),
            Some(&token),
            Some(body.clone()),
            &headers,
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    let replay = h
        .send(
            Method::POST,
            &h.api("/bookings"),
            Some(&token),
            Some(body),
            &headers,
        )
        .await;
    assert_eq!(replay.status, StatusCode::CREATED);
    assert_eq!(replay.headers["idempotent-replayed"], "true");
    // A refused booking (the hold is used) writes nothing either.
    let refused = h.book(&token, &hold, "credits").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    receiver.wait_for_events(1).await;
    // Events are written with the change itself, so the log is final.
    let log = h.deliveries(&token, "").await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["event_type"], "booking.created");
    assert_eq!(receiver.event_types(), ["booking.created"]);
}

#[tokio::test]
async fn the_demos_receiver_is_registered_at_start_and_kept_up_to_date() {
    let receiver = TestReceiver::start().await;
    receiver.set_secret("demo-secret-one");
    let db = booking_sandbox::DatabaseLocation::File(temp_db());
    let config = |secret: &str| SandboxConfig {
        db: db.clone(),
        demo_webhook: Some(booking_sandbox::DemoWebhook {
            url: receiver.url.clone(),
            secret: secret.to_owned(),
        }),
        ..SandboxConfig::for_tests()
    };
    let h = Harness::start_with(config("demo-secret-one")).await;
    let token = h.login(DEMO).await;
    let event = h.create_event(2, 5, 72).await;
    let booking = book(&h, &token, event, "inv").await;
    let events = receiver.wait_for_events(1).await;
    assert_eq!(types(&events), ["booking.created"]);
    assert_eq!(events[0]["data"]["id"], booking["id"]);
    drop(h);

    // Started again with a new secret: the same endpoint, the new secret.
    receiver.set_secret("demo-secret-two");
    let h = Harness::start_with(config("demo-secret-two")).await;
    let token = h.login(DEMO).await;
    let listed = h.get(&token, "/webhooks").await;
    let demo: Vec<&Value> = listed.body["data"]
        .as_array()
        .expect("a list")
        .iter()
        .filter(|endpoint| endpoint["url"] == receiver.url.as_str())
        .collect();
    assert_eq!(
        demo.len(),
        1,
        "one endpoint for the receiver: {}",
        listed.body
    );
    let event = h.create_event(2, 5, 72).await;
    book(&h, &token, event, "inv").await;
    let events = receiver.wait_for_events(2).await;
    assert_eq!(types(&events), ["booking.created", "booking.created"]);
}

#[test]
fn the_signature_matches_a_known_answer_computed_elsewhere() {
    // Python: hmac.new(b"whsec_test_0123456789",
    //   b'1767225600.{"event":"webhook.test"}', hashlib.sha256).hexdigest()
    const KNOWN: &str = "928e49b07dfecf1b04f9e847be22202f82b43e1599aec65de9a5ef990df2e21f";
    let body = br#"{"event":"webhook.test"}"#;
    assert_eq!(
        signature("whsec_test_0123456789", 1_767_225_600, body),
        KNOWN
    );
    assert_eq!(
        hmac_sha256_hex("whsec_test_0123456789", 1_767_225_600, body),
        KNOWN
    );
}

#[tokio::test]
async fn the_provider_reschedules_then_cancels_and_each_change_is_sent() {
    let (h, token, receiver, _) = setup(&["booking.rescheduled", "booking.cancelled"]).await;
    let first = h.create_event(2, 12, 48).await;
    let later = h.create_event(2, 12, 96).await;
    let other_course = h.create_event(3, 12, 96).await;
    let before = credits_for(&h.credits(&token).await, 2);
    let booked = book(&h, &token, first, "credits").await;
    let id = booked["id"].as_i64().unwrap();
    let path = format!("/_sandbox/bookings/{id}/reschedule");
    let reschedule = |event: i64| h.fixture(&path, json!({ "training_event_id": event }));

    for (event, message) in [
        (first, "The booking is already on this training event."),
        (
            other_course,
            "The training event must be of the booking's course.",
        ),
    ] {
        let refused = reschedule(event).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            refused.body["errors"]["training_event_id"],
            json!([message])
        );
    }
    let missing = reschedule(999_999).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let moved = reschedule(later).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    let later_start = h
        .get(&token, &format!("/training-events/{later}"))
        .await
        .body["start_date"]
        .clone();
    assert_eq!(moved.body["start_date"], later_start);
    assert_eq!(moved.body["booking_status"], "booked");
    assert_eq!(h.remaining(&token, first).await, 12, "the old seat is free");
    assert_eq!(h.remaining(&token, later).await, 11);

    let cancelled = h
        .fixture(&format!("/_sandbox/bookings/{id}/cancel"), json!({}))
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    assert_eq!(cancelled.body["booking_status"], "cancelled");
    assert_eq!(cancelled.body["pay_status"], "refunded");
    assert_eq!(
        credits_for(&h.credits(&token).await, 2),
        before,
        "the credit is back"
    );
    assert_eq!(h.remaining(&token, later).await, 12);
    let again = h
        .fixture(&format!("/_sandbox/bookings/{id}/cancel"), json!({}))
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);

    let events = receiver.wait_for_events(2).await;
    assert_eq!(types(&events), ["booking.rescheduled", "booking.cancelled"]);
    assert_eq!(events[0]["data"]["id"], id);
    assert_eq!(events[0]["data"]["start_date"], later_start);
    assert_eq!(events[1]["data"]["booking_status"], "cancelled");
}
