//! Wire types of the Practical Training API (`/api/v1`).
//!
//! Every payload the widget, the gateway and the sandbox exchange is defined
//! here once. Field names and JSON types follow
//! the published API documentation, and our inferences where it is silent. Each answer type lists its fields
//! next to it ([`Answer::SHAPE`], see [`crate::contract`]), each marked
//! documented (the published documents show it in that answer) or inferred
//! (the reference marks it *(inferred)* or *(not documented)*, or it is our
//! guess): that list is the one place the guesses are kept, to correct when
//! the real contract is known. Doc comments say "Inferred" on the same
//! fields.
//!
//! Decoding is tolerant: unknown fields are ignored; every inferred field,
//! and every documented one the booking path does not depend on, may be
//! missing or `null` (an `Option`, or a default such as an empty address);
//! an enum value this crate does not know decodes to an `Other(String)`
//! variant instead of failing the whole response. So an upstream that sends
//! only what its documents show is read in full. Anything else that is wrong
//! (a missing id, a string where a number belongs, a malformed timestamp) is
//! a [`DecodeError`], never a panic: use [`decode`].

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::contract::{Answer, Field, Kind};
use crate::product::Product;

/// A timestamp with the UTC offset the API sent (venue-local for events).
/// Serialised as the API writes it: RFC 3339 with a numeric offset, so UTC
/// is `+00:00`, never `Z`.
pub type Timestamp = DateTime<FixedOffset>;

/// Serialises a [`Timestamp`] with a numeric offset (`+00:00`, not `Z`), for
/// `serialize_with` on types that are only written.
pub use timestamp::serialize as serialize_timestamp;

/// Reads a [`Timestamp`] from RFC 3339 text with chrono's
/// `DateTime::parse_from_rfc3339` (`T`, `t` or a space between date and
/// time, any number of fraction digits, `Z` or a numeric offset kept as sent).
pub fn parse_timestamp(text: &str) -> Option<Timestamp> {
    DateTime::parse_from_rfc3339(text).ok()
}

/// `#[serde(with = "timestamp")]`: a [`Timestamp`] written with a numeric
/// offset (`+00:00`, not `Z`) and read with [`parse_timestamp`];
/// `timestamp::option` does the same for an `Option<Timestamp>` (`null` when
/// absent).
pub mod timestamp {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::{Rfc3339, Timestamp};

    /// Writes a [`Timestamp`] as RFC 3339 with a numeric offset.
    pub fn serialize<S: Serializer>(
        timestamp: &Timestamp,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&timestamp.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false))
    }

    /// Reads a [`Timestamp`] from its text with [`super::parse_timestamp`].
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        Rfc3339::deserialize(deserializer).map(|text| text.0)
    }

    /// The same for an optional [`Timestamp`].
    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};

        use super::super::{Rfc3339, Timestamp};

        /// Writes an optional [`Timestamp`] like [`super::serialize`], or `null`.
        pub fn serialize<S: Serializer>(
            timestamp: &Option<Timestamp>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match timestamp {
                Some(timestamp) => super::serialize(timestamp, serializer),
                None => serializer.serialize_none(),
            }
        }

        /// Reads an optional [`Timestamp`] like [`super::deserialize`].
        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<Timestamp>, D::Error> {
            Option::<Rfc3339>::deserialize(deserializer).map(|text| text.map(|text| text.0))
        }
    }
}

/// A [`Timestamp`] read with [`parse_timestamp`].
struct Rfc3339(Timestamp);

impl<'de> Deserialize<'de> for Rfc3339 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = Rfc3339;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Rfc3339, E> {
                parse_timestamp(text)
                    .map(Rfc3339)
                    .ok_or_else(|| E::custom("invalid RFC 3339 timestamp"))
            }
        }
        deserializer.deserialize_str(Text)
    }
}

/// Why a response body could not be read as the expected payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// What was wrong and where, for logs (never shown to candidates).
    pub detail: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unexpected response from the booking service: {}",
            self.detail
        )
    }
}

impl std::error::Error for DecodeError {}

/// Reads a JSON response body as `T`. Malformed, hostile or deeply nested
/// bodies give a [`DecodeError`]; this never panics.
pub fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, DecodeError> {
    serde_json::from_slice(body).map_err(|error| DecodeError {
        detail: error.to_string(),
    })
}

/// Reads a list that may come as a bare JSON array or inside the pagination
/// envelope (`{"data": [...]}`): whether `GET /courses` and `GET /locations`
/// are paginated is not documented.
pub fn decode_list<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<Vec<T>, DecodeError> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum List<T> {
        Bare(Vec<T>),
        Envelope { data: Vec<T> },
    }
    decode::<List<T>>(body).map(|list| match list {
        List::Bare(items) | List::Envelope { data: items } => items,
    })
}

/// Decodes a field that has a default, treating `null` like a missing field.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Decodes 422 `errors`: each field maps to a list of messages, or (as some
/// servers send) to a single message; `null` means no field errors.
fn field_messages<'de, D>(deserializer: D) -> Result<BTreeMap<String, Vec<String>>, D::Error>
where
    D: Deserializer<'de>,
{
    let raw: Option<BTreeMap<String, Messages>> = Option::deserialize(deserializer)?;
    Ok(raw
        .unwrap_or_default()
        .into_iter()
        .map(|(field, Messages(messages))| (field, messages))
        .collect())
}

/// One field's 422 messages: a list of strings, or a single string. Read by
/// a visitor rather than an untagged enum, which would buffer the value (and
/// bring serde's buffering code into the widget's WebAssembly).
struct Messages(Vec<String>);

impl<'de> Deserialize<'de> for Messages {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OneOrMany;
        impl<'de> serde::de::Visitor<'de> for OneOrMany {
            type Value = Messages;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a message or a list of messages")
            }

            fn visit_str<E: serde::de::Error>(self, message: &str) -> Result<Messages, E> {
                Ok(Messages(vec![message.to_owned()]))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Messages, A::Error> {
                let mut messages = Vec::new();
                while let Some(message) = seq.next_element::<String>()? {
                    messages.push(message);
                }
                Ok(Messages(messages))
            }
        }
        deserializer.deserialize_any(OneOrMany)
    }
}

/// An amount of money in whole pence (GBP), sent on the wire as a JSON number
/// of pounds (`95`, `412.5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(pub i64);

impl Money {
    /// The amount in whole pence.
    pub fn pence(self) -> i64 {
        self.0
    }

    /// Builds an amount from pounds, rounding to the nearest penny.
    /// Returns `None` for values that are not finite or out of range.
    pub fn from_pounds(pounds: f64) -> Option<Money> {
        let pence = (pounds * 100.0).round();
        if pence.is_finite() && pence.abs() < 1e15 {
            Some(Money(pence as i64))
        } else {
            None
        }
    }

    /// The amount in pounds, as sent on the wire.
    pub fn pounds(self) -> f64 {
        self.0 as f64 / 100.0
    }
}

impl fmt::Display for Money {
    /// Formats as `£95` for whole pounds and `£412.50` otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        if abs.is_multiple_of(100) {
            write!(f, "{sign}£{}", abs / 100)
        } else {
            write!(f, "{sign}£{}.{:02}", abs / 100, abs % 100)
        }
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.unsigned_abs().is_multiple_of(100) {
            serializer.serialize_i64(self.0 / 100)
        } else {
            serializer.serialize_f64(self.pounds())
        }
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let pounds = f64::deserialize(deserializer)?;
        Money::from_pounds(pounds)
            .ok_or_else(|| serde::de::Error::custom("money amount out of range"))
    }
}

