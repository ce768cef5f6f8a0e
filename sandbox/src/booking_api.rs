//! What both products' bookings share, and the booking endpoints they
//! answer alike, written once over [`ProductBooking`]: `POST /bookings`,
//! `GET /bookings`, `GET /bookings/{id}` and `GET /bookings/{id}/certificate`;
//! and what every booking change does alike: its webhook event
//! ([`emit_booking`]) and cancellation ([`cancel_booking`]).
//!
//! Each product's table stores the columns of [`StoredBooking`] (the
//! candidate, the statuses and the payment), and its record reads them first
//! with [`STORED_COLUMNS`], then its own.
//!
//! Invariants: another account's booking answers 404; `POST /bookings` is
//! idempotent per key (`idempotency`); a list filters on the UK date of the
//! training; a certificate is served only when the product's record says
//! it is available; a booking event carries the booking as the product's
//! API answers it, as it stands once the change is made.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use booking_core::api::{BookingStatus, Page, PayOption, PayStatus, Timestamp};
use booking_core::product::Product;
use booking_core::uk_time::to_uk;
use rusqlite::types::ToSql;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};
use serde::Serialize;
use serde_json::{Map, Value};

use super::auth::Authed;
use super::booking_form::CandidateInput;
use super::certificate::{certificate_download, CertificateFields};
use super::clock::{from_unix, utc_fixed};
use super::db::write_tx;
use super::deliveries::{emit, event, Audience};
use super::errors::SandboxError;
use super::extract::{JsonObject, PathParam, QueryParams};
use super::idempotency::{book_once, Created, RequestIdentity};
use super::pagination::{count_and_page, envelope, Filters, PageRequest};
use super::profile::UpstreamProfile;
use super::validate::Validator;
use super::wallet::{refund, BookingRef, Charge, Refund};
use super::AppState;

/// Who every booking says made it.
pub(crate) const BOOKED_BY: &str = "Agency";

/// 404 message for an unknown booking.
pub(crate) const BOOKING_NOT_FOUND: &str = "Booking not found.";

/// The columns [`StoredBooking::from_row`] reads, the product's bookings
/// table named `b`.
pub(crate) const STORED_COLUMNS: &str = "b.id, b.account_id, b.first_name, b.last_name, \
     b.email, b.phone, b.booking_status, b.pay_status, b.pay_option, b.amount_pence, \
     b.checkout_token, b.return_url, b.created_utc";

/// Number of columns in [`STORED_COLUMNS`]: where a record's own begin.
pub(crate) const STORED_COLUMN_COUNT: usize = 13;

/// The columns every booking stores, whatever its product.
#[derive(Debug, Clone)]
pub(crate) struct StoredBooking {
    /// Booking id.
    pub id: i64,
    /// The account that made it.
    pub account_id: i64,
    /// Candidate's given name.
    pub first_name: String,
    /// Candidate's family name.
    pub last_name: String,
    /// Candidate's email.
    pub email: String,
    /// Candidate's phone.
    pub phone: Option<String>,
    /// `booking_status` as stored.
    pub booking_status: String,
    /// `pay_status` as stored.
    pub pay_status: String,
    /// `pay_option` as stored.
    pub pay_option: String,
    /// Money charged, invoiced or due.
    pub amount_pence: i64,
    /// The checkout page's token (`candidate_pays`).
    pub checkout_token: Option<String>,
    /// Where the checkout page sends the browser after paying.
    pub return_url: Option<String>,
    /// Creation time, Unix seconds.
    pub created_utc: i64,
}

impl StoredBooking {
    /// Reads [`STORED_COLUMNS`].
    pub(crate) fn from_row(row: &Row<'_>) -> rusqlite::Result<StoredBooking> {
        Ok(StoredBooking {
            id: row.get(0)?,
            account_id: row.get(1)?,
            first_name: row.get(2)?,
            last_name: row.get(3)?,
            email: row.get(4)?,
            phone: row.get(5)?,
            booking_status: row.get(6)?,
            pay_status: row.get(7)?,
            pay_option: row.get(8)?,
            amount_pence: row.get(9)?,
            checkout_token: row.get(10)?,
            return_url: row.get(11)?,
            created_utc: row.get(12)?,
        })
    }

