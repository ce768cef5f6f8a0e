//! What the flow asks of the widget ([`Command`]) and tells the host page
//! ([`HostEvent`]).

use serde::Serialize;

use super::{BookingInProgress, Dates, Place};
use crate::api::{BookingStatus, Money, PayOption, PayStatus, Timestamp};
use crate::product::Product;
use crate::widget_api::BookingRequest;

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
        /// The address of the booking's own page, for the agency to send
        /// the candidate.
        #[serde(skip_serializing_if = "Option::is_none")]
        manage_url: Option<String>,
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
    /// Read the course's dates (its events, or its timeslots for Virtual
    /// BLS), then send `DatesLoaded` or `DatesFailed`. A read: nothing after
    /// it waits for its answer.
    LoadDates {
        /// The chosen course.
        course_id: u64,
    },
    /// Show these dates of the chosen course in the calendar (the flow does
    /// not keep them).
    ShowDates(Dates),
    /// Say, where the chosen course's dates would be, why they could not be
    /// read.
    ShowDatesFailed {
        /// The sentence for people.
        reason: String,
    },
    /// Read which allowed pay options the account cannot use for the
    /// hold's place, then send `PayOptionsRead` (a read, as
    /// [`Command::LoadDates`]; an unanswered read sends nothing, and every
    /// allowed option stays offered).
    ReadPayOptions {
        /// The hold just adopted.
        hold_ref: String,
        /// Its place's course.
        course_id: u64,
        /// Its place's cost, when known.
        cost: Option<Money>,
    },
    /// Read the booking again, then send `BookingStatus` (a read, as
    /// [`Command::LoadDates`]; an unanswered read sends nothing).
    ReadBooking {
        /// The booking awaiting payment or review.
        booking_id: u64,
    },
}
