//! The contract between the widget and the gateway (`/api/...`).
//!
//! The gateway holds the agency's API credentials and exposes only what the
//! booking flow needs. Holds and bookings are handed to the widget as signed
//! references bound to the widget's session, so the gateway needs no memory
//! of them: another session cannot use, release or read them.
//!
//! Every path is under [`API_BASE`] and written once, in [`route`]: the
//! widget's client builds its URLs from it and the gateway mounts its
//! handlers on it.
//!
//! | method | path | body | answer |
//! | --- | --- | --- | --- |
//! | GET | [`route::OPTIONS`] `?product=` | | [`WidgetOptions`] (with a new session when none was sent) |
//! | GET | [`route::COURSES`] `?product=` | | `[Course]` |
//! | GET | [`route::TRAINING_EVENTS`] `?course_id=&location_id=` | | `[TrainingEvent]`, every upcoming page (Practical Training) |
//! | GET | [`route::TIMESLOTS`] `?course_id=&date_from=&date_to=` | | `[Timeslot]`, every page (Virtual BLS) |
//! | POST | [`route::HOLDS`] | [`HoldRequest`] | [`HeldSeat`]; 409 [`SeatTaken`] |
//! | POST | [`route::TIMESLOT_HOLDS`] | [`SlotHoldRequest`] | [`HeldTimeslot`]; 409 [`SeatTaken`] |
//! | DELETE | [`route::HOLD`] | | 204 (either product's hold) |
//! | GET | [`route::HOLD_PAY_OPTIONS`] | | [`UnusablePayOptions`]: the allowed pay options the account cannot use for the held place |
//! | POST | [`route::RELEASE_BEACON`] | [`ReleaseBeacon`] as `text/plain` | 204 (for `navigator.sendBeacon`) |
//! | POST | [`route::BOOKINGS`] | [`BookingRequest`] + `Idempotency-Key` | 201 [`BookingReceipt`] (`BookingReceipt<VirtualBooking>` for a timeslot's hold) |
//! | GET | [`route::BOOKING`] | | [`BookingReceipt`], of the product the reference names |
//! | GET | [`route::MANAGED_BOOKING`] | | [`ManagedBooking`], of the product the link names; no session |
//! | GET | [`route::MANAGED_CERTIFICATE`] | | the certificate, `application/pdf`; no session |
//! | POST | [`route::MANAGED_CANCEL`] | | [`ManagedBooking`], cancelled; no session |
//! | GET | [`route::MANAGED_DATES`] | | `[TrainingEvent]`: the other dates the booking can move to; no session |
//! | POST | [`route::MANAGED_MOVE`] | [`MoveRequest`] + `Idempotency-Key` | [`MovedBooking`]: the new booking, then the old one cancelled; no session |
//!
//! `product` is [`Product`]'s name (`practical`, the default, or
//! `virtual-bls`). A hold or booking reference names its product, so
//! releasing, booking and reading need no `product`. Pay options are named
//! as Practical Training names them (`inv` for an invoice to the agency);
//! the gateway sends Virtual BLS its own names (`invoice`).
//!
//! A booking made through the gateway also gets a durable link
//! ([`BookingReceipt::manage_link`]): signed, not bound to the session, and
//! good until some days after the training.
//! The `manage` routes take it in place of a session.
//!
//! Every request but the beacon and the `manage` routes carries the
//! session in [`SESSION_HEADER`].
//! Errors are JSON: `{ "message": ... }`, with `errors` per field on 422 (the
//! hold named `hold_ref`) and [`SeatTaken`] on a 409 for a hold; the widget
//! reads them as an [`ErrorAnswer`].
//!
//! A hold or a booking that would pass the upstream's rate limit is queued:
//! the gateway answers 503 with `Retry-After` and a [`QueuePlace`] (nothing
//! was sent upstream), and the widget sends the same request again once the
//! wait is over, with the place's ticket in [`QUEUE_TICKET_HEADER`].

use serde::{Deserialize, Serialize};

use crate::api::bls::TimeslotHold;
use crate::api::{
    ApiError, BookingDetail, Course, PayOption, SeatHold, Timestamp, ValidationError,
};
use crate::product::Product;

/// Where the gateway serves the widget API.
pub const API_BASE: &str = "/api";

