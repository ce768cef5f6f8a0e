//! `cargo xtask setup`: installs what is missing, at the pinned versions.
//!
//! Each tool is checked with `--version` first, so a warm machine skips every
//! install and the whole set-up takes about a second.

use std::path::Path;
use std::time::Instant;

use crate::process::{command, exec, version_of};
use crate::{root, TaskResult};

/// Trunk's pinned version (0.22 needs a newer rustc than these machines have).
const TRUNK_VERSION: &str = "0.21.14";
/// wasm-pack's pinned version.
const WASM_PACK_VERSION: &str = "0.15.1";
/// twiggy's pinned version (`cargo xtask bench --size`).
const TWIGGY_VERSION: &str = "0.8.0";
/// The wasm-opt release Trunk must use (`npm` package `binaryen`).
pub const WASM_OPT_VERSION: &str = "132";
/// Debian's Chromium, used by wasm-pack (through ChromeDriver) and Playwright.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// `cargo xtask setup`: installs every missing tool, the size report's
/// included.
pub fn everything() -> TaskResult {
    run()?;
    size_tools()
}

/// Installs the size report's tools (`cargo xtask bench --size`), which
/// the tests and the demo do not need.
pub fn size_tools() -> TaskResult {
    cargo_tool("twiggy", "twiggy", TWIGGY_VERSION, true, "about 2 minutes")
}

/// Installs every missing tool the tests, the demo and the benches need.
pub fn run() -> TaskResult {
    let started = Instant::now();
    wasm_target()?;
    let bindgen = wasm_bindgen_version()?;
    cargo_tool(
        "wasm-bindgen",
        "wasm-bindgen-cli",
        &bindgen,
        false,
        "about 2 minutes",
    )?;
    cargo_tool(
        "wasm-pack",
        "wasm-pack",
        WASM_PACK_VERSION,
        true,
        "about 2 minutes",
    )?;
    cargo_tool("trunk", "trunk", TRUNK_VERSION, true, "about 9 minutes")?;
    debian_packages()?;
    npm_packages()?;
    println!("setup: ready in {:.1}s", started.elapsed().as_secs_f64());
    Ok(())
}

fn wasm_target() -> TaskResult {
    let installed = command("rustup", &["target", "list", "--installed"])
        .output()
        .is_ok_and(|output| {
            String::from_utf8_lossy(&output.stdout).contains("wasm32-unknown-unknown")
        });
    if installed {
        return Ok(());
    }
    println!("setup: adding the wasm32-unknown-unknown target (seconds)");
    exec(command(
        "rustup",
        &["target", "add", "wasm32-unknown-unknown"],
    ))
}

/// The `wasm-bindgen` version in Cargo.lock: the CLI must match it exactly.
pub fn wasm_bindgen_version() -> Result<String, String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|error| format!("reading Cargo.lock: {error}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            if let Some(version) = lines
                .next()
                .and_then(|line| line.strip_prefix("version = \""))
                .and_then(|rest| rest.strip_suffix('"'))
            {
                return Ok(version.to_owned());
            }
        }
    }
    Err("Cargo.lock has no wasm-bindgen entry".to_owned())
}

fn cargo_tool(
    binary: &str,
    package: &str,
    version: &str,
    locked: bool,
    estimate: &str,
) -> TaskResult {
    let present = version_of(binary, &["--version"]);
    if present
        .as_deref()
        .is_some_and(|line| line.split_whitespace().any(|word| word == version))
    {
        return Ok(());
    }
    println!(
        "setup: installing {package} {version} with cargo install ({estimate} on 2 cores; found {})",
        present.as_deref().unwrap_or("none")
    );
    let mut args = vec!["install", package, "--version", version, "--force"];
    if locked {
        args.push("--locked");
    }
    exec(command("cargo", &args))
}

/// Debian's packages: Chromium and ChromeDriver (browser and end-to-end
/// tests), `redis-server` (the store the gateway instances share in the
/// tests of several instances) and nginx (the load balancer in front of
/// them in the end-to-end test of `deploy/nginx.conf`).
fn debian_packages() -> TaskResult {
    let wanted = [
        ("chromium", CHROMIUM, "--version"),
        ("chromium-driver", "chromedriver", "--version"),
        ("redis-server", "redis-server", "--version"),
        ("nginx", "/usr/sbin/nginx", "-v"),
    ];
    let missing: Vec<&str> = wanted
        .iter()
        .filter(|(_, binary, flag)| version_of(binary, &[flag]).is_none())
        .map(|(package, _, _)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    println!(
        "setup: installing {} from Debian's packages (about 30 seconds)",
        missing.join(", ")
    );
    let as_root = version_of("id", &["-u"]).as_deref() == Some("0");
    let (program, prefix): (&str, &[&str]) = if as_root {
        ("apt-get", &[])
    } else {
        ("sudo", &["apt-get"])
    };
    let with = |args: &[&str]| {
        let mut all = prefix.to_vec();
        all.extend_from_slice(args);
        let mut apt = command(program, &all);
        apt.env("DEBIAN_FRONTEND", "noninteractive");
        apt
    };
    exec(with(&["update", "-q"]))?;
    let mut install = vec!["install", "-y", "-q", "--no-install-recommends"];
    install.extend_from_slice(&missing);
    exec(with(&install))
}

/// Installs the npm packages (binaryen's wasm-opt, Playwright, axe-core)
/// when `package-lock.json` changed since the last install.
fn npm_packages() -> TaskResult {
    let lock = root().join("package-lock.json");
    let stamp = root().join("node_modules/.xtask-lock");
    let wanted =
        std::fs::read(&lock).map_err(|error| format!("reading package-lock.json: {error}"))?;
    let wasm_opt_ok = version_of("wasm-opt", &["--version"])
        .is_some_and(|line| line.contains(&format!("version {WASM_OPT_VERSION}")));
    if wasm_opt_ok && std::fs::read(&stamp).ok().as_deref() == Some(wanted.as_slice()) {
        return Ok(());
    }
    println!("setup: installing npm packages: binaryen {WASM_OPT_VERSION}, esbuild, Playwright, axe-core (about 20 seconds)");
    exec(command("npm", &["ci", "--no-audit", "--no-fund"]))?;
    write_stamp(&stamp, &wanted)
}

fn write_stamp(stamp: &Path, contents: &[u8]) -> TaskResult {
    std::fs::write(stamp, contents).map_err(|error| format!("writing {}: {error}", stamp.display()))
}
