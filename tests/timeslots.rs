//! Browser tests of Virtual BLS in the widget: the product attribute and the
//! product choice, the timeslot calendar (a month grid of days with free
//! times from one read, full-date names, the roving tab stop and arrow keys,
//! then the day's times), holding a time, the kit's address, and the
//! confirmation with the Zoom session. The widget is mounted in headless
//! Chromium over an in-memory gateway. Run with `wasm-pack test --headless
//! --chrome`.
#![cfg(target_arch = "wasm32")]

mod support;

use booking_core::product::Product;
use booking_core::uk_time::full_date;
use booking_widget::config::WidgetConfig;
use support::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn bls_config() -> WidgetConfig {
    WidgetConfig {
        products: vec![Product::VirtualBls],
        ..WidgetConfig::default()
    }
}

/// A Virtual BLS widget on its timeslot calendar.
async fn on_the_calendar() -> Mounted {
    let widget = mount_with(FakeGateway::new(), bls_config()).await;
    assert_eq!(widget.heading(), "Choose a course");
    assert!(widget.text().contains("Step 1 of 5"), "{}", widget.text());
    widget.click("BLS Annual Update").await;
    assert_eq!(widget.heading(), "Choose a date and time");
    assert!(widget.text().contains("Step 2 of 5"), "no location step");
    widget
}

#[wasm_bindgen_test]
async fn a_failed_read_of_the_times_explains_and_retries() {
    let gateway = FakeGateway::new();
    gateway
        .timeslots
        .borrow_mut()
        .push_back(Err(status(503, "The booking service is busy.")));
    let widget = mount_with(gateway, bls_config()).await;
    widget.click("BLS Annual Update").await;
    assert_eq!(widget.heading(), "Choose a date and time");
    assert!(widget.text().contains("The booking service is busy."));
    assert!(widget.all(".hbg-grid button").is_empty());
    widget.click("Try again").await;
    let first = slot(5, 9, 0, 2).start().unwrap().date_naive();
    assert_eq!(
        widget
            .all(&format!(".hbg-grid button[data-date='{first}']"))
            .len(),
        1
    );
    assert_eq!(widget.gateway.calls_to("timeslots").len(), 2);
}

#[wasm_bindgen_test]
async fn the_calendar_shows_days_with_free_times_from_one_read() {
    let widget = on_the_calendar().await;
    assert_eq!(widget.gateway.calls_to("options"), ["options virtual-bls"]);
    assert_eq!(widget.gateway.calls_to("courses"), ["courses virtual-bls"]);
    let reads = widget.gateway.calls_to("timeslots");
    assert_eq!(reads.len(), 1, "{reads:?}");
    assert!(widget.gateway.calls_to("events").is_empty());
    let first = slot(5, 9, 0, 2);
    let date = first.start().unwrap().date_naive();
    let day = widget.one(&format!(".hbg-grid button[data-date='{date}']"));
    assert_eq!(
        day.get_attribute("aria-label").unwrap(),
        format!("{}, 2 times", full_date(date))
    );
    assert!(day.get_attribute("aria-disabled").is_none());
    let taken = slot(7, 9, 0, 0).start().unwrap().date_naive();
    let no_trainer = widget.all(&format!(".hbg-grid button[data-date='{taken}']"));
    if let Some(no_trainer) = no_trainer.first() {
        assert_eq!(
            no_trainer.get_attribute("aria-label").unwrap(),
            format!("{}, no times", full_date(taken)),
            "a time with no trainer free is not offered"
        );
        assert_eq!(
            no_trainer.get_attribute("aria-disabled").as_deref(),
            Some("true")
        );
    }
    let tab_stops = widget
        .all(".hbg-grid button")
        .into_iter()
        .filter(|day| day.get_attribute("tabindex").as_deref() == Some("0"))
        .count();
    assert_eq!(tab_stops, 1, "roving tabindex: one day in the tab order");
    // The first day with times is selected: its times are listed.
    let times: Vec<String> = widget
        .all("button.hbg-choice")
        .into_iter()
        .map(|button| button.text_content().unwrap_or_default())
        .collect();
    assert_eq!(times.len(), 2, "{times:?}");
    assert!(times[0].starts_with(&full_date(date)), "{}", times[0]);
    assert!(times[0].contains("09:00 to 10:00"), "{}", times[0]);
    assert!(times[1].contains("13:30 to 14:30"), "{}", times[1]);
    assert!(times[0].contains("£55"));
    // Another day: its times, with no new request.
    let next = slot(6, 10, 30, 1).start().unwrap().date_naive();
    widget
        .one(&format!(".hbg-grid button[data-date='{next}']"))
        .click();
    settle().await;
    assert!(widget.text().contains(&full_date(next)));
    assert!(widget.has_button("10:30 to 11:30"));
    assert_eq!(widget.gateway.calls_to("timeslots").len(), 1);
}

#[wasm_bindgen_test]
async fn arrow_keys_move_through_the_days_and_months_change_without_requests() {
    let widget = on_the_calendar().await;
    let start = widget
        .all(".hbg-grid button")
        .into_iter()
        .find(|day| day.get_attribute("tabindex").as_deref() == Some("0"))
        .unwrap();
    let date: chrono::NaiveDate = start.get_attribute("data-date").unwrap().parse().unwrap();
    start.focus().unwrap();
    widget.press(&start, "ArrowDown").await;
    let moved = widget.focused().expect("focus stays in the grid");
    assert_eq!(
        moved.get_attribute("data-date"),
        Some((date + chrono::Duration::days(7)).to_string())
    );
    // The slot 36 days ahead is always in a later month than the first
    // (31 days later at least): "Next month" shows it.
    let later = slot(36, 9, 0, 2).start().unwrap().date_naive();
    widget.click("Next").await;
    let day = widget.one(&format!(".hbg-grid button[data-date='{later}']"));
    assert_eq!(
        day.get_attribute("aria-label").unwrap(),
        format!("{}, 1 time", full_date(later))
    );
    assert_eq!(widget.gateway.calls_to("timeslots").len(), 1);
}

