//! Virtual BLS bookings: create (with the kit's delivery address and the
//! four pay options `credits`, `balance`, `invoice`, `candidate_pays`),
//! list, get one, and the certificate.
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
//! * `Idempotency-Key` behaves as on Practical Training (replay, or 422 for
//!   another body; not read under `idempotency=ignored`).

use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use booking_core::api::bls::{
    EquipmentStatus, TrainingStatus, VirtualBooking, VirtualCandidate, VirtualSession,
};
use booking_core::api::{BookingStatus, CourseRef, Page, PayOption, PayStatus, Trainer};
use booking_core::product::Product;
use booking_core::uk_time::to_uk;
use booking_core::validation::normalise_uk_postcode;
use rand::Rng;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde_json::{Map, Value};

use super::super::auth::Authed;
use super::super::bookings::{
    book_once, read_agency_contact, read_candidate, read_return_url, BookingListQuery,
    RequestIdentity, BOOKING_NOT_FOUND,
};
use super::super::catalog::to_u64;
use super::super::certificate::{certificate_pdf, CertificateFields};
use super::super::clock::{from_unix, utc_fixed};
use super::super::db::random_token;
use super::super::errors::SandboxError;
use super::super::extract::{JsonObject, PathParam, QueryParams};
use super::super::holds::check_hold_live;
use super::super::pagination::{count_and_page, envelope};
use super::super::profile::UpstreamProfile;
use super::super::validate::Validator;
use super::super::wallet::{BookingRef, Charge, Priced};
use super::super::AppState;
use super::load_courses;

/// Longest kit delivery address line, in characters.
const ADDRESS_MAX_CHARS: usize = 255;
/// Longest town or city, in characters.
const CITY_MAX_CHARS: usize = 100;
/// Length of a Zoom meeting password.
const ZOOM_PASSWORD_LEN: usize = 6;

/// The booking columns [`VirtualRecord::from_row`] reads.
const SELECT: &str = "SELECT b.id, b.first_name, b.last_name, b.email, b.phone, b.course_id, \
     c.name, b.trainer_id, t.name, b.start_utc, b.end_utc, b.booking_status, b.pay_status, \
     b.pay_option, b.zoom_id, b.zoom_password, b.training_status, b.equipment_status, \
     b.created_utc, b.checkout_token, b.return_url, b.amount_pence";

/// Where the stand-in is served.
pub(crate) const CHECKOUT_PATH: &str = "/paypal/checkoutnow";

/// The link a pending booking carries.
pub(crate) fn payment_url(public_url: &str, token: &str, return_url: Option<&str>) -> String {
    let mut url = format!("{public_url}{CHECKOUT_PATH}?token={token}");
    if let Some(return_url) = return_url {
        let encoded: String = form_urlencoded::byte_serialize(return_url.as_bytes()).collect();
        url.push_str("&return_url=");
        url.push_str(&encoded);
    }
    url
}

/// Joins for booking queries.
const FROM: &str = "FROM bls_bookings b JOIN courses c ON c.id = b.course_id \
     JOIN bls_trainers t ON t.id = b.trainer_id";

/// A Virtual BLS booking as stored.
#[derive(Debug, Clone)]
pub(crate) struct VirtualRecord {
    /// Booking id.
    pub id: i64,
    /// Candidate's given name.
    pub first_name: String,
    /// Candidate's family name.
    pub last_name: String,
    /// Candidate's email.
    pub email: String,
    /// Candidate's phone.
    pub phone: Option<String>,
    /// The course.
    pub course: CourseRef,
    /// The trainer.
    pub trainer: Trainer,
    /// Start, Unix seconds.
    pub start_utc: i64,
    /// End, Unix seconds.
    pub end_utc: i64,
    /// `booking_status` as stored.
    pub booking_status: String,
    /// `pay_status` as stored.
    pub pay_status: String,
    /// `pay_option` as stored.
    pub pay_option: String,
    /// Zoom meeting id as written for people.
    pub zoom_id: String,
    /// Zoom password.
    pub zoom_password: String,
    /// `training_status` as stored.
    pub training_status: String,
    /// `equipment_status` as stored.
    pub equipment_status: String,
    /// Creation time, Unix seconds.
    pub created_utc: i64,
    /// The PayPal stand-in's token (`candidate_pays`).
    pub checkout_token: Option<String>,
    /// Where the stand-in sends the browser after paying.
    pub return_url: Option<String>,
    /// Money charged, invoiced or due.
    pub amount_pence: i64,
}

