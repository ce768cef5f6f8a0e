//! The booking flow as a pure state machine.
//!
//! The widget sends every user intent ([`Intent`]) and every API outcome
//! ([`Outcome`]) to [`Flow::apply`], renders the [`Flow`] it gets back and
//! performs the returned [`Command`]s in order (each one after the previous
//! has been started; `Release` before `Hold` matters). Nothing here does I/O
//! or reads a clock: times come in with the inputs.
//!
//! ```text
//! ChooseCourse -> ChooseLocation -> ChooseEvent -> Holding -> Details -> Payment -> Submitting
//!                                        ^            |          |          |           |
//!                                        |            v          v          v           v
//!                                        +---- HoldConflict   HoldExpired (form kept)  Confirmed
//!                                        +---- Failed (hold)                           PendingReview
//!                                                                                      AwaitingPayment
//!                                                                                      Failed (booking)
//! ```
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
//! * The idempotency key comes from the widget: every [`Intent::Submit`]
//!   carries a fresh random key (`crypto.randomUUID()`), and the flow decides
//!   whether to use it or reuse the pending one. The flow holds no random
//!   state, so it stays deterministic and testable.
//! * "Keep my seat" ([`Intent::KeepMySeat`], final minute only) is one
//!   `RenewHold` for the same event: the gateway replaces the hold with a
//!   fresh one without a moment in which another session could take the
//!   seat (the API has no extension, and answers 409 to a second hold while
//!   one is live). It passes through `Holding` and returns to the step the
//!   candidate was on.
//! * The flow speaks the gateway's language ([`crate::widget_api`]): a hold
//!   is its session-bound `hold_ref`, a booking is asked for with a
//!   [`BookingRequest`], and [`Outcome::hold_error`] and
//!   [`Outcome::booking_error`] read its error answers.
//! * A 409 that names a hold (`hold_ref`) is ours: the gateway only
//!   discloses a hold to the session that made it. If it is for the chosen
//!   event (or does not say which) and has time left, it is adopted;
//!   otherwise (another event, or no time left) it is released and the seat
//!   is asked for once more. A 409
//!   without a hold lands in `HoldConflict`, which offers another event or a
//!   retry.
//! * A 422 on booking that names `hold_ref` means the hold lapsed or was
//!   used: it lands in `HoldExpired` (hold again, nothing lost). Other 422s
//!   go back to `Details` when a candidate field is wrong, else to `Payment`.
//! * Host page events carry ids, times and statuses only, never the
//!   candidate's personal data, and their error messages are fixed texts.
//!   They name the product, and what is held by its [`Place`]: an event's
//!   id for Practical Training, a timeslot's course, date and time for
//!   Virtual BLS.
//! * One flow for both products ([`Product`]): Virtual BLS chooses a
//!   timeslot ([`Intent::ChooseTimeslot`]) where Practical Training chooses a
//!   location and an event; holding, the countdown, the form (with the kit's
//!   address for Virtual BLS), pay options, submitting, the payment redirect
//!   and the problem steps are the same code.

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use crate::api::bls::{Timeslot, VirtualBooking};
use crate::api::{
    BookingDetail, BookingStatus, CourseRef, Money, PayOption, PayStatus, Timestamp, TrainingEvent,
    ValidationError,
};
use crate::countdown::{HoldCountdown, HoldWarning};
use crate::product::Product;
use crate::redirect::PaymentRedirectPolicy;
use crate::validation::{
    self, AccountFacts, CandidateForm, FieldErrors, FormField, PayOptionOffer,
};
use crate::widget_api::{
    BookingRequest, ErrorAnswer, ErrorBody, HeldSeat, HeldTimeslot, SeatTaken,
};

/// Number of steps in the progress indicator ("Step 3 of 6").
pub const PROGRESS_STEPS: u8 = 6;

/// Where the candidate is in the flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// Pick a course.
    ChooseCourse,
    /// Pick a location (or any).
    ChooseLocation,
    /// Pick a date and event in the calendar.
    ChooseEvent,
    /// A hold request is in flight.
    Holding,
    /// Enter the candidate's details (seat held).
    Details,
    /// Choose how to pay and confirm (seat held).
    Payment,
    /// The create-booking request is in flight.
    Submitting,
    /// Booked and confirmed.
    Confirmed,
    /// Booked, waiting for admin review before confirmation.
    PendingReview,
    /// Booked, waiting for the candidate's card payment.
    AwaitingPayment,
    /// The hold lapsed; everything typed is kept; hold again or choose another.
    HoldExpired,
    /// The seat is held elsewhere; choose another event, try again, or wait
    /// for it.
    HoldConflict,
    /// Waiting, with a countdown, for another candidate's hold to lapse, to
    /// hold the seat the moment it does ([`Intent::WaitForSeat`]).
    WaitingForSeat,
    /// Something failed; see [`Flow::failure`].
    Failed,
}

impl Step {
    /// The step's number and the number of steps in the progress indicator
    /// for a product ("Step 2 of 5"): Virtual BLS has no location step.
    pub fn progress_of(self, product: Product) -> Option<(u8, u8)> {
        let n = self.progress()?;
        Some(match product {
            Product::Practical => (n, PROGRESS_STEPS),
            Product::VirtualBls => (if n > 2 { n - 1 } else { n }, PROGRESS_STEPS - 1),
        })
    }

