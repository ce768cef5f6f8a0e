//! The candidate load: 200 candidates browsing and 30 booking within one
//! minute, through one gateway, against a sandbox keeping the upstream's
//! documented rate limit (60 requests a minute per client IP).
//!
//! `cargo xtask bench` builds this with the `server` profile, starts a
//! release sandbox in test mode with `--rate-limit 60`, and runs
//!
//! ```text
//! candidate_load --sandbox http://127.0.0.1:PORT
//! ```
//!
//! The run starts a gateway in this process (its defaults: the documented
//! limit kept by its call budget, training events cached 10 seconds)
//! behind a counting proxy to the sandbox, so every upstream call is seen.
//! Each candidate starts at a random moment of the minute, from an address
//! of their own (`X-Forwarded-For`, read because the gateway trusts this
//! process, on 127.0.0.1, as its proxy), and
//! behaves as the widget does: reads retried after `Retry-After` or a short
//! back-off (three attempts), a queued hold or booking sent again with its
//! ticket on its turn.
//!
//! * **Browsing**: options, courses, one course's events, a pause, another
//!   course's events.
//! * **Booking**: options, courses, the events of the course of an event of
//!   their own (so no two candidates want the same seat), a pause, a hold,
//!   a pause to type, a booking on invoice.
//!
//! The table gives the upstream calls made (and how many the upstream
//! answered 429), the candidates who saw an error (any answer the widget
//! would have shown as a problem), those who were told to wait their turn,
//! and each step's p50/p99, queue waits included. The run fails (exit
//! status 1) when a candidate saw an error, the upstream answered 429, or
//! fewer than 30 bookings were made.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use booking_core::api::PayOption;
use booking_gateway::{spawn_gateway, Credentials, GatewayConfig, Secret};
use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Client;
use serde_json::{json, Value};
use support::{millis, percentile};

mod support;

/// Candidates who only browse.
const BROWSING: usize = 200;
/// Candidates who book.
const BOOKING: usize = 30;
/// The span the candidates arrive over.
const ARRIVALS: Duration = Duration::from_secs(60);
/// Attempts a read makes, as the widget's.
const READ_ATTEMPTS: u32 = 3;
/// Turns a write takes in the gateway's queue, as the widget's.
const QUEUE_TURNS: u32 = 4;
/// The course the bookers' events are on (Moving & Handling).
const COURSE_ID: u64 = 2;

/// Where the sandbox is.
#[derive(Debug, Parser)]
struct Args {
    /// The sandbox's base URL (test mode, `--rate-limit 60`).
    #[arg(long)]
    sandbox: String,
    /// The upstream calls a minute the gateway keeps to (its default, the
    /// documented 60; a large number shows the run without the budget).
    #[arg(long, default_value_t = 60)]
    upstream_rate_limit: u32,
    /// Seed of the candidates' arrival times and pauses.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
}

/// The steps timed.
const STEPS: [&str; 5] = ["options", "courses", "training events", "hold", "booking"];

