//! What is held and what is booked, for either product: the place a hold is
//! on, the chosen event or timeslot, granted and live holds, bookings and
//! their summaries.

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use crate::api::bls::{Timeslot, VirtualBooking};
use crate::api::{
    BookingDetail, BookingStatus, CourseRef, Money, PayOption, PayStatus, Timestamp, TrainingEvent,
};
use crate::countdown::HoldCountdown;
use crate::product::Product;
use crate::widget_api::{HeldSeat, HeldTimeslot};

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
    pub(super) fn course_id(&self) -> u64 {
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
    pub(super) fn is_full(&self) -> bool {
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

    /// When its training starts and ends.
    pub fn times(&self) -> (Timestamp, Timestamp) {
        either_booking!(self, booking => (booking.start_date, booking.end_date))
    }

    /// Whether its certificate can be downloaded.
    pub fn certificate_available(&self) -> bool {
        either_booking!(self, booking => booking.certificate_available)
    }

    /// Where it stands.
    pub fn booking_status(&self) -> &BookingStatus {
        either_booking!(self, booking => &booking.booking_status)
    }

    /// Whether it is paid.
    pub fn pay_status(&self) -> &PayStatus {
        either_booking!(self, booking => &booking.pay_status)
    }

    /// How it is paid.
    pub fn pay_option(&self) -> &PayOption {
        either_booking!(self, booking => &booking.pay_option)
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