    /// The step's heading (focus moves to it on every step change).
    pub fn heading(self) -> &'static str {
        match self {
            Step::ChooseCourse => "Choose a course",
            Step::ChooseLocation => "Choose a location",
            Step::ChooseEvent => "Choose a date and time",
            Step::Holding => "Holding your seat",
            Step::Details => "Your details",
            Step::Payment => "How the booking is paid for",
            Step::Submitting => "Booking your seat",
            Step::Confirmed => "Booking confirmed",
            Step::PendingReview => "Booking received: pending review",
            Step::AwaitingPayment => "Complete the payment",
            Step::HoldExpired => "Your seat is no longer held",
            Step::HoldConflict => "This seat is already held",
            Step::WaitingForSeat => "Waiting for this seat",
            Step::Failed => "There is a problem",
        }
    }

    /// The step's number in the progress indicator, 1 to [`PROGRESS_STEPS`];
    /// `None` for steps that are not on the main path.
    pub fn progress(self) -> Option<u8> {
        match self {
            Step::ChooseCourse => Some(1),
            Step::ChooseLocation => Some(2),
            Step::ChooseEvent | Step::Holding => Some(3),
            Step::Details => Some(4),
            Step::Payment | Step::Submitting => Some(5),
            Step::Confirmed | Step::PendingReview | Step::AwaitingPayment => Some(6),
            Step::HoldExpired | Step::HoldConflict | Step::WaitingForSeat | Step::Failed => None,
        }
    }

    /// What happens next, on the steps after a booking is made.
    pub fn what_next(self) -> Option<&'static str> {
        match self {
            Step::Confirmed => Some("Your place is booked. A confirmation email is on its way."),
            Step::PendingReview => Some(
                "Your booking has been received. The training provider reviews bookings for this course before confirming them; you will hear by email.",
            ),
            Step::AwaitingPayment => Some(
                "Your seat is reserved while you pay. Once the payment is complete, your place is confirmed by email.",
            ),
            _ => None,
        }
    }
}

/// A way out of a problem step (`HoldExpired`, `HoldConflict`, `Failed`),
/// offered as a button; each sends an intent the flow accepts there.
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

/// What a hold is on: a seat on a training event (Practical Training) or a
/// timeslot (Virtual BLS). In a host event's detail it is its product and
/// `event_id`, or its product and the slot's `course_id`, `date` and `time`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Place {
    /// A training event's id.
    Event(u64),
    /// A Virtual BLS timeslot.
    Slot {
        /// The course.
        course_id: u64,
        /// UK date, `YYYY-MM-DD`.
        date: String,
        /// UK wall-clock start, `HH:MM`.
        time: String,
    },
}

impl Place {
    /// The product it belongs to.
    pub fn product(&self) -> Product {
        match self {
            Place::Event(_) => Product::Practical,
            Place::Slot { .. } => Product::VirtualBls,
        }
    }

    /// The place of a timeslot.
    pub fn of_slot(slot: &Timeslot) -> Place {
        Place::Slot {
            course_id: slot.course.id,
            date: slot.date.clone(),
            time: slot.time.clone(),
        }
    }
}

impl Serialize for Place {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("product", &self.product())?;
        match self {
            Place::Event(id) => map.serialize_entry("event_id", id)?,
            Place::Slot {
                course_id,
                date,
                time,
            } => {
                map.serialize_entry("course_id", course_id)?;
                map.serialize_entry("date", date)?;
                map.serialize_entry("time", time)?;
            }
        }
        map.end()
    }
}

/// What the candidate chose to hold: an event or a timeslot.
#[derive(Debug, Clone, PartialEq)]
pub enum Chosen {
    /// A training event (Practical Training).
    Event(TrainingEvent),
    /// A timeslot (Virtual BLS).
    Slot(Timeslot),
}

impl Chosen {
    /// Where a hold on it is.
    pub fn place(&self) -> Place {
        match self {
            Chosen::Event(event) => Place::Event(event.id),
            Chosen::Slot(slot) => Place::of_slot(slot),
        }
    }

    /// Its course's id.
    fn course_id(&self) -> u64 {
        match self {
            Chosen::Event(event) => event.course.id,
            Chosen::Slot(slot) => slot.course.id,
        }
    }

    /// Its price for the account, when known (a timeslot's is inferred).
    pub fn cost(&self) -> Option<Money> {
        match self {
            Chosen::Event(event) => Some(event.cost_inc_vat),
            Chosen::Slot(slot) => slot.cost_inc_vat,
        }
    }

    /// Its start, when it can be read ([`Timeslot::start`]).
    pub fn start(&self) -> Option<Timestamp> {
        match self {
            Chosen::Event(event) => Some(event.start_date),
            Chosen::Slot(slot) => slot.start(),
        }
    }

    /// Its end, when known (a timeslot's is inferred).
    fn end(&self) -> Option<Timestamp> {
        match self {
            Chosen::Event(event) => Some(event.end_date),
            Chosen::Slot(slot) => slot.end_date,
        }
    }

    /// Whether nothing is left to hold.
    fn is_full(&self) -> bool {
        match self {
            Chosen::Event(event) => event.is_full(),
            Chosen::Slot(slot) => !slot.is_free(),
        }
    }

    /// What is being booked, as the steps before the booking list it: the
    /// course, when (UK time), where (the venue, or Zoom) and the price.
    /// What the upstream did not say is left out: a timeslot without an
    /// end is shown from its start, one without a price has no price.
    pub fn summary(&self) -> Vec<BookingFact> {
        let (course, place) = match self {
            Chosen::Event(event) => (
                &event.course,
                vec![event.location.name.clone(), event.location.address.clone()],
            ),
            Chosen::Slot(slot) => (&slot.course, vec!["Online, over Zoom".to_owned()]),
        };
        let mut facts = vec![BookingFact::new("Course", vec![course.name.clone()])];
        if let Some(start) = self.start() {
            facts.push(BookingFact::new(
                "When",
                vec![crate::calendar::when_label(start, self.end())],
            ));
        }
        facts.push(BookingFact::new("Where", place));
        if let Some(cost) = self.cost() {
            facts.push(BookingFact::new("Price", vec![cost.to_string()]));
        }
        facts
    }
}

