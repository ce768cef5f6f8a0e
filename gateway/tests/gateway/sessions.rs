//! Widget sessions through the gateway: holds and bookings belong to the
//! session that made them, conflicts reveal nothing to other sessions, the
//! release beacon, and sessions that work across gateway instances.

use std::time::Duration;

use crate::support::{gateway_config, send, without_request_id, Reply, Seen, Stack, Widget};
use booking_core::api::PayOption;
use booking_gateway::spawn_gateway;
use booking_sandbox::SandboxConfig;
use reqwest::{Method, StatusCode};
use serde_json::json;

const COURSE: u64 = 2;

#[tokio::test]
async fn routes_but_options_need_a_valid_session() {
    let stack = Stack::start().await;
    let base = stack.gateway.url();
    let widget = stack.widget().await;
    let forged = format!("{}A", widget.session);
    for session in [None, Some("nonsense"), Some(forged.as_str())] {
        for path in ["/courses", "/training-events", "/bookings/1"] {
            let mut request = stack.client.get(format!("{base}/api{path}"));
            if let Some(session) = session {
                request = request.header("x-hbg-session", session);
            }
            let reply = send(request).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path} {session:?}");
            assert_eq!(reply.body["message"], "Start a new booking session.");
        }
    }
    let hold = send(
        stack
            .client
            .post(format!("{base}/api/holds"))
            .json(&json!({ "event_id": 1 })),
    )
    .await;
    assert_eq!(hold.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        stack.proxy.count(Method::POST, "/training-events/1/hold"),
        0
    );
}

#[tokio::test]
async fn another_session_cannot_release_book_or_read_a_hold_or_booking() {
    let stack = Stack::start_with(|config, _| {
        config.pay_options = PayOption::KNOWN.to_vec();
    })
    .await;
    let event_id = stack.create_event(COURSE, 10).await;
    let owner = stack.widget().await;
    let intruder = stack.widget().await;
    let hold_ref = owner.hold_ref(event_id).await;

    let release = intruder.delete(&format!("/holds/{hold_ref}")).await;
    assert_eq!(release.status, StatusCode::NOT_FOUND, "{}", release.text);
    let beacon = send(
        stack
            .client
            .post(format!("{}/api/holds/release", stack.gateway.url()))
            .header("content-type", "text/plain;charset=UTF-8")
            .body(json!({ "session": intruder.session, "hold_ref": hold_ref }).to_string()),
    )
    .await;
    assert_eq!(beacon.status, StatusCode::NOT_FOUND, "{}", beacon.text);
    let book = intruder.book(&hold_ref, &PayOption::Credits, "steal").await;
    assert_eq!(book.status, StatusCode::NOT_FOUND, "{}", book.text);
    assert_eq!(stack.proxy.count(Method::POST, "/bookings"), 0);
    assert!(stack
        .proxy
        .seen()
        .iter()
        .all(|seen| seen.method != Method::DELETE));

    // The hold is intact: its owner books with it.
    let booked = owner.book(&hold_ref, &PayOption::Credits, "mine").await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);
    let booking_ref = booked.body["booking_ref"].as_str().unwrap();
    let read = intruder.get(&format!("/bookings/{booking_ref}")).await;
    assert_eq!(read.status, StatusCode::NOT_FOUND, "{}", read.text);
    assert!(!read.text.contains("Priya"));
    let own = owner.get(&format!("/bookings/{booking_ref}")).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    assert_eq!(own.body["booking"]["id"], booked.body["booking"]["id"]);
    assert_eq!(own.body["booking"]["candidate"]["name"], "Priya Patel");

    // A reference is answered like an unknown one.
    let unknown = intruder.get("/bookings/12345.AAAAAAAAAAAAAAAAAAAAAA").await;
    assert_eq!(unknown.status, read.status);
    assert_eq!(
        without_request_id(unknown.body),
        without_request_id(read.body)
    );
}

