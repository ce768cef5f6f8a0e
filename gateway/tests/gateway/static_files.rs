//! The widget's files as the gateway serves them: cache lifetimes by name,
//! precompressed variants, cross-origin loading and the pages' security
//! headers. These need no upstream: the gateway runs without credentials.

use std::path::Path;

use crate::support::{send, temp_dir, TempDir};
use booking_gateway::{spawn_gateway, GatewayConfig, RunningGateway};
use reqwest::StatusCode;

const WASM: &str = "booking-widget-14587bb7ddbeabeb_bg.wasm";
const CSS: &str = "widget-9d41bc9f07519cf7.css";
const WASM_BYTES: &[u8] =
    b"\0asm\x01\0\0\0 pretend module with enough bytes to be worth compressing";
const BROTLI_BYTES: &[u8] = b"pretend brotli bytes";

async fn gateway() -> (RunningGateway, TempDir) {
    let dir = temp_dir("files");
    write(
        &dir.path(),
        "index.html",
        b"<!DOCTYPE html><title>Book</title>",
    );
    write(&dir.path(), "widget.js", b"console.log('widget');");
    write(&dir.path(), WASM, WASM_BYTES);
    write(&dir.path(), &format!("{WASM}.br"), BROTLI_BYTES);
    write(&dir.path(), CSS, b":host { display: block; }");
    let mut config = GatewayConfig::new("http://127.0.0.1:9/api/v1", dir.path());
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.allowed_origins = vec!["https://www.agency.example".into()];
    (spawn_gateway(config).await.expect("gateway starts"), dir)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).expect("write");
}

async fn get(gateway: &RunningGateway, path: &str, encoding: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(format!("{}{path}", gateway.url()));
    if let Some(encoding) = encoding {
        request = request.header("accept-encoding", encoding);
    }
    request.send().await.expect("answered")
}

#[tokio::test]
async fn hashed_files_are_immutable_and_stable_names_revalidate() {
    let (gateway, _dir) = gateway().await;
    for path in [format!("/{WASM}"), format!("/{CSS}")] {
        let response = get(&gateway, &path, None).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(
            response.headers()["cache-control"],
            "public, max-age=31536000, immutable",
            "{path}"
        );
        assert_eq!(response.headers()["access-control-allow-origin"], "*");
        assert_eq!(
            response.headers()["cross-origin-resource-policy"],
            "cross-origin"
        );
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    }
    for path in ["/", "/index.html", "/widget.js"] {
        let response = get(&gateway, path, None).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()["cache-control"], "no-cache", "{path}");
    }
    let wasm = get(&gateway, &format!("/{WASM}"), None).await;
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
}

#[tokio::test]
async fn pages_carry_the_strict_content_security_policy() {
    let (gateway, _dir) = gateway().await;
    let page = get(&gateway, "/", None).await;
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        csp,
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'self' https://www.agency.example"
    );
    assert_eq!(page.headers()["referrer-policy"], "same-origin");
    assert!(page.headers().contains_key("permissions-policy"));
    let script = get(&gateway, "/widget.js", None).await;
    assert!(script.headers().get("content-security-policy").is_none());
}

#[tokio::test]
async fn precompressed_brotli_is_served_to_clients_that_accept_it() {
    let (gateway, _dir) = gateway().await;
    let brotli = get(&gateway, &format!("/{WASM}"), Some("br, gzip")).await;
    assert_eq!(brotli.headers()["content-encoding"], "br");
    assert_eq!(brotli.headers()["content-type"], "application/wasm");
    assert_eq!(
        brotli.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(brotli.bytes().await.unwrap().as_ref(), BROTLI_BYTES);
    let plain = get(&gateway, &format!("/{WASM}"), None).await;
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.bytes().await.unwrap().as_ref(), WASM_BYTES);
    // No precompressed gzip on disk: compressed on the fly.
    let gzip = get(&gateway, &format!("/{WASM}"), Some("gzip")).await;
    assert_eq!(gzip.headers()["content-encoding"], "gzip");
}

#[tokio::test]
async fn without_credentials_the_files_are_served_and_the_api_says_so() {
    let (gateway, _dir) = gateway().await;
    assert_eq!(get(&gateway, "/", None).await.status(), StatusCode::OK);
    let options = send(reqwest::Client::new().get(format!("{}/api/options", gateway.url()))).await;
    assert_eq!(
        options.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        options.text
    );
    assert_eq!(
        options.body["message"],
        "Online booking is not set up on this server yet."
    );
}
