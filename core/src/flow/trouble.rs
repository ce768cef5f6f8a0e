//! The problem steps: what they say, the ways out they offer, the failures
//! behind `Failed`, and recovering from them (try again, hold again).

use super::booking::SubmissionState;
use super::{Command, Flow, Intent, Refusal, Step};

/// A way out of a problem step (`HoldExpired`, `HoldConflict`,
/// `WaitingForSeat`, `Failed`), offered as a button; each sends an intent
/// the flow accepts there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Recovery {
    /// Hold the same event again ([`Intent::HoldAgain`]).
    HoldAgain,
    /// Send the failed request again ([`Intent::Retry`]).
    TryAgain,
    /// Back to the calendar ([`Intent::Back`]).
    ChooseAnotherDate,
    /// Back to the payment step ([`Intent::Back`]).
    BackToPayment,
    /// A new booking from the start ([`Intent::StartOver`]).
    StartAgain,
    /// Wait for the seat and hold it when it frees ([`Intent::WaitForSeat`]).
    WaitForSeat,
    /// Stop waiting for the seat ([`Intent::StopWaiting`]).
    StopWaiting,
}

impl Recovery {
    /// The button's text.
    pub fn label(self) -> &'static str {
        match self {
            Recovery::HoldAgain => "Hold this seat again",
            Recovery::TryAgain => "Try again",
            Recovery::ChooseAnotherDate => "Choose another date",
            Recovery::BackToPayment => "Back",
            Recovery::StartAgain => "Start again",
            Recovery::WaitForSeat => "Wait and hold it for me",
            Recovery::StopWaiting => "Stop waiting",
        }
    }

    /// The intent the button sends.
    pub fn intent(self) -> Intent {
        match self {
            Recovery::HoldAgain => Intent::HoldAgain,
            Recovery::TryAgain => Intent::Retry,
            Recovery::ChooseAnotherDate | Recovery::BackToPayment => Intent::Back,
            Recovery::StartAgain => Intent::StartOver,
            Recovery::WaitForSeat => Intent::WaitForSeat,
            Recovery::StopWaiting => Intent::StopWaiting,
        }
    }

    /// Whether it is the step's main action (the others are secondary).
    pub fn is_primary(self) -> bool {
        matches!(
            self,
            Recovery::HoldAgain | Recovery::TryAgain | Recovery::WaitForSeat
        )
    }
}

/// What a problem step tells the candidate and the ways out it offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trouble {
    /// What happened, for people.
    pub message: String,
    /// The ways out, the main one first.
    pub recoveries: Vec<Recovery>,
}

/// What kind of failure the `Failed` step shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// The hold request failed (network, 5xx, 429): retry or choose again.
    HoldFailed,
    /// The API refused the hold (422: full or past): choose another event.
    HoldRefused,
    /// The create-booking request's outcome is unknown: retry (same key).
    BookingOutcomeUnknown,
    /// The booking was made but its payment page is not on the allow-list.
    PaymentPageRefused,
    /// The booking was cancelled before it was confirmed.
    BookingCancelled,
}

/// A failure to explain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What failed.
    pub kind: FailureKind,
    /// What to tell the candidate.
    pub message: String,
    /// Technical detail for logs (never shown, never emitted).
    pub detail: String,
}

const MESSAGE_WAITING_FOR_SEAT: &str = "If the other candidate does not finish their booking, the seat is free again when the time below runs out, and we hold it for you then. Keep this page open.";
const MESSAGE_HOLD_LAPSED: &str = "Seats are held for 30 minutes and this hold has ended. Everything you entered is kept: hold the seat again to carry on.";
const MESSAGE_SEAT_TAKEN: &str =
    "Someone else is holding this seat at the moment. Choose another date, or try again shortly.";
const MESSAGE_SOMETHING_WRONG: &str = "Something went wrong.";

