//! Virtual BLS timeslots, generated from trainers' free capacity the way a
//! slot-booking API (Hapio) does it: **resources** (trainers) with
//! **recurring schedules** of weekly **schedule blocks** and **exceptions**
//! (unavailable days such as holidays, one-off extra sessions), a course
//! **duration**, **buffers** before and after each session, a bookable
//! interval and a **booking window**. Pure logic: no clock, no IO.
//!
//! How a slot is found:
//! 1. A trainer's availability is the union, as instants, of the schedule
//!    blocks that fall on each UK date (a recurring schedule's weekday blocks
//!    between its first and last day, plus extra sessions), minus every date
//!    marked unavailable (an unavailable date contributes nothing, extra
//!    sessions included). Adjacent and overlapping spans are merged, so a
//!    session may run from one block into the next.
//! 2. Candidate starts step through each block in UK wall-clock minutes:
//!    the first at the block's start plus the buffer before (so the buffer
//!    lies inside the block), then every `interval` minutes (by default
//!    duration plus both buffers: back-to-back sessions).
//! 3. A candidate fits a trainer when its buffered span
//!    `[start - buffer_before, start + duration + buffer_after)` lies inside
//!    one span of the trainer's availability and overlaps none of the
//!    trainer's busy spans (the buffered spans of live holds and bookings).
//! 4. The booking window keeps a slot only when its UK date is on or after
//!    the earliest date (today plus the kit-posting lead time in working
//!    days, skipping Saturdays, Sundays and the bank holidays given) and on
//!    or before today plus the horizon, and it starts after now.
//! 5. Slots of all trainers are merged by (date, time); each lists the
//!    trainers free for it.
//!
//! Invariants (tested natively and by property tests across both UK clock
//! changes):
//! * A slot's `date` and `time` are the UK wall-clock reading of its `start`;
//!   `start` carries the UK offset in force then, and `end - start` is the
//!   duration in real elapsed time, also across a clock change.
//! * No slot starts at a local time that does not exist (the hour skipped on
//!   the last Sunday of March).
//! * The hour repeated on the last Sunday of October is handled on purpose:
//!   a slot is named by its date and wall-clock time (that is how a hold asks
//!   for it), and such a name can mean one instant only, so a repeated time
//!   always means its **first** occurrence (BST, as `uk_time::uk_local_at`
//!   reads it). The second occurrence is never a slot start; its real time
//!   still counts as availability for a session running through it.
//! * Every trainer listed for a slot is free for the whole buffered span; a
//!   trainer is never listed for a slot that overlaps one of its busy spans,
//!   so holding and booking slots one after another never double-books a
//!   trainer.
//! * Slots come sorted by date and time, each (date, time) once.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, Utc, Weekday};

use crate::uk_time::{to_uk, uk_local_at};

/// Minutes in a day: a block may end at 24:00.
pub const MINUTES_PER_DAY: u32 = 24 * 60;

/// A span of UK wall-clock time within one day, in minutes from midnight:
/// `start` is included, `end` (up to 1440, i.e. 24:00) is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaySpan {
    /// Start, minutes from midnight (0 to 1439).
    pub start: u32,
    /// End, minutes from midnight (after `start`, at most 1440).
    pub end: u32,
}

impl DaySpan {
    /// A span from `start` to `end` minutes; `None` unless
    /// `start < end <= 1440`.
    pub fn new(start: u32, end: u32) -> Option<DaySpan> {
        (start < end && end <= MINUTES_PER_DAY).then_some(DaySpan { start, end })
    }

    /// The span's start and end as instants on `date` (its end at 24:00 is
    /// the next day's midnight).
    fn instants(self, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        Some((
            wall_instant(date, self.start)?,
            wall_instant(date, self.end)?,
        ))
    }
}

/// The instant of `minutes` after midnight, UK wall clock, on `date`
/// (1440 is the next day's midnight), read as `uk_time::uk_local_at` reads it.
fn wall_instant(date: NaiveDate, minutes: u32) -> Option<DateTime<Utc>> {
    let (date, minutes) = if minutes >= MINUTES_PER_DAY {
        (date.succ_opt()?, minutes - MINUTES_PER_DAY)
    } else {
        (date, minutes)
    };
    let time = NaiveTime::from_hms_opt(minutes / 60, minutes % 60, 0)?;
    Some(uk_local_at(date, time).with_timezone(&Utc))
}