/// The widget API's paths under [`API_BASE`], each written once. A path
/// with a `{…}` parameter is an axum route template; [`route::with_ref`]
/// fills it.
pub mod route {
    /// `GET`: the widget's options and session.
    pub const OPTIONS: &str = "/options";
    /// `GET`: a product's courses.
    pub const COURSES: &str = "/courses";
    /// `GET`: the widget's first step, shown before the module has loaded
    /// (`?product=`, one name or several separated by spaces; `&course=`
    /// when one is preselected): a [`super::FirstStepAnswer`]; 204 when
    /// that step needs the module.
    pub const FIRST_STEP: &str = "/first-step";
    /// `GET`: a course's training events (Practical Training).
    pub const TRAINING_EVENTS: &str = "/training-events";
    /// `GET`: a course's timeslots (Virtual BLS).
    pub const TIMESLOTS: &str = "/timeslots";
    /// `POST`: hold a seat on a training event.
    pub const HOLDS: &str = "/holds";
    /// `POST`: hold a timeslot.
    pub const TIMESLOT_HOLDS: &str = "/timeslot-holds";
    /// `DELETE`: release either product's hold.
    pub const HOLD: &str = "/holds/{hold_ref}";
    /// `GET`: the allowed pay options the agency's account cannot use for
    /// that hold's place.
    pub const HOLD_PAY_OPTIONS: &str = "/holds/{hold_ref}/pay-options";
    /// `POST`: release a hold by `navigator.sendBeacon` as the page goes.
    pub const RELEASE_BEACON: &str = "/holds/release";
    /// `POST`: make a booking on a hold.
    pub const BOOKINGS: &str = "/bookings";
    /// `GET`: read a booking made through the gateway.
    pub const BOOKING: &str = "/bookings/{booking_ref}";
    /// `GET`: the booking a durable booking link names, for its page.
    pub const MANAGED_BOOKING: &str = "/manage/{link}";
    /// `GET`: that booking's completion certificate, a PDF.
    pub const MANAGED_CERTIFICATE: &str = "/manage/{link}/certificate";
    /// `POST`: cancel that booking, within the agency's policy.
    pub const MANAGED_CANCEL: &str = "/manage/{link}/cancel";
    /// `GET`: the other dates that booking can move to.
    pub const MANAGED_DATES: &str = "/manage/{link}/dates";
    /// `POST`: move that booking to another date: the new seat held and
    /// booked first, the old booking cancelled only then.
    pub const MANAGED_MOVE: &str = "/manage/{link}/move";

    /// `template` (e.g. [`HOLD`] or [`BOOKING`]) with its one parameter set to
    /// `reference`.
    pub fn with_ref(template: &str, reference: &str) -> String {
        match template.split_once('{') {
            Some((head, rest)) => {
                let tail = rest.split_once('}').map_or("", |(_, tail)| tail);
                format!("{head}{reference}{tail}")
            }
            None => template.to_owned(),
        }
    }
}

/// The request header carrying the widget's session token.
pub const SESSION_HEADER: &str = "x-hbg-session";

/// The header carrying a request's id both ways: a load balancer may send
/// one (kept when [`is_request_id`]), and the gateway answers with the id
/// it used, which every JSON error body carries as `request_id` too.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The longest request id kept.
pub const MAX_REQUEST_ID_LEN: usize = 64;

/// Whether `value` is a sane request id: 1 to [`MAX_REQUEST_ID_LEN`]
/// characters of `A-Z`, `a-z`, `0-9`, `.`, `_` and `-`.
pub fn is_request_id(value: &str) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&value.len())
        && value
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'))
}

/// `sentence` for people, ending with the reference to quote to the agency
/// when the gateway gave one: `... (quote reference ID)`.
pub fn quoting_reference(sentence: &str, request_id: Option<&str>) -> String {
    match request_id {
        Some(id) => format!("{sentence} (quote reference {id})"),
        None => sentence.to_owned(),
    }
}

/// The request header carrying the idempotency key of a booking attempt.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// The request header carrying a [`QueuePlace`]'s ticket when a queued
/// request is sent again.
pub const QUEUE_TICKET_HEADER: &str = "x-hbg-queue-ticket";

