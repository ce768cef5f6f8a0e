//! Shared helpers for the gateway's HTTP tests.
//!
//! A [`Stack`] is a sandbox (in-process, test mode, in-memory database), a
//! [`Proxy`] in front of it that counts every upstream call, can fail,
//! stall, rate-limit or drop a field of the answers on demand and notes the
//! tokens the sandbox issues,
//! and a gateway pointed at the proxy, all on ephemeral ports. A [`Widget`]
//! talks to the gateway the way the browser widget does.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::Router;
use booking_core::api::PayOption;
use booking_gateway::{
    spawn_gateway, Clock, Credentials, GatewayConfig, ManualClock, ProductSettings, RunningGateway,
    Secret,
};
use booking_sandbox::{spawn_sandbox, RunningSandbox, SandboxConfig};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// The longest a test waits for a condition it waits on (a call the proxy
/// sees): far longer than any should take, so only a broken gateway meets
/// it.
pub const WAIT_LIMIT: Duration = Duration::from_secs(10);

/// A fresh agency account per stack, so tests never share wallets.
pub struct Account {
    pub client_id: String,
    pub api_key: String,
}

/// The signing key the stacks' gateways share.
pub const SIGNING_KEY: &str = "gateway-test-signing-key-0123456789abcdef";

/// Credits and balance every test account opens with.
pub const OPENING_CREDITS: i64 = 5;
pub const OPENING_BALANCE_PENCE: i64 = 100_000;

/// What the proxy does with the next requests.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Forward everything.
    Pass,
    /// Wait this long, then forward.
    Delay(Duration),
    /// Answer this status with a JSON message, forwarding nothing.
    Fail(u16),
    /// Answer 429 with `Retry-After` to the next `count` requests whose
    /// method and path match (`None` matches any).
    RateLimit {
        count: u32,
        retry_after: u64,
        method: Option<Method>,
        path: Option<String>,
    },
    /// Forward the next request with this method and path, so it takes
    /// effect upstream, then answer 502 as if its answer were lost; pass
    /// everything after it.
    LoseAnswer { method: Method, path: String },
    /// Forward the next request with this method and a path starting with
    /// `path_prefix`, so it takes effect upstream, then hold its answer back
    /// for `delay`; pass everything after it.
    DelayAnswer {
        method: Method,
        path_prefix: String,
        delay: Duration,
    },
    /// Keep the next request with this method and path in flight until
    /// `release` is notified; `fate` says whether it reaches the upstream
    /// and what its caller gets then.
    Stall {
        method: Method,
        path: String,
        fate: Fate,
        release: Arc<tokio::sync::Notify>,
    },
    /// Forward everything, and take `field` out of each JSON answer to a
    /// request whose path starts with `path_prefix` (out of the answer
    /// itself, and out of each item of a page's `data`), as an upstream
    /// that does not send it would.
    DropField {
        path_prefix: String,
        field: &'static str,
    },
    /// Forward everything, and put `field` with `value` into each JSON
    /// answer to a request whose path starts with `path_prefix` (as
    /// [`Mode::DropField`] takes one out), as an upstream that sends a
    /// field nobody reads would.
    AddField {
        path_prefix: String,
        field: &'static str,
        value: Value,
    },
}

/// What becomes of a request [`Mode::Stall`] keeps in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Forwarded at once (it takes effect upstream); its answer is
    /// delivered on release.
    Answered,
    /// Forwarded at once (it takes effect upstream); on release its answer
    /// is lost: 502, as from a load balancer whose server died before
    /// answering.
    AnswerLost,
    /// Never forwarded (seen at once, with status 502); on release it is
    /// answered 502, as from a load balancer whose server died before it
    /// got that far.
    NeverSent,
}

/// A fault the proxy puts on one upstream call ([`Proxy::fault_next`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forwarded, so the upstream acts; its answer breaks off after the
    /// status line (the body never comes).
    LostAnswer,
    /// Forwarded; the answer is held back for this long (past the
    /// gateway's upstream timeout).
    Timeout(Duration),
    /// Not forwarded: answered 500.
    ServerError,
    /// Not forwarded: answered 429 with `Retry-After` seconds.
    RateLimited(u64),
    /// Forwarded, so the upstream acts; its answer's body is cut-off JSON:
    /// at most its first 7 bytes, and never its last (so even `{}` breaks).
    Malformed,
    /// Not forwarded: answered 401, as to a token the upstream no longer
    /// takes.
    Unauthorized,
}

/// Which upstream calls a fault rule matches: a method, and a path (relative
/// to `/api/v1`, or starting `/bls/api/v1`) equal to or starting with one.
#[derive(Debug, Clone)]
pub struct Target {
    pub method: Method,
    pub path: String,
    /// Whether `path` is a prefix rather than the whole path.
    pub prefix: bool,
}

impl Target {
    /// Calls with `method` to exactly `path`.
    pub fn exactly(method: Method, path: impl Into<String>) -> Target {
        Target {
            method,
            path: path.into(),
            prefix: false,
        }
    }

    /// Calls with `method` to any path starting with `path`.
    pub fn starting(method: Method, path: impl Into<String>) -> Target {
        Target {
            method,
            path: path.into(),
            prefix: true,
        }
    }

    fn matches(&self, method: &Method, path: &str) -> bool {
        *method == self.method
            && if self.prefix {
                path.starts_with(&self.path)
            } else {
                path == self.path
            }
    }
}

/// A one-shot fault rule of the proxy.
#[derive(Debug, Clone)]
struct FaultRule {
    target: Target,
    /// Matching calls to let through first.
    skip: usize,
    fault: Fault,
}

/// One upstream request the proxy saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    /// Path relative to `/api/v1`, without the query.
    pub path: String,
    pub query: String,
    pub status: u16,
    pub request_body: Bytes,
    pub request_headers: HeaderMap,
    /// When the proxy received it: on the gateway's manual clock when the
    /// stack runs on one, else real time.
    pub at: std::time::Instant,
    /// The fault put on it, if any.
    pub fault: Option<Fault>,
}

