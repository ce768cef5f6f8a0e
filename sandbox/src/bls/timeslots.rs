//! `GET /timeslots` and `POST /timeslots/hold` (a hold is released by
//! `holds`, as on Practical Training).
//!
//! Invariants: the list is generated on request by `booking_core::slots`
//! from the trainers' schedules minus what live holds and bookings take; a
//! hold is granted only for a (course, date, time) that the same generation,
//! inside the hold's `BEGIN IMMEDIATE` transaction, finds free, and it takes
//! one trainer for the slot's buffered span for 30 minutes; a second hold
//! meets the profile's `hold_scope` (by default: the same account, course,
//! date and time) as a 409 carrying the existing hold.

use axum::extract::State;
use axum::Json;
use booking_core::api::bls::{HeldSlot, Timeslot, TimeslotHold, TimeslotHoldConflict};
use booking_core::api::{CourseRef, Money, Page};
use booking_core::slots::{choose_trainer, find_timeslot, timeslots};
use booking_core::uk_time::{clock_time, to_uk, uk_local_at};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use rusqlite::{params, Connection};
use serde_json::{Map, Value};

use super::super::auth::Authed;
use super::super::catalog::to_u64;
use super::super::clock::{from_unix, utc_fixed};
use super::super::db::{random_token, write_tx};
use super::super::errors::SandboxError;
use super::super::extract::{JsonObject, QueryParams};
use super::super::holds::{MetHold, HOLD_HASH_LEN, HOLD_TTL};
use super::super::pagination::{envelope, PageRequest};
use super::super::profile::UpstreamProfile;
use super::super::validate::Validator;
use super::super::AppState;
use super::schedule::{load_busy, load_courses, load_trainers, BlsCourse};

/// The longest range one list request may span, in days.
const MAX_RANGE_DAYS: i64 = 366;

/// Unix seconds of UK midnight starting `date`.
fn midnight(date: NaiveDate) -> i64 {
    uk_local_at(date, NaiveTime::MIN).timestamp()
}

/// The filters of `GET /timeslots`: `course_id`, `date_from` and
/// `date_to` (UK dates, at most [`MAX_RANGE_DAYS`] apart), and the page.
struct TimeslotQuery {
    course_id: Option<i64>,
    date_from: Option<NaiveDate>,
    date_to: Option<NaiveDate>,
}

impl TimeslotQuery {
    /// Reads and checks the query; a 422 names each bad filter.
    fn read(
        query: &QueryParams,
        max_per_page: u32,
    ) -> Result<(TimeslotQuery, PageRequest), SandboxError> {
        let mut v = Validator::default();
        let course_id = v.query_integer(query.get("course_id"), "course_id", 1, i64::MAX);
        let (date_from, date_to) = v.query_date_range(query);
        if let (Some(from), Some(to)) = (date_from, date_to) {
            if to >= from && (to - from).num_days() > MAX_RANGE_DAYS {
                v.add(
                    "date_to",
                    format!("The date to field must be within {MAX_RANGE_DAYS} days of date from."),
                );
            }
        }
        let request = PageRequest::from_query(query, &mut v, max_per_page);
        v.finish()?;
        let wanted = TimeslotQuery {
            course_id,
            date_from,
            date_to,
        };
        Ok((wanted, request))
    }
}

/// `GET /timeslots`: free timeslots of every active course, or of
/// `course_id`, with UK dates from `date_from` (default today) to `date_to`
/// (default: the end of the booking window), by start then course.
pub(crate) async fn list(
    State(state): State<AppState>,
    _authed: Authed,
    query: QueryParams,
) -> Result<Json<Page<Timeslot>>, SandboxError> {
    let (wanted, request) = TimeslotQuery::read(&query, state.profile.get().max_per_page)?;
    let now = state.clock.now();
    let slots = state
        .db
        .call(move |conn| free_timeslots(conn, &wanted, now))
        .await?;
    let total = i64::try_from(slots.len()).unwrap_or(i64::MAX);
    let data: Vec<Timeslot> = slots
        .into_iter()
        .skip(usize::try_from(request.offset()).unwrap_or(usize::MAX))
        .take(usize::try_from(request.limit()).unwrap_or(0))
        .collect();
    Ok(Json(envelope(
        &state,
        "/timeslots",
        &query,
        request,
        total,
        data,
    )))
}