/// A 503 to a hold or a booking that waits its turn under the upstream's
/// rate limit: nothing was sent, and the same request sent again with the
/// ticket after `queued_for_seconds` goes through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuePlace {
    /// Human-readable reason.
    pub message: String,
    /// The claim on the reserved turn, for [`QUEUE_TICKET_HEADER`].
    pub queue_ticket: String,
    /// Seconds until the turn.
    pub queued_for_seconds: u32,
}

impl QueuePlace {
    /// The place an error answer with `status` and body `text` gives, if
    /// it is one.
    pub fn read(status: u16, text: &str) -> Option<QueuePlace> {
        (status == 503)
            .then(|| crate::json::from_str::<QueuePlace>(text).ok())
            .flatten()
            .filter(|place| !place.queue_ticket.is_empty())
    }

    /// What the candidate is told while waiting, `seconds_left` before the
    /// request goes again.
    pub fn wait_text(seconds_left: u32) -> String {
        let when = match seconds_left {
            0 => "now".to_owned(),
            1 => "in 1 second".to_owned(),
            n => format!("in {n} seconds"),
        };
        format!(
            "Lots of candidates are booking right now, so your request is queued. \
             It goes through {when}: keep this page open."
        )
    }
}

/// `GET /api/first-step`: the widget's first step as the widget's own
/// markup (every text escaped), and the courses it lists, which the module
/// then takes instead of reading them again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FirstStepAnswer {
    /// The step's HTML.
    pub html: String,
    /// The courses listed, as `GET /api/courses` answers them; empty for
    /// the product choice.
    pub courses: Vec<Course>,
}

/// `GET /api/options`: what the widget may offer, for this agency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WidgetOptions {
    /// The agency's display name.
    pub account_name: String,
    /// Pay options a public candidate may use, in the order to offer them.
    pub pay_options: Vec<PayOption>,
    /// Origins a `payment_url` may point at (Stripe Checkout by default).
    pub payment_origins: Vec<String>,
    /// A new session token, present when the request carried no valid one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// The products this gateway books (those it has credentials for), in
    /// the order to offer them.
    #[serde(default)]
    pub products: Vec<Product>,
}

/// `POST /api/holds`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoldRequest {
    /// The training event to hold a seat on.
    pub event_id: u64,
    /// A hold this session already has on the event, if any: when the
    /// upstream answers "a hold already exists" with this hold, it is
    /// returned instead of a conflict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_ref: Option<String>,
    /// Replace `hold_ref` (this session's live hold on the event) with a
    /// fresh one ("Keep my seat"), leaving no moment in which another
    /// session could take the seat.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub renew: bool,
}

/// `POST /api/timeslot-holds`: a Virtual BLS timeslot, as `GET
/// /api/timeslots` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlotHoldRequest {
    /// The course.
    pub course_id: u64,
    /// UK date, `YYYY-MM-DD`.
    pub date: String,
    /// UK wall-clock start, `HH:MM`.
    pub time: String,
    /// A hold this session already has on the slot, as for [`HoldRequest`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_ref: Option<String>,
    /// Replace `hold_ref` with a fresh hold ("Keep my seat"), as for
    /// [`HoldRequest`].
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub renew: bool,
}

/// A granted timeslot hold: the upstream's hold plus its session-bound
/// reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldTimeslot {
    /// Reference to send back to release or book; valid for this session only.
    pub hold_ref: String,
    /// The hold as the upstream granted it.
    pub hold: TimeslotHold,
}

/// Where a Virtual BLS training kit is posted.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct KitAddress {
    /// Street address (house and street, flat if any).
    pub address: String,
    /// Town or city.
    pub city: String,
    /// UK postcode, as `booking_core::validation::normalise_uk_postcode`
    /// writes it.
    pub postcode: String,
}

/// A granted hold: the upstream's hold plus its session-bound reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldSeat {
    /// Reference to send back to release or book; valid for this session only.
    pub hold_ref: String,
    /// The hold as the upstream granted it.
    pub hold: SeatHold,
}

