//! The fault table: every upstream call the gateway makes, crossed with
//! every fault a network or an upstream can throw at it, under the four
//! profiles that decide what the upstream's 409 says (hold scope `event` or
//! `account` × conflict body `with_hold` or `message_only`, the idempotency
//! key ignored), then under both hold scopes again with only the fields the
//! published documents show (`shape=documented`: no 409 body at all).
//!
//! Each row puts one fault on one call and checks three things:
//! - what the widget gets: never a 500, always a JSON message in plain words
//!   (`crate::support::send` insists on one for every error), and, asked
//!   again as the widget would, the outcome the candidate wanted;
//! - what the sandbox holds afterwards: one booking and one charge for a
//!   booking, a free seat after a release, the candidate's own seat after a
//!   hold;
//! - that the fault happened: the proxy counts it on that call.
//!
//! The faults: the answer lost after the upstream acted (its body breaks
//! off), the connection closed before the request was read, no answer
//! within the gateway's upstream timeout (the upstream acted), a 500, a 429
//! with `Retry-After`, and cut-off JSON (the upstream acted). Each test
//! prints its rows: `| call | fault | profile | first answer | asked again |`.

use std::time::Duration;

use crate::support::{Fault, Reply, Stack, Target, Widget};
use booking_core::api::PayOption;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The course the Practical Training rows book (the accounts have credits).
const COURSE: u64 = 1;

/// The gateway's upstream timeout in these tests, and the delay of the
/// timeout fault, past it.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(1);
const LATE: Duration = Duration::from_millis(1_500);

/// The faults a row can put on its call.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Injected {
    /// A fault on the call itself.
    Upstream(Fault),
    /// The call's connection closed before the request was read.
    Closed,
}

const FAULTS: [Injected; 6] = [
    Injected::Upstream(Fault::LostAnswer),
    Injected::Closed,
    Injected::Upstream(Fault::Timeout(LATE)),
    Injected::Upstream(Fault::ServerError),
    Injected::Upstream(Fault::RateLimited(1)),
    Injected::Upstream(Fault::Malformed),
];

impl Injected {
    /// Whether the upstream carried the call out before its answer went
    /// wrong.
    fn acted(self) -> bool {
        matches!(
            self,
            Injected::Upstream(Fault::LostAnswer | Fault::Timeout(_) | Fault::Malformed)
        )
    }

    fn name(self) -> &'static str {
        match self {
            Injected::Upstream(Fault::LostAnswer) => "answer lost",
            Injected::Closed => "connection closed",
            Injected::Upstream(Fault::Timeout(_)) => "timeout",
            Injected::Upstream(Fault::ServerError) => "500",
            Injected::Upstream(Fault::RateLimited(_)) => "429",
            Injected::Upstream(Fault::Malformed) => "malformed JSON",
            Injected::Upstream(Fault::Unauthorized) => "401",
        }
    }
}

/// The four profiles with every field, then both hold scopes with only the
/// documented fields (`shape=documented` answers no 409 body, so the
/// conflict body makes no difference there).
fn profiles() -> Vec<Value> {
    let mut all = Vec::new();
    for scope in ["event", "account"] {
        for conflict_body in ["with_hold", "message_only"] {
            all.push(json!({
                "hold_scope": scope,
                "conflict_body": conflict_body,
                "idempotency": "ignored",
                "shape": "full",
            }));
        }
    }
    for scope in ["event", "account"] {
        all.push(json!({
            "hold_scope": scope,
            "conflict_body": "with_hold",
            "idempotency": "ignored",
            "shape": "documented",
        }));
    }
    all
}

/// A profile as a row names it: scope/conflict body/shape.
fn profile_name(profile: &Value) -> String {
    let word = |switch: &str| profile[switch].as_str().unwrap_or_default().to_owned();
    format!(
        "{}/{}/{}",
        word("hold_scope"),
        word("conflict_body"),
        word("shape")
    )
}

/// The upstream calls of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    Token,
    Refresh,
    Profile,
    Courses,
    Events,
    Timeslots,
    Hold,
    SlotHold,
    Release,
    SlotRelease,
    Booking,
    SlotBooking,
    BookingsList,
    BookingGet,
}