struct ProxyState {
    target: String,
    client: reqwest::Client,
    /// Every call seen, in order; its receivers wake as each is noted.
    seen: watch::Sender<Vec<Seen>>,
    mode: Mutex<Mode>,
    tokens: Mutex<Vec<String>>,
    /// One-shot faults, the first matching rule taken.
    faults: Mutex<Vec<FaultRule>>,
    /// Connections to let through before closing one as soon as it is
    /// accepted, when armed; and how many were closed.
    to_refuse: Mutex<Option<usize>>,
    refused: std::sync::atomic::AtomicUsize,
    /// Whether every answer closes its connection (so each upstream call
    /// opens a new one).
    one_call_per_connection: std::sync::atomic::AtomicBool,
    /// The clock calls are stamped with, when not real time.
    clock: Mutex<Option<ManualClock>>,
}

/// How many of `seen` have this method and path.
fn count_of(seen: &[Seen], method: &Method, path: &str) -> usize {
    seen.iter()
        .filter(|seen| seen.method == *method && seen.path == path)
        .count()
}

impl ProxyState {
    /// Notes a call seen, waking whoever waits on the calls seen.
    fn note(&self, seen: Seen) {
        self.seen.send_modify(|all| all.push(seen));
    }
}

/// The proxy's listener: it closes the next connections at once when told
/// to refuse them ([`Proxy::refuse_connection_after`]).
struct RefusingListener {
    inner: TcpListener,
    state: Arc<ProxyState>,
}

