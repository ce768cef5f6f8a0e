//! The timeslot calendar of Virtual BLS: the month grid of days with free
//! timeslots, then the chosen day's times, computed from one read of the
//! timeslots of a range of dates ([`slot_range`]).
//!
//! It is the Practical Training calendar's grid ([`MonthGrid`], built by
//! the same builder, with the same keys, tab stop and kept selection) over
//! other things: a day counts its free times instead of events and seats.
//!
//! Rules:
//! * A timeslot belongs to the UK date of its start (`start_date`'s own
//!   offset, which the API sends as the UK offset in force, or its `date`
//!   and `time` when `start_date` is not sent: [`Timeslot::start`]); its
//!   times are UK wall-clock times labelled GMT or BST.
//! * A timeslot is shown when it starts after now and a trainer is free for
//!   it (`remaining_slots` at least 1, or not said: [`Timeslot::is_free`]);
//!   the same date and time is shown once.
//! * What the list does not say is not shown: a time without an end has no
//!   end time nor duration, one without a price no price.
//! * A day's count is its shown times, and the month's the sum over its
//!   days; a day is "few" with 1 to [`crate::calendar::FEW_SEATS_THRESHOLD`]
//!   times.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::api::bls::Timeslot;
use crate::api::{Money, Timestamp};
use crate::calendar::{self, DayTally, GridWords, MonthGrid, MonthWanted, YearMonth};
use crate::{month_nav, uk_time};

/// Days of timeslots read at once, from today: the booking window (90 days
/// ahead at most) with a little to spare, within the gateway's largest
/// range.
pub const SLOT_RANGE_DAYS: i64 = 92;

/// The UK dates to read timeslots for, in one read: today to
/// [`SLOT_RANGE_DAYS`] ahead.
pub fn slot_range(now: DateTime<Utc>) -> (NaiveDate, NaiveDate) {
    let today = uk_time::uk_today(now);
    (
        today,
        today
            .checked_add_signed(Duration::days(SLOT_RANGE_DAYS))
            .unwrap_or(today),
    )
}

/// Timeslots: "3 times".
const SLOT_WORDS: GridWords = GridWords {
    item: "time",
    seats: false,
};

/// One free time of a day, ready to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotTime {
    /// UK date, `YYYY-MM-DD`, as the hold asks for it.
    pub date: String,
    /// UK wall-clock start, `HH:MM`, as the hold asks for it.
    pub time: String,
    /// The course.
    pub course_id: u64,
    /// Start, UK offset.
    pub start: Timestamp,
    /// End, UK offset, when the list says it.
    pub end: Option<Timestamp>,
    /// "1 hour", when the end is known.
    pub duration_text: Option<String>,
    /// Price for this account, when the list says it.
    pub cost: Option<Money>,
    /// "09:00 to 10:00 GMT" ("09:00 GMT" without an end).
    pub label: String,
    /// "Tuesday 4 August 2026, 09:00 to 10:00 GMT".
    pub full_label: String,
}

impl SlotTime {
    /// The time of one timeslot starting at `start`.
    fn of(slot: &Timeslot, start: Timestamp) -> SlotTime {
        let label = calendar::time_span(start, slot.end_date);
        let full_label = format!("{}, {label}", uk_time::full_date(start.date_naive()));
        SlotTime {
            date: slot.date.clone(),
            time: slot.time.clone(),
            course_id: slot.course.id,
            start,
            end: slot.end_date,
            duration_text: slot
                .end_date
                .map(|end| uk_time::duration_text((end - start).max(Duration::zero()))),
            cost: slot.cost_inc_vat,
            label,
            full_label,
        }
    }

    /// What its button says under the time: the duration and the price,
    /// each when known.
    pub fn details(&self) -> Vec<String> {
        self.duration_text
            .iter()
            .cloned()
            .chain(self.cost.map(|cost| cost.to_string()))
            .collect()
    }
}

/// The free times of one UK date, earliest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayTimes {
    /// The UK date.
    pub date: NaiveDate,
    /// "Tuesday 4 August 2026", for the list's heading.
    pub label: String,
    /// The times.
    pub times: Vec<SlotTime>,
}

/// A listed timeslot with its start and the UK date of its start.
#[derive(Debug, Clone, PartialEq)]
struct Listed {
    date: NaiveDate,
    start: Timestamp,
    slot: Timeslot,
}

/// Timeslots sorted once by UK date, then start (the date order the day
/// and month queries read by), each with its UK date.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SlotIndex {
    slots: Vec<Listed>,
}