/// 409 on `POST /api/holds` for a hold this session does not own: the seat
/// is being held and until when, nothing more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeatTaken {
    /// Human-readable reason.
    #[serde(default)]
    pub message: String,
    /// When the other hold lapses, if the upstream said.
    #[serde(
        default,
        deserialize_with = "crate::api::timestamp::option::deserialize"
    )]
    pub held_until: Option<Timestamp>,
    /// Seconds until the other hold lapses, by the gateway's clock, if the
    /// upstream said (the widget counts down from it, whatever its own
    /// clock says).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_in_seconds: Option<i64>,
}

/// `POST /api/holds/release`, sent with `navigator.sendBeacon` when the page
/// is hidden: beacons cannot carry headers, so the session is in the body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseBeacon {
    /// The widget's session token.
    pub session: String,
    /// The hold to release.
    pub hold_ref: String,
    /// Sent as the page went away (`pagehide`): it may be reloading, so the
    /// gateway keeps the hold for its release grace, for the page to take
    /// up again, before it releases it. Otherwise (the widget removed from
    /// a page that stays) it is released at once.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub page_hidden: bool,
}

/// `POST /api/bookings`: the candidate's details and a held seat. Agency
/// contact fields are added by the gateway from its configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingRequest {
    /// The session's hold reference.
    pub hold_ref: String,
    /// Candidate's given name.
    pub first_name: String,
    /// Candidate's family name.
    pub last_name: String,
    /// Candidate's email.
    pub email: String,
    /// Candidate's phone, international form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Candidate's job role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_role: Option<String>,
    /// How the seat is paid for.
    pub pay_option: PayOption,
    /// Where the payment page sends the candidate back to (`candidate_pays`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_url: Option<String>,
    /// Where the training kit is posted: required for a Virtual BLS hold,
    /// refused for a Practical Training one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kit: Option<KitAddress>,
}

/// A booking as the widget sees it, with its session-bound reference:
/// a [`BookingDetail`] for Practical Training, a
/// [`crate::api::bls::VirtualBooking`] for Virtual BLS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingReceipt<B = BookingDetail> {
    /// Reference to read the booking again; valid for this session only.
    pub booking_ref: String,
    /// The booking.
    pub booking: B,
    /// The durable link to the booking's own page (the token the
    /// `manage` routes and the host page's `?hbg-booking=` take).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manage_link: Option<String>,
}

/// Whether a candidate may cancel one booking now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelState {
    /// They may, until the offer's `until`.
    Open,
    /// The agency's time to cancel passed at the offer's `until`.
    Closed,
    /// The booking is already cancelled, or its training has begun.
    Done,
    /// Candidates cannot cancel this booking themselves (the agency's
    /// policy is off, or the product has no cancellation): the agency can.
    ByAgency,
}

impl CancelState {
    /// Its name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            CancelState::Open => "open",
            CancelState::Closed => "closed",
            CancelState::Done => "done",
            CancelState::ByAgency => "by_agency",
        }
    }

    /// The state a wire name stands for; an unknown one leaves cancelling
    /// to the agency.
    pub fn parse(name: &str) -> CancelState {
        [CancelState::Open, CancelState::Closed, CancelState::Done]
            .into_iter()
            .find(|state| state.as_str() == name)
            .unwrap_or(CancelState::ByAgency)
    }
}

impl Serialize for CancelState {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CancelState {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|name| CancelState::parse(&name))
    }
}

/// Whether a candidate may cancel one booking now, and the deadline that
/// decides it, as the booking page offers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelOffer {
    /// Whether they may.
    pub state: CancelState,
    /// The last moment to cancel (UTC, RFC 3339), for an open or closed
    /// offer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

impl CancelOffer {
    /// An offer with no deadline to tell.
    pub fn without_deadline(state: CancelState) -> CancelOffer {
        CancelOffer { state, until: None }
    }
}

/// The booking a durable link names, read live from the upstream, as its
/// page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManagedBooking<B = BookingDetail> {
    /// The booking.
    pub booking: B,
    /// Whether the candidate may cancel it now.
    pub cancel: CancelOffer,
    /// The agency's e-mail address, for what the candidate cannot change
    /// themselves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency_email: Option<String>,
}

/// The allowed pay options the agency's account cannot use for a held
/// place now: `credits` without a credit left for the course, `balance`
/// short of the place's cost. Empty when the gateway could not tell.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UnusablePayOptions {
    /// The options, in the gateway's allowed order.
    #[serde(default)]
    pub cannot_pay_with: Vec<PayOption>,
}

