//! Virtual BLS bookings over real HTTP: the kit's delivery address, the four
//! pay options and their wallet accounting, the PayPal stand-in, the `virtual`
//! block, idempotency, listing and getting bookings, and certificates that
//! need the training completed and the kit back in.

use crate::common::bls::{
    bls_booking_body, earliest_bookable, next_open, BLS_DEMO, BLS_NOINV, UPDATE,
};
use crate::common::{balance_pence, credits_for, parse_time, Harness};
use booking_core::api::bls::VirtualBooking;
use chrono::{Duration, Weekday};
use reqwest::StatusCode;
use serde_json::json;

/// A hold on the first bookable Tuesday at `time`.
async fn tuesday_hold(h: &Harness, token: &str, time: &str) -> String {
    let tuesday = next_open(earliest_bookable(h.uk_today().await), Weekday::Tue);
    h.bls_hold_hash(token, UPDATE, tuesday, time).await
}

#[tokio::test]
async fn a_credits_booking_carries_the_zoom_session_and_no_location() {
    let h = Harness::start().await;
    let token = h.bls_login(BLS_DEMO).await;
    let tuesday = next_open(earliest_bookable(h.uk_today().await), Weekday::Tue);
    let hash = h.bls_hold_hash(&token, UPDATE, tuesday, "13:30").await;
    let before = h.bls_get(&token, "/credits").await.body;
    let reply = h.bls_book(&token, &hash, "credits").await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let body = reply.body.clone();
    for absent in ["location", "attendance", "payment_url"] {
        assert!(body.get(absent).is_none(), "{absent}: {body}");
    }
    assert!(body["candidate"].get("job_role").is_none());
    let booking: VirtualBooking = serde_json::from_value(body.clone()).expect("a VirtualBooking");
    assert!(booking.id > 7000);
    assert_eq!(booking.candidate.name, "Owen Hughes");
    assert_eq!(booking.candidate.phone.as_deref(), Some("+447700900456"));
    assert_eq!(booking.course.id, 41);
    assert_eq!(booking.trainer.as_ref().map(|t| t.id), Some(1));
    assert_eq!(
        booking.trainer.as_ref().map(|t| t.name.as_str()),
        Some("Marcus Bell")
    );
    assert_eq!(booking.start_date.date_naive(), tuesday);
    assert_eq!(booking.start_date.format("%H:%M").to_string(), "13:30");
    assert_eq!(booking.end_date - booking.start_date, Duration::minutes(60));
    assert_eq!(body["booking_status"], "booked");
    assert_eq!(body["pay_status"], "completed");
    assert_eq!(body["pay_option"], "credits");
    assert_eq!(body["booked_by"], "Agency");
    assert_eq!(body["training_status"], "scheduled");
    assert_eq!(body["equipment_status"], "pending");
    assert_eq!(body["certificate_available"], false);
    assert!(body["created_at"].as_str().unwrap().ends_with("+00:00"));
    let zoom = &booking.session;
    let digits: String = zoom.zoom_id.chars().filter(char::is_ascii_digit).collect();
    assert_eq!(digits.len(), 11, "{}", zoom.zoom_id);
    assert_eq!(
        zoom.zoom_id.split(' ').map(str::len).collect::<Vec<_>>(),
        [3, 4, 4]
    );
    assert_eq!(zoom.zoom_link, format!("https://zoom.us/j/{digits}"));
    assert_eq!(zoom.zoom_password.len(), 6);
    // One credit of the course, recorded as a wallet transaction.
    let after = h.bls_get(&token, "/credits").await.body;
    assert_eq!(credits_for(&after, 41), credits_for(&before, 41) - 1);
    assert_eq!(balance_pence(&after), balance_pence(&before));
    let latest = h.bls_get(&token, "/transactions?per_page=1").await;
    let row = &latest.body["data"][0];
    assert_eq!(row["type"], "debit");
    assert_eq!(row["credits"], 1);
    assert_eq!(row["course_id"], 41);
    assert_eq!(row["booking_id"], booking.id);
    // The trainer stays taken after the hold is used.
    let left = h.slots_on(&token, UPDATE, tuesday).await;
    assert!(left.contains(&("13:30".to_owned(), 1)), "{left:?}");
    // The hold is used up.
    let again = h.bls_book(&token, &hash, "credits").await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        again.body["errors"]["hold_hash"][0],
        "This hold has already been used for a booking."
    );
}

