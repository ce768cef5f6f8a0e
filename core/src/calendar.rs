//! The calendar computed from training events: a month grid of days with
//! seats, each day's agenda of events, and month navigation.
//!
//! Rules:
//! * An event belongs to the venue-local date of its start, read with the
//!   offset the API sent for that event (`start_date`'s own offset), never
//!   the viewer's zone. Times are shown with that same offset and labelled
//!   GMT or BST.
//! * An event is *bookable* when it starts at or after `now + min_notice`,
//!   has seats left and passes the location filter. A full event that would
//!   otherwise be bookable is *shown* (as full) only when `show_full` is set.
//!   Other events are not shown at all.
//! * A day's `event_count` counts its shown events and `seats_total` the
//!   seats left across them; a month's totals are the sums over its own days.
//! * "Today" is the UK date of `now`.
//!
//! Events are grouped by venue-local date once, in an [`EventIndex`]; every
//! grid, agenda and navigation query then reads only the slice of events in
//! the dates it covers, so a filter change costs a few microseconds per day
//! rather than a scan of every event per day.

use std::fmt;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

use crate::api::{Money, Timestamp, TrainingEvent};
use crate::{month_nav, uk_time};

/// A day with at least one and at most this many seats left, across its
/// bookable events, is shown as "few seats".
pub const FEW_SEATS_THRESHOLD: u32 = 3;

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    year: i32,
    month: u32,
}

impl YearMonth {
    /// The month `month` (1 to 12) of `year`; `None` when it is not a month
    /// chrono can represent.
    pub fn new(year: i32, month: u32) -> Option<YearMonth> {
        NaiveDate::from_ymd_opt(year, month, 1).map(YearMonth::of)
    }

    /// The month a date falls in.
    pub fn of(date: NaiveDate) -> YearMonth {
        YearMonth {
            year: date.year(),
            month: date.month(),
        }
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month number, 1 to 12.
    pub fn month(self) -> u32 {
        self.month
    }

    /// The first day of the month.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1)
            .expect("a YearMonth is only built from a valid date")
    }

    /// The last day of the month.
    pub fn last_day(self) -> NaiveDate {
        match self.next() {
            Some(next) => next.first_day().pred_opt().unwrap_or(next.first_day()),
            None => NaiveDate::MAX,
        }
    }

    /// The following month; `None` past chrono's last date.
    pub fn next(self) -> Option<YearMonth> {
        if self.month == 12 {
            YearMonth::new(self.year.checked_add(1)?, 1)
        } else {
            YearMonth::new(self.year, self.month + 1)
        }
    }

    /// The preceding month; `None` before chrono's first date.
    pub fn previous(self) -> Option<YearMonth> {
        if self.month == 1 {
            YearMonth::new(self.year.checked_sub(1)?, 12)
        } else {
            YearMonth::new(self.year, self.month - 1)
        }
    }

    /// Whether a date falls in this month.
    pub fn contains(self, date: NaiveDate) -> bool {
        YearMonth::of(date) == self
    }

    /// The month's name for people and captions: "August 2026".
    pub fn label(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", uk_time::month_name(self.month), self.year)
    }
}

/// What the candidate has asked the calendar to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarOptions {
    /// Events starting sooner than this after now cannot be booked and are
    /// not shown. Negative values count as zero.
    pub min_notice: Duration,
    /// Show full events (as "Full", not choosable) alongside bookable ones.
    pub show_full: bool,
    /// Only events at this location id; `None` for any location.
    pub location: Option<u64>,
}

impl Default for CalendarOptions {
    /// No minimum notice, full events shown, any location.
    fn default() -> Self {
        CalendarOptions {
            min_notice: Duration::zero(),
            show_full: true,
            location: None,
        }
    }
}

/// How a day looks in the month grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DayStatus {
    /// Bookable events with more than [`FEW_SEATS_THRESHOLD`] seats in all.
    Available,
    /// Bookable events with 1 to [`FEW_SEATS_THRESHOLD`] seats in all.
    FewSeats,
    /// Only full events are shown on this day.
    Full,
    /// Nothing to show on this day.
    NoEvents,
    /// The day is before today (UK date).
    Past,
}

impl DayStatus {
    /// Whether the day has a bookable event (it may be chosen).
    pub fn is_bookable(self) -> bool {
        matches!(self, DayStatus::Available | DayStatus::FewSeats)
    }
}

/// One day cell of the month grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridDay {
    /// The venue-local date.
    pub date: NaiveDate,
    /// Whether the date is in the grid's month (else it pads a week).
    pub in_month: bool,
    /// Whether the date is before today.
    pub is_past: bool,
    /// Whether the date is today (UK date of now).
    pub is_today: bool,
    /// Shown events starting on this date.
    pub event_count: u32,
    /// Seats left across this date's bookable events.
    pub seats_total: u32,
    /// How the day looks.
    pub status: DayStatus,
    /// Accessible name of the day button, e.g.
    /// "Tuesday 4 August 2026, 3 events, 11 seats".
    pub label: String,
}

/// One week row of the grid, Monday first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Week {
    /// Monday to Sunday.
    pub days: [GridDay; 7],
}

/// A month as the calendar grid shows it: the weeks (Monday first) that
/// touch the month, padded with days of the neighbouring months.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthGrid {
    /// The month shown.
    pub month: YearMonth,
    /// "August 2026", for the grid's caption.
    pub label: String,
    /// Four to six weeks.
    pub weeks: Vec<Week>,
    /// Shown events in the month (sum over its days).
    pub event_count: u32,
    /// Seats left in the month (sum over its days).
    pub seats_total: u32,
    /// The first day of the month that can be chosen, for initial focus.
    pub first_bookable_day: Option<NaiveDate>,
}

impl MonthGrid {
    /// Builds the grid straight from events. Prefer [`EventIndex::month_grid`]
    /// when several grids or agendas are drawn from the same events.
    pub fn build(
        events: &[TrainingEvent],
        month: YearMonth,
        now: DateTime<Utc>,
        options: &CalendarOptions,
    ) -> MonthGrid {
        EventIndex::from_slice(events).month_grid(month, now, options)
    }

