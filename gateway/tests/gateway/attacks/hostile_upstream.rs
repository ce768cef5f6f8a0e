//! Attacks by the upstream itself: a hostile (or broken) booking API that
//! answers with numbers out of every range, dates out of the calendar, wrong
//! types, missing and extra fields, cut-off and empty bodies, wrong content
//! types and odd statuses. Whatever it answers, the gateway must not panic:
//! the widget gets a valid answer or a clear JSON error, never a 500, and a
//! hold the upstream granted is still the candidate's.
//!
//! The hostile upstream is a small server on an ephemeral port standing in
//! for both products' upstreams. It answers most requests with a valid
//! answer for the route or a mutation of one, so the gateway gets deep into
//! its logic before it meets the hostile part.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, Once};
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;
use axum::Router;
use booking_core::api::PayOption;
use booking_gateway::{
    spawn_gateway, Credentials, GatewayConfig, ProductSettings, RunningGateway, Secret,
};
use chrono::{Duration, Utc};
use rand::seq::IndexedRandom;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::support::{
    bls_booking_body, booking_body, gateway_config, send, temp_dir, Account, Reply, TempDir,
};

/// The most a hold's countdown may show, in seconds: a day. An upstream
/// that grants a longer hold is read as granting a day.
const A_DAY: i64 = 24 * 60 * 60;

/// Widget requests the fuzz test sends by default.
const FUZZ_REQUESTS: usize = 2_000;

/// Environment variable that fixes the fuzz test's seed.
const SEED_VARIABLE: &str = "HOSTILE_UPSTREAM_SEED";

/// Environment variable that changes the fuzz test's number of requests.
const REQUESTS_VARIABLE: &str = "HOSTILE_UPSTREAM_REQUESTS";

// ---------------------------------------------------------------------------
// Counting panics on the gateway's threads.

/// Every panic seen on a thread whose name starts with a test's prefix:
/// the thread's name and where and why it panicked.
static PANICS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// Installs (once) a panic hook that notes every panic on a named runtime
/// thread, then reports it as the previous hook would.
fn count_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current().name().unwrap_or("").to_owned();
            if thread.starts_with(THREAD_PREFIX) {
                let at = info
                    .location()
                    .map_or_else(String::new, |at| format!("{}:{}", at.file(), at.line()));
                let why = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|text| (*text).to_owned())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                PANICS
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push((thread, format!("{at}: {why}")));
            }
            previous(info);
        }));
    });
}

/// The prefix of every runtime thread these tests start.
const THREAD_PREFIX: &str = "hostile-upstream-";

/// The panics seen so far on the threads of the runtime named `name`.
fn panics_on(name: &str) -> Vec<String> {
    PANICS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .filter(|(thread, _)| thread == name)
        .map(|(_, panic)| panic.clone())
        .collect()
}

/// A runtime whose threads (and so the gateway's, and the hostile
/// upstream's) are named `name`, for [`panics_on`].
fn runtime(name: &str) -> tokio::runtime::Runtime {
    count_panics();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name)
        .enable_all()
        .build()
        .expect("a runtime")
}

// ---------------------------------------------------------------------------
// The hostile upstream.

/// Which product's upstream a request reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Practical,
    VirtualBls,
}

/// The upstream route a request asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Token,
    Refresh,
    Revoke,
    Profile,
    Courses,
    TrainingEvents,
    Timeslots,
    HoldEvent(u64),
    HoldSlot,
    Release,
    CreateBooking,
    ReadBooking(u64),
    ListBookings,
    Unknown,
}

/// One request the upstream received.
#[derive(Debug)]
struct Asked {
    side: Side,
    route: Route,
    /// The `page` query parameter (1 when absent).
    page: u64,
    /// The JSON body, `Null` when there is none.
    body: Value,
}

impl Asked {
    fn read(method: &Method, uri: &Uri, body: &[u8]) -> Asked {
        let path = uri.path();
        let (side, path) = match path.strip_prefix("/bls/api/v1") {
            Some(rest) => (Side::VirtualBls, rest),
            None => (
                Side::Practical,
                path.strip_prefix("/api/v1").unwrap_or(path),
            ),
        };
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let route = match (method.as_str(), segments.as_slice()) {
            ("POST", ["auth", "token"]) => Route::Token,
            ("POST", ["auth", "refresh"]) => Route::Refresh,
            ("POST", ["auth", "revoke"]) => Route::Revoke,
            ("GET", ["profile"]) => Route::Profile,
            ("GET", ["courses"]) => Route::Courses,
            ("GET", ["training-events"]) => Route::TrainingEvents,
            ("GET", ["timeslots"]) => Route::Timeslots,
            ("POST", ["training-events", id, "hold"]) => Route::HoldEvent(id.parse().unwrap_or(0)),
            ("POST", ["timeslots", "hold"]) => Route::HoldSlot,
            ("DELETE", ["training-events" | "timeslots", "hold", _]) => Route::Release,
            ("POST", ["bookings"]) => Route::CreateBooking,
            ("GET", ["bookings"]) => Route::ListBookings,
            ("GET", ["bookings", id]) => Route::ReadBooking(id.parse().unwrap_or(0)),
            _ => Route::Unknown,
        };
        let page = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .find(|(name, _)| name == "page")
            .and_then(|(_, value)| value.parse().ok())
            .unwrap_or(1);
        Asked {
            side,
            route,
            page,
            body: serde_json::from_slice(body).unwrap_or(Value::Null),
        }
    }
}

/// What the upstream answers.
#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    body: Vec<u8>,
    content_type: Option<&'static str>,
    retry_after: Option<String>,
    /// Promise more bytes than are sent, so the body is cut off.
    cut_off: bool,
}

impl Answer {
    /// A JSON answer; `Null` stands for no body.
    fn json(status: u16, body: &Value) -> Answer {
        Answer {
            status,
            body: if body.is_null() {
                Vec::new()
            } else {
                body.to_string().into_bytes()
            },
            content_type: Some("application/json"),
            retry_after: None,
            cut_off: false,
        }
    }

    /// One line for a failure report.
    fn summary(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let text: String = text.chars().take(300).collect();
        format!(
            "{} {:?}{}{} {text}",
            self.status,
            self.content_type.unwrap_or("(no content type)"),
            self.retry_after
                .as_ref()
                .map_or_else(String::new, |after| format!(" Retry-After {after:?}")),
            if self.cut_off { " (cut off)" } else { "" },
        )
    }
}

