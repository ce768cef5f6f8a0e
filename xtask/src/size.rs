//! Where the widget's WebAssembly bytes go, and what each size lever saves.
//!
//! * `cargo xtask bench --size` builds the module the way `cargo xtask dist`
//!   does (release profile, wasm-bindgen, wasm-opt with the flags in
//!   `index.html`), but keeps the function names (`wasm-opt -g`), and writes
//!   `docs/size.md`: the largest contributors by crate and by function,
//!   twiggy's dominator tree and monomorphisations, what formatting, panics
//!   and `Debug` keep, and a `twiggy diff` against the previous run's module
//!   (kept in `target/size/`).
//! * `cargo xtask bench --levers` builds the module once per lever, each one
//!   change away from the shipped build, and writes `docs/size-levers.md`:
//!   the bytes and brotli bytes each lever saves. Levers that change the
//!   source build a copy of the repository with one edit applied.
//!
//! Sizes are of the module with its names stripped, as shipped; brotli at
//! quality 11 (as the gateway serves it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::dist::target_dir;
use crate::process::{command, exec, version_of};
use crate::{compress, root, TaskResult};

/// The attribution report.
const ATTRIBUTION_DOC: &str = "docs/size.md";
/// The levers report.
const LEVERS_DOC: &str = "docs/size-levers.md";
/// Brotli differences this small come and go with any change to the
/// module (a byte moved changes the compressed stream).
const NOISE_BYTES: i64 = 100;
/// The shipped build's name in the levers table.
const SHIPPED: &str = "shipped build";
/// The toolchain for the `-Zbuild-std` levers (never needed by `cargo xtask test`).
const NIGHTLY: &str = "nightly";
/// A hand-written stand-in for a well-kept crate stays only if it saves more
/// than this against the crate (brotli bytes).
const STAND_IN_MARGIN_BYTES: usize = 5 * 1024;

/// The shipped module's sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ModuleSize {
    raw: usize,
    brotli: usize,
}

/// One change to the sources of a lever's copy of the repository.
struct Edit {
    /// The file, relative to the root.
    path: &'static str,
    /// Text that must occur once in the file…
    find: &'static str,
    /// …and what it becomes.
    replace: &'static str,
}

/// One way of building the module: the shipped build with one change.
#[derive(Default)]
struct Build {
    /// What the lever is, for the table.
    name: &'static str,
    /// `Some(flags)` replaces the wasm target's `rustflags` from `.cargo/config.toml`.
    rustflags: Option<&'static [&'static str]>,
    /// Extra arguments to `cargo build` (`--config`, `-Z`).
    cargo_args: &'static [&'static str],
    /// Builds with the nightly toolchain.
    nightly: bool,
    /// Source edits, applied to a copy of the repository.
    edits: &'static [Edit],
    /// Arguments added after the shipped wasm-opt arguments.
    wasm_opt_extra: &'static [&'static str],
    /// Which lever of the table this row compares against (default: the shipped build).
    against: Option<&'static str>,
    /// A bound to know, not a lever to adopt.
    bound: bool,
}

/// The wasm target's `rustflags` in `.cargo/config.toml` with the nightly-only panic strategy that drops panic messages.
const IMMEDIATE_ABORT: &[&str] = &[
    "--cfg",
    "erase_components",
    "-Zunstable-options",
    "-Cpanic=immediate-abort",
];
/// `IMMEDIATE_ABORT` with every `Debug` impl emptied (`-Zfmt-debug=none`).
const NO_DEBUG: &[&str] = &[
    "--cfg",
    "erase_components",
    "-Zunstable-options",
    "-Cpanic=immediate-abort",
    "-Zfmt-debug=none",
];
/// `IMMEDIATE_ABORT` without the file and line of panics (`-Zlocation-detail=none`).
const NO_LOCATIONS: &[&str] = &[
    "--cfg",
    "erase_components",
    "-Zunstable-options",
    "-Cpanic=immediate-abort",
    "-Zlocation-detail=none",
];
/// Every step but the first left out of the app, so the linker drops their
/// views: the least a split of the later steps' views could leave in the
/// first load (the flow, the client and the runtime stay).
const FIRST_STEP_ONLY: &[Edit] = &[Edit {
    path: "src/app.rs",
    find: "fn step_view(step: Step, product: Product) -> AnyView {\n",
    replace: "fn step_view(step: Step, product: Product) -> AnyView {\n    \
              if step != Step::ChooseCourse || product != Product::Practical {\n        \
              return ().into_any();\n    }\n",
}];
/// `-Zbuild-std`: the standard library rebuilt with the module's settings.
const BUILD_STD: &[&str] = &["-Zbuild-std=std,panic_abort"];

/// The crates whose opt-level is measured on its own.
const PER_CRATE: [(&str, &[&str]); 4] = [
    (
        "opt-level \"s\" for tachys only",
        &["--config", "profile.release.package.tachys.opt-level=\"s\""],
    ),
    (
        "opt-level \"s\" for reactive_graph only",
        &[
            "--config",
            "profile.release.package.reactive_graph.opt-level=\"s\"",
        ],
    ),
    (
        "opt-level \"s\" for booking-core only",
        &[
            "--config",
            "profile.release.package.booking-core.opt-level=\"s\"",
        ],
    ),
    (
        "opt-level \"s\" for booking-widget only",
        &[
            "--config",
            "profile.release.package.booking-widget.opt-level=\"s\"",
        ],
    ),
];

/// The JSON reader swapped for `serde_json` (every caller goes through
/// `booking_core::json::from_str`; the hand reader is then dead code).
const JSON_SERDE_JSON: &[Edit] = &[Edit {
    path: "core/src/json.rs",
    find: "pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {\n",
    replace: "pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {\n    \
              return serde_json::from_str(text).map_err(|_| JsonError);\n",
}];

