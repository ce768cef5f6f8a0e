//! Booking invites (`/booking-invites`): an agency invites a candidate to
//! book a course; the invite is "emailed" (written to the test-mode outbox,
//! `/_sandbox/outbox`); its link opens the account's booking page with the
//! invite applied, where the candidate picks an event and books.
//!
//! The published API names invites but documents nothing of them
//! beyond their existence: the path, fields, states and
//! event names here are all inferred.
//!
//! Invariants: an account sees only its own invites, and in the outbox only
//! its own emails (with its bearer token, as the API asks); an invite goes
//! `sent` → `opened` (its link first opened) → `used` (a booking made
//! through it), never back, and makes at most one booking, which records
//! the invite; each step writes its webhook event in the same transaction
//! (`booking_invite.sent`, `.opened`, `.used`); the booking page escapes
//! everything and runs no script.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use booking_core::api::{serialize_timestamp, CourseRef, Money, Page, PayOption, Timestamp};
use booking_core::contract::{Answer, Kind};
use booking_core::product::Product;
use booking_core::validation::NAME_MAX_CHARS;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;
use serde_json::{json, Value};

use super::auth::Authed;
use super::booking_api::ProductBooking;
use super::bookings::{book_for_invite, BookingRecord, InviteBooking};
use super::catalog::{to_u64, EventRow, EVENT_COLUMNS, EVENT_FROM};
use super::clock::{from_unix, utc_fixed};
use super::db::{live_holds, random_token, write_tx, BOOKED_SEATS};
use super::deliveries::{emit, event, Audience};
use super::errors::SandboxError;
use super::extract::{JsonObject, PathParam, QueryParams};
use super::pages::{escape_html, page, uk_when};
use super::pagination::{count_and_page, envelope, Filters, PageRequest};
use super::validate::Validator;
use super::AppState;

/// 404 message for an unknown invite.
const INVITE_NOT_FOUND: &str = "Booking invite not found.";
/// Length of the token in an invite link.
const INVITE_TOKEN_LEN: usize = 32;
/// Events offered on an invite's page.
const EVENTS_OFFERED: i64 = 20;

/// The candidate an invite is for.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct InvitedCandidate {
    /// Full name.
    pub name: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Where the invite was sent.
    pub email: String,
}

/// A booking invite as answered (`BookingInvite`, inferred).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct BookingInvite {
    /// Invite id.
    pub id: i64,
    /// The candidate.
    pub candidate: InvitedCandidate,
    /// The course to book.
    pub course: CourseRef,
    /// How the booking will be paid for.
    pub pay_option: String,
    /// `sent`, `opened` or `used`.
    pub status: String,
    /// The link in the email: the booking page with the invite applied.
    pub invite_url: String,
    /// The booking made through it, once used.
    pub booking_id: Option<i64>,
    /// When it was sent.
    #[serde(serialize_with = "serialize_timestamp")]
    pub created_at: Timestamp,
    /// When its link was first opened.
    pub opened_at: Option<Timestamp>,
    /// When a booking was made through it.
    pub used_at: Option<Timestamp>,
}

impl Answer for BookingInvite {
    /// Nothing of it is documented (the reference only says invites exist):
    /// an object without a documented field.
    const SHAPE: Kind = Kind::Object(&[]);
}

/// An invite row with what the page and the booking need.
#[derive(Debug, Clone)]
struct InviteRow {
    id: i64,
    account_id: i64,
    token: String,
    first_name: String,
    last_name: String,
    email: String,
    course: CourseRef,
    pay_option: String,
    status: String,
    booking_id: Option<i64>,
    created_utc: i64,
    opened_utc: Option<i64>,
    used_utc: Option<i64>,
    sgi_code: String,
    agency: String,
}

const INVITE_SELECT: &str = "SELECT i.id, i.account_id, i.token, i.first_name, i.last_name, \
     i.email, i.course_id, c.name, i.pay_option, i.status, i.booking_id, i.created_utc, \
     i.opened_utc, i.used_utc, a.sgi_code, a.name";
const INVITE_FROM: &str = "FROM booking_invites i JOIN courses c ON c.id = i.course_id \
     JOIN accounts a ON a.id = i.account_id";