impl axum::serve::Listener for RefusingListener {
    type Io = tokio::net::TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, address)) = self.inner.accept().await else {
                continue;
            };
            let refuse = {
                let mut armed = self.state.to_refuse.lock().unwrap();
                match *armed {
                    Some(0) => {
                        *armed = None;
                        true
                    }
                    Some(skip) => {
                        *armed = Some(skip - 1);
                        false
                    }
                    None => false,
                }
            };
            if refuse {
                self.state
                    .refused
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                drop(stream);
                continue;
            }
            return (stream, address);
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// A counting, fault-injecting reverse proxy in front of the sandbox.
pub struct Proxy {
    url: String,
    state: Arc<ProxyState>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Proxy {
    /// Starts a proxy to `target` (`http://ADDR`) on `listen`.
    pub async fn start(listen: SocketAddr, target: &str) -> Proxy {
        let listener = TcpListener::bind(listen).await.expect("proxy binds");
        let address = listener.local_addr().expect("address");
        let state = Arc::new(ProxyState {
            target: target.to_owned(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            seen: watch::Sender::new(Vec::new()),
            mode: Mutex::new(Mode::Pass),
            tokens: Mutex::new(Vec::new()),
            faults: Mutex::new(Vec::new()),
            to_refuse: Mutex::new(None),
            refused: Default::default(),
            one_call_per_connection: Default::default(),
            clock: Mutex::new(None),
        });
        let app = Router::new().fallback(forward).with_state(state.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let listener = RefusingListener {
            inner: listener,
            state: state.clone(),
        };
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Proxy {
            url: format!("http://{address}"),
            state,
            _stop: stop,
        }
    }

    /// Stamps the calls it sees with `clock` rather than real time.
    pub fn stamp_with(&self, clock: ManualClock) {
        *self.state.clock.lock().unwrap() = Some(clock);
    }

    /// The upstream base URL to give the gateway.
    pub fn api_url(&self) -> String {
        format!("{}/api/v1", self.url)
    }

    /// The Virtual BLS upstream base URL to give the gateway (its requests
    /// are seen with paths starting `/bls/api/v1`).
    pub fn bls_api_url(&self) -> String {
        format!("{}/bls/api/v1", self.url)
    }

    /// Sets what the proxy does next.
    pub fn set_mode(&self, mode: Mode) {
        *self.state.mode.lock().unwrap() = mode;
    }

    /// Every request seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.borrow().clone()
    }

    /// Waits until the requests seen satisfy `done`, woken as each is
    /// noted; fails the test naming `what` when they do not within
    /// [`WAIT_LIMIT`].
    pub async fn wait_until(&self, what: &str, mut done: impl FnMut(&[Seen]) -> bool) {
        let mut seen = self.state.seen.subscribe();
        tokio::time::timeout(WAIT_LIMIT, seen.wait_for(|all| done(all)))
            .await
            .unwrap_or_else(|_| panic!("waited {WAIT_LIMIT:?} for {what}"))
            .expect("the proxy's record lives as long as the proxy");
    }

    /// Forgets the requests seen so far.
    pub fn clear(&self) {
        self.state.seen.send_modify(Vec::clear);
    }

    /// Requests seen with this method and path.
    pub fn count(&self, method: Method, path: &str) -> usize {
        count_of(&self.seen(), &method, path)
    }

    /// Waits until `count` requests with this method and path have been
    /// seen (as [`Proxy::wait_until`]).
    pub async fn wait_for_count(&self, what: &str, method: Method, path: &str, count: usize) {
        self.wait_until(what, |seen| count_of(seen, &method, path) == count)
            .await;
    }

    /// Puts `fault` on the next upstream call `target` matches.
    pub fn fault_next(&self, target: Target, fault: Fault) {
        self.fault_after(target, 0, fault);
    }

    /// Lets `skip` upstream calls `target` matches through, then puts
    /// `fault` on the next.
    pub fn fault_after(&self, target: Target, skip: usize, fault: Fault) {
        self.state.faults.lock().unwrap().push(FaultRule {
            target,
            skip,
            fault,
        });
    }

    /// Lets `skip` connections through, then closes the next one made to
    /// the proxy as soon as it is accepted, before any request on it is
    /// read (as an upstream that is restarting does).
    pub fn refuse_connection_after(&self, skip: usize) {
        *self.state.to_refuse.lock().unwrap() = Some(skip);
    }

    /// How many connections the proxy closed unread.
    pub fn refused(&self) -> usize {
        self.state.refused.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Makes every answer close its connection, so that each upstream call
    /// opens a connection of its own (which [`Proxy::refuse_connection_after`]
    /// can then refuse).
    pub fn one_call_per_connection(&self) {
        self.state
            .one_call_per_connection
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// The upstream calls the proxy put `fault` on.
    pub fn faulted(&self, fault: Fault) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|seen| seen.fault == Some(fault))
            .collect()
    }

    /// Every access and refresh token the sandbox issued through the proxy.
    pub fn tokens(&self) -> Vec<String> {
        self.state.tokens.lock().unwrap().clone()
    }
}

async fn forward(
    State(state): State<Arc<ProxyState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let received = match &*state.clock.lock().unwrap() {
        Some(clock) => clock.now().into_std(),
        None => std::time::Instant::now(),
    };
    let path = uri
        .path()
        .strip_prefix("/api/v1")
        .unwrap_or(uri.path())
        .to_owned();
    let query = uri.query().unwrap_or("").to_owned();
    let fault = {
        let mut faults = state.faults.lock().unwrap();
        faults
            .iter()
            .position(|rule| rule.target.matches(&method, &path))
            .and_then(|index| match faults[index].skip {
                0 => Some(faults.remove(index).fault),
                _ => {
                    faults[index].skip -= 1;
                    None
                }
            })
    };
    let close = state
        .one_call_per_connection
        .load(std::sync::atomic::Ordering::SeqCst);
    let mut lose_answer = false;
    let mut answer_after = None;
    let mut stalled = None;
    let mut drop_field = None;
    let mut add_field = None;
    let mode = {
        let mut mode = state.mode.lock().unwrap();
        let current = mode.clone();
        if let Mode::Stall {
            method: stalled_method,
            path: stalled_path,
            fate,
            release,
        } = &*mode
        {
            if *stalled_method == method && *stalled_path == path {
                stalled = Some((*fate, release.clone()));
                *mode = Mode::Pass;
            }
        }
        if let Mode::DelayAnswer {
            method: delayed_method,
            path_prefix,
            delay,
        } = &*mode
        {
            if *delayed_method == method && path.starts_with(path_prefix.as_str()) {
                answer_after = Some(*delay);
                *mode = Mode::Pass;
            }
        }
        if let Mode::DropField { path_prefix, field } = &*mode {
            if path.starts_with(path_prefix.as_str()) {
                drop_field = Some(*field);
            }
        }
        if let Mode::AddField {
            path_prefix,
            field,
            value,
        } = &*mode
        {
            if path.starts_with(path_prefix.as_str()) {
                add_field = Some((*field, value.clone()));
            }
        }
        if let Mode::LoseAnswer {
            method: lost_method,
            path: lost_path,
        } = &*mode
        {
            if *lost_method == method && *lost_path == path {
                lose_answer = true;
                *mode = Mode::Pass;
            }
        }
        if let Mode::RateLimit {
            count,
            method: only_method,
            path: only_path,
            ..
        } = &mut *mode
        {
            let matches = only_method.as_ref().is_none_or(|m| *m == method)
                && only_path.as_ref().is_none_or(|p| *p == path);
            if !matches || *count == 0 {
                None
            } else {
                *count -= 1;
                Some(current)
            }
        } else {
            Some(current)
        }
    };
    let record = |status: u16| Seen {
        at: received,
        method: method.clone(),
        path: path.clone(),
        query: query.clone(),
        status,
        request_body: body.clone(),
        request_headers: headers.clone(),
        fault,
    };
    let closing = |mut response: Response| {
        if close {
            response
                .headers_mut()
                .insert("connection", axum::http::HeaderValue::from_static("close"));
        }
        response
    };
    match fault {
        Some(Fault::ServerError) => {
            state.note(record(500));
            return closing(json_response(
                500,
                json!({ "message": "Server Error" }),
                None,
            ));
        }
        Some(Fault::RateLimited(seconds)) => {
            state.note(record(429));
            return closing(json_response(
                429,
                json!({ "message": "Too Many Attempts." }),
                Some(seconds),
            ));
        }
        Some(Fault::Unauthorized) => {
            state.note(record(401));
            return closing(json_response(
                401,
                json!({ "message": "Unauthenticated." }),
                None,
            ));
        }
        Some(Fault::Timeout(delay)) => answer_after = Some(delay),
        _ => {}
    }
    match mode {
        Some(Mode::Fail(status)) => {
            state.note(record(status));
            return json_response(status, json!({ "message": "Server Error" }), None);
        }
        Some(Mode::RateLimit { retry_after, .. }) => {
            state.note(record(429));
            return json_response(
                429,
                json!({ "message": "Too Many Attempts." }),
                Some(retry_after),
            );
        }
        // A slow upstream, in real time: the delay is the behaviour under
        // test (the gateway's real-time upstream timeout meets it).
        Some(Mode::Delay(delay)) => tokio::time::sleep(delay).await,
        Some(
            Mode::Pass
            | Mode::LoseAnswer { .. }
            | Mode::DelayAnswer { .. }
            | Mode::Stall { .. }
            | Mode::DropField { .. }
            | Mode::AddField { .. },
        )
        | None => {}
    }
    if let Some((Fate::NeverSent, release)) = &stalled {
        state.note(record(502));
        release.notified().await;
        return json_response(502, json!({ "message": "Bad Gateway" }), None);
    }
    let mut request = state.client.request(
        method.clone(),
        format!(
            "{}{}",
            state.target,
            uri.path_and_query().map_or("/", |p| p.as_str())
        ),
    );
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    let Ok(upstream) = request.body(body.clone()).send().await else {
        state.note(record(502));
        return json_response(502, json!({ "message": "Bad Gateway" }), None);
    };
    let status = upstream.status().as_u16();
    let upstream_headers = upstream.headers().clone();
    let Ok(mut bytes) = upstream.bytes().await else {
        state.note(record(502));
        return json_response(502, json!({ "message": "Bad Gateway" }), None);
    };
    if let Some(field) = drop_field {
        bytes = without_field(&bytes, field);
    }
    if let Some((field, value)) = add_field {
        bytes = with_field(&bytes, field, value);
    }
    if status == 200 && (path == "/auth/token" || path == "/auth/refresh") {
        if let Ok(pair) = serde_json::from_slice::<Value>(&bytes) {
            let mut tokens = state.tokens.lock().unwrap();
            for field in ["access_token", "refresh_token"] {
                if let Some(token) = pair[field].as_str() {
                    tokens.push(token.to_owned());
                }
            }
        }
    }
    state.note(record(status));
    if let Some(delay) = answer_after {
        // An answer held back in real time: the late answer is the
        // behaviour under test (a timeout, or a race with another call).
        tokio::time::sleep(delay).await;
    }
    if let Some((fate, release)) = stalled {
        release.notified().await;
        lose_answer = fate == Fate::AnswerLost;
    }
    if lose_answer {
        return closing(json_response(
            502,
            json!({ "message": "Bad Gateway" }),
            None,
        ));
    }
    let mut response = Response::builder().status(status);
    for (name, value) in &upstream_headers {
        if name != "transfer-encoding" && name != "content-length" && name != "connection" {
            response = response.header(name, value);
        }
    }
    let body = match fault {
        Some(Fault::LostAnswer) => Body::from_stream(futures_util::stream::once(async {
            Err::<Bytes, std::io::Error>(std::io::Error::other("the answer was lost"))
        })),
        Some(Fault::Malformed) => Body::from(bytes.slice(..bytes.len().saturating_sub(1).min(7))),
        _ => Body::from(bytes),
    };
    closing(response.body(body).expect("response"))
}

/// A JSON answer without `field`, at its top level and in each item of
/// its `data`; any other answer as it is.
fn without_field(bytes: &Bytes, field: &str) -> Bytes {
    let Ok(mut answer) = serde_json::from_slice::<Value>(bytes) else {
        return bytes.clone();
    };
    if let Some(object) = answer.as_object_mut() {
        object.remove(field);
    }
    if let Some(items) = answer.get_mut("data").and_then(Value::as_array_mut) {
        for item in items.iter_mut().filter_map(Value::as_object_mut) {
            item.remove(field);
        }
    }
    Bytes::from(answer.to_string())
}

/// A JSON answer with `field` set to `value`, at its top level and in each
/// item of its `data`; any other answer as it is.
fn with_field(bytes: &Bytes, field: &str, value: Value) -> Bytes {
    let Ok(mut answer) = serde_json::from_slice::<Value>(bytes) else {
        return bytes.clone();
    };
    if let Some(object) = answer.as_object_mut() {
        object.insert(field.to_owned(), value.clone());
    }
    if let Some(items) = answer.get_mut("data").and_then(Value::as_array_mut) {
        for item in items.iter_mut().filter_map(Value::as_object_mut) {
            item.insert(field.to_owned(), value.clone());
        }
    }
    Bytes::from(answer.to_string())
}

fn json_response(status: u16, body: Value, retry_after: Option<u64>) -> Response {
    let mut response = Response::builder()
        .status(status)
        .header("content-type", "application/json");
    if let Some(seconds) = retry_after {
        response = response.header("retry-after", seconds.to_string());
    }
    response
        .body(Body::from(body.to_string()))
        .expect("response")
}

/// A sandbox, a proxy in front of it, and a gateway in front of that.
pub struct Stack {
    pub sandbox: RunningSandbox,
    pub proxy: Proxy,
    pub gateway: RunningGateway,
    pub account: Account,
    /// The Virtual BLS account, for a stack that books both products.
    pub bls_account: Option<Account>,
    pub client: reqwest::Client,
    pub static_dir: TempDir,
    /// The gateway's manual clock, for a stack started on one.
    pub clock: Option<ManualClock>,
}

/// A gateway configuration for `upstream` with a test account: every test
/// stack's gateway allows the widget page at `https://host.example`.
pub fn gateway_config(upstream: &str, account: &Account, static_dir: PathBuf) -> GatewayConfig {
    let mut config = GatewayConfig::new(upstream, static_dir);
    config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    config.credentials = Some(Credentials {
        client_id: account.client_id.clone(),
        api_key: Secret::new(account.api_key.clone()),
    });
    config.signing_key = Some(Secret::new(SIGNING_KEY.to_owned()));
    config.allowed_origins = vec![HOST_ORIGIN.to_owned()];
    config.rate_limit = 100_000;
    config.agency.contact_name = Some("Tom Birch".into());
    config.agency.contact_email = Some("tom.birch@northwestcare.example".into());
    config.agency.email = Some("accounts@northwestcare.example".into());
    config
}

/// The host page origin the test gateways allow.
pub const HOST_ORIGIN: &str = "https://host.example";

/// A directory removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Its path.
    pub fn path(&self) -> PathBuf {
        self.0.clone()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An empty directory for the gateway's files.
pub fn temp_dir(name: &str) -> TempDir {
    let dir = std::env::temp_dir().join(format!(
        "gateway-test-{name}-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    TempDir(dir)
}

fn rand_suffix() -> String {
    use rand::RngCore;
    format!("{:016x}", rand::rng().next_u64())
}

impl Stack {
    /// A stack with the default test gateway configuration.
    pub async fn start() -> Stack {
        Stack::start_with(|_, _| {}).await
    }

    /// A stack whose gateway books both products: Virtual BLS through the
    /// proxy with an account of its own, every pay option, and payment
    /// pages on PayPal's origin and the sandbox's stand-in; `configure`
    /// adjusts the rest.
    pub async fn start_both(configure: impl FnOnce(&mut GatewayConfig, &RunningSandbox)) -> Stack {
        Stack::start_products(true, SandboxConfig::for_tests(), None, configure).await
    }

    /// A stack whose gateway configuration `configure` adjusts.
    pub async fn start_with(configure: impl FnOnce(&mut GatewayConfig, &RunningSandbox)) -> Stack {
        Stack::start_products(false, SandboxConfig::for_tests(), None, configure).await
    }

    /// A stack whose gateway runs on a manual clock (see
    /// [`Stack::advance`]) in front of a sandbox started with `sandbox`;
    /// `configure` adjusts the gateway's configuration. The proxy stamps
    /// the calls it sees with the gateway's clock.
    pub async fn start_on_manual_clock(
        sandbox: SandboxConfig,
        configure: impl FnOnce(&mut GatewayConfig, &RunningSandbox),
    ) -> Stack {
        Stack::start_products(false, sandbox, Some(Clock::manual()), configure).await
    }

    /// A stack booking both products, as [`Stack::start_both`], whose
    /// gateway runs on a manual clock (see [`Stack::advance`]).
    pub async fn start_both_on_manual_clock(
        configure: impl FnOnce(&mut GatewayConfig, &RunningSandbox),
    ) -> Stack {
        Stack::start_products(
            true,
            SandboxConfig::for_tests(),
            Some(Clock::manual()),
            configure,
        )
        .await
    }

    async fn start_products(
        both: bool,
        sandbox: SandboxConfig,
        clock: Option<ManualClock>,
        configure: impl FnOnce(&mut GatewayConfig, &RunningSandbox),
    ) -> Stack {
        let sandbox = spawn_sandbox(sandbox).await.expect("sandbox starts");
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let account = create_account(&client, sandbox.url()).await;
        let proxy = Proxy::start(SocketAddr::from(([127, 0, 0, 1], 0)), sandbox.url()).await;
        let static_dir = temp_dir("static");
        let mut config = gateway_config(&proxy.api_url(), &account, static_dir.path());
        let bls_account = if both {
            let bls = create_bls_account(&client, sandbox.url()).await;
            config.virtual_bls = Some(ProductSettings {
                upstream: proxy.bls_api_url(),
                credentials: Some(Credentials {
                    client_id: bls.client_id.clone(),
                    api_key: Secret::new(bls.api_key.clone()),
                }),
                pay_options: PayOption::KNOWN.to_vec(),
                payment_origins: vec![
                    booking_gateway::PAYPAL_CHECKOUT.to_owned(),
                    sandbox.url().to_owned(),
                ],
            });
            Some(bls)
        } else {
            None
        };
        if let Some(clock) = &clock {
            config.clock = clock.clock();
            proxy.stamp_with(clock.clone());
        }
        configure(&mut config, &sandbox);
        let gateway = spawn_gateway(config).await.expect("gateway starts");
        Stack {
            sandbox,
            proxy,
            gateway,
            account,
            bls_account,
            client,
            static_dir,
            clock,
        }
    }

    /// Moves the gateway's manual clock and the sandbox's clock forward
    /// together by whole seconds: windows slide, caches go stale and holds
    /// lapse on both sides without waiting.
    pub async fn advance(&self, seconds: u32) {
        let clock = self.clock.as_ref().expect("a stack on a manual clock");
        self.advance_clock(i64::from(seconds)).await;
        clock.advance(Duration::from_secs(u64::from(seconds)));
    }

    /// A widget with a new session.
    pub async fn widget(&self) -> Widget {
        Widget::start(self.client.clone(), self.gateway.url()).await
    }

    /// A widget with a new session, connecting from `address`.
    pub async fn widget_from(&self, address: &str) -> Widget {
        Widget::start(client_from(address), self.gateway.url()).await
    }

    /// The test account, straight at the in-process sandbox.
    pub fn sandbox_account(&self) -> SandboxAccount<'_> {
        SandboxAccount {
            client: &self.client,
            url: self.sandbox.url(),
            account: &self.account,
        }
    }

    /// GET a sandbox API path with the account's token, straight from the sandbox.
    pub async fn sandbox_get(&self, path: &str) -> (StatusCode, Value) {
        self.sandbox_account().get(path).await
    }

    /// GET a path of the sandbox's Virtual BLS API with the Virtual BLS
    /// account's token, straight from the sandbox.
    pub async fn bls_sandbox_get(&self, path: &str) -> (StatusCode, Value) {
        let account = self
            .bls_account
            .as_ref()
            .expect("a stack booking both products");
        let api = format!("{}/bls/api/v1", self.sandbox.url());
        let pair: Value = self
            .client
            .post(format!("{api}/auth/token"))
            .json(&json!({ "hb_client_id": account.client_id, "api_key": account.api_key }))
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("json");
        let token = pair["access_token"].as_str().expect("access token");
        let reply = self
            .client
            .get(format!("{api}{path}"))
            .bearer_auth(token)
            .send()
            .await
            .expect("sandbox answers");
        let status = reply.status();
        (status, reply.json().await.expect("json"))
    }

    /// Sets switches of the sandbox's upstream profile (`/_sandbox/profile`).
    pub async fn set_profile(&self, switches: Value) {
        let reply = self
            .client
            .post(format!("{}/_sandbox/profile", self.sandbox.url()))
            .json(&switches)
            .send()
            .await
            .expect("sandbox answers");
        assert_eq!(reply.status(), StatusCode::OK, "{switches}");
    }

    /// The sandbox's bookings starting when the event does (test events
    /// start a week ahead at the same time, so a test compares counts).
    pub async fn bookings_on(&self, event_id: u64) -> Vec<Value> {
        self.sandbox_account().bookings_on(event_id).await
    }

    /// "Keep my seat" for `candidate`'s hold `old_ref` on `event_id`, with
    /// the release's answer held back 600 ms (the release takes effect
    /// upstream at once, the seat is not yet held again), and `other`'s hold
    /// on the event sent while that answer is held back: the renewal's
    /// answer and the other's.
    pub async fn hold_during_renewal(
        &self,
        candidate: &Widget,
        old_ref: &str,
        event_id: u64,
        other: &Widget,
    ) -> (Reply, Reply) {
        self.proxy.set_mode(Mode::DelayAnswer {
            method: Method::DELETE,
            path_prefix: "/training-events/hold/".to_owned(),
            delay: Duration::from_millis(600),
        });
        let renewing = {
            let candidate = candidate.clone();
            let body = json!({"event_id": event_id, "hold_ref": old_ref, "renew": true});
            tokio::spawn(async move { candidate.post("/holds", body, &[]).await })
        };
        self.proxy
            .wait_until("the renewal's release", |seen| {
                seen.iter().any(|seen| seen.method == Method::DELETE)
            })
            .await;
        let taken = other.hold(event_id, None).await;
        let renewed = renewing.await.expect("the renewal finishes");
        (renewed, taken)
    }

    /// The first and last UK dates of a range of `days` from the sandbox's
    /// today.
    pub async fn bls_range(&self, days: i64) -> (String, String) {
        let today =
            booking_core::uk_time::uk_today(sandbox_now(&self.client, self.sandbox.url()).await);
        let to = today + chrono::Duration::days(days);
        (today.to_string(), to.to_string())
    }

    /// The bookable Virtual BLS timeslots of course 41 in the next five
    /// weeks, as `widget` reads them.
    pub async fn bls_slots(&self, widget: &Widget) -> Vec<Value> {
        let (from, to) = self.bls_range(35).await;
        let reply = widget.timeslots(41, &from, &to).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let slots = reply.body.as_array().expect("a list").clone();
        assert!(slots.len() > 10, "{}", reply.text);
        slots
    }

    /// The account's credits for a course and its balance in pence.
    pub async fn wallet(&self, course_id: u64) -> (i64, i64) {
        self.sandbox_account().wallet(course_id).await
    }

    /// Creates an event of `course_id` at location 1, a week ahead, and
    /// returns its id.
    pub async fn create_event(&self, course_id: u64, capacity: u32) -> u64 {
        self.sandbox_account()
            .create_event_in(course_id, capacity, 7)
            .await
    }

    /// Creates an event of `course_id` at location 1, `days` ahead, and
    /// returns its id.
    pub async fn create_event_in(&self, course_id: u64, capacity: u32, days: i64) -> u64 {
        self.sandbox_account()
            .create_event_in(course_id, capacity, days)
            .await
    }

    /// Moves the sandbox clock forward.
    pub async fn advance_clock(&self, seconds: i64) {
        let reply = self
            .client
            .post(format!("{}/_sandbox/clock", self.sandbox.url()))
            .json(&json!({ "advance_seconds": seconds }))
            .send()
            .await
            .expect("clock");
        assert_eq!(reply.status(), StatusCode::OK);
    }
}

/// A test account straight at a sandbox (in process or a sandbox process) at `url` (`http://ADDR`), past the proxy and the
/// gateway.
pub struct SandboxAccount<'a> {
    /// The client it asks with.
    pub client: &'a reqwest::Client,
    /// The sandbox's base URL.
    pub url: &'a str,
    /// The account it asks as.
    pub account: &'a Account,
}

impl SandboxAccount<'_> {
    /// An access token for the account.
    pub async fn token(&self) -> String {
        let reply = self
            .client
            .post(format!("{}/api/v1/auth/token", self.url))
            .json(
                &json!({ "hb_client_id": self.account.client_id, "api_key": self.account.api_key }),
            )
            .send()
            .await
            .expect("token");
        let body: Value = reply.json().await.expect("json");
        body["access_token"]
            .as_str()
            .expect("access token")
            .to_owned()
    }

    /// GET an API path with the account's token.
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let token = self.token().await;
        let reply = self
            .client
            .get(format!("{}/api/v1{path}", self.url))
            .bearer_auth(token)
            .send()
            .await
            .expect("sandbox answers");
        let status = reply.status();
        (status, reply.json().await.expect("json"))
    }

    /// The account's bookings starting when the event does (test events
    /// start a week ahead at the same time, so a test compares counts).
    pub async fn bookings_on(&self, event_id: u64) -> Vec<Value> {
        let (_, event) = self.get(&format!("/training-events/{event_id}")).await;
        let (status, list) = self.get("/bookings?per_page=100").await;
        assert_eq!(status, StatusCode::OK);
        list["data"]
            .as_array()
            .expect("a list")
            .iter()
            .filter(|booking| booking["start_date"] == event["start_date"])
            .cloned()
            .collect()
    }

    /// The account's credits for a course and its balance in pence.
    pub async fn wallet(&self, course_id: u64) -> (i64, i64) {
        let (status, body) = self.get("/credits").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let credits = body["booking_credits"]
            .as_array()
            .expect("list")
            .iter()
            .find(|entry| entry["course_id"] == course_id)
            .map_or(0, |entry| entry["credits"].as_i64().expect("credits"));
        let balance =
            (body["booking_money_balance"].as_f64().expect("balance") * 100.0).round() as i64;
        (credits, balance)
    }

    /// Creates an event of `course_id` at location 1, a week ahead, and
    /// returns its id.
    pub async fn create_event(&self, course_id: u64, capacity: u32) -> u64 {
        self.create_event_in(course_id, capacity, 7).await
    }

    /// Creates an event of `course_id` at location 1, `days` ahead, and
    /// returns its id.
    pub async fn create_event_in(&self, course_id: u64, capacity: u32, days: i64) -> u64 {
        let now = sandbox_now(self.client, self.url).await;
        let start = now + chrono::Duration::days(days);
        let reply = self
            .client
            .post(format!("{}/_sandbox/training-events", self.url))
            .json(&json!({
                "course_id": course_id,
                "location_id": 1,
                "start_date": start.to_rfc3339(),
                "capacity": capacity,
            }))
            .send()
            .await
            .expect("fixture");
        assert_eq!(reply.status(), StatusCode::CREATED);
        let body: Value = reply.json().await.expect("json");
        body["id"].as_u64().expect("event id")
    }
}

/// The sandbox's current time.
pub async fn sandbox_now(client: &reqwest::Client, sandbox_url: &str) -> DateTime<Utc> {
    let body: Value = client
        .get(format!("{sandbox_url}/_sandbox/clock"))
        .send()
        .await
        .expect("clock")
        .json()
        .await
        .expect("json");
    DateTime::parse_from_rfc3339(body["now"].as_str().expect("now"))
        .expect("rfc 3339")
        .with_timezone(&Utc)
}

/// Creates an agency account with invoice payments, credits for every
/// seeded course and a balance.
pub async fn create_account(client: &reqwest::Client, sandbox_url: &str) -> Account {
    let courses: Vec<u64> = (1..=5).collect();
    create_product_account(client, sandbox_url, ("HB-T", "tdta_test_"), None, &courses).await
}

/// The Virtual BLS courses every test account has credits for.
pub const BLS_COURSES: [u64; 3] = [41, 42, 43];

/// Creates a Virtual BLS agency account with invoice payments, credits for
/// every seeded Virtual BLS course and a balance.
pub async fn create_bls_account(client: &reqwest::Client, sandbox_url: &str) -> Account {
    create_product_account(
        client,
        sandbox_url,
        ("HB-BLS-T", "bls_test_"),
        Some("virtual_bls"),
        &BLS_COURSES,
    )
    .await
}

/// Creates an account of `product` (the sandbox's default when `None`)
/// whose client id and key start with `prefixes`, with invoice payments,
/// credits for `courses` and a balance.
async fn create_product_account(
    client: &reqwest::Client,
    sandbox_url: &str,
    prefixes: (&str, &str),
    product: Option<&str>,
    courses: &[u64],
) -> Account {
    let account = Account {
        client_id: format!("{}{}", prefixes.0, &rand_suffix()[..8]).to_uppercase(),
        api_key: format!("{}{}", prefixes.1, rand_suffix()),
    };
    let credits: Vec<Value> = courses
        .iter()
        .map(|course| json!({ "course_id": course, "credits": OPENING_CREDITS }))
        .collect();
    let mut fixture = json!({
        "hb_client_id": account.client_id,
        "api_key": account.api_key,
        "name": "Test Care Staffing",
        "invoice_payments": true,
        "balance": OPENING_BALANCE_PENCE as f64 / 100.0,
        "credits": credits,
    });
    if let Some(product) = product {
        fixture["product"] = json!(product);
    }
    let reply = client
        .post(format!("{sandbox_url}/_sandbox/accounts"))
        .json(&fixture)
        .send()
        .await
        .expect("fixture");
    assert_eq!(reply.status(), StatusCode::CREATED);
    account
}

/// A gateway answer: status, headers and the body (JSON when there is one).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub body: Value,
}

