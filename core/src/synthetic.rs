//! Synthetic training events for tests and benchmarks, written once: one
//! course, numbered venues, and the calendar benchmark's 2,000 events.
//!
//! Compiled for this crate's own tests and with the `synthetic` feature,
//! which only test and benchmark targets turn on (never the widget's build).

use chrono::{Duration, NaiveDate, Utc};

use crate::api::{CourseRef, Location, Money, Timestamp, TrainingEvent};
use crate::uk_time::{to_uk, uk_local};

/// The course every synthetic event teaches.
pub const COURSE_ID: u64 = 2;

/// How many events [`calendar_events`] makes.
pub const CALENDAR_EVENTS: u64 = 2_000;

/// How many venues [`calendar_events`] spreads them over (ids 1 to 8).
pub const CALENDAR_VENUES: u64 = 8;

/// How many days [`calendar_events`] spreads them over.
const CALENDAR_DAYS: u64 = 182;

/// The course every synthetic event teaches.
pub fn course() -> CourseRef {
    CourseRef {
        id: COURSE_ID,
        name: "Moving & Handling Practical".into(),
    }
}

/// Venue `id`: "Venue 5", "Unit 5, Training Street".
pub fn venue(id: u64) -> Location {
    Location {
        id,
        name: format!("Venue {id}"),
        address: format!("Unit {id}, Training Street"),
    }
}

/// An event of [`course`] at [`venue`] `venue_id`, from `start` to `end` as
/// given (offsets included), with `seats` left, at £95.
pub fn training_event(
    id: u64,
    venue_id: u64,
    start: Timestamp,
    end: Timestamp,
    seats: u32,
) -> TrainingEvent {
    TrainingEvent {
        id,
        course: course(),
        location: venue(venue_id),
        start_date: start,
        end_date: end,
        remaining_slots: seats,
        cost_inc_vat: Money(9500),
        booking_url: String::new(),
        busy_for_seconds: None,
    }
}

/// The calendar benchmark's events: [`CALENDAR_EVENTS`] events from 1
/// September 2026 over 182 days (across the October clock change), spread
/// over [`CALENDAR_VENUES`] venues, starting between 08:00 and 16:30 UK time,
/// 3 to 8 hours long, with 0 to 12 seats left. The same set every time.
pub fn calendar_events() -> Vec<TrainingEvent> {
    let first = NaiveDate::from_ymd_opt(2026, 9, 1).expect("a valid date");
    (0..CALENDAR_EVENTS)
        .filter_map(|i| {
            let date = first + Duration::days((i * CALENDAR_DAYS / CALENDAR_EVENTS) as i64);
            let start = uk_local(date, 8 + (i % 5) as u32 * 2, [0, 30][(i % 2) as usize])?;
            let end = to_uk(start.with_timezone(&Utc) + Duration::hours(3 + (i % 6) as i64));
            let seats = ((i * 7) % 13) as u32;
            Some(training_event(
                i + 1,
                1 + i % CALENDAR_VENUES,
                start,
                end,
                seats,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_calendar_set_is_whole_and_crosses_the_october_clock_change() {
        let events = calendar_events();
        assert_eq!(events.len() as u64, CALENDAR_EVENTS);
        let offsets: Vec<i32> = events
            .iter()
            .map(|event| event.start_date.offset().local_minus_utc())
            .collect();
        assert!(offsets.contains(&3600) && offsets.contains(&0));
        assert!(events
            .iter()
            .all(|event| (1..=CALENDAR_VENUES).contains(&event.location.id)));
        assert!(events.iter().any(TrainingEvent::is_full));
    }
}
