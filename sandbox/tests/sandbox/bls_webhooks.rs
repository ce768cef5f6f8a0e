//! Virtual BLS webhooks over real HTTP: its endpoints (Practical Training's
//! routes under `/bls/api/v1`, each product's kept apart), its own event
//! catalogue, each of its booking events signed, retried and carrying the
//! `VirtualBooking`; and the provider's test-mode reschedule and cancel.

use booking_core::api::bls::VirtualBooking;
use booking_sandbox::webhook_check::{
    DELIVERY_ID_HEADER, EVENT_HEADER, EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};
use chrono::{Duration, NaiveDate, Utc, Weekday};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::bls::{earliest_bookable, next_open, BLS_DEMO, UPDATE};
use crate::common::receiver::{hmac_sha256_hex, TestReceiver};
use crate::common::{balance_pence, credits_for, parse_time, Harness, Reply, ALL_EVENTS, DEMO};

/// Virtual BLS's event catalogue: the eight events its pages title.
const BLS_EVENTS: &[&str] = &[
    "booking.created",
    "booking.confirmed",
    "booking.rescheduled",
    "booking.cancelled",
    "booking.attendance_marked",
    "booking.equipment_overdue",
    "booking.certificate_available",
    "webhook.test",
];

/// A sandbox over a SQLite file, HB-BLS-DEMO's token, a receiver and a
/// Virtual BLS endpoint for `events` pointing at it (the receiver knows its
/// secret).
async fn setup(events: &[&str]) -> (Harness, String, TestReceiver, Value) {
    let h = Harness::start_with_file().await;
    let token = h.bls_login(BLS_DEMO).await;
    let receiver = TestReceiver::start().await;
    let endpoint = bls_endpoint(&h, &token, &receiver.url, events).await;
    receiver.set_secret(endpoint["secret"].as_str().expect("secret"));
    (h, token, receiver, endpoint)
}

