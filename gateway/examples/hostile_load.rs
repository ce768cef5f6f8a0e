//! The hostile load: one address flooding holds while another books, then
//! 10,000 hostile requests, against a gateway with its default caps and
//! rate limits (a separate process, so its resident memory is its own).
//!
//! `cargo xtask bench` builds this with the `server` profile, starts a
//! release sandbox in test mode with `--rate-limit 60` and a release
//! gateway in front of it, and runs
//!
//! ```text
//! hostile_load --sandbox http://127.0.0.1:PORT --gateway http://127.0.0.1:PORT --gateway-pid PID
//! ```
//!
//! * **The flood**: 30 sessions from 127.0.0.2 hold 20 events each at
//!   once; then another address (127.0.0.3) opens the widget, lists an
//!   events page nobody has read and holds a free seat. The table gives the
//!   holds the flooding address was granted, how the other address's events
//!   list and hold were answered, and how long its hold took (its queue wait
//!   when it was queued).
//! * **The hostile requests**: 10,000 requests from 500 addresses
//!   (127.0.1.0/16), 32 at a time: bookings with 15 KB e-mail addresses on
//!   the flood's holds while the upstream's budget is spent (each a new
//!   attempt, answered "busy"),
//!   bookings on forged and on real holds while the upstream's budget is
//!   spent, holds over the caps, forged sessions, malformed and mistyped
//!   bodies, bodies near the 16 KB limit, new sessions. The table gives
//!   the gateway's resident memory (`VmRSS`) before them and right after,
//!   each read once the gateway has been idle past its header timeout (so
//!   idle connections are closed): "before" follows the flood, whose
//!   hundreds of connections at once leave the allocator its high-water
//!   mark, so the growth is what the hostile requests leave behind.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Client;
use serde_json::{json, Value};

mod support;

/// Events the flood and the hostile requests hold.
const EVENTS: usize = 24;
/// Sessions the flooding address opens.
const FLOOD_SESSIONS: usize = 30;
/// Client addresses the hostile requests come from.
const HOSTILE_ADDRESSES: usize = 500;
/// Hostile requests in flight at once.
const CONCURRENCY: usize = 32;
/// How long the gateway is left idle before its memory is read again: past
/// its header timeout (10 s), so the hostile clients' idle connections are
/// closed.
const SETTLE: Duration = Duration::from_secs(12);

/// Where the servers are.
#[derive(Debug, Parser)]
struct Args {
    /// The sandbox's base URL (test mode).
    #[arg(long)]
    sandbox: String,
    /// The gateway's base URL.
    #[arg(long)]
    gateway: String,
    /// The gateway's process id, whose resident memory is read.
    #[arg(long)]
    gateway_pid: u32,
    /// Hostile requests sent.
    #[arg(long, default_value_t = 10_000)]
    requests: usize,
    /// Seed of the hostile requests' mix.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    support::exit_code("hostile load", run(&args).await)
}

async fn run(args: &Args) -> Result<bool, String> {
    let sandbox = args.sandbox.trim_end_matches('/');
    let api = format!("{}/api", args.gateway.trim_end_matches('/'));
    let events = create_events(&client_from("127.0.0.1")?, sandbox).await?;
    let warm = Widget::open(client_from("127.0.0.9")?, &api).await?;
    warm.get("/courses").await?;
    warm.get("/training-events?course_id=2").await?;

    let flooded = flood(&api, &events).await?;
    println!();
    println!("| measure | value |");
    println!("| ------- | ----: |");
    println!(
        "| flood: holds granted to one address | {} |",
        flooded.granted.len()
    );
    println!(
        "| flood: another address's events list, hold | {} {} |",
        flooded.listed, flooded.held
    );
    println!(
        "| flood: another address's first hold | {} |",
        support::millis(flooded.waited)
    );

    let widgets = hostile_widgets(&api).await?;
    tokio::time::sleep(SETTLE).await;
    let before = resident_kib(args.gateway_pid)?;
    let started = Instant::now();
    let answered = hostile(&widgets, &events, &flooded.granted, args).await?;
    drop(widgets);
    let took = started.elapsed();
    tokio::time::sleep(SETTLE).await;
    let after = resident_kib(args.gateway_pid)?;
    println!(
        "| hostile: requests answered (4xx, 5xx) | {} ({}, {}) in {:.1} s |",
        answered.total,
        answered.client_errors,
        answered.server_errors,
        took.as_secs_f64()
    );
    println!("| hostile: gateway resident memory before / after | {before} / {after} KiB |");
    Ok(answered.total == args.requests
        && flooded.listed == 200
        && [200, 503].contains(&flooded.held))
}

