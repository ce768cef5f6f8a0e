//! A scriptable webhook receiver for the tests: it records every request
//! as it arrives (repeats and unanswered ones included) and every answer it
//! gives, can fail the first N or hold one open until the test lets it go,
//! and checks each delivery with `booking_sandbox::webhook_check::Verifier`,
//! the code agencies' receivers use (which accepts each event id once).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
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
use tokio::sync::{oneshot, watch};

/// How long a wait on the receiver lasts before the test fails.
const PATIENCE: Duration = Duration::from_secs(15);

/// One request the receiver answered (or decided the answer of, for a
/// request held after checking).
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
        header(&self.headers, name)
    }
}

/// One request as it arrived, before anything was made of it.
#[derive(Debug, Clone)]
pub struct Arrival {
    /// Its headers.
    pub headers: HeaderMap,
    /// Its raw body.
    pub body: Vec<u8>,
}

impl Arrival {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> &str {
        header(&self.headers, name)
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
}

/// Where a held request waits for the test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldPoint {
    /// Accepted but not yet checked: the receiver has made nothing of it.
    BeforeChecking,
    /// Checked (the verifier has accepted or refused its event) and its
    /// answer decided, but the answer not yet sent.
    BeforeAnswering,
}

/// The request the receiver is to hold next.
struct HoldOrder {
    at: HoldPoint,
    reached: oneshot::Sender<Arrival>,
    release: oneshot::Receiver<()>,
}

/// A request the receiver holds (or will hold when it comes) at a
/// [`HoldPoint`]; it goes on as usual once released or dropped.
pub struct Held {
    reached: Option<oneshot::Receiver<Arrival>>,
    release: oneshot::Sender<()>,
}

impl Held {
    /// Waits until the held request has arrived and reached its hold
    /// point; returns it as it arrived.
    pub async fn reached(&mut self) -> Arrival {
        let reached = self.reached.take().expect("reached is awaited once");
        tokio::time::timeout(PATIENCE, reached)
            .await
            .expect("gave up waiting for the held request")
            .expect("the receiver kept the hold")
    }

    /// Lets the held request go on: it is checked (if it was not yet) and
    /// answered.
    pub fn release(self) {
        let _ = self.release.send(());
    }
}

struct Shared {
    verifier: Mutex<Option<Verifier>>,
    fail_next: AtomicUsize,
    hold_next: Mutex<Option<HoldOrder>>,
    arrivals: Mutex<Vec<Arrival>>,
    requests: Mutex<Vec<Received>>,
    changed: watch::Sender<()>,
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
        let shared = Arc::new(Shared {
            verifier: Mutex::new(None),
            fail_next: AtomicUsize::new(0),
            hold_next: Mutex::new(None),
            arrivals: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            changed: watch::Sender::new(()),
        });
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

    /// Holds the next request open at `at` until the returned [`Held`] is
    /// released or dropped.
    pub fn hold_next(&self, at: HoldPoint) -> Held {
        let (reached_tx, reached_rx) = oneshot::channel();
        let (release_tx, release_rx) = oneshot::channel();
        *self.shared.hold_next.lock().unwrap() = Some(HoldOrder {
            at,
            reached: reached_tx,
            release: release_rx,
        });
        Held {
            reached: Some(reached_rx),
            release: release_tx,
        }
    }

    /// Every request so far as it arrived, in order: repeats of an event,
    /// and requests never answered (held, or cut off), included.
    pub fn arrivals(&self) -> Vec<Arrival> {
        self.shared.arrivals.lock().unwrap().clone()
    }

    /// Every request answered so far (a request held before answering
    /// counts once its answer is decided), repeats included.
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

    /// Waits until `check` gives a value, looking again each time a request
    /// arrives or is answered; fails the test after 15 seconds, naming
    /// what it waited for.
    pub async fn wait_until<T>(&self, what: &str, mut check: impl FnMut(&Self) -> Option<T>) -> T {
        let mut changed = self.shared.changed.subscribe();
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            if let Some(value) = check(self) {
                return value;
            }
            tokio::time::timeout_at(deadline, changed.changed())
                .await
                .unwrap_or_else(|_| panic!("gave up waiting for {what}"))
                .expect("the receiver is running");
        }
    }

    /// Waits until `count` new events have been accepted and returns them.
    pub async fn wait_for_events(&self, count: usize) -> Vec<Value> {
        self.wait_until(&format!("{count} webhook events"), |receiver| {
            let events = receiver.events();
            (events.len() >= count).then_some(events)
        })
        .await
    }

    /// Waits until `count` requests have been answered and returns them.
    pub async fn wait_for_requests(&self, count: usize) -> Vec<Received> {
        self.wait_until(&format!("{count} answered requests"), |receiver| {
            let requests = receiver.requests();
            (requests.len() >= count).then_some(requests)
        })
        .await
    }
}

async fn receive(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let arrival = Arrival {
        headers: headers.clone(),
        body: body.to_vec(),
    };
    shared.arrivals.lock().unwrap().push(arrival.clone());
    shared.changed.send_replace(());
    let hold = shared.hold_next.lock().unwrap().take();
    let hold = match hold {
        Some(order) if order.at == HoldPoint::BeforeChecking => {
            let _ = order.reached.send(arrival.clone());
            let _ = order.release.await;
            None
        }
        other => other,
    };
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
    shared.changed.send_replace(());
    if let Some(order) = hold {
        let _ = order.reached.send(arrival);
        let _ = order.release.await;
    }
    status
}

/// Polls `check` every 20 ms until it gives a value; fails the test after
/// 15 seconds, naming what it waited for. For what the receiver sees, use
/// [`TestReceiver::wait_until`], which is woken by each request instead.
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
        // The poll interval of a condition wait: what is polled (the
        // sandbox's delivery log, database or log output) cannot announce a
        // change.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// HMAC-SHA256 keyed with `secret`'s bytes over `"{timestamp}.{body}"`, as
/// lowercase hex: the documented scheme, written here apart from the
/// sandbox's `webhook_check::signature`.
pub fn hmac_sha256_hex(secret: &str, timestamp: i64, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
