//! Virtual BLS bookings: the record (with the Zoom session, the training
//! and kit statuses) and how one is made, with the kit's delivery address
//! and the four pay options `credits`, `balance`, `invoice`,
//! `candidate_pays`. The endpoints both products answer alike are
//! `booking_api`'s, over [`VirtualRecord`].
//!
//! Invariants:
//! * A booking needs a live timeslot hold of the same account; it keeps the
//!   hold's trainer and buffered span, uses the hold up, and the payment,
//!   the booking and the hold's use are one `BEGIN IMMEDIATE` transaction.
//! * Accounting is the Practical Training wallet's (`wallet`): a credit of
//!   the course or the course cost, each a wallet transaction; `invoice`
//!   needs invoice payments; `candidate_pays` is `pending` with a
//!   `payment_url` to the PayPal stand-in until paid.
//! * Every answer carries the `virtual` block (Zoom) and no location; the
//!   certificate exists only when `training_status = completed` and
//!   `equipment_status = in`.
//! * A booking made writes `booking.created` in its transaction.
//! * `Idempotency-Key` behaves as on Practical Training (replay, or 422 for
//!   another body; not read under `idempotency=ignored`).

use booking_core::api::bls::{
    EquipmentStatus, TrainingStatus, VirtualBooking, VirtualCandidate, VirtualSession,
};
use booking_core::api::{CourseRef, Trainer};
use booking_core::product::Product;
use booking_core::uk_time::to_uk;
use booking_core::validation::normalise_uk_postcode;
use rand::Rng;
use rusqlite::types::ToSql;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde_json::{Map, Value};

use super::super::booking_api::{
    emit_booking, Booker, NewBooking, ProductBooking, StoredBooking, BOOKED_BY, STORED_COLUMN_COUNT,
};
use super::super::booking_form::{validated_fields_missing, BookingForm, CandidateInput};
use super::super::catalog::to_u64;
use super::super::clock::from_unix;
use super::super::db::random_token;
use super::super::deliveries::event;
use super::super::errors::SandboxError;
use super::super::holds::TIMESLOT_HOLDS;
use super::super::profile::UpstreamProfile;
use super::super::wallet::{BookingRef, Charge, Priced};
use super::schedule::load_courses;

/// Longest kit delivery address line, in characters.
const ADDRESS_MAX_CHARS: usize = 255;
/// Longest town or city, in characters.
const CITY_MAX_CHARS: usize = 100;
/// Length of a Zoom meeting password.
const ZOOM_PASSWORD_LEN: usize = 6;

/// A booking's own columns, after the stored ones.
const OWN_COLUMNS: &str = "b.course_id, c.name, b.trainer_id, t.name, b.start_utc, b.end_utc, \
     b.zoom_id, b.zoom_password, b.training_status, b.equipment_status";

/// Where the PayPal stand-in is served.
pub(crate) const CHECKOUT_PATH: &str = "/paypal/checkoutnow";

/// Joins for booking queries.
const FROM: &str = "FROM bls_bookings b JOIN courses c ON c.id = b.course_id \
     JOIN bls_trainers t ON t.id = b.trainer_id";

/// A Virtual BLS booking as stored.
#[derive(Debug, Clone)]
pub(crate) struct VirtualRecord {
    /// The columns every booking stores.
    pub stored: StoredBooking,
    /// The course.
    pub course: CourseRef,
    /// The trainer.
    pub trainer: Trainer,
    /// Start, Unix seconds.
    pub start_utc: i64,
    /// End, Unix seconds.
    pub end_utc: i64,
    /// Zoom meeting id as written for people.
    pub zoom_id: String,
    /// Zoom password.
    pub zoom_password: String,
    /// Whether the session has taken place.
    pub training_status: TrainingStatus,
    /// Where the training kit is.
    pub equipment_status: EquipmentStatus,
}

/// A validated `POST /bookings` body.
#[derive(Debug)]
pub(crate) struct VirtualInput {
    /// What both products' bodies carry.
    candidate: CandidateInput,
    /// Where the kit is posted.
    address: String,
    /// Its town or city.
    city: String,
    /// Its postcode, as `booking_core::validation` writes it.
    postcode: String,
}

impl VirtualRecord {
    /// Whether the certificate can be downloaded: the session completed and
    /// the kit received back.
    pub(crate) fn certificate_available(&self) -> bool {
        self.training_status == TrainingStatus::Completed
            && self.equipment_status == EquipmentStatus::In
    }
}

impl ProductBooking for VirtualRecord {
    type Wire = VirtualBooking;
    type Input = VirtualInput;
    const PRODUCT: Product = Product::VirtualBls;
    const TABLE: &'static str = "bls_bookings";
    const FROM: &'static str = FROM;

    fn own_columns() -> String {
        OWN_COLUMNS.to_owned()
    }

