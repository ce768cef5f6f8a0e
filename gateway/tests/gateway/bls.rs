//! The gateway serving both products over real HTTP, in front of the real
//! sandbox: options, courses and pay options per product, timeslots for a
//! range, timeslot holds (the session's own, another's 409, release, the
//! beacon, renewal), Virtual BLS bookings with the kit's address and each pay
//! option, the PayPal stand-in's round trip, the Zoom details only to the
//! session that booked, and a lost booking answer reconciled once.

use crate::support::{bls_booking_body, booking_body, Mode, Stack, Widget};
use axum::http::{Method, StatusCode};
use booking_core::api::bls::VirtualBooking;
use booking_core::api::PayOption;
use booking_core::uk_time;
use serde_json::{json, Value};

async fn bls_widget(stack: &Stack) -> Widget {
    Widget::start_for(stack.client.clone(), stack.gateway.url(), "virtual-bls").await
}

#[tokio::test]
async fn options_courses_and_pay_options_are_per_product() {
    let stack = Stack::start_both(|config, _| {
        config.virtual_bls.as_mut().unwrap().pay_options = vec![
            booking_core::api::PayOption::Inv,
            booking_core::api::PayOption::CandidatePays,
        ];
    })
    .await;
    let widget = stack.widget().await;
    let practical = widget.get("/options").await;
    assert_eq!(practical.status, StatusCode::OK, "{}", practical.text);
    assert_eq!(
        practical.body["products"],
        json!(["practical", "virtual-bls"])
    );
    assert_eq!(practical.body["pay_options"], json!(["candidate_pays"]));
    assert_eq!(
        practical.body["payment_origins"],
        json!(["https://checkout.stripe.com"])
    );
    let bls = widget.get("/options?product=virtual-bls").await;
    assert_eq!(bls.status, StatusCode::OK, "{}", bls.text);
    assert_eq!(bls.body["pay_options"], json!(["inv", "candidate_pays"]));
    assert_eq!(
        bls.body["payment_origins"],
        json!(["https://www.paypal.com", stack.sandbox.url()])
    );
    assert_eq!(
        bls.body["account_name"], "Test Care Staffing",
        "Virtual BLS has no profile: the agency's name comes from Practical Training's"
    );
    assert!(bls.body.get("session").is_none(), "the session was sent");
    let bad = widget.get("/options?product=bls").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body["errors"]["product"].is_array(), "{}", bad.text);

    let courses = widget.get("/courses?product=virtual-bls").await;
    assert_eq!(courses.status, StatusCode::OK, "{}", courses.text);
    let ids: Vec<u64> = courses
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|course| course["id"].as_u64().unwrap())
        .collect();
    assert!(
        ids.contains(&41) && ids.iter().all(|id| *id >= 41),
        "{ids:?}"
    );
    let practical_courses = widget.get("/courses").await;
    assert!(practical_courses
        .body
        .as_array()
        .unwrap()
        .iter()
        .all(|course| course["id"].as_u64().unwrap() < 41));
    assert_eq!(
        stack.proxy.count(Method::GET, "/bls/api/v1/courses"),
        1,
        "Virtual BLS's courses come from its own API"
    );
    // Each product signs in with its own credentials.
    let token_requests: Vec<String> = stack
        .proxy
        .seen()
        .iter()
        .filter(|seen| seen.path.ends_with("/auth/token"))
        .map(|seen| String::from_utf8_lossy(&seen.request_body).into_owned())
        .collect();
    let bls_id = &stack.bls_account.as_ref().unwrap().client_id;
    assert!(token_requests.iter().any(|body| body.contains(bls_id)));
    assert!(token_requests
        .iter()
        .any(|body| body.contains(&stack.account.client_id)));
}

