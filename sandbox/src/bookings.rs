//! Bookings: creation with the four pay options, listing, no-shows, a single
//! booking, cancellation and the completion certificate.
//!
//! Invariants:
//! * Creating a booking needs a live hold of the same account; it uses the
//!   hold up, and the seat check, the payment and the booking are one
//!   `BEGIN IMMEDIATE` transaction, so a seat or a credit is never spent twice.
//! * Accounting: `credits` takes one credit of the course, `balance` takes the
//!   event's cost; each writes a wallet transaction with the balance after it.
//!   `inv` raises an invoice (no wallet movement), `candidate_pays` leaves the
//!   booking pending until the checkout page is paid. Cancelling returns the
//!   credit or the money (another wallet transaction), voids the invoice and
//!   frees the seat.
//! * A course that requires review makes every booking `pending` until it is
//!   approved (`booked` once paid) or refused (cancelled and refunded).
//! * An `Idempotency-Key` replays the booking it created for the same body,
//!   and refuses (422) a different body; under `idempotency=ignored` the
//!   header is not read at all.

use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use booking_core::api::{
    Attendance, BookingDetail, BookingStatus, Candidate, Page, PayOption, PayStatus,
};
use booking_core::product::Product;
use booking_core::uk_time::to_uk;
use booking_core::validation::{
    is_international_phone, JOB_ROLE_MAX_CHARS, NAME_MAX_CHARS, PHONE_MAX_CHARS,
};
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde_json::{Map, Value};

use super::auth::Authed;
use super::catalog::{load_event, to_u64, EventRow, EVENT_COLUMNS};
use super::certificate::{certificate_pdf, CertificateFields};
use super::clock::{from_unix, utc_fixed};
use super::db::{random_token, sha256_hex, write_tx, BOOKED_SEATS};
use super::deliveries::{emit, event, Audience, SEATS_LOW_MARK};
use super::errors::SandboxError;
use super::extract::{IgnoredBody, JsonObject, PathParam, QueryParams};
use super::holds::{load_hold, HoldRow};
use super::pagination::{count_and_page, envelope, Filters, PageRequest};
use super::profile::{Idempotency, ReturnUrl, UpstreamProfile};
use super::validate::{is_http_url, Validator};
use super::wallet::{record, BookingRef, Charge, Priced, WalletEntry};
use super::AppState;

/// 404 message for an unknown booking.
pub(crate) const BOOKING_NOT_FOUND: &str = "Booking not found.";

/// The booking columns [`BookingRecord::from_row`] reads, then the event's.
const BOOKING_SELECT: &str = "SELECT b.id, b.first_name, b.last_name, b.email, \
     b.phone, b.job_role, b.booking_status, b.pay_status, b.pay_option, b.attendance, \
     b.certificate_available, b.created_utc, b.checkout_token, b.return_url, b.amount_pence, \
     b.account_id, b.reviewed_utc";

/// Number of columns in [`BOOKING_SELECT`].
const BOOKING_COLUMN_COUNT: usize = 17;

/// Joins for booking queries.
const BOOKING_FROM: &str = "FROM bookings b \
     JOIN training_events e ON e.id = b.event_id \
     JOIN courses c ON c.id = e.course_id \
     JOIN locations l ON l.id = e.location_id \
     LEFT JOIN trainers t ON t.id = e.trainer_id";

/// A booking as read from the database, with its event.
#[derive(Debug, Clone)]
pub(crate) struct BookingRecord {
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
    /// Candidate's job role.
    pub job_role: Option<String>,
    /// `booking_status` as stored.
    pub booking_status: String,
    /// `pay_status` as stored.
    pub pay_status: String,
    /// `pay_option` as stored.
    pub pay_option: String,
    /// `attendance` as stored.
    pub attendance: Option<String>,
    /// Whether the certificate can be downloaded.
    pub certificate_available: bool,
    /// Creation time, Unix seconds.
    pub created_utc: i64,
    /// Checkout link token (`candidate_pays`).
    pub checkout_token: Option<String>,
    /// Where the checkout page sends the browser after paying.
    pub return_url: Option<String>,
    /// Money charged (balance), invoiced (inv) or due (candidate_pays).
    pub amount_pence: i64,
    /// The account that made it.
    pub account_id: i64,
    /// When it was approved or refused, on a course that requires review.
    pub reviewed_utc: Option<i64>,
    /// The event booked.
    pub event: EventRow,
}

