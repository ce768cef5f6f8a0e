//! Shared helpers for the sandbox's HTTP tests: an in-process sandbox on an
//! ephemeral port (in-memory database, test mode), sign-in, and small
//! request helpers that insist on JSON bodies.

pub mod bls;
pub mod receiver;

use booking_sandbox::{spawn_sandbox, DatabaseLocation, RunningSandbox, SandboxConfig};
use chrono::{DateTime, Duration, FixedOffset, Utc};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// HB-DEMO's credentials.
pub const DEMO: (&str, &str) = ("HB-DEMO", "sandbox-key");
/// HB-DEMO-NOINV's credentials.
pub const NOINV: (&str, &str) = ("HB-DEMO-NOINV", "sandbox-key-noinv");

/// A running sandbox and a client for it.
pub struct Harness {
    /// The server (stops when dropped).
    pub sandbox: RunningSandbox,
    /// HTTP client that does not follow redirects.
    pub client: reqwest::Client,
}

/// A response: status, headers and the body parsed as JSON.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Harness {
    /// A sandbox with the test configuration.
    pub async fn start() -> Harness {
        Harness::start_with(SandboxConfig::for_tests()).await
    }

    /// A test sandbox over a new SQLite file in its own temporary
    /// directory, retrying webhooks after 50 ms.
    pub async fn start_with_file() -> Harness {
        Harness::start_with(SandboxConfig {
            db: DatabaseLocation::File(temp_db()),
            webhook_retry_ms: Some(50),
            ..SandboxConfig::for_tests()
        })
        .await
    }

    /// A sandbox with a custom configuration.
    pub async fn start_with(config: SandboxConfig) -> Harness {
        let sandbox = spawn_sandbox(config).await.expect("sandbox starts");
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Harness { sandbox, client }
    }

    /// Absolute URL of an API path (`/training-events`).
    pub fn api(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.api_url())
    }

    /// Absolute URL of a non-API path (`/_sandbox/clock`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.url())
    }

    /// Sends a request with an optional bearer token and raw body; the reply
    /// body must be JSON.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self.client.request(method.clone(), url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request.send().await.expect("request is answered");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body");
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            panic!(
                "{method} {url} answered {status} without a JSON body: {:?}",
                String::from_utf8_lossy(&bytes)
            )
        });
        Reply {
            status,
            headers,
            body,
        }
    }

    /// GET an API path.
    pub async fn get(&self, token: &str, path: &str) -> Reply {
        self.send(Method::GET, &self.api(path), Some(token), None, &[])
            .await
    }

    /// POST JSON to an API path.
    pub async fn post(&self, token: Option<&str>, path: &str, body: Value) -> Reply {
        let bytes = serde_json::to_vec(&body).expect("json");
        self.send(Method::POST, &self.api(path), token, Some(bytes), &[])
            .await
    }

    /// POST without a body to an API path.
    pub async fn post_empty(&self, token: &str, path: &str) -> Reply {
        self.send(Method::POST, &self.api(path), Some(token), None, &[])
            .await
    }

    /// DELETE an API path.
    pub async fn delete(&self, token: &str, path: &str) -> Reply {
        self.send(Method::DELETE, &self.api(path), Some(token), None, &[])
            .await
    }

    /// POST JSON to a test-mode path (`/_sandbox/...`).
    pub async fn fixture(&self, path: &str, body: Value) -> Reply {
        let bytes = serde_json::to_vec(&body).expect("json");
        self.send(Method::POST, &self.url(path), None, Some(bytes), &[])
            .await
    }

    /// Signs in and returns the access token.
    pub async fn login(&self, (client_id, api_key): (&str, &str)) -> String {
        let reply = self
            .post(
                None,
                "/auth/token",
                json!({ "hb_client_id": client_id, "api_key": api_key }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body["access_token"]
            .as_str()
            .expect("access token")
            .to_owned()
    }

    /// The sandbox's current time.
    pub async fn now(&self) -> DateTime<Utc> {
        let reply = self
            .send(Method::GET, &self.url("/_sandbox/clock"), None, None, &[])
            .await;
        parse_time(&reply.body["now"]).with_timezone(&Utc)
    }

    /// Moves the sandbox clock forward.
    pub async fn advance(&self, seconds: i64) {
        let reply = self
            .fixture("/_sandbox/clock", json!({ "advance_seconds": seconds }))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }

    /// Creates an account through the fixture endpoint.
    pub async fn create_account(&self, client_id: &str, api_key: &str, extra: Value) -> Value {
        let mut body = json!({ "hb_client_id": client_id, "api_key": api_key });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        let reply = self.fixture("/_sandbox/accounts", body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body
    }

    /// Creates an event of `course_id` at location 1 starting `hours_ahead`
    /// hours from the sandbox's now, and returns its id.
    pub async fn create_event(&self, course_id: i64, capacity: i64, hours_ahead: i64) -> i64 {
        let start = self.now().await + Duration::hours(hours_ahead);
        let reply = self
            .fixture(
                "/_sandbox/training-events",
                json!({
                    "course_id": course_id,
                    "location_id": 1,
                    "start_date": start.to_rfc3339(),
                    "capacity": capacity,
                }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body["id"].as_i64().expect("event id")
    }

    /// Holds a seat.
    pub async fn hold(&self, token: &str, event_id: i64) -> Reply {
        self.post_empty(token, &format!("/training-events/{event_id}/hold"))
            .await
    }

    /// Holds a seat and returns the hold hash, insisting on success.
    pub async fn hold_hash(&self, token: &str, event_id: i64) -> String {
        let reply = self.hold(token, event_id).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body["hold_hash"].as_str().expect("hash").to_owned()
    }

    /// Books with a hold and a pay option.
    pub async fn book(&self, token: &str, hold_hash: &str, pay_option: &str) -> Reply {
        self.post(
            Some(token),
            "/bookings",
            booking_body(hold_hash, pay_option),
        )
        .await
    }

    /// Registers a webhook endpoint for `events` at `url`; returns the
    /// answer (with the secret).
    pub async fn create_endpoint(&self, token: &str, url: &str, events: &[&str]) -> Value {
        let reply = self
            .post(
                Some(token),
                "/webhooks",
                json!({ "name": "Test feed", "url": url, "events": events }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body
    }

    /// The test-mode delivery log of the account signed in with `token`,
    /// filtered by a query string (`?endpoint_id=1`).
    pub async fn deliveries(&self, token: &str, query: &str) -> Vec<Value> {
        let reply = self
            .send(
                Method::GET,
                &self.url(&format!("/_sandbox/webhook-deliveries{query}")),
                Some(token),
                None,
                &[],
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body["data"].as_array().expect("deliveries").clone()
    }

    /// Remaining seats of an event.
    pub async fn remaining(&self, token: &str, event_id: i64) -> i64 {
        let reply = self
            .get(token, &format!("/training-events/{event_id}"))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body["remaining_slots"].as_i64().expect("remaining")
    }

    /// The account's credits and balance.
    pub async fn credits(&self, token: &str) -> Value {
        let reply = self.get(token, "/credits").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body
    }

    /// Number of wallet transactions of the account.
    pub async fn transaction_count(&self, token: &str) -> i64 {
        let reply = self.get(token, "/transactions").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body["meta"]["total"].as_i64().expect("total")
    }
}

/// A complete, valid booking body.
pub fn booking_body(hold_hash: &str, pay_option: &str) -> Value {
    json!({
        "hold_hash": hold_hash,
        "first_name": "Priya",
        "last_name": "Patel",
        "email": "priya.patel@carestaff.example",
        "phone": "+447700900123",
        "job_role": "Healthcare Assistant",
        "pay_option": pay_option,
        "agency_contact_name": "Tom Birch",
        "agency_contact_email": "tom.birch@northwestcare.example",
        "agency_email": "accounts@northwestcare.example"
    })
}

/// Parses an RFC 3339 JSON string.
pub fn parse_time(value: &Value) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(value.as_str().expect("timestamp string"))
        .unwrap_or_else(|error| panic!("{value} is not RFC 3339: {error}"))
}

/// Credits for a course in a `/credits` body.
pub fn credits_for(credits: &Value, course_id: i64) -> i64 {
    credits["booking_credits"]
        .as_array()
        .expect("list")
        .iter()
        .find(|entry| entry["course_id"] == course_id)
        .map_or(0, |entry| entry["credits"].as_i64().expect("credits"))
}

/// Money balance in pence from a `/credits` body.
pub fn balance_pence(credits: &Value) -> i64 {
    (credits["booking_money_balance"].as_f64().expect("balance") * 100.0).round() as i64
}

/// A new SQLite file path in a fresh temporary directory.
pub fn temp_db() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "sandbox-test-{}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst),
        Utc::now().timestamp_nanos_opt().unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    dir.join("sandbox.sqlite3")
}

/// Every webhook event type the sandbox sends.
pub const ALL_EVENTS: &[&str] = &[
    "booking.created",
    "booking.confirmed",
    "booking.cancelled",
    "booking.rescheduled",
    "booking.attendance_marked",
    "booking.no_show",
    "booking.certificate_available",
    "hold.expired",
    "training_event.seats_low",
    "credits.low",
    "credits.depleted",
    "balance.low",
    "balance.depleted",
    "booking_invite.sent",
    "booking_invite.opened",
    "booking_invite.used",
    "webhook.test",
];