/// What one candidate went through.
#[derive(Debug, Default)]
struct Candidate {
    /// Each step's time, queue waits and read retries included.
    took: Vec<(&'static str, Duration)>,
    /// The first problem the widget would have shown.
    error: Option<String>,
    /// Whether a hold or booking was told to wait its turn.
    queued: bool,
    /// The booking made, for a booking candidate.
    booking_id: Option<u64>,
}

/// The upstream calls the proxy forwarded: route and status.
type Seen = Arc<Mutex<Vec<(String, u16)>>>;

#[derive(Clone)]
struct Proxy {
    client: Client,
    target: String,
    seen: Seen,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    support::exit_code("candidate load", run(&args).await)
}

async fn run(args: &Args) -> Result<bool, String> {
    let client = Client::builder()
        .pool_max_idle_per_host(BROWSING + BOOKING)
        .timeout(Duration::from_secs(180))
        .build()
        .map_err(|error| error.to_string())?;
    let sandbox = args.sandbox.trim_end_matches('/').to_owned();
    let events = create_events(&client, &sandbox).await?;
    let seen = Seen::default();
    let proxy = start_proxy(client.clone(), &sandbox, seen.clone()).await?;
    let mut config = GatewayConfig::new(format!("{proxy}/api/v1"), std::env::temp_dir());
    config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    config.credentials = Some(Credentials {
        client_id: "HB-DEMO".to_owned(),
        api_key: Secret::new("sandbox-key".to_owned()),
    });
    config.signing_key = Some(Secret::new(
        "candidate-load-signing-key-0123456789".to_owned(),
    ));
    config.pay_options = vec![PayOption::Inv];
    config.trusted_proxies = vec!["127.0.0.1/32".parse().expect("an address range")];
    config.upstream_rate_limit = args.upstream_rate_limit;
    let gateway = spawn_gateway(config)
        .await
        .map_err(|error| format!("the gateway did not start: {error}"))?;
    let base = format!("{}/api", gateway.url());

    let mut rng = StdRng::seed_from_u64(args.seed);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for n in 0..BROWSING + BOOKING {
        let plan = Plan {
            client: client.clone(),
            base: base.clone(),
            address: IpAddr::V4(Ipv4Addr::new(10, 1, (n / 250) as u8, (n % 250) as u8 + 1)),
            start: Duration::from_millis(rng.random_range(0..ARRIVALS.as_millis() as u64)),
            pauses: [
                Duration::from_millis(rng.random_range(500..3000)),
                Duration::from_millis(rng.random_range(3000..8000)),
            ],
            event: (n >= BROWSING).then(|| events[n - BROWSING]),
            other_course: rng.random_range(1..=3),
        };
        tasks.push(tokio::spawn(plan.run()));
    }
    let mut candidates = Vec::with_capacity(tasks.len());
    for task in tasks {
        candidates.push(task.await.map_err(|error| error.to_string())?);
    }
    let wall = started.elapsed();
    let seen = seen.lock().expect("proxy tally").clone();
    Ok(report(&candidates, &seen, wall))
}

/// One event per booking candidate, each with a few seats.
async fn create_events(client: &Client, sandbox: &str) -> Result<Vec<u64>, String> {
    let now = support::sandbox_now(client, sandbox).await?;
    let mut events = Vec::with_capacity(BOOKING);
    for n in 0..BOOKING {
        let start =
            now + chrono::Duration::days(3 + n as i64 / 4) + chrono::Duration::hours(n as i64 % 4);
        let place = (COURSE_ID, 1 + n as u64 % 3);
        events.push(support::create_event(client, sandbox, place, start, 6).await?);
    }
    Ok(events)
}

/// Starts the counting proxy to `target`; answers its URL.
async fn start_proxy(client: Client, target: &str, seen: Seen) -> Result<String, String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|error| error.to_string())?;
    let url = format!(
        "http://{}",
        listener.local_addr().map_err(|error| error.to_string())?
    );
    let proxy = Proxy {
        client,
        target: target.to_owned(),
        seen,
    };
    let app = axum::Router::new().fallback(forward).with_state(proxy);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}

