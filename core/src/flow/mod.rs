//! The booking flow as a pure state machine.
//!
//! The widget sends every user intent ([`Intent`]) and every API outcome
//! ([`Outcome`]) to [`Flow::apply`], renders the [`Flow`] it gets back and
//! performs the returned [`Command`]s in order (each one after the previous
//! has been started; `Release` before `Hold` matters). Nothing here does I/O
//! or reads a clock: times come in with the inputs.
//!
//! ```text
//! ChooseCourse
//!     | ChooseCourse: LoadDates (unless that course was already chosen)
//!     v
//! ChooseLocation    (Practical Training only: Virtual BLS goes from ChooseCourse to ChooseEvent)
//!     | ChooseLocation
//!     v
//! ChooseEvent       (here and at ChooseLocation, RetryDates: LoadDates)
//!     | ChooseEvent, ChooseTimeslot: Hold
//!     v
//! Holding <-----------------------------------------------------------------------------+
//!     |   |                                                                             |
//!     |   +- 409 naming our other or lapsing hold: Release, Hold (once, still Holding)  |
//!     |   |                                                                             |
//!     |   +- any other 409: LoadDates ----> HoldConflict -- Retry, HoldAgain: Hold ---->+
//!     |   |                                   |      ^                                  |
//!     |   |                       WaitForSeat |      | StopWaiting                      |
//!     |   |                                   v      |                                  |
//!     |   |                                 WaitingForSeat -- seat free (Tick): Hold -->+
//!     |   |                                                                             |
//!     |   +- 422, network, 5xx, 429 ------> Failed (hold) -- Retry, HoldAgain: Hold --->+
//!     |      (a 422: LoadDates)                                                         |
//!     |                                                                                 |
//!     | granted (or a 409 naming our live hold): to Details, or to Payment              |
//!     | when the hold renewed or lapsed was held there                                  |
//!     v                                                                                 |
//! Details <--------+                                                                    |
//!     |            | Back (the hold is kept);                                           |
//!     | Continue-  | Submit with details now invalid                                    |
//!     v ToPayment  |                                                                    |
//! Payment ---------+                                                                    |
//!     |                                                                                 |
//!     |   Details, Payment: KeepMySeat (final minute): RenewHold ---------------------->+
//!     |                                                                                 |
//!     |   Details, Payment: the hold lapses (Tick, HoldExpired) -> HoldExpired          |
//!     |                                                            | HoldAgain: Hold -->+
//!     | Submit
//!     v
//! Submitting -- 422 naming hold_ref ---------> HoldExpired (the hold is gone)
//!     |      -- 422 on a candidate field ------> Details
//!     |      -- 422 on anything else ----------> Payment (LoadDates when it names no field)
//!     |      -- network, 5xx, timeout ---------> Failed (booking unknown)
//!     |                                          | Retry (same key), Submit -> Submitting
//!     |                                          | Back -> Payment (the hold is kept)
//!     | 201: the booking is made
//!     +--> Confirmed
//!     +--> PendingReview    -- CheckBooking: ReadBooking, its answer (BookingStatus) -->  Confirmed,
//!     +--> AwaitingPayment  --   PendingReview, AwaitingPayment, Failed (cancelled)
//!     +--> Failed (payment page refused, or cancelled)
//! ```
//!
//! Not drawn above: `Back` from `ChooseLocation` or `ChooseEvent` goes one
//! step up the main path. `Back` from `Details` releases the hold and, like
//! `Back` from `Holding` and from the problem steps before a booking
//! (`HoldExpired`, `HoldConflict`, `WaitingForSeat`, `Failed` with a hold
//! failure), returns to `ChooseEvent`. Those problem steps also take a new
//! course, location, event or timeslot, as the choosing steps do.
//! [`Intent::StartOver`] goes from any step but `Submitting` to
//! `ChooseCourse`, releasing a held seat. [`Flow::resume`] starts at
//! `Confirmed`, `PendingReview`, `AwaitingPayment` or `Failed` (cancelled),
//! as the booking's status says.
//!
//! Invariants (each has a test):
//! * **No details without a live hold.** `Details` and `Payment` always have
//!   a hold; a hold exists only in those steps and while a booking is being
//!   submitted (or its outcome is unknown).
//! * **Going back past the hold releases it.** Back from `Details` emits
//!   `Release`; so does starting over while a seat is held. Back from
//!   `Payment` returns to `Details` and keeps the hold.
//! * **Nothing typed is lost.** The candidate form survives every
//!   transition (hold expiry, conflicts, failures, going back) except
//!   [`Intent::StartOver`], which is for booking the next candidate.
//! * **A booking is created at most once.** While a create-booking request
//!   is in flight every further submit is refused, so a double click gives
//!   one `CreateBooking`. After an unknown outcome (network drop, 5xx,
//!   timeout), retrying, or submitting the same request again, reuses the
//!   same idempotency key, so the server can only return the booking it may
//!   already have made. After a 422, or when the details or pay option
//!   changed, a new key is used.
//! * **Refusals change nothing.** An input that does not apply leaves the
//!   flow unchanged and says why ([`Refusal`]). The only command a refusal can
//!   carry is releasing a seat hold that arrived too late to be wanted.
//! * **Redirects are checked.** `Redirect` is only emitted for a
//!   `payment_url` the [`PaymentRedirectPolicy`] accepts; any other lands in
//!   `Failed` with a message, never a redirect.
//!
//! Choices made here:
//! * Reads take the road writes take. The flow asks for the chosen
//!   course's dates (`LoadDates`) when a course not already chosen is
//!   chosen, when seats changed under the candidate (a 409 landing in
//!   `HoldConflict`, a 422 on hold, a 422 on booking naming no field), and
//!   on [`Intent::RetryDates`] from the steps that show them. The answer
//!   comes back as [`Outcome::DatesLoaded`] or [`Outcome::DatesFailed`]; one
//!   for a course no longer chosen is refused as stale, and one still wanted
//!   goes back to the widget (`ShowDates`, `ShowDatesFailed`), which indexes
//!   it for the calendar: the flow keeps no dates ([`Dates`]). A booking
//!   awaiting payment or review is read again on [`Intent::CheckBooking`]
//!   (`ReadBooking`), its answer an [`Outcome::BookingStatus`].
//! * The idempotency key comes from the widget: every [`Intent::Submit`]
//!   carries a fresh random key (`crypto.randomUUID()`), and the flow decides
//!   whether to use it or reuse the pending one. The flow holds no random
//!   state, so it stays deterministic and testable.
//! * "Keep my seat" ([`Intent::KeepMySeat`], final minute only) is one
//!   `RenewHold` for the same event or timeslot: the gateway replaces the
//!   hold with a fresh one without a moment in which another session could
//!   take the seat (the API has no extension, and answers 409 to a second
//!   hold while one is live). It passes through `Holding` and, once granted,
//!   returns to the step the candidate was on.
//! * The flow speaks the gateway's language ([`crate::widget_api`]): a hold
//!   is its session-bound `hold_ref`, a booking is asked for with a
//!   [`BookingRequest`](crate::widget_api::BookingRequest), and
//!   [`Outcome::hold_error`] and [`Outcome::booking_error`] read its error
//!   answers.
//! * A 409 that names a hold ([`SeatConflict::hold_ref`]) is taken as the
//!   session's own. If it is for the chosen event (or does not say which)
//!   and has time left, it is adopted; otherwise (another event, or no time
//!   left) it is released and the seat is asked for once more, once. The
//!   gateway answers a seat the session already holds with that hold, and
//!   its 409 ([`SeatTaken`](crate::widget_api::SeatTaken)) names no hold, so
//!   a 409 read by [`Outcome::hold_error`] always lands in `HoldConflict`, as
//!   does any 409 once the release has been tried. `HoldConflict` offers
//!   another date and a retry.
//! * When the 409 says when the other hold lapses, within a hold's life (30
//!   minutes), `HoldConflict` also offers to wait for the seat
//!   ([`Intent::WaitForSeat`]): `WaitingForSeat` counts down to a moment
//!   just after the other hold lapses ([`Flow::seat_wait_text`]) and then
//!   asks for the seat, as a retry would; [`Intent::StopWaiting`] returns
//!   to `HoldConflict`. The widget sends [`Intent::Tick`]s while it waits,
//!   as while a seat is held ([`Flow::needs_ticks`]).
//! * A 422 on booking that names `hold_ref` means the hold lapsed or was
//!   used: it lands in `HoldExpired` (hold again, nothing lost). Other 422s
//!   go back to `Details` when a candidate field is wrong, else to `Payment`.
//! * Host page events carry ids, times and statuses only, never the
//!   candidate's personal data, and their error messages are fixed texts.
//!   All but `hbg:location-chosen` (Practical Training only) and
//!   `hbg:error` name the product; those about the chosen or held seat name
//!   it by its [`Place`]: an event's id for Practical Training, a
//!   timeslot's course, date and time for Virtual BLS.
//! * One flow for both products ([`Product`]): Virtual BLS chooses a
//!   timeslot ([`Intent::ChooseTimeslot`]) where Practical Training chooses a
//!   location and an event; holding, the countdown, the form (with the kit's
//!   address for Virtual BLS), pay options, submitting, the payment redirect
//!   and the problem steps are the same code.

