//! Upstream profiles over real HTTP: each switch changes what the sandbox
//! answers where the published API is silent, set at start (`--profile`) or
//! in test mode (`/_sandbox/profile`).

use crate::common::bls::{earliest_bookable, next_open, BLS_DEMO, UPDATE};
use crate::common::{booking_body, Harness, DEMO};
use booking_core::api::bls::{Timeslot, TimeslotHold, VirtualBooking};
use booking_core::api::{
    BookingDetail, ClientProfile, Course, CreditsResponse, Page, SeatHold, TokenPair,
    TrainingEvent, TrainingEventDetail, WalletTransaction,
};
use booking_core::contract::{inferred_fields, keep_documented, Answer, Kind};
use booking_sandbox::{SandboxConfig, UpstreamProfile};
use chrono::Weekday;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn with_profile(written: &str) -> Harness {
    Harness::start_with(SandboxConfig {
        profile: written.parse::<UpstreamProfile>().expect("a profile"),
        ..SandboxConfig::for_tests()
    })
    .await
}

/// POSTs a booking with an `Idempotency-Key`.
async fn book_with_key(h: &Harness, token: &str, body: &Value, key: &str) -> crate::common::Reply {
    h.send(
        Method::POST,
        &h.api("/bookings"),
        Some(token),
        Some(serde_json::to_vec(body).unwrap()),
        &[("Idempotency-Key", key)],
    )
    .await
}