    /// The candidate's full name.
    pub(crate) fn candidate_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    /// Whether it was cancelled.
    pub(crate) fn is_cancelled(&self) -> bool {
        self.booking_status == BookingStatus::Cancelled.as_str()
    }

    /// Whether its payment is still to come.
    pub(crate) fn is_unpaid(&self) -> bool {
        self.pay_status == PayStatus::Pending.as_str()
    }

    /// Whether a `candidate_pays` booking (both products write it so)
    /// still awaits payment.
    pub(crate) fn awaits_payment(&self) -> bool {
        self.pay_option == PayOption::CandidatePays.as_str()
            && self.is_unpaid()
            && !self.is_cancelled()
    }

    /// `booking_status` as answered.
    pub(crate) fn booking_status(&self) -> BookingStatus {
        BookingStatus::parse(&self.booking_status)
    }

    /// `pay_status` as answered.
    pub(crate) fn pay_status(&self) -> PayStatus {
        PayStatus::parse(&self.pay_status)
    }

    /// `created_at` as answered.
    pub(crate) fn created_at(&self) -> Timestamp {
        utc_fixed(from_unix(self.created_utc))
    }
}

/// A booking about to be made: its body's shared fields, how it is paid,
/// and whether it waits for review.
pub(crate) struct NewBooking<'a> {
    /// What both products' bodies carry.
    pub candidate: &'a CandidateInput,
    /// How it is paid.
    pub charge: &'a Charge,
    /// Whether it stays `pending`, even paid, until reviewed.
    pub awaits_review: bool,
}

impl NewBooking<'_> {
    /// Inserts it into the product's `table` for `booker`: the columns
    /// every booking stores (`pending` while it awaits payment or review,
    /// else `booked`), then `own`, the product's columns with their values.
    /// Returns its id.
    pub(crate) fn insert(
        &self,
        conn: &Connection,
        table: &str,
        booker: &Booker,
        own: &[(&str, &dyn ToSql)],
    ) -> rusqlite::Result<i64> {
        let booking_status = if self.awaits_review || self.charge.status == PayStatus::Pending {
            BookingStatus::Pending
        } else {
            BookingStatus::Booked
        };
        let return_url = self.candidate.kept_return_url();
        let stored: [(&str, &dyn ToSql); 14] = [
            ("account_id", &booker.account_id),
            ("first_name", &self.candidate.first_name),
            ("last_name", &self.candidate.last_name),
            ("email", &self.candidate.email),
            ("phone", &self.candidate.phone),
            ("agency_contact_name", &self.candidate.agency_contact_name),
            ("agency_contact_email", &self.candidate.agency_contact_email),
            ("pay_option", &self.candidate.pay_option),
            ("booking_status", &booking_status.as_str()),
            ("pay_status", &self.charge.status.as_str()),
            ("amount_pence", &self.charge.amount_pence),
            ("checkout_token", &self.charge.checkout_token),
            ("return_url", &return_url),
            ("created_utc", &booker.now),
        ];
        let columns: Vec<(&str, &dyn ToSql)> =
            stored.into_iter().chain(own.iter().copied()).collect();
        let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
        let marks: Vec<String> = (1..=columns.len())
            .map(|index| format!("?{index}"))
            .collect();
        conn.prepare_cached(&format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            names.join(", "),
            marks.join(", ")
        ))?
        .execute(params_from_iter(columns.iter().map(|(_, value)| *value)))?;
        Ok(conn.last_insert_rowid())
    }
}

/// Who makes a booking, and when.
pub(crate) struct Booker<'a> {
    /// The account booking.
    pub account_id: i64,
    /// The base of the links in what the booking writes.
    pub public_url: &'a str,
    /// Now, Unix seconds.
    pub now: i64,
}

