//! The booking flow: every transition in a table (legal and illegal), the
//! idempotency rules, data kept across failures, host events, and a property
//! test of the invariants over random input sequences.

mod common;

use booking_core::api::{
    BookingStatus, CourseRef, PayOption, PayStatus, TrainingEvent, ValidationError,
};
use booking_core::flow::{
    Command, Dates, FailureKind, Flow, HostEvent, Input, Intent, Outcome, Recovery, Refusal,
    SeatConflict, Step,
};
use booking_core::product::Product;
use booking_core::redirect::PaymentRedirectPolicy;
use booking_core::validation::{CandidateForm, FormField};
use booking_core::widget_api::ErrorAnswer;
use common::*;
use proptest::prelude::*;

/// What a row expects.
enum Expect {
    /// The input applies: the new step and the commands' tags.
    Moves(Step, &'static [&'static str]),
    /// The input is refused: the reason and the only commands (releases).
    Refused(Refusal, &'static [&'static str]),
}

use Expect::{Moves, Refused};

/// The tag of the redirect to [`STRIPE_URL`].
const REDIRECT_TO_STRIPE: &str = "redirect https://checkout.stripe.com/c/pay/cs_test_a1B2c3";

fn tick(prev_ms: f64, now_ms: f64) -> Input {
    Intent::Tick { prev_ms, now_ms }.into()
}

fn booked(status: BookingStatus, pay: PayStatus, option: PayOption, url: Option<&str>) -> Input {
    created(booking(status, pay, option, url))
}

