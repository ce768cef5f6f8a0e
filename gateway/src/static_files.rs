//! The widget's files: `ServeDir` with precompressed variants, cache
//! lifetimes by file name, and the security headers of the pages.
//!
//! Invariants: a content-hashed name (`-` and 16 hex digits before the
//! extension or `_bg`, e.g. `booking-widget-14587bb7ddbeabeb_bg.wasm`) is
//! cached for a year as immutable, anything else (`index.html`,
//! `widget.js`) is revalidated on every use; assets may be loaded by any
//! host page (`Access-Control-Allow-Origin: *`, CORP `cross-origin`), since
//! agency pages load `widget.js`, the module and the stylesheet
//! cross-origin; every HTML page carries the strict Content-Security-Policy,
//! whose one allowance is `'wasm-unsafe-eval'`.

use axum::extract::{Request, State};
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE,
    REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::Response;
use axum::Router;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;

use super::config::GatewayConfig;

/// `Cache-Control` of content-hashed files.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `Cache-Control` of files with stable names.
pub const REVALIDATE: &str = "no-cache";

const CROSS_ORIGIN_RESOURCE_POLICY: HeaderName =
    HeaderName::from_static("cross-origin-resource-policy");
const PERMISSIONS_POLICY: HeaderName = HeaderName::from_static("permissions-policy");

/// The Content-Security-Policy of the gateway's pages; host pages in
/// `allowed_origins` may frame them.
pub fn content_security_policy(allowed_origins: &[String]) -> String {
    let mut ancestors = String::from("'self'");
    for origin in allowed_origins {
        ancestors.push(' ');
        ancestors.push_str(origin);
    }
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
    )
}

/// Whether a file name carries a content hash: `-` and 12 to 16 lowercase
/// hex digits followed by `.` or `_`. Trunk writes a 64-bit hash in hex
/// without leading zeros, so the length varies.
pub fn is_content_hashed(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.iter().enumerate().any(|(start, byte)| {
        if *byte != b'-' {
            return false;
        }
        let digits = bytes[start + 1..]
            .iter()
            .take_while(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(*byte))
            .count();
        (12..=16).contains(&digits) && matches!(bytes.get(start + 1 + digits), Some(b'.' | b'_'))
    })
}

/// Headers shared by every static response.
#[derive(Clone)]
struct StaticHeaders {
    csp: HeaderValue,
}

/// The router serving `config.static_dir`.
pub fn router(config: &GatewayConfig) -> Router {
    let csp = HeaderValue::from_str(&content_security_policy(&config.allowed_origins))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
    let files = ServeDir::new(&config.static_dir)
        .precompressed_br()
        .precompressed_gzip();
    Router::new()
        .fallback_service(files)
        .layer(CompressionLayer::new())
        .layer(from_fn_with_state(StaticHeaders { csp }, static_headers))
}

async fn static_headers(
    State(headers): State<StaticHeaders>,
    request: Request,
    next: Next,
) -> Response {
    let hashed = request
        .uri()
        .path()
        .rsplit('/')
        .next()
        .is_some_and(is_content_hashed);
    let mut response = next.run(request).await;
    let ok = response.status().is_success() || response.status().as_u16() == 304;
    let is_html = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    let out = response.headers_mut();
    let cache = if ok && hashed && !is_html {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    out.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    out.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    out.insert(
        CROSS_ORIGIN_RESOURCE_POLICY,
        HeaderValue::from_static("cross-origin"),
    );
    out.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // A page opened from a booking link carries the link in its address:
    // no other site is ever told it.
    out.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if is_html {
        out.insert(CONTENT_SECURITY_POLICY, headers.csp.clone());
        out.insert(
            PERMISSIONS_POLICY,
            HeaderValue::from_static(
                "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
            ),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_are_recognised() {
        for name in [
            "booking-widget-14587bb7ddbeabeb_bg.wasm",
            "booking-widget-14587bb7ddbeabeb.js",
            "widget-9d41bc9f07519cf7.css",
            "widget-3dab297c997f0b1.css",
        ] {
            assert!(is_content_hashed(name), "{name}");
        }
        for name in [
            "index.html",
            "widget.js",
            "widget-9d41bc9.css",
            "widget-9d41bc9f07519cf7a.css",
            "widget-9D41BC9F07519CF7.css",
            "widget-9d41bc9f07519cf7x.css",
            "widget-9d41bc9f07519cf7",
        ] {
            assert!(!is_content_hashed(name), "{name}");
        }
    }

    #[test]
    fn the_policy_allows_wasm_and_named_host_frames_only() {
        let csp = content_security_policy(&["https://www.agency.example".into()]);
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval';"));
        assert!(!csp.contains("unsafe-inline"));
        assert!(csp.ends_with("frame-ancestors 'self' https://www.agency.example"));
    }
}