/// One product's booking as stored, and what the endpoints written once
/// here need of it.
pub(crate) trait ProductBooking: Sized + Send + 'static {
    /// The booking as the product's API answers it.
    type Wire: Serialize + Send;
    /// A validated `POST /bookings` body.
    type Input: Send + 'static;
    /// The product, whose names its `pay_option` column stores.
    const PRODUCT: Product;
    /// The product's bookings table.
    const TABLE: &'static str;
    /// The product's bookings table as `b`, with the joins its own columns
    /// need.
    const FROM: &'static str;

    /// The product's own columns, after [`STORED_COLUMNS`].
    fn own_columns() -> String;

    /// The alias of the table holding the booked training's `course_id`
    /// and UK `local_date`, which a list filters on.
    const TRAINING_TABLE: &'static str;

    /// Reads a row of [`ProductBooking::select`].
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self>;
    /// The columns every booking stores.
    fn stored(&self) -> &StoredBooking;
    /// The booking as answered, its links built on `public_url`.
    fn to_wire(&self, public_url: &str) -> Self::Wire;
    /// The path of the product's checkout stand-in for a booking's token.
    fn checkout_link(token: &str) -> String;
    /// The course's id.
    fn course_id(&self) -> i64;
    /// The course's name.
    fn course_name(&self) -> &str;
    /// The booking as wallet transactions describe it ("Booking #7001: ...").
    fn describe(&self) -> String;
    /// When the training starts, Unix seconds.
    fn start_utc(&self) -> i64;
    /// Where the training takes place, as the certificate says.
    fn place(&self) -> String;
    /// Refuses (422) a certificate that is not available yet.
    fn check_certificate(&self) -> Result<(), SandboxError>;
    /// Validates a `POST /bookings` body, collecting every error.
    fn validate(
        body: &Map<String, Value>,
        profile: &UpstreamProfile,
    ) -> Result<Self::Input, SandboxError>;

    /// The table of the product's idempotency keys.
    const KEYS_TABLE: &'static str;

    /// Books inside the caller's transaction: checks, pays, inserts and
    /// writes what it causes; returns the booking id.
    fn book(conn: &Connection, booker: &Booker, input: &Self::Input) -> Result<i64, SandboxError>;

    /// How it is paid.
    fn pay_method(&self) -> PayOption {
        PayOption::from_wire_name(Self::PRODUCT, &self.stored().pay_option)
    }

    /// The booking as the wallet refers to it.
    fn wallet_ref(&self) -> BookingRef {
        BookingRef::of(Self::PRODUCT, self.stored().id)
    }

    /// `SELECT` and the columns [`ProductBooking::from_row`] reads.
    fn select() -> String {
        format!("SELECT {STORED_COLUMNS}, {}", Self::own_columns())
    }

    /// One booking by id, limited to `account_id` when given.
    fn load(conn: &Connection, account_id: Option<i64>, id: i64) -> rusqlite::Result<Option<Self>> {
        conn.prepare_cached(&format!(
            "{} {} WHERE b.id = ?1 AND (?2 IS NULL OR b.account_id = ?2)",
            Self::select(),
            Self::FROM
        ))?
        .query_row(params![id, account_id], Self::from_row)
        .optional()
    }

    /// One booking by its checkout token, whatever the account.
    fn load_by_token(conn: &Connection, token: &str) -> rusqlite::Result<Option<Self>> {
        conn.prepare_cached(&format!(
            "{} {} WHERE b.checkout_token = ?1",
            Self::select(),
            Self::FROM
        ))?
        .query_row([token], Self::from_row)
        .optional()
    }

    /// The checkout link, with the stored `return_url`, while a
    /// `candidate_pays` booking awaits payment.
    fn payment_url(&self, public_url: &str) -> Option<String> {
        let stored = self.stored();
        let token = stored
            .checkout_token
            .as_ref()
            .filter(|_| stored.awaits_payment())?;
        let link = Self::checkout_link(token);
        let mut url = format!("{public_url}{link}");
        if let Some(return_url) = &stored.return_url {
            let encoded: String = form_urlencoded::byte_serialize(return_url.as_bytes()).collect();
            url.push(if link.contains('?') { '&' } else { '?' });
            url.push_str("return_url=");
            url.push_str(&encoded);
        }
        Some(url)
    }
}

