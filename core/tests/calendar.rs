//! Calendar properties: every shown event exactly once on its venue-local
//! start day, counts that add up, independence from the viewer's time zone,
//! and the UK clock changes of 2026-10-25, 2027-03-28 and 2027-10-31.

use booking_core::api::TrainingEvent;
use booking_core::calendar::{CalendarOptions, DayStatus, EventIndex, YearMonth};
use booking_core::{synthetic, uk_time};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// UK clock changes in the years the tests cover, written out by hand (from
/// gov.uk) rather than computed, with the offset in force after each.
const CLOCK_CHANGES: [(&str, i32); 5] = [
    ("2026-03-29T01:00:00Z", 3600),
    ("2026-10-25T01:00:00Z", 0),
    ("2027-03-28T01:00:00Z", 3600),
    ("2027-10-31T01:00:00Z", 0),
    ("2028-03-26T01:00:00Z", 3600),
];

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// The UK offset at an instant from the hand-written table (2026 to 2028).
fn known_uk_offset(instant: DateTime<Utc>) -> i32 {
    CLOCK_CHANGES
        .iter()
        .rev()
        .find(|(at, _)| utc(at) <= instant)
        .map_or(0, |(_, seconds)| *seconds)
}

fn venue_time(instant: DateTime<Utc>) -> DateTime<FixedOffset> {
    instant.with_timezone(&FixedOffset::east_opt(known_uk_offset(instant)).unwrap())
}

/// The venue-local date, by plain arithmetic on the instant and offset.
fn local_date(timestamp: &DateTime<FixedOffset>) -> NaiveDate {
    let seconds = i64::from(timestamp.offset().local_minus_utc());
    (timestamp.naive_utc() + Duration::seconds(seconds)).date()
}

/// A synthetic event starting at `start`, with the offsets of the
/// hand-written table.
fn training_event(
    id: u64,
    start: DateTime<Utc>,
    minutes: i64,
    seats: u32,
    location: u64,
) -> TrainingEvent {
    synthetic::training_event(
        id,
        location,
        venue_time(start),
        venue_time(start + Duration::minutes(minutes)),
        seats,
    )
}

/// Events between 2026-01-01 and 2028-01-01, on 5-minute boundaries, with
/// unique ids.
fn events() -> impl Strategy<Value = Vec<TrainingEvent>> {
    let base = utc("2026-01-01T00:00:00Z");
    prop::collection::vec((0i64..210_240, 30i64..600, 0u32..12, 1u64..=8), 0..120).prop_map(
        move |specs| {
            specs
                .into_iter()
                .enumerate()
                .map(|(i, (slot, minutes, seats, location))| {
                    training_event(
                        i as u64 + 1,
                        base + Duration::minutes(slot * 5),
                        minutes,
                        seats,
                        location,
                    )
                })
                .collect()
        },
    )
}

fn now() -> impl Strategy<Value = DateTime<Utc>> {
    let base = utc("2025-12-01T00:00:00Z");
    (0i64..1_100_000).prop_map(move |minutes| base + Duration::minutes(minutes))
}

fn options() -> impl Strategy<Value = CalendarOptions> {
    (0i64..=72 * 60, any::<bool>(), prop::option::of(1u64..=8)).prop_map(
        |(minutes, show_full, location)| CalendarOptions {
            min_notice: Duration::minutes(minutes),
            show_full,
            location,
        },
    )
}

/// Whether an event is shown, and whether it is bookable, by the rules
/// written out again independently of the crate.
fn expected_visibility(
    event: &TrainingEvent,
    now: DateTime<Utc>,
    options: &CalendarOptions,
) -> (bool, bool) {
    let in_window = event.start_date.with_timezone(&Utc) >= now + options.min_notice;
    let place = options.location.is_none_or(|l| l == event.location.id);
    let bookable = place && in_window && event.remaining_slots > 0;
    let shown = bookable || (place && in_window && options.show_full);
    (shown, bookable)
}