impl SlotIndex {
    /// Indexes timeslots; the same date and time twice is kept once, with
    /// the most trainers free; one whose start cannot be read is left out.
    pub fn new(slots: Vec<Timeslot>) -> SlotIndex {
        let mut slots: Vec<Listed> = slots
            .into_iter()
            .filter_map(|slot| {
                let start = slot.start()?;
                Some(Listed {
                    date: start.date_naive(),
                    start,
                    slot,
                })
            })
            .collect();
        slots.sort_by(|a, b| {
            (a.date, a.start)
                .cmp(&(b.date, b.start))
                .then(b.slot.remaining_slots.cmp(&a.slot.remaining_slots))
        });
        slots.dedup_by(|a, b| a.slot.date == b.slot.date && a.slot.time == b.slot.time);
        SlotIndex { slots }
    }

    /// Whether there is no timeslot at all.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The timeslot at a UK date and time, if listed.
    pub fn slot(&self, date: &str, time: &str) -> Option<&Timeslot> {
        self.slots
            .iter()
            .map(|listed| &listed.slot)
            .find(|slot| slot.date == date && slot.time == time)
    }

    /// The shown timeslots of `first..=last`.
    fn shown(
        &self,
        first: NaiveDate,
        last: NaiveDate,
        now: DateTime<Utc>,
    ) -> impl Iterator<Item = &Listed> {
        let from = self.slots.partition_point(|listed| listed.date < first);
        let to = self.slots.partition_point(|listed| listed.date <= last);
        self.slots[from..to.max(from)]
            .iter()
            .filter(move |listed| listed.shown(now))
    }

    /// The month grid: each day with its free times.
    pub fn month_grid(&self, month: YearMonth, now: DateTime<Utc>) -> MonthGrid {
        let dates = calendar::grid_dates(month);
        let grid_start = dates[0];
        let mut tallies = vec![DayTally::default(); dates.len()];
        for listed in self.shown(grid_start, dates[dates.len() - 1], now) {
            let day = usize::try_from((listed.date - grid_start).num_days()).ok();
            if let Some(tally) = day.and_then(|day| tallies.get_mut(day)) {
                tally.events += 1;
                tally.seats += 1;
            }
        }
        calendar::assemble_grid(month, &dates, &tallies, uk_time::uk_today(now), &SLOT_WORDS)
    }

    /// The free times of one UK date.
    pub fn day_times(&self, date: NaiveDate, now: DateTime<Utc>) -> DayTimes {
        DayTimes {
            date,
            label: uk_time::full_date(date),
            times: self
                .shown(date, date, now)
                .map(|listed| SlotTime::of(&listed.slot, listed.start))
                .collect(),
        }
    }

    /// The month `wanted` names, with a free time.
    pub fn month_wanted(&self, wanted: MonthWanted, now: DateTime<Utc>) -> Option<YearMonth> {
        month_nav::month_wanted(
            &self.slots,
            wanted,
            |listed| listed.date,
            |listed| listed.shown(now),
        )
    }

    /// The earliest month with a free time.
    pub fn first_month_with_availability(&self, now: DateTime<Utc>) -> Option<YearMonth> {
        self.month_wanted(MonthWanted::First, now)
    }

    /// The first month after `month` with a free time ("Next month").
    pub fn next_month_with_availability(
        &self,
        month: YearMonth,
        now: DateTime<Utc>,
    ) -> Option<YearMonth> {
        self.month_wanted(MonthWanted::After(month), now)
    }

    /// The last month before `month` with a free time ("Previous month").
    pub fn previous_month_with_availability(
        &self,
        month: YearMonth,
        now: DateTime<Utc>,
    ) -> Option<YearMonth> {
        self.month_wanted(MonthWanted::Before(month), now)
    }
}

impl Listed {
    /// Whether it is shown at `now`: it starts later and a trainer is free
    /// for it.
    fn shown(&self, now: DateTime<Utc>) -> bool {
        self.slot.is_free() && self.start.with_timezone(&Utc) > now
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveTime, TimeZone};
    use proptest::prelude::*;

    use super::*;
    use crate::api::CourseRef;
    use crate::calendar::DayStatus;

    fn slot_at(start: DateTime<Utc>, minutes: i64, free: u32) -> Timeslot {
        let local = uk_time::to_uk(start);
        Timeslot {
            date: local.format("%Y-%m-%d").to_string(),
            time: local.format("%H:%M").to_string(),
            course: CourseRef {
                id: 41,
                name: "BLS Annual Update (Virtual)".into(),
            },
            start_date: Some(local),
            end_date: Some(uk_time::to_uk(start + Duration::minutes(minutes))),
            remaining_slots: Some(free),
            cost_inc_vat: Some(Money(5500)),
        }
    }