/// Declares a string enum whose unknown values decode to `Other(String)`.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $wire:literal,)+ }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this version does not know, kept as sent.
            Other(String),
        }

        impl $name {
            /// The value as it appears on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)+
                    $name::Other(value) => value,
                }
            }

            /// Parses a wire value; unknown values become `Other`.
            pub fn parse(value: &str) -> Self {
                match value {
                    $($wire => $name::$variant,)+
                    other => $name::Other(other.to_owned()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = String::deserialize(deserializer)?;
                Ok($name::parse(&value))
            }
        }
    };
}

/// How a booking is paid for (`pay_option`), on either product.
///
/// The options are listed once, in [`PayOption::KNOWN`], and named on each
/// product's wire by [`PayOption::wire_name`]: an invoice to the agency is
/// `inv` on Practical Training and `invoice` on Virtual BLS. Serde,
/// `Display`, [`PayOption::as_str`] and [`PayOption::parse`] use the names of
/// the widget contract, which are Practical Training's: the widget API, host
/// events and the Practical Training wire types. A Virtual BLS wire type
/// writes and reads its own names with `#[serde(with = "pay_option")]`
/// (`api::bls`). A name that is not a known option's on its wire decodes to
/// [`PayOption::Other`] instead of failing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PayOption {
    /// One booking credit of the course.
    Credits,
    /// The cost from the account's money balance.
    Balance,
    /// An invoice to the agency; needs invoice payments enabled.
    Inv,
    /// The candidate pays on a checkout page: Stripe's for Practical
    /// Training, PayPal's for Virtual BLS; pending until paid.
    CandidatePays,
    /// A name no known option has on the wire it came from, kept as sent.
    Other(String),
}

impl PayOption {
    /// The options both APIs document, in the order the widget offers them.
    pub const KNOWN: [PayOption; 4] = [
        PayOption::Credits,
        PayOption::Balance,
        PayOption::Inv,
        PayOption::CandidatePays,
    ];

    /// The option's name on a product's API; [`PayOption::Other`] keeps the
    /// name it was read with.
    pub fn wire_name(&self, product: Product) -> &str {
        match (self, product) {
            (PayOption::Credits, _) => "credits",
            (PayOption::Balance, _) => "balance",
            (PayOption::Inv, Product::Practical) => "inv",
            (PayOption::Inv, Product::VirtualBls) => "invoice",
            (PayOption::CandidatePays, _) => "candidate_pays",
            (PayOption::Other(name), _) => name,
        }
    }

    /// The option a name on a product's API stands for: the known option
    /// with that [`PayOption::wire_name`], else [`PayOption::Other`].
    pub fn from_wire_name(product: Product, name: &str) -> PayOption {
        PayOption::KNOWN
            .into_iter()
            .find(|option| option.wire_name(product) == name)
            .unwrap_or_else(|| PayOption::Other(name.to_owned()))
    }

    /// The option's name in the widget contract (Practical Training's).
    pub fn as_str(&self) -> &str {
        self.wire_name(Product::Practical)
    }

    /// The option a widget contract name stands for (Practical Training's
    /// names); unknown names become [`PayOption::Other`].
    pub fn parse(name: &str) -> PayOption {
        PayOption::from_wire_name(Product::Practical, name)
    }

    /// Writes the option with its name on a product's API.
    pub fn serialize_for<S: Serializer>(
        &self,
        product: Product,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.wire_name(product))
    }

    /// Reads an option from its name on a product's API.
    pub fn deserialize_for<'de, D: Deserializer<'de>>(
        product: Product,
        deserializer: D,
    ) -> Result<PayOption, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(PayOption::from_wire_name(product, &name))
    }
}

impl fmt::Display for PayOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for PayOption {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.serialize_for(Product::Practical, serializer)
    }
}

impl<'de> Deserialize<'de> for PayOption {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        PayOption::deserialize_for(Product::Practical, deserializer)
    }
}

open_enum! {
    /// Where a booking stands (`booking_status`). Only `booked` is documented;
    /// the rest are Inferred.
    pub enum BookingStatus {
        /// Confirmed seat.
        Booked => "booked",
        /// Awaiting payment or admin review.
        Pending => "pending",
        /// Cancelled; the seat was returned.
        Cancelled => "cancelled",
        /// The candidate did not attend.
        NoShow => "no_show",
        /// The candidate completed the training.
        Completed => "completed",
    }
}

open_enum! {
    /// Whether a booking has been paid (`pay_status`). Only `completed` is
    /// documented; the rest are Inferred.
    pub enum PayStatus {
        /// Paid (or nothing to pay).
        Completed => "completed",
        /// Waiting for the candidate's card payment.
        Pending => "pending",
        /// Money or credit returned after a cancellation.
        Refunded => "refunded",
    }
}

open_enum! {
    /// Attendance recorded after the event (`attendance`). Inferred values.
    pub enum Attendance {
        /// The candidate attended.
        Attended => "attended",
        /// The candidate did not attend.
        NoShow => "no_show",
    }
}

open_enum! {
    /// Direction of a wallet transaction. Inferred.
    pub enum TransactionType {
        /// Money or credits added to the wallet.
        Credit => "credit",
        /// Money or credits taken from the wallet.
        Debit => "debit",
    }
}

/// A course as embedded in events and bookings (`CourseRef`): both fields
/// documented.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CourseRef {
    /// Course id.
    pub id: u64,
    /// Course name, e.g. "Moving & Handling Practical".
    pub name: String,
}

impl Answer for CourseRef {
    const SHAPE: Kind = Kind::Object(&[
        Field::documented("id", Kind::Integer),
        Field::documented("name", Kind::Text),
    ]);
}

/// A full course from `GET /courses`: `id` and `name` as every embedded
/// course shows them (the list's own fields are not documented); the rest
/// Inferred.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Course {
    /// Course id.
    pub id: u64,
    /// Course name.
    pub name: String,
    /// A one-paragraph description. Inferred.
    #[serde(default)]
    pub description: Option<String>,
    /// Length of one training event in minutes. Inferred.
    #[serde(default)]
    pub duration_minutes: Option<u32>,
    /// Price for this account, VAT included. Inferred.
    #[serde(default)]
    pub cost_inc_vat: Option<Money>,
    /// Bookings on this course wait for admin review. Inferred.
    #[serde(default, deserialize_with = "null_as_default")]
    pub requires_review: bool,
}

impl Answer for Course {
    const SHAPE: Kind = Kind::Object(&[
        Field::documented("id", Kind::Integer),
        Field::documented("name", Kind::Text),
        Field::inferred("description", Kind::Text).optional(),
        Field::inferred("duration_minutes", Kind::Integer),
        Field::inferred("cost_inc_vat", Kind::Number),
        Field::inferred("requires_review", Kind::Flag),
    ]);
}

/// A training venue (`Location`), as events and bookings embed it and
/// `GET /locations` lists it: every field documented.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    /// Location id.
    pub id: u64,
    /// Short town or venue label, e.g. "Leeds".
    pub name: String,
    /// Venue line, e.g. "Unit 4, Aire Street, Leeds" (empty when not sent).
    #[serde(default, deserialize_with = "null_as_default")]
    pub address: String,
}

impl Answer for Location {
    const SHAPE: Kind = Kind::Object(&[
        Field::documented("id", Kind::Integer),
        Field::documented("name", Kind::Text),
        Field::documented("address", Kind::Text),
    ]);
}

/// A trainer as embedded in bookings (documented) and event details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trainer {
    /// Trainer id.
    pub id: u64,
    /// Trainer's name.
    pub name: String,
}