#[tokio::test]
async fn a_conflicting_hold_returns_the_hold_to_its_session_only() {
    let stack = Stack::start().await;
    let event_id = stack.create_event(COURSE, 10).await;
    let owner = stack.widget().await;
    let other = stack.widget().await;
    let first = owner.hold(event_id, None).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let hold_ref = first.body["hold_ref"].as_str().unwrap();
    let hash = first.body["hold"]["hold_hash"].as_str().unwrap();

    let taken = other.hold(event_id, None).await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.text);
    assert!(!taken.text.contains(hash), "{}", taken.text);
    assert!(taken.body.get("hold_ref").is_none() && taken.body.get("hold").is_none());
    let held_until = taken.body["held_until"].as_str().expect("held_until");
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(held_until).unwrap(),
        chrono::DateTime::parse_from_rfc3339(first.body["hold"]["expires_at"].as_str().unwrap())
            .unwrap()
    );
    let message = taken.body["message"].as_str().unwrap();
    assert!(
        message.starts_with("Another candidate is booking this date right now. If they do not finish, it is free again at "),
        "{message}"
    );

    // Someone else's reference does not make the hold theirs.
    let borrowed = other.hold(event_id, Some(hold_ref)).await;
    assert_eq!(borrowed.status, StatusCode::CONFLICT);
    assert!(!borrowed.text.contains(hash));

    let again = owner.hold(event_id, Some(hold_ref)).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.body["hold_ref"], hold_ref);
    assert_eq!(again.body["hold"]["hold_hash"], hash);
    assert_eq!(again.body["hold"]["training_event"]["id"], event_id);
    let left = again.body["hold"]["expires_in_seconds"].as_i64().unwrap();
    assert!((1..=1800).contains(&left), "{left}");
}

/// The release grace of the beacon tests (the gateway's default), waited
/// out on the gateway's manual clock.
const GRACE_SECONDS: u32 = 15;

/// A stack on a manual clock whose gateway gives a released page's hold
/// [`GRACE_SECONDS`] and takes every pay option.
async fn beacon_stack() -> Stack {
    Stack::start_on_manual_clock(SandboxConfig::for_tests(), |config, _| {
        config.release_grace = Duration::from_secs(u64::from(GRACE_SECONDS));
        config.pay_options = PayOption::KNOWN.to_vec();
    })
    .await
}

/// The release beacon `widget` sends as its page goes away (`page_hidden`)
/// for `hold_ref`: `text/plain`, the session in the body.
async fn page_hidden_beacon(stack: &Stack, widget: &Widget, hold_ref: &str) -> Reply {
    send(
        stack
            .client
            .post(format!("{}/api/holds/release", stack.gateway.url()))
            .header("content-type", "text/plain;charset=UTF-8")
            .body(
                json!({ "session": widget.session, "hold_ref": hold_ref, "page_hidden": true })
                    .to_string(),
            ),
    )
    .await
}

/// Whether the proxy saw the hold `hash` released upstream.
fn released_upstream(seen: &[Seen], hash: &str) -> bool {
    let path = format!("/training-events/hold/{hash}");
    seen.iter()
        .any(|seen| seen.method == Method::DELETE && seen.path == path && seen.status < 300)
}