#[wasm_bindgen_test]
async fn a_time_is_held_the_kit_address_is_checked_and_zoom_is_confirmed() {
    let widget = on_the_calendar().await;
    widget.choose_event("09:00 to 10:00").await;
    let first = slot(5, 9, 0, 2);
    assert_eq!(
        widget.gateway.calls_to("hold-slot"),
        [format!("hold-slot {} 09:00", first.date)]
    );
    assert_eq!(widget.heading(), "Your details");
    assert!(widget.text().contains("Online, over Zoom"));
    assert!(widget.text().contains("We post a training kit"));
    assert!(
        !widget.all("label").iter().any(|label| label
            .text_content()
            .unwrap_or_default()
            .starts_with("Job role")),
        "Virtual BLS asks for no job role"
    );
    widget.type_into("First name", "Owen").await;
    widget.type_into("Last name", "Hughes").await;
    widget.type_into("Email address", "owen@example.com").await;
    widget.type_into("Address line", "4 Mill Lane").await;
    widget.type_into("Town or city", "Leeds").await;
    widget.type_into("Postcode", "LS1").await;
    widget.click("Continue").await;
    assert_eq!(widget.heading(), "Your details");
    assert!(widget
        .text()
        .contains("Enter a real UK postcode, like LS1 4AP"));
    assert_eq!(
        widget
            .field("Postcode")
            .get_attribute("autocomplete")
            .as_deref(),
        Some("postal-code")
    );
    widget.type_into("Postcode", "ls1 4ap").await;
    widget.click("Continue").await;
    assert_eq!(widget.heading(), "How the booking is paid for");
    widget.choose_pay_option("credits").await;
    widget.click("Confirm booking").await;
    assert_eq!(widget.heading(), "Booking confirmed");
    let text = widget.text();
    for shown in [
        "https://zoom.us/j/8451129034",
        "Meeting ID 845 112 9034",
        "Password k7Tq2w",
        "Training kit",
        "7731",
    ] {
        assert!(text.contains(shown), "{shown} in {text}");
    }
    assert!(widget.has_button("Add to calendar"));
    let events = widget.events.borrow().clone();
    let held = events
        .iter()
        .find(|event| event.starts_with("hbg:hold-created"))
        .expect("hold-created");
    assert!(
        held.contains(r#""product":"virtual-bls""#)
            && held.contains(&format!(r#""date":"{}""#, first.date)),
        "{held}"
    );
    assert!(!held.contains("event_id"), "{held}");
}

#[wasm_bindgen_test]
async fn a_page_offering_both_products_asks_which_first() {
    let config = WidgetConfig {
        products: vec![Product::Practical, Product::VirtualBls],
        ..WidgetConfig::default()
    };
    let widget = mount_with(FakeGateway::new(), config).await;
    assert_eq!(widget.heading(), "Choose the training");
    assert!(
        widget.gateway.calls_to("options").is_empty(),
        "nothing loads before the choice"
    );
    assert!(widget.has_button("Practical training at a venue"));
    widget.click("Virtual Basic Life Support").await;
    assert_eq!(widget.heading(), "Choose a course");
    assert_eq!(widget.gateway.calls_to("options"), ["options virtual-bls"]);
    assert!(widget.has_button("BLS Annual Update"));
}

#[wasm_bindgen_test]
async fn a_time_listed_by_its_date_and_time_alone_is_booked_without_blanks() {
    let gateway = FakeGateway::new();
    for listed in gateway.slots.borrow_mut().iter_mut() {
        listed.start_date = None;
        listed.end_date = None;
        listed.remaining_slots = None;
        listed.cost_inc_vat = None;
    }
    let widget = mount_with(gateway, bls_config()).await;
    widget.click("BLS Annual Update").await;
    assert_eq!(widget.heading(), "Choose a date and time");
    let times: Vec<String> = widget
        .all("button.hbg-choice")
        .into_iter()
        .map(|button| button.text_content().unwrap_or_default())
        .collect();
    assert_eq!(times.len(), 2, "{times:?}");
    assert!(
        times[0].contains("09:00 GMT") || times[0].contains("09:00 BST"),
        "{}",
        times[0]
    );
    assert!(
        times
            .iter()
            .all(|time| !time.contains(" to ") && !time.contains('£')),
        "no end nor price where the list says none: {times:?}"
    );
    widget.choose_event("09:00").await;
    assert_eq!(widget.heading(), "Your details");
    assert!(!widget.text().contains("Price"), "{}", widget.text());
    widget.type_into("First name", "Owen").await;
    widget.type_into("Last name", "Hughes").await;
    widget.type_into("Email address", "owen@example.com").await;
    widget.type_into("Address line", "4 Mill Lane").await;
    widget.type_into("Town or city", "Leeds").await;
    widget.type_into("Postcode", "LS1 4AP").await;
    widget.click("Continue").await;
    assert_eq!(widget.heading(), "How the booking is paid for");
    widget.choose_pay_option("candidate_pays").await;
    widget.click("Confirm booking").await;
    assert_eq!(widget.heading(), "Complete the payment");
    let text = widget.text();
    assert!(
        text.contains("The link to the payment page is emailed to you"),
        "{text}"
    );
    for blank in ["undefined", "None", "null", "NaN"] {
        assert!(!text.contains(blank), "{blank} in {text}");
    }
}
