//! Bookings: the four pay options and their accounting, the checkout page,
//! review, validation, listing, no-shows, cancellation, certificates and
//! idempotency.

use crate::common::{balance_pence, booking_body, credits_for, Harness, DEMO, NOINV};
use booking_core::api::{
    BookingDetail, BookingStatus, Page, PayOption, PayStatus, WalletTransaction,
};
use booking_core::validation::{
    EMAIL_MAX_CHARS, JOB_ROLE_MAX_CHARS, NAME_MAX_CHARS, PHONE_MAX_DIGITS, PHONE_MIN_DIGITS,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn detail(body: Value) -> BookingDetail {
    serde_json::from_value(body).expect("a BookingDetail")
}

async fn latest_transaction(h: &Harness, token: &str) -> WalletTransaction {
    let page: Page<WalletTransaction> =
        serde_json::from_value(h.get(token, "/transactions?per_page=1").await.body)
            .expect("transactions");
    page.data.into_iter().next().expect("a transaction")
}

/// Sum of a transaction page's money movements, credits positive.
async fn money_in_transactions(h: &Harness, token: &str) -> i64 {
    let page: Page<WalletTransaction> =
        serde_json::from_value(h.get(token, "/transactions?per_page=100").await.body)
            .expect("transactions");
    page.data
        .iter()
        .map(|t| {
            let amount = t.amount.map_or(0, |amount| amount.pence());
            if t.kind.as_str() == "credit" {
                amount
            } else {
                -amount
            }
        })
        .sum()
}

#[tokio::test]
async fn credits_take_one_credit_of_the_course() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let event = h.create_event(1, 12, 48).await;
    let before = h.credits(&token).await;
    let seats = h.remaining(&token, event).await;
    let hash = h.hold_hash(&token, event).await;
    let reply = h.book(&token, &hash, "credits").await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert!(reply.body["created_at"]
        .as_str()
        .unwrap()
        .ends_with("+00:00"));
    assert!(reply.body.get("payment_url").is_none());
    let booking = detail(reply.body);
    assert_eq!(booking.booking_status, BookingStatus::Booked);
    assert_eq!(booking.pay_status, PayStatus::Completed);
    assert_eq!(booking.pay_option, PayOption::Credits);
    assert_eq!(booking.booked_by, "Agency");
    assert_eq!(booking.candidate.name, "Priya Patel");
    assert_eq!(booking.candidate.phone.as_deref(), Some("+447700900123"));
    assert_eq!(booking.course.id, 1);
    assert!(booking.trainer.is_none());
    assert_eq!(booking.attendance, None);
    assert!(!booking.certificate_available);
    assert_eq!(h.remaining(&token, event).await, seats - 1);
    let after = h.credits(&token).await;
    assert_eq!(credits_for(&after, 1), credits_for(&before, 1) - 1);
    assert_eq!(balance_pence(&after), balance_pence(&before));
    let transaction = latest_transaction(&h, &token).await;
    assert_eq!(transaction.kind.as_str(), "debit");
    assert_eq!(transaction.credits, Some(1));
    assert_eq!(transaction.amount, None);
    assert_eq!(transaction.course_id, Some(1));
    assert_eq!(transaction.booking_id, Some(booking.id));
    assert_eq!(
        transaction.balance_after.map(|m| m.pence()),
        Some(balance_pence(&after))
    );
    // The same booking is readable.
    let fetched = h.get(&token, &format!("/bookings/{}", booking.id)).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(detail(fetched.body), booking);
}

#[tokio::test]
async fn balance_takes_the_event_cost() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let event = h.create_event(2, 12, 48).await;
    let before = balance_pence(&h.credits(&token).await);
    let hash = h.hold_hash(&token, event).await;
    let reply = h.book(&token, &hash, "balance").await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let booking = detail(reply.body);
    assert_eq!(booking.booking_status, BookingStatus::Booked);
    assert_eq!(booking.pay_status, PayStatus::Completed);
    let after = h.credits(&token).await;
    assert_eq!(balance_pence(&after), before - 9500);
    assert_eq!(credits_for(&after, 2), 4);
    let transaction = latest_transaction(&h, &token).await;
    assert_eq!(transaction.kind.as_str(), "debit");
    assert_eq!(transaction.amount.map(|m| m.pence()), Some(9500));
    assert_eq!(
        transaction.balance_after.map(|m| m.pence()),
        Some(before - 9500)
    );
    assert_eq!(transaction.booking_id, Some(booking.id));
    assert_eq!(money_in_transactions(&h, &token).await, before - 9500);
}