/// A granted hold, either product's: its reference, where it is and how
/// long it lives.
#[derive(Debug, Clone, PartialEq)]
pub struct GrantedHold {
    /// The gateway's session-bound reference.
    pub hold_ref: String,
    /// What it holds.
    pub place: Place,
    /// When it lapses, as the server said.
    pub expires_at: Timestamp,
    /// Seconds left when it was granted.
    pub expires_in_seconds: i64,
}

impl From<HeldSeat> for GrantedHold {
    fn from(held: HeldSeat) -> GrantedHold {
        GrantedHold {
            hold_ref: held.hold_ref,
            place: Place::Event(held.hold.training_event.id),
            expires_at: held.hold.expires_at,
            expires_in_seconds: held.hold.expires_in_seconds,
        }
    }
}

impl From<HeldTimeslot> for GrantedHold {
    fn from(held: HeldTimeslot) -> GrantedHold {
        GrantedHold {
            hold_ref: held.hold_ref,
            place: Place::Slot {
                course_id: held.hold.slot.course.id,
                date: held.hold.slot.date,
                time: held.hold.slot.time,
            },
            expires_at: held.hold.expires_at,
            expires_in_seconds: held.hold.expires_in_seconds,
        }
    }
}

/// A booking, either product's.
#[derive(Debug, Clone, PartialEq)]
pub enum Booked {
    /// A Practical Training booking.
    Practical(BookingDetail),
    /// A Virtual BLS booking, with its Zoom session.
    Virtual(VirtualBooking),
}

impl From<BookingDetail> for Booked {
    fn from(booking: BookingDetail) -> Booked {
        Booked::Practical(booking)
    }
}

impl From<VirtualBooking> for Booked {
    fn from(booking: VirtualBooking) -> Booked {
        Booked::Virtual(booking)
    }
}

/// Reads what both products' bookings have alike: `$read` of either's
/// `$booking`.
macro_rules! either_booking {
    ($booked:expr, $booking:ident => $read:expr) => {
        match $booked {
            Booked::Practical($booking) => $read,
            Booked::Virtual($booking) => $read,
        }
    };
}

impl Booked {
    /// Its id.
    pub fn id(&self) -> u64 {
        either_booking!(self, booking => booking.id)
    }

    /// Its product.
    pub fn product(&self) -> Product {
        match self {
            Booked::Practical(_) => Product::Practical,
            Booked::Virtual(_) => Product::VirtualBls,
        }
    }

    /// Its course.
    pub fn course(&self) -> &CourseRef {
        either_booking!(self, booking => &booking.course)
    }

    /// Where it stands.
    pub fn booking_status(&self) -> &BookingStatus {
        either_booking!(self, booking => &booking.booking_status)
    }

    /// Whether it is paid.
    pub fn pay_status(&self) -> &PayStatus {
        either_booking!(self, booking => &booking.pay_status)
    }

    /// How it is paid, in the widget contract's names.
    pub fn pay_option(&self) -> PayOption {
        match self {
            Booked::Practical(booking) => booking.pay_option.clone(),
            Booked::Virtual(booking) => PayOption::from(&booking.pay_option),
        }
    }

    /// Its payment page link, if any.
    pub fn payment_url(&self) -> Option<&str> {
        either_booking!(self, booking => booking.payment_url.as_deref())
    }

    /// The button that opens its payment page.
    pub fn payment_action(&self) -> &'static str {
        match self {
            Booked::Practical(_) => "Pay by card",
            Booked::Virtual(_) => "Pay with PayPal",
        }
    }

    /// What the confirmation lists, in order: the reference, course, when
    /// (UK time), where (the venue, or the Zoom session's link, meeting id
    /// and password), the kit's note for Virtual BLS, the candidate and the
    /// status.
    pub fn summary(&self) -> Vec<BookingFact> {
        let (id, course, start, end, candidate, booking_status, pay_status) = match self {
            Booked::Practical(b) => (
                b.id,
                &b.course,
                b.start_date,
                b.end_date,
                &b.candidate.name,
                &b.booking_status,
                &b.pay_status,
            ),
            Booked::Virtual(b) => (
                b.id,
                &b.course,
                b.start_date,
                b.end_date,
                &b.candidate.name,
                &b.booking_status,
                &b.pay_status,
            ),
        };
        let mut facts = vec![
            BookingFact {
                label: "Booking reference",
                lines: vec![id.to_string()],
                reference: true,
            },
            BookingFact::new("Course", vec![course.name.clone()]),
            BookingFact::new("When", vec![crate::calendar::when_label(start, Some(end))]),
        ];
        match self {
            Booked::Practical(booking) => facts.push(BookingFact::new(
                "Where",
                vec![
                    booking.location.name.clone(),
                    booking.location.address.clone(),
                ],
            )),
            Booked::Virtual(booking) => {
                let zoom = &booking.session;
                facts.push(BookingFact::new(
                    "Where",
                    vec![
                        "Online, over Zoom".to_owned(),
                        zoom.zoom_link.clone(),
                        format!("Meeting ID {}", zoom.zoom_id),
                        format!("Password {}", zoom.zoom_password),
                    ],
                ));
                facts.push(BookingFact::new(
                    "Training kit",
                    vec![
                        "Posted to the address you gave before the session. Please post it back afterwards."
                            .to_owned(),
                    ],
                ));
            }
        }
        facts.push(BookingFact::new("Candidate", vec![candidate.clone()]));
        facts.push(BookingFact::new(
            "Status",
            vec![crate::api::status_label(booking_status, pay_status)],
        ));
        facts
    }
}

