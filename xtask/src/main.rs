//! `cargo xtask`: the project's chores in one place.
//!
//! * `setup`: installs the pinned tools that are missing (idempotent, seconds when warm).
//! * `demo [--fresh]`: builds the widget and starts the sandbox and the
//!   gateway, printing their URLs.
//! * `test [--update-inventory]`: formatting, lints, native, browser and
//!   end-to-end tests, each layer's passing tests checked against its
//!   inventory (`xtask/inventory/`), with one summary line; the flag writes
//!   the inventories from a green run instead.
//! * `bench`: size and speed reports against the budgets (`bench --browser`:
//!   the widget's size and its Chromium benchmarks only); `bench --size`
//!   writes where the module's bytes go (`docs/size.md`), `bench --levers`
//!   what each size lever saves (`docs/size-levers.md`).
//! * `dist`: builds the widget's release files into `dist/`.

mod bench;
mod compress;
mod demo;
mod dist;
#[cfg(test)]
mod imports;
mod inventory;
mod process;
mod servers;
mod setup;
mod size;
mod test;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The result every task returns: a message for people on failure.
pub type TaskResult = Result<(), String>;

const USAGE: &str =
    "usage: cargo xtask <setup|demo [--fresh]|test [--update-inventory]|bench [--browser|--size|--levers [NAME...]]|dist>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup::everything(),
        Some("demo") => demo::run(&args[1..]),
        Some("test") => test::run(&args[1..]),
        Some("bench") => match args.get(1).map(String::as_str) {
            None => bench::run(false),
            Some("--browser") => bench::run(true),
            Some("--size") => setup::run()
                .and_then(|()| setup::size_tools())
                .and_then(|()| size::attribution()),
            Some("--levers") => setup::run().and_then(|()| size::levers_report(&args[2..])),
            Some(_) => Err(USAGE.to_owned()),
        },
        Some("dist") => setup::run().and_then(|()| dist::build()),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The repository's root directory.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the root")
        .to_path_buf()
}