impl Answer for Trainer {
    const SHAPE: Kind = Kind::Object(&[
        Field::documented("id", Kind::Integer),
        Field::documented("name", Kind::Text),
    ]);
}

/// A scheduled training event with seats (`TrainingEvent`): every field
/// documented (the list's example).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingEvent {
    /// Event id.
    pub id: u64,
    /// The course taught.
    pub course: CourseRef,
    /// Where it takes place.
    pub location: Location,
    /// Start, with the venue's UK offset (`+00:00` GMT or `+01:00` BST).
    #[serde(with = "timestamp")]
    pub start_date: Timestamp,
    /// End, with the venue's UK offset.
    #[serde(with = "timestamp")]
    pub end_date: Timestamp,
    /// Seats left: capacity minus bookings (holds do not count).
    pub remaining_slots: u32,
    /// Price for this account, VAT included.
    pub cost_inc_vat: Money,
    /// The account's public booking page for this event.
    #[serde(default, deserialize_with = "null_as_default")]
    pub booking_url: String,
    /// The gateway's, never the upstream's: another candidate of the agency
    /// holds this event under an upstream seen to allow the account one
    /// hold per event (or one in all), so no seat of it can be held now;
    /// seconds until that hold lapses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busy_for_seconds: Option<u32>,
}

/// The documented fields of a training event, and `$extra` after them.
macro_rules! training_event_shape {
    ($($extra:expr),*) => {
        Kind::Object(&[
            Field::documented("id", Kind::Integer),
            Field::documented("course", CourseRef::SHAPE),
            Field::documented("location", Location::SHAPE),
            Field::documented("start_date", Kind::Text),
            Field::documented("end_date", Kind::Text),
            Field::documented("remaining_slots", Kind::Integer),
            Field::documented("cost_inc_vat", Kind::Number),
            Field::documented("booking_url", Kind::Text),
            $($extra),*
        ])
    };
}

impl Answer for TrainingEvent {
    const SHAPE: Kind = training_event_shape!();
}

impl TrainingEvent {
    /// Whether every seat is booked.
    pub fn is_full(&self) -> bool {
        self.remaining_slots == 0
    }
}

/// `GET /training-events/{id}`: a superset of [`TrainingEvent`]. The extras are
/// Inferred.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingEventDetail {
    /// The event as listed.
    #[serde(flatten)]
    pub event: TrainingEvent,
    /// Total seats. Inferred.
    #[serde(default)]
    pub capacity: Option<u32>,
    /// Who teaches it. Inferred.
    #[serde(default)]
    pub trainer: Option<Trainer>,
}

impl Answer for TrainingEventDetail {
    const SHAPE: Kind = training_event_shape!(
        Field::inferred("capacity", Kind::Integer),
        Field::inferred("trainer", Trainer::SHAPE).optional()
    );
}

/// The event as summarised in a hold response: course and location are plain
/// names here, not objects. Every field documented.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldEvent {
    /// Event id.
    pub id: u64,
    /// Course name.
    pub course: String,
    /// Location name.
    pub location: String,
    /// Start, venue-local offset.
    #[serde(with = "timestamp")]
    pub start_date: Timestamp,
}

impl Answer for HeldEvent {
    const SHAPE: Kind = Kind::Object(&[
        Field::documented("id", Kind::Integer),
        Field::documented("course", Kind::Text),
        Field::documented("location", Kind::Text),
        Field::documented("start_date", Kind::Text),
    ]);
}

/// `POST /training-events/{id}/hold` response (`SlotHoldResponse`): every
/// field documented.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeatHold {
    /// Opaque 32-character hold id, sent back when booking.
    pub hold_hash: String,
    /// When the hold lapses (UTC).
    #[serde(with = "timestamp")]
    pub expires_at: Timestamp,
    /// Seconds left when the response was made (1800 for a new hold).
    pub expires_in_seconds: i64,
    /// The held event.
    pub training_event: HeldEvent,
}

impl Answer for SeatHold {
    const SHAPE: Kind = Kind::Object(&[
        Field::documented("hold_hash", Kind::Text),
        Field::documented("expires_at", Kind::Text),
        Field::documented("expires_in_seconds", Kind::Integer),
        Field::documented("training_event", HeldEvent::SHAPE),
    ]);
}

/// The most seconds a hold is taken to have left: a day (a new hold has
/// 1800). An upstream answer saying more is read as saying this.
pub const MAX_HOLD_SECONDS: i64 = 24 * 60 * 60;

/// Seconds a hold has left, as an upstream answer (a granted hold or a 409)
/// says them, clamped into `0..=MAX_HOLD_SECONDS`: a countdown, and any
/// date reckoned from it, starts from a sane number whatever was sent.
pub fn hold_seconds(seconds: i64) -> i64 {
    seconds.clamp(0, MAX_HOLD_SECONDS)
}

/// 409 body when an active hold already exists: a message plus the existing
/// hold's details. The field layout (flat) is Inferred, and so is their
/// presence: a detail that is not known is left out, not `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoldConflict {
    /// Human-readable reason.
    #[serde(default, deserialize_with = "null_as_default")]
    pub message: String,
    /// The existing hold's id; absent when it belongs to someone else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_hash: Option<String>,
    /// When the existing hold lapses.
    #[serde(
        default,
        with = "timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires_at: Option<Timestamp>,
    /// Seconds until the existing hold lapses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_seconds: Option<i64>,
    /// The held event, when disclosed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_event: Option<HeldEvent>,
}

/// The fields of a hold's 409 (either product's, the held place named
/// `$place`): all Inferred.
macro_rules! hold_conflict_shape {
    ($place:literal, $shape:expr) => {
        Kind::Object(&[
            Field::inferred("message", Kind::Text),
            Field::inferred("hold_hash", Kind::Text).optional(),
            Field::inferred("expires_at", Kind::Text).optional(),
            Field::inferred("expires_in_seconds", Kind::Integer).optional(),
            Field::inferred($place, $shape).optional(),
        ])
    };
}

impl Answer for HoldConflict {
    const SHAPE: Kind = hold_conflict_shape!("training_event", HeldEvent::SHAPE);
}

/// What the project sends the upstream beyond its published documents, each
/// with the reason. Both are extensions the sandbox implements and the real
/// API may ignore; the gateway stays correct when it does (the sandbox's
/// upstream profiles `idempotency=ignored` and `return_url=ignored`).
pub const UPSTREAM_EXTENSIONS: [(&str, &str); 2] = [
    (
        "return_url",
        "a field of the POST /bookings body: where the checkout page sends a candidate who has paid",
    ),
    (
        "Idempotency-Key",
        "a header of POST /bookings: a retried request replays its booking instead of booking again",
    ),
];

/// `POST /bookings` body (`CreateBookingRequest`). Which fields are required
/// is Inferred: hold, names, email and pay option.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateBookingRequest {
    /// The live hold to turn into a booking.
    pub hold_hash: String,
    /// Candidate's given name.
    pub first_name: String,
    /// Candidate's family name.
    pub last_name: String,
    /// Candidate's email.
    pub email: String,
    /// Candidate's phone, international form (`+447700900123`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Candidate's job role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_role: Option<String>,
    /// How the seat is paid for.
    pub pay_option: PayOption,
    /// Person at the agency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency_contact_name: Option<String>,
    /// That person's email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency_contact_email: Option<String>,
    /// Agency mailbox, e.g. for invoices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency_email: Option<String>,
}

