//! The candidate's own booking page through the gateway, opened by the
//! durable link a booking's receipt carries: read with no session, refused
//! when forged, altered or expired, the certificate as a PDF, and a cancel
//! inside the agency's policy (refused outside it, settled when its answer
//! is lost, the credit back in the wallet).

use crate::support::{send, without_request_id, Fault, Reply, Stack, Target, Widget};
use booking_core::api::PayOption;
use booking_core::manage::LINK_DAYS_AFTER_TRAINING;
use booking_gateway::config::{GatewayConfig, Secret};
use booking_sandbox::{RunningSandbox, SandboxConfig};
use reqwest::{Method, StatusCode};
use serde_json::json;

const COURSE: u64 = 2;

/// Books a seat on a new event a week ahead, paid with `pay_option`, and
/// returns the booking's id and its link.
async fn book(stack: &Stack, pay_option: &PayOption) -> (u64, String) {
    let event_id = stack.create_event(COURSE, 10).await;
    let widget = stack.widget().await;
    let hold_ref = widget.hold_ref(event_id).await;
    let booked = widget.book(&hold_ref, pay_option, "manage-key").await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);
    let link = booked.body["manage_link"]
        .as_str()
        .expect("a receipt carries the booking's link")
        .to_owned();
    (booked.body["booking"]["id"].as_u64().unwrap(), link)
}

/// Sends `method` to `/api/manage/{link}{tail}` with no session.
async fn manage(stack: &Stack, method: Method, link: &str, tail: &str) -> Reply {
    let url = format!("{}/api/manage/{link}{tail}", stack.gateway.url());
    send(stack.client.request(method, url)).await
}

/// A Practical Training gateway offering every pay option, with the
/// agency's `candidate_cancel` policy and e-mail address.
fn practical_with_cancel(policy: &'static str) -> impl FnOnce(&mut GatewayConfig, &RunningSandbox) {
    move |config, _| {
        config.pay_options = PayOption::KNOWN.to_vec();
        config.candidate_cancel = policy.parse().unwrap();
        config.agency.contact_email = Some("bookings@carestaff.example".to_owned());
    }
}

#[tokio::test]
async fn a_booking_link_shows_the_booking_to_a_browser_with_no_session() {
    let stack = Stack::start_with(practical_with_cancel("off")).await;
    let (id, link) = book(&stack, &PayOption::Credits).await;
    let page = manage(&stack, Method::GET, &link, "").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(page.body["booking"]["id"], id);
    assert_eq!(page.body["booking"]["booking_status"], "booked");
    assert_eq!(page.body["booking"]["pay_option"], "credits");
    assert_eq!(page.body["cancel"], json!({ "state": "by_agency" }));
    assert_eq!(page.body["agency_email"], "bookings@carestaff.example");
    assert_eq!(
        stack.proxy.count(Method::GET, &format!("/bookings/{id}")),
        1,
        "read live from the upstream"
    );
}

#[tokio::test]
async fn a_forged_or_altered_link_gets_a_clear_message_and_reaches_nothing() {
    let stack = Stack::start_with(practical_with_cancel("until 1h before")).await;
    let (id, link) = book(&stack, &PayOption::Credits).await;
    let (signed, tag) = link.rsplit_once('.').unwrap();
    let other_booking = signed.replacen(&format!(".{id}."), &format!(".{}.", id - 1), 1);
    let forged = [
        format!("{other_booking}.{tag}"),
        format!("{}.{tag}", signed.replacen("pt.", "bls.", 1)),
        format!("{signed}.{}", tag.chars().rev().collect::<String>()),
        "pt.1.1.99999999999.AAAAAAAAAAAAAAAAAAAAAA".to_owned(),
        "not-a-link".to_owned(),
    ];
    stack.proxy.clear();
    for forged in &forged {
        for (method, tail) in [
            (Method::GET, ""),
            (Method::GET, "/certificate"),
            (Method::POST, "/cancel"),
        ] {
            let reply = manage(&stack, method.clone(), forged, tail).await;
            assert_eq!(
                reply.status,
                StatusCode::NOT_FOUND,
                "{method} {forged}{tail}"
            );
            assert_eq!(
                without_request_id(reply.body),
                json!({ "message": "This booking link is not valid. Check that it was copied in full, or ask the agency that booked you for a new one." }),
                "{forged}{tail}"
            );
        }
    }
    assert!(
        stack.proxy.seen().is_empty(),
        "nothing was asked upstream: {:?}",
        stack.proxy.seen()
    );
}