/// One line of a booking's summary: a label and the lines of its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingFact {
    /// The term, e.g. "Course".
    pub label: &'static str,
    /// The value, one line each.
    pub lines: Vec<String>,
    /// Whether the value is a reference (shown to stand out).
    pub reference: bool,
}

impl BookingFact {
    /// A fact whose value is these lines, the empty ones (a detail the
    /// upstream did not send) left out.
    fn new(label: &'static str, lines: Vec<String>) -> BookingFact {
        BookingFact {
            label,
            lines: lines
                .into_iter()
                .filter(|line| !line.trim().is_empty())
                .collect(),
            reference: false,
        }
    }
}

/// The seat hold the flow owns.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveHold {
    /// The gateway's session-bound reference to the hold, sent when booking
    /// and when releasing.
    pub hold_ref: String,
    /// What is held.
    pub place: Place,
    /// When the server says it lapses (shown only; the countdown decides).
    pub expires_at: Option<Timestamp>,
    /// Time left, from the server's `expires_in_seconds`.
    pub countdown: HoldCountdown,
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

/// The booking to remember across the payment redirect (`sessionStorage`),
/// ids only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingInProgress {
    /// The pending booking.
    pub booking_id: u64,
    /// Its event (0 for a timeslot).
    pub event_id: u64,
    /// Its product.
    #[serde(default)]
    pub product: Product,
}

/// A DOM `CustomEvent` for the host page, dispatched on `<hbg-booking>`.
/// Serialises to the event's `detail`: ids, times and statuses only.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum HostEvent {
    /// The widget is ready.
    Ready {
        /// The product it books.
        product: Product,
    },
    /// A course was chosen.
    CourseChosen {
        /// The product.
        product: Product,
        /// Course id.
        course_id: u64,
    },
    /// A location was chosen (`null` for any).
    LocationChosen {
        /// Location id, or `None` for any location.
        location_id: Option<u64>,
    },
    /// An event (or a timeslot) was chosen.
    EventChosen {
        /// What was chosen: the product and the event's id or the slot's
        /// date and time.
        #[serde(flatten)]
        place: Place,
        /// Its venue-local (UK) start.
        #[serde(with = "crate::api::timestamp")]
        start: Timestamp,
    },
    /// A seat is held.
    HoldCreated {
        /// What is held.
        #[serde(flatten)]
        place: Place,
        /// When the hold lapses, as the server said.
        #[serde(with = "crate::api::timestamp::option")]
        hold_expires_at: Option<Timestamp>,
        /// Seconds left when it was granted.
        expires_in_seconds: i64,
    },
    /// The hold crossed a warning threshold.
    HoldExpiring {
        /// What is held.
        #[serde(flatten)]
        place: Place,
        /// 10, 5 or 1.
        minutes_left: u32,
    },
    /// The hold lapsed.
    HoldExpired {
        /// What was held.
        #[serde(flatten)]
        place: Place,
    },
    /// The booking is being submitted.
    SubmitStarted {
        /// What is held.
        #[serde(flatten)]
        place: Place,
        /// How it is paid for.
        pay_option: PayOption,
    },
    /// The candidate is being sent to the payment page.
    PaymentRedirect {
        /// The product.
        product: Product,
        /// The pending booking.
        booking_id: u64,
    },
    /// A booking was created.
    BookingCreated {
        /// The product.
        product: Product,
        /// Booking id.
        booking_id: u64,
        /// Its status.
        booking_status: BookingStatus,
        /// Its payment status.
        pay_status: PayStatus,
    },
    /// A booking is confirmed.
    BookingConfirmed {
        /// The product.
        product: Product,
        /// Booking id.
        booking_id: u64,
    },
    /// Something went wrong.
    Error {
        /// Stable code: `hold_failed`, `hold_refused`, `hold_conflict`,
        /// `booking_rejected`, `booking_unknown`, `payment_redirect_refused`,
        /// `booking_cancelled`.
        code: &'static str,
        /// A fixed sentence (never a server message, which may quote
        /// personal data).
        message: &'static str,
    },
}

impl HostEvent {
    /// Every host event name, in the order of the variants. The scripts that
    /// forward or listen to the events (`src/embed.js`, `src/frame.js`,
    /// `embed/agency.js`) list the same names, without `hbg:` (a test
    /// checks).
    pub const NAMES: [&'static str; 12] = [
        "hbg:ready",
        "hbg:course-chosen",
        "hbg:location-chosen",
        "hbg:event-chosen",
        "hbg:hold-created",
        "hbg:hold-expiring",
        "hbg:hold-expired",
        "hbg:submit-started",
        "hbg:payment-redirect",
        "hbg:booking-created",
        "hbg:booking-confirmed",
        "hbg:error",
    ];

    /// The DOM event name, e.g. "hbg:hold-created".
    pub fn name(&self) -> &'static str {
        match self {
            HostEvent::Ready { .. } => "hbg:ready",
            HostEvent::CourseChosen { .. } => "hbg:course-chosen",
            HostEvent::LocationChosen { .. } => "hbg:location-chosen",
            HostEvent::EventChosen { .. } => "hbg:event-chosen",
            HostEvent::HoldCreated { .. } => "hbg:hold-created",
            HostEvent::HoldExpiring { .. } => "hbg:hold-expiring",
            HostEvent::HoldExpired { .. } => "hbg:hold-expired",
            HostEvent::SubmitStarted { .. } => "hbg:submit-started",
            HostEvent::PaymentRedirect { .. } => "hbg:payment-redirect",
            HostEvent::BookingCreated { .. } => "hbg:booking-created",
            HostEvent::BookingConfirmed { .. } => "hbg:booking-confirmed",
            HostEvent::Error { .. } => "hbg:error",
        }
    }

    /// The event's `detail` as JSON.
    pub fn detail_json(&self) -> String {
        // Not `expect`: it would keep serde_json's error messages in the
        // widget's WebAssembly for a case that cannot happen.
        serde_json::to_string(self).unwrap_or_else(|_| unreachable!("host events serialise"))
    }
}