/// The candidate as shown in a booking: every field documented.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Full name.
    pub name: String,
    /// Email.
    pub email: String,
    /// Phone, if given.
    #[serde(default)]
    pub phone: Option<String>,
    /// Job role, if given.
    #[serde(default)]
    pub job_role: Option<String>,
}

impl Answer for Candidate {
    const SHAPE: Kind = Kind::Object(&[
        Field::documented("name", Kind::Text),
        Field::documented("email", Kind::Text),
        Field::documented("phone", Kind::Text).optional(),
        Field::documented("job_role", Kind::Text).optional(),
    ]);
}

/// A booking (`BookingDetail`): every field documented (the create
/// example, and `payment_url` in its text). The booking path depends on
/// `id` (the candidate's reference) and, to find the booking a lost answer
/// made, on `candidate.email`, `course`, `location.name`, `start_date`,
/// `pay_option` and `created_at`; the others are read tolerantly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingDetail {
    /// Booking id, the candidate's reference.
    pub id: u64,
    /// Who is booked.
    pub candidate: Candidate,
    /// The course.
    pub course: CourseRef,
    /// The venue.
    pub location: Location,
    /// The trainer, when assigned.
    #[serde(default)]
    pub trainer: Option<Trainer>,
    /// Start, venue-local offset.
    #[serde(with = "timestamp")]
    pub start_date: Timestamp,
    /// End, venue-local offset.
    #[serde(with = "timestamp")]
    pub end_date: Timestamp,
    /// Where the booking stands.
    pub booking_status: BookingStatus,
    /// Whether it is paid.
    pub pay_status: PayStatus,
    /// How it is paid.
    pub pay_option: PayOption,
    /// Who made it, e.g. "Agency".
    #[serde(default, deserialize_with = "null_as_default")]
    pub booked_by: String,
    /// Attendance, `null` before the event.
    #[serde(default)]
    pub attendance: Option<Attendance>,
    /// Whether a completion certificate can be downloaded.
    #[serde(default, deserialize_with = "null_as_default")]
    pub certificate_available: bool,
    /// When it was made (UTC).
    #[serde(with = "timestamp")]
    pub created_at: Timestamp,
    /// Stripe Checkout link, for `candidate_pays` only. Position Inferred.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_url: Option<String>,
}

impl Answer for BookingDetail {
    const SHAPE: Kind = Kind::Object(&[
        Field::documented("id", Kind::Integer),
        Field::documented("candidate", Candidate::SHAPE),
        Field::documented("course", CourseRef::SHAPE),
        Field::documented("location", Location::SHAPE),
        Field::documented("trainer", Trainer::SHAPE).optional(),
        Field::documented("start_date", Kind::Text),
        Field::documented("end_date", Kind::Text),
        Field::documented("booking_status", Kind::Text),
        Field::documented("pay_status", Kind::Text),
        Field::documented("pay_option", Kind::Text),
        Field::documented("booked_by", Kind::Text),
        Field::documented("attendance", Kind::Text).nullable(),
        Field::documented("certificate_available", Kind::Flag),
        Field::documented("created_at", Kind::Text),
        Field::documented("payment_url", Kind::Text).optional(),
    ]);
}

impl BookingDetail {
    /// The booking's status as the confirmation lists it, e.g. "booked
    /// (payment completed)"; unknown statuses are shown as sent, with spaces
    /// for underscores.
    pub fn status_label(&self) -> String {
        status_label(&self.booking_status, &self.pay_status)
    }
}

/// A booking's status as a confirmation lists it, e.g. "booked (payment
/// completed)", either product's; unknown statuses are shown as sent, with
/// spaces for underscores.
pub fn status_label(booking_status: &BookingStatus, pay_status: &PayStatus) -> String {
    format!(
        "{} (payment {})",
        booking_status.as_str().replace('_', " "),
        pay_status.as_str().replace('_', " ")
    )
}

/// Credits held for one course: every field documented.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CourseCredit {
    /// The course.
    pub course_id: u64,
    /// Its name.
    pub course_name: String,
    /// Credits left.
    pub credits: u32,
}

/// `GET /credits` (`CreditsResponse`): every field documented (a schema
/// page).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditsResponse {
    /// Credits per course.
    pub booking_credits: Vec<CourseCredit>,
    /// Money balance in GBP.
    pub booking_money_balance: Money,
    /// Always "GBP".
    pub currency: String,
}

impl Answer for CreditsResponse {
    const SHAPE: Kind = Kind::Object(&[
        Field::documented(
            "booking_credits",
            Kind::List(&Kind::Object(&[
                Field::documented("course_id", Kind::Integer),
                Field::documented("course_name", Kind::Text),
                Field::documented("credits", Kind::Integer),
            ])),
        ),
        Field::documented("booking_money_balance", Kind::Number),
        Field::documented("currency", Kind::Text),
    ]);
}

impl CreditsResponse {
    /// Credits left for a course (0 when the course has no wallet).
    pub fn credits_for(&self, course_id: u64) -> u32 {
        self.booking_credits
            .iter()
            .filter(|credit| credit.course_id == course_id)
            .map(|credit| credit.credits)
            .sum()
    }
}

/// `GET /profile`: the account. Every field Inferred (the endpoint's answer
/// is not documented; the create-booking page names `invoice_payments` as
/// an account flag), so every one may be missing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientProfile {
    /// Account id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// Company name (empty when not sent).
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// Account email (empty when not sent).
    #[serde(default, deserialize_with = "null_as_default")]
    pub email: String,
    /// The client id used to sign in (empty when not sent).
    #[serde(default, deserialize_with = "null_as_default")]
    pub hb_client_id: String,
    /// Whether `pay_option: "inv"` may be used; `None` when not said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_payments: Option<bool>,
    /// The account's public booking page (empty when not sent).
    #[serde(default, deserialize_with = "null_as_default")]
    pub booking_url: String,
}

impl Answer for ClientProfile {
    const SHAPE: Kind = Kind::Object(&[
        Field::inferred("id", Kind::Integer),
        Field::inferred("name", Kind::Text),
        Field::inferred("email", Kind::Text),
        Field::inferred("hb_client_id", Kind::Text),
        Field::inferred("invoice_payments", Kind::Flag),
        Field::inferred("booking_url", Kind::Text),
    ]);
}

/// `GET /booking-url`. Inferred shape (the path is documented, its answer
/// is not).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingUrl {
    /// The account's public booking page.
    pub booking_url: String,
}

impl Answer for BookingUrl {
    const SHAPE: Kind = Kind::Object(&[Field::inferred("booking_url", Kind::Text)]);
}

/// One entry of `GET /transactions`. Inferred shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WalletTransaction {
    /// Transaction id.
    pub id: u64,
    /// Credit or debit.
    #[serde(rename = "type")]
    pub kind: TransactionType,
    /// Money moved, for balance transactions.
    #[serde(default)]
    pub amount: Option<Money>,
    /// Credits moved, for credit transactions.
    #[serde(default)]
    pub credits: Option<u32>,
    /// The course whose wallet moved.
    #[serde(default)]
    pub course_id: Option<u64>,
    /// The booking that caused it.
    #[serde(default)]
    pub booking_id: Option<u64>,
    /// What happened, for people.
    pub description: String,
    /// Money balance after this transaction.
    #[serde(default)]
    pub balance_after: Option<Money>,
    /// When (UTC).
    #[serde(with = "timestamp")]
    pub created_at: Timestamp,
}