#[test]
fn every_transition_in_the_table() {
    assert_eq!(REDIRECT_TO_STRIPE, format!("redirect {STRIPE_URL}"));
    use BookingStatus as B;
    use PayOption as P;
    use PayStatus as S;
    let evil = "https://checkout.stripe.com.evil.example/pay";
    let other_course = event_for(77, 3, 5);
    let full = event_for(43, COURSE_ID, 0);
    #[rustfmt::skip]
    let table: Vec<(&str, At, Input, Expect)> = vec![
        // Choose a course
        ("course chosen", At::ChooseCourse, Intent::ChooseCourse(course()).into(), Moves(Step::ChooseLocation, &["hbg:course-chosen", "load-dates 2"])),
        ("location before course", At::ChooseCourse, Intent::ChooseLocation(Some(5)).into(), Refused(Refusal::CourseNotChosen, &[])),
        ("event before course", At::ChooseCourse, Intent::ChooseEvent(event(41)).into(), Refused(Refusal::CourseNotChosen, &[])),
        ("back from the first step", At::ChooseCourse, Intent::Back.into(), Refused(Refusal::NothingToGoBackTo, &[])),
        ("continue with no hold", At::ChooseCourse, Intent::ContinueToPayment.into(), Refused(Refusal::NotInThisStep, &[])),
        ("submit with no hold", At::ChooseCourse, submit("K1"), Refused(Refusal::NotInThisStep, &[])),
        ("expiry with no hold", At::ChooseCourse, Intent::HoldExpired.into(), Refused(Refusal::NoLiveHold, &[])),
        ("retry with nothing failed", At::ChooseCourse, Intent::Retry.into(), Refused(Refusal::NothingToRetry, &[])),
        ("prefill the form", At::ChooseCourse, Intent::EditForm(typed_form()).into(), Moves(Step::ChooseCourse, &[])),
        ("tick with no hold", At::ChooseCourse, tick(0.0, 1000.0), Moves(Step::ChooseCourse, &[])),
        ("release finished", At::ChooseCourse, Outcome::Released.into(), Moves(Step::ChooseCourse, &[])),
        ("hold nobody asked for is released", At::ChooseCourse, granted(41, "H-X"), Refused(Refusal::StaleOutcome, &["release H-X"])),
        ("booking nobody asked for", At::ChooseCourse, booked(B::Booked, S::Completed, P::Credits, None), Refused(Refusal::StaleOutcome, &[])),
        // Choose a location
        ("location chosen", At::ChooseLocation, Intent::ChooseLocation(Some(5)).into(), Moves(Step::ChooseEvent, &["hbg:location-chosen"])),
        ("any location", At::ChooseLocation, Intent::ChooseLocation(None).into(), Moves(Step::ChooseEvent, &["hbg:location-chosen"])),
        ("event before location", At::ChooseLocation, Intent::ChooseEvent(event(41)).into(), Refused(Refusal::NotInThisStep, &[])),
        ("back to courses", At::ChooseLocation, Intent::Back.into(), Moves(Step::ChooseCourse, &[])),
        ("change course", At::ChooseLocation, Intent::ChooseCourse(course()).into(), Moves(Step::ChooseLocation, &["hbg:course-chosen"])),
        // Choose an event
        ("event chosen asks for a hold", At::ChooseEvent, Intent::ChooseEvent(event(41)).into(), Moves(Step::Holding, &["hbg:event-chosen", "hold 41"])),
        ("full event", At::ChooseEvent, Intent::ChooseEvent(full.clone()).into(), Refused(Refusal::EventFull, &[])),
        ("event of another course", At::ChooseEvent, Intent::ChooseEvent(other_course.clone()).into(), Refused(Refusal::EventForAnotherCourse, &[])),
        ("back to locations", At::ChooseEvent, Intent::Back.into(), Moves(Step::ChooseLocation, &[])),
        ("change location filter", At::ChooseEvent, Intent::ChooseLocation(Some(6)).into(), Moves(Step::ChooseEvent, &["hbg:location-chosen"])),
        ("hold again with nothing to hold", At::ChooseEvent, Intent::HoldAgain.into(), Refused(Refusal::NotInThisStep, &[])),
        ("keep a seat not held", At::ChooseEvent, Intent::KeepMySeat { now_ms: 0.0 }.into(), Refused(Refusal::NoLiveHold, &[])),
        // Holding
        ("hold granted", At::Holding, granted(41, "H-41"), Moves(Step::Details, &["hbg:hold-created", "read-pay-options H-41"])),
        ("hold granted for another event", At::Holding, granted(99, "H-99"), Refused(Refusal::StaleOutcome, &["release H-99"])),
        ("409 with our hold on this event is adopted", At::Holding, conflict(Some("H-41"), Some(41), Some(1200)), Moves(Step::Details, &["hbg:hold-created", "read-pay-options H-41"])),
        ("409 with our hold, event unnamed, is adopted", At::Holding, conflict(Some("H-41"), None, Some(1200)), Moves(Step::Details, &["hbg:hold-created", "read-pay-options H-41"])),
        ("409 with our hold on another event: release, ask again", At::Holding, conflict(Some("H-40"), Some(40), Some(900)), Moves(Step::Holding, &["release H-40", "hold 41"])),
        ("409 with our lapsing hold: release, ask again", At::Holding, conflict(Some("H-41"), Some(41), Some(0)), Moves(Step::Holding, &["release H-41", "hold 41"])),
        ("409 held by someone else", At::Holding, conflict(None, None, Some(600)), Moves(Step::HoldConflict, &["load-dates 2", "hbg:error"])),
        ("422 on hold", At::Holding, Outcome::HoldRefused(ValidationError::default()).into(), Moves(Step::Failed, &["load-dates 2", "hbg:error"])),
        ("network failure on hold", At::Holding, Outcome::HoldFailed("timeout".into()).into(), Moves(Step::Failed, &["hbg:error"])),
        ("back cancels the hold request", At::Holding, Intent::Back.into(), Moves(Step::ChooseEvent, &[])),
        ("another event while holding", At::Holding, Intent::ChooseEvent(event(42)).into(), Refused(Refusal::HoldInProgress, &[])),
        ("another course while holding", At::Holding, Intent::ChooseCourse(course()).into(), Refused(Refusal::HoldInProgress, &[])),
        ("submit while holding", At::Holding, submit("K1"), Refused(Refusal::NotInThisStep, &[])),
        ("expiry while holding", At::Holding, Intent::HoldExpired.into(), Refused(Refusal::NoLiveHold, &[])),
        ("type while holding", At::Holding, Intent::EditForm(typed_form()).into(), Moves(Step::Holding, &[])),
        // Keep my seat: release then hold, back to where the candidate was
        ("seat kept", At::KeepingSeat, granted(41, "H-41b"), Moves(Step::Payment, &["hbg:hold-created"])),
        // Details
        ("details valid", At::Details, Intent::ContinueToPayment.into(), Moves(Step::Payment, &[])),
        ("blur re-checks a field", At::Details, Intent::CheckField(FormField::Email).into(), Moves(Step::Details, &[])),
        ("blur outside the details step", At::ChooseEvent, Intent::CheckField(FormField::Email).into(), Refused(Refusal::NotInThisStep, &[])),
        ("details missing", At::DetailsEmpty, Intent::ContinueToPayment.into(), Moves(Step::Details, &[])),
        ("back from details releases the hold", At::Details, Intent::Back.into(), Moves(Step::ChooseEvent, &["release H-41"])),
        ("hold expires on details", At::Details, Intent::HoldExpired.into(), Moves(Step::HoldExpired, &["announce", "hbg:hold-expired"])),
        ("ten minutes left", At::Details, tick(1_199_000.0, 1_200_500.0), Moves(Step::Details, &["announce", "hbg:hold-expiring"])),
        ("quiet tick", At::Details, tick(1_000.0, 2_000.0), Moves(Step::Details, &[])),
        ("tick past expiry", At::Details, tick(1_799_000.0, 1_800_001.0), Moves(Step::HoldExpired, &["announce", "hbg:hold-expired"])),
        ("tick long after an unseen expiry", At::Details, tick(1_900_000.0, 1_901_000.0), Moves(Step::HoldExpired, &["announce", "hbg:hold-expired"])),
        ("keep my seat too early", At::Details, Intent::KeepMySeat { now_ms: 1_000.0 }.into(), Refused(Refusal::NotExtendableYet, &[])),
        ("keep my seat in the final minute", At::Details, Intent::KeepMySeat { now_ms: 1_750_000.0, } .into(), Moves(Step::Holding, &["renew H-41 on 41"])),
        ("another event while a seat is held", At::Details, Intent::ChooseEvent(event(42)).into(), Refused(Refusal::SeatHeld, &[])),
        ("another course while a seat is held", At::Details, Intent::ChooseCourse(course()).into(), Refused(Refusal::SeatHeld, &[])),
        ("submit from details", At::Details, submit("K1"), Refused(Refusal::NotInThisStep, &[])),
        ("pay option on details", At::Details, Intent::ChoosePayOption(P::Credits).into(), Refused(Refusal::NotInThisStep, &[])),
        ("duplicate grant of our own hold", At::Details, granted(41, "H-41"), Refused(Refusal::StaleOutcome, &[])),
        ("late 409 naming our own hold", At::Details, conflict(Some("H-41"), Some(41), Some(1000)), Refused(Refusal::StaleOutcome, &[])),
        ("late 409 naming another hold", At::Details, conflict(Some("H-7"), Some(41), Some(1000)), Refused(Refusal::StaleOutcome, &["release H-7"])),
        ("start over releases the hold", At::Details, Intent::StartOver.into(), Moves(Step::ChooseCourse, &["release H-41"])),
        // Payment
        ("submit", At::Payment, submit("K1"), Moves(Step::Submitting, &["hbg:submit-started", "create-booking K1"])),
        ("submit without a key", At::Payment, submit(" "), Refused(Refusal::EmptyIdempotencyKey, &[])),
        ("submit without a pay option", At::PaymentNoOption, submit("K1"), Moves(Step::Payment, &[])),
        ("back from payment keeps the hold", At::Payment, Intent::Back.into(), Moves(Step::Details, &[])),
        ("unknown pay option", At::Payment, Intent::ChoosePayOption(P::Other("voucher".into())).into(), Refused(Refusal::UnknownPayOption, &[])),
        ("change pay option", At::Payment, Intent::ChoosePayOption(P::CandidatePays).into(), Moves(Step::Payment, &[])),
        ("hold expires on payment", At::Payment, Intent::HoldExpired.into(), Moves(Step::HoldExpired, &["announce", "hbg:hold-expired"])),
        ("continue again from payment", At::Payment, Intent::ContinueToPayment.into(), Refused(Refusal::NotInThisStep, &[])),
        // Submitting
        ("double click", At::Submitting, submit("K2"), Refused(Refusal::AlreadySubmitting, &[])),
        ("back while submitting", At::Submitting, Intent::Back.into(), Refused(Refusal::AlreadySubmitting, &[])),
        ("typing while submitting", At::Submitting, Intent::EditForm(CandidateForm::default()).into(), Refused(Refusal::AlreadySubmitting, &[])),
        ("start over while submitting", At::Submitting, Intent::StartOver.into(), Refused(Refusal::AlreadySubmitting, &[])),
        ("pay option while submitting", At::Submitting, Intent::ChoosePayOption(P::Balance).into(), Refused(Refusal::AlreadySubmitting, &[])),
        ("retry while submitting", At::Submitting, Intent::Retry.into(), Refused(Refusal::AlreadySubmitting, &[])),
        ("expiry while submitting: the server decides", At::Submitting, Intent::HoldExpired.into(), Refused(Refusal::NoLiveHold, &[])),
        ("booked with credits", At::Submitting, booked(B::Booked, S::Completed, P::Credits, None), Moves(Step::Confirmed, &["hbg:booking-created", "hbg:booking-confirmed"])),
        ("pending review", At::Submitting, booked(B::Pending, S::Completed, P::Credits, None), Moves(Step::PendingReview, &["hbg:booking-created"])),
        ("unknown status is not called confirmed", At::Submitting, booked(B::Other("waitlisted".into()), S::Completed, P::Inv, None), Moves(Step::PendingReview, &["hbg:booking-created"])),
        ("candidate pays on stripe", At::Submitting, booked(B::Pending, S::Pending, P::CandidatePays, Some(STRIPE_URL)), Moves(Step::AwaitingPayment, &["hbg:booking-created", "persist 9001", "hbg:payment-redirect", REDIRECT_TO_STRIPE])),
        ("candidate pays on a look-alike host", At::Submitting, booked(B::Pending, S::Pending, P::CandidatePays, Some(evil)), Moves(Step::Failed, &["hbg:booking-created", "hbg:error"])),
        ("candidate pays with a script URL", At::Submitting, booked(B::Pending, S::Pending, P::CandidatePays, Some("javascript:alert(1)")), Moves(Step::Failed, &["hbg:booking-created", "hbg:error"])),
        ("candidate pays without a URL", At::Submitting, booked(B::Pending, S::Pending, P::CandidatePays, None), Moves(Step::AwaitingPayment, &["hbg:booking-created", "persist 9001"])),
        ("422 on a candidate field", At::Submitting, rejected(Some("email"), "The email must be a valid email address."), Moves(Step::Details, &["hbg:error"])),
        ("422 on the pay option", At::Submitting, rejected(Some("pay_option"), "No credits left."), Moves(Step::Payment, &["hbg:error"])),
        ("422 without fields", At::Submitting, rejected(None, "This training event is full."), Moves(Step::Payment, &["load-dates 2", "hbg:error"])),
        ("422 on the hold", At::Submitting, rejected(Some("hold_ref"), "The hold has expired."), Moves(Step::HoldExpired, &["announce", "hbg:hold-expired"])),
        ("unknown outcome", At::Submitting, Outcome::BookingFailed("502".into()).into(), Moves(Step::Failed, &["hbg:error"])),
        ("a late hold while submitting is released", At::Submitting, granted(77, "H-77"), Refused(Refusal::StaleOutcome, &["release H-77"])),
        // Finished bookings
        ("back after booking", At::Confirmed, Intent::Back.into(), Refused(Refusal::BookingFinished, &[])),
        ("typing after booking", At::Confirmed, Intent::EditForm(typed_form()).into(), Refused(Refusal::BookingFinished, &[])),
        ("new course after booking", At::Confirmed, Intent::ChooseCourse(course()).into(), Refused(Refusal::BookingFinished, &[])),
        ("submit after booking", At::Confirmed, submit("K9"), Refused(Refusal::BookingFinished, &[])),
        ("book the next candidate", At::Confirmed, Intent::StartOver.into(), Moves(Step::ChooseCourse, &[])),
        ("status when not waiting", At::Confirmed, status(booking(B::Booked, S::Completed, P::Credits, None)), Refused(Refusal::StaleOutcome, &[])),
        ("review passed", At::PendingReview, status(booking(B::Booked, S::Completed, P::Credits, None)), Moves(Step::Confirmed, &["hbg:booking-confirmed"])),
        ("still in review", At::PendingReview, status(booking(B::Pending, S::Completed, P::Credits, None)), Moves(Step::PendingReview, &[])),
        ("paid", At::AwaitingPayment, status(booking(B::Booked, S::Completed, P::CandidatePays, None)), Moves(Step::Confirmed, &["clear-booking", "hbg:booking-confirmed"])),
        ("not paid yet", At::AwaitingPayment, status(booking(B::Pending, S::Pending, P::CandidatePays, Some(STRIPE_URL))), Moves(Step::AwaitingPayment, &[])),
        ("cancelled before payment", At::AwaitingPayment, status(booking(B::Cancelled, S::Pending, P::CandidatePays, None)), Moves(Step::Failed, &["clear-booking", "hbg:error"])),
        ("start over while awaiting payment", At::AwaitingPayment, Intent::StartOver.into(), Moves(Step::ChooseCourse, &["clear-booking"])),
        ("back while awaiting payment", At::AwaitingPayment, Intent::Back.into(), Refused(Refusal::BookingFinished, &[])),
        // Hold expired: everything kept, hold again
        ("hold again", At::HoldExpired, Intent::HoldAgain.into(), Moves(Step::Holding, &["hold 41"])),
        ("retry is not hold again", At::HoldExpired, Intent::Retry.into(), Refused(Refusal::NothingToRetry, &[])),
        ("another event after expiry", At::HoldExpired, Intent::ChooseEvent(event(42)).into(), Moves(Step::Holding, &["hbg:event-chosen", "hold 42"])),
        ("back after expiry", At::HoldExpired, Intent::Back.into(), Moves(Step::ChooseEvent, &[])),
        ("typing after expiry", At::HoldExpired, Intent::EditForm(typed_form()).into(), Moves(Step::HoldExpired, &[])),
        ("expiry twice", At::HoldExpired, Intent::HoldExpired.into(), Refused(Refusal::NoLiveHold, &[])),
        ("continue after expiry", At::HoldExpired, Intent::ContinueToPayment.into(), Refused(Refusal::NotInThisStep, &[])),
        ("submit after expiry", At::HoldExpired, submit("K2"), Refused(Refusal::NotInThisStep, &[])),
        // Conflict
        ("retry after a conflict", At::HoldConflict, Intent::Retry.into(), Moves(Step::Holding, &["hold 41"])),
        ("hold again after a conflict", At::HoldConflict, Intent::HoldAgain.into(), Moves(Step::Holding, &["hold 41"])),
        ("another event after a conflict", At::HoldConflict, Intent::ChooseEvent(event(42)).into(), Moves(Step::Holding, &["hbg:event-chosen", "hold 42"])),
        ("back after a conflict", At::HoldConflict, Intent::Back.into(), Moves(Step::ChooseEvent, &[])),
        // Failures
        ("retry a failed hold", At::FailedHold, Intent::Retry.into(), Moves(Step::Holding, &["hold 41"])),
        ("back after a failed hold", At::FailedHold, Intent::Back.into(), Moves(Step::ChooseEvent, &[])),
        ("another event after a refused hold", At::FailedRefused, Intent::ChooseEvent(event(42)).into(), Moves(Step::Holding, &["hbg:event-chosen", "hold 42"])),
        ("retry an unknown booking: same key", At::FailedUnknown, Intent::Retry.into(), Moves(Step::Submitting, &["hbg:submit-started", "create-booking K1"])),
        ("submit an unknown booking again: same key", At::FailedUnknown, submit("K2"), Moves(Step::Submitting, &["hbg:submit-started", "create-booking K1"])),
        ("back after an unknown booking keeps the hold", At::FailedUnknown, Intent::Back.into(), Moves(Step::Payment, &[])),
        ("expiry after an unknown booking: the retry decides", At::FailedUnknown, Intent::HoldExpired.into(), Refused(Refusal::NoLiveHold, &[])),
        ("retry a refused redirect", At::FailedRedirect, Intent::Retry.into(), Refused(Refusal::NothingToRetry, &[])),
        ("back after a refused redirect", At::FailedRedirect, Intent::Back.into(), Refused(Refusal::BookingFinished, &[])),
        ("start over after a refused redirect", At::FailedRedirect, Intent::StartOver.into(), Moves(Step::ChooseCourse, &[])),
    ];
    let mut failures = Vec::new();
    for (name, start, input, expect) in table {
        let before = at(start);
        let transition = before.apply(input);
        let got = tags(&transition.commands);
        match expect {
            Moves(step, commands) => {
                if transition.refused.is_some() || transition.flow.step() != step || got != commands
                {
                    failures.push(format!(
                        "{name}: expected {step:?} {commands:?}, got {:?} {got:?} refused {:?}",
                        transition.flow.step(),
                        transition.refused
                    ));
                }
            }
            Refused(reason, commands) => {
                if transition.refused != Some(reason)
                    || transition.flow != before
                    || got != commands
                {
                    failures.push(format!(
                        "{name}: expected refusal {reason:?} {commands:?}, got {:?} {got:?} (unchanged: {})",
                        transition.refused,
                        transition.flow == before
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn create_keys(commands: &[Command]) -> Vec<String> {
    commands
        .iter()
        .filter_map(|command| match command {
            Command::CreateBooking {
                idempotency_key, ..
            } => Some(idempotency_key.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn double_submit_creates_one_booking() {
    let flow = at(At::Payment);
    let first = flow.apply(submit("K1"));
    let second = first.flow.apply(submit("K2"));
    let third = second.flow.apply(submit("K1"));
    let keys: Vec<String> = [&first, &second, &third]
        .iter()
        .flat_map(|t| create_keys(&t.commands))
        .collect();
    assert_eq!(keys, vec!["K1"]);
    assert_eq!(second.refused, Some(Refusal::AlreadySubmitting));
}

#[test]
fn an_unknown_outcome_is_retried_with_the_same_key_and_body() {
    let failed = at(At::FailedUnknown);
    let Command::CreateBooking { request: first, .. } =
        at(At::Payment).apply(submit("K1")).commands.pop().unwrap()
    else {
        panic!("expected a create-booking command");
    };
    let retried = failed.apply(Intent::Retry);
    let Some(Command::CreateBooking {
        request,
        idempotency_key,
    }) = retried.commands.last()
    else {
        panic!("expected a create-booking command");
    };
    assert_eq!(idempotency_key, "K1");
    assert_eq!(request, &first);
    // Fails again, then the candidate goes back and submits unchanged.
    let again = drive(
        retried.flow,
        vec![
            Outcome::BookingFailed("timeout".into()).into(),
            Intent::Back.into(),
        ],
    );
    assert_eq!(create_keys(&again.apply(submit("K3")).commands), vec!["K1"]);
}

#[test]
fn changed_details_or_pay_option_get_a_new_key() {
    let mut email = typed_form();
    email.email = "p.patel@carestaff.example".into();
    let cases: Vec<(&str, Vec<Input>)> = vec![
        (
            "pay option",
            vec![
                Intent::Back.into(),
                Intent::ChoosePayOption(PayOption::Balance).into(),
            ],
        ),
        (
            "email",
            vec![Intent::EditForm(email)]
                .into_iter()
                .map(Input::from)
                .collect(),
        ),
    ];
    for (what, changes) in cases {
        let changed = drive(at(At::FailedUnknown), changes);
        let transition = changed.apply(submit("K2"));
        assert_eq!(create_keys(&transition.commands), vec!["K2"], "{what}");
        assert_eq!(transition.flow.idempotency_key(), Some("K2"), "{what}");
    }
}

#[test]
fn after_a_422_a_new_key_is_required() {
    let rejected_flow = drive(
        at(At::Submitting),
        vec![rejected(Some("pay_option"), "No credits left.")],
    );
    assert_eq!(rejected_flow.step(), Step::Payment);
    assert_eq!(
        rejected_flow.errors().get(FormField::PayOption),
        Some("No credits left.")
    );
    let reused = rejected_flow.apply(submit("K1"));
    assert_eq!(reused.refused, Some(Refusal::IdempotencyKeyReused));
    assert!(reused.commands.is_empty());
    let fixed = drive(
        rejected_flow,
        vec![Intent::ChoosePayOption(PayOption::Inv).into()],
    );
    assert_eq!(fixed.errors().get(FormField::PayOption), None);
    assert_eq!(create_keys(&fixed.apply(submit("K2")).commands), vec!["K2"]);
}

#[test]
fn the_booking_request_carries_the_normalised_candidate_and_the_live_hold() {
    let transition = at(At::Payment).apply(submit("K1"));
    let Some(Command::CreateBooking { request, .. }) = transition.commands.last() else {
        panic!("expected a create-booking command");
    };
    assert_eq!(request.hold_ref, "H-41");
    assert_eq!(request.first_name, "Priya");
    assert_eq!(request.phone.as_deref(), Some("+447700900123"));
    assert_eq!(request.pay_option, PayOption::Credits);
    let adopted = drive(
        at(At::Holding),
        vec![conflict(Some("H-ours"), Some(41), Some(700))],
    );
    let hold = adopted.hold().unwrap();
    assert_eq!(hold.hold_ref, "H-ours");
    assert_eq!(hold.countdown.remaining_seconds(0.0), 700);
}

#[test]
fn nothing_typed_is_lost_on_the_way() {
    let form = typed_form();
    let journey: Vec<Input> = vec![
        Intent::HoldExpired.into(),
        Intent::HoldAgain.into(),
        conflict(None, None, Some(900)),
        Intent::Retry.into(),
        Outcome::HoldFailed("offline".into()).into(),
        Intent::Retry.into(),
        Outcome::HoldRefused(ValidationError::default()).into(),
        Intent::Back.into(),
        Intent::ChooseEvent(event(42)).into(),
        granted(42, "H-42"),
        Intent::Back.into(),
        Intent::ChooseLocation(None).into(),
        Intent::ChooseEvent(event(41)).into(),
        granted(41, "H-41c"),
        Intent::ContinueToPayment.into(),
        Intent::ChoosePayOption(PayOption::Credits).into(),
        submit("K1"),
        rejected(Some("hold_ref"), "The hold has expired."),
    ];
    let mut flow = at(At::Payment);
    for input in journey {
        let transition = flow.apply(input.clone());
        assert_eq!(transition.refused, None, "{input:?}");
        flow = transition.flow;
        assert_eq!(flow.form(), &form, "after {input:?}");
    }
    assert_eq!(flow.step(), Step::HoldExpired);
    assert_eq!(flow.pay_option(), Some(&PayOption::Credits));
    assert_eq!(flow.event().map(|e| e.id), Some(41));
    // Holding again returns to the payment step, where the candidate was.
    let back = drive(flow, vec![Intent::HoldAgain.into(), granted(41, "H-41d")]);
    assert_eq!(back.step(), Step::Payment);
    assert_eq!(back.form(), &form);
}

#[test]
fn invalid_details_stay_with_messages() {
    let flow = at(At::DetailsEmpty).apply(Intent::ContinueToPayment).flow;
    assert_eq!(
        flow.errors().get(FormField::FirstName),
        Some("Enter your first name")
    );
    assert_eq!(
        flow.errors().get(FormField::Email),
        Some("Enter an email address")
    );
    assert!(flow.hold().is_some());
    let missing_option = at(At::PaymentNoOption).apply(submit("K1")).flow;
    assert_eq!(
        missing_option.errors().get(FormField::PayOption),
        Some("Select how the booking is paid for")
    );
    let server = at(At::Submitting)
        .apply(rejected(
            Some("email"),
            "The email must be a valid email address.",
        ))
        .flow;
    assert_eq!(
        server.errors().get(FormField::Email),
        Some("The email must be a valid email address.")
    );
    assert_eq!(server.step(), Step::Details);
    assert!(server.hold().is_some());
}

#[test]
fn failures_and_conflicts_are_explained() {
    let conflict_flow = at(At::HoldConflict);
    assert!(conflict_flow.conflict().is_some());
    assert_eq!(conflict_flow.step().heading(), "This seat is already held");
    let refused = at(At::FailedRefused);
    let failure = refused.failure().unwrap();
    assert_eq!(failure.kind, FailureKind::HoldRefused);
    assert_eq!(failure.message, "This training event is full.");
    let redirect = at(At::FailedRedirect);
    let failure = redirect.failure().unwrap();
    assert_eq!(failure.kind, FailureKind::PaymentPageRefused);
    assert!(failure.message.contains("waiting for payment"));
    assert!(failure.message.contains("payment link has been emailed"));
    assert!(failure.detail.contains("checkout.stripe.com.evil.example"));
    assert_eq!(redirect.booking().map(|b| b.id), Some(9001));
}

#[test]
fn the_sandbox_checkout_is_allowed_only_when_configured() {
    let sandbox_url = "http://127.0.0.1:8080/checkout/9001";
    let pay = |policy: PaymentRedirectPolicy| {
        drive(
            Flow::new(policy),
            vec![
                Intent::ChooseCourse(course()).into(),
                Intent::ChooseLocation(None).into(),
                Intent::ChooseEvent(event(41)).into(),
                granted(41, "H-41"),
                Intent::EditForm(typed_form()).into(),
                Intent::ContinueToPayment.into(),
                Intent::ChoosePayOption(PayOption::CandidatePays).into(),
                submit("K1"),
            ],
        )
        .apply(booked(
            BookingStatus::Pending,
            PayStatus::Pending,
            PayOption::CandidatePays,
            Some(sandbox_url),
        ))
    };
    let demo = pay(PaymentRedirectPolicy::new(["http://127.0.0.1:8080"]));
    assert_eq!(demo.flow.step(), Step::AwaitingPayment);
    assert_eq!(
        demo.commands.last(),
        Some(&Command::Redirect {
            url: sandbox_url.into()
        })
    );
    let production = pay(PaymentRedirectPolicy::default());
    assert_eq!(production.flow.step(), Step::Failed);
    assert!(!production
        .commands
        .iter()
        .any(|e| matches!(e, Command::Redirect { .. })));
}

#[test]
fn resuming_after_the_payment_page() {
    let pending = booking(
        BookingStatus::Pending,
        PayStatus::Pending,
        PayOption::CandidatePays,
        Some(STRIPE_URL),
    );
    let waiting = Flow::resume(PaymentRedirectPolicy::default(), pending);
    assert_eq!(waiting.flow.step(), Step::AwaitingPayment);
    assert!(waiting.commands.is_empty(), "no second redirect");
    let paid = booking(
        BookingStatus::Booked,
        PayStatus::Completed,
        PayOption::CandidatePays,
        None,
    );
    let done = Flow::resume(PaymentRedirectPolicy::default(), paid.clone());
    assert_eq!(done.flow.step(), Step::Confirmed);
    assert_eq!(
        tags(&done.commands),
        vec!["hbg:booking-confirmed", "clear-booking"]
    );
    let polled = waiting.flow.apply(status(paid));
    assert_eq!(polled.flow.step(), Step::Confirmed);
}

#[test]
fn host_events_carry_ids_and_statuses_only() {
    let start = Flow::start(PaymentRedirectPolicy::default());
    let mut events: Vec<HostEvent> = Vec::new();
    let mut collect = |commands: &[Command]| {
        events.extend(commands.iter().filter_map(|command| match command {
            Command::Emit(event) => Some(event.clone()),
            _ => None,
        }))
    };
    collect(&start.commands);
    let mut flow = start.flow;
    let inputs: Vec<Input> = vec![
        Intent::ChooseCourse(course()).into(),
        Intent::ChooseLocation(None).into(),
        Intent::ChooseEvent(event(41)).into(),
        granted(41, "H-41"),
        Intent::EditForm(typed_form()).into(),
        tick(1_199_000.0, 1_200_500.0),
        Intent::ContinueToPayment.into(),
        Intent::ChoosePayOption(PayOption::CandidatePays).into(),
        submit("K1"),
        booked(
            BookingStatus::Pending,
            PayStatus::Pending,
            PayOption::CandidatePays,
            Some(STRIPE_URL),
        ),
        status(booking(
            BookingStatus::Booked,
            PayStatus::Completed,
            PayOption::CandidatePays,
            None,
        )),
    ];
    for input in inputs {
        let transition = flow.apply(input);
        collect(&transition.commands);
        flow = transition.flow;
    }
    let named: Vec<(&str, String)> = events.iter().map(|e| (e.name(), e.detail_json())).collect();
    let expected = vec![
        ("hbg:ready", r#"{"product":"practical"}"#.to_owned()),
        ("hbg:course-chosen", r#"{"product":"practical","course_id":2}"#.to_owned()),
        ("hbg:location-chosen", r#"{"location_id":null}"#.to_owned()),
        ("hbg:event-chosen", r#"{"product":"practical","event_id":41,"start":"2026-08-04T09:30:00+01:00"}"#.to_owned()),
        ("hbg:hold-created", r#"{"product":"practical","event_id":41,"hold_expires_at":"2026-07-20T14:45:00+00:00","expires_in_seconds":1800}"#.to_owned()),
        ("hbg:hold-expiring", r#"{"product":"practical","event_id":41,"minutes_left":10}"#.to_owned()),
        ("hbg:submit-started", r#"{"product":"practical","event_id":41,"pay_option":"candidate_pays"}"#.to_owned()),
        ("hbg:booking-created", r#"{"product":"practical","booking_id":9001,"booking_status":"pending","pay_status":"pending"}"#.to_owned()),
        ("hbg:payment-redirect", r#"{"product":"practical","booking_id":9001}"#.to_owned()),
        ("hbg:booking-confirmed", r#"{"product":"practical","booking_id":9001}"#.to_owned()),
    ];
    let expected: Vec<(&str, String)> = expected.into_iter().collect();
    assert_eq!(named, expected);
    let all = named
        .iter()
        .map(|(_, json)| json.as_str())
        .collect::<String>();
    for personal in ["Priya", "Patel", "carestaff", "7700", "Healthcare"] {
        assert!(!all.contains(personal), "{personal} leaked");
    }
    let error = HostEvent::Error {
        code: "hold_failed",
        message: "We could not hold your seat. Check your connection and try again",
    };
    assert_eq!(error.name(), "hbg:error");
    assert!(error.detail_json().starts_with(r#"{"code":"hold_failed","#));
}

#[test]
fn steps_have_headings_and_progress() {
    assert_eq!(Step::ChooseEvent.progress(), Some(3));
    assert_eq!(Step::Confirmed.progress(), Some(6));
    assert_eq!(Step::Failed.progress(), None);
    assert_eq!(
        Step::PendingReview.heading(),
        "Booking received: pending review"
    );
    assert_eq!(Refusal::AlreadySubmitting.to_string(), "already submitting");
    let after: Vec<bool> = [
        Step::Payment,
        Step::Confirmed,
        Step::PendingReview,
        Step::AwaitingPayment,
        Step::Failed,
    ]
    .iter()
    .map(|step| step.what_next().is_some())
    .collect();
    assert_eq!(after, vec![false, true, true, true, false]);
    assert_eq!(
        Step::Confirmed.what_next(),
        Some("Your place is booked. A confirmation email is on its way.")
    );
}

/// Inputs a random session may send, from small pools so that sequences
/// meet each other (same events, hold references and keys).
fn any_input() -> impl Strategy<Value = Input> {
    let events = prop_oneof![
        Just(event(41)),
        Just(event(42)),
        Just(event_for(43, COURSE_ID, 0)),
        Just(event_for(77, 3, 4)),
    ];
    let forms = prop_oneof![Just(typed_form()), Just(CandidateForm::default())];
    let options = prop_oneof![
        Just(PayOption::Credits),
        Just(PayOption::CandidatePays),
        Just(PayOption::Other("voucher".into())),
    ];
    let statuses = prop_oneof![
        Just(BookingStatus::Booked),
        Just(BookingStatus::Pending),
        Just(BookingStatus::Cancelled),
    ];
    let urls = prop_oneof![
        Just(None),
        Just(Some(STRIPE_URL)),
        Just(Some("https://evil.example/pay")),
        Just(Some("javascript:alert(1)")),
    ];
    let intents = prop_oneof![
        prop_oneof![3 => Just(course()), 1 => Just(pmva())].prop_map(Intent::ChooseCourse),
        prop_oneof![Just(None), Just(Some(5u64))].prop_map(Intent::ChooseLocation),
        events.prop_map(Intent::ChooseEvent),
        forms.prop_map(Intent::EditForm),
        Just(Intent::ContinueToPayment),
        options.prop_map(Intent::ChoosePayOption),
        prop_oneof![Just("K1"), Just("K2"), Just("K3"), Just("")].prop_map(|key| Intent::Submit {
            idempotency_key: key.into()
        }),
        Just(Intent::Back),
        Just(Intent::Retry),
        Just(Intent::HoldAgain),
        (0u32..2000).prop_map(|s| Intent::KeepMySeat {
            now_ms: f64::from(s) * 1000.0
        }),
        (0u32..2000, 0u32..120).prop_map(|(s, d)| Intent::Tick {
            prev_ms: f64::from(s) * 1000.0,
            now_ms: f64::from(s + d) * 1000.0
        }),
        Just(Intent::HoldExpired),
        Just(Intent::StartOver),
        Just(Intent::RetryDates),
        Just(Intent::CheckBooking),
    ];
    let outcomes = prop_oneof![
        (prop_oneof![Just(41u64), Just(42)], 0u8..3)
            .prop_map(|(id, n)| granted(id, &format!("H-{id}-{n}"))),
        (
            prop::option::of(Just("H-c")),
            prop::option::of(prop_oneof![Just(41u64), Just(40)]),
            prop::option::of(0i64..1800)
        )
            .prop_map(|(h, e, s)| conflict(h, e, s)),
        Just(Outcome::HoldRefused(ValidationError::default()).into()),
        Just(Outcome::HoldFailed("offline".into()).into()),
        (statuses.clone(), urls, any::<bool>()).prop_map(|(status, url, card)| {
            let option = if card {
                PayOption::CandidatePays
            } else {
                PayOption::Credits
            };
            let pay = if card {
                PayStatus::Pending
            } else {
                PayStatus::Completed
            };
            created(booking(status, pay, option, url))
        }),
        prop_oneof![
            Just(Some("email")),
            Just(Some("pay_option")),
            Just(Some("hold_ref")),
            Just(None)
        ]
        .prop_map(|field| rejected(field, "Rejected.")),
        Just(Outcome::BookingFailed("timeout".into()).into()),
        statuses.prop_map(|s| status(booking(s, PayStatus::Completed, PayOption::Credits, None))),
        Just(Outcome::Released.into()),
        prop_oneof![Just(COURSE_ID), Just(3u64)].prop_map(|id| dates_loaded(id, vec![event(41)])),
        prop_oneof![Just(COURSE_ID), Just(3u64)].prop_map(dates_failed),
    ];
    prop_oneof![3 => intents.prop_map(Input::from), 2 => outcomes]
}

/// The legal way to a booking, which random sessions start part-way along,
/// so that they reach every step.
fn happy_path(card: bool) -> Vec<Input> {
    let (option, booking_input) = if card {
        (
            PayOption::CandidatePays,
            booked(
                BookingStatus::Pending,
                PayStatus::Pending,
                PayOption::CandidatePays,
                Some(STRIPE_URL),
            ),
        )
    } else {
        (
            PayOption::Credits,
            booked(
                BookingStatus::Booked,
                PayStatus::Completed,
                PayOption::Credits,
                None,
            ),
        )
    };
    vec![
        Intent::ChooseCourse(course()).into(),
        Intent::ChooseLocation(Some(5)).into(),
        Intent::ChooseEvent(event(41)).into(),
        granted(41, "H-41-0"),
        Intent::EditForm(typed_form()).into(),
        Intent::ContinueToPayment.into(),
        Intent::ChoosePayOption(option).into(),
        submit("K1"),
        booking_input,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// The flow's invariants hold after every input of any session.
    #[test]
    fn invariants_hold_in_any_session(
        prefix in 0usize..=happy_path(false).len(),
        card in any::<bool>(),
        tail in prop::collection::vec(any_input(), 1..60),
    ) {
        let inputs = happy_path(card).into_iter().take(prefix).chain(tail);
        let mut flow = Flow::new(PaymentRedirectPolicy::default());
        let mut in_flight: Option<String> = None;
        for input in inputs {
            let before = flow.clone();
            let transition = flow.apply(input.clone());
            let after = &transition.flow;
            if let Some(reason) = transition.refused {
                prop_assert_eq!(after, &before, "refused {:?} changed the flow", reason);
                let only_releases = transition.commands.iter().all(|e| matches!(e, Command::Release { .. }));
                prop_assert!(only_releases, "refusal with commands {:?}", transition.commands);
            }
            // No details without a live hold; holds live only where they may.
            if matches!(after.step(), Step::Details | Step::Payment) {
                prop_assert!(after.hold().is_some(), "{:?} without a hold", after.step());
            }
            if after.hold().is_some() {
                let unknown = after.failure().map(|f| f.kind) == Some(FailureKind::BookingOutcomeUnknown);
                prop_assert!(
                    matches!(after.step(), Step::Details | Step::Payment | Step::Submitting) || unknown,
                    "hold kept at {:?}", after.step()
                );
            }
            // Going back past the hold releases it.
            if before.step() == Step::Details && after.step() == Step::ChooseEvent {
                let hold_ref = before.hold().unwrap().hold_ref.clone();
                let release = Command::Release { hold_ref };
                prop_assert!(transition.commands.contains(&release), "no release going back");
            }
            // The form changes only when the candidate edits it or starts over.
            let edits = matches!(input, Input::Intent(Intent::EditForm(_) | Intent::StartOver));
            if !edits {
                prop_assert_eq!(after.form(), before.form());
            }
            // At most one create-booking request in flight.
            let keys = create_keys(&transition.commands);
            prop_assert!(keys.len() <= 1);
            if let Some(key) = keys.first() {
                prop_assert!(in_flight.is_none(), "second create-booking while {:?} in flight", in_flight);
                prop_assert_eq!(after.step(), Step::Submitting);
                in_flight = Some(key.clone());
            }
            if before.step() == Step::Submitting && after.step() != Step::Submitting {
                in_flight = None;
            }
            // Redirects go only to the allowed origin; dates are read and
            // shown only for the course chosen.
            let chosen = after.course().map(|course| course.id);
            let answered = match &input {
                Input::Outcome(
                    Outcome::DatesLoaded { course_id, .. } | Outcome::DatesFailed { course_id, .. },
                ) => Some(*course_id),
                _ => None,
            };
            for command in &transition.commands {
                match command {
                    Command::Redirect { url } => {
                        prop_assert!(url.starts_with("https://checkout.stripe.com/"));
                    }
                    Command::LoadDates { course_id } => prop_assert_eq!(Some(*course_id), chosen),
                    Command::ShowDates(_) | Command::ShowDatesFailed { .. } => {
                        prop_assert!(answered.is_some() && answered == chosen, "{:?} shown for {:?}", answered, chosen);
                    }
                    _ => {}
                }
            }
            flow = transition.flow;
        }
    }
}

#[test]
fn blur_rechecks_only_fields_already_in_error() {
    let flow = at(At::Details);
    let blank = CandidateForm::default();
    let flow = drive(flow, vec![Intent::EditForm(blank.clone()).into()]);
    let flow = flow.apply(Intent::CheckField(FormField::Email)).flow;
    assert!(
        flow.errors().is_empty(),
        "a field not yet in error is not checked on blur"
    );
    let flow = flow.apply(Intent::ContinueToPayment).flow;
    assert!(flow.errors().get(FormField::Email).is_some());
    assert!(flow.errors().get(FormField::FirstName).is_some());
    let mut fixed = blank;
    fixed.email = "priya@example.com".to_owned();
    let flow = flow.apply(Intent::EditForm(fixed)).flow;
    let flow = flow.apply(Intent::CheckField(FormField::Email)).flow;
    assert_eq!(
        flow.errors().get(FormField::Email),
        None,
        "fixed field cleared"
    );
    assert!(
        flow.errors().get(FormField::FirstName).is_some(),
        "other fields keep their errors"
    );
    assert_eq!(flow.step(), Step::Details);
}

#[test]
fn a_corrected_fields_message_goes_as_the_candidate_types_not_at_blur() {
    let flow = at(At::Details);
    let blank = CandidateForm::default();
    let flow = drive(flow, vec![Intent::EditForm(blank.clone()).into()]);
    let flow = flow.apply(Intent::ContinueToPayment).flow;
    let mut typing = blank;
    typing.email = "priya@".to_owned();
    let flow = flow.apply(Intent::EditForm(typing.clone())).flow;
    assert!(
        flow.errors().get(FormField::Email).is_some(),
        "a field still wrong keeps its message while the candidate types"
    );
    typing.email = "priya@example.com".to_owned();
    let flow = flow.apply(Intent::EditForm(typing)).flow;
    assert_eq!(
        flow.errors().get(FormField::Email),
        None,
        "the message goes with the keystroke that makes the field right"
    );
    assert!(
        flow.errors().get(FormField::FirstName).is_some(),
        "fields not yet corrected keep their messages"
    );
}

#[test]
fn the_gateways_error_answers_become_outcomes() {
    let held = Outcome::hold_error(
        ErrorAnswer::read(
            409,
            r#"{"message":"This seat is being held by someone else until 14:45.","held_until":"2026-07-20T14:45:00+00:00"}"#,
        ),
        250.0,
    );
    let Outcome::HoldConflict {
        conflict,
        received_at_ms,
    } = &held
    else {
        panic!("a 409 on a hold is a conflict: {held:?}");
    };
    assert_eq!(*received_at_ms, 250.0);
    assert_eq!(
        conflict.hold_ref, None,
        "another session's hold is not named"
    );
    assert!(conflict.held_until.is_some());
    let waiting = at(At::Holding).apply(held.clone()).flow;
    assert_eq!(waiting.step(), Step::HoldConflict);
    assert_eq!(
        waiting.conflict().map(|c| c.message.as_str()),
        Some("This seat is being held by someone else until 14:45.")
    );

    let full = Outcome::hold_error(
        ErrorAnswer::read(422, r#"{"message":"This training event is full."}"#),
        0.0,
    );
    assert!(
        matches!(&full, Outcome::HoldRefused(error) if error.message == "This training event is full.")
    );
    let busy = Outcome::hold_error(
        ErrorAnswer::read(503, r#"{"message":"The booking service is busy."}"#),
        0.0,
    );
    assert_eq!(
        busy,
        Outcome::HoldFailed("503 The booking service is busy.".into())
    );
    assert_eq!(
        at(At::Holding).apply(busy).flow.failure().map(|f| f.kind),
        Some(FailureKind::HoldFailed)
    );

    let lapsed = Outcome::booking_error(ErrorAnswer::read(
        422,
        r#"{"message":"This hold has expired.","errors":{"hold_ref":["This hold has expired."]}}"#,
    ));
    assert_eq!(
        at(At::Submitting).apply(lapsed).flow.step(),
        Step::HoldExpired
    );
    let email = Outcome::booking_error(ErrorAnswer::read(
        422,
        r#"{"message":"The email is invalid.","errors":{"email":["The email is invalid."]}}"#,
    ));
    assert_eq!(at(At::Submitting).apply(email).flow.step(), Step::Details);
    for status in [409, 500, 502] {
        let unknown = Outcome::booking_error(ErrorAnswer::read(status, ""));
        assert_eq!(unknown, Outcome::BookingFailed(status.to_string()));
        let failed = at(At::Submitting).apply(unknown).flow;
        assert_eq!(
            failed.failure().map(|f| f.kind),
            Some(FailureKind::BookingOutcomeUnknown)
        );
    }
}

#[test]
fn each_problem_offers_ways_out_the_flow_accepts() {
    use Recovery::*;
    let cancelled = at(At::AwaitingPayment)
        .apply(status(booking(
            BookingStatus::Cancelled,
            PayStatus::Pending,
            PayOption::CandidatePays,
            None,
        )))
        .flow;
    #[rustfmt::skip]
    let table: Vec<(&str, Flow, &[Recovery], &[Step])> = vec![
        ("hold lapsed", at(At::HoldExpired), &[HoldAgain, ChooseAnotherDate], &[Step::Holding, Step::ChooseEvent]),
        ("seat taken", at(At::HoldConflict), &[TryAgain, ChooseAnotherDate], &[Step::Holding, Step::ChooseEvent]),
        ("hold failed", at(At::FailedHold), &[TryAgain, ChooseAnotherDate], &[Step::Holding, Step::ChooseEvent]),
        ("hold refused", at(At::FailedRefused), &[ChooseAnotherDate], &[Step::ChooseEvent]),
        ("booking unknown", at(At::FailedUnknown), &[TryAgain, BackToPayment], &[Step::Submitting, Step::Payment]),
        ("payment page refused", at(At::FailedRedirect), &[StartAgain], &[Step::ChooseCourse]),
        ("booking cancelled", cancelled, &[StartAgain], &[Step::ChooseCourse]),
    ];
    for (name, flow, recoveries, steps) in table {
        let trouble = flow
            .trouble()
            .unwrap_or_else(|| panic!("{name}: no trouble"));
        assert_eq!(trouble.recoveries, recoveries, "{name}");
        assert!(!trouble.message.is_empty(), "{name}");
        for (recovery, step) in recoveries.iter().zip(steps) {
            let transition = flow.apply(recovery.intent());
            assert_eq!(transition.refused, None, "{name}: {recovery:?}");
            assert_eq!(transition.flow.step(), *step, "{name}: {recovery:?}");
        }
        assert!(recoveries[1..]
            .iter()
            .all(|recovery| !recovery.is_primary()));
    }
    assert_eq!(
        at(At::HoldExpired).trouble().unwrap().message,
        "Seats are held for 30 minutes and this hold has ended. Everything you entered is kept: hold the seat again to carry on."
    );
    assert_eq!(
        at(At::HoldConflict).trouble().unwrap().message,
        "An active hold already exists."
    );
    let unexplained = drive(
        at(At::Holding),
        vec![Outcome::HoldConflict {
            conflict: SeatConflict::default(),
            received_at_ms: 0.0,
        }
        .into()],
    );
    assert_eq!(
        unexplained.trouble().unwrap().message,
        "Someone else is holding this seat at the moment. Choose another date, or try again shortly."
    );
    assert_eq!(
        at(At::FailedRefused).trouble().unwrap().message,
        "This training event is full."
    );
    let labels: Vec<&str> = [
        HoldAgain,
        TryAgain,
        ChooseAnotherDate,
        BackToPayment,
        StartAgain,
    ]
    .iter()
    .map(|recovery| recovery.label())
    .collect();
    assert_eq!(
        labels,
        [
            "Hold this seat again",
            "Try again",
            "Choose another date",
            "Back",
            "Start again"
        ]
    );
    for start in [At::Details, At::Payment, At::Confirmed, At::Holding] {
        assert_eq!(at(start).trouble(), None, "{start:?}");
    }
}

#[test]
fn the_only_usable_pay_option_is_chosen_for_the_candidate() {
    let waiting = at(At::PaymentNoOption);
    let offers = |flow: &Flow, allowed: &[PayOption]| flow.pay_option_offers(allowed);
    let only_credits = offers(&waiting, &[PayOption::Credits]);
    assert_eq!(only_credits.len(), 1);
    assert_eq!(only_credits[0].label, "Use a booking credit");
    let chosen = waiting.sole_pay_option(&only_credits);
    assert_eq!(chosen, Some(PayOption::Credits));
    let applied = waiting.apply(Intent::ChoosePayOption(PayOption::Credits));
    assert_eq!(applied.refused, None);
    assert_eq!(
        applied.flow.sole_pay_option(&only_credits),
        None,
        "already chosen"
    );
    let unknown_and_invoice = [PayOption::Other("voucher".into()), PayOption::Inv];
    assert_eq!(
        waiting.sole_pay_option(&offers(&waiting, &unknown_and_invoice)),
        Some(PayOption::Inv)
    );
    let two = [PayOption::Credits, PayOption::CandidatePays];
    assert_eq!(waiting.sole_pay_option(&offers(&waiting, &two)), None);
    assert_eq!(waiting.sole_pay_option(&[]), None);
    let details = at(At::Details);
    assert_eq!(
        details.sole_pay_option(&offers(&details, &[PayOption::Credits])),
        None,
        "only on the payment step"
    );
}

#[test]
fn the_payment_page_is_offered_only_while_awaiting_payment_and_only_if_allowed() {
    assert_eq!(
        at(At::AwaitingPayment).payment_page().as_deref(),
        Some(STRIPE_URL)
    );
    assert_eq!(at(At::Confirmed).payment_page(), None);
    assert_eq!(at(At::FailedRedirect).payment_page(), None);
    let pending = |url: &str| {
        booking(
            BookingStatus::Pending,
            PayStatus::Pending,
            PayOption::CandidatePays,
            Some(url),
        )
    };
    let evil = Flow::resume(
        PaymentRedirectPolicy::default(),
        pending("https://checkout.stripe.com.evil.example/pay"),
    )
    .flow;
    assert_eq!(evil.step(), Step::AwaitingPayment);
    assert_eq!(evil.payment_page(), None, "checked again, not trusted");
    let stripe = Flow::resume(PaymentRedirectPolicy::default(), pending(STRIPE_URL)).flow;
    assert_eq!(stripe.payment_page().as_deref(), Some(STRIPE_URL));
}

/// A flow that met another candidate's hold lapsing in `seconds`, received
/// at monotonic reading 0.
fn conflict_freeing_in(seconds: i64) -> Flow {
    drive(at(At::Holding), vec![conflict(None, None, Some(seconds))])
}

#[test]
fn a_conflict_that_says_when_the_seat_frees_offers_to_wait_for_it() {
    use Recovery::*;
    let flow = conflict_freeing_in(300);
    assert_eq!(flow.step(), Step::HoldConflict);
    let trouble = flow.trouble().unwrap();
    assert_eq!(
        trouble.recoveries,
        [WaitForSeat, TryAgain, ChooseAnotherDate]
    );
    assert!(WaitForSeat.is_primary());
    assert!(
        !flow.needs_ticks(),
        "nothing counts down before the candidate chooses to wait"
    );

    let waiting = flow.apply(WaitForSeat.intent());
    assert_eq!(waiting.refused, None);
    assert!(waiting.commands.is_empty(), "{:?}", waiting.commands);
    let waiting = waiting.flow;
    assert_eq!(waiting.step(), Step::WaitingForSeat);
    assert_eq!(waiting.step().heading(), "Waiting for this seat");
    assert!(waiting.needs_ticks());
    assert_eq!(
        waiting.trouble().unwrap().recoveries,
        [StopWaiting, ChooseAnotherDate]
    );
    assert_eq!(
        waiting.seat_wait_text(60_000.0).as_deref(),
        Some("Free again in 4:02"),
        "the other hold's 300 s, two of grace, one minute gone"
    );
    assert_eq!(flow.seat_wait_text(60_000.0), None, "only while waiting");

    let still = waiting.apply(Intent::Tick {
        prev_ms: 300_000.0,
        now_ms: 301_000.0,
    });
    assert_eq!(
        still.flow.step(),
        Step::WaitingForSeat,
        "not before the grace has passed"
    );
    assert!(still.commands.is_empty());
    let due = waiting.apply(Intent::Tick {
        prev_ms: 301_000.0,
        now_ms: 302_000.0,
    });
    assert_eq!(due.flow.step(), Step::Holding, "held the moment it frees");
    assert_eq!(tags(&due.commands), ["announce", "hold 41"]);
    assert!(!due.flow.needs_ticks());

    let stopped = waiting.apply(StopWaiting.intent()).flow;
    assert_eq!(stopped.step(), Step::HoldConflict);
    assert!(
        !stopped.needs_ticks(),
        "a cancelled wait holds nothing later"
    );
    let later = stopped.apply(Intent::Tick {
        prev_ms: 301_000.0,
        now_ms: 400_000.0,
    });
    assert_eq!(later.flow.step(), Step::HoldConflict);
    assert!(later.commands.is_empty());

    let elsewhere = waiting.apply(ChooseAnotherDate.intent()).flow;
    assert_eq!(elsewhere.step(), Step::ChooseEvent);
    assert!(!elsewhere.needs_ticks());
}

#[test]
fn waiting_is_offered_only_when_the_conflict_says_when_within_a_holds_life() {
    for seconds in [None, Some(-1), Some(1801)] {
        let flow = drive(at(At::Holding), vec![conflict(None, None, seconds)]);
        assert_eq!(flow.step(), Step::HoldConflict, "{seconds:?}");
        assert!(
            !flow
                .trouble()
                .unwrap()
                .recoveries
                .contains(&Recovery::WaitForSeat),
            "{seconds:?}"
        );
        assert_eq!(
            flow.apply(Intent::WaitForSeat).refused,
            Some(Refusal::NotInThisStep),
            "{seconds:?}"
        );
    }
    assert_eq!(
        at(At::ChooseEvent).apply(Intent::StopWaiting).refused,
        Some(Refusal::NotInThisStep)
    );
}

#[test]
fn a_wait_that_meets_another_conflict_can_wait_again() {
    let waiting = conflict_freeing_in(10).apply(Intent::WaitForSeat).flow;
    let holding = waiting
        .apply(Intent::Tick {
            prev_ms: 11_000.0,
            now_ms: 12_000.0,
        })
        .flow;
    assert_eq!(holding.step(), Step::Holding);
    let again = holding
        .apply(Outcome::HoldConflict {
            conflict: SeatConflict {
                message: "Another candidate is booking this date right now.".into(),
                expires_in_seconds: Some(1800),
                ..SeatConflict::default()
            },
            received_at_ms: 12_500.0,
        })
        .flow;
    assert_eq!(again.step(), Step::HoldConflict);
    assert!(again
        .trouble()
        .unwrap()
        .recoveries
        .contains(&Recovery::WaitForSeat));
    let waiting = again.apply(Intent::WaitForSeat).flow;
    assert_eq!(
        waiting.seat_wait_text(12_500.0).as_deref(),
        Some("Free again in 30:02")
    );
}

fn dates_loaded(course_id: u64, events: Vec<TrainingEvent>) -> Input {
    Outcome::DatesLoaded {
        course_id,
        dates: Dates::Events(events),
    }
    .into()
}

fn dates_failed(course_id: u64) -> Input {
    Outcome::DatesFailed {
        course_id,
        reason: "We could not reach the booking service.".into(),
    }
    .into()
}

fn pmva() -> CourseRef {
    CourseRef {
        id: 3,
        name: "PMVA".into(),
    }
}

#[test]
fn choosing_a_course_reads_its_dates_unless_it_was_already_chosen() {
    let chosen = at(At::ChooseCourse).apply(Intent::ChooseCourse(course()));
    assert_eq!(
        tags(&chosen.commands),
        ["hbg:course-chosen", "load-dates 2"]
    );
    let back = drive(chosen.flow, vec![Intent::Back.into()]);
    assert_eq!(back.step(), Step::ChooseCourse);
    let same = back.apply(Intent::ChooseCourse(course()));
    assert_eq!(
        tags(&same.commands),
        ["hbg:course-chosen"],
        "the dates read for this course are still shown"
    );
    let another = same.flow.apply(Intent::ChooseCourse(pmva()));
    assert_eq!(
        tags(&another.commands),
        ["hbg:course-chosen", "load-dates 3"]
    );
    let over = drive(at(At::Confirmed), vec![Intent::StartOver.into()]);
    assert_eq!(
        tags(&over.apply(Intent::ChooseCourse(course())).commands),
        ["hbg:course-chosen", "load-dates 2"],
        "starting over forgets the course, so its dates are read again"
    );
    let conflict = at(At::HoldConflict);
    assert_eq!(
        tags(&conflict.apply(Intent::ChooseCourse(pmva())).commands),
        ["hbg:course-chosen", "load-dates 3"],
        "a problem step takes another course as the choosing steps do"
    );
}

#[test]
fn only_the_chosen_courses_dates_are_shown() {
    let flow = at(At::ChooseLocation);
    let shown = flow.apply(dates_loaded(COURSE_ID, vec![event(41), event(42)]));
    assert_eq!(shown.refused, None);
    assert_eq!(shown.flow, flow, "the flow keeps no dates");
    assert_eq!(tags(&shown.commands), ["show 2 events"]);
    let failed = flow.apply(dates_failed(COURSE_ID));
    assert_eq!(
        tags(&failed.commands),
        ["show failure: We could not reach the booking service."]
    );

    // The candidate chose another course before the first one's answer came.
    let moved_on = flow.apply(Intent::ChooseCourse(pmva())).flow;
    for stale in [
        dates_loaded(COURSE_ID, vec![event(41)]),
        dates_failed(COURSE_ID),
    ] {
        let late = moved_on.apply(stale);
        assert_eq!(late.refused, Some(Refusal::StaleOutcome));
        assert_eq!(late.flow, moved_on);
        assert!(late.commands.is_empty(), "{:?}", late.commands);
    }
    let other = moved_on.apply(dates_loaded(3, vec![event_for(77, 3, 4)]));
    assert_eq!(tags(&other.commands), ["show 1 events"]);

    // Nobody waits for dates before a course is chosen, nor timeslots in a
    // Practical Training flow.
    let none = at(At::ChooseCourse).apply(dates_loaded(COURSE_ID, vec![event(41)]));
    assert_eq!(none.refused, Some(Refusal::StaleOutcome));
    let slots = flow.apply(Outcome::DatesLoaded {
        course_id: COURSE_ID,
        dates: Dates::Timeslots(Vec::new()),
    });
    assert_eq!(slots.refused, Some(Refusal::StaleOutcome));
    assert!(slots.commands.is_empty());
}

#[test]
fn a_seat_lost_or_refused_reads_the_dates_again() {
    let full = ValidationError {
        message: "This training event is full.".into(),
        errors: Default::default(),
    };
    for (name, start, input) in [
        ("409", At::Holding, conflict(None, None, Some(600))),
        (
            "422 on hold",
            At::Holding,
            Outcome::HoldRefused(full).into(),
        ),
        (
            "422 on booking naming no field",
            At::Submitting,
            rejected(None, "This training event is full."),
        ),
    ] {
        let transition = at(start).apply(input);
        assert_eq!(transition.refused, None, "{name}");
        let reads: Vec<&Command> = transition
            .commands
            .iter()
            .filter(|command| matches!(command, Command::LoadDates { .. }))
            .collect();
        assert_eq!(
            reads,
            [&Command::LoadDates {
                course_id: COURSE_ID
            }],
            "{name}"
        );
    }
    for (name, start, input) in [
        (
            "network failure on hold",
            At::Holding,
            Outcome::HoldFailed("timeout".into()).into(),
        ),
        (
            "422 on a candidate field",
            At::Submitting,
            rejected(Some("email"), "Invalid."),
        ),
        ("hold lapsed", At::Details, Intent::HoldExpired.into()),
    ] {
        let transition = at(start).apply(input);
        assert!(
            !tags(&transition.commands)
                .iter()
                .any(|tag| tag.starts_with("load-dates")),
            "{name}: seats did not change"
        );
    }
}

#[test]
fn retrying_reads_the_dates_again_where_they_are_shown() {
    for start in [At::ChooseLocation, At::ChooseEvent] {
        let retried = at(start).apply(Intent::RetryDates);
        assert_eq!(retried.refused, None, "{start:?}");
        assert_eq!(retried.flow, at(start), "{start:?}");
        assert_eq!(tags(&retried.commands), ["load-dates 2"], "{start:?}");
    }
    for (start, refusal) in [
        (At::ChooseCourse, Refusal::CourseNotChosen),
        (At::Holding, Refusal::HoldInProgress),
        (At::Details, Refusal::SeatHeld),
        (At::HoldConflict, Refusal::NotInThisStep),
        (At::Confirmed, Refusal::BookingFinished),
    ] {
        let refused = at(start).apply(Intent::RetryDates);
        assert_eq!(refused.refused, Some(refusal), "{start:?}");
        assert!(refused.commands.is_empty(), "{start:?}");
    }
}

#[test]
fn a_booking_is_read_again_only_while_it_waits_for_payment_or_review() {
    for start in [At::AwaitingPayment, At::PendingReview] {
        let check = at(start).apply(Intent::CheckBooking);
        assert_eq!(check.refused, None, "{start:?}");
        assert_eq!(check.flow, at(start), "{start:?}");
        assert_eq!(tags(&check.commands), ["read-booking 9001"], "{start:?}");
    }
    for start in [At::ChooseCourse, At::Payment, At::Submitting, At::Confirmed] {
        let refused = at(start).apply(Intent::CheckBooking);
        assert_eq!(refused.refused, Some(Refusal::NotInThisStep), "{start:?}");
        assert!(refused.commands.is_empty(), "{start:?}");
    }
}

#[test]
fn the_booking_pages_address_goes_with_the_confirmation_to_the_host_page() {
    let url = "https://agency.example/book?hbg-booking=pt.9001.1.2.T";
    let submitting = at(At::Submitting);
    let page = submitting.apply(Input::from(Outcome::BookingPage(url.to_owned())));
    assert_eq!(page.refused, None);
    let confirmed = page.flow.apply(created(booking(
        BookingStatus::Booked,
        PayStatus::Completed,
        PayOption::Credits,
        None,
    )));
    assert_eq!(confirmed.flow.step(), Step::Confirmed);
    assert_eq!(confirmed.flow.manage_url(), Some(url));
    assert!(
        confirmed
            .commands
            .contains(&Command::Emit(HostEvent::BookingConfirmed {
                product: Product::Practical,
                booking_id: 9001,
                manage_url: Some(url.to_owned()),
            })),
        "{:?}",
        confirmed.commands
    );
}

#[test]
fn a_booking_pages_address_with_no_booking_on_its_way_is_refused() {
    let choosing = at(At::ChooseEvent);
    let refused = choosing.apply(Input::from(Outcome::BookingPage(
        "https://agency.example/?hbg-booking=x".to_owned(),
    )));
    assert!(refused.refused.is_some());
    assert_eq!(refused.flow.manage_url(), None);
}

#[test]
fn a_pay_option_the_gateway_says_the_account_cannot_use_is_offered_unusable() {
    let allowed = [
        PayOption::Credits,
        PayOption::Balance,
        PayOption::CandidatePays,
    ];
    let held = at(At::Holding).apply(granted(41, &hold_ref(41)));
    assert!(
        held.commands.iter().any(|command| matches!(
            command,
            Command::ReadPayOptions { hold_ref: read, course_id, cost: Some(_) }
                if *read == hold_ref(41) && *course_id == COURSE_ID
        )),
        "the account's pay options are read once the seat is held"
    );
    assert!(
        held.flow
            .pay_option_offers(&allowed)
            .iter()
            .all(|offer| offer.usable),
        "until the gateway says, every allowed option is offered"
    );
    let stale = held.flow.apply(Input::from(Outcome::PayOptionsRead {
        hold_ref: "H-old".to_owned(),
        cannot_pay_with: vec![PayOption::Credits],
    }));
    assert!(
        stale
            .flow
            .pay_option_offers(&allowed)
            .iter()
            .all(|offer| offer.usable),
        "an answer for another hold is dropped"
    );
    let read = stale.flow.apply(Input::from(Outcome::PayOptionsRead {
        hold_ref: hold_ref(41),
        cannot_pay_with: vec![PayOption::Credits, PayOption::Balance],
    }));
    let shown: Vec<(PayOption, bool, Option<String>)> = read
        .flow
        .pay_option_offers(&allowed)
        .into_iter()
        .map(|offer| (offer.option, offer.usable, offer.reason))
        .collect();
    assert_eq!(
        shown[0],
        (
            PayOption::Credits,
            false,
            Some("No credits left for this course".to_owned())
        )
    );
    assert_eq!(
        (shown[1].0.clone(), shown[1].1),
        (PayOption::Balance, false)
    );
    assert!(
        shown[1].2.as_deref().is_some_and(
            |reason| reason.starts_with("The account balance does not cover the cost of")
        )
    );
    assert_eq!(shown[2], (PayOption::CandidatePays, true, None));

    // Another event chosen: what was said of the last one no longer holds.
    let back = read.flow.apply(Input::from(Intent::Back));
    let again = back.flow.apply(Input::from(Intent::ChooseEvent(event(42))));
    let regranted = again.flow.apply(granted(42, &hold_ref(42)));
    assert!(regranted
        .flow
        .pay_option_offers(&allowed)
        .iter()
        .all(|offer| offer.usable));
}
