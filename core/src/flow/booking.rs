//! Submitting the booking and what comes of it: the idempotency key, the
//! create-booking answers, the payment redirect and a booking read again.

use super::{Booked, BookingInProgress, Command, FailureKind, Flow, HostEvent, Refusal, Step};
use crate::api::{BookingStatus, PayOption, PayStatus, ValidationError};
use crate::validation::{self, FieldErrors, FormField};
use crate::widget_api::BookingRequest;

/// Where a create-booking request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SubmissionState {
    InFlight,
    Unknown,
    Settled,
}

/// The last create-booking request and its idempotency key.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Submission {
    pub(super) key: String,
    pub(super) request: BookingRequest,
    pub(super) state: SubmissionState,
}

const MESSAGE_BOOKING_UNKNOWN: &str =
    "We could not confirm your booking. Try again: you will not be booked twice";
const MESSAGE_PAYMENT_PAGE: &str = "Your booking is waiting for payment, but we could not open the payment page because its address is not one we trust. A payment link has been emailed to the candidate";
const MESSAGE_CANCELLED: &str = "This booking has been cancelled";
const MESSAGE_BOOKING_REJECTED: &str = "The booking could not be made";
const MESSAGE_SELECT_PAY_OPTION: &str = "Select how the booking is paid for";