/// The upstream's dice and what it has handed out, so later answers can
/// name earlier holds and bookings.
struct Dice {
    rng: ChaCha8Rng,
    hashes: Vec<String>,
    next_id: u64,
}

impl Dice {
    fn new(seed: u64) -> Dice {
        Dice {
            rng: ChaCha8Rng::seed_from_u64(seed),
            hashes: Vec::new(),
            next_id: 7000,
        }
    }

    /// A new 32-character hold hash, remembered.
    fn new_hash(&mut self) -> String {
        const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let hash: String = (0..32)
            .map(|_| char::from(*LETTERS.choose(&mut self.rng).expect("letters")))
            .collect();
        self.hashes.push(hash.clone());
        if self.hashes.len() > 16 {
            self.hashes.remove(0);
        }
        hash
    }

    /// A hash handed out before, when there is one.
    fn old_hash(&mut self) -> Option<String> {
        self.hashes.choose(&mut self.rng).cloned()
    }
}

/// How the upstream answers a request.
type Answering = dyn Fn(&Asked, &mut Dice) -> Answer + Send + Sync;

struct UpstreamState {
    dice: Mutex<Dice>,
    answering: Box<Answering>,
    /// Each request received and its answer, since the journal was taken.
    journal: Mutex<Vec<String>>,
    /// How often each product's route was asked for, and answered 2xx.
    asked: Mutex<std::collections::BTreeMap<String, (usize, usize)>>,
}

impl UpstreamState {
    /// Notes a request and its answer in the journal and the counts.
    fn note(&self, method: &Method, uri: &Uri, asked: &Asked, answer: &Answer) {
        let route = format!("{:?} {:?}", asked.side, asked.route);
        let route = route.split('(').next().unwrap_or_default().to_owned();
        let mut counts = self.asked.lock().unwrap();
        let (times, succeeded) = counts.entry(route).or_default();
        *times += 1;
        *succeeded += usize::from((200..300).contains(&answer.status));
        self.journal.lock().unwrap().push(format!(
            "  {method} {} -> {}",
            uri.path(),
            answer.summary()
        ));
    }
}