impl Answer for WalletTransaction {
    const SHAPE: Kind = Kind::Object(&[
        Field::inferred("id", Kind::Integer),
        Field::inferred("type", Kind::Text),
        Field::inferred("amount", Kind::Number).optional(),
        Field::inferred("credits", Kind::Integer).optional(),
        Field::inferred("course_id", Kind::Integer).optional(),
        Field::inferred("booking_id", Kind::Integer).optional(),
        Field::inferred("description", Kind::Text),
        Field::inferred("balance_after", Kind::Number).optional(),
        Field::inferred("created_at", Kind::Text),
    ]);
}

/// `meta` of the pagination envelope: every field documented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageMeta {
    /// This page's number, from 1.
    pub current_page: u32,
    /// Items per page.
    pub per_page: u32,
    /// Number of the last page.
    pub last_page: u32,
    /// Items across all pages.
    pub total: u64,
}

/// `links` of the pagination envelope: absolute URLs or `null`
/// (documented).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PageLinks {
    /// The next page, if any.
    #[serde(default)]
    pub next: Option<String>,
    /// The previous page, if any.
    #[serde(default)]
    pub prev: Option<String>,
}

/// The pagination envelope every list endpoint uses (documented).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items of this page.
    pub data: Vec<T>,
    /// Page numbers and totals.
    pub meta: PageMeta,
    /// Links to neighbouring pages.
    #[serde(default, deserialize_with = "null_as_default")]
    pub links: PageLinks,
}

impl<T: Answer> Answer for Page<T> {
    const SHAPE: Kind = Kind::Object(&[
        Field::documented("data", Kind::List(&T::SHAPE)),
        Field::documented(
            "meta",
            Kind::Object(&[
                Field::documented("current_page", Kind::Integer),
                Field::documented("per_page", Kind::Integer),
                Field::documented("last_page", Kind::Integer),
                Field::documented("total", Kind::Integer),
            ]),
        ),
        Field::documented(
            "links",
            Kind::Object(&[
                Field::documented("next", Kind::Text).nullable(),
                Field::documented("prev", Kind::Text).nullable(),
            ]),
        ),
    ]);
}

/// A generic error body (`{ "message": ... }`). Inferred Laravel style (no
/// error body is documented).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    /// Human-readable reason.
    #[serde(default, deserialize_with = "null_as_default")]
    pub message: String,
    /// The gateway's id of the request that failed, for the candidate to
    /// quote (`widget_api::REQUEST_ID_HEADER`); no upstream sends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl Answer for ApiError {
    const SHAPE: Kind = Kind::Object(&[Field::inferred("message", Kind::Text)]);
}

/// A 422 body: a message plus messages per field. Inferred Laravel style.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ValidationError {
    /// Summary, usually the first field error.
    #[serde(default, deserialize_with = "null_as_default")]
    pub message: String,
    /// Messages per field name (a single string per field is accepted too).
    #[serde(default, deserialize_with = "field_messages")]
    pub errors: BTreeMap<String, Vec<String>>,
}

impl Answer for ValidationError {
    const SHAPE: Kind = Kind::Object(&[
        Field::inferred("message", Kind::Text),
        Field::inferred("errors", Kind::Map),
    ]);
}

/// `POST /auth/token` body. Inferred field names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenRequest {
    /// The account's client id, e.g. "HB-00417".
    pub hb_client_id: String,
    /// An active API key.
    pub api_key: String,
}

/// `POST /auth/refresh` body. Inferred.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefreshRequest {
    /// The refresh token from the last token pair.
    pub refresh_token: String,
}

/// `POST /auth/token` and `/auth/refresh` response. The pair (an access
/// token and a refresh token) and the lifetimes (1 hour, 7 days) are
/// documented, no field of the answer is: the two tokens' names are
/// Inferred but required (nothing can be called without the access token),
/// the rest Inferred and optional, their lifetimes the documented ones when
/// not sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenPair {
    /// Bearer token for API calls.
    pub access_token: String,
    /// Token to get a new pair without credentials.
    pub refresh_token: String,
    /// "Bearer" (empty when not sent). Inferred.
    #[serde(default, deserialize_with = "null_as_default")]
    pub token_type: String,
    /// Access token lifetime in seconds (3600). Inferred.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<i64>,
    /// Refresh token lifetime in seconds (604800). Inferred.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_expires_in: Option<i64>,
}

impl Answer for TokenPair {
    const SHAPE: Kind = Kind::Object(&[
        Field::documented("access_token", Kind::Text),
        Field::documented("refresh_token", Kind::Text),
        Field::inferred("token_type", Kind::Text),
        Field::inferred("expires_in", Kind::Integer),
        Field::inferred("refresh_expires_in", Kind::Integer),
    ]);
}

/// The longest lifetime a token is taken to have: thirty days (a refresh
/// token is documented to live seven). A longer one is read as this.
pub const MAX_TOKEN_SECONDS: u64 = 30 * 24 * 60 * 60;

/// An access token's documented lifetime: an hour.
pub const ACCESS_TOKEN_SECONDS: i64 = 60 * 60;

/// A refresh token's documented lifetime: seven days.
pub const REFRESH_TOKEN_SECONDS: i64 = 7 * 24 * 60 * 60;

impl TokenPair {
    /// The access token's lifetime in seconds as sent (the documented hour
    /// when not), clamped into `0..=MAX_TOKEN_SECONDS`.
    pub fn access_seconds(&self) -> u64 {
        token_seconds(self.expires_in.unwrap_or(ACCESS_TOKEN_SECONDS))
    }

    /// The refresh token's lifetime in seconds as sent (the documented seven
    /// days when not), clamped into `0..=MAX_TOKEN_SECONDS`.
    pub fn refresh_seconds(&self) -> u64 {
        token_seconds(self.refresh_expires_in.unwrap_or(REFRESH_TOKEN_SECONDS))
    }
}

/// A token lifetime as sent, clamped into `0..=MAX_TOKEN_SECONDS`.
fn token_seconds(seconds: i64) -> u64 {
    u64::try_from(seconds).map_or(0, |seconds| seconds.min(MAX_TOKEN_SECONDS))
}

/// `GET /auth/token-info` response. Inferred.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenInfo {
    /// The account's client id.
    pub hb_client_id: String,
    /// "access".
    pub token_type: String,
    /// What the token may do.
    #[serde(default, deserialize_with = "null_as_default")]
    pub scopes: Vec<String>,
    /// When it lapses (UTC).
    #[serde(with = "timestamp")]
    pub expires_at: Timestamp,
    /// Seconds until it lapses.
    pub expires_in: i64,
}

impl Answer for TokenInfo {
    const SHAPE: Kind = Kind::Object(&[
        Field::inferred("hb_client_id", Kind::Text),
        Field::inferred("token_type", Kind::Text),
        Field::inferred("scopes", Kind::List(&Kind::Text)),
        Field::inferred("expires_at", Kind::Text),
        Field::inferred("expires_in", Kind::Integer),
    ]);
}

/// Wire types of the Virtual BLS API (as published; base
/// `https://bls.hbcompliance.co.uk/api/v1`): timeslots generated
/// from trainers' capacity instead of training events, a kit posted to the
/// candidate, a Zoom session instead of a venue. Auth, pagination, errors,
/// credits, transactions, courses and the booking URL use the Practical
/// Training types above. Items marked "Inferred" are guesses where §10 is
/// silent.
pub mod bls {
    use serde::{Deserialize, Serialize};

    use super::{
        null_as_default, timestamp, CourseRef, Money, PayOption, PayStatus, Timestamp, Trainer,
    };
    use super::{Answer, Field, Kind};
    use super::{BookingStatus, Deserializer, Serializer};
    use std::fmt;

