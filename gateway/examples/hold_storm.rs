//! The hold storm: 500 candidates at once racing for the 12 seats of one
//! training event, measured from outside the servers.
//!
//! `cargo xtask bench` builds this with the `server` profile, starts a
//! release sandbox (test mode, rate limit out of the way) and a gateway in
//! front of it, and runs
//!
//! ```text
//! hold_storm --sandbox http://127.0.0.1:PORT --gateway http://127.0.0.1:PORT
//! ```
//!
//! Two storms, each on a new 12-seat event:
//!
//! * **Through the gateway**, as the widget does, with the gateway's one
//!   upstream account: each attempt opens a session (`GET /api/options`),
//!   asks for a hold (`POST /api/holds`) and, once granted, books
//!   (`POST /api/bookings`, invoice). The sandbox allows one live hold per
//!   account and event, so the attempts queue: a 409 is retried after a
//!   short random pause until the event answers 422 (full) or the attempt
//!   books.
//! * **Straight at the sandbox** from 25 accounts, one hold request per
//!   attempt and no retries (the sandbox's own concurrency scenario).
//!
//! Each must end with exactly 12 bookings and the event showing no seat
//! left; anything else fails the run (exit status 1). The table gives the
//! answers by status and the p50/p99 latency of hold and booking requests.
//!
//! The latencies come from one machine on which this client, the gateway
//! and the sandbox share the same cores: they compare runs on that machine
//! and show where time goes, not what a production deployment would see.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use rand::Rng;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use support::millis;
use tokio::sync::Barrier;

mod support;

/// Concurrent attempts in each storm.
const ATTEMPTS: usize = 500;
/// Seats on the contested event.
const SEATS: usize = 12;
/// Accounts the direct storm spreads its attempts over.
const ACCOUNTS: usize = 25;
/// The course of the contested events (Moving & Handling).
const COURSE_ID: u64 = 2;
/// Shortest and longest pause before retrying a hold after a 409.
const RETRY_PAUSE_MS: (u64, u64) = (5, 25);
/// How long one gateway attempt may keep retrying before the run fails.
const ATTEMPT_DEADLINE: Duration = Duration::from_secs(120);
/// The sandbox's budget for the direct storm's p99 (DESIGN.md).
const SANDBOX_P99_BUDGET: Duration = Duration::from_millis(50);

/// Where the servers are.
#[derive(Debug, Parser)]
struct Args {
    /// The sandbox's base URL (test mode), e.g. http://127.0.0.1:8081.
    #[arg(long)]
    sandbox: String,
    /// The gateway's base URL, in front of that sandbox with HB-DEMO's
    /// credentials and `inv` allowed, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    gateway: String,
}

/// One request's answer and how long it took.
#[derive(Debug, Clone, Copy)]
struct Answer {
    status: StatusCode,
    took: Duration,
}

/// Everything one attempt sent.
#[derive(Debug, Default)]
struct Attempt {
    holds: Vec<Answer>,
    booking: Option<Answer>,
    /// Why it stopped without booking, when that was not a full event.
    failure: Option<String>,
}

/// A storm's tally.
struct Report {
    name: &'static str,
    bookings: usize,
    holds: Vec<Answer>,
    bookings_sent: Vec<Answer>,
    wall: Duration,
    failures: Vec<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    support::exit_code("hold storm", run(&args).await)
}