    /// Every day of the grid, week by week.
    pub fn days(&self) -> impl Iterator<Item = &GridDay> {
        self.weeks.iter().flat_map(|week| week.days.iter())
    }

    /// The grid cell for a date, if the grid shows it.
    pub fn day(&self, date: NaiveDate) -> Option<&GridDay> {
        self.days().find(|day| day.date == date)
    }

    /// The day whose events to list once this grid is shown: `selected`
    /// while it is a day of this month with events, else the first bookable
    /// day (`None` when there is none).
    pub fn keep_selected(&self, selected: Option<NaiveDate>) -> Option<NaiveDate> {
        let still_shown = selected
            .and_then(|date| self.day(date))
            .is_some_and(|day| day.event_count > 0 && self.month.contains(day.date));
        if still_shown {
            selected
        } else {
            self.first_bookable_day
        }
    }

    /// The one day button in the tab order (roving `tabindex`): the first of
    /// the focused day, the selected day and the first bookable day that is
    /// in this month, else the month's first day.
    pub fn tab_stop(&self, focused: Option<NaiveDate>, selected: Option<NaiveDate>) -> NaiveDate {
        [focused, selected, self.first_bookable_day]
            .into_iter()
            .flatten()
            .find(|date| self.month.contains(*date))
            .unwrap_or(self.month.first_day())
    }
}

/// One event in a day's agenda, ready to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgendaEntry {
    /// The event's id (look it up with [`EventIndex::event`]).
    pub event_id: u64,
    /// The venue's id.
    pub location_id: u64,
    /// The venue's short name, e.g. "Leeds".
    pub location_name: String,
    /// Start, venue-local.
    pub start: Timestamp,
    /// End, venue-local.
    pub end: Timestamp,
    /// "09:30".
    pub start_time: String,
    /// "16:30".
    pub end_time: String,
    /// "GMT" or "BST" (of the start).
    pub zone: String,
    /// End minus start (never negative).
    pub duration: Duration,
    /// "7 hours", "6 hours 30 minutes".
    pub duration_text: String,
    /// Seats left.
    pub seats_left: u32,
    /// Whether the event is full (shown, not choosable).
    pub full: bool,
    /// Price for this account.
    pub cost: Money,
    /// "09:30 to 16:30 BST, Leeds, 3 seats left" or "..., Full".
    pub label: String,
    /// The label with the date first:
    /// "Tuesday 4 August 2026, 09:30 to 16:30 BST, Leeds, 3 seats left".
    pub full_label: String,
}

impl AgendaEntry {
    /// The entry for one event on its own venue-local day, e.g. for the
    /// summary of the chosen event.
    pub fn of(event: &TrainingEvent) -> AgendaEntry {
        let date = event.start_date.date_naive();
        agenda_entry(event, &uk_time::full_date(date))
    }
}

/// The events of one venue-local date, sorted by start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayAgenda {
    /// The venue-local date.
    pub date: NaiveDate,
    /// "Tuesday 4 August 2026", for the list's heading.
    pub label: String,
    /// Shown events, earliest start first (ties by event id).
    pub entries: Vec<AgendaEntry>,
}

impl DayAgenda {
    /// Builds one day's agenda straight from events. Prefer
    /// [`EventIndex::day_agenda`] when drawing several.
    pub fn build(
        events: &[TrainingEvent],
        date: NaiveDate,
        now: DateTime<Utc>,
        options: &CalendarOptions,
    ) -> DayAgenda {
        EventIndex::from_slice(events).day_agenda(date, now, options)
    }
}

/// A key pressed on a day of the date grid (WAI-ARIA date grid pattern).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GridKey {
    /// Left arrow: the previous day.
    PreviousDay,
    /// Right arrow: the next day.
    NextDay,
    /// Up arrow: the same weekday a week earlier.
    PreviousWeek,
    /// Down arrow: the same weekday a week later.
    NextWeek,
    /// Home: Monday of the week.
    WeekStart,
    /// End: Sunday of the week.
    WeekEnd,
    /// Page Up: the same day a month earlier (clamped to the month's end).
    PreviousMonth,
    /// Page Down: the same day a month later (clamped to the month's end).
    NextMonth,
}

impl GridKey {
    /// The grid key for a `KeyboardEvent.key` value, if it is one.
    pub fn from_key(key: &str) -> Option<GridKey> {
        Some(match key {
            "ArrowLeft" => GridKey::PreviousDay,
            "ArrowRight" => GridKey::NextDay,
            "ArrowUp" => GridKey::PreviousWeek,
            "ArrowDown" => GridKey::NextWeek,
            "Home" => GridKey::WeekStart,
            "End" => GridKey::WeekEnd,
            "PageUp" => GridKey::PreviousMonth,
            "PageDown" => GridKey::NextMonth,
            _ => return None,
        })
    }

    /// The date focus moves to from `date`.
    pub fn moved(self, date: NaiveDate) -> NaiveDate {
        let weekday = i64::from(date.weekday().num_days_from_monday());
        let shifted = match self {
            GridKey::PreviousDay => date.checked_sub_signed(Duration::days(1)),
            GridKey::NextDay => date.checked_add_signed(Duration::days(1)),
            GridKey::PreviousWeek => date.checked_sub_signed(Duration::days(7)),
            GridKey::NextWeek => date.checked_add_signed(Duration::days(7)),
            GridKey::WeekStart => date.checked_sub_signed(Duration::days(weekday)),
            GridKey::WeekEnd => date.checked_add_signed(Duration::days(6 - weekday)),
            GridKey::PreviousMonth => YearMonth::of(date)
                .previous()
                .map(|month| same_day_in(month, date.day())),
            GridKey::NextMonth => YearMonth::of(date)
                .next()
                .map(|month| same_day_in(month, date.day())),
        };
        shifted.unwrap_or(date)
    }
}

/// `day` of `month`, or the month's last day when it is shorter.
fn same_day_in(month: YearMonth, day: u32) -> NaiveDate {
    month
        .first_day()
        .with_day(day)
        .unwrap_or_else(|| month.last_day())
}