/// What a row's action works on.
struct Scene {
    stack: Stack,
    widget: Widget,
    event_id: u64,
    slot: Value,
    hold_ref: String,
    booking_ref: String,
    credits_before: i64,
}

/// A stack for `profile`: both products, every pay option, a short upstream
/// timeout, and an upstream connection per call.
async fn stack(profile: &Value) -> Stack {
    let stack = Stack::start_both(|config, _| {
        config.pay_options = PayOption::KNOWN.to_vec();
        config.upstream_timeout = UPSTREAM_TIMEOUT;
    })
    .await;
    stack.set_profile(profile.clone()).await;
    stack.proxy.one_call_per_connection();
    stack
}

fn bls_widget(stack: &Stack) -> impl std::future::Future<Output = Widget> + '_ {
    Widget::start_for(stack.client.clone(), stack.gateway.url(), "virtual-bls")
}

/// Sets the scene of `call`'s row, up to the moment its action makes the
/// call.
async fn scene(call: Call, profile: &Value) -> Scene {
    let stack = stack(profile).await;
    let event_id = stack.create_event(COURSE, 5).await;
    let blank = Widget {
        client: stack.client.clone(),
        base: stack.gateway.url().to_owned(),
        session: String::new(),
    };
    let widget = match call {
        Call::Token | Call::Profile => blank,
        Call::Timeslots | Call::SlotHold | Call::SlotRelease | Call::SlotBooking => {
            bls_widget(&stack).await
        }
        _ => stack.widget().await,
    };
    let slot = match call {
        Call::SlotHold | Call::SlotRelease | Call::SlotBooking => {
            stack.bls_slots(&widget).await[0].clone()
        }
        _ => Value::Null,
    };
    let hold_ref = match call {
        Call::Release | Call::Booking | Call::BookingsList | Call::BookingGet => {
            widget.hold_ref(event_id).await
        }
        Call::SlotRelease | Call::SlotBooking => widget.slot_hold_ref(&slot).await,
        _ => String::new(),
    };
    let (credits_before, _) = stack.wallet(COURSE).await;
    let booking_ref = match call {
        Call::BookingsList => {
            stack.proxy.fault_next(
                Target::exactly(Method::POST, "/bookings"),
                Fault::LostAnswer,
            );
            let lost = widget.book(&hold_ref, &PayOption::Credits, "row-key").await;
            assert!(lost.status.is_server_error(), "{}", lost.text);
            String::new()
        }
        Call::BookingGet => {
            let booked = widget.book(&hold_ref, &PayOption::Credits, "row-key").await;
            assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);
            booked.body["booking_ref"]
                .as_str()
                .expect("a ref")
                .to_owned()
        }
        _ => String::new(),
    };
    if call == Call::Refresh {
        stack.proxy.fault_next(
            Target::exactly(Method::GET, "/training-events"),
            Fault::Unauthorized,
        );
    }
    Scene {
        stack,
        widget,
        event_id,
        slot,
        hold_ref,
        booking_ref,
        credits_before,
    }
}

/// The upstream call a row puts its fault on, and how many connections its
/// action opens before that call's.
fn target(call: Call, scene: &Scene) -> (Target, usize) {
    let hash = scene.hold_ref.split('.').next().unwrap_or_default();
    match call {
        Call::Token => (Target::exactly(Method::POST, "/auth/token"), 0),
        Call::Refresh => (Target::exactly(Method::POST, "/auth/refresh"), 1),
        Call::Profile => (Target::exactly(Method::GET, "/profile"), 1),
        Call::Courses => (Target::exactly(Method::GET, "/courses"), 0),
        Call::Events => (Target::exactly(Method::GET, "/training-events"), 0),
        Call::Timeslots => (Target::exactly(Method::GET, "/bls/api/v1/timeslots"), 0),
        Call::Hold => (
            Target::exactly(
                Method::POST,
                format!("/training-events/{}/hold", scene.event_id),
            ),
            0,
        ),
        Call::SlotHold => (
            Target::exactly(Method::POST, "/bls/api/v1/timeslots/hold"),
            0,
        ),
        Call::Release => (
            Target::exactly(Method::DELETE, format!("/training-events/hold/{hash}")),
            0,
        ),
        Call::SlotRelease => (
            Target::exactly(Method::DELETE, format!("/bls/api/v1/timeslots/hold/{hash}")),
            0,
        ),
        Call::Booking => (Target::exactly(Method::POST, "/bookings"), 0),
        Call::SlotBooking => (Target::exactly(Method::POST, "/bls/api/v1/bookings"), 0),
        Call::BookingsList => (Target::exactly(Method::GET, "/bookings"), 0),
        Call::BookingGet => (Target::starting(Method::GET, "/bookings/"), 0),
    }
}