#[tokio::test]
async fn an_expired_link_says_so_and_reaches_nothing() {
    let stack =
        Stack::start_on_manual_clock(SandboxConfig::for_tests(), practical_with_cancel("off"))
            .await;
    let (_, link) = book(&stack, &PayOption::Credits).await;
    // The event starts a week ahead and lasts a day at most: its link opens
    // until LINK_DAYS_AFTER_TRAINING days after it ends.
    let days = 7 + 1 + LINK_DAYS_AFTER_TRAINING as u32;
    let opened = manage(&stack, Method::GET, &link, "").await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.text);
    stack.advance(days * 24 * 60 * 60).await;
    stack.proxy.clear();
    let expired = manage(&stack, Method::GET, &link, "").await;
    assert_eq!(expired.status, StatusCode::GONE, "{}", expired.text);
    assert_eq!(
        without_request_id(expired.body),
        json!({ "message": "This booking link has expired. The agency that booked you can tell you about this booking." })
    );
    assert!(stack.proxy.seen().is_empty(), "{:?}", stack.proxy.seen());
}

#[tokio::test]
async fn a_link_to_a_product_this_gateway_does_not_book_is_refused_by_name() {
    const KEY: &str = "one key for two gateways, long enough to sign";
    let sign_with_key = |config: &mut GatewayConfig| {
        config.signing_key = Some(Secret::new(KEY.to_owned()));
    };
    let both = Stack::start_both(|config, _| sign_with_key(config)).await;
    let widget = Widget::start_for(both.client.clone(), both.gateway.url(), "virtual-bls").await;
    let slot = both.bls_slots(&widget).await[0].clone();
    let hold_ref = widget.slot_hold_ref(&slot).await;
    let booked = widget.book_slot(&hold_ref, "credits", "bls-key").await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);
    let bls_link = booked.body["manage_link"].as_str().unwrap();

    let practical_only = Stack::start_with(|config, _| sign_with_key(config)).await;
    let reply = manage(&practical_only, Method::GET, bls_link, "").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
    assert_eq!(
        without_request_id(reply.body),
        json!({ "message": "That booking product is not offered here." })
    );
    assert!(practical_only.proxy.seen().is_empty());
}

#[tokio::test]
async fn a_virtual_bls_page_shows_the_zoom_session_and_kit_and_leaves_cancelling_to_the_agency() {
    let stack = Stack::start_both(|config, _| {
        config.candidate_cancel = "until 1h before".parse().unwrap();
        config.agency.contact_email = Some("bookings@carestaff.example".to_owned());
    })
    .await;
    let widget = Widget::start_for(stack.client.clone(), stack.gateway.url(), "virtual-bls").await;
    let slot = stack.bls_slots(&widget).await[0].clone();
    let hold_ref = widget.slot_hold_ref(&slot).await;
    let booked = widget.book_slot(&hold_ref, "credits", "bls-key").await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);
    let link = booked.body["manage_link"].as_str().unwrap().to_owned();
    assert!(link.starts_with("bls."), "{link}");

    let page = manage(&stack, Method::GET, &link, "").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.body["booking"]["virtual"]["zoom_link"]
        .as_str()
        .is_some_and(|url| url.starts_with("https://zoom.us/j/")));
    assert_eq!(page.body["cancel"], json!({ "state": "by_agency" }));

    let id = booked.body["booking"]["id"].as_u64().unwrap();
    stack.proxy.clear();
    let refused = manage(&stack, Method::POST, &link, "/cancel").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused.body["message"],
        "A Virtual BLS booking can be cancelled by the agency that booked you only. Contact them at bookings@carestaff.example."
    );
    assert!(
        stack
            .proxy
            .seen()
            .iter()
            .all(|seen| seen.method == Method::GET),
        "{id}: nothing was written upstream"
    );
}