/// Whether a UK wall-clock time exists on `date`: false only inside the
/// hour skipped when BST starts.
pub fn local_time_exists(date: NaiveDate, time: NaiveTime) -> bool {
    uk_local_at(date, time).naive_local() == date.and_time(time)
}

/// One weekly block of a recurring schedule (UK wall-clock time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeeklyBlock {
    /// The day of the week it repeats on.
    pub weekday: Weekday,
    /// Its hours on that day.
    pub span: DaySpan,
}

/// A recurring schedule: weekly blocks from `first_day` to `last_day`
/// (open-ended when `None`), both included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecurringSchedule {
    /// First date it applies to.
    pub first_day: NaiveDate,
    /// Last date it applies to, if it ends.
    pub last_day: Option<NaiveDate>,
    /// Its blocks.
    pub blocks: Vec<WeeklyBlock>,
}

impl RecurringSchedule {
    /// Whether it applies on `date`.
    fn covers(&self, date: NaiveDate) -> bool {
        date >= self.first_day && self.last_day.is_none_or(|last| date <= last)
    }
}

/// An exception to a trainer's recurring schedules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleException {
    /// No availability at all on these dates (a holiday), both included.
    Unavailable {
        /// First date off.
        first_day: NaiveDate,
        /// Last date off.
        last_day: NaiveDate,
    },
    /// A one-off extra session on one date.
    ExtraSession {
        /// The date.
        day: NaiveDate,
        /// Its hours.
        span: DaySpan,
    },
}

/// One trainer (a resource) and when they can teach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainerSchedule {
    /// The trainer's id.
    pub trainer_id: u64,
    /// Weekly availability.
    pub recurring: Vec<RecurringSchedule>,
    /// Holidays and extra sessions.
    pub exceptions: Vec<ScheduleException>,
}

impl TrainerSchedule {
    /// Whether the trainer is off for the whole of `date`.
    fn is_off(&self, date: NaiveDate) -> bool {
        self.exceptions.iter().any(|exception| match exception {
            ScheduleException::Unavailable {
                first_day,
                last_day,
            } => (*first_day..=*last_day).contains(&date),
            ScheduleException::ExtraSession { .. } => false,
        })
    }

    /// The blocks the trainer works on `date`, in wall-clock time.
    pub fn blocks_on(&self, date: NaiveDate) -> Vec<DaySpan> {
        if self.is_off(date) {
            return Vec::new();
        }
        let weekday = date.weekday();
        let recurring = self
            .recurring
            .iter()
            .filter(|schedule| schedule.covers(date))
            .flat_map(|schedule| schedule.blocks.iter())
            .filter(|block| block.weekday == weekday)
            .map(|block| block.span);
        let extra = self
            .exceptions
            .iter()
            .filter_map(|exception| match exception {
                ScheduleException::ExtraSession { day, span } if *day == date => Some(*span),
                _ => None,
            });
        recurring.chain(extra).collect()
    }

    /// Availability from `from` to `to` (dates included) as merged instant
    /// spans, sorted.
    fn availability(&self, from: NaiveDate, to: NaiveDate) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let mut spans: Vec<(DateTime<Utc>, DateTime<Utc>)> = from
            .iter_days()
            .take_while(|date| *date <= to)
            .flat_map(|date| {
                self.blocks_on(date)
                    .into_iter()
                    .filter_map(move |span| span.instants(date))
            })
            .filter(|(start, end)| start < end)
            .collect();
        spans.sort();
        let mut merged: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::with_capacity(spans.len());
        for (start, end) in spans {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        merged
    }
}

/// How a course's sessions are laid out and how far ahead they can be
/// booked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotRules {
    /// Length of a session in minutes (at least 1).
    pub duration_minutes: u32,
    /// Time kept free before each session (set-up, a Zoom check).
    pub buffer_before_minutes: u32,
    /// Time kept free after each session (notes, the next candidate).
    pub buffer_after_minutes: u32,
    /// Minutes between candidate starts; `None` means duration plus both
    /// buffers (back-to-back sessions).
    pub interval_minutes: Option<u32>,
    /// Working days needed to post the kit: the earliest bookable date is
    /// today plus this many working days.
    pub lead_working_days: u32,
    /// The latest bookable date is today plus this many days.
    pub horizon_days: u32,
    /// Bank holidays: not working days for the kit's posting.
    pub bank_holidays: Vec<NaiveDate>,
}