mod booking;
mod commands;
mod dates;
mod details;
mod holding;
mod intents;
mod navigation;
mod place;
mod step;
mod trouble;

pub use commands::{Command, HostEvent};
pub use dates::Dates;
pub use intents::{Input, Intent, Outcome, Refusal, SeatConflict, Transition};
pub use place::{ActiveHold, Booked, BookingFact, BookingInProgress, Chosen, GrantedHold, Place};
pub use step::{Step, PROGRESS_STEPS};
pub use trouble::{Failure, FailureKind, Recovery, Trouble};

use crate::api::bls::{Timeslot, VirtualBooking};
use crate::api::{BookingDetail, CourseRef, PayOption, TrainingEvent};
use crate::countdown::HoldCountdown;
use crate::product::Product;
use crate::redirect::PaymentRedirectPolicy;
use crate::validation::{CandidateForm, FieldErrors};
use booking::Submission;

/// The booking flow's state. Read it through the accessors; change it only
/// through [`Flow::apply`].
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    policy: PaymentRedirectPolicy,
    product: Product,
    step: Step,
    course: Option<CourseRef>,
    location: Option<u64>,
    chosen: Option<Chosen>,
    hold: Option<ActiveHold>,
    resume_step: Step,
    conflict_release_tried: bool,
    form: CandidateForm,
    pay_option: Option<PayOption>,
    cannot_pay_with: Vec<PayOption>,
    pay_options_read_for: Option<Place>,
    errors: FieldErrors,
    booking: Option<Booked>,
    manage_url: Option<String>,
    conflict: Option<SeatConflict>,
    seat_frees: Option<HoldCountdown>,
    failure: Option<Failure>,
    submission: Option<Submission>,
}

