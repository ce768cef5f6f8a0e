//! Compiles the browser test that drives the real HTTP client against a
//! running gateway only when one is given (`HBG_TEST_GATEWAY`, set by
//! `cargo xtask test`, which starts the sandbox and gateway for it).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(live_gateway)");
    println!("cargo::rerun-if-env-changed=HBG_TEST_GATEWAY");
    if std::env::var_os("HBG_TEST_GATEWAY").is_some() {
        println!("cargo::rustc-cfg=live_gateway");
    }
}