/// The body of a move to another date: the training event to move to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveRequest {
    /// The new date's training event, of the booking's course.
    pub training_event_id: u64,
}

/// The answer to a move: the new booking's page and its own link (the old
/// link shows the old booking, cancelled), and why the old booking was
/// kept when its cancel failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MovedBooking<B = BookingDetail> {
    /// The new booking's page.
    pub page: ManagedBooking<B>,
    /// The durable link to the new booking's page.
    pub manage_link: String,
    /// Set when the new booking was made but the old one could not be
    /// cancelled: what the candidate is told (the agency is told too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_booking_kept: Option<String>,
}

/// An error answer of the gateway: its status, how long it asks to wait,
/// and its body, read as the status says.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorAnswer {
    /// The HTTP status.
    pub status: u16,
    /// Seconds to wait before trying again (`Retry-After`), when given.
    pub retry_after: Option<u32>,
    /// The body.
    pub body: ErrorBody,
    /// The request's id the body gives (`request_id`), when it is sane.
    pub request_id: Option<String>,
}

/// The `request_id` of an error body, whatever else it holds.
#[derive(Deserialize)]
struct Reference {
    #[serde(default)]
    request_id: Option<String>,
}

/// The body of an error answer.
#[derive(Debug, Clone, PartialEq)]
pub enum ErrorBody {
    /// 409 (on `POST /api/holds`): the seat is held by another session.
    SeatTaken(SeatTaken),
    /// 422: what is wrong, per field.
    Invalid(ValidationError),
    /// Any other error status: a message.
    Message(ApiError),
}

impl ErrorAnswer {
    /// Reads the body `text` of an answer with the error status `status`. A
    /// body that cannot be read counts as one without a message.
    pub fn read(status: u16, text: &str) -> ErrorAnswer {
        let body = match status {
            409 => ErrorBody::SeatTaken(crate::json::from_str(text).unwrap_or(SeatTaken {
                message: String::new(),
                held_until: None,
                free_in_seconds: None,
            })),
            422 => ErrorBody::Invalid(crate::json::from_str(text).unwrap_or_default()),
            _ => ErrorBody::Message(crate::json::from_str(text).unwrap_or(ApiError {
                message: String::new(),
                request_id: None,
            })),
        };
        let request_id = crate::json::from_str::<Reference>(text)
            .ok()
            .and_then(|reference| reference.request_id)
            .filter(|id| is_request_id(id));
        ErrorAnswer {
            status,
            retry_after: None,
            body,
            request_id,
        }
    }

