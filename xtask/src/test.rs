//! `cargo xtask test`: every check, in order, stopping at the first failing
//! layer. It closes with a status for each layer and then one
//! `N passed, N failed, N skipped` line, printed only once the verdict is
//! known: `failed` counts every failing test and every layer that failed
//! without naming a failing test (a crashed binary, a spec file that did not
//! load, a layer whose passing tests are not exactly its inventory's), so
//! the line reads green only when every layer ran and passed. Each layer's
//! tests are checked by name against `xtask/inventory/` (`inventory`).

use std::fmt;
use std::ops::AddAssign;
use std::time::{Duration, Instant};

use crate::dist::{self, target_dir, ServerBinaries};
use crate::process::{command, exec, run_teed_merged};
use crate::{inventory, servers, setup, TaskResult};

/// Passed, failed and skipped test counts.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Tests that passed.
    pub passed: u64,
    /// Tests that failed, flaky ones included.
    pub failed: u64,
    /// Tests that were skipped (`#[ignore]`, `test.fixme`, `test.skip`).
    pub skipped: u64,
}

impl AddAssign for Tally {
    fn add_assign(&mut self, other: Tally) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
    }
}

/// Sums the `test result: ... N passed; M failed; K ignored` lines of libtest
/// and wasm-bindgen-test-runner output.
pub fn parse_libtest(output: &str) -> Tally {
    let mut tally = Tally::default();
    for line in output.lines() {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            continue;
        };
        for part in rest.split([';', '.']) {
            let mut words = part.split_whitespace();
            if let (Some(count), Some(label)) = (words.next(), words.next()) {
                if let Ok(count) = count.parse::<u64>() {
                    match label {
                        "passed" => tally.passed += count,
                        "failed" => tally.failed += count,
                        "ignored" => tally.skipped += count,
                        _ => {}
                    }
                }
            }
        }
    }
    tally
}

/// Reads the totals of Playwright's JSON report (`stats`). A flaky test (one
/// that failed before it passed) counts as failed, and a spec file that could
/// not be loaded (the report's `errors`) is an error, not zero tests.
pub fn parse_playwright(report: &str) -> Result<Tally, String> {
    let json: serde_json::Value =
        serde_json::from_str(report).map_err(|error| format!("Playwright report: {error}"))?;
    let stats = &json["stats"];
    if stats.is_null() {
        return Err("Playwright report has no stats".to_owned());
    }
    if let Some(errors) = json["errors"]
        .as_array()
        .filter(|errors| !errors.is_empty())
    {
        let first = errors[0]["message"].as_str().unwrap_or("no message");
        return Err(format!(
            "Playwright reported {} error(s) outside any test, first: {first}",
            errors.len()
        ));
    }
    let count = |key: &str| stats[key].as_u64().unwrap_or(0);
    Ok(Tally {
        passed: count("expected"),
        failed: count("unexpected") + count("flaky"),
        skipped: count("skipped"),
    })
}

/// How a layer ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// It ran and passed.
    Passed,
    /// It ran and failed, for this reason.
    Failed(String),
    /// It did not run, because an earlier layer failed.
    NotRun,
}

/// The layers, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `cargo fmt --check`.
    Formatting,
    /// Clippy, native and wasm32.
    Lints,
    /// `cargo test` of the native crates.
    Native,
    /// The widget's files and the servers' binaries.
    Build,
    /// `wasm-pack test --headless --chrome`.
    Browser,
    /// The widget's real HTTP client against a real gateway.
    LiveGateway,
    /// Playwright against the real servers.
    EndToEnd,
}

impl Kind {
    /// Every layer, in the order they run.
    pub const ALL: [Kind; 7] = [
        Kind::Formatting,
        Kind::Lints,
        Kind::Native,
        Kind::Build,
        Kind::Browser,
        Kind::LiveGateway,
        Kind::EndToEnd,
    ];