#[tokio::test]
async fn a_candidate_cancels_inside_the_policy_and_the_credit_goes_back() {
    let stack = Stack::start_with(practical_with_cancel("until 48h before")).await;
    let (credits_before, _) = stack.wallet(COURSE).await;
    let (id, link) = book(&stack, &PayOption::Credits).await;
    assert_eq!(stack.wallet(COURSE).await.0, credits_before - 1);

    let page = manage(&stack, Method::GET, &link, "").await;
    assert_eq!(page.body["cancel"]["state"], "open", "{}", page.text);
    assert!(
        page.body["cancel"]["until"].as_str().is_some(),
        "{}",
        page.text
    );

    let cancelled = manage(&stack, Method::POST, &link, "/cancel").await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text);
    assert_eq!(cancelled.body["booking"]["id"], id);
    assert_eq!(cancelled.body["booking"]["booking_status"], "cancelled");
    assert_eq!(cancelled.body["booking"]["pay_status"], "refunded");
    assert_eq!(cancelled.body["cancel"], json!({ "state": "done" }));
    assert_eq!(
        stack.wallet(COURSE).await.0,
        credits_before,
        "the credit is back"
    );

    // Asked again (as after a lost answer): the same page, nothing sent.
    let again = manage(&stack, Method::POST, &link, "/cancel").await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.body["booking"]["booking_status"], "cancelled");
    assert_eq!(
        stack
            .proxy
            .count(Method::POST, &format!("/bookings/{id}/cancel")),
        1
    );
    assert_eq!(stack.wallet(COURSE).await.0, credits_before);
}

#[tokio::test]
async fn a_cancel_after_the_policys_deadline_is_refused_and_sends_nothing() {
    // The event starts a week ahead: a week and a day before has passed.
    let stack = Stack::start_with(practical_with_cancel("until 8d before")).await;
    let (id, link) = book(&stack, &PayOption::Credits).await;
    let page = manage(&stack, Method::GET, &link, "").await;
    assert_eq!(page.body["cancel"]["state"], "closed", "{}", page.text);
    let refused = manage(&stack, Method::POST, &link, "/cancel").await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    let message = refused.body["message"].as_str().unwrap();
    assert!(
        message.starts_with("The time to cancel this booking online ended at ")
            && message.ends_with("Contact them at bookings@carestaff.example."),
        "{message}"
    );
    assert_eq!(
        stack
            .proxy
            .count(Method::POST, &format!("/bookings/{id}/cancel")),
        0
    );
    let off = Stack::start_with(practical_with_cancel("off")).await;
    let (off_id, off_link) = book(&off, &PayOption::Credits).await;
    let refused = manage(&off, Method::POST, &off_link, "/cancel").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused.body["message"],
        "This booking can be cancelled by the agency that booked you only. Contact them at bookings@carestaff.example."
    );
    assert_eq!(
        off.proxy
            .count(Method::POST, &format!("/bookings/{off_id}/cancel")),
        0
    );
}

#[tokio::test]
async fn a_lost_cancel_answer_is_settled_by_reading_the_booking_back() {
    let stack = Stack::start_with(practical_with_cancel("until 48h before")).await;
    let (credits_before, _) = stack.wallet(COURSE).await;
    let (id, link) = book(&stack, &PayOption::Credits).await;
    let cancel_path = format!("/bookings/{id}/cancel");
    stack.proxy.fault_next(
        Target::exactly(Method::POST, cancel_path.clone()),
        Fault::LostAnswer,
    );
    let cancelled = manage(&stack, Method::POST, &link, "/cancel").await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text);
    assert_eq!(cancelled.body["booking"]["booking_status"], "cancelled");
    assert_eq!(
        stack.proxy.faulted(Fault::LostAnswer).len(),
        1,
        "the answer was lost"
    );
    assert_eq!(
        stack.proxy.count(Method::POST, &cancel_path),
        1,
        "sent once"
    );
    assert_eq!(stack.wallet(COURSE).await.0, credits_before);
}