/// Sends a request and insists that any body is JSON.
/// An error body without its `request_id` (each request has its own), after
/// checking it has one.
pub fn without_request_id(mut body: Value) -> Value {
    let id = body
        .as_object_mut()
        .and_then(|body| body.remove("request_id"));
    assert!(
        id.as_ref().is_some_and(Value::is_string),
        "an error body carries its request id: {body}"
    );
    body
}

pub async fn send(request: reqwest::RequestBuilder) -> Reply {
    let response = request.send().await.expect("gateway answers");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{status} without a JSON body: {text:?}"))
    };
    if status != StatusCode::NO_CONTENT && !status.is_success() {
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{status} error without a message: {text}"
        );
    }
    Reply {
        status,
        headers,
        text,
        body,
    }
}

/// The browser widget's side of the contract.
#[derive(Clone)]
pub struct Widget {
    pub client: reqwest::Client,
    pub base: String,
    pub session: String,
}

impl Widget {
    /// Loads the options and keeps the session they hand out.
    pub async fn start(client: reqwest::Client, base: &str) -> Widget {
        Widget::open(client, base, "").await
    }

    /// Loads the options of `product` and keeps the session they hand out.
    pub async fn start_for(client: reqwest::Client, base: &str, product: &str) -> Widget {
        Widget::open(client, base, &format!("?product={product}")).await
    }