/// Every month from December 2025 to January 2028.
fn months() -> Vec<YearMonth> {
    std::iter::successors(YearMonth::new(2025, 12), |m| m.next())
        .take_while(|m| *m <= YearMonth::new(2028, 1).unwrap())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Each shown event appears in exactly one agenda, that of its
    /// venue-local start date; hidden events appear nowhere.
    #[test]
    fn every_shown_event_appears_once_on_its_start_day(events in events(), now in now(), options in options()) {
        let index = EventIndex::new(events.clone());
        let mut seen: BTreeMap<u64, Vec<NaiveDate>> = BTreeMap::new();
        for month in months() {
            for agenda in index.agendas_in_month(month, now, &options) {
                prop_assert!(month.contains(agenda.date));
                for entry in &agenda.entries {
                    seen.entry(entry.event_id).or_default().push(agenda.date);
                }
            }
        }
        for event in &events {
            let (shown, bookable) = expected_visibility(event, now, &options);
            let days = seen.get(&event.id).cloned().unwrap_or_default();
            if shown {
                prop_assert_eq!(days, vec![local_date(&event.start_date)], "event {}", event.id);
                let agenda = index.day_agenda(local_date(&event.start_date), now, &options);
                let entry = agenda.entries.iter().find(|e| e.event_id == event.id).unwrap();
                prop_assert_eq!(entry.full, !bookable);
            } else {
                prop_assert!(days.is_empty(), "hidden event {} shown on {:?}", event.id, days);
            }
        }
    }

    /// Day counts match the events, and add up to the month's.
    #[test]
    fn day_counts_add_up_to_the_month(events in events(), now in now(), options in options()) {
        let index = EventIndex::new(events.clone());
        let mut per_day: BTreeMap<NaiveDate, (u32, u32)> = BTreeMap::new();
        for event in &events {
            let (shown, bookable) = expected_visibility(event, now, &options);
            if shown {
                let day = per_day.entry(local_date(&event.start_date)).or_default();
                day.0 += 1;
                if bookable {
                    day.1 += event.remaining_slots;
                }
            }
        }
        let today = venue_time(now).date_naive();
        for month in months() {
            let grid = index.month_grid(month, now, &options);
            let (mut events_in_month, mut seats_in_month) = (0, 0);
            for day in grid.days() {
                let (count, seats) = per_day.get(&day.date).copied().unwrap_or_default();
                prop_assert_eq!((day.event_count, day.seats_total), (count, seats), "{}", day.date);
                prop_assert_eq!(day.is_past, day.date < today);
                prop_assert_eq!(day.is_today, day.date == today);
                let status = match (day.is_past, count, seats) {
                    (true, _, _) => DayStatus::Past,
                    (false, 0, _) => DayStatus::NoEvents,
                    (false, _, 0) => DayStatus::Full,
                    (false, _, 1..=3) => DayStatus::FewSeats,
                    _ => DayStatus::Available,
                };
                prop_assert_eq!(day.status, status, "{}", day.date);
                if day.in_month {
                    events_in_month += day.event_count;
                    seats_in_month += day.seats_total;
                }
            }
            prop_assert_eq!(grid.event_count, events_in_month);
            prop_assert_eq!(grid.seats_total, seats_in_month);
            let expected_month: u32 = per_day
                .iter()
                .filter(|(date, _)| month.contains(**date))
                .map(|(_, (count, _))| count)
                .sum();
            prop_assert_eq!(grid.event_count, expected_month);
        }
    }

    /// The viewer's zone never matters: "now" read from any wall clock gives
    /// the same calendar, and today is the UK date even where the viewer's
    /// date differs.
    #[test]
    fn results_do_not_depend_on_the_viewer_zone(
        events in events(),
        now in now(),
        options in options(),
        viewer_quarters in -48i32..=56,
    ) {
        let viewer = FixedOffset::east_opt(viewer_quarters * 900).unwrap();
        let viewer_wall: NaiveDateTime = now.with_timezone(&viewer).naive_local();
        let now_from_viewer = viewer.from_local_datetime(&viewer_wall).unwrap().with_timezone(&Utc);
        let index = EventIndex::new(events);
        let month = YearMonth::of(venue_time(now).date_naive());
        let grid = index.month_grid(month, now, &options);
        prop_assert_eq!(&grid, &index.month_grid(month, now_from_viewer, &options));
        let today = grid.days().find(|d| d.is_today).map(|d| d.date);
        prop_assert_eq!(today, Some(venue_time(now).date_naive()));
        let first = index.first_month_with_availability(now, &options);
        prop_assert_eq!(first, index.first_month_with_availability(now_from_viewer, &options));
        if let Some(month) = first {
            prop_assert_eq!(
                index.agendas_in_month(month, now, &options),
                index.agendas_in_month(month, now_from_viewer, &options)
            );
        }
    }

    /// Navigation finds exactly the months that have a bookable event.
    #[test]
    fn navigation_visits_the_months_with_seats(events in events(), now in now(), options in options()) {
        let index = EventIndex::new(events.clone());
        let mut expected: Vec<YearMonth> = events
            .iter()
            .filter(|e| expected_visibility(e, now, &options).1)
            .map(|e| YearMonth::of(local_date(&e.start_date)))
            .collect();
        expected.sort();
        expected.dedup();
        let forward: Vec<YearMonth> = std::iter::successors(
            index.first_month_with_availability(now, &options),
            |m| index.next_month_with_availability(*m, now, &options),
        )
        .collect();
        prop_assert_eq!(&forward, &expected);
        let mut backward: Vec<YearMonth> = std::iter::successors(
            expected.last().copied(),
            |m| index.previous_month_with_availability(*m, now, &options),
        )
        .collect();
        backward.reverse();
        prop_assert_eq!(&backward, &expected);
    }

    /// Events at any time on a clock-change day land on that day, at the
    /// wall-clock time asked for (the hour skipped in spring moves an hour
    /// on), with the zone in force at that instant.
    #[test]
    fn clock_change_days_keep_their_events(
        change in 0usize..3,
        hour in 0u32..24,
        minute in 0u32..60,
        minutes in 30i64..600,
        seats in 1u32..12,
    ) {
        let (year, month, day, spring) = [(2026, 10, 25, false), (2027, 3, 28, true), (2027, 10, 31, false)][change];
        let date = NaiveDate::from_ymd_opt(year, month, day).unwrap();
        let start = uk_time::uk_local(date, hour, minute).unwrap();
        let start_utc = start.with_timezone(&Utc);
        let event = training_event(1, start_utc, minutes, seats, 5);
        prop_assert_eq!(event.start_date, start);
        let shown_hour = if spring && hour == 1 { 2 } else { hour };
        let start_zone = match known_uk_offset(start_utc) { 0 => "GMT", _ => "BST" };
        let expected_zone = if spring { hour >= 1 } else { hour < 2 };
        prop_assert_eq!(start_zone == "BST", expected_zone);

        let now = start_utc - Duration::days(30);
        let options = CalendarOptions::default();
        let index = EventIndex::new(vec![event.clone()]);
        let agenda = index.day_agenda(date, now, &options);
        prop_assert_eq!(agenda.entries.len(), 1);
        let entry = &agenda.entries[0];
        let start_text = format!("{shown_hour:02}:{minute:02}");
        prop_assert_eq!(&entry.start_time, &start_text);
        prop_assert_eq!(&entry.zone, start_zone);
        prop_assert_eq!(entry.duration, Duration::minutes(minutes));

        let end = venue_time(start_utc + Duration::minutes(minutes));
        let end_text = format!("{}", end.format("%H:%M"));
        let end_zone = match end.offset().local_minus_utc() { 0 => "GMT", _ => "BST" };
        let span = if end_zone == start_zone {
            format!("{start_text} to {end_text} {start_zone}")
        } else {
            format!("{start_text} {start_zone} to {end_text} {end_zone}")
        };
        let next_day = if end.date_naive() > date {
            format!(" (ends {})", uk_time::full_date(end.date_naive()))
        } else {
            String::new()
        };
        let seats_text = if seats == 1 { "1 seat left".to_owned() } else { format!("{seats} seats left") };
        let weekday = "Sunday";
        let month_name = if month == 3 { "March" } else { "October" };
        prop_assert_eq!(
            &entry.full_label,
            &format!("{weekday} {day} {month_name} {year}, {span}{next_day}, Venue 5, {seats_text}")
        );
        for other in [date.pred_opt().unwrap(), date.succ_opt().unwrap()] {
            prop_assert!(index.day_agenda(other, now, &options).entries.is_empty());
        }
        let grid = index.month_grid(YearMonth::of(date), now, &options);
        let cell = grid.day(date).unwrap();
        prop_assert_eq!(cell.event_count, 1);
        prop_assert_eq!(grid.event_count, 1);
    }
}

