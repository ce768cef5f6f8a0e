//! The server around the API: routing errors, test mode on and off, the
//! public URL, the fixture endpoints' validation, and the command line.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::common::{Harness, DEMO};
use booking_sandbox::{spawn_sandbox, DatabaseLocation, SandboxConfig};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn unknown_routes_and_wrong_methods_answer_json() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let missing = h.get(&token, "/nothing-here").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.body, json!({ "message": "Not found." }));
    assert_eq!(missing.headers["x-ratelimit-limit"], "1000000");
    let wrong = h
        .send(Method::DELETE, &h.api("/bookings"), Some(&token), None, &[])
        .await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        wrong.body,
        json!({ "message": "The DELETE method is not supported for this route." })
    );
    let allow = wrong.headers["allow"].to_str().unwrap();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let outside = h
        .send(Method::GET, &h.url("/elsewhere"), None, None, &[])
        .await;
    assert_eq!(outside.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn test_mode_endpoints_exist_only_with_the_test_clock() {
    let h = Harness::start_with(SandboxConfig {
        test_clock: false,
        ..SandboxConfig::for_tests()
    })
    .await;
    for path in [
        "/_sandbox/clock",
        "/_sandbox/accounts",
        "/_sandbox/training-events",
        "/_sandbox/training-events/1/fill",
        "/_sandbox/bookings/1/attendance",
        "/_sandbox/bookings/1/review",
    ] {
        let reply = h.fixture(path, json!({ "advance_seconds": 60 })).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
    }
    let clock = h
        .send(Method::GET, &h.url("/_sandbox/clock"), None, None, &[])
        .await;
    assert_eq!(clock.status, StatusCode::NOT_FOUND);
    // The API itself works as usual.
    let token = h.login(DEMO).await;
    assert_eq!(h.get(&token, "/profile").await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_clock_only_moves_forward() {
    let h = Harness::start().await;
    let before = h.now().await;
    let moved = h
        .fixture("/_sandbox/clock", json!({ "advance_seconds": 86_400 }))
        .await;
    assert_eq!(moved.status, StatusCode::OK);
    assert!(moved.body["now"].as_str().unwrap().ends_with("+00:00"));
    assert_eq!(moved.body["offset_seconds"], 86_400);
    let now = crate::common::parse_time(&moved.body["now"]);
    assert!((now.signed_duration_since(before).num_seconds() - 86_400).abs() <= 2);
    for value in [
        json!(-60),
        json!(0),
        json!("60"),
        json!(1.5),
        json!(31_536_001),
    ] {
        let reply = h
            .fixture("/_sandbox/clock", json!({ "advance_seconds": value }))
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{value}");
        assert!(reply.body["errors"]["advance_seconds"].is_array());
    }
}

#[tokio::test]
async fn a_clock_start_fixes_the_sandbox_date() {
    let start = chrono::DateTime::parse_from_rfc3339("2027-03-25T10:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let h = Harness::start_with(SandboxConfig {
        clock_start: Some(start),
        ..SandboxConfig::for_tests()
    })
    .await;
    let now = h.now().await;
    assert!((now - start).num_seconds().abs() <= 5);
    let token = h.login(DEMO).await;
    let first = h.get(&token, "/training-events?per_page=1").await;
    let first = crate::common::parse_time(&first.body["data"][0]["start_date"]);
    assert_eq!(first.date_naive().to_string(), "2027-03-26");
    let without_test_clock = spawn_sandbox(SandboxConfig {
        test_clock: false,
        clock_start: Some(start),
        ..SandboxConfig::for_tests()
    })
    .await;
    assert!(without_test_clock.is_err());
}

#[tokio::test]
async fn fixtures_validate_their_input() {
    let h = Harness::start().await;
    h.create_account("HB-TEST", "k", json!({})).await;
    let taken = h
        .fixture(
            "/_sandbox/accounts",
            json!({ "hb_client_id": "HB-TEST", "api_key": "k2" }),
        )
        .await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        taken.body["errors"]["hb_client_id"],
        json!(["The hb client id has already been taken."])
    );
    let bad_credits = h
        .fixture(
            "/_sandbox/accounts",
            json!({ "hb_client_id": "HB-X", "api_key": "k", "credits": [{ "course_id": 99, "credits": 1 }] }),
        )
        .await;
    assert_eq!(bad_credits.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_credits.body["errors"]["credits.0.course_id"].is_array());

    let created = h
        .create_account(
            "HB-RICH",
            "rich-key",
            json!({ "name": "Rich Agency", "invoice_payments": true, "balance": 1000.5,
                    "credits": [{ "course_id": 5, "credits": 3 }] }),
        )
        .await;
    assert_eq!(created["profile"]["name"], "Rich Agency");
    assert_eq!(created["profile"]["invoice_payments"], true);
    assert_eq!(created["credits"]["booking_money_balance"], 1000.5);
    assert_eq!(created["credits"]["booking_credits"][0]["credits"], 3);
    let token = h.login(("HB-RICH", "rich-key")).await;
    assert_eq!(h.transaction_count(&token).await, 2);

    let bad_event = h
        .fixture(
            "/_sandbox/training-events",
            json!({ "course_id": 99, "location_id": 99, "start_date": "tomorrow", "capacity": -1 }),
        )
        .await;
    assert_eq!(bad_event.status, StatusCode::UNPROCESSABLE_ENTITY);
    let errors = bad_event.body["errors"].as_object().unwrap();
    assert!(errors.contains_key("start_date") && errors.contains_key("capacity"));
    let unknown_course = h
        .fixture(
            "/_sandbox/training-events",
            json!({ "course_id": 99, "location_id": 1, "start_date": "2030-01-01T09:00:00Z" }),
        )
        .await;
    assert_eq!(
        unknown_course.body["errors"]["course_id"],
        json!(["The selected course id is invalid."])
    );
    let priced = h
        .fixture(
            "/_sandbox/training-events",
            json!({ "course_id": 5, "location_id": 3, "start_date": "2030-01-01T09:00:00Z",
                    "end_date": "2030-01-01T10:00:00Z", "capacity": 2, "cost_inc_vat": 12.34 }),
        )
        .await;
    assert_eq!(priced.status, StatusCode::CREATED);
    assert_eq!(priced.body["cost_inc_vat"], 12.34);
    assert_eq!(priced.body["capacity"], 2);
    assert_eq!(priced.body["end_date"], "2030-01-01T10:00:00+00:00");
    let missing = h
        .fixture("/_sandbox/training-events/999999/fill", json!({}))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_public_url_is_used_in_links() {
    let h = Harness::start_with(SandboxConfig {
        public_url: Some("https://sandbox.agency.example/".to_owned()),
        ..SandboxConfig::for_tests()
    })
    .await;
    assert_eq!(h.sandbox.public_url(), "https://sandbox.agency.example");
    let token = h.login(DEMO).await;
    let events = h.get(&token, "/training-events?per_page=1").await;
    assert_eq!(
        events.body["links"]["next"],
        "https://sandbox.agency.example/api/v1/training-events?per_page=1&page=2"
    );
    assert_eq!(
        events.body["data"][0]["booking_url"],
        "https://sandbox.agency.example/practical-training/?sgi=NWCARE07"
    );
    let event = h.create_event(2, 12, 48).await;
    let hash = h.hold_hash(&token, event).await;
    let booking = h.book(&token, &hash, "candidate_pays").await;
    assert!(booking.body["payment_url"]
        .as_str()
        .unwrap()
        .starts_with("https://sandbox.agency.example/checkout/"));
}

#[tokio::test]
async fn a_file_database_keeps_bookings_across_restarts() {
    let dir = std::env::temp_dir().join(format!("sandbox-http-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sandbox.sqlite3");
    let _ = std::fs::remove_file(&path);
    let config = SandboxConfig {
        db: DatabaseLocation::File(path.clone()),
        ..SandboxConfig::for_tests()
    };
    let h = Harness::start_with(config.clone()).await;
    let token = h.login(DEMO).await;
    let event = h.create_event(2, 12, 48).await;
    let hash = h.hold_hash(&token, event).await;
    let id = h.book(&token, &hash, "credits").await.body["id"].clone();
    h.sandbox.shutdown().await.unwrap();

    let h = Harness::start_with(config).await;
    let token = h.login(DEMO).await;
    let reply = h.get(&token, &format!("/bookings/{id}")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(crate::common::credits_for(&h.credits(&token).await, 2), 3);
    h.sandbox.shutdown().await.unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_command_line_announces_the_address() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_booking-sandbox"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--db",
            ":memory:",
            "--rate-limit",
            "100",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("a line");
    let address = line
        .trim()
        .strip_prefix("sandbox listening on http://")
        .unwrap_or_else(|| panic!("unexpected announcement {line:?}"))
        .to_owned();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (status, limit) = runtime.block_on(async {
        let response = reqwest::get(format!("http://{address}/api/v1/courses"))
            .await
            .expect("answered");
        (
            response.status(),
            response.headers()["x-ratelimit-limit"].clone(),
        )
    });
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(limit, "100");

    let refused = Command::new(env!("CARGO_BIN_EXE_booking-sandbox"))
        .args([
            "serve",
            "--db",
            ":memory:",
            "--clock-start",
            "2027-01-01T00:00:00Z",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("runs");
    assert!(!refused.success(), "--clock-start needs --test-clock");
}
