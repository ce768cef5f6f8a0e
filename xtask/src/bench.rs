//! `cargo xtask bench`: measured reports against the budgets, closing with
//! one table of every number.
//!
//! * The widget's transfer size, brotli, file by file: what the first step
//!   needs (`widget.js`, the glue, the module, the stylesheet), and every
//!   file the widget fetches together against 200 KB now, 130 KB as the aim.
//!   `cargo xtask bench --size` says where the module's bytes go.
//! * In Chromium (`e2e/bench/browser.bench.ts`, Playwright against a
//!   release sandbox and gateway): requests to `/api` from page load to a
//!   confirmed booking (budget 6) and while switching month, location and
//!   view (budget 0); from navigation to the first interactive step, and
//!   from choosing a location to the calendar being shown, the median of
//!   seven first visits (Performance marks).
//! * On a slow phone (`e2e/bench/slow-phone.bench.ts`, Lighthouse's mobile
//!   profile, cold cache, median of 5), today's load path and the early
//!   step side by side: navigation to the first usable choice (budget
//!   1.0 s), the first click to the next step's heading (budget 2.5 s), and
//!   the bytes transferred by then (no more than today's).
//! * The calendar's recompute for 2,000 events on a filter change, in
//!   Chromium (`benches/calendar_browser.rs`, booking-core compiled to
//!   wasm32, run by wasm-bindgen-test's criterion) against 2 ms.
//! * The hold storm (`gateway/examples/hold_storm.rs`): 500 concurrent
//!   hold-and-book attempts on a 12-seat event, through a gateway and
//!   straight at a sandbox; each must make exactly 12 bookings, and the
//!   sandbox's hold p99 is held against 50 ms. Its latencies come from this
//!   one machine, whose cores the client and both servers share.
//!
//! * The hostile load (`gateway/examples/hostile_load.rs`): one address
//!   flooding holds while another books (the other's first hold against a
//!   few seconds), then 10,000 hostile requests (the gateway's resident
//!   memory before and after, against a few MB of growth).
//!
//! The bench fails when any number is over its budget, after printing them
//! all.

use std::path::{Path, PathBuf};

use crate::dist::{target_dir, ServerBinaries};
use crate::process::{command, exec, run_teed};
use crate::{compress, dist, servers, setup, TaskResult};

/// Every file the widget fetches together, brotli: the budget now.
pub const TOTAL_BUDGET_BYTES: usize = 200 * 1024;
/// Every file the widget fetches together, brotli: the aim.
pub const TOTAL_AIM_BYTES: usize = 130 * 1024;
/// Navigation to the first usable choice on a slow phone, in milliseconds.
const FIRST_CHOICE_BUDGET_MS: f64 = 1000.0;
/// The first click to the next step's heading on a slow phone, in
/// milliseconds.
const NEXT_STEP_BUDGET_MS: f64 = 2500.0;
/// Requests to `/api` from page load to a confirmed booking.
const BOOKING_REQUESTS_BUDGET: u64 = 6;
/// The calendar's recompute on a filter change, in milliseconds.
const CALENDAR_BUDGET_MS: f64 = 2.0;
/// The seats of the hold storm's event: exactly this many bookings.
const STORM_SEATS: u64 = 12;
/// The sandbox's hold p99 under the storm, in milliseconds.
const STORM_P99_BUDGET_MS: f64 = 50.0;

/// Sizes of one file as transferred.
#[derive(Debug, Clone, Copy, Default)]
pub struct TransferSize {
    /// Bytes on disk.
    pub raw: usize,
    /// Bytes gzip-compressed (level 9).
    pub gzip: usize,
    /// Bytes brotli-compressed (quality 11).
    pub brotli: usize,
}

impl TransferSize {
    /// Measures a file.
    pub fn of(path: &Path) -> Result<TransferSize, String> {
        let bytes =
            std::fs::read(path).map_err(|error| format!("reading {}: {error}", path.display()))?;
        Ok(TransferSize::of_bytes(&bytes))
    }