#[tokio::test]
async fn invoice_needs_invoice_payments_and_moves_no_wallet() {
    let h = Harness::start().await;
    let demo = h.login(DEMO).await;
    let event = h.create_event(2, 12, 48).await;
    let credits = h.credits(&demo).await;
    let transactions = h.transaction_count(&demo).await;
    let hash = h.hold_hash(&demo, event).await;
    let reply = h.book(&demo, &hash, "inv").await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let booking = detail(reply.body);
    assert_eq!(booking.booking_status, BookingStatus::Booked);
    assert_eq!(booking.pay_status, PayStatus::Completed);
    assert_eq!(booking.pay_option, PayOption::Inv);
    assert_eq!(h.credits(&demo).await, credits);
    assert_eq!(h.transaction_count(&demo).await, transactions);

    let noinv = h.login(NOINV).await;
    let hash = h.hold_hash(&noinv, event).await;
    let refused = h.book(&noinv, &hash, "inv").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused.body,
        json!({
            "message": "Invoice payments are not enabled for this account.",
            "errors": { "pay_option": ["Invoice payments are not enabled for this account."] }
        })
    );
    // The refusal did not use the hold: another pay option still works with it.
    let reply = h.book(&noinv, &hash, "candidate_pays").await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
}

#[tokio::test]
async fn unaffordable_pay_options_are_422() {
    let h = Harness::start().await;
    let demo = h.login(DEMO).await;
    let noinv = h.login(NOINV).await;
    let fire = h.create_event(5, 12, 48).await;
    let hash = h.hold_hash(&demo, fire).await;
    let no_credits = h.book(&demo, &hash, "credits").await;
    assert_eq!(no_credits.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        no_credits.body["errors"]["pay_option"],
        json!(["You have no booking credits left for Fire Safety Practical."])
    );

    let handling = h.create_event(2, 12, 48).await;
    let hash = h.hold_hash(&noinv, handling).await;
    let too_poor = h.book(&noinv, &hash, "balance").await;
    assert_eq!(too_poor.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        too_poor.body["errors"]["pay_option"],
        json!(["Your booking money balance (£40) does not cover this training event (£95)."])
    );
    let no_credits = h.book(&noinv, &hash, "credits").await;
    assert_eq!(no_credits.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(balance_pence(&h.credits(&noinv).await), 4000);
    assert_eq!(h.remaining(&noinv, handling).await, 12);
}

#[tokio::test]
async fn candidate_pays_is_pending_until_the_checkout_page_is_paid() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let event = h.create_event(2, 12, 48).await;
    let credits = h.credits(&token).await;
    let hash = h.hold_hash(&token, event).await;
    let mut body = booking_body(&hash, "candidate_pays");
    body["first_name"] = json!("<script>alert(1)</script>");
    body["return_url"] = json!("https://agency.example/booked?ref=a&b=c");
    let reply = h.post(Some(&token), "/bookings", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let booking = detail(reply.body);
    assert_eq!(booking.booking_status, BookingStatus::Pending);
    assert_eq!(booking.pay_status, PayStatus::Pending);
    let payment_url = booking.payment_url.clone().expect("payment_url");
    let prefix = format!("{}/checkout/", h.sandbox.url());
    assert!(payment_url.starts_with(&prefix), "{payment_url}");
    let (token_part, query) = payment_url[prefix.len()..].split_once('?').expect("query");
    assert_eq!(token_part.len(), 32);
    assert_eq!(
        query,
        "return_url=https%3A%2F%2Fagency.example%2Fbooked%3Fref%3Da%26b%3Dc"
    );
    assert_eq!(
        h.credits(&token).await,
        credits,
        "nothing taken from the wallet"
    );
    assert_eq!(
        h.remaining(&token, event).await,
        11,
        "a pending booking holds its seat"
    );

    let page = h.client.get(&payment_url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'none'"));
    let html = page.text().await.unwrap();
    assert!(html.contains("£95"));
    assert!(html.contains("Moving &amp; Handling Practical"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("<script"));
    assert!(html.contains("<form method=\"post\""));

    // A return_url edited into the link is ignored: the stored one is used.
    let tampered = format!("{prefix}{token_part}?return_url=https%3A%2F%2Fevil.example%2F");
    let paid = h.client.post(&tampered).send().await.unwrap();
    assert_eq!(paid.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        paid.headers()["location"],
        "https://agency.example/booked?ref=a&b=c"
    );
    let after = detail(
        h.get(&token, &format!("/bookings/{}", booking.id))
            .await
            .body,
    );
    assert_eq!(after.booking_status, BookingStatus::Booked);
    assert_eq!(after.pay_status, PayStatus::Completed);
    assert_eq!(after.payment_url, None);
    let again = h.client.post(&payment_url).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    let page = h.client.get(&payment_url).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("Payment received"));
}

#[tokio::test]
async fn checkout_without_return_url_shows_payment_received() {
    let h = Harness::start().await;
    let token = h.login(NOINV).await;
    let event = h.create_event(4, 12, 48).await;
    let hash = h.hold_hash(&token, event).await;
    let booking = detail(h.book(&token, &hash, "candidate_pays").await.body);
    let payment_url = booking.payment_url.expect("payment_url");
    assert!(!payment_url.contains('?'));
    let paid = h.client.post(&payment_url).send().await.unwrap();
    assert_eq!(paid.status(), StatusCode::OK);
    assert!(paid.text().await.unwrap().contains("Payment received"));
    let unknown = h
        .client
        .get(h.url("/checkout/nosuchtoken"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let unknown = h
        .client
        .post(h.url("/checkout/nosuchtoken"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn review_course_bookings_stay_pending() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let event = h.create_event(3, 12, 48).await;
    let before = balance_pence(&h.credits(&token).await);
    let hash = h.hold_hash(&token, event).await;
    let booking = detail(h.book(&token, &hash, "balance").await.body);
    assert_eq!(booking.booking_status, BookingStatus::Pending);
    assert_eq!(booking.pay_status, PayStatus::Completed);
    assert_eq!(balance_pence(&h.credits(&token).await), before - 14500);

    let hash = h.hold_hash(&token, event).await;
    let booking = detail(h.book(&token, &hash, "inv").await.body);
    assert_eq!(booking.booking_status, BookingStatus::Pending);

    let hash = h.hold_hash(&token, event).await;
    let booking = detail(h.book(&token, &hash, "candidate_pays").await.body);
    let paid = h
        .client
        .post(booking.payment_url.expect("payment_url"))
        .send()
        .await
        .unwrap();
    assert!(paid.text().await.unwrap().contains("awaits review"));
    let after = detail(
        h.get(&token, &format!("/bookings/{}", booking.id))
            .await
            .body,
    );
    assert_eq!(after.booking_status, BookingStatus::Pending);
    assert_eq!(after.pay_status, PayStatus::Completed);
    assert_eq!(h.remaining(&token, event).await, 9);
}

/// An email address of `length` characters that both booking-core and the
/// sandbox find well formed (local part 64, labels of at most 60).
fn email_of_length(length: usize) -> String {
    let fixed = "@.example".len() + 64 + 2 * 61;
    format!(
        "{}@{}.{}.{}.example",
        "a".repeat(64),
        "b".repeat(60),
        "c".repeat(60),
        "d".repeat(length - fixed)
    )
}

/// Settles a booking awaiting review through the test-mode endpoint.
async fn review(h: &Harness, booking_id: u64, body: Value) -> crate::common::Reply {
    h.fixture(&format!("/_sandbox/bookings/{booking_id}/review"), body)
        .await
}

#[tokio::test]
async fn approving_a_review_books_once_paid() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let event = h.create_event(3, 12, 48).await;
    let hash = h.hold_hash(&token, event).await;
    let invoiced = detail(h.book(&token, &hash, "inv").await.body);
    assert_eq!(invoiced.booking_status, BookingStatus::Pending);
    let reply = review(&h, invoiced.id, json!({ "approve": true })).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let approved = detail(reply.body);
    assert_eq!(approved.booking_status, BookingStatus::Booked);
    assert_eq!(approved.pay_status, PayStatus::Completed);
    let again = review(&h, invoiced.id, json!({ "approve": false })).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        again.body["errors"]["booking"],
        json!(["This booking is not awaiting review."])
    );

    // Approved before the candidate paid: pending until the checkout page is paid.
    let hash = h.hold_hash(&token, event).await;
    let card = detail(h.book(&token, &hash, "candidate_pays").await.body);
    let reply = review(&h, card.id, json!({ "approve": true })).await;
    let approved = detail(reply.body);
    assert_eq!(approved.booking_status, BookingStatus::Pending);
    assert_eq!(approved.pay_status, PayStatus::Pending);
    let payment_url = approved.payment_url.expect("still awaiting payment");
    let paid = h.client.post(&payment_url).send().await.unwrap();
    assert!(paid.text().await.unwrap().contains("your place is booked"));
    let after = detail(h.get(&token, &format!("/bookings/{}", card.id)).await.body);
    assert_eq!(after.booking_status, BookingStatus::Booked);
    assert_eq!(after.pay_status, PayStatus::Completed);
    assert_eq!(h.remaining(&token, event).await, 10);
}

#[tokio::test]
async fn refusing_a_review_cancels_and_refunds() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let event = h.create_event(3, 12, 48).await;
    let before = balance_pence(&h.credits(&token).await);
    let hash = h.hold_hash(&token, event).await;
    let booking = detail(h.book(&token, &hash, "balance").await.body);
    assert_eq!(balance_pence(&h.credits(&token).await), before - 14500);
    assert_eq!(h.remaining(&token, event).await, 11);
    let reply = review(&h, booking.id, json!({ "approve": false })).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let refused = detail(reply.body);
    assert_eq!(refused.booking_status, BookingStatus::Cancelled);
    assert_eq!(refused.pay_status, PayStatus::Refunded);
    assert_eq!(balance_pence(&h.credits(&token).await), before);
    assert_eq!(h.remaining(&token, event).await, 12);
    let refund = latest_transaction(&h, &token).await;
    assert_eq!(refund.kind.as_str(), "credit");
    assert!(
        refund.description.starts_with("Not approved at review"),
        "{}",
        refund.description
    );
}

#[tokio::test]
async fn only_bookings_awaiting_review_can_be_reviewed() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let ordinary = h.create_event(2, 12, 48).await;
    let hash = h.hold_hash(&token, ordinary).await;
    let booked = detail(h.book(&token, &hash, "inv").await.body);
    let reply = review(&h, booked.id, json!({ "approve": true })).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply.body["errors"]["booking"],
        json!(["This booking is not awaiting review."])
    );
    let unknown = review(&h, 999_999, json!({ "approve": true })).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    let pmva = h.create_event(3, 12, 48).await;
    let hash = h.hold_hash(&token, pmva).await;
    let pending = detail(h.book(&token, &hash, "inv").await.body);
    for (body, message) in [
        (json!({}), "The approve field is required."),
        (json!({ "approve": null }), "The approve field is required."),
        (
            json!({ "approve": "yes" }),
            "The approve field must be true or false.",
        ),
    ] {
        let reply = review(&h, pending.id, body.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(reply.body["errors"]["approve"], json!([message]), "{body}");
    }
    let cancelled = h
        .post_empty(&token, &format!("/bookings/{}/cancel", pending.id))
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    let reply = review(&h, pending.id, json!({ "approve": true })).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn candidate_limits_are_booking_cores() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let event = h.create_event(2, 12, 48).await;
    let hash = h.hold_hash(&token, event).await;
    let digits = |count: usize| format!("+1{}", "2".repeat(count - 1));
    let over = [
        ("first_name", json!("é".repeat(NAME_MAX_CHARS + 1))),
        ("last_name", json!("x".repeat(NAME_MAX_CHARS + 1))),
        ("email", json!(email_of_length(EMAIL_MAX_CHARS + 1))),
        ("job_role", json!("r".repeat(JOB_ROLE_MAX_CHARS + 1))),
        ("phone", json!(digits(PHONE_MIN_DIGITS - 1))),
        ("phone", json!(digits(PHONE_MAX_DIGITS + 1))),
        (
            "phone",
            json!(format!("+0{}", "2".repeat(PHONE_MIN_DIGITS))),
        ),
    ];
    for (field, value) in over {
        let mut body = booking_body(&hash, "credits");
        body[field] = value.clone();
        let reply = h.post(Some(&token), "/bookings", body).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}={value}"
        );
        assert!(reply.body["errors"][field].is_array(), "{}", reply.body);
    }
    let mut unused_hold = Some(hash);
    for phone in [digits(PHONE_MIN_DIGITS), digits(PHONE_MAX_DIGITS)] {
        let hash = match unused_hold.take() {
            Some(hash) => hash,
            None => h.hold_hash(&token, event).await,
        };
        let mut body = booking_body(&hash, "credits");
        body["first_name"] = json!("é".repeat(NAME_MAX_CHARS));
        body["last_name"] = json!("x".repeat(NAME_MAX_CHARS));
        body["email"] = json!(email_of_length(EMAIL_MAX_CHARS));
        body["job_role"] = json!("r".repeat(JOB_ROLE_MAX_CHARS));
        body["phone"] = json!(phone);
        let reply = h.post(Some(&token), "/bookings", body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        assert_eq!(detail(reply.body).candidate.phone, Some(phone));
    }
}

#[tokio::test]
async fn booking_fields_are_validated_together() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let empty = h.post(Some(&token), "/bookings", json!({})).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        empty.body["message"],
        "The hold hash field is required. (and 4 more errors)"
    );
    let errors = empty.body["errors"].as_object().unwrap();
    let mut fields: Vec<&str> = errors.keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "email",
            "first_name",
            "hold_hash",
            "last_name",
            "pay_option"
        ]
    );
    assert_eq!(
        errors["first_name"],
        json!(["The first name field is required."])
    );

    let event = h.create_event(2, 12, 48).await;
    let hash = h.hold_hash(&token, event).await;
    let cases = [
        (
            "first_name",
            json!("   "),
            "The first name field is required.",
        ),
        (
            "last_name",
            json!("x".repeat(101)),
            "The last name field must not be greater than 100 characters.",
        ),
        (
            "email",
            json!("priya@"),
            "The email field must be a valid email address.",
        ),
        (
            "email",
            json!(["a@b.example"]),
            "The email field must be a string.",
        ),
        (
            "phone",
            json!("07700 900123"),
            "The phone field format is invalid.",
        ),
        (
            "phone",
            json!("+4412"),
            "The phone field format is invalid.",
        ),
        (
            "phone",
            json!(447700900123_u64),
            "The phone field must be a string.",
        ),
        (
            "job_role",
            json!({ "role": "x" }),
            "The job role field must be a string.",
        ),
        (
            "pay_option",
            json!("paypal"),
            "The selected pay option is invalid.",
        ),
        (
            "pay_option",
            json!(null),
            "The pay option field is required.",
        ),
        (
            "agency_email",
            json!("accounts"),
            "The agency email field must be a valid email address.",
        ),
        (
            "agency_contact_email",
            json!(true),
            "The agency contact email field must be a string.",
        ),
        (
            "return_url",
            json!("javascript:alert(1)"),
            "The return url field must be a valid URL.",
        ),
        (
            "return_url",
            json!("/relative"),
            "The return url field must be a valid URL.",
        ),
        (
            "hold_hash",
            json!(12345),
            "The hold hash field must be a string.",
        ),
    ];
    for (field, value, message) in cases {
        let mut body = booking_body(&hash, "credits");
        body[field] = value.clone();
        let reply = h.post(Some(&token), "/bookings", body).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}={value}"
        );
        assert_eq!(
            reply.body["errors"][field],
            json!([message]),
            "{field}={value}"
        );
        assert_eq!(reply.body["message"], message, "{field}={value}");
    }
    let unknown = h
        .book(&token, "QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ", "credits")
        .await;
    assert_eq!(
        unknown.body["errors"]["hold_hash"],
        json!(["The selected hold hash is invalid."])
    );
    // Someone else's hold is as unknown as a made-up one.
    let noinv = h.login(NOINV).await;
    let theirs = h.hold_hash(&noinv, event).await;
    let reply = h.book(&token, &theirs, "inv").await;
    assert_eq!(
        reply.body["errors"]["hold_hash"],
        json!(["The selected hold hash is invalid."])
    );
    // Trimmed values and a trimmed phone are accepted; nothing above used the hold.
    let mut body = booking_body(&hash, "credits");
    body["first_name"] = json!("  Priya ");
    body["phone"] = json!(" +447700900123 ");
    body["job_role"] = json!("");
    let reply = h.post(Some(&token), "/bookings", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let booking = detail(reply.body);
    assert_eq!(booking.candidate.name, "Priya Patel");
    assert_eq!(booking.candidate.phone.as_deref(), Some("+447700900123"));
    assert_eq!(booking.candidate.job_role, None);
}

