//! What differs between the products the gateway serves, behind traits the
//! handlers, the memory and the policy use generically: one upstream per
//! product ([`ProductUpstream`]: its API client with its own credentials and
//! token pair, its policy, its page size), the place a hold is taken on (a
//! training event or a timeslot, [`HoldPlace`]), the hold the upstream
//! grants and the 409 it answers with ([`GrantedHold`], [`ConflictBody`]),
//! and the booking it makes ([`MadeBooking`]).
//!
//! Invariants: a place's memory key names its product (a timeslot's key
//! cannot equal an event's), so holds, locks and attempts of the two
//! products never meet; a booking made by a lost answer is recognised by
//! the same rule for both products ([`BookedPlace`]: course, UK start and,
//! for a venue, its name).

use std::sync::atomic::AtomicU32;

use booking_core::api::bls::{HeldSlot, TimeslotHold, TimeslotHoldConflict, VirtualBooking};
use booking_core::api::{
    hold_seconds, BookingDetail, BookingStatus, HeldEvent, HoldConflict, SeatHold, Timestamp,
};
use booking_core::contract::Answer;
use booking_core::product::Product;
use booking_core::uk_time;
use booking_core::widget_api::{HoldRequest, SlotHoldRequest};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::errors::GatewayError;
use super::policy::Policy;
use super::upstream::{Call, Upstream};

/// One product's upstream: its API client (own credentials, own token
/// pair), the agency's policy for it, and the page size it accepts.
pub struct ProductUpstream {
    /// Which product.
    pub product: Product,
    /// The API client.
    pub upstream: Upstream,
    /// Pay options, payment origins, agency fields.
    pub policy: Policy,
    /// Items asked for per upstream page: the most the upstream accepted.
    pub page_size: AtomicU32,
    /// Its last readiness probe (`/readyz`).
    pub last_probe: LastProbe,
}

/// A product's last readiness probe (`/readyz`): when it began and how it
/// went.
#[derive(Debug, Default)]
pub struct LastProbe(pub(super) tokio::sync::Mutex<Option<Probe>>);

/// One readiness probe.
#[derive(Debug, Clone)]
pub(super) struct Probe {
    /// When it began.
    pub at: tokio::time::Instant,
    /// How it went: the problem, in words, when it failed.
    pub outcome: Result<(), String>,
}

impl ProductUpstream {
    /// The upstream call that releases a hold.
    pub fn release_call(&self, hash: &str) -> Call {
        match self.product {
            Product::Practical => Call::delete(
                "/training-events/hold/{hold_hash}",
                format!("/training-events/hold/{hash}"),
            ),
            Product::VirtualBls => Call::delete(
                "/timeslots/hold/{hold_hash}",
                format!("/timeslots/hold/{hash}"),
            ),
        }
    }
}

/// Where a booking is, as both a hold and the booking it made can tell:
/// the course's name, the UK wall-clock start (`YYYY-MM-DD HH:MM`) and, for
/// a venue, its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookedPlace {
    /// Course name.
    pub course: String,
    /// UK start, `YYYY-MM-DD HH:MM`.
    pub starts: String,
    /// Venue name (Practical Training only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// A start written as [`BookedPlace::starts`] says.
