//! A scriptable webhook receiver for the tests: it records every request,
//! can fail the first N or answer slowly, and checks each delivery with
//! `booking_sandbox::webhook_check::Verifier`, the code agencies' receivers
//! use.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Router;
use booking_http::background::Background;
use booking_sandbox::webhook_check::{Rejection, Verified, Verifier};
use serde_json::Value;
use tokio::net::TcpListener;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// Its headers.
    pub headers: HeaderMap,
    /// Its raw body.
    pub body: Vec<u8>,
    /// What the verifier made of it (`None` when it was failed on purpose
    /// before checking).
    pub checked: Option<Result<Verified, Rejection>>,
    /// The status answered.
    pub status: u16,
}

impl Received {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
    }
}

#[derive(Default)]
struct Shared {
    verifier: Mutex<Option<Verifier>>,
    fail_next: AtomicUsize,
    delay_next_ms: AtomicU64,
    requests: Mutex<Vec<Received>>,
}

/// A receiver on an ephemeral loopback port.
pub struct TestReceiver {
    /// `http://127.0.0.1:PORT/hook`.
    pub url: String,
    shared: Arc<Shared>,
    _server: Background,
}

impl TestReceiver {
    /// Starts a receiver that answers 200 to every correctly signed
    /// delivery once given the secret.
    pub async fn start() -> TestReceiver {
        let shared = Arc::new(Shared::default());
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let app = Router::new().fallback(receive).with_state(shared.clone());
        let server = Background::spawn(address, |stop| async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await
        });
        TestReceiver {
            url: format!("http://{address}/hook"),
            shared,
            _server: server,
        }
    }

    /// Checks deliveries with this endpoint secret from now on.
    pub fn set_secret(&self, secret: &str) {
        *self.shared.verifier.lock().unwrap() = Some(Verifier::new(secret));
    }

    /// Answers the next `count` requests 500.
    pub fn fail_next(&self, count: usize) {
        self.shared.fail_next.store(count, Ordering::SeqCst);
    }

    /// Waits this long before answering the next request.
    pub fn delay_next(&self, delay: Duration) {
        self.shared
            .delay_next_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Received> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// The envelopes of the new (not repeated) events accepted, in order.
    pub fn events(&self) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter_map(|request| match request.checked {
                Some(Ok(Verified::New(envelope))) => Some(envelope),
                _ => None,
            })
            .collect()
    }

    /// The `event_type`s of [`Self::events`].
    pub fn event_types(&self) -> Vec<String> {
        self.events()
            .iter()
            .map(|event| event["event_type"].as_str().unwrap_or("").to_owned())
            .collect()
    }

    /// Requests the verifier refused.
    pub fn rejections(&self) -> Vec<Rejection> {
        self.requests()
            .into_iter()
            .filter_map(|request| match request.checked {
                Some(Err(rejection)) => Some(rejection),
                _ => None,
            })
            .collect()
    }

    /// Waits until `count` new events have been accepted and returns them.
    pub async fn wait_for_events(&self, count: usize) -> Vec<Value> {
        eventually(&format!("{count} webhook events"), || async {
            let events = self.events();
            (events.len() >= count).then_some(events)
        })
        .await
    }
}

async fn receive(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let delay = shared.delay_next_ms.swap(0, Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let failing = shared
        .fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
            left.checked_sub(1)
        })
        .is_ok();
    let (checked, status) = if failing {
        (None, StatusCode::INTERNAL_SERVER_ERROR)
    } else {
        let now = chrono::Utc::now().timestamp();
        let checked = shared
            .verifier
            .lock()
            .unwrap()
            .as_mut()
            .map(|verifier| verifier.check(&headers, &body, now));
        let status = match &checked {
            Some(Ok(_)) => StatusCode::OK,
            Some(Err(rejection)) => rejection.status(),
            None => StatusCode::SERVICE_UNAVAILABLE,
        };
        (checked, status)
    };
    shared.requests.lock().unwrap().push(Received {
        headers,
        body: body.to_vec(),
        checked,
        status: status.as_u16(),
    });
    status
}

/// Polls `check` every 20 ms until it gives a value; fails the test after
/// 15 seconds, naming what it waited for.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