/// Registers a Virtual BLS endpoint; returns the answer (with the secret).
async fn bls_endpoint(h: &Harness, token: &str, url: &str, events: &[&str]) -> Value {
    let reply = h
        .bls_post(
            Some(token),
            "/webhooks",
            json!({ "name": "BLS feed", "url": url, "events": events }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

/// Sends `method` with a JSON body to a Virtual BLS API path.
async fn bls_send(h: &Harness, method: Method, token: &str, path: &str, body: Value) -> Reply {
    let bytes = serde_json::to_vec(&body).expect("json");
    h.send(method, &h.bls(path), Some(token), Some(bytes), &[])
        .await
}

/// The first bookable `weekday` that is not a bank holiday.
async fn first_open(h: &Harness, weekday: Weekday) -> NaiveDate {
    next_open(earliest_bookable(h.uk_today().await), weekday)
}

/// Holds the 60-minute course at `date` and `time` and books it with
/// `pay_option`; returns the booking.
async fn book_at(h: &Harness, token: &str, date: NaiveDate, time: &str, pay_option: &str) -> Value {
    let hash = h.bls_hold_hash(token, UPDATE, date, time).await;
    let reply = h.bls_book(token, &hash, pay_option).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

/// The booking's id.
fn id_of(booking: &Value) -> i64 {
    booking["id"].as_i64().expect("booking id")
}

/// The booking as `GET /bookings/{id}` answers it.
async fn shown(h: &Harness, token: &str, id: i64) -> Value {
    let reply = h.bls_get(token, &format!("/bookings/{id}")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

/// `start_date` of the free timeslot of the 60-minute course at `date` and
/// `time`, as `GET /timeslots` lists it.
async fn slot_start(h: &Harness, token: &str, date: NaiveDate, time: &str) -> String {
    let reply = h
        .bls_get(
            token,
            &format!("/timeslots?course_id={UPDATE}&date_from={date}&date_to={date}&per_page=100"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .find(|slot| slot["time"] == time)
        .and_then(|slot| slot["start_date"].as_str())
        .unwrap_or_else(|| panic!("no free timeslot at {date} {time}: {}", reply.body))
        .to_owned()
}

/// Marks a booking's training and kit status in test mode.
async fn mark(h: &Harness, id: i64, body: Value) -> Reply {
    h.fixture(&format!("/_sandbox/bls/bookings/{id}/status"), body)
        .await
}

/// Marks a booking in test mode, insisting on success; returns the booking.
async fn marked(h: &Harness, id: i64, body: Value) -> Value {
    let reply = mark(h, id, body.clone()).await;
    assert_eq!(reply.status, StatusCode::OK, "{body}: {}", reply.body);
    reply.body
}

/// The provider moves a booking in test mode.
async fn reschedule(h: &Harness, id: i64, starts_at: &str) -> Reply {
    h.fixture(
        &format!("/_sandbox/bls/bookings/{id}/reschedule"),
        json!({ "starts_at": starts_at }),
    )
    .await
}

/// The provider cancels a booking in test mode.
async fn provider_cancel(h: &Harness, id: i64) -> Reply {
    h.fixture(&format!("/_sandbox/bls/bookings/{id}/cancel"), json!({}))
        .await
}

/// Moves the clock an hour past the end of `booking`'s session and signs in
/// again (the access token has lapsed by then).
async fn after_session(h: &Harness, booking: &Value) -> String {
    let end = parse_time(&booking["end_date"]).with_timezone(&Utc);
    let wait = (end - h.now().await).num_seconds() + 3600;
    h.advance(wait).await;
    h.bls_login(BLS_DEMO).await
}

/// Sends a test event to the endpoint and waits for it: deliveries to one
/// endpoint arrive in order, so everything before it is in. Returns the
/// events before it.
async fn settle(h: &Harness, token: &str, receiver: &TestReceiver, endpoint: &Value) -> Vec<Value> {
    let id = endpoint["id"].as_i64().expect("endpoint id");
    let reply = h
        .send(
            Method::POST,
            &h.bls(&format!("/webhooks/{id}/test")),
            Some(token),
            None,
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let mut events = receiver
        .wait_until("the test event", |receiver| {
            let events = receiver.events();
            events
                .iter()
                .any(|event| event["event_type"] == "webhook.test")
                .then_some(events)
        })
        .await;
    assert_eq!(
        events.pop().map(|event| event["event_type"].clone()),
        Some(json!("webhook.test")),
        "the test event comes last"
    );
    events
}

/// The `event_type`s of `events`.
fn types(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|event| event["event_type"].as_str().unwrap_or(""))
        .collect()
}

/// Every request the receiver answered was answered 200, named its event
/// in `X-TDTA-Event` and was signed with `endpoint`'s secret (recomputed
/// here apart from the sandbox's code); every booking event's `data` reads
/// as a `VirtualBooking`.
fn assert_signed_virtual_bookings(receiver: &TestReceiver, endpoint: &Value) {
    let secret = endpoint["secret"].as_str().expect("secret");
    let requests = receiver.requests();
    assert!(!requests.is_empty());
    assert!(receiver.rejections().is_empty());
    for request in &requests {
        assert_eq!(request.status, 200);
        let timestamp: i64 = request.header(TIMESTAMP_HEADER).parse().expect("seconds");
        assert_eq!(
            request.header(SIGNATURE_HEADER),
            hmac_sha256_hex(secret, timestamp, &request.body)
        );
        let envelope: Value = serde_json::from_slice(&request.body).expect("json");
        assert_eq!(request.header(EVENT_HEADER), envelope["event_type"]);
        assert_eq!(request.header(EVENT_ID_HEADER), envelope["event_id"]);
        if request.header(EVENT_HEADER).starts_with("booking.") {
            let booking: VirtualBooking =
                serde_json::from_value(envelope["data"].clone()).expect("a VirtualBooking");
            assert!(booking.id > 7000);
            assert!(envelope["data"]["virtual"]["zoom_link"].is_string());
            assert!(envelope["data"].get("location").is_none());
        }
    }
}

#[tokio::test]
async fn a_bls_endpoint_is_managed_under_the_bls_api_and_kept_apart_from_practical_training() {
    let h = Harness::start_with_file().await;
    let bls = h.bls_login(BLS_DEMO).await;
    let practical = h.login(DEMO).await;
    let created = bls_endpoint(
        &h,
        &bls,
        "https://hooks.bls.example/feed",
        &["booking.created", "booking.equipment_overdue"],
    )
    .await;
    let id = created["id"].as_i64().expect("id");
    let secret = created["secret"].as_str().expect("secret shown on create");
    assert_eq!(secret.len(), 64);
    assert_eq!(created["secret_prefix"], secret[..12]);
    assert_eq!(
        created["events"],
        json!(["booking.created", "booking.equipment_overdue"])
    );
    let listed = h.bls_get(&bls, "/webhooks").await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(listed.body["meta"]["total"], 1);
    assert_eq!(listed.body["data"][0]["id"], id);
    assert!(listed.body["data"][0].get("secret").is_none());
    let one = h.bls_get(&bls, &format!("/webhooks/{id}")).await;
    assert_eq!(one.status, StatusCode::OK);
    assert!(one.body.get("secret").is_none());
    let patched = bls_send(
        &h,
        Method::PATCH,
        &bls,
        &format!("/webhooks/{id}"),
        json!({ "name": "Renamed" }),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["name"], "Renamed");
    let put = bls_send(
        &h,
        Method::PUT,
        &bls,
        &format!("/webhooks/{id}"),
        json!({ "name": "Replaced", "url": "https://hooks.bls.example/new",
                "events": ["booking.certificate_available"] }),
    )
    .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(put.body["events"], json!(["booking.certificate_available"]));
    let rotated = bls_send(
        &h,
        Method::POST,
        &bls,
        &format!("/webhooks/{id}/rotate-secret"),
        json!({}),
    )
    .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    assert_ne!(rotated.body["secret"], secret);
    let test = bls_send(
        &h,
        Method::POST,
        &bls,
        &format!("/webhooks/{id}/test"),
        json!({}),
    )
    .await;
    assert_eq!(test.status, StatusCode::ACCEPTED, "{}", test.body);

    // Each product's endpoints are 404 through the other product's API.
    let theirs = h
        .create_endpoint(
            &practical,
            "https://hooks.pt.example/feed",
            &["hold.expired"],
        )
        .await;
    let theirs = theirs["id"].as_i64().expect("id");
    for (method, path) in [
        (Method::GET, "/webhooks/{id}"),
        (Method::PATCH, "/webhooks/{id}"),
        (Method::PUT, "/webhooks/{id}"),
        (Method::DELETE, "/webhooks/{id}"),
        (Method::POST, "/webhooks/{id}/rotate-secret"),
        (Method::POST, "/webhooks/{id}/test"),
    ] {
        for (url, token) in [
            (h.api(&path.replace("{id}", &id.to_string())), &practical),
            (h.bls(&path.replace("{id}", &theirs.to_string())), &bls),
        ] {
            let reply = h
                .send(method.clone(), &url, Some(token), Some(b"{}".to_vec()), &[])
                .await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {url}");
            assert_eq!(reply.body["message"], "Webhook endpoint not found.");
        }
    }
    let practical_list = h.get(&practical, "/webhooks").await;
    assert_eq!(practical_list.body["meta"]["total"], 1);
    assert_eq!(practical_list.body["data"][0]["id"], theirs);
    assert_eq!(h.bls_get(&bls, "/webhooks").await.body["meta"]["total"], 1);
    // A token of one product opens nothing on the other's API.
    let crossed = h
        .send(Method::GET, &h.api("/webhooks"), Some(&bls), None, &[])
        .await;
    assert_eq!(crossed.status, StatusCode::UNAUTHORIZED);

    let deleted = h
        .send(
            Method::DELETE,
            &h.bls(&format!("/webhooks/{id}")),
            Some(&bls),
            None,
            &[],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    assert_eq!(h.bls_get(&bls, "/webhooks").await.body["meta"]["total"], 0);
    assert_eq!(
        h.get(&practical, "/webhooks").await.body["meta"]["total"],
        1
    );
}

#[tokio::test]
async fn a_bls_endpoint_takes_the_eight_bls_events_and_refuses_practical_only_ones() {
    let h = Harness::start_with_file().await;
    let bls = h.bls_login(BLS_DEMO).await;
    let every = bls_endpoint(&h, &bls, "https://hooks.bls.example/", BLS_EVENTS).await;
    assert_eq!(every["events"], json!(BLS_EVENTS));
    let practical_only: Vec<&str> = ALL_EVENTS
        .iter()
        .copied()
        .filter(|event| !BLS_EVENTS.contains(event))
        .collect();
    assert!(practical_only.contains(&"hold.expired"));
    for event in &practical_only {
        let reply = h
            .bls_post(
                Some(&bls),
                "/webhooks",
                json!({ "name": "n", "url": "https://hooks.bls.example/",
                        "events": ["booking.created", event] }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{event}");
        assert_eq!(
            reply.body["errors"]["events.1"],
            json!(["The selected events.1 is invalid."]),
            "{event}"
        );
    }
    let id = every["id"].as_i64().expect("id");
    let patched = bls_send(
        &h,
        Method::PATCH,
        &bls,
        &format!("/webhooks/{id}"),
        json!({ "events": ["hold.expired"] }),
    )
    .await;
    assert_eq!(patched.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        patched.body["errors"]["events.0"],
        json!(["The selected events.0 is invalid."])
    );
    assert_eq!(
        h.bls_get(&bls, &format!("/webhooks/{id}")).await.body["events"],
        json!(BLS_EVENTS),
        "nothing changed"
    );

    // Practical Training's catalogue is its own, as before.
    let practical = h.login(DEMO).await;
    let all = h
        .create_endpoint(&practical, "https://hooks.pt.example/", ALL_EVENTS)
        .await;
    assert_eq!(all["events"], json!(ALL_EVENTS));
    let overdue = h
        .post(
            Some(&practical),
            "/webhooks",
            json!({ "name": "n", "url": "https://hooks.pt.example/",
                    "events": ["booking.equipment_overdue"] }),
        )
        .await;
    assert_eq!(overdue.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(overdue.body["errors"]["events.0"].is_array());
}

#[tokio::test]
async fn a_candidate_pays_booking_sends_created_then_confirmed_when_paid_on_paypal() {
    let (h, token, receiver, endpoint) = setup(BLS_EVENTS).await;
    let tuesday = first_open(&h, Weekday::Tue).await;
    let booking = book_at(&h, &token, tuesday, "09:00", "candidate_pays").await;
    let id = id_of(&booking);
    let created = receiver.wait_for_events(1).await;
    assert_eq!(types(&created), ["booking.created"]);
    assert_eq!(created[0]["data"], booking, "the booking as answered");
    assert_eq!(created[0]["data"]["booking_status"], "pending");
    let payment_url = booking["payment_url"].as_str().expect("payment url");
    let paid = h.client.post(payment_url).send().await.expect("paid");
    assert_eq!(paid.status(), StatusCode::OK);
    let events = receiver.wait_for_events(2).await;
    assert_eq!(types(&events), ["booking.created", "booking.confirmed"]);
    let now = shown(&h, &token, id).await;
    assert_eq!(now["booking_status"], "booked");
    assert_eq!(events[1]["data"], now);
    // Paying again confirms nothing more.
    h.client.post(payment_url).send().await.expect("paid again");
    let all = settle(&h, &token, &receiver, &endpoint).await;
    assert_eq!(types(&all), ["booking.created", "booking.confirmed"]);
    assert_signed_virtual_bookings(&receiver, &endpoint);
}

#[tokio::test]
async fn attendance_is_sent_when_marked_and_the_certificate_once_when_both_conditions_hold() {
    let (h, token, receiver, endpoint) = setup(BLS_EVENTS).await;
    let tuesday = first_open(&h, Weekday::Tue).await;
    let kit_first = id_of(&book_at(&h, &token, tuesday, "09:00", "credits").await);
    let training_first = id_of(&book_at(&h, &token, tuesday, "10:30", "credits").await);
    let absent = book_at(&h, &token, tuesday, "13:30", "credits").await;
    let absent_id = id_of(&absent);
    // The kit comes back before the session: nothing to report yet.
    marked(&h, kit_first, json!({ "equipment_status": "in" })).await;
    let token = after_session(&h, &absent).await;
    let done = marked(&h, kit_first, json!({ "training_status": "completed" })).await;
    assert_eq!(done["certificate_available"], true);
    let out = marked(
        &h,
        training_first,
        json!({ "training_status": "completed", "equipment_status": "out" }),
    )
    .await;
    assert_eq!(out["certificate_available"], false);
    marked(&h, training_first, json!({ "equipment_status": "in" })).await;
    marked(&h, absent_id, json!({ "training_status": "no_show" })).await;
    // Marking the same again, or the kit out and back in, sends nothing.
    marked(&h, kit_first, json!({ "training_status": "completed" })).await;
    marked(&h, training_first, json!({ "equipment_status": "out" })).await;
    let back = marked(&h, training_first, json!({ "equipment_status": "in" })).await;
    assert_eq!(back["certificate_available"], true);

    let events = settle(&h, &token, &receiver, &endpoint).await;
    assert_eq!(
        types(&events),
        [
            "booking.created",
            "booking.created",
            "booking.created",
            "booking.attendance_marked",
            "booking.certificate_available",
            "booking.attendance_marked",
            "booking.certificate_available",
            "booking.attendance_marked",
        ]
    );
    let ids: Vec<i64> = events[3..]
        .iter()
        .map(|event| event["data"]["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(
        ids,
        [
            kit_first,
            kit_first,
            training_first,
            training_first,
            absent_id
        ]
    );
    assert_eq!(events[3]["data"]["training_status"], "completed");
    assert_eq!(events[3]["data"]["booking_status"], "completed");
    assert_eq!(events[4]["data"]["certificate_available"], true);
    assert_eq!(events[5]["data"]["equipment_status"], "out");
    assert_eq!(events[6]["data"]["equipment_status"], "in");
    assert_eq!(events[6]["data"]["certificate_available"], true);
    assert_eq!(events[7]["data"]["training_status"], "no_show");
    assert_eq!(events[7]["data"]["booking_status"], "no_show");
    assert_signed_virtual_bookings(&receiver, &endpoint);
}

#[tokio::test]
async fn a_kit_marked_overdue_is_sent_as_equipment_overdue_once() {
    let (h, token, receiver, endpoint) = setup(BLS_EVENTS).await;
    let tuesday = first_open(&h, Weekday::Tue).await;
    let id = id_of(&book_at(&h, &token, tuesday, "09:00", "credits").await);
    marked(&h, id, json!({ "equipment_status": "out" })).await;
    let overdue = marked(&h, id, json!({ "equipment_status": "overdue" })).await;
    assert_eq!(overdue["equipment_status"], "overdue");
    assert_eq!(overdue["certificate_available"], false);
    marked(&h, id, json!({ "equipment_status": "overdue" })).await;
    let events = settle(&h, &token, &receiver, &endpoint).await;
    assert_eq!(
        types(&events),
        ["booking.created", "booking.equipment_overdue"]
    );
    assert_eq!(events[1]["data"], shown(&h, &token, id).await);
    assert_signed_virtual_bookings(&receiver, &endpoint);
}

#[tokio::test]
async fn a_failed_delivery_to_a_bls_endpoint_is_retried_with_the_same_event() {
    let (h, token, receiver, endpoint) = setup(&["booking.created"]).await;
    receiver.fail_next(2);
    let tuesday = first_open(&h, Weekday::Tue).await;
    let booking = book_at(&h, &token, tuesday, "09:00", "balance").await;
    let events = receiver.wait_for_events(1).await;
    assert_eq!(events[0]["data"], booking);
    let requests = receiver.requests();
    assert_eq!(
        requests.iter().map(|r| r.status).collect::<Vec<_>>(),
        [500, 500, 200]
    );
    assert!(requests
        .iter()
        .all(|r| r.header(EVENT_ID_HEADER) == requests[0].header(EVENT_ID_HEADER)));
    assert!(requests.windows(2).all(|pair| pair[0].body == pair[1].body));
    let mut attempts: Vec<&str> = requests
        .iter()
        .map(|r| r.header(DELIVERY_ID_HEADER))
        .collect();
    attempts.dedup();
    assert_eq!(attempts.len(), 3, "a new delivery id per attempt");
    let secret = endpoint["secret"].as_str().expect("secret");
    for request in &requests {
        let timestamp: i64 = request.header(TIMESTAMP_HEADER).parse().expect("seconds");
        assert_eq!(
            request.header(SIGNATURE_HEADER),
            hmac_sha256_hex(secret, timestamp, &request.body)
        );
    }
}

#[tokio::test]
async fn the_provider_reschedule_moves_a_booking_to_a_free_timeslot_and_sends_it() {
    let (h, token, receiver, endpoint) = setup(&["booking.rescheduled"]).await;
    let tuesday = first_open(&h, Weekday::Tue).await;
    let booking = book_at(&h, &token, tuesday, "09:00", "credits").await;
    let id = id_of(&booking);
    let to = slot_start(&h, &token, tuesday, "10:30").await;
    let before = h.slots_on(&token, UPDATE, tuesday).await;
    assert!(before.contains(&("09:00".to_owned(), 1)), "{before:?}");
    assert!(before.contains(&("10:30".to_owned(), 2)), "{before:?}");

    let moved = reschedule(&h, id, &to).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    let start = parse_time(&moved.body["start_date"]);
    assert_eq!(start, parse_time(&json!(to)));
    assert_eq!(
        parse_time(&moved.body["end_date"]) - start,
        Duration::minutes(60)
    );
    assert_eq!(
        moved.body["trainer"], booking["trainer"],
        "the trainer is kept when free"
    );
    assert_eq!(moved.body["virtual"], booking["virtual"]);
    let now = shown(&h, &token, id).await;
    assert_eq!(now["start_date"], moved.body["start_date"]);
    assert_eq!(now, moved.body);
    // The old time is free again and the new one taken.
    let after = h.slots_on(&token, UPDATE, tuesday).await;
    assert!(after.contains(&("09:00".to_owned(), 2)), "{after:?}");
    assert!(after.contains(&("10:30".to_owned(), 1)), "{after:?}");

    let events = settle(&h, &token, &receiver, &endpoint).await;
    assert_eq!(types(&events), ["booking.rescheduled"]);
    assert_eq!(events[0]["data"], now);
    assert_signed_virtual_bookings(&receiver, &endpoint);
}

#[tokio::test]
async fn rescheduling_refuses_a_busy_past_same_or_unknown_slot_and_a_started_booking() {
    let h = Harness::start().await;
    let token = h.bls_login(BLS_DEMO).await;
    // On a Saturday one trainer teaches: 09:00 and 10:30.
    let saturday = first_open(&h, Weekday::Sat).await;
    let nine = slot_start(&h, &token, saturday, "09:00").await;
    let half_ten = slot_start(&h, &token, saturday, "10:30").await;
    let first = book_at(&h, &token, saturday, "09:00", "credits").await;
    let id = id_of(&first);
    book_at(&h, &token, saturday, "10:30", "credits").await;
    let off_grid = (parse_time(&json!(nine)) + Duration::minutes(10)).to_rfc3339();
    let past = (h.now().await - Duration::days(1)).to_rfc3339();
    let not_free = "This time is not a free timeslot of the booking's course. Choose another time.";
    for (starts_at, message) in [
        (half_ten.as_str(), not_free),
        (off_grid.as_str(), not_free),
        (nine.as_str(), "The booking is already at this time."),
        (
            past.as_str(),
            "The starts at field must be a time in the future.",
        ),
        (
            "next saturday",
            "The starts at field must be an ISO 8601 date-time with an offset.",
        ),
    ] {
        let reply = reschedule(&h, id, starts_at).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{starts_at}: {}",
            reply.body
        );
        assert_eq!(
            reply.body["errors"]["starts_at"],
            json!([message]),
            "{starts_at}"
        );
    }
    let missing = h
        .fixture(
            &format!("/_sandbox/bls/bookings/{id}/reschedule"),
            json!({}),
        )
        .await;
    assert_eq!(
        missing.body["errors"]["starts_at"],
        json!(["The starts at field is required."])
    );
    let unknown = reschedule(&h, 99_999, &half_ten).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.body["message"], "Booking not found.");
    assert_eq!(shown(&h, &token, id).await, first, "nothing moved");

    let token = after_session(&h, &first).await;
    let later = first_open(&h, Weekday::Sat).await;
    let free = slot_start(&h, &token, later, "09:00").await;
    let started = reschedule(&h, id, &free).await;
    assert_eq!(started.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        started.body["errors"]["booking"],
        json!(["The session has already started."])
    );
}

#[tokio::test]
async fn the_provider_cancel_refunds_frees_the_trainer_and_sends_it() {
    let (h, token, receiver, endpoint) = setup(&["booking.cancelled"]).await;
    let tuesday = first_open(&h, Weekday::Tue).await;
    let wallet = h.bls_get(&token, "/credits").await.body;
    let by_credit = id_of(&book_at(&h, &token, tuesday, "09:00", "credits").await);
    let by_balance = id_of(&book_at(&h, &token, tuesday, "10:30", "balance").await);
    let spent = h.bls_get(&token, "/credits").await.body;
    assert_eq!(
        credits_for(&spent, UPDATE),
        credits_for(&wallet, UPDATE) - 1
    );
    assert_eq!(balance_pence(&spent), balance_pence(&wallet) - 5500);
    let taken = h.slots_on(&token, UPDATE, tuesday).await;
    assert!(taken.contains(&("09:00".to_owned(), 1)), "{taken:?}");

    for id in [by_credit, by_balance] {
        let reply = provider_cancel(&h, id).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.body["booking_status"], "cancelled");
        assert_eq!(reply.body["pay_status"], "refunded");
    }
    let refunded = h.bls_get(&token, "/credits").await.body;
    assert_eq!(credits_for(&refunded, UPDATE), credits_for(&wallet, UPDATE));
    assert_eq!(balance_pence(&refunded), balance_pence(&wallet));
    let rows = h.bls_get(&token, "/transactions?per_page=2").await.body;
    let (money, credit) = (&rows["data"][0], &rows["data"][1]);
    assert_eq!(money["type"], "credit");
    assert_eq!(money["amount"], 55.0);
    assert_eq!(money["booking_id"], by_balance);
    assert_eq!(credit["type"], "credit");
    assert_eq!(credit["credits"], 1);
    assert_eq!(credit["course_id"], UPDATE);
    assert_eq!(credit["booking_id"], by_credit);
    assert!(credit["description"]
        .as_str()
        .expect("description")
        .starts_with(&format!(
            "Cancelled by the training provider: Booking #{by_credit}: BLS Annual Update (Virtual), online, "
        )));
    // The trainers' time is free again.
    let free = h.slots_on(&token, UPDATE, tuesday).await;
    assert!(free.contains(&("09:00".to_owned(), 2)), "{free:?}");
    assert!(free.contains(&("10:30".to_owned(), 2)), "{free:?}");

    let again = provider_cancel(&h, by_credit).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        again.body["errors"]["booking"],
        json!(["This booking has already been cancelled."])
    );
    assert_eq!(
        provider_cancel(&h, 99_999).await.status,
        StatusCode::NOT_FOUND
    );
    let events = settle(&h, &token, &receiver, &endpoint).await;
    assert_eq!(types(&events), ["booking.cancelled", "booking.cancelled"]);
    assert_eq!(events[0]["data"], shown(&h, &token, by_credit).await);
    assert_eq!(events[1]["data"], shown(&h, &token, by_balance).await);
    assert_signed_virtual_bookings(&receiver, &endpoint);
}

#[tokio::test]
async fn the_provider_cancel_of_an_invoice_or_an_unpaid_booking_moves_no_money() {
    let h = Harness::start().await;
    let token = h.bls_login(BLS_DEMO).await;
    let tuesday = first_open(&h, Weekday::Tue).await;
    let invoiced = id_of(&book_at(&h, &token, tuesday, "09:00", "invoice").await);
    let unpaid = book_at(&h, &token, tuesday, "10:30", "candidate_pays").await;
    let wallet = h.bls_get(&token, "/credits").await.body;
    let count = h.bls_get(&token, "/transactions").await.body["meta"]["total"].clone();
    let reply = provider_cancel(&h, invoiced).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["pay_status"], "refunded");
    let reply = provider_cancel(&h, id_of(&unpaid)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["booking_status"], "cancelled");
    assert_eq!(reply.body["pay_status"], "pending");
    assert!(reply.body.get("payment_url").is_none());
    assert_eq!(h.bls_get(&token, "/credits").await.body, wallet);
    assert_eq!(
        h.bls_get(&token, "/transactions").await.body["meta"]["total"],
        count
    );
    let page = h
        .client
        .get(unpaid["payment_url"].as_str().expect("payment url"))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::GONE);
}