/// A location the candidate can choose: one with bookable events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Venue {
    /// Location id.
    pub id: u64,
    /// Short name, e.g. "Leeds".
    pub name: String,
    /// Venue line.
    pub address: String,
    /// Bookable events there.
    pub bookable_events: u32,
    /// The venue-local date of the earliest bookable event.
    pub first_date: NaiveDate,
}

impl Venue {
    /// What the location choice says under the name, e.g.
    /// "3 dates, the first on Tuesday 4 August 2026".
    pub fn summary(&self) -> String {
        let dates = if self.bookable_events == 1 {
            "1 date".to_owned()
        } else {
            format!("{} dates", self.bookable_events)
        };
        format!(
            "{dates}, the first on {}",
            uk_time::full_date(self.first_date)
        )
    }

    /// What the location choice lists under the name: the venue line, when
    /// the upstream sent one, and the [`Venue::summary`].
    pub fn details(&self) -> Vec<String> {
        let address = Some(self.address.clone()).filter(|line| !line.trim().is_empty());
        address.into_iter().chain([self.summary()]).collect()
    }
}

#[derive(Debug, Clone, PartialEq)]
struct IndexedEvent {
    date: NaiveDate,
    start_utc: DateTime<Utc>,
    event: TrainingEvent,
}

/// How an event shows under the current options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Visibility {
    Hidden,
    Bookable,
    Full,
}

/// The filter every query applies: location, booking window, full events.
struct Filter<'a> {
    earliest_start: DateTime<Utc>,
    options: &'a CalendarOptions,
}

impl<'a> Filter<'a> {
    fn new(now: DateTime<Utc>, options: &'a CalendarOptions) -> Filter<'a> {
        let notice = options.min_notice.max(Duration::zero());
        Filter {
            earliest_start: now
                .checked_add_signed(notice)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
            options,
        }
    }

    fn visibility(&self, indexed: &IndexedEvent) -> Visibility {
        let event = &indexed.event;
        if self
            .options
            .location
            .is_some_and(|location| location != event.location.id)
            || indexed.start_utc < self.earliest_start
        {
            Visibility::Hidden
        } else if !event.is_full() {
            Visibility::Bookable
        } else if self.options.show_full {
            Visibility::Full
        } else {
            Visibility::Hidden
        }
    }
}

/// Which month a calendar shows: the first with availability, or the
/// nearest with availability before or after the one shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonthWanted {
    /// The first month with availability.
    First,
    /// The nearest month with availability before this one.
    Before(YearMonth),
    /// The nearest month with availability after this one.
    After(YearMonth),
}

/// Events grouped by venue-local start date, built once per fetched set and
/// queried on every month change or filter change.
///
/// Events with the same id are kept once (the first seen), so overlapping
/// pages of a list never show an event twice.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EventIndex {
    entries: Vec<IndexedEvent>,
}

impl From<Vec<TrainingEvent>> for EventIndex {
    fn from(events: Vec<TrainingEvent>) -> Self {
        EventIndex::new(events)
    }
}

impl EventIndex {
    /// Indexes events by venue-local start date.
    pub fn new(mut events: Vec<TrainingEvent>) -> EventIndex {
        events.sort_by_key(|event| event.id);
        events.dedup_by_key(|event| event.id);
        let mut entries: Vec<IndexedEvent> = events
            .into_iter()
            .map(|event| IndexedEvent {
                date: event.start_date.date_naive(),
                start_utc: event.start_date.with_timezone(&Utc),
                event,
            })
            .collect();
        entries.sort_by(|a, b| {
            (a.date, a.start_utc, a.event.id).cmp(&(b.date, b.start_utc, b.event.id))
        });
        EventIndex { entries }
    }

    /// Indexes a copy of borrowed events.
    pub fn from_slice(events: &[TrainingEvent]) -> EventIndex {
        EventIndex::new(events.to_vec())
    }

    /// Number of distinct events.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no events.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The event with this id.
    pub fn event(&self, id: u64) -> Option<&TrainingEvent> {
        self.entries
            .iter()
            .map(|indexed| &indexed.event)
            .find(|event| event.id == id)
    }

    /// Every event, by venue-local date then start.
    pub fn events(&self) -> impl Iterator<Item = &TrainingEvent> {
        self.entries.iter().map(|indexed| &indexed.event)
    }

    /// The events whose venue-local date is in `first..=last`.
    fn between(&self, first: NaiveDate, last: NaiveDate) -> &[IndexedEvent] {
        let from = self.entries.partition_point(|e| e.date < first);
        let to = self.entries.partition_point(|e| e.date <= last);
        &self.entries[from..to.max(from)]
    }

    /// The month grid for `month`.
    pub fn month_grid(
        &self,
        month: YearMonth,
        now: DateTime<Utc>,
        options: &CalendarOptions,
    ) -> MonthGrid {
        let filter = Filter::new(now, options);
        let dates = grid_dates(month);
        let (grid_start, grid_end) = (dates[0], dates[dates.len() - 1]);
        let mut tallies = vec![DayTally::default(); dates.len()];
        for indexed in self.between(grid_start, grid_end) {
            let visibility = filter.visibility(indexed);
            if visibility == Visibility::Hidden {
                continue;
            }
            let slot = (indexed.date - grid_start).num_days();
            if let Some(tally) = usize::try_from(slot).ok().and_then(|i| tallies.get_mut(i)) {
                tally.events += 1;
                if visibility == Visibility::Bookable {
                    tally.seats = tally.seats.saturating_add(indexed.event.remaining_slots);
                }
            }
        }
        assemble_grid(
            month,
            &dates,
            &tallies,
            uk_time::uk_today(now),
            &EVENT_WORDS,
        )
    }

    /// The agenda of one venue-local date.
    pub fn day_agenda(
        &self,
        date: NaiveDate,
        now: DateTime<Utc>,
        options: &CalendarOptions,
    ) -> DayAgenda {
        let filter = Filter::new(now, options);
        agenda(date, self.between(date, date), &filter)
    }

    /// The agendas of every date in `month` that shows at least one event,
    /// in date order: the list view of the month.
    pub fn agendas_in_month(
        &self,
        month: YearMonth,
        now: DateTime<Utc>,
        options: &CalendarOptions,
    ) -> Vec<DayAgenda> {
        let filter = Filter::new(now, options);
        self.between(month.first_day(), month.last_day())
            .chunk_by(|a, b| a.date == b.date)
            .map(|day| agenda(day[0].date, day, &filter))
            .filter(|agenda| !agenda.entries.is_empty())
            .collect()
    }