#[tokio::test]
async fn malformed_bodies_are_400_with_a_json_message() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    for (body, message) in [
        (
            &b"{\"hold_hash\": "[..],
            "The request body is not valid JSON.",
        ),
        (&b"[1, 2]"[..], "The request body must be a JSON object."),
        (&b"\"text\""[..], "The request body must be a JSON object."),
        (&b"\xff\xfe"[..], "The request body is not valid JSON."),
    ] {
        let reply = h
            .send(
                Method::POST,
                &h.api("/bookings"),
                Some(&token),
                Some(body.to_vec()),
                &[],
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert_eq!(reply.body, json!({ "message": message }));
    }
}

#[tokio::test]
async fn bookings_are_listed_filtered_and_scoped_to_the_account() {
    let h = Harness::start().await;
    let demo = h.login(DEMO).await;
    let noinv = h.login(NOINV).await;
    let handling = h.create_event(2, 12, 48).await;
    let life = h.create_event(4, 12, 72).await;
    let mut ids = Vec::new();
    for (event, pay) in [
        (handling, "credits"),
        (life, "credits"),
        (handling, "candidate_pays"),
    ] {
        let hash = h.hold_hash(&demo, event).await;
        let reply = h.book(&demo, &hash, pay).await;
        assert_eq!(reply.status, StatusCode::CREATED);
        ids.push(detail(reply.body).id);
    }
    let page: Page<BookingDetail> =
        serde_json::from_value(h.get(&demo, "/bookings").await.body).unwrap();
    assert_eq!(page.meta.total, 9, "six seeded and three new");
    assert_eq!(page.data[0].id, ids[2], "newest first");
    let pending: Page<BookingDetail> =
        serde_json::from_value(h.get(&demo, "/bookings?status=pending").await.body).unwrap();
    assert_eq!(
        pending.data.iter().map(|b| b.id).collect::<Vec<_>>(),
        [ids[2]]
    );
    let life_only: Page<BookingDetail> = serde_json::from_value(
        h.get(&demo, "/bookings?course_id=4&status=booked")
            .await
            .body,
    )
    .unwrap();
    assert_eq!(
        life_only.data.iter().map(|b| b.id).collect::<Vec<_>>(),
        [ids[1]]
    );
    let day = life_only.data[0].start_date.date_naive();
    let by_date: Page<BookingDetail> = serde_json::from_value(
        h.get(&demo, &format!("/bookings?date_from={day}&date_to={day}"))
            .await
            .body,
    )
    .unwrap();
    assert!(by_date.data.iter().any(|b| b.id == ids[1]));
    assert!(by_date
        .data
        .iter()
        .all(|b| b.start_date.date_naive() == day));
    let paged: Page<BookingDetail> =
        serde_json::from_value(h.get(&demo, "/bookings?per_page=4&page=3").await.body).unwrap();
    assert_eq!(paged.data.len(), 1);
    assert_eq!(paged.meta.last_page, 3);
    assert!(paged.links.next.is_none());

    let theirs: Page<BookingDetail> =
        serde_json::from_value(h.get(&noinv, "/bookings").await.body).unwrap();
    assert_eq!(theirs.meta.total, 0);
    for path in [
        format!("/bookings/{}", ids[0]),
        format!("/bookings/{}/certificate", ids[0]),
    ] {
        let reply = h.get(&noinv, &path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.body, json!({ "message": "Booking not found." }));
    }
    let cancel = h
        .post_empty(&noinv, &format!("/bookings/{}/cancel", ids[0]))
        .await;
    assert_eq!(cancel.status, StatusCode::NOT_FOUND);
    for path in ["/bookings/999999999", "/bookings/abc", "/bookings/1e3"] {
        assert_eq!(
            h.get(&demo, path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

#[tokio::test]
async fn no_shows_list_bookings_marked_absent() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let seeded: Page<BookingDetail> =
        serde_json::from_value(h.get(&token, "/bookings/no-shows").await.body).unwrap();
    assert_eq!(seeded.meta.total, 2);
    assert!(seeded
        .data
        .iter()
        .all(
            |b| b.attendance.as_ref().map(|a| a.as_str()) == Some("no_show")
                && b.booking_status == BookingStatus::NoShow
        ));

    let event = h.create_event(2, 12, 2).await;
    let hash = h.hold_hash(&token, event).await;
    let booking = detail(h.book(&token, &hash, "inv").await.body);
    let path = format!("/_sandbox/bookings/{}/attendance", booking.id);
    let early = h.fixture(&path, json!({ "attendance": "no_show" })).await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY);
    h.advance(3 * 3600).await;
    let token = h.login(DEMO).await;
    let marked = h.fixture(&path, json!({ "attendance": "no_show" })).await;
    assert_eq!(marked.status, StatusCode::OK, "{}", marked.body);
    let now: Page<BookingDetail> =
        serde_json::from_value(h.get(&token, "/bookings/no-shows").await.body).unwrap();
    assert_eq!(now.meta.total, 3);
    assert_eq!(now.data[0].id, booking.id, "latest event first");
    let invalid = h.fixture(&path, json!({ "attendance": "late" })).await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn cancelling_returns_the_credit_or_money_and_the_seat() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let event = h.create_event(2, 12, 48).await;
    let start = h.credits(&token).await;
    let mut bookings = Vec::new();
    for pay in ["credits", "balance", "inv"] {
        let hash = h.hold_hash(&token, event).await;
        bookings.push(detail(h.book(&token, &hash, pay).await.body));
    }
    assert_eq!(h.remaining(&token, event).await, 9);
    let spent = h.credits(&token).await;
    assert_eq!(credits_for(&spent, 2), credits_for(&start, 2) - 1);
    assert_eq!(balance_pence(&spent), balance_pence(&start) - 9500);

    for booking in &bookings {
        let reply = h
            .post_empty(&token, &format!("/bookings/{}/cancel", booking.id))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let cancelled = detail(reply.body);
        assert_eq!(cancelled.booking_status, BookingStatus::Cancelled);
        assert_eq!(cancelled.pay_status, PayStatus::Refunded);
    }
    assert_eq!(h.remaining(&token, event).await, 12);
    assert_eq!(h.credits(&token).await, start);
    let refund = latest_transaction(&h, &token).await;
    assert_eq!(refund.kind.as_str(), "credit");
    assert_eq!(refund.amount.map(|m| m.pence()), Some(9500));
    assert_eq!(refund.booking_id, Some(bookings[1].id));
    assert_eq!(
        refund.balance_after.map(|m| m.pence()),
        Some(balance_pence(&start))
    );
    assert_eq!(
        money_in_transactions(&h, &token).await,
        balance_pence(&start)
    );
    let transactions: Page<WalletTransaction> =
        serde_json::from_value(h.get(&token, "/transactions").await.body).unwrap();
    let credit_back = transactions
        .data
        .iter()
        .find(|t| t.booking_id == Some(bookings[0].id) && t.kind.as_str() == "credit")
        .expect("the credit came back");
    assert_eq!(credit_back.credits, Some(1));
    assert_eq!(credit_back.course_id, Some(2));

    let again = h
        .post_empty(&token, &format!("/bookings/{}/cancel", bookings[0].id))
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        again.body["message"],
        "This booking has already been cancelled."
    );
    let cancelled: Page<BookingDetail> =
        serde_json::from_value(h.get(&token, "/bookings?status=cancelled").await.body).unwrap();
    assert_eq!(cancelled.meta.total, 3);
}

#[tokio::test]
async fn cancelling_candidate_pays_bookings() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let event = h.create_event(2, 12, 48).await;
    let wallet = h.credits(&token).await;
    let transactions = h.transaction_count(&token).await;

    let hash = h.hold_hash(&token, event).await;
    let unpaid = detail(h.book(&token, &hash, "candidate_pays").await.body);
    let payment_url = unpaid.payment_url.clone().expect("payment_url");
    let cancelled = detail(
        h.post_empty(&token, &format!("/bookings/{}/cancel", unpaid.id))
            .await
            .body,
    );
    assert_eq!(cancelled.booking_status, BookingStatus::Cancelled);
    assert_eq!(cancelled.pay_status, PayStatus::Pending);
    assert_eq!(cancelled.payment_url, None);
    let page = h.client.get(&payment_url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::GONE);
    let pay = h.client.post(&payment_url).send().await.unwrap();
    assert_eq!(pay.status(), StatusCode::GONE);
    let still = detail(
        h.get(&token, &format!("/bookings/{}", unpaid.id))
            .await
            .body,
    );
    assert_eq!(still.pay_status, PayStatus::Pending);

    let hash = h.hold_hash(&token, event).await;
    let paid = detail(h.book(&token, &hash, "candidate_pays").await.body);
    h.client
        .post(paid.payment_url.expect("payment_url"))
        .send()
        .await
        .unwrap();
    let refunded = detail(
        h.post_empty(&token, &format!("/bookings/{}/cancel", paid.id))
            .await
            .body,
    );
    assert_eq!(refunded.pay_status, PayStatus::Refunded);
    assert_eq!(h.credits(&token).await, wallet);
    assert_eq!(h.transaction_count(&token).await, transactions);
    assert_eq!(h.remaining(&token, event).await, 12);
}