/// What the widget must do after a transition, in order: the flow's side
/// effects, which the widget runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `POST /api/holds` (an event) or `POST /api/timeslot-holds` (a
    /// timeslot), then send `HoldGranted`, `HoldConflict`, `HoldRefused` or
    /// `HoldFailed`.
    Hold {
        /// What to hold.
        place: Place,
    },
    /// The same, renewing `hold_ref` ([`crate::widget_api::HoldRequest::renew`]),
    /// then send the outcome as for [`Command::Hold`].
    RenewHold {
        /// What the hold is on.
        place: Place,
        /// The live hold to replace.
        hold_ref: String,
    },
    /// Release the hold (also on `pagehide`); send `Released` when done.
    Release {
        /// The hold to release.
        hold_ref: String,
    },
    /// `POST /bookings` with an `Idempotency-Key` header, then send
    /// `BookingCreated`, `BookingRejected` or `BookingFailed`.
    CreateBooking {
        /// The body; the widget adds the address the payment page returns to.
        request: Box<BookingRequest>,
        /// The header's value.
        idempotency_key: String,
    },
    /// Navigate the top window to this already-checked URL.
    Redirect {
        /// The URL, canonical origin, accepted by the redirect policy.
        url: String,
    },
    /// Dispatch a host page event.
    Emit(HostEvent),
    /// Say this in the `aria-live="polite"` region.
    Announce(&'static str),
    /// Keep the pending booking in `sessionStorage` for the return from
    /// the payment page.
    PersistBookingInProgress(BookingInProgress),
    /// Forget the pending booking.
    ClearBookingInProgress,
    /// Fetch the events (or timeslots) again: seats changed.
    RefreshEvents,
}

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

/// Where a create-booking request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SubmissionState {
    InFlight,
    Unknown,
    Settled,
}

/// The last create-booking request and its idempotency key.
#[derive(Debug, Clone, PartialEq)]
struct Submission {
    key: String,
    request: BookingRequest,
    state: SubmissionState,
}

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
    errors: FieldErrors,
    booking: Option<Booked>,
    conflict: Option<SeatConflict>,
    seat_frees: Option<HoldCountdown>,
    failure: Option<Failure>,
    submission: Option<Submission>,
}

const MESSAGE_HOLD_FAILED: &str =
    "We could not hold your seat. Check your connection and try again";
const MESSAGE_WAITING_FOR_SEAT: &str = "If the other candidate does not finish their booking, the seat is free again when the time below runs out, and we hold it for you then. Keep this page open.";
const MESSAGE_SEAT_FREE: &str = "The seat may be free now: holding it for you";
/// Longest wait offered for another candidate's hold: a hold's life.
const LONGEST_SEAT_WAIT_SECONDS: i64 = 1800;
/// How long after the other hold lapses the seat is asked for (clocks and
/// the upstream's expiry sweep differ by a little).
const SEAT_WAIT_GRACE_SECONDS: i64 = 2;
const MESSAGE_HOLD_REFUSED: &str = "This event can no longer be booked. Choose another date";
const MESSAGE_BOOKING_UNKNOWN: &str =
    "We could not confirm your booking. Try again: you will not be booked twice";
const MESSAGE_PAYMENT_PAGE: &str = "Your booking is waiting for payment, but we could not open the payment page because its address is not one we trust. A payment link has been emailed to the candidate";
const MESSAGE_CANCELLED: &str = "This booking has been cancelled";
const MESSAGE_BOOKING_REJECTED: &str = "The booking could not be made";
const MESSAGE_SELECT_PAY_OPTION: &str = "Select how the booking is paid for";
const MESSAGE_HOLD_LAPSED: &str = "Seats are held for 30 minutes and this hold has ended. Everything you entered is kept: hold the seat again to carry on.";
const MESSAGE_SEAT_TAKEN: &str =
    "Someone else is holding this seat at the moment. Choose another date, or try again shortly.";