    /// The venues with at least one bookable event, whatever the location
    /// filter, sorted by name: the choices of the location step.
    pub fn venues(&self, now: DateTime<Utc>, options: &CalendarOptions) -> Vec<Venue> {
        let any_location = CalendarOptions {
            location: None,
            ..options.clone()
        };
        let filter = Filter::new(now, &any_location);
        let mut venues: Vec<Venue> = Vec::new();
        for indexed in &self.entries {
            if filter.visibility(indexed) != Visibility::Bookable {
                continue;
            }
            let location = &indexed.event.location;
            match venues.iter_mut().find(|venue| venue.id == location.id) {
                Some(venue) => venue.bookable_events += 1,
                None => venues.push(Venue {
                    id: location.id,
                    name: location.name.clone(),
                    address: location.address.clone(),
                    bookable_events: 1,
                    first_date: indexed.date,
                }),
            }
        }
        venues.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        venues
    }

    /// The venue `location_id` when it has a bookable event, whatever the
    /// location filter (a location the host page asked for is chosen only
    /// then).
    pub fn bookable_venue(
        &self,
        location_id: u64,
        now: DateTime<Utc>,
        options: &CalendarOptions,
    ) -> Option<Venue> {
        self.venues(now, options)
            .into_iter()
            .find(|venue| venue.id == location_id)
    }

    /// The month `wanted` names, with a bookable event.
    pub fn month_wanted(
        &self,
        wanted: MonthWanted,
        now: DateTime<Utc>,
        options: &CalendarOptions,
    ) -> Option<YearMonth> {
        let filter = Filter::new(now, options);
        month_nav::month_wanted(
            &self.entries,
            wanted,
            |indexed| indexed.date,
            |indexed| filter.visibility(indexed) == Visibility::Bookable,
        )
    }

    /// The earliest month with a bookable event.
    pub fn first_month_with_availability(
        &self,
        now: DateTime<Utc>,
        options: &CalendarOptions,
    ) -> Option<YearMonth> {
        self.month_wanted(MonthWanted::First, now, options)
    }

    /// The first month after `month` with a bookable event (for "Next
    /// month"; `None` disables the button).
    pub fn next_month_with_availability(
        &self,
        month: YearMonth,
        now: DateTime<Utc>,
        options: &CalendarOptions,
    ) -> Option<YearMonth> {
        self.month_wanted(MonthWanted::After(month), now, options)
    }

    /// The last month before `month` with a bookable event (for "Previous
    /// month"; `None` disables the button).
    pub fn previous_month_with_availability(
        &self,
        month: YearMonth,
        now: DateTime<Utc>,
        options: &CalendarOptions,
    ) -> Option<YearMonth> {
        self.month_wanted(MonthWanted::Before(month), now, options)
    }
}

/// Shown events (or timeslots) and seats of one date.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DayTally {
    /// Shown events, or free timeslots.
    pub(crate) events: u32,
    /// Seats left across the bookable ones.
    pub(crate) seats: u32,
}

/// How a grid's day labels count what a day has.
pub(crate) struct GridWords {
    /// What is counted, singular: "event", "time".
    pub(crate) item: &'static str,
    /// Whether the label also counts seats.
    pub(crate) seats: bool,
}

/// Training events: "3 events, 11 seats".
const EVENT_WORDS: GridWords = GridWords {
    item: "event",
    seats: true,
};

/// The dates a month's grid shows: whole weeks, Monday first, from the week
/// of the month's first day to the week of its last.
pub(crate) fn grid_dates(month: YearMonth) -> Vec<NaiveDate> {
    let first = month.first_day();
    let lead = i64::from(first.weekday().num_days_from_monday());
    let grid_start = first
        .checked_sub_signed(Duration::days(lead))
        .unwrap_or(first);
    let last = month.last_day();
    let trail = i64::from(6 - last.weekday().num_days_from_monday());
    let grid_end = last
        .checked_add_signed(Duration::days(trail))
        .unwrap_or(last);
    let mut dates: Vec<NaiveDate> = std::iter::successors(Some(grid_start), |d| d.succ_opt())
        .take_while(|date| *date <= grid_end)
        .collect();
    dates.truncate(dates.len() - dates.len() % 7);
    dates
}

/// The grid of `month` from its dates ([`grid_dates`]) and each date's
/// tally: the one builder of both calendars' grids.
pub(crate) fn assemble_grid(
    month: YearMonth,
    dates: &[NaiveDate],
    tallies: &[DayTally],
    today: NaiveDate,
    words: &GridWords,
) -> MonthGrid {
    let weeks: Vec<Week> = dates
        .chunks_exact(7)
        .zip(tallies.chunks_exact(7))
        .map(|(dates, tallies)| Week {
            days: std::array::from_fn(|i| grid_day(dates[i], tallies[i], month, today, words)),
        })
        .collect();
    let in_month = || {
        weeks
            .iter()
            .flat_map(|w| w.days.iter())
            .filter(|d| d.in_month)
    };
    MonthGrid {
        month,
        label: month.label(),
        event_count: in_month().map(|d| d.event_count).sum(),
        seats_total: in_month().fold(0, |sum: u32, d| sum.saturating_add(d.seats_total)),
        first_bookable_day: in_month()
            .find(|day| day.status.is_bookable())
            .map(|day| day.date),
        weeks,
    }
}