/// The hostile upstream, serving both products' paths.
struct HostileUpstream {
    url: String,
    state: Arc<UpstreamState>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl HostileUpstream {
    /// Starts one that answers as `answering` says, rolling dice seeded
    /// with `seed`.
    async fn start(
        seed: u64,
        answering: impl Fn(&Asked, &mut Dice) -> Answer + Send + Sync + 'static,
    ) -> HostileUpstream {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("the hostile upstream binds");
        let address = listener.local_addr().expect("address");
        let state = Arc::new(UpstreamState {
            dice: Mutex::new(Dice::new(seed)),
            answering: Box::new(answering),
            journal: Mutex::new(Vec::new()),
            asked: Mutex::default(),
        });
        let app = Router::new().fallback(answer).with_state(state.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        HostileUpstream {
            url: format!("http://{address}"),
            state,
            _stop: stop,
        }
    }

    /// Each request received and its answer since the last call.
    fn take_journal(&self) -> Vec<String> {
        std::mem::take(&mut *self.state.journal.lock().unwrap())
    }

    /// How often each product's route was asked for, and answered 2xx.
    fn asked(&self) -> std::collections::BTreeMap<String, (usize, usize)> {
        self.state.asked.lock().unwrap().clone()
    }
}

async fn answer(
    State(state): State<Arc<UpstreamState>>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let asked = Asked::read(&method, &uri, &body);
    let answer = {
        let mut dice = state.dice.lock().unwrap();
        (state.answering)(&asked, &mut dice)
    };
    state.note(&method, &uri, &asked, &answer);
    let mut response = Response::builder().status(answer.status);
    if let Some(content_type) = answer.content_type {
        response = response.header("content-type", content_type);
    }
    if let Some(after) = &answer.retry_after {
        response = response.header("retry-after", after.as_str());
    }
    let body = if answer.cut_off {
        // A body of no declared length, so the promise of more bytes than
        // it has is sent as it is and the connection ends short.
        response = response.header("content-length", answer.body.len() + 64);
        Body::from_stream(Body::from(answer.body).into_data_stream())
    } else {
        Body::from(answer.body)
    };
    response.body(body).expect("a response")
}

/// A gateway booking both products through `upstream`, with a budget and
/// a timeout that never hold the test up, and caches that keep almost
/// nothing (so most reads reach the upstream).
async fn gateway_for(upstream: &HostileUpstream) -> (RunningGateway, TempDir) {
    let static_dir = temp_dir("hostile-upstream");
    let account = Account {
        client_id: "HB-HOSTILE".to_owned(),
        api_key: "tdta_test_hostile".to_owned(),
    };
    let mut config: GatewayConfig = gateway_config(
        &format!("{}/api/v1", upstream.url),
        &account,
        static_dir.path(),
    );
    config.pay_options = PayOption::KNOWN.to_vec();
    config.payment_origins = vec!["https://checkout.stripe.com".to_owned()];
    config.upstream_rate_limit = 1_000_000;
    config.upstream_timeout = std::time::Duration::from_secs(2);
    config.cache.catalogue = std::time::Duration::from_millis(1);
    config.cache.events = std::time::Duration::from_millis(1);
    config.virtual_bls = Some(ProductSettings {
        upstream: format!("{}/bls/api/v1", upstream.url),
        credentials: Some(Credentials {
            client_id: "HB-BLS-HOSTILE".to_owned(),
            api_key: Secret::new("bls_test_hostile".to_owned()),
        }),
        pay_options: PayOption::KNOWN.to_vec(),
        payment_origins: vec![booking_gateway::PAYPAL_CHECKOUT.to_owned()],
    });
    let gateway = spawn_gateway(config).await.expect("the gateway starts");
    (gateway, static_dir)
}

// ---------------------------------------------------------------------------
// Valid answers, route by route.

fn at(seconds_from_now: i64) -> String {
    (Utc::now() + Duration::seconds(seconds_from_now))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

fn page(data: Vec<Value>, page: u64, last_page: u64) -> Value {
    json!({
        "data": data,
        "meta": { "current_page": page, "per_page": 100, "last_page": last_page, "total": 3 },
        "links": { "next": null, "prev": null },
    })
}

fn training_event(id: u64) -> Value {
    json!({
        "id": id,
        "course": { "id": 4, "name": "Moving & Handling Practical" },
        "location": { "id": 1, "name": "Leeds", "address": "Unit 4, Aire Street, Leeds" },
        "start_date": "2026-08-04T09:30:00+01:00",
        "end_date": "2026-08-04T16:30:00+01:00",
        "remaining_slots": 6,
        "cost_inc_vat": 95,
        "booking_url": "https://tdta.hbcompliance.co.uk/book/hb-hostile",
    })
}

fn timeslot(course_id: &Value, date: &str, time: &str) -> Value {
    json!({
        "date": date,
        "time": time,
        "course": { "id": course_id, "name": "BLS Annual Update (Virtual)" },
        "start_date": format!("{date}T{time}:00+01:00"),
        "end_date": format!("{date}T{time}:00+01:00"),
        "remaining_slots": 2,
        "cost_inc_vat": 45,
    })
}

fn held_event(id: u64) -> Value {
    json!({
        "id": id,
        "course": "Moving & Handling Practical",
        "location": "Leeds",
        "start_date": "2026-08-04T09:30:00+01:00",
    })
}

fn held_slot(asked: &Asked) -> Value {
    json!({
        "date": asked.body.get("date").cloned().unwrap_or(json!("2026-09-02")),
        "time": asked.body.get("time").cloned().unwrap_or(json!("14:00")),
        "course": {
            "id": asked.body.get("course_id").cloned().unwrap_or(json!(41)),
            "name": "BLS Annual Update (Virtual)",
        },
    })
}

/// The place field of a hold answer for the route asked.
fn held_place(asked: &Asked) -> (&'static str, Value) {
    match asked.route {
        Route::HoldEvent(id) => ("training_event", held_event(id)),
        _ => ("slot", held_slot(asked)),
    }
}

fn hold(asked: &Asked, hash: String, seconds: Value) -> Value {
    let (field, place) = held_place(asked);
    let mut hold =
        json!({ "hold_hash": hash, "expires_at": at(1800), "expires_in_seconds": seconds });
    hold[field] = place;
    hold
}

fn conflict(asked: &Asked, dice: &mut Dice) -> Value {
    let mut body = json!({ "message": "An active hold already exists." });
    if dice.rng.random_bool(0.7) {
        body["hold_hash"] = json!(dice.old_hash().unwrap_or_else(|| dice.new_hash()));
    }
    if dice.rng.random_bool(0.7) {
        body["expires_at"] = json!(at(900));
    }
    if dice.rng.random_bool(0.7) {
        body["expires_in_seconds"] = json!(900);
    }
    if dice.rng.random_bool(0.7) {
        let (field, place) = held_place(asked);
        body[field] = place;
    }
    body
}

fn booking(side: Side, id: u64, request: &Value) -> Value {
    let email = request
        .get("email")
        .cloned()
        .unwrap_or(json!("priya.patel@carestaff.example"));
    let pay_option = request
        .get("pay_option")
        .cloned()
        .unwrap_or(json!("credits"));
    let mut booking = json!({
        "id": id,
        "candidate": { "name": "Priya Patel", "email": email, "phone": "+447700900123" },
        "course": { "id": 4, "name": "Moving & Handling Practical" },
        "trainer": { "id": 3, "name": "Dr Ama Mensah" },
        "start_date": "2026-08-04T09:30:00+01:00",
        "end_date": "2026-08-04T16:30:00+01:00",
        "booking_status": "booked",
        "pay_status": "completed",
        "pay_option": pay_option,
        "booked_by": "Agency",
        "certificate_available": false,
        "created_at": at(0),
    });
    match side {
        Side::Practical => {
            booking["location"] = json!({ "id": 1, "name": "Leeds", "address": "Unit 4" });
            booking["attendance"] = Value::Null;
            booking["payment_url"] = json!("https://checkout.stripe.com/c/pay/cs_test_1");
        }
        Side::VirtualBls => {
            booking["virtual"] = json!({
                "zoom_id": "845 112 9034",
                "zoom_link": "https://zoom.us/j/8451129034",
                "zoom_password": "k7Tq2w",
            });
            booking["training_status"] = json!("scheduled");
            booking["equipment_status"] = json!("pending");
            booking["payment_url"] = json!("https://www.paypal.com/checkoutnow?token=1");
        }
    }
    booking
}

/// A valid answer for the route asked: its status and JSON body (`Null`
/// for none).
fn valid(asked: &Asked, dice: &mut Dice) -> (u16, Value) {
    match asked.route {
        Route::Token | Route::Refresh => {
            // Most access tokens lapse within the refresh margin, so the
            // pair is renewed (and its answer read) often.
            let lifetime = *[3600, 30, 30, 30, 30, 30, 30, 30]
                .choose(&mut dice.rng)
                .expect("lifetimes");
            (
                200,
                json!({
                    "access_token": format!("access-{}", dice.rng.next_u64()),
                    "refresh_token": format!("refresh-{}", dice.rng.next_u64()),
                    "token_type": "Bearer",
                    "expires_in": lifetime,
                    "refresh_expires_in": 604_800,
                }),
            )
        }
        Route::Revoke | Route::Release => (204, Value::Null),
        Route::Profile if asked.side == Side::VirtualBls => {
            (404, json!({ "message": "Not found." }))
        }
        Route::Profile => (
            200,
            json!({
                "id": 417,
                "name": "Test Care Staffing",
                "email": "accounts@testcare.example",
                "hb_client_id": "HB-HOSTILE",
                "invoice_payments": true,
                "booking_url": "https://tdta.hbcompliance.co.uk/book/hb-hostile",
            }),
        ),
        Route::Courses => (
            200,
            page(
                vec![
                    json!({ "id": 4, "name": "Moving & Handling Practical", "duration_minutes": 420 }),
                    json!({ "id": 41, "name": "BLS Annual Update (Virtual)", "cost_inc_vat": 45 }),
                ],
                asked.page,
                1,
            ),
        ),
        Route::TrainingEvents => (
            200,
            page(
                vec![
                    training_event(40 + asked.page),
                    training_event(50 + asked.page),
                ],
                asked.page,
                2,
            ),
        ),
        Route::Timeslots => {
            let course = json!(41);
            (
                200,
                page(
                    vec![
                        timeslot(&course, "2026-09-02", "14:00"),
                        timeslot(&course, "2026-09-02", "15:00"),
                    ],
                    asked.page,
                    1,
                ),
            )
        }
        Route::HoldEvent(_) | Route::HoldSlot => {
            if dice.rng.random_bool(0.2) {
                (409, conflict(asked, dice))
            } else {
                let hash = dice.new_hash();
                (200, hold(asked, hash, json!(1800)))
            }
        }
        Route::CreateBooking => {
            dice.next_id += 1;
            (201, booking(asked.side, dice.next_id, &asked.body))
        }
        Route::ReadBooking(id) => (200, booking(asked.side, id, &Value::Null)),
        Route::ListBookings => {
            let request =
                json!({ "email": "priya.patel@carestaff.example", "pay_option": "credits" });
            (
                200,
                page(
                    vec![
                        booking(asked.side, 7001, &request),
                        booking(asked.side, 7002, &Value::Null),
                    ],
                    asked.page,
                    3,
                ),
            )
        }
        Route::Unknown => (404, json!({ "message": "Not found." })),
    }
}

fn valid_answer(asked: &Asked, dice: &mut Dice) -> Answer {
    let (status, body) = valid(asked, dice);
    Answer::json(status, &body)
}

// ---------------------------------------------------------------------------
// Hostile answers.

/// Numbers no upstream should send.
fn absurd_number(rng: &mut ChaCha8Rng) -> Value {
    [
        json!(i64::MAX),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(1e308),
        json!(-1e308),
        json!(9_223_372_036_854_776_u64),
        json!(8_300_000_000_000_i64),
        json!(1_000_000_000_000_000_000_u64),
        json!(4_294_967_296_u64),
        json!(2_147_483_648_u64),
        json!(-1),
        json!(0),
        json!(1.5),
        json!(-0.0),
        json!("1800"),
        Value::Null,
    ]
    .choose(rng)
    .cloned()
    .expect("numbers")
}

/// Dates no upstream should send.
fn odd_date(rng: &mut ChaCha8Rng) -> Value {
    [
        json!("9999-12-31T23:59:59-23:59"),
        json!("0000-01-01T00:00:00+23:59"),
        json!("9999-12-31T23:59:60Z"),
        json!("2026-02-30T10:00:00Z"),
        json!("2026-07-20T25:00:00Z"),
        json!("2026-07-20T14:45:00"),
        json!("2026-07-20"),
        json!("+275760-09-13T00:00:00Z"),
        json!("1970-01-01T00:00:00Z"),
        json!("2026-07-20T14:45:00.9999999999999+00:00"),
        json!(""),
        json!(1_800_000_000),
    ]
    .choose(rng)
    .cloned()
    .expect("dates")
}

/// Values wrong for any field in some way.
fn hostile_value(rng: &mut ChaCha8Rng) -> Value {
    let mut nested = json!(1);
    for _ in 0..200 {
        nested = json!([nested]);
    }
    match rng.random_range(0..4) {
        0 => absurd_number(rng),
        1 => odd_date(rng),
        _ => [
            Value::Null,
            json!(true),
            json!(""),
            json!("x".repeat(10_000)),
            json!("😀 \u{202e} \u{0000}"),
            json!("../../etc/passwd"),
            json!("javascript:alert(1)"),
            json!([]),
            json!({}),
            json!([1, "a", null]),
            nested,
        ]
        .choose(rng)
        .cloned()
        .expect("values"),
    }
}

/// Fields whose numbers the gateway reads.
const NUMBER_FIELDS: [&str; 11] = [
    "expires_in_seconds",
    "expires_in",
    "refresh_expires_in",
    "last_page",
    "current_page",
    "per_page",
    "total",
    "id",
    "remaining_slots",
    "cost_inc_vat",
    "booking_money_balance",
];

/// Fields whose dates the gateway reads.
const DATE_FIELDS: [&str; 4] = ["expires_at", "start_date", "end_date", "created_at"];

/// One step from a JSON value to one inside it.
#[derive(Debug, Clone)]
enum Step {
    Field(String),
    Item(usize),
}

/// Every path inside `value`, the value itself (the empty path) first.
fn paths(value: &Value) -> Vec<Vec<Step>> {
    let mut all = vec![Vec::new()];
    let mut index = 0;
    while index < all.len() {
        let path = all[index].clone();
        let children: Vec<Step> = match at_path(value, &path) {
            Some(Value::Object(map)) => map.keys().cloned().map(Step::Field).collect(),
            Some(Value::Array(items)) => (0..items.len()).map(Step::Item).collect(),
            _ => Vec::new(),
        };
        for child in children {
            let mut deeper = path.clone();
            deeper.push(child);
            all.push(deeper);
        }
        index += 1;
    }
    all
}

fn at_path<'a>(value: &'a Value, path: &[Step]) -> Option<&'a Value> {
    path.iter().try_fold(value, |value, step| match step {
        Step::Field(name) => value.get(name.as_str()),
        Step::Item(index) => value.get(index),
    })
}

fn at_path_mut<'a>(value: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    path.iter().try_fold(value, |value, step| match step {
        Step::Field(name) => value.get_mut(name.as_str()),
        Step::Item(index) => value.get_mut(*index),
    })
}