impl VirtualRecord {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<VirtualRecord> {
        Ok(VirtualRecord {
            id: row.get(0)?,
            first_name: row.get(1)?,
            last_name: row.get(2)?,
            email: row.get(3)?,
            phone: row.get(4)?,
            course: CourseRef {
                id: to_u64(row.get(5)?),
                name: row.get(6)?,
            },
            trainer: Trainer {
                id: to_u64(row.get(7)?),
                name: row.get(8)?,
            },
            start_utc: row.get(9)?,
            end_utc: row.get(10)?,
            booking_status: row.get(11)?,
            pay_status: row.get(12)?,
            pay_option: row.get(13)?,
            zoom_id: row.get(14)?,
            zoom_password: row.get(15)?,
            training_status: row.get(16)?,
            equipment_status: row.get(17)?,
            created_utc: row.get(18)?,
            checkout_token: row.get(19)?,
            return_url: row.get(20)?,
            amount_pence: row.get(21)?,
        })
    }

    /// The candidate's full name.
    pub(crate) fn candidate_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    /// Whether the certificate can be downloaded: the session completed and
    /// the kit received back.
    pub(crate) fn certificate_available(&self) -> bool {
        self.training_status == TrainingStatus::Completed.as_str()
            && self.equipment_status == EquipmentStatus::In.as_str()
    }

    /// Whether a `candidate_pays` booking still awaits payment.
    pub(crate) fn awaits_payment(&self) -> bool {
        self.pay_option == PayOption::CandidatePays.wire_name(Product::VirtualBls)
            && self.pay_status == PayStatus::Pending.as_str()
            && self.booking_status != BookingStatus::Cancelled.as_str()
    }

    /// The wire view.
    pub(crate) fn to_wire(&self, public_url: &str) -> VirtualBooking {
        let digits: String = self.zoom_id.chars().filter(char::is_ascii_digit).collect();
        VirtualBooking {
            id: to_u64(self.id),
            candidate: VirtualCandidate {
                name: self.candidate_name(),
                email: self.email.clone(),
                phone: self.phone.clone(),
            },
            course: self.course.clone(),
            trainer: Some(self.trainer.clone()),
            start_date: to_uk(from_unix(self.start_utc)),
            end_date: to_uk(from_unix(self.end_utc)),
            booking_status: BookingStatus::parse(&self.booking_status),
            pay_status: PayStatus::parse(&self.pay_status),
            pay_option: PayOption::from_wire_name(Product::VirtualBls, &self.pay_option),
            booked_by: "Agency".to_owned(),
            session: VirtualSession {
                zoom_id: self.zoom_id.clone(),
                zoom_link: format!("https://zoom.us/j/{digits}"),
                zoom_password: self.zoom_password.clone(),
            },
            training_status: Some(TrainingStatus::parse(&self.training_status)),
            equipment_status: Some(EquipmentStatus::parse(&self.equipment_status)),
            certificate_available: self.certificate_available(),
            created_at: utc_fixed(from_unix(self.created_utc)),
            payment_url: self
                .checkout_token
                .as_deref()
                .filter(|_| self.awaits_payment())
                .map(|token| payment_url(public_url, token, self.return_url.as_deref())),
        }
    }
}

/// One booking by id, limited to `account_id` when given.
pub(crate) fn load_virtual(
    conn: &Connection,
    account_id: Option<i64>,
    id: i64,
) -> rusqlite::Result<Option<VirtualRecord>> {
    conn.prepare_cached(&format!(
        "{SELECT} {FROM} WHERE b.id = ?1 AND (?2 IS NULL OR b.account_id = ?2)"
    ))?
    .query_row(params![id, account_id], VirtualRecord::from_row)
    .optional()
}

/// One booking by its PayPal stand-in token, whatever the account.
pub(crate) fn load_virtual_by_token(
    conn: &Connection,
    token: &str,
) -> rusqlite::Result<Option<VirtualRecord>> {
    conn.prepare_cached(&format!("{SELECT} {FROM} WHERE b.checkout_token = ?1"))?
        .query_row([token], VirtualRecord::from_row)
        .optional()
}

/// A validated `POST /bookings` body.
#[derive(Debug)]
struct VirtualInput {
    hold_hash: String,
    first_name: String,
    last_name: String,
    email: String,
    phone: Option<String>,
    pay_option: PayOption,
    agency_contact_name: Option<String>,
    agency_contact_email: Option<String>,
    address: String,
    city: String,
    postcode: String,
    return_url: Option<String>,
}

