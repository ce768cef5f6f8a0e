//! Practical Training bookings: creation with the four pay options, listing,
//! no-shows, a single booking, cancellation and the completion certificate.
//! The endpoints both products answer alike are `booking_api`'s, over
//! [`BookingRecord`].
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
use axum::Json;
use booking_core::api::{Attendance, BookingDetail, BookingStatus, Candidate, Page, PayOption};
use booking_core::product::Product;
use booking_core::uk_time::to_uk;
use booking_core::validation::JOB_ROLE_MAX_CHARS;
use rusqlite::types::ToSql;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, Connection, Row};
use serde_json::{Map, Value};

use super::auth::Authed;
use super::booking_api::{
    cancel_booking, change_booking, emit_booking, page_of, Booker, NewBooking, ProductBooking,
    StoredBooking, BOOKED_BY, BOOKING_NOT_FOUND, STORED_COLUMN_COUNT,
};
use super::booking_form::{BookingForm, CandidateInput};
use super::catalog::{load_event, to_u64, EventRow, EVENT_COLUMNS};
use super::clock::from_unix;
use super::db::{random_token, BOOKED_SEATS};
use super::deliveries::{emit, event, Audience, SEATS_LOW_MARK};
use super::errors::SandboxError;
use super::extract::{IgnoredBody, PathParam, QueryParams};
use super::holds::{load_hold, HoldRow, SEAT_HOLDS};
use super::pagination::{Filters, PageRequest};
use super::profile::UpstreamProfile;
use super::validate::Validator;
use super::wallet::{BookingRef, Charge, Priced};
use super::AppState;

/// A booking's own columns, after the stored ones; then its event's.
const OWN_COLUMNS: &str = "b.job_role, b.attendance, b.certificate_available, b.reviewed_utc";

/// Number of columns in [`OWN_COLUMNS`].
const OWN_COLUMN_COUNT: usize = 4;

/// Joins for booking queries.
const BOOKING_FROM: &str = "FROM bookings b \
     JOIN training_events e ON e.id = b.event_id \
     JOIN courses c ON c.id = e.course_id \
     JOIN locations l ON l.id = e.location_id \
     LEFT JOIN trainers t ON t.id = e.trainer_id";

/// A Practical Training booking as read from the database, with its event.
#[derive(Debug, Clone)]
pub(crate) struct BookingRecord {
    /// The columns every booking stores.
    pub stored: StoredBooking,
    /// Candidate's job role.
    pub job_role: Option<String>,
    /// `attendance` as stored.
    pub attendance: Option<String>,
    /// Whether the certificate can be downloaded.
    pub certificate_available: bool,
    /// When it was approved or refused, on a course that requires review.
    pub reviewed_utc: Option<i64>,
    /// The event booked.
    pub event: EventRow,
}

/// A validated `POST /bookings` body.
#[derive(Debug)]
pub(crate) struct BookingInput {
    /// What both products' bodies carry.
    candidate: CandidateInput,
    /// Candidate's job role.
    job_role: Option<String>,
    /// The agency's address for this booking's emails.
    agency_email: Option<String>,
}

impl BookingRecord {
    /// Whether it is pending on a course that requires review and has been
    /// neither approved nor refused.
    pub(crate) fn awaits_review(&self) -> bool {
        self.event.requires_review
            && self.reviewed_utc.is_none()
            && self.stored.booking_status == BookingStatus::Pending.as_str()
    }

    /// The candidate as answered.
    fn candidate(&self) -> Candidate {
        Candidate {
            name: self.stored.candidate_name(),
            email: self.stored.email.clone(),
            phone: self.stored.phone.clone(),
            job_role: self.job_role.clone(),
        }
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
}

impl ProductBooking for BookingRecord {
    type Wire = BookingDetail;
    type Input = BookingInput;
    const PRODUCT: Product = Product::Practical;
    const TABLE: &'static str = "bookings";
    const FROM: &'static str = BOOKING_FROM;

    fn own_columns() -> String {
        format!("{OWN_COLUMNS}, {EVENT_COLUMNS}, {BOOKED_SEATS}")
    }

    const TRAINING_TABLE: &'static str = "e";

    fn from_row(row: &Row<'_>) -> rusqlite::Result<BookingRecord> {
        let own = STORED_COLUMN_COUNT;
        Ok(BookingRecord {
            stored: StoredBooking::from_row(row)?,
            job_role: row.get(own)?,
            attendance: row.get(own + 1)?,
            certificate_available: row.get(own + 2)?,
            reviewed_utc: row.get(own + 3)?,
            event: EventRow::from_row_at(row, own + OWN_COLUMN_COUNT)?,
        })
    }

    fn stored(&self) -> &StoredBooking {
        &self.stored
    }

    fn to_wire(&self, public_url: &str) -> BookingDetail {
        let stored = &self.stored;
        BookingDetail {
            id: to_u64(stored.id),
            candidate: self.candidate(),
            course: self.event.course.clone(),
            location: self.event.location.clone(),
            trainer: self.event.trainer.clone(),
            start_date: to_uk(from_unix(self.event.start_utc)),
            end_date: to_uk(from_unix(self.event.end_utc)),
            booking_status: stored.booking_status(),
            pay_status: stored.pay_status(),
            pay_option: self.pay_method(),
            booked_by: BOOKED_BY.to_owned(),
            attendance: self.attendance.as_deref().map(Attendance::parse),
            certificate_available: self.certificate_available,
            created_at: stored.created_at(),
            payment_url: self.payment_url(public_url),
        }
    }

