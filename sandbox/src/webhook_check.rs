//! Webhook signatures: how the sandbox signs a delivery and how an agency
//! checks one, and `booking-sandbox webhook-receiver`, a small receiver that
//! checks, de-duplicates and prints the events it is sent.
//!
//! This is the one place for the signing scheme, which the published API
//! leaves open (its webhooks section):
//! * **Inferred:** the signature is HMAC-SHA256, keyed with the endpoint's
//!   secret (its UTF-8 bytes), over `"{X-TDTA-Timestamp}.{raw body}"`, sent
//!   as lowercase hex in [`SIGNATURE_HEADER`] (`X-TDTA-Signature`, whose name
//!   is itself inferred).
//! * **Inferred:** a receiver refuses a timestamp more than
//!   [`TOLERANCE_SECONDS`] (five minutes) away from its own clock, in either
//!   direction, so a captured delivery cannot be replayed later.
//! * Documented: `X-TDTA-Event`, `X-TDTA-Event-Id` (the de-duplication key),
//!   `X-TDTA-Delivery-Id` and `X-TDTA-Timestamp` (Unix seconds).
//!
//! Invariants: a signature is compared in constant time; an event is
//! accepted at most once per event id (a repeat is acknowledged, not
//! reported again); nothing is reported before its signature and timestamp
//! are checked.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use tokio::net::TcpListener;

use booking_http::background::Background;

/// Header naming the event type, e.g. `booking.created` (documented).
pub const EVENT_HEADER: &str = "X-TDTA-Event";
/// Header carrying the event's UUID, the de-duplication key (documented).
pub const EVENT_ID_HEADER: &str = "X-TDTA-Event-Id";
/// Header carrying the numeric id of this delivery attempt (documented).
pub const DELIVERY_ID_HEADER: &str = "X-TDTA-Delivery-Id";
/// Header carrying the Unix time of dispatch, in seconds (documented).
pub const TIMESTAMP_HEADER: &str = "X-TDTA-Timestamp";
/// Header carrying the signature (inferred name).
pub const SIGNATURE_HEADER: &str = "X-TDTA-Signature";
/// How far a timestamp may be from the receiver's clock, in seconds
/// (inferred): five minutes.
pub const TOLERANCE_SECONDS: i64 = 300;
/// How many event ids a [`Verifier`] remembers for de-duplication.
const REMEMBERED_EVENTS: usize = 100_000;

type HmacSha256 = Hmac<Sha256>;

/// The signature of a delivery: HMAC-SHA256 with `secret` over
/// `"{timestamp}.{body}"`, as lowercase hex.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    signed(secret, timestamp, body)
        .map(|mac| {
            mac.finalize()
                .into_bytes()
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect()
        })
        .unwrap_or_default()
}

/// The HMAC keyed with the secret's bytes, fed `"{timestamp}.{body}"`
/// (`None` only if the key were refused, which HMAC never does).
fn signed(secret: &str, timestamp: i64, body: &[u8]) -> Option<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(mac)
}

/// Lowercase or uppercase hex to bytes; `None` if it is not hex.
fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|index| u8::from_str_radix(text.get(index..index + 2)?, 16).ok())
        .collect()
}