#[tokio::test]
async fn balance_and_invoice_bookings_are_accounted_as_for_practical_training() {
    let h = Harness::start().await;
    let token = h.bls_login(BLS_DEMO).await;
    let before = h.bls_get(&token, "/credits").await.body;
    let count = h.bls_get(&token, "/transactions").await.body["meta"]["total"]
        .as_i64()
        .unwrap();
    let hash = tuesday_hold(&h, &token, "09:00").await;
    let reply = h.bls_book(&token, &hash, "balance").await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["pay_option"], "balance");
    assert_eq!(reply.body["pay_status"], "completed");
    let after = h.bls_get(&token, "/credits").await.body;
    assert_eq!(balance_pence(&after), balance_pence(&before) - 5500);
    let latest = h.bls_get(&token, "/transactions?per_page=1").await;
    assert_eq!(latest.body["data"][0]["amount"], 55.0);
    assert_eq!(latest.body["data"][0]["balance_after"], 195.0);
    assert_eq!(latest.body["data"][0]["booking_id"], reply.body["id"]);
    let hash = tuesday_hold(&h, &token, "10:30").await;
    let invoice = h.bls_book(&token, &hash, "invoice").await;
    assert_eq!(invoice.status, StatusCode::CREATED, "{}", invoice.body);
    assert_eq!(invoice.body["pay_option"], "invoice");
    assert_eq!(invoice.body["booking_status"], "booked");
    assert_eq!(invoice.body["pay_status"], "completed");
    // No wallet movement for the invoice.
    let total = h.bls_get(&token, "/transactions").await.body["meta"]["total"]
        .as_i64()
        .unwrap();
    assert_eq!(total, count + 1);
    assert_eq!(
        balance_pence(&h.bls_get(&token, "/credits").await.body),
        balance_pence(&after)
    );
}

#[tokio::test]
async fn unaffordable_pay_options_are_422_and_leave_the_hold_usable() {
    let h = Harness::start().await;
    let token = h.bls_login(BLS_NOINV).await;
    let hash = tuesday_hold(&h, &token, "09:00").await;
    for (option, message) in [
        (
            "credits",
            "You have no booking credits left for BLS Annual Update (Virtual).",
        ),
        (
            "balance",
            "Your booking money balance (£30) does not cover this timeslot (£55).",
        ),
        (
            "invoice",
            "Invoice payments are not enabled for this account.",
        ),
        ("inv", "The selected pay option is invalid."),
        ("card", "The selected pay option is invalid."),
    ] {
        let reply = h.bls_book(&token, &hash, option).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{option}");
        assert_eq!(reply.body["errors"]["pay_option"][0], message, "{option}");
    }
    let paid = h.bls_book(&token, &hash, "candidate_pays").await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
    let credits = h.bls_get(&token, "/credits").await.body;
    assert_eq!(balance_pence(&credits), 3000);
}

