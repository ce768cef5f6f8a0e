//! The wire types pinned to the published documents of the Practical Training
//! API (section 6.1 of the contract reference): each documented example is
//! decoded, encoded again, and must come back with exactly its keys and
//! values. Decoding goes through both readers the project uses: `serde_json`
//! (the servers) and `booking_core::json` (the widget).

use std::collections::BTreeSet;

use booking_core::api::{BookingDetail, BookingStatus, CreateBookingRequest, PayOption, PayStatus};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

mod documented;
use documented::{BOOKING, BOOKING_REQUEST};

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