/// Changes `value` in one hostile way: a number or date field set to an
/// absurd value, any value replaced, a field removed or an extra one added.
fn mutate(value: &mut Value, rng: &mut ChaCha8Rng) {
    let all = paths(value);
    let named = |fields: &[&str]| -> Vec<Vec<Step>> {
        all.iter()
            .filter(|path| {
                matches!(path.last(), Some(Step::Field(name)) if fields.contains(&name.as_str()))
            })
            .cloned()
            .collect()
    };
    let numbers = named(&NUMBER_FIELDS);
    let dates = named(&DATE_FIELDS);
    match rng.random_range(0..10) {
        0..=3 if !numbers.is_empty() => {
            let path = numbers.choose(rng).expect("a number field");
            let number = absurd_number(rng);
            if let Some(slot) = at_path_mut(value, path) {
                *slot = number;
            }
        }
        4..=5 if !dates.is_empty() => {
            let path = dates.choose(rng).expect("a date field");
            let date = odd_date(rng);
            if let Some(slot) = at_path_mut(value, path) {
                *slot = date;
            }
        }
        6 => {
            let path = all.choose(rng).expect("a path").clone();
            if let Some((Step::Field(name), parent)) = path.split_last() {
                if let Some(Value::Object(map)) = at_path_mut(value, parent) {
                    map.remove(name);
                }
            }
        }
        7 => {
            let path = all.choose(rng).expect("a path").clone();
            let extra = hostile_value(rng);
            if let Some(Value::Object(map)) = at_path_mut(value, &path) {
                map.insert("unexpected".to_owned(), extra);
            }
        }
        _ => {
            let path = all.choose(rng).expect("a path").clone();
            let replacement = hostile_value(rng);
            if let Some(slot) = at_path_mut(value, &path) {
                *slot = replacement;
            }
        }
    }
}

