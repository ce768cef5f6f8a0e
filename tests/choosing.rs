//! Browser tests of the first steps: the course list, the locations, the
//! calendar's date grid and list, and the host page's preselection.
//! The widget is mounted in headless Chromium over an in-memory gateway and
//! driven as a candidate would. Run with `wasm-pack test --headless --chrome`.
#![cfg(target_arch = "wasm32")]

mod support;

use booking_core::uk_time::{bst_ends, bst_starts, full_date, to_uk, uk_local, zone_label};
use booking_widget::config::{Prefill, WidgetConfig};
use chrono::Datelike;
use support::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn first_step_shows_its_heading() {
    let widget = mount(FakeGateway::new()).await;
    assert_eq!(widget.heading(), "Choose a course");
}

#[wasm_bindgen_test]
async fn courses_are_listed_with_prices_and_api_strings_stay_text() {
    let widget = mount(FakeGateway::new()).await;
    let course = widget.button("Moving & Handling Practical");
    assert!(course.text_content().unwrap().contains("£95 per place"));
    let hostile = widget.button("PMVA");
    assert!(hostile
        .text_content()
        .unwrap()
        .contains("<img src=x onerror=alert(1)>"));
    assert!(
        widget.all("img").is_empty(),
        "an API string never becomes markup"
    );
    assert_eq!(
        widget.gateway.calls_to("options").len(),
        1,
        "one options call"
    );
}

#[wasm_bindgen_test]
async fn a_failed_load_explains_and_retries() {
    let gateway = FakeGateway::new();
    gateway
        .courses
        .borrow_mut()
        .push_back(Err(booking_widget::api::ApiError::Network));
    let widget = mount(gateway).await;
    assert!(widget
        .text()
        .contains("We could not reach the booking service"));
    widget.click("Try again").await;
    assert!(widget.has_button("Moving & Handling Practical"));
    assert_eq!(widget.gateway.calls_to("courses").len(), 2);
}

#[wasm_bindgen_test]
async fn a_failed_read_of_the_dates_explains_and_retries() {
    let gateway = FakeGateway::new();
    gateway
        .training_events
        .borrow_mut()
        .push_back(Err(booking_widget::api::ApiError::Network));
    let widget = mount(gateway).await;
    widget.click("Moving & Handling").await;
    assert_eq!(widget.heading(), "Choose a location");
    assert!(widget
        .text()
        .contains("We could not reach the booking service"));
    widget.click("Try again").await;
    assert!(widget.has_button("Leeds"));
    assert_eq!(widget.gateway.calls_to("events"), ["events 2", "events 2"]);
}

#[wasm_bindgen_test]
async fn locations_come_from_the_course_events() {
    let widget = mount(FakeGateway::new()).await;
    widget.click("Moving & Handling").await;
    assert_eq!(widget.heading(), "Choose a location");
    assert!(widget.has_button("Any location"));
    let leeds = widget.button("Leeds").text_content().unwrap();
    assert!(
        leeds.contains("1 date"),
        "the full event does not count: {leeds}"
    );
    assert!(widget.has_button("York"));
    assert_eq!(widget.gateway.calls_to("events").len(), 1);
}

#[wasm_bindgen_test]
async fn calendar_labels_days_with_full_dates_and_switches_without_requests() {
    let widget = mount(FakeGateway::new()).await;
    widget.click("Moving & Handling").await;
    widget.click("Any location").await;
    assert_eq!(widget.heading(), "Choose a date and time");
    let first = event(41, 3, 5, 4);
    let date = first.start_date.date_naive();
    let day = widget
        .all(".hbg-grid button")
        .into_iter()
        .find(|day| day.get_attribute("aria-disabled").is_none())
        .expect("a day with events");
    assert_eq!(day.get_attribute("data-date"), Some(date.to_string()));
    assert_eq!(
        day.get_attribute("aria-label").unwrap(),
        format!("{}, 2 events, 6 seats", full_date(date)),
        "the first day with events says its full date, events and seats"
    );
    let tab_stops = widget
        .all(".hbg-grid button")
        .into_iter()
        .filter(|day| day.get_attribute("tabindex").as_deref() == Some("0"))
        .count();
    assert_eq!(tab_stops, 1, "roving tabindex: one day in the tab order");

    widget.click("List").await;
    let zone = zone_label(*first.start_date.offset());
    let leeds = format!("09:30 to 16:30 {zone}, Leeds, 4 seats left");
    let york = format!("09:30 to 16:30 {zone}, York, 2 seats left");
    assert!(widget.text().contains(&leeds), "{leeds} listed");
    assert!(widget.text().contains(&york), "{york} listed");
    let select: web_sys::HtmlSelectElement = widget.one("select").unchecked_into();
    select.set_value("6");
    select
        .dispatch_event(&web_sys::Event::new("change").unwrap())
        .unwrap();
    settle().await;
    assert!(
        !widget.text().contains(&leeds),
        "York's list leaves out Leeds"
    );
    assert!(widget.text().contains(&york), "{york} still listed");
    assert_eq!(
        widget.gateway.calls_to("events").len(),
        1,
        "switching location or view makes no request"
    );
}

