//! What the shipped gateway is built from: its normal dependency tree, the
//! one its binary links (dev-dependencies, such as the sandbox its tests
//! start, are left out), holds no SQLite, no PDF writer and no test clock.
//! Those are the sandbox's (`booking-sandbox`: its database, its
//! certificates, written by hand, and its movable clock).

use std::process::Command;

/// Packages the gateway must never link: the sandbox, SQLite, and the
/// common PDF writers.
const FORBIDDEN: &[&str] = &[
    "booking-sandbox",
    "rusqlite",
    "libsqlite3-sys",
    "pdf-writer",
    "printpdf",
    "lopdf",
];

/// The packages of `cargo tree -p booking-gateway -e normal`, by name.
fn normal_dependencies() -> Vec<String> {
    let output = Command::new(env!("CARGO"))
        .args(["tree", "--package", "booking-gateway", "--edges", "normal"])
        .args(["--prefix", "none", "--format", "{p}"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("cargo tree prints UTF-8")
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn dependencies_hold_no_sandbox_code() {
    let packages = normal_dependencies();
    for expected in ["booking-gateway", "booking-core", "booking-http", "axum"] {
        assert!(
            packages.iter().any(|name| name == expected),
            "{expected} missing from the tree: {packages:?}"
        );
    }
    for forbidden in FORBIDDEN {
        assert!(
            !packages.iter().any(|name| name == forbidden),
            "the gateway's normal dependencies hold {forbidden}: {packages:?}"
        );
    }
}
