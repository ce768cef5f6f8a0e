//! Decoding API payloads: the reference's example bodies, tolerated
//! variations, and hostile bodies, which must give an error, never a panic.

mod documented;

use booking_core::api::{
    decode, ApiError, Attendance, BookingDetail, BookingStatus, ClientProfile,
    CreateBookingRequest, CreditsResponse, HoldConflict, Money, Page, PayOption, PayStatus,
    SeatHold, TokenPair, TrainingEvent, ValidationError,
};
use documented::{BOOKING, BOOKING_REQUEST, CREDITS, EVENTS_PAGE, HOLD};
use proptest::prelude::*;
use serde_json::{json, Value};

const VALIDATION: &str = r#"{ "message": "The email field is required.", "errors": { "email": ["The email field is required."] } }"#;

const TOKENS: &str = r#"{
  "access_token": "eyJ0eXAiOiJKV1QiLCJhbGciOi...",
  "refresh_token": "rft_5mQ2nX8vB4cL7kP1",
  "token_type": "Bearer",
  "expires_in": 3600,
  "refresh_expires_in": 604800
}"#;

#[test]
fn reference_examples_decode() {
    let page: Page<TrainingEvent> = decode(EVENTS_PAGE.as_bytes()).unwrap();
    assert_eq!(page.data.len(), 1);
    assert_eq!(page.data[0].remaining_slots, 5);
    assert_eq!(page.meta.last_page, 2);

    let hold: SeatHold = decode(HOLD.as_bytes()).unwrap();
    assert_eq!(hold.expires_in_seconds, 1800);
    assert_eq!(hold.training_event.location, "Leeds");
    assert_eq!(hold.expires_at.offset().local_minus_utc(), 0);

    let request: CreateBookingRequest = decode(BOOKING_REQUEST.as_bytes()).unwrap();
    assert_eq!(request.pay_option, PayOption::Credits);
    assert_eq!(
        request.agency_email.as_deref(),
        Some("accounts@northwestcare.example")
    );
    // The request serialises back to the reference body.
    let round_trip: Value = serde_json::to_value(&request).unwrap();
    assert_eq!(
        round_trip,
        serde_json::from_str::<Value>(BOOKING_REQUEST).unwrap()
    );

    let booking: BookingDetail = decode(BOOKING.as_bytes()).unwrap();
    assert_eq!(booking.id, 102388);
    assert_eq!(booking.booking_status, BookingStatus::Booked);
    assert_eq!(booking.pay_status, PayStatus::Completed);
    assert_eq!(booking.attendance, None);
    assert_eq!(booking.status_label(), "booked (payment completed)");
    assert_eq!(booking.trainer.unwrap().name, "Megan Shaw");
    assert_eq!(booking.payment_url, None);
    let round_trip: Value =
        serde_json::to_value(decode::<BookingDetail>(BOOKING.as_bytes()).unwrap()).unwrap();
    assert_eq!(round_trip, serde_json::from_str::<Value>(BOOKING).unwrap());

    let credits: CreditsResponse = decode(CREDITS.as_bytes()).unwrap();
    assert_eq!(credits.booking_money_balance, Money(41250));
    assert_eq!(credits.credits_for(2), 6);

    let error: ValidationError = decode(VALIDATION.as_bytes()).unwrap();
    assert_eq!(error.errors["email"], vec!["The email field is required."]);

    let tokens: TokenPair = decode(TOKENS.as_bytes()).unwrap();
    assert_eq!(tokens.expires_in, Some(3600));

    let unauthenticated: ApiError = decode(br#"{ "message": "Unauthenticated." }"#).unwrap();
    assert_eq!(unauthenticated.message, "Unauthenticated.");
}

#[test]
fn tolerated_variations_decode() {
    // Unknown fields, unknown enum values, nulls where a default exists,
    // a payment URL, attendance recorded.
    let mut booking: Value = serde_json::from_str(BOOKING).unwrap();
    booking["booking_status"] = json!("waitlisted");
    booking["pay_status"] = json!("pending");
    booking["pay_option"] = json!("voucher");
    booking["attendance"] = json!("attended");
    booking["booked_by"] = Value::Null;
    booking["certificate_available"] = Value::Null;
    booking["trainer"] = Value::Null;
    booking["location"]["address"] = Value::Null;
    booking["payment_url"] = json!("https://checkout.stripe.com/c/pay/cs_test_1");
    booking["virtual"] = json!({ "zoom_id": "845 112 9034" });
    let decoded: BookingDetail = decode(booking.to_string().as_bytes()).unwrap();
    assert_eq!(
        decoded.booking_status,
        BookingStatus::Other("waitlisted".into())
    );
    assert_eq!(decoded.pay_option, PayOption::Other("voucher".into()));
    assert_eq!(decoded.status_label(), "waitlisted (payment pending)");
    let no_show = BookingDetail {
        booking_status: BookingStatus::NoShow,
        pay_status: PayStatus::Other("part_refunded".into()),
        ..decoded.clone()
    };
    assert_eq!(no_show.status_label(), "no show (payment part refunded)");
    assert_eq!(decoded.attendance, Some(Attendance::Attended));
    assert_eq!(decoded.booked_by, "");
    assert!(!decoded.certificate_available);
    assert_eq!(decoded.location.address, "");
    assert!(decoded.payment_url.is_some());

    let event_page: Value = serde_json::from_str(EVENTS_PAGE).unwrap();
    let mut page = event_page.clone();
    page["data"][0]["booking_url"] = Value::Null;
    page["data"][0]["trainer"] = json!({ "id": 1, "name": "X" });
    page.as_object_mut().unwrap().remove("links");
    let decoded: Page<TrainingEvent> = decode(page.to_string().as_bytes()).unwrap();
    assert_eq!(decoded.data[0].booking_url, "");
    assert_eq!(decoded.links.next, None);

    // "Z" for UTC is read too.
    let mut hold: Value = serde_json::from_str(HOLD).unwrap();
    hold["expires_at"] = json!("2026-07-20T14:45:00Z");
    let utc: SeatHold = decode(hold.to_string().as_bytes()).unwrap();
    assert_eq!(
        utc.expires_at,
        booking_core::api::parse_timestamp("2026-07-20T15:45:00+01:00").unwrap(),
        "the same instant as written with an offset"
    );

    // A 409 with the existing hold, and one with only a message.
    let conflict: HoldConflict = decode(
        br#"{"message":"An active hold already exists.","hold_hash":"Q8vTz2LmPa9RkWc4NbXy7HdJf3GsEu6K","expires_at":"2026-07-20T14:45:00+00:00","expires_in_seconds":1500,"training_event":{"id":41,"course":"M&H","location":"Leeds","start_date":"2026-08-04T09:30:00+01:00"}}"#,
    )
    .unwrap();
    assert_eq!(conflict.expires_in_seconds, Some(1500));
    let bare: HoldConflict = decode(br#"{"message":"An active hold already exists."}"#).unwrap();
    assert_eq!(bare.hold_hash, None);
    let empty: HoldConflict = decode(b"{}").unwrap();
    assert_eq!(empty.message, "");

    // 422 variants: single strings, nulls.
    let error: ValidationError = decode(br#"{"message":null,"errors":{"email":"Bad."}}"#).unwrap();
    assert_eq!(error.errors["email"], vec!["Bad."]);
    let error: ValidationError = decode(br#"{"message":"Full.","errors":null}"#).unwrap();
    assert!(error.errors.is_empty());

    let profile: ClientProfile = decode(
        br#"{"id":1,"name":"North West Care","hb_client_id":"HB-00417","invoice_payments":null}"#,
    )
    .unwrap();
    assert_eq!(profile.invoice_payments, None, "not said");
}

/// Replaces the value at a JSON pointer in a body.
fn with(body: &str, pointer: &str, value: Value) -> String {
    let mut json: Value = serde_json::from_str(body).unwrap();
    *json.pointer_mut(pointer).unwrap() = value;
    json.to_string()
}

/// Removes the field at a JSON pointer in a body.
fn without(body: &str, parent: &str, field: &str) -> String {
    let mut json: Value = serde_json::from_str(body).unwrap();
    json.pointer_mut(parent)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove(field);
    json.to_string()
}

#[test]
fn hostile_bodies_are_errors() {
    let events: Vec<(&str, String)> = vec![
        ("empty body", String::new()),
        ("not json", "<html>502 Bad Gateway</html>".into()),
        ("truncated", EVENTS_PAGE[..EVENTS_PAGE.len() / 2].into()),
        ("null body", "null".into()),
        ("array body", "[]".into()),
        ("byte order mark", format!("\u{feff}{EVENTS_PAGE}")),
        ("missing data", without(EVENTS_PAGE, "", "data")),
        ("missing meta", without(EVENTS_PAGE, "", "meta")),
        ("missing id", without(EVENTS_PAGE, "/data/0", "id")),
        (
            "missing start",
            without(EVENTS_PAGE, "/data/0", "start_date"),
        ),
        ("missing course", without(EVENTS_PAGE, "/data/0", "course")),
        ("null id", with(EVENTS_PAGE, "/data/0/id", Value::Null)),
        ("null data", with(EVENTS_PAGE, "/data", Value::Null)),
        (
            "null seats",
            with(EVENTS_PAGE, "/data/0/remaining_slots", Value::Null),
        ),
        ("string id", with(EVENTS_PAGE, "/data/0/id", json!("41"))),
        ("negative id", with(EVENTS_PAGE, "/data/0/id", json!(-41))),
        (
            "fractional seats",
            with(EVENTS_PAGE, "/data/0/remaining_slots", json!(2.5)),
        ),
        (
            "negative seats",
            with(EVENTS_PAGE, "/data/0/remaining_slots", json!(-1)),
        ),
        (
            "seats beyond u32",
            with(
                EVENTS_PAGE,
                "/data/0/remaining_slots",
                json!(4_294_967_296u64),
            ),
        ),
        (
            "price as text",
            with(EVENTS_PAGE, "/data/0/cost_inc_vat", json!("95")),
        ),
        (
            "price too large",
            with(EVENTS_PAGE, "/data/0/cost_inc_vat", json!(1e300)),
        ),
        (
            "price overflowing f64",
            EVENTS_PAGE.replace("\"cost_inc_vat\": 95", "\"cost_inc_vat\": 1e400"),
        ),
        (
            "date without offset",
            with(
                EVENTS_PAGE,
                "/data/0/start_date",
                json!("2026-08-04T09:30:00"),
            ),
        ),
        (
            "date only",
            with(EVENTS_PAGE, "/data/0/start_date", json!("2026-08-04")),
        ),
        (
            "impossible date",
            with(
                EVENTS_PAGE,
                "/data/0/start_date",
                json!("2026-02-30T09:30:00+00:00"),
            ),
        ),
        (
            "offset out of range",
            with(
                EVENTS_PAGE,
                "/data/0/start_date",
                json!("2026-08-04T09:30:00+25:00"),
            ),
        ),
        (
            "date as number",
            with(EVENTS_PAGE, "/data/0/start_date", json!(1_785_000_000)),
        ),
        (
            "course as string",
            with(EVENTS_PAGE, "/data/0/course", json!("Moving & Handling")),
        ),
        (
            "data as object",
            with(EVENTS_PAGE, "/data", json!({ "0": {} })),
        ),
        (
            "page number negative",
            with(EVENTS_PAGE, "/meta/current_page", json!(-1)),
        ),
    ];
    for (what, body) in events {
        let result = decode::<Page<TrainingEvent>>(body.as_bytes());
        assert!(result.is_err(), "{what} decoded: {result:?}");
    }
    let others: Vec<(&str, Result<(), String>)> = vec![
        (
            "hold without hash",
            check::<SeatHold>(&without(HOLD, "", "hold_hash")),
        ),
        (
            "hold seconds as text",
            check::<SeatHold>(&with(HOLD, "/expires_in_seconds", json!("1800"))),
        ),
        (
            "hold event as object course",
            check::<SeatHold>(&with(HOLD, "/training_event/course", json!({"id": 2}))),
        ),
        (
            "booking status number",
            check::<BookingDetail>(&with(BOOKING, "/booking_status", json!(1))),
        ),
        (
            "booking status null",
            check::<BookingDetail>(&with(BOOKING, "/booking_status", Value::Null)),
        ),
        (
            "booking without candidate",
            check::<BookingDetail>(&without(BOOKING, "", "candidate")),
        ),
        (
            "attendance as bool",
            check::<BookingDetail>(&with(BOOKING, "/attendance", json!(true))),
        ),
        (
            "credits negative",
            check::<CreditsResponse>(&with(CREDITS, "/booking_credits/0/credits", json!(-6))),
        ),
        (
            "balance as text",
            check::<CreditsResponse>(&with(CREDITS, "/booking_money_balance", json!("412.50"))),
        ),
        (
            "errors as list",
            check::<ValidationError>(r#"{"message":"x","errors":["email"]}"#),
        ),
        (
            "errors with numbers",
            check::<ValidationError>(r#"{"message":"x","errors":{"email":[1]}}"#),
        ),
        (
            "token without refresh",
            check::<TokenPair>(&without(TOKENS, "", "refresh_token")),
        ),
    ];
    for (what, result) in others {
        assert!(result.is_err(), "{what} decoded");
    }
}

fn check<T: serde::de::DeserializeOwned>(body: &str) -> Result<(), String> {
    decode::<T>(body.as_bytes())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[test]
fn huge_and_deep_bodies_are_handled() {
    // Deep nesting stops at serde_json's recursion limit instead of
    // overflowing the stack.
    let deep = format!(
        "{{\"data\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert!(decode::<Page<TrainingEvent>>(deep.as_bytes()).is_err());
    let error = decode::<Value>(deep.as_bytes()).unwrap_err();
    assert!(error.detail.contains("recursion limit"), "{}", error.detail);

    // A huge array of junk is an error.
    let junk = format!(
        "{{\"data\":[{}],\"meta\":{{\"current_page\":1,\"per_page\":20,\"last_page\":1,\"total\":1}}}}",
        vec!["1"; 200_000].join(",")
    );
    assert!(decode::<Page<TrainingEvent>>(junk.as_bytes()).is_err());

    // A huge array of real events decodes (the calendar handles thousands).
    let event: Value = serde_json::from_str::<Value>(EVENTS_PAGE).unwrap()["data"][0].clone();
    let many = json!({
        "data": vec![event; 20_000],
        "meta": { "current_page": 1, "per_page": 20000, "last_page": 1, "total": 20000 },
        "links": { "next": null, "prev": null }
    });
    let page: Page<TrainingEvent> = decode(many.to_string().as_bytes()).unwrap();
    assert_eq!(page.data.len(), 20_000);

    // A very long string is just a string.
    let long_name = with(
        EVENTS_PAGE,
        "/data/0/location/name",
        json!("L".repeat(1_000_000)),
    );
    let long: Page<TrainingEvent> = decode(long_name.as_bytes()).unwrap();
    assert_eq!(long.data[0].location.name.len(), 1_000_000);
}

/// Any JSON value, a few levels deep, with the API's field names likely.
fn any_json() -> impl Strategy<Value = Value> {
    let names = prop_oneof![
        Just("id".to_owned()),
        Just("data".to_owned()),
        Just("meta".to_owned()),
        Just("start_date".to_owned()),
        Just("remaining_slots".to_owned()),
        Just("cost_inc_vat".to_owned()),
        Just("hold_hash".to_owned()),
        Just("errors".to_owned()),
        Just("message".to_owned()),
        "[a-z_]{1,12}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        ".{0,20}".prop_map(Value::String),
        Just(json!("2026-08-04T09:30:00+01:00")),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(names.clone(), inner, 0..10)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Decodes a body as every payload type; the results do not matter, only
/// that nothing panics.
fn decode_as_everything(body: &[u8]) {
    let _ = decode::<Page<TrainingEvent>>(body);
    let _ = decode::<SeatHold>(body);
    let _ = decode::<HoldConflict>(body);
    let _ = decode::<BookingDetail>(body);
    let _ = decode::<CreditsResponse>(body);
    let _ = decode::<ValidationError>(body);
    let _ = decode::<ClientProfile>(body);
    let _ = decode::<TokenPair>(body);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Random JSON, and random mutations of the reference bodies, never
    /// make a decoder panic.
    #[test]
    fn random_json_never_panics(value in any_json()) {
        decode_as_everything(value.to_string().as_bytes());
    }

    #[test]
    fn mutated_reference_bodies_never_panic(
        body in prop_oneof![Just(EVENTS_PAGE), Just(HOLD), Just(BOOKING), Just(CREDITS), Just(VALIDATION)],
        cut in 0usize..2000,
        splice in prop::collection::vec(any::<u8>(), 0..16),
    ) {
        let mut bytes = body.as_bytes().to_vec();
        let at = cut.min(bytes.len());
        bytes.splice(at..at, splice);
        decode_as_everything(&bytes);
    }

    #[test]
    fn fields_replaced_by_anything_never_panic(
        field in prop_oneof![
            Just("/data/0/id"), Just("/data/0/start_date"), Just("/data/0/remaining_slots"),
            Just("/data/0/cost_inc_vat"), Just("/data/0/course"), Just("/data/0/location"),
            Just("/meta"), Just("/links"),
        ],
        value in any_json(),
    ) {
        let body = with(EVENTS_PAGE, field, value);
        let _ = decode::<Page<TrainingEvent>>(body.as_bytes());
    }
}