impl BookingRecord {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<BookingRecord> {
        Ok(BookingRecord {
            id: row.get(0)?,
            first_name: row.get(1)?,
            last_name: row.get(2)?,
            email: row.get(3)?,
            phone: row.get(4)?,
            job_role: row.get(5)?,
            booking_status: row.get(6)?,
            pay_status: row.get(7)?,
            pay_option: row.get(8)?,
            attendance: row.get(9)?,
            certificate_available: row.get(10)?,
            created_utc: row.get(11)?,
            checkout_token: row.get(12)?,
            return_url: row.get(13)?,
            amount_pence: row.get(14)?,
            account_id: row.get(15)?,
            reviewed_utc: row.get(16)?,
            event: EventRow::from_row_at(row, BOOKING_COLUMN_COUNT)?,
        })
    }

    /// Whether it is pending on a course that requires review and has been
    /// neither approved nor refused.
    pub(crate) fn awaits_review(&self) -> bool {
        self.event.requires_review
            && self.reviewed_utc.is_none()
            && self.booking_status == BookingStatus::Pending.as_str()
    }

    /// The status a paid booking takes: `pending` while it awaits review,
    /// else `booked`.
    pub(crate) fn status_once_paid(&self) -> BookingStatus {
        if self.awaits_review() {
            BookingStatus::Pending
        } else {
            BookingStatus::Booked
        }
    }

    /// The candidate's full name.
    pub(crate) fn candidate_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    /// The checkout link, while a `candidate_pays` booking awaits payment.
    pub(crate) fn payment_url(&self, public_url: &str) -> Option<String> {
        let awaiting = self.pay_option == PayOption::CandidatePays.wire_name(Product::Practical)
            && self.pay_status == PayStatus::Pending.as_str()
            && self.booking_status != BookingStatus::Cancelled.as_str();
        let token = self.checkout_token.as_ref().filter(|_| awaiting)?;
        let mut url = format!("{public_url}/checkout/{token}");
        if let Some(return_url) = &self.return_url {
            let encoded: String = form_urlencoded::byte_serialize(return_url.as_bytes()).collect();
            url.push_str("?return_url=");
            url.push_str(&encoded);
        }
        Some(url)
    }

    /// The wire view.
    pub(crate) fn to_detail(&self, public_url: &str) -> BookingDetail {
        BookingDetail {
            id: to_u64(self.id),
            candidate: Candidate {
                name: self.candidate_name(),
                email: self.email.clone(),
                phone: self.phone.clone(),
                job_role: self.job_role.clone(),
            },
            course: self.event.course.clone(),
            location: self.event.location.clone(),
            trainer: self.event.trainer.clone(),
            start_date: to_uk(from_unix(self.event.start_utc)),
            end_date: to_uk(from_unix(self.event.end_utc)),
            booking_status: BookingStatus::parse(&self.booking_status),
            pay_status: PayStatus::parse(&self.pay_status),
            pay_option: PayOption::from_wire_name(Product::Practical, &self.pay_option),
            booked_by: "Agency".to_owned(),
            attendance: self.attendance.as_deref().map(Attendance::parse),
            certificate_available: self.certificate_available,
            created_at: utc_fixed(from_unix(self.created_utc)),
            payment_url: self.payment_url(public_url),
        }
    }
}

/// One booking by id, limited to `account_id` when given.
pub(crate) fn load_booking(
    conn: &Connection,
    account_id: Option<i64>,
    id: i64,
) -> rusqlite::Result<Option<BookingRecord>> {
    conn.prepare_cached(&format!(
        "{BOOKING_SELECT}, {EVENT_COLUMNS}, {BOOKED_SEATS} {BOOKING_FROM} \
         WHERE b.id = ?1 AND (?2 IS NULL OR b.account_id = ?2)"
    ))?
    .query_row(params![id, account_id], BookingRecord::from_row)
    .optional()
}

/// One booking by its checkout token, whatever the account.
pub(crate) fn load_booking_by_checkout(
    conn: &Connection,
    token: &str,
) -> rusqlite::Result<Option<BookingRecord>> {
    conn.prepare_cached(&format!(
        "{BOOKING_SELECT}, {EVENT_COLUMNS}, {BOOKED_SEATS} {BOOKING_FROM} \
         WHERE b.checkout_token = ?1"
    ))?
    .query_row([token], BookingRecord::from_row)
    .optional()
}

/// A validated `POST /bookings` body.
#[derive(Debug)]
struct BookingInput {
    hold_hash: String,
    first_name: String,
    last_name: String,
    email: String,
    phone: Option<String>,
    job_role: Option<String>,
    pay_option: PayOption,
    agency_contact_name: Option<String>,
    agency_contact_email: Option<String>,
    agency_email: Option<String>,
    return_url: Option<String>,
}