#[wasm_bindgen_test]
async fn arrow_keys_move_focus_through_the_grid() {
    let widget = mount(FakeGateway::new()).await;
    widget.click("Moving & Handling").await;
    widget.click("Any location").await;
    let start = widget
        .all(".hbg-grid button")
        .into_iter()
        .find(|day| day.get_attribute("tabindex").as_deref() == Some("0"))
        .unwrap();
    let date = start.get_attribute("data-date").unwrap();
    start.focus().unwrap();
    widget.press(&start, "ArrowRight").await;
    let moved = widget.focused().expect("something has focus");
    let next =
        chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d").unwrap() + chrono::Duration::days(1);
    assert_eq!(
        moved.get_attribute("data-date"),
        Some(next.to_string()),
        "ArrowRight moves to the next day"
    );
    assert_eq!(moved.get_attribute("tabindex").as_deref(), Some("0"));
}

#[wasm_bindgen_test]
async fn page_down_carries_focus_into_the_next_month() {
    let widget = mount(FakeGateway::new()).await;
    widget.click("Moving & Handling").await;
    widget.click("Any location").await;
    let start = widget
        .all(".hbg-grid button")
        .into_iter()
        .find(|day| day.get_attribute("tabindex").as_deref() == Some("0"))
        .unwrap();
    let date = start.get_attribute("data-date").unwrap();
    start.focus().unwrap();
    widget.press(&start, "PageDown").await;
    let expected = booking_core::calendar::GridKey::NextMonth.moved(date.parse().unwrap());
    let focused = widget.focused().expect("focus stays in the grid");
    assert_eq!(
        focused.get_attribute("data-date"),
        Some(expected.to_string())
    );
    assert!(
        widget.root.contains(Some(&focused)),
        "focus is on a day of the widget, not the page"
    );
}

#[wasm_bindgen_test]
async fn preselection_and_prefill_from_the_host_page() {
    let config = WidgetConfig {
        course: Some(COURSE),
        location: Some(5),
        prefill: Prefill {
            first_name: "Sam".into(),
            email: "sam@example.com".into(),
            ..Prefill::default()
        },
        ..WidgetConfig::default()
    };
    let widget = mount_with(FakeGateway::new(), config).await;
    assert_eq!(widget.heading(), "Choose a date and time");
    widget.choose_event("09:30 to 16:30").await;
    assert_eq!(widget.field("First name").value(), "Sam");
    assert_eq!(widget.field("Email address").value(), "sam@example.com");
}

#[wasm_bindgen_test]
async fn an_event_across_a_clock_change_names_both_zones_on_its_first_day() {
    let soon = now() + chrono::Duration::days(2);
    let change = [soon.year(), soon.year() + 1]
        .into_iter()
        .flat_map(|year| [bst_starts(year), bst_ends(year)])
        .flatten()
        .filter(|change| *change > soon)
        .min()
        .expect("a clock change ahead");
    let last_day = to_uk(change).date_naive();
    let first_day = last_day.pred_opt().unwrap();
    let mut across = event(51, 0, 5, 5);
    across.start_date = uk_local(first_day, 9, 30).unwrap();
    across.end_date = uk_local(last_day, 16, 30).unwrap();
    let gateway = FakeGateway::new();
    *gateway.timetable.borrow_mut() = vec![across.clone()];
    let widget = mount(gateway).await;
    widget.click("Moving & Handling").await;
    widget.click("Any location").await;

    let day = |date: chrono::NaiveDate| {
        widget
            .one(&format!(".hbg-grid button[data-date='{date}']"))
            .get_attribute("aria-label")
            .unwrap()
    };
    assert_eq!(
        day(first_day),
        format!("{}, 1 event, 5 seats", full_date(first_day))
    );
    assert_eq!(
        day(last_day),
        format!("{}, no events", full_date(last_day)),
        "the event is shown once, on the day it starts"
    );
    let (before, after) = (
        zone_label(*across.start_date.offset()),
        zone_label(*across.end_date.offset()),
    );
    assert_ne!(before, after, "the clocks change during the event");
    widget.click("List").await;
    let expected = format!(
        "09:30 {before} to 16:30 {after} (ends {}), Leeds, 5 seats left",
        full_date(last_day)
    );
    assert!(widget.text().contains(&expected), "{expected} listed");
}
