//! The Virtual BLS API, as published by Healthier Business Group, under
//! `/bls/api/v1`: remote Basic Life Support training at **timeslots**
//! generated from trainers' free capacity (`booking_core::slots`), a kit
//! posted to the candidate and a Zoom session.
//!
//! It shares everything §10 says is shared with the Practical Training
//! sandbox: the token endpoints and bearer extractor (`auth`), the
//! pagination envelope, Laravel-style errors and validation, the rate limit
//! (its own limiter: another host upstream), the upstream profile, the
//! wallet (`wallet`), credits, transactions and the booking URL
//! (`accounts`), and the checkout page's frame (`checkout`). What is its own:
//! its accounts and courses (`product = 'virtual_bls'`), the trainers'
//! schedules, timeslot holds and bookings (`bls_*` tables), and the PayPal
//! stand-in.
//!
//! Modules: `seed` (seed data), `timeslots` (list, hold, release),
//! `bookings` (create, list, get, certificate), `paypal` (the stand-in
//! checkout page), `testmode` (marking training and kit status).
//!
//! Invariants:
//! * A timeslot is offered, held or booked only when `booking_core::slots`
//!   finds a trainer free for it, counting every live hold and every booking
//!   that is not cancelled as busy for its buffered span; holds and bookings
//!   are written in the same `BEGIN IMMEDIATE` transaction as that check, so
//!   a trainer is never double-booked.
//! * A hold takes one trainer (the least busy that day) for 30 minutes;
//!   booking it keeps that trainer and that span.
//! * A certificate is available exactly when `training_status = completed`
//!   and `equipment_status = in`.

use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{delete, get, post};
use axum::Router;
use booking_core::slots::{
    BusySpan, BusySpanTimes, DaySpan, RecurringSchedule, ScheduleException, SlotRules,
    TrainerSchedule, WeeklyBlock,
};
use chrono::{NaiveDate, Weekday};
use rusqlite::{params, Connection};

use super::clock::from_unix;
use super::errors;
use super::rate_limit;
use super::shape;
use super::{accounts, auth, catalog, checkout, AppState, BLS_API_BASE, BODY_LIMIT, JSON_ERRORS};
use booking_http::json_errors::json_errors;

mod bookings;
mod paypal;
pub(crate) mod seed;
mod testmode;
mod timeslots;

/// The Virtual BLS routes with their state: the API under `/bls/api/v1`,
/// the PayPal stand-in and the public booking page stand-in.
pub(crate) fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/auth/token", post(auth::token))
        .route("/auth/refresh", post(auth::refresh))
        .route("/auth/token-info", get(auth::token_info))
        .route("/auth/revoke", post(auth::revoke))
        .route("/booking-url", get(accounts::booking_url))
        .route("/credits", get(accounts::credits))
        .route("/transactions", get(accounts::transactions))
        .route("/courses", get(catalog::courses))
        .route("/timeslots", get(timeslots::list))
        .route("/timeslots/hold", post(timeslots::hold))
        .route("/timeslots/hold/{hold_hash}", delete(timeslots::release))
        .route("/bookings", get(bookings::list).post(bookings::create))
        .route("/bookings/{id}", get(bookings::show))
        .route("/bookings/{id}/certificate", get(bookings::certificate))
        .fallback(errors::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(from_fn_with_state(state.clone(), rate_limit::middleware))
        .layer(from_fn_with_state(JSON_ERRORS, json_errors))
        .layer(from_fn_with_state(state.clone(), shape::documented_only));
    Router::new()
        .nest(BLS_API_BASE, api)
        .route(bookings::CHECKOUT_PATH, get(paypal::show).post(paypal::pay))
        .route("/virtual-bls/", get(checkout::booking_page))
        .with_state(state)
}

/// The Virtual BLS test-mode routes, relative to `/_sandbox`.
pub(crate) fn testmode_router() -> Router<AppState> {
    Router::new().route("/bls/bookings/{id}/status", post(testmode::mark_status))
}

/// A Virtual BLS course with the rules its timeslots follow.
#[derive(Debug, Clone)]
pub(crate) struct BlsCourse {
    /// Course id.
    pub id: i64,
    /// Course name.
    pub name: String,
    /// Price in pence.
    pub cost_pence: i64,
    /// Duration, buffers, interval and booking window.
    pub rules: SlotRules,
}

/// The active Virtual BLS courses (all of them, or the one with `only`),
/// with the bank holidays in their rules.
pub(crate) fn load_courses(
    conn: &Connection,
    only: Option<i64>,
) -> rusqlite::Result<Vec<BlsCourse>> {
    let holidays = bank_holidays(conn)?;
    let mut statement = conn.prepare_cached(
        "SELECT c.id, c.name, c.cost_pence, c.duration_minutes, b.buffer_before_minutes, \
         b.buffer_after_minutes, b.interval_minutes, b.lead_working_days, b.horizon_days \
         FROM courses c JOIN bls_courses b ON b.course_id = c.id \
         WHERE c.product = 'virtual_bls' AND c.active = 1 AND (?1 IS NULL OR c.id = ?1) \
         ORDER BY c.id",
    )?;
    let rows = statement.query_map(params![only], |row| {
        let minutes = |index: usize| -> rusqlite::Result<u32> {
            Ok(u32::try_from(row.get::<_, i64>(index)?).unwrap_or(0))
        };
        let interval: Option<i64> = row.get(6)?;
        Ok(BlsCourse {
            id: row.get(0)?,
            name: row.get(1)?,
            cost_pence: row.get(2)?,
            rules: SlotRules {
                duration_minutes: minutes(3)?.max(1),
                buffer_before_minutes: minutes(4)?,
                buffer_after_minutes: minutes(5)?,
                interval_minutes: interval.and_then(|value| u32::try_from(value).ok()),
                lead_working_days: minutes(7)?,
                horizon_days: minutes(8)?,
                bank_holidays: holidays.clone(),
            },
        })
    })?;
    rows.collect()
}

