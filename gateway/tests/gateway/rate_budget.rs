//! The upstream's rate limit, shared by every candidate of the agency, kept
//! by the gateway: holds and bookings over it wait their turn in a queue
//! the candidate is told about, and the upstream never sees more calls in a
//! window than it allows (so never answers 429).
//!
//! The sandbox behind the gateway enforces the very limit the gateway is
//! told about (`LIMIT` calls per `UPSTREAM_WINDOW` from the gateway's
//! address), so one call too many is answered 429 and fails the test. The
//! gateway runs on a manual clock: windows slide and queue turns come when
//! the test advances it (and the sandbox's clock with it).

use std::time::Duration;

use crate::support::{assert_within_limit, client_from, SandboxAccount, Seen, Stack, Widget};
use booking_core::api::PayOption;
use booking_core::widget_api::QUEUE_TICKET_HEADER;
use booking_sandbox::SandboxConfig;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The upstream's limit in these tests: calls per window.
const LIMIT: u32 = 4;
/// The upstream's window, the sandbox's and the one the gateway is told.
const UPSTREAM_WINDOW: Duration = Duration::from_secs(2);
/// The window the gateway spreads them over: the limit's two seconds plus
/// the gateway's one-second margin.
const WINDOW: Duration = Duration::from_secs(3);

async fn stack() -> Stack {
    let sandbox = SandboxConfig {
        rate_limit: LIMIT,
        rate_window: UPSTREAM_WINDOW,
        ..SandboxConfig::for_tests()
    };
    Stack::start_on_manual_clock(sandbox, |config, _| {
        config.upstream_rate_limit = LIMIT;
        config.upstream_rate_window = UPSTREAM_WINDOW;
        config.pay_options = vec![PayOption::Credits];
    })
    .await
}

/// Moves both clocks on by a whole window of the gateway's: every call
/// sent so far has left it (and the sandbox's).
async fn a_window_passes(stack: &Stack) {
    stack.advance(WINDOW.as_secs() as u32).await;
}

/// The sandbox's bookings on `event_id`, read straight from the sandbox
/// from `address`: an address of the reader's own, so that the reads
/// count neither against the gateway's limit nor against each other's.
async fn bookings_on(stack: &Stack, event_id: u64, address: &str) -> Vec<Value> {
    let client = client_from(address);
    SandboxAccount {
        client: &client,
        url: stack.sandbox.url(),
        account: &stack.account,
    }
    .bookings_on(event_id)
    .await
}

/// A widget of candidate `n`, each candidate at an address of its own (so
/// no candidate's calls count against another's fair share of the window).
async fn candidate_widget(stack: &Stack, n: u8) -> Widget {
    stack.widget_from(&format!("127.0.0.{}", 50 + n)).await
}

/// Every window of the upstream calls seen holds at most `LIMIT` of them,
/// and none was answered 429.
fn assert_within_the_limit(seen: &[Seen]) {
    assert_within_limit(seen, LIMIT as usize, WINDOW);
}

/// The upstream calls seen, as `METHOD path status`.
fn calls(seen: &[Seen]) -> Vec<String> {
    seen.iter()
        .map(|call| format!("{} {} {}", call.method, call.path, call.status))
        .collect()
}

