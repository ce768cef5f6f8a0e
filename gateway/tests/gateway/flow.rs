//! The booking flow through the gateway, over real HTTP with the sandbox:
//! every allowed pay option, the pay-option policy, idempotency, agency
//! fields, payment and return URLs.

use crate::support::{Mode, Stack, Widget, HOST_ORIGIN, OPENING_BALANCE_PENCE, OPENING_CREDITS};
use booking_core::api::PayOption;
use booking_core::redirect::PaymentRedirectPolicy;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// Course 1 (CSTF Mandatory Practical Skills) costs £120.
const COURSE: u64 = 1;
const COURSE_COST_PENCE: i64 = 12_000;

/// A stack whose gateway allows all four pay options and the sandbox's
/// checkout page.
async fn permissive_stack() -> Stack {
    Stack::start_with(|config, sandbox| {
        config.pay_options = PayOption::KNOWN.to_vec();
        config.payment_origins = vec![sandbox.url().to_owned()];
    })
    .await
}

/// The widget's first steps: courses, events of a course; the new event
/// must be listed.
async fn browse(widget: &Widget, event_id: u64) {
    let courses = widget.get("/courses").await;
    assert_eq!(courses.status, StatusCode::OK, "{}", courses.text);
    assert!(courses
        .body
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == COURSE));
    let events = widget
        .get(&format!(
            "/training-events?course_id={COURSE}&location_id=1"
        ))
        .await;
    assert_eq!(events.status, StatusCode::OK, "{}", events.text);
    let events = events.body.as_array().unwrap();
    assert!(events.iter().all(|event| event["course"]["id"] == COURSE));
    assert!(events.iter().any(|event| event["id"] == event_id));
}

#[tokio::test]
async fn every_allowed_pay_option_books_through_the_gateway() {
    let stack = permissive_stack().await;
    let mut expected_credits = OPENING_CREDITS;
    let mut expected_balance = OPENING_BALANCE_PENCE;
    // Created up front: the gateway caches the event list for seconds.
    let mut events = Vec::new();
    for _ in PayOption::KNOWN {
        events.push(stack.create_event(COURSE, 10).await);
    }
    for (option, event_id) in PayOption::KNOWN.into_iter().zip(events) {
        let widget = stack.widget().await;
        browse(&widget, event_id).await;

        let held = widget.hold(event_id, None).await;
        assert_eq!(held.status, StatusCode::OK, "{}", held.text);
        assert_eq!(held.body["hold"]["training_event"]["id"], event_id);
        assert_eq!(held.body["hold"]["expires_in_seconds"], 1800);
        let hold_ref = held.body["hold_ref"].as_str().unwrap();

        let booked = widget
            .book(hold_ref, &option, &format!("attempt-{option}"))
            .await;
        assert_eq!(
            booked.status,
            StatusCode::CREATED,
            "{option}: {}",
            booked.text
        );
        let booking = &booked.body["booking"];
        assert_eq!(booking["pay_option"], option.as_str());
        assert_eq!(
            booking["candidate"]["email"],
            "priya.patel@carestaff.example"
        );
        assert_eq!(booking["course"]["id"], COURSE);
        let booking_ref = booked.body["booking_ref"].as_str().unwrap();

        let read = widget.get(&format!("/bookings/{booking_ref}")).await;
        assert_eq!(read.status, StatusCode::OK, "{}", read.text);
        assert_eq!(read.body["booking"]["id"], booking["id"]);
        assert_eq!(read.body["booking_ref"], booking_ref);

        match option {
            PayOption::Credits => expected_credits -= 1,
            PayOption::Balance => expected_balance -= COURSE_COST_PENCE,
            _ => {}
        }
        if option == PayOption::CandidatePays {
            assert_eq!(booking["booking_status"], "pending");
            let url = booking["payment_url"].as_str().expect("a payment_url");
            assert!(
                url.starts_with(&format!("{}/checkout/", stack.sandbox.url())),
                "{url}"
            );
            // The widget, given the gateway's payment origins, opens it.
            let options = widget.get("/options").await;
            let origins: Vec<String> =
                serde_json::from_value(options.body["payment_origins"].clone()).unwrap();
            assert_eq!(
                PaymentRedirectPolicy::new(origins).check(url).as_deref(),
                Ok(url)
            );
        } else {
            assert_eq!(booking["booking_status"], "booked", "{option}");
            assert!(booking.get("payment_url").is_none());
        }
        assert_eq!(
            stack.wallet(COURSE).await,
            (expected_credits, expected_balance),
            "wallet after {option}"
        );
        let (status, upstream) = stack
            .sandbox_get(&format!("/bookings/{}", booking["id"]))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(upstream["pay_option"], option.as_str());
    }
}