/// The row's action, as the widget takes it (and takes it again).
async fn act(call: Call, scene: &Scene) -> Reply {
    let widget = &scene.widget;
    match call {
        Call::Token | Call::Profile => widget.get("/options").await,
        Call::Refresh | Call::Events => {
            widget
                .get(&format!("/training-events?course_id={COURSE}"))
                .await
        }
        Call::Courses => widget.get("/courses").await,
        Call::Timeslots => {
            let (from, to) = scene.stack.bls_range(35).await;
            widget.timeslots(41, &from, &to).await
        }
        Call::Hold => widget.hold(scene.event_id, None).await,
        Call::SlotHold => widget.hold_slot(&scene.slot, None).await,
        Call::Release | Call::SlotRelease => {
            widget.delete(&format!("/holds/{}", scene.hold_ref)).await
        }
        Call::Booking | Call::BookingsList => {
            widget
                .book(&scene.hold_ref, &PayOption::Credits, "row-key")
                .await
        }
        Call::SlotBooking => {
            widget
                .book_slot(&scene.hold_ref, "credits", "row-key")
                .await
        }
        Call::BookingGet => {
            widget
                .get(&format!("/bookings/{}", scene.booking_ref))
                .await
        }
    }
}

/// What a hold asked for again must give the candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seat {
    /// Their seat, granted: the first request never took it, or the
    /// upstream's 409 named the hold it took.
    Granted,
    /// Told truthfully that the hold the lost answer took is kept for them
    /// (the 409 does not name it, so the gateway cannot hand it over).
    Kept,
}

/// What the candidate wanted, checked on the answer to the action asked
/// again and in the sandbox; `seat` is what a hold must give.
async fn check_outcome(call: Call, scene: &Scene, again: &Reply, seat: Seat, row: &str) {
    let stack = &scene.stack;
    match call {
        Call::Token | Call::Profile => {
            assert_eq!(again.status, StatusCode::OK, "{row}: {}", again.text);
            assert!(again.body["session"].is_string(), "{row}: {}", again.text);
        }
        Call::Refresh | Call::Courses | Call::Events | Call::Timeslots | Call::BookingGet => {
            assert_eq!(again.status, StatusCode::OK, "{row}: {}", again.text);
        }
        Call::Hold | Call::SlotHold => match seat {
            Seat::Granted => {
                assert_eq!(again.status, StatusCode::OK, "{row}: {}", again.text);
                assert!(again.body["hold_ref"].is_string(), "{row}: {}", again.text);
            }
            Seat::Kept => {
                assert_eq!(again.status, StatusCode::CONFLICT, "{row}: {}", again.text);
                let message = again.body["message"].as_str().unwrap_or_default();
                assert!(
                    message.starts_with("We could not confirm your hold. It is kept for you until"),
                    "{row}: {message}"
                );
                assert!(
                    again.body["free_in_seconds"].as_i64().is_some(),
                    "{row}: {}",
                    again.text
                );
            }
        },
        Call::Release | Call::SlotRelease => {
            let message = again.body["message"].as_str().unwrap_or_default();
            let already = again.status == StatusCode::UNPROCESSABLE_ENTITY
                && (message == "This hold has already been released."
                    || message.starts_with("This seat is no longer held"));
            assert!(
                [StatusCode::NO_CONTENT, StatusCode::NOT_FOUND].contains(&again.status) || already,
                "{row}: {}",
                again.text
            );
            let other = if call == Call::Release {
                stack.widget().await.hold(scene.event_id, None).await
            } else {
                bls_widget(stack).await.hold_slot(&scene.slot, None).await
            };
            assert_eq!(
                other.status,
                StatusCode::OK,
                "{row}: the released seat is free for another candidate: {}",
                other.text
            );
        }
        Call::Booking | Call::BookingsList | Call::SlotBooking => {
            assert_eq!(again.status, StatusCode::CREATED, "{row}: {}", again.text);
            if call == Call::SlotBooking {
                let (_, list) = stack.bls_sandbox_get("/bookings?per_page=100").await;
                let made = list["data"].as_array().map_or(0, Vec::len);
                assert_eq!(made, 1, "{row}: one Virtual BLS booking");
            } else {
                assert_eq!(stack.bookings_on(scene.event_id).await.len(), 1, "{row}");
                let (credits, _) = stack.wallet(COURSE).await;
                assert_eq!(credits, scene.credits_before - 1, "{row}: charged once");
            }
        }
    }
}

