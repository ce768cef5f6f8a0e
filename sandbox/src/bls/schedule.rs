//! What Virtual BLS's timeslots are generated from: its courses with their
//! slot rules, the trainers' schedules with the bank holidays as days off,
//! and what keeps trainers busy.

use booking_core::slots::{
    BusySpan, BusySpanTimes, DaySpan, RecurringSchedule, ScheduleException, SlotRules,
    TrainerSchedule, WeeklyBlock,
};
use chrono::{NaiveDate, Weekday};
use rusqlite::{params, Connection};

use super::super::clock::from_unix;

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
            .query_map([id], |row| <(i64, String, Option<String>)>::try_from(row))?
            .collect::<rusqlite::Result<_>>()?;
        let mut recurring = Vec::with_capacity(schedules.len());
        for (schedule_id, first, last) in schedules {
            let blocks: Vec<(i64, i64, i64)> = conn
                .prepare_cached(
                    "SELECT weekday, start_minute, end_minute FROM bls_schedule_blocks \
                     WHERE schedule_id = ?1",
                )?
                .query_map([schedule_id], |row| <(i64, i64, i64)>::try_from(row))?
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
            .query_map([id], |row| StoredException::try_from(row))?
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
/// cancelled, but for booking `moving` (one about to be moved).
pub(crate) fn load_busy(
    conn: &Connection,
    from: i64,
    to: i64,
    now: i64,
    moving: Option<i64>,
) -> rusqlite::Result<Vec<BusySpan>> {
    conn.prepare_cached(
        "SELECT trainer_id, busy_from_utc, busy_to_utc FROM bls_holds \
         WHERE released_utc IS NULL AND used_utc IS NULL AND expires_utc > ?3 \
         AND busy_to_utc > ?1 AND busy_from_utc < ?2 \
         UNION ALL \
         SELECT trainer_id, busy_from_utc, busy_to_utc FROM bls_bookings \
         WHERE booking_status != 'cancelled' AND busy_to_utc > ?1 AND busy_from_utc < ?2 \
         AND (?4 IS NULL OR id != ?4)",
    )?
    .query_map(params![from, to, now, moving], |row| {
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