/// The JSON reader swapped for the browser's `JSON.parse` and `serde-wasm-bindgen`.
const JSON_SERDE_WASM_BINDGEN: &[Edit] = &[
    Edit {
        path: "core/src/json.rs",
        find: "pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {\n",
        replace: "pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {\n    \
                  return js_sys::JSON::parse(text).ok().and_then(|value| \
                  serde_wasm_bindgen::from_value(value).ok()).ok_or(JsonError);\n",
    },
    Edit {
        path: "core/Cargo.toml",
        find: "\n[features]\n",
        replace: "js-sys = \"0.3\"\nserde-wasm-bindgen = \"=0.6.5\"\n\n[features]\n",
    },
];

/// Every lever, one run each.
fn levers() -> Vec<Build> {
    let mut builds = vec![
        Build {
            name: SHIPPED,
            ..Build::default()
        },
        Build {
            name: "erase_components off",
            rustflags: Some(&[]),
            ..Build::default()
        },
        Build {
            name: "opt-level \"s\" globally",
            cargo_args: &["--config", "profile.release.opt-level=\"s\""],
            ..Build::default()
        },
    ];
    builds.extend(PER_CRATE.iter().map(|(name, cargo_args)| Build {
        name,
        cargo_args,
        ..Build::default()
    }));
    builds.extend([
        Build {
            name: "wasm-opt --converge",
            wasm_opt_extra: &["--converge"],
            ..Build::default()
        },
        Build {
            name: "wasm-opt one more -Oz pass",
            wasm_opt_extra: &["-Oz"],
            ..Build::default()
        },
        Build {
            name: "JSON: serde_json instead of the hand reader",
            edits: JSON_SERDE_JSON,
            ..Build::default()
        },
        Build {
            name: "JSON: JSON.parse + serde-wasm-bindgen instead of the hand reader",
            edits: JSON_SERDE_WASM_BINDGEN,
            ..Build::default()
        },
        Build {
            name: "the first step's views alone (the best a split of the later steps could do)",
            edits: FIRST_STEP_ONLY,
            bound: true,
            ..Build::default()
        },
        Build {
            name: "nightly, -Zbuild-std, -Cpanic=immediate-abort",
            nightly: true,
            rustflags: Some(IMMEDIATE_ABORT),
            cargo_args: BUILD_STD,
            ..Build::default()
        },
        Build {
            name: "nightly as above, + -Zfmt-debug=none (Debug impls)",
            nightly: true,
            rustflags: Some(NO_DEBUG),
            cargo_args: BUILD_STD,
            against: Some("nightly, -Zbuild-std, -Cpanic=immediate-abort"),
            ..Build::default()
        },
        Build {
            name: "nightly as above, + -Zlocation-detail=none (panic locations)",
            nightly: true,
            rustflags: Some(NO_LOCATIONS),
            cargo_args: BUILD_STD,
            against: Some("nightly, -Zbuild-std, -Cpanic=immediate-abort"),
            ..Build::default()
        },
    ]);
    builds
}