impl Flow {
    /// What a problem step (`HoldExpired`, `HoldConflict`, `WaitingForSeat`,
    /// `Failed`) says and the ways out it offers; `None` on any other step.
    pub fn trouble(&self) -> Option<Trouble> {
        let (message, recoveries) = match self.step {
            Step::HoldExpired => (
                MESSAGE_HOLD_LAPSED.to_owned(),
                vec![Recovery::HoldAgain, Recovery::ChooseAnotherDate],
            ),
            Step::HoldConflict => (
                self.conflict
                    .as_ref()
                    .map(|conflict| conflict.message.clone())
                    .filter(|message| !message.is_empty())
                    .unwrap_or_else(|| MESSAGE_SEAT_TAKEN.to_owned()),
                if self.seat_frees.is_some() {
                    vec![
                        Recovery::WaitForSeat,
                        Recovery::TryAgain,
                        Recovery::ChooseAnotherDate,
                    ]
                } else {
                    vec![Recovery::TryAgain, Recovery::ChooseAnotherDate]
                },
            ),
            Step::WaitingForSeat => (
                MESSAGE_WAITING_FOR_SEAT.to_owned(),
                vec![Recovery::StopWaiting, Recovery::ChooseAnotherDate],
            ),
            Step::Failed => {
                let message = self
                    .failure
                    .as_ref()
                    .map_or(MESSAGE_SOMETHING_WRONG, |failure| &failure.message);
                let recoveries = match self.failure_kind() {
                    Some(FailureKind::HoldFailed) => {
                        vec![Recovery::TryAgain, Recovery::ChooseAnotherDate]
                    }
                    Some(FailureKind::HoldRefused) => vec![Recovery::ChooseAnotherDate],
                    Some(FailureKind::BookingOutcomeUnknown) => {
                        vec![Recovery::TryAgain, Recovery::BackToPayment]
                    }
                    _ => vec![Recovery::StartAgain],
                };
                (message.to_owned(), recoveries)
            }
            _ => return None,
        };
        Some(Trouble {
            message,
            recoveries,
        })
    }

    pub(super) fn failure_kind(&self) -> Option<FailureKind> {
        self.failure.as_ref().map(|f| f.kind)
    }

    pub(super) fn failed_holding_nothing(&self) -> bool {
        self.step == Step::Failed
            && matches!(
                self.failure_kind(),
                Some(FailureKind::HoldFailed | FailureKind::HoldRefused)
            )
    }

    pub(super) fn fail(&mut self, kind: FailureKind, message: &str, detail: String) {
        self.failure = Some(Failure {
            kind,
            message: message.to_owned(),
            detail,
        });
        self.step = Step::Failed;
    }

    pub(super) fn retry(&mut self, commands: &mut Vec<Command>) -> Result<(), Refusal> {
        match self.step {
            Step::HoldConflict => self.request_hold(self.resume_step, commands),
            Step::Failed if self.failed_holding_nothing() => {
                self.request_hold(self.resume_step, commands)
            }
            Step::Failed if self.failure_kind() == Some(FailureKind::BookingOutcomeUnknown) => {
                let submission = self.submission.as_mut().ok_or(Refusal::NothingToRetry)?;
                submission.state = SubmissionState::InFlight;
                let (request, key) = (submission.request.clone(), submission.key.clone());
                self.send_booking(request, key, commands);
            }
            Step::Submitting => return Err(Refusal::AlreadySubmitting),
            _ => return Err(Refusal::NothingToRetry),
        }
        Ok(())
    }

    pub(super) fn hold_again(&mut self, commands: &mut Vec<Command>) -> Result<(), Refusal> {
        match self.step {
            Step::HoldExpired | Step::HoldConflict => self.request_hold(self.resume_step, commands),
            Step::Failed if self.failed_holding_nothing() => {
                self.request_hold(self.resume_step, commands)
            }
            _ => return Err(self.busy()),
        }
        Ok(())
    }
}