async fn forward(
    State(proxy): State<Proxy>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path_and_query = uri.path_and_query().map_or("/", |path| path.as_str());
    let mut request = proxy
        .client
        .request(method.clone(), format!("{}{path_and_query}", proxy.target))
        .body(body);
    for name in ["authorization", "content-type", "accept", "idempotency-key"] {
        if let Some(value) = headers.get(name) {
            request = request.header(name, value);
        }
    }
    let route = format!("{method} {}", route_of(uri.path()));
    let Ok(answer) = request.send().await else {
        proxy.seen.lock().expect("tally").push((route, 502));
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let status = answer.status();
    let mut out = HeaderMap::new();
    for name in ["content-type", "retry-after"] {
        if let Some(value) = answer.headers().get(name) {
            out.insert(name, value.clone());
        }
    }
    let body = answer.bytes().await.unwrap_or_default();
    proxy
        .seen
        .lock()
        .expect("tally")
        .push((route, status.as_u16()));
    (status, out, body).into_response()
}

/// A path with its ids and hashes replaced: `/api/v1/training-events/{id}/hold`.
fn route_of(path: &str) -> String {
    path.split('/')
        .map(|part| {
            if !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()) {
                "{id}"
            } else if part.len() > 20 {
                "{hash}"
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// What one candidate does.
struct Plan {
    client: Client,
    base: String,
    address: IpAddr,
    start: Duration,
    pauses: [Duration; 2],
    /// The event to book, for a booking candidate.
    event: Option<u64>,
    /// The course browsed second.
    other_course: u64,
}

/// An answer: status, `Retry-After`, body.
struct Answer {
    status: u16,
    retry_after: Option<u64>,
    body: Value,
}

impl Plan {
    async fn run(self) -> Candidate {
        tokio::time::sleep(self.start).await;
        let mut candidate = Candidate::default();
        if let Err(error) = self.steps(&mut candidate).await {
            candidate.error = Some(error);
        }
        candidate
    }

    async fn steps(&self, candidate: &mut Candidate) -> Result<(), String> {
        let options = self
            .timed_read(candidate, "options", "/options", None)
            .await?;
        let session = options["session"]
            .as_str()
            .ok_or("options handed out no session")?
            .to_owned();
        let session = Some(session.as_str());
        self.timed_read(candidate, "courses", "/courses", session)
            .await?;
        let first_course = if self.event.is_some() { COURSE_ID } else { 1 };
        let events = format!("/training-events?course_id={first_course}");
        self.timed_read(candidate, "training events", &events, session)
            .await?;
        tokio::time::sleep(self.pauses[0]).await;
        let Some(event) = self.event else {
            let events = format!("/training-events?course_id={}", self.other_course);
            self.timed_read(candidate, "training events", &events, session)
                .await?;
            return Ok(());
        };
        let held = self
            .timed_write(
                candidate,
                "hold",
                "/holds",
                json!({ "event_id": event }),
                session,
                None,
            )
            .await?;
        let hold_ref = held["hold_ref"].as_str().ok_or("a hold without hold_ref")?;
        tokio::time::sleep(self.pauses[1]).await;
        let booking = json!({
            "hold_ref": hold_ref,
            "first_name": "Priya",
            "last_name": "Patel",
            "email": format!("candidate-{event}@carestaff.example"),
            "phone": "+447700900123",
            "job_role": "Healthcare Assistant",
            "pay_option": "inv",
        });
        let key = format!("load-{event}");
        let receipt = self
            .timed_write(
                candidate,
                "booking",
                "/bookings",
                booking,
                session,
                Some(&key),
            )
            .await?;
        candidate.booking_id = receipt["booking"]["id"].as_u64();
        Ok(())
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        session: Option<&str>,
        body: Option<&Value>,
        extra: &[(&str, &str)],
    ) -> Result<Answer, String> {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("x-forwarded-for", self.address.to_string());
        if let Some(session) = session {
            request = request.header("x-hbg-session", session);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        let response = request.send().await.map_err(|error| error.to_string())?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse().ok());
        let body = response.json().await.unwrap_or(Value::Null);
        Ok(Answer {
            status,
            retry_after,
            body,
        })
    }

    /// A GET as the widget sends it: network errors, 5xx and 429 retried
    /// after `Retry-After` (30 s at most) or a back-off.
    async fn timed_read(
        &self,
        candidate: &mut Candidate,
        step: &'static str,
        path: &str,
        session: Option<&str>,
    ) -> Result<Value, String> {
        let started = Instant::now();
        let mut attempt = 0;
        let answer = loop {
            attempt += 1;
            let answer = self.send(Method::GET, path, session, None, &[]).await;
            let retry = match &answer {
                Err(_) => true,
                Ok(answer) => answer.status == 429 || answer.status >= 500,
            };
            if !retry || attempt >= READ_ATTEMPTS {
                break answer;
            }
            let wait = match &answer {
                Ok(Answer {
                    retry_after: Some(seconds),
                    ..
                }) => Duration::from_secs((*seconds).min(30)),
                _ => Duration::from_millis(500 << (attempt - 1)),
            };
            tokio::time::sleep(wait).await;
        };
        candidate.took.push((step, started.elapsed()));
        let answer = answer.map_err(|error| format!("{step}: {error}"))?;
        if (200..300).contains(&answer.status) {
            Ok(answer.body)
        } else {
            Err(format!("{step}: {} {}", answer.status, answer.body))
        }
    }

    /// A POST as the widget sends a hold or a booking: sent again with its
    /// ticket on its turn when the gateway queues it, otherwise once.
    async fn timed_write(
        &self,
        candidate: &mut Candidate,
        step: &'static str,
        path: &str,
        body: Value,
        session: Option<&str>,
        idempotency_key: Option<&str>,
    ) -> Result<Value, String> {
        let started = Instant::now();
        let mut ticket: Option<String> = None;
        let mut turns = 0;
        let answer = loop {
            let mut extra = Vec::new();
            if let Some(key) = idempotency_key {
                extra.push(("idempotency-key", key));
            }
            if let Some(ticket) = ticket.as_deref() {
                extra.push(("x-hbg-queue-ticket", ticket));
            }
            let answer = self
                .send(Method::POST, path, session, Some(&body), &extra)
                .await
                .map_err(|error| format!("{step}: {error}"))?;
            let queued = answer.body["queue_ticket"].as_str().map(str::to_owned);
            match queued {
                Some(next) if answer.status == 503 && turns < QUEUE_TURNS => {
                    turns += 1;
                    candidate.queued = true;
                    let wait = answer.body["queued_for_seconds"].as_u64().unwrap_or(1);
                    tokio::time::sleep(Duration::from_secs(wait)).await;
                    ticket = Some(next);
                }
                _ => break answer,
            }
        };
        candidate.took.push((step, started.elapsed()));
        if (200..300).contains(&answer.status) {
            Ok(answer.body)
        } else {
            Err(format!("{step}: {} {}", answer.status, answer.body))
        }
    }
}

/// Prints the tables; answers whether the run met its goals.
fn report(candidates: &[Candidate], seen: &[(String, u16)], wall: Duration) -> bool {
    let errors: Vec<&String> = candidates
        .iter()
        .filter_map(|candidate| candidate.error.as_ref())
        .collect();
    let queued = candidates
        .iter()
        .filter(|candidate| candidate.queued)
        .count();
    let bookings = candidates
        .iter()
        .filter(|candidate| candidate.booking_id.is_some())
        .count();
    let limited = seen.iter().filter(|(_, status)| *status == 429).count();
    println!();
    println!(
        "| candidate load | candidates | saw an error | told to wait | bookings | upstream calls | upstream 429s | wall |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    println!(
        "| {BROWSING} browsing + {BOOKING} booking | {} | {} | {queued} | {bookings} | {} | {limited} | {:.1} s |",
        candidates.len(),
        errors.len(),
        seen.len(),
        wall.as_secs_f64()
    );
    println!();
    println!("| step | answers | p50 | p99 |");
    println!("| --- | --- | --- | --- |");
    for step in STEPS {
        let took: Vec<Duration> = candidates
            .iter()
            .flat_map(|candidate| &candidate.took)
            .filter(|(name, _)| *name == step)
            .map(|(_, took)| *took)
            .collect();
        println!(
            "| step {step} | {} | {} | {} |",
            took.len(),
            millis(percentile(&took, 50)),
            millis(percentile(&took, 99))
        );
    }
    let mut per_route: BTreeMap<&str, usize> = BTreeMap::new();
    for (route, _) in seen {
        *per_route.entry(route).or_default() += 1;
    }
    println!();
    println!("upstream calls by route: {per_route:?}");
    for error in errors.iter().take(10) {
        eprintln!("a candidate saw: {error}");
    }
    println!("(one machine: these candidates, the gateway and the sandbox share its cores)");
    errors.is_empty() && limited == 0 && bookings == BOOKING
}