#[tokio::test]
async fn a_gateway_without_virtual_bls_says_so() {
    let stack = Stack::start().await;
    let widget = stack.widget().await;
    let options = widget.get("/options").await;
    assert_eq!(options.body["products"], json!(["practical"]));
    for path in [
        "/options?product=virtual-bls",
        "/courses?product=virtual-bls",
        "/timeslots?course_id=41",
    ] {
        let reply = widget.get(path).await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{path}: {}",
            reply.text
        );
        assert_eq!(
            reply.body["message"],
            "That booking product is not offered here."
        );
    }
    let hold = widget
        .post(
            "/timeslot-holds",
            json!({ "course_id": 41, "date": "2026-12-10", "time": "09:00" }),
            &[],
        )
        .await;
    assert_eq!(hold.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn timeslots_are_read_for_a_range_and_bad_ranges_are_named() {
    let stack = Stack::start_both(|_, _| {}).await;
    let widget = bls_widget(&stack).await;
    let (from, to) = stack.bls_range(35).await;
    let slots = stack.bls_slots(&widget).await;
    for slot in &slots {
        let date = slot["date"].as_str().unwrap();
        assert!(date >= from.as_str() && date <= to.as_str(), "{slot}");
        assert_eq!(slot["course"]["id"], 41);
        assert!(slot["remaining_slots"].as_u64().unwrap() >= 1);
    }
    let seen = stack.proxy.seen();
    let read = seen
        .iter()
        .find(|seen| seen.path == "/bls/api/v1/timeslots")
        .expect("the upstream was asked");
    assert!(
        read.query
            .contains(&format!("course_id=41&date_from={from}&date_to={to}")),
        "{}",
        read.query
    );
    // Every page was read (a month of slots is more than one page), and a
    // second read of the same range comes from the cache.
    let pages = stack.proxy.count(Method::GET, "/bls/api/v1/timeslots");
    assert!(pages >= 1);
    let again = widget.timeslots(41, &from, &to).await;
    assert_eq!(again.body.as_array().map(Vec::len), Some(slots.len()));
    assert_eq!(
        stack.proxy.count(Method::GET, "/bls/api/v1/timeslots"),
        pages
    );
    for (query, field) in [
        ("course_id=41&date_from=2026-13-01", "date_from"),
        ("course_id=41&date_to=tomorrow", "date_to"),
        (
            "course_id=41&date_from=2026-12-10&date_to=2026-12-09",
            "date_to",
        ),
        (
            "course_id=41&date_from=2026-12-01&date_to=2027-03-31",
            "date_to",
        ),
        ("date_from=2026-12-01", "course_id"),
        ("course_id=four", "course_id"),
    ] {
        let reply = widget.get(&format!("/timeslots?{query}")).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {}",
            reply.text
        );
        assert!(
            reply.body["errors"][field].is_array(),
            "{query}: {}",
            reply.text
        );
    }
    let anonymous = crate::support::send(stack.client.get(format!(
        "{}/api/timeslots?course_id=41",
        stack.gateway.url()
    )))
    .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_timeslot_hold_is_the_sessions_own_and_another_session_gets_a_409() {
    let grace_seconds = 15;
    let stack = Stack::start_both_on_manual_clock(|config, _| {
        config.release_grace = std::time::Duration::from_secs(u64::from(grace_seconds));
    })
    .await;
    let mine = bls_widget(&stack).await;
    let theirs = bls_widget(&stack).await;
    let slot = stack.bls_slots(&mine).await[0].clone();
    let held = mine.hold_slot(&slot, None).await;
    assert_eq!(held.status, StatusCode::OK, "{}", held.text);
    let hold_ref = held.body["hold_ref"].as_str().unwrap().to_owned();
    assert_eq!(held.body["hold"]["slot"]["date"], slot["date"]);
    assert_eq!(held.body["hold"]["slot"]["time"], slot["time"]);
    assert_eq!(held.body["hold"]["expires_in_seconds"], 1800);
    let hash = held.body["hold"]["hold_hash"].as_str().unwrap().to_owned();
    // Holding again with the reference gives the same hold back.
    let again = mine.hold_slot(&slot, Some(&hold_ref)).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.body["hold"]["hold_hash"], hash);
    // Another session of the agency: a 409 that names no hold.
    let taken = theirs.hold_slot(&slot, None).await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.text);
    assert!(!taken.text.contains(&hash), "{}", taken.text);
    assert!(taken.body["held_until"].is_string(), "{}", taken.text);
    let free_in = taken.body["free_in_seconds"].as_i64().unwrap();
    assert!((1700..=1800).contains(&free_in), "{free_in}");
    // Nor can it release or book the hold.
    let stolen = theirs.delete(&format!("/holds/{hold_ref}")).await;
    assert_eq!(stolen.status, StatusCode::NOT_FOUND);
    let stolen_booking = theirs.book_slot(&hold_ref, "credits", "k-theirs").await;
    assert_eq!(stolen_booking.status, StatusCode::NOT_FOUND);
    // "Keep my seat": a fresh hold in place of the old one.
    let renewed = mine
        .post(
            "/timeslot-holds",
            json!({ "course_id": 41, "date": slot["date"], "time": slot["time"],
                    "hold_ref": hold_ref, "renew": true }),
            &[],
        )
        .await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.text);
    let new_hash = renewed.body["hold"]["hold_hash"].as_str().unwrap();
    assert_ne!(new_hash, hash);
    let new_ref = renewed.body["hold_ref"].as_str().unwrap().to_owned();
    assert_eq!(
        stack.proxy.count(
            Method::DELETE,
            &format!("/bls/api/v1/timeslots/hold/{hash}")
        ),
        1,
        "the old hold was released upstream"
    );
    // Released through the generic route: the slot is free for the other session.
    let released = mine.delete(&format!("/holds/{new_ref}")).await;
    assert_eq!(released.status, StatusCode::NO_CONTENT, "{}", released.text);
    let now_theirs = theirs.hold_slot(&slot, None).await;
    assert_eq!(now_theirs.status, StatusCode::OK, "{}", now_theirs.text);
    // The page-hide beacon releases a timeslot hold too.
    let beacon = crate::support::send(
        stack
            .client
            .post(format!("{}/api/holds/release", stack.gateway.url()))
            .header("content-type", "text/plain")
            .body(
                json!({ "session": theirs.session,
                        "hold_ref": now_theirs.body["hold_ref"],
                        "page_hidden": true })
                .to_string(),
            ),
    )
    .await;
    assert_eq!(beacon.status, StatusCode::NO_CONTENT, "{}", beacon.text);
    let still_theirs = mine.hold_slot(&slot, None).await;
    assert_eq!(
        still_theirs.status,
        StatusCode::CONFLICT,
        "the slot waits out the grace: {}",
        still_theirs.text
    );
    stack.advance(grace_seconds).await;
    let released_path = format!(
        "/bls/api/v1/timeslots/hold/{}",
        now_theirs.body["hold"]["hold_hash"]
            .as_str()
            .expect("a hash")
    );
    stack
        .proxy
        .wait_until("the timeslot hold's release after the grace", |seen| {
            seen.iter()
                .any(|seen| seen.method == Method::DELETE && seen.path == released_path)
        })
        .await;
    let mine_now = mine.hold_slot(&slot, None).await;
    assert_eq!(
        mine_now.status,
        StatusCode::OK,
        "released after the grace: {}",
        mine_now.text
    );
    let unknown = mine
        .post(
            "/timeslot-holds",
            json!({ "course_id": 41, "date": slot["date"], "time": "03:17" }),
            &[],
        )
        .await;
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unknown.text
    );
}

