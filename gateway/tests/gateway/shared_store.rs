//! Two gateway instances behind one load balancer share their memory of
//! holds and booking attempts through Redis (`HBG_SHARED_STORE`), so a retry
//! that lands on the other instance neither locks the candidate out of their
//! own hold nor books twice. Each test starts its own `redis-server`.

use crate::support::{gateway_config, temp_dir, Mode, Reply, Stack, TwoInstances, Widget};
use booking_core::api::PayOption;
use booking_gateway::{spawn_gateway, Secret, StartError};
use reqwest::{Method, StatusCode};
use serde_json::json;

/// Course 1, which the test account has credits for.
const COURSE: u64 = 1;

/// What a candidate is told when another candidate holds the date.
const HELD_BY_ANOTHER: &str = "Another candidate is booking this date right now.";

/// What a candidate is told when the upstream's answer did not come.
const NOT_REACHABLE: &str = "The booking service is not reachable. Please try again in a moment.";

/// Asserts `reply` is a 409 telling the candidate another candidate holds
/// the date, and nothing of that candidate's hold.
fn assert_held_by_another(reply: &Reply, what: &str) {
    assert_eq!(reply.status, StatusCode::CONFLICT, "{what}: {}", reply.text);
    let message = reply.body["message"].as_str().unwrap_or_default();
    assert!(message.starts_with(HELD_BY_ANOTHER), "{what}: {message}");
    assert!(
        reply.body.get("hold_ref").is_none() && reply.body.get("hold").is_none(),
        "{what}: another candidate's hold is not handed out: {}",
        reply.text
    );
}