/// Every free timeslot `wanted` asks for at `now`, by start then course.
fn free_timeslots(
    conn: &Connection,
    wanted: &TimeslotQuery,
    now: DateTime<Utc>,
) -> Result<Vec<Timeslot>, SandboxError> {
    let today = to_uk(now).date_naive();
    let courses = load_courses(conn, wanted.course_id)?;
    let from = wanted.date_from.unwrap_or(today);
    let horizon = courses
        .iter()
        .map(|course| i64::from(course.rules.horizon_days))
        .max()
        .unwrap_or(0);
    let to = wanted.date_to.unwrap_or(today + Duration::days(horizon));
    if to < from {
        return Ok(Vec::new());
    }
    let trainers = load_trainers(conn)?;
    let busy = load_busy(
        conn,
        midnight(from - Duration::days(1)),
        midnight(to + Duration::days(2)),
        now.timestamp(),
        None,
    )?;
    let mut all: Vec<Timeslot> = courses
        .iter()
        .flat_map(|course| {
            timeslots(&trainers, &course.rules, &busy, now, from, to)
                .into_iter()
                .map(move |slot| Timeslot {
                    date: slot.date.to_string(),
                    time: clock_time(slot.time),
                    course: course_ref(course),
                    start_date: Some(slot.start),
                    end_date: Some(slot.end),
                    remaining_slots: Some(
                        u32::try_from(slot.free_trainers.len()).unwrap_or(u32::MAX),
                    ),
                    cost_inc_vat: Some(Money(course.cost_pence)),
                })
        })
        .collect();
    all.sort_by_key(|slot| (slot.start_date, slot.course.id));
    Ok(all)
}

/// A course as embedded in answers.
pub(crate) fn course_ref(course: &BlsCourse) -> CourseRef {
    CourseRef {
        id: to_u64(course.id),
        name: course.name.clone(),
    }
}

/// A free timeslot as a hold or a move takes it: when it is, who teaches
/// it, and the span it keeps them busy.
pub(crate) struct TakenSlot {
    /// UK date.
    pub date: NaiveDate,
    /// UK wall-clock start.
    pub time: NaiveTime,
    /// Start, Unix seconds.
    pub start_utc: i64,
    /// End, Unix seconds.
    pub end_utc: i64,
    /// The trainer who takes it.
    pub trainer_id: i64,
    /// Start of the buffered span, Unix seconds.
    pub busy_from_utc: i64,
    /// End of the buffered span, Unix seconds.
    pub busy_to_utc: i64,
}

/// The course's timeslot at UK `date` and `time` if it is free at `now`,
/// found by the generation `GET /timeslots` runs (call it inside the
/// `BEGIN IMMEDIATE` transaction that writes what takes it), with the
/// trainer who takes it: `keep` when they are free for it, else the free
/// trainer least busy that day. Booking `moving`'s own span does not count
/// as busy (it is the booking being moved).
pub(crate) fn take_timeslot(
    conn: &Connection,
    course: &BlsCourse,
    date: NaiveDate,
    time: NaiveTime,
    now: DateTime<Utc>,
    moving: Option<i64>,
    keep: Option<i64>,
) -> Result<Option<TakenSlot>, SandboxError> {
    let trainers = load_trainers(conn)?;
    let busy = load_busy(
        conn,
        midnight(date - Duration::days(1)),
        midnight(date + Duration::days(2)),
        now.timestamp(),
        moving,
    )?;
    let Some(slot) = find_timeslot(&trainers, &course.rules, &busy, now, date, time) else {
        return Ok(None);
    };
    let kept = keep
        .and_then(|id| u64::try_from(id).ok())
        .filter(|id| slot.free_trainers.contains(id));
    let trainer_id = kept
        .or_else(|| choose_trainer(&slot, &busy))
        .and_then(|id| i64::try_from(id).ok())
        .ok_or_else(|| SandboxError::Internal("a free slot without a trainer".into()))?;
    let start = slot.start.with_timezone(&Utc);
    let span = course.rules.buffered(start);
    Ok(Some(TakenSlot {
        date: slot.date,
        time: slot.time,
        start_utc: start.timestamp(),
        end_utc: slot.end.timestamp(),
        trainer_id,
        busy_from_utc: span.from.timestamp(),
        busy_to_utc: span.to.timestamp(),
    }))
}

/// A validated hold request.
struct HoldInput {
    course_id: i64,
    date: NaiveDate,
    time: NaiveTime,
}

/// Reads `course_id`, `date` (`YYYY-MM-DD`) and `time` (`HH:MM`).
fn validate_hold(body: &Map<String, Value>) -> Result<HoldInput, SandboxError> {
    let mut v = Validator::default();
    let course_id = v.integer(body, "course_id", true, 1, i64::MAX);
    let date = v
        .string(body, "date", true, 10)
        .and_then(|text| v.query_date(Some(text.as_str()), "date"));
    let time = v.string(body, "time", true, 5).and_then(|text| {
        let parsed = (text.len() == 5)
            .then(|| NaiveTime::parse_from_str(&text, "%H:%M").ok())
            .flatten();
        if parsed.is_none() {
            v.add("time", "The time field must match the format H:i.");
        }
        parsed
    });
    v.finish()?;
    match (course_id, date, time) {
        (Some(course_id), Some(date), Some(time)) => Ok(HoldInput {
            course_id,
            date,
            time,
        }),
        _ => Err(SandboxError::Internal("validated fields missing".into())),
    }
}