/// The candidate's fields both products' bookings take, as read (each
/// `None` when missing or invalid, the error recorded).
pub(crate) struct CandidateFields {
    /// The live hold.
    pub hold_hash: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Phone, international form.
    pub phone: Option<String>,
}

/// Reads `hold_hash`, `first_name`, `last_name`, `email` and `phone` with
/// `booking_core::validation`'s limits and phone rule, so the widget and the
/// sandbox agree on what is valid.
pub(crate) fn read_candidate(v: &mut Validator, body: &Map<String, Value>) -> CandidateFields {
    let hold_hash = v.string(body, "hold_hash", true, 255);
    let first_name = v.string(body, "first_name", true, NAME_MAX_CHARS);
    let last_name = v.string(body, "last_name", true, NAME_MAX_CHARS);
    let email = v.email(body, "email", true);
    let phone = v.string(body, "phone", false, PHONE_MAX_CHARS);
    if phone
        .as_deref()
        .is_some_and(|phone| !is_international_phone(phone))
    {
        v.add("phone", "The phone field format is invalid.");
    }
    CandidateFields {
        hold_hash,
        first_name,
        last_name,
        email,
        phone,
    }
}

/// Reads the optional `agency_contact_name` and `agency_contact_email`.
pub(crate) fn read_agency_contact(
    v: &mut Validator,
    body: &Map<String, Value>,
) -> (Option<String>, Option<String>) {
    (
        v.string(body, "agency_contact_name", false, 100),
        v.email(body, "agency_contact_email", false),
    )
}

/// Reads `return_url` (an absolute http(s) URL) under `return_url=honoured`;
/// under `return_url=ignored` it is neither checked nor kept, as an API that
/// does not know it would do.
pub(crate) fn read_return_url(
    v: &mut Validator,
    body: &Map<String, Value>,
    profile: &UpstreamProfile,
) -> Option<String> {
    let return_url = match profile.return_url {
        ReturnUrl::Honoured => v.string(body, "return_url", false, 2000),
        ReturnUrl::Ignored => None,
    };
    if return_url.as_deref().is_some_and(|url| !is_http_url(url)) {
        v.add("return_url", "The return url field must be a valid URL.");
        return None;
    }
    return_url
}

/// Validates the body field by field, collecting every error.
fn validate_booking(
    body: &Map<String, Value>,
    profile: &UpstreamProfile,
) -> Result<BookingInput, SandboxError> {
    let mut v = Validator::default();
    let candidate = read_candidate(&mut v, body);
    let job_role = v.string(body, "job_role", false, JOB_ROLE_MAX_CHARS);
    let pay_option = v
        .string(body, "pay_option", true, 32)
        .map(|value| PayOption::from_wire_name(Product::Practical, &value));
    if let Some(PayOption::Other(_)) = pay_option {
        v.add("pay_option", "The selected pay option is invalid.");
    }
    let (agency_contact_name, agency_contact_email) = read_agency_contact(&mut v, body);
    let agency_email = v.email(body, "agency_email", false);
    let return_url = read_return_url(&mut v, body, profile);
    v.finish()?;
    match (
        candidate.hold_hash,
        candidate.first_name,
        candidate.last_name,
        candidate.email,
        pay_option,
    ) {
        (Some(hold_hash), Some(first_name), Some(last_name), Some(email), Some(pay_option)) => {
            Ok(BookingInput {
                hold_hash,
                first_name,
                last_name,
                email,
                phone: candidate.phone,
                job_role,
                pay_option,
                agency_contact_name,
                agency_contact_email,
                agency_email,
                return_url,
            })
        }
        _ => Err(SandboxError::Internal("validated fields missing".into())),
    }
}

/// The `Idempotency-Key` header, if present and well formed.
pub(crate) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, SandboxError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key =
        value.to_str().ok().map(str::trim).filter(|key| {
            (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
        });
    match key {
        Some(key) => Ok(Some(key.to_owned())),
        None => Err(SandboxError::invalid(
            "idempotency_key",
            "The Idempotency-Key header must be 1 to 255 visible ASCII characters.",
        )),
    }
}

/// JSON text with object keys sorted at every level, so equal bodies hash
/// equally whatever their key order.
pub(crate) fn canonical_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let inner: Vec<String> = entries
                .into_iter()
                .map(|(key, value)| {
                    format!("{}:{}", Value::String(key.clone()), canonical_json(value))
                })
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(canonical_json).collect();
            format!("[{}]", inner.join(","))
        }
        other => other.to_string(),
    }
}

/// A short description of a booking for wallet transactions.
fn describe(booking_id: i64, event: &EventRow) -> String {
    format!(
        "Booking #{booking_id}: {}, {}, {}",
        event.course.name,
        event.location.name,
        to_uk(from_unix(event.start_utc)).format("%-d %b %Y")
    )
}