fn grid_day(
    date: NaiveDate,
    tally: DayTally,
    month: YearMonth,
    today: NaiveDate,
    words: &GridWords,
) -> GridDay {
    let is_past = date < today;
    let status = if is_past {
        DayStatus::Past
    } else if tally.events == 0 {
        DayStatus::NoEvents
    } else if tally.seats == 0 {
        DayStatus::Full
    } else if tally.seats <= FEW_SEATS_THRESHOLD {
        DayStatus::FewSeats
    } else {
        DayStatus::Available
    };
    let date_text = uk_time::full_date(date);
    let item = words.item;
    let label = match status {
        DayStatus::Past => format!("{date_text}, past"),
        DayStatus::NoEvents => format!("{date_text}, no {item}s"),
        DayStatus::Full => format!("{date_text}, {}, full", count(tally.events, item)),
        DayStatus::Available | DayStatus::FewSeats if words.seats => format!(
            "{date_text}, {}, {}",
            count(tally.events, item),
            count(tally.seats, "seat")
        ),
        DayStatus::Available | DayStatus::FewSeats => {
            format!("{date_text}, {}", count(tally.events, item))
        }
    };
    GridDay {
        date,
        in_month: month.contains(date),
        is_past,
        is_today: date == today,
        event_count: tally.events,
        seats_total: tally.seats,
        status,
        label,
    }
}

fn agenda(date: NaiveDate, events: &[IndexedEvent], filter: &Filter<'_>) -> DayAgenda {
    let label = uk_time::full_date(date);
    let entries = events
        .iter()
        .filter(|e| filter.visibility(e) != Visibility::Hidden)
        .map(|e| agenda_entry(&e.event, &label))
        .collect();
    DayAgenda {
        date,
        label,
        entries,
    }
}

/// "Tuesday 4 August 2026, 09:30 to 16:30 BST": when something takes
/// place, in venue-local time, for a booking's summary; from its start
/// alone ("Tuesday 4 August 2026, 09:30 BST") when its end is not known.
pub fn when_label(start: Timestamp, end: Option<Timestamp>) -> String {
    format!(
        "{}, {}",
        uk_time::full_date(start.date_naive()),
        time_span(start, end)
    )
}

/// "09:30 to 16:30 BST" ([`push_time_span`]), or "09:30 BST" when the end
/// is not known.
pub(crate) fn time_span(start: Timestamp, end: Option<Timestamp>) -> String {
    let start_time = uk_time::clock_time(start.time());
    let zone = uk_time::zone_label(*start.offset());
    let mut label = String::with_capacity(24);
    match end {
        Some(end) => push_time_span(
            &mut label,
            start,
            end,
            &start_time,
            &uk_time::clock_time(end.time()),
            &zone,
        ),
        None => {
            label.push_str(&start_time);
            label.push(' ');
            label.push_str(&zone);
        }
    }
    label
}

/// Appends "09:30 to 16:30 BST", naming both zones when the clocks change
/// during the event and the end date when it ends on a later day.
pub(crate) fn push_time_span(
    label: &mut String,
    start: Timestamp,
    end: Timestamp,
    start_time: &str,
    end_time: &str,
    zone: &str,
) {
    use std::fmt::Write;
    let zone_changes = end.offset() != start.offset();
    label.push_str(start_time);
    if zone_changes {
        label.push(' ');
        label.push_str(zone);
    }
    label.push_str(" to ");
    label.push_str(end_time);
    label.push(' ');
    if zone_changes {
        label.push_str(&uk_time::zone_label(*end.offset()));
    } else {
        label.push_str(zone);
    }
    if end.date_naive() > start.date_naive() {
        let _ = write!(label, " (ends {})", uk_time::full_date(end.date_naive()));
    }
}

fn agenda_entry(event: &TrainingEvent, date_label: &str) -> AgendaEntry {
    use std::fmt::Write;
    let (start, end) = (event.start_date, event.end_date);
    let start_time = uk_time::clock_time(start.time());
    let end_time = uk_time::clock_time(end.time());
    let zone = uk_time::zone_label(*start.offset());
    let mut label = String::with_capacity(64);
    push_time_span(&mut label, start, end, &start_time, &end_time, &zone);
    label.push_str(", ");
    label.push_str(&event.location.name);
    let full = event.is_full();
    match (event.remaining_slots, event.busy_for_seconds) {
        (0, _) => label.push_str(", Full"),
        (_, Some(_)) => label.push_str(", another candidate is booking it right now"),
        (1, None) => label.push_str(", 1 seat left"),
        (seats, None) => {
            let _ = write!(label, ", {seats} seats left");
        }
    }
    let mut full_label = String::with_capacity(date_label.len() + 2 + label.len());
    full_label.push_str(date_label);
    full_label.push_str(", ");
    full_label.push_str(&label);
    let duration = end.signed_duration_since(start).max(Duration::zero());
    AgendaEntry {
        event_id: event.id,
        location_id: event.location.id,
        location_name: event.location.name.clone(),
        start,
        end,
        start_time,
        end_time,
        zone,
        duration,
        duration_text: uk_time::duration_text(duration),
        seats_left: event.remaining_slots,
        full,
        cost: event.cost_inc_vat,
        label,
        full_label,
    }
}

