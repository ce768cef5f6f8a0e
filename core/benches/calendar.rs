//! Calendar benchmark: 2,000 events over six months at eight locations
//! (`booking_core::synthetic::calendar_events`).
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

use booking_core::calendar::{CalendarOptions, EventIndex, YearMonth};
use booking_core::synthetic::calendar_events;
use chrono::{DateTime, Duration, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

fn months() -> Vec<YearMonth> {
    std::iter::successors(YearMonth::new(2026, 9), |m| m.next())
        .take(7)
        .collect()
}

fn calendar(c: &mut Criterion) {
    let events = calendar_events();
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
