//! The calendar's recompute in the browser: 2,000 events over six months at
//! eight venues (`booking_core::synthetic::calendar_events`, the set of the
//! native calendar bench), as `booking-core` compiled to WebAssembly runs them in
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

use booking_core::calendar::{CalendarOptions, EventIndex, YearMonth};
use booking_core::synthetic::{calendar_events, CALENDAR_VENUES};
use chrono::{DateTime, Duration, Utc};
use wasm_bindgen_test::{wasm_bindgen_bench, wasm_bindgen_test_configure, Criterion};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_bench]
fn filter_change(c: &mut Criterion) {
    let index = EventIndex::new(calendar_events());
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-08-20T10:00:00+01:00")
        .expect("a valid instant")
        .with_timezone(&Utc);
    let october = YearMonth::new(2026, 10).expect("a valid month");
    // Any location, then each venue in turn: one filter change per iteration.
    let filters: Vec<Option<u64>> = std::iter::once(None)
        .chain((1..=CALENDAR_VENUES).map(Some))
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