impl Flow {
    /// A new Practical Training flow at the first step, redirecting only
    /// where `policy` allows.
    pub fn new(policy: PaymentRedirectPolicy) -> Flow {
        Flow::for_product(policy, Product::Practical)
    }

    /// A new flow of `product` at the first step.
    pub fn for_product(policy: PaymentRedirectPolicy, product: Product) -> Flow {
        Flow {
            policy,
            product,
            step: Step::ChooseCourse,
            course: None,
            location: None,
            chosen: None,
            hold: None,
            resume_step: Step::Details,
            conflict_release_tried: false,
            form: CandidateForm::for_product(product),
            pay_option: None,
            cannot_pay_with: Vec::new(),
            pay_options_read_for: None,
            errors: FieldErrors::default(),
            booking: None,
            manage_url: None,
            conflict: None,
            seat_frees: None,
            failure: None,
            submission: None,
        }
    }

    /// A new Practical Training flow and the `hbg:ready` event.
    pub fn start(policy: PaymentRedirectPolicy) -> Transition {
        Flow::start_for(policy, Product::Practical)
    }

    /// A new flow of `product` and the `hbg:ready` event.
    pub fn start_for(policy: PaymentRedirectPolicy, product: Product) -> Transition {
        Transition {
            flow: Flow::for_product(policy, product),
            commands: vec![Command::Emit(HostEvent::Ready { product })],
            refused: None,
        }
    }

    /// Picks up a booking made before a reload or the payment page's
    /// redirect back: confirmed, pending review, awaiting payment (no new
    /// redirect) or cancelled, as its status says. Unless still awaiting
    /// payment, the remembered booking is cleared.
    pub fn resume(policy: PaymentRedirectPolicy, booking: impl Into<Booked>) -> Transition {
        Flow::resume_with_page(policy, booking, None)
    }

    /// [`Flow::resume`], with the address of the booking's own page when
    /// the gateway gave its link ([`Outcome::BookingPage`]).
    pub fn resume_with_page(
        policy: PaymentRedirectPolicy,
        booking: impl Into<Booked>,
        manage_url: Option<String>,
    ) -> Transition {
        let booking = booking.into();
        let mut flow = Flow::for_product(policy, booking.product());
        flow.course = Some(booking.course().clone());
        flow.manage_url = manage_url;
        let mut commands = Vec::new();
        flow.settle_booking(booking, &mut commands);
        if flow.step != Step::AwaitingPayment {
            commands.push(Command::ClearBookingInProgress);
        }
        Transition {
            flow,
            commands,
            refused: None,
        }
    }