/// `cargo xtask bench --size`: the attribution report.
pub fn attribution() -> TaskResult {
    let started = Instant::now();
    let out = target_dir().join("size");
    let shipped = Build {
        name: SHIPPED,
        ..Build::default()
    };
    let named = build_module(&shipped, &root(), &target_dir(), &out)?;
    let size = stripped_size(&named, &out)?;
    let mut report = String::new();
    report.push_str(&attribution_report(&named, size)?);
    let previous = out.join("previous.wasm");
    let previous_commit = std::fs::read_to_string(out.join("previous.commit")).ok();
    let commit = head_commit();
    report.push_str("\n## Against the previous build\n\n");
    if previous.is_file() {
        report.push_str(&format!(
            "`twiggy diff` from the module kept by the previous `cargo xtask bench --size` \
             (commit {}) to this one (commit {commit}), largest changes first:\n\n",
            previous_commit.as_deref().unwrap_or("unknown").trim()
        ));
        report.push_str(&fenced(&twiggy(&[
            "diff",
            "-n",
            "30",
            path_str(&previous)?,
            path_str(&named)?,
        ])?));
    } else {
        report.push_str("No previous build was kept: the next run diffs against this one.\n");
    }
    copy(&named, &previous)?;
    std::fs::write(out.join("previous.commit"), &commit)
        .map_err(|error| format!("writing the kept commit: {error}"))?;
    write_doc(ATTRIBUTION_DOC, &report)?;
    println!(
        "size: module {} bytes, {} brotli; wrote {ATTRIBUTION_DOC} in {:.0}s",
        size.raw,
        size.brotli,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `cargo xtask bench --levers [NAME...]`: one build per lever (given
/// names, parts of levers' names: only those levers and the shipped build),
/// each result kept in `target/levers/results/` as soon as it is measured,
/// then the table of every lever's last result in `docs/size-levers.md`.
pub fn levers_report(only: &[String]) -> TaskResult {
    let target = target_dir().join("levers");
    let out = target.join("modules");
    let builds = levers();
    let chosen: Vec<&Build> = builds
        .iter()
        .filter(|build| {
            only.is_empty()
                || build.name == SHIPPED
                || only.iter().any(|part| build.name.contains(part.as_str()))
        })
        .collect();
    let nightly = if chosen.iter().any(|build| build.nightly) {
        nightly_ready()
    } else {
        Ok(())
    };
    let commit = head_commit();
    for build in chosen {
        println!("levers: building \"{}\"", build.name);
        let started = Instant::now();
        let result = if build.nightly {
            nightly
                .clone()
                .and_then(|()| measure_build(build, &target, &out))
        } else {
            measure_build(build, &target, &out)
        };
        match &result {
            Ok(size) => println!(
                "levers: \"{}\": {} bytes, {} brotli ({:.0}s)",
                build.name,
                size.raw,
                size.brotli,
                started.elapsed().as_secs_f64()
            ),
            Err(error) => println!("levers: \"{}\" did not build: {error}", build.name),
        }
        store(
            &target,
            build,
            &Measured {
                result,
                commit: commit.clone(),
            },
        )?;
    }
    let results: Vec<(&Build, Option<Measured>)> = builds
        .iter()
        .map(|build| (build, load(&target, build)))
        .collect();
    let earlier = std::fs::read_to_string(root().join(LEVERS_DOC)).unwrap_or_default();
    let table = levers_table(&results, &earlier, &|commit| shipped_at(&target, commit));
    println!("{table}");
    let report = format!(
        "# What each size lever saves\n\n\
         Written by `cargo xtask bench --levers`; `cargo xtask bench --levers NAME` measures \
         again the levers whose names contain NAME, and the shipped build. Each row is the \
         shipped build with one change, measured at the commit it names (a row from an \
         earlier commit saves against that commit's shipped build); sizes are of the \
         optimised module without names (the glue, `widget.js` and the stylesheet do not \
         change). \"Saved\" is against the shipped build unless the row says otherwise; a \
         negative number is a cost.\n\n{table}"
    );
    write_doc(LEVERS_DOC, &report)
}

/// A lever's measurement and the commit it was measured at.
#[derive(Debug, Clone, PartialEq)]
struct Measured {
    result: Result<ModuleSize, String>,
    commit: String,
}

fn result_path(target: &Path, build: &Build) -> PathBuf {
    target
        .join("results")
        .join(format!("{}.txt", slug(build.name)))
}

/// Keeps a lever's result: `ok RAW BROTLI COMMIT` or `error COMMIT MESSAGE`.
fn store(target: &Path, build: &Build, measured: &Measured) -> TaskResult {
    let text = match &measured.result {
        Ok(size) => format!("ok {} {} {}", size.raw, size.brotli, measured.commit),
        Err(error) => format!("error {} {}", measured.commit, error.replace('\n', " ")),
    };
    let mut paths = vec![result_path(target, build)];
    if build.name == SHIPPED {
        paths.push(shipped_path(target, &measured.commit));
    }
    for path in paths {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|error| format!("creating {}: {error}", dir.display()))?;
        }
        std::fs::write(&path, &text)
            .map_err(|error| format!("writing {}: {error}", path.display()))?;
    }
    Ok(())
}

/// Where the shipped build's result at `commit` is kept, so that a lever
/// measured at that commit is compared with it in later reports.
fn shipped_path(target: &Path, commit: &str) -> PathBuf {
    target
        .join("results")
        .join(format!("shipped-at-{}.txt", slug(commit)))
}

/// The shipped build's size at `commit`, if it was measured there.
fn shipped_at(target: &Path, commit: &str) -> Option<ModuleSize> {
    let text = std::fs::read_to_string(shipped_path(target, commit)).ok()?;
    parse_result(&text)?.result.ok()
}

/// A lever's kept result, if it has one.
fn load(target: &Path, build: &Build) -> Option<Measured> {
    parse_result(&std::fs::read_to_string(result_path(target, build)).ok()?)
}

fn parse_result(text: &str) -> Option<Measured> {
    let mut words = text.trim().splitn(4, ' ');
    match words.next()? {
        "ok" => {
            let raw = words.next()?.parse().ok()?;
            let brotli = words.next()?.parse().ok()?;
            Some(Measured {
                result: Ok(ModuleSize { raw, brotli }),
                commit: words.next()?.to_owned(),
            })
        }
        "error" => {
            let commit = words.next()?.to_owned();
            let rest: Vec<&str> = words.collect();
            Some(Measured {
                result: Err(rest.join(" ")),
                commit,
            })
        }
        _ => None,
    }
}

/// Builds one lever from a fresh copy of the repository. The workspace's
/// own crates are cleaned first: cargo names their builds by their place in
/// the workspace, not by the folder, and would take another copy's build
/// for this one.
fn measure_build(build: &Build, target: &Path, out: &Path) -> Result<ModuleSize, String> {
    let source = copy_with_edits(build, &target.join("source"))?;
    let mut clean = cargo(build, &source, target);
    clean.args([
        "clean",
        "--release",
        "--target",
        "wasm32-unknown-unknown",
        "--package",
        "booking-core",
        "--package",
        "booking-widget",
    ]);
    exec(clean)?;
    let named = build_module(build, &source, target, out)?;
    stripped_size(&named, out)
}

/// The levers table: each lever's size and what it saves against the
/// shipped build measured at the same commit (`shipped_at` finds one from
/// an earlier run). A lever with no result kept here keeps its row from the
/// `earlier` report, measured at the commit that row names.
fn levers_table(
    results: &[(&Build, Option<Measured>)],
    earlier: &str,
    shipped_at: &dyn Fn(&str) -> Option<ModuleSize>,
) -> String {
    let size_of = |name: &str| {
        results
            .iter()
            .find(|(build, _)| build.name == name)
            .and_then(|(_, measured)| {
                let measured = measured.as_ref()?;
                let size = *measured.result.as_ref().ok()?;
                Some((size, measured.commit.as_str()))
            })
    };
    let shipped = size_of(SHIPPED);
    let mut table = String::from(
        "| lever | module bytes | brotli bytes | bytes saved | brotli bytes saved | verdict | commit |\n\
         | --- | ---: | ---: | ---: | ---: | --- | --- |\n",
    );
    for (build, measured) in results {
        let against = build
            .against
            .map(|name| format!(" (against \"{name}\")"))
            .unwrap_or_default();
        let Some(measured) = measured else {
            let name = format!("| {}{against} |", build.name);
            match earlier_row(earlier, &name) {
                Some(row) => table.push_str(&format!("{row}\n")),
                None => table.push_str(&format!("{name} not measured yet | | | | | |\n")),
            }
            continue;
        };
        let commit = &measured.commit;
        match &measured.result {
            Ok(size) => {
                let base = match build.against {
                    Some(name) => size_of(name),
                    None => shipped,
                };
                let base = match base {
                    Some((size, base_commit)) if base_commit == commit => Some(size),
                    _ if build.against.is_none() => shipped_at(commit),
                    _ => None,
                };
                let (saved, saved_brotli, verdict) = match base {
                    Some(base) if build.name != SHIPPED => {
                        let saved_brotli = base.brotli as i64 - size.brotli as i64;
                        (
                            signed(base.raw as i64 - size.raw as i64),
                            signed(saved_brotli),
                            verdict(build, saved_brotli),
                        )
                    }
                    _ if build.name == SHIPPED => ("-".to_owned(), "-".to_owned(), String::new()),
                    _ => (
                        "-".to_owned(),
                        "-".to_owned(),
                        "not compared: what it saves against is measured at another commit"
                            .to_owned(),
                    ),
                };
                table.push_str(&format!(
                    "| {}{against} | {} | {} | {saved} | {saved_brotli} | {verdict} | {commit} |\n",
                    build.name, size.raw, size.brotli
                ));
            }
            Err(error) => table.push_str(&format!(
                "| {}{against} | did not build: {} | | | | | {commit} |\n",
                build.name,
                error.replace('|', "/")
            )),
        }
    }
    table
}

/// The row of an earlier levers report that starts with `name`, if it was
/// measured.
fn earlier_row<'a>(earlier: &'a str, name: &str) -> Option<&'a str> {
    earlier.lines().find(|line| {
        line.strip_prefix(name)
            .is_some_and(|rest| !rest.trim_start().starts_with("not measured yet"))
    })
}