/// Bodies that are not the JSON any route answers.
fn malformed_body(valid: &Value, rng: &mut ChaCha8Rng) -> Vec<u8> {
    let text = valid.to_string();
    match rng.random_range(0..8) {
        0 => {
            let cut = rng.random_range(0..=text.len());
            text.as_bytes()[..cut].to_vec()
        }
        1 => Vec::new(),
        2 => b"<html><body>502 Bad Gateway</body></html>".to_vec(),
        3 => vec![0xff, 0xfe, 0x00, 0x7b, 0x7d, 0xc3],
        4 => format!("{}{}", "[".repeat(5_000), "]".repeat(5_000)).into_bytes(),
        5 => b"null".to_vec(),
        6 => format!("[{text}]").into_bytes(),
        _ => format!("{text}{text}").into_bytes(),
    }
}

/// The 4xx and 5xx bodies an upstream may send, well-formed or not.
fn error_body(rng: &mut ChaCha8Rng) -> Vec<u8> {
    [
        json!({ "message": "Something is wrong." }),
        json!({ "message": "" }),
        json!({ "message": null }),
        json!({ "message": 12 }),
        json!({}),
        json!({ "message": "The given data was invalid.", "errors": { "per_page": ["The per page may not be greater than 50."] } }),
        json!({ "message": "The hold has expired.", "errors": { "hold_hash": "The hold has expired." } }),
        json!({ "message": "", "errors": { "email": [] } }),
        json!({ "errors": 5 }),
        json!({ "message": "x".repeat(5_000) }),
        json!([]),
    ]
    .choose(rng)
    .expect("error bodies")
    .to_string()
    .into_bytes()
}

/// `Retry-After` values: mostly ones over the gateway's longest wait (it
/// does not wait at all) or 0 (it retries at once), so none holds the test
/// up; now and then one it cannot read, or none, which it takes for a
/// second and waits out.
fn retry_after(rng: &mut ChaCha8Rng) -> Option<String> {
    let quick: &[Option<&str>] = &[
        Some("6"),
        Some("60"),
        Some("86400"),
        Some("18446744073709551615"),
        Some("9223372036854775807"),
        Some("0"),
        Some("0"),
    ];
    let unreadable: &[Option<&str>] = &[
        Some("-1"),
        Some("1e308"),
        Some("Wed, 21 Oct 2015 07:28:00 GMT"),
        Some(""),
        Some("99999999999999999999999"),
        None,
    ];
    let pool = if rng.random_bool(0.97) {
        quick
    } else {
        unreadable
    };
    pool.choose(rng).copied().flatten().map(str::to_owned)
}

/// How the fuzz test's upstream answers one request.
#[derive(Debug, Clone, Copy)]
enum Hostility {
    /// The valid answer for the route.
    Valid,
    /// The valid answer changed in one to three hostile ways.
    Mutated,
    /// A token pair with an absurd lifetime.
    AbsurdLifetime,
    /// An odd status with an error body, well-formed or not.
    OddStatus,
    /// A 429 with an odd `Retry-After`.
    RateLimited,
    /// A body that is not the JSON the route answers.
    Malformed,
    /// The wrong content type, or none.
    Mislabelled,
    /// More bytes promised than sent.
    CutOff,
}

/// How often each [`Hostility`] answers a token request: mostly validly,
/// so calls proceed.
const TOKEN_HOSTILITY: [(Hostility, u32); 7] = [
    (Hostility::Valid, 70),
    (Hostility::AbsurdLifetime, 15),
    (Hostility::OddStatus, 5),
    (Hostility::RateLimited, 2),
    (Hostility::Malformed, 4),
    (Hostility::Mislabelled, 2),
    (Hostility::CutOff, 2),
];

/// How often each [`Hostility`] answers any other request: mostly with a
/// valid answer or a mutation of one, so the gateway gets deep into its
/// logic before it meets the hostile part.
const HOSTILITY: [(Hostility, u32); 7] = [
    (Hostility::Valid, 30),
    (Hostility::Mutated, 35),
    (Hostility::OddStatus, 10),
    (Hostility::RateLimited, 4),
    (Hostility::Malformed, 10),
    (Hostility::Mislabelled, 6),
    (Hostility::CutOff, 5),
];

