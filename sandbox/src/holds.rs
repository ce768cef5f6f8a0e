//! Seat holds: 30 minutes to turn a seat into a booking.
//!
//! Invariants, all checked inside one `BEGIN IMMEDIATE` transaction:
//! * a hold is granted only while capacity minus bookings minus live holds is
//!   above zero, so every live hold has a seat that nobody else can take;
//! * one account has at most one live hold per event (or per account, or no
//!   limit, as the profile's `hold_scope` says): a second attempt is a 409
//!   carrying the existing hold and the seconds it has left (or only a
//!   message, under `conflict_body=message_only`);
//! * holding never changes `remaining_slots`; a hold stops counting once it
//!   expires, is released or is used by a booking.

use axum::extract::State;
use axum::Json;
use booking_core::api::{ApiError, HeldEvent, HoldConflict, SeatHold};
use booking_core::uk_time::to_uk;
use chrono::Duration;
use rusqlite::{params, Connection, OptionalExtension};

use super::auth::Authed;
use super::catalog::{load_event, to_u64, EventRow, EVENT_NOT_FOUND};
use super::clock::{from_unix, utc_fixed};
use super::db::{live_holds, random_token, write_tx};
use super::errors::SandboxError;
use super::extract::{IgnoredBody, PathParam};
use super::profile::{ConflictBody, HoldScope, UpstreamProfile};
use super::AppState;

/// How long a hold lasts, in seconds.
pub(crate) const HOLD_TTL: i64 = 1800;
/// Length of a `hold_hash`.
pub(crate) const HOLD_HASH_LEN: usize = 32;

/// 404 message for an unknown hold.
pub(crate) const HOLD_NOT_FOUND: &str = "Hold not found.";

/// A hold as stored.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HoldRow {
    /// Row id.
    pub id: i64,
    /// The held event.
    pub event_id: i64,
    /// Expiry, Unix seconds.
    pub expires_utc: i64,
    /// When it was released, if it was.
    pub released_utc: Option<i64>,
    /// When a booking used it, if one did.
    pub used_utc: Option<i64>,
}

impl HoldRow {
    /// Refuses a hold that is no longer live (used by a booking, released,
    /// or expired at `now`) with a 422 on `hold_hash`: the one check, and
    /// the one set of messages, for releasing and for booking.
    pub(crate) fn check_live(&self, now: i64) -> Result<(), SandboxError> {
        check_hold_live(
            self.used_utc,
            self.released_utc,
            self.expires_utc,
            now,
            "Hold a seat again.",
        )
    }
}

/// Refuses a hold (of either product) that a booking used, that was
/// released, or that expired at `now`: 422 on `hold_hash`, the expiry
/// message ending with `hold_again`.
pub(crate) fn check_hold_live(
    used_utc: Option<i64>,
    released_utc: Option<i64>,
    expires_utc: i64,
    now: i64,
    hold_again: &str,
) -> Result<(), SandboxError> {
    let message = if used_utc.is_some() {
        "This hold has already been used for a booking.".to_owned()
    } else if released_utc.is_some() {
        "This hold has already been released.".to_owned()
    } else if expires_utc <= now {
        format!("This hold has expired. {hold_again}")
    } else {
        return Ok(());
    };
    Err(SandboxError::invalid("hold_hash", message))
}

/// The account's hold with this hash, whatever its state.
pub(crate) fn load_hold(
    conn: &Connection,
    account_id: i64,
    hold_hash: &str,
) -> rusqlite::Result<Option<HoldRow>> {
    conn.prepare_cached(
        "SELECT id, event_id, expires_utc, released_utc, used_utc FROM holds \
         WHERE hold_hash = ?1 AND account_id = ?2",
    )?
    .query_row(params![hold_hash, account_id], |row| {
        Ok(HoldRow {
            id: row.get(0)?,
            event_id: row.get(1)?,
            expires_utc: row.get(2)?,
            released_utc: row.get(3)?,
            used_utc: row.get(4)?,
        })
    })
    .optional()
}

/// The hold response's summary of an event.
fn held_event(row: &EventRow) -> HeldEvent {
    HeldEvent {
        id: to_u64(row.id),
        course: row.course.name.clone(),
        location: row.location.name.clone(),
        start_date: to_uk(from_unix(row.start_utc)),
    }
}