async fn run(args: &Args) -> Result<bool, String> {
    let client = Client::builder()
        .pool_max_idle_per_host(ATTEMPTS)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|error| error.to_string())?;
    let sandbox = Sandbox {
        client: client.clone(),
        url: args.sandbox.trim_end_matches('/').to_owned(),
    };
    let gateway = args.gateway.trim_end_matches('/').to_owned();

    let event = sandbox.create_event().await?;
    let through_gateway = gateway_storm(&client, &gateway, event).await;
    let mut ok = sandbox.check_sold_out(&through_gateway, event).await?;

    let event = sandbox.create_event().await?;
    let tokens = sandbox.accounts().await?;
    let direct = sandbox_storm(&sandbox, &tokens, event).await;
    ok &= sandbox.check_sold_out(&direct, event).await?;

    print_table(&[&through_gateway, &direct]);
    let p99 = percentile(&direct.holds, 99);
    println!(
        "sandbox hold p99 {} against the {} ms budget: {}",
        millis(p99),
        SANDBOX_P99_BUDGET.as_millis(),
        if p99 <= SANDBOX_P99_BUDGET {
            "within"
        } else {
            "OVER"
        }
    );
    println!("(one machine: this client, the gateway and the sandbox share its cores)");
    Ok(ok)
}

/// Sends a request and times it until the whole body has arrived.
async fn timed(request: reqwest::RequestBuilder) -> Result<(Answer, Value), String> {
    let started = Instant::now();
    let response = request.send().await.map_err(|error| error.to_string())?;
    let status = response.status();
    let body = response.bytes().await.map_err(|error| error.to_string())?;
    let took = started.elapsed();
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Ok((Answer { status, took }, json))
}

/// The sandbox's API and test-mode endpoints.
struct Sandbox {
    client: Client,
    url: String,
}

impl Sandbox {
    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Result<Value, String> {
        let mut request = self.client.post(format!("{}{path}", self.url)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let (answer, json) = timed(request).await?;
        if answer.status.is_success() {
            Ok(json)
        } else {
            Err(format!("POST {path} answered {}: {json}", answer.status))
        }
    }

    /// A 12-seat event two days after the sandbox's now.
    async fn create_event(&self) -> Result<u64, String> {
        let now = support::sandbox_now(&self.client, &self.url).await?;
        let start = now + chrono::Duration::days(2);
        let event = self
            .post(
                "/_sandbox/training-events",
                None,
                json!({
                    "course_id": COURSE_ID,
                    "location_id": 1,
                    "start_date": start.to_rfc3339(),
                    "capacity": SEATS,
                }),
            )
            .await?;
        event["id"].as_u64().ok_or_else(|| "no event id".to_owned())
    }

    async fn login(&self, client_id: &str, api_key: &str) -> Result<String, String> {
        let pair = self
            .post(
                "/api/v1/auth/token",
                None,
                json!({ "hb_client_id": client_id, "api_key": api_key }),
            )
            .await?;
        pair["access_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| "no access token".to_owned())
    }

    /// Creates the direct storm's accounts (invoice payments on) and signs
    /// each in.
    async fn accounts(&self) -> Result<Vec<String>, String> {
        let run = rand::rng().random_range(0..u32::MAX);
        let mut tokens = Vec::with_capacity(ACCOUNTS);
        for n in 0..ACCOUNTS {
            let client_id = format!("STORM-{run:08X}-{n:02}");
            self.post(
                "/_sandbox/accounts",
                None,
                json!({ "hb_client_id": client_id, "api_key": "storm-key", "invoice_payments": true }),
            )
            .await?;
            tokens.push(self.login(&client_id, "storm-key").await?);
        }
        Ok(tokens)
    }

    /// Whether the storm booked exactly the seats and the event agrees;
    /// prints what went wrong otherwise.
    async fn check_sold_out(&self, report: &Report, event: u64) -> Result<bool, String> {
        let token = self.login("HB-DEMO", "sandbox-key").await?;
        let detail: Value = self
            .client
            .get(format!("{}/api/v1/training-events/{event}", self.url))
            .bearer_auth(token)
            .send()
            .await
            .map_err(|error| error.to_string())?
            .json()
            .await
            .map_err(|error| error.to_string())?;
        let remaining = detail["remaining_slots"].as_i64();
        let mut ok = true;
        if report.bookings != SEATS {
            eprintln!(
                "FAILED: {} made {} bookings, not {SEATS}",
                report.name, report.bookings
            );
            ok = false;
        }
        if remaining != Some(0) {
            eprintln!(
                "FAILED: after {} the event shows remaining_slots {remaining:?}, not 0",
                report.name
            );
            ok = false;
        }
        for failure in report.failures.iter().take(5) {
            eprintln!("FAILED: {}: {failure}", report.name);
            ok = false;
        }
        Ok(ok)
    }
}

/// Runs `ATTEMPTS` copies of `attempt` released together by a barrier.
async fn storm<F, Fut>(name: &'static str, attempt: F) -> Report
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Attempt> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(ATTEMPTS + 1));
    let mut tasks = Vec::with_capacity(ATTEMPTS);
    for n in 0..ATTEMPTS {
        let barrier = Arc::clone(&barrier);
        let work = attempt(n);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            work.await
        }));
    }
    barrier.wait().await;
    let started = Instant::now();
    let mut report = Report {
        name,
        bookings: 0,
        holds: Vec::new(),
        bookings_sent: Vec::new(),
        wall: Duration::ZERO,
        failures: Vec::new(),
    };
    for task in tasks {
        match task.await {
            Ok(attempt) => {
                report.holds.extend(attempt.holds);
                if let Some(booking) = attempt.booking {
                    report.bookings += usize::from(booking.status == StatusCode::CREATED);
                    report.bookings_sent.push(booking);
                }
                report.failures.extend(attempt.failure);
            }
            Err(error) => report
                .failures
                .push(format!("an attempt panicked: {error}")),
        }
    }
    report.wall = started.elapsed();
    report
}