/// The fuzz test's upstream: for each request, a [`Hostility`] rolled from
/// [`TOKEN_HOSTILITY`] or [`HOSTILITY`] applied to the route's valid answer.
fn hostile_answer(asked: &Asked, dice: &mut Dice) -> Answer {
    let (status, valid_body) = valid(asked, dice);
    let mut answer = Answer::json(status, &valid_body);
    let token = matches!(asked.route, Route::Token | Route::Refresh);
    let rng = &mut dice.rng;
    let weights = if token { &TOKEN_HOSTILITY } else { &HOSTILITY };
    let (hostility, _) = *weights
        .choose_weighted(rng, |(_, weight)| *weight)
        .expect("weights");
    match hostility {
        Hostility::Valid => {}
        Hostility::Mutated => {
            let mut body = if valid_body.is_null() {
                json!({ "message": "Done." })
            } else {
                valid_body
            };
            for _ in 0..rng.random_range(1..=3) {
                mutate(&mut body, rng);
            }
            answer.body = body.to_string().into_bytes();
        }
        Hostility::AbsurdLifetime => {
            let lifetime = *["expires_in", "refresh_expires_in"]
                .choose(rng)
                .expect("lifetimes");
            let mut body = valid_body;
            body[lifetime] = absurd_number(rng);
            answer.body = body.to_string().into_bytes();
        }
        Hostility::OddStatus => {
            answer.status = *[
                200, 201, 204, 302, 400, 401, 403, 404, 409, 418, 422, 500, 502, 503,
            ]
            .choose(rng)
            .expect("statuses");
            answer.body = error_body(rng);
        }
        Hostility::RateLimited => {
            answer.status = 429;
            answer.body = error_body(rng);
            answer.retry_after = retry_after(rng);
        }
        Hostility::Malformed => answer.body = malformed_body(&valid_body, rng),
        Hostility::Mislabelled => {
            answer.content_type = *[Some("text/html"), Some("application/xml"), None]
                .choose(rng)
                .expect("content types");
            if rng.random_bool(0.5) {
                answer.body = malformed_body(&valid_body, rng);
            }
        }
        Hostility::CutOff => answer.cut_off = true,
    }
    answer
}

// ---------------------------------------------------------------------------
// The widget's side.

/// One widget session and the references it was handed.
#[derive(Default)]
struct Handed {
    session: String,
    /// Hold references: Practical Training's and Virtual BLS's.
    holds: [Vec<String>; 2],
    bookings: Vec<String>,
    /// Idempotency keys sent, some sent again to retry an attempt.
    keys: Vec<String>,
}

/// The widget requests of the fuzz test, in a few sessions, each using the
/// references it was handed (and now and then a forged one).
struct Candidate {
    client: reqwest::Client,
    base: String,
    rng: ChaCha8Rng,
    sessions: Vec<Handed>,
    /// The session of the request being sent.
    current: usize,
}

impl Candidate {
    fn new(base: &str, seed: u64) -> Candidate {
        Candidate {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            base: base.to_owned(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            sessions: vec![Handed {
                session: "no-session".to_owned(),
                ..Handed::default()
            }],
            current: 0,
        }
    }

    /// Mostly the session of the last request, now and then another.
    fn choose_session(&mut self) -> String {
        if self.rng.random_bool(0.2) {
            self.current = self.rng.random_range(0..self.sessions.len());
        }
        self.sessions[self.current].session.clone()
    }

    fn handed(&mut self) -> &mut Handed {
        &mut self.sessions[self.current]
    }

    /// One of the session's hold references for a product (0 Practical
    /// Training, 1 Virtual BLS), or now and then (and when it has none) a
    /// forged one.
    fn hold_ref(&mut self, side: usize) -> String {
        let forged = self.rng.random_bool(0.1);
        match self.sessions[self.current].holds[side].choose(&mut self.rng) {
            Some(hold_ref) if !forged => hold_ref.clone(),
            _ => "AbCdEfGhIjKlMnOpQrStUvWxYz012345.forged".to_owned(),
        }
    }

    /// Adds `value` to `list` when it is a string, keeping the last eight.
    fn remember(list: &mut Vec<String>, value: &Value) {
        if let Some(text) = value.as_str() {
            list.push(text.to_owned());
            if list.len() > 8 {
                list.remove(0);
            }
        }
    }

    /// The next widget request, picked by the dice, and how to name it.
    fn pick(&mut self) -> (String, reqwest::RequestBuilder) {
        let session = self.choose_session();
        let api = format!("{}/api", self.base);
        let client = self.client.clone();
        let get = |path: &str| {
            client
                .get(format!("{api}{path}"))
                .header("x-hbg-session", &session)
        };
        let post = |path: &str, body: &Value| {
            client
                .post(format!("{api}{path}"))
                .header("x-hbg-session", &session)
                .json(body)
        };
        let product = *["practical", "virtual-bls"]
            .choose(&mut self.rng)
            .expect("products");
        match self.rng.random_range(0..100) {
            0..=7 => {
                let path = format!("/options?product={product}");
                let request = if self.rng.random_bool(0.8) {
                    get(&path)
                } else {
                    client.get(format!("{api}{path}"))
                };
                (format!("GET /api{path}"), request)
            }
            8..=15 => {
                let path = format!("/courses?product={product}");
                (format!("GET /api{path}"), get(&path))
            }
            16..=25 => {
                let course = ["4", "4", "4", "41", "", "x"]
                    .choose(&mut self.rng)
                    .expect("courses");
                let path = format!("/training-events?course_id={course}&location_id=1");
                (format!("GET /api{path}"), get(&path))
            }
            26..=35 => {
                let path = "/timeslots?course_id=41&date_from=2026-09-01&date_to=2026-09-30";
                (format!("GET /api{path}"), get(path))
            }
            36..=47 => {
                let mut body = json!({ "event_id": self.rng.random_range(40..44) });
                if self.rng.random_bool(0.4) {
                    body["hold_ref"] = json!(self.hold_ref(0));
                    body["renew"] = json!(self.rng.random_bool(0.5));
                }
                (format!("POST /api/holds {body}"), post("/holds", &body))
            }
            48..=59 => {
                let time = ["14:00", "15:00"].choose(&mut self.rng).expect("times");
                let mut body = json!({ "course_id": 41, "date": "2026-09-02", "time": time });
                if self.rng.random_bool(0.4) {
                    body["hold_ref"] = json!(self.hold_ref(1));
                    body["renew"] = json!(self.rng.random_bool(0.5));
                }
                (
                    format!("POST /api/timeslot-holds {body}"),
                    post("/timeslot-holds", &body),
                )
            }
            60..=65 => {
                let side = self.rng.random_range(0..2);
                let hold_ref = self.hold_ref(side);
                (
                    format!("DELETE /api/holds/{{{} hold}}", PRODUCTS[side]),
                    client
                        .delete(format!("{api}/holds/{hold_ref}"))
                        .header("x-hbg-session", &session),
                )
            }
            66..=69 => {
                let side = self.rng.random_range(0..2);
                let body = json!({ "session": session, "hold_ref": self.hold_ref(side) });
                (
                    format!("POST /api/holds/release ({} hold)", PRODUCTS[side]),
                    client
                        .post(format!("{api}/holds/release"))
                        .header("content-type", "text/plain")
                        .body(body.to_string()),
                )
            }
            70..=89 => {
                let side = self.rng.random_range(0..2);
                let hold_ref = self.hold_ref(side);
                let pay_option = PayOption::KNOWN
                    .choose(&mut self.rng)
                    .expect("pay options")
                    .as_str()
                    .to_owned();
                let body = if side == 0 {
                    booking_body(&hold_ref, &pay_option)
                } else {
                    bls_booking_body(&hold_ref, &pay_option)
                };
                let again = self.rng.random_bool(0.3);
                let fresh = format!("attempt-{}", self.rng.next_u64());
                let key = match self.handed().keys.last() {
                    Some(key) if again => key.clone(),
                    _ => fresh,
                };
                Candidate::remember(&mut self.handed().keys, &json!(key));
                (
                    format!("POST /api/bookings ({} hold, {pay_option})", PRODUCTS[side]),
                    post("/bookings", &body).header("idempotency-key", key),
                )
            }
            _ => {
                let booking_ref = self
                    .handed()
                    .bookings
                    .last()
                    .cloned()
                    .unwrap_or_else(|| "7001.forged".to_owned());
                (
                    "GET /api/bookings/{booking_ref}".to_owned(),
                    get(&format!("/bookings/{booking_ref}")),
                )
            }
        }
    }

    /// Keeps the sessions and references a successful answer hands out.
    fn learn(&mut self, what: &str, reply: &Reply) {
        if !reply.status.is_success() {
            return;
        }
        if let Some(session) = reply.body["session"].as_str() {
            self.sessions.push(Handed {
                session: session.to_owned(),
                ..Handed::default()
            });
            if self.sessions.len() > 4 {
                self.sessions.remove(0);
            }
            self.current = self.sessions.len() - 1;
        }
        let handed = self.handed();
        if what.starts_with("POST /api/holds ") {
            Candidate::remember(&mut handed.holds[0], &reply.body["hold_ref"]);
        }
        if what.starts_with("POST /api/timeslot-holds") {
            Candidate::remember(&mut handed.holds[1], &reply.body["hold_ref"]);
        }
        Candidate::remember(&mut handed.bookings, &reply.body["booking_ref"]);
    }
}

/// The products, as the fuzz test's reports name them.
const PRODUCTS: [&str; 2] = ["practical", "virtual-bls"];

/// Tells, when a widget answer breaks the contract [`send`] checks (and so
/// the test stops there), which request it was and what the upstream
/// answered to it.
struct Witness<'a> {
    seed: u64,
    index: usize,
    what: &'a str,
    upstream: &'a HostileUpstream,
}

