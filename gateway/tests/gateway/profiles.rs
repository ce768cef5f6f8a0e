//! The gateway against the sandbox's upstream profiles (`/_sandbox/profile`):
//! where the published API is silent, the gateway works whichever answer the
//! upstream gives.

use crate::support::{Mode, Stack};
use booking_core::api::PayOption;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn lists_are_whole_when_the_upstream_takes_pages_of_fifty_at_most() {
    let stack = Stack::start().await;
    stack.set_profile(json!({"max_per_page": 50})).await;
    let course = 2;
    let (status, first) = stack
        .sandbox_get(&format!("/training-events?course_id={course}&per_page=1"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let total = first["meta"]["total"].as_u64().expect("a total");
    assert!(total > 50, "more events than one page of fifty: {total}");

    let widget = stack.widget().await;
    let events = widget
        .get(&format!("/training-events?course_id={course}"))
        .await;
    assert_eq!(events.status, StatusCode::OK, "{}", events.text);
    assert_eq!(events.body.as_array().unwrap().len() as u64, total);
    assert_eq!(
        stack.proxy.count(Method::GET, "/training-events") as u64,
        1 + total.div_ceil(50),
        "one refused page of 100, then pages of 50"
    );

    stack.proxy.clear();
    let courses = widget.get("/courses").await;
    assert_eq!(courses.status, StatusCode::OK, "{}", courses.text);
    assert_eq!(
        stack.proxy.count(Method::GET, "/courses"),
        1,
        "the smaller page is remembered: no second refusal"
    );
}

/// Course 1 (CSTF Mandatory Practical Skills), which the test account has
/// credits for.
const COURSE: u64 = 1;

/// A stack whose upstream ignores `Idempotency-Key` and whose gateway allows
/// credits.
async fn upstream_ignoring_keys() -> Stack {
    let stack = Stack::start_with(|config, _| {
        config.pay_options = PayOption::KNOWN.to_vec();
    })
    .await;
    stack.set_profile(json!({"idempotency": "ignored"})).await;
    stack
}

#[tokio::test]
async fn an_answer_lost_between_gateway_and_upstream_books_and_charges_once() {
    let stack = upstream_ignoring_keys().await;
    let event_id = stack.create_event(COURSE, 10).await;
    let (credits_before, balance_before) = stack.wallet(COURSE).await;
    let widget = stack.widget().await;
    let hold_ref = widget.hold_ref(event_id).await;

    stack.proxy.set_mode(Mode::LoseAnswer {
        method: Method::POST,
        path: "/bookings".to_owned(),
    });
    let lost = widget
        .book(&hold_ref, &PayOption::Credits, "attempt-1")
        .await;
    assert_eq!(lost.status, StatusCode::BAD_GATEWAY, "{}", lost.text);
    let retried = widget
        .book(&hold_ref, &PayOption::Credits, "attempt-1")
        .await;
    assert_eq!(retried.status, StatusCode::CREATED, "{}", retried.text);

    let made = stack.bookings_on(event_id).await;
    assert_eq!(made.len(), 1, "one booking: {made:?}");
    assert_eq!(retried.body["booking"]["id"], made[0]["id"]);
    assert_eq!(
        stack.wallet(COURSE).await,
        (credits_before - 1, balance_before),
        "one credit spent"
    );
    assert_eq!(
        stack.proxy.count(Method::POST, "/bookings"),
        1,
        "found, not sent again"
    );
}

#[tokio::test]
async fn an_answer_lost_between_widget_and_gateway_books_and_charges_once() {
    let stack = upstream_ignoring_keys().await;
    let event_id = stack.create_event(COURSE, 10).await;
    let (credits_before, balance_before) = stack.wallet(COURSE).await;
    let widget = stack.widget().await;
    let hold_ref = widget.hold_ref(event_id).await;

    let first = widget
        .book(&hold_ref, &PayOption::Credits, "attempt-1")
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let again = widget
        .book(&hold_ref, &PayOption::Credits, "attempt-1")
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    assert_eq!(again.body["booking"]["id"], first.body["booking"]["id"]);

    assert_eq!(stack.bookings_on(event_id).await.len(), 1);
    assert_eq!(
        stack.wallet(COURSE).await,
        (credits_before - 1, balance_before)
    );
    assert_eq!(stack.proxy.count(Method::POST, "/bookings"), 1);

    let other_attempt = widget
        .book(&hold_ref, &PayOption::Credits, "attempt-2")
        .await;
    assert_eq!(
        other_attempt.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a new attempt with the used hold is refused, not replayed: {}",
        other_attempt.text
    );
}

/// The candidate asks for the hold again (its answer lost on the way to
/// the browser, or a double click): the gateway gives back their own.
#[tokio::test]
async fn a_hold_asked_for_again_is_the_candidates_own_hold_under_either_conflict_body() {
    for conflict_body in ["with_hold", "message_only"] {
        let stack = Stack::start().await;
        stack
            .set_profile(json!({"conflict_body": conflict_body}))
            .await;
        let event_id = stack.create_event(COURSE, 10).await;
        let candidate = stack.widget().await;
        let first = candidate.hold(event_id, None).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.text);

        let again = candidate.hold(event_id, None).await;
        assert_eq!(
            again.status,
            StatusCode::OK,
            "{conflict_body}: {}",
            again.text
        );
        assert_eq!(
            again.body["hold"]["hold_hash"], first.body["hold"]["hold_hash"],
            "{conflict_body}: the same hold"
        );
        assert_eq!(again.body["hold_ref"], first.body["hold_ref"]);
        let left = again.body["hold"]["expires_in_seconds"].as_i64().unwrap();
        assert!((1790..=1800).contains(&left), "{left}");

        let other = stack.widget().await;
        let taken = other.hold(event_id, None).await;
        assert_eq!(
            taken.status,
            StatusCode::CONFLICT,
            "{conflict_body}: another candidate does not get it"
        );
        assert!(taken.body.get("hold").is_none());
        let frees_in = taken.body["free_in_seconds"].as_i64();
        assert!(
            frees_in.is_some_and(|seconds| (1780..=1800).contains(&seconds)),
            "{conflict_body}: when the seat frees, said even when the upstream does not: {}",
            taken.text
        );
    }
}

/// The upstream calls the proxy saw for holds, as `METHOD status`.
fn hold_calls(stack: &Stack) -> Vec<String> {
    stack
        .proxy
        .seen()
        .iter()
        .filter(|seen| seen.path.contains("/hold"))
        .map(|seen| format!("{} {}", seen.method, seen.status))
        .collect()
}

#[tokio::test]
async fn keep_my_seat_renews_the_hold_under_every_hold_scope() {
    // (scope, seats, the upstream calls, what another candidate then gets)
    for (scope, seats, calls, other_gets) in [
        (
            "event",
            1,
            vec!["POST 200", "POST 409", "DELETE 200", "POST 200"],
            409,
        ),
        (
            "account",
            1,
            vec!["POST 200", "POST 409", "DELETE 200", "POST 200"],
            409,
        ),
        (
            "none",
            1,
            vec!["POST 200", "POST 422", "DELETE 200", "POST 200"],
            422,
        ),
        // A seat free: the new hold is granted before the old one goes.
        ("none", 2, vec!["POST 200", "POST 200", "DELETE 200"], 200),
    ] {
        let stack = Stack::start_with(|config, _| {
            config.pay_options = PayOption::KNOWN.to_vec();
        })
        .await;
        stack.set_profile(json!({"hold_scope": scope})).await;
        let event_id = stack.create_event(COURSE, seats).await;
        let candidate = stack.widget().await;
        let old_ref = candidate.hold_ref(event_id).await;
        stack.advance_clock(29 * 60 + 10).await;

        let renewed = candidate
            .post(
                "/holds",
                json!({"event_id": event_id, "hold_ref": old_ref, "renew": true}),
                &[],
            )
            .await;
        assert_eq!(renewed.status, StatusCode::OK, "{scope}: {}", renewed.text);
        let new_ref = renewed.body["hold_ref"].as_str().expect("a hold_ref");
        assert_ne!(new_ref, old_ref, "{scope}: a new hold");
        let left = renewed.body["hold"]["expires_in_seconds"].as_i64().unwrap();
        assert!((1790..=1800).contains(&left), "{scope}: {left}");
        assert_eq!(hold_calls(&stack), calls, "{scope}: the upstream calls");

        let other = stack.widget().await;
        let taken = other.hold(event_id, None).await;
        assert_eq!(taken.status.as_u16(), other_gets, "{scope}: {}", taken.text);
        let stale = candidate
            .book(&old_ref, &PayOption::Credits, "with-the-old-hold")
            .await;
        assert!(
            stale.status.is_client_error(),
            "{scope}: the old hold is gone: {}",
            stale.text
        );
        let booked = candidate
            .book(new_ref, &PayOption::Credits, "with-the-new-hold")
            .await;
        assert_eq!(
            booked.status,
            StatusCode::CREATED,
            "{scope}: {}",
            booked.text
        );
    }
}

#[tokio::test]
async fn no_other_candidate_takes_the_seat_while_a_hold_is_renewed() {
    let stack = Stack::start().await;
    let event_id = stack.create_event(COURSE, 1).await;
    let candidate = stack.widget().await;
    let old_ref = candidate.hold_ref(event_id).await;
    let other = stack.widget().await;
    let (renewed, taken) = stack
        .hold_during_renewal(&candidate, &old_ref, event_id, &other)
        .await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.text);
    assert_eq!(
        taken.status,
        StatusCode::CONFLICT,
        "the other candidate waited for the renewal and found the seat held: {}",
        taken.text
    );
}