/// Validates the body field by field, collecting every error: Practical
/// Training's candidate and agency fields (no `job_role` or `agency_email`
/// is read), the BLS pay options, and where the kit is posted, the postcode
/// checked and written as `booking_core::validation` does.
fn validate(
    body: &Map<String, Value>,
    profile: &UpstreamProfile,
) -> Result<VirtualInput, SandboxError> {
    let mut v = Validator::default();
    let candidate = read_candidate(&mut v, body);
    let pay_option = v
        .string(body, "pay_option", true, 32)
        .map(|value| PayOption::from_wire_name(Product::VirtualBls, &value));
    if let Some(PayOption::Other(_)) = pay_option {
        v.add("pay_option", "The selected pay option is invalid.");
    }
    let (agency_contact_name, agency_contact_email) = read_agency_contact(&mut v, body);
    let address = v.string(body, "address", true, ADDRESS_MAX_CHARS);
    let city = v.string(body, "city", true, CITY_MAX_CHARS);
    let postcode = v.string(body, "postcode", true, 32).and_then(|typed| {
        let postcode = normalise_uk_postcode(&typed);
        if postcode.is_none() {
            v.add(
                "postcode",
                "The postcode field must be a valid UK postcode.",
            );
        }
        postcode
    });
    let return_url = read_return_url(&mut v, body, profile);
    v.finish()?;
    match (
        candidate.hold_hash,
        candidate.first_name,
        candidate.last_name,
        candidate.email,
        pay_option,
        address,
        city,
        postcode,
    ) {
        (
            Some(hold_hash),
            Some(first_name),
            Some(last_name),
            Some(email),
            Some(pay_option),
            Some(address),
            Some(city),
            Some(postcode),
        ) => Ok(VirtualInput {
            hold_hash,
            first_name,
            last_name,
            email,
            phone: candidate.phone,
            pay_option,
            agency_contact_name,
            agency_contact_email,
            address,
            city,
            postcode,
            return_url,
        }),
        _ => Err(SandboxError::Internal("validated fields missing".into())),
    }
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
    check_hold_live(used, released, expires, now, "Hold a timeslot again.")?;
    if hold.start_utc <= now {
        return Err(SandboxError::invalid(
            "hold_hash",
            "This timeslot has already started.",
        ));
    }
    Ok(hold)
}

/// Books a live hold inside the caller's transaction; returns the id.
fn book(
    conn: &Connection,
    account_id: i64,
    input: &VirtualInput,
    now: i64,
) -> Result<i64, SandboxError> {
    let hold = live_hold(conn, account_id, &input.hold_hash, now)?;
    let course = load_courses(conn, Some(hold.course_id))?
        .into_iter()
        .next()
        .ok_or_else(|| SandboxError::invalid("hold_hash", "This course is no longer offered."))?;
    let item = Priced {
        course_id: course.id,
        course_name: &course.name,
        cost_pence: course.cost_pence,
        noun: "timeslot",
    };
    let charge = Charge::check(conn, account_id, &item, &input.pay_option)?;
    let booking_status = if charge.status == PayStatus::Pending {
        BookingStatus::Pending
    } else {
        BookingStatus::Booked
    };
    let return_url = input
        .return_url
        .as_ref()
        .filter(|_| charge.option == PayOption::CandidatePays);
    let (zoom_id, zoom_password) = zoom_meeting();
    conn.prepare_cached(
        "INSERT INTO bls_bookings (account_id, course_id, trainer_id, hold_id, local_date, \
         start_utc, end_utc, busy_from_utc, busy_to_utc, first_name, last_name, email, phone, \
         agency_contact_name, agency_contact_email, address, city, postcode, pay_option, \
         booking_status, pay_status, amount_pence, checkout_token, return_url, zoom_id, \
         zoom_password, training_status, equipment_status, created_utc) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
         ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, 'scheduled', 'pending', ?27)",
    )?
    .execute(params![
        account_id,
        course.id,
        hold.trainer_id,
        hold.id,
        hold.local_date,
        hold.start_utc,
        hold.end_utc,
        hold.busy_from_utc,
        hold.busy_to_utc,
        input.first_name,
        input.last_name,
        input.email,
        input.phone,
        input.agency_contact_name,
        input.agency_contact_email,
        input.address,
        input.city,
        input.postcode,
        input.pay_option.wire_name(Product::VirtualBls),
        booking_status.as_str(),
        charge.status.as_str(),
        charge.amount_pence,
        charge.checkout_token,
        return_url,
        zoom_id,
        zoom_password,
        now
    ])?;
    let booking_id = conn.last_insert_rowid();
    conn.prepare_cached("UPDATE bls_holds SET used_utc = ?1 WHERE id = ?2")?
        .execute(params![now, hold.id])?;
    let description = format!(
        "Booking #{booking_id}: {}, online, {}",
        course.name,
        to_uk(from_unix(hold.start_utc)).format("%-d %b %Y %H:%M")
    );
    charge.take(
        conn,
        account_id,
        BookingRef::Virtual(booking_id),
        &description,
        now,
    )?;
    Ok(booking_id)
}