    /// The layer's name in the summary.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Formatting => "formatting",
            Kind::Lints => "lints",
            Kind::Native => "native tests",
            Kind::Build => "build",
            Kind::Browser => "browser tests",
            Kind::LiveGateway => "live gateway test",
            Kind::EndToEnd => "end-to-end tests",
        }
    }

    /// How long the layer should take on a warm two-core machine: a layer
    /// over its budget is named in the summary as a warning, never a
    /// failure. Together they make the 15 minutes a warm run aims at.
    pub fn budget(self) -> Duration {
        Duration::from_secs(match self {
            Kind::Formatting => 5,
            Kind::Lints => 45,
            Kind::Native => 210,
            Kind::Build => 210,
            Kind::Browser => 60,
            Kind::LiveGateway => 20,
            Kind::EndToEnd => 350,
        })
    }
}

/// The warm run's aim: the sum of the layers' budgets.
pub fn run_budget() -> Duration {
    Kind::ALL.into_iter().map(Kind::budget).sum()
}

/// One layer of the test run: what it is, the fewest tests it must run, and
/// how it went.
#[derive(Debug, Clone)]
pub struct Layer {
    /// Which layer.
    pub kind: Kind,
    /// The fewest tests that must pass for the layer to count as run (0 for
    /// checks that are not tests, such as formatting): its inventory's
    /// length.
    pub minimum: u64,
    /// The names of the tests it must pass (`inventory`); `None` for checks
    /// that are not tests, and for every layer while the inventory is being
    /// written.
    pub inventory: Option<Vec<String>>,
    /// How it ended.
    pub status: Status,
    /// Its tests.
    pub tally: Tally,
    /// How long it took.
    pub elapsed: Duration,
}

impl Layer {
    fn new(kind: Kind, minimum: u64) -> Layer {
        Layer {
            kind,
            minimum,
            inventory: None,
            status: Status::NotRun,
            tally: Tally::default(),
            elapsed: Duration::ZERO,
        }
    }

    /// A layer of tests that must pass exactly the tests named in `names`.
    fn inventoried(kind: Kind, names: Vec<String>) -> Layer {
        let mut layer = Layer::new(kind, names.len() as u64);
        layer.inventory = Some(names);
        layer
    }

    /// Records a layer's outcome from its command's success, its counts and
    /// the names of the tests that passed, checked against its inventory.
    /// Unless a test failed (the runner names it), a difference from the
    /// inventory is the reason given, naming each test, even when the count
    /// alone already fails the layer.
    fn settle_named(&mut self, command_ok: bool, tally: Tally, passed: &[String]) {
        self.settle(command_ok, tally);
        let Some(expected) = &self.inventory else {
            return;
        };
        if tally.failed == 0 {
            if let Err(problem) = inventory::check(expected, passed) {
                self.status = Status::Failed(problem);
            }
        }
    }

    /// Records a layer's outcome from its command's success and its counts.
    fn settle(&mut self, command_ok: bool, tally: Tally) {
        self.tally = tally;
        self.status = if tally.failed > 0 {
            Status::Failed(format!("{} test(s) failed", tally.failed))
        } else if !command_ok {
            Status::Failed("the command failed without naming a failing test".to_owned())
        } else if tally.passed < self.minimum {
            Status::Failed(format!(
                "{} passed, fewer than the {} expected",
                tally.passed, self.minimum
            ))
        } else {
            Status::Passed
        };
    }

    /// Records a check that is not counted in tests.
    fn checked(&mut self, result: TaskResult) {
        self.status = match result {
            Ok(()) => Status::Passed,
            Err(message) => Status::Failed(message),
        };
    }

    /// The warning for a layer that ran longer than its budget.
    fn over_budget(&self) -> Option<String> {
        let budget = self.kind.budget();
        (self.status != Status::NotRun && self.elapsed > budget).then(|| {
            format!(
                "warning: {} took {:.1} s, over its budget of {} s",
                self.kind.name(),
                self.elapsed.as_secs_f64(),
                budget.as_secs()
            )
        })
    }

    /// The tests this layer adds to the closing line: a layer that failed
    /// without a failing test adds one failure of its own.
    fn contribution(&self) -> Tally {
        let mut tally = self.tally;
        if matches!(self.status, Status::Failed(_)) && tally.failed == 0 {
            tally.failed = 1;
        }
        tally
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = match &self.status {
            Status::Passed => "ran",
            Status::Failed(_) => "FAILED",
            Status::NotRun => "not run",
        };
        write!(formatter, "  {:<18} {:<8}", self.kind.name(), status)?;
        if self.status != Status::NotRun {
            write!(formatter, " {:>6.1} s", self.elapsed.as_secs_f64())?;
        }
        if self.minimum > 0 && self.status != Status::NotRun {
            write!(
                formatter,
                " {} passed, {} failed, {} skipped (inventory {})",
                self.tally.passed, self.tally.failed, self.tally.skipped, self.minimum
            )?;
        }
        if let Status::Failed(reason) = &self.status {
            write!(formatter, ": {reason}")?;
        }
        Ok(())
    }
}