    /// `#[serde(with = "pay_option")]`: a [`PayOption`] in Virtual BLS's
    /// names, which say `invoice` where Practical Training says `inv`.
    mod pay_option {
        use super::super::PayOption;
        use super::{Deserializer, Serializer};
        use crate::product::Product;

        /// Writes the option's Virtual BLS name.
        pub fn serialize<S: Serializer>(
            option: &PayOption,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            option.serialize_for(Product::VirtualBls, serializer)
        }

        /// Reads an option from its Virtual BLS name.
        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<PayOption, D::Error> {
            PayOption::deserialize_for(Product::VirtualBls, deserializer)
        }
    }

    open_enum! {
        /// Whether the Zoom session has taken place (`training_status`).
        /// The name and `completed` are documented; the other values Inferred.
        pub enum TrainingStatus {
            /// Booked, not yet held.
            Scheduled => "scheduled",
            /// The candidate completed the session.
            Completed => "completed",
            /// The candidate did not attend.
            NoShow => "no_show",
        }
    }

    open_enum! {
        /// Where the posted kit is (`equipment_status`). The name and `in`
        /// are documented; the other values Inferred.
        pub enum EquipmentStatus {
            /// Not yet posted to the candidate.
            Pending => "pending",
            /// Posted, with the candidate.
            Out => "out",
            /// Received back.
            In => "in",
            /// Not returned in time after the session ("Equipment return
            /// overdue"). Inferred.
            Overdue => "overdue",
        }
    }

    /// One bookable timeslot of `GET /timeslots`. The endpoint's response is
    /// not documented: its `date`, `time` and `course` are the documented
    /// hold's (the request names a timeslot by them, the hold's `slot`
    /// block answers with them) and are required, since a timeslot is held
    /// by them; start and end with the UK offset, the number of trainers
    /// free and the price are Inferred, and may be missing.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Timeslot {
        /// UK date, `YYYY-MM-DD`.
        pub date: String,
        /// UK wall-clock start, `HH:MM`.
        pub time: String,
        /// The course.
        pub course: CourseRef,
        /// Start, UK offset in force. Inferred: see [`Timeslot::start`].
        #[serde(
            default,
            with = "timestamp::option",
            skip_serializing_if = "Option::is_none"
        )]
        pub start_date: Option<Timestamp>,
        /// End, UK offset in force. Inferred.
        #[serde(
            default,
            with = "timestamp::option",
            skip_serializing_if = "Option::is_none"
        )]
        pub end_date: Option<Timestamp>,
        /// Trainers free for it (at least 1). Inferred: see
        /// [`Timeslot::is_free`].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub remaining_slots: Option<u32>,
        /// Price for this account, VAT included. Inferred.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub cost_inc_vat: Option<Money>,
    }

    impl Answer for Timeslot {
        const SHAPE: Kind = Kind::Object(&[
            Field::documented("date", Kind::Text),
            Field::documented("time", Kind::Text),
            Field::documented("course", CourseRef::SHAPE),
            Field::inferred("start_date", Kind::Text),
            Field::inferred("end_date", Kind::Text),
            Field::inferred("remaining_slots", Kind::Integer),
            Field::inferred("cost_inc_vat", Kind::Number),
        ]);
    }

    impl Timeslot {
        /// When it starts: `start_date` when sent, else its `date` and
        /// `time` read as UK wall-clock time (as a hold names the slot);
        /// `None` when neither can be read.
        pub fn start(&self) -> Option<Timestamp> {
            self.start_date
                .or_else(|| crate::uk_time::uk_wall_clock(&self.date, &self.time))
        }

        /// Whether a trainer is free for it: `remaining_slots` above 0, or
        /// not said (the list offers bookable timeslots).
        pub fn is_free(&self) -> bool {
            self.remaining_slots != Some(0)
        }
    }

    /// `POST /timeslots/hold` body.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct TimeslotHoldRequest {
        /// The course.
        pub course_id: u64,
        /// UK date, `YYYY-MM-DD`.
        pub date: String,
        /// UK wall-clock start, `HH:MM`.
        pub time: String,
    }

    /// The slot summarised in a hold response: `course` is an object here.
    /// Every field documented.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct HeldSlot {
        /// UK date, `YYYY-MM-DD`.
        pub date: String,
        /// UK wall-clock start, `HH:MM`.
        pub time: String,
        /// The course.
        pub course: CourseRef,
    }

    impl Answer for HeldSlot {
        const SHAPE: Kind = Kind::Object(&[
            Field::documented("date", Kind::Text),
            Field::documented("time", Kind::Text),
            Field::documented("course", CourseRef::SHAPE),
        ]);
    }

    /// `POST /timeslots/hold` response (`TimeslotHoldResponse`): every
    /// field documented.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct TimeslotHold {
        /// Opaque 32-character hold id, sent back when booking.
        pub hold_hash: String,
        /// When the hold lapses (UTC).
        #[serde(with = "timestamp")]
        pub expires_at: Timestamp,
        /// Seconds left (1800 for a new hold).
        pub expires_in_seconds: i64,
        /// The held slot.
        pub slot: HeldSlot,
    }

    impl Answer for TimeslotHold {
        const SHAPE: Kind = Kind::Object(&[
            Field::documented("hold_hash", Kind::Text),
            Field::documented("expires_at", Kind::Text),
            Field::documented("expires_in_seconds", Kind::Integer),
            Field::documented("slot", HeldSlot::SHAPE),
        ]);
    }

    /// 409 body for a second hold: "returned with the existing hold's
    /// details" is documented; the flat layout is Inferred, as for
    /// Practical Training. Details not disclosed are left out.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct TimeslotHoldConflict {
        /// Human-readable reason.
        #[serde(default, deserialize_with = "null_as_default")]
        pub message: String,
        /// The existing hold's id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub hold_hash: Option<String>,
        /// When the existing hold lapses.
        #[serde(
            default,
            with = "timestamp::option",
            skip_serializing_if = "Option::is_none"
        )]
        pub expires_at: Option<Timestamp>,
        /// Seconds until it lapses.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub expires_in_seconds: Option<i64>,
        /// The held slot.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub slot: Option<HeldSlot>,
    }

    impl Answer for TimeslotHoldConflict {
        const SHAPE: Kind = hold_conflict_shape!("slot", HeldSlot::SHAPE);
    }

    /// `POST /bookings` body: Practical Training's fields plus where the kit
    /// is posted; no `job_role` or `agency_email` in the documented example.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct CreateVirtualBookingRequest {
        /// The live hold to turn into a booking.
        pub hold_hash: String,
        /// Candidate's given name.
        pub first_name: String,
        /// Candidate's family name.
        pub last_name: String,
        /// Candidate's email.
        pub email: String,
        /// Candidate's phone, international form.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub phone: Option<String>,
        /// How it is paid for, in Virtual BLS's names.
        #[serde(with = "pay_option")]
        pub pay_option: PayOption,
        /// Person at the agency.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub agency_contact_name: Option<String>,
        /// That person's email.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub agency_contact_email: Option<String>,
        /// Kit delivery: street address.
        pub address: String,
        /// Kit delivery: town or city.
        pub city: String,
        /// Kit delivery: UK postcode.
        pub postcode: String,
    }

    /// The candidate in a Virtual BLS booking (no `job_role`): every field
    /// documented.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct VirtualCandidate {
        /// Full name.
        pub name: String,
        /// Email.
        pub email: String,
        /// Phone, if given.
        #[serde(default)]
        pub phone: Option<String>,
    }

    impl Answer for VirtualCandidate {
        const SHAPE: Kind = Kind::Object(&[
            Field::documented("name", Kind::Text),
            Field::documented("email", Kind::Text),
            Field::documented("phone", Kind::Text).optional(),
        ]);
    }

    /// The Zoom session of a booking (the `virtual` block): every field
    /// documented.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct VirtualSession {
        /// Meeting id as people type it, e.g. "845 112 9034".
        pub zoom_id: String,
        /// Join link.
        pub zoom_link: String,
        /// Meeting password.
        pub zoom_password: String,
    }

    impl Answer for VirtualSession {
        const SHAPE: Kind = Kind::Object(&[
            Field::documented("zoom_id", Kind::Text),
            Field::documented("zoom_link", Kind::Text),
            Field::documented("zoom_password", Kind::Text),
        ]);
    }

    /// A Virtual BLS booking: no `location`, no `attendance`, a `virtual`
    /// block. Every field of the create example is documented.
    /// `training_status` and `equipment_status` are named as the
    /// certificate's conditions but shown in no answer, and the PayPal
    /// `payment_url` in none either: all three are Inferred and may be
    /// missing.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct VirtualBooking {
        /// Booking id.
        pub id: u64,
        /// Who is booked.
        pub candidate: VirtualCandidate,
        /// The course.
        pub course: CourseRef,
        /// The trainer running the session.
        #[serde(default)]
        pub trainer: Option<Trainer>,
        /// Start, UK offset in force.
        #[serde(with = "timestamp")]
        pub start_date: Timestamp,
        /// End, UK offset in force.
        #[serde(with = "timestamp")]
        pub end_date: Timestamp,
        /// Where the booking stands.
        pub booking_status: BookingStatus,
        /// Whether it is paid.
        pub pay_status: PayStatus,
        /// How it is paid, in Virtual BLS's names.
        #[serde(with = "pay_option")]
        pub pay_option: PayOption,
        /// Who made it, e.g. "Agency".
        #[serde(default, deserialize_with = "null_as_default")]
        pub booked_by: String,
        /// The Zoom session.
        #[serde(rename = "virtual")]
        pub session: VirtualSession,
        /// Whether the session has taken place. Inferred.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub training_status: Option<TrainingStatus>,
        /// Where the kit is. Inferred.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub equipment_status: Option<EquipmentStatus>,
        /// Whether the certificate can be downloaded: training completed
        /// and kit back in.
        #[serde(default, deserialize_with = "null_as_default")]
        pub certificate_available: bool,
        /// When it was made (UTC).
        #[serde(with = "timestamp")]
        pub created_at: Timestamp,
        /// PayPal link, for `candidate_pays` while unpaid. Inferred.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub payment_url: Option<String>,
    }

    impl Answer for VirtualBooking {
        const SHAPE: Kind = Kind::Object(&[
            Field::documented("id", Kind::Integer),
            Field::documented("candidate", VirtualCandidate::SHAPE),
            Field::documented("course", CourseRef::SHAPE),
            Field::documented("trainer", Trainer::SHAPE).optional(),
            Field::documented("start_date", Kind::Text),
            Field::documented("end_date", Kind::Text),
            Field::documented("booking_status", Kind::Text),
            Field::documented("pay_status", Kind::Text),
            Field::documented("pay_option", Kind::Text),
            Field::documented("booked_by", Kind::Text),
            Field::documented("virtual", VirtualSession::SHAPE),
            Field::documented("certificate_available", Kind::Flag),
            Field::documented("created_at", Kind::Text),
            Field::inferred("training_status", Kind::Text),
            Field::inferred("equipment_status", Kind::Text),
            Field::inferred("payment_url", Kind::Text).optional(),
        ]);
    }
}