impl SlotRules {
    /// Minutes between candidate starts (at least 1).
    pub fn step_minutes(&self) -> u32 {
        self.interval_minutes
            .unwrap_or(
                self.duration_minutes + self.buffer_before_minutes + self.buffer_after_minutes,
            )
            .max(1)
    }

    /// The session's length.
    pub fn duration(&self) -> Duration {
        Duration::minutes(i64::from(self.duration_minutes.max(1)))
    }

    /// The span a session starting at `start` keeps its trainer busy:
    /// the session with both buffers.
    pub fn buffered(&self, start: DateTime<Utc>) -> BusySpanTimes {
        BusySpanTimes {
            from: start - Duration::minutes(i64::from(self.buffer_before_minutes)),
            to: start + self.duration() + Duration::minutes(i64::from(self.buffer_after_minutes)),
        }
    }

    /// Whether `date` is a working day: not a Saturday, Sunday or bank
    /// holiday.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
            && !self.bank_holidays.contains(&date)
    }

    /// The first and last bookable dates when today (UK) is `today`.
    pub fn booking_window(&self, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        let mut earliest = today;
        let mut left = self.lead_working_days;
        while left > 0 {
            match earliest.succ_opt() {
                Some(next) => earliest = next,
                None => break,
            }
            if self.is_working_day(earliest) {
                left -= 1;
            }
        }
        let latest = today
            .checked_add_signed(Duration::days(i64::from(self.horizon_days)))
            .unwrap_or(NaiveDate::MAX);
        (earliest, latest)
    }
}

/// A span of instants, start included, end excluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusySpanTimes {
    /// Start.
    pub from: DateTime<Utc>,
    /// End.
    pub to: DateTime<Utc>,
}

impl BusySpanTimes {
    /// Whether the two spans share an instant.
    pub fn overlaps(&self, other: &BusySpanTimes) -> bool {
        self.from < other.to && other.from < self.to
    }
}

/// Time a trainer is already taken: the buffered span of a live hold or a
/// booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusySpan {
    /// The trainer.
    pub trainer_id: u64,
    /// When.
    pub span: BusySpanTimes,
}

/// One bookable timeslot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeslot {
    /// UK date.
    pub date: NaiveDate,
    /// UK wall-clock start.
    pub time: NaiveTime,
    /// Start with the UK offset in force.
    pub start: DateTime<FixedOffset>,
    /// End (start plus the duration) with the UK offset in force.
    pub end: DateTime<FixedOffset>,
    /// Trainers free for it, by id, ascending; never empty.
    pub free_trainers: Vec<u64>,
}