/// The closing line over every layer, and whether the run is green.
pub fn verdict(layers: &[Layer]) -> (Tally, bool) {
    let mut total = Tally::default();
    for layer in layers {
        total += layer.contribution();
    }
    let green = total.failed == 0 && layers.iter().all(|layer| layer.status == Status::Passed);
    (total, green)
}

/// The layers of tests and their inventories' names.
const INVENTORIED: [(Kind, &str); 4] = [
    (Kind::Native, "native"),
    (Kind::Browser, "browser"),
    (Kind::LiveGateway, "live-gateway"),
    (Kind::EndToEnd, "end-to-end"),
];

/// What `cargo xtask test` was asked to do.
#[derive(Debug, Default, PartialEq, Eq)]
struct Request {
    /// Write each passing layer's inventory instead of checking it.
    update: bool,
    /// Run this layer of tests alone (with the build it needs), by its
    /// inventory's name.
    only: Option<Kind>,
}

impl Request {
    fn parse(args: &[String]) -> Result<Request, String> {
        const USAGE: &str = "usage: cargo xtask test [--update-inventory] \
                             [--only native|browser|live-gateway|end-to-end]";
        let mut request = Request::default();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--update-inventory" => request.update = true,
                "--only" => {
                    let name = args.next().ok_or(USAGE)?;
                    let kind = INVENTORIED
                        .iter()
                        .find(|(_, inventory)| inventory == name)
                        .map(|(kind, _)| *kind)
                        .ok_or(USAGE)?;
                    request.only = Some(kind);
                }
                _ => return Err(USAGE.to_owned()),
            }
        }
        Ok(request)
    }

    /// The layers to run, in order.
    fn layers(&self) -> Vec<Kind> {
        match self.only {
            Some(kind @ (Kind::Native | Kind::Browser)) => vec![kind],
            Some(kind) => vec![Kind::Build, kind],
            None => Kind::ALL.to_vec(),
        }
    }
}

/// `cargo xtask test [--update-inventory] [--only LAYER]`: runs every layer
/// (or one layer of tests, with the build it needs) and prints the summary.
/// With `--update-inventory`, each layer of tests that passes has the names
/// of its tests written as its inventory instead of checked.
pub fn run(args: &[String]) -> TaskResult {
    let request = Request::parse(args)?;
    let update = request.update;
    setup::run()?;
    let started = Instant::now();
    let mut layers = Vec::new();
    for kind in request.layers() {
        let inventory = INVENTORIED
            .iter()
            .find(|(inventoried, _)| *inventoried == kind)
            .map(|(_, name)| *name);
        layers.push(match inventory {
            Some(name) if !update => Layer::inventoried(kind, inventory::load(name)?),
            _ => Layer::new(kind, 0),
        });
    }
    run_layers(&mut layers, update);
    println!();
    println!("==> summary");
    for layer in &layers {
        println!("{layer}");
    }
    println!();
    if request.only.is_none() {
        println!("{}", against_aim(started.elapsed()));
    }
    for warning in layers.iter().filter_map(Layer::over_budget) {
        println!("{warning}");
    }
    let (total, green) = verdict(&layers);
    println!();
    println!(
        "{} passed, {} failed, {} skipped",
        total.passed, total.failed, total.skipped
    );
    if green {
        Ok(())
    } else {
        Err("the tests did not all run and pass".to_owned())
    }
}

/// The whole run's time against its aim ([`run_budget`]).
pub fn against_aim(elapsed: Duration) -> String {
    format!(
        "took {:.1} min, against an aim of {} min on a warm machine",
        elapsed.as_secs_f64() / 60.0,
        run_budget().as_secs() / 60
    )
}