/// What a lever's saving means: for a crate put in place of a hand-written
/// stand-in, whether the stand-in earns its keep (more than 5 KB brotli).
fn verdict(build: &Build, saved_brotli: i64) -> String {
    if build.bound {
        return "a bound, not a lever: splitting the later steps' views off cannot take the first \
                load's module below this"
            .to_owned();
    }
    if build.edits.is_empty() {
        return if saved_brotli.abs() <= NOISE_BYTES {
            "no change beyond noise"
        } else if saved_brotli > 0 {
            "helps"
        } else {
            "does not help"
        }
        .to_owned();
    }
    let cost = -saved_brotli;
    if cost > STAND_IN_MARGIN_BYTES as i64 {
        format!("keep the hand-written code: the crate costs {cost} brotli bytes more")
    } else {
        format!("use the crate: it costs {cost} brotli bytes more, within 5 KB")
    }
}

fn signed(value: i64) -> String {
    if value > 0 {
        format!("+{value}")
    } else {
        value.to_string()
    }
}

/// Installs the nightly's `rust-src` and wasm32 target if they are missing
/// (seconds here); an error says why the nightly levers cannot run.
fn nightly_ready() -> TaskResult {
    let toolchain = format!("+{NIGHTLY}");
    if version_of("rustc", &[&toolchain, "--version"]).is_none() {
        return Err(format!(
            "no {NIGHTLY} toolchain (rustup toolchain install {NIGHTLY})"
        ));
    }
    exec(command(
        "rustup",
        &["component", "add", "rust-src", "--toolchain", NIGHTLY],
    ))?;
    exec(command(
        "rustup",
        &[
            "target",
            "add",
            "wasm32-unknown-unknown",
            "--toolchain",
            NIGHTLY,
        ],
    ))
}

/// `cargo` (the nightly for nightly levers) in `source`, building into `target`.
fn cargo(build: &Build, source: &Path, target: &Path) -> Command {
    let mut cargo = Command::new("cargo");
    if build.nightly {
        cargo.arg(format!("+{NIGHTLY}"));
        cargo.env_remove("RUSTUP_TOOLCHAIN").env_remove("RUSTC");
    }
    cargo
        .current_dir(source)
        .env("PATH", crate::process::tool_path())
        .env("CARGO_TARGET_DIR", target);
    cargo
}