#[tokio::test]
async fn a_disallowed_pay_option_is_refused_before_the_upstream() {
    let stack = Stack::start().await;
    let event_id = stack.create_event(COURSE, 10).await;
    let widget = stack.widget().await;
    let options = widget.get("/options").await;
    assert_eq!(options.body["pay_options"], json!(["candidate_pays"]));
    let hold_ref = widget.hold_ref(event_id).await;
    for (option, message) in [
        (PayOption::Inv, "Paying by invoice is not available here."),
        (
            PayOption::Credits,
            "Paying with booking credits is not available here.",
        ),
        (
            PayOption::Balance,
            "Paying from the account balance is not available here.",
        ),
    ] {
        let refused = widget.book(&hold_ref, &option, "attempt-1").await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.text
        );
        assert_eq!(refused.body["errors"]["pay_option"], json!([message]));
    }
    assert_eq!(stack.proxy.count(Method::POST, "/bookings"), 0);
    assert_eq!(
        stack.wallet(COURSE).await,
        (OPENING_CREDITS, OPENING_BALANCE_PENCE)
    );
}

#[tokio::test]
async fn options_name_the_account_and_its_policy() {
    let stack = Stack::start_with(|config, _| {
        config.pay_options = vec![PayOption::CandidatePays, PayOption::Inv];
    })
    .await;
    let first = crate::support::send(
        stack
            .client
            .get(format!("{}/api/options", stack.gateway.url())),
    )
    .await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["account_name"], "Test Care Staffing");
    assert_eq!(first.body["pay_options"], json!(["candidate_pays", "inv"]));
    assert_eq!(
        first.body["payment_origins"],
        json!(["https://checkout.stripe.com"])
    );
    let session = first.body["session"].as_str().unwrap();
    let again = crate::support::send(
        stack
            .client
            .get(format!("{}/api/options", stack.gateway.url()))
            .header("x-hbg-session", session),
    )
    .await;
    assert!(
        again.body.get("session").is_none(),
        "a valid session is kept"
    );
    let forged = crate::support::send(
        stack
            .client
            .get(format!("{}/api/options", stack.gateway.url()))
            .header("x-hbg-session", format!("{session}x")),
    )
    .await;
    assert!(forged.body["session"]
        .as_str()
        .is_some_and(|new| new != session));
}

