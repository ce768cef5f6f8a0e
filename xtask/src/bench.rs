//! `cargo xtask bench`: measured reports against the budgets.
//!
//! * The widget's transfer size (wasm + JS + CSS, brotli) against 80 KB.
//! * The hold storm (`server/examples/hold_storm.rs`): 500 concurrent
//!   hold-and-book attempts on a 12-seat event, through a gateway and
//!   straight at a sandbox, both release builds started here on free ports.
//!   It fails the bench unless exactly 12 bookings are made. Its latencies
//!   come from this one machine, whose cores the client and both servers
//!   share.

use std::path::{Path, PathBuf};

use crate::dist::target_dir;
use crate::process::{command, exec};
use crate::{compress, dist, servers};
use crate::{setup, TaskResult};

/// The widget's transfer budget: wasm + JS + CSS, brotli.
pub const WIDGET_BUDGET_BYTES: usize = 80 * 1024;

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

/// Runs every report.
pub fn run() -> TaskResult {
    setup::run()?;
    dist::build()?;
    widget_size()?;
    hold_storm()
}

/// Starts a sandbox (test mode, in memory, rate limit out of the way) and
/// a gateway in front of it, then runs the storm against both.
fn hold_storm() -> TaskResult {
    let server = dist::build_server()?;
    let storm = build_hold_storm()?;
    let stack = servers::start_test_stack(&server, &[])?;
    exec(command(
        storm.to_str().expect("target path is UTF-8"),
        &[
            "--sandbox",
            stack.sandbox.url(),
            "--gateway",
            stack.gateway.url(),
        ],
    ))
    .map_err(|error| format!("the hold storm failed: {error}"))
}

/// Builds the hold storm client with the `server` profile.
fn build_hold_storm() -> Result<PathBuf, String> {
    println!("bench: building the hold storm client");
    exec(command(
        "cargo",
        &[
            "build",
            "--profile",
            "server",
            "--package",
            "booking-server",
            "--example",
            "hold_storm",
        ],
    ))?;
    Ok(target_dir().join("server/examples/hold_storm"))
}

fn widget_size() -> TaskResult {
    let files = dist::files()?;
    let wasm = TransferSize::of(&files.wasm)?;
    let js = TransferSize::of(&files.glue)?.add(TransferSize::of(&files.loader)?);
    let css = TransferSize::of(&files.css)?;
    let total = wasm.add(js).add(css);
    println!();
    println!("Widget transfer size (bytes)");
    println!("| file  |      raw |     gzip |   brotli |");
    println!("| ----- | -------: | -------: | -------: |");
    for (name, size) in [("wasm", wasm), ("js", js), ("css", css), ("total", total)] {
        println!(
            "| {name:<5} | {:>8} | {:>8} | {:>8} |",
            size.raw, size.gzip, size.brotli
        );
    }
    let verdict = if total.brotli <= WIDGET_BUDGET_BYTES {
        "within"
    } else {
        "OVER"
    };
    println!(
        "brotli total {:.1} KB of the {} KB budget: {verdict}",
        total.brotli as f64 / 1024.0,
        WIDGET_BUDGET_BYTES / 1024
    );
    Ok(())
}