/// 500 widget-like attempts through the gateway, retrying 409s.
async fn gateway_storm(client: &Client, gateway: &str, event: u64) -> Report {
    storm("through the gateway (1 account, 409s retried)", |n| {
        gateway_attempt(client.clone(), gateway.to_owned(), event, n)
    })
    .await
}

async fn gateway_attempt(client: Client, gateway: String, event: u64, n: usize) -> Attempt {
    let mut attempt = Attempt::default();
    let session = match timed(client.get(format!("{gateway}/api/options"))).await {
        Ok((answer, body)) if answer.status == StatusCode::OK => {
            body["session"].as_str().unwrap_or_default().to_owned()
        }
        Ok((answer, body)) => {
            attempt.failure = Some(format!(
                "GET /api/options answered {}: {body}",
                answer.status
            ));
            return attempt;
        }
        Err(error) => {
            attempt.failure = Some(format!("GET /api/options: {error}"));
            return attempt;
        }
    };
    let started = Instant::now();
    loop {
        let hold = client
            .post(format!("{gateway}/api/holds"))
            .header("x-hbg-session", &session)
            .json(&json!({ "event_id": event }));
        let (answer, body) = match timed(hold).await {
            Ok(reply) => reply,
            Err(error) => {
                attempt.failure = Some(format!("POST /api/holds: {error}"));
                return attempt;
            }
        };
        attempt.holds.push(answer);
        match answer.status {
            StatusCode::OK => {
                let hold_ref = body["hold_ref"].as_str().unwrap_or_default();
                let booking = client
                    .post(format!("{gateway}/api/bookings"))
                    .header("x-hbg-session", &session)
                    .header("idempotency-key", format!("storm-{n}"))
                    .json(&candidate(json!({ "hold_ref": hold_ref }), n));
                book(&mut attempt, booking, "POST /api/bookings").await;
                return attempt;
            }
            StatusCode::CONFLICT if started.elapsed() < ATTEMPT_DEADLINE => {
                let pause = rand::rng().random_range(RETRY_PAUSE_MS.0..=RETRY_PAUSE_MS.1);
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
            StatusCode::UNPROCESSABLE_ENTITY => return attempt,
            status => {
                attempt.failure = Some(format!("POST /api/holds answered {status}: {body}"));
                return attempt;
            }
        }
    }
}

/// 500 attempts straight at the sandbox from 25 accounts, no retries.
async fn sandbox_storm(sandbox: &Sandbox, tokens: &[String], event: u64) -> Report {
    storm("straight at the sandbox (25 accounts, no retries)", |n| {
        let client = sandbox.client.clone();
        let api = format!("{}/api/v1", sandbox.url);
        let token = tokens[n % tokens.len()].clone();
        async move {
            let mut attempt = Attempt::default();
            let hold = client
                .post(format!("{api}/training-events/{event}/hold"))
                .bearer_auth(&token);
            let (answer, body) = match timed(hold).await {
                Ok(reply) => reply,
                Err(error) => {
                    attempt.failure = Some(format!("POST hold: {error}"));
                    return attempt;
                }
            };
            attempt.holds.push(answer);
            match answer.status {
                StatusCode::OK => {
                    let hash = body["hold_hash"].as_str().unwrap_or_default();
                    let booking = client
                        .post(format!("{api}/bookings"))
                        .bearer_auth(&token)
                        .json(&candidate(json!({ "hold_hash": hash }), n));
                    book(&mut attempt, booking, "POST /bookings").await;
                }
                StatusCode::CONFLICT | StatusCode::UNPROCESSABLE_ENTITY => {}
                status => attempt.failure = Some(format!("POST hold answered {status}: {body}")),
            }
            attempt
        }
    })
    .await
}

/// A booking body: `hold` plus a candidate paying by invoice.
fn candidate(mut hold: Value, n: usize) -> Value {
    if let Some(body) = hold.as_object_mut() {
        body.insert("first_name".into(), json!("Storm"));
        body.insert("last_name".into(), json!(format!("Candidate {n}")));
        body.insert(
            "email".into(),
            json!(format!("storm.{n}@carestaff.example")),
        );
        body.insert("pay_option".into(), json!("inv"));
    }
    hold
}

/// Sends a booking and records it; anything but 201 is a failure (a
/// granted hold must always book).
async fn book(attempt: &mut Attempt, request: reqwest::RequestBuilder, what: &str) {
    match timed(request).await {
        Ok((answer, body)) => {
            attempt.booking = Some(answer);
            if answer.status != StatusCode::CREATED {
                attempt.failure = Some(format!("{what} answered {}: {body}", answer.status));
            }
        }
        Err(error) => attempt.failure = Some(format!("{what}: {error}")),
    }
}

/// The nearest-rank percentile of the answers' latencies.
fn percentile(answers: &[Answer], p: usize) -> Duration {
    let took: Vec<Duration> = answers.iter().map(|answer| answer.took).collect();
    support::percentile(&took, p)
}

/// "200×12 409×3100 422×488".
fn by_status(answers: &[Answer]) -> String {
    let mut counts: BTreeMap<u16, usize> = BTreeMap::new();
    for answer in answers {
        *counts.entry(answer.status.as_u16()).or_default() += 1;
    }
    let mut text = String::new();
    for (status, count) in counts {
        if !text.is_empty() {
            text.push(' ');
        }
        let _ = write!(text, "{status}×{count}");
    }
    text
}

fn print_table(reports: &[&Report]) {
    println!();
    println!("Hold storm: {ATTEMPTS} concurrent hold-and-book attempts on a {SEATS}-seat event");
    println!("| storm | bookings | hold answers | hold p50 | hold p99 | booking answers | booking p50 | booking p99 | wall time |");
    println!("| --- | ---: | --- | ---: | ---: | --- | ---: | ---: | ---: |");
    for report in reports {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:.2} s |",
            report.name,
            report.bookings,
            by_status(&report.holds),
            millis(percentile(&report.holds, 50)),
            millis(percentile(&report.holds, 99)),
            by_status(&report.bookings_sent),
            millis(percentile(&report.bookings_sent, 50)),
            millis(percentile(&report.bookings_sent, 99)),
            report.wall.as_secs_f64(),
        );
    }
}