/// `POST /bookings`: turns a live timeslot hold into a booking.
pub(crate) async fn create(
    State(state): State<AppState>,
    authed: Authed,
    headers: HeaderMap,
    JsonObject(body): JsonObject,
) -> Result<Response, SandboxError> {
    let profile = state.profile.get();
    let input = validate(&body, &profile)?;
    let request = RequestIdentity::of(&headers, body, &profile)?;
    let now = state.clock.now_secs();
    let account_id = authed.account_id;
    let created = state
        .db
        .call(move |conn| {
            book_once(
                conn,
                "bls_idempotency_keys",
                account_id,
                &request,
                now,
                |tx| book(tx, account_id, &input, now),
                load_virtual,
            )
        })
        .await?;
    Ok(created.into_response(|booking| booking.to_wire(&state.public_url)))
}

/// `GET /bookings`: the account's Virtual BLS bookings, newest first;
/// filters `status`, `course_id`, `date_from`, `date_to` (UK date of the
/// session).
pub(crate) async fn list(
    State(state): State<AppState>,
    authed: Authed,
    query: QueryParams,
) -> Result<Json<Page<VirtualBooking>>, SandboxError> {
    let (filters, request) = BookingListQuery::read(&query, state.profile.get().max_per_page)?
        .filters(authed.account_id, "b.course_id", "b.local_date");
    let (total, rows) = state
        .db
        .call(move |conn| {
            Ok(count_and_page(
                conn,
                SELECT,
                FROM,
                filters,
                "b.id DESC",
                request,
                VirtualRecord::from_row,
            )?)
        })
        .await?;
    let data = rows
        .iter()
        .map(|booking| booking.to_wire(&state.public_url))
        .collect();
    Ok(Json(envelope(
        &state,
        "/bookings",
        &query,
        request,
        total,
        data,
    )))
}

/// `GET /bookings/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    authed: Authed,
    id: PathParam,
) -> Result<Json<VirtualBooking>, SandboxError> {
    let id = id.id(BOOKING_NOT_FOUND)?;
    let booking = state
        .db
        .call(move |conn| Ok(load_virtual(conn, Some(authed.account_id), id)?))
        .await?
        .ok_or(SandboxError::NotFound(BOOKING_NOT_FOUND))?;
    Ok(Json(booking.to_wire(&state.public_url)))
}

/// `GET /bookings/{id}/certificate`: the PDF, once the session is completed
/// and the kit is back in.
pub(crate) async fn certificate(
    State(state): State<AppState>,
    authed: Authed,
    id: PathParam,
) -> Result<Response, SandboxError> {
    let id = id.id(BOOKING_NOT_FOUND)?;
    let booking = state
        .db
        .call(move |conn| Ok(load_virtual(conn, Some(authed.account_id), id)?))
        .await?
        .ok_or(SandboxError::NotFound(BOOKING_NOT_FOUND))?;
    if !booking.certificate_available() {
        let reason = if booking.training_status != TrainingStatus::Completed.as_str() {
            "No certificate is available until the training is completed."
        } else {
            "No certificate is available until the training kit has been returned."
        };
        return Err(SandboxError::invalid("booking", reason));
    }
    let pdf = certificate_pdf(&CertificateFields {
        booking_id: booking.id,
        candidate_name: booking.candidate_name(),
        course_name: booking.course.name.clone(),
        location: "Online (Zoom)".to_owned(),
        date: to_uk(from_unix(booking.start_utc))
            .format("%A %-d %B %Y")
            .to_string(),
    });
    let disposition = format!("attachment; filename=\"certificate-{}.pdf\"", booking.id);
    let mut response = pdf.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