    const TRAINING_TABLE: &'static str = "b";

    fn from_row(row: &Row<'_>) -> rusqlite::Result<VirtualRecord> {
        let own = STORED_COLUMN_COUNT;
        Ok(VirtualRecord {
            stored: StoredBooking::from_row(row)?,
            course: CourseRef {
                id: to_u64(row.get(own)?),
                name: row.get(own + 1)?,
            },
            trainer: Trainer {
                id: to_u64(row.get(own + 2)?),
                name: row.get(own + 3)?,
            },
            start_utc: row.get(own + 4)?,
            end_utc: row.get(own + 5)?,
            zoom_id: row.get(own + 6)?,
            zoom_password: row.get(own + 7)?,
            training_status: TrainingStatus::parse(&row.get::<_, String>(own + 8)?),
            equipment_status: EquipmentStatus::parse(&row.get::<_, String>(own + 9)?),
        })
    }

    fn stored(&self) -> &StoredBooking {
        &self.stored
    }

    fn to_wire(&self, public_url: &str) -> VirtualBooking {
        let stored = &self.stored;
        let digits: String = self.zoom_id.chars().filter(char::is_ascii_digit).collect();
        VirtualBooking {
            id: to_u64(stored.id),
            candidate: VirtualCandidate {
                name: stored.candidate_name(),
                email: stored.email.clone(),
                phone: stored.phone.clone(),
            },
            course: self.course.clone(),
            trainer: Some(self.trainer.clone()),
            start_date: to_uk(from_unix(self.start_utc)),
            end_date: to_uk(from_unix(self.end_utc)),
            booking_status: stored.booking_status(),
            pay_status: stored.pay_status(),
            pay_option: self.pay_method(),
            booked_by: BOOKED_BY.to_owned(),
            session: VirtualSession {
                zoom_id: self.zoom_id.clone(),
                zoom_link: format!("https://zoom.us/j/{digits}"),
                zoom_password: self.zoom_password.clone(),
            },
            training_status: Some(self.training_status.clone()),
            equipment_status: Some(self.equipment_status.clone()),
            certificate_available: self.certificate_available(),
            created_at: stored.created_at(),
            payment_url: self.payment_url(public_url),
        }
    }

    fn checkout_link(token: &str) -> String {
        format!("{CHECKOUT_PATH}?token={token}")
    }

    fn course_id(&self) -> i64 {
        i64::try_from(self.course.id).unwrap_or(0)
    }

    fn course_name(&self) -> &str {
        &self.course.name
    }

    fn describe(&self) -> String {
        describe(self.stored.id, &self.course.name, self.start_utc)
    }

    fn start_utc(&self) -> i64 {
        self.start_utc
    }

    fn place(&self) -> String {
        "Online (Zoom)".to_owned()
    }

    fn check_certificate(&self) -> Result<(), SandboxError> {
        if self.certificate_available() {
            return Ok(());
        }
        let reason = if self.training_status != TrainingStatus::Completed {
            "No certificate is available until the training is completed."
        } else {
            "No certificate is available until the training kit has been returned."
        };
        Err(SandboxError::invalid("booking", reason))
    }

    /// The shared fields (no `job_role` or `agency_email` is read), and
    /// where the kit is posted, the postcode checked and written as
    /// `booking_core::validation` does.
    fn validate(
        body: &Map<String, Value>,
        profile: &UpstreamProfile,
    ) -> Result<VirtualInput, SandboxError> {
        let mut form = BookingForm::read_candidate(body);
        form.read_pay_option(Product::VirtualBls);
        form.read_agency_contact();
        let address = form.v.string(body, "address", true, ADDRESS_MAX_CHARS);
        let city = form.v.string(body, "city", true, CITY_MAX_CHARS);
        let postcode = form.v.string(body, "postcode", true, 32).and_then(|typed| {
            let postcode = normalise_uk_postcode(&typed);
            if postcode.is_none() {
                form.v.add(
                    "postcode",
                    "The postcode field must be a valid UK postcode.",
                );
            }
            postcode
        });
        form.read_return_url(profile);
        let candidate = form.finish()?;
        let (Some(address), Some(city), Some(postcode)) = (address, city, postcode) else {
            return Err(validated_fields_missing());
        };
        Ok(VirtualInput {
            candidate,
            address,
            city,
            postcode,
        })
    }

    const KEYS_TABLE: &'static str = "bls_idempotency_keys";