impl InviteRow {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<InviteRow> {
        Ok(InviteRow {
            id: row.get(0)?,
            account_id: row.get(1)?,
            token: row.get(2)?,
            first_name: row.get(3)?,
            last_name: row.get(4)?,
            email: row.get(5)?,
            course: CourseRef {
                id: to_u64(row.get(6)?),
                name: row.get(7)?,
            },
            pay_option: row.get(8)?,
            status: row.get(9)?,
            booking_id: row.get(10)?,
            created_utc: row.get(11)?,
            opened_utc: row.get(12)?,
            used_utc: row.get(13)?,
            sgi_code: row.get(14)?,
            agency: row.get(15)?,
        })
    }

    fn name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    /// The link: the account's booking page with the invite applied.
    fn url(&self, state_url: &str) -> String {
        let code: String = form_urlencoded::byte_serialize(self.sgi_code.as_bytes()).collect();
        format!(
            "{state_url}/practical-training/?sgi={code}&invite={}",
            self.token
        )
    }

    fn to_wire(&self, public_url: &str) -> BookingInvite {
        BookingInvite {
            id: self.id,
            candidate: InvitedCandidate {
                name: self.name(),
                first_name: self.first_name.clone(),
                last_name: self.last_name.clone(),
                email: self.email.clone(),
            },
            course: self.course.clone(),
            pay_option: self.pay_option.clone(),
            status: self.status.clone(),
            invite_url: self.url(public_url),
            booking_id: self.booking_id,
            created_at: utc_fixed(from_unix(self.created_utc)),
            opened_at: self.opened_utc.map(|at| utc_fixed(from_unix(at))),
            used_at: self.used_utc.map(|at| utc_fixed(from_unix(at))),
        }
    }
}

fn load_invite(
    conn: &Connection,
    account_id: Option<i64>,
    id: i64,
) -> rusqlite::Result<Option<InviteRow>> {
    conn.prepare_cached(&format!(
        "{INVITE_SELECT} {INVITE_FROM} WHERE i.id = ?1 AND (?2 IS NULL OR i.account_id = ?2)"
    ))?
    .query_row(params![id, account_id], InviteRow::from_row)
    .optional()
}

fn load_invite_by_token(conn: &Connection, token: &str) -> rusqlite::Result<Option<InviteRow>> {
    conn.prepare_cached(&format!("{INVITE_SELECT} {INVITE_FROM} WHERE i.token = ?1"))?
        .query_row([token], InviteRow::from_row)
        .optional()
}

/// Writes the invite event of `kind` carrying the invite as it now stands.
fn emit_invite(
    conn: &Connection,
    kind: &str,
    id: i64,
    public_url: &str,
    now: i64,
) -> Result<(), SandboxError> {
    let invite = load_invite(conn, None, id)?
        .ok_or_else(|| SandboxError::Internal("invite for an event missing".into()))?;
    let data = serde_json::to_value(invite.to_wire(public_url))
        .map_err(|error| SandboxError::Internal(error.to_string()))?;
    emit(conn, Audience::Account(invite.account_id), kind, data, now)?;
    Ok(())
}