    /// The human-readable reason; empty when the gateway gave none.
    pub fn message(&self) -> &str {
        match &self.body {
            ErrorBody::SeatTaken(taken) => &taken.message,
            ErrorBody::Invalid(invalid) => &invalid.message,
            ErrorBody::Message(error) => &error.message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queued_request_is_read_only_from_a_503_with_a_ticket() {
        let body = r#"{"message":"Queued.","queue_ticket":"ab12","queued_for_seconds":14}"#;
        assert_eq!(
            QueuePlace::read(503, body),
            Some(QueuePlace {
                message: "Queued.".to_owned(),
                queue_ticket: "ab12".to_owned(),
                queued_for_seconds: 14,
            })
        );
        assert_eq!(QueuePlace::read(502, body), None);
        assert_eq!(QueuePlace::read(503, r#"{"message":"Busy."}"#), None);
        assert_eq!(
            QueuePlace::read(
                503,
                r#"{"message":"","queue_ticket":"","queued_for_seconds":1}"#
            ),
            None
        );
    }

    #[test]
    fn the_queue_wait_counts_down_in_words() {
        assert!(QueuePlace::wait_text(14).contains("goes through in 14 seconds"));
        assert!(QueuePlace::wait_text(1).contains("in 1 second:"));
        assert!(QueuePlace::wait_text(0).contains("goes through now"));
    }

    #[test]
    fn error_answers_are_read_by_their_status() {
        let taken = ErrorAnswer::read(
            409,
            r#"{"message":"Held until 14:45.","held_until":"2026-07-20T14:45:00+00:00"}"#,
        );
        let ErrorBody::SeatTaken(seat) = &taken.body else {
            panic!("a 409 is a seat taken: {taken:?}");
        };
        assert_eq!(taken.message(), "Held until 14:45.");
        assert_eq!(
            seat.held_until.map(|until| until.to_rfc3339()),
            Some("2026-07-20T14:45:00+00:00".to_owned())
        );
        let invalid = ErrorAnswer::read(
            422,
            r#"{"message":"The hold has expired.","errors":{"hold_ref":["The hold has expired."]}}"#,
        );
        let ErrorBody::Invalid(error) = &invalid.body else {
            panic!("a 422 names fields: {invalid:?}");
        };
        assert!(error.errors.contains_key("hold_ref"));
        let busy = ErrorAnswer::read(503, r#"{"message":"The booking service is busy."}"#);
        assert_eq!(busy.message(), "The booking service is busy.");
        assert!(matches!(busy.body, ErrorBody::Message(_)));
        assert_eq!(busy.status, 503);
        assert_eq!(busy.retry_after, None);
    }

    #[test]
    fn an_error_body_with_a_request_id_is_read() {
        for (status, text) in [
            (503, r#"{"message":"Busy.","request_id":"lb-7f3a.01_x"}"#),
            (409, r#"{"message":"Held.","request_id":"lb-7f3a.01_x"}"#),
            (
                422,
                r#"{"message":"Bad.","errors":{},"request_id":"lb-7f3a.01_x"}"#,
            ),
        ] {
            let answer = ErrorAnswer::read(status, text);
            assert_eq!(answer.request_id.as_deref(), Some("lb-7f3a.01_x"), "{text}");
            assert!(!answer.message().is_empty(), "{text}");
        }
        let error: ApiError =
            crate::json::from_str(r#"{"message":"Not found.","request_id":"r-1"}"#).unwrap();
        assert_eq!(error.request_id.as_deref(), Some("r-1"));
        for text in [
            r#"{"message":"Busy."}"#,
            r#"{"message":"Busy.","request_id":"has space"}"#,
            r#"{"message":"Busy.","request_id":7}"#,
        ] {
            assert_eq!(ErrorAnswer::read(503, text).request_id, None, "{text}");
        }
    }

    #[test]
    fn request_ids_are_short_and_plain() {
        let longest = "a".repeat(MAX_REQUEST_ID_LEN);
        for sane in ["a", "lb-7f3a.01_x", "0123456789abcdef", longest.as_str()] {
            assert!(is_request_id(sane), "{sane:?}");
        }
        let too_long = "a".repeat(MAX_REQUEST_ID_LEN + 1);
        for bad in [
            "",
            "has space",
            "a/b",
            "é",
            "<x>",
            "a\nb",
            too_long.as_str(),
        ] {
            assert!(!is_request_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn an_error_message_ends_with_the_reference_to_quote() {
        assert_eq!(
            quoting_reference("The booking service is busy.", Some("lb-7f3a")),
            "The booking service is busy. (quote reference lb-7f3a)"
        );
        assert_eq!(
            quoting_reference("The booking service is busy.", None),
            "The booking service is busy."
        );
    }

    #[test]
    fn unreadable_error_bodies_have_no_message() {
        for status in [409, 422, 500] {
            for text in ["", "<html>Bad Gateway</html>", "{\"message\":3}", "null"] {
                let answer = ErrorAnswer::read(status, text);
                assert_eq!(answer.message(), "", "{status} {text}");
                assert_eq!(answer.status, status);
            }
        }
        let bare = ErrorAnswer::read(409, "{}");
        assert_eq!(
            bare.body,
            ErrorBody::SeatTaken(SeatTaken {
                message: String::new(),
                held_until: None,
                free_in_seconds: None,
            })
        );
        let timed = ErrorAnswer::read(
            409,
            r#"{"message":"Another candidate is booking this date right now.","held_until":"2026-12-01T10:30:00Z","free_in_seconds":1790}"#,
        );
        let ErrorBody::SeatTaken(taken) = timed.body else {
            panic!("a 409 is a seat taken");
        };
        assert_eq!(taken.free_in_seconds, Some(1790));
    }
}