#[tokio::test]
async fn bookings_cannot_be_cancelled_once_the_event_has_started() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let event = h.create_event(2, 12, 1).await;
    let hash = h.hold_hash(&token, event).await;
    let booking = detail(h.book(&token, &hash, "credits").await.body);
    h.advance(3601).await;
    let token = h.login(DEMO).await;
    let reply = h
        .post_empty(&token, &format!("/bookings/{}/cancel", booking.id))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply.body["errors"]["booking"],
        json!([
            "This training event has already started, so the booking can no longer be cancelled."
        ])
    );
    assert_eq!(
        h.post_empty(&token, "/bookings/999999/cancel").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn certificates_download_once_available() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let all: Page<BookingDetail> =
        serde_json::from_value(h.get(&token, "/bookings?status=completed").await.body).unwrap();
    let completed = all
        .data
        .iter()
        .find(|b| b.certificate_available)
        .expect("a seeded completed booking");
    let response = h
        .client
        .get(h.api(&format!("/bookings/{}/certificate", completed.id)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert_eq!(
        response.headers()["content-disposition"],
        format!("attachment; filename=\"certificate-{}.pdf\"", completed.id)
    );
    let pdf = response.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-1.4"));
    assert!(pdf.ends_with(b"%%EOF\n"));
    let text = String::from_utf8_lossy(&pdf);
    assert!(text.contains(&completed.candidate.name));
    assert!(text.contains(&completed.course.name));

    let event = h.create_event(4, 12, 2).await;
    let hash = h.hold_hash(&token, event).await;
    let booking = detail(h.book(&token, &hash, "credits").await.body);
    let path = format!("/bookings/{}/certificate", booking.id);
    let early = h.get(&token, &path).await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        early.body["message"],
        "No certificate is available for this booking yet."
    );
    h.advance(3 * 3600).await;
    let token = h.login(DEMO).await;
    let marked = h
        .fixture(
            &format!("/_sandbox/bookings/{}/attendance", booking.id),
            json!({ "attendance": "attended" }),
        )
        .await;
    let marked = detail(marked.body);
    assert_eq!(marked.booking_status, BookingStatus::Completed);
    assert!(marked.certificate_available);
    let response = h
        .client
        .get(h.api(&path))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.bytes().await.unwrap().starts_with(b"%PDF-"));
}