/// A client connecting from `address` (any of 127.0.0.0/8 is this machine,
/// so each is another client address to the gateway).
fn client_from(address: &str) -> Result<Client, String> {
    Client::builder()
        .local_address(
            address
                .parse::<std::net::IpAddr>()
                .map_err(|e| e.to_string())?,
        )
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|error| error.to_string())
}

/// Events of course 2 a week or more ahead, a few seats each.
async fn create_events(client: &Client, sandbox: &str) -> Result<Vec<u64>, String> {
    let now = support::sandbox_now(client, sandbox).await?;
    let mut events = Vec::with_capacity(EVENTS);
    for n in 0..EVENTS {
        let start = now + chrono::Duration::days(7 + n as i64 / 6);
        let location = 1 + n as u64 % 3;
        events.push(support::create_event(client, sandbox, (2, location), start, 9).await?);
    }
    Ok(events)
}

/// A widget session.
#[derive(Clone)]
struct Widget {
    client: Client,
    api: String,
    session: String,
}

impl Widget {
    /// Opens a session.
    async fn open(client: Client, api: &str) -> Result<Widget, String> {
        let options: Value = client
            .get(format!("{api}/options"))
            .send()
            .await
            .map_err(|error| error.to_string())?
            .json()
            .await
            .map_err(|error| error.to_string())?;
        let session = options["session"]
            .as_str()
            .ok_or_else(|| format!("no session: {options}"))?
            .to_owned();
        Ok(Widget {
            client,
            api: api.to_owned(),
            session,
        })
    }

    async fn get(&self, path: &str) -> Result<(u16, Value), String> {
        let request = self
            .client
            .get(format!("{}{path}", self.api))
            .header("x-hbg-session", &self.session);
        answer(request).await
    }

    async fn post(
        &self,
        path: &str,
        body: String,
        key: Option<&str>,
    ) -> Result<(u16, Value), String> {
        let mut request = self
            .client
            .post(format!("{}{path}", self.api))
            .header("x-hbg-session", &self.session)
            .header("content-type", "application/json")
            .body(body);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        answer(request).await
    }

    async fn hold(&self, event: u64) -> Result<(u16, Value), String> {
        self.post("/holds", json!({ "event_id": event }).to_string(), None)
            .await
    }
}

/// The status and JSON body of an answer.
async fn answer(request: reqwest::RequestBuilder) -> Result<(u16, Value), String> {
    let response = request.send().await.map_err(|error| error.to_string())?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(|error| error.to_string())?;
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Ok((status, body))
}

/// What the flood left the other address.
struct Flooded {
    /// Holds granted to the flooding address: each session and reference.
    granted: Vec<(String, String)>,
    /// The status of the other address's events list.
    listed: u16,
    /// The status of the other address's hold.
    held: u16,
    /// How long its hold took, or the queue wait it was told.
    waited: Duration,
}

/// The flood, and the other address's events list and first hold.
async fn flood(api: &str, events: &[u64]) -> Result<Flooded, String> {
    let flooding = client_from("127.0.0.2")?;
    let mut sessions = Vec::new();
    for _ in 0..FLOOD_SESSIONS {
        sessions.push(Widget::open(flooding.clone(), api).await?);
    }
    let free = events[EVENTS - 1];
    let mut holds = Vec::new();
    let mut asked_by = Vec::new();
    for session in &sessions {
        for event in &events[..EVENTS - 1] {
            let (widget, event) = (session.clone(), *event);
            holds.push(tokio::spawn(async move { widget.hold(event).await }));
            asked_by.push(session.session.clone());
        }
    }
    let other = Widget::open(client_from("127.0.0.3")?, api).await?;
    let (listed, _) = other
        .get("/training-events?course_id=2&location_id=2")
        .await?;
    let started = Instant::now();
    let (held, body) = other.hold(free).await?;
    let waited = match body["queued_for_seconds"].as_u64() {
        Some(seconds) => Duration::from_secs(seconds),
        None => started.elapsed(),
    };
    let mut granted = Vec::new();
    for (hold, session) in holds.into_iter().zip(asked_by) {
        let (_, body) = hold.await.map_err(|error| error.to_string())??;
        if let Some(hold_ref) = body["hold_ref"].as_str() {
            granted.push((session, hold_ref.to_owned()));
        }
    }
    Ok(Flooded {
        granted,
        listed,
        held,
        waited,
    })
}

/// How the hostile requests were answered.
#[derive(Debug, Default)]
struct Answered {
    total: usize,
    client_errors: usize,
    server_errors: usize,
}