/// `POST /bookings`: turns a live hold into a booking, once per
/// `Idempotency-Key`.
pub(crate) async fn create<B: ProductBooking>(
    State(state): State<AppState>,
    authed: Authed,
    headers: HeaderMap,
    JsonObject(body): JsonObject,
) -> Result<Response, SandboxError> {
    let profile = state.profile.get();
    let input = B::validate(&body, &profile)?;
    let request = RequestIdentity::of(&headers, body, &profile)?;
    let now = state.clock.now_secs();
    let account_id = authed.account_id;
    let public_url = state.public_url.clone();
    let created = state
        .db
        .call(move |conn| {
            book_once(
                conn,
                B::KEYS_TABLE,
                account_id,
                &request,
                now,
                |tx| {
                    let booker = Booker {
                        account_id,
                        public_url: &public_url,
                        now,
                    };
                    B::book(tx, &booker, &input)
                },
                B::load,
            )
        })
        .await?;
    if let Created::New(_) = created {
        state.webhooks.wake();
    }
    Ok(created.into_response(|booking| booking.to_wire(&state.public_url)))
}

/// `GET /bookings`: the account's bookings, newest first, with filters.
pub(crate) async fn list<B: ProductBooking>(
    State(state): State<AppState>,
    authed: Authed,
    query: QueryParams,
) -> Result<Json<Page<B::Wire>>, SandboxError> {
    let (filters, request) = BookingListQuery::read(&query, state.profile.get().max_per_page)?
        .filters(authed.account_id, B::TRAINING_TABLE);
    page_of::<B>(&state, "/bookings", &query, filters, "b.id DESC", request).await
}

/// One page of the bookings `filters` keep, in `order`, answered in the
/// envelope with links to `path`.
pub(crate) async fn page_of<B: ProductBooking>(
    state: &AppState,
    path: &str,
    query: &QueryParams,
    filters: Filters,
    order: &'static str,
    request: PageRequest,
) -> Result<Json<Page<B::Wire>>, SandboxError> {
    let (total, rows) = state
        .db
        .call(move |conn| {
            Ok(count_and_page(
                conn,
                &B::select(),
                B::FROM,
                filters,
                order,
                request,
                B::from_row,
            )?)
        })
        .await?;
    let data = rows
        .iter()
        .map(|booking| booking.to_wire(&state.public_url))
        .collect();
    Ok(Json(envelope(state, path, query, request, total, data)))
}

/// `GET /bookings/{id}`.
pub(crate) async fn show<B: ProductBooking>(
    State(state): State<AppState>,
    authed: Authed,
    id: PathParam,
) -> Result<Json<B::Wire>, SandboxError> {
    let booking = find::<B>(&state, authed.account_id, id).await?;
    Ok(Json(booking.to_wire(&state.public_url)))
}

/// `GET /bookings/{id}/certificate`: the completion certificate as a PDF,
/// once it is available.
pub(crate) async fn certificate<B: ProductBooking>(
    State(state): State<AppState>,
    authed: Authed,
    id: PathParam,
) -> Result<Response, SandboxError> {
    let booking = find::<B>(&state, authed.account_id, id).await?;
    booking.check_certificate()?;
    let stored = booking.stored();
    Ok(certificate_download(&CertificateFields {
        booking_id: stored.id,
        candidate_name: stored.candidate_name(),
        course_name: booking.course_name().to_owned(),
        location: booking.place(),
        date: to_uk(from_unix(booking.start_utc()))
            .format("%A %-d %B %Y")
            .to_string(),
    }))
}

/// Changes booking `id` (of `account_id` when given, of any account
/// otherwise; 404 when there is none) in one write transaction: `change`
/// gets the booking, the public URL and now, and may refuse with an error,
/// writing nothing. Answers the booking as it then stands.
pub(crate) async fn change_booking<B: ProductBooking>(
    state: &AppState,
    account_id: Option<i64>,
    id: i64,
    change: impl FnOnce(&Connection, &B, &str, i64) -> Result<(), SandboxError> + Send + 'static,
) -> Result<Json<B::Wire>, SandboxError> {
    let now = state.clock.now_secs();
    let public_url = state.public_url.clone();
    let booking = state
        .db
        .call(move |conn| {
            let tx = write_tx(conn)?;
            let booking =
                B::load(&tx, account_id, id)?.ok_or(SandboxError::NotFound(BOOKING_NOT_FOUND))?;
            change(&tx, &booking, &public_url, now)?;
            let booking = B::load(&tx, account_id, id)?
                .ok_or_else(|| SandboxError::Internal("changed booking missing".into()))?;
            tx.commit()?;
            Ok(booking)
        })
        .await?;
    state.webhooks.wake();
    Ok(Json(booking.to_wire(&state.public_url)))
}