/// Books one slot with `pay_option` through the gateway.
async fn book(stack: &Stack, widget: &Widget, slot: &Value, pay_option: &str) -> Value {
    let hold_ref = widget.slot_hold_ref(slot).await;
    let reply = widget
        .book_slot(&hold_ref, pay_option, &format!("key-{pay_option}"))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let sent = stack
        .proxy
        .seen()
        .into_iter()
        .rev()
        .find(|seen| seen.method == Method::POST && seen.path == "/bls/api/v1/bookings")
        .expect("sent upstream");
    let body: Value = serde_json::from_slice(&sent.request_body).unwrap();
    assert_eq!(body["address"], "4 Mill Lane");
    assert_eq!(body["city"], "Leeds");
    assert_eq!(body["postcode"], "LS1 4AP");
    assert_eq!(body["agency_contact_name"], "Tom Birch");
    assert!(body.get("agency_email").is_none() && body.get("job_role").is_none());
    reply.body
}

#[tokio::test]
async fn virtual_bls_bookings_with_each_pay_option_carry_the_zoom_session() {
    let stack = Stack::start_both(|_, _| {}).await;
    let widget = bls_widget(&stack).await;
    let slots = stack.bls_slots(&widget).await;
    for (slot, pay_option, upstream_name) in [
        (&slots[0], "credits", "credits"),
        (&slots[1], "balance", "balance"),
        (&slots[2], "inv", "invoice"),
    ] {
        let receipt = book(&stack, &widget, slot, pay_option).await;
        let booking: VirtualBooking =
            serde_json::from_value(receipt["booking"].clone()).expect("a VirtualBooking");
        assert_eq!(receipt["booking"]["pay_option"], upstream_name);
        assert_eq!(booking.pay_option, PayOption::parse(pay_option));
        assert_eq!(receipt["booking"]["booking_status"], "booked");
        assert!(booking.session.zoom_link.starts_with("https://zoom.us/j/"));
        assert_eq!(
            uk_time::to_uk(booking.start_date.with_timezone(&chrono::Utc))
                .format("%Y-%m-%d %H:%M")
                .to_string(),
            format!(
                "{} {}",
                slot["date"].as_str().unwrap(),
                slot["time"].as_str().unwrap()
            )
        );
        // Read again by the session that booked: the Zoom details again.
        let booking_ref = receipt["booking_ref"].as_str().unwrap();
        let read = widget.get(&format!("/bookings/{booking_ref}")).await;
        assert_eq!(read.status, StatusCode::OK, "{}", read.text);
        assert_eq!(
            read.body["booking"]["virtual"]["zoom_password"],
            json!(booking.session.zoom_password)
        );
        // Another session learns nothing of it.
        let other = bls_widget(&stack).await;
        let refused = other.get(&format!("/bookings/{booking_ref}")).await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND);
        assert!(!refused.text.contains("zoom"), "{}", refused.text);
    }
}

