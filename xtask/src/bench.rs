//! `cargo xtask bench`: measured reports against the budgets.

use std::path::Path;

use crate::{compress, dist};
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
    widget_size()
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