/// Asserts `reply` grants a hold on `event_id` and returns its reference.
fn granted_on(reply: &Reply, event_id: u64, what: &str) -> String {
    assert_eq!(reply.status, StatusCode::OK, "{what}: {}", reply.text);
    assert_eq!(
        reply.body["hold"]["training_event"]["id"], event_id,
        "{what}: the hold is on the event asked for: {}",
        reply.text
    );
    reply.body["hold_ref"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: a hold_ref: {}", reply.text))
        .to_owned()
}

#[tokio::test]
async fn a_hold_retried_on_the_other_instance_is_the_candidates_own_under_either_conflict_body() {
    let both = TwoInstances::start().await;
    for conflict_body in ["with_hold", "message_only"] {
        both.stack
            .set_profile(json!({"conflict_body": conflict_body}))
            .await;
        let event_id = both.stack.create_event(COURSE, 10).await;
        let candidate = both.stack.widget().await;
        let lost = candidate.hold(event_id, None).await;
        assert_eq!(lost.status, StatusCode::OK, "{}", lost.text);

        let retried = both.on_second(&candidate).hold(event_id, None).await;
        assert_eq!(
            retried.status,
            StatusCode::OK,
            "{conflict_body}: {}",
            retried.text
        );
        assert_eq!(
            retried.body["hold"]["hold_hash"], lost.body["hold"]["hold_hash"],
            "{conflict_body}: the same hold"
        );
        assert_eq!(retried.body["hold_ref"], lost.body["hold_ref"]);

        let other = Widget::start(both.stack.client.clone(), both.second.url()).await;
        let taken = other.hold(event_id, None).await;
        assert_held_by_another(
            &taken,
            &format!("{conflict_body}: another candidate does not get it"),
        );
        let frees_in = taken.body["free_in_seconds"].as_i64();
        assert!(
            frees_in.is_some_and(|seconds| (1780..=1800).contains(&seconds)),
            "{conflict_body}: the other instance knows when the seat frees: {}",
            taken.text
        );
    }
}

#[tokio::test]
async fn a_booking_answer_lost_upstream_and_retried_on_the_other_instance_books_and_charges_once() {
    let both = TwoInstances::start().await;
    both.stack
        .set_profile(json!({"idempotency": "ignored"}))
        .await;
    let event_id = both.stack.create_event(COURSE, 10).await;
    let before = both.stack.wallet(COURSE).await;
    let candidate = both.stack.widget().await;
    let hold_ref = candidate.hold_ref(event_id).await;

    both.stack.proxy.set_mode(Mode::LoseAnswer {
        method: Method::POST,
        path: "/bookings".to_owned(),
    });
    let lost = candidate
        .book(&hold_ref, &PayOption::Credits, "attempt-1")
        .await;
    assert!(lost.status.is_server_error(), "{}", lost.text);
    assert_eq!(lost.body["message"], NOT_REACHABLE, "told to try again");
    let retried = both
        .on_second(&candidate)
        .book(&hold_ref, &PayOption::Credits, "attempt-1")
        .await;
    assert_eq!(retried.status, StatusCode::CREATED, "{}", retried.text);

    let made = both.stack.bookings_on(event_id).await;
    assert_eq!(made.len(), 1, "one booking: {made:?}");
    assert_eq!(retried.body["booking"]["id"], made[0]["id"]);
    assert_eq!(
        both.stack.wallet(COURSE).await,
        (before.0 - 1, before.1),
        "one credit spent"
    );
    assert_eq!(
        both.stack.proxy.count(Method::POST, "/bookings"),
        1,
        "the second instance found the booking, it did not send again"
    );
}

#[tokio::test]
async fn a_booking_answer_lost_on_the_way_to_the_browser_is_replayed_by_the_other_instance() {
    let both = TwoInstances::start().await;
    both.stack
        .set_profile(json!({"idempotency": "ignored"}))
        .await;
    let event_id = both.stack.create_event(COURSE, 10).await;
    let before = both.stack.wallet(COURSE).await;
    let candidate = both.stack.widget().await;
    let hold_ref = candidate.hold_ref(event_id).await;

    let first = candidate
        .book(&hold_ref, &PayOption::Credits, "attempt-1")
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let again = both
        .on_second(&candidate)
        .book(&hold_ref, &PayOption::Credits, "attempt-1")
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    assert_eq!(again.body["booking"]["id"], first.body["booking"]["id"]);
    assert_eq!(both.stack.bookings_on(event_id).await.len(), 1);
    assert_eq!(both.stack.wallet(COURSE).await, (before.0 - 1, before.1));
    assert_eq!(both.stack.proxy.count(Method::POST, "/bookings"), 1);
}

#[tokio::test]
async fn without_the_store_no_booking_is_sent_and_the_candidate_is_told_to_try_again() {
    let mut both = TwoInstances::start().await;
    let event_id = both.stack.create_event(COURSE, 10).await;
    let candidate = both.stack.widget().await;
    let hold_ref = candidate.hold_ref(event_id).await;
    both.redis.stop();

    let refused = candidate
        .book(&hold_ref, &PayOption::Credits, "attempt-1")
        .await;
    assert_eq!(
        refused.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        refused.text
    );
    assert!(
        refused.body["message"]
            .as_str()
            .is_some_and(|message| message.starts_with("Nothing was booked")),
        "{}",
        refused.text
    );
    assert_eq!(both.stack.proxy.count(Method::POST, "/bookings"), 0);
    assert!(both.stack.bookings_on(event_id).await.is_empty());

    let other_event = both.stack.create_event(COURSE, 10).await;
    let held = candidate.hold(other_event, None).await;
    granted_on(&held, other_event, "a hold is still granted");
}

#[tokio::test]
async fn a_gateway_whose_store_does_not_answer_does_not_start() {
    let stack = Stack::start().await;
    let static_dir = temp_dir("unreachable-store");
    let mut config = gateway_config(&stack.proxy.api_url(), &stack.account, static_dir.path());
    let nothing_there = crate::support::unused_address().await;
    config.shared_store = Some(Secret::new(format!("redis://{nothing_there}/0")));
    let Err(error) = spawn_gateway(config).await else {
        panic!("a gateway started without its shared store");
    };
    assert!(matches!(error, StartError::SharedStore(_)), "{error}");
    assert!(error.to_string().starts_with("HBG_SHARED_STORE"), "{error}");
}

#[tokio::test]
async fn no_candidate_on_the_other_instance_takes_the_seat_while_a_hold_is_renewed() {
    let both = TwoInstances::start().await;
    let event_id = both.stack.create_event(COURSE, 1).await;
    let candidate = both.stack.widget().await;
    let old_ref = candidate.hold_ref(event_id).await;
    let other = Widget::start(both.stack.client.clone(), both.second.url()).await;
    let (renewed, taken) = both
        .stack
        .hold_during_renewal(&candidate, &old_ref, event_id, &other)
        .await;
    let new_ref = granted_on(&renewed, event_id, "the renewal");
    assert_ne!(new_ref, old_ref, "a fresh hold in place of the old one");
    assert_held_by_another(&taken, "the other instance waited for the renewal's lock");
}

#[tokio::test]
async fn an_event_held_through_one_instance_is_busy_on_the_other_until_released() {
    let both = TwoInstances::start().await;
    let event_id = both.stack.create_event(COURSE, 10).await;
    let holder = both.stack.widget().await;
    let hold_ref = holder.hold_ref(event_id).await;
    let other = both.on_second(&both.stack.widget().await);
    let conflict = other.hold(event_id, None).await;
    assert_held_by_another(&conflict, "the other instance");

    let busy =
        |widget: Widget| async move {
            let events = widget
                .get(&format!("/training-events?course_id={COURSE}"))
                .await;
            assert_eq!(events.status, StatusCode::OK, "{}", events.text);
            events.body.as_array().expect("a list").iter().any(|event| {
                event["id"] == json!(event_id) && event.get("busy_for_seconds").is_some()
            })
        };
    assert!(
        busy(other.clone()).await,
        "the other instance knows it is held"
    );
    let released = holder.delete(&format!("/holds/{hold_ref}")).await;
    assert_eq!(released.status, StatusCode::NO_CONTENT, "{}", released.text);
    assert!(!busy(other).await, "and that it was released");
}

#[tokio::test]
async fn the_caps_on_live_holds_are_shared_by_the_instances() {
    let both = TwoInstances::start().await;
    let events = [
        both.stack.create_event(COURSE, 10).await,
        both.stack.create_event(COURSE, 10).await,
        both.stack.create_event(COURSE, 10).await,
    ];
    let candidate = both.stack.widget().await;
    let first_ref = candidate.hold_ref(events[0]).await;
    candidate.hold_ref(events[1]).await;
    let third = both.on_second(&candidate).hold(events[2], None).await;
    assert_eq!(
        third.status,
        StatusCode::TOO_MANY_REQUESTS,
        "a third seat through the other instance: {}",
        third.text
    );
    assert_eq!(
        third.body["message"],
        "You are already holding a seat. Book it, or go back to let it go, before holding another.",
        "the cap is named"
    );
    let again = both.on_second(&candidate).hold(events[0], None).await;
    let again_ref = granted_on(
        &again,
        events[0],
        "a seat the session holds, asked again through the other instance",
    );
    assert_eq!(again_ref, first_ref, "the same hold given back");
    let released = both
        .on_second(&candidate)
        .delete(&format!("/holds/{first_ref}"))
        .await;
    assert_eq!(released.status, StatusCode::NO_CONTENT, "{}", released.text);
    let after = candidate.hold(events[2], None).await;
    granted_on(
        &after,
        events[2],
        "a released seat frees its place in the session's caps",
    );
}

#[tokio::test]
async fn a_hold_whose_answer_was_lost_is_the_candidates_on_the_other_instance() {
    for conflict_body in ["with_hold", "message_only"] {
        let both = TwoInstances::start().await;
        both.stack
            .set_profile(json!({"conflict_body": conflict_body, "idempotency": "ignored"}))
            .await;
        let event_id = both.stack.create_event(COURSE, 10).await;
        let candidate = both.stack.widget().await;
        let path = format!("/training-events/{event_id}/hold");
        both.stack.proxy.set_mode(Mode::LoseAnswer {
            method: Method::POST,
            path: path.clone(),
        });
        let lost = candidate.hold(event_id, None).await;
        assert_eq!(lost.status, StatusCode::BAD_GATEWAY, "{}", lost.text);
        assert_eq!(lost.body["message"], NOT_REACHABLE, "told to try again");
        assert!(both
            .stack
            .proxy
            .seen()
            .iter()
            .any(|seen| seen.path == path && seen.status == 200));

        let again = both.on_second(&candidate).hold(event_id, None).await;
        if conflict_body == "with_hold" {
            granted_on(
                &again,
                event_id,
                "the hold made upstream is the candidate's",
            );
        } else {
            assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
            let message = again.body["message"].as_str().unwrap_or_default();
            assert!(
                message.starts_with("We could not confirm your hold."),
                "{message}"
            );
        }
        let other = both
            .on_second(&both.stack.widget().await)
            .hold(event_id, None)
            .await;
        assert_held_by_another(&other, conflict_body);
        assert!(
            other.body["free_in_seconds"]
                .as_i64()
                .is_some_and(|seconds| (1780..=1800).contains(&seconds)),
            "{conflict_body}: {}",
            other.text
        );
    }
}