/// `POST /booking-invites`: `first_name`, `last_name`, `email`, `course_id`
/// (required), `pay_option` (default `candidate_pays`). The invite is
/// "emailed" to the outbox; 201 with the invite.
pub(crate) async fn create(
    State(state): State<AppState>,
    authed: Authed,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<BookingInvite>), SandboxError> {
    let mut v = Validator::default();
    let first_name = v.string(&body, "first_name", true, NAME_MAX_CHARS);
    let last_name = v.string(&body, "last_name", true, NAME_MAX_CHARS);
    let email = v.email(&body, "email", true);
    let course_id = v.integer(&body, "course_id", true, 1, i64::MAX);
    let pay_option = v
        .string(&body, "pay_option", false, 32)
        .map(|value| PayOption::from_wire_name(Product::Practical, &value));
    if let Some(PayOption::Other(_)) = pay_option {
        v.add("pay_option", "The selected pay option is invalid.");
    }
    v.finish()?;
    let (Some(first_name), Some(last_name), Some(email), Some(course_id)) =
        (first_name, last_name, email, course_id)
    else {
        return Err(SandboxError::Internal("validated fields missing".into()));
    };
    let pay_option = pay_option
        .unwrap_or(PayOption::CandidatePays)
        .wire_name(Product::Practical)
        .to_owned();
    let now = state.clock.now_secs();
    let public_url = state.public_url.clone();
    let invite = state
        .db
        .call(move |conn| {
            let tx = write_tx(conn)?;
            let course: Option<i64> = tx
                .query_row(
                    "SELECT id FROM courses WHERE id = ?1 AND active = 1",
                    [course_id],
                    |row| row.get(0),
                )
                .optional()?;
            if course.is_none() {
                return Err(SandboxError::invalid(
                    "course_id",
                    "The selected course id is invalid.",
                ));
            }
            tx.execute(
                "INSERT INTO booking_invites (account_id, token, first_name, last_name, email, \
                 course_id, pay_option, status, created_utc) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'sent', ?8)",
                params![
                    authed.account_id,
                    random_token(INVITE_TOKEN_LEN),
                    first_name,
                    last_name,
                    email,
                    course_id,
                    pay_option,
                    now
                ],
            )?;
            let id = tx.last_insert_rowid();
            let invite = load_invite(&tx, None, id)?
                .ok_or_else(|| SandboxError::Internal("new invite missing".into()))?;
            let link = invite.url(&public_url);
            tx.execute(
                "INSERT INTO outbox (account_id, to_name, to_email, subject, body, link, \
                 invite_id, created_utc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    authed.account_id,
                    invite.name(),
                    invite.email,
                    format!(
                        "{} invites you to book {}",
                        invite.agency, invite.course.name
                    ),
                    format!(
                        "Hello {},\n\n{} invites you to book a place on {}. Choose a date and \
                         venue here:\n\n{link}\n",
                        invite.first_name, invite.agency, invite.course.name
                    ),
                    link,
                    id,
                    now
                ],
            )?;
            emit_invite(&tx, event::INVITE_SENT, id, &public_url, now)?;
            tx.commit()?;
            Ok(invite)
        })
        .await?;
    state.webhooks.wake();
    Ok((StatusCode::CREATED, Json(invite.to_wire(&state.public_url))))
}

/// `GET /booking-invites[?status=sent|opened|used]`: the account's invites,
/// newest first.
pub(crate) async fn list(
    State(state): State<AppState>,
    authed: Authed,
    query: QueryParams,
) -> Result<Json<Page<BookingInvite>>, SandboxError> {
    let mut v = Validator::default();
    let status = v
        .query_choice(query.get("status"), "status", &["sent", "opened", "used"])
        .map(str::to_owned);
    let request = PageRequest::from_query(&query, &mut v, state.profile.get().max_per_page);
    v.finish()?;
    let mut filters = Filters::new("i.account_id = ?", SqlValue::Integer(authed.account_id));
    filters.and_some("i.status = ?", status.map(SqlValue::Text));
    let (total, rows) = state
        .db
        .call(move |conn| {
            Ok(count_and_page(
                conn,
                INVITE_SELECT,
                INVITE_FROM,
                filters,
                "i.id DESC",
                request,
                InviteRow::from_row,
            )?)
        })
        .await?;
    let data = rows
        .iter()
        .map(|invite| invite.to_wire(&state.public_url))
        .collect();
    Ok(Json(envelope(
        &state,
        "/booking-invites",
        &query,
        request,
        total,
        data,
    )))
}

/// `GET /booking-invites/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    authed: Authed,
    id: PathParam,
) -> Result<Json<BookingInvite>, SandboxError> {
    let id = id.id(INVITE_NOT_FOUND)?;
    let invite = state
        .db
        .call(move |conn| Ok(load_invite(conn, Some(authed.account_id), id)?))
        .await?
        .ok_or(SandboxError::NotFound(INVITE_NOT_FOUND))?;
    Ok(Json(invite.to_wire(&state.public_url)))
}

/// One email in the test-mode outbox.
#[derive(Debug, Serialize)]
struct OutboxEmail {
    id: i64,
    to: Value,
    subject: String,
    body: String,
    link: String,
    booking_invite_id: Option<i64>,
    created_at: String,
}