/// A live hold of the account, as the 409 describes it: hash, expiry
/// (Unix seconds), course id and name, UK date and time.
type LiveHold = (String, i64, i64, String, String, String);

/// The 409 a new hold meets, if the profile's hold scope says one of the
/// account's live holds conflicts with it.
fn conflicting_hold(
    conn: &Connection,
    profile: &UpstreamProfile,
    account_id: i64,
    wanted: &HoldInput,
    now: i64,
) -> Result<Option<TimeslotHoldConflict>, SandboxError> {
    let live: Vec<LiveHold> = conn
        .prepare_cached(
            "SELECT h.hold_hash, h.expires_utc, h.course_id, c.name, h.local_date, h.local_time \
             FROM bls_holds h JOIN courses c ON c.id = h.course_id WHERE h.account_id = ?1 \
             AND h.released_utc IS NULL AND h.used_utc IS NULL AND h.expires_utc > ?2 ORDER BY h.id",
        )?
        .query_map(params![account_id, now], |row| LiveHold::try_from(row))?
        .collect::<rusqlite::Result<_>>()?;
    let date = wanted.date.to_string();
    let time = clock_time(wanted.time);
    let Some((hold_hash, expires, course_id, course_name, held_date, held_time)) = live
        .into_iter()
        .find(|(_, _, course_id, _, held_date, held_time)| {
            profile.hold_meets(
                *course_id == wanted.course_id && *held_date == date && *held_time == time,
            )
        })
    else {
        return Ok(None);
    };
    let met = MetHold::new(profile, "timeslot", hold_hash, expires);
    let slot = met.shows_details().then(|| HeldSlot {
        date: held_date,
        time: held_time,
        course: CourseRef {
            id: to_u64(course_id),
            name: course_name,
        },
    });
    Ok(Some(TimeslotHoldConflict {
        message: met.message.clone(),
        hold_hash: met.hold_hash(),
        expires_at: met.expires_at(),
        expires_in_seconds: met.expires_in_seconds(now),
        slot,
    }))
}

/// `POST /timeslots/hold` `{course_id, date, time}`: takes a trainer's
/// capacity for the slot for 30 minutes.
pub(crate) async fn hold(
    State(state): State<AppState>,
    authed: Authed,
    JsonObject(body): JsonObject,
) -> Result<Json<TimeslotHold>, SandboxError> {
    let input = validate_hold(&body)?;
    let now = state.clock.now();
    let now_secs = now.timestamp();
    let profile = state.profile.get();
    let hold = state
        .db
        .call(move |conn| {
            let tx = write_tx(conn)?;
            let course = load_courses(&tx, Some(input.course_id))?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    SandboxError::invalid("course_id", "The selected course id is invalid.")
                })?;
            if let Some(conflict) =
                conflicting_hold(&tx, &profile, authed.account_id, &input, now_secs)?
            {
                return Err(SandboxError::TimeslotHoldConflict(Box::new(conflict)));
            }
            let slot = take_timeslot(&tx, &course, input.date, input.time, now, None, None)?
                .ok_or_else(|| {
                    SandboxError::invalid(
                        "time",
                        "This timeslot is not available. Choose another time.",
                    )
                })?;
            let hold_hash = random_token(HOLD_HASH_LEN);
            let expires = now_secs + HOLD_TTL;
            let date = slot.date.to_string();
            let time = clock_time(slot.time);
            tx.prepare_cached(
                "INSERT INTO bls_holds (hold_hash, account_id, course_id, trainer_id, local_date, \
                 local_time, start_utc, end_utc, busy_from_utc, busy_to_utc, created_utc, \
                 expires_utc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
                hold_hash,
                authed.account_id,
                course.id,
                slot.trainer_id,
                date,
                time,
                slot.start_utc,
                slot.end_utc,
                slot.busy_from_utc,
                slot.busy_to_utc,
                now_secs,
                expires
            ])?;
            tx.commit()?;
            Ok(TimeslotHold {
                hold_hash,
                expires_at: utc_fixed(from_unix(expires)),
                expires_in_seconds: HOLD_TTL,
                slot: HeldSlot {
                    date,
                    time,
                    course: course_ref(&course),
                },
            })
        })
        .await?;
    Ok(Json(hold))
}
