//! Answers lost between the gateway and the upstream after the upstream
//! acted: a hold, a timeslot hold, a release and a renewal whose answers
//! never come back. Under every profile that decides what the upstream's
//! 409 says (hold scope `event` or `account` × conflict body `with_hold` or
//! `message_only`, with the idempotency key ignored), nobody is locked out
//! of their own seat, nothing is held twice, and every other candidate is
//! told when the seat frees. Each test checks that its fault happened: the
//! proxy saw the upstream carry the request out.

use crate::support::{Mode, Stack, Widget};
use booking_core::api::PayOption;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Course 1, which the test account has credits for.
const COURSE: u64 = 1;

/// The four profiles: hold scope × conflict body, the key ignored.
fn profiles() -> Vec<Value> {
    let mut all = Vec::new();
    for scope in ["event", "account"] {
        for conflict_body in ["with_hold", "message_only"] {
            all.push(json!({
                "hold_scope": scope,
                "conflict_body": conflict_body,
                "idempotency": "ignored",
            }));
        }
    }
    all
}

async fn stack_with(profile: &Value) -> Stack {
    let stack = Stack::start_with(|config, _| config.pay_options = PayOption::KNOWN.to_vec()).await;
    stack.set_profile(profile.clone()).await;
    stack
}

/// Whether the proxy saw the upstream carry out `method path` (a 2xx) whose
/// answer the gateway never got.
fn carried_out(stack: &Stack, method: Method, path: &str) -> bool {
    stack
        .proxy
        .seen()
        .iter()
        .any(|seen| seen.method == method && seen.path == path && (200..300).contains(&seen.status))
}

/// A hold on `event_id` whose answer is lost after the upstream made it.
async fn hold_losing_the_answer(stack: &Stack, candidate: &Widget, event_id: u64) {
    let path = format!("/training-events/{event_id}/hold");
    stack.proxy.set_mode(Mode::LoseAnswer {
        method: Method::POST,
        path: path.clone(),
    });
    let lost = candidate.hold(event_id, None).await;
    assert_eq!(lost.status, StatusCode::BAD_GATEWAY, "{}", lost.text);
    assert!(
        carried_out(stack, Method::POST, &path),
        "the upstream held the seat"
    );
}

#[tokio::test]
async fn a_hold_whose_answer_was_lost_is_the_candidates_under_every_profile() {
    for profile in profiles() {
        let stack = stack_with(&profile).await;
        let event_id = stack.create_event(COURSE, 5).await;
        let candidate = stack.widget().await;
        hold_losing_the_answer(&stack, &candidate, event_id).await;

        let again = candidate.hold(event_id, None).await;
        let other_event = if profile["hold_scope"] == "account" {
            stack.create_event(COURSE, 5).await
        } else {
            event_id
        };
        let other = stack.widget().await.hold(other_event, None).await;
        assert_eq!(
            other.status,
            StatusCode::CONFLICT,
            "{profile}: {}",
            other.text
        );
        let frees_in = other.body["free_in_seconds"].as_i64();
        assert!(
            frees_in.is_some_and(|seconds| (1780..=1800).contains(&seconds)),
            "{profile}: another candidate is told when the seat frees: {}",
            other.text
        );
        if profile["conflict_body"] == "with_hold" {
            assert_eq!(again.status, StatusCode::OK, "{profile}: {}", again.text);
            let left = again.body["hold"]["expires_in_seconds"]
                .as_i64()
                .unwrap_or(0);
            assert!((1780..=1800).contains(&left), "{profile}: {}", again.text);
            let hold_ref = again.body["hold_ref"].as_str().expect("a hold_ref");
            let booked = candidate
                .book(hold_ref, &PayOption::Credits, "after-a-lost-hold")
                .await;
            assert_eq!(
                booked.status,
                StatusCode::CREATED,
                "{profile}: {}",
                booked.text
            );
            assert_eq!(stack.bookings_on(event_id).await.len(), 1, "{profile}");
        } else {
            assert_eq!(
                again.status,
                StatusCode::CONFLICT,
                "{profile}: {}",
                again.text
            );
            let message = again.body["message"].as_str().unwrap_or_default();
            assert!(
                message.starts_with("We could not confirm your hold. It is kept for you until"),
                "{profile}: the candidate is told the truth: {message}"
            );
            let frees_in = again.body["free_in_seconds"].as_i64();
            assert!(
                frees_in.is_some_and(|seconds| (1780..=1800).contains(&seconds)),
                "{profile}: counted from the lost request: {}",
                again.text
            );
        }
    }
}

#[tokio::test]
async fn a_timeslot_hold_whose_answer_was_lost_is_the_candidates() {
    for conflict_body in ["with_hold", "message_only"] {
        let stack = Stack::start_both(|_, _| {}).await;
        stack
            .set_profile(json!({"conflict_body": conflict_body, "idempotency": "ignored"}))
            .await;
        let candidate =
            Widget::start_for(stack.client.clone(), stack.gateway.url(), "virtual-bls").await;
        let slot = stack.bls_slots(&candidate).await[0].clone();
        stack.proxy.set_mode(Mode::LoseAnswer {
            method: Method::POST,
            path: "/bls/api/v1/timeslots/hold".to_owned(),
        });
        let lost = candidate.hold_slot(&slot, None).await;
        assert_eq!(lost.status, StatusCode::BAD_GATEWAY, "{}", lost.text);
        assert!(carried_out(
            &stack,
            Method::POST,
            "/bls/api/v1/timeslots/hold"
        ));

        let again = candidate.hold_slot(&slot, None).await;
        if conflict_body == "with_hold" {
            assert_eq!(
                again.status,
                StatusCode::OK,
                "{conflict_body}: {}",
                again.text
            );
            let hold_ref = again.body["hold_ref"].as_str().expect("a hold_ref");
            let booked = candidate
                .book_slot(hold_ref, "credits", "after-a-lost-slot")
                .await;
            assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);
        } else {
            assert_eq!(
                again.status,
                StatusCode::CONFLICT,
                "{conflict_body}: {}",
                again.text
            );
            let message = again.body["message"].as_str().unwrap_or_default();
            assert!(
                message.starts_with("We could not confirm your hold."),
                "{message}"
            );
            assert!(again.body["free_in_seconds"]
                .as_i64()
                .is_some_and(|s| s > 1700));
        }
    }
}