/// What `POST /bookings` answers: a new booking, or a replay of an earlier
/// one.
pub(crate) enum Created<R> {
    New(R),
    Replayed(R),
}

impl<R> Created<R> {
    /// The 201 answer: the booking as `wire` writes it, marked
    /// `idempotent-replayed` when it is an earlier one.
    pub(crate) fn into_response<W: serde::Serialize>(self, wire: impl FnOnce(R) -> W) -> Response {
        match self {
            Created::New(booking) => (StatusCode::CREATED, Json(wire(booking))).into_response(),
            Created::Replayed(booking) => (
                StatusCode::CREATED,
                [("idempotent-replayed", "true")],
                Json(wire(booking)),
            )
                .into_response(),
        }
    }
}

/// A booking request as idempotency sees it: its key (when the profile
/// honours keys and one was sent) and the hash of its body.
pub(crate) struct RequestIdentity {
    key: Option<String>,
    hash: String,
}

impl RequestIdentity {
    /// Reads the key from `headers` and hashes `body`.
    pub(crate) fn of(
        headers: &HeaderMap,
        body: Map<String, Value>,
        profile: &UpstreamProfile,
    ) -> Result<RequestIdentity, SandboxError> {
        let key = match profile.idempotency {
            Idempotency::Honoured => idempotency_key(headers)?,
            Idempotency::Ignored => None,
        };
        Ok(RequestIdentity {
            key,
            hash: sha256_hex(&canonical_json(&Value::Object(body))),
        })
    }
}