/// Builds the module from `source` into `target`, runs wasm-bindgen and
/// wasm-opt (keeping names), and returns the optimised module's path in `out`.
fn build_module(
    build: &Build,
    source: &Path,
    target: &Path,
    out: &Path,
) -> Result<PathBuf, String> {
    let mut cargo = cargo(build, source, target);
    cargo
        .args([
            "build",
            "--release",
            "--lib",
            "--target",
            "wasm32-unknown-unknown",
            "--package",
            "booking-widget",
        ])
        .args(build.cargo_args);
    if let Some(flags) = build.rustflags {
        cargo.env("CARGO_ENCODED_RUSTFLAGS", flags.join("\u{1f}"));
    }
    exec(cargo)?;
    let built = target.join("wasm32-unknown-unknown/release/booking_widget.wasm");
    let stage = out.join("bindgen");
    std::fs::create_dir_all(&stage)
        .map_err(|error| format!("creating {}: {error}", stage.display()))?;
    exec(command(
        "wasm-bindgen",
        &[
            "--target",
            "web",
            "--no-typescript",
            "--out-name",
            "booking_widget",
            "--out-dir",
            path_str(&stage)?,
            path_str(&built)?,
        ],
    ))?;
    let named = out.join(format!("{}.wasm", slug(build.name)));
    let mut args = vec!["-g".to_owned(), format!("--output={}", path_str(&named)?)];
    args.extend(shipped_wasm_opt_args()?);
    args.push(path_str(&stage.join("booking_widget_bg.wasm"))?.to_owned());
    args.extend(build.wasm_opt_extra.iter().map(|arg| (*arg).to_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    exec(command("wasm-opt", &args))?;
    Ok(named)
}

/// The wasm-opt arguments the shipped build uses: `data-wasm-opt` and
/// `data-wasm-opt-params` of the `rel="rust"` link in `index.html`.
fn shipped_wasm_opt_args() -> Result<Vec<String>, String> {
    let page = std::fs::read_to_string(root().join("index.html"))
        .map_err(|error| format!("reading index.html: {error}"))?;
    let link = page
        .lines()
        .find(|line| line.contains("data-trunk") && line.contains("rel=\"rust\""))
        .ok_or("index.html has no rel=\"rust\" link")?;
    let level = attribute(link, "data-wasm-opt").ok_or("index.html sets no data-wasm-opt")?;
    let mut args = vec![format!("-O{level}")];
    if let Some(params) = attribute(link, "data-wasm-opt-params") {
        args.extend(params.split_whitespace().map(str::to_owned));
    }
    Ok(args)
}

/// The value of `name="..."` in one line of HTML.
fn attribute<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let start = line.find(&format!(" {name}=\""))? + name.len() + 3;
    let rest = &line[start..];
    Some(&rest[..rest.find('"')?])
}

/// Strips the names from a module, as the shipped build has none, and measures it.
fn stripped_size(named: &Path, out: &Path) -> Result<ModuleSize, String> {
    let stripped = out.join("stripped.wasm");
    exec(command(
        "wasm-opt",
        &[
            "--strip-debug",
            "--strip-producers",
            path_str(named)?,
            "-o",
            path_str(&stripped)?,
        ],
    ))?;
    let bytes = std::fs::read(&stripped)
        .map_err(|error| format!("reading {}: {error}", stripped.display()))?;
    Ok(ModuleSize {
        raw: bytes.len(),
        brotli: compress::brotli(&bytes).len(),
    })
}

/// Copies the repository's files (tracked and untracked, not ignored) to
/// `dir` and applies the build's edits there.
fn copy_with_edits(build: &Build, dir: &Path) -> Result<PathBuf, String> {
    let listing = command(
        "git",
        &[
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ],
    )
    .output()
    .map_err(|error| format!("listing the repository's files: {error}"))?;
    if dir.exists() {
        std::fs::remove_dir_all(dir)
            .map_err(|error| format!("clearing {}: {error}", dir.display()))?;
    }
    for name in String::from_utf8_lossy(&listing.stdout).split('\0') {
        let from = root().join(name);
        if name.is_empty() || !from.is_file() {
            continue;
        }
        copy(&from, &dir.join(name))?;
    }
    for edit in build.edits {
        let path = dir.join(edit.path);
        let text = std::fs::read_to_string(&path)
            .map_err(|error| format!("reading {}: {error}", path.display()))?;
        if text.matches(edit.find).count() != 1 {
            return Err(format!(
                "the lever \"{}\" expects one `{}` in {}: update its edit",
                build.name,
                edit.find.trim(),
                edit.path
            ));
        }
        std::fs::write(&path, text.replacen(edit.find, edit.replace, 1))
            .map_err(|error| format!("writing {}: {error}", path.display()))?;
    }
    Ok(dir.to_path_buf())
}

fn copy(from: &Path, to: &Path) -> TaskResult {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|error| format!("creating {}: {error}", parent.display()))?;
    }
    std::fs::copy(from, to)
        .map(drop)
        .map_err(|error| format!("copying {} to {}: {error}", from.display(), to.display()))
}

/// A file name for a lever.
fn slug(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_matches('-').to_owned()
}

/// One item of `twiggy top`'s JSON.
#[derive(Debug, Clone, PartialEq)]
struct Item {
    name: String,
    bytes: usize,
}

/// Every item of the module, largest first, without the custom sections
/// that hold the names (the shipped module has none).
fn items(named: &Path) -> Result<Vec<Item>, String> {
    let json = twiggy(&["top", "-f", "json", path_str(named)?])?;
    let rows: serde_json::Value =
        serde_json::from_str(&json).map_err(|error| format!("reading twiggy's JSON: {error}"))?;
    let rows = rows.as_array().ok_or("twiggy top printed no list")?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            Some(Item {
                name: row["name"].as_str()?.to_owned(),
                bytes: usize::try_from(row["shallow_size"].as_u64()?).ok()?,
            })
        })
        .filter(|item| !is_name_section(&item.name))
        .collect())
}

/// Whether a twiggy item is part of the name section (kept only for this report).
fn is_name_section(name: &str) -> bool {
    name.ends_with("\" subsection") || name == "custom section 'name' headers"
}