    fn checkout_link(token: &str) -> String {
        format!("/checkout/{token}")
    }

    fn course_id(&self) -> i64 {
        i64::try_from(self.event.course.id).unwrap_or(0)
    }

    fn course_name(&self) -> &str {
        &self.event.course.name
    }

    fn describe(&self) -> String {
        describe(self.stored.id, &self.event)
    }

    fn start_utc(&self) -> i64 {
        self.event.start_utc
    }

    fn place(&self) -> String {
        self.event.location.name.clone()
    }

    fn check_certificate(&self) -> Result<(), SandboxError> {
        if self.certificate_available {
            return Ok(());
        }
        Err(SandboxError::invalid(
            "booking",
            "No certificate is available for this booking yet.",
        ))
    }

    /// The shared fields, and `job_role` and `agency_email`.
    fn validate(
        body: &Map<String, Value>,
        profile: &UpstreamProfile,
    ) -> Result<BookingInput, SandboxError> {
        let mut form = BookingForm::read_candidate(body);
        let job_role = form.v.string(body, "job_role", false, JOB_ROLE_MAX_CHARS);
        form.read_pay_option(Product::Practical);
        form.read_agency_contact();
        let agency_email = form.v.email(body, "agency_email", false);
        form.read_return_url(profile);
        Ok(BookingInput {
            candidate: form.finish()?,
            job_role,
            agency_email,
        })
    }

    const KEYS_TABLE: &'static str = "idempotency_keys";

    fn book(conn: &Connection, booker: &Booker, input: &BookingInput) -> Result<i64, SandboxError> {
        book_hold(conn, booker, input)
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

/// Checks the hold, the event and the pay option, inserts the booking, uses
/// the hold up, takes payment and writes the webhook events it causes
/// (`booking.created`, then seats, credits or balance running low). Runs
/// inside the caller's transaction; returns the booking id.
fn book_hold(
    conn: &Connection,
    booker: &Booker,
    input: &BookingInput,
) -> Result<i64, SandboxError> {
    let (account_id, now) = (booker.account_id, booker.now);
    let hold = live_hold(conn, account_id, &input.candidate.hold_hash, now)?;
    let event = bookable_event(conn, &hold, now)?;
    let item = Priced {
        course_id: i64::try_from(event.course.id).unwrap_or(0),
        course_name: &event.course.name,
        cost_pence: event.cost_pence,
        noun: "training event",
    };
    let payment = Charge::check(conn, account_id, &item, input.candidate.pay_method.clone())?;
    let new = NewBooking {
        candidate: &input.candidate,
        charge: &payment,
        awaits_review: event.requires_review,
    };
    let own: [(&str, &dyn ToSql); 4] = [
        ("event_id", &hold.event_id),
        ("hold_id", &hold.id),
        ("job_role", &input.job_role),
        ("agency_email", &input.agency_email),
    ];
    let booking_id = new.insert(conn, BookingRecord::TABLE, booker, &own)?;
    SEAT_HOLDS.mark_used(conn, hold.id, now)?;
    let description = describe(booking_id, &event);
    payment.take(
        conn,
        account_id,
        BookingRef::Practical(booking_id),
        &description,
        now,
    )?;
    let public_url = booker.public_url;
    emit_booking::<BookingRecord>(conn, event::BOOKING_CREATED, booking_id, public_url, now)?;
    emit_seats_low(conn, &event, public_url, now)?;
    payment.emit_running_low(conn, account_id, &item, now)?;
    Ok(booking_id)
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
/// [`book_hold`] with the invite's candidate and pay option. Runs inside the
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
    let pay_method = match PayOption::from_wire_name(Product::Practical, &invite.pay_option) {
        PayOption::Other(_) => {
            return Err(SandboxError::invalid(
                "pay_option",
                "The selected pay option is invalid.",
            ))
        }
        known => known,
    };
    let input = BookingInput {
        candidate: CandidateInput {
            hold_hash,
            first_name: invite.first_name.clone(),
            last_name: invite.last_name.clone(),
            email: invite.email.clone(),
            phone: None,
            pay_option: invite.pay_option.clone(),
            pay_method,
            agency_contact_name: None,
            agency_contact_email: None,
            return_url: None,
        },
        job_role: None,
        agency_email: None,
    };
    let booker = Booker {
        account_id: invite.account_id,
        public_url,
        now,
    };
    let booking_id = book_hold(conn, &booker, &input)?;
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
    page_of::<BookingRecord>(
        &state,
        "/bookings/no-shows",
        &query,
        filters,
        "e.start_utc DESC, b.id DESC",
        request,
    )
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
    change_booking(
        &state,
        Some(authed.account_id),
        id,
        |tx, booking: &BookingRecord, public_url, now| {
            if booking.stored.is_cancelled() {
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
            cancel_booking(tx, booking, "Cancelled", public_url, now)
        },
    )
    .await
}