#[test]
fn clock_change_examples() {
    let now = utc("2026-09-01T00:00:00Z");
    let any = CalendarOptions::default();
    let event = |id, start: &str, end: &str| {
        let start = DateTime::parse_from_rfc3339(start).unwrap();
        let end = DateTime::parse_from_rfc3339(end).unwrap();
        synthetic::training_event(id, 5, start, end, 3)
    };
    let index = EventIndex::new(vec![
        event(1, "2026-10-25T09:30:00+00:00", "2026-10-25T16:30:00+00:00"),
        event(2, "2027-03-28T09:30:00+01:00", "2027-03-28T16:30:00+01:00"),
        event(3, "2027-10-31T09:30:00+00:00", "2027-10-31T16:00:00+00:00"),
        // 00:30 BST on the 25th is 23:30 UTC on the 24th: it belongs to the 25th.
        event(4, "2026-10-25T00:30:00+01:00", "2026-10-25T01:30:00+00:00"),
        // 23:30 BST on the 24th is 22:30 UTC: it stays on the 24th.
        event(5, "2026-10-24T23:30:00+01:00", "2026-10-25T00:30:00+01:00"),
        event(6, "2027-03-28T00:30:00+00:00", "2027-03-28T03:00:00+01:00"),
    ]);
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let labels = |day| {
        index
            .day_agenda(day, now, &any)
            .entries
            .iter()
            .map(|e| e.full_label.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        labels(date(2026, 10, 25)),
        vec![
            "Sunday 25 October 2026, 00:30 BST to 01:30 GMT, Venue 5, 3 seats left",
            "Sunday 25 October 2026, 09:30 to 16:30 GMT, Venue 5, 3 seats left",
        ]
    );
    assert_eq!(
        labels(date(2026, 10, 24)),
        vec!["Saturday 24 October 2026, 23:30 to 00:30 BST (ends Sunday 25 October 2026), Venue 5, 3 seats left"]
    );
    assert_eq!(
        labels(date(2027, 3, 28)),
        vec![
            "Sunday 28 March 2027, 00:30 GMT to 03:00 BST, Venue 5, 3 seats left",
            "Sunday 28 March 2027, 09:30 to 16:30 BST, Venue 5, 3 seats left",
        ]
    );
    assert_eq!(
        labels(date(2027, 10, 31)),
        vec!["Sunday 31 October 2027, 09:30 to 16:00 GMT, Venue 5, 3 seats left"]
    );
    let durations: Vec<String> = index
        .day_agenda(date(2027, 3, 28), now, &any)
        .entries
        .iter()
        .map(|e| e.duration_text.clone())
        .collect();
    assert_eq!(durations, vec!["1 hour 30 minutes", "7 hours"]);
    let october = index.month_grid(YearMonth::new(2026, 10).unwrap(), now, &any);
    assert_eq!(october.day(date(2026, 10, 25)).unwrap().event_count, 2);
    assert_eq!(october.day(date(2026, 10, 24)).unwrap().event_count, 1);
    assert_eq!(october.days().filter(|d| d.in_month).count(), 31);
}

#[test]
fn the_hand_written_clock_changes_agree_with_the_rule() {
    for (at, seconds) in CLOCK_CHANGES {
        let instant = utc(at);
        assert_eq!(
            uk_time::uk_offset_at(instant).local_minus_utc(),
            seconds,
            "{at}"
        );
        let before = instant - Duration::seconds(1);
        assert_eq!(
            uk_time::uk_offset_at(before).local_minus_utc(),
            3600 - seconds,
            "{at}"
        );
    }
}
