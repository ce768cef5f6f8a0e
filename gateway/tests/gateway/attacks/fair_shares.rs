//! Attacks on the agency's shares of the upstream: one address flooding
//! holds to take the seats and the upstream's rate limit from everyone else,
//! and queue tickets presented late to push the upstream past its limit.

use std::time::Duration;

use booking_core::widget_api::QUEUE_TICKET_HEADER;
use reqwest::StatusCode;
use serde_json::json;
use tokio::time::Instant;

use crate::support::{assert_within_limit, Reply, Stack, Widget};
use booking_sandbox::SandboxConfig;

/// Holds sent at once, each from its own task.
async fn hold_all(holds: Vec<(Widget, u64)>) -> Vec<Reply> {
    let tasks: Vec<_> = holds
        .into_iter()
        .map(|(widget, event)| tokio::spawn(async move { widget.hold(event, None).await }))
        .collect();
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.expect("the hold finishes"));
    }
    replies
}

fn granted(replies: &[Reply]) -> usize {
    replies
        .iter()
        .filter(|reply| reply.status == StatusCode::OK)
        .count()
}

/// One session and then nine more from one address flood holds on forty
/// events; at the same time another address opens the widget, lists an
/// events page nobody has read and holds a seat. The flood gets no more
/// than its caps, and the other address is neither refused nor kept
/// waiting more than a few seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_address_flooding_holds_takes_neither_the_seats_nor_the_upstream_from_another() {
    let stack = Stack::start_with(|config, _| {
        config.upstream_rate_limit = 12;
        config.upstream_rate_window = Duration::from_secs(60);
    })
    .await;
    let mut events = Vec::new();
    for _ in 0..40 {
        events.push(stack.create_event(2, 9).await);
    }
    let free = stack.create_event(2, 9).await;
    let flooder = stack.widget_from("127.0.0.2").await;
    let one_session = hold_all(
        events
            .iter()
            .map(|event| (flooder.clone(), *event))
            .collect(),
    )
    .await;
    assert!(
        granted(&one_session) <= 2,
        "one session was granted {} holds",
        granted(&one_session)
    );
    let mut sessions = Vec::new();
    for _ in 0..9 {
        sessions.push(stack.widget_from("127.0.0.2").await);
    }
    let many_sessions = hold_all(
        sessions
            .iter()
            .flat_map(|widget| events.iter().map(|event| (widget.clone(), *event)))
            .collect(),
    )
    .await;
    let flood_granted = granted(&one_session) + granted(&many_sessions);
    assert!(
        flood_granted <= 10,
        "one address was granted {flood_granted} holds"
    );

    let other = stack.widget_from("127.0.0.3").await;
    let listed = other
        .get("/training-events?course_id=2&location_id=1")
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let started = Instant::now();
    let held = other.hold(free, None).await;
    let waited = match held.status {
        StatusCode::OK => started.elapsed(),
        StatusCode::SERVICE_UNAVAILABLE => Duration::from_secs(
            held.body["queued_for_seconds"]
                .as_u64()
                .unwrap_or_else(|| panic!("neither held nor queued: {}", held.text)),
        ),
        status => panic!(
            "another address's hold was answered {status}: {}",
            held.text
        ),
    };
    println!("another address's first hold waited {waited:?} while one address flooded");
    assert!(
        waited <= Duration::from_secs(3),
        "another address's first hold waited {waited:?}"
    );
}

/// Holds over the upstream's limit are queued; their tickets are presented
/// well after their turn (as a widget in a background tab would), together
/// with as many new holds: the upstream still never sees more calls in a
/// window than its limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn queue_tickets_presented_late_never_push_the_upstream_past_its_limit() {
    const LIMIT: usize = 4;
    let window = Duration::from_secs(4);
    let stack = Stack::start_on_manual_clock(SandboxConfig::for_tests(), |config, _| {
        config.upstream_rate_limit = LIMIT as u32;
        config.upstream_rate_window = window - Duration::from_secs(1);
    })
    .await;
    let clock = stack.clock.clone().expect("a manual clock");
    let mut events = Vec::new();
    let mut widgets = Vec::new();
    for n in 0..12 {
        events.push(stack.create_event(2, 9).await);
        widgets.push(stack.widget_from(&format!("127.0.0.{}", 20 + n)).await);
    }
    let first = hold_all((0..8).map(|n| (widgets[n].clone(), events[n])).collect()).await;
    let asked = clock.now();
    let mut late = Vec::new();
    let mut turn = asked;
    for (n, reply) in first.iter().enumerate() {
        if reply.status == StatusCode::SERVICE_UNAVAILABLE {
            let ticket = reply.body["queue_ticket"].as_str().expect("a ticket");
            let seconds = reply.body["queued_for_seconds"].as_u64().expect("a wait");
            turn = turn.max(asked + Duration::from_secs(seconds));
            late.push((n, ticket.to_owned()));
        } else {
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        }
    }
    assert!(late.len() >= LIMIT, "{} holds were queued", late.len());
    // The attack: the tickets come back most of a window after their turn.
    clock.advance(turn + window - Duration::from_millis(500) - clock.now());
    let presented: Vec<_> = late
        .into_iter()
        .map(|(n, ticket)| {
            let (widget, event) = (widgets[n].clone(), events[n]);
            tokio::spawn(async move {
                widget
                    .post(
                        "/holds",
                        json!({ "event_id": event }),
                        &[(QUEUE_TICKET_HEADER, &ticket)],
                    )
                    .await
            })
        })
        .collect();
    let fresh = hold_all((8..12).map(|n| (widgets[n].clone(), events[n])).collect()).await;
    for task in presented {
        let reply = task.await.expect("the hold finishes");
        assert!(
            [StatusCode::OK, StatusCode::SERVICE_UNAVAILABLE].contains(&reply.status),
            "{}",
            reply.text
        );
    }
    assert!(fresh
        .iter()
        .all(|reply| reply.status != StatusCode::TOO_MANY_REQUESTS));
    assert_within_limit(&stack.proxy.seen(), LIMIT, window - Duration::from_secs(1));
}
