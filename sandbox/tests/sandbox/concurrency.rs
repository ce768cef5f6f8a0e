//! Many bookers racing for the seats of one event: never oversold, every
//! refusal a documented 4xx, every granted hold turned into a booking.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::Harness;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::sync::Barrier;

const ACCOUNTS: usize = 25;
const ATTEMPTS: usize = 500;
const SEATS: i64 = 12;

/// What one attempt saw.
struct Attempt {
    hold: StatusCode,
    hold_latency: Duration,
    booking: Option<StatusCode>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_hold_and_book_attempts_sell_exactly_the_seats() {
    let h = Harness::start().await;
    let event = h.create_event(2, SEATS, 48).await;
    let mut tokens = Vec::new();
    for n in 0..ACCOUNTS {
        let client_id = format!("LOAD-{n:02}");
        h.create_account(
            &client_id,
            "load-key",
            json!({ "credits": [{ "course_id": 2, "credits": 50 }] }),
        )
        .await;
        tokens.push(h.login((&client_id, "load-key")).await);
    }
    let hold_url = h.api(&format!("/training-events/{event}/hold"));
    let booking_url = h.api("/bookings");
    let barrier = Arc::new(Barrier::new(ATTEMPTS));
    let mut tasks = Vec::new();
    for attempt in 0..ATTEMPTS {
        let client = h.client.clone();
        let token = tokens[attempt % ACCOUNTS].clone();
        let hold_url = hold_url.clone();
        let booking_url = booking_url.clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let started = Instant::now();
            let hold = client
                .post(&hold_url)
                .bearer_auth(&token)
                .send()
                .await
                .expect("hold answered");
            let hold_latency = started.elapsed();
            let hold_status = hold.status();
            let body: Value = hold.json().await.expect("hold body is JSON");
            let booking = if hold_status == StatusCode::OK {
                let hash = body["hold_hash"].as_str().expect("hash").to_owned();
                let reply = client
                    .post(&booking_url)
                    .bearer_auth(&token)
                    .json(&crate::common::booking_body(&hash, "credits"))
                    .send()
                    .await
                    .expect("booking answered");
                let status = reply.status();
                let _: Value = reply.json().await.expect("booking body is JSON");
                Some(status)
            } else {
                None
            };
            Attempt {
                hold: hold_status,
                hold_latency,
                booking,
            }
        }));
    }
    let mut attempts = Vec::new();
    for task in tasks {
        attempts.push(task.await.expect("attempt finished"));
    }

    let granted = attempts.iter().filter(|a| a.hold == StatusCode::OK).count();
    let booked = attempts
        .iter()
        .filter(|a| a.booking == Some(StatusCode::CREATED))
        .count();
    for attempt in &attempts {
        assert!(
            [
                StatusCode::OK,
                StatusCode::CONFLICT,
                StatusCode::UNPROCESSABLE_ENTITY
            ]
            .contains(&attempt.hold),
            "hold answered {}",
            attempt.hold
        );
        if let Some(status) = attempt.booking {
            assert_eq!(status, StatusCode::CREATED, "a granted hold always books");
        }
    }
    assert_eq!(granted, SEATS as usize);
    assert_eq!(booked, SEATS as usize);

    let token = &tokens[0];
    assert_eq!(h.remaining(token, event).await, 0);
    let mut total = 0;
    for token in &tokens {
        let list = h.get(token, "/bookings").await;
        total += list.body["meta"]["total"].as_i64().expect("total");
    }
    assert_eq!(total, SEATS);

    let mut latencies: Vec<Duration> = attempts.iter().map(|a| a.hold_latency).collect();
    latencies.sort_unstable();
    let p50 = latencies[latencies.len() / 2];
    let p99 = latencies[latencies.len() * 99 / 100];
    eprintln!(
        "{ATTEMPTS} concurrent hold attempts: {granted} granted, p50 {p50:?}, p99 {p99:?} (not a benchmark)"
    );
}
