//! The HTML the stand-in pages share (the card checkout, the PayPal
//! checkout, the public booking page and the invite pages): escaping, and
//! the frame every page is served in, and how a start time is written.
//!
//! Invariants: every interpolated value is HTML-escaped; pages carry no
//! script and a Content-Security-Policy that forbids one.

use axum::http::header::CONTENT_SECURITY_POLICY;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use booking_core::uk_time::{to_uk, zone_label};

use super::clock::from_unix;

/// No scripts, no external resources, no framing.
const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'";

/// Escapes text for HTML element content and quoted attributes.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// What the card checkout stand-in's pages (and the invite pages) say they
/// stand in for.
pub(crate) const CARD_NOTICE: &str = "Sandbox checkout: no real card is charged.";

/// A complete page of the card checkout stand-in.
pub(crate) fn page(status: StatusCode, title: &str, body: &str) -> Response {
    stand_in_page(status, title, CARD_NOTICE, body)
}

/// A start time as the pages write it: the UK date and time with its zone,
/// "Monday 2 March 2026, 09:30 GMT".
pub(crate) fn uk_when(start_utc: i64) -> String {
    let start = to_uk(from_unix(start_utc));
    format!(
        "{} {}",
        start.format("%A %-d %B %Y, %H:%M"),
        zone_label(*start.offset())
    )
}

/// A complete page with the sandbox's styles, a notice saying what it
/// stands in for, and `body` (HTML, already escaped).
pub(crate) fn stand_in_page(status: StatusCode, title: &str, notice: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} - Sandbox checkout</title>\n<style>\n\
         body {{ font-family: system-ui, sans-serif; max-width: 32rem; margin: 2rem auto; padding: 0 1rem; color: #1b1b1b; }}\n\
         .notice {{ background: #fff4d6; border-left: 4px solid #b58100; padding: 0.5rem 0.75rem; }}\n\
         dl {{ display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; }}\n\
         dt {{ font-weight: 600; }}\n\
         button {{ font-size: 1.1rem; padding: 0.6rem 1.5rem; min-height: 44px; background: #1d4ed8; color: #fff; border: 0; border-radius: 4px; cursor: pointer; }}\n\
         button:focus-visible {{ outline: 3px solid #111; outline-offset: 2px; }}\n\
         </style>\n</head>\n<body>\n<main>\n\
         <p class=\"notice\">{notice}</p>\n\
         <h1>{title}</h1>\n{body}</main>\n</body>\n</html>\n",
        title = escape_html(title),
        notice = escape_html(notice),
    );
    let mut response = (status, Html(html)).into_response();
    response
        .headers_mut()
        .insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape_html(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }
}
