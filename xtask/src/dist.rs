//! Building the widget's release files (`dist/`) with Trunk, and the server.
//!
//! Trunk compiles the widget, runs wasm-bindgen and wasm-opt, and writes
//! content-hashed files. `widget.js`, the one stable URL agencies embed, is
//! then given the hashed names of the module, its glue and the stylesheet.
//! Last, esbuild minifies the JavaScript (the widget's transfer budget
//! counts it). The stylesheets stay as Trunk wrote them: the page links them
//! with integrity hashes.

use std::path::{Path, PathBuf};

use crate::process::{command, exec};
use crate::{compress, root, TaskResult};

/// The widget's built files.
pub struct DistFiles {
    /// The WebAssembly module.
    pub wasm: PathBuf,
    /// wasm-bindgen's JavaScript glue.
    pub glue: PathBuf,
    /// The loader that defines `<hbg-booking>`.
    pub loader: PathBuf,
    /// The widget's stylesheet.
    pub css: PathBuf,
}

impl DistFiles {
    /// Every file the widget fetches, each with whether the first step
    /// needs it (all of them, while the module is one file).
    pub fn fetched(&self) -> [(&Path, bool); 4] {
        [
            (self.loader.as_path(), true),
            (self.glue.as_path(), true),
            (self.wasm.as_path(), true),
            (self.css.as_path(), true),
        ]
    }
}

/// Cargo's target directory.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// The dist directory.
pub fn dist_dir() -> PathBuf {
    root().join("dist")
}

/// Builds `dist/` in release mode.
pub fn build() -> TaskResult {
    println!("dist: building the widget with Trunk (release)");
    let mut trunk = command("trunk", &["build", "--release"]);
    trunk.env("TRUNK_SKIP_VERSION_CHECK", "true");
    exec(trunk)?;
    let files = files()?;
    drop_unused_glue_exports(&files.glue)?;
    link_loader(&files)?;
    for page in ["index.html", "embed.html"] {
        add_preload_hints(&files, &dist_dir().join(page))?;
    }
    minify(&files.glue)?;
    minify(&files.loader)?;
    drop_build_directives(&dist_dir().join("index.html"))?;
    precompress(&dist_dir())
}

/// The prefix of the classes wasm-bindgen writes for wasm-streams, which
/// Leptos links for server functions the widget does not use. `index.html`
/// has wasm-opt drop their exports from the module.
const UNUSED_GLUE_CLASSES: &str = "IntoUnderlying";

/// Removes the unused wasm-streams classes (and their finalizers) from the
/// glue; fails if any mention is left, e.g. after a wasm-bindgen update.
fn drop_unused_glue_exports(glue: &Path) -> TaskResult {
    enum Skip {
        No,
        Class,
        Statement,
    }
    let source =
        std::fs::read_to_string(glue).map_err(|error| format!("reading the glue: {error}"))?;
    let class = format!("export class {UNUSED_GLUE_CLASSES}");
    let finalizer = format!("const {UNUSED_GLUE_CLASSES}");
    let class_end = format!("if (Symbol.dispose) {UNUSED_GLUE_CLASSES}");
    let mut skip = Skip::No;
    let mut kept = String::with_capacity(source.len());
    for line in source.lines() {
        if matches!(skip, Skip::No) {
            if line.starts_with(&class) {
                skip = Skip::Class;
            } else if line.starts_with(&finalizer) {
                skip = Skip::Statement;
            }
        }
        skip = match skip {
            Skip::No => {
                kept.push_str(line);
                kept.push('\n');
                Skip::No
            }
            Skip::Class if line.starts_with(&class_end) => Skip::No,
            Skip::Statement if line.ends_with(';') => Skip::No,
            other => other,
        };
    }
    if kept.contains(UNUSED_GLUE_CLASSES) {
        return Err(format!(
            "the glue still mentions {UNUSED_GLUE_CLASSES}: check its layout after a wasm-bindgen update"
        ));
    }
    std::fs::write(glue, kept).map_err(|error| format!("writing the glue: {error}"))
}

/// Minifies a JavaScript module in place with esbuild (installed by
/// `cargo xtask setup` from `package.json`), dropping unused code.
fn minify(path: &Path) -> TaskResult {
    let file = path.to_str().ok_or("dist paths are UTF-8")?;
    let outfile = format!("--outfile={file}");
    exec(command(
        "esbuild",
        &[
            file,
            "--minify",
            "--format=esm",
            "--tree-shaking=true",
            "--allow-overwrite",
            "--log-level=warning",
            &outfile,
        ],
    ))
}

/// File kinds worth compressing ahead of time.
const COMPRESSIBLE: [&str; 5] = ["js", "wasm", "css", "html", "svg"];

/// Writes `.br` and `.gz` next to each compressible file, so the gateway
/// serves them without compressing on every request.
fn precompress(dir: &Path) -> TaskResult {
    let entries =
        std::fs::read_dir(dir).map_err(|error| format!("reading {}: {error}", dir.display()))?;
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let compressible = path
            .extension()
            .and_then(|ext| ext.to_str())
            .is_some_and(|ext| COMPRESSIBLE.contains(&ext));
        if !compressible || !path.is_file() {
            continue;
        }
        let bytes =
            std::fs::read(&path).map_err(|error| format!("reading {}: {error}", path.display()))?;
        for (suffix, packed) in [
            ("br", compress::brotli(&bytes)),
            ("gz", compress::gzip(&bytes)),
        ] {
            let mut target = path.clone().into_os_string();
            target.push(".");
            target.push(suffix);
            std::fs::write(&target, packed)
                .map_err(|error| format!("writing {}: {error}", path.display()))?;
        }
    }
    Ok(())
}

