//! Fixtures for the flow tests: events, holds, bookings and
//! flows driven to each step through legal transitions.
#![allow(dead_code)] // Each test binary uses a different subset.

use booking_core::api::{
    BookingDetail, BookingStatus, Candidate, CourseRef, HeldEvent, PayOption, PayStatus, SeatHold,
    TrainingEvent, ValidationError,
};
use booking_core::flow::{Command, Dates, Flow, Input, Intent, Outcome, Place, SeatConflict, Step};
use booking_core::redirect::PaymentRedirectPolicy;
use booking_core::synthetic;
/// The course every fixture books, and its id.
pub use booking_core::synthetic::{course, COURSE_ID};
use booking_core::validation::CandidateForm;
use booking_core::widget_api::HeldSeat;
use chrono::DateTime;

/// The Stripe Checkout URL the fixtures' candidate-pays bookings carry.
pub const STRIPE_URL: &str = "https://checkout.stripe.com/c/pay/cs_test_a1B2c3";

/// A synthetic event of course `course_id` on 4 August 2026 at venue 5.
pub fn event_for(id: u64, course_id: u64, seats: u32) -> TrainingEvent {
    let mut event = synthetic::training_event(
        id,
        5,
        DateTime::parse_from_rfc3339("2026-08-04T09:30:00+01:00").unwrap(),
        DateTime::parse_from_rfc3339("2026-08-04T16:30:00+01:00").unwrap(),
        seats,
    );
    event.course = CourseRef {
        id: course_id,
        name: "Course".into(),
    };
    event
}

pub fn event(id: u64) -> TrainingEvent {
    event_for(id, COURSE_ID, 5)
}

/// The reference of the fixtures' hold on an event.
pub fn hold_ref(event_id: u64) -> String {
    format!("H-{event_id}")
}

pub fn seat_hold(event_id: u64) -> SeatHold {
    SeatHold {
        hold_hash: "Q8vTz2LmPa9RkWc4NbXy7HdJf3GsEu6K".into(),
        expires_at: DateTime::parse_from_rfc3339("2026-07-20T14:45:00+00:00").unwrap(),
        expires_in_seconds: 1800,
        training_event: HeldEvent {
            id: event_id,
            course: "Moving & Handling Practical".into(),
            location: "Venue 5".into(),
            start_date: DateTime::parse_from_rfc3339("2026-08-04T09:30:00+01:00").unwrap(),
        },
    }
}

pub fn granted(event_id: u64, hold_ref: &str) -> Input {
    Outcome::HoldGranted {
        hold: HeldSeat {
            hold_ref: hold_ref.into(),
            hold: seat_hold(event_id),
        }
        .into(),
        received_at_ms: 0.0,
    }
    .into()
}

pub fn conflict(hold_ref: Option<&str>, event_id: Option<u64>, seconds: Option<i64>) -> Input {
    Outcome::HoldConflict {
        conflict: SeatConflict {
            message: "An active hold already exists.".into(),
            hold_ref: hold_ref.map(Into::into),
            held_until: None,
            expires_in_seconds: seconds,
            event_id,
        },
        received_at_ms: 0.0,
    }
    .into()
}

pub fn typed_form() -> CandidateForm {
    CandidateForm {
        first_name: "Priya".into(),
        last_name: "Patel".into(),
        email: "priya.patel@carestaff.example".into(),
        phone: "07700 900123".into(),
        job_role: "Healthcare Assistant".into(),
        ..CandidateForm::default()
    }
}

pub fn booking(
    status: BookingStatus,
    pay_status: PayStatus,
    pay_option: PayOption,
    payment_url: Option<&str>,
) -> BookingDetail {
    BookingDetail {
        id: 9001,
        candidate: Candidate {
            name: "Priya Patel".into(),
            email: "priya.patel@carestaff.example".into(),
            phone: Some("+447700900123".into()),
            job_role: Some("Healthcare Assistant".into()),
        },
        course: course(),
        location: event(41).location,
        trainer: None,
        start_date: event(41).start_date,
        end_date: event(41).end_date,
        booking_status: status,
        pay_status,
        pay_option,
        booked_by: "Agency".into(),
        attendance: None,
        certificate_available: false,
        created_at: DateTime::parse_from_rfc3339("2026-07-20T14:17:03+00:00").unwrap(),
        payment_url: payment_url.map(Into::into),
    }
}

