//! The suite's inventory: every test each layer must pass, by name,
//! committed in `xtask/inventory/<layer>.txt`.
//!
//! A layer's run is read for the names of the tests that passed, and those
//! are checked against its inventory: a test deleted, renamed, ignored,
//! skipped or failed is missing and fails the run by name, and so does a
//! test the inventory does not list. `cargo xtask test --update-inventory`
//! writes the names a green layer passed into its inventory instead, for
//! review in the commit that adds or renames tests.
//!
//! Names: `binary::path::to::test` for libtest and wasm-bindgen-test (the
//! binary is the test target, `[bin]` added for a binary's own tests), and
//! `file › describe › title` for Playwright.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::root;

/// Where a layer's inventory is kept.
fn path(layer: &str) -> PathBuf {
    root().join("xtask/inventory").join(format!("{layer}.txt"))
}

/// The names in `layer`'s inventory, one per line (blank lines and `#`
/// comments skipped).
pub fn load(layer: &str) -> Result<Vec<String>, String> {
    let path = path(layer);
    let text = std::fs::read_to_string(&path).map_err(|error| {
        format!(
            "reading {}: {error} (write it with `cargo xtask test --update-inventory`)",
            path.display()
        )
    })?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect())
}

/// Writes `names`, sorted, as `layer`'s inventory.
pub fn save(layer: &str, names: &[String]) -> Result<(), String> {
    let path = path(layer);
    let mut sorted = names.to_vec();
    sorted.sort();
    let mut text = format!(
        "# Every {layer} test that must pass, by name: `cargo xtask test` fails on any test\n\
         # missing from its run or not listed here. Written by `cargo xtask test --update-inventory`.\n"
    );
    for name in sorted {
        text.push_str(&name);
        text.push('\n');
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|error| format!("{}: {error}", dir.display()))?;
    }
    std::fs::write(&path, text).map_err(|error| format!("{}: {error}", path.display()))
}