/// Writes a booking event of `kind` for the booking's account, inside the
/// caller's transaction, carrying booking `id` of `B` as `B`'s API answers
/// it (links built on `public_url`) as it now stands.
pub(crate) fn emit_booking<B: ProductBooking>(
    conn: &Connection,
    kind: &str,
    id: i64,
    public_url: &str,
    now: i64,
) -> Result<(), SandboxError> {
    let booking = B::load(conn, None, id)?
        .ok_or_else(|| SandboxError::Internal("booking for an event missing".into()))?;
    let data = serde_json::to_value(booking.to_wire(public_url))
        .map_err(|error| SandboxError::Internal(error.to_string()))?;
    emit(
        conn,
        Audience::Account(booking.stored().account_id),
        kind,
        data,
        now,
    )?;
    Ok(())
}

/// Cancels a booking inside the caller's transaction: what it took comes
/// back (`wallet::refund`, the wallet transaction described as `reason`), a
/// paid booking ends `refunded`, it stops holding its seat or its trainer's
/// time (a cancelled booking counts for neither), and `booking.cancelled`
/// is written.
pub(crate) fn cancel_booking<B: ProductBooking>(
    conn: &Connection,
    booking: &B,
    reason: &str,
    public_url: &str,
    now: i64,
) -> Result<(), SandboxError> {
    let id = booking.stored().id;
    let description = format!("{reason}: {}", booking.describe());
    let pay_status = refund(
        conn,
        &Refund {
            account_id: booking.stored().account_id,
            pay_status: booking.stored().pay_status(),
            amount_pence: booking.stored().amount_pence,
            method: booking.pay_method(),
            course_id: booking.course_id(),
            booking: booking.wallet_ref(),
            description: &description,
        },
        now,
    )?;
    conn.prepare_cached(&format!(
        "UPDATE {} SET booking_status = 'cancelled', pay_status = ?1, cancelled_utc = ?2 \
         WHERE id = ?3",
        B::TABLE
    ))?
    .execute(params![pay_status.as_str(), now, id])?;
    emit_booking::<B>(conn, event::BOOKING_CANCELLED, id, public_url, now)
}

/// The account's booking with the path's id, or 404.
async fn find<B: ProductBooking>(
    state: &AppState,
    account_id: i64,
    id: PathParam,
) -> Result<B, SandboxError> {
    let id = id.id(BOOKING_NOT_FOUND)?;
    state
        .db
        .call(move |conn| Ok(B::load(conn, Some(account_id), id)?))
        .await?
        .ok_or(SandboxError::NotFound(BOOKING_NOT_FOUND))
}

/// The booking statuses a list can filter on.
const STATUSES: &[&str] = &["booked", "pending", "cancelled", "no_show", "completed"];

/// The filters of a booking list: `status`, `course_id`, `date_from`,
/// `date_to` (UK dates) and the page.
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
        let (date_from, date_to) = v.query_date_range(query);
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

    /// The account's bookings these filters keep, `training_table` naming
    /// the table of the course and UK date in the product's query; and the
    /// page asked for.
    pub(crate) fn filters(self, account_id: i64, training_table: &str) -> (Filters, PageRequest) {
        let mut filters = Filters::new("b.account_id = ?", SqlValue::Integer(account_id));
        filters.and_some("b.booking_status = ?", self.status.map(SqlValue::Text));
        filters.and_some(
            &format!("{training_table}.course_id = ?"),
            self.course_id.map(SqlValue::Integer),
        );
        filters.and_dates(
            &format!("{training_table}.local_date"),
            self.date_from,
            self.date_to,
        );
        (filters, self.page)
    }
}