pub fn created(booking: BookingDetail) -> Input {
    Outcome::BookingCreated(Box::new(booking.into())).into()
}

pub fn status(booking: BookingDetail) -> Input {
    Outcome::BookingStatus(Box::new(booking.into())).into()
}

pub fn rejected(field: Option<&str>, message: &str) -> Input {
    let mut error = ValidationError {
        message: message.into(),
        errors: Default::default(),
    };
    if let Some(field) = field {
        error.errors.insert(field.into(), vec![message.into()]);
    }
    Outcome::BookingRejected(error).into()
}

pub fn submit(key: &str) -> Input {
    Intent::Submit {
        idempotency_key: key.into(),
    }
    .into()
}

/// Applies inputs one by one, failing the test if any is refused.
pub fn drive(flow: Flow, inputs: Vec<Input>) -> Flow {
    inputs.into_iter().fold(flow, |flow, input| {
        let transition = flow.apply(input.clone());
        assert_eq!(transition.refused, None, "driving with {input:?}");
        transition.flow
    })
}

/// Named starting points for the transition table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    ChooseCourse,
    ChooseLocation,
    ChooseEvent,
    Holding,
    KeepingSeat,
    DetailsEmpty,
    Details,
    PaymentNoOption,
    Payment,
    Submitting,
    Confirmed,
    PendingReview,
    AwaitingPayment,
    HoldExpired,
    HoldConflict,
    FailedHold,
    FailedRefused,
    FailedUnknown,
    FailedRedirect,
}

/// A flow at a named starting point, reached through legal transitions.
pub fn at(start: At) -> Flow {
    let flow = Flow::new(PaymentRedirectPolicy::default());
    let to_choose_event = vec![
        Intent::ChooseCourse(course()).into(),
        Intent::ChooseLocation(Some(5)).into(),
    ];
    let to_details_empty = [
        to_choose_event.clone(),
        vec![
            Intent::ChooseEvent(event(41)).into(),
            granted(41, &hold_ref(41)),
        ],
    ]
    .concat();
    let to_payment_no_option = [
        to_details_empty.clone(),
        vec![
            Intent::EditForm(typed_form()).into(),
            Intent::ContinueToPayment.into(),
        ],
    ]
    .concat();
    let to_payment = [
        to_payment_no_option.clone(),
        vec![Intent::ChoosePayOption(PayOption::Credits).into()],
    ]
    .concat();
    let to_submitting = [to_payment.clone(), vec![submit("K1")]].concat();
    let candidate_pays = |url: &str| {
        [
            to_payment_no_option.clone(),
            vec![
                Intent::ChoosePayOption(PayOption::CandidatePays).into(),
                submit("K1"),
                created(booking(
                    BookingStatus::Pending,
                    PayStatus::Pending,
                    PayOption::CandidatePays,
                    Some(url),
                )),
            ],
        ]
        .concat()
    };
    let inputs: Vec<Input> = match start {
        At::ChooseCourse => vec![],
        At::ChooseLocation => vec![Intent::ChooseCourse(course()).into()],
        At::ChooseEvent => to_choose_event,
        At::Holding => [to_choose_event, vec![Intent::ChooseEvent(event(41)).into()]].concat(),
        At::KeepingSeat => [
            to_payment.clone(),
            vec![Intent::KeepMySeat {
                now_ms: 1_750_000.0,
            }
            .into()],
        ]
        .concat(),
        At::DetailsEmpty => to_details_empty,
        At::Details => [
            to_details_empty,
            vec![Intent::EditForm(typed_form()).into()],
        ]
        .concat(),
        At::PaymentNoOption => to_payment_no_option,
        At::Payment => to_payment,
        At::Submitting => to_submitting,
        At::Confirmed => [
            to_submitting,
            vec![created(booking(
                BookingStatus::Booked,
                PayStatus::Completed,
                PayOption::Credits,
                None,
            ))],
        ]
        .concat(),
        At::PendingReview => [
            to_submitting,
            vec![created(booking(
                BookingStatus::Pending,
                PayStatus::Completed,
                PayOption::Credits,
                None,
            ))],
        ]
        .concat(),
        At::AwaitingPayment => candidate_pays(STRIPE_URL),
        At::HoldExpired => [to_payment, vec![Intent::HoldExpired.into()]].concat(),
        At::HoldConflict => [
            to_choose_event,
            vec![
                Intent::EditForm(typed_form()).into(),
                Intent::ChooseEvent(event(41)).into(),
                conflict(None, None, None),
            ],
        ]
        .concat(),
        At::FailedHold => [
            to_choose_event,
            vec![
                Intent::ChooseEvent(event(41)).into(),
                Outcome::HoldFailed("502 Bad Gateway".into()).into(),
            ],
        ]
        .concat(),
        At::FailedRefused => [
            to_choose_event,
            vec![
                Intent::ChooseEvent(event(41)).into(),
                Outcome::HoldRefused(ValidationError {
                    message: "This training event is full.".into(),
                    errors: Default::default(),
                })
                .into(),
            ],
        ]
        .concat(),
        At::FailedUnknown => [
            to_submitting,
            vec![Outcome::BookingFailed("connection reset".into()).into()],
        ]
        .concat(),
        At::FailedRedirect => candidate_pays("https://checkout.stripe.com.evil.example/pay"),
    };
    let flow = drive(flow, inputs);
    let expected = match start {
        At::ChooseCourse => Step::ChooseCourse,
        At::ChooseLocation => Step::ChooseLocation,
        At::ChooseEvent => Step::ChooseEvent,
        At::Holding | At::KeepingSeat => Step::Holding,
        At::DetailsEmpty | At::Details => Step::Details,
        At::PaymentNoOption | At::Payment => Step::Payment,
        At::Submitting => Step::Submitting,
        At::Confirmed => Step::Confirmed,
        At::PendingReview => Step::PendingReview,
        At::AwaitingPayment => Step::AwaitingPayment,
        At::HoldExpired => Step::HoldExpired,
        At::HoldConflict => Step::HoldConflict,
        At::FailedHold | At::FailedRefused | At::FailedUnknown | At::FailedRedirect => Step::Failed,
    };
    assert_eq!(flow.step(), expected, "fixture {start:?}");
    flow
}