    /// Measures some bytes.
    pub fn of_bytes(bytes: &[u8]) -> TransferSize {
        TransferSize {
            raw: bytes.len(),
            gzip: compress::gzip(bytes).len(),
            brotli: compress::brotli(bytes).len(),
        }
    }

    fn add(self, other: TransferSize) -> TransferSize {
        TransferSize {
            raw: self.raw + other.raw,
            gzip: self.gzip + other.gzip,
            brotli: self.brotli + other.brotli,
        }
    }
}

/// How a measurement compares with its budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Within,
    Over,
    /// Reported, with no budget.
    Measured,
}

/// One line of the closing table.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    what: String,
    measured: String,
    budget: String,
    verdict: Verdict,
}

impl Row {
    fn judged(what: &str, measured: String, budget: &str, within: bool) -> Row {
        Row {
            what: what.to_owned(),
            measured,
            budget: budget.to_owned(),
            verdict: if within {
                Verdict::Within
            } else {
                Verdict::Over
            },
        }
    }

    fn measured(what: &str, measured: String) -> Row {
        Row {
            what: what.to_owned(),
            measured,
            budget: "-".to_owned(),
            verdict: Verdict::Measured,
        }
    }
}

/// Runs every report and prints the table; fails if a number is over budget.
/// With `browser_only`, the widget's size and the Chromium benchmarks only.
pub fn run(browser_only: bool) -> TaskResult {
    setup::run()?;
    dist::build()?;
    let servers = dist::build_servers()?;
    let mut rows = widget_size()?;
    rows.extend(browser(&servers)?);
    if browser_only {
        return report(&rows);
    }
    rows.push(calendar_recompute()?);
    rows.extend(hold_storm(&servers)?);
    rows.extend(webhook_drag(&servers)?);
    rows.extend(candidate_load(&servers)?);
    rows.extend(hostile_load(&servers)?);
    report(&rows)
}

/// Prints the table; fails if a number is over budget.
fn report(rows: &[Row]) -> TaskResult {
    print_rows(rows);
    let over: Vec<&str> = rows
        .iter()
        .filter(|row| row.verdict == Verdict::Over)
        .map(|row| row.what.as_str())
        .collect();
    if over.is_empty() {
        Ok(())
    } else {
        Err(format!("over budget: {}", over.join("; ")))
    }
}

fn print_rows(rows: &[Row]) {
    let column = |header: &str, cell: fn(&Row) -> &str| {
        rows.iter()
            .map(|row| cell(row).chars().count())
            .chain([header.len()])
            .max()
            .unwrap_or(0)
    };
    let what = column("measure", |row| &row.what);
    let measured = column("measured", |row| &row.measured);
    let budget = column("budget", |row| &row.budget);
    println!();
    println!("Budgets");
    println!(
        "| {:<what$} | {:>measured$} | {:>budget$} | verdict |",
        "measure", "measured", "budget"
    );
    println!(
        "| {:-<what$} | {:->measured$}:| {:->budget$}:| ------- |",
        "", "", ""
    );
    for row in rows {
        let verdict = match row.verdict {
            Verdict::Within => "within",
            Verdict::Over => "OVER",
            Verdict::Measured => "",
        };
        // Pad by characters: "µs" is one character but two bytes.
        let pad = |text: &str, width: usize| " ".repeat(width.saturating_sub(text.chars().count()));
        println!(
            "| {:<what$} | {}{} | {}{} | {verdict:<7} |",
            row.what,
            pad(&row.measured, measured),
            row.measured,
            pad(&row.budget, budget),
            row.budget
        );
    }
}

fn widget_size() -> Result<Vec<Row>, String> {
    let files = dist::files()?;
    let mut first_load = TransferSize::default();
    let mut total = TransferSize::default();
    println!();
    println!("Widget transfer size (bytes), every file the widget fetches");
    println!("| file | first load |      raw |     gzip |   brotli |");
    println!("| ---- | ---------- | -------: | -------: | -------: |");
    for (path, needed_first) in files.fetched() {
        let size = TransferSize::of(path)?;
        total = total.add(size);
        if needed_first {
            first_load = first_load.add(size);
        }
        println!(
            "| {} | {:<10} | {:>8} | {:>8} | {:>8} |",
            path.file_name()
                .map_or_else(String::new, |name| name.to_string_lossy().into_owned()),
            if needed_first { "yes" } else { "no" },
            size.raw,
            size.gzip,
            size.brotli
        );
    }
    for (name, size) in [("first load", first_load), ("total", total)] {
        println!(
            "| {name} | | {:>8} | {:>8} | {:>8} |",
            size.raw, size.gzip, size.brotli
        );
    }
    Ok(size_rows(first_load, total))
}

