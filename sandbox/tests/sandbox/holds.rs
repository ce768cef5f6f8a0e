//! Seat holds: shape, 409 on a second hold, seat guarantees, expiry through
//! the test clock, and release.

use crate::common::{Harness, DEMO, NOINV};
use booking_core::api::{HoldConflict, SeatHold};
use chrono::Duration;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_hold_lasts_thirty_minutes_and_leaves_remaining_slots_alone() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let event = h.create_event(2, 12, 48).await;
    let before = h.remaining(&token, event).await;
    let now = h.now().await;
    let reply = h.hold(&token, event).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let raw_expiry = reply.body["expires_at"].as_str().unwrap().to_owned();
    assert!(raw_expiry.ends_with("+00:00"), "{raw_expiry}");
    let hold: SeatHold = serde_json::from_value(reply.body).expect("a SeatHold");
    assert_eq!(hold.hold_hash.len(), 32);
    assert!(hold.hold_hash.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(hold.expires_in_seconds, 1800);
    let lag = hold.expires_at.signed_duration_since(now) - Duration::seconds(1800);
    assert!(lag.num_seconds().abs() <= 2, "{lag}");
    assert_eq!(hold.training_event.id as i64, event);
    assert_eq!(hold.training_event.course, "Moving & Handling Practical");
    assert_eq!(hold.training_event.location, "Leeds");
    assert_eq!(h.remaining(&token, event).await, before);
}

#[tokio::test]
async fn a_second_hold_on_the_same_event_is_409_with_the_existing_hold() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let event = h.create_event(2, 12, 48).await;
    let first: SeatHold = serde_json::from_value(h.hold(&token, event).await.body).unwrap();
    h.advance(100).await;
    let reply = h.hold(&token, event).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert!(reply.body["expires_at"]
        .as_str()
        .unwrap()
        .ends_with("+00:00"));
    let conflict: HoldConflict = serde_json::from_value(reply.body).expect("a HoldConflict");
    assert_eq!(
        conflict.message,
        "An active hold already exists for this training event."
    );
    assert_eq!(
        conflict.hold_hash.as_deref(),
        Some(first.hold_hash.as_str())
    );
    assert_eq!(conflict.expires_at, Some(first.expires_at));
    let left = conflict.expires_in_seconds.expect("seconds left");
    assert!((1698..=1700).contains(&left), "{left}");
    assert_eq!(conflict.training_event.map(|e| e.id as i64), Some(event));
    // Another event, and another account on this event, are fine.
    let other_event = h.create_event(2, 12, 48).await;
    assert_eq!(h.hold(&token, other_event).await.status, StatusCode::OK);
    let noinv = h.login(NOINV).await;
    assert_eq!(h.hold(&noinv, event).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_live_hold_keeps_its_seat() {
    let h = Harness::start().await;
    let demo = h.login(DEMO).await;
    let noinv = h.login(NOINV).await;
    let event = h.create_event(2, 1, 48).await;
    let hash = h.hold_hash(&demo, event).await;
    let taken = h.hold(&noinv, event).await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        taken.body["errors"]["training_event"][0],
        "Every remaining seat on this training event is held by another booker. Try again in a few minutes."
    );
    assert_eq!(h.remaining(&demo, event).await, 1);
    assert_eq!(
        h.book(&demo, &hash, "credits").await.status,
        StatusCode::CREATED
    );
    assert_eq!(h.remaining(&demo, event).await, 0);
    let full = h.hold(&noinv, event).await;
    assert_eq!(full.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(full.body["message"], "This training event is fully booked.");
}

#[tokio::test]
async fn an_expired_hold_stops_counting_and_cannot_be_booked() {
    let h = Harness::start().await;
    let demo = h.login(DEMO).await;
    let noinv = h.login(NOINV).await;
    let event = h.create_event(2, 1, 48).await;
    let hash = h.hold_hash(&demo, event).await;
    h.advance(1799).await;
    assert_eq!(
        h.hold(&noinv, event).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    h.advance(2).await;
    let reply = h.book(&demo, &hash, "credits").await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply.body["errors"]["hold_hash"],
        json!(["This hold has expired. Hold a seat again."])
    );
    // The seat is free for someone else, and the expired hold no longer conflicts.
    let other = h.hold_hash(&noinv, event).await;
    assert_eq!(other.len(), 32);
    assert_eq!(
        h.hold(&demo, event).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let release = h
        .delete(&demo, &format!("/training-events/hold/{hash}"))
        .await;
    assert_eq!(release.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        release.body["message"],
        "This hold has expired. Hold a seat again."
    );
    assert_eq!(
        release.body["errors"]["hold_hash"],
        json!(["This hold has expired. Hold a seat again."])
    );
}

#[tokio::test]
async fn releasing_frees_the_seat() {
    let h = Harness::start().await;
    let demo = h.login(DEMO).await;
    let noinv = h.login(NOINV).await;
    let event = h.create_event(2, 1, 48).await;
    let hash = h.hold_hash(&demo, event).await;
    let path = format!("/training-events/hold/{hash}");
    assert_eq!(h.delete(&noinv, &path).await.status, StatusCode::NOT_FOUND);
    let released = h.delete(&demo, &path).await;
    assert_eq!(released.status, StatusCode::OK);
    assert_eq!(released.body, json!({ "message": "Hold released." }));
    let again = h.delete(&demo, &path).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        again.body["message"],
        "This hold has already been released."
    );
    let book = h.book(&demo, &hash, "credits").await;
    assert_eq!(book.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        book.body["errors"]["hold_hash"],
        json!(["This hold has already been released."])
    );
    assert_eq!(h.hold(&noinv, event).await.status, StatusCode::OK);
    let unknown = h
        .delete(
            &demo,
            "/training-events/hold/QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ",
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.body, json!({ "message": "Hold not found." }));
}

#[tokio::test]
async fn a_used_hold_cannot_be_released_or_reused() {
    let h = Harness::start().await;
    let demo = h.login(DEMO).await;
    let event = h.create_event(2, 5, 48).await;
    let hash = h.hold_hash(&demo, event).await;
    assert_eq!(
        h.book(&demo, &hash, "credits").await.status,
        StatusCode::CREATED
    );
    let release = h
        .delete(&demo, &format!("/training-events/hold/{hash}"))
        .await;
    assert_eq!(release.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        release.body["message"],
        "This hold has already been used for a booking."
    );
    let again = h.book(&demo, &hash, "credits").await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        again.body["errors"]["hold_hash"],
        json!(["This hold has already been used for a booking."])
    );
    // Booking used the hold up, so the account may hold again.
    assert_eq!(h.hold(&demo, event).await.status, StatusCode::OK);
}

