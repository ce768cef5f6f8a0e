//! Seat holds: 30 minutes to turn a seat into a booking; and what both
//! products' holds share ([`HoldKind`]): when a hold is live, its use by a
//! booking, and `DELETE .../hold/{holdHash}`.
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
use booking_core::api::{ApiError, HeldEvent, HoldConflict, SeatHold, Timestamp};
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
use super::{AppState, Product};

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
    /// Refuses a seat hold that is no longer live.
    pub(crate) fn check_live(&self, now: i64) -> Result<(), SandboxError> {
        SEAT_HOLDS.check_live(self.used_utc, self.released_utc, self.expires_utc, now)
    }
}

/// Where a product keeps its holds, and what the expiry message asks the
/// caller to hold again.
pub(crate) struct HoldKind {
    /// The table.
    table: &'static str,
    /// The end of the expiry message.
    hold_again: &'static str,
}

/// Practical Training's seat holds.
pub(crate) const SEAT_HOLDS: HoldKind = HoldKind {
    table: "holds",
    hold_again: "Hold a seat again.",
};

/// Virtual BLS's timeslot holds.
pub(crate) const TIMESLOT_HOLDS: HoldKind = HoldKind {
    table: "bls_holds",
    hold_again: "Hold a timeslot again.",
};

impl HoldKind {
    /// The holds of `product`.
    pub(crate) fn of(product: Product) -> &'static HoldKind {
        match product {
            Product::Practical => &SEAT_HOLDS,
            Product::VirtualBls => &TIMESLOT_HOLDS,
        }
    }

    /// Refuses a hold that a booking used, that was released, or that
    /// expired at `now` with a 422 on `hold_hash`: the one check, and the
    /// one set of messages, for releasing and for booking.
    pub(crate) fn check_live(
        &self,
        used_utc: Option<i64>,
        released_utc: Option<i64>,
        expires_utc: i64,
        now: i64,
    ) -> Result<(), SandboxError> {
        let message = if used_utc.is_some() {
            "This hold has already been used for a booking.".to_owned()
        } else if released_utc.is_some() {
            "This hold has already been released.".to_owned()
        } else if expires_utc <= now {
            format!("This hold has expired. {}", self.hold_again)
        } else {
            return Ok(());
        };
        Err(SandboxError::invalid("hold_hash", message))
    }

    /// Marks hold `id` used by the booking just made.
    pub(crate) fn mark_used(&self, conn: &Connection, id: i64, now: i64) -> rusqlite::Result<()> {
        conn.prepare_cached(&format!(
            "UPDATE {} SET used_utc = ?1 WHERE id = ?2",
            self.table
        ))?
        .execute(params![now, id])?;
        Ok(())
    }

    /// Releases the account's live hold with this hash: 404 when the
    /// account has none, 422 when it is no longer live.
    fn release(
        &self,
        conn: &Connection,
        account_id: i64,
        hold_hash: &str,
        now: i64,
    ) -> Result<(), SandboxError> {
        let table = self.table;
        let (id, expires, released, used) = conn
            .prepare_cached(&format!(
                "SELECT id, expires_utc, released_utc, used_utc FROM {table} \
                 WHERE hold_hash = ?1 AND account_id = ?2"
            ))?
            .query_row(params![hold_hash, account_id], |row| {
                <(i64, i64, Option<i64>, Option<i64>)>::try_from(row)
            })
            .optional()?
            .ok_or(SandboxError::NotFound(HOLD_NOT_FOUND))?;
        self.check_live(used, released, expires, now)?;
        conn.execute(
            &format!("UPDATE {table} SET released_utc = ?1 WHERE id = ?2"),
            params![now, id],
        )?;
        Ok(())
    }
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

/// The account's live hold that a new one meets, as the 409 shows it: the
/// message for the profile's hold scope, and the hold's hash and expiry
/// unless the profile's conflict body is message only.
pub(crate) struct MetHold {
    /// Human-readable reason.
    pub message: String,
    /// The hold's hash and expiry (Unix seconds), when the 409 shows them.
    shown: Option<(String, i64)>,
}

impl MetHold {
    /// The live hold `hold_hash`, expiring at `expires_utc`, met under
    /// `profile`; `held` names what it holds ("training event").
    pub(crate) fn new(
        profile: &UpstreamProfile,
        held: &str,
        hold_hash: String,
        expires_utc: i64,
    ) -> MetHold {
        let message = match profile.hold_scope {
            HoldScope::Event => format!("An active hold already exists for this {held}."),
            HoldScope::Account | HoldScope::None => "An active hold already exists.".to_owned(),
        };
        let shown = (profile.conflict_body != ConflictBody::MessageOnly)
            .then_some((hold_hash, expires_utc));
        MetHold { message, shown }
    }

    /// Whether the 409 shows the hold's details.
    pub(crate) fn shows_details(&self) -> bool {
        self.shown.is_some()
    }

    /// The hold's hash, when shown.
    pub(crate) fn hold_hash(&self) -> Option<String> {
        self.shown.as_ref().map(|(hash, _)| hash.clone())
    }

    /// When the hold lapses, when shown.
    pub(crate) fn expires_at(&self) -> Option<Timestamp> {
        self.shown
            .as_ref()
            .map(|(_, expires)| utc_fixed(from_unix(*expires)))
    }

    /// Seconds the hold has left at `now`, when shown.
    pub(crate) fn expires_in_seconds(&self, now: i64) -> Option<i64> {
        self.shown.as_ref().map(|(_, expires)| expires - now)
    }
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
            <(String, i64, i64)>::try_from(row)
        })?
        .collect::<rusqlite::Result<_>>()?;
    let Some((hold_hash, expires, held_event_id)) = live
        .into_iter()
        .find(|(_, _, held)| profile.holds_conflict(event.id, *held))
    else {
        return Ok(None);
    };
    let met = MetHold::new(profile, "training event", hold_hash, expires);
    let training_event = if !met.shows_details() {
        None
    } else if held_event_id == event.id {
        Some(held_event(event))
    } else {
        load_event(conn, held_event_id)?.as_ref().map(held_event)
    };
    Ok(Some(HoldConflict {
        message: met.message.clone(),
        hold_hash: met.hold_hash(),
        expires_at: met.expires_at(),
        expires_in_seconds: met.expires_in_seconds(now),
        training_event,
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

/// `DELETE /training-events/hold/{holdHash}` and `DELETE
/// /timeslots/hold/{holdHash}`: releases the caller's live hold of its
/// product, giving the seat or the trainer's time back.
pub(crate) async fn release(
    State(state): State<AppState>,
    authed: Authed,
    hold_hash: PathParam,
) -> Result<Json<ApiError>, SandboxError> {
    let holds = HoldKind::of(state.product);
    let hold_hash = hold_hash.0;
    let now = state.clock.now_secs();
    state
        .db
        .call(move |conn| {
            let tx = write_tx(conn)?;
            holds.release(&tx, authed.account_id, &hold_hash, now)?;
            tx.commit()?;
            Ok(())
        })
        .await?;
    Ok(Json(ApiError {
        message: "Hold released.".to_owned(),
        request_id: None,
    }))
}
