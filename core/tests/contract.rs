//! The wire types pinned to the published documents of the Practical Training
//! and Virtual BLS APIs (sections 2 to 6 and 10 of the contract reference):
//! each documented example is decoded, encoded again, and must come back with
//! exactly its keys and values; the fields each answer type marks documented
//! are exactly the examples' fields; and every answer type is read from its
//! documented fields alone. Decoding goes through both readers the project
//! uses: `serde_json` (the servers) and `booking_core::json` (the widget).

use std::collections::BTreeSet;

use booking_core::api::bls::{
    Timeslot, TimeslotHold, TimeslotHoldConflict, TrainingStatus, VirtualBooking,
};
use booking_core::api::{
    ApiError, BookingDetail, BookingStatus, ClientProfile, Course, CreateBookingRequest,
    CreditsResponse, HoldConflict, Location, Money, Page, PayOption, PayStatus, SeatHold,
    TokenPair, TrainingEvent, TrainingEventDetail, ValidationError,
};
use booking_core::contract::{drift, inferred_fields, keep_documented, Answer, Kind, Source};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

mod documented;
use documented::{
    BOOKING, BOOKING_REQUEST, CREDITS, EVENTS_PAGE, HOLD, TIMESLOT_HOLD, VIRTUAL_BOOKING,
};

/// The documented example as a `candidate_pays` booking: pending, with the
/// documented top-level `payment_url`.
const BOOKING_CANDIDATE_PAYS: &str = r#"{
  "id": 102389,
  "candidate": {
    "name": "Priya Patel",
    "email": "priya.patel@carestaff.example",
    "phone": "+447700900123",
    "job_role": "Healthcare Assistant"
  },
  "course":   { "id": 2, "name": "Moving & Handling Practical" },
  "location": { "id": 5, "name": "Leeds", "address": "Unit 4, Aire Street, Leeds" },
  "trainer":  null,
  "start_date": "2026-08-04T09:30:00+01:00",
  "end_date":   "2026-08-04T16:30:00+01:00",
  "booking_status": "pending",
  "pay_status": "pending",
  "pay_option": "candidate_pays",
  "booked_by": "Agency",
  "attendance": null,
  "certificate_available": false,
  "created_at": "2026-07-20T14:17:03+00:00",
  "payment_url": "https://checkout.stripe.com/c/pay/cs_test_a1B2c3D4"
}"#;

/// Every key of a document, nested keys as `outer.inner`.
fn key_paths(value: &Value) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    collect_keys(value, "", &mut paths);
    paths
}

fn collect_keys(value: &Value, prefix: &str, paths: &mut BTreeSet<String>) {
    if let Value::Object(map) = value {
        for (key, inner) in map {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            collect_keys(inner, &path, paths);
            paths.insert(path);
        }
    }
}

/// Decodes a documented example with both readers, checks they agree, and
/// checks that encoding gives back exactly the document: same keys, same
/// values.
fn round_trip<T>(document: &str) -> T
where
    T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug,
{
    let by_servers: T = serde_json::from_str(document).expect("serde_json decodes the example");
    let by_widget: T = booking_core::json::from_str(document).expect("the widget decodes it");
    assert_eq!(by_servers, by_widget, "both readers read the same value");
    let example: Value = serde_json::from_str(document).unwrap();
    let encoded = serde_json::to_value(&by_servers).unwrap();
    assert_eq!(
        key_paths(&encoded),
        key_paths(&example),
        "exactly the documented keys"
    );
    assert_eq!(encoded, example, "exactly the documented values");
    by_servers
}

#[test]
fn the_create_booking_request_is_the_documented_body() {
    let request: CreateBookingRequest = round_trip(BOOKING_REQUEST);
    assert_eq!(request.pay_option, PayOption::Credits);
    assert_eq!(request.hold_hash, "Q8vTz2LmPa9RkWc4NbXy7HdJf3GsEu6K");
}

#[test]
fn a_booking_paid_by_credits_is_the_documented_answer() {
    let booking: BookingDetail = round_trip(BOOKING);
    assert_eq!(booking.booking_status, BookingStatus::Booked);
    assert_eq!(booking.pay_status, PayStatus::Completed);
    assert_eq!(booking.payment_url, None);
    assert_eq!(booking.start_date.to_rfc3339(), "2026-08-04T09:30:00+01:00");
}