#[tokio::test]
async fn a_hold_on_another_event_under_account_scope_is_not_said_to_be_on_this_date() {
    for conflict_body in ["with_hold", "message_only"] {
        let stack = Stack::start().await;
        stack
            .set_profile(json!({"hold_scope": "account", "conflict_body": conflict_body}))
            .await;
        let held = stack.create_event(COURSE, 5).await;
        let wanted = stack.create_event(COURSE, 5).await;
        stack.widget().await.hold_ref(held).await;
        let taken = stack.widget().await.hold(wanted, None).await;
        assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.text);
        let message = taken.body["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with("Another candidate is in the middle of a booking"),
            "{conflict_body}: {message}"
        );
        assert!(
            !message.contains("this date"),
            "{conflict_body}: the hold is on another date: {message}"
        );
    }
}

#[tokio::test]
async fn a_conflict_the_upstream_does_not_time_is_timed_from_the_holds_this_gateway_granted() {
    let stack = Stack::start().await;
    stack
        .set_profile(json!({"conflict_body": "message_only"}))
        .await;
    let event_id = stack.create_event(COURSE, 5).await;
    stack.widget().await.hold_ref(event_id).await;
    let taken = stack.widget().await.hold(event_id, None).await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.text);
    let message = taken.body["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("Another candidate is booking this date right now. If they do not finish, it is free again at "),
        "{message}"
    );
    assert!(taken.body["held_until"].is_string(), "{}", taken.text);
}