/// The bank holidays: not working days for posting, and days off for every
/// trainer.
fn bank_holidays(conn: &Connection) -> rusqlite::Result<Vec<NaiveDate>> {
    let days: Vec<String> = conn
        .prepare_cached("SELECT day FROM bls_bank_holidays ORDER BY day")?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(days.iter().filter_map(|day| parse_day(day)).collect())
}

/// A stored `YYYY-MM-DD`.
pub(crate) fn parse_day(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// Every trainer's recurring schedules and exceptions, each bank holiday
/// added as a day off.
pub(crate) fn load_trainers(conn: &Connection) -> rusqlite::Result<Vec<TrainerSchedule>> {
    let holidays = bank_holidays(conn)?;
    let ids: Vec<i64> = conn
        .prepare_cached("SELECT id FROM bls_trainers ORDER BY id")?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut trainers = Vec::with_capacity(ids.len());
    for id in ids {
        let schedules: Vec<(i64, String, Option<String>)> = conn
            .prepare_cached(
                "SELECT id, first_day, last_day FROM bls_schedules WHERE trainer_id = ?1 ORDER BY id",
            )?
            .query_map([id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut recurring = Vec::with_capacity(schedules.len());
        for (schedule_id, first, last) in schedules {
            let blocks: Vec<(i64, i64, i64)> = conn
                .prepare_cached(
                    "SELECT weekday, start_minute, end_minute FROM bls_schedule_blocks \
                     WHERE schedule_id = ?1",
                )?
                .query_map([schedule_id], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let Some(first_day) = parse_day(&first) else {
                continue;
            };
            recurring.push(RecurringSchedule {
                first_day,
                last_day: last.as_deref().and_then(parse_day),
                blocks: blocks
                    .into_iter()
                    .filter_map(|(weekday, start, end)| {
                        Some(WeeklyBlock {
                            weekday: weekday_from_monday(weekday)?,
                            span: day_span(start, end)?,
                        })
                    })
                    .collect(),
            });
        }
        let exceptions: Vec<StoredException> = conn
            .prepare_cached(
                "SELECT kind, first_day, last_day, start_minute, end_minute \
                 FROM bls_schedule_exceptions WHERE trainer_id = ?1 ORDER BY id",
            )?
            .query_map([id], |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut exceptions: Vec<ScheduleException> = exceptions
            .into_iter()
            .filter_map(|(kind, first, last, start, end)| {
                let first_day = parse_day(&first)?;
                let last_day = parse_day(&last)?;
                match kind.as_str() {
                    "unavailable" => Some(ScheduleException::Unavailable {
                        first_day,
                        last_day,
                    }),
                    _ => Some(ScheduleException::ExtraSession {
                        day: first_day,
                        span: day_span(start?, end?)?,
                    }),
                }
            })
            .collect();
        exceptions.extend(holidays.iter().map(|day| ScheduleException::Unavailable {
            first_day: *day,
            last_day: *day,
        }));
        trainers.push(TrainerSchedule {
            trainer_id: u64::try_from(id).unwrap_or(0),
            recurring,
            exceptions,
        });
    }
    Ok(trainers)
}

/// A stored exception: kind, first day, last day, start and end minutes.
type StoredException = (String, String, String, Option<i64>, Option<i64>);

/// A stored weekday, 0 = Monday.
fn weekday_from_monday(number: i64) -> Option<Weekday> {
    u8::try_from(number)
        .ok()
        .and_then(|n| Weekday::try_from(n).ok())
}

/// Stored minutes as a [`DaySpan`].
fn day_span(start: i64, end: i64) -> Option<DaySpan> {
    DaySpan::new(u32::try_from(start).ok()?, u32::try_from(end).ok()?)
}

/// What keeps trainers busy at `now` between `from` and `to` (Unix
/// seconds): the buffered spans of live holds and of bookings that are not
/// cancelled.
pub(crate) fn load_busy(
    conn: &Connection,
    from: i64,
    to: i64,
    now: i64,
) -> rusqlite::Result<Vec<BusySpan>> {
    conn.prepare_cached(
        "SELECT trainer_id, busy_from_utc, busy_to_utc FROM bls_holds \
         WHERE released_utc IS NULL AND used_utc IS NULL AND expires_utc > ?3 \
         AND busy_to_utc > ?1 AND busy_from_utc < ?2 \
         UNION ALL \
         SELECT trainer_id, busy_from_utc, busy_to_utc FROM bls_bookings \
         WHERE booking_status != 'cancelled' AND busy_to_utc > ?1 AND busy_from_utc < ?2",
    )?
    .query_map(params![from, to, now], |row| {
        let trainer: i64 = row.get(0)?;
        Ok(BusySpan {
            trainer_id: u64::try_from(trainer).unwrap_or(0),
            span: BusySpanTimes {
                from: from_unix(row.get(1)?),
                to: from_unix(row.get(2)?),
            },
        })
    })?
    .collect()
}