/// Runs every row of `call`, printing each.
async fn rows(call: Call) {
    for profile in profiles() {
        for injected in FAULTS {
            let row = format!(
                "{call:?} × {} × {}",
                injected.name(),
                profile_name(&profile)
            );
            let scene = scene(call, &profile).await;
            let (target, before) = target(call, &scene);
            match injected {
                Injected::Upstream(fault) => scene.stack.proxy.fault_next(target.clone(), fault),
                Injected::Closed => scene.stack.proxy.refuse_connection_after(before),
            }
            let first = act(call, &scene).await;
            assert_ne!(
                first.status,
                StatusCode::INTERNAL_SERVER_ERROR,
                "{row}: {}",
                first.text
            );
            match injected {
                Injected::Upstream(fault) => {
                    let faulted = scene.stack.proxy.faulted(fault);
                    assert!(
                        faulted.iter().any(|seen| target.method == seen.method
                            && (seen.path == target.path
                                || (target.prefix && seen.path.starts_with(&target.path)))),
                        "{row}: the fault was put on the call"
                    );
                }
                Injected::Closed => {
                    assert_eq!(
                        scene.stack.proxy.refused(),
                        1,
                        "{row}: a connection was closed"
                    )
                }
            }
            let again = act(call, &scene).await;
            let hold_named = profile["conflict_body"] == "with_hold" && profile["shape"] == "full";
            let seat = if injected.acted() && !hold_named {
                Seat::Kept
            } else {
                Seat::Granted
            };
            check_outcome(call, &scene, &again, seat, &row).await;
            println!(
                "| {call:?} | {} | {} | {} {} | {} |",
                injected.name(),
                profile_name(&profile),
                first.status.as_u16(),
                first.body["message"].as_str().unwrap_or("(no body)"),
                again.status.as_u16()
            );
        }
    }
}

#[tokio::test]
async fn faults_on_the_token_exchange() {
    rows(Call::Token).await;
}

#[tokio::test]
async fn faults_on_the_token_refresh() {
    rows(Call::Refresh).await;
}

#[tokio::test]
async fn faults_on_the_profile() {
    rows(Call::Profile).await;
}

#[tokio::test]
async fn faults_on_the_courses() {
    rows(Call::Courses).await;
}

#[tokio::test]
async fn faults_on_the_training_events() {
    rows(Call::Events).await;
}

#[tokio::test]
async fn faults_on_the_timeslots() {
    rows(Call::Timeslots).await;
}

#[tokio::test]
async fn faults_on_a_hold() {
    rows(Call::Hold).await;
}

#[tokio::test]
async fn faults_on_a_timeslot_hold() {
    rows(Call::SlotHold).await;
}

#[tokio::test]
async fn faults_on_a_release() {
    rows(Call::Release).await;
}

#[tokio::test]
async fn faults_on_a_timeslot_release() {
    rows(Call::SlotRelease).await;
}

#[tokio::test]
async fn faults_on_a_booking() {
    rows(Call::Booking).await;
}

#[tokio::test]
async fn faults_on_a_virtual_bls_booking() {
    rows(Call::SlotBooking).await;
}

#[tokio::test]
async fn faults_on_the_bookings_list_a_lost_answer_is_looked_for_in() {
    rows(Call::BookingsList).await;
}

#[tokio::test]
async fn faults_on_reading_a_booking() {
    rows(Call::BookingGet).await;
}