    fn uk(date: &str, time: &str) -> DateTime<Utc> {
        let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
        let time = NaiveTime::parse_from_str(time, "%H:%M").unwrap();
        uk_time::uk_local_at(date, time).with_timezone(&Utc)
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
    }

    #[test]
    fn days_count_their_free_times_and_the_day_lists_them() {
        let index = SlotIndex::new(vec![
            slot_at(uk("2026-03-10", "13:30"), 60, 2),
            slot_at(uk("2026-03-10", "09:00"), 60, 1),
            slot_at(uk("2026-03-10", "09:00"), 60, 1),
            slot_at(uk("2026-03-11", "09:00"), 60, 0),
            slot_at(uk("2026-03-01", "09:00"), 60, 3),
        ]);
        let grid = index.month_grid(YearMonth::new(2026, 3).unwrap(), now());
        let tuesday = grid
            .day(NaiveDate::from_ymd_opt(2026, 3, 10).unwrap())
            .unwrap();
        assert_eq!(tuesday.event_count, 2, "the repeated time is shown once");
        assert_eq!(tuesday.label, "Tuesday 10 March 2026, 2 times");
        assert_eq!(tuesday.status, DayStatus::FewSeats);
        let wednesday = grid
            .day(NaiveDate::from_ymd_opt(2026, 3, 11).unwrap())
            .unwrap();
        assert_eq!(wednesday.label, "Wednesday 11 March 2026, no times");
        assert!(!wednesday.status.is_bookable(), "no trainer free");
        let past = grid
            .day(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap())
            .unwrap();
        assert_eq!(past.status, DayStatus::Past);
        assert_eq!(grid.event_count, 2);
        assert_eq!(
            grid.first_bookable_day,
            NaiveDate::from_ymd_opt(2026, 3, 10)
        );
        let day = index.day_times(NaiveDate::from_ymd_opt(2026, 3, 10).unwrap(), now());
        assert_eq!(day.label, "Tuesday 10 March 2026");
        let labels: Vec<&str> = day.times.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["09:00 to 10:00 GMT", "13:30 to 14:30 GMT"]);
        assert_eq!(
            day.times[0].full_label,
            "Tuesday 10 March 2026, 09:00 to 10:00 GMT"
        );
        assert_eq!(day.times[0].details(), ["1 hour", "£55"]);
        assert_eq!(
            (day.times[1].date.as_str(), day.times[1].time.as_str()),
            ("2026-03-10", "13:30")
        );
        assert!(index.slot("2026-03-10", "13:30").is_some());
        assert!(index.slot("2026-03-10", "13:31").is_none());
    }

    #[test]
    fn a_time_listed_by_its_date_and_time_alone_is_shown_without_end_or_price() {
        let bare = Timeslot {
            date: "2026-03-10".into(),
            time: "09:00".into(),
            course: CourseRef {
                id: 41,
                name: "BLS Annual Update (Virtual)".into(),
            },
            start_date: None,
            end_date: None,
            remaining_slots: None,
            cost_inc_vat: None,
        };
        let summer = Timeslot {
            date: "2026-06-10".into(),
            time: "14:00".into(),
            ..bare.clone()
        };
        let unreadable = Timeslot {
            time: "9am".into(),
            ..bare.clone()
        };
        let index = SlotIndex::new(vec![bare, summer, unreadable]);
        let march = index.day_times(NaiveDate::from_ymd_opt(2026, 3, 10).unwrap(), now());
        assert_eq!(march.times.len(), 1, "an unreadable time is not listed");
        let time = &march.times[0];
        assert_eq!(time.label, "09:00 GMT");
        assert_eq!(time.full_label, "Tuesday 10 March 2026, 09:00 GMT");
        assert!(time.details().is_empty(), "{:?}", time.details());
        let june = index.day_times(NaiveDate::from_ymd_opt(2026, 6, 10).unwrap(), now());
        assert_eq!(june.times[0].label, "14:00 BST");
        assert_eq!(
            index.first_month_with_availability(now()),
            YearMonth::new(2026, 3),
            "a time whose trainers are not counted is free"
        );
    }

    #[test]
    fn times_next_to_the_clock_changes_read_as_uk_wall_clock() {
        let index = SlotIndex::new(vec![
            slot_at(uk("2026-03-28", "09:00"), 60, 1),
            slot_at(uk("2026-03-29", "09:00"), 60, 1),
            slot_at(uk("2026-10-24", "09:00"), 60, 1),
            slot_at(uk("2026-10-25", "09:00"), 60, 1),
        ]);
        let spring = index.day_times(NaiveDate::from_ymd_opt(2026, 3, 29).unwrap(), now());
        assert_eq!(spring.times[0].label, "09:00 to 10:00 BST");
        let before = index.day_times(NaiveDate::from_ymd_opt(2026, 3, 28).unwrap(), now());
        assert_eq!(before.times[0].label, "09:00 to 10:00 GMT");
        let autumn = index.day_times(NaiveDate::from_ymd_opt(2026, 10, 25).unwrap(), now());
        assert_eq!(autumn.times[0].label, "09:00 to 10:00 GMT");
        let last_bst = index.day_times(NaiveDate::from_ymd_opt(2026, 10, 24).unwrap(), now());
        assert_eq!(last_bst.times[0].label, "09:00 to 10:00 BST");
    }

    #[test]
    fn month_navigation_skips_months_without_free_times() {
        let index = SlotIndex::new(vec![
            slot_at(uk("2026-03-10", "09:00"), 60, 1),
            slot_at(uk("2026-05-12", "09:00"), 60, 1),
            slot_at(uk("2026-06-02", "09:00"), 60, 0),
        ]);
        let march = YearMonth::new(2026, 3).unwrap();
        let may = YearMonth::new(2026, 5).unwrap();
        assert_eq!(index.first_month_with_availability(now()), Some(march));
        assert_eq!(index.next_month_with_availability(march, now()), Some(may));
        assert_eq!(index.next_month_with_availability(may, now()), None);
        assert_eq!(index.month_wanted(MonthWanted::First, now()), Some(march));
        assert_eq!(
            index.month_wanted(MonthWanted::After(march), now()),
            Some(may)
        );
        assert_eq!(
            index.month_wanted(MonthWanted::Before(may), now()),
            Some(march)
        );
        assert_eq!(
            index.previous_month_with_availability(may, now()),
            Some(march)
        );
        assert_eq!(index.previous_month_with_availability(march, now()), None);
    }

    #[test]
    fn the_range_read_is_the_booking_window_from_the_uk_today() {
        let late_evening = Utc.with_ymd_and_hms(2026, 7, 31, 23, 30, 0).unwrap();
        let (from, to) = slot_range(late_evening);
        assert_eq!(from, NaiveDate::from_ymd_opt(2026, 8, 1).unwrap(), "BST");
        assert_eq!((to - from).num_days(), SLOT_RANGE_DAYS);
    }

    proptest! {
        /// Across both clock changes: every shown slot is counted once, on
        /// its UK date; day counts add up to the month's; a day's times are
        /// the slots of that date, in order, each labelled with its own
        /// date in full.
        #[test]
        fn counts_add_up_and_each_slot_is_on_its_uk_day(
            starts in proptest::collection::vec(0i64..(280 * 96), 0..60),
            free in proptest::collection::vec(0u32..3, 60),
        ) {
            let base = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
            let slots: Vec<Timeslot> = starts
                .iter()
                .zip(&free)
                .map(|(quarter, free)| slot_at(base + Duration::minutes(quarter * 15), 60, *free))
                .collect();
            let index = SlotIndex::new(slots.clone());
            let mut shown: Vec<(String, String)> = slots
                .iter()
                .filter(|slot| slot.is_free() && slot.start().unwrap() > now())
                .map(|slot| (slot.date.clone(), slot.time.clone()))
                .collect();
            shown.sort();
            shown.dedup();
            let mut month = YearMonth::new(2026, 3).unwrap();
            let mut counted = 0;
            for _ in 0..11 {
                let grid = index.month_grid(month, now());
                let days: u32 = grid.days().filter(|d| d.in_month).map(|d| d.event_count).sum();
                prop_assert_eq!(days, grid.event_count);
                for day in grid.days().filter(|d| d.in_month) {
                    let times = index.day_times(day.date, now());
                    prop_assert_eq!(times.times.len() as u32, day.event_count);
                    let date = day.date.format("%Y-%m-%d").to_string();
                    prop_assert!(times.times.iter().all(|t| t.date == date));
                    prop_assert!(times.times.windows(2).all(|w| w[0].start < w[1].start));
                    let full = uk_time::full_date(day.date);
                    prop_assert!(times.times.iter().all(|t| t.full_label.starts_with(&full)));
                }
                counted += grid.event_count as usize;
                month = month.next().unwrap();
            }
            prop_assert_eq!(counted, shown.len());
        }
    }
}
