//! Whether a slow webhook receiver slows `POST /bookings`, measured from
//! outside the sandbox.
//!
//! `cargo xtask bench` builds this with the `server` profile, starts a
//! release sandbox (test mode, rate limit out of the way) and runs
//!
//! ```text
//! webhook_drag --sandbox http://127.0.0.1:PORT
//! ```
//!
//! HB-DEMO books [`BOOKINGS`] seats one after another (hold, then book by
//! invoice) twice: first with no webhook endpoint, then with an endpoint
//! for `booking.created` at a receiver of this program's that takes
//! [`RECEIVER_DELAY`] to answer each delivery. The table gives the p50 and
//! p99 of `POST /bookings` in each run and how many deliveries the receiver
//! had answered a few seconds after the last booking. Deliveries are made by the sandbox's background worker, so the
//! booking's latency must not carry the receiver's delay: the run fails
//! (exit status 1) when the p99 with the slow receiver reaches the delay.

use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use clap::Parser;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use support::{millis, percentile};

// The bench clients' shared helpers, kept once with the gateway's.
#[path = "../../gateway/examples/support/mod.rs"]
mod support;

/// Bookings in each run.
const BOOKINGS: usize = 40;
/// How long the slow receiver takes to answer each delivery.
const RECEIVER_DELAY: Duration = Duration::from_secs(2);
/// The course of the events booked (Moving & Handling).
const COURSE_ID: u64 = 2;

/// Where the sandbox is.
#[derive(Debug, Parser)]
struct Args {
    /// The sandbox's base URL (test mode), e.g. http://127.0.0.1:8081.
    #[arg(long)]
    sandbox: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    support::exit_code(
        "webhook drag",
        run(args.sandbox.trim_end_matches('/')).await,
    )
}

async fn run(sandbox: &str) -> Result<bool, String> {
    let client = Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|error| error.to_string())?;
    let token = post(
        &client,
        sandbox,
        "/api/v1/auth/token",
        None,
        json!({"hb_client_id": "HB-DEMO", "api_key": "sandbox-key"}),
    )
    .await?["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or("no access token")?;

    let without = bookings(&client, sandbox, &token).await?;

    let delivered = Arc::new(AtomicUsize::new(0));
    let receiver = slow_receiver(delivered.clone()).await?;
    post(
        &client,
        sandbox,
        "/api/v1/webhooks",
        Some(&token),
        json!({"name": "Slow receiver", "url": receiver, "events": ["booking.created"]}),
    )
    .await?;
    let with = bookings(&client, sandbox, &token).await?;
    // The worker delivers one event at a time per endpoint: wait for the
    // first few to arrive, to show the receiver was being called.
    let deadline = Instant::now() + RECEIVER_DELAY * 5;
    while delivered.load(Ordering::SeqCst) < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    println!();
    println!("Webhook drag: {BOOKINGS} bookings one after another, POST /bookings latency");
    println!("| run | booking p50 | booking p99 | deliveries received |");
    println!("| --- | ---: | ---: | ---: |");
    println!(
        "| without a webhook endpoint | {} | {} | 0 |",
        millis(percentile(&without, 50)),
        millis(percentile(&without, 99))
    );
    println!(
        "| with a receiver taking {} s | {} | {} | {} |",
        RECEIVER_DELAY.as_secs(),
        millis(percentile(&with, 50)),
        millis(percentile(&with, 99)),
        delivered.load(Ordering::SeqCst)
    );
    Ok(percentile(&with, 99) < RECEIVER_DELAY && delivered.load(Ordering::SeqCst) > 0)
}

/// Books [`BOOKINGS`] seats of a new event one after another; the
/// latencies of `POST /bookings`.
async fn bookings(client: &Client, sandbox: &str, token: &str) -> Result<Vec<Duration>, String> {
    let event = create_event(client, sandbox).await?;
    let mut took = Vec::with_capacity(BOOKINGS);
    for n in 0..BOOKINGS {
        let hold = post(
            client,
            sandbox,
            &format!("/api/v1/training-events/{event}/hold"),
            Some(token),
            json!({}),
        )
        .await?;
        let hash = hold["hold_hash"].as_str().ok_or("no hold hash")?;
        let started = Instant::now();
        post(
            client,
            sandbox,
            "/api/v1/bookings",
            Some(token),
            json!({
                "hold_hash": hash,
                "first_name": "Drag",
                "last_name": format!("Candidate {n}"),
                "email": format!("drag.{n}@carestaff.example"),
                "pay_option": "inv",
            }),
        )
        .await?;
        took.push(started.elapsed());
    }
    Ok(took)
}

/// An event with a seat for every booking, two days after the sandbox's now.
async fn create_event(client: &Client, sandbox: &str) -> Result<u64, String> {
    let now = support::sandbox_now(client, sandbox).await?;
    let event = post(
        client,
        sandbox,
        "/_sandbox/training-events",
        None,
        json!({
            "course_id": COURSE_ID,
            "location_id": 1,
            "start_date": (now + chrono::Duration::days(2)).to_rfc3339(),
            "capacity": BOOKINGS,
        }),
    )
    .await?;
    event["id"].as_u64().ok_or_else(|| "no event id".to_owned())
}

/// A receiver on a free loopback port that answers every request 200 after
/// [`RECEIVER_DELAY`], counting them; its URL.
async fn slow_receiver(delivered: Arc<AtomicUsize>) -> Result<String, String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|error| error.to_string())?;
    let address = listener.local_addr().map_err(|error| error.to_string())?;
    let app = Router::new().fallback(move || {
        let delivered = delivered.clone();
        async move {
            tokio::time::sleep(RECEIVER_DELAY).await;
            delivered.fetch_add(1, Ordering::SeqCst);
            StatusCode::OK
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(format!("http://{address}/hook"))
}

async fn post(
    client: &Client,
    base: &str,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> Result<Value, String> {
    let mut request = client.post(format!("{base}{path}")).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let reply = request
        .send()
        .await
        .map_err(|error| format!("POST {path}: {error}"))?;
    let status = reply.status();
    let json: Value = reply.json().await.unwrap_or(Value::Null);
    if status.is_success() {
        Ok(json)
    } else {
        Err(format!("POST {path} answered {status}: {json}"))
    }
}