fn uk_start(start: &Timestamp) -> String {
    uk_time::to_uk(start.with_timezone(&Utc))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The memory key of a Virtual BLS timeslot.
fn slot_key(course_id: u64, date: &str, time: &str) -> String {
    format!("slot:{course_id}:{date}:{time}")
}

/// A hold the upstream granted.
pub trait GrantedHold: Clone + Serialize + DeserializeOwned + Answer + Send + Sync {
    /// Its hash, sent back to book or release.
    fn hold_hash(&self) -> &str;
    /// Seconds it had left when granted, clamped ([`hold_seconds`]).
    fn seconds_left(&self) -> i64;
    /// When it lapses, granted at `now`: its (clamped) seconds left.
    fn lapses(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + chrono::Duration::seconds(self.seconds_left())
    }
    /// The same hold with `seconds` left (clamped).
    fn with_seconds_left(&self, seconds: i64) -> Self;
    /// The same hold counting down from its clamped seconds: what the
    /// widget is given and the gateway remembers.
    fn within_bounds(&self) -> Self {
        self.with_seconds_left(self.seconds_left())
    }
    /// The memory key of the place it holds ([`HoldPlace::key`]).
    fn place_key(&self) -> String;
    /// Where the booking it makes will be.
    fn booked_place(&self) -> BookedPlace;
}

fn event_key(event: &HeldEvent) -> String {
    event.id.to_string()
}

fn event_place(event: &HeldEvent) -> BookedPlace {
    BookedPlace {
        course: event.course.clone(),
        starts: uk_start(&event.start_date),
        location: Some(event.location.clone()),
    }
}

fn held_slot_key(slot: &HeldSlot) -> String {
    slot_key(slot.course.id, &slot.date, &slot.time)
}

fn held_slot_place(slot: &HeldSlot) -> BookedPlace {
    BookedPlace {
        course: slot.course.name.clone(),
        starts: format!("{} {}", slot.date, slot.time),
        location: None,
    }
}

/// The upstream's 409 body for a second hold.
pub trait ConflictBody: DeserializeOwned + Answer {
    /// The hold it rebuilds into.
    type Hold;
    /// The existing hold's hash, when disclosed.
    fn hold_hash(&self) -> Option<&str>;
    /// When the existing hold lapses, when said.
    fn expires_at(&self) -> Option<Timestamp>;
    /// Seconds until it lapses, when said (clamped, [`hold_seconds`]).
    fn expires_in_seconds(&self) -> Option<i64>;
    /// The memory key of the place the existing hold is on, when disclosed.
    fn place_key(&self) -> Option<String>;
    /// The existing hold, when the 409 says enough to rebuild it.
    fn existing_hold(&self) -> Option<Self::Hold>;
}

/// Implements [`GrantedHold`] for a product's hold and [`ConflictBody`] for
/// its 409 body. The two products' types differ only in the field naming
/// the place held, keyed by `$key` and booked at `$booked`.
macro_rules! hold_answers {
    ($hold:ident, $conflict:ident, $place:ident, $key:path, $booked:path) => {
        impl GrantedHold for $hold {
            fn hold_hash(&self) -> &str {
                &self.hold_hash
            }

            fn seconds_left(&self) -> i64 {
                hold_seconds(self.expires_in_seconds)
            }

            fn with_seconds_left(&self, seconds: i64) -> $hold {
                $hold {
                    expires_in_seconds: hold_seconds(seconds),
                    ..self.clone()
                }
            }

            fn place_key(&self) -> String {
                $key(&self.$place)
            }

            fn booked_place(&self) -> BookedPlace {
                $booked(&self.$place)
            }
        }

        impl ConflictBody for $conflict {
            type Hold = $hold;

            fn hold_hash(&self) -> Option<&str> {
                self.hold_hash.as_deref()
            }

            fn expires_at(&self) -> Option<Timestamp> {
                self.expires_at
            }

            fn expires_in_seconds(&self) -> Option<i64> {
                self.expires_in_seconds.map(hold_seconds)
            }

            fn place_key(&self) -> Option<String> {
                self.$place.as_ref().map($key)
            }

            fn existing_hold(&self) -> Option<$hold> {
                Some($hold {
                    hold_hash: self.hold_hash.clone()?,
                    expires_at: self.expires_at?,
                    expires_in_seconds: hold_seconds(self.expires_in_seconds?),
                    $place: self.$place.clone()?,
                })
            }
        }
    };
}

hold_answers!(
    SeatHold,
    HoldConflict,
    training_event,
    event_key,
    event_place
);
hold_answers!(
    TimeslotHold,
    TimeslotHoldConflict,
    slot,
    held_slot_key,
    held_slot_place
);

/// What a widget asks to hold: a training event, or a timeslot.
pub trait HoldPlace: Send + Sync {
    /// The product it belongs to.
    const PRODUCT: Product;
    /// The answer for a place that is not there (404).
    const NOT_FOUND: &'static str;
    /// The upstream's hold.
    type Hold: GrantedHold;
    /// The upstream's 409 body.
    type Conflict: ConflictBody<Hold = Self::Hold>;
    /// The key the gateway's memory knows the place by.
    fn key(&self) -> String;
    /// The upstream call that holds it.
    fn hold_call(&self) -> Result<Call, GatewayError>;
    /// The session's hold on it, if the widget named one.
    fn hold_ref(&self) -> Option<&str>;
    /// Whether the widget asks to renew that hold.
    fn renew(&self) -> bool;
}

impl HoldPlace for HoldRequest {
    const PRODUCT: Product = Product::Practical;
    const NOT_FOUND: &'static str = "That training event was not found.";
    type Hold = SeatHold;
    type Conflict = HoldConflict;

    fn key(&self) -> String {
        self.event_id.to_string()
    }

    fn hold_call(&self) -> Result<Call, GatewayError> {
        Call::post::<()>(
            "/training-events/{id}/hold",
            format!("/training-events/{}/hold", self.event_id),
            None,
        )
    }

    fn hold_ref(&self) -> Option<&str> {
        self.hold_ref.as_deref()
    }

    fn renew(&self) -> bool {
        self.renew
    }
}

/// The upstream's `POST /timeslots/hold` body.
#[derive(Serialize)]
struct UpstreamSlotHold<'a> {
    course_id: u64,
    date: &'a str,
    time: &'a str,
}