#[tokio::test]
async fn a_repeated_booking_request_returns_the_same_booking() {
    let stack = permissive_stack().await;
    let event_id = stack.create_event(COURSE, 10).await;
    let widget = stack.widget().await;
    let hold_ref = widget.hold_ref(event_id).await;
    let first = widget
        .book(&hold_ref, &PayOption::Credits, "retry-me")
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let second = widget
        .book(&hold_ref, &PayOption::Credits, "retry-me")
        .await;
    assert!(second.status.is_success(), "{}", second.text);
    assert_eq!(second.body["booking"]["id"], first.body["booking"]["id"]);
    assert_eq!(
        stack.wallet(COURSE).await.0,
        OPENING_CREDITS - 1,
        "charged once"
    );

    let upstream_keys = || -> Vec<String> {
        stack
            .proxy
            .seen()
            .iter()
            .filter(|seen| seen.method == Method::POST && seen.path == "/bookings")
            .map(|seen| {
                seen.request_headers["idempotency-key"]
                    .to_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    let keys = upstream_keys();
    assert_eq!(
        keys.len(),
        1,
        "the booking made is replayed, not asked for again"
    );
    assert_ne!(
        keys[0], "retry-me",
        "the upstream key is scoped to the session"
    );

    // An attempt that made no booking upstream is sent again with its key.
    // (Its event starts an hour later than the first: another event.)
    stack.advance_clock(3600).await;
    let second_event = stack.create_event(COURSE, 10).await;
    let hold_ref = widget.hold_ref(second_event).await;
    stack.proxy.set_mode(Mode::Fail(500));
    let failed = widget
        .book(&hold_ref, &PayOption::Credits, "retry-me-too")
        .await;
    assert!(failed.status.is_server_error(), "{}", failed.text);
    stack.proxy.set_mode(Mode::Pass);
    let retried = widget
        .book(&hold_ref, &PayOption::Credits, "retry-me-too")
        .await;
    assert_eq!(retried.status, StatusCode::CREATED, "{}", retried.text);
    let keys = upstream_keys();
    assert_eq!(keys.len(), 3);
    assert_eq!(
        keys[1], keys[2],
        "the retry reuses the attempt's upstream key"
    );
    assert_ne!(keys[0], keys[1], "another attempt, another key");

    let missing = widget
        .post(
            "/bookings",
            crate::support::booking_body(&hold_ref, "credits"),
            &[],
        )
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(missing.body["message"]
        .as_str()
        .unwrap()
        .contains("Idempotency-Key"));
}

#[tokio::test]
async fn agency_fields_come_from_the_configuration_not_the_browser() {
    let stack = Stack::start().await;
    let event_id = stack.create_event(COURSE, 10).await;
    let widget = stack.widget().await;
    let hold_ref = widget.hold_ref(event_id).await;
    let mut body = crate::support::booking_body(&hold_ref, "candidate_pays");
    body["agency_contact_name"] = json!("Mallory");
    body["agency_email"] = json!("mallory@evil.example");
    let booked = widget
        .post("/bookings", body, &[("idempotency-key", "k1")])
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);
    let sent = stack
        .proxy
        .seen()
        .into_iter()
        .find(|seen| seen.method == Method::POST && seen.path == "/bookings")
        .expect("a booking was sent upstream");
    let sent: serde_json::Value = serde_json::from_slice(&sent.request_body).unwrap();
    assert_eq!(sent["agency_contact_name"], "Tom Birch");
    assert_eq!(
        sent["agency_contact_email"],
        "tom.birch@northwestcare.example"
    );
    assert_eq!(sent["agency_email"], "accounts@northwestcare.example");
    assert!(!sent.to_string().contains("evil.example"));
}

#[tokio::test]
async fn a_payment_url_off_the_list_is_withheld() {
    // Default payment origins: Stripe only; the sandbox's checkout is not on it.
    let stack = Stack::start().await;
    let event_id = stack.create_event(COURSE, 10).await;
    let widget = stack.widget().await;
    let hold_ref = widget.hold_ref(event_id).await;
    let booked = widget
        .book(&hold_ref, &PayOption::CandidatePays, "k1")
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);
    assert!(
        booked.body["booking"].get("payment_url").is_none(),
        "{}",
        booked.text
    );
    assert!(!booked.text.contains("/checkout/"));
    let booking_ref = booked.body["booking_ref"].as_str().unwrap();
    let read = widget.get(&format!("/bookings/{booking_ref}")).await;
    assert!(!read.text.contains("/checkout/"));
}

#[tokio::test]
async fn a_return_url_is_forwarded_only_to_an_allowed_origin() {
    let stack = permissive_stack().await;
    let widget = stack.widget().await;
    for (return_url, forwarded) in [
        (format!("{HOST_ORIGIN}/booked"), true),
        ("https://evil.example/phish".to_owned(), false),
    ] {
        let event_id = stack.create_event(COURSE, 10).await;
        let hold_ref = widget.hold_ref(event_id).await;
        let mut body = crate::support::booking_body(&hold_ref, "candidate_pays");
        body["return_url"] = json!(return_url);
        stack.proxy.clear();
        let booked = widget
            .post("/bookings", body, &[("idempotency-key", &return_url)])
            .await;
        assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);
        let sent = stack
            .proxy
            .seen()
            .into_iter()
            .find(|s| s.path == "/bookings")
            .unwrap();
        let sent: serde_json::Value = serde_json::from_slice(&sent.request_body).unwrap();
        assert_eq!(sent.get("return_url").is_some(), forwarded, "{return_url}");
        let payment_url = booked.body["booking"]["payment_url"].as_str().unwrap();
        assert_eq!(
            payment_url.contains("return_url="),
            forwarded,
            "{payment_url}"
        );
    }
}

#[tokio::test]
async fn upstream_validation_errors_pass_through_on_their_fields() {
    let stack = Stack::start().await;
    let event_id = stack.create_event(COURSE, 10).await;
    let widget = stack.widget().await;
    let hold_ref = widget.hold_ref(event_id).await;
    let mut body = crate::support::booking_body(&hold_ref, "candidate_pays");
    body["email"] = json!("not an email");
    let refused = widget
        .post("/bookings", body, &[("idempotency-key", "k1")])
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert!(
        refused.body["errors"]["email"].is_array(),
        "{}",
        refused.text
    );

    let full = stack.create_event(COURSE, 0).await;
    let refused = widget.hold(full, None).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert!(refused.body["message"]
        .as_str()
        .unwrap()
        .contains("fully booked"));

    let missing = widget.hold(999_999, None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.text);
}