    /// The current step.
    pub fn step(&self) -> Step {
        self.step
    }

    /// The chosen course.
    pub fn course(&self) -> Option<&CourseRef> {
        self.course.as_ref()
    }

    /// The location filter (`None`: any location).
    pub fn location(&self) -> Option<u64> {
        self.location
    }

    /// The product booked.
    pub fn product(&self) -> Product {
        self.product
    }

    /// The chosen event or timeslot (kept through hold expiry and conflicts).
    pub fn chosen(&self) -> Option<&Chosen> {
        self.chosen.as_ref()
    }

    /// The chosen event (kept through hold expiry and conflicts).
    pub fn event(&self) -> Option<&TrainingEvent> {
        match &self.chosen {
            Some(Chosen::Event(event)) => Some(event),
            _ => None,
        }
    }

    /// The chosen timeslot (kept through hold expiry and conflicts).
    pub fn timeslot(&self) -> Option<&Timeslot> {
        match &self.chosen {
            Some(Chosen::Slot(slot)) => Some(slot),
            _ => None,
        }
    }

    /// The live seat hold.
    pub fn hold(&self) -> Option<&ActiveHold> {
        self.hold.as_ref()
    }

    /// What the candidate typed.
    pub fn form(&self) -> &CandidateForm {
        &self.form
    }

    /// The chosen pay option.
    pub fn pay_option(&self) -> Option<&PayOption> {
        self.pay_option.as_ref()
    }

    /// Errors to show (client checks or the server's 422).
    pub fn errors(&self) -> &FieldErrors {
        &self.errors
    }

    /// The booking, once created, either product's.
    pub fn booked(&self) -> Option<&Booked> {
        self.booking.as_ref()
    }

    /// The address of the booking's own page, once the gateway gave its
    /// link.
    pub fn manage_url(&self) -> Option<&str> {
        self.manage_url.as_deref()
    }

    /// The Practical Training booking, once created.
    pub fn booking(&self) -> Option<&BookingDetail> {
        match &self.booking {
            Some(Booked::Practical(booking)) => Some(booking),
            _ => None,
        }
    }

    /// The Virtual BLS booking, once created, with its Zoom session.
    pub fn virtual_booking(&self) -> Option<&VirtualBooking> {
        match &self.booking {
            Some(Booked::Virtual(booking)) => Some(booking),
            _ => None,
        }
    }

    /// The 409 that led to `HoldConflict`.
    pub fn conflict(&self) -> Option<&SeatConflict> {
        self.conflict.as_ref()
    }

    /// The failure that led to `Failed`.
    pub fn failure(&self) -> Option<&Failure> {
        self.failure.as_ref()
    }

    /// The idempotency key of the last create-booking request.
    pub fn idempotency_key(&self) -> Option<&str> {
        self.submission.as_ref().map(|s| s.key.as_str())
    }

    /// Whether the flow needs [`Intent::Tick`]s: a seat is held (its
    /// countdown) or a seat is waited for.
    pub fn needs_ticks(&self) -> bool {
        self.hold.is_some() || self.step == Step::WaitingForSeat
    }

    /// Applies an intent or outcome.
    pub fn apply(&self, input: impl Into<Input>) -> Transition {
        let mut next = self.clone();
        let mut commands = Vec::new();
        let result = match input.into() {
            Input::Intent(intent) => next.on_intent(intent, &mut commands),
            Input::Outcome(outcome) => next.on_outcome(outcome, &mut commands),
        };
        match result {
            Ok(()) => Transition {
                flow: next,
                commands,
                refused: None,
            },
            Err(refusal) => Transition {
                flow: self.clone(),
                commands: commands
                    .into_iter()
                    .filter(|command| matches!(command, Command::Release { .. }))
                    .collect(),
                refused: Some(refusal),
            },
        }
    }

    /// Whether the flow is at a step where the candidate is choosing and
    /// holds no seat.
    fn is_choosing(&self) -> bool {
        match self.step {
            Step::ChooseCourse
            | Step::ChooseLocation
            | Step::ChooseEvent
            | Step::HoldExpired
            | Step::HoldConflict
            | Step::WaitingForSeat => true,
            Step::Failed => self.failed_holding_nothing(),
            _ => false,
        }
    }

