//! The contract between the widget and the gateway (`/api/...`).
//!
//! The gateway holds the agency's API credentials and exposes only what the
//! booking flow needs. Holds and bookings are handed to the widget as signed
//! references bound to the widget's session, so the gateway needs no memory
//! of them: another session cannot use, release or read them.
//!
//! | method | path | body | answer |
//! | --- | --- | --- | --- |
//! | GET | `/api/options` | | [`WidgetOptions`] (with a new session when none was sent) |
//! | GET | `/api/courses` | | `[Course]` |
//! | GET | `/api/locations` | | `[Location]` |
//! | GET | `/api/training-events?course_id=&location_id=` | | `[TrainingEvent]`, every upcoming page |
//! | GET | `/api/training-events/{id}` | | `TrainingEventDetail` |
//! | POST | `/api/holds` | [`HoldRequest`] | [`HeldSeat`]; 409 [`SeatTaken`] |
//! | DELETE | `/api/holds/{hold_ref}` | | 204 |
//! | POST | `/api/holds/release` | [`ReleaseBeacon`] as `text/plain` | 204 (for `navigator.sendBeacon`) |
//! | POST | `/api/bookings` | [`BookingRequest`] + `Idempotency-Key` | 201 [`BookingReceipt`] |
//! | GET | `/api/bookings/{booking_ref}` | | [`BookingReceipt`] |
//!
//! Every request but the beacon carries the session in [`SESSION_HEADER`].
//! Errors are JSON: `{ "message": ... }`, with `errors` per field on 422.

use serde::{Deserialize, Serialize};

use crate::api::{BookingDetail, PayOption, SeatHold, Timestamp};

/// The request header carrying the widget's session token.
pub const SESSION_HEADER: &str = "x-hbg-session";

/// The request header carrying the idempotency key of a booking attempt.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

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
    pub message: String,
    /// When the other hold lapses, if the upstream said.
    #[serde(
        default,
        deserialize_with = "crate::api::timestamp::option::deserialize"
    )]
    pub held_until: Option<Timestamp>,
}

/// `POST /api/holds/release`, sent with `navigator.sendBeacon` when the page
/// is hidden: beacons cannot carry headers, so the session is in the body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseBeacon {
    /// The widget's session token.
    pub session: String,
    /// The hold to release.
    pub hold_ref: String,
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
}

/// A booking as the widget sees it, with its session-bound reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingReceipt {
    /// Reference to read the booking again; valid for this session only.
    pub booking_ref: String,
    /// The booking.
    pub booking: BookingDetail,
}