#[cfg(test)]
mod tests {
    use super::{decode, ValidationError};

    #[test]
    fn field_errors_are_a_message_or_a_list_of_messages() {
        let by_serde_json = |text: &str| {
            decode::<ValidationError>(text.as_bytes())
                .map(|error| error.errors)
                .ok()
        };
        let by_widget = |text: &str| {
            crate::json::from_str::<ValidationError>(text)
                .map(|error| error.errors)
                .ok()
        };
        for read in [by_serde_json, by_widget] {
            let one = read(r#"{"errors":{"email":"Bad."}}"#).unwrap();
            assert_eq!(one["email"], ["Bad."]);
            let many = read(r#"{"errors":{"email":["Bad.","Worse."]}}"#).unwrap();
            assert_eq!(many["email"], ["Bad.", "Worse."]);
            assert!(read(r#"{"errors":null}"#).unwrap().is_empty());
            for refused in [
                r#"{"errors":{"email":3}}"#,
                r#"{"errors":{"email":[3]}}"#,
                r#"{"errors":{"email":null}}"#,
                r#"{"errors":{"email":{"message":"Bad."}}}"#,
            ] {
                assert_eq!(read(refused), None, "{refused}");
            }
        }
    }

    #[test]
    fn timestamps_are_read_as_rfc_3339_with_their_offset() {
        let summer = parse_timestamp("2026-08-04T09:30:00+01:00").unwrap();
        assert_eq!(summer.offset().local_minus_utc(), 3600);
        assert_eq!(summer.to_rfc3339(), "2026-08-04T09:30:00+01:00");
        let utc = parse_timestamp("2026-08-04T08:30:00Z").unwrap();
        assert_eq!(utc, summer, "the same instant");
        assert_eq!(utc.offset().local_minus_utc(), 0);
        let fine = parse_timestamp("2026-08-04t08:30:00.123456789Z").unwrap();
        assert_eq!(fine.timestamp_subsec_nanos(), 123_456_789);
        for refused in [
            "",
            "tomorrow",
            "2026-08-04",
            "2026-08-04T09:30",
            "2026-08-04T09:30:00",
            "2026-02-30T09:30:00Z",
            "2026-08-04T25:30:00Z",
            "2026-08-04T09:30:00+24:00",
            "2026-08-04T09:30:00.+01:00",
            "2026-08-04T09:30:00+01:00 and more",
        ] {
            assert_eq!(parse_timestamp(refused), None, "{refused:?}");
        }
    }

    use super::*;

    #[test]
    fn the_virtual_bls_examples_decode() {
        let hold: bls::TimeslotHold = decode(
            br#"{"hold_hash":"Hn4Rk8Wq2Zx6Lp0Tv5Ys9Bc3Dm7Fg1Ja","expires_at":"2026-08-28T11:05:00+00:00",
                "expires_in_seconds":1800,"slot":{"date":"2026-09-02","time":"14:00",
                "course":{"id":4,"name":"BLS Annual Update (Virtual)"}}}"#,
        )
        .unwrap();
        assert_eq!(hold.slot.time, "14:00");
        assert_eq!(hold.slot.course.id, 4);
        let booking: bls::VirtualBooking = decode(
            br#"{"id":7731,"candidate":{"name":"Owen Hughes","email":"owen.hughes@carestaff.example","phone":"+447700900456"},
                "course":{"id":4,"name":"BLS Annual Update (Virtual)"},"trainer":{"id":2,"name":"Dr Alana Reid"},
                "start_date":"2026-09-02T14:00:00+01:00","end_date":"2026-09-02T15:00:00+01:00",
                "booking_status":"booked","pay_status":"completed","pay_option":"credits","booked_by":"Agency",
                "virtual":{"zoom_id":"845 112 9034","zoom_link":"https://zoom.us/j/8451129034","zoom_password":"k7Tq2w"},
                "training_status":"scheduled","equipment_status":"out",
                "certificate_available":false,"created_at":"2026-08-28T10:41:12+00:00"}"#,
        )
        .unwrap();
        assert_eq!(booking.session.zoom_id, "845 112 9034");
        assert_eq!(booking.pay_option, PayOption::Credits);
        assert_eq!(
            PayOption::from_wire_name(Product::VirtualBls, "inv"),
            PayOption::Other("inv".into())
        );
        let written = serde_json::to_value(&booking).unwrap();
        assert_eq!(written["virtual"]["zoom_password"], "k7Tq2w");
        assert!(written.get("location").is_none());
    }

    #[test]
    fn each_product_writes_and_reads_its_own_pay_option_names() {
        let booking: bls::VirtualBooking = decode(
            br#"{"id":7731,"candidate":{"name":"Owen Hughes","email":"owen.hughes@carestaff.example"},
                "course":{"id":4,"name":"BLS Annual Update (Virtual)"},
                "start_date":"2026-09-02T14:00:00+01:00","end_date":"2026-09-02T15:00:00+01:00",
                "booking_status":"booked","pay_status":"completed","pay_option":"invoice","booked_by":"Agency",
                "virtual":{"zoom_id":"845 112 9034","zoom_link":"https://zoom.us/j/8451129034","zoom_password":"k7Tq2w"},
                "certificate_available":false,"created_at":"2026-08-28T10:41:12+00:00"}"#,
        )
        .unwrap();
        assert_eq!(booking.pay_option, PayOption::Inv);
        let written = serde_json::to_string(&booking).unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&written).unwrap()["pay_option"],
            "invoice"
        );
        let by_widget: bls::VirtualBooking = crate::json::from_str(&written).unwrap();
        assert_eq!(by_widget.pay_option, PayOption::Inv);
        let mut sent_inv = serde_json::from_str::<serde_json::Value>(&written).unwrap();
        sent_inv["pay_option"] = "inv".into();
        let unknown: bls::VirtualBooking = serde_json::from_value(sent_inv).unwrap();
        assert_eq!(unknown.pay_option, PayOption::Other("inv".into()));
        assert_eq!(serde_json::to_value(&unknown).unwrap()["pay_option"], "inv");