#[tokio::test]
async fn a_candidate_pays_booking_goes_round_the_paypal_stand_in() {
    let stack = Stack::start_both(|_, _| {}).await;
    let widget = bls_widget(&stack).await;
    let slot = stack.bls_slots(&widget).await[3].clone();
    let hold_ref = widget.slot_hold_ref(&slot).await;
    let mut body = bls_booking_body(&hold_ref, "candidate_pays");
    let return_url = format!("{}/booked", stack.gateway.url());
    body["return_url"] = json!(return_url);
    let reply = widget
        .post(
            "/bookings",
            body,
            &[
                ("idempotency-key", "paypal-1"),
                ("origin", stack.gateway.url()),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.body["booking"]["booking_status"], "pending");
    let url = reply.body["booking"]["payment_url"]
        .as_str()
        .expect("the PayPal stand-in's page is on the allow-list")
        .to_owned();
    assert!(
        url.starts_with(&format!(
            "{}/paypal/checkoutnow?token=",
            stack.sandbox.url()
        )),
        "{url}"
    );
    let page = stack.client.get(&url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("PayPal"));
    let paid = stack.client.post(&url).send().await.unwrap();
    assert_eq!(paid.status(), StatusCode::SEE_OTHER);
    assert_eq!(paid.headers()["location"], return_url.as_str());
    let booking_ref = reply.body["booking_ref"].as_str().unwrap();
    let read = widget.get(&format!("/bookings/{booking_ref}")).await;
    assert_eq!(read.body["booking"]["booking_status"], "booked");
    assert_eq!(read.body["booking"]["pay_status"], "completed");
}

#[tokio::test]
async fn a_payment_page_off_virtual_bls_list_is_withheld_whatever_practical_allows() {
    let stack = Stack::start_both(|config, sandbox| {
        config.payment_origins = vec![sandbox.url().to_owned()];
        config.virtual_bls.as_mut().unwrap().payment_origins =
            vec![booking_gateway::PAYPAL_CHECKOUT.to_owned()];
    })
    .await;
    let widget = bls_widget(&stack).await;
    let slot = stack.bls_slots(&widget).await[0].clone();
    let receipt = book(&stack, &widget, &slot, "candidate_pays").await;
    assert_eq!(receipt["booking"]["booking_status"], "pending");
    assert!(receipt["booking"].get("payment_url").is_none(), "{receipt}");
}

#[tokio::test]
async fn a_booking_needs_the_kit_address_and_an_allowed_pay_option_before_anything_is_sent() {
    let stack = Stack::start_both(|config, _| {
        config.virtual_bls.as_mut().unwrap().pay_options =
            vec![booking_core::api::PayOption::CandidatePays];
    })
    .await;
    let widget = bls_widget(&stack).await;
    let slot = stack.bls_slots(&widget).await[0].clone();
    let hold_ref = widget.slot_hold_ref(&slot).await;
    stack.proxy.clear();
    let mut no_kit = bls_booking_body(&hold_ref, "candidate_pays");
    no_kit.as_object_mut().unwrap().remove("kit");
    let reply = widget
        .post("/bookings", no_kit, &[("idempotency-key", "k1")])
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    for field in ["address", "city", "postcode"] {
        assert!(reply.body["errors"][field].is_array(), "{}", reply.text);
    }
    let mut blank_city = bls_booking_body(&hold_ref, "candidate_pays");
    blank_city["kit"]["city"] = json!("  ");
    let reply = widget
        .post("/bookings", blank_city, &[("idempotency-key", "k2")])
        .await;
    assert_eq!(
        reply.body["errors"]["city"][0],
        "Enter the town or city the training kit is posted to."
    );
    let credits = widget.book_slot(&hold_ref, "credits", "k3").await;
    assert_eq!(credits.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(credits.body["errors"]["pay_option"].is_array());
    // A pay option no product takes is refused before the reference is
    // opened, as for Practical Training.
    let unknown = widget.book_slot("not-a-hold.x", "voucher", "k3b").await;
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unknown.text
    );
    assert!(unknown.body["errors"]["pay_option"].is_array());
    assert!(
        stack.proxy.seen().is_empty(),
        "nothing reached the upstream: {:?}",
        stack.proxy.seen()
    );
    // The upstream's own check of the postcode comes back on its field.
    let mut bad_postcode = bls_booking_body(&hold_ref, "candidate_pays");
    bad_postcode["kit"]["postcode"] = json!("LS1");
    let reply = widget
        .post("/bookings", bad_postcode, &[("idempotency-key", "k4")])
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    assert!(
        reply.body["errors"]["postcode"].is_array(),
        "{}",
        reply.text
    );
    // A Practical Training hold takes no kit.
    let practical = stack.widget().await;
    let event_id = stack.create_event(1, 4).await;
    let practical_ref = practical.hold_ref(event_id).await;
    let mut with_kit = booking_body(&practical_ref, "candidate_pays");
    with_kit["kit"] = json!({ "address": "4 Mill Lane", "city": "Leeds", "postcode": "LS1 4AP" });
    let reply = practical
        .post("/bookings", with_kit, &[("idempotency-key", "k5")])
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    assert!(reply.body["errors"]["kit"].is_array());
}

#[tokio::test]
async fn a_lost_booking_answer_is_found_not_booked_twice() {
    let stack = Stack::start_both(|_, _| {}).await;
    stack.set_profile(json!({ "idempotency": "ignored" })).await;
    let widget = bls_widget(&stack).await;
    let slot = stack.bls_slots(&widget).await[0].clone();
    let hold_ref = widget.slot_hold_ref(&slot).await;
    stack.proxy.set_mode(Mode::LoseAnswer {
        method: Method::POST,
        path: "/bls/api/v1/bookings".into(),
    });
    let lost = widget.book_slot(&hold_ref, "credits", "lost-1").await;
    assert_eq!(lost.status, StatusCode::BAD_GATEWAY, "{}", lost.text);
    let retried = widget.book_slot(&hold_ref, "credits", "lost-1").await;
    assert_eq!(retried.status, StatusCode::CREATED, "{}", retried.text);
    assert_eq!(
        stack.proxy.count(Method::POST, "/bls/api/v1/bookings"),
        1,
        "sent once; the retry found the booking its lost answer made"
    );
    let again = widget.book_slot(&hold_ref, "credits", "lost-1").await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.body["booking"]["id"], retried.body["booking"]["id"]);
    assert_eq!(stack.proxy.count(Method::POST, "/bls/api/v1/bookings"), 1);
}