impl Flow {
    /// What happens next, for the confirmation: the step's
    /// [`Step::what_next`], except that a booking awaiting payment without
    /// a payment page to offer (the upstream sent none, or none the policy
    /// accepts) says the link comes by email, as both products document.
    pub fn what_next(&self) -> Option<&'static str> {
        if self.step == Step::AwaitingPayment && self.payment_page().is_none() {
            return Some(
                "Your seat is reserved while you pay. The link to the payment page is emailed to you; once the payment is complete, your place is confirmed by email.",
            );
        }
        self.step.what_next()
    }

    /// The payment page to offer while the booking awaits payment: its
    /// `payment_url`, when the redirect policy accepts it.
    pub fn payment_page(&self) -> Option<String> {
        if self.step != Step::AwaitingPayment {
            return None;
        }
        let url = self.booking.as_ref()?.payment_url()?;
        self.policy.check(url).ok()
    }

    pub(super) fn submit(
        &mut self,
        fresh_key: String,
        commands: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        let retrying = self.step == Step::Failed
            && self.failure_kind() == Some(FailureKind::BookingOutcomeUnknown);
        if self.step != Step::Payment && !retrying {
            return Err(match self.step {
                Step::Submitting => Refusal::AlreadySubmitting,
                _ if self.booking_made() => Refusal::BookingFinished,
                _ => Refusal::NotInThisStep,
            });
        }
        let hold_ref = self
            .hold
            .as_ref()
            .map(|hold| hold.hold_ref.clone())
            .ok_or(Refusal::NoLiveHold)?;
        let candidate = match validation::validate(&self.form) {
            Ok(candidate) => candidate,
            Err(errors) => {
                self.errors = errors;
                self.failure = None;
                self.step = Step::Details;
                return Ok(());
            }
        };
        let Some(pay_option) = self.pay_option.clone() else {
            self.errors = FieldErrors::default();
            self.errors
                .insert(FormField::PayOption, MESSAGE_SELECT_PAY_OPTION);
            self.failure = None;
            self.step = Step::Payment;
            return Ok(());
        };
        let request = BookingRequest {
            hold_ref,
            first_name: candidate.first_name,
            last_name: candidate.last_name,
            email: candidate.email,
            phone: candidate.phone,
            job_role: candidate.job_role,
            pay_option,
            return_url: None,
            kit: candidate.kit,
        };
        let key = match &self.submission {
            Some(previous)
                if previous.state == SubmissionState::Unknown && previous.request == request =>
            {
                previous.key.clone()
            }
            previous => {
                if fresh_key.trim().is_empty() {
                    return Err(Refusal::EmptyIdempotencyKey);
                }
                if previous.as_ref().is_some_and(|p| p.key == fresh_key) {
                    return Err(Refusal::IdempotencyKeyReused);
                }
                fresh_key
            }
        };
        self.submission = Some(Submission {
            key: key.clone(),
            request: request.clone(),
            state: SubmissionState::InFlight,
        });
        self.send_booking(request, key, commands);
        Ok(())
    }

    pub(super) fn send_booking(
        &mut self,
        request: BookingRequest,
        idempotency_key: String,
        commands: &mut Vec<Command>,
    ) {
        self.step = Step::Submitting;
        self.errors = FieldErrors::default();
        self.failure = None;
        if let Some(place) = self.hold.as_ref().map(|hold| hold.place.clone()) {
            commands.push(Command::Emit(HostEvent::SubmitStarted {
                place,
                pay_option: request.pay_option.clone(),
            }));
        }
        commands.push(Command::CreateBooking {
            request: Box::new(request),
            idempotency_key,
        });
    }

    pub(super) fn booking_created(
        &mut self,
        booking: Booked,
        commands: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        if self.step != Step::Submitting {
            return self.stale(None, commands);
        }
        self.finish_submission(SubmissionState::Settled);
        self.hold = None;
        commands.push(Command::Emit(HostEvent::BookingCreated {
            product: booking.product(),
            booking_id: booking.id(),
            booking_status: booking.booking_status().clone(),
            pay_status: booking.pay_status().clone(),
        }));
        self.settle_booking(booking, commands);
        Ok(())
    }

    /// Keeps the address of the booking's own page, arriving with a
    /// booking's answer: while it is being made, or once it is made.
    pub(super) fn booking_page(
        &mut self,
        url: String,
        commands: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        if self.step != Step::Submitting && self.booking.is_none() {
            return self.stale(None, commands);
        }
        self.manage_url = Some(url);
        Ok(())
    }

    pub(super) fn booking_rejected(
        &mut self,
        error: ValidationError,
        commands: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        if self.step != Step::Submitting {
            return self.stale(None, commands);
        }
        self.finish_submission(SubmissionState::Settled);
        if error.errors.contains_key("hold_ref") {
            self.step = Step::Payment;
            self.expire(commands);
            return Ok(());
        }
        self.errors = FieldErrors::from_validation_error(&error);
        self.step = if self.errors.has_candidate_errors() {
            Step::Details
        } else {
            Step::Payment
        };
        if self.errors.fields().next().is_none() {
            self.load_dates(commands);
        }
        commands.push(Command::Emit(HostEvent::Error {
            code: "booking_rejected",
            message: MESSAGE_BOOKING_REJECTED,
        }));
        Ok(())
    }

    pub(super) fn booking_failed(
        &mut self,
        detail: String,
        commands: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        if self.step != Step::Submitting {
            return self.stale(None, commands);
        }
        self.finish_submission(SubmissionState::Unknown);
        self.fail(
            FailureKind::BookingOutcomeUnknown,
            MESSAGE_BOOKING_UNKNOWN,
            detail,
        );
        commands.push(Command::Emit(HostEvent::Error {
            code: "booking_unknown",
            message: MESSAGE_BOOKING_UNKNOWN,
        }));
        Ok(())
    }

    /// Asks for the booking again, while it waits for its payment or
    /// review.
    pub(super) fn check_booking(&self, commands: &mut Vec<Command>) -> Result<(), Refusal> {
        let booking_id = match &self.booking {
            Some(booking) if self.awaits_settling() => booking.id(),
            _ => return Err(Refusal::NotInThisStep),
        };
        commands.push(Command::ReadBooking { booking_id });
        Ok(())
    }

    /// Whether the booking is made and waits for its payment or review.
    fn awaits_settling(&self) -> bool {
        matches!(self.step, Step::AwaitingPayment | Step::PendingReview)
    }

    /// A booking read again, while waiting for its payment or review.
    pub(super) fn booking_read(
        &mut self,
        booking: Booked,
        commands: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        let same = self
            .booking
            .as_ref()
            .is_some_and(|b| b.id() == booking.id());
        if !(self.awaits_settling() && same) {
            return self.stale(None, commands);
        }
        self.settle_booking(booking, commands);
        Ok(())
    }

    fn finish_submission(&mut self, state: SubmissionState) {
        if let Some(submission) = self.submission.as_mut() {
            submission.state = state;
        }
    }

    /// Moves to the step a created or re-read booking calls for.
    pub(super) fn settle_booking(&mut self, booking: Booked, commands: &mut Vec<Command>) {
        let previous = self.step;
        let product = booking.product();
        let in_progress = BookingInProgress {
            booking_id: booking.id(),
            event_id: self.event().map_or(0, |event| event.id),
            product,
        };
        let awaiting_card = *booking.pay_option() == PayOption::CandidatePays
            && *booking.pay_status() != PayStatus::Completed
            && !matches!(booking.booking_status(), BookingStatus::Cancelled);
        match booking.booking_status() {
            BookingStatus::Cancelled => {
                self.fail(
                    FailureKind::BookingCancelled,
                    MESSAGE_CANCELLED,
                    String::new(),
                );
                if previous == Step::AwaitingPayment {
                    commands.push(Command::ClearBookingInProgress);
                }
                commands.push(Command::Emit(HostEvent::Error {
                    code: "booking_cancelled",
                    message: MESSAGE_CANCELLED,
                }));
            }
            _ if awaiting_card => {
                if previous == Step::Submitting {
                    match booking.payment_url().map(|url| self.policy.check(url)) {
                        Some(Ok(url)) => {
                            commands.push(Command::PersistBookingInProgress(in_progress));
                            commands.push(Command::Emit(HostEvent::PaymentRedirect {
                                product,
                                booking_id: booking.id(),
                            }));
                            commands.push(Command::Redirect { url });
                            self.step = Step::AwaitingPayment;
                        }
                        Some(Err(refused)) => {
                            self.fail(
                                FailureKind::PaymentPageRefused,
                                MESSAGE_PAYMENT_PAGE,
                                refused.to_string(),
                            );
                            commands.push(Command::Emit(HostEvent::Error {
                                code: "payment_redirect_refused",
                                message: refused.message(),
                            }));
                        }
                        None => {
                            commands.push(Command::PersistBookingInProgress(in_progress));
                            self.step = Step::AwaitingPayment;
                        }
                    }
                } else {
                    self.step = Step::AwaitingPayment;
                }
            }
            BookingStatus::Booked | BookingStatus::Completed => {
                if previous == Step::AwaitingPayment {
                    commands.push(Command::ClearBookingInProgress);
                }
                if previous != Step::Confirmed {
                    commands.push(Command::Emit(HostEvent::BookingConfirmed {
                        product,
                        booking_id: booking.id(),
                        manage_url: self.manage_url.clone(),
                    }));
                }
                self.step = Step::Confirmed;
            }
            _ => self.step = Step::PendingReview,
        }
        self.booking = Some(booking);
    }
}
