//! The calendar promises no seat a candidate cannot hold now: once the
//! upstream has been seen to allow the agency's account one hold per event
//! (or one in all), the events another candidate holds are marked busy in
//! the events list, with the seconds until that hold lapses.

use crate::support::{Stack, Widget};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The listed event `id`'s `busy_for_seconds`, as `widget` sees it.
async fn busy_for(widget: &Widget, id: u64) -> Option<u64> {
    let events = widget.get("/training-events?course_id=1").await;
    assert_eq!(events.status, StatusCode::OK, "{}", events.text);
    let event = events
        .body
        .as_array()
        .expect("a list")
        .iter()
        .find(|event| event["id"] == json!(id))
        .cloned()
        .unwrap_or(Value::Null);
    assert!(!event.is_null(), "event {id} listed");
    event.get("busy_for_seconds").and_then(Value::as_u64)
}

#[tokio::test]
async fn under_one_hold_per_event_the_held_event_is_marked_busy_for_everyone_else() {
    let stack = Stack::start().await;
    let (held, free) = (
        stack.create_event(1, 9).await,
        stack.create_event(1, 9).await,
    );
    let (holder, other) = (stack.widget().await, stack.widget().await);
    let hold_ref = holder.hold_ref(held).await;
    assert_eq!(
        busy_for(&other, held).await,
        None,
        "before the upstream has shown its scope, nothing is claimed"
    );

    let conflict = other.hold(held, None).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT, "{}", conflict.text);
    let busy = busy_for(&other, held)
        .await
        .expect("the held event is busy");
    assert!((1790..=1800).contains(&busy), "{busy}");
    assert_eq!(busy_for(&other, free).await, None, "another event is not");
    assert_eq!(
        busy_for(&holder, held).await,
        None,
        "the holder's own event is not busy to the holder"
    );
    let third = stack.widget().await;
    assert!(busy_for(&third, held).await.is_some());

    let released = holder.delete(&format!("/holds/{hold_ref}")).await;
    assert!(released.status.is_success(), "{}", released.text);
    assert_eq!(
        busy_for(&other, held).await,
        None,
        "a released seat is free again"
    );
}

#[tokio::test]
async fn under_one_hold_in_all_every_event_is_busy_while_one_is_held() {
    let stack = Stack::start().await;
    stack
        .set_profile(json!({"hold_scope": "account", "conflict_body": "with_hold"}))
        .await;
    let (first, second) = (
        stack.create_event(1, 9).await,
        stack.create_event(1, 9).await,
    );
    let (holder, other) = (stack.widget().await, stack.widget().await);
    holder.hold_ref(first).await;
    let conflict = other.hold(second, None).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT, "{}", conflict.text);

    assert!(busy_for(&other, first).await.is_some());
    assert!(
        busy_for(&other, second).await.is_some(),
        "no event can be held while the account's one hold is live"
    );
}

#[tokio::test]
async fn where_the_upstream_allows_several_holds_nothing_is_marked() {
    let stack = Stack::start().await;
    stack.set_profile(json!({"hold_scope": "none"})).await;
    let event = stack.create_event(1, 9).await;
    let (holder, other) = (stack.widget().await, stack.widget().await);
    holder.hold_ref(event).await;
    other.hold_ref(event).await;
    assert_eq!(busy_for(&other, event).await, None);
    assert_eq!(busy_for(&stack.widget().await, event).await, None);
}

/// Candidates refused a hold on `event` by the upstream until the place is
/// contested: three 409s within a second.
async fn contest(stack: &Stack, event: u64) -> Vec<Widget> {
    let mut refused = Vec::new();
    for _ in 0..3 {
        let candidate = stack.widget().await;
        let conflict = candidate.hold(event, None).await;
        assert_eq!(conflict.status, StatusCode::CONFLICT, "{}", conflict.text);
        refused.push(candidate);
    }
    refused
}

#[tokio::test]
async fn a_contested_seat_another_holds_is_refused_without_asking_upstream() {
    let stack = Stack::start().await;
    let held = stack.create_event(1, 9).await;
    let hold_path = format!("/training-events/{held}/hold");
    let asked = || stack.proxy.count(reqwest::Method::POST, &hold_path);
    let holder = stack.widget().await;
    let hold_ref = holder.hold_ref(held).await;
    let waiting = stack.widget().await;
    let first_conflict = waiting.hold(held, None).await;
    assert_eq!(first_conflict.status, StatusCode::CONFLICT);
    let refused_again = waiting.hold(held, None).await;
    assert_eq!(refused_again.status, StatusCode::CONFLICT);
    assert_eq!(
        asked(),
        3,
        "one candidate waiting is answered by the upstream"
    );

    let third_refusal = stack.widget().await.hold(held, None).await;
    assert_eq!(third_refusal.status, StatusCode::CONFLICT);
    assert_eq!(
        asked(),
        4,
        "three refusals within a second: the seat is contested"
    );
    let told = stack.widget().await.hold(held, None).await;
    assert_eq!(told.status, StatusCode::CONFLICT, "{}", told.text);
    assert_eq!(
        asked(),
        4,
        "once the seat is contested, it is told from memory"
    );
    assert_eq!(told.body["message"], first_conflict.body["message"]);
    let free_in = told.body["free_in_seconds"].as_i64().unwrap();
    assert!((1790..=1800).contains(&free_in), "{free_in}");

    let own = holder.hold(held, Some(&hold_ref)).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    assert_eq!(asked(), 5, "the holder's own hold is asked of the upstream");

    let released = holder.delete(&format!("/holds/{hold_ref}")).await;
    assert!(released.status.is_success(), "{}", released.text);
    let freed = stack.widget().await.hold(held, None).await;
    assert_eq!(freed.status, StatusCode::OK, "{}", freed.text);
    assert_eq!(asked(), 6, "a seat no longer held is asked for again");
}