#[tokio::test]
async fn the_certificate_downloads_as_a_pdf_once_attendance_is_marked() {
    let stack = Stack::start_with(practical_with_cancel("off")).await;
    let (id, link) = book(&stack, &PayOption::Credits).await;
    let early = manage(&stack, Method::GET, &link, "/certificate").await;
    assert_eq!(
        early.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        early.text
    );
    assert_eq!(
        early.body["message"],
        "No certificate is available for this booking yet."
    );

    stack.advance_clock(8 * 24 * 60 * 60).await;
    let marked = stack
        .client
        .post(format!(
            "{}/_sandbox/bookings/{id}/attendance",
            stack.sandbox.url()
        ))
        .json(&json!({ "attendance": "attended" }))
        .send()
        .await
        .unwrap();
    assert_eq!(marked.status(), StatusCode::OK);
    let page = manage(&stack, Method::GET, &link, "").await;
    assert_eq!(
        page.body["booking"]["certificate_available"], true,
        "{}",
        page.text
    );
    assert_eq!(page.body["cancel"], json!({ "state": "done" }));

    let url = format!("{}/api/manage/{link}/certificate", stack.gateway.url());
    let pdf = stack.client.get(url).send().await.unwrap();
    assert_eq!(pdf.status(), StatusCode::OK);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert_eq!(
        pdf.headers()["content-disposition"],
        format!("attachment; filename=\"certificate-{id}.pdf\"").as_str()
    );
    let bytes = pdf.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"), "a PDF");
}

#[tokio::test]
async fn guessing_links_is_rate_limited_like_every_request() {
    let stack = Stack::start_with(|config, _| config.rate_limit = 5).await;
    let mut statuses = Vec::new();
    for guess in 0..7 {
        let reply = manage(&stack, Method::GET, &format!("pt.{guess}.1.2.AAAA"), "").await;
        statuses.push(reply.status);
    }
    assert_eq!(&statuses[..5], [StatusCode::NOT_FOUND; 5]);
    assert_eq!(&statuses[5..], [StatusCode::TOO_MANY_REQUESTS; 2]);
}

/// `POST /api/manage/{link}/move` to `event_id` with the widget's `key`.
async fn move_to(stack: &Stack, link: &str, event_id: u64, key: &str) -> Reply {
    let url = format!("{}/api/manage/{link}/move", stack.gateway.url());
    let request = stack
        .client
        .post(url)
        .header("Idempotency-Key", key)
        .json(&json!({ "training_event_id": event_id }));
    send(request).await
}

/// The sandbox's bookings on `event_id` that are not cancelled.
async fn live_bookings_on(stack: &Stack, event_id: u64) -> Vec<serde_json::Value> {
    stack
        .bookings_on(event_id)
        .await
        .into_iter()
        .filter(|booking| booking["booking_status"] != "cancelled")
        .collect()
}

/// The upstream calls a move makes that change something, in order, as
/// `(method, path)` with the ids named.
fn changes(stack: &Stack) -> Vec<(String, String)> {
    stack
        .proxy
        .seen()
        .into_iter()
        .filter(|seen| seen.method == Method::POST || seen.method == Method::DELETE)
        .filter(|seen| !seen.path.starts_with("/auth"))
        .map(|seen| (seen.method.to_string(), seen.path))
        .collect()
}

#[tokio::test]
async fn another_date_is_held_then_booked_and_only_then_the_old_booking_cancelled() {
    let stack = Stack::start_with(practical_with_cancel("until 48h before")).await;
    let (credits_before, _) = stack.wallet(COURSE).await;
    let (old_id, old_link) = book(&stack, &PayOption::Credits).await;
    let old_event = stack.create_event_in(COURSE, 10, 7).await;
    let later = stack.create_event_in(COURSE, 10, 14).await;
    let other_course = stack.create_event_in(COURSE + 1, 10, 14).await;

    let dates = manage(&stack, Method::GET, &old_link, "/dates").await;
    assert_eq!(dates.status, StatusCode::OK, "{}", dates.text);
    let offered: Vec<u64> = dates
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["id"].as_u64().unwrap())
        .collect();
    assert!(offered.contains(&later), "{offered:?}");
    assert!(!offered.contains(&other_course), "{offered:?}");
    assert!(
        !offered.contains(&old_event),
        "an event at the booking's own place and time is its own date: {offered:?}"
    );

    stack.proxy.clear();
    let moved = move_to(&stack, &old_link, later, "move-1").await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    let new_id = moved.body["page"]["booking"]["id"].as_u64().unwrap();
    assert_ne!(new_id, old_id);
    assert_eq!(moved.body["page"]["booking"]["booking_status"], "booked");
    assert_eq!(moved.body["page"]["booking"]["pay_option"], "credits");
    assert_eq!(moved.body["old_booking_kept"], serde_json::Value::Null);
    assert_eq!(
        changes(&stack),
        [
            ("POST".to_owned(), format!("/training-events/{later}/hold")),
            ("POST".to_owned(), "/bookings".to_owned()),
            ("POST".to_owned(), format!("/bookings/{old_id}/cancel")),
        ],
        "held, booked, then cancelled"
    );

    let old_page = manage(&stack, Method::GET, &old_link, "").await;
    assert_eq!(old_page.body["booking"]["booking_status"], "cancelled");
    let new_link = moved.body["manage_link"].as_str().unwrap();
    let new_page = manage(&stack, Method::GET, new_link, "").await;
    assert_eq!(new_page.body["booking"]["id"], new_id);
    assert_eq!(
        new_page.body["booking"]["candidate"],
        old_page.body["booking"]["candidate"]
    );
    assert_eq!(live_bookings_on(&stack, later).await.len(), 1);
    assert_eq!(
        stack.wallet(COURSE).await.0,
        credits_before - 1,
        "one credit for one booking: net unchanged by the move"
    );
}