/// A short text per command, to compare command lists in tables.
pub fn tags(commands: &[Command]) -> Vec<String> {
    commands
        .iter()
        .map(|command| match command {
            Command::Hold { place } => format!("hold {}", place_tag(place)),
            Command::Release { hold_ref } => format!("release {hold_ref}"),
            Command::RenewHold { place, hold_ref } => {
                format!("renew {hold_ref} on {}", place_tag(place))
            }
            Command::CreateBooking {
                idempotency_key, ..
            } => format!("create-booking {idempotency_key}"),
            Command::Redirect { url } => format!("redirect {url}"),
            Command::Emit(event) => event.name().to_owned(),
            Command::Announce(_) => "announce".to_owned(),
            Command::PersistBookingInProgress(b) => format!("persist {}", b.booking_id),
            Command::ClearBookingInProgress => "clear-booking".to_owned(),
            Command::LoadDates { course_id } => format!("load-dates {course_id}"),
            Command::ShowDates(Dates::Events(events)) => format!("show {} events", events.len()),
            Command::ShowDates(Dates::Timeslots(slots)) => {
                format!("show {} timeslots", slots.len())
            }
            Command::ShowDatesFailed { reason } => format!("show failure: {reason}"),
            Command::ReadBooking { booking_id } => format!("read-booking {booking_id}"),
            Command::ReadPayOptions { hold_ref, .. } => format!("read-pay-options {hold_ref}"),
        })
        .collect()
}

/// "41" for an event, "41 2026-09-01 09:00" for a timeslot of course 41.
pub fn place_tag(place: &Place) -> String {
    match place {
        Place::Event(id) => id.to_string(),
        Place::Slot {
            course_id,
            date,
            time,
        } => format!("{course_id} {date} {time}"),
    }
}