/// The crate an item's name belongs to: its path's first segment, looking
/// inside `<...>` for trait impls (`<Type as Trait>` counts for the type's
/// crate; for a primitive or a bare generic type, for the trait's).
fn crate_of(name: &str) -> String {
    let name = without_hashes(name);
    if name.starts_with("data segment") {
        return "(data segments)".to_owned();
    }
    if name.starts_with("import ") {
        return "(imports)".to_owned();
    }
    if !name.contains("::") {
        return "(wasm-bindgen glue, tables, imports)".to_owned();
    }
    let mut rest = name.as_str();
    while let Some(inner) = rest.strip_prefix('<') {
        rest = inner
            .trim_start_matches('&')
            .trim_start_matches("mut ")
            .trim_start_matches("dyn ");
    }
    let end = rest.find([':', '<', '>', '[', ' ']).unwrap_or(rest.len());
    let head = &rest[..end];
    let built_in = head.is_empty() || is_primitive(head) || is_type_parameter(head);
    if built_in {
        return match rest.split_once(" as ") {
            Some((_, trait_path)) => crate_of(trait_path),
            None => "core".to_owned(),
        };
    }
    match head {
        "__rustc" => "std".to_owned(),
        _ => head.to_owned(),
    }
}

/// `core[c5930c85a12de822]::fmt` as `core::fmt`: the standard library's
/// names carry their crate's hash.
fn without_hashes(name: &str) -> String {
    let mut plain = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(open) = rest.find('[') {
        plain.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find(']') {
            Some(close) if close > 0 && after[..close].bytes().all(|b| b.is_ascii_hexdigit()) => {
                rest = &after[close + 1..];
            }
            _ => {
                plain.push('[');
                rest = after;
            }
        }
    }
    plain.push_str(rest);
    plain
}

fn is_primitive(name: &str) -> bool {
    matches!(
        name,
        "bool"
            | "char"
            | "str"
            | "u8"
            | "u16"
            | "u32"
            | "u64"
            | "u128"
            | "usize"
            | "i8"
            | "i16"
            | "i32"
            | "i64"
            | "i128"
            | "isize"
            | "f32"
            | "f64"
            | "fn"
            | "*const"
            | "*mut"
    )
}

/// `T`, `F`, `Fut`: a generic parameter rather than a path.
fn is_type_parameter(name: &str) -> bool {
    name.len() <= 4
        && name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Bytes per crate, largest first.
fn by_crate(items: &[Item]) -> Vec<(String, usize, usize)> {
    let mut crates: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for item in items {
        let entry = crates.entry(crate_of(&item.name)).or_default();
        entry.0 += item.bytes;
        entry.1 += 1;
    }
    let mut rows: Vec<(String, usize, usize)> = crates
        .into_iter()
        .map(|(krate, (bytes, count))| (krate, bytes, count))
        .collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    rows
}

/// What a kind of code costs: the items whose names match.
struct Kind {
    what: &'static str,
    matches: fn(&str) -> bool,
}

/// The kinds, matched on names without the standard library's hashes.
const KINDS: [Kind; 5] = [
    Kind {
        what: "`Debug` impls (`<T as core::fmt::Debug>::fmt`)",
        matches: |name| name.contains(" as core::fmt::Debug>::fmt"),
    },
    Kind {
        what: "`Display` impls",
        matches: |name| name.contains(" as core::fmt::Display>::fmt"),
    },
    Kind {
        what: "the rest of the formatting machinery (`core::fmt`, `alloc::fmt`)",
        matches: |name| {
            (name.contains("core::fmt::") || name.contains("alloc::fmt::"))
                && !name.contains(" as core::fmt::Debug>::fmt")
                && !name.contains(" as core::fmt::Display>::fmt")
        },
    },
    Kind {
        what: "panics (`panicking`, `core::panic`, `panic_*`)",
        matches: |name| {
            name.contains("panicking") || name.contains("core::panic") || name.contains("::panic_")
        },
    },
    Kind {
        what: "the allocator (`dlmalloc`)",
        matches: |name| name.contains("dlmalloc"),
    },
];

/// The kinds an item counts for.
fn kinds_of(name: &str) -> Vec<&'static str> {
    let name = without_hashes(name);
    KINDS
        .iter()
        .filter(|kind| (kind.matches)(&name))
        .map(|kind| kind.what)
        .collect()
}

fn attribution_report(named: &Path, size: ModuleSize) -> Result<String, String> {
    let items = items(named)?;
    let total: usize = items.iter().map(|item| item.bytes).sum();
    let percent = |bytes: usize| 100.0 * bytes as f64 / total.max(1) as f64;
    let mut report = format!(
        "# Where the widget's WebAssembly bytes go\n\n\
         Written by `cargo xtask bench --size` (commit {}): the release module built as \
         `cargo xtask dist` builds it (wasm-bindgen, then wasm-opt with the flags in \
         `index.html`), with `wasm-opt -g` keeping the function names for twiggy {}. \
         Shipped without names: **{} bytes, {} bytes brotli**. Items below sum to {total} bytes \
         (the module without its name section); percentages are of that.\n\n",
        head_commit(),
        version_of("twiggy", &["--version"]).unwrap_or_default(),
        size.raw,
        size.brotli
    );
    report.push_str("## By crate\n\n");
    report.push_str(
        "Each item counts for the first crate of its path; a trait impl `<Type as Trait>` \
         for its type's crate (for a bare generic `T`, the trait's crate).\n\n\
         | crate | bytes | % | items |\n| --- | ---: | ---: | ---: |\n",
    );
    for (krate, bytes, count) in by_crate(&items).iter().take(30) {
        report.push_str(&format!(
            "| {krate} | {bytes} | {:.1} | {count} |\n",
            percent(*bytes)
        ));
    }
    report.push_str(
        "\n## By function (the 40 largest items)\n\n| bytes | % | item |\n| ---: | ---: | --- |\n",
    );
    for item in items.iter().take(40) {
        report.push_str(&format!(
            "| {} | {:.2} | `{}` |\n",
            item.bytes,
            percent(item.bytes),
            item.name.replace('|', "\\|")
        ));
    }
    report.push_str(
        "\n## Formatting, panics and `Debug`\n\nWhat the module keeps of each (by name; the \
         strings they print sit in the data segments and are not counted here).\n\n\
         | kind | bytes | % | items |\n| --- | ---: | ---: | ---: |\n",
    );
    for kind in &KINDS {
        let kept: Vec<&Item> = items
            .iter()
            .filter(|item| kinds_of(&item.name).contains(&kind.what))
            .collect();
        let bytes: usize = kept.iter().map(|item| item.bytes).sum();
        report.push_str(&format!(
            "| {} | {bytes} | {:.1} | {} |\n",
            kind.what,
            percent(bytes),
            kept.len()
        ));
    }
    let module = path_str(named)?;
    report.push_str("\n## Biggest generic instantiations\n\n`twiggy monos -g -m 30`: each generic function's instantiations together, and the bytes a single copy would save (\"bloat\").\n\n");
    report.push_str(&fenced(&twiggy(&["monos", "-g", "-m", "30", module])?));
    report
        .push_str("\n`twiggy monos -m 10 -n 4`: the largest instantiations of the worst ten.\n\n");
    report.push_str(&fenced(&twiggy(&["monos", "-m", "10", "-n", "4", module])?));
    report.push_str("\n## Dominators\n\n`twiggy dominators -d 4 -r 40`: what keeps what alive. Everything reached through the indirect-call table (closures, trait objects: most of a Leptos view) sits under `elem[0]`.\n\n");
    report.push_str(&fenced(&twiggy(&[
        "dominators",
        "-d",
        "4",
        "-r",
        "40",
        module,
    ])?));
    Ok(report)
}