#[test]
fn a_candidate_pays_booking_carries_its_payment_url_at_the_top_level() {
    let booking: BookingDetail = round_trip(BOOKING_CANDIDATE_PAYS);
    assert_eq!(booking.pay_option, PayOption::CandidatePays);
    assert_eq!(booking.booking_status, BookingStatus::Pending);
    assert_eq!(
        booking.payment_url.as_deref(),
        Some("https://checkout.stripe.com/c/pay/cs_test_a1B2c3D4")
    );
}

#[test]
fn a_request_without_the_optional_fields_sends_none_of_them() {
    let minimal = r#"{
      "hold_hash": "Q8vTz2LmPa9RkWc4NbXy7HdJf3GsEu6K",
      "first_name": "Priya",
      "last_name": "Patel",
      "email": "priya.patel@carestaff.example",
      "pay_option": "inv"
    }"#;
    let request: CreateBookingRequest = round_trip(minimal);
    assert_eq!(request.pay_option, PayOption::Inv);
}

/// Checks that every field of a documented example is one its shape marks
/// documented, of the shape's type, and that no documented field the shape
/// expects in every answer is missing from it.
fn assert_documented(name: &str, example: &str, shape: Kind) {
    let example: Value = serde_json::from_str(example).unwrap();
    let off: Vec<_> = drift(&example, &shape)
        .into_iter()
        .filter(|drift| drift.source != Some(Source::Inferred))
        .collect();
    assert!(off.is_empty(), "{name}: {off:?}");
    let mut kept = example.clone();
    keep_documented(&mut kept, &shape);
    assert_eq!(kept, example, "{name}: every field shown is documented");
}

#[test]
fn the_documented_fields_are_the_published_examples_fields() {
    for (name, example, shape) in [
        ("training events", EVENTS_PAGE, Page::<TrainingEvent>::SHAPE),
        ("seat hold", HOLD, SeatHold::SHAPE),
        ("booking", BOOKING, BookingDetail::SHAPE),
        (
            "candidate pays",
            BOOKING_CANDIDATE_PAYS,
            BookingDetail::SHAPE,
        ),
        ("credits", CREDITS, CreditsResponse::SHAPE),
        ("timeslot hold", TIMESLOT_HOLD, TimeslotHold::SHAPE),
        ("virtual booking", VIRTUAL_BOOKING, VirtualBooking::SHAPE),
    ] {
        assert_documented(name, example, shape);
    }
    let unshown: Vec<String> = drift(
        &serde_json::from_str(VIRTUAL_BOOKING).unwrap(),
        &VirtualBooking::SHAPE,
    )
    .into_iter()
    .map(|drift| drift.field)
    .collect();
    assert_eq!(
        unshown,
        ["equipment_status", "training_status"],
        "the statuses no example shows"
    );
    assert_eq!(
        inferred_fields(&VirtualBooking::SHAPE),
        ["training_status", "equipment_status", "payment_url"]
    );
    assert!(inferred_fields(&BookingDetail::SHAPE).is_empty());
}

/// Reads `full` (an answer with every field the project reads) as `T` from
/// its documented fields alone, with both readers, which must agree; the
/// full answer must be read too.
fn read_documented<T>(full: Value) -> T
where
    T: Answer + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let name = std::any::type_name::<T>();
    serde_json::from_value::<T>(full.clone()).unwrap_or_else(|e| panic!("{name} in full: {e}"));
    let mut documented = full;
    keep_documented(&mut documented, &T::SHAPE);
    let text = documented.to_string();
    let by_servers: T =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} documented: {e}"));
    let by_widget: T = booking_core::json::from_str(&text)
        .unwrap_or_else(|_| panic!("{name}: the widget reads the documented fields"));
    assert_eq!(by_servers, by_widget, "{name}");
    by_servers
}

/// A page of `items`, as every list endpoint answers.
fn page(items: Value) -> Value {
    json!({
        "data": items,
        "meta": { "current_page": 1, "per_page": 20, "last_page": 1, "total": 1 },
        "links": { "next": null, "prev": null }
    })
}