/// Every bookable timeslot with a UK date from `from` to `to` (both
/// included), for the course laid out by `rules`, given each trainer's
/// schedule, what they are already busy with, and the time now.
pub fn timeslots(
    trainers: &[TrainerSchedule],
    rules: &SlotRules,
    busy: &[BusySpan],
    now: DateTime<Utc>,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<Timeslot> {
    let (earliest, latest) = rules.booking_window(to_uk(now).date_naive());
    let from = from.max(earliest);
    let to = to.min(latest);
    if from > to {
        return Vec::new();
    }
    let step = rules.step_minutes();
    let mut found: BTreeMap<(NaiveDate, NaiveTime), Timeslot> = BTreeMap::new();
    for trainer in trainers {
        // A day either side: sessions may run across midnight into a block
        // of the next (or out of one of the previous) day.
        let around = (from.pred_opt().unwrap_or(from), to.succ_opt().unwrap_or(to));
        let available = trainer.availability(around.0, around.1);
        let taken: Vec<BusySpanTimes> = busy
            .iter()
            .filter(|busy| busy.trainer_id == trainer.trainer_id)
            .map(|busy| busy.span)
            .collect();
        for date in from.iter_days().take_while(|date| *date <= to) {
            for block in trainer.blocks_on(date) {
                let mut minute = block.start + rules.buffer_before_minutes;
                while minute < block.end && minute < MINUTES_PER_DAY {
                    if let Some(slot) = candidate(rules, date, minute, now, &available, &taken) {
                        found
                            .entry((slot.date, slot.time))
                            .or_insert(slot)
                            .free_trainers
                            .push(trainer.trainer_id);
                    }
                    minute += step;
                }
            }
        }
    }
    found
        .into_values()
        .map(|mut slot| {
            slot.free_trainers.sort_unstable();
            slot.free_trainers.dedup();
            slot
        })
        .collect()
}

/// The slot starting `minute` minutes into `date` (UK wall clock), if it
/// exists, starts after `now` and its buffered span fits one span of
/// `available` and overlaps nothing `taken`. Its `free_trainers` is empty;
/// the caller fills it.
fn candidate(
    rules: &SlotRules,
    date: NaiveDate,
    minute: u32,
    now: DateTime<Utc>,
    available: &[(DateTime<Utc>, DateTime<Utc>)],
    taken: &[BusySpanTimes],
) -> Option<Timeslot> {
    let time = NaiveTime::from_hms_opt(minute / 60, minute % 60, 0)?;
    if !local_time_exists(date, time) {
        return None;
    }
    let start = uk_local_at(date, time).with_timezone(&Utc);
    if start <= now {
        return None;
    }
    let span = rules.buffered(start);
    let fits = available
        .iter()
        .any(|(from, to)| *from <= span.from && span.to <= *to);
    if !fits || taken.iter().any(|busy| busy.overlaps(&span)) {
        return None;
    }
    let end = start + rules.duration();
    Some(Timeslot {
        date,
        time,
        start: to_uk(start),
        end: to_uk(end),
        free_trainers: Vec::new(),
    })
}

/// The slot at `date` and `time`, if it is bookable now.
pub fn find_timeslot(
    trainers: &[TrainerSchedule],
    rules: &SlotRules,
    busy: &[BusySpan],
    now: DateTime<Utc>,
    date: NaiveDate,
    time: NaiveTime,
) -> Option<Timeslot> {
    timeslots(trainers, rules, busy, now, date, date)
        .into_iter()
        .find(|slot| slot.time == time)
}

/// Which free trainer takes a slot: the one with the least busy time on the
/// slot's UK date (Hapio's `equalize` strategy), the lowest id on a tie so
/// the choice is reproducible.
pub fn choose_trainer(slot: &Timeslot, busy: &[BusySpan]) -> Option<u64> {
    let busy_minutes = |trainer_id: u64| -> i64 {
        busy.iter()
            .filter(|busy| {
                busy.trainer_id == trainer_id && to_uk(busy.span.from).date_naive() == slot.date
            })
            .map(|busy| (busy.span.to - busy.span.from).num_minutes())
            .sum()
    };
    slot.free_trainers
        .iter()
        .copied()
        .min_by_key(|trainer_id| (busy_minutes(*trainer_id), *trainer_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn hm(hour: u32, minute: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(hour, minute, 0).unwrap()
    }

    fn span(start: (u32, u32), end: (u32, u32)) -> DaySpan {
        DaySpan::new(start.0 * 60 + start.1, end.0 * 60 + end.1).unwrap()
    }

    fn every_day(span: DaySpan) -> Vec<WeeklyBlock> {
        [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ]
        .into_iter()
        .map(|weekday| WeeklyBlock { weekday, span })
        .collect()
    }

    fn trainer(id: u64, blocks: Vec<WeeklyBlock>) -> TrainerSchedule {
        TrainerSchedule {
            trainer_id: id,
            recurring: vec![RecurringSchedule {
                first_day: day("2020-01-01"),
                last_day: None,
                blocks,
            }],
            exceptions: Vec::new(),
        }
    }

    fn rules(duration: u32, before: u32, after: u32) -> SlotRules {
        SlotRules {
            duration_minutes: duration,
            buffer_before_minutes: before,
            buffer_after_minutes: after,
            interval_minutes: None,
            lead_working_days: 0,
            horizon_days: 400,
            bank_holidays: Vec::new(),
        }
    }

    fn times(slots: &[Timeslot]) -> Vec<String> {
        slots.iter().map(|slot| slot.start.to_rfc3339()).collect()
    }

    #[test]
    fn back_to_back_sessions_fill_a_block_with_buffers_inside_it() {
        let t = trainer(
            1,
            vec![WeeklyBlock {
                weekday: Weekday::Wed,
                span: span((8, 45), (13, 15)),
            }],
        );
        let slots = timeslots(
            &[t],
            &rules(60, 15, 15),
            &[],
            at("2026-08-01T00:00:00Z"),
            day("2026-09-02"),
            day("2026-09-02"),
        );
        assert_eq!(
            times(&slots),
            [
                "2026-09-02T09:00:00+01:00",
                "2026-09-02T10:30:00+01:00",
                "2026-09-02T12:00:00+01:00"
            ]
        );
        assert_eq!(slots[0].end.to_rfc3339(), "2026-09-02T10:00:00+01:00");
        assert_eq!(slots[0].free_trainers, [1]);
    }

    #[test]
    fn a_busy_span_removes_only_the_overlapping_slots_of_that_trainer() {
        let block = every_day(span((9, 0), (12, 0)));
        let trainers = [trainer(1, block.clone()), trainer(2, block)];
        let rules = rules(60, 0, 0);
        let busy = [BusySpan {
            trainer_id: 2,
            span: BusySpanTimes {
                from: at("2026-09-02T09:30:00+01:00"),
                to: at("2026-09-02T10:15:00+01:00"),
            },
        }];
        let slots = timeslots(
            &trainers,
            &rules,
            &busy,
            at("2026-08-01T00:00:00Z"),
            day("2026-09-02"),
            day("2026-09-02"),
        );
        let free: Vec<(String, Vec<u64>)> = slots
            .iter()
            .map(|slot| (slot.time.to_string(), slot.free_trainers.clone()))
            .collect();
        assert_eq!(
            free,
            [
                ("09:00:00".to_owned(), vec![1]),
                ("10:00:00".to_owned(), vec![1]),
                ("11:00:00".to_owned(), vec![1, 2]),
            ]
        );
        let eleven = &slots[2];
        assert_eq!(choose_trainer(eleven, &[]), Some(1), "lowest id on a tie");
        let afternoon = [BusySpan {
            trainer_id: 1,
            span: BusySpanTimes {
                from: at("2026-09-02T16:00:00+01:00"),
                to: at("2026-09-02T17:00:00+01:00"),
            },
        }];
        assert_eq!(
            choose_trainer(eleven, &afternoon),
            Some(2),
            "least busy that day"
        );
    }

    #[test]
    fn holidays_block_days_and_extra_sessions_add_them() {
        let mut t = trainer(1, every_day(span((9, 0), (10, 0))));
        t.exceptions = vec![
            ScheduleException::Unavailable {
                first_day: day("2026-09-02"),
                last_day: day("2026-09-03"),
            },
            ScheduleException::ExtraSession {
                day: day("2026-09-04"),
                span: span((14, 0), (15, 0)),
            },
            // An extra session on a holiday does not count.
            ScheduleException::ExtraSession {
                day: day("2026-09-03"),
                span: span((14, 0), (15, 0)),
            },
        ];
        let slots = timeslots(
            &[t],
            &rules(60, 0, 0),
            &[],
            at("2026-08-01T00:00:00Z"),
            day("2026-09-01"),
            day("2026-09-04"),
        );
        assert_eq!(
            times(&slots),
            [
                "2026-09-01T09:00:00+01:00",
                "2026-09-04T09:00:00+01:00",
                "2026-09-04T14:00:00+01:00"
            ]
        );
    }

    #[test]
    fn a_recurring_schedule_applies_between_its_first_and_last_day() {
        let mut t = trainer(1, every_day(span((9, 0), (10, 0))));
        t.recurring[0].first_day = day("2026-09-02");
        t.recurring[0].last_day = Some(day("2026-09-03"));
        let slots = timeslots(
            &[t],
            &rules(60, 0, 0),
            &[],
            at("2026-08-01T00:00:00Z"),
            day("2026-09-01"),
            day("2026-09-05"),
        );
        let dates: Vec<String> = slots.iter().map(|slot| slot.date.to_string()).collect();
        assert_eq!(dates, ["2026-09-02", "2026-09-03"]);
    }

    #[test]
    fn the_booking_window_counts_working_days_for_the_kit() {
        let mut rules = rules(60, 0, 0);
        rules.lead_working_days = 3;
        rules.horizon_days = 90;
        // Monday + 3 working days = Thursday.
        assert_eq!(
            rules.booking_window(day("2026-08-31")),
            (day("2026-09-03"), day("2026-11-29"))
        );
        // Friday + 3 working days = Wednesday; Saturday too.
        assert_eq!(rules.booking_window(day("2026-09-04")).0, day("2026-09-09"));
        assert_eq!(rules.booking_window(day("2026-09-05")).0, day("2026-09-09"));
        // A bank holiday is skipped: Christmas 2026 is a Friday, Boxing Day
        // substitute on Monday 28th.
        rules.bank_holidays = vec![day("2026-12-25"), day("2026-12-28")];
        assert_eq!(rules.booking_window(day("2026-12-23")).0, day("2026-12-30"));
        let t = trainer(1, every_day(span((9, 0), (10, 0))));
        let slots = timeslots(
            &[t],
            &rules,
            &[],
            at("2026-12-23T12:00:00Z"),
            day("2026-12-20"),
            day("2027-12-31"),
        );
        assert_eq!(slots.first().map(|s| s.date), Some(day("2026-12-30")));
        assert_eq!(slots.last().map(|s| s.date), Some(day("2027-03-23")));
    }

    #[test]
    fn a_slot_must_start_after_now() {
        let t = trainer(1, every_day(span((9, 0), (12, 0))));
        let slots = timeslots(
            &[t],
            &rules(60, 0, 0),
            &[],
            at("2026-09-02T09:30:00+01:00"),
            day("2026-09-02"),
            day("2026-09-02"),
        );
        assert_eq!(
            times(&slots),
            ["2026-09-02T10:00:00+01:00", "2026-09-02T11:00:00+01:00"]
        );
    }

    #[test]
    fn the_spring_gap_has_no_slot_and_sessions_last_their_real_length() {
        // BST starts 01:00 UTC on Sunday 28 March 2027: 01:00-01:59 do not exist.
        let t = trainer(1, every_day(span((0, 0), (4, 0))));
        let slots = timeslots(
            &[t],
            &rules(60, 0, 0),
            &[],
            at("2027-03-01T00:00:00Z"),
            day("2027-03-28"),
            day("2027-03-28"),
        );
        assert_eq!(
            times(&slots),
            [
                "2027-03-28T00:00:00+00:00",
                "2027-03-28T02:00:00+01:00",
                "2027-03-28T03:00:00+01:00"
            ]
        );
        assert!(!local_time_exists(day("2027-03-28"), hm(1, 30)));
        assert!(local_time_exists(day("2027-03-28"), hm(2, 0)));
        for slot in &slots {
            assert_eq!(slot.end - slot.start, Duration::minutes(60));
        }
    }

    #[test]
    fn the_repeated_autumn_hour_names_its_first_occurrence_only() {
        // BST ends 01:00 UTC on Sunday 31 October 2027: 01:00-01:59 happen twice.
        let t = trainer(1, every_day(span((0, 0), (4, 0))));
        let slots = timeslots(
            &[t],
            &rules(60, 0, 0),
            &[],
            at("2027-10-01T00:00:00Z"),
            day("2027-10-31"),
            day("2027-10-31"),
        );
        assert_eq!(
            times(&slots),
            [
                "2027-10-31T00:00:00+01:00",
                "2027-10-31T01:00:00+01:00",
                "2027-10-31T02:00:00+00:00",
                "2027-10-31T03:00:00+00:00"
            ]
        );
        // A session through the repeated hour keeps its real length: 01:30
        // BST plus 90 minutes is 02:00 GMT.
        let long = timeslots(
            &[trainer(1, every_day(span((1, 30), (3, 0))))],
            &rules(90, 0, 0),
            &[],
            at("2027-10-01T00:00:00Z"),
            day("2027-10-31"),
            day("2027-10-31"),
        );
        assert_eq!(times(&long), ["2027-10-31T01:30:00+01:00"]);
        assert_eq!(long[0].end.to_rfc3339(), "2027-10-31T02:00:00+00:00");
    }

    #[test]
    fn find_timeslot_and_spans() {
        let t = trainer(1, every_day(span((9, 0), (11, 0))));
        let rules = rules(60, 0, 0);
        let now = at("2026-08-01T00:00:00Z");
        let found = find_timeslot(
            std::slice::from_ref(&t),
            &rules,
            &[],
            now,
            day("2026-09-02"),
            hm(10, 0),
        );
        assert_eq!(
            found.map(|s| s.start.to_rfc3339()),
            Some("2026-09-02T10:00:00+01:00".into())
        );
        assert!(find_timeslot(&[t], &rules, &[], now, day("2026-09-02"), hm(10, 30)).is_none());
        assert!(DaySpan::new(60, 60).is_none());
        assert!(DaySpan::new(0, 1441).is_none());
        assert!(DaySpan::new(0, 1440).is_some());
    }

    // Property tests: schedules of arbitrary blocks, buffers and busy spans,
    // on days around both UK clock changes.

    /// The days checked: the weekend of each clock change in 2026 and 2027,
    /// plus ordinary days.
    fn interesting_day() -> impl Strategy<Value = NaiveDate> {
        prop::sample::select(vec![
            "2026-03-28",
            "2026-03-29",
            "2026-03-30",
            "2026-10-24",
            "2026-10-25",
            "2026-10-26",
            "2027-03-27",
            "2027-03-28",
            "2027-03-29",
            "2027-10-30",
            "2027-10-31",
            "2027-11-01",
            "2026-07-15",
            "2027-01-12",
        ])
        .prop_map(day)
    }

    fn day_span() -> impl Strategy<Value = DaySpan> {
        (0_u32..MINUTES_PER_DAY, 15_u32..600).prop_map(|(start, length)| DaySpan {
            start,
            end: (start + length).min(MINUTES_PER_DAY),
        })
    }

    fn schedule(id: u64) -> impl Strategy<Value = TrainerSchedule> {
        (
            prop::collection::vec(day_span(), 1..4),
            prop::collection::vec((interesting_day(), day_span()), 0..3),
            prop::option::of(interesting_day()),
        )
            .prop_map(move |(spans, extras, holiday)| {
                let blocks = spans.into_iter().flat_map(every_day).collect();
                let mut exceptions: Vec<ScheduleException> = extras
                    .into_iter()
                    .map(|(day, span)| ScheduleException::ExtraSession { day, span })
                    .collect();
                if let Some(off) = holiday {
                    exceptions.push(ScheduleException::Unavailable {
                        first_day: off,
                        last_day: off,
                    });
                }
                TrainerSchedule {
                    trainer_id: id,
                    recurring: vec![RecurringSchedule {
                        first_day: day("2026-01-01"),
                        last_day: None,
                        blocks,
                    }],
                    exceptions,
                }
            })
    }

    fn slot_rules() -> impl Strategy<Value = SlotRules> {
        (
            15_u32..180,
            0_u32..45,
            0_u32..45,
            prop::option::of(15_u32..120),
        )
            .prop_map(|(duration, before, after, interval)| SlotRules {
                duration_minutes: duration,
                buffer_before_minutes: before,
                buffer_after_minutes: after,
                interval_minutes: interval,
                lead_working_days: 0,
                horizon_days: 1000,
                bank_holidays: Vec::new(),
            })
    }

    /// Whether the trainer's blocks (read naively, block by block, minute
    /// by minute) cover the instant: the oracle for "free".
    fn covered(trainer: &TrainerSchedule, instant: DateTime<Utc>) -> bool {
        let date = to_uk(instant).date_naive();
        [date.pred_opt().unwrap(), date, date.succ_opt().unwrap()]
            .into_iter()
            .any(|date| {
                trainer.blocks_on(date).into_iter().any(|span| {
                    let (from, to) = span.instants(date).unwrap();
                    from <= instant && instant < to
                })
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        #[test]
        fn every_slot_is_a_real_uk_time_with_a_free_trainer(
            trainers in (schedule(1), schedule(2)),
            rules in slot_rules(),
            date in interesting_day(),
            busy_at in prop::collection::vec((0_i64..(3 * 24 * 60), 10_i64..240, 1_u64..3), 0..4),
        ) {
            let trainers = [trainers.0, trainers.1];
            let base = uk_local_at(date.pred_opt().unwrap(), hm(0, 0)).with_timezone(&Utc);
            let busy: Vec<BusySpan> = busy_at
                .into_iter()
                .map(|(offset, length, trainer_id)| BusySpan {
                    trainer_id,
                    span: BusySpanTimes {
                        from: base + Duration::minutes(offset),
                        to: base + Duration::minutes(offset + length),
                    },
                })
                .collect();
            let now = at("2025-12-01T00:00:00Z");
            let slots = timeslots(&trainers, &rules, &busy, now, date, date);
            let mut previous: Option<DateTime<Utc>> = None;
            for slot in &slots {
                // The name is the wall-clock reading of the start.
                prop_assert_eq!(slot.start.naive_local(), slot.date.and_time(slot.time));
                prop_assert_eq!(slot.date, date);
                prop_assert!(local_time_exists(slot.date, slot.time));
                let start = slot.start.with_timezone(&Utc);
                prop_assert_eq!(*slot.start.offset(), *to_uk(start).offset());
                prop_assert_eq!(*slot.end.offset(), *to_uk(slot.end.with_timezone(&Utc)).offset());
                prop_assert_eq!(slot.end - slot.start, rules.duration());
                // A repeated autumn time means its first occurrence.
                prop_assert_eq!(start, uk_local_at(slot.date, slot.time).with_timezone(&Utc));
                prop_assert!(previous.is_none_or(|p| p < start), "sorted, unique");
                previous = Some(start);
                prop_assert!(!slot.free_trainers.is_empty());
                let span = rules.buffered(start);
                for trainer_id in &slot.free_trainers {
                    let trainer = &trainers[(*trainer_id - 1) as usize];
                    let mut minute = span.from;
                    while minute < span.to {
                        prop_assert!(covered(trainer, minute), "trainer {} works at {}", trainer_id, minute);
                        minute += Duration::minutes(1);
                    }
                    prop_assert!(
                        !busy.iter().any(|b| b.trainer_id == *trainer_id && b.span.overlaps(&span)),
                        "trainer {} is not busy", trainer_id
                    );
                }
            }
        }

        #[test]
        fn taking_slots_one_after_another_never_double_books_a_trainer(
            trainers in (schedule(1), schedule(2)),
            rules in slot_rules(),
            date in interesting_day(),
            picks in prop::collection::vec(0_usize..50, 1..12),
        ) {
            let trainers = [trainers.0, trainers.1];
            let now = at("2025-12-01T00:00:00Z");
            let mut busy: Vec<BusySpan> = Vec::new();
            for pick in picks {
                let slots = timeslots(&trainers, &rules, &busy, now, date, date);
                if slots.is_empty() {
                    break;
                }
                let slot = &slots[pick % slots.len()];
                let trainer_id = choose_trainer(slot, &busy).unwrap();
                prop_assert!(slot.free_trainers.contains(&trainer_id));
                busy.push(BusySpan {
                    trainer_id,
                    span: rules.buffered(slot.start.with_timezone(&Utc)),
                });
            }
            for (index, a) in busy.iter().enumerate() {
                for b in &busy[index + 1..] {
                    prop_assert!(
                        a.trainer_id != b.trainer_id || !a.span.overlaps(&b.span),
                        "{:?} and {:?}", a, b
                    );
                }
            }
        }

        #[test]
        fn the_booking_window_holds(
            trainer in schedule(1),
            lead in 0_u32..6,
            horizon in 0_u32..40,
            now_offset in 0_i64..(60 * 24 * 14),
            today in interesting_day(),
        ) {
            let rules = SlotRules {
                lead_working_days: lead,
                horizon_days: horizon,
                bank_holidays: vec![day("2026-12-25"), day("2027-03-29")],
                ..rules(60, 0, 0)
            };
            let now = uk_local_at(today, hm(0, 0)).with_timezone(&Utc) + Duration::minutes(now_offset);
            let today = to_uk(now).date_naive();
            let (earliest, latest) = rules.booking_window(today);
            let working_days = today
                .iter_days()
                .skip(1)
                .take_while(|d| *d <= earliest)
                .filter(|d| rules.is_working_day(*d))
                .count();
            prop_assert_eq!(working_days as u32, lead);
            let slots = timeslots(
                &[trainer],
                &rules,
                &[],
                now,
                today - Duration::days(3),
                today + Duration::days(60),
            );
            for slot in slots {
                prop_assert!(slot.date >= earliest && slot.date <= latest);
                prop_assert!(slot.start.with_timezone(&Utc) > now);
            }
        }
    }
}