/// Makes a booking once per idempotency key, in one write transaction:
/// a key seen before with the same body replays its booking, with another
/// body is a 422; otherwise `book` makes the booking, the key (in
/// `keys_table`) is kept, and `load` reads the booking back.
pub(crate) fn book_once<R>(
    conn: &mut Connection,
    keys_table: &str,
    account_id: i64,
    request: &RequestIdentity,
    now: i64,
    book: impl FnOnce(&Connection) -> Result<i64, SandboxError>,
    load: fn(&Connection, Option<i64>, i64) -> rusqlite::Result<Option<R>>,
) -> Result<Created<R>, SandboxError> {
    let tx = write_tx(conn)?;
    if let Some(key) = &request.key {
        let earlier: Option<(String, i64)> = tx
            .query_row(
                &format!(
                    "SELECT request_hash, booking_id FROM {keys_table} \
                     WHERE account_id = ?1 AND key = ?2"
                ),
                params![account_id, key],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        if let Some((hash, booking_id)) = earlier {
            if hash != request.hash {
                return Err(SandboxError::invalid(
                    "idempotency_key",
                    "This Idempotency-Key was already used with a different request.",
                ));
            }
            let booking = load(&tx, Some(account_id), booking_id)?
                .ok_or_else(|| SandboxError::Internal("idempotent booking missing".into()))?;
            return Ok(Created::Replayed(booking));
        }
    }
    let booking_id = book(&tx)?;
    if let Some(key) = &request.key {
        tx.execute(
            &format!(
                "INSERT INTO {keys_table} (account_id, key, request_hash, booking_id, \
                 created_utc) VALUES (?1, ?2, ?3, ?4, ?5)"
            ),
            params![account_id, key, request.hash, booking_id, now],
        )?;
    }
    let booking = load(&tx, Some(account_id), booking_id)?
        .ok_or_else(|| SandboxError::Internal("new booking missing".into()))?;
    tx.commit()?;
    Ok(Created::New(booking))
}

/// `POST /bookings`: turns a live hold into a booking.
pub(crate) async fn create(
    State(state): State<AppState>,
    authed: Authed,
    headers: HeaderMap,
    JsonObject(body): JsonObject,
) -> Result<Response, SandboxError> {
    let profile = state.profile.get();
    let input = validate_booking(&body, &profile)?;
    let request = RequestIdentity::of(&headers, body, &profile)?;
    let now = state.clock.now_secs();
    let account_id = authed.account_id;
    let public_url = state.public_url.clone();
    let created = state
        .db
        .call(move |conn| {
            book_once(
                conn,
                "idempotency_keys",
                account_id,
                &request,
                now,
                |tx| book(tx, account_id, &input, &public_url, now),
                load_booking,
            )
        })
        .await?;
    if let Created::New(_) = created {
        state.webhooks.wake();
    }
    Ok(created.into_response(|booking| booking.to_detail(&state.public_url)))
}

/// Checks the hold, the event and the pay option, inserts the booking, uses
/// the hold up, takes payment and writes the webhook events it causes
/// (`booking.created`, then seats, credits or balance running low). Runs
/// inside the caller's transaction; returns the booking id.
fn book(
    conn: &Connection,
    account_id: i64,
    input: &BookingInput,
    public_url: &str,
    now: i64,
) -> Result<i64, SandboxError> {
    let hold = live_hold(conn, account_id, &input.hold_hash, now)?;
    let event = bookable_event(conn, &hold, now)?;
    let item = Priced {
        course_id: i64::try_from(event.course.id).unwrap_or(0),
        course_name: &event.course.name,
        cost_pence: event.cost_pence,
        noun: "training event",
    };
    let payment = Charge::check(conn, account_id, &item, &input.pay_option)?;
    let booking_id = insert_booking(conn, account_id, &hold, &event, input, &payment, now)?;
    conn.prepare_cached("UPDATE holds SET used_utc = ?1 WHERE id = ?2")?
        .execute(params![now, hold.id])?;
    let description = describe(booking_id, &event);
    payment.take(
        conn,
        account_id,
        BookingRef::Practical(booking_id),
        &description,
        now,
    )?;
    if payment.option == PayOption::Inv {
        conn.execute(
            "INSERT INTO invoices (account_id, booking_id, amount_pence, status, created_utc) \
             VALUES (?1, ?2, ?3, 'issued', ?4)",
            params![account_id, booking_id, event.cost_pence, now],
        )?;
    }
    emit_booking(conn, event::BOOKING_CREATED, booking_id, public_url, now)?;
    emit_seats_low(conn, &event, public_url, now)?;
    payment.emit_running_low(conn, account_id, &item, now)?;
    Ok(booking_id)
}

/// Writes a booking event of `kind` carrying the booking as
/// `BookingDetail`, for the booking's account.
pub(crate) fn emit_booking(
    conn: &Connection,
    kind: &str,
    booking_id: i64,
    public_url: &str,
    now: i64,
) -> Result<(), SandboxError> {
    let booking = load_booking(conn, None, booking_id)?
        .ok_or_else(|| SandboxError::Internal("booking for an event missing".into()))?;
    let data = serde_json::to_value(booking.to_detail(public_url))
        .map_err(|error| SandboxError::Internal(error.to_string()))?;
    emit(conn, Audience::Account(booking.account_id), kind, data, now)?;
    Ok(())
}

/// Writes `training_event.seats_low` when the event, as it stood before
/// (`before`), had more than the low mark of seats left and now has no
/// more than it.
pub(crate) fn emit_seats_low(
    conn: &Connection,
    before: &EventRow,
    public_url: &str,
    now: i64,
) -> Result<(), SandboxError> {
    let Some(after) = load_event(conn, before.id)? else {
        return Ok(());
    };
    if before.remaining() > SEATS_LOW_MARK && after.remaining() <= SEATS_LOW_MARK {
        let detail = after.to_detail(&format!("{public_url}/practical-training/"));
        let data = serde_json::json!({ "training_event": detail, "low_mark": SEATS_LOW_MARK });
        emit(
            conn,
            Audience::Everyone,
            event::TRAINING_EVENT_SEATS_LOW,
            data,
            now,
        )?;
    }
    Ok(())
}

/// Books the seat of a booking invite: a hold made and used at once, then
/// [`book`] with the invite's candidate and pay option. Runs inside the
/// caller's transaction; returns the booking id.
pub(crate) fn book_for_invite(
    conn: &Connection,
    invite: &InviteBooking,
    public_url: &str,
    now: i64,
) -> Result<i64, SandboxError> {
    let event = load_event(conn, invite.event_id)?
        .ok_or(SandboxError::NotFound(super::catalog::EVENT_NOT_FOUND))?;
    if event.start_utc <= now {
        return Err(SandboxError::invalid(
            "training_event",
            "This training event has already started.",
        ));
    }
    if event.remaining() - super::db::live_holds(conn, event.id, now)? <= 0 {
        return Err(SandboxError::invalid(
            "training_event",
            "This training event is fully booked.",
        ));
    }
    let hold_hash = random_token(super::holds::HOLD_HASH_LEN);
    conn.execute(
        "INSERT INTO holds (hold_hash, account_id, event_id, created_utc, expires_utc)          VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            hold_hash,
            invite.account_id,
            event.id,
            now,
            now + super::holds::HOLD_TTL
        ],
    )?;
    let input = BookingInput {
        hold_hash,
        first_name: invite.first_name.clone(),
        last_name: invite.last_name.clone(),
        email: invite.email.clone(),
        phone: None,
        job_role: None,
        pay_option: PayOption::from_wire_name(Product::Practical, &invite.pay_option),
        agency_contact_name: None,
        agency_contact_email: None,
        agency_email: None,
        return_url: None,
    };
    let booking_id = book(conn, invite.account_id, &input, public_url, now)?;
    conn.execute(
        "UPDATE bookings SET invite_id = ?1 WHERE id = ?2",
        params![invite.invite_id, booking_id],
    )?;
    Ok(booking_id)
}