#[tokio::test]
async fn holds_on_unknown_full_or_past_events_fail() {
    let h = Harness::start().await;
    let demo = h.login(DEMO).await;
    let unknown = h.hold(&demo, 999_999).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(
        unknown.body,
        json!({ "message": "Training event not found." })
    );
    let not_an_id = h.post_empty(&demo, "/training-events/abc/hold").await;
    assert_eq!(not_an_id.status, StatusCode::NOT_FOUND);

    let event = h.create_event(2, 12, 48).await;
    let filled = h
        .fixture(
            &format!("/_sandbox/training-events/{event}/fill"),
            json!({}),
        )
        .await;
    assert_eq!(filled.status, StatusCode::OK);
    assert_eq!(filled.body["remaining_slots"], 0);
    let full = h.hold(&demo, event).await;
    assert_eq!(full.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(full.body["message"], "This training event is fully booked.");

    let soon = h.create_event(2, 12, 1).await;
    h.advance(3601).await;
    let demo = h.login(DEMO).await;
    let past = h.hold(&demo, soon).await;
    assert_eq!(past.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        past.body["message"],
        "This training event has already started."
    );
}

#[tokio::test]
async fn fill_keeps_the_seats_of_live_holds() {
    let h = Harness::start().await;
    let demo = h.login(DEMO).await;
    let event = h.create_event(2, 4, 48).await;
    let hash = h.hold_hash(&demo, event).await;
    let filled = h
        .fixture(
            &format!("/_sandbox/training-events/{event}/fill"),
            json!({}),
        )
        .await;
    assert_eq!(filled.body["remaining_slots"], 1);
    assert_eq!(
        h.book(&demo, &hash, "inv").await.status,
        StatusCode::CREATED
    );
    assert_eq!(h.remaining(&demo, event).await, 0);
}
