//! The gateway reads the upstream's answers for what the published
//! documents promise, and no more: under the sandbox's `shape=documented`
//! (every field the documents do not show left out) both products book
//! with every pay option and a lost booking answer is reconciled; an
//! answer without one inferred field is still the candidate's booking.

use crate::support::{Mode, Stack, Widget};
use axum::http::{Method, StatusCode};
use booking_core::api::PayOption;
use serde_json::json;

/// Course 1, which the test account has credits for.
const COURSE: u64 = 1;

/// A stack booking both products with every pay option, payment pages on
/// the sandbox's stand-ins allowed, the upstream set to `profile`.
async fn stack_with(profile: serde_json::Value) -> Stack {
    let stack = Stack::start_both(|config, sandbox| {
        config.pay_options = PayOption::KNOWN.to_vec();
        config.payment_origins = vec![sandbox.url().to_owned()];
    })
    .await;
    stack.set_profile(profile).await;
    stack
}

async fn bls_widget(stack: &Stack) -> Widget {
    Widget::start_for(stack.client.clone(), stack.gateway.url(), "virtual-bls").await
}

#[tokio::test]
async fn both_products_book_with_every_pay_option_when_only_documented_fields_come_back() {
    let stack = stack_with(json!({ "shape": "documented" })).await;
    let widget = stack.widget().await;
    let options = widget.get("/options").await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.text);
    assert_eq!(
        options.body["pay_options"],
        json!(["credits", "balance", "inv", "candidate_pays"]),
        "a profile without invoice_payments leaves the configured options as they are"
    );
    for option in PayOption::KNOWN {
        let event_id = stack.create_event(COURSE, 5).await;
        let hold_ref = widget.hold_ref(event_id).await;
        let made = widget
            .book(&hold_ref, &option, &format!("p-{option}"))
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{option}: {}", made.text);
        assert_eq!(
            made.body["booking"]["payment_url"].is_string(),
            option == PayOption::CandidatePays,
            "{option}: the documented payment_url for the candidate's card only"
        );
        let booking_ref = made.body["booking_ref"].as_str().expect("a booking_ref");
        let read = widget.get(&format!("/bookings/{booking_ref}")).await;
        assert_eq!(read.status, StatusCode::OK, "{option}: {}", read.text);
        assert_eq!(read.body["booking"]["id"], made.body["booking"]["id"]);
    }

    let bls = bls_widget(&stack).await;
    let slots = stack.bls_slots(&bls).await;
    assert!(
        slots.iter().all(|slot| slot.get("start_date").is_none()),
        "the timeslots come as the documents show them: {}",
        slots[0]
    );
    for (slot, option) in slots
        .iter()
        .zip(["credits", "balance", "inv", "candidate_pays"])
    {
        let hold_ref = bls.slot_hold_ref(slot).await;
        let made = bls
            .book_slot(&hold_ref, option, &format!("b-{option}"))
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{option}: {}", made.text);
        let booking = &made.body["booking"];
        assert!(
            booking.get("training_status").is_none() && booking.get("equipment_status").is_none(),
            "{option}: {booking}"
        );
        assert!(
            booking["virtual"]["zoom_link"].is_string(),
            "{option}: {booking}"
        );
        let booking_ref = made.body["booking_ref"].as_str().expect("a booking_ref");
        let read = bls.get(&format!("/bookings/{booking_ref}")).await;
        assert_eq!(read.status, StatusCode::OK, "{option}: {}", read.text);
    }
}

#[tokio::test]
async fn a_lost_booking_answer_is_reconciled_when_only_documented_fields_come_back() {
    let stack = stack_with(json!({ "shape": "documented", "idempotency": "ignored" })).await;
    let widget = stack.widget().await;
    let event_id = stack.create_event(COURSE, 5).await;
    let hold_ref = widget.hold_ref(event_id).await;
    stack.proxy.set_mode(Mode::LoseAnswer {
        method: Method::POST,
        path: "/bookings".to_owned(),
    });
    let lost = widget
        .book(&hold_ref, &PayOption::Credits, "lost-practical")
        .await;
    assert_eq!(lost.status, StatusCode::BAD_GATEWAY, "{}", lost.text);
    let found = widget
        .book(&hold_ref, &PayOption::Credits, "lost-practical")
        .await;
    assert_eq!(found.status, StatusCode::CREATED, "{}", found.text);
    assert_eq!(stack.proxy.count(Method::POST, "/bookings"), 1);
    assert_eq!(stack.bookings_on(event_id).await.len(), 1);

    let bls = bls_widget(&stack).await;
    let slot = stack.bls_slots(&bls).await[0].clone();
    let hold_ref = bls.slot_hold_ref(&slot).await;
    stack.proxy.set_mode(Mode::LoseAnswer {
        method: Method::POST,
        path: "/bls/api/v1/bookings".to_owned(),
    });
    let lost = bls.book_slot(&hold_ref, "credits", "lost-bls").await;
    assert_eq!(lost.status, StatusCode::BAD_GATEWAY, "{}", lost.text);
    let found = bls.book_slot(&hold_ref, "credits", "lost-bls").await;
    assert_eq!(found.status, StatusCode::CREATED, "{}", found.text);
    assert_eq!(
        stack.proxy.count(Method::POST, "/bls/api/v1/bookings"),
        1,
        "sent once: the retry found the booking its lost answer made"
    );
}

#[tokio::test]
async fn a_booking_answer_without_an_inferred_field_is_still_the_candidates_booking() {
    let stack = stack_with(json!({})).await;
    let widget = bls_widget(&stack).await;
    let slots = stack.bls_slots(&widget).await;
    for (slot, field) in slots.iter().zip(["training_status", "equipment_status"]) {
        let hold_ref = widget.slot_hold_ref(slot).await;
        stack.proxy.set_mode(Mode::DropField {
            path_prefix: "/bls/api/v1/bookings".to_owned(),
            field,
        });
        let made = widget.book_slot(&hold_ref, "credits", field).await;
        assert_eq!(made.status, StatusCode::CREATED, "{field}: {}", made.text);
        assert!(made.body["booking"].get(field).is_none(), "{}", made.text);
        let booking_ref = made.body["booking_ref"].as_str().expect("a booking_ref");
        let read = widget.get(&format!("/bookings/{booking_ref}")).await;
        assert_eq!(read.status, StatusCode::OK, "{field}: {}", read.text);
        stack.proxy.set_mode(Mode::Pass);
    }
    assert_eq!(
        stack.proxy.count(Method::POST, "/bls/api/v1/bookings"),
        2,
        "each booking sent once"
    );
}