/// The rows for the first load (measured) and the total (judged), brotli.
fn size_rows(first_load: TransferSize, total: TransferSize) -> Vec<Row> {
    let kb = |bytes: usize| format!("{:.1} KB", bytes as f64 / 1024.0);
    vec![
        Row::measured(
            "widget first load (loader, glue, module, CSS), brotli",
            kb(first_load.brotli),
        ),
        Row::judged(
            "widget total, every file together, brotli",
            kb(total.brotli),
            &format!(
                "<= {} KB now, {} KB the aim",
                TOTAL_BUDGET_BYTES / 1024,
                TOTAL_AIM_BYTES / 1024
            ),
            total.brotli <= TOTAL_BUDGET_BYTES,
        ),
    ]
}

/// Runs the Playwright benchmarks against the release servers and `dist/`
/// and reads the JSON they write.
fn browser(servers: &ServerBinaries) -> Result<Vec<Row>, String> {
    println!();
    println!("bench: the widget in Chromium (e2e/bench)");
    let results = target_dir().join("bench/browser.json");
    if let Some(dir) = results.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|error| format!("creating {}: {error}", dir.display()))?;
    }
    let _ = std::fs::remove_file(&results);
    let mut playwright = command(
        "npx",
        &["playwright", "test", "--config", "e2e/bench.config.ts"],
    );
    playwright
        .env("BOOKING_GATEWAY_BIN", &servers.gateway)
        .env("BOOKING_SANDBOX_BIN", &servers.sandbox)
        .env("BOOKING_DIST", dist::dist_dir())
        .env("CHROMIUM_PATH", setup::CHROMIUM)
        .env("HBG_BENCH_RESULTS", &results);
    exec(playwright)?;
    let text = std::fs::read_to_string(&results)
        .map_err(|error| format!("reading {}: {error}", results.display()))?;
    browser_rows(&text)
}

fn browser_rows(json: &str) -> Result<Vec<Row>, String> {
    let results: serde_json::Value =
        serde_json::from_str(json).map_err(|error| format!("browser bench results: {error}"))?;
    let count = |pointer: &str| {
        results
            .pointer(pointer)
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| format!("browser bench results have no {pointer}"))
    };
    let samples = |key: &str| -> Result<Vec<f64>, String> {
        results[key]
            .as_array()
            .map(|values| {
                values
                    .iter()
                    .filter_map(serde_json::Value::as_f64)
                    .collect()
            })
            .filter(|values: &Vec<f64>| !values.is_empty())
            .ok_or_else(|| format!("browser bench results have no {key}"))
    };
    let to_booking = count("/requests_to_booking/api")?;
    let switching = count("/requests_while_switching/api")?;
    let interactive = samples("interactive_ms")?;
    let calendar = samples("calendar_ms")?;
    let mut rows = vec![
        Row::judged(
            "requests to /api, page load to a confirmed booking",
            to_booking.to_string(),
            &format!("<= {BOOKING_REQUESTS_BUDGET}"),
            to_booking <= BOOKING_REQUESTS_BUDGET,
        ),
        Row::measured(
            "all requests, page load to a confirmed booking",
            count("/requests_to_booking/all")?.to_string(),
        ),
        Row::judged(
            "requests to /api switching month, location, view",
            switching.to_string(),
            "0",
            switching == 0,
        ),
        Row::measured(
            &format!(
                "navigation to first interactive step, median of {}",
                interactive.len()
            ),
            format!("{:.0} ms", median(&interactive)),
        ),
        Row::measured(
            &format!(
                "location chosen to calendar shown, median of {}",
                calendar.len()
            ),
            format!("{:.1} ms", median(&calendar)),
        ),
    ];
    rows.extend(slow_phone_rows(&results)?);
    Ok(rows)
}