/// Why a delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// A required header is missing or not text.
    #[error("the {0} header is missing")]
    MissingHeader(&'static str),
    /// `X-TDTA-Timestamp` is not a whole number of seconds.
    #[error("the timestamp is not a Unix time in seconds")]
    BadTimestamp,
    /// The timestamp is more than five minutes from the receiver's clock.
    #[error("the timestamp is {0} seconds from now, more than the tolerance")]
    Stale(i64),
    /// The signature does not match the body, timestamp and secret.
    #[error("the signature does not match")]
    BadSignature,
    /// The body is not the documented envelope, or disagrees with the
    /// headers.
    #[error("the body is not a webhook envelope: {0}")]
    BadBody(&'static str),
}

impl Rejection {
    /// The HTTP status a receiver answers with: 401 for a signature or
    /// timestamp that does not check out, else 400.
    pub fn status(&self) -> StatusCode {
        match self {
            Rejection::BadSignature | Rejection::Stale(_) => StatusCode::UNAUTHORIZED,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// What a checked delivery turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Verified {
    /// An event not seen before: its envelope
    /// (`event_id`, `event_type`, `occurred_at`, `data`).
    New(Value),
    /// An event already accepted (a retry): its event id.
    Duplicate(String),
}

/// Checks deliveries for one endpoint secret and remembers the event ids
/// it has accepted.
#[derive(Debug)]
pub struct Verifier {
    secret: String,
    tolerance: i64,
    seen: HashSet<String>,
    order: VecDeque<String>,
}

impl Verifier {
    /// A verifier for `secret` with the five-minute tolerance.
    pub fn new(secret: impl Into<String>) -> Verifier {
        Verifier {
            secret: secret.into(),
            tolerance: TOLERANCE_SECONDS,
            seen: HashSet::new(),
            order: VecDeque::new(),
        }
    }

    /// Checks the signature and timestamp of a delivery received at
    /// `now` (Unix seconds), then its envelope, then whether its event was
    /// already accepted.
    pub fn check(
        &mut self,
        headers: &HeaderMap,
        body: &[u8],
        now: i64,
    ) -> Result<Verified, Rejection> {
        let envelope = self.authenticate(headers, body, now)?;
        let event_id = envelope
            .get("event_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if self.seen.contains(&event_id) {
            return Ok(Verified::Duplicate(event_id));
        }
        if self.order.len() >= REMEMBERED_EVENTS {
            if let Some(oldest) = self.order.pop_front() {
                self.seen.remove(&oldest);
            }
        }
        self.seen.insert(event_id.clone());
        self.order.push_back(event_id);
        Ok(Verified::New(envelope))
    }

    /// Checks timestamp, signature and envelope without remembering the
    /// event; returns the envelope.
    pub fn authenticate(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: i64,
    ) -> Result<Value, Rejection> {
        let header = |name: &'static str| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .ok_or(Rejection::MissingHeader(name))
        };
        let timestamp = header(TIMESTAMP_HEADER)?;
        let given = header(SIGNATURE_HEADER)?;
        let timestamp: i64 = timestamp
            .parse()
            .ok()
            .filter(|_| timestamp.bytes().all(|byte| byte.is_ascii_digit()))
            .ok_or(Rejection::BadTimestamp)?;
        let age = now.saturating_sub(timestamp);
        if age.abs() > self.tolerance {
            return Err(Rejection::Stale(age));
        }
        let given = decode_hex(given).ok_or(Rejection::BadSignature)?;
        signed(&self.secret, timestamp, body)
            .ok_or(Rejection::BadSignature)?
            .verify_slice(&given)
            .map_err(|_| Rejection::BadSignature)?;
        let envelope: Value =
            serde_json::from_slice(body).map_err(|_| Rejection::BadBody("not JSON"))?;
        let field = |name: &'static str| {
            envelope
                .get(name)
                .and_then(Value::as_str)
                .ok_or(Rejection::BadBody(name))
        };
        let event_id = field("event_id")?;
        let event_type = field("event_type")?;
        field("occurred_at")?;
        if !envelope.get("data").is_some_and(Value::is_object) {
            return Err(Rejection::BadBody("data"));
        }
        if header(EVENT_ID_HEADER)? != event_id || header(EVENT_HEADER)? != event_type {
            return Err(Rejection::BadBody("headers and body disagree"));
        }
        Ok(envelope)
    }
}

/// Where `webhook-receiver` reports each new event: one compact JSON line.
pub type Sink = Arc<dyn Fn(String) + Send + Sync>;

/// What the receiver's handler shares.
#[derive(Clone)]
struct ReceiverState {
    verifier: Arc<Mutex<Verifier>>,
    sink: Sink,
}

/// The receiver's routes: a POST to any path is a delivery.
pub fn receiver_router(secret: &str, sink: Sink) -> Router {
    let state = ReceiverState {
        verifier: Arc::new(Mutex::new(Verifier::new(secret))),
        sink,
    };
    Router::new().fallback(receive).with_state(state)
}

/// Checks one delivery: 200 for a new or repeated event (a repeat is not
/// reported again), 401 for a bad signature or timestamp, 400 otherwise.
async fn receive(
    State(state): State<ReceiverState>,
    method: axum::http::Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if method != axum::http::Method::POST {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            Json(json!({ "message": "Webhook deliveries are POST requests." })),
        )
            .into_response();
    }
    let now = chrono::Utc::now().timestamp();
    let checked = match state.verifier.lock() {
        Ok(mut verifier) => verifier.check(&headers, &body, now),
        Err(poisoned) => poisoned.into_inner().check(&headers, &body, now),
    };
    match checked {
        Ok(Verified::New(envelope)) => {
            (state.sink)(envelope.to_string());
            (StatusCode::OK, Json(json!({ "received": true }))).into_response()
        }
        Ok(Verified::Duplicate(event_id)) => (
            StatusCode::OK,
            Json(json!({ "received": true, "duplicate": event_id })),
        )
            .into_response(),
        Err(rejection) => {
            tracing::warn!(%rejection, "webhook delivery refused");
            (
                rejection.status(),
                Json(json!({ "message": rejection.to_string() })),
            )
                .into_response()
        }
    }
}

