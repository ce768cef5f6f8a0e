//! The candidate's own booking page through the gateway, opened by the
//! durable link a booking's receipt carries: read with no session, refused
//! when forged, altered or expired, the certificate as a PDF, and a cancel
//! inside the agency's policy (refused outside it, settled when its answer
//! is lost, the credit back in the wallet).

use crate::support::{send, Fault, Reply, Stack, Target, Widget};
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
                reply.body,
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
        expired.body,
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
        reply.body,
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