/// `GET /_sandbox/outbox[?email=ADDRESS]`: every email the sandbox "sent"
/// for the caller's account, oldest first.
pub(crate) async fn outbox(
    State(state): State<AppState>,
    authed: Authed,
    query: QueryParams,
) -> Result<Json<Value>, SandboxError> {
    let email = query.get("email").map(str::to_owned);
    let emails = state
        .db
        .call(move |conn| {
            let emails: Vec<OutboxEmail> = conn
                .prepare(
                    "SELECT id, to_name, to_email, subject, body, link, invite_id, created_utc \
                     FROM outbox WHERE account_id = ?2 AND (?1 IS NULL OR to_email = ?1) \
                     ORDER BY id",
                )?
                .query_map(params![email, authed.account_id], |row| {
                    Ok(OutboxEmail {
                        id: row.get(0)?,
                        to: json!({ "name": row.get::<_, String>(1)?, "email": row.get::<_, String>(2)? }),
                        subject: row.get(3)?,
                        body: row.get(4)?,
                        link: row.get(5)?,
                        booking_invite_id: row.get(6)?,
                        created_at: utc_fixed(from_unix(row.get(7)?)).to_rfc3339(),
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(emails)
        })
        .await?;
    Ok(Json(json!({ "data": emails })))
}

/// The bookable events an invite offers: its course, not started, with a
/// seat free of bookings and live holds, soonest first.
fn offered_events(
    conn: &Connection,
    course_id: u64,
    now: i64,
) -> Result<Vec<EventRow>, SandboxError> {
    let rows: Vec<EventRow> = conn
        .prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS}, {BOOKED_SEATS} {EVENT_FROM} \
             WHERE e.course_id = ?1 AND e.start_utc > ?2 ORDER BY e.start_utc, e.id LIMIT ?3"
        ))?
        .query_map(
            params![
                i64::try_from(course_id).unwrap_or(0),
                now,
                EVENTS_OFFERED * 3
            ],
            EventRow::from_row,
        )?
        .collect::<rusqlite::Result<_>>()?;
    let mut offered = Vec::new();
    for row in rows {
        if row.remaining() - live_holds(conn, row.id, now)? > 0 {
            offered.push(row);
        }
        if offered.len() >= usize::try_from(EVENTS_OFFERED).unwrap_or(20) {
            break;
        }
    }
    Ok(offered)
}

/// `GET /practical-training/?sgi=CODE&invite=TOKEN`: the booking page with
/// an invite applied. The first opening marks it `opened`.
pub(crate) async fn page_for(state: &AppState, code: String, token: String) -> Response {
    let now = state.clock.now_secs();
    let public_url = state.public_url.clone();
    let found = state
        .db
        .call(move |conn| {
            let tx = write_tx(conn)?;
            let Some(invite) = load_invite_by_token(&tx, &token)?.filter(|i| i.sgi_code == code)
            else {
                return Ok(None);
            };
            if invite.status == "sent" {
                tx.execute(
                    "UPDATE booking_invites SET status = 'opened', opened_utc = ?1 WHERE id = ?2",
                    params![now, invite.id],
                )?;
                emit_invite(&tx, event::INVITE_OPENED, invite.id, &public_url, now)?;
            }
            let events = offered_events(&tx, invite.course.id, now)?;
            tx.commit()?;
            Ok(Some((invite, events)))
        })
        .await;
    state.webhooks.wake();
    match found {
        Err(error) => problem(error),
        Ok(None) => page(
            StatusCode::NOT_FOUND,
            "Invite not found",
            "<p>This invite link is not valid. Ask the agency for a new one.</p>\n",
        ),
        Ok(Some((invite, _))) if invite.status == "used" => page(
            StatusCode::OK,
            "Invite already used",
            &format!(
                "<p>This invite has already been used for booking #{}.</p>\n",
                invite.booking_id.unwrap_or_default()
            ),
        ),
        Ok(Some((invite, events))) => {
            let mut body = format!(
                "<p>Hello {}, {} invites you to book <strong>{}</strong>.</p>\n",
                escape_html(&invite.first_name),
                escape_html(&invite.agency),
                escape_html(&invite.course.name)
            );
            if events.is_empty() {
                body.push_str(
                    "<p>No dates have seats at the moment. Please try again later.</p>\n",
                );
            }
            let action = format!("/practical-training/invites/{}", escape_html(&invite.token));
            for event in &events {
                body.push_str(&format!(
                    "<form method=\"post\" action=\"{action}\">\n\
                     <input type=\"hidden\" name=\"event_id\" value=\"{}\">\n\
                     <p>{}, {} ({} seats left, {})</p>\n\
                     <button type=\"submit\">Book this date</button>\n</form>\n",
                    event.id,
                    escape_html(&uk_when(event.start_utc)),
                    escape_html(&event.location.name),
                    event.remaining(),
                    escape_html(&Money(event.cost_pence).to_string()),
                ));
            }
            page(StatusCode::OK, "Book your training", &body)
        }
    }
}

/// A failure shown as a page: a 4xx's message as it is, a 5xx's never.
fn problem(error: SandboxError) -> Response {
    let message = match &error {
        SandboxError::Validation(body) => Some(body.message.clone()),
        SandboxError::NotFound(text) => Some((*text).to_owned()),
        _ => None,
    };
    let status = error.into_response().status();
    page(
        status,
        "The booking could not be made",
        &format!(
            "<p>{}</p>\n",
            escape_html(
                message
                    .as_deref()
                    .unwrap_or("Something went wrong. Please try again.")
            )
        ),
    )
}

/// `POST /practical-training/invites/{token}` (form: `event_id`): books the
/// chosen event through the invite, ties the booking to it and marks it
/// `used`. A `candidate_pays` invite then goes (303) to the checkout page.
pub(crate) async fn book(State(state): State<AppState>, token: PathParam, body: Bytes) -> Response {
    let event_id = form_urlencoded::parse(&body)
        .find(|(key, _)| key == "event_id")
        .and_then(|(_, value)| super::validate::parse_integer(value.trim()))
        .filter(|id| *id > 0);
    let Some(event_id) = event_id else {
        return problem(SandboxError::invalid("event_id", "Choose a date to book."));
    };
    let token = token.0;
    let now = state.clock.now_secs();
    let public_url = state.public_url.clone();
    let booked = state
        .db
        .call(move |conn| {
            let tx = write_tx(conn)?;
            let invite = load_invite_by_token(&tx, &token)?
                .ok_or(SandboxError::NotFound(INVITE_NOT_FOUND))?;
            if invite.status == "used" {
                return Err(SandboxError::invalid(
                    "invite",
                    "This invite has already been used.",
                ));
            }
            let course: Option<i64> = tx
                .query_row(
                    "SELECT course_id FROM training_events WHERE id = ?1",
                    [event_id],
                    |row| row.get(0),
                )
                .optional()?;
            if course.map(to_u64) != Some(invite.course.id) {
                return Err(SandboxError::invalid(
                    "event_id",
                    "The selected training event is not one this invite offers.",
                ));
            }
            if invite.status == "sent" {
                tx.execute(
                    "UPDATE booking_invites SET status = 'opened', opened_utc = ?1 WHERE id = ?2",
                    params![now, invite.id],
                )?;
                emit_invite(&tx, event::INVITE_OPENED, invite.id, &public_url, now)?;
            }
            let booking_id = book_for_invite(
                &tx,
                &InviteBooking {
                    invite_id: invite.id,
                    account_id: invite.account_id,
                    event_id,
                    first_name: invite.first_name.clone(),
                    last_name: invite.last_name.clone(),
                    email: invite.email.clone(),
                    pay_option: invite.pay_option.clone(),
                },
                &public_url,
                now,
            )?;
            tx.execute(
                "UPDATE booking_invites SET status = 'used', used_utc = ?1, booking_id = ?2 \
                 WHERE id = ?3",
                params![now, booking_id, invite.id],
            )?;
            emit_invite(&tx, event::INVITE_USED, invite.id, &public_url, now)?;
            let booking = BookingRecord::load(&tx, None, booking_id)?
                .ok_or_else(|| SandboxError::Internal("invite booking missing".into()))?;
            tx.commit()?;
            Ok(booking)
        })
        .await;
    state.webhooks.wake();
    let booking = match booked {
        Ok(booking) => booking,
        Err(error) => return problem(error),
    };
    if let Some(location) = booking
        .payment_url(&state.public_url)
        .and_then(|url| HeaderValue::from_str(&url).ok())
    {
        return (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response();
    }
    page(
        StatusCode::OK,
        "You are booked",
        &format!(
            "<p>Your place on {} at {} on {} is booked (booking #{}).</p>\n",
            escape_html(&booking.event.course.name),
            escape_html(&booking.event.location.name),
            escape_html(&uk_when(booking.event.start_utc)),
            booking.stored.id
        ),
    )
}