impl HoldPlace for SlotHoldRequest {
    const PRODUCT: Product = Product::VirtualBls;
    const NOT_FOUND: &'static str = "That timeslot was not found.";
    type Hold = TimeslotHold;
    type Conflict = TimeslotHoldConflict;

    fn key(&self) -> String {
        slot_key(self.course_id, &self.date, &self.time)
    }

    fn hold_call(&self) -> Result<Call, GatewayError> {
        let body = UpstreamSlotHold {
            course_id: self.course_id,
            date: &self.date,
            time: &self.time,
        };
        Call::post("/timeslots/hold", "/timeslots/hold", Some(&body))
    }

    fn hold_ref(&self) -> Option<&str> {
        self.hold_ref.as_deref()
    }

    fn renew(&self) -> bool {
        self.renew
    }
}

/// A booking the upstream made.
pub trait MadeBooking: Serialize + DeserializeOwned + Answer + Send {
    /// Its id.
    fn id(&self) -> u64;
    /// The candidate's e-mail address.
    fn email(&self) -> &str;
    /// Its pay option, in the upstream's name.
    fn pay_option(&self) -> &str;
    /// Its status, for the log.
    fn status(&self) -> String;
    /// When it was made.
    fn created_at(&self) -> Timestamp;
    /// Where it is.
    fn booked_place(&self) -> BookedPlace;
    /// Its payment page link, if any.
    fn payment_url_mut(&mut self) -> &mut Option<String>;
    /// When its training starts and ends.
    fn times(&self) -> (Timestamp, Timestamp);
    /// Where it stands.
    fn booking_status(&self) -> &BookingStatus;
}

impl MadeBooking for BookingDetail {
    fn id(&self) -> u64 {
        self.id
    }

    fn email(&self) -> &str {
        &self.candidate.email
    }

    fn pay_option(&self) -> &str {
        self.pay_option.wire_name(Product::Practical)
    }

    fn status(&self) -> String {
        self.status_label()
    }

    fn created_at(&self) -> Timestamp {
        self.created_at
    }

    fn booked_place(&self) -> BookedPlace {
        BookedPlace {
            course: self.course.name.clone(),
            starts: uk_start(&self.start_date),
            location: Some(self.location.name.clone()),
        }
    }

    fn payment_url_mut(&mut self) -> &mut Option<String> {
        &mut self.payment_url
    }

    fn times(&self) -> (Timestamp, Timestamp) {
        (self.start_date, self.end_date)
    }

    fn booking_status(&self) -> &BookingStatus {
        &self.booking_status
    }
}

impl MadeBooking for VirtualBooking {
    fn id(&self) -> u64 {
        self.id
    }

    fn email(&self) -> &str {
        &self.candidate.email
    }

    fn pay_option(&self) -> &str {
        self.pay_option.wire_name(Product::VirtualBls)
    }

    fn status(&self) -> String {
        booking_core::api::status_label(&self.booking_status, &self.pay_status)
    }

    fn created_at(&self) -> Timestamp {
        self.created_at
    }

    fn booked_place(&self) -> BookedPlace {
        BookedPlace {
            course: self.course.name.clone(),
            starts: uk_start(&self.start_date),
            location: None,
        }
    }