/// Compares the tests that passed with the inventory: `Err` names each test
/// the inventory lists that did not pass, and each that passed unlisted.
pub fn check(expected: &[String], passed: &[String]) -> Result<(), String> {
    let expected: BTreeSet<&str> = expected.iter().map(String::as_str).collect();
    let passed: BTreeSet<&str> = passed.iter().map(String::as_str).collect();
    let missing: Vec<&str> = expected.difference(&passed).copied().collect();
    let unlisted: Vec<&str> = passed.difference(&expected).copied().collect();
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!(
            "{} listed test(s) did not pass (deleted, renamed, ignored, skipped or failed): {}",
            missing.len(),
            missing.join(", ")
        ));
    }
    if !unlisted.is_empty() {
        problems.push(format!(
            "{} test(s) passed that the inventory does not list (add them with \
             `cargo xtask test --update-inventory`): {}",
            unlisted.len(),
            unlisted.join(", ")
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// The names of the tests that passed in libtest or wasm-bindgen-test output
/// with cargo's own lines in it (`Running tests/x.rs (…/deps/x-hash)` names
/// the binary whose `test NAME ... ok` lines follow).
pub fn passed_in_libtest(output: &str) -> Vec<String> {
    let mut binary = String::new();
    let mut passed = Vec::new();
    for line in output.lines() {
        let line = line.trim();
        if let Some(running) = line.strip_prefix("Running ") {
            // cargo's line names a test target and its artifact in
            // parentheses; wasm-bindgen-test-runner's own "Running headless
            // tests in Chrome on `…`" names none, and keeps the target.
            if let Some(name) = binary_name(running) {
                binary = name;
            }
        } else if let Some(krate) = line.strip_prefix("Doc-tests ") {
            binary = format!("{krate}[doc]");
        } else if let Some(rest) = line.strip_prefix("test ") {
            if let Some(name) = rest.strip_suffix(" ... ok") {
                passed.push(format!("{binary}::{}", without_line(name)));
            }
        }
    }
    passed
}

/// A doc test's name without its ` (line N)`, which moves with every edit
/// above it.
fn without_line(name: &str) -> &str {
    match name.rsplit_once(" (line ") {
        Some((item, line))
            if line
                .trim_end_matches(')')
                .chars()
                .all(|c| c.is_ascii_digit()) =>
        {
            item
        }
        _ => name,
    }
}

/// `tests/x.rs (target/debug/deps/x-0123abcd)` → `x`; a binary's own
/// tests (`unittests src/main.rs (…)`) get `[bin]` added. `None` for a line
/// that names no artifact.
fn binary_name(running: &str) -> Option<String> {
    let (source, artifact) = running.split_once(" (")?;
    let file = artifact
        .trim_end_matches(')')
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default();
    let file = file.strip_suffix(".wasm").unwrap_or(file);
    let stem = match file.rsplit_once('-') {
        Some((stem, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => stem,
        _ => file,
    };
    Some(if source.ends_with("src/main.rs") {
        format!("{stem}[bin]")
    } else {
        stem.to_owned()
    })
}

/// The names of the tests that passed in a Playwright JSON report: each
/// spec whose test ended as expected (not skipped, failed or flaky).
pub fn passed_in_playwright(report: &str) -> Result<Vec<String>, String> {
    let json: serde_json::Value =
        serde_json::from_str(report).map_err(|error| format!("Playwright report: {error}"))?;
    let mut passed = Vec::new();
    for suite in json["suites"].as_array().into_iter().flatten() {
        walk_suite(suite, &[], &mut passed);
    }
    Ok(passed)
}

fn walk_suite(suite: &serde_json::Value, titles: &[String], passed: &mut Vec<String>) {
    let mut titles = titles.to_vec();
    if let Some(title) = suite["title"].as_str().filter(|title| !title.is_empty()) {
        titles.push(title.to_owned());
    }
    for spec in suite["specs"].as_array().into_iter().flatten() {
        let ok = spec["tests"].as_array().is_some_and(|tests| {
            !tests.is_empty() && tests.iter().all(|test| test["status"] == "expected")
        });
        if ok {
            let mut name = titles.clone();
            name.push(spec["title"].as_str().unwrap_or_default().to_owned());
            passed.push(name.join(" › "));
        }
    }
    for child in suite["suites"].as_array().into_iter().flatten() {
        walk_suite(child, &titles, passed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libtest_names_carry_their_binary_and_only_passes_count() {
        let output = "\
     Running unittests src/lib.rs (/t/debug/deps/booking_core-0a1b2c3d4e5f6789)
running 2 tests
test calendar::tests::weeks ... ok
test api::tests::money ... ignored
     Running unittests src/main.rs (/t/debug/deps/booking_gateway-0a1b2c3d4e5f6789)
test tests::flags ... ok
     Running tests/decoding.rs (/t/debug/deps/decoding-00ff00ff00ff00ff)
test reads_a_page ... ok
test fails_here ... FAILED
   Doc-tests booking_core
test core/src/api.rs - api::Money (line 42) ... ok
";
        assert_eq!(
            passed_in_libtest(output),
            [
                "booking_core::calendar::tests::weeks",
                "booking_gateway[bin]::tests::flags",
                "decoding::reads_a_page",
                "booking_core[doc]::core/src/api.rs - api::Money",
            ]
        );
    }

    #[test]
    fn wasm_test_binaries_are_named_without_their_hash_and_extension() {
        let output = "Running tests/holding.rs (/t/wasm32-unknown-unknown/debug/deps/holding-8f3a9c2d1e0b4a5f.wasm)\nRunning headless tests in Chrome on `http://127.0.0.1:36007/`\ntest countdown_shows ... ok\n";
        assert_eq!(passed_in_libtest(output), ["holding::countdown_shows"]);
    }

    #[test]
    fn playwright_names_join_file_describe_and_title_and_drop_flaky_and_skipped() {
        let report = r#"{"suites":[{"title":"hold.spec.ts","specs":[
            {"title":"holds a seat","tests":[{"status":"expected"}]},
            {"title":"flaky one","tests":[{"status":"flaky"}]},
            {"title":"skipped one","tests":[{"status":"skipped"}]}],
            "suites":[{"title":"countdown","specs":[{"title":"ticks","tests":[{"status":"expected"}]}]}]}]}"#;
        assert_eq!(
            passed_in_playwright(report).unwrap(),
            [
                "hold.spec.ts › holds a seat",
                "hold.spec.ts › countdown › ticks"
            ]
        );
    }

    #[test]
    fn a_test_missing_or_unlisted_is_named() {
        let expected = vec!["a::one".to_owned(), "a::two".to_owned()];
        assert!(check(&expected, &expected).is_ok());
        let renamed = vec!["a::one".to_owned(), "a::deux".to_owned()];
        let problem = check(&expected, &renamed).unwrap_err();
        assert!(problem.contains("did not pass") && problem.contains("a::two"));
        assert!(problem.contains("does not list") && problem.contains("a::deux"));
        let shrunk = vec!["a::one".to_owned()];
        assert!(check(&expected, &shrunk).unwrap_err().contains("a::two"));
    }
}