/// A reply's queue ticket and wait, insisting it is a queued answer.
fn queued(reply: &crate::support::Reply) -> (String, u64) {
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.text
    );
    let ticket = reply.body["queue_ticket"].as_str().expect("a ticket");
    let seconds = reply.body["queued_for_seconds"].as_u64().expect("a wait");
    assert!((1..=3).contains(&seconds), "{seconds}");
    assert_eq!(
        reply.headers["retry-after"].to_str().unwrap(),
        seconds.to_string()
    );
    let message = reply.body["message"].as_str().unwrap();
    assert!(
        message.contains("queued") && message.contains(&format!("in {seconds} second")),
        "{message}"
    );
    (ticket.to_owned(), seconds)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn holds_over_the_limit_are_queued_and_go_through_on_their_turn() {
    let stack = stack().await;
    let mut events = Vec::new();
    for _ in 0..6 {
        events.push(stack.create_event(1, 4).await);
    }
    let mut widgets = Vec::new();
    for candidate in 0..6 {
        widgets.push(candidate_widget(&stack, candidate).await);
    }
    a_window_passes(&stack).await;

    let holds: Vec<_> = widgets
        .iter()
        .zip(&events)
        .map(|(widget, event)| {
            let (widget, event) = (widget.clone(), *event);
            tokio::spawn(async move { widget.hold(event, None).await })
        })
        .collect();
    let mut replies = Vec::new();
    for hold in holds {
        replies.push(hold.await.unwrap());
    }
    let granted = replies
        .iter()
        .filter(|reply| reply.status == StatusCode::OK)
        .count();
    assert_eq!(
        granted, LIMIT as usize,
        "a window's worth go through at once"
    );
    let holds_sent = stack
        .proxy
        .seen()
        .iter()
        .filter(|call| call.method == Method::POST && call.path.ends_with("/hold"))
        .count();
    assert_eq!(holds_sent, LIMIT as usize, "the queued holds were not sent");

    let mut retried = 0;
    for ((widget, event), reply) in widgets.iter().zip(&events).zip(&replies) {
        if reply.status == StatusCode::OK {
            continue;
        }
        let (ticket, seconds) = queued(reply);
        stack.advance(seconds as u32).await;
        let again = widget
            .post(
                "/holds",
                json!({ "event_id": event }),
                &[(QUEUE_TICKET_HEADER, &ticket)],
            )
            .await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.text);
        retried += 1;
    }
    assert_eq!(retried, 2);
    assert_within_the_limit(&stack.proxy.seen());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_queued_booking_is_booked_once_on_its_turn_even_when_the_key_is_ignored() {
    let stack = stack().await;
    stack.set_profile(json!({ "idempotency": "ignored" })).await;
    let events = [
        stack.create_event(1, 4).await,
        stack.create_event(1, 4).await,
        stack.create_event(1, 4).await,
        stack.create_event(1, 4).await,
    ];
    let (first, second, third, fourth) = (
        candidate_widget(&stack, 0).await,
        candidate_widget(&stack, 1).await,
        candidate_widget(&stack, 2).await,
        candidate_widget(&stack, 3).await,
    );
    // The second candidate holds a window earlier, so that in the next
    // window they have sent nothing and only the limit itself, not their
    // fair share, can keep their booking back.
    let second_hold = second.hold_ref(events[1]).await;
    a_window_passes(&stack).await;
    let sent_earlier = stack.proxy.seen().len();

    let first_hold = first.hold_ref(events[0]).await;
    let booked = first
        .book(&first_hold, &PayOption::Credits, "first-key")
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);
    third.hold_ref(events[2]).await;
    fourth.hold_ref(events[3]).await;
    assert_eq!(
        stack.proxy.seen().len() - sent_earlier,
        LIMIT as usize,
        "the window is full"
    );
    // A booking sent over the limit is answered 429, which the gateway
    // would wait out on its clock (which only the test moves): bounded, so
    // that such a booking fails the test rather than hangs it.
    let reply = tokio::time::timeout(
        Duration::from_secs(10),
        second.book(&second_hold, &PayOption::Credits, "second-key"),
    )
    .await
    .unwrap_or_else(|_| {
        panic!(
            "the booking over the limit was sent and is waiting out a 429: {:?}",
            calls(&stack.proxy.seen()[sent_earlier..])
        )
    });
    let (ticket, seconds) = queued(&reply);
    assert_eq!(
        stack.proxy.seen().len() - sent_earlier,
        LIMIT as usize,
        "a queued booking is not sent"
    );
    // Test events all start at the same time: the first booking is the
    // only one so far.
    assert_eq!(
        bookings_on(&stack, events[1], "127.0.0.201").await.len(),
        1,
        "a queued booking is not made"
    );

    stack.advance(seconds as u32).await;
    let again = second
        .post(
            "/bookings",
            crate::support::booking_body(&second_hold, "credits"),
            &[
                ("idempotency-key", "second-key"),
                (QUEUE_TICKET_HEADER, &ticket),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    let replay = second
        .book(&second_hold, &PayOption::Credits, "second-key")
        .await;
    assert_eq!(replay.status, StatusCode::CREATED, "{}", replay.text);
    assert_eq!(replay.body["booking"]["id"], again.body["booking"]["id"]);
    assert_eq!(bookings_on(&stack, events[1], "127.0.0.202").await.len(), 2);
    assert_within_the_limit(&stack.proxy.seen());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_ticket_the_gateway_did_not_give_claims_nothing() {
    let stack = stack().await;
    let events = [
        stack.create_event(1, 4).await,
        stack.create_event(1, 4).await,
        stack.create_event(1, 4).await,
        stack.create_event(1, 4).await,
        stack.create_event(1, 4).await,
    ];
    let mut widgets = Vec::new();
    for candidate in 0..5 {
        widgets.push(candidate_widget(&stack, candidate).await);
    }
    a_window_passes(&stack).await;
    for (widget, event) in widgets.iter().zip(&events[..4]) {
        widget.hold_ref(*event).await;
    }
    let forged = widgets[4]
        .post(
            "/holds",
            json!({ "event_id": events[4] }),
            &[(QUEUE_TICKET_HEADER, "00112233445566778899aabbccddeeff")],
        )
        .await;
    queued(&forged);
    assert_within_the_limit(&stack.proxy.seen());
}
