//! Test-mode endpoints under `/_sandbox/`, mounted only with `--test-clock`:
//! the movable clock and fixtures for end-to-end and gateway tests.
//!
//! Invariants: none of these exist (404) without test mode; they need no
//! token, except the two that show an account's own data, which need its
//! bearer token as the API does and show that account's only: the webhook
//! delivery log (each receiver's answers) and the outbox (invite links);
//! they change data only through the same rules as the API (a filled
//! event keeps the seats of live holds, accounts get their opening balance
//! and credits as wallet transactions, a booking refused at review is
//! cancelled and refunded as the API's cancel does); the clock only moves
//! forward.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Json;
use axum::Router;
use booking_core::api::{
    serialize_timestamp, BookingDetail, BookingStatus, ClientProfile, CreditsResponse, PayStatus,
    Timestamp, TrainingEventDetail,
};
use chrono::{DateTime, Datelike, Duration, Utc};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use serde_json::Value;

use super::accounts::{load_credits, load_profile};
use super::booking_api::{cancel_booking, change_booking, emit_booking, BOOKING_NOT_FOUND};
use super::bookings::{emit_seats_low, BookingRecord};
use super::catalog::{load_event, EVENT_NOT_FOUND};
use super::clock::utc_fixed;
use super::db::{
    book_for_others, insert_account, insert_event, live_holds, write_tx, NewAccount, NewEvent,
};
use super::deliveries::event;
use super::errors::SandboxError;
use super::extract::{IgnoredBody, JsonObject, PathParam};
use super::profile::UpstreamProfile;
use super::validate::Validator;
use super::{AppState, Product};

/// The test-mode routes, relative to `/_sandbox`.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/clock", get(clock).post(advance_clock))
        .route("/profile", get(profile).post(change_profile))
        .route("/accounts", post(create_account))
        .route("/training-events", post(create_event))
        .route("/training-events/{id}/fill", post(fill_event))
        .route("/bookings/{id}/attendance", post(mark_attendance))
        .route("/bookings/{id}/review", post(review_booking))
        .route("/bookings/{id}/reschedule", post(reschedule_booking))
        .route("/bookings/{id}/cancel", post(cancel_by_provider))
        .route("/webhook-deliveries", get(super::deliveries::log))
        .route("/outbox", get(super::invites::outbox))
}

/// `GET/POST /_sandbox/clock` response.
#[derive(Debug, Serialize)]
pub(crate) struct ClockReading {
    /// The sandbox's now (UTC).
    #[serde(serialize_with = "serialize_timestamp")]
    pub now: Timestamp,
    /// Seconds the clock runs ahead of real time.
    pub offset_seconds: i64,
}

fn reading(state: &AppState) -> ClockReading {
    ClockReading {
        now: utc_fixed(state.clock.now()),
        offset_seconds: state.clock.offset_seconds(),
    }
}

/// `GET /_sandbox/clock`.
async fn clock(State(state): State<AppState>) -> Json<ClockReading> {
    Json(reading(&state))
}

/// `POST /_sandbox/clock` `{ "advance_seconds": N }` (1 to 31,536,000).
async fn advance_clock(
    State(state): State<AppState>,
    JsonObject(body): JsonObject,
) -> Result<Json<ClockReading>, SandboxError> {
    let mut v = Validator::default();
    let seconds = v.integer(&body, "advance_seconds", true, 1, 31_536_000);
    v.finish()?;
    let seconds = seconds
        .and_then(|seconds| u32::try_from(seconds).ok())
        .ok_or_else(|| SandboxError::Internal("validated field missing".into()))?;
    if !state.clock.advance(seconds) {
        return Err(SandboxError::invalid(
            "advance_seconds",
            "The sandbox clock cannot run more than a century ahead.",
        ));
    }
    state.webhooks.wake();
    Ok(Json(reading(&state)))
}

/// `GET /_sandbox/profile`: the upstream profile in force.
async fn profile(State(state): State<AppState>) -> Json<UpstreamProfile> {
    Json(state.profile.get())
}