/// The slow phone's rows: each figure's median for today's load path and
/// for the early step, the early step's judged.
fn slow_phone_rows(results: &serde_json::Value) -> Result<Vec<Row>, String> {
    let medians = |arm: &str, key: &str| -> Result<f64, String> {
        let samples: Vec<f64> = results
            .pointer(&format!("/slow_phone/{arm}"))
            .and_then(serde_json::Value::as_array)
            .map(|visits| {
                visits
                    .iter()
                    .filter_map(|visit| visit[key].as_f64())
                    .collect()
            })
            .unwrap_or_default();
        if samples.is_empty() {
            return Err(format!(
                "browser bench results have no slow_phone/{arm} {key}"
            ));
        }
        Ok(median(&samples))
    };
    let runs = results
        .pointer("/slow_phone/early")
        .and_then(serde_json::Value::as_array)
        .map_or(0, Vec::len);
    let pair = |key: &str| -> Result<(f64, f64), String> {
        Ok((medians("today", key)?, medians("early", key)?))
    };
    let (choice_today, choice_early) = pair("first_choice_ms")?;
    let (next_today, next_early) = pair("next_step_ms")?;
    let (bytes_today, bytes_early) = pair("bytes")?;
    let ms = |today: f64, early: f64| format!("{today:.0} / {early:.0} ms");
    Ok(vec![
        Row::judged(
            &format!("slow phone: first usable choice, today / early, median of {runs}"),
            ms(choice_today, choice_early),
            &format!("early <= {:.1} s", FIRST_CHOICE_BUDGET_MS / 1000.0),
            choice_early <= FIRST_CHOICE_BUDGET_MS,
        ),
        Row::judged(
            &format!("slow phone: first click to next step, today / early, median of {runs}"),
            ms(next_today, next_early),
            &format!("early <= {:.1} s", NEXT_STEP_BUDGET_MS / 1000.0),
            next_early <= NEXT_STEP_BUDGET_MS,
        ),
        Row::judged(
            &format!("slow phone: bytes transferred, today / early, median of {runs}"),
            format!(
                "{:.1} / {:.1} KB",
                bytes_today / 1024.0,
                bytes_early / 1024.0
            ),
            "early <= today",
            bytes_early <= bytes_today,
        ),
    ])
}

/// The median of some samples (the mean of the middle two for an even count).
fn median(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    } else {
        sorted[middle]
    }
}

/// Runs `benches/calendar_browser.rs` in Chromium and reads criterion's
/// estimate of one recompute.
fn calendar_recompute() -> Result<Row, String> {
    println!();
    println!("bench: the calendar's recompute in Chromium (benches/calendar_browser.rs)");
    let bench = command(
        "cargo",
        &[
            "bench",
            "--package",
            "booking-widget",
            "--target",
            "wasm32-unknown-unknown",
            "--bench",
            "calendar_browser",
        ],
    );
    let (ok, output) = run_teed(bench)?;
    if !ok {
        return Err("the calendar bench failed".to_owned());
    }
    let ms = criterion_estimate_ms(&output, "calendar filter_change")
        .ok_or("the calendar bench printed no estimate")?;
    Ok(Row::judged(
        "calendar recompute, 2,000 events, in Chromium",
        format_ms(ms),
        &format!("< {CALENDAR_BUDGET_MS:.0} ms"),
        ms < CALENDAR_BUDGET_MS,
    ))
}

/// Criterion's point estimate, in milliseconds, from its
/// `NAME time: [low estimate high]` line (colours and all).
fn criterion_estimate_ms(output: &str, name: &str) -> Option<f64> {
    let line = output
        .lines()
        .map(strip_ansi)
        .find(|line| line.contains(name) && line.contains("time:"))?;
    let inside = line.split_once('[')?.1.split_once(']')?.0;
    let words: Vec<&str> = inside.split_whitespace().collect();
    let [_, _, value, unit, _, _] = words.as_slice() else {
        return None;
    };
    let value: f64 = value.parse().ok()?;
    let scale = match *unit {
        "ns" => 1e-6,
        "µs" | "us" => 1e-3,
        "ms" => 1.0,
        "s" => 1e3,
        _ => return None,
    };
    Some(value * scale)
}