/// Runs the receiver in the foreground until `shutdown` resolves, printing
/// `webhook-receiver listening on http://ADDR`, then each new event as one
/// JSON line, on stdout.
pub async fn serve_receiver(
    listen: SocketAddr,
    secret: &str,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = TcpListener::bind(listen).await?;
    booking_http::announce("webhook-receiver", &listener)?;
    let sink: Sink = Arc::new(|line| {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    });
    axum::serve(listener, receiver_router(secret, sink))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Starts a receiver in the background of the current Tokio runtime,
/// reporting each new event to `sink`; for tests and tools.
pub async fn spawn_receiver(
    listen: SocketAddr,
    secret: &str,
    sink: Sink,
) -> std::io::Result<Background> {
    let listener = TcpListener::bind(listen).await?;
    let local_addr = listener.local_addr()?;
    let app = receiver_router(secret, sink);
    Ok(Background::spawn(local_addr, |stop| async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(timestamp: i64, signature: &str, id: &str, kind: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let mut put = |name: &'static str, value: &str| {
            headers.insert(name, HeaderValue::from_str(value).unwrap());
        };
        put(TIMESTAMP_HEADER, &timestamp.to_string());
        put(SIGNATURE_HEADER, signature);
        put(EVENT_ID_HEADER, id);
        put(EVENT_HEADER, kind);
        put(DELIVERY_ID_HEADER, "1");
        headers
    }

    #[test]
    fn a_known_vector() {
        // Computed independently (Python's hmac module).
        assert_eq!(
            signature("key", 1, b"x"),
            "fc4913c41a7bf793267e2a384f3261c9436ec2cd097bd745e7b0d99113f510ec"
        );
        assert_eq!(
            signature("whsec", 1_700_000_000, br#"{"a":1}"#),
            "8ad37ba156048ae0e0a5533c75cdf26fee88b07f93cb57ee4c80adb053012032"
        );
    }

    #[test]
    fn checks_signature_age_and_repeats() {
        let body = br#"{"event_id":"e1","event_type":"booking.created","occurred_at":"2026-07-20T14:17:04+00:00","data":{}}"#;
        let now = 1_800_000_000;
        let good = signature("s3cret", now, body);
        let mut verifier = Verifier::new("s3cret");
        let ok = headers(now, &good, "e1", "booking.created");
        assert!(matches!(
            verifier.check(&ok, body, now),
            Ok(Verified::New(_))
        ));
        assert_eq!(
            verifier.check(&ok, body, now + 1),
            Ok(Verified::Duplicate("e1".into()))
        );
        let forged = headers(now, &signature("other", now, body), "e1", "booking.created");
        assert_eq!(
            verifier.check(&forged, body, now),
            Err(Rejection::BadSignature)
        );
        let stale = headers(now - 301, &signature("s3cret", now - 301, body), "e1", "x");
        assert_eq!(
            verifier.check(&stale, body, now),
            Err(Rejection::Stale(301))
        );
        let moved = headers(now - 10, &good, "e1", "booking.created");
        assert_eq!(
            verifier.check(&moved, body, now),
            Err(Rejection::BadSignature)
        );
        let mismatch = headers(now, &good, "e2", "booking.created");
        assert!(matches!(
            Verifier::new("s3cret").check(&mismatch, body, now),
            Err(Rejection::BadBody(_))
        ));
    }
}