/// Runs the layers in order until one fails; the rest stay "not run".
/// With `update`, a layer of tests that passed has its inventory written.
fn run_layers(layers: &mut [Layer], update: bool) {
    let mut binaries = ServerBinaries::default();
    for layer in layers.iter_mut() {
        section(layer.kind.name());
        let started = Instant::now();
        let outcome = match layer.kind {
            Kind::Formatting => {
                layer.checked(formatting());
                None
            }
            Kind::Lints => {
                layer.checked(lints());
                None
            }
            Kind::Native => Some(native_tests()),
            Kind::Build => {
                layer.checked(dist::build().and_then(|()| {
                    binaries = dist::build_servers()?;
                    Ok(())
                }));
                None
            }
            Kind::Browser => Some(browser_tests()),
            Kind::LiveGateway => Some(live_gateway_test(&binaries)),
            Kind::EndToEnd => Some(end_to_end(&binaries)),
        };
        if let Some(outcome) = outcome {
            counted(layer, outcome, update);
        }
        layer.elapsed = started.elapsed();
        if layer.status != Status::Passed {
            return;
        }
    }
}

/// A counted layer's command: whether it exited 0, its tests and the names
/// of those that passed, or why it could not be run or read.
type Counted = Result<(bool, Tally, Vec<String>), String>;

fn counted(layer: &mut Layer, outcome: Counted, update: bool) {
    match outcome {
        Ok((ok, tally, passed)) => {
            layer.settle_named(ok, tally, &passed);
            if update && layer.status == Status::Passed {
                let name = INVENTORIED
                    .iter()
                    .find(|(kind, _)| *kind == layer.kind)
                    .map(|(_, name)| *name)
                    .expect("a layer of tests has an inventory");
                if let Err(message) = inventory::save(name, &passed) {
                    layer.checked(Err(message));
                }
            }
        }
        Err(message) => layer.checked(Err(message)),
    }
}

fn formatting() -> TaskResult {
    exec(command("cargo", &["fmt", "--all", "--check"]))
}

/// Clippy over the workspace natively, and over the widget for wasm32 with
/// and without the live-gateway test, so every test file is linted (the
/// live test is only checked here, so any gateway address will do).
fn lints() -> TaskResult {
    let deny = ["--", "-D", "warnings"];
    let native = ["clippy", "--workspace", "--all-targets"];
    exec(command("cargo", &[&native[..], &deny[..]].concat()))?;
    let wasm = [
        "clippy",
        "--package",
        "booking-widget",
        "--all-targets",
        "--target",
        "wasm32-unknown-unknown",
    ];
    exec(command("cargo", &[&wasm[..], &deny[..]].concat()))?;
    let mut live = command(
        "cargo",
        &[&wasm[..], &["--features", "live-gateway"], &deny[..]].concat(),
    );
    live.env("HBG_TEST_GATEWAY", "http://127.0.0.1:8080/api");
    exec(live)
}

/// The native crates' tests, with `BOOKING_SANDBOX_BIN` naming the
/// sandbox binary that the gateway's restart tests run as a process of its
/// own.
fn native_tests() -> Counted {
    let sandbox = build_test_sandbox()?;
    let mut native = command(
        "cargo",
        &[
            "test",
            "--workspace",
            "--exclude",
            "booking-widget",
            "--no-fail-fast",
        ],
    );
    native.env("BOOKING_SANDBOX_BIN", &sandbox);
    let (ok, output) = run_teed_merged(native)?;
    Ok((
        ok,
        parse_libtest(&output),
        inventory::passed_in_libtest(&output),
    ))
}

/// Builds `booking-sandbox` (the dev profile, as the native tests are
/// built) and returns the binary's path.
fn build_test_sandbox() -> Result<std::path::PathBuf, String> {
    exec(command(
        "cargo",
        &[
            "build",
            "--package",
            "booking-sandbox",
            "--bin",
            "booking-sandbox",
        ],
    ))?;
    Ok(target_dir().join("debug").join("booking-sandbox"))
}

/// The browser tests, run as the README tells testers to run them, one test
/// file at a time (`--test`): wasm-pack stops at the first file that fails,
/// so this way every file runs and each failing one is named.
fn browser_tests() -> Counted {
    let mut all_ok = true;
    let mut tally = Tally::default();
    let mut passed = Vec::new();
    let mut failed_files = Vec::new();
    for file in browser_test_files()? {
        let (ok, output) = run_teed_merged(command(
            "wasm-pack",
            &["test", "--headless", "--chrome", "--test", &file],
        ))?;
        let counts = parse_libtest(&output);
        if !ok && counts.failed == 0 {
            failed_files.push(file);
        }
        all_ok &= ok;
        tally += counts;
        passed.extend(inventory::passed_in_libtest(&output));
    }
    if !failed_files.is_empty() {
        return Err(format!(
            "browser test file(s) failed without naming a failing test: {}",
            failed_files.join(", ")
        ));
    }
    Ok((all_ok, tally, passed))
}

