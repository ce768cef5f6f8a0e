//! A shared store that stops answering must not stall the calendar: the
//! events list looks up its busy marks in one round trip, and answers
//! without them when the store does not answer.

use std::time::Duration;

use booking_gateway::Secret;
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{RedisServer, Stack, Widget};

/// The events of course 1 as `widget` lists them, and how many are marked
/// busy.
async fn busy_events(widget: &Widget) -> (Vec<Value>, usize) {
    let reply = widget.get("/training-events?course_id=1").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let events = reply.body.as_array().expect("a list").clone();
    let busy = events
        .iter()
        .filter(|event| event.get("busy_for_seconds").is_some())
        .count();
    (events, busy)
}

#[tokio::test]
async fn a_frozen_shared_store_does_not_stall_the_calendar() {
    let redis = RedisServer::start().await;
    let stack = Stack::start_with(|config, _| {
        config.shared_store = Some(Secret::new(redis.url()));
    })
    .await;
    let event = stack.create_event(1, 9).await;
    let (holder, other) = (stack.widget().await, stack.widget().await);
    holder.hold_ref(event).await;
    let conflict = other.hold(event, None).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT, "{}", conflict.text);
    let (events, busy) = busy_events(&other).await;
    assert_eq!(busy, 1, "the held event is busy while the store answers");
    assert!(
        events.len() > 5,
        "enough events to look up: {}",
        events.len()
    );

    redis.freeze();
    let listed = tokio::time::timeout(Duration::from_secs(4), busy_events(&other)).await;
    redis.thaw();
    let (events_then, busy_then) =
        listed.expect("the events were listed within 4 s while the store was frozen");
    assert_eq!(events_then.len(), events.len());
    assert_eq!(busy_then, 0, "no busy mark the store could not confirm");
}
