//! The calendar's recompute in the browser: 2,000 events over six months at
//! eight venues, as `booking-core` compiled to WebAssembly runs them in
//! headless Chromium. `filter_change` is what the widget recomputes when the
//! candidate switches location or month: the month grid and every day's
//! agenda (the list view). Budget: under 2 ms.
//!
//! Run with `cargo bench --target wasm32-unknown-unknown --bench
//! calendar_browser` (the wasm32 runner is `wasm-bindgen-test-runner`, which
//! drives Chromium through ChromeDriver); `cargo xtask bench` runs it and
//! reads the estimate it prints.
#![cfg(target_arch = "wasm32")]

use std::hint::black_box;

use booking_core::api::{CourseRef, Location, Money, TrainingEvent};
use booking_core::calendar::{CalendarOptions, EventIndex, YearMonth};
use booking_core::uk_time::{to_uk, uk_local};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use wasm_bindgen_test::{wasm_bindgen_bench, wasm_bindgen_test_configure, Criterion};

wasm_bindgen_test_configure!(run_in_browser);

const EVENTS: u64 = 2_000;
const LOCATIONS: u64 = 8;
const DAYS: u64 = 182;

/// 2,000 events from 1 September 2026 over 182 days (across the October
/// clock change), spread over eight venues, with 0 to 12 seats left: the
/// same set as `booking-core`'s native calendar bench.
fn events() -> Vec<TrainingEvent> {
    let first = NaiveDate::from_ymd_opt(2026, 9, 1).expect("a valid date");
    (0..EVENTS)
        .map(|i| {
            let date = first + Duration::days((i * DAYS / EVENTS) as i64);
            let start = uk_local(date, 8 + (i % 5) as u32 * 2, [0, 30][(i % 2) as usize])
                .expect("a UK local time");
            let end = to_uk(start.with_timezone(&Utc) + Duration::hours(3 + (i % 6) as i64));
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

#[wasm_bindgen_bench]
fn filter_change(c: &mut Criterion) {
    let index = EventIndex::new(events());
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-08-20T10:00:00+01:00")
        .expect("a valid instant")
        .with_timezone(&Utc);
    let october = YearMonth::new(2026, 10).expect("a valid month");
    // Any location, then each venue in turn: one filter change per iteration.
    let filters: Vec<Option<u64>> = std::iter::once(None)
        .chain((1..=LOCATIONS).map(Some))
        .collect();
    let mut turn = 0;
    c.bench_function("calendar filter_change", |b| {
        b.iter(|| {
            turn = (turn + 1) % filters.len();
            let options = CalendarOptions {
                min_notice: Duration::hours(24),
                show_full: true,
                location: filters[turn],
            };
            let grid = index.month_grid(black_box(october), now, &options);
            let agendas = index.agendas_in_month(october, now, &options);
            (grid, agendas)
        })
    });
}