/// What a booking through an invite needs.
#[derive(Debug)]
pub(crate) struct InviteBooking {
    /// The invite.
    pub invite_id: i64,
    /// The account that sent it.
    pub account_id: i64,
    /// The event the candidate chose.
    pub event_id: i64,
    /// The candidate's given name.
    pub first_name: String,
    /// The candidate's family name.
    pub last_name: String,
    /// The candidate's email.
    pub email: String,
    /// How the booking is paid for.
    pub pay_option: String,
}

/// The account's hold with this hash, if it is still live.
fn live_hold(
    conn: &Connection,
    account_id: i64,
    hold_hash: &str,
    now: i64,
) -> Result<HoldRow, SandboxError> {
    let hold = load_hold(conn, account_id, hold_hash)?
        .ok_or_else(|| SandboxError::invalid("hold_hash", "The selected hold hash is invalid."))?;
    hold.check_live(now)?;
    Ok(hold)
}

/// The held event, if it can still be booked: not started, not full.
fn bookable_event(conn: &Connection, hold: &HoldRow, now: i64) -> Result<EventRow, SandboxError> {
    let event = load_event(conn, hold.event_id)?
        .ok_or_else(|| SandboxError::Internal("held event missing".into()))?;
    if event.start_utc <= now {
        return Err(SandboxError::invalid(
            "hold_hash",
            "This training event has already started.",
        ));
    }
    if event.remaining() == 0 {
        return Err(SandboxError::invalid(
            "hold_hash",
            "This training event is fully booked.",
        ));
    }
    Ok(event)
}

/// Inserts the booking for a live hold: `pending` while it awaits payment or
/// review, else `booked`. Returns its id.
fn insert_booking(
    conn: &Connection,
    account_id: i64,
    hold: &HoldRow,
    event: &EventRow,
    input: &BookingInput,
    payment: &Charge,
    now: i64,
) -> Result<i64, SandboxError> {
    let booking_status = if event.requires_review || payment.status == PayStatus::Pending {
        BookingStatus::Pending
    } else {
        BookingStatus::Booked
    };
    let return_url = input
        .return_url
        .as_ref()
        .filter(|_| input.pay_option == PayOption::CandidatePays);
    conn.prepare_cached(
        "INSERT INTO bookings (account_id, event_id, hold_id, first_name, last_name, email, phone, \
         job_role, agency_contact_name, agency_contact_email, agency_email, pay_option, \
         booking_status, pay_status, amount_pence, checkout_token, return_url, created_utc) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
    )?
    .execute(params![
        account_id,
        hold.event_id,
        hold.id,
        input.first_name,
        input.last_name,
        input.email,
        input.phone,
        input.job_role,
        input.agency_contact_name,
        input.agency_contact_email,
        input.agency_email,
        input.pay_option.wire_name(Product::Practical),
        booking_status.as_str(),
        payment.status.as_str(),
        payment.amount_pence,
        payment.checkout_token,
        return_url,
        now
    ])?;
    Ok(conn.last_insert_rowid())
}

/// `GET /bookings/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    authed: Authed,
    id: PathParam,
) -> Result<Json<BookingDetail>, SandboxError> {
    let id = id.id(BOOKING_NOT_FOUND)?;
    let booking = state
        .db
        .call(move |conn| Ok(load_booking(conn, Some(authed.account_id), id)?))
        .await?
        .ok_or(SandboxError::NotFound(BOOKING_NOT_FOUND))?;
    Ok(Json(booking.to_detail(&state.public_url)))
}

/// The booking statuses a list can filter on.
const STATUSES: &[&str] = &["booked", "pending", "cancelled", "no_show", "completed"];

/// The filters of a booking list (`GET /bookings` of either product):
/// `status`, `course_id`, `date_from`, `date_to` (UK dates) and the page.
pub(crate) struct BookingListQuery {
    status: Option<String>,
    course_id: Option<i64>,
    date_from: Option<chrono::NaiveDate>,
    date_to: Option<chrono::NaiveDate>,
    page: PageRequest,
}