    /// Books a live hold: the hold's trainer and span, the kit's address
    /// and a Zoom meeting; writes `booking.created`.
    fn book(conn: &Connection, booker: &Booker, input: &VirtualInput) -> Result<i64, SandboxError> {
        let (account_id, now) = (booker.account_id, booker.now);
        let hold = live_hold(conn, account_id, &input.candidate.hold_hash, now)?;
        let course = load_courses(conn, Some(hold.course_id))?
            .into_iter()
            .next()
            .ok_or_else(|| {
                SandboxError::invalid("hold_hash", "This course is no longer offered.")
            })?;
        let item = Priced {
            course_id: course.id,
            course_name: &course.name,
            cost_pence: course.cost_pence,
            noun: "timeslot",
        };
        let charge = Charge::check(conn, account_id, &item, input.candidate.pay_method.clone())?;
        let (zoom_id, zoom_password) = zoom_meeting();
        let new = NewBooking {
            candidate: &input.candidate,
            charge: &charge,
            awaits_review: false,
        };
        let own: [(&str, &dyn ToSql); 15] = [
            ("course_id", &course.id),
            ("trainer_id", &hold.trainer_id),
            ("hold_id", &hold.id),
            ("local_date", &hold.local_date),
            ("start_utc", &hold.start_utc),
            ("end_utc", &hold.end_utc),
            ("busy_from_utc", &hold.busy_from_utc),
            ("busy_to_utc", &hold.busy_to_utc),
            ("address", &input.address),
            ("city", &input.city),
            ("postcode", &input.postcode),
            ("zoom_id", &zoom_id),
            ("zoom_password", &zoom_password),
            ("training_status", &TrainingStatus::Scheduled.as_str()),
            ("equipment_status", &EquipmentStatus::Pending.as_str()),
        ];
        let booking_id = new.insert(conn, Self::TABLE, booker, &own)?;
        TIMESLOT_HOLDS.mark_used(conn, hold.id, now)?;
        charge.take(
            conn,
            account_id,
            BookingRef::Virtual(booking_id),
            &describe(booking_id, &course.name, hold.start_utc),
            now,
        )?;
        emit_booking::<Self>(
            conn,
            event::BOOKING_CREATED,
            booking_id,
            booker.public_url,
            now,
        )?;
        Ok(booking_id)
    }
}

/// A booking as wallet transactions describe it: "Booking #7001: BLS
/// Annual Update (Virtual), online, 8 Dec 2026 09:00" (UK time).
fn describe(booking_id: i64, course_name: &str, start_utc: i64) -> String {
    format!(
        "Booking #{booking_id}: {course_name}, online, {}",
        to_uk(from_unix(start_utc)).format("%-d %b %Y %H:%M")
    )
}

/// A Zoom meeting for one booking: an 11-digit id written "845 1129 0341"
/// style (3, 4, 4) and a six-character password.
fn zoom_meeting() -> (String, String) {
    let mut rng = rand::rng();
    let mut id = String::with_capacity(13);
    for index in 0..11 {
        if index == 3 || index == 7 {
            id.push(' ');
        }
        let low = if index == 0 { 1 } else { 0 };
        id.push(char::from(b'0' + rng.random_range(low..10_u8)));
    }
    (id, random_token(ZOOM_PASSWORD_LEN))
}

/// A live hold of the account, as booking needs it.
struct HeldTimeslot {
    id: i64,
    course_id: i64,
    trainer_id: i64,
    local_date: String,
    start_utc: i64,
    end_utc: i64,
    busy_from_utc: i64,
    busy_to_utc: i64,
}

/// The account's hold with this hash, if it is still live and its
/// session has not started.
fn live_hold(
    conn: &Connection,
    account_id: i64,
    hold_hash: &str,
    now: i64,
) -> Result<HeldTimeslot, SandboxError> {
    let found = conn
        .prepare_cached(
            "SELECT id, course_id, trainer_id, local_date, start_utc, end_utc, busy_from_utc, \
             busy_to_utc, expires_utc, released_utc, used_utc FROM bls_holds \
             WHERE hold_hash = ?1 AND account_id = ?2",
        )?
        .query_row(params![hold_hash, account_id], |row| {
            Ok((
                HeldTimeslot {
                    id: row.get(0)?,
                    course_id: row.get(1)?,
                    trainer_id: row.get(2)?,
                    local_date: row.get(3)?,
                    start_utc: row.get(4)?,
                    end_utc: row.get(5)?,
                    busy_from_utc: row.get(6)?,
                    busy_to_utc: row.get(7)?,
                },
                row.get::<_, i64>(8)?,
                row.get::<_, Option<i64>>(9)?,
                row.get::<_, Option<i64>>(10)?,
            ))
        })
        .optional()?;
    let (hold, expires, released, used) = found
        .ok_or_else(|| SandboxError::invalid("hold_hash", "The selected hold hash is invalid."))?;
    TIMESLOT_HOLDS.check_live(used, released, expires, now)?;
    if hold.start_utc <= now {
        return Err(SandboxError::invalid(
            "hold_hash",
            "This timeslot has already started.",
        ));
    }
    Ok(hold)
}