const MESSAGE_SOMETHING_WRONG: &str = "Something went wrong.";

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
            errors: FieldErrors::default(),
            booking: None,
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
        let booking = booking.into();
        let mut flow = Flow::for_product(policy, booking.product());
        flow.course = Some(booking.course().clone());
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

    /// While waiting for a seat: the countdown to the moment it is asked
    /// for, at `now_ms`, as shown ("Free again in 4:05").
    pub fn seat_wait_text(&self, now_ms: f64) -> Option<String> {
        if self.step != Step::WaitingForSeat {
            return None;
        }
        let seconds = self.seat_frees.as_ref()?.remaining_seconds(now_ms);
        Some(format!(
            "Free again in {}:{:02}",
            seconds / 60,
            seconds % 60
        ))
    }

    /// Whether the flow needs [`Intent::Tick`]s: a seat is held (its
    /// countdown) or a seat is waited for.
    pub fn needs_ticks(&self) -> bool {
        self.hold.is_some() || self.step == Step::WaitingForSeat
    }

    /// The failure that led to `Failed`.
    pub fn failure(&self) -> Option<&Failure> {
        self.failure.as_ref()
    }

    /// The pay options to offer for the chosen event or timeslot: those the
    /// gateway allows, in the usual order. The gateway tells the widget
    /// nothing about the account, so every allowed option is usable and a
    /// 422 explains a refusal.
    pub fn pay_option_offers(&self, allowed: &[PayOption]) -> Vec<PayOptionOffer> {
        let cost = self
            .chosen
            .as_ref()
            .and_then(Chosen::cost)
            .unwrap_or_default();
        validation::offered_pay_options(allowed, &AccountFacts::default(), cost)
    }

    /// The pay option to choose for the candidate on the payment step: the
    /// one on offer, when it is the only one and usable and nothing is chosen
    /// yet.
    pub fn sole_pay_option(&self, offers: &[PayOptionOffer]) -> Option<PayOption> {
        if self.step != Step::Payment || self.pay_option.is_some() {
            return None;
        }
        match offers {
            [only] if only.usable => Some(only.option.clone()),
            _ => None,
        }
    }

    /// What a problem step (`HoldExpired`, `HoldConflict`, `Failed`) says and
    /// the ways out it offers; `None` on any other step.
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

    /// The idempotency key of the last create-booking request.
    pub fn idempotency_key(&self) -> Option<&str> {
        self.submission.as_ref().map(|s| s.key.as_str())
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

    fn failure_kind(&self) -> Option<FailureKind> {
        self.failure.as_ref().map(|f| f.kind)
    }

    fn failed_holding_nothing(&self) -> bool {
        self.step == Step::Failed
            && matches!(
                self.failure_kind(),
                Some(FailureKind::HoldFailed | FailureKind::HoldRefused)
            )
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
        }
    }

    fn choose_course(
        &mut self,
        course: CourseRef,
        commands: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        if !self.is_choosing() {
            return Err(self.busy());
        }
        commands.push(Command::Emit(HostEvent::CourseChosen {
            product: self.product,
            course_id: course.id,
        }));
        self.course = Some(course);
        self.leave_event_choice();
        self.step = match self.product {
            Product::Practical => Step::ChooseLocation,
            Product::VirtualBls => Step::ChooseEvent,
        };
        Ok(())
    }

    fn choose_location(
        &mut self,
        location: Option<u64>,
        commands: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        if !self.is_choosing() {
            return Err(self.busy());
        }
        if self.course.is_none() {
            return Err(Refusal::CourseNotChosen);
        }
        if self.product != Product::Practical {
            return Err(Refusal::NotInThisStep);
        }
        self.location = location;
        self.leave_event_choice();
        self.step = Step::ChooseEvent;
        commands.push(Command::Emit(HostEvent::LocationChosen {
            location_id: location,
        }));
        Ok(())
    }

    fn choose_event(
        &mut self,
        event: TrainingEvent,
        commands: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        if self.product != Product::Practical {
            return Err(Refusal::NotInThisStep);
        }
        self.choose(Chosen::Event(event), commands)
    }

    fn choose_timeslot(
        &mut self,
        slot: Timeslot,
        commands: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        if self.product != Product::VirtualBls {
            return Err(Refusal::NotInThisStep);
        }
        self.choose(Chosen::Slot(slot), commands)
    }

    /// Chooses an event or a timeslot of the chosen course and asks for a
    /// hold on it.
    fn choose(&mut self, chosen: Chosen, commands: &mut Vec<Command>) -> Result<(), Refusal> {
        let course = self.course.as_ref().ok_or(Refusal::CourseNotChosen)?;
        if !self.is_choosing() || matches!(self.step, Step::ChooseCourse | Step::ChooseLocation) {
            return Err(self.busy());
        }
        if chosen.course_id() != course.id {
            return Err(Refusal::EventForAnotherCourse);
        }
        if chosen.is_full() {
            return Err(Refusal::EventFull);
        }
        let start = chosen.start().ok_or(Refusal::TimeUnknown)?;
        commands.push(Command::Emit(HostEvent::EventChosen {
            place: chosen.place(),
            start,
        }));
        self.chosen = Some(chosen);
        self.request_hold(Step::Details, commands);
        Ok(())
    }

    fn edit_form(&mut self, form: CandidateForm) -> Result<(), Refusal> {
        if self.step == Step::Submitting || self.booking_made() {
            return Err(self.busy());
        }
        self.form = CandidateForm {
            product: self.product,
            ..form
        };
        self.errors.forget_corrected(&self.form);
        Ok(())
    }

    fn check_field(&mut self, field: FormField) -> Result<(), Refusal> {
        if self.step != Step::Details {
            return Err(Refusal::NotInThisStep);
        }
        self.errors.recheck(&self.form, field);
        Ok(())
    }

    fn continue_to_payment(&mut self) -> Result<(), Refusal> {
        if self.step != Step::Details {
            return Err(Refusal::NotInThisStep);
        }
        match validation::validate(&self.form) {
            Ok(_) => {
                self.errors = FieldErrors::default();
                self.step = Step::Payment;
            }
            Err(errors) => self.errors = errors,
        }
        Ok(())
    }

    fn choose_pay_option(&mut self, option: PayOption) -> Result<(), Refusal> {
        if self.step != Step::Payment {
            return Err(if self.step == Step::Submitting {
                Refusal::AlreadySubmitting
            } else {
                Refusal::NotInThisStep
            });
        }
        if matches!(option, PayOption::Other(_)) {
            return Err(Refusal::UnknownPayOption);
        }
        self.pay_option = Some(option);
        let mut errors = FieldErrors::default();
        for (field, message) in self.errors.fields() {
            if field != FormField::PayOption {
                errors.insert(field, message);
            }
        }
        self.errors = errors;
        Ok(())
    }

    fn retry(&mut self, commands: &mut Vec<Command>) -> Result<(), Refusal> {
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

    fn hold_again(&mut self, commands: &mut Vec<Command>) -> Result<(), Refusal> {
        match self.step {
            Step::HoldExpired | Step::HoldConflict => self.request_hold(self.resume_step, commands),
            Step::Failed if self.failed_holding_nothing() => {
                self.request_hold(self.resume_step, commands)
            }
            _ => return Err(self.busy()),
        }
        Ok(())
    }

    fn wait_for_seat(&mut self) -> Result<(), Refusal> {
        if self.step != Step::HoldConflict || self.seat_frees.is_none() {
            return Err(Refusal::NotInThisStep);
        }
        self.step = Step::WaitingForSeat;
        Ok(())
    }

    fn stop_waiting(&mut self) -> Result<(), Refusal> {
        if self.step != Step::WaitingForSeat {
            return Err(Refusal::NotInThisStep);
        }
        self.step = Step::HoldConflict;
        Ok(())
    }

    fn keep_my_seat(&mut self, now_ms: f64, commands: &mut Vec<Command>) -> Result<(), Refusal> {
        if !matches!(self.step, Step::Details | Step::Payment) {
            return Err(Refusal::NoLiveHold);
        }
        let hold = self.hold.take().ok_or(Refusal::NoLiveHold)?;
        if !hold.countdown.can_extend(now_ms) {
            return Err(Refusal::NotExtendableYet);
        }
        let place = self.enter_holding(self.step);
        commands.push(Command::RenewHold {
            place,
            hold_ref: hold.hold_ref,
        });
        Ok(())
    }

    fn tick(
        &mut self,
        prev_ms: f64,
        now_ms: f64,
        commands: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        if self.step == Step::WaitingForSeat {
            let free = self
                .seat_frees
                .as_ref()
                .is_some_and(|frees| frees.is_expired(now_ms));
            if free {
                commands.push(Command::Announce(MESSAGE_SEAT_FREE));
                self.request_hold(self.resume_step, commands);
            }
            return Ok(());
        }
        let Some(hold) = self.hold.as_ref() else {
            return Ok(());
        };
        if !matches!(self.step, Step::Details | Step::Payment) {
            return Ok(());
        }
        let place = hold.place.clone();
        if hold.countdown.is_expired(now_ms) {
            self.expire(commands);
        } else if let Some(warning) = hold.countdown.warning_between(prev_ms, now_ms) {
            commands.push(Command::Announce(warning.announcement()));
            commands.push(Command::Emit(HostEvent::HoldExpiring {
                place,
                minutes_left: warning.minutes_left(),
            }));
        }
        Ok(())
    }

    fn hold_expired(&mut self, commands: &mut Vec<Command>) -> Result<(), Refusal> {
        if !matches!(self.step, Step::Details | Step::Payment) || self.hold.is_none() {
            return Err(Refusal::NoLiveHold);
        }
        self.expire(commands);
        Ok(())
    }

    fn start_over(&mut self, commands: &mut Vec<Command>) -> Result<(), Refusal> {
        if self.step == Step::Submitting {
            return Err(Refusal::AlreadySubmitting);
        }
        if let Some(hold) = self.hold.take() {
            commands.push(Command::Release {
                hold_ref: hold.hold_ref,
            });
        }
        if self.step == Step::AwaitingPayment {
            commands.push(Command::ClearBookingInProgress);
        }
        *self = Flow::for_product(self.policy.clone(), self.product);
        Ok(())
    }

    /// Clears what belongs to a previous event choice (not the form).
    fn leave_event_choice(&mut self) {
        self.chosen = None;
        self.conflict = None;
        self.seat_frees = None;
        self.failure = None;
        self.resume_step = Step::Details;
    }

    /// Asks for a hold on the chosen event or timeslot, to continue at
    /// `resume` once granted.
    fn request_hold(&mut self, resume: Step, commands: &mut Vec<Command>) {
        let place = self.enter_holding(resume);
        commands.push(Command::Hold { place });
    }

    /// Waits for a hold on the chosen event or timeslot, to continue at
    /// `resume`; where the hold is.
    fn enter_holding(&mut self, resume: Step) -> Place {
        let place = self
            .chosen_place()
            .expect("a hold is only requested for a chosen event or timeslot");
        self.step = Step::Holding;
        self.resume_step = resume;
        self.conflict_release_tried = false;
        self.conflict = None;
        self.seat_frees = None;
        self.failure = None;
        place
    }

    /// The hold lapsed: keep everything, offer to hold again.
    fn expire(&mut self, commands: &mut Vec<Command>) {
        if let Some(hold) = self.hold.take() {
            commands.push(Command::Announce(HoldWarning::Expired.announcement()));
            commands.push(Command::Emit(HostEvent::HoldExpired { place: hold.place }));
        }
        if matches!(self.step, Step::Details | Step::Payment) {
            self.resume_step = self.step;
        }
        self.step = Step::HoldExpired;
    }

    fn back(&mut self, commands: &mut Vec<Command>) -> Result<(), Refusal> {
        self.step = match self.step {
            Step::ChooseCourse => return Err(Refusal::NothingToGoBackTo),
            Step::ChooseLocation => Step::ChooseCourse,
            Step::ChooseEvent if self.product == Product::VirtualBls => Step::ChooseCourse,
            Step::ChooseEvent => Step::ChooseLocation,
            Step::Details => {
                if let Some(hold) = self.hold.take() {
                    commands.push(Command::Release {
                        hold_ref: hold.hold_ref,
                    });
                }
                self.errors = FieldErrors::default();
                self.leave_event_choice();
                Step::ChooseEvent
            }
            Step::Payment => Step::Details,
            Step::Submitting => return Err(Refusal::AlreadySubmitting),
            Step::Failed if self.failure_kind() == Some(FailureKind::BookingOutcomeUnknown) => {
                self.failure = None;
                Step::Payment
            }
            Step::Holding
            | Step::HoldExpired
            | Step::HoldConflict
            | Step::WaitingForSeat
            | Step::Failed
                if !self.booking_made() =>
            {
                self.leave_event_choice();
                Step::ChooseEvent
            }
            _ => return Err(Refusal::BookingFinished),
        };
        Ok(())
    }

    fn submit(&mut self, fresh_key: String, commands: &mut Vec<Command>) -> Result<(), Refusal> {
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

    fn send_booking(
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

    fn fail(&mut self, kind: FailureKind, message: &str, detail: String) {
        self.failure = Some(Failure {
            kind,
            message: message.to_owned(),
            detail,
        });
        self.step = Step::Failed;
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

    fn chosen_place(&self) -> Option<Place> {
        self.chosen.as_ref().map(Chosen::place)
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
            Outcome::Released => Ok(()),
        }
    }

    fn hold_granted(
        &mut self,
        hold: GrantedHold,
        received_at_ms: f64,
        commands: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        if self.step != Step::Holding || self.chosen_place().as_ref() != Some(&hold.place) {
            return self.stale(Some(&hold.hold_ref), commands);
        }
        self.adopt_hold(
            hold.hold_ref,
            hold.place,
            Some(hold.expires_at),
            HoldCountdown::start(hold.expires_in_seconds, received_at_ms),
            commands,
        );
        Ok(())
    }

    fn hold_conflict(
        &mut self,
        conflict: SeatConflict,
        received_at_ms: f64,
        commands: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        let hold_ref = conflict.hold_ref.clone().filter(|h| !h.is_empty());
        let Some(chosen) = self.chosen_place().filter(|_| self.step == Step::Holding) else {
            return self.stale(hold_ref.as_deref(), commands);
        };
        let held_event = conflict.event_id;
        let seconds = conflict.expires_in_seconds.unwrap_or(0);
        match hold_ref {
            Some(hold_ref)
                if held_event.is_none_or(|id| Place::Event(id) == chosen) && seconds > 0 =>
            {
                self.adopt_hold(
                    hold_ref,
                    chosen,
                    conflict.held_until,
                    HoldCountdown::start(seconds, received_at_ms),
                    commands,
                );
            }
            Some(hold_ref) if !self.conflict_release_tried => {
                self.conflict_release_tried = true;
                commands.push(Command::Release { hold_ref });
                commands.push(Command::Hold { place: chosen });
            }
            _ => {
                self.seat_frees = conflict
                    .expires_in_seconds
                    .filter(|seconds| (0..=LONGEST_SEAT_WAIT_SECONDS).contains(seconds))
                    .map(|seconds| {
                        HoldCountdown::start(seconds + SEAT_WAIT_GRACE_SECONDS, received_at_ms)
                    });
                self.conflict = Some(conflict);
                self.step = Step::HoldConflict;
                commands.push(Command::RefreshEvents);
                commands.push(Command::Emit(HostEvent::Error {
                    code: "hold_conflict",
                    message: "The seat is already held",
                }));
            }
        }
        Ok(())
    }

    fn hold_refused(
        &mut self,
        error: ValidationError,
        commands: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        if self.step != Step::Holding {
            return self.stale(None, commands);
        }
        let message = match error.message.trim() {
            "" => MESSAGE_HOLD_REFUSED.to_owned(),
            server => server.to_owned(),
        };
        self.fail(FailureKind::HoldRefused, &message, error.message.clone());
        commands.push(Command::RefreshEvents);
        commands.push(Command::Emit(HostEvent::Error {
            code: "hold_refused",
            message: MESSAGE_HOLD_REFUSED,
        }));
        Ok(())
    }

    fn hold_failed(&mut self, detail: String, commands: &mut Vec<Command>) -> Result<(), Refusal> {
        if self.step != Step::Holding {
            return self.stale(None, commands);
        }
        self.fail(FailureKind::HoldFailed, MESSAGE_HOLD_FAILED, detail);
        commands.push(Command::Emit(HostEvent::Error {
            code: "hold_failed",
            message: MESSAGE_HOLD_FAILED,
        }));
        Ok(())
    }

    fn booking_created(
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

    fn booking_rejected(
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
            commands.push(Command::RefreshEvents);
        }
        commands.push(Command::Emit(HostEvent::Error {
            code: "booking_rejected",
            message: MESSAGE_BOOKING_REJECTED,
        }));
        Ok(())
    }

    fn booking_failed(
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

    /// A booking read again, while waiting for its payment or review.
    fn booking_read(
        &mut self,
        booking: Booked,
        commands: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        let waiting = matches!(self.step, Step::AwaitingPayment | Step::PendingReview);
        let same = self
            .booking
            .as_ref()
            .is_some_and(|b| b.id() == booking.id());
        if !(waiting && same) {
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

    fn adopt_hold(
        &mut self,
        hold_ref: String,
        place: Place,
        expires_at: Option<Timestamp>,
        countdown: HoldCountdown,
        commands: &mut Vec<Command>,
    ) {
        commands.push(Command::Emit(HostEvent::HoldCreated {
            place: place.clone(),
            hold_expires_at: expires_at,
            expires_in_seconds: countdown.expires_in_seconds(),
        }));
        self.hold = Some(ActiveHold {
            hold_ref,
            place,
            expires_at,
            countdown,
        });
        self.conflict = None;
        self.failure = None;
        self.step = self.resume_step;
    }

    /// Moves to the step a created or re-read booking calls for.
    fn settle_booking(&mut self, booking: Booked, commands: &mut Vec<Command>) {
        let previous = self.step;
        let product = booking.product();
        let in_progress = BookingInProgress {
            booking_id: booking.id(),
            event_id: self.event().map_or(0, |event| event.id),
            product,
        };
        let awaiting_card = booking.pay_option() == PayOption::CandidatePays
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
                    }));
                }
                self.step = Step::Confirmed;
            }
            _ => self.step = Step::PendingReview,
        }
        self.booking = Some(booking);
    }
}