#[tokio::test]
async fn releasing_frees_the_seat_and_the_beacon_needs_no_header() {
    let stack = beacon_stack().await;
    let event_id = stack.create_event(COURSE, 10).await;
    let owner = stack.widget().await;
    let other = stack.widget().await;

    let hold_ref = owner.hold_ref(event_id).await;
    let released = owner.delete(&format!("/holds/{hold_ref}")).await;
    assert_eq!(released.status, StatusCode::NO_CONTENT, "{}", released.text);
    let again = owner.delete(&format!("/holds/{hold_ref}")).await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        again.text
    );
    assert_eq!(
        again.body["message"],
        "This hold has already been released."
    );

    let held = other.hold(event_id, None).await;
    assert_eq!(held.status, StatusCode::OK, "{}", held.text);
    let hold_ref = held.body["hold_ref"].as_str().expect("a hold_ref");
    let hash = held.body["hold"]["hold_hash"].as_str().expect("a hash");
    let beacon = page_hidden_beacon(&stack, &other, hold_ref).await;
    assert_eq!(beacon.status, StatusCode::NO_CONTENT, "{}", beacon.text);
    let meanwhile = owner.hold(event_id, None).await;
    assert_eq!(
        meanwhile.status,
        StatusCode::CONFLICT,
        "the seat waits out the grace for a reloading page: {}",
        meanwhile.text
    );
    stack.advance(GRACE_SECONDS - 1).await;
    let almost = owner.hold(event_id, None).await;
    assert_eq!(
        almost.status,
        StatusCode::CONFLICT,
        "the seat is held until the grace is over: {}",
        almost.text
    );
    assert!(!released_upstream(&stack.proxy.seen(), hash));
    stack.advance(1).await;
    stack
        .proxy
        .wait_until("the hold's release once the grace is over", |seen| {
            released_upstream(seen, hash)
        })
        .await;
    let after = owner.hold(event_id, None).await;
    assert_eq!(
        after.status,
        StatusCode::OK,
        "the seat is free again after the grace: {}",
        after.text
    );

    let bad = send(
        stack
            .client
            .post(format!("{}/api/holds/release", stack.gateway.url()))
            .header("content-type", "text/plain;charset=UTF-8")
            .body(json!({ "session": "forged", "hold_ref": hold_ref }).to_string()),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn sessions_and_refs_work_across_instances_sharing_the_key() {
    let stack = Stack::start_with(|config, _| {
        config.pay_options = vec![PayOption::Credits];
    })
    .await;
    let mut config = gateway_config(
        &stack.proxy.api_url(),
        &stack.account,
        stack.static_dir.path(),
    );
    config.pay_options = vec![PayOption::Credits];
    let second = spawn_gateway(config).await.expect("second gateway");

    let event_id = stack.create_event(COURSE, 10).await;
    let on_first = stack.widget().await;
    let on_second = Widget {
        base: second.url().to_owned(),
        ..on_first.clone()
    };
    let hold_ref = on_first.hold_ref(event_id).await;
    let booked = on_second.book(&hold_ref, &PayOption::Credits, "k").await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);
    let booking_ref = booked.body["booking_ref"].as_str().unwrap();
    let read = on_first.get(&format!("/bookings/{booking_ref}")).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert_eq!(read.body["booking"]["id"], booked.body["booking"]["id"]);

    // A gateway with another key knows none of it.
    let mut config = gateway_config(
        &stack.proxy.api_url(),
        &stack.account,
        stack.static_dir.path(),
    );
    config.signing_key = None;
    let stranger = spawn_gateway(config).await.expect("third gateway");
    let on_stranger = Widget {
        base: stranger.url().to_owned(),
        ..on_first.clone()
    };
    assert_eq!(
        on_stranger
            .get(&format!("/bookings/{booking_ref}"))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_page_reloaded_within_the_grace_takes_its_own_hold_up_again() {
    let stack = beacon_stack().await;
    let event_id = stack.create_event(COURSE, 10).await;
    let gone_event = stack.create_event(COURSE, 10).await;
    let candidate = stack.widget().await;
    let other = stack.widget().await;
    let gone = stack.widget().await;
    let first = candidate.hold(event_id, None).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let hold_ref = first.body["hold_ref"].as_str().expect("a hold_ref");
    let hash = first.body["hold"]["hold_hash"].as_str().expect("a hash");
    let gone_hold = gone.hold(gone_event, None).await;
    assert_eq!(gone_hold.status, StatusCode::OK, "{}", gone_hold.text);
    let gone_hash = gone_hold.body["hold"]["hold_hash"]
        .as_str()
        .expect("a hash");
    for (widget, hold_ref) in [
        (&candidate, hold_ref),
        (
            &gone,
            gone_hold.body["hold_ref"].as_str().expect("a hold_ref"),
        ),
    ] {
        let beacon = page_hidden_beacon(&stack, widget, hold_ref).await;
        assert_eq!(beacon.status, StatusCode::NO_CONTENT, "{}", beacon.text);
    }

    let taken_up = candidate.hold(event_id, None).await;
    assert_eq!(taken_up.status, StatusCode::OK, "{}", taken_up.text);
    assert_eq!(taken_up.body["hold_ref"], hold_ref, "the same hold");
    // Both pages' graces end together: the page that did not come back has
    // its hold released then, and the candidate's is not.
    stack.advance(GRACE_SECONDS).await;
    stack
        .proxy
        .wait_until(
            "the hold of the page that did not come back released",
            |seen| released_upstream(seen, gone_hash),
        )
        .await;
    assert!(
        !released_upstream(&stack.proxy.seen(), hash),
        "the hold taken up again was released"
    );
    let blocked = other.hold(event_id, None).await;
    assert_eq!(
        blocked.status,
        StatusCode::CONFLICT,
        "still the candidate's: {}",
        blocked.text
    );
    let booked = candidate
        .book(hold_ref, &PayOption::Credits, "after-reload")
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);
}