/// "1 event", "3 events".
pub(crate) fn count(n: u32, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic;

    /// A synthetic event at Leeds (venue 5) or York (any other venue).
    fn event(id: u64, start: &str, end: &str, seats: u32, location: u64) -> TrainingEvent {
        let mut event = synthetic::training_event(
            id,
            location,
            DateTime::parse_from_rfc3339(start).unwrap(),
            DateTime::parse_from_rfc3339(end).unwrap(),
            seats,
        );
        event.location.name = if location == 5 { "Leeds" } else { "York" }.into();
        event
    }

    fn now(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn august() -> Vec<TrainingEvent> {
        vec![
            event(
                41,
                "2026-08-04T09:30:00+01:00",
                "2026-08-04T16:30:00+01:00",
                3,
                5,
            ),
            event(
                42,
                "2026-08-04T13:00:00+01:00",
                "2026-08-04T16:00:00+01:00",
                8,
                6,
            ),
            event(
                43,
                "2026-08-04T08:00:00+01:00",
                "2026-08-04T12:00:00+01:00",
                0,
                5,
            ),
            event(
                44,
                "2026-08-05T09:30:00+01:00",
                "2026-08-05T16:00:00+01:00",
                2,
                5,
            ),
            event(
                45,
                "2026-08-06T09:30:00+01:00",
                "2026-08-06T16:00:00+01:00",
                0,
                5,
            ),
            event(
                46,
                "2026-08-02T09:30:00+01:00",
                "2026-08-02T16:00:00+01:00",
                9,
                5,
            ),
        ]
    }

    #[test]
    fn year_month_arithmetic_and_labels() {
        let dec = YearMonth::new(2026, 12).unwrap();
        assert_eq!(dec.next(), YearMonth::new(2027, 1));
        assert_eq!(YearMonth::new(2027, 1).unwrap().previous(), Some(dec));
        assert_eq!(dec.last_day(), date(2026, 12, 31));
        assert_eq!(
            YearMonth::new(2028, 2).unwrap().last_day(),
            date(2028, 2, 29)
        );
        assert_eq!(
            YearMonth::new(2027, 2).unwrap().last_day(),
            date(2027, 2, 28)
        );
        assert_eq!(YearMonth::new(2026, 13), None);
        assert_eq!(YearMonth::new(2026, 0), None);
        assert_eq!(YearMonth::new(2026, 8).unwrap().label(), "August 2026");
        assert!(YearMonth::of(NaiveDate::MAX).next().is_none());
        assert!(YearMonth::of(NaiveDate::MIN).previous().is_none());
    }

    #[test]
    fn grid_weeks_start_on_monday_and_cover_the_month() {
        // August 2026 starts on a Saturday and ends on a Monday: 6 weeks.
        let grid = MonthGrid::build(
            &[],
            YearMonth::new(2026, 8).unwrap(),
            now("2026-07-01T12:00:00Z"),
            &CalendarOptions::default(),
        );
        assert_eq!(grid.weeks.len(), 6);
        assert_eq!(grid.weeks[0].days[0].date, date(2026, 7, 27));
        assert!(!grid.weeks[0].days[4].in_month);
        assert!(grid.weeks[0].days[5].in_month);
        assert_eq!(grid.weeks[5].days[0].date, date(2026, 8, 31));
        assert_eq!(grid.weeks[5].days[6].date, date(2026, 9, 6));
        assert_eq!(grid.days().filter(|d| d.in_month).count(), 31);
        // February 2027 starts on a Monday and ends on a Sunday: 4 weeks.
        let feb = MonthGrid::build(
            &[],
            YearMonth::new(2027, 2).unwrap(),
            now("2026-07-01T12:00:00Z"),
            &CalendarOptions::default(),
        );
        assert_eq!(feb.weeks.len(), 4);
    }

    #[test]
    fn day_status_and_labels() {
        let grid = MonthGrid::build(
            &august(),
            YearMonth::new(2026, 8).unwrap(),
            now("2026-08-03T12:00:00Z"),
            &CalendarOptions::default(),
        );
        let day = |d| grid.day(date(2026, 8, d)).unwrap();
        assert_eq!(day(4).status, DayStatus::Available);
        assert_eq!(day(4).event_count, 3);
        assert_eq!(day(4).seats_total, 11);
        assert_eq!(day(4).label, "Tuesday 4 August 2026, 3 events, 11 seats");
        assert_eq!(day(5).status, DayStatus::FewSeats);
        assert_eq!(day(5).label, "Wednesday 5 August 2026, 1 event, 2 seats");
        assert_eq!(day(6).status, DayStatus::Full);
        assert_eq!(day(6).label, "Thursday 6 August 2026, 1 event, full");
        assert_eq!(day(7).status, DayStatus::NoEvents);
        assert_eq!(day(7).label, "Friday 7 August 2026, no events");
        assert_eq!(day(2).status, DayStatus::Past);
        assert_eq!(day(2).label, "Sunday 2 August 2026, past");
        assert!(day(3).is_today && !day(3).is_past);
        assert!(day(2).is_past && !day(2).is_today);
        assert_eq!(grid.event_count, 5);
        assert_eq!(grid.seats_total, 13);
        assert_eq!(grid.first_bookable_day, Some(date(2026, 8, 4)));
    }

    #[test]
    fn options_filter_full_events_location_and_notice() {
        let month = YearMonth::new(2026, 8).unwrap();
        let at = now("2026-08-03T12:00:00Z");
        let hide_full = CalendarOptions {
            show_full: false,
            ..CalendarOptions::default()
        };
        let grid = MonthGrid::build(&august(), month, at, &hide_full);
        assert_eq!(
            grid.day(date(2026, 8, 6)).unwrap().status,
            DayStatus::NoEvents
        );
        assert_eq!(grid.day(date(2026, 8, 4)).unwrap().event_count, 2);

        let york = CalendarOptions {
            location: Some(6),
            ..CalendarOptions::default()
        };
        let grid = MonthGrid::build(&august(), month, at, &york);
        assert_eq!(grid.event_count, 1);
        assert_eq!(grid.day(date(2026, 8, 4)).unwrap().seats_total, 8);

        // 2 days' notice from 3 August noon: events before 5 August noon go.
        let notice = CalendarOptions {
            min_notice: Duration::days(2),
            ..CalendarOptions::default()
        };
        let grid = MonthGrid::build(&august(), month, at, &notice);
        assert_eq!(
            grid.day(date(2026, 8, 4)).unwrap().status,
            DayStatus::NoEvents
        );
        assert_eq!(
            grid.day(date(2026, 8, 5)).unwrap().status,
            DayStatus::NoEvents
        );
        assert_eq!(grid.day(date(2026, 8, 6)).unwrap().status, DayStatus::Full);
        // Exactly at the edge of the window is still bookable.
        let edge = now("2026-08-03T08:30:00Z");
        let notice_1d = CalendarOptions {
            min_notice: Duration::days(1),
            ..CalendarOptions::default()
        };
        let agenda = DayAgenda::build(&august(), date(2026, 8, 4), edge, &notice_1d);
        assert_eq!(
            agenda
                .entries
                .iter()
                .map(|e| e.event_id)
                .collect::<Vec<_>>(),
            vec![41, 42]
        );
    }

    #[test]
    fn an_event_another_candidate_is_booking_promises_no_seat() {
        let mut events = august();
        events[0].busy_for_seconds = Some(600);
        let busy = AgendaEntry::of(&events[0]);
        assert_eq!(
            busy.label,
            "09:30 to 16:30 BST, Leeds, another candidate is booking it right now"
        );
        assert!(!busy.full, "it can still be asked for, and waited for");
        assert!(!busy.full_label.contains("seats left"));
        let free = AgendaEntry::of(&events[1]);
        assert!(free.label.ends_with("seats left") || free.label.ends_with("seat left"));
    }

    #[test]
    fn agenda_is_sorted_and_labelled() {
        let agenda = DayAgenda::build(
            &august(),
            date(2026, 8, 4),
            now("2026-08-01T12:00:00Z"),
            &CalendarOptions::default(),
        );
        assert_eq!(agenda.label, "Tuesday 4 August 2026");
        let ids: Vec<u64> = agenda.entries.iter().map(|e| e.event_id).collect();
        assert_eq!(ids, vec![43, 41, 42]);
        let leeds = &agenda.entries[1];
        assert_eq!(leeds.start_time, "09:30");
        assert_eq!(leeds.end_time, "16:30");
        assert_eq!(leeds.zone, "BST");
        assert_eq!(leeds.duration_text, "7 hours");
        assert_eq!(leeds.label, "09:30 to 16:30 BST, Leeds, 3 seats left");
        assert_eq!(
            leeds.full_label,
            "Tuesday 4 August 2026, 09:30 to 16:30 BST, Leeds, 3 seats left"
        );
        assert!(agenda.entries[0].full);
        assert_eq!(agenda.entries[0].label, "08:00 to 12:00 BST, Leeds, Full");
        assert_eq!(agenda.entries[2].duration_text, "3 hours");
    }

    #[test]
    fn unusual_spans_are_spelled_out() {
        let overnight = event(
            7,
            "2026-10-24T22:00:00+01:00",
            "2026-10-25T02:00:00+00:00",
            1,
            5,
        );
        let agenda = DayAgenda::build(
            &[overnight],
            date(2026, 10, 24),
            now("2026-10-01T00:00:00Z"),
            &CalendarOptions::default(),
        );
        let entry = &agenda.entries[0];
        assert_eq!(entry.duration_text, "5 hours");
        assert_eq!(
            entry.label,
            "22:00 BST to 02:00 GMT (ends Sunday 25 October 2026), Leeds, 1 seat left"
        );
    }

    #[test]
    fn duplicate_ids_are_indexed_once() {
        let mut events = august();
        events.extend(august());
        let index = EventIndex::new(events);
        assert_eq!(index.len(), 6);
        assert_eq!(index.event(44).unwrap().remaining_slots, 2);
        assert!(index.event(99).is_none());
    }

    #[test]
    fn navigation_skips_months_without_seats() {
        let events = vec![
            event(
                1,
                "2026-08-04T09:30:00+01:00",
                "2026-08-04T16:30:00+01:00",
                3,
                5,
            ),
            event(
                2,
                "2026-09-04T09:30:00+01:00",
                "2026-09-04T16:30:00+01:00",
                0,
                5,
            ),
            event(
                3,
                "2026-10-04T09:30:00+01:00",
                "2026-10-04T16:30:00+01:00",
                0,
                5,
            ),
            event(
                4,
                "2026-11-04T09:30:00+00:00",
                "2026-11-04T16:30:00+00:00",
                4,
                6,
            ),
            event(
                5,
                "2026-06-04T09:30:00+01:00",
                "2026-06-04T16:30:00+01:00",
                4,
                5,
            ),
        ];
        let index = EventIndex::new(events);
        let at = now("2026-07-01T00:00:00Z");
        let any = CalendarOptions::default();
        let ym = |m| YearMonth::new(2026, m).unwrap();
        assert_eq!(index.first_month_with_availability(at, &any), Some(ym(8)));
        assert_eq!(
            index.next_month_with_availability(ym(8), at, &any),
            Some(ym(11))
        );
        assert_eq!(index.next_month_with_availability(ym(11), at, &any), None);
        assert_eq!(
            index.previous_month_with_availability(ym(11), at, &any),
            Some(ym(8))
        );
        // June's event is in the past.
        assert_eq!(
            index.previous_month_with_availability(ym(8), at, &any),
            None
        );
        assert_eq!(
            index.month_wanted(MonthWanted::First, at, &any),
            Some(ym(8))
        );
        assert_eq!(
            index.month_wanted(MonthWanted::After(ym(8)), at, &any),
            Some(ym(11))
        );
        assert_eq!(
            index.month_wanted(MonthWanted::Before(ym(11)), at, &any),
            Some(ym(8))
        );
        let leeds = CalendarOptions {
            location: Some(5),
            ..CalendarOptions::default()
        };
        assert_eq!(index.next_month_with_availability(ym(8), at, &leeds), None);
        let list = index.agendas_in_month(ym(9), at, &any);
        assert_eq!(list.len(), 1);
        assert!(list[0].entries[0].full);
    }

    #[test]
    fn extreme_dates_do_not_panic() {
        let far = event(
            1,
            "9999-12-31T23:00:00-12:00",
            "9999-12-31T23:30:00-12:00",
            3,
            5,
        );
        let early = event(
            2,
            "0000-01-01T00:00:00+14:00",
            "0000-01-01T01:00:00+14:00",
            3,
            5,
        );
        let index = EventIndex::new(vec![far.clone(), early]);
        let at = now("2026-01-01T00:00:00Z");
        let any = CalendarOptions {
            min_notice: Duration::MAX,
            ..CalendarOptions::default()
        };
        assert_eq!(index.first_month_with_availability(at, &any), None);
        let month = YearMonth::of(far.start_date.date_naive());
        let grid = index.month_grid(month, at, &CalendarOptions::default());
        assert_eq!(grid.event_count, 1);
        let grid = index.month_grid(
            YearMonth::of(NaiveDate::MAX),
            at,
            &CalendarOptions::default(),
        );
        assert!(grid.weeks.iter().all(|w| w.days.len() == 7));
        let grid = index.month_grid(
            YearMonth::of(NaiveDate::MIN),
            at,
            &CalendarOptions::default(),
        );
        assert!(grid.days().all(|d| d.event_count == 0));
    }

    #[test]
    fn venues_list_locations_with_bookable_events_whatever_the_filter() {
        let index = EventIndex::new(august());
        let options = CalendarOptions {
            location: Some(6),
            ..CalendarOptions::default()
        };
        let venues = index.venues(now("2026-08-03T12:00:00+01:00"), &options);
        let names: Vec<(&str, u32, NaiveDate)> = venues
            .iter()
            .map(|venue| (venue.name.as_str(), venue.bookable_events, venue.first_date))
            .collect();
        assert_eq!(
            names,
            vec![
                ("Leeds", 2, date(2026, 8, 4)),
                ("York", 1, date(2026, 8, 4))
            ]
        );
        assert_eq!(
            venues[0].summary(),
            "2 dates, the first on Tuesday 4 August 2026"
        );
        assert_eq!(
            venues[0].details().len(),
            2,
            "the venue line and the summary"
        );
        let unsent = Venue {
            address: String::new(),
            ..venues[0].clone()
        };
        assert_eq!(
            unsent.details(),
            ["2 dates, the first on Tuesday 4 August 2026"],
            "a venue line not sent is not shown"
        );
        let later = index.venues(now("2026-08-05T12:00:00+01:00"), &options);
        assert!(later.is_empty(), "past and full events offer no venue");
    }

    #[test]
    fn a_location_asked_for_is_offered_only_with_bookable_events() {
        let index = EventIndex::new(august());
        let york_only = CalendarOptions {
            location: Some(6),
            ..CalendarOptions::default()
        };
        let before = now("2026-08-03T12:00:00+01:00");
        let leeds = index.bookable_venue(5, before, &york_only);
        assert_eq!(leeds.map(|venue| venue.name), Some("Leeds".to_owned()));
        assert_eq!(index.bookable_venue(7, before, &york_only), None);
        let after = now("2026-08-05T12:00:00+01:00");
        assert_eq!(index.bookable_venue(5, after, &york_only), None);
    }

    #[test]
    fn the_selected_day_is_kept_while_the_month_shows_its_events() {
        let index = EventIndex::new(august());
        let at = now("2026-08-03T12:00:00+01:00");
        let any = CalendarOptions::default();
        let grid = index.month_grid(YearMonth::new(2026, 8).unwrap(), at, &any);
        assert_eq!(grid.first_bookable_day, Some(date(2026, 8, 4)));
        let cases = [
            (Some(date(2026, 8, 5)), Some(date(2026, 8, 5))),
            (None, Some(date(2026, 8, 4))),
            // Past, so its event is not shown.
            (Some(date(2026, 8, 2)), Some(date(2026, 8, 4))),
            (Some(date(2026, 8, 20)), Some(date(2026, 8, 4))),
            // A day of July padding the first week.
            (Some(date(2026, 7, 31)), Some(date(2026, 8, 4))),
        ];
        for (selected, kept) in cases {
            assert_eq!(grid.keep_selected(selected), kept, "{selected:?}");
        }
        let september = index.month_grid(YearMonth::new(2026, 9).unwrap(), at, &any);
        assert_eq!(september.keep_selected(Some(date(2026, 8, 5))), None);
    }

    #[test]
    fn one_day_of_the_month_is_in_the_tab_order() {
        let index = EventIndex::new(august());
        let at = now("2026-08-03T12:00:00+01:00");
        let any = CalendarOptions::default();
        let grid = index.month_grid(YearMonth::new(2026, 8).unwrap(), at, &any);
        let (aug_4, aug_5, aug_20) = (date(2026, 8, 4), date(2026, 8, 5), date(2026, 8, 20));
        assert_eq!(grid.tab_stop(None, None), aug_4);
        assert_eq!(grid.tab_stop(Some(aug_20), Some(aug_5)), aug_20);
        assert_eq!(grid.tab_stop(None, Some(aug_5)), aug_5);
        assert_eq!(grid.tab_stop(Some(date(2026, 7, 31)), Some(aug_5)), aug_5);
        let september = index.month_grid(YearMonth::new(2026, 9).unwrap(), at, &any);
        assert_eq!(september.tab_stop(None, Some(aug_5)), date(2026, 9, 1));
    }

    #[test]
    fn grid_keys_move_focus_like_the_aria_date_grid() {
        let wednesday = date(2026, 8, 5);
        let cases = [
            (GridKey::PreviousDay, date(2026, 8, 4)),
            (GridKey::NextDay, date(2026, 8, 6)),
            (GridKey::PreviousWeek, date(2026, 7, 29)),
            (GridKey::NextWeek, date(2026, 8, 12)),
            (GridKey::WeekStart, date(2026, 8, 3)),
            (GridKey::WeekEnd, date(2026, 8, 9)),
            (GridKey::PreviousMonth, date(2026, 7, 5)),
            (GridKey::NextMonth, date(2026, 9, 5)),
        ];
        for (key, expected) in cases {
            assert_eq!(key.moved(wednesday), expected, "{key:?}");
        }
        assert_eq!(
            GridKey::NextMonth.moved(date(2027, 1, 31)),
            date(2027, 2, 28),
            "clamped to the shorter month"
        );
        assert_eq!(GridKey::from_key("PageDown"), Some(GridKey::NextMonth));
        assert_eq!(GridKey::from_key("a"), None);
    }

    #[test]
    fn an_event_on_its_own_has_its_full_label() {
        let events = august();
        let entry = AgendaEntry::of(&events[0]);
        assert_eq!(
            entry.full_label,
            "Tuesday 4 August 2026, 09:30 to 16:30 BST, Leeds, 3 seats left"
        );
        assert_eq!(entry.duration_text, "7 hours");
    }

    #[test]
    fn when_label_names_the_venue_local_day_and_zone() {
        let events = august();
        assert_eq!(
            when_label(events[0].start_date, Some(events[0].end_date)),
            "Tuesday 4 August 2026, 09:30 to 16:30 BST"
        );
        let winter_start = DateTime::parse_from_rfc3339("2027-03-28T00:30:00+00:00").unwrap();
        let summer_end = DateTime::parse_from_rfc3339("2027-03-28T04:00:00+01:00").unwrap();
        assert_eq!(
            when_label(winter_start, Some(summer_end)),
            "Sunday 28 March 2027, 00:30 GMT to 04:00 BST"
        );
        assert_eq!(
            when_label(winter_start, None),
            "Sunday 28 March 2027, 00:30 GMT",
            "an end not known is not shown"
        );
    }
}