/// A session at each of [`HOSTILE_ADDRESSES`] addresses.
async fn hostile_widgets(api: &str) -> Result<Vec<Widget>, String> {
    let mut widgets = Vec::with_capacity(HOSTILE_ADDRESSES);
    for n in 0..HOSTILE_ADDRESSES {
        let address = format!("127.0.{}.{}", 1 + n / 250, 1 + n % 250);
        widgets.push(Widget::open(client_from(&address)?, api).await?);
    }
    Ok(widgets)
}

/// Sends the hostile requests, [`CONCURRENCY`] at a time.
async fn hostile(
    widgets: &[Widget],
    events: &[u64],
    held: &[(String, String)],
    args: &Args,
) -> Result<Answered, String> {
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut answered = Answered::default();
    let mut in_flight = tokio::task::JoinSet::new();
    for n in 0..args.requests {
        let widget = widgets[n % HOSTILE_ADDRESSES].clone();
        let event = events[rng.random_range(0..events.len())];
        let kind = rng.random_range(0..8u8);
        let key = format!("hostile-{n}-{}", rng.random::<u64>());
        let flood_hold = held.get(n % held.len().max(1));
        let widget = match (kind, flood_hold) {
            (0, Some((session, _))) => Widget {
                session: session.clone(),
                ..widget
            },
            _ => widget,
        };
        let hold_ref = flood_hold.map_or_else(|| "forged.1.x".to_owned(), |(_, r)| r.clone());
        in_flight
            .spawn(async move { hostile_request(&widget, kind, event, &key, &hold_ref).await });
        if in_flight.len() >= CONCURRENCY {
            tally(&mut answered, in_flight.join_next().await)?;
        }
    }
    while let Some(done) = in_flight.join_next().await {
        tally(&mut answered, Some(done))?;
    }
    Ok(answered)
}

fn tally(
    answered: &mut Answered,
    done: Option<Result<Result<u16, String>, tokio::task::JoinError>>,
) -> Result<(), String> {
    let Some(done) = done else {
        return Ok(());
    };
    let status = done.map_err(|error| error.to_string())??;
    answered.total += 1;
    answered.client_errors += usize::from((400..500).contains(&status));
    answered.server_errors += usize::from(status >= 500);
    Ok(())
}

/// One hostile request of `kind`.
async fn hostile_request(
    widget: &Widget,
    kind: u8,
    event: u64,
    key: &str,
    flood_hold: &str,
) -> Result<u16, String> {
    let long_email = format!("{}@example.com", "a".repeat(15_000));
    let booking = |hold_ref: &str, email: &str| {
        json!({
            "hold_ref": hold_ref, "first_name": "Mal", "last_name": "Lory",
            "email": email, "phone": "+447700900999", "pay_option": "inv",
        })
        .to_string()
    };
    let (status, _) = match kind {
        0 => {
            widget
                .post("/bookings", booking(flood_hold, &long_email), Some(key))
                .await?
        }
        1 => {
            let forged = format!("{key}.2000000000.AAAAAAAAAAAAAAAAAAAAAA");
            widget
                .post("/bookings", booking(&forged, "mal@example.com"), Some(key))
                .await?
        }
        2 => {
            let (status, held) = widget.hold(event).await?;
            match held["hold_ref"].as_str() {
                Some(hold_ref) => {
                    widget
                        .post("/bookings", booking(hold_ref, "mal@example.com"), Some(key))
                        .await?
                }
                None => (status, held),
            }
        }
        3 => {
            let forged = Widget {
                session: format!("{key}.AAAAAAAAAAAAAAAAAAAAAA"),
                ..widget.clone()
            };
            forged.get("/courses").await?
        }
        4 => {
            widget
                .post("/holds", "{\"event_id\": [1,2".to_owned(), None)
                .await?
        }
        5 => {
            widget
                .post(
                    "/holds",
                    json!({ "event_id": "x".repeat(15_000) }).to_string(),
                    None,
                )
                .await?
        }
        6 => answer(widget.client.get(format!("{}/options", widget.api))).await?,
        _ => {
            widget
                .post(
                    "/bookings",
                    json!({ "hold_ref": key }).to_string(),
                    Some(key),
                )
                .await?
        }
    };
    Ok(status)
}

/// The resident memory of process `pid`, in KiB (`VmRSS` of its status).
fn resident_kib(pid: u32) -> Result<u64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|error| format!("reading the gateway's status: {error}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "the gateway's status has no VmRSS".to_owned())
}