/// The widget's browser test files (`tests/*.rs`), but the live-gateway one,
/// which needs a gateway and runs as its own layer.
fn browser_test_files() -> Result<Vec<String>, String> {
    let dir = crate::root().join("tests");
    let entries = std::fs::read_dir(&dir).map_err(|error| format!("{}: {error}", dir.display()))?;
    let mut files: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            name.strip_suffix(".rs").map(str::to_owned)
        })
        .filter(|name| name != "live_gateway")
        .collect();
    files.sort();
    Ok(files)
}

/// The widget's real HTTP client against a sandbox and gateway started for
/// it, run as the README documents: the runner's page gets a fixed origin,
/// which the gateway allows.
fn live_gateway_test(binaries: &ServerBinaries) -> Counted {
    let runner_port = servers::free_port()?;
    let runner_origin = format!("http://127.0.0.1:{runner_port}");
    let stack = servers::start_test_stack(binaries, &["--allowed-origins", &runner_origin])?;
    let mut live = command(
        "wasm-pack",
        &[
            "test",
            "--headless",
            "--chrome",
            "--features",
            "live-gateway",
            "--test",
            "live_gateway",
        ],
    );
    live.env("HBG_TEST_GATEWAY", format!("{}/api", stack.gateway.url()))
        .env(
            "WASM_BINDGEN_TEST_ADDRESS",
            format!("127.0.0.1:{runner_port}"),
        );
    let (ok, output) = run_teed_merged(live)?;
    Ok((
        ok,
        parse_libtest(&output),
        inventory::passed_in_libtest(&output),
    ))
}

fn end_to_end(binaries: &ServerBinaries) -> Counted {
    let report = target_dir().join("e2e/results.json");
    let _ = std::fs::remove_file(&report);
    let mut playwright = command(
        "npx",
        &["playwright", "test", "--config", "e2e/playwright.config.ts"],
    );
    playwright
        .env("BOOKING_GATEWAY_BIN", &binaries.gateway)
        .env("BOOKING_SANDBOX_BIN", &binaries.sandbox)
        .env("BOOKING_DIST", dist::dist_dir())
        .env("PLAYWRIGHT_JSON_OUTPUT_NAME", &report)
        .env("CHROMIUM_PATH", setup::CHROMIUM);
    let ok = exec(playwright).is_ok();
    let text = std::fs::read_to_string(&report)
        .map_err(|error| format!("reading {}: {error}", report.display()))?;
    Ok((
        ok,
        parse_playwright(&text)?,
        inventory::passed_in_playwright(&text)?,
    ))
}

