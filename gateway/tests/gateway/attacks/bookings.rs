//! Attacks on the booking attempts the gateway remembers: reading another
//! candidate's booking through reconciliation, an attempt key replayed under
//! the other product, and memory filled by attempts that were never sent.

use booking_core::api::PayOption;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::{booking_body, client_from, Stack, Widget};

/// The attacker holds an event and books it with the victim's e-mail and a
/// bad phone (422), releases the hold, lets the victim book the event, and
/// sends the same attempt again: it must not be answered with the victim's
/// booking.
#[tokio::test]
async fn an_attempt_refused_then_replayed_never_reads_the_victims_booking() {
    let stack = Stack::start_with(|config, _| config.pay_options = PayOption::KNOWN.to_vec()).await;
    let event = stack.create_event(2, 5).await;
    let (attacker, victim) = (stack.widget().await, stack.widget().await);

    let attacker_ref = attacker.hold_ref(event).await;
    let mut attempt = booking_body(&attacker_ref, "credits");
    attempt["phone"] = json!("not a phone");
    let key = [("idempotency-key", "attempt-on-the-victim")];
    let refused = attacker.post("/bookings", attempt.clone(), &key).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    let released = attacker.delete(&format!("/holds/{attacker_ref}")).await;
    assert_eq!(released.status, StatusCode::NO_CONTENT, "{}", released.text);

    let victim_ref = victim.hold_ref(event).await;
    let booked = victim
        .book(&victim_ref, &PayOption::Credits, "victims-own")
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);
    let victim_booking = booked.body["booking"]["id"].as_u64().expect("an id");

    let replayed = attacker.post("/bookings", attempt, &key).await;
    assert!(
        replayed.status.is_client_error(),
        "the replay was answered {}: {}",
        replayed.status,
        replayed.text
    );
    assert!(
        replayed.body.get("booking_ref").is_none(),
        "{}",
        replayed.text
    );
    assert!(
        !replayed.text.contains(&victim_booking.to_string()),
        "the victim's booking leaked: {}",
        replayed.text
    );
}

/// The attacker books a Practical Training seat with an attempt key, then
/// sends the same key with a Virtual BLS hold: the gateway must not read
/// the Practical Training booking's id from the Virtual BLS API (where, with
/// overlapping ids, it is another candidate's booking, Zoom details
/// included), and the Virtual BLS hold books as the fresh attempt it is.
#[tokio::test]
async fn an_attempt_key_replayed_under_the_other_products_hold_reads_nothing_of_that_product() {
    let stack = Stack::start_both(|config, _| config.pay_options = PayOption::KNOWN.to_vec()).await;
    let widget = stack.widget().await;
    let event = stack.create_event(2, 5).await;
    let hold_ref = widget.hold_ref(event).await;
    let practical = widget
        .book(&hold_ref, &PayOption::Credits, "one-key-two-products")
        .await;
    assert_eq!(practical.status, StatusCode::CREATED, "{}", practical.text);
    let practical_id = practical.body["booking"]["id"].as_u64().expect("an id");

    let slot = stack.bls_slots(&widget).await[0].clone();
    let slot_ref = widget.slot_hold_ref(&slot).await;
    stack.proxy.clear();
    let bls = widget
        .book_slot(&slot_ref, "credits", "one-key-two-products")
        .await;

    let read_across = stack
        .proxy
        .seen()
        .into_iter()
        .filter(|seen| {
            seen.method == Method::GET
                && seen.path == format!("/bls/api/v1/bookings/{practical_id}")
        })
        .count();
    assert_eq!(
        read_across, 0,
        "the Practical Training booking's id was read from the Virtual BLS API"
    );
    assert_eq!(bls.status, StatusCode::CREATED, "{}", bls.text);
    let booking: &Value = &bls.body["booking"];
    assert_ne!(booking["id"].as_u64(), Some(practical_id), "{}", bls.text);
    assert_eq!(
        booking["start_date"].as_str().map(|s| &s[..10]),
        slot["date"].as_str()
    );
    assert_eq!(
        stack.proxy.count(Method::POST, "/bls/api/v1/bookings"),
        1,
        "the Virtual BLS hold was booked once, as a new attempt"
    );
}

/// Booking attempts that are never sent upstream (the upstream's rate limit
/// leaves no turn for them: "busy") and attempts with absurdly long fields
/// leave nothing behind in the gateway's memory.
#[tokio::test]
async fn attempts_that_are_never_sent_leave_nothing_remembered() {
    let stack = Stack::start_with(|config, _| {
        config.pay_options = PayOption::KNOWN.to_vec();
        config.upstream_rate_limit = 3;
        config.upstream_rate_window = std::time::Duration::from_secs(600);
    })
    .await;
    let event = stack.create_event(2, 5).await;
    // The token exchange, the account's profile (read for one address) and
    // the hold (asked from another) take the window's three calls.
    let opened = stack.widget_from("127.0.0.5").await;
    let widget = Widget {
        client: client_from("127.0.0.6"),
        ..opened
    };
    let hold_ref = widget.hold_ref(event).await;

    let long_email = format!("{}@example.com", "a".repeat(15_000));
    for attempt in 0..300 {
        let mut body = booking_body(&hold_ref, "credits");
        if attempt % 2 == 0 {
            body["email"] = json!(long_email);
        }
        let key = format!("never-sent-{attempt}");
        let reply = widget
            .post("/bookings", body, &[("idempotency-key", &key)])
            .await;
        if attempt % 2 == 0 {
            assert_eq!(
                reply.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{}",
                reply.text
            );
            assert!(reply.body["errors"]["email"].is_array(), "{}", reply.text);
        } else {
            assert_eq!(
                reply.status,
                StatusCode::SERVICE_UNAVAILABLE,
                "{}",
                reply.text
            );
        }
    }
    assert_eq!(stack.proxy.count(Method::POST, "/bookings"), 0);
    assert_eq!(
        stack.gateway.remembered().await.attempts,
        0,
        "attempts never sent are forgotten"
    );
}