/// Removes the `<link data-trunk rel="rust">` line Trunk leaves in the page
/// when it is told not to inject its own loader (widget.js loads the module),
/// and the page's link to the widget's stylesheet.
fn drop_build_directives(page: &Path) -> TaskResult {
    let html = std::fs::read_to_string(page)
        .map_err(|error| format!("reading {}: {error}", page.display()))?;
    let kept: Vec<&str> = html
        .lines()
        .filter(|line| !line.contains("data-trunk") && !is_widget_stylesheet_link(line))
        .collect();
    std::fs::write(page, kept.join("\n") + "\n")
        .map_err(|error| format!("writing {}: {error}", page.display()))
}

/// Whether a line is the `<link rel="stylesheet">` Trunk writes for the
/// widget's own stylesheet: `widget.js` adopts it inside each shadow root,
/// so on the page it would only style the page and be fetched twice.
fn is_widget_stylesheet_link(line: &str) -> bool {
    line.contains("rel=\"stylesheet\"") && line.contains("href=\"/widget-")
}

/// Finds the built files in `dist/`.
pub fn files() -> Result<DistFiles, String> {
    let dir = dist_dir();
    let entries: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|error| format!("reading {}: {error}", dir.display()))?
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    let find = |test: &dyn Fn(&str) -> bool, what: &str| {
        entries
            .iter()
            .find(|name| test(name))
            .map(|name| dir.join(name))
            .ok_or_else(|| format!("dist/ has no {what}; run `cargo xtask dist`"))
    };
    let wasm = find(&|name| name.ends_with("_bg.wasm"), "WebAssembly module")?;
    let glue_name = wasm
        .file_name()
        .and_then(|name| name.to_str())
        .and_then(|name| name.strip_suffix("_bg.wasm"))
        .map(|stem| format!("{stem}.js"))
        .expect("the module's name ends with _bg.wasm");
    let glue = find(&|name| name == glue_name, "wasm-bindgen glue")?;
    let css = find(
        &|name| name.starts_with("widget-") && name.ends_with(".css"),
        "widget stylesheet",
    )?;
    let loader = find(&|name| name == "widget.js", "widget.js")?;
    Ok(DistFiles {
        wasm,
        glue,
        loader,
        css,
    })
}

fn file_name(path: &Path) -> &str {
    path.file_name()
        .and_then(|name| name.to_str())
        .expect("dist file names are UTF-8")
}

/// Writes the hashed names into `dist/widget.js`.
fn link_loader(files: &DistFiles) -> TaskResult {
    let source = std::fs::read_to_string(&files.loader)
        .map_err(|error| format!("reading widget.js: {error}"))?;
    let linked = source
        .replace("__HBG_GLUE__", file_name(&files.glue))
        .replace("__HBG_WASM__", file_name(&files.wasm))
        .replace("__HBG_CSS__", file_name(&files.css));
    if linked.contains("__HBG_") {
        return Err("widget.js has a placeholder xtask does not know".to_owned());
    }
    std::fs::write(&files.loader, linked).map_err(|error| format!("writing widget.js: {error}"))
}

/// Adds preload hints for the module, its glue and the stylesheet to the
/// head of one of the gateway's pages, before its first script (or at the
/// end of the head), so the browser fetches them while it reads the page,
/// before `widget.js` asks for them. Each hint matches the request
/// `widget.js` makes (CORS, same-origin credentials), so nothing is fetched
/// twice.
fn add_preload_hints(files: &DistFiles, page: &Path) -> TaskResult {
    let html = std::fs::read_to_string(page)
        .map_err(|error| format!("reading {}: {error}", page.display()))?;
    let mut lines: Vec<String> = html.lines().map(str::to_owned).collect();
    let at = lines
        .iter()
        .position(|line| line.contains("<script") || line.contains("</head>"))
        .ok_or_else(|| format!("{} has no </head>", page.display()))?;
    let indent: String = lines[at]
        .chars()
        .take_while(|c| c.is_whitespace())
        .collect();
    let indent = if lines[at].contains("</head>") {
        format!("{indent}  ")
    } else {
        indent
    };
    let hints = [
        format!(
            "{indent}<link rel=\"modulepreload\" href=\"{}\" crossorigin=\"anonymous\">",
            file_name(&files.glue)
        ),
        format!(
            "{indent}<link rel=\"preload\" href=\"{}\" as=\"fetch\" crossorigin=\"anonymous\">",
            file_name(&files.wasm)
        ),
        format!(
            "{indent}<link rel=\"preload\" href=\"{}\" as=\"fetch\" crossorigin=\"anonymous\">",
            file_name(&files.css)
        ),
    ];
    lines.splice(at..at, hints);
    std::fs::write(page, lines.join("\n") + "\n")
        .map_err(|error| format!("writing {}: {error}", page.display()))
}

/// The servers' binaries, built with the `server` profile.
#[derive(Debug, Clone, Default)]
pub struct ServerBinaries {
    /// `booking-gateway`, the agency-side server.
    pub gateway: PathBuf,
    /// `booking-sandbox`: the sandbox (`serve`) and the webhook receiver
    /// (`webhook-receiver`).
    pub sandbox: PathBuf,
}

/// Builds `booking-gateway` and `booking-sandbox` with the `server` profile
/// and returns their paths.
pub fn build_servers() -> Result<ServerBinaries, String> {
    println!("dist: building booking-gateway and booking-sandbox");
    exec(command(
        "cargo",
        &[
            "build",
            "--profile",
            "server",
            "--package",
            "booking-gateway",
            "--package",
            "booking-sandbox",
        ],
    ))?;
    let dir = target_dir().join("server");
    Ok(ServerBinaries {
        gateway: dir.join("booking-gateway"),
        sandbox: dir.join("booking-sandbox"),
    })
}
