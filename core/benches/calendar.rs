//! Calendar benchmark: 2,000 events over six months at eight locations.
//!
//! * `calendar/index`: grouping the fetched events by venue-local date (the
//!   events are moved in, as the widget does after a fetch).
//! * `calendar/filter_change`: what the widget recomputes when the candidate
//!   changes a filter or the month: the month grid and every day's agenda.
//! * `calendar/everything`: index, then the grid and every day's agenda for
//!   all six months.
//!
//! Run with `cargo bench -p booking-core --bench calendar`; criterion prints
//! each estimate and writes the median to
//! `target/criterion/calendar/<name>/new/estimates.json`.

use std::hint::black_box;

use booking_core::api::{CourseRef, Location, Money, TrainingEvent};
use booking_core::calendar::{CalendarOptions, EventIndex, YearMonth};
use booking_core::uk_time::{to_uk, uk_local};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

const EVENTS: u64 = 2_000;
const LOCATIONS: u64 = 8;
const DAYS: u64 = 182;

/// 2,000 events from 1 September 2026 over 182 days (across the October
/// clock change), spread over eight venues, with 0 to 12 seats left.
fn events() -> Vec<TrainingEvent> {
    let first = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
    (0..EVENTS)
        .map(|i| {
            let date = first + Duration::days((i * DAYS / EVENTS) as i64);
            let start = uk_local(date, 8 + (i % 5) as u32 * 2, [0, 30][(i % 2) as usize]).unwrap();
            let hours = 3 + (i % 6) as i64;
            let end = to_uk(start.with_timezone(&Utc) + Duration::hours(hours));
            let location = 1 + i % LOCATIONS;
            TrainingEvent {
                id: i + 1,
                course: CourseRef {
                    id: 2,
                    name: "Moving & Handling Practical".into(),
                },
                location: Location {
                    id: location,
                    name: format!("Venue {location}"),
                    address: format!("Unit {location}, Training Street"),
                },
                start_date: start,
                end_date: end,
                remaining_slots: ((i * 7) % 13) as u32,
                cost_inc_vat: Money(9500),
                booking_url: String::new(),
            }
        })
        .collect()
}

fn months() -> Vec<YearMonth> {
    std::iter::successors(YearMonth::new(2026, 9), |m| m.next())
        .take(7)
        .collect()
}

fn calendar(c: &mut Criterion) {
    let events = events();
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-08-20T10:00:00+01:00")
        .unwrap()
        .with_timezone(&Utc);
    let options = CalendarOptions {
        min_notice: Duration::hours(24),
        show_full: true,
        location: None,
    };
    let index = EventIndex::new(events.clone());
    let october = YearMonth::new(2026, 10).unwrap();

    let mut group = c.benchmark_group("calendar");
    group.bench_function("index", |b| {
        b.iter_batched(|| events.clone(), EventIndex::new, BatchSize::LargeInput)
    });
    group.bench_function("filter_change", |b| {
        b.iter(|| {
            let grid = index.month_grid(black_box(october), now, &options);
            let agendas = index.agendas_in_month(october, now, &options);
            (grid, agendas)
        })
    });
    group.bench_function("everything", |b| {
        b.iter_batched(
            || events.clone(),
            |events| {
                let index = EventIndex::new(events);
                months()
                    .into_iter()
                    .map(|month| {
                        (
                            index.month_grid(month, now, &options),
                            index.agendas_in_month(month, now, &options),
                        )
                    })
                    .collect::<Vec<_>>()
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, calendar);
criterion_main!(benches);
