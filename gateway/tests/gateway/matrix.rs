//! The gateway under every combination of the sandbox's upstream profile
//! switches that decide money and seats (hold scope × idempotency × conflict
//! body), each with every field the sandbox knows and again with only the
//! documented ones (`shape=documented`, where every error body, the 409's
//! too, is empty, so the conflict body makes no difference), along each
//! booking path: a booking with each pay option, an
//! answer lost on the way back from the upstream, a hold asked for again,
//! two candidates on one event, and a hold that lapses (holds whose answers
//! the upstream's hop loses are in `lost_answers`). In each: exactly one
//! booking and one charge per attempt (checked in the sandbox), and no
//! candidate locked out of their own seat.

use crate::support::{Mode, Stack};
use booking_core::api::PayOption;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Course 1, which the test account has credits for.
const COURSE: u64 = 1;

const SCOPES: [&str; 3] = ["event", "account", "none"];
const IDEMPOTENCY: [&str; 2] = ["honoured", "ignored"];
const CONFLICT_BODIES: [&str; 2] = ["with_hold", "message_only"];

/// Every combination, as a JSON object of switches: each conflict body with
/// every field, and the documented shape once (it answers no 409 body).
fn profiles() -> Vec<Value> {
    let mut all = Vec::new();
    for scope in SCOPES {
        for idempotency in IDEMPOTENCY {
            for conflict_body in CONFLICT_BODIES {
                all.push(json!({
                    "hold_scope": scope,
                    "idempotency": idempotency,
                    "conflict_body": conflict_body,
                    "shape": "full",
                }));
            }
            all.push(json!({
                "hold_scope": scope,
                "idempotency": idempotency,
                "conflict_body": "with_hold",
                "shape": "documented",
            }));
        }
    }
    all
}

/// A stack allowing every pay option (and the sandbox's checkout page),
/// with the upstream set to `profile`.
async fn stack_with(profile: &Value) -> Stack {
    let stack = Stack::start_with(|config, sandbox| {
        config.pay_options = PayOption::KNOWN.to_vec();
        config.payment_origins = vec![sandbox.url().to_owned()];
    })
    .await;
    stack.set_profile(profile.clone()).await;
    stack
}

/// The event's price in pence.
async fn price_pence(stack: &Stack, event_id: u64) -> i64 {
    let (_, event) = stack
        .sandbox_get(&format!("/training-events/{event_id}"))
        .await;
    (event["cost_inc_vat"].as_f64().expect("a price") * 100.0).round() as i64
}

#[tokio::test]
async fn each_pay_option_books_once_and_charges_as_it_should_under_every_profile() {
    for profile in profiles() {
        let stack = stack_with(&profile).await;
        for option in PayOption::KNOWN {
            let event_id = stack.create_event(COURSE, 5).await;
            let price = price_pence(&stack, event_id).await;
            let (credits, balance) = stack.wallet(COURSE).await;
            // Each option's event starts when the others do: count the new one.
            let before = stack.bookings_on(event_id).await.len();
            let candidate = stack.widget().await;
            let hold_ref = candidate.hold_ref(event_id).await;
            let made = candidate.book(&hold_ref, &option, "attempt-1").await;
            assert_eq!(
                made.status,
                StatusCode::CREATED,
                "{profile} {option:?}: {}",
                made.text
            );
            let again = candidate.book(&hold_ref, &option, "attempt-1").await;
            assert_eq!(
                again.status,
                StatusCode::CREATED,
                "{profile} {option:?}: {}",
                again.text
            );
            assert_eq!(again.body["booking"]["id"], made.body["booking"]["id"]);
            assert_eq!(
                stack.bookings_on(event_id).await.len(),
                before + 1,
                "{profile} {option:?}"
            );
            let expected = match option {
                PayOption::Credits => (credits - 1, balance),
                PayOption::Balance => (credits, balance - price),
                _ => (credits, balance),
            };
            assert_eq!(stack.wallet(COURSE).await, expected, "{profile} {option:?}");
            let pending = option == PayOption::CandidatePays;
            assert_eq!(
                made.body["booking"]["payment_url"].is_string(),
                pending,
                "{profile} {option:?}: a payment page only for the candidate's card"
            );
        }
    }
}