/// The 409 a new hold on `event` meets: the account's live hold that the
/// profile's hold scope says it conflicts with, described as fully as the
/// profile's conflict body allows.
fn conflicting_hold(
    conn: &Connection,
    profile: &UpstreamProfile,
    account_id: i64,
    event: &EventRow,
    now: i64,
) -> Result<Option<HoldConflict>, SandboxError> {
    let live: Vec<(String, i64, i64)> = conn
        .prepare_cached(
            "SELECT hold_hash, expires_utc, event_id FROM holds WHERE account_id = ?1 \
             AND released_utc IS NULL AND used_utc IS NULL AND expires_utc > ?2 ORDER BY id",
        )?
        .query_map(params![account_id, now], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let Some((hold_hash, expires, held_event_id)) = live
        .into_iter()
        .find(|(_, _, held)| profile.holds_conflict(event.id, *held))
    else {
        return Ok(None);
    };
    let message = match profile.hold_scope {
        HoldScope::Event => "An active hold already exists for this training event.",
        HoldScope::Account | HoldScope::None => "An active hold already exists.",
    };
    if profile.conflict_body == ConflictBody::MessageOnly {
        return Ok(Some(HoldConflict {
            message: message.to_owned(),
            hold_hash: None,
            expires_at: None,
            expires_in_seconds: None,
            training_event: None,
        }));
    }
    let held_event = if held_event_id == event.id {
        Some(held_event(event))
    } else {
        load_event(conn, held_event_id)?.as_ref().map(held_event)
    };
    Ok(Some(HoldConflict {
        message: message.to_owned(),
        hold_hash: Some(hold_hash),
        expires_at: Some(utc_fixed(from_unix(expires))),
        expires_in_seconds: Some(expires - now),
        training_event: held_event,
    }))
}

/// `POST /training-events/{id}/hold`: holds one seat for 30 minutes.
pub(crate) async fn hold(
    State(state): State<AppState>,
    authed: Authed,
    id: PathParam,
    _body: IgnoredBody,
) -> Result<Json<SeatHold>, SandboxError> {
    let event_id = id.id(EVENT_NOT_FOUND)?;
    let now = state.clock.now_secs();
    let profile = state.profile.get();
    let hold = state
        .db
        .call(move |conn| {
            let tx = write_tx(conn)?;
            let event = load_event(&tx, event_id)?.ok_or(SandboxError::NotFound(EVENT_NOT_FOUND))?;
            if event.start_utc <= now {
                return Err(SandboxError::invalid(
                    "training_event",
                    "This training event has already started.",
                ));
            }
            if let Some(conflict) = conflicting_hold(&tx, &profile, authed.account_id, &event, now)? {
                return Err(SandboxError::HoldConflict(Box::new(conflict)));
            }
            if event.remaining() == 0 {
                return Err(SandboxError::invalid(
                    "training_event",
                    "This training event is fully booked.",
                ));
            }
            if event.remaining() - live_holds(&tx, event_id, now)? <= 0 {
                return Err(SandboxError::invalid(
                    "training_event",
                    "Every remaining seat on this training event is held by another booker. Try again in a few minutes.",
                ));
            }
            let hold_hash = random_token(HOLD_HASH_LEN);
            let expires = now + HOLD_TTL;
            tx.prepare_cached(
                "INSERT INTO holds (hold_hash, account_id, event_id, created_utc, expires_utc) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![hold_hash, authed.account_id, event_id, now, expires])?;
            tx.commit()?;
            Ok(SeatHold {
                hold_hash,
                expires_at: utc_fixed(from_unix(now) + Duration::seconds(HOLD_TTL)),
                expires_in_seconds: HOLD_TTL,
                training_event: held_event(&event),
            })
        })
        .await?;
    Ok(Json(hold))
}

/// `DELETE /training-events/hold/{holdHash}`: releases a live hold.
pub(crate) async fn release(
    State(state): State<AppState>,
    authed: Authed,
    hold_hash: PathParam,
) -> Result<Json<ApiError>, SandboxError> {
    let hold_hash = hold_hash.0;
    let now = state.clock.now_secs();
    state
        .db
        .call(move |conn| {
            let tx = write_tx(conn)?;
            let hold = load_hold(&tx, authed.account_id, &hold_hash)?
                .ok_or(SandboxError::NotFound(HOLD_NOT_FOUND))?;
            hold.check_live(now)?;
            tx.execute(
                "UPDATE holds SET released_utc = ?1 WHERE id = ?2",
                params![now, hold.id],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await?;
    Ok(Json(ApiError {
        message: "Hold released.".to_owned(),
    }))
}