#[tokio::test]
async fn candidate_pays_is_pending_until_paid_on_the_paypal_stand_in() {
    let h = Harness::start().await;
    let token = h.bls_login(BLS_DEMO).await;
    let before = h.bls_get(&token, "/transactions").await.body["meta"]["total"].clone();
    let hash = tuesday_hold(&h, &token, "09:00").await;
    let mut body = bls_booking_body(&hash, "candidate_pays");
    body["return_url"] = json!("https://agency.example/booked?ref=7");
    let reply = h.bls_post(Some(&token), "/bookings", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["booking_status"], "pending");
    assert_eq!(reply.body["pay_status"], "pending");
    assert!(reply.body["virtual"]["zoom_link"].is_string());
    let url = reply.body["payment_url"].as_str().unwrap().to_owned();
    let prefix = format!("{}/paypal/checkoutnow?token=", h.sandbox.url());
    assert!(url.starts_with(&prefix), "{url}");
    assert!(
        url.ends_with("&return_url=https%3A%2F%2Fagency.example%2Fbooked%3Fref%3D7"),
        "{url}"
    );
    let page = h.client.get(&url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(html.contains("PayPal"), "{html}");
    assert!(html.contains("Pay £55 with PayPal"), "{html}");
    assert!(html.contains("Owen Hughes"));
    // Paying sends the browser to the stored return URL, not one in the link.
    let forged = url.replace("agency.example", "evil.example");
    let paid = h.client.post(&forged).send().await.unwrap();
    assert_eq!(paid.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        paid.headers()["location"],
        "https://agency.example/booked?ref=7"
    );
    let id = reply.body["id"].as_i64().unwrap();
    let shown = h.bls_get(&token, &format!("/bookings/{id}")).await;
    assert_eq!(shown.body["booking_status"], "booked");
    assert_eq!(shown.body["pay_status"], "completed");
    assert!(shown.body.get("payment_url").is_none());
    // Paying twice is harmless; no wallet movement either way.
    assert_eq!(
        h.client.post(&url).send().await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    let after = h.bls_get(&token, "/transactions").await.body["meta"]["total"].clone();
    assert_eq!(before, after);
    let unknown = h
        .client
        .get(format!("{prefix}nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn without_a_return_url_the_paypal_stand_in_ends_on_its_own_page() {
    let h = Harness::start().await;
    let token = h.bls_login(BLS_DEMO).await;
    h.fixture("/_sandbox/profile", json!({ "return_url": "ignored" }))
        .await;
    let hash = tuesday_hold(&h, &token, "09:00").await;
    let mut body = bls_booking_body(&hash, "candidate_pays");
    body["return_url"] = json!("not a url");
    let reply = h.bls_post(Some(&token), "/bookings", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let url = reply.body["payment_url"].as_str().unwrap();
    assert!(!url.contains("return_url"), "{url}");
    let paid = h.client.post(url).send().await.unwrap();
    assert_eq!(paid.status(), StatusCode::OK);
    assert!(paid.text().await.unwrap().contains("Payment received"));
}

#[tokio::test]
async fn the_booking_body_is_validated_with_the_kit_address() {
    let h = Harness::start().await;
    let token = h.bls_login(BLS_DEMO).await;
    let hash = tuesday_hold(&h, &token, "09:00").await;
    let empty = h.bls_post(Some(&token), "/bookings", json!({})).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in [
        "hold_hash",
        "first_name",
        "last_name",
        "email",
        "pay_option",
        "address",
        "city",
        "postcode",
    ] {
        assert_eq!(
            empty.body["errors"][field][0],
            format!("The {} field is required.", field.replace('_', " ")),
            "{field}"
        );
    }
    for (field, value, message) in [
        (
            "postcode",
            json!("LS1"),
            "The postcode field must be a valid UK postcode.",
        ),
        (
            "postcode",
            json!("12345"),
            "The postcode field must be a valid UK postcode.",
        ),
        (
            "postcode",
            json!(1234),
            "The postcode field must be a string.",
        ),
        (
            "address",
            json!("x".repeat(256)),
            "The address field must not be greater than 255 characters.",
        ),
        ("city", json!(""), "The city field is required."),
        (
            "phone",
            json!("07700 900456"),
            "The phone field format is invalid.",
        ),
        (
            "email",
            json!("owen"),
            "The email field must be a valid email address.",
        ),
        (
            "return_url",
            json!("javascript:alert(1)"),
            "The return url field must be a valid URL.",
        ),
        (
            "hold_hash",
            json!("unknown"),
            "The selected hold hash is invalid.",
        ),
    ] {
        let mut body = bls_booking_body(&hash, "credits");
        body[field] = value.clone();
        let reply = h.bls_post(Some(&token), "/bookings", body).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}={value}"
        );
        assert_eq!(reply.body["errors"][field][0], message, "{field}={value}");
    }
    // Another account's hold is unknown to this one.
    let other = h.bls_login(BLS_NOINV).await;
    let reply = h.bls_book(&other, &hash, "candidate_pays").await;
    assert_eq!(
        reply.body["errors"]["hold_hash"][0],
        "The selected hold hash is invalid."
    );
    // Nothing above used the hold.
    assert_eq!(
        h.bls_book(&token, &hash, "credits").await.status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn an_expired_hold_cannot_be_booked() {
    let h = Harness::start().await;
    let token = h.bls_login(BLS_DEMO).await;
    let hash = tuesday_hold(&h, &token, "09:00").await;
    h.advance(1801).await;
    let token = h.bls_login(BLS_DEMO).await;
    let reply = h.bls_book(&token, &hash, "credits").await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply.body["errors"]["hold_hash"][0],
        "This hold has expired. Hold a timeslot again."
    );
}

#[tokio::test]
async fn an_idempotency_key_replays_the_booking_without_charging_twice() {
    let h = Harness::start().await;
    let token = h.bls_login(BLS_DEMO).await;
    let hash = tuesday_hold(&h, &token, "09:00").await;
    let body = serde_json::to_vec(&bls_booking_body(&hash, "balance")).unwrap();
    let send = |body: Vec<u8>, key: &'static str| {
        let url = h.bls("/bookings");
        let token = token.clone();
        let h = &h;
        async move {
            h.send(
                reqwest::Method::POST,
                &url,
                Some(&token),
                Some(body),
                &[("idempotency-key", key)],
            )
            .await
        }
    };
    let first = send(body.clone(), "bls-1").await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let replay = send(body.clone(), "bls-1").await;
    assert_eq!(replay.status, StatusCode::CREATED);
    assert_eq!(replay.headers["idempotent-replayed"], "true");
    assert_eq!(replay.body["id"], first.body["id"]);
    assert_eq!(
        balance_pence(&h.bls_get(&token, "/credits").await.body),
        25000 - 5500
    );
    let mut other = bls_booking_body(&hash, "credits");
    other["city"] = json!("York");
    let different = send(serde_json::to_vec(&other).unwrap(), "bls-1").await;
    assert_eq!(different.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(different.body["errors"]["idempotency_key"].is_array());
    // Under idempotency=ignored the repeat is a new request, and meets the
    // used hold.
    h.fixture("/_sandbox/profile", json!({ "idempotency": "ignored" }))
        .await;
    let repeat = send(body, "bls-1").await;
    assert_eq!(repeat.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        repeat.body["errors"]["hold_hash"][0],
        "This hold has already been used for a booking."
    );
}

#[tokio::test]
async fn bookings_are_listed_filtered_and_fetched_for_their_account_only() {
    let h = Harness::start().await;
    let token = h.bls_login(BLS_DEMO).await;
    let hash = tuesday_hold(&h, &token, "09:00").await;
    let credits = h.bls_book(&token, &hash, "credits").await.body;
    let hash = tuesday_hold(&h, &token, "10:30").await;
    let pending = h.bls_book(&token, &hash, "candidate_pays").await.body;
    let list = h.bls_get(&token, "/bookings").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["meta"]["total"], 2);
    assert_eq!(list.body["data"][0]["id"], pending["id"], "newest first");
    assert!(list.body["data"][0]["payment_url"].is_string());
    let booked = h.bls_get(&token, "/bookings?status=booked").await;
    assert_eq!(booked.body["meta"]["total"], 1);
    assert_eq!(booked.body["data"][0]["id"], credits["id"]);
    let date = parse_time(&credits["start_date"]).date_naive();
    let on_day = h
        .bls_get(
            &token,
            &format!("/bookings?course_id=41&date_from={date}&date_to={date}"),
        )
        .await;
    assert_eq!(on_day.body["meta"]["total"], 2);
    let none = h.bls_get(&token, "/bookings?course_id=42").await;
    assert_eq!(none.body["meta"]["total"], 0);
    for query in [
        "status=done",
        "course_id=x",
        "date_from=2026-02-30",
        "per_page=0",
    ] {
        let reply = h.bls_get(&token, &format!("/bookings?{query}")).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
    }
    let id = credits["id"].as_i64().unwrap();
    let shown = h.bls_get(&token, &format!("/bookings/{id}")).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(shown.body, credits);
    let other = h.bls_login(BLS_NOINV).await;
    let foreign = h.bls_get(&other, &format!("/bookings/{id}")).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    assert_eq!(foreign.body["message"], "Booking not found.");
    assert_eq!(
        h.bls_get(&other, "/bookings").await.body["meta"]["total"],
        0
    );
    for path in ["/bookings/abc", "/bookings/0", "/bookings/999999"] {
        assert_eq!(
            h.bls_get(&token, path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

#[tokio::test]
async fn the_certificate_needs_the_training_completed_and_the_kit_back_in() {
    let h = Harness::start().await;
    let token = h.bls_login(BLS_DEMO).await;
    let hash = tuesday_hold(&h, &token, "09:00").await;
    let booking = h.bls_book(&token, &hash, "credits").await.body;
    let id = booking["id"].as_i64().unwrap();
    let certificate = format!("/bookings/{id}/certificate");
    let status = format!("/_sandbox/bls/bookings/{id}/status");
    let refused = h.bls_get(&token, &certificate).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused.body["errors"]["booking"][0],
        "No certificate is available until the training is completed."
    );
    // The session has not happened yet.
    let early = h
        .fixture(&status, json!({ "training_status": "completed" }))
        .await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        early.body["errors"]["training_status"][0],
        "The session has not started yet."
    );
    // The kit goes out and comes back before the session: still no certificate.
    let kit = h
        .fixture(&status, json!({ "equipment_status": "in" }))
        .await;
    assert_eq!(kit.status, StatusCode::OK, "{}", kit.body);
    assert_eq!(kit.body["equipment_status"], "in");
    assert_eq!(kit.body["certificate_available"], false);
    // After the session, completed training and the kit in: available.
    let start = parse_time(&booking["start_date"]);
    let wait = (start.with_timezone(&chrono::Utc) - h.now().await).num_seconds() + 3700;
    h.advance(wait).await;
    let token = h.bls_login(BLS_DEMO).await;
    let kit_out = h
        .fixture(
            &status,
            json!({ "training_status": "completed", "equipment_status": "out" }),
        )
        .await;
    assert_eq!(kit_out.status, StatusCode::OK, "{}", kit_out.body);
    assert_eq!(kit_out.body["booking_status"], "completed");
    assert_eq!(kit_out.body["certificate_available"], false);
    let refused = h.bls_get(&token, &certificate).await;
    assert_eq!(
        refused.body["errors"]["booking"][0],
        "No certificate is available until the training kit has been returned."
    );
    let done = h
        .fixture(&status, json!({ "equipment_status": "in" }))
        .await;
    assert_eq!(done.body["certificate_available"], true);
    let shown = h.bls_get(&token, &format!("/bookings/{id}")).await;
    assert_eq!(shown.body["certificate_available"], true);
    assert_eq!(shown.body["training_status"], "completed");
    let pdf = h
        .client
        .get(h.bls(&certificate))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.status(), StatusCode::OK);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF"));
    let other = h.bls_login(BLS_NOINV).await;
    assert_eq!(
        h.bls_get(&other, &certificate).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn marking_training_and_kit_status_is_validated() {
    let h = Harness::start().await;
    let token = h.bls_login(BLS_DEMO).await;
    let hash = tuesday_hold(&h, &token, "09:00").await;
    let pending = h.bls_book(&token, &hash, "candidate_pays").await.body;
    let id = pending["id"].as_i64().unwrap();
    let status = format!("/_sandbox/bls/bookings/{id}/status");
    for (body, field) in [
        (json!({}), "training_status"),
        (json!({ "training_status": "passed" }), "training_status"),
        (json!({ "equipment_status": "lost" }), "equipment_status"),
        (json!({ "equipment_status": 3 }), "equipment_status"),
    ] {
        let reply = h.fixture(&status, body.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(
            reply.body["errors"][field].is_array(),
            "{body}: {}",
            reply.body
        );
    }
    // An unpaid booking is not confirmed yet.
    let unpaid = h
        .fixture(&status, json!({ "equipment_status": "out" }))
        .await;
    assert_eq!(unpaid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        unpaid.body["errors"]["booking"][0],
        "Only a confirmed booking can be marked."
    );
    let unknown = h
        .fixture(
            "/_sandbox/bls/bookings/99999/status",
            json!({ "equipment_status": "out" }),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_fixture_account_of_the_bls_product_books_with_its_own_credits() {
    let h = Harness::start().await;
    let token = h
        .bls_account(
            "HB-BLS-FIXTURE",
            json!({ "credits": [{ "course_id": 43, "credits": 1 }], "balance": 10 }),
        )
        .await;
    let credits = h.bls_get(&token, "/credits").await.body;
    assert_eq!(credits_for(&credits, 43), 1);
    let wrong = h
        .fixture(
            "/_sandbox/accounts",
            json!({ "hb_client_id": "HB-BLS-X", "api_key": "k", "product": "virtual_bls",
                    "credits": [{ "course_id": 2, "credits": 1 }] }),
        )
        .await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a Practical course"
    );
    let bad = h
        .fixture(
            "/_sandbox/accounts",
            json!({ "hb_client_id": "HB-BLS-Y", "api_key": "k", "product": "both" }),
        )
        .await;
    assert!(bad.body["errors"]["product"].is_array());
    let saturday = next_open(earliest_bookable(h.uk_today().await), Weekday::Sat);
    let hash = h.bls_hold_hash(&token, 43, saturday, "09:00").await;
    let booked = h.bls_book(&token, &hash, "credits").await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.body);
    assert_eq!(
        credits_for(&h.bls_get(&token, "/credits").await.body, 43),
        0
    );
}