impl Drop for Witness<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "seed {}, request {}: {}\n  the upstream was asked:\n{}",
                self.seed,
                self.index,
                self.what,
                self.upstream.take_journal().join("\n")
            );
        }
    }
}

/// What is wrong with a widget answer beyond what [`send`] checks: a 500,
/// a hold (or a 409's wait) counted down from more than a day, or a
/// `Retry-After` of more than an hour.
fn fault(reply: &Reply) -> Option<String> {
    if reply.status == StatusCode::INTERNAL_SERVER_ERROR {
        return Some(format!("500: {}", reply.text));
    }
    if let Some(after) = reply.headers.get("retry-after") {
        let seconds = after
            .to_str()
            .ok()
            .and_then(|after| after.parse::<u64>().ok());
        if seconds.is_none_or(|seconds| seconds > 3600) {
            return Some(format!(
                "{}: Retry-After {after:?}: {}",
                reply.status, reply.text
            ));
        }
    }
    let countdowns = [
        &reply.body["hold"]["expires_in_seconds"],
        &reply.body["free_in_seconds"],
    ];
    countdowns
        .into_iter()
        .filter(|seconds| !seconds.is_null())
        .find(|seconds| {
            !seconds
                .as_i64()
                .is_some_and(|seconds| (0..=A_DAY).contains(&seconds))
        })
        .map(|seconds| {
            format!(
                "{}: a countdown of {seconds} seconds: {}",
                reply.status, reply.text
            )
        })
}

// ---------------------------------------------------------------------------
// The tests.

/// A gateway in front of an upstream whose answers a test scripts, and a
/// widget session on it.
struct Scripted {
    _upstream: HostileUpstream,
    gateway: RunningGateway,
    _static_dir: TempDir,
    client: reqwest::Client,
    session: String,
}

impl Scripted {
    /// Starts an upstream answering as `answering` says, a gateway in front
    /// of it, and a session.
    async fn start(
        answering: impl Fn(&Asked, &mut Dice) -> Answer + Send + Sync + 'static,
    ) -> Scripted {
        let upstream = HostileUpstream::start(11, answering).await;
        let (gateway, static_dir) = gateway_for(&upstream).await;
        let client = reqwest::Client::new();
        let options = send(client.get(format!("{}/api/options", gateway.url()))).await;
        assert_eq!(options.status, StatusCode::OK, "{}", options.text);
        let session = options.body["session"]
            .as_str()
            .expect("a session")
            .to_owned();
        Scripted {
            _upstream: upstream,
            gateway,
            _static_dir: static_dir,
            client,
            session,
        }
    }

    async fn get(&self, path: &str) -> Reply {
        send(
            self.client
                .get(format!("{}{path}", self.gateway.url()))
                .header("x-hbg-session", &self.session),
        )
        .await
    }

    async fn post(&self, path: &str, body: &Value) -> Reply {
        send(
            self.client
                .post(format!("{}{path}", self.gateway.url()))
                .header("x-hbg-session", &self.session)
                .json(body),
        )
        .await
    }