    fn payment_url_mut(&mut self) -> &mut Option<String> {
        &mut self.payment_url
    }

    fn times(&self) -> (Timestamp, Timestamp) {
        (self.start_date, self.end_date)
    }

    fn booking_status(&self) -> &BookingStatus {
        &self.booking_status
    }
}

/// Query naming a product (`?product=practical|virtual-bls`, Practical
/// Training when absent).
#[derive(Debug, Default, Deserialize)]
pub struct ProductQuery {
    product: Option<String>,
}

impl ProductQuery {
    /// The product named, or a 422 on `product`.
    pub fn product(&self) -> Result<Product, GatewayError> {
        match self.product.as_deref() {
            None | Some("") => Ok(Product::Practical),
            Some(name) => Product::parse(name).ok_or_else(|| {
                GatewayError::invalid("product", "The product must be practical or virtual-bls.")
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot_hold() -> TimeslotHold {
        serde_json::from_value(serde_json::json!({
            "hold_hash": "h", "expires_at": "2026-08-28T11:05:00+00:00",
            "expires_in_seconds": 1800,
            "slot": { "date": "2026-09-02", "time": "14:00",
                      "course": { "id": 4, "name": "BLS Annual Update (Virtual)" } }
        }))
        .unwrap()
    }

    #[test]
    fn a_timeslot_hold_and_its_booking_name_the_same_place() {
        let hold = slot_hold();
        let booking: VirtualBooking = serde_json::from_value(serde_json::json!({
            "id": 7731, "candidate": { "name": "Owen Hughes", "email": "owen@example.com" },
            "course": { "id": 4, "name": "BLS Annual Update (Virtual)" },
            "start_date": "2026-09-02T14:00:00+01:00", "end_date": "2026-09-02T15:00:00+01:00",
            "booking_status": "booked", "pay_status": "completed", "pay_option": "invoice",
            "virtual": { "zoom_id": "845 112 9034", "zoom_link": "https://zoom.us/j/8451129034", "zoom_password": "k7Tq2w" },
            "training_status": "scheduled", "equipment_status": "pending",
            "created_at": "2026-08-28T10:41:12+00:00"
        }))
        .unwrap();
        assert_eq!(hold.booked_place(), booking.booked_place());
        assert_eq!(hold.booked_place().starts, "2026-09-02 14:00");
        assert_eq!(booking.pay_option(), "invoice");
    }

    #[test]
    fn place_keys_of_the_two_products_never_meet() {
        let slot = SlotHoldRequest {
            course_id: 4,
            date: "2026-09-02".into(),
            time: "14:00".into(),
            hold_ref: None,
            renew: false,
        };
        assert_eq!(slot.key(), slot_hold().place_key());
        let event = HoldRequest {
            event_id: 4,
            hold_ref: None,
            renew: false,
        };
        assert_ne!(slot.key(), event.key());
        assert!(event.key().parse::<u64>().is_ok());
    }

    #[test]
    fn a_conflict_rebuilds_the_hold_only_when_it_says_enough() {
        let hold = slot_hold();
        let full = TimeslotHoldConflict {
            message: "An active hold already exists.".into(),
            hold_hash: Some(hold.hold_hash.clone()),
            expires_at: Some(hold.expires_at),
            expires_in_seconds: Some(1800),
            slot: Some(hold.slot.clone()),
        };
        assert_eq!(full.existing_hold(), Some(hold.clone()));
        assert_eq!(full.place_key(), Some(hold.place_key()));
        let bare = TimeslotHoldConflict { slot: None, ..full };
        assert_eq!(bare.existing_hold(), None);
        assert_eq!(bare.place_key(), None);
    }

    #[test]
    fn the_product_query_defaults_to_practical_and_names_a_bad_value() {
        let query = |product: Option<&str>| ProductQuery {
            product: product.map(str::to_owned),
        };
        assert_eq!(query(None).product().unwrap(), Product::Practical);
        assert_eq!(
            query(Some("virtual-bls")).product().unwrap(),
            Product::VirtualBls
        );
        let Err(GatewayError::Validation(error)) = query(Some("bls")).product() else {
            panic!("a 422");
        };
        assert!(error.errors.contains_key("product"));
    }
}