/// `POST /_sandbox/profile` `{ "hold_scope": "account", ... }`: changes the
/// switches named, keeps the others, and answers the profile now in force.
/// A bad switch is a 422 naming it, and nothing changes.
async fn change_profile(
    State(state): State<AppState>,
    JsonObject(body): JsonObject,
) -> Result<Json<UpstreamProfile>, SandboxError> {
    let mut profile = state.profile.get();
    for (key, value) in &body {
        let written = match value {
            Value::String(text) => text.clone(),
            Value::Number(number) => number.to_string(),
            _ => {
                return Err(SandboxError::invalid(
                    key,
                    "A profile switch is a string (or a number for max_per_page).",
                ))
            }
        };
        profile
            .set(key, &written)
            .map_err(|error| SandboxError::invalid(key, error.to_string()))?;
    }
    state.profile.set(profile);
    Ok(Json(profile))
}

/// `POST /_sandbox/accounts` response.
#[derive(Debug, Serialize)]
pub(crate) struct CreatedAccount {
    /// The new account's profile.
    pub profile: ClientProfile,
    /// Its credits and balance.
    pub credits: CreditsResponse,
}

/// `POST /_sandbox/accounts`: `hb_client_id`, `api_key` (required), `name`,
/// `email`, `invoice_payments`, `balance` (pounds), `credits`
/// (`[{ "course_id", "credits" }]`).
async fn create_account(
    State(state): State<AppState>,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<CreatedAccount>), SandboxError> {
    let mut v = Validator::default();
    let client_id = v.string(&body, "hb_client_id", true, 64);
    let api_key = v.string(&body, "api_key", true, 255);
    let name = v.string(&body, "name", false, 200);
    let email = v.email(&body, "email", false);
    let invoice_payments = v.boolean(&body, "invoice_payments").unwrap_or(false);
    let balance = v.pounds(&body, "balance", false).unwrap_or(0);
    let product = match v.string(&body, "product", false, 32).as_deref() {
        None | Some("practical") => Product::Practical,
        Some("virtual_bls") => Product::VirtualBls,
        Some(_) => {
            v.add("product", "The selected product is invalid.");
            Product::Practical
        }
    };
    let mut credits: Vec<(i64, i64)> = Vec::new();
    match body.get("credits") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) if items.len() <= 100 => {
            for (index, item) in items.iter().enumerate() {
                let Some(item) = item.as_object() else {
                    v.add(
                        &format!("credits.{index}"),
                        "Each credits entry must be an object.",
                    );
                    continue;
                };
                let course = v.integer(item, "course_id", true, 1, i64::MAX);
                let count = v.integer(item, "credits", true, 0, 10_000);
                if let (Some(course), Some(count)) = (course, count) {
                    credits.push((course, count));
                }
            }
        }
        Some(_) => v.add(
            "credits",
            "The credits field must be a list of at most 100 entries.",
        ),
    }
    v.finish()?;
    let (Some(client_id), Some(api_key)) = (client_id, api_key) else {
        return Err(SandboxError::Internal("validated fields missing".into()));
    };
    let now = state.clock.now_secs();
    let shared = state.as_product(product);
    let created = state
        .db
        .call(move |conn| {
            let tx = write_tx(conn)?;
            let taken: Option<i64> = tx
                .query_row(
                    "SELECT id FROM accounts WHERE hb_client_id = ?1",
                    [&client_id],
                    |row| row.get(0),
                )
                .optional()?;
            if taken.is_some() {
                return Err(SandboxError::invalid(
                    "hb_client_id",
                    "The hb client id has already been taken.",
                ));
            }
            let mut v = Validator::default();
            for (index, (course_id, _)) in credits.iter().enumerate() {
                let exists: Option<i64> = tx
                    .query_row(
                        "SELECT id FROM courses WHERE id = ?1 AND product = ?2",
                        params![course_id, product.as_str()],
                        |row| row.get(0),
                    )
                    .optional()?;
                if exists.is_none() {
                    v.add(
                        &format!("credits.{index}.course_id"),
                        "The selected course id is invalid.",
                    );
                }
            }
            v.finish()?;
            let sgi: String = client_id
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .map(|c| c.to_ascii_uppercase())
                .collect();
            let name = name.unwrap_or_else(|| format!("Sandbox agency {client_id}"));
            let email = email.unwrap_or_else(|| "agency@sandbox.example".to_owned());
            let id = insert_account(
                &tx,
                &NewAccount {
                    id: None,
                    hb_client_id: &client_id,
                    api_key: &api_key,
                    name: &name,
                    email: &email,
                    sgi_code: &sgi,
                    invoice_payments,
                    balance_pence: balance,
                    credits: &credits,
                    product: product.as_str(),
                },
                now,
            )?;
            let created = CreatedAccount {
                profile: load_profile(&tx, &shared, id)?,
                credits: load_credits(&tx, id)?,
            };
            tx.commit()?;
            Ok(created)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Reads an RFC 3339 timestamp field (years 2000 to 2200).
pub(crate) fn timestamp(
    v: &mut Validator,
    body: &serde_json::Map<String, Value>,
    field: &str,
    required: bool,
) -> Option<DateTime<Utc>> {
    let raw = v.string(body, field, required, 64)?;
    match DateTime::parse_from_rfc3339(&raw) {
        Ok(at) if (2000..=2200).contains(&at.year()) => Some(at.with_timezone(&Utc)),
        Ok(_) => {
            v.add(
                field,
                format!(
                    "The {} field must be between the years 2000 and 2200.",
                    field.replace('_', " ")
                ),
            );
            None
        }
        Err(_) => {
            v.add(
                field,
                format!(
                    "The {} field must be an ISO 8601 date-time with an offset.",
                    field.replace('_', " ")
                ),
            );
            None
        }
    }
}

/// `POST /_sandbox/training-events`: `course_id`, `location_id`,
/// `start_date` (required), `end_date` (default: start plus the course's
/// duration), `capacity` (default 12), `cost_inc_vat` (default: the course's
/// price), `trainer_id`.
async fn create_event(
    State(state): State<AppState>,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<TrainingEventDetail>), SandboxError> {
    let mut v = Validator::default();
    let course_id = v.integer(&body, "course_id", true, 1, i64::MAX);
    let location_id = v.integer(&body, "location_id", true, 1, i64::MAX);
    let trainer_id = v.integer(&body, "trainer_id", false, 1, i64::MAX);
    let start = timestamp(&mut v, &body, "start_date", true);
    let end = timestamp(&mut v, &body, "end_date", false);
    let capacity = v.integer(&body, "capacity", false, 0, 1000).unwrap_or(12);
    let cost = v.pounds(&body, "cost_inc_vat", false);
    if let (Some(start), Some(end)) = (start, end) {
        if end <= start {
            v.add(
                "end_date",
                "The end date field must be a date after start date.",
            );
        }
    }
    v.finish()?;
    let (Some(course_id), Some(location_id), Some(start)) = (course_id, location_id, start) else {
        return Err(SandboxError::Internal("validated fields missing".into()));
    };
    let booking_url = format!("{}/practical-training/", state.public_url);
    let row = state
        .db
        .call(move |conn| {
            let tx = write_tx(conn)?;
            let course: Option<(i64, i64)> = tx
                .query_row(
                    "SELECT duration_minutes, cost_pence FROM courses WHERE id = ?1",
                    [course_id],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?;
            let location: Option<i64> = tx
                .query_row(
                    "SELECT id FROM locations WHERE id = ?1",
                    [location_id],
                    |row| row.get(0),
                )
                .optional()?;
            let trainer_ok = match trainer_id {
                Some(id) => tx
                    .query_row("SELECT id FROM trainers WHERE id = ?1", [id], |row| {
                        row.get::<_, i64>(0)
                    })
                    .optional()?
                    .is_some(),
                None => true,
            };
            let mut v = Validator::default();
            if course.is_none() {
                v.add("course_id", "The selected course id is invalid.");
            }
            if location.is_none() {
                v.add("location_id", "The selected location id is invalid.");
            }
            if !trainer_ok {
                v.add("trainer_id", "The selected trainer id is invalid.");
            }
            v.finish()?;
            let (minutes, course_cost) = course.unwrap_or((60, 0));
            let id = insert_event(
                &tx,
                &NewEvent {
                    course_id,
                    location_id,
                    trainer_id,
                    start,
                    end: end.unwrap_or(start + Duration::minutes(minutes)),
                    capacity,
                    cost_pence: cost.unwrap_or(course_cost),
                },
            )?;
            let row = load_event(&tx, id)?
                .ok_or_else(|| SandboxError::Internal("new event missing".into()))?;
            tx.commit()?;
            Ok(row)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(row.to_detail(&booking_url))))
}

/// `POST /_sandbox/training-events/{id}/fill`: books every seat that is
/// neither booked nor covered by a live hold, for other (internal) bookers.
async fn fill_event(
    State(state): State<AppState>,
    id: PathParam,
    _body: IgnoredBody,
) -> Result<Json<TrainingEventDetail>, SandboxError> {
    let id = id.id(EVENT_NOT_FOUND)?;
    let now = state.clock.now_secs();
    let booking_url = format!("{}/practical-training/", state.public_url);
    let public_url = state.public_url.clone();
    let row = state
        .db
        .call(move |conn| {
            let tx = write_tx(conn)?;
            let event = load_event(&tx, id)?.ok_or(SandboxError::NotFound(EVENT_NOT_FOUND))?;
            let free = (event.remaining() - live_holds(&tx, id, now)?).max(0);
            book_for_others(&tx, id, free, now)?;
            emit_seats_low(&tx, &event, &public_url, now)?;
            let row = load_event(&tx, id)?
                .ok_or_else(|| SandboxError::Internal("filled event missing".into()))?;
            tx.commit()?;
            Ok(row)
        })
        .await?;
    state.webhooks.wake();
    Ok(Json(row.to_detail(&booking_url)))
}

/// `POST /_sandbox/bookings/{id}/attendance` `{ "attendance": "attended" |
/// "no_show" }`: records attendance once the event has started. Attended
/// bookings become `completed` with a certificate; others `no_show`.
async fn mark_attendance(
    State(state): State<AppState>,
    id: PathParam,
    JsonObject(body): JsonObject,
) -> Result<Json<BookingDetail>, SandboxError> {
    let id = id.id(BOOKING_NOT_FOUND)?;
    let mut v = Validator::default();
    let attendance = v.string(&body, "attendance", true, 16);
    let attended = match attendance.as_deref() {
        Some("attended") => true,
        Some("no_show") => false,
        Some(_) => {
            v.add("attendance", "The selected attendance is invalid.");
            false
        }
        None => false,
    };
    v.finish()?;
    change_booking(
        &state,
        None,
        id,
        move |tx, booking: &BookingRecord, public_url, now| {
            if booking.stored.is_cancelled() {
                return Err(SandboxError::invalid(
                    "booking",
                    "This booking has been cancelled.",
                ));
            }
            if booking.event.start_utc > now {
                return Err(SandboxError::invalid(
                    "booking",
                    "The training event has not started yet.",
                ));
            }
            let (status, mark) = if attended {
                ("completed", "attended")
            } else {
                ("no_show", "no_show")
            };
            tx.execute(
                "UPDATE bookings SET booking_status = ?1, attendance = ?2, \
                 certificate_available = ?3 WHERE id = ?4",
                params![status, mark, attended, id],
            )?;
            emit_booking::<BookingRecord>(
                tx,
                event::BOOKING_ATTENDANCE_MARKED,
                id,
                public_url,
                now,
            )?;
            let follow_up = if attended {
                event::BOOKING_CERTIFICATE_AVAILABLE
            } else {
                event::BOOKING_NO_SHOW
            };
            emit_booking::<BookingRecord>(tx, follow_up, id, public_url, now)
        },
    )
    .await
}

/// `POST /_sandbox/bookings/{id}/review` `{ "approve": true | false }`:
/// settles a booking that awaits review (a course that requires it, such as
/// PMVA). Approved, it is `booked` once paid; an unpaid `candidate_pays`
/// booking stays `pending` until its checkout page is paid, then becomes
/// `booked`. Refused, it is cancelled as `POST /bookings/{id}/cancel` would
/// (credit or money back, invoice voided, seat freed). Any other booking,
/// or one already settled, is a 422.
async fn review_booking(
    State(state): State<AppState>,
    id: PathParam,
    JsonObject(body): JsonObject,
) -> Result<Json<BookingDetail>, SandboxError> {
    let id = id.id(BOOKING_NOT_FOUND)?;
    let mut v = Validator::default();
    let approve = v.boolean(&body, "approve");
    if matches!(body.get("approve"), None | Some(Value::Null)) {
        v.add("approve", "The approve field is required.");
    }
    v.finish()?;
    let approve =
        approve.ok_or_else(|| SandboxError::Internal("validated field missing".into()))?;
    change_booking(
        &state,
        None,
        id,
        move |tx, booking: &BookingRecord, public_url, now| {
            if !booking.awaits_review() {
                return Err(SandboxError::invalid(
                    "booking",
                    "This booking is not awaiting review.",
                ));
            }
            if approve {
                let status = if booking.stored.pay_status == PayStatus::Completed.as_str() {
                    BookingStatus::Booked
                } else {
                    BookingStatus::Pending
                };
                tx.execute(
                    "UPDATE bookings SET booking_status = ?1, reviewed_utc = ?2 WHERE id = ?3",
                    params![status.as_str(), now, id],
                )?;
                if status == BookingStatus::Booked {
                    emit_booking::<BookingRecord>(
                        tx,
                        event::BOOKING_CONFIRMED,
                        id,
                        public_url,
                        now,
                    )?;
                }
            } else {
                cancel_booking(tx, booking, "Not approved at review", public_url, now)?;
                tx.execute(
                    "UPDATE bookings SET reviewed_utc = ?1 WHERE id = ?2",
                    params![now, id],
                )?;
            }
            Ok(())
        },
    )
    .await
}

/// `POST /_sandbox/bookings/{id}/reschedule` `{ "training_event_id": N }`:
/// the provider moves a booking to another event of its course that has
/// not started and has a free seat (live holds keep theirs), as the
/// provider's own "Booking Rescheduled" does; `booking.rescheduled` is
/// written.
async fn reschedule_booking(
    State(state): State<AppState>,
    id: PathParam,
    JsonObject(body): JsonObject,
) -> Result<Json<BookingDetail>, SandboxError> {
    let id = id.id(BOOKING_NOT_FOUND)?;
    let mut v = Validator::default();
    let event_id = v.integer(&body, "training_event_id", true, 1, i64::MAX);
    v.finish()?;
    let event_id =
        event_id.ok_or_else(|| SandboxError::Internal("validated field missing".into()))?;
    change_booking(
        &state,
        None,
        id,
        move |tx, booking: &BookingRecord, public_url, now| {
            if booking.stored.is_cancelled() {
                return Err(SandboxError::invalid(
                    "booking",
                    "This booking has been cancelled.",
                ));
            }
            let event = load_event(tx, event_id)?.ok_or(SandboxError::NotFound(EVENT_NOT_FOUND))?;
            let refusal = if event.id == booking.event.id {
                Some("The booking is already on this training event.")
            } else if event.course.id != booking.event.course.id {
                Some("The training event must be of the booking's course.")
            } else if event.start_utc <= now {
                Some("The training event has already started.")
            } else if event.capacity - event.booked - live_holds(tx, event.id, now)? < 1 {
                Some("The training event has no free seat.")
            } else {
                None
            };
            if let Some(message) = refusal {
                return Err(SandboxError::invalid("training_event_id", message));
            }
            tx.execute(
                "UPDATE bookings SET event_id = ?1 WHERE id = ?2",
                params![event.id, id],
            )?;
            emit_booking::<BookingRecord>(tx, event::BOOKING_RESCHEDULED, id, public_url, now)
        },
    )
    .await
}

/// `POST /_sandbox/bookings/{id}/cancel`: the provider cancels a booking
/// (at any time, unlike the agency's cancel before the start), refunding
/// as the API's cancel does; `booking.cancelled` is written.
async fn cancel_by_provider(
    State(state): State<AppState>,
    id: PathParam,
    _body: IgnoredBody,
) -> Result<Json<BookingDetail>, SandboxError> {
    let id = id.id(BOOKING_NOT_FOUND)?;
    change_booking(
        &state,
        None,
        id,
        move |tx, booking: &BookingRecord, public_url, now| {
            if booking.stored.is_cancelled() {
                return Err(SandboxError::invalid(
                    "booking",
                    "This booking has already been cancelled.",
                ));
            }
            cancel_booking(
                tx,
                booking,
                "Cancelled by the training provider",
                public_url,
                now,
            )
        },
    )
    .await
}