#[tokio::test]
async fn the_profile_is_read_and_changed_in_test_mode() {
    let h = Harness::start().await;
    let reply = h
        .send(Method::GET, &h.url("/_sandbox/profile"), None, None, &[])
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body,
        json!({"hold_scope": "event", "idempotency": "honoured", "conflict_body": "with_hold",
               "return_url": "honoured", "max_per_page": 100, "shape": "full"})
    );
    let changed = h
        .fixture(
            "/_sandbox/profile",
            json!({"hold_scope": "account", "max_per_page": 50}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["hold_scope"], "account");
    assert_eq!(changed.body["max_per_page"], 50);
    assert_eq!(changed.body["idempotency"], "honoured", "the rest is kept");

    let refused = h
        .fixture(
            "/_sandbox/profile",
            json!({"idempotency": "ignored", "conflict_body": "sometimes"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused.body["errors"]["conflict_body"],
        json!(["profile: conflict_body=sometimes is not one of with_hold, message_only"])
    );
    let now = h
        .send(Method::GET, &h.url("/_sandbox/profile"), None, None, &[])
        .await;
    assert_eq!(
        now.body["idempotency"], "honoured",
        "a refused change changes nothing"
    );
}

#[tokio::test]
async fn hold_scope_account_allows_one_live_hold_per_account() {
    let h = with_profile("hold_scope=account").await;
    let token = h.login(DEMO).await;
    let first_event = h.create_event(2, 12, 48).await;
    let second_event = h.create_event(2, 12, 72).await;
    let first = h.hold_hash(&token, first_event).await;
    let reply = h.hold(&token, second_event).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert_eq!(reply.body["message"], "An active hold already exists.");
    assert_eq!(reply.body["hold_hash"], first.as_str());
    assert_eq!(
        reply.body["training_event"]["id"].as_i64(),
        Some(first_event),
        "the 409 describes the hold that exists, on its own event"
    );
    let released = h
        .delete(&token, &format!("/training-events/hold/{first}"))
        .await;
    assert_eq!(released.status, StatusCode::OK);
    assert_eq!(h.hold(&token, second_event).await.status, StatusCode::OK);
}

#[tokio::test]
async fn hold_scope_event_allows_holds_on_other_events() {
    let h = with_profile("hold_scope=event").await;
    let token = h.login(DEMO).await;
    let first_event = h.create_event(2, 12, 48).await;
    let second_event = h.create_event(2, 12, 72).await;
    h.hold_hash(&token, first_event).await;
    assert_eq!(h.hold(&token, second_event).await.status, StatusCode::OK);
    assert_eq!(
        h.hold(&token, first_event).await.status,
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn hold_scope_none_grants_a_hold_per_free_seat_and_no_more() {
    let h = with_profile("hold_scope=none").await;
    let token = h.login(DEMO).await;
    let event = h.create_event(2, 2, 48).await;
    let first = h.hold_hash(&token, event).await;
    let second = h.hold_hash(&token, event).await;
    assert_ne!(first, second, "a second hold of the same account");
    let third = h.hold(&token, event).await;
    assert_eq!(
        third.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        third.body
    );
    assert_eq!(
        third.body["errors"]["training_event"],
        json!(["Every remaining seat on this training event is held by another booker. Try again in a few minutes."])
    );
    assert_eq!(
        h.book(&token, &first, "credits").await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        h.book(&token, &second, "credits").await.status,
        StatusCode::CREATED
    );
    assert_eq!(h.remaining(&token, event).await, 0);
}

#[tokio::test]
async fn conflict_body_message_only_names_no_hold() {
    let h = with_profile("conflict_body=message_only").await;
    let token = h.login(DEMO).await;
    let event = h.create_event(2, 12, 48).await;
    h.hold_hash(&token, event).await;
    let reply = h.hold(&token, event).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(
        reply.body,
        json!({"message": "An active hold already exists for this training event."})
    );
}

#[tokio::test]
async fn idempotency_ignored_treats_a_repeat_as_a_new_request() {
    let h = with_profile("idempotency=ignored").await;
    let token = h.login(DEMO).await;
    let event = h.create_event(2, 12, 48).await;
    let hold = h.hold_hash(&token, event).await;
    let body = booking_body(&hold, "credits");
    let first = book_with_key(&h, &token, &body, "attempt-1").await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let repeat = book_with_key(&h, &token, &body, "attempt-1").await;
    assert_eq!(
        repeat.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no replay: the used hold is refused, {}",
        repeat.body
    );
    assert_eq!(
        repeat.body["errors"]["hold_hash"],
        json!(["This hold has already been used for a booking."])
    );

    let honouring = Harness::start().await;
    let token = honouring.login(DEMO).await;
    let event = honouring.create_event(2, 12, 48).await;
    let hold = honouring.hold_hash(&token, event).await;
    let body = booking_body(&hold, "credits");
    let first = book_with_key(&honouring, &token, &body, "attempt-1").await;
    let replay = book_with_key(&honouring, &token, &body, "attempt-1").await;
    assert_eq!(replay.status, first.status, "honoured: the same answer");
    assert_eq!(replay.body["id"], first.body["id"]);
}

#[tokio::test]
async fn return_url_ignored_neither_checks_nor_keeps_it() {
    let h = with_profile("return_url=ignored").await;
    let token = h.login(DEMO).await;
    let event = h.create_event(2, 12, 48).await;
    let hold = h.hold_hash(&token, event).await;
    let mut body = booking_body(&hold, "candidate_pays");
    body["return_url"] = json!("not a url");
    let reply = h.post(Some(&token), "/bookings", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let payment_url = reply.body["payment_url"].as_str().expect("a payment url");
    assert!(
        !payment_url.contains("return_url"),
        "the checkout sends nobody back: {payment_url}"
    );

    let honouring = Harness::start().await;
    let token = honouring.login(DEMO).await;
    let event = honouring.create_event(2, 12, 48).await;
    let hold = honouring.hold_hash(&token, event).await;
    let mut body = booking_body(&hold, "candidate_pays");
    body["return_url"] = json!("https://www.agency.example/booked");
    let reply = honouring.post(Some(&token), "/bookings", body).await;
    assert!(reply.body["payment_url"]
        .as_str()
        .unwrap()
        .contains("return_url="));
}

#[tokio::test]
async fn max_per_page_50_refuses_larger_pages() {
    let h = with_profile("max_per_page=50").await;
    let token = h.login(DEMO).await;
    let refused = h.get(&token, "/training-events?per_page=100").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body["errors"]["per_page"].is_array(),
        "{}",
        refused.body
    );
    let fifty = h.get(&token, "/training-events?per_page=50").await;
    assert_eq!(fifty.status, StatusCode::OK, "{}", fifty.body);
    assert_eq!(fifty.body["meta"]["per_page"], 50);
}

/// Insists that `answer` carries nothing `shape` does not mark documented:
/// none of its inferred fields, nothing it does not know.
fn assert_documented_only(what: &str, answer: &Value, shape: Kind) {
    let mut documented = answer.clone();
    keep_documented(&mut documented, &shape);
    assert_eq!(&documented, answer, "{what}: only documented fields");
}

/// The keys of a JSON object, sorted.
fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .map(|object| object.keys().map(String::as_str).collect())
        .unwrap_or_default();
    keys.sort_unstable();
    keys
}

#[tokio::test]
async fn shape_documented_leaves_every_inferred_field_out_of_every_answer() {
    let h = with_profile("shape=documented").await;
    let pair = h
        .post(
            None,
            "/auth/token",
            json!({ "hb_client_id": DEMO.0, "api_key": DEMO.1 }),
        )
        .await;
    assert_eq!(keys(&pair.body), ["access_token", "refresh_token"]);
    let token = pair.body["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    assert_documented_only("token pair", &pair.body, TokenPair::SHAPE);

    let profile = h.get(&token, "/profile").await.body;
    assert_eq!(profile, json!({}), "nothing of the profile is documented");
    assert_eq!(inferred_fields(&ClientProfile::SHAPE).len(), 6);
    let credits = h.get(&token, "/credits").await.body;
    assert_eq!(
        keys(&credits),
        ["booking_credits", "booking_money_balance", "currency"],
        "documented in full"
    );
    assert_documented_only("credits", &credits, CreditsResponse::SHAPE);
    let courses = h.get(&token, "/courses").await.body;
    assert_eq!(keys(&courses["data"][0]), ["id", "name"]);
    assert_eq!(keys(&courses["meta"]).len(), 4);
    assert_documented_only("courses", &courses, Page::<Course>::SHAPE);
    let transactions = h.get(&token, "/transactions").await.body;
    assert_eq!(transactions["data"][0], json!({}), "nothing documented");
    assert_documented_only(
        "transactions",
        &transactions,
        Page::<WalletTransaction>::SHAPE,
    );

    let event_id = h.create_event(2, 12, 48).await;
    let events = h.get(&token, "/training-events?per_page=1").await.body;
    assert_eq!(keys(&events["data"][0]).len(), 8, "documented in full");
    assert_documented_only("events", &events, Page::<TrainingEvent>::SHAPE);
    let event = h
        .get(&token, &format!("/training-events/{event_id}"))
        .await
        .body;
    assert!(event.get("capacity").is_none() && event.get("trainer").is_none());
    assert_documented_only("event", &event, TrainingEventDetail::SHAPE);
    let hold = h.hold(&token, event_id).await;
    assert_eq!(hold.status, StatusCode::OK);
    assert_documented_only("hold", &hold.body, SeatHold::SHAPE);
    let conflict = h.hold(&token, event_id).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    assert_eq!(conflict.body, json!({}), "no error body is documented");
    let hash = hold.body["hold_hash"].as_str().expect("a hash");
    let booking = h.book(&token, hash, "credits").await;
    assert_eq!(booking.status, StatusCode::CREATED, "{}", booking.body);
    assert!(booking.body["candidate"]["email"].is_string());
    assert_documented_only("booking", &booking.body, BookingDetail::SHAPE);
    let refused = h.book(&token, hash, "credits").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.body, json!({}));
    let listed = h.get(&token, "/bookings").await.body;
    assert_documented_only("bookings", &listed, Page::<BookingDetail>::SHAPE);

    let bls = h.bls_login(BLS_DEMO).await;
    let tuesday = next_open(earliest_bookable(h.uk_today().await), Weekday::Tue);
    let slots = h
        .bls_get(
            &bls,
            &format!("/timeslots?course_id={UPDATE}&date_from={tuesday}&date_to={tuesday}"),
        )
        .await
        .body;
    assert_eq!(keys(&slots["data"][0]), ["course", "date", "time"]);
    assert_documented_only("timeslots", &slots, Page::<Timeslot>::SHAPE);
    let slot_hold = h.bls_hold(&bls, UPDATE, tuesday, "13:30").await;
    assert_documented_only("timeslot hold", &slot_hold.body, TimeslotHold::SHAPE);
    let hash = slot_hold.body["hold_hash"].as_str().expect("a hash");
    let pending = h.bls_book(&bls, hash, "candidate_pays").await;
    assert_eq!(pending.status, StatusCode::CREATED, "{}", pending.body);
    for unshown in ["training_status", "equipment_status", "payment_url"] {
        assert!(pending.body.get(unshown).is_none(), "{unshown}");
    }
    assert_eq!(pending.body["booking_status"], "pending");
    assert_documented_only("virtual booking", &pending.body, VirtualBooking::SHAPE);

    let full = with_profile("").await;
    let full_token = full.login(DEMO).await;
    let profile = full.get(&full_token, "/profile").await.body;
    assert_eq!(
        keys(&profile).len(),
        6,
        "shape=full (the default) answers every field: {profile}"
    );
}