fn section(title: &str) {
    println!();
    println!("==> {title}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libtest_lines_add_up_with_ignored_as_skipped() {
        let output = "\
running 3 tests
test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s
test result: FAILED. 5 passed; 2 failed; 1 ignored; 0 measured; 0 filtered out; finished in 1.2s
";
        assert_eq!(
            parse_libtest(output),
            Tally {
                passed: 8,
                failed: 2,
                skipped: 1
            }
        );
    }

    #[test]
    fn playwright_counts_flaky_as_failed_and_refuses_load_errors() {
        let report = r#"{"stats":{"expected":4,"unexpected":1,"flaky":2,"skipped":3},"errors":[]}"#;
        assert_eq!(
            parse_playwright(report).unwrap(),
            Tally {
                passed: 4,
                failed: 3,
                skipped: 3
            }
        );
        assert!(parse_playwright("{}").is_err());
        let unloadable = r#"{"stats":{"expected":4},"errors":[{"message":"SyntaxError"}]}"#;
        assert!(parse_playwright(unloadable)
            .unwrap_err()
            .contains("SyntaxError"));
    }

    fn passed(kind: Kind, minimum: u64, passed: u64) -> Layer {
        let mut layer = Layer::new(kind, minimum);
        layer.settle(
            true,
            Tally {
                passed,
                ..Tally::default()
            },
        );
        layer
    }

    #[test]
    fn every_layer_ran_and_passed_is_green() {
        let layers = [passed(Kind::Formatting, 0, 0), passed(Kind::Native, 2, 3)];
        let (total, green) = verdict(&layers);
        assert!(green);
        assert_eq!(total.passed, 3);
        assert_eq!(total.failed, 0);
    }

    #[test]
    fn a_crashed_binary_counts_as_a_failure() {
        let mut crashed = Layer::new(Kind::Browser, 1);
        crashed.settle(
            false,
            Tally {
                passed: 5,
                ..Tally::default()
            },
        );
        let (total, green) = verdict(&[passed(Kind::Native, 1, 3), crashed]);
        assert!(!green);
        assert_eq!(total.failed, 1);
        assert_eq!(total.passed, 8);
    }

    #[test]
    fn a_layer_below_its_minimum_fails() {
        let shrunk = passed(Kind::EndToEnd, 70, 12);
        assert!(matches!(shrunk.status, Status::Failed(_)));
        let (total, green) = verdict(&[shrunk]);
        assert!(!green);
        assert_eq!(total.failed, 1);
    }

    #[test]
    fn failing_tests_are_counted_once_and_later_layers_are_not_run() {
        let mut failing = Layer::new(Kind::Native, 1);
        failing.settle(
            false,
            Tally {
                passed: 3,
                failed: 2,
                skipped: 1,
            },
        );
        let not_run = Layer::new(Kind::Browser, 1);
        let (total, green) = verdict(&[failing, not_run.clone()]);
        assert!(!green);
        assert_eq!(
            total,
            Tally {
                passed: 3,
                failed: 2,
                skipped: 1
            }
        );
        assert_eq!(not_run.to_string().trim(), "browser tests      not run");
    }

    #[test]
    fn a_layer_over_its_budget_is_warned_of_but_stays_green() {
        let mut slow = passed(Kind::Native, 1, 3);
        slow.elapsed = Kind::Native.budget() + Duration::from_secs(1);
        let quick = passed(Kind::Formatting, 0, 0);
        assert_eq!(quick.over_budget(), None);
        assert_eq!(
            slow.over_budget().unwrap(),
            "warning: native tests took 211.0 s, over its budget of 210 s"
        );
        assert_eq!(
            against_aim(Duration::from_secs(600)),
            "took 10.0 min, against an aim of 15 min on a warm machine"
        );
        assert!(verdict(&[slow]).1);
    }

    #[test]
    fn a_layer_that_did_not_run_is_not_warned_of() {
        let mut not_run = Layer::new(Kind::EndToEnd, 1);
        not_run.elapsed = Duration::from_secs(1_000);
        assert_eq!(not_run.over_budget(), None);
    }

    #[test]
    fn one_layer_runs_alone_with_the_build_it_needs() {
        let args = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        let only = |name: &str| Request::parse(&args(&["--only", name])).unwrap().layers();
        assert_eq!(only("native"), [Kind::Native]);
        assert_eq!(only("browser"), [Kind::Browser]);
        assert_eq!(only("end-to-end"), [Kind::Build, Kind::EndToEnd]);
        assert_eq!(Request::parse(&[]).unwrap().layers().len(), 7);
        assert!(Request::parse(&args(&["--only", "lints"])).is_err());
        assert!(Request::parse(&args(&["--only"])).is_err());
    }

    #[test]
    fn a_test_gone_from_the_run_is_named_though_the_count_fails_too() {
        let names = |list: &[&str]| list.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let mut layer = Layer::inventoried(Kind::Native, names(&["a::kept", "a::ignored"]));
        let tally = Tally {
            passed: 1,
            failed: 0,
            skipped: 1,
        };
        layer.settle_named(true, tally, &names(&["a::kept"]));
        match &layer.status {
            Status::Failed(reason) => assert!(reason.ends_with(": a::ignored"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_failed_check_is_a_failure() {
        let mut lints = Layer::new(Kind::Lints, 0);
        lints.checked(Err("clippy found warnings".to_owned()));
        let (total, green) = verdict(&[lints]);
        assert!(!green);
        assert_eq!(total.failed, 1);
    }
}