#[tokio::test]
async fn an_idempotency_key_replays_the_same_booking() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let event = h.create_event(2, 12, 48).await;
    let hash = h.hold_hash(&token, event).await;
    let body = serde_json::to_vec(&booking_body(&hash, "balance")).unwrap();
    let key = [("idempotency-key", "widget-7f3a9c")];
    let first = h
        .send(
            Method::POST,
            &h.api("/bookings"),
            Some(&token),
            Some(body.clone()),
            &key,
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert!(first.headers.get("idempotent-replayed").is_none());
    let balance = balance_pence(&h.credits(&token).await);
    let second = h
        .send(
            Method::POST,
            &h.api("/bookings"),
            Some(&token),
            Some(body),
            &key,
        )
        .await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.body);
    assert_eq!(second.headers["idempotent-replayed"], "true");
    assert_eq!(second.body, first.body);
    assert_eq!(
        balance_pence(&h.credits(&token).await),
        balance,
        "charged once"
    );
    assert_eq!(h.remaining(&token, event).await, 11);

    let mut different = booking_body(&hash, "balance");
    different["first_name"] = json!("Someone");
    let reply = h
        .send(
            Method::POST,
            &h.api("/bookings"),
            Some(&token),
            Some(serde_json::to_vec(&different).unwrap()),
            &key,
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply.body["errors"]["idempotency_key"],
        json!(["This Idempotency-Key was already used with a different request."])
    );
    // Keys belong to an account: another account's same key is a fresh key.
    let noinv = h.login(NOINV).await;
    let their_hash = h.hold_hash(&noinv, event).await;
    let theirs = h
        .send(
            Method::POST,
            &h.api("/bookings"),
            Some(&noinv),
            Some(serde_json::to_vec(&booking_body(&their_hash, "candidate_pays")).unwrap()),
            &key,
        )
        .await;
    assert_eq!(theirs.status, StatusCode::CREATED);
    assert_ne!(theirs.body["id"], first.body["id"]);
    let bad_key = h
        .send(
            Method::POST,
            &h.api("/bookings"),
            Some(&token),
            Some(b"{}".to_vec()),
            &[("idempotency-key", "has space")],
        )
        .await;
    assert_eq!(bad_key.status, StatusCode::UNPROCESSABLE_ENTITY);
}