#[test]
fn every_answer_is_read_from_its_documented_fields_alone() {
    let tokens: TokenPair = read_documented(json!({
        "access_token": "a", "refresh_token": "r", "token_type": "Bearer",
        "expires_in": 1800, "refresh_expires_in": 86400
    }));
    assert_eq!(
        (tokens.access_seconds(), tokens.refresh_seconds()),
        (3600, 604_800)
    );

    let profile: ClientProfile = read_documented(json!({
        "id": 1, "name": "North West Care", "email": "ops@nwc.example",
        "hb_client_id": "HB-00417", "invoice_payments": false, "booking_url": "https://x.example"
    }));
    assert_eq!(
        (profile.name.as_str(), profile.invoice_payments),
        ("", None)
    );

    let courses: Page<Course> = read_documented(page(json!([{
        "id": 2, "name": "Moving & Handling Practical", "description": "Hoists.",
        "duration_minutes": 420, "cost_inc_vat": 95, "requires_review": false
    }])));
    assert_eq!(courses.data[0].name, "Moving & Handling Practical");
    assert_eq!(courses.data[0].cost_inc_vat, None);

    let locations: Page<Location> = read_documented(page(json!([
        { "id": 5, "name": "Leeds", "address": "Unit 4, Aire Street, Leeds" }
    ])));
    assert_eq!(locations.data[0].address, "Unit 4, Aire Street, Leeds");

    let events: Value = serde_json::from_str(EVENTS_PAGE).unwrap();
    let listed: Page<TrainingEvent> = read_documented(events.clone());
    assert_eq!(listed.data[0].cost_inc_vat, Money(9500));
    let mut detail = events["data"][0].clone();
    detail["capacity"] = json!(12);
    detail["trainer"] = json!({ "id": 9, "name": "Megan Shaw" });
    let detail: TrainingEventDetail = read_documented(detail);
    assert_eq!((detail.capacity, detail.trainer), (None, None));

    let hold: SeatHold = read_documented(serde_json::from_str(HOLD).unwrap());
    assert_eq!(hold.expires_in_seconds, 1800);
    let conflict: HoldConflict = read_documented(json!({
        "message": "An active hold already exists.", "hold_hash": "h",
        "expires_at": "2026-07-20T14:45:00+00:00", "expires_in_seconds": 1500,
        "training_event": serde_json::from_str::<Value>(HOLD).unwrap()["training_event"]
    }));
    assert_eq!(conflict.hold_hash, None);

    let booking: BookingDetail =
        read_documented(serde_json::from_str(BOOKING_CANDIDATE_PAYS).unwrap());
    assert!(booking.payment_url.is_some(), "documented in the text");

    let credits: CreditsResponse = read_documented(serde_json::from_str(CREDITS).unwrap());
    assert_eq!(credits.credits_for(2), 6);

    let slot_hold: TimeslotHold = read_documented(serde_json::from_str(TIMESLOT_HOLD).unwrap());
    assert_eq!(slot_hold.slot.time, "14:00");
    let slot_conflict: TimeslotHoldConflict = read_documented(json!({
        "message": "An active hold already exists for this timeslot.",
        "hold_hash": "h", "expires_at": "2026-08-28T11:05:00+00:00", "expires_in_seconds": 1500,
        "slot": serde_json::from_str::<Value>(TIMESLOT_HOLD).unwrap()["slot"]
    }));
    assert_eq!(slot_conflict.slot, None);

    let slots: Page<Timeslot> = read_documented(page(json!([{
        "date": "2026-09-02", "time": "14:00",
        "course": { "id": 4, "name": "BLS Annual Update (Virtual)" },
        "start_date": "2026-09-02T14:00:00+01:00", "end_date": "2026-09-02T15:00:00+01:00",
        "remaining_slots": 2, "cost_inc_vat": 55
    }])));
    let slot = &slots.data[0];
    assert_eq!(
        (slot.end_date, slot.remaining_slots, slot.cost_inc_vat),
        (None, None, None)
    );
    assert_eq!(
        slot.start().map(|start| start.to_rfc3339()),
        Some("2026-09-02T14:00:00+01:00".to_owned()),
        "the start is its UK date and time"
    );
    assert!(slot.is_free());

    let mut virtual_booking: Value = serde_json::from_str(VIRTUAL_BOOKING).unwrap();
    virtual_booking["training_status"] = json!("scheduled");
    virtual_booking["equipment_status"] = json!("out");
    let full: VirtualBooking = serde_json::from_value(virtual_booking.clone()).unwrap();
    assert_eq!(full.training_status, Some(TrainingStatus::Scheduled));
    let bookings: Page<VirtualBooking> = read_documented(page(json!([virtual_booking])));
    assert_eq!(bookings.data[0].training_status, None);
    assert_eq!(bookings.data[0].equipment_status, None);
    assert_eq!(bookings.data[0].session.zoom_id, "845 112 9034");

    let error: ApiError = read_documented(json!({ "message": "Unauthenticated." }));
    assert_eq!(error.message, "");
    let invalid: ValidationError = read_documented(json!({
        "message": "The email field is required.", "errors": { "email": ["Required."] }
    }));
    assert!(invalid.errors.is_empty());
}