fn strip_ansi(line: &str) -> String {
    let mut plain = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

fn format_ms(ms: f64) -> String {
    if ms < 1.0 {
        format!("{:.1} µs", ms * 1000.0)
    } else {
        format!("{ms:.1} ms")
    }
}

/// Starts a sandbox (test mode, in memory, rate limit out of the way) and
/// a gateway in front of it, then runs the storm against both.
fn hold_storm(binaries: &ServerBinaries) -> Result<Vec<Row>, String> {
    let storm = build_hold_storm()?;
    let stack = servers::start_test_stack(binaries, &[])?;
    let (ok, output) = run_teed(command(
        storm.to_str().expect("target path is UTF-8"),
        &[
            "--sandbox",
            stack.sandbox.url(),
            "--gateway",
            stack.gateway.url(),
        ],
    ))?;
    let gateway = storm_line(&output, "through the gateway")
        .ok_or("the hold storm printed no line for the gateway")?;
    let sandbox = storm_line(&output, "straight at the sandbox")
        .ok_or("the hold storm printed no line for the sandbox")?;
    let seats = format!("exactly {STORM_SEATS}");
    let rows = vec![
        Row::judged(
            "hold storm via gateway: bookings of 500 attempts",
            gateway.bookings.to_string(),
            &seats,
            gateway.bookings == STORM_SEATS,
        ),
        Row::measured(
            "hold storm via gateway: hold p50 / p99",
            format!(
                "{} / {}",
                format_ms(gateway.p50_ms),
                format_ms(gateway.p99_ms)
            ),
        ),
        Row::judged(
            "hold storm at sandbox: bookings of 500 attempts",
            sandbox.bookings.to_string(),
            &seats,
            sandbox.bookings == STORM_SEATS,
        ),
        Row::judged(
            "hold storm at sandbox: hold p50 / p99",
            format!(
                "{} / {}",
                format_ms(sandbox.p50_ms),
                format_ms(sandbox.p99_ms)
            ),
            &format!("p99 < {STORM_P99_BUDGET_MS:.0} ms"),
            sandbox.p99_ms < STORM_P99_BUDGET_MS,
        ),
    ];
    if !ok && rows.iter().all(|row| row.verdict != Verdict::Over) {
        return Err("the hold storm failed".to_owned());
    }
    Ok(rows)
}

/// One storm's line of the hold storm's table.
#[derive(Debug, Clone, Copy, PartialEq)]
struct StormLine {
    bookings: u64,
    p50_ms: f64,
    p99_ms: f64,
}

/// Reads `| NAME ... | bookings | hold answers | hold p50 | hold p99 | ...`.
fn storm_line(output: &str, name: &str) -> Option<StormLine> {
    let line = output
        .lines()
        .find(|line| line.starts_with(&format!("| {name}")))?;
    let cells: Vec<&str> = line.split('|').map(str::trim).collect();
    let ms = |cell: &str| cell.strip_suffix(" ms")?.parse::<f64>().ok();
    Some(StormLine {
        bookings: cells.get(2)?.parse().ok()?,
        p50_ms: ms(cells.get(4)?)?,
        p99_ms: ms(cells.get(5)?)?,
    })
}

/// Builds the hold storm client with the `server` profile.
fn build_hold_storm() -> Result<PathBuf, String> {
    build_example("booking-gateway", "hold_storm", "the hold storm client")
}

/// Builds `package`'s example `name` with the `server` profile.
fn build_example(package: &str, name: &str, what: &str) -> Result<PathBuf, String> {
    println!();
    println!("bench: building {what}");
    exec(command(
        "cargo",
        &[
            "build",
            "--profile",
            "server",
            "--package",
            package,
            "--example",
            name,
        ],
    ))?;
    Ok(target_dir().join("server/examples").join(name))
}

/// Whether a slow webhook receiver slows `POST /bookings`
/// (`sandbox/examples/webhook_drag.rs`): the bookings' p50/p99 with no
/// endpoint, and with one whose receiver takes 2 s; over budget when that
/// p99 reaches the receiver's 2 s (a delivery made inside the request).
fn webhook_drag(binaries: &ServerBinaries) -> Result<Vec<Row>, String> {
    let drag = build_example("booking-sandbox", "webhook_drag", "the webhook drag client")?;
    let stack = servers::start_test_stack(binaries, &[])?;
    let (ok, output) = run_teed(command(
        drag.to_str().expect("target path is UTF-8"),
        &["--sandbox", stack.sandbox.url()],
    ))?;
    let without = drag_line(&output, "without a webhook endpoint")
        .ok_or("the webhook drag printed no line without an endpoint")?;
    let with = drag_line(&output, "with a receiver taking")
        .ok_or("the webhook drag printed no line with the slow receiver")?;
    let rows = vec![
        Row::measured(
            "webhook drag: booking p50 / p99, no endpoint",
            format!("{} / {}", format_ms(without.0), format_ms(without.1)),
        ),
        Row::judged(
            "webhook drag: booking p50 / p99, receiver taking 2 s",
            format!("{} / {}", format_ms(with.0), format_ms(with.1)),
            "p99 < 2000 ms",
            with.1 < 2000.0,
        ),
    ];
    if !ok && rows.iter().all(|row| row.verdict != Verdict::Over) {
        return Err("the webhook drag failed".to_owned());
    }
    Ok(rows)
}

/// 200 candidates browsing and 30 booking within a minute through one
/// gateway, against a sandbox keeping the documented rate limit
/// (`gateway/examples/candidate_load.rs`).
fn candidate_load(binaries: &ServerBinaries) -> Result<Vec<Row>, String> {
    let load = build_example(
        "booking-gateway",
        "candidate_load",
        "the candidate load client",
    )?;
    let sandbox = servers::start_sandbox(&binaries.sandbox, "60")?;
    let (ok, output) = run_teed(command(
        load.to_str().expect("target path is UTF-8"),
        &["--sandbox", sandbox.url()],
    ))?;
    let cells = table_cells(&output, "| 200 browsing + 30 booking")
        .ok_or("the candidate load printed no summary line")?;
    let cell = |index: usize| cells.get(index).cloned().unwrap_or_default();
    let mut rows = vec![
        Row::judged(
            "candidate load: candidates who saw an error (of 230)",
            cell(3),
            "0",
            cell(3) == "0",
        ),
        Row::judged(
            "candidate load: upstream calls (429s)",
            format!("{} ({})", cell(6), cell(7)),
            "no 429",
            cell(7) == "0",
        ),
        Row::judged(
            "candidate load: bookings / told to wait their turn",
            format!("{} / {}", cell(5), cell(4)),
            "30 bookings",
            cell(5) == "30",
        ),
    ];
    for step in ["options", "courses", "training events", "hold", "booking"] {
        let cells = table_cells(&output, &format!("| step {step} |"))
            .ok_or_else(|| format!("the candidate load printed no line for {step}"))?;
        rows.push(Row::measured(
            &format!("candidate load: {step} p50 / p99"),
            format!("{} / {}", cells[3], cells[4]),
        ));
    }
    if !ok && rows.iter().all(|row| row.verdict != Verdict::Over) {
        return Err("the candidate load failed".to_owned());
    }
    Ok(rows)
}

/// How long another address's first hold may wait while one address
/// floods: a few seconds.
const FLOOD_WAIT_BUDGET_MS: f64 = 3000.0;
/// How much the gateway's resident memory may grow over 10,000 hostile
/// requests: a few MB.
const HOSTILE_MEMORY_BUDGET_KIB: u64 = 8 * 1024;

/// One address flooding holds while another books, then 10,000 hostile
/// requests, against a release gateway with its default caps and rate
/// limits in front of a sandbox keeping the documented rate limit
/// (`gateway/examples/hostile_load.rs`).
fn hostile_load(binaries: &ServerBinaries) -> Result<Vec<Row>, String> {
    let load = build_example("booking-gateway", "hostile_load", "the hostile load client")?;
    let sandbox = servers::start_sandbox(&binaries.sandbox, "60")?;
    let gateway = servers::start_gateway(&binaries.gateway, &sandbox, &[])?;
    let pid = gateway.pid().to_string();
    let (ok, output) = run_teed(command(
        load.to_str().expect("target path is UTF-8"),
        &[
            "--sandbox",
            sandbox.url(),
            "--gateway",
            gateway.url(),
            "--gateway-pid",
            &pid,
        ],
    ))?;
    let cell = |start: &str| {
        table_cells(&output, start)
            .and_then(|cells| cells.get(2).cloned())
            .ok_or_else(|| format!("the hostile load printed no line {start:?}"))
    };
    let granted = cell("| flood: holds granted to one address")?;
    let answered = cell("| flood: another address's events list, hold")?;
    let waited = cell("| flood: another address's first hold")?;
    let waited_ms = waited
        .strip_suffix(" ms")
        .and_then(|ms| ms.parse::<f64>().ok())
        .ok_or_else(|| format!("the other address's wait is not a time: {waited}"))?;
    let memory = cell("| hostile: gateway resident memory before / after")?;
    let (before, after) = memory
        .strip_suffix(" KiB")
        .and_then(|kib| kib.split_once(" / "))
        .and_then(|(before, after)| Some((before.parse::<u64>().ok()?, after.parse::<u64>().ok()?)))
        .ok_or_else(|| format!("the gateway's memory is not two sizes: {memory}"))?;
    let mib = |kib: u64| kib as f64 / 1024.0;
    let rows = vec![
        Row::measured(
            "hostile load: holds granted to one flooding address",
            granted,
        ),
        Row::judged(
            "hostile load: another address's events list and hold while one floods",
            answered.clone(),
            "200, 200 or 503 queued",
            answered == "200 200" || answered == "200 503",
        ),
        Row::judged(
            "hostile load: another address's first hold while one floods",
            format_ms(waited_ms),
            &format!("< {:.0} s", FLOOD_WAIT_BUDGET_MS / 1000.0),
            waited_ms < FLOOD_WAIT_BUDGET_MS,
        ),
        Row::judged(
            "hostile load: gateway memory before / after 10,000 hostile requests",
            format!("{:.1} / {:.1} MiB", mib(before), mib(after)),
            &format!("+{} MiB at most", HOSTILE_MEMORY_BUDGET_KIB / 1024),
            after <= before + HOSTILE_MEMORY_BUDGET_KIB,
        ),
    ];
    if !ok && rows.iter().all(|row| row.verdict != Verdict::Over) {
        return Err("the hostile load failed".to_owned());
    }
    Ok(rows)
}

/// The trimmed cells of the first line of `output` starting with `start`.
fn table_cells(output: &str, start: &str) -> Option<Vec<String>> {
    let line = output.lines().find(|line| line.starts_with(start))?;
    Some(line.split('|').map(|cell| cell.trim().to_owned()).collect())
}

/// Reads `| NAME ... | p50 ms | p99 ms | deliveries |`: the p50 and p99.
fn drag_line(output: &str, name: &str) -> Option<(f64, f64)> {
    let line = output
        .lines()
        .find(|line| line.starts_with(&format!("| {name}")))?;
    let cells: Vec<&str> = line.split('|').map(str::trim).collect();
    let ms = |cell: &str| cell.strip_suffix(" ms")?.parse::<f64>().ok();
    Some((ms(cells.get(2)?)?, ms(cells.get(3)?)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_budget_judges_the_total() {
        let size = |brotli| TransferSize {
            raw: brotli * 3,
            gzip: brotli * 2,
            brotli,
        };
        let within = size_rows(size(TOTAL_BUDGET_BYTES), size(TOTAL_BUDGET_BYTES));
        assert_eq!(within[0].verdict, Verdict::Measured);
        assert_eq!(within[1].verdict, Verdict::Within);
        assert_eq!(within[1].budget, "<= 200 KB now, 130 KB the aim");
        let over = size_rows(size(1024), size(TOTAL_BUDGET_BYTES + 1));
        assert_eq!(over[1].verdict, Verdict::Over);
        assert_eq!(over[0].measured, "1.0 KB");
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[5.0, 1.0, 3.0]), 3.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
    }

    #[test]
    fn criterion_estimates_in_milliseconds() {
        let output = "Collecting 100 samples in estimated 5.0311 s (121k iterations)\n\
            \u{1b}[32mcalendar filter_change\u{1b}[0m  time:   [\u{1b}[2m36.606 µs\u{1b}[0m \u{1b}[1m39.139 µs\u{1b}[0m \u{1b}[2m42.338 µs\u{1b}[0m]\n";
        let ms = criterion_estimate_ms(output, "calendar filter_change").unwrap();
        assert!((ms - 0.039139).abs() < 1e-9);
        assert_eq!(
            criterion_estimate_ms("x time: [1.5 ms 2.5 ms 3.5 ms]", "x"),
            Some(2.5)
        );
        assert_eq!(criterion_estimate_ms(output, "another bench"), None);
    }

    #[test]
    fn drag_lines() {
        let output = "| run | booking p50 | booking p99 | deliveries received |\n\
                      | without a webhook endpoint | 0.8 ms | 1.3 ms | 0 |\n\
                      | with a receiver taking 2 s | 0.7 ms | 1.1 ms | 2 |\n";
        assert_eq!(
            drag_line(output, "without a webhook endpoint"),
            Some((0.8, 1.3))
        );
        assert_eq!(
            drag_line(output, "with a receiver taking"),
            Some((0.7, 1.1))
        );
        assert_eq!(drag_line(output, "through the gateway"), None);
    }

    #[test]
    fn storm_lines() {
        let output = "\
| storm | bookings | hold answers | hold p50 | hold p99 | booking answers | booking p50 | booking p99 | wall time |
| --- | ---: | --- | ---: | ---: | --- | ---: | ---: | ---: |
| through the gateway (1 account, 409s retried) | 12 | 200×12 409×3100 422×488 | 3.2 ms | 41.7 ms | 201×12 | 4.0 ms | 9.1 ms | 2.31 s |
| straight at the sandbox (25 accounts, no retries) | 12 | 200×12 422×488 | 1.1 ms | 12.5 ms | 201×12 | 1.0 ms | 2.0 ms | 0.41 s |
";
        assert_eq!(
            storm_line(output, "through the gateway"),
            Some(StormLine {
                bookings: 12,
                p50_ms: 3.2,
                p99_ms: 41.7
            })
        );
        assert_eq!(
            storm_line(output, "straight at the sandbox").map(|line| line.p99_ms),
            Some(12.5)
        );
        assert_eq!(storm_line(output, "elsewhere"), None);
    }

    #[test]
    fn browser_results_become_rows() {
        let json = r#"{
            "requests_to_booking": { "api": 5, "all": 11, "calls": [] },
            "requests_while_switching": { "api": 1, "calls": ["GET /courses"] },
            "interactive_ms": [300, 100, 200],
            "calendar_ms": [20.5, 10.25],
            "slow_phone": {
                "today": [{ "first_choice_ms": 2400, "next_step_ms": 700, "bytes": 206000 }],
                "early": [{ "first_choice_ms": 900, "next_step_ms": 2600, "bytes": 205000 }]
            }
        }"#;
        let rows = browser_rows(json).unwrap();
        let verdicts: Vec<Verdict> = rows.iter().map(|row| row.verdict).collect();
        assert_eq!(
            verdicts,
            [
                Verdict::Within,
                Verdict::Measured,
                Verdict::Over,
                Verdict::Measured,
                Verdict::Measured,
                Verdict::Within,
                Verdict::Over,
                Verdict::Within
            ]
        );
        assert_eq!(rows[3].measured, "200 ms");
        assert_eq!(rows[4].measured, "15.4 ms");
        assert_eq!(rows[5].measured, "2400 / 900 ms");
        assert_eq!(rows[7].measured, "201.2 / 200.2 KB");
        assert!(browser_rows("{}").is_err());
    }
}