    /// Loads `/api/options` with `query` and keeps the session handed out.
    async fn open(client: reqwest::Client, base: &str, query: &str) -> Widget {
        let reply = send(client.get(format!("{base}/api/options{query}"))).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let session = reply.body["session"]
            .as_str()
            .expect("a new session")
            .to_owned();
        Widget {
            client,
            base: base.to_owned(),
            session,
        }
    }

    /// GET an `/api` path with the session.
    pub async fn get(&self, path: &str) -> Reply {
        send(
            self.client
                .get(format!("{}/api{path}", self.base))
                .header("x-hbg-session", &self.session),
        )
        .await
    }

    /// POST JSON to an `/api` path with the session and extra headers.
    pub async fn post(&self, path: &str, body: Value, headers: &[(&str, &str)]) -> Reply {
        let mut request = self
            .client
            .post(format!("{}/api{path}", self.base))
            .header("x-hbg-session", &self.session)
            .json(&body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        send(request).await
    }

    /// DELETE an `/api` path with the session.
    pub async fn delete(&self, path: &str) -> Reply {
        send(
            self.client
                .delete(format!("{}/api{path}", self.base))
                .header("x-hbg-session", &self.session),
        )
        .await
    }

    /// Holds a seat, optionally naming a hold this session has.
    pub async fn hold(&self, event_id: u64, hold_ref: Option<&str>) -> Reply {
        let mut body = json!({ "event_id": event_id });
        if let Some(hold_ref) = hold_ref {
            body["hold_ref"] = json!(hold_ref);
        }
        self.post("/holds", body, &[]).await
    }

    /// Holds a seat and returns its reference, insisting on success.
    pub async fn hold_ref(&self, event_id: u64) -> String {
        granted_ref(self.hold(event_id, None).await)
    }

    /// Books a held seat with an idempotency key.
    pub async fn book(&self, hold_ref: &str, pay_option: &PayOption, key: &str) -> Reply {
        self.book_with(booking_body(hold_ref, pay_option.as_str()), key)
            .await
    }

    /// POSTs a booking `body` with an idempotency key.
    async fn book_with(&self, body: Value, key: &str) -> Reply {
        self.post("/bookings", body, &[("idempotency-key", key)])
            .await
    }

    /// The timeslots of a course in a range of UK dates.
    pub async fn timeslots(&self, course_id: u64, from: &str, to: &str) -> Reply {
        self.get(&format!(
            "/timeslots?course_id={course_id}&date_from={from}&date_to={to}"
        ))
        .await
    }

    /// Holds a timeslot, optionally naming a hold this session has on it.
    pub async fn hold_slot(&self, slot: &Value, hold_ref: Option<&str>) -> Reply {
        let mut body = json!({
            "course_id": slot["course"]["id"],
            "date": slot["date"],
            "time": slot["time"],
        });
        if let Some(hold_ref) = hold_ref {
            body["hold_ref"] = json!(hold_ref);
        }
        self.post("/timeslot-holds", body, &[]).await
    }

    /// Holds a timeslot and returns its reference, insisting on success.
    pub async fn slot_hold_ref(&self, slot: &Value) -> String {
        granted_ref(self.hold_slot(slot, None).await)
    }

    /// Books a held timeslot, with the kit's address, and an idempotency key.
    pub async fn book_slot(&self, hold_ref: &str, pay_option: &str, key: &str) -> Reply {
        self.book_with(bls_booking_body(hold_ref, pay_option), key)
            .await
    }
}

/// The reference of a granted hold, insisting the hold was granted.
fn granted_ref(reply: Reply) -> String {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.body["hold_ref"]
        .as_str()
        .expect("hold_ref")
        .to_owned()
}

/// A valid widget booking body for a Virtual BLS hold.
pub fn bls_booking_body(hold_ref: &str, pay_option: &str) -> Value {
    json!({
        "hold_ref": hold_ref,
        "first_name": "Owen",
        "last_name": "Hughes",
        "email": "owen.hughes@carestaff.example",
        "phone": "+447700900456",
        "pay_option": pay_option,
        "kit": { "address": "4 Mill Lane", "city": "Leeds", "postcode": "LS1 4AP" },
    })
}

/// A valid widget booking body.
pub fn booking_body(hold_ref: &str, pay_option: &str) -> Value {
    json!({
        "hold_ref": hold_ref,
        "first_name": "Priya",
        "last_name": "Patel",
        "email": "priya.patel@carestaff.example",
        "phone": "+447700900123",
        "job_role": "Healthcare Assistant",
        "pay_option": pay_option,
    })
}

/// A client connecting from `address` (any of 127.0.0.0/8 is this
/// machine, so each is another client address to the gateway).
pub fn client_from(address: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(address.parse::<std::net::IpAddr>().expect("an address"))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Asserts that the upstream saw no more than `limit` calls in any span of
/// `window`, and answered none of them 429.
pub fn assert_within_limit(seen: &[Seen], limit: usize, window: Duration) {
    assert!(
        seen.iter().all(|call| call.status != 429),
        "the upstream answered 429"
    );
    let mut times: Vec<_> = seen.iter().map(|call| call.at).collect();
    times.sort();
    for (index, start) in times.iter().enumerate() {
        let within = times[index..]
            .iter()
            .take_while(|at| at.duration_since(*start) < window)
            .count();
        assert!(
            within <= limit,
            "{within} upstream calls within {window:?} from call {index}"
        );
    }
}

/// A free local address nothing listens on (for "upstream down").
pub async fn unused_address() -> SocketAddr {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind");
    listener.local_addr().expect("address")
}

/// A stack (sandbox, counting proxy, first gateway) and a second gateway on
/// another port, both remembering in the same Redis.
pub struct TwoInstances {
    /// The sandbox, the proxy and the first instance.
    pub stack: Stack,
    /// The second instance.
    pub second: RunningGateway,
    /// The store both remember in.
    pub redis: RedisServer,
    _static_dir: TempDir,
}

impl TwoInstances {
    /// Starts Redis, the stack and the second instance.
    pub async fn start() -> TwoInstances {
        TwoInstances::start_with(|_| {}).await
    }

    /// Starts Redis, the stack and the second instance, both instances'
    /// configurations adjusted by `configure`.
    pub async fn start_with(configure: impl Fn(&mut GatewayConfig)) -> TwoInstances {
        let redis = RedisServer::start().await;
        let url = redis.url();
        let stack = Stack::start_with(|config, _| {
            config.pay_options = PayOption::KNOWN.to_vec();
            config.shared_store = Some(Secret::new(url.clone()));
            configure(config);
        })
        .await;
        let static_dir = temp_dir("second");
        let mut config = instance_config(&stack, &redis, &static_dir);
        configure(&mut config);
        let second = spawn_gateway(config).await.expect("second gateway starts");
        assert_ne!(second.url(), stack.gateway.url());
        TwoInstances {
            stack,
            second,
            redis,
            _static_dir: static_dir,
        }
    }

    /// The configuration of one more instance like these two, its files
    /// under `static_dir`.
    pub fn another_instance(&self, static_dir: &TempDir) -> GatewayConfig {
        instance_config(&self.stack, &self.redis, static_dir)
    }

    /// The same candidate (the same session) as `widget`, through the
    /// second instance.
    pub fn on_second(&self, widget: &Widget) -> Widget {
        Widget {
            base: self.second.url().to_owned(),
            ..widget.clone()
        }
    }
}

/// An instance's configuration: the stack's upstream and account, every pay
/// option, and `redis` as its shared store.
fn instance_config(stack: &Stack, redis: &RedisServer, static_dir: &TempDir) -> GatewayConfig {
    let mut config = gateway_config(&stack.proxy.api_url(), &stack.account, static_dir.path());
    config.pay_options = PayOption::KNOWN.to_vec();
    config.shared_store = Some(Secret::new(redis.url()));
    config
}

/// A Redis server of its own on a free loopback port (Debian's
/// `redis-server`, installed by `cargo xtask setup`), nothing saved to disk;
/// stopped when dropped.
pub struct RedisServer {
    child: std::process::Child,
    port: u16,
}

impl RedisServer {
    /// Starts one and waits until it answers.
    pub async fn start() -> RedisServer {
        RedisServer::start_on(unused_address().await.port()).await
    }

    /// Starts one on `port` and waits until it says it is ready and
    /// answers.
    async fn start_on(port: u16) -> RedisServer {
        let mut child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("redis-server runs (cargo xtask setup installs Debian's redis-server)");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (ready, is_ready) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            let mut ready = Some(ready);
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if line
                    .to_ascii_lowercase()
                    .contains("ready to accept connections")
                {
                    if let Some(ready) = ready.take() {
                        let _ = ready.send(());
                    }
                }
            }
        });
        let server = RedisServer { child, port };
        match tokio::time::timeout(WAIT_LIMIT, is_ready).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => panic!("redis-server stopped before it was ready on port {port}"),
            Err(_) => panic!("redis-server was not ready on port {port} within {WAIT_LIMIT:?}"),
        }
        assert!(
            server.answers().await,
            "redis-server answers on port {port}"
        );
        server
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Whether it answers a `PING`.
    async fn answers(&self) -> bool {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await else {
            return false;
        };
        let mut reply = [0u8; 7];
        stream.write_all(b"PING\r\n").await.is_ok()
            && stream.read_exact(&mut reply).await.is_ok()
            && &reply == b"+PONG\r\n"
    }

    /// Freezes it (`SIGSTOP`): connections stay open and nothing answers,
    /// as when the store's host stalls.
    pub fn freeze(&self) {
        assert!(self.signal("-STOP"), "redis-server frozen");
    }

    /// Thaws a frozen server (`SIGCONT`).
    pub fn thaw(&self) {
        assert!(self.signal("-CONT"), "redis-server thawed");
    }

    /// Whether `kill SIGNAL` reached the server.
    fn signal(&self, signal: &str) -> bool {
        std::process::Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }

    /// Kills it and starts a new one on the same port, empty (nothing is
    /// saved to disk), as when the store's host restarts.
    pub async fn restart(&mut self) {
        self.stop();
        *self = RedisServer::start_on(self.port).await;
    }

    /// Stops it now (a frozen one too).
    pub fn stop(&mut self) {
        self.signal("-CONT");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