#[tokio::test]
async fn a_booking_answer_lost_upstream_books_and_charges_once_under_every_profile() {
    for profile in profiles() {
        let stack = stack_with(&profile).await;
        let event_id = stack.create_event(COURSE, 5).await;
        let (credits, balance) = stack.wallet(COURSE).await;
        let candidate = stack.widget().await;
        let hold_ref = candidate.hold_ref(event_id).await;
        stack.proxy.set_mode(Mode::LoseAnswer {
            method: Method::POST,
            path: "/bookings".to_owned(),
        });
        let lost = candidate
            .book(&hold_ref, &PayOption::Credits, "attempt-1")
            .await;
        assert_eq!(
            lost.status,
            StatusCode::BAD_GATEWAY,
            "{profile}: {}",
            lost.text
        );
        assert_eq!(
            lost.body["message"],
            "The booking service is not reachable. Please try again in a moment.",
            "{profile}"
        );
        let retried = candidate
            .book(&hold_ref, &PayOption::Credits, "attempt-1")
            .await;
        assert_eq!(
            retried.status,
            StatusCode::CREATED,
            "{profile}: {}",
            retried.text
        );
        let made = stack.bookings_on(event_id).await;
        assert_eq!(made.len(), 1, "{profile}: {made:?}");
        assert_eq!(retried.body["booking"]["id"], made[0]["id"], "{profile}");
        assert_eq!(
            stack.wallet(COURSE).await,
            (credits - 1, balance),
            "{profile}"
        );
    }
}

/// The candidate asks for the hold again (its answer lost on the way to
/// the browser, or a double click): the gateway gives back their own.
#[tokio::test]
async fn a_hold_asked_for_again_is_the_candidates_own_seat_under_every_profile() {
    for profile in profiles() {
        let stack = stack_with(&profile).await;
        let event_id = stack.create_event(COURSE, 5).await;
        let candidate = stack.widget().await;
        let first = candidate.hold(event_id, None).await;
        assert_eq!(first.status, StatusCode::OK, "{profile}: {}", first.text);
        let again = candidate.hold(event_id, None).await;
        assert_eq!(again.status, StatusCode::OK, "{profile}: {}", again.text);
        let hold_ref = again.body["hold_ref"].as_str().expect("a hold_ref");
        if profile["hold_scope"] != "none" {
            // An upstream allowing one hold per event or account answers the
            // second request 409, and the gateway gives back the first hold.
            assert_eq!(
                again.body["hold_ref"], first.body["hold_ref"],
                "{profile}: the same hold, not a second one"
            );
        }
        let booked = candidate
            .book(hold_ref, &PayOption::Credits, "attempt-1")
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
async fn two_candidates_on_one_event_are_told_honestly_under_every_profile() {
    for profile in profiles() {
        let stack = stack_with(&profile).await;
        let event_id = stack.create_event(COURSE, 5).await;
        let first = stack.widget().await;
        let first_ref = first.hold_ref(event_id).await;
        let second = stack.widget().await;
        let taken = second.hold(event_id, None).await;
        if profile["hold_scope"] == "none" {
            assert_eq!(taken.status, StatusCode::OK, "{profile}: {}", taken.text);
            let second_ref = taken.body["hold_ref"].as_str().expect("a hold_ref");
            let booked = second.book(second_ref, &PayOption::Credits, "second").await;
            assert_eq!(
                booked.status,
                StatusCode::CREATED,
                "{profile}: {}",
                booked.text
            );
        } else {
            assert_eq!(
                taken.status,
                StatusCode::CONFLICT,
                "{profile}: {}",
                taken.text
            );
            let message = taken.body["message"].as_str().unwrap_or_default();
            assert!(
                message.starts_with("Another candidate is booking this date right now."),
                "{profile}: {message}"
            );
            let frees_in = taken.body["free_in_seconds"].as_i64();
            assert!(
                frees_in.is_some_and(|seconds| (1780..=1800).contains(&seconds)),
                "{profile}: {}",
                taken.text
            );
            assert!(
                taken.body.get("hold_ref").is_none(),
                "{profile}: not disclosed"
            );
        }
        let booked = first.book(&first_ref, &PayOption::Credits, "first").await;
        assert_eq!(
            booked.status,
            StatusCode::CREATED,
            "{profile}: {}",
            booked.text
        );
        let expected = if profile["hold_scope"] == "none" {
            2
        } else {
            1
        };
        assert_eq!(
            stack.bookings_on(event_id).await.len(),
            expected,
            "{profile}"
        );
    }
}

#[tokio::test]
async fn a_lapsed_hold_is_refused_and_held_again_under_every_profile() {
    for profile in profiles() {
        let stack = stack_with(&profile).await;
        let event_id = stack.create_event(COURSE, 5).await;
        let candidate = stack.widget().await;
        let lapsed = candidate.hold_ref(event_id).await;
        stack.advance_clock(1801).await;
        let refused = candidate
            .book(&lapsed, &PayOption::Credits, "attempt-1")
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{profile}: {}",
            refused.text
        );
        if profile["shape"] == "full" {
            assert!(
                refused.body["errors"]["hold_ref"][0].is_string(),
                "{profile}: the lapsed hold is named: {}",
                refused.text
            );
        } else {
            // An upstream that sends no reason leaves the gateway none to give.
            assert_eq!(
                refused.body["message"], "The booking service did not accept the request.",
                "{profile}"
            );
        }
        assert!(stack.bookings_on(event_id).await.is_empty(), "{profile}");
        let fresh = candidate.hold_ref(event_id).await;
        let booked = candidate
            .book(&fresh, &PayOption::Credits, "attempt-2")
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