#[tokio::test]
async fn a_move_with_its_answers_lost_under_an_ignored_idempotency_key_books_once() {
    let stack = Stack::start_with(practical_with_cancel("until 48h before")).await;
    stack.set_profile(json!({ "idempotency": "ignored" })).await;
    let (credits_before, _) = stack.wallet(COURSE).await;
    let (old_id, old_link) = book(&stack, &PayOption::Credits).await;
    let later = stack.create_event_in(COURSE, 10, 14).await;
    stack.proxy.clear();
    let hold_path = format!("/training-events/{later}/hold");
    let cancel_path = format!("/bookings/{old_id}/cancel");

    // The hold's answer is lost: the move fails, and nothing is booked.
    stack.proxy.fault_next(
        Target::exactly(Method::POST, hold_path.clone()),
        Fault::LostAnswer,
    );
    let first = move_to(&stack, &old_link, later, "move-lost").await;
    assert!(first.status.is_server_error(), "{}", first.text);
    // Tried again: the lost hold is found, and the booking's answer is lost.
    stack.proxy.fault_next(
        Target::exactly(Method::POST, "/bookings"),
        Fault::LostAnswer,
    );
    let second = move_to(&stack, &old_link, later, "move-lost").await;
    assert!(second.status.is_server_error(), "{}", second.text);
    // Tried again: the booking the lost answer made is found, and the
    // cancel's answer is lost too, settled by reading the old booking back.
    stack.proxy.fault_next(
        Target::exactly(Method::POST, cancel_path.clone()),
        Fault::LostAnswer,
    );
    let third = move_to(&stack, &old_link, later, "move-lost").await;
    assert_eq!(third.status, StatusCode::OK, "{}", third.text);
    assert_eq!(third.body["old_booking_kept"], serde_json::Value::Null);
    assert_eq!(
        stack.proxy.faulted(Fault::LostAnswer).len(),
        3,
        "three answers lost"
    );
    // The answer to the widget is lost too: asked once more, the same move.
    let fourth = move_to(&stack, &old_link, later, "move-lost").await;
    assert_eq!(fourth.status, StatusCode::OK, "{}", fourth.text);
    assert_eq!(
        fourth.body["page"]["booking"]["id"],
        third.body["page"]["booking"]["id"]
    );

    assert_eq!(
        stack.proxy.count(Method::POST, "/bookings"),
        1,
        "booked once"
    );
    assert_eq!(live_bookings_on(&stack, later).await.len(), 1);
    let old_page = manage(&stack, Method::GET, &old_link, "").await;
    assert_eq!(old_page.body["booking"]["booking_status"], "cancelled");
    assert_eq!(stack.wallet(COURSE).await.0, credits_before - 1);
}

