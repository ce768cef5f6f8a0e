//! What the flow reacts to (the candidate's [`Intent`]s and the API's
//! [`Outcome`]s) and what [`Flow::apply`] answers.

use super::{Booked, Command, Dates, Flow, GrantedHold};
use crate::api::bls::Timeslot;
use crate::api::{CourseRef, PayOption, Timestamp, TrainingEvent, ValidationError};
use crate::validation::{CandidateForm, FormField};
use crate::widget_api::{ErrorAnswer, ErrorBody, SeatTaken};

/// Something the candidate did.
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    /// Pick a course.
    ChooseCourse(CourseRef),
    /// Pick a location, `None` for any.
    ChooseLocation(Option<u64>),
    /// Pick an event (asks for a hold).
    ChooseEvent(TrainingEvent),
    /// Pick a Virtual BLS timeslot (asks for a hold).
    ChooseTimeslot(Timeslot),
    /// Read the chosen course's dates again (after a failed read).
    RetryDates,
    /// The form's new contents.
    EditForm(CandidateForm),
    /// A field lost focus: re-check it if it is already in error.
    CheckField(FormField),
    /// Details done: validate and go to payment.
    ContinueToPayment,
    /// Pick how to pay.
    ChoosePayOption(PayOption),
    /// Confirm the booking, with a fresh random idempotency key.
    Submit {
        /// A fresh key; used unless a pending one must be reused.
        idempotency_key: String,
    },
    /// Go back one step.
    Back,
    /// Try the failed request again.
    Retry,
    /// Hold the same event again (after expiry or a conflict).
    HoldAgain,
    /// On a conflict that says when the other hold lapses: wait, counting
    /// down, and hold the seat as soon as it is free.
    WaitForSeat,
    /// Stop waiting for the seat: back to what the conflict offers.
    StopWaiting,
    /// "Keep my seat" in the final minute, at this monotonic reading.
    KeepMySeat {
        /// `performance.now()`.
        now_ms: f64,
    },
    /// The countdown's periodic tick: two monotonic readings.
    Tick {
        /// The previous tick's reading.
        prev_ms: f64,
        /// This tick's reading.
        now_ms: f64,
    },
    /// The countdown reached zero.
    HoldExpired,
    /// Forget everything and book again (e.g. the next candidate).
    StartOver,
    /// Read the booking awaiting payment or review again (e.g. to see
    /// whether it has been paid).
    CheckBooking,
}

/// What the API answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// 200 on hold, received at this monotonic reading.
    HoldGranted {
        /// The hold and its reference.
        hold: GrantedHold,
        /// `performance.now()` when the response arrived.
        received_at_ms: f64,
    },
    /// 409 on hold.
    HoldConflict {
        /// What the 409 says.
        conflict: SeatConflict,
        /// `performance.now()` when the response arrived.
        received_at_ms: f64,
    },
    /// 422 on hold (full, past).
    HoldRefused(ValidationError),
    /// Network failure or any other error answer (5xx, 429) on hold; the
    /// text is for logs.
    HoldFailed(String),
    /// 201 on create booking.
    BookingCreated(Box<Booked>),
    /// 422 on create booking.
    BookingRejected(ValidationError),
    /// Network failure, timeout or any error answer but a 422 (5xx) on
    /// create booking: the outcome is unknown. The text is for logs.
    BookingFailed(String),
    /// A booking read again (polling, or back from the payment page).
    BookingStatus(Box<Booked>),
    /// The address of the booking's own page (the host page with its
    /// durable link, [`crate::manage::booking_page_url`]), sent with the
    /// booking's answer, before it.
    BookingPage(String),
    /// A course's dates, as read.
    DatesLoaded {
        /// The course they were read for.
        course_id: u64,
        /// Its events or timeslots.
        dates: Dates,
    },
    /// A course's dates could not be read.
    DatesFailed {
        /// The course they were read for.
        course_id: u64,
        /// Why, as a sentence for people.
        reason: String,
    },
    /// What the gateway said of the pay options for a hold's place: the
    /// allowed ones the account cannot use.
    PayOptionsRead {
        /// The hold they were read for.
        hold_ref: String,
        /// The allowed pay options the account cannot use for its place.
        cannot_pay_with: Vec<PayOption>,
    },
    /// A release finished.
    Released,
}

impl Outcome {
    /// What an error answer to a hold request means: a 409, the seat is held
    /// by another session; a 422, the event cannot be held (full, past);
    /// anything else, a failure (its status and message kept for logs).
    pub fn hold_error(answer: ErrorAnswer, received_at_ms: f64) -> Outcome {
        match answer.body {
            ErrorBody::SeatTaken(taken) => Outcome::HoldConflict {
                conflict: taken.into(),
                received_at_ms,
            },
            ErrorBody::Invalid(error) => Outcome::HoldRefused(error),
            ErrorBody::Message(_) => Outcome::HoldFailed(failure_detail(&answer)),
        }
    }