    fn booking_made(&self) -> bool {
        matches!(
            self.step,
            Step::Confirmed | Step::PendingReview | Step::AwaitingPayment
        ) || matches!(
            self.failure_kind(),
            Some(FailureKind::PaymentPageRefused | FailureKind::BookingCancelled)
        ) && self.step == Step::Failed
    }

    /// The most helpful refusal for an intent that does not fit the step.
    fn busy(&self) -> Refusal {
        match self.step {
            Step::Holding => Refusal::HoldInProgress,
            Step::Details | Step::Payment => Refusal::SeatHeld,
            Step::Submitting => Refusal::AlreadySubmitting,
            _ if self.booking_made() => Refusal::BookingFinished,
            _ => Refusal::NotInThisStep,
        }
    }

    fn on_intent(&mut self, intent: Intent, commands: &mut Vec<Command>) -> Result<(), Refusal> {
        match intent {
            Intent::ChooseCourse(course) => self.choose_course(course, commands),
            Intent::ChooseLocation(location) => self.choose_location(location, commands),
            Intent::ChooseEvent(event) => self.choose_event(event, commands),
            Intent::ChooseTimeslot(slot) => self.choose_timeslot(slot, commands),
            Intent::RetryDates => self.retry_dates(commands),
            Intent::EditForm(form) => self.edit_form(form),
            Intent::CheckField(field) => self.check_field(field),
            Intent::ContinueToPayment => self.continue_to_payment(),
            Intent::ChoosePayOption(option) => self.choose_pay_option(option),
            Intent::Submit { idempotency_key } => self.submit(idempotency_key, commands),
            Intent::Back => self.back(commands),
            Intent::Retry => self.retry(commands),
            Intent::HoldAgain => self.hold_again(commands),
            Intent::WaitForSeat => self.wait_for_seat(),
            Intent::StopWaiting => self.stop_waiting(),
            Intent::KeepMySeat { now_ms } => self.keep_my_seat(now_ms, commands),
            Intent::Tick { prev_ms, now_ms } => self.tick(prev_ms, now_ms, commands),
            Intent::HoldExpired => self.hold_expired(commands),
            Intent::StartOver => self.start_over(commands),
            Intent::CheckBooking => self.check_booking(commands),
        }
    }

    fn on_outcome(&mut self, outcome: Outcome, commands: &mut Vec<Command>) -> Result<(), Refusal> {
        match outcome {
            Outcome::HoldGranted {
                hold,
                received_at_ms,
            } => self.hold_granted(hold, received_at_ms, commands),
            Outcome::HoldConflict {
                conflict,
                received_at_ms,
            } => self.hold_conflict(conflict, received_at_ms, commands),
            Outcome::HoldRefused(error) => self.hold_refused(error, commands),
            Outcome::HoldFailed(detail) => self.hold_failed(detail, commands),
            Outcome::BookingCreated(booking) => self.booking_created(*booking, commands),
            Outcome::BookingRejected(error) => self.booking_rejected(error, commands),
            Outcome::BookingFailed(detail) => self.booking_failed(detail, commands),
            Outcome::BookingStatus(booking) => self.booking_read(*booking, commands),
            Outcome::BookingPage(url) => self.booking_page(url, commands),
            Outcome::DatesLoaded { course_id, dates } => {
                self.dates_loaded(course_id, dates, commands)
            }
            Outcome::DatesFailed { course_id, reason } => {
                self.dates_failed(course_id, reason, commands)
            }
            Outcome::PayOptionsRead {
                hold_ref,
                cannot_pay_with,
            } => {
                self.pay_options_read(&hold_ref, cannot_pay_with);
                Ok(())
            }
            Outcome::Released => Ok(()),
        }
    }

    /// Refuses an answer nobody waits for, releasing its hold when that
    /// hold is not the one the flow owns.
    fn stale(&self, hold_ref: Option<&str>, commands: &mut Vec<Command>) -> Result<(), Refusal> {
        if let Some(hold_ref) = hold_ref.filter(|hold_ref| !hold_ref.is_empty()) {
            if self
                .hold
                .as_ref()
                .is_none_or(|own| own.hold_ref != hold_ref)
            {
                commands.push(Command::Release {
                    hold_ref: hold_ref.to_owned(),
                });
            }
        }
        Err(Refusal::StaleOutcome)
    }
}