/// Runs twiggy and returns what it printed.
fn twiggy(args: &[&str]) -> Result<String, String> {
    let output = command("twiggy", args).output().map_err(|error| {
        format!("could not start twiggy (cargo xtask setup installs it): {error}")
    })?;
    if !output.status.success() {
        return Err(format!(
            "twiggy {} failed: {}",
            args.first().unwrap_or(&""),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn fenced(text: &str) -> String {
    format!("```text\n{}\n```\n", text.trim_end())
}

fn path_str(path: &Path) -> Result<&str, String> {
    path.to_str()
        .ok_or_else(|| format!("{} is not UTF-8", path.display()))
}

/// The checked-out commit, `-dirty` when files differ from it.
fn head_commit() -> String {
    let hash = version_of("git", &["rev-parse", "--short", "HEAD"]).unwrap_or_default();
    let dirty = command("git", &["status", "--porcelain", "--untracked-files=no"])
        .output()
        .is_ok_and(|output| !output.stdout.is_empty());
    if dirty {
        format!("{hash}-dirty")
    } else {
        hash
    }
}

fn write_doc(path: &str, text: &str) -> TaskResult {
    let file = root().join(path);
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|error| format!("creating {}: {error}", dir.display()))?;
    }
    std::fs::write(&file, text).map_err(|error| format!("writing {path}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_count_for_their_crate() {
        assert_eq!(
            crate_of("booking_widget::app::__component_app::{{closure}}::h65e4"),
            "booking_widget"
        );
        assert_eq!(
            crate_of("<&mut booking_core::json::Reader as serde_core::de::Deserializer>::deserialize_any::ha4"),
            "booking_core"
        );
        assert_eq!(
            crate_of("<T as tachys::html::attribute::any_attribute::IntoAnyAttribute>::into_any_attr::build::h5"),
            "tachys"
        );
        assert_eq!(
            crate_of("<<booking_core::api::_::<impl serde_core::de::Deserialize for booking_core::api::X>::deserialize::__Visitor as serde_core::de::Visitor>::visit_map"),
            "booking_core"
        );
        assert_eq!(
            crate_of("<dlmalloc[e24a27700634d609]::dlmalloc::Dlmalloc<dlmalloc[e24a]::sys::System>>::malloc"),
            "dlmalloc"
        );
        assert_eq!(crate_of("data segment \".rodata\""), "(data segments)");
        assert_eq!(crate_of("<char>::escape_debug_ext"), "core");
        assert_eq!(
            crate_of("<u64 as core[c5930c85a12de822]::fmt::Display>::fmt"),
            "core"
        );
        assert_eq!(crate_of("<u64 as itoa::Unsigned>::fmt::hfe0d"), "itoa");
        assert_eq!(crate_of("<[u8]>::eq_ignore_ascii_case_simple"), "core");
        assert_eq!(crate_of("__rustc[b7974e8690430dd9]::__rdl_realloc"), "std");
        assert_eq!(
            crate_of("mount externref shim"),
            "(wasm-bindgen glue, tables, imports)"
        );
    }

    #[test]
    fn formatting_panics_and_debug_are_told_apart() {
        let [debug, display, machinery, panics, _] = KINDS.map(|kind| kind.what);
        assert_eq!(
            kinds_of("<&str as core[c5930c85a12de822]::fmt::Debug>::fmt"),
            [debug]
        );
        assert_eq!(
            kinds_of("<booking_core::api::Money as core::fmt::Display>::fmt::h4f75"),
            [display]
        );
        assert_eq!(
            kinds_of("<core[c5930c85a12de822]::fmt::Formatter>::pad_integral"),
            [machinery]
        );
        assert_eq!(
            kinds_of("core[c5930c85a12de822]::panicking::panic_fmt"),
            [panics]
        );
        assert!(kinds_of("booking_widget::app::h1").is_empty());
    }

    #[test]
    fn crates_are_summed_largest_first() {
        let items = [
            ("a::f", 10),
            ("b::g", 25),
            ("a::h", 20),
            ("data segment \".rodata\"", 5),
        ]
        .map(|(name, bytes)| Item {
            name: name.to_owned(),
            bytes,
        });
        assert_eq!(
            by_crate(&items),
            [
                ("a".to_owned(), 30, 2),
                ("b".to_owned(), 25, 1),
                ("(data segments)".to_owned(), 5, 1)
            ]
        );
    }

    #[test]
    fn name_sections_are_left_out() {
        assert!(is_name_section("\"function names\" subsection"));
        assert!(!is_name_section("booking_widget::app::h1"));
    }

    #[test]
    fn wasm_opt_arguments_come_from_the_page() {
        let link = r#"<link data-trunk rel="rust" data-wasm-opt="z" data-wasm-opt-params="--a -Oz" data-bindgen-target="web">"#;
        assert_eq!(attribute(link, "data-wasm-opt"), Some("z"));
        assert_eq!(attribute(link, "data-wasm-opt-params"), Some("--a -Oz"));
        assert_eq!(attribute(link, "data-missing"), None);
        let args = shipped_wasm_opt_args().unwrap();
        assert!(args[0].starts_with("-O"), "{args:?}");
    }

    #[test]
    fn levers_have_distinct_names_and_files() {
        let levers = levers();
        let mut slugs: Vec<String> = levers.iter().map(|build| slug(build.name)).collect();
        slugs.sort();
        slugs.dedup();
        assert_eq!(slugs.len(), levers.len());
        for build in &levers {
            if let Some(against) = build.against {
                assert!(
                    levers.iter().any(|other| other.name == against),
                    "{against}"
                );
            }
        }
    }

    #[test]
    fn kept_results_read_back() {
        for measured in [
            Measured {
                result: Ok(ModuleSize {
                    raw: 563082,
                    brotli: 172491,
                }),
                commit: "4e8df43-dirty".to_owned(),
            },
            Measured {
                result: Err("cargo failed (exit status: 101)".to_owned()),
                commit: "4e8df43".to_owned(),
            },
        ] {
            let dir = std::env::temp_dir().join(format!("xtask-levers-{}", std::process::id()));
            let build = Build {
                name: "a lever",
                ..Build::default()
            };
            store(&dir, &build, &measured).unwrap();
            assert_eq!(load(&dir, &build), Some(measured));
            std::fs::remove_dir_all(&dir).unwrap();
        }
        assert_eq!(parse_result("garbage"), None);
    }

    #[test]
    fn saved_bytes_are_signed() {
        let shipped = Build {
            name: SHIPPED,
            ..Build::default()
        };
        let smaller = Build {
            name: "smaller",
            ..Build::default()
        };
        let measured = |raw, brotli| {
            Some(Measured {
                result: Ok(ModuleSize { raw, brotli }),
                commit: "abc1234".to_owned(),
            })
        };
        let unmeasured = Build {
            name: "later",
            ..Build::default()
        };
        let table = levers_table(
            &[
                (&shipped, measured(1000, 500)),
                (&smaller, measured(900, 520)),
                (&unmeasured, None),
            ],
            "",
            &|_| None,
        );
        assert!(
            table.contains(
                "| smaller | 900 | 520 | +100 | -20 | no change beyond noise | abc1234 |"
            ),
            "{table}"
        );
        assert!(table.contains("| later | not measured yet |"), "{table}");
        let smaller_elsewhere = |shipped_at: &dyn Fn(&str) -> Option<ModuleSize>| {
            let older = Measured {
                result: Ok(ModuleSize {
                    raw: 900,
                    brotli: 400,
                }),
                commit: "0ld1234".to_owned(),
            };
            levers_table(
                &[(&shipped, measured(1000, 500)), (&smaller, Some(older))],
                "",
                shipped_at,
            )
        };
        let elsewhere = smaller_elsewhere(&|_| None);
        assert!(
            elsewhere.contains("| smaller | 900 | 400 | - | - | not compared"),
            "{elsewhere}"
        );
        let old_shipped = ModuleSize {
            raw: 950,
            brotli: 450,
        };
        let against_its_own =
            smaller_elsewhere(&|commit| (commit == "0ld1234").then_some(old_shipped));
        assert!(
            against_its_own.contains("| smaller | 900 | 400 | +50 | +50 | "),
            "{against_its_own}"
        );
        let crate_in_place = Build {
            name: "crate",
            edits: JSON_SERDE_JSON,
            ..Build::default()
        };
        assert!(verdict(&crate_in_place, -6000).starts_with("keep the hand-written code"));
        assert!(verdict(&crate_in_place, -5000).starts_with("use the crate"));
        assert_eq!(verdict(&shipped, 101), "helps");
        assert_eq!(verdict(&shipped, -101), "does not help");
    }

    #[test]
    fn a_lever_not_measured_here_keeps_its_earlier_row() {
        let shipped = Build {
            name: SHIPPED,
            ..Build::default()
        };
        let kept = Build {
            name: "kept",
            ..Build::default()
        };
        let never = Build {
            name: "never",
            ..Build::default()
        };
        let earlier = "| kept | 900 | 480 | +100 | +20 | helps | 0ld1234 |\n\
                       | never | not measured yet | | | | | |\n";
        let table = levers_table(
            &[
                (
                    &shipped,
                    Some(Measured {
                        result: Ok(ModuleSize {
                            raw: 1000,
                            brotli: 500,
                        }),
                        commit: "abc1234".to_owned(),
                    }),
                ),
                (&kept, None),
                (&never, None),
            ],
            earlier,
            &|_| None,
        );
        assert!(
            table.contains("| kept | 900 | 480 | +100 | +20 | helps | 0ld1234 |\n"),
            "{table}"
        );
        assert!(table.contains("| never | not measured yet |"), "{table}");
    }
}