/// Holds `event` for `holder`, meets a 409 for `other` (the upstream's
/// scope is learnt), books the hold, and answers what the third candidate
/// then gets, how many times the hold was asked of the upstream before and
/// after it tries, and whether the event was listed busy before it did.
async fn book_then_try(
    stack: &Stack,
    event: u64,
    holder: &Widget,
    other: &Widget,
    third: &Widget,
) -> (StatusCode, usize, usize, Option<u64>) {
    let hold_path = format!("/training-events/{event}/hold");
    let hold_ref = holder.hold_ref(event).await;
    assert_eq!(other.hold(event, None).await.status, StatusCode::CONFLICT);
    assert_eq!(third.hold(event, None).await.status, StatusCode::CONFLICT);
    let booked = holder
        .book(&hold_ref, &booking_core::api::PayOption::Inv, "storm-key")
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);
    let busy = busy_for(other, event).await;
    let before = stack.proxy.count(reqwest::Method::POST, &hold_path);
    let after_booking = third.hold(event, None).await;
    let after = stack.proxy.count(reqwest::Method::POST, &hold_path);
    (after_booking.status, before, after, busy)
}

#[tokio::test]
async fn a_hold_used_by_a_booking_no_longer_keeps_the_seat_from_others() {
    let stack = Stack::start_with(|config, _| {
        config.pay_options = booking_core::api::PayOption::KNOWN.to_vec();
    })
    .await;
    let event = stack.create_event(1, 9).await;
    let (holder, other, third) = (
        stack.widget().await,
        stack.widget().await,
        stack.widget().await,
    );
    let (status, before, after, busy) = book_then_try(&stack, event, &holder, &other, &third).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the booked hold no longer holds the seat"
    );
    assert_eq!(after, before + 1, "asked of the upstream again");
    assert_eq!(busy, None, "nor was the event listed busy");
}

#[tokio::test]
async fn across_instances_a_hold_used_by_a_booking_no_longer_keeps_the_seat_from_others() {
    let both = crate::support::TwoInstances::start_with(|config| {
        config.pay_options = booking_core::api::PayOption::KNOWN.to_vec();
    })
    .await;
    let event = both.stack.create_event(1, 9).await;
    let holder = both.stack.widget().await;
    let other = both.on_second(&both.stack.widget().await);
    let third = both.on_second(&both.stack.widget().await);
    let (status, before, after, busy) =
        book_then_try(&both.stack, event, &holder, &other, &third).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the booked hold no longer holds the seat"
    );
    assert_eq!(after, before + 1, "asked of the upstream again");
    assert_eq!(busy, None, "nor was the event listed busy");
}

#[tokio::test]
async fn plain_holds_on_one_event_do_not_wait_for_each_other_at_the_gateway() {
    let stack = Stack::start().await;
    let event = stack.create_event(1, 9).await;
    let hold_path = format!("/training-events/{event}/hold");
    let release = std::sync::Arc::new(tokio::sync::Notify::new());
    stack.proxy.set_mode(crate::support::Mode::Stall {
        method: reqwest::Method::POST,
        path: hold_path.clone(),
        fate: crate::support::Fate::Answered,
        release: release.clone(),
    });
    let first = {
        let widget = stack.widget().await;
        tokio::spawn(async move { widget.hold(event, None).await })
    };
    stack
        .proxy
        .wait_for_count(
            "the first hold upstream",
            reqwest::Method::POST,
            &hold_path,
            1,
        )
        .await;
    let other = stack.widget().await;
    let second = tokio::time::timeout(std::time::Duration::from_secs(10), other.hold(event, None))
        .await
        .expect("the second hold does not wait for the first to be answered");
    assert_eq!(
        second.status,
        StatusCode::CONFLICT,
        "answered while the first is still in flight: {}",
        second.text
    );
    assert_eq!(
        stack.proxy.count(reqwest::Method::POST, &hold_path),
        2,
        "both asked the upstream"
    );
    release.notify_one();
    let first = first.await.expect("the first hold is answered");
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
}

#[tokio::test]
async fn a_seat_is_told_held_from_memory_only_just_after_the_upstream_said_so() {
    let stack =
        Stack::start_on_manual_clock(booking_sandbox::SandboxConfig::for_tests(), |_, _| {}).await;
    let held = stack.create_event(1, 9).await;
    let hold_path = format!("/training-events/{held}/hold");
    let asked = || stack.proxy.count(reqwest::Method::POST, &hold_path);
    stack.widget().await.hold_ref(held).await;
    let refused = contest(&stack, held).await;
    assert_eq!(
        refused[0].hold(held, None).await.status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        asked(),
        4,
        "told from memory just after the upstream's 409s"
    );
    stack.advance(2).await;
    assert_eq!(
        refused[0].hold(held, None).await.status,
        StatusCode::CONFLICT
    );
    assert_eq!(asked(), 5, "a second later the upstream is asked again");
}