#[tokio::test]
async fn a_release_whose_answer_was_lost_is_sent_again_and_the_seat_is_free() {
    for profile in profiles() {
        let stack = stack_with(&profile).await;
        let event_id = stack.create_event(COURSE, 5).await;
        let candidate = stack.widget().await;
        let hold_ref = candidate.hold_ref(event_id).await;
        let hash = hold_ref.split('.').next().expect("a hash");
        let path = format!("/training-events/hold/{hash}");
        stack.proxy.set_mode(Mode::LoseAnswer {
            method: Method::DELETE,
            path: path.clone(),
        });
        let released = candidate.delete(&format!("/holds/{hold_ref}")).await;
        assert!(carried_out(&stack, Method::DELETE, &path), "{profile}");
        assert_eq!(
            released.status,
            StatusCode::NO_CONTENT,
            "{profile}: {}",
            released.text
        );
        let other = stack.widget().await;
        let held = other.hold(event_id, None).await;
        assert_eq!(
            held.status,
            StatusCode::OK,
            "{profile}: the seat is free: {}",
            held.text
        );
    }
}

#[tokio::test]
async fn a_renewal_whose_release_answer_was_lost_leaves_the_candidate_a_seat() {
    for profile in profiles() {
        let stack = stack_with(&profile).await;
        let event_id = stack.create_event(COURSE, 5).await;
        let candidate = stack.widget().await;
        let old_ref = candidate.hold_ref(event_id).await;
        let hash = old_ref.split('.').next().expect("a hash");
        let path = format!("/training-events/hold/{hash}");
        stack.proxy.set_mode(Mode::LoseAnswer {
            method: Method::DELETE,
            path: path.clone(),
        });
        let renewed = candidate
            .post(
                "/holds",
                json!({"event_id": event_id, "hold_ref": old_ref, "renew": true}),
                &[],
            )
            .await;
        assert!(
            carried_out(&stack, Method::DELETE, &path),
            "{profile}: the release happened"
        );
        assert_eq!(
            renewed.status,
            StatusCode::OK,
            "{profile}: {}",
            renewed.text
        );
        let new_ref = renewed.body["hold_ref"].as_str().expect("a hold_ref");
        let booked = candidate
            .book(new_ref, &PayOption::Credits, "after-a-lost-release")
            .await;
        assert_eq!(
            booked.status,
            StatusCode::CREATED,
            "{profile}: {}",
            booked.text
        );
        assert_eq!(stack.bookings_on(event_id).await.len(), 1, "{profile}");
    }
}

#[tokio::test]
async fn a_renewal_whose_new_hold_answer_was_lost_leaves_the_candidate_their_seat() {
    for profile in profiles() {
        let stack = stack_with(&profile).await;
        let event_id = stack.create_event(COURSE, 5).await;
        let candidate = stack.widget().await;
        let old_ref = candidate.hold_ref(event_id).await;
        let path = format!("/training-events/{event_id}/hold");
        // The renewal's first hold meets the live hold (409); the old hold is
        // released; the seat is held again, and that answer is lost.
        stack.proxy.fault_after(
            crate::support::Target::exactly(Method::POST, path.clone()),
            1,
            crate::support::Fault::LostAnswer,
        );
        let renew = json!({"event_id": event_id, "hold_ref": old_ref, "renew": true});
        let lost = candidate.post("/holds", renew.clone(), &[]).await;
        assert_eq!(
            lost.status,
            StatusCode::BAD_GATEWAY,
            "{profile}: {}",
            lost.text
        );
        assert_eq!(
            stack.proxy.faulted(crate::support::Fault::LostAnswer).len(),
            1,
            "{profile}: the new hold's answer was lost"
        );

        let again = candidate.post("/holds", renew, &[]).await;
        let other = stack.widget().await.hold(event_id, None).await;
        assert_eq!(
            other.status,
            StatusCode::CONFLICT,
            "{profile}: the seat stays the candidate's: {}",
            other.text
        );
        if profile["conflict_body"] == "with_hold" {
            assert_eq!(again.status, StatusCode::OK, "{profile}: {}", again.text);
            let new_ref = again.body["hold_ref"].as_str().expect("a hold_ref");
            let booked = candidate
                .book(new_ref, &PayOption::Credits, "after-a-lost-renewal")
                .await;
            assert_eq!(
                booked.status,
                StatusCode::CREATED,
                "{profile}: {}",
                booked.text
            );
        } else {
            assert_eq!(
                again.status,
                StatusCode::CONFLICT,
                "{profile}: {}",
                again.text
            );
            let message = again.body["message"].as_str().unwrap_or_default();
            assert!(
                message.starts_with("We could not confirm your hold."),
                "{profile}: {message}"
            );
        }
    }
}