impl BookingListQuery {
    /// Reads and checks the query; a 422 names each bad filter.
    pub(crate) fn read(
        query: &QueryParams,
        max_per_page: u32,
    ) -> Result<BookingListQuery, SandboxError> {
        let mut v = Validator::default();
        let status = v
            .query_choice(query.get("status"), "status", STATUSES)
            .map(str::to_owned);
        let course_id = v.query_integer(query.get("course_id"), "course_id", 1, i64::MAX);
        let date_from = v.query_date(query.get("date_from"), "date_from");
        let date_to = v.query_date(query.get("date_to"), "date_to");
        if let (Some(from), Some(to)) = (date_from, date_to) {
            if to < from {
                v.add(
                    "date_to",
                    "The date to field must be a date after or equal to date from.",
                );
            }
        }
        let page = PageRequest::from_query(query, &mut v, max_per_page);
        v.finish()?;
        Ok(BookingListQuery {
            status,
            course_id,
            date_from,
            date_to,
            page,
        })
    }

    /// The account's bookings these filters keep, with `course_column` and
    /// `date_column` naming the course and UK date in the product's query;
    /// and the page asked for.
    pub(crate) fn filters(
        self,
        account_id: i64,
        course_column: &str,
        date_column: &str,
    ) -> (Filters, PageRequest) {
        let mut filters = Filters::new("b.account_id = ?", SqlValue::Integer(account_id));
        filters.and_some("b.booking_status = ?", self.status.map(SqlValue::Text));
        filters.and_some(
            &format!("{course_column} = ?"),
            self.course_id.map(SqlValue::Integer),
        );
        filters.and_some(
            &format!("{date_column} >= ?"),
            self.date_from.map(|from| SqlValue::Text(from.to_string())),
        );
        filters.and_some(
            &format!("{date_column} <= ?"),
            self.date_to.map(|to| SqlValue::Text(to.to_string())),
        );
        (filters, self.page)
    }
}

/// `GET /bookings`: the account's bookings, newest first, with filters.
pub(crate) async fn list(
    State(state): State<AppState>,
    authed: Authed,
    query: QueryParams,
) -> Result<Json<Page<BookingDetail>>, SandboxError> {
    let (filters, request) = BookingListQuery::read(&query, state.profile.get().max_per_page)?
        .filters(authed.account_id, "e.course_id", "e.local_date");
    let page = paged(&state, filters, "b.id DESC", request).await?;
    let data = page
        .1
        .iter()
        .map(|b| b.to_detail(&state.public_url))
        .collect();
    Ok(Json(envelope(
        &state,
        "/bookings",
        &query,
        request,
        page.0,
        data,
    )))
}

/// `GET /bookings/no-shows`: the account's bookings whose candidate did not
/// attend, latest event first.
pub(crate) async fn no_shows(
    State(state): State<AppState>,
    authed: Authed,
    query: QueryParams,
) -> Result<Json<Page<BookingDetail>>, SandboxError> {
    let mut v = Validator::default();
    let request = PageRequest::from_query(&query, &mut v, state.profile.get().max_per_page);
    v.finish()?;
    let mut filters = Filters::new("b.account_id = ?", SqlValue::Integer(authed.account_id));
    filters.and("b.attendance = 'no_show'");
    let page = paged(&state, filters, "e.start_utc DESC, b.id DESC", request).await?;
    let data = page
        .1
        .iter()
        .map(|b| b.to_detail(&state.public_url))
        .collect();
    Ok(Json(envelope(
        &state,
        "/bookings/no-shows",
        &query,
        request,
        page.0,
        data,
    )))
}

/// Counts and loads one page of bookings matching `filters`.
async fn paged(
    state: &AppState,
    filters: Filters,
    order: &'static str,
    request: PageRequest,
) -> Result<(i64, Vec<BookingRecord>), SandboxError> {
    state
        .db
        .call(move |conn| {
            Ok(count_and_page(
                conn,
                &format!("{BOOKING_SELECT}, {EVENT_COLUMNS}, {BOOKED_SEATS}"),
                BOOKING_FROM,
                filters,
                order,
                request,
                BookingRecord::from_row,
            )?)
        })
        .await
}

