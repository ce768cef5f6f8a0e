//! The host event names are written once, in `HostEvent::NAMES`: every
//! variant's name is there, and the scripts that forward or listen to the
//! events (the iframe's `embed.js`, the host page's `frame.js`, the demo
//! agency page's `agency.js`, and the end-to-end tests' listener) list
//! exactly those names.

use std::path::Path;

use booking_core::api::{BookingStatus, PayOption, PayStatus};
use booking_core::flow::{HostEvent, Place};
use booking_core::product::Product;
use chrono::DateTime;

/// One event of each kind, in the order of the variants.
fn one_of_each() -> Vec<HostEvent> {
    let start = DateTime::parse_from_rfc3339("2026-08-04T09:30:00+01:00").unwrap();
    vec![
        HostEvent::Ready {
            product: Product::Practical,
        },
        HostEvent::CourseChosen {
            product: Product::Practical,
            course_id: 2,
        },
        HostEvent::LocationChosen { location_id: None },
        HostEvent::EventChosen {
            place: Place::Event(41),
            start,
        },
        HostEvent::HoldCreated {
            place: Place::Event(41),
            hold_expires_at: None,
            expires_in_seconds: 1800,
        },
        HostEvent::HoldExpiring {
            place: Place::Event(41),
            minutes_left: 5,
        },
        HostEvent::HoldExpired {
            place: Place::Event(41),
        },
        HostEvent::SubmitStarted {
            place: Place::Event(41),
            pay_option: PayOption::Credits,
        },
        HostEvent::PaymentRedirect {
            product: Product::Practical,
            booking_id: 9001,
        },
        HostEvent::BookingCreated {
            product: Product::Practical,
            booking_id: 9001,
            booking_status: BookingStatus::Booked,
            pay_status: PayStatus::Completed,
        },
        HostEvent::BookingConfirmed {
            product: Product::Practical,
            booking_id: 9001,
            manage_url: None,
        },
        HostEvent::Error {
            code: "hold_failed",
            message: "We could not hold your seat. Check your connection and try again",
        },
    ]
}

#[test]
fn details_name_the_product_and_the_event_or_the_slot() {
    let start = DateTime::parse_from_rfc3339("2026-09-02T14:00:00+01:00").unwrap();
    let practical = HostEvent::EventChosen {
        place: Place::Event(41),
        start,
    };
    assert_eq!(
        practical.detail_json(),
        r#"{"product":"practical","event_id":41,"start":"2026-09-02T14:00:00+01:00"}"#
    );
    let slot = Place::Slot {
        course_id: 41,
        date: "2026-09-02".into(),
        time: "14:00".into(),
    };
    let held = HostEvent::HoldCreated {
        place: slot.clone(),
        hold_expires_at: None,
        expires_in_seconds: 1800,
    };
    assert_eq!(
        held.detail_json(),
        r#"{"product":"virtual-bls","course_id":41,"date":"2026-09-02","time":"14:00","hold_expires_at":null,"expires_in_seconds":1800}"#
    );
    assert!(!HostEvent::SubmitStarted {
        place: slot,
        pay_option: PayOption::Inv,
    }
    .detail_json()
    .contains("event_id"));
    assert_eq!(
        HostEvent::BookingConfirmed {
            product: Product::VirtualBls,
            booking_id: 7731,
            manage_url: None,
        }
        .detail_json(),
        r#"{"product":"virtual-bls","booking_id":7731}"#
    );
    assert_eq!(
        HostEvent::BookingConfirmed {
            product: Product::Practical,
            booking_id: 9001,
            manage_url: Some("https://agency.example/book?hbg-booking=pt.9001.1.2.T".into()),
        }
        .detail_json(),
        r#"{"product":"practical","booking_id":9001,"manage_url":"https://agency.example/book?hbg-booking=pt.9001.1.2.T"}"#
    );
}

#[test]
fn every_variant_is_named_in_the_list() {
    let names: Vec<&str> = one_of_each().iter().map(HostEvent::name).collect();
    assert_eq!(names, HostEvent::NAMES);
}

/// The strings of the array literal that follows `const {name}` in a script.
fn listed_events(script: &str, name: &str) -> Vec<String> {
    let declared = script
        .find(&format!("const {name} "))
        .unwrap_or_else(|| panic!("the script declares `const {name}`"));
    let rest = &script[declared..];
    let open = rest.find('[').expect("EVENTS is an array literal");
    let close = open + rest[open..].find(']').expect("the array literal ends");
    rest[open + 1..close]
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_scripts_list_exactly_the_host_events() {
    let expected: Vec<&str> = HostEvent::NAMES
        .iter()
        .map(|name| name.strip_prefix("hbg:").expect("names start with hbg:"))
        .collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for script in ["src/embed.js", "src/frame.js", "embed/agency.js"] {
        let text = std::fs::read_to_string(root.join(script))
            .unwrap_or_else(|error| panic!("{script}: {error}"));
        assert_eq!(listed_events(&text, "EVENTS"), expected, "{script}");
    }
    let listener = "e2e/support/embed.ts";
    let text = std::fs::read_to_string(root.join(listener))
        .unwrap_or_else(|error| panic!("{listener}: {error}"));
    assert_eq!(
        listed_events(&text, "EVENT_NAMES"),
        HostEvent::NAMES,
        "{listener}"
    );
}

#[test]
fn the_list_is_read_from_the_array_literal() {
    let script = r#"const EVENTS = new Set(
  [
    "ready",
    "error",
  ].map((name) => `hbg:${name}`),
);"#;
    assert_eq!(listed_events(script, "EVENTS"), vec!["ready", "error"]);
}