    /// Holds a training event's seat, then a timeslot.
    async fn hold_both(&self) -> [(&'static str, Reply); 2] {
        let slot = json!({ "course_id": 41, "date": "2026-09-02", "time": "14:00" });
        [
            (
                "/api/holds",
                self.post("/api/holds", &json!({ "event_id": 41 })).await,
            ),
            (
                "/api/timeslot-holds",
                self.post("/api/timeslot-holds", &slot).await,
            ),
        ]
    }
}

#[test]
fn a_hold_granted_with_an_absurd_lifetime_is_still_the_candidates() {
    let name = format!("{THREAD_PREFIX}absurd-lifetime");
    runtime(&name).block_on(async {
        let scripted = Scripted::start(|asked, dice| match asked.route {
            Route::HoldEvent(_) => {
                let hash = dice.new_hash();
                Answer::json(200, &hold(asked, hash, json!(i64::MAX)))
            }
            Route::HoldSlot => {
                let hash = dice.new_hash();
                Answer::json(
                    200,
                    &hold(asked, hash, json!(1_000_000_000_000_000_000_i64)),
                )
            }
            _ => valid_answer(asked, dice),
        })
        .await;
        for (path, held) in scripted.hold_both().await {
            assert_eq!(held.status, StatusCode::OK, "{path}: {}", held.text);
            assert!(held.body["hold_ref"].as_str().is_some(), "{}", held.text);
            let seconds = held.body["hold"]["expires_in_seconds"]
                .as_i64()
                .expect("a countdown");
            assert!(
                (1..=A_DAY).contains(&seconds),
                "{path}: a countdown of {seconds} seconds"
            );
        }
        assert_eq!(panics_on(&name), Vec::<String>::new());
    });
}

#[test]
fn a_conflict_saying_an_absurd_wait_is_a_clear_409() {
    let name = format!("{THREAD_PREFIX}absurd-conflict");
    runtime(&name).block_on(async {
        let scripted = Scripted::start(|asked, dice| {
            let wait = match asked.route {
                Route::HoldEvent(_) => json!(9_000_000_000_000_i64),
                Route::HoldSlot => json!(i64::MAX),
                _ => return valid_answer(asked, dice),
            };
            let body =
                json!({ "message": "An active hold already exists.", "expires_in_seconds": wait });
            Answer::json(409, &body)
        })
        .await;
        for (path, taken) in scripted.hold_both().await {
            assert_eq!(taken.status, StatusCode::CONFLICT, "{path}: {}", taken.text);
            let seconds = taken.body["free_in_seconds"].as_i64().expect("a wait");
            assert!(
                (0..=A_DAY).contains(&seconds),
                "{path}: a wait of {seconds} seconds"
            );
        }
        assert_eq!(panics_on(&name), Vec::<String>::new());
    });
}

#[test]
fn a_token_pair_with_an_absurd_lifetime_still_serves_the_widget() {
    let name = format!("{THREAD_PREFIX}absurd-token");
    runtime(&name).block_on(async {
        let scripted = Scripted::start(|asked, dice| match asked.route {
            Route::Token | Route::Refresh => {
                let (_, mut pair) = valid(asked, dice);
                pair["expires_in"] = json!(i64::MAX);
                pair["refresh_expires_in"] = json!(i64::MAX);
                Answer::json(200, &pair)
            }
            _ => valid_answer(asked, dice),
        })
        .await;
        for product in ["practical", "virtual-bls"] {
            let courses = scripted
                .get(&format!("/api/courses?product={product}"))
                .await;
            assert_eq!(
                courses.status,
                StatusCode::OK,
                "{product}: {}",
                courses.text
            );
        }
        assert_eq!(panics_on(&name), Vec::<String>::new());
    });
}

#[test]
fn an_upstream_answering_anything_never_makes_the_gateway_panic() {
    let seed = std::env::var(SEED_VARIABLE)
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(|| rand::rng().next_u64());
    let requests = std::env::var(REQUESTS_VARIABLE)
        .ok()
        .and_then(|count| count.parse().ok())
        .unwrap_or(FUZZ_REQUESTS);
    println!("hostile upstream fuzz: seed {seed} ({SEED_VARIABLE}={seed} repeats it), {requests} requests");
    let name = format!("{THREAD_PREFIX}fuzz");
    runtime(&name).block_on(async {
        let upstream = HostileUpstream::start(seed ^ 0x5eed, hostile_answer).await;
        let (gateway, _static_dir) = gateway_for(&upstream).await;
        let mut candidate = Candidate::new(gateway.url(), seed);
        let started = Instant::now();
        // Each kind of fault (where it panicked, or what was wrong), with
        // how often it was seen and its first example.
        let mut faults = std::collections::BTreeMap::<String, (usize, String)>::new();
        let mut statuses = std::collections::BTreeMap::<(String, u16), usize>::new();
        for index in 0..requests {
            let panics_before = panics_on(&name).len();
            let (what, request) = candidate.pick();
            let witness = Witness {
                seed,
                index,
                what: &what,
                upstream: &upstream,
            };
            let reply = send(request).await;
            drop(witness);
            candidate.learn(&what, &reply);
            let journal = upstream.take_journal().join("\n");
            let route = what.split(['?', ' ']).take(2).collect::<Vec<_>>().join(" ");
            *statuses.entry((route, reply.status.as_u16())).or_default() += 1;
            let new_panics = panics_on(&name).split_off(panics_before);
            let fault = fault(&reply).or_else(|| {
                (!new_panics.is_empty()).then(|| format!("{}, with a panic", reply.status))
            });
            if let Some(fault) = fault {
                let kind = new_panics.first().map_or_else(
                    || fault.split(':').next().unwrap_or_default().to_owned(),
                    |panic| format!("panic at {}", panic.split(": ").next().unwrap_or_default()),
                );
                let seen = faults.entry(kind).or_insert_with(|| {
                    (0, format!(
                        "request {index}: {what}\n  answered {fault}\n  panics: {new_panics:?}\n  the upstream was asked:\n{journal}"
                    ))
                });
                seen.0 += 1;
            }
        }
        println!(
            "hostile upstream fuzz: {requests} requests in {:.1?}",
            started.elapsed()
        );
        for ((route, status), count) in &statuses {
            println!("  {route}: {status} x{count}");
        }
        println!("the upstream was asked (times, of which answered 2xx):");
        for (route, (times, succeeded)) in upstream.asked() {
            println!("  {route}: {times} ({succeeded})");
        }
        let panics = panics_on(&name);
        let report: Vec<String> = faults
            .iter()
            .map(|(kind, (count, first))| format!("{kind} (x{count}), first:\n{first}"))
            .collect();
        assert!(
            faults.is_empty() && panics.is_empty(),
            "seed {seed}: {} panics; each kind of fault:\n\n{}",
            panics.len(),
            report.join("\n\n")
        );
    });
}