/// `POST /bookings/{id}/cancel`: cancels a booking before its event starts,
/// returning the credit or money and the seat.
pub(crate) async fn cancel(
    State(state): State<AppState>,
    authed: Authed,
    id: PathParam,
    _body: IgnoredBody,
) -> Result<Json<BookingDetail>, SandboxError> {
    let id = id.id(BOOKING_NOT_FOUND)?;
    let now = state.clock.now_secs();
    let account_id = authed.account_id;
    let public_url = state.public_url.clone();
    let booking = state
        .db
        .call(move |conn| {
            let tx = write_tx(conn)?;
            let booking = load_booking(&tx, Some(account_id), id)?
                .ok_or(SandboxError::NotFound(BOOKING_NOT_FOUND))?;
            if booking.booking_status == BookingStatus::Cancelled.as_str() {
                return Err(SandboxError::invalid(
                    "booking",
                    "This booking has already been cancelled.",
                ));
            }
            if booking.event.start_utc <= now {
                return Err(SandboxError::invalid(
                    "booking",
                    "This training event has already started, so the booking can no longer be cancelled.",
                ));
            }
            cancel_booking(&tx, &booking, "Cancelled", &public_url, now)?;
            let booking = load_booking(&tx, Some(account_id), id)?
                .ok_or_else(|| SandboxError::Internal("cancelled booking missing".into()))?;
            tx.commit()?;
            Ok(booking)
        })
        .await?;
    state.webhooks.wake();
    Ok(Json(booking.to_detail(&state.public_url)))
}

/// Cancels a booking inside the caller's transaction: a paid credit or
/// money comes back as a wallet transaction described as `reason`, an
/// invoice is voided, a paid booking ends `refunded`, the seat is free, and
/// `booking.cancelled` is written.
pub(crate) fn cancel_booking(
    conn: &Connection,
    booking: &BookingRecord,
    reason: &str,
    public_url: &str,
    now: i64,
) -> Result<(), SandboxError> {
    let id = booking.id;
    let account_id = booking.account_id;
    let paid = booking.pay_status == PayStatus::Completed.as_str();
    let course_id = i64::try_from(booking.event.course.id).unwrap_or(0);
    let description = format!("{reason}: {}", describe(id, &booking.event));
    let refund = |amount_pence: Option<i64>, credits: Option<i64>| {
        record(
            conn,
            &WalletEntry {
                account_id,
                kind: "credit",
                amount_pence,
                credits,
                course_id,
                booking: BookingRef::Practical(id),
                description: &description,
            },
            now,
        )
    };
    match PayOption::from_wire_name(Product::Practical, &booking.pay_option) {
        PayOption::Credits if paid => {
            conn.execute(
                "INSERT INTO course_credits (account_id, course_id, credits) VALUES (?1, ?2, 1) \
                 ON CONFLICT (account_id, course_id) DO UPDATE SET credits = credits + 1",
                params![account_id, course_id],
            )?;
            refund(None, Some(1))?;
        }
        PayOption::Balance if paid => {
            conn.execute(
                "UPDATE accounts SET balance_pence = balance_pence + ?1 WHERE id = ?2",
                params![booking.amount_pence, account_id],
            )?;
            refund(Some(booking.amount_pence), None)?;
        }
        PayOption::Inv => {
            conn.execute(
                "UPDATE invoices SET status = 'void' WHERE booking_id = ?1",
                [id],
            )?;
        }
        _ => {}
    }
    let pay_status = if paid {
        PayStatus::Refunded.as_str()
    } else {
        booking.pay_status.as_str()
    };
    conn.execute(
        "UPDATE bookings SET booking_status = 'cancelled', pay_status = ?1, \
         cancelled_utc = ?2 WHERE id = ?3",
        params![pay_status, now, id],
    )?;
    emit_booking(conn, event::BOOKING_CANCELLED, id, public_url, now)
}

/// `GET /bookings/{id}/certificate`: the completion certificate as a PDF.
pub(crate) async fn certificate(
    State(state): State<AppState>,
    authed: Authed,
    id: PathParam,
) -> Result<Response, SandboxError> {
    let id = id.id(BOOKING_NOT_FOUND)?;
    let booking = state
        .db
        .call(move |conn| Ok(load_booking(conn, Some(authed.account_id), id)?))
        .await?
        .ok_or(SandboxError::NotFound(BOOKING_NOT_FOUND))?;
    if !booking.certificate_available {
        return Err(SandboxError::invalid(
            "booking",
            "No certificate is available for this booking yet.",
        ));
    }
    let pdf = certificate_pdf(&CertificateFields {
        booking_id: booking.id,
        candidate_name: booking.candidate_name(),
        course_name: booking.event.course.name.clone(),
        location: booking.event.location.name.clone(),
        date: to_uk(from_unix(booking.event.start_utc))
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_ignores_key_order() {
        let a = json!({ "b": 1, "a": { "y": [1, { "q": 2, "p": 3 }], "x": null } });
        let b = json!({ "a": { "x": null, "y": [1, { "p": 3, "q": 2 }] }, "b": 1 });
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_ne!(canonical_json(&a), canonical_json(&json!({ "b": 2 })));
        assert_eq!(canonical_json(&json!({ "k\"": "v" })), r#"{"k\"":"v"}"#);
    }
}
