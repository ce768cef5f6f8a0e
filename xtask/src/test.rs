//! `cargo xtask test`: every check, in order, stopping at the first failing
//! layer, closing with one `N passed, N failed` line over all layers.

use std::ops::AddAssign;
use std::path::{Path, PathBuf};

use crate::dist::{self, target_dir};
use crate::process::{command, exec, run_teed};
use crate::{servers, setup, TaskResult};

/// Passed and failed test counts.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Tests that passed.
    pub passed: u64,
    /// Tests that failed.
    pub failed: u64,
}

impl AddAssign for Tally {
    fn add_assign(&mut self, other: Tally) {
        self.passed += other.passed;
        self.failed += other.failed;
    }
}

/// Sums the `test result: ... N passed; M failed` lines of libtest and
/// wasm-bindgen-test-runner output.
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
                        _ => {}
                    }
                }
            }
        }
    }
    tally
}

/// Reads the totals of Playwright's JSON report (`stats`): flaky tests
/// passed on retry and count as passed.
pub fn parse_playwright(report: &str) -> Result<Tally, String> {
    let json: serde_json::Value =
        serde_json::from_str(report).map_err(|error| format!("Playwright report: {error}"))?;
    let stats = &json["stats"];
    let count = |key: &str| stats[key].as_u64().unwrap_or(0);
    if stats.is_null() {
        return Err("Playwright report has no stats".to_owned());
    }
    Ok(Tally {
        passed: count("expected") + count("flaky"),
        failed: count("unexpected"),
    })
}

/// `cargo xtask test`: runs every layer and prints the summary.
pub fn run() -> TaskResult {
    setup::run()?;
    let mut total = Tally::default();
    let result = layers(&mut total);
    println!();
    println!("{} passed, {} failed", total.passed, total.failed);
    match result {
        Ok(()) if total.failed == 0 => Ok(()),
        Ok(()) => Err(format!("{} tests failed", total.failed)),
        Err(message) => Err(message),
    }
}

fn layers(total: &mut Tally) -> TaskResult {
    section("formatting: cargo fmt --check");
    exec(command("cargo", &["fmt", "--all", "--check"]))?;

    section("lints: cargo clippy (native and wasm32)");
    exec(command(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    ))?;
    exec(command(
        "cargo",
        &[
            "clippy",
            "--package",
            "booking-widget",
            "--all-targets",
            "--target",
            "wasm32-unknown-unknown",
            "--",
            "-D",
            "warnings",
        ],
    ))?;

    section("native tests: cargo test --workspace");
    let native = command(
        "cargo",
        &[
            "test",
            "--workspace",
            "--exclude",
            "booking-widget",
            "--no-fail-fast",
        ],
    );
    counted("native tests", native, parse_libtest, total)?;

    section("building the widget and the servers");
    dist::build()?;
    let server = dist::build_server()?;

    section("browser tests: wasm-pack test --headless --chrome");
    browser_tests(&server, total)?;

    section("end-to-end tests: Playwright in Chromium");
    end_to_end(server, total)
}

fn counted(
    layer: &str,
    command: std::process::Command,
    parse: fn(&str) -> Tally,
    total: &mut Tally,
) -> TaskResult {
    let (ok, output) = run_teed(command)?;
    let tally = parse(&output);
    *total += tally;
    if !ok || tally.failed > 0 {
        return Err(format!("{layer} failed"));
    }
    if tally.passed == 0 {
        return Err(format!("{layer} ran no tests"));
    }
    Ok(())
}

/// How long the browser tests of one file may take in all. The runner's
/// default (20 s) is about what the widget's tests need on a quiet machine.
const BROWSER_TEST_TIMEOUT_SECONDS: &str = "180";

/// The browser tests, with a sandbox and gateway running so that the test
/// of the real HTTP client has something to talk to: the test runner's page
/// gets a fixed origin, which the gateway allows.
fn browser_tests(server: &Path, total: &mut Tally) -> TaskResult {
    let runner_port = servers::free_port()?;
    let runner_origin = format!("http://127.0.0.1:{runner_port}");
    let stack = servers::start_test_stack(server, &["--allowed-origins", &runner_origin])?;
    let mut browser = command("wasm-pack", &["test", "--headless", "--chrome"]);
    browser
        .env("HBG_TEST_GATEWAY", format!("{}/api", stack.gateway.url()))
        .env(
            "WASM_BINDGEN_TEST_ADDRESS",
            format!("127.0.0.1:{runner_port}"),
        )
        .env("WASM_BINDGEN_TEST_TIMEOUT", BROWSER_TEST_TIMEOUT_SECONDS);
    counted("browser tests", browser, parse_libtest, total)
}

fn end_to_end(server: PathBuf, total: &mut Tally) -> TaskResult {
    let report = target_dir().join("e2e/results.json");
    let _ = std::fs::remove_file(&report);
    let mut playwright = command(
        "npx",
        &["playwright", "test", "--config", "e2e/playwright.config.ts"],
    );
    playwright
        .env("BOOKING_SERVER_BIN", &server)
        .env("BOOKING_DIST", dist::dist_dir())
        .env("PLAYWRIGHT_JSON_OUTPUT_NAME", &report)
        .env("CHROMIUM_PATH", setup::CHROMIUM);
    let ran = exec(playwright);
    let tally = std::fs::read_to_string(&report)
        .map_err(|error| format!("reading {}: {error}", report.display()))
        .and_then(|text| parse_playwright(&text));
    match tally {
        Ok(tally) => {
            *total += tally;
            if tally.passed == 0 && tally.failed == 0 {
                return Err("end-to-end tests ran no tests".to_owned());
            }
            ran
        }
        Err(message) => ran.and(Err(message)),
    }
}

fn section(title: &str) {
    println!();
    println!("==> {title}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libtest_lines_add_up() {
        let output = "\
running 3 tests
test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s
test result: FAILED. 5 passed; 2 failed; 1 ignored; 0 measured; 0 filtered out; finished in 1.2s
";
        assert_eq!(
            parse_libtest(output),
            Tally {
                passed: 8,
                failed: 2
            }
        );
    }

    #[test]
    fn playwright_stats_count_flaky_as_passed() {
        let report = r#"{"stats":{"expected":4,"unexpected":1,"flaky":2,"skipped":3}}"#;
        assert_eq!(
            parse_playwright(report).unwrap(),
            Tally {
                passed: 6,
                failed: 1
            }
        );
        assert!(parse_playwright("{}").is_err());
    }
}