    /// What an error answer to a create-booking request means: a 422 is a
    /// rejection naming what is wrong (`hold_ref`: the hold lapsed); after
    /// anything else the outcome is unknown.
    pub fn booking_error(answer: ErrorAnswer) -> Outcome {
        match answer.body {
            ErrorBody::Invalid(error) => Outcome::BookingRejected(error),
            ErrorBody::SeatTaken(_) | ErrorBody::Message(_) => {
                Outcome::BookingFailed(failure_detail(&answer))
            }
        }
    }
}

/// An error answer's status and message, for logs.
fn failure_detail(answer: &ErrorAnswer) -> String {
    format!("{} {}", answer.status, answer.message())
        .trim_end()
        .to_owned()
}

/// A 409 on a hold request, as the flow reads it: the seat is held. The
/// gateway names the hold only to the session that owns it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SeatConflict {
    /// Human-readable reason.
    pub message: String,
    /// The session's own hold, when the answer names it.
    pub hold_ref: Option<String>,
    /// When the hold lapses, if said.
    pub held_until: Option<Timestamp>,
    /// Seconds until the hold lapses, if said.
    pub expires_in_seconds: Option<i64>,
    /// The held event, if said.
    pub event_id: Option<u64>,
}

impl From<SeatTaken> for SeatConflict {
    fn from(taken: SeatTaken) -> SeatConflict {
        SeatConflict {
            message: taken.message,
            held_until: taken.held_until,
            expires_in_seconds: taken.free_in_seconds,
            ..SeatConflict::default()
        }
    }
}

/// Anything the flow reacts to.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// From the candidate.
    Intent(Intent),
    /// From the API.
    Outcome(Outcome),
}

impl From<Intent> for Input {
    fn from(intent: Intent) -> Self {
        Input::Intent(intent)
    }
}

impl From<Outcome> for Input {
    fn from(outcome: Outcome) -> Self {
        Input::Outcome(outcome)
    }
}

/// Why an input was refused (the flow is unchanged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// Choose a course first.
    CourseNotChosen,
    /// The event is for a different course.
    EventForAnotherCourse,
    /// The event has no seats left.
    EventFull,
    /// The timeslot's start cannot be read.
    TimeUnknown,
    /// A hold request is in flight.
    HoldInProgress,
    /// A seat is held: go back (which releases it) first.
    SeatHeld,
    /// There is no live hold.
    NoLiveHold,
    /// A booking is being submitted.
    AlreadySubmitting,
    /// The booking is already made.
    BookingFinished,
    /// This is the first step.
    NothingToGoBackTo,
    /// Nothing has failed.
    NothingToRetry,
    /// Only the documented pay options can be chosen.
    UnknownPayOption,
    /// "Keep my seat" is only offered in the final minute.
    NotExtendableYet,
    /// The idempotency key is empty.
    EmptyIdempotencyKey,
    /// The idempotency key was already used for another request.
    IdempotencyKeyReused,
    /// An API answer to a request the flow no longer waits for.
    StaleOutcome,
    /// The intent does not apply to the current step.
    NotInThisStep,
}

impl Refusal {
    /// Why, for logs and developers.
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::CourseNotChosen => "no course chosen",
            Refusal::EventForAnotherCourse => "event is for another course",
            Refusal::EventFull => "event is full",
            Refusal::TimeUnknown => "the timeslot's start cannot be read",
            Refusal::HoldInProgress => "a hold request is in flight",
            Refusal::SeatHeld => "a seat is held; go back to release it first",
            Refusal::NoLiveHold => "no live hold",
            Refusal::AlreadySubmitting => "already submitting",
            Refusal::BookingFinished => "the booking is already made",
            Refusal::NothingToGoBackTo => "nothing to go back to",
            Refusal::NothingToRetry => "nothing to retry",
            Refusal::UnknownPayOption => "unknown pay option",
            Refusal::NotExtendableYet => "the hold can only be kept in its final minute",
            Refusal::EmptyIdempotencyKey => "empty idempotency key",
            Refusal::IdempotencyKeyReused => "idempotency key already used for another request",
            Refusal::StaleOutcome => "answer to a request no longer pending",
            Refusal::NotInThisStep => "not possible in this step",
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.reason())
    }
}

/// The result of [`Flow::apply`].
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// The flow after the input (unchanged when refused).
    pub flow: Flow,
    /// What to do, in order.
    pub commands: Vec<Command>,
    /// Why the input was refused, if it was.
    pub refused: Option<Refusal>,
}