        assert_eq!(serde_json::to_value(PayOption::Inv).unwrap(), "inv");
        assert_eq!(
            serde_json::from_str::<PayOption>(r#""invoice""#).unwrap(),
            PayOption::Other("invoice".into())
        );
        assert_eq!(PayOption::Inv.to_string(), "inv");
    }

    #[test]
    fn training_event_decodes_the_reference_example() {
        let body = r#"{
          "data": [{
            "id": 41,
            "course":   { "id": 2, "name": "Moving & Handling Practical" },
            "location": { "id": 5, "name": "Leeds", "address": "Unit 4, Aire Street, Leeds" },
            "start_date": "2026-08-04T09:30:00+01:00",
            "end_date":   "2026-08-04T16:30:00+01:00",
            "remaining_slots": 5,
            "cost_inc_vat": 95,
            "booking_url": "https://tdta.hbcompliance.co.uk/practical-training/?sgi=NWCARE07"
          }],
          "meta":  { "current_page": 1, "per_page": 20, "last_page": 2, "total": 27 },
          "links": { "next": "https://tdta.hbcompliance.co.uk/api/v1/training-events?page=2", "prev": null }
        }"#;
        let page: Page<TrainingEvent> = serde_json::from_str(body).expect("decodes");
        let event = &page.data[0];
        assert_eq!(event.id, 41);
        assert_eq!(event.location.name, "Leeds");
        assert_eq!(event.cost_inc_vat, Money(9500));
        assert_eq!(event.start_date.offset().local_minus_utc(), 3600);
        assert_eq!(page.meta.total, 27);
        assert_eq!(page.links.prev, None);
    }

    #[test]
    fn unknown_enum_values_decode_to_other() {
        assert_eq!(
            serde_json::from_str::<BookingStatus>(r#""waitlisted""#).unwrap(),
            BookingStatus::Other("waitlisted".into())
        );
        assert_eq!(
            serde_json::from_str::<PayOption>(r#""inv""#).unwrap(),
            PayOption::Inv
        );
    }

    #[test]
    fn utc_timestamps_keep_a_numeric_offset() {
        let body = r#"{"hold_hash":"Q8vTz2LmPa9RkWc4NbXy7HdJf3GsEu6K","expires_at":"2026-07-20T14:45:00+00:00","expires_in_seconds":1800,"training_event":{"id":41,"course":"Moving & Handling Practical","location":"Leeds","start_date":"2026-08-04T09:30:00+01:00"}}"#;
        let hold: SeatHold = decode(body.as_bytes()).unwrap();
        assert_eq!(serde_json::to_string(&hold).unwrap(), body);
        let conflict = HoldConflict {
            message: String::new(),
            hold_hash: None,
            expires_at: Some(hold.expires_at),
            expires_in_seconds: None,
            training_event: None,
        };
        assert!(serde_json::to_string(&conflict)
            .unwrap()
            .contains(r#""expires_at":"2026-07-20T14:45:00+00:00""#));
    }

    #[test]
    fn lists_come_bare_or_in_the_envelope() {
        let bare: Vec<CourseRef> = decode_list(br#"[{"id":2,"name":"M&H"}]"#).unwrap();
        let paged: Vec<CourseRef> = decode_list(
            br#"{"data":[{"id":2,"name":"M&H"}],"meta":{"current_page":1,"per_page":20,"last_page":1,"total":1}}"#,
        )
        .unwrap();
        assert_eq!(bare, paged);
        assert_eq!(bare[0].id, 2);
        assert!(decode_list::<CourseRef>(br#"{"courses":[]}"#).is_err());
        assert!(decode_list::<CourseRef>(br#"[{"id":"2","name":"M&H"}]"#).is_err());
    }

    #[test]
    fn money_round_trips_as_pounds() {
        let money: Money = serde_json::from_str("412.5").unwrap();
        assert_eq!(money, Money(41250));
        assert_eq!(serde_json::to_string(&money).unwrap(), "412.5");
        assert_eq!(serde_json::to_string(&Money(9500)).unwrap(), "95");
        assert_eq!(money.to_string(), "£412.50");
        assert_eq!(Money(9500).to_string(), "£95");
    }

    #[test]
    fn absurd_hold_seconds_are_read_as_none_left_or_a_day() {
        assert_eq!(hold_seconds(1800), 1800);
        assert_eq!(hold_seconds(-1), 0);
        assert_eq!(hold_seconds(i64::MIN), 0);
        assert_eq!(hold_seconds(i64::MAX), MAX_HOLD_SECONDS);
        assert_eq!(hold_seconds(MAX_HOLD_SECONDS + 1), MAX_HOLD_SECONDS);
    }

    #[test]
    fn absurd_token_lifetimes_are_read_as_none_or_thirty_days() {
        let pair = |expires_in: Option<i64>, refresh_expires_in: Option<i64>| TokenPair {
            access_token: "a".into(),
            refresh_token: "r".into(),
            token_type: "Bearer".into(),
            expires_in,
            refresh_expires_in,
        };
        let sent = pair(Some(1800), Some(86_400));
        assert_eq!(sent.access_seconds(), 1800);
        assert_eq!(sent.refresh_seconds(), 86_400);
        let absurd = pair(Some(i64::MAX), Some(i64::MIN));
        assert_eq!(absurd.access_seconds(), MAX_TOKEN_SECONDS);
        assert_eq!(absurd.refresh_seconds(), 0);
        let unsaid = pair(None, None);
        assert_eq!(unsaid.access_seconds(), 3600, "the documented hour");
        assert_eq!(unsaid.refresh_seconds(), 604_800, "the documented week");
    }
}