#[tokio::test]
async fn a_move_the_upstream_refuses_keeps_the_old_booking_and_gives_the_seat_back() {
    let stack = Stack::start_with(practical_with_cancel("until 48h before")).await;
    let (old_id, old_link) = book(&stack, &PayOption::Credits).await;
    let later = stack.create_event_in(COURSE, 10, 14).await;
    while stack.wallet(COURSE).await.0 > 0 {
        book(&stack, &PayOption::Credits).await;
    }

    let refused = move_to(&stack, &old_link, later, "move-no-credit").await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert_eq!(
        stack
            .proxy
            .count(Method::POST, &format!("/bookings/{old_id}/cancel")),
        0,
        "the old booking is not touched"
    );
    assert_eq!(
        changes(&stack).last().map(|(method, _)| method.as_str()),
        Some("DELETE"),
        "the new seat is given back"
    );
    let old_page = manage(&stack, Method::GET, &old_link, "").await;
    assert_eq!(old_page.body["booking"]["booking_status"], "booked");
    assert!(live_bookings_on(&stack, later).await.is_empty());
}

#[tokio::test]
async fn an_old_booking_that_cannot_be_cancelled_is_told_and_a_retry_cancels_it() {
    let stack = Stack::start_with(practical_with_cancel("until 48h before")).await;
    let (old_id, old_link) = book(&stack, &PayOption::Credits).await;
    let later = stack.create_event_in(COURSE, 10, 14).await;
    let cancel_path = format!("/bookings/{old_id}/cancel");
    stack.proxy.fault_next(
        Target::exactly(Method::POST, cancel_path.clone()),
        Fault::ServerError,
    );
    let moved = move_to(&stack, &old_link, later, "move-kept").await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    let kept = moved.body["old_booking_kept"].as_str().unwrap();
    assert!(
        kept.starts_with(&format!(
            "Your new place is booked, but your old place (booking {old_id}) could not be cancelled."
        )) && kept.contains("bookings@carestaff.example"),
        "{kept}"
    );
    let old_page = manage(&stack, Method::GET, &old_link, "").await;
    assert_eq!(old_page.body["booking"]["booking_status"], "booked");

    let again = move_to(&stack, &old_link, later, "move-kept").await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.body["old_booking_kept"], serde_json::Value::Null);
    assert_eq!(
        again.body["page"]["booking"]["id"],
        moved.body["page"]["booking"]["id"]
    );
    assert_eq!(
        stack.proxy.count(Method::POST, "/bookings"),
        2,
        "the first booking and the new one, no third"
    );
    let old_page = manage(&stack, Method::GET, &old_link, "").await;
    assert_eq!(old_page.body["booking"]["booking_status"], "cancelled");
}

#[tokio::test]
async fn a_move_outside_the_policy_or_to_a_date_not_offered_is_refused_and_sends_nothing() {
    let stack = Stack::start_with(practical_with_cancel("until 8d before")).await;
    let (_, closed_link) = book(&stack, &PayOption::Credits).await;
    let later = stack.create_event_in(COURSE, 10, 14).await;
    stack.proxy.clear();
    let closed = move_to(&stack, &closed_link, later, "move-closed").await;
    assert_eq!(
        closed.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        closed.text
    );
    assert!(
        closed.body["message"]
            .as_str()
            .unwrap()
            .starts_with("The time to cancel this booking online ended at "),
        "{}",
        closed.text
    );
    let dates = manage(&stack, Method::GET, &closed_link, "/dates").await;
    assert_eq!(dates.status, StatusCode::UNPROCESSABLE_ENTITY);

    let open = Stack::start_with(practical_with_cancel("until 48h before")).await;
    let (_, open_link) = book(&open, &PayOption::Credits).await;
    let other_course_there = open.create_event_in(COURSE + 1, 10, 14).await;
    open.proxy.clear();
    let elsewhere = move_to(&open, &open_link, other_course_there, "move-elsewhere").await;
    assert_eq!(elsewhere.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        elsewhere.body["errors"]["training_event_id"].is_array(),
        "{}",
        elsewhere.text
    );
    let unkeyed = send(
        open.client
            .post(format!(
                "{}/api/manage/{open_link}/move",
                open.gateway.url()
            ))
            .json(&json!({ "training_event_id": later })),
    )
    .await;
    assert_eq!(unkeyed.status, StatusCode::BAD_REQUEST);
    assert!(
        changes(&stack).is_empty() && changes(&open).is_empty(),
        "nothing held, booked or cancelled"
    );
}
