//! Browser tests: the widget mounted in headless Chromium over an in-memory
//! gateway, driven as a candidate would. Run with
//! `wasm-pack test --headless --chrome`.
#![cfg(target_arch = "wasm32")]

mod support;

use booking_core::api::PayOption;
use booking_widget::config::{Prefill, WidgetConfig};
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
    let day = widget
        .all(".hbg-grid button")
        .into_iter()
        .find(|day| day.get_attribute("aria-disabled").is_none())
        .expect("a day with events");
    let label = day.get_attribute("aria-label").unwrap();
    assert!(
        label.contains("2026") || label.contains("2027"),
        "full date: {label}"
    );
    assert!(
        label.contains("events") || label.contains("event"),
        "{label}"
    );
    let tab_stops = widget
        .all(".hbg-grid button")
        .into_iter()
        .filter(|day| day.get_attribute("tabindex").as_deref() == Some("0"))
        .count();
    assert_eq!(tab_stops, 1, "roving tabindex: one day in the tab order");

    widget.click("List").await;
    assert!(widget.text().contains("09:30 to 16:30 GMT") || widget.text().contains("BST"));
    let select: web_sys::HtmlSelectElement = widget.one("select").unchecked_into();
    select.set_value("6");
    select
        .dispatch_event(&web_sys::Event::new("change").unwrap())
        .unwrap();
    settle().await;
    assert!(!widget.text().contains("Leeds, 4 seats left"));
    assert!(widget.text().contains("York"));
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
async fn choosing_an_event_holds_the_seat_and_shows_the_countdown() {
    let widget = mount(FakeGateway::new()).await;
    widget.hold_first_event().await;
    assert_eq!(widget.gateway.calls_to("hold"), vec!["hold 41"]);
    assert!(
        widget.text().contains("Seat held for 30 minutes")
            || widget.text().contains("Seat held for 29 minutes")
    );
    assert!(widget.text().contains("Moving & Handling Practical"));
    let names = widget.event_names();
    for expected in [
        "hbg:ready",
        "hbg:course-chosen",
        "hbg:location-chosen",
        "hbg:event-chosen",
        "hbg:hold-created",
    ] {
        assert!(
            names.contains(&expected.to_owned()),
            "{expected} in {names:?}"
        );
    }
    let order: Vec<usize> = ["hbg:ready", "hbg:course-chosen", "hbg:hold-created"]
        .iter()
        .map(|name| names.iter().position(|seen| seen == name).unwrap())
        .collect();
    assert!(
        order.windows(2).all(|pair| pair[0] < pair[1]),
        "in order: {names:?}"
    );
}

#[wasm_bindgen_test]
async fn going_back_from_details_releases_the_hold() {
    let widget = mount(FakeGateway::new()).await;
    widget.hold_first_event().await;
    widget.click("Back").await;
    assert_eq!(widget.heading(), "Choose a date and time");
    assert_eq!(widget.gateway.calls_to("release"), vec!["release ref-41"]);
}

#[wasm_bindgen_test]
async fn details_are_checked_with_a_focused_error_summary() {
    let widget = mount(FakeGateway::new()).await;
    widget.hold_first_event().await;
    widget.type_into("Email address", "priya@example").await;
    widget.click("Continue").await;
    assert_eq!(widget.heading(), "Your details");
    let summary = widget.one(".hbg-error-summary");
    assert!(summary
        .text_content()
        .unwrap()
        .contains("There is a problem"));
    assert!(summary
        .text_content()
        .unwrap()
        .contains("Enter your first name"));
    assert_eq!(
        widget.focused().and_then(|el| el.get_attribute("class")),
        Some("hbg-error-summary".to_owned()),
        "the summary takes focus"
    );
    let email = widget.field("Email address");
    assert_eq!(email.get_attribute("aria-invalid").as_deref(), Some("true"));
    assert_eq!(email.value(), "priya@example", "what was typed is kept");
    assert_eq!(
        email.get_attribute("autocomplete").as_deref(),
        Some("email")
    );
    widget.type_into("First name", "Priya").await;
    widget.type_into("Last name", "Patel").await;
    widget.type_into("Email address", "priya@example.com").await;
    widget.click("Continue").await;
    assert_eq!(widget.heading(), "How the booking is paid for");
}

#[wasm_bindgen_test]
async fn only_the_gateway_pay_options_are_offered_and_credits_book() {
    let widget = mount(FakeGateway::new()).await;
    widget.hold_first_event().await;
    widget.fill_details().await;
    assert!(widget
        .root
        .query_selector("#hbg-pay-credits")
        .unwrap()
        .is_some());
    assert!(widget
        .root
        .query_selector("#hbg-pay-candidate_pays")
        .unwrap()
        .is_some());
    assert!(widget
        .root
        .query_selector("#hbg-pay-inv")
        .unwrap()
        .is_none());
    assert!(widget
        .root
        .query_selector("#hbg-pay-balance")
        .unwrap()
        .is_none());
    widget.choose_pay_option("credits").await;
    widget.click("Confirm booking").await;
    assert_eq!(widget.heading(), "Booking confirmed");
    assert!(widget.text().contains("9001"));
    assert!(widget.has_button("Add to calendar"));
    assert_eq!(widget.gateway.calls_to("book"), vec!["book credits"]);
    let created = widget
        .events
        .borrow()
        .iter()
        .find(|event| event.starts_with("hbg:booking-created"))
        .cloned()
        .expect("booking-created");
    assert!(created.contains("9001"));
    assert!(
        !created.contains("Priya") && !created.contains("example.com"),
        "no personal data in host events: {created}"
    );
}

#[wasm_bindgen_test]
async fn a_double_click_books_once() {
    let widget = mount(FakeGateway::new()).await;
    widget.hold_first_event().await;
    widget.fill_details().await;
    widget.choose_pay_option("credits").await;
    let confirm = widget.button("Confirm booking");
    confirm.click();
    confirm.click();
    settle().await;
    assert_eq!(widget.gateway.calls_to("book").len(), 1);
    assert_eq!(widget.heading(), "Booking confirmed");
}

#[wasm_bindgen_test]
async fn server_field_errors_land_at_their_fields() {
    let gateway = FakeGateway::new();
    gateway.bookings.borrow_mut().push_back(Err(field_error(
        "email",
        "The email has already been booked on this event.",
    )));
    let widget = mount(gateway).await;
    widget.hold_first_event().await;
    widget.fill_details().await;
    widget.choose_pay_option("credits").await;
    widget.click("Confirm booking").await;
    assert_eq!(widget.heading(), "Your details");
    assert!(widget
        .one("#hbg-email-error")
        .text_content()
        .unwrap()
        .contains("already been booked"));
    assert!(widget
        .one(".hbg-error-summary")
        .text_content()
        .unwrap()
        .contains("already been booked"));
    assert_eq!(widget.field("First name").value(), "Priya");
}

#[wasm_bindgen_test]
async fn a_lost_answer_is_retried_with_the_same_key() {
    let gateway = FakeGateway::new();
    gateway
        .bookings
        .borrow_mut()
        .push_back(Err(booking_widget::api::ApiError::Network));
    let widget = mount(gateway).await;
    widget.hold_first_event().await;
    widget.fill_details().await;
    widget.choose_pay_option("credits").await;
    widget.click("Confirm booking").await;
    assert_eq!(widget.heading(), "There is a problem");
    widget.click("Try again").await;
    assert_eq!(widget.heading(), "Booking confirmed");
    let keys = widget.gateway.keys.borrow().clone();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1], "the retry reuses the idempotency key");
}

#[wasm_bindgen_test]
async fn a_seat_held_elsewhere_is_explained_with_a_way_on() {
    let gateway = FakeGateway::new();
    gateway.holds.borrow_mut().push_back(Err(status(
        409,
        "This seat is being held by someone else until 14:45.",
    )));
    let widget = mount(gateway).await;
    widget.click("Moving & Handling").await;
    widget.click("Leeds").await;
    widget.choose_event("09:30 to 16:30").await;
    assert_eq!(widget.heading(), "This seat is already held");
    assert!(widget.text().contains("until 14:45"));
    widget.click("Choose another date").await;
    assert_eq!(widget.heading(), "Choose a date and time");
}

#[wasm_bindgen_test]
async fn an_expired_hold_keeps_the_form_and_holds_again() {
    let gateway = FakeGateway::new();
    *gateway.hold_seconds.borrow_mut() = Some(1);
    let widget = mount(gateway).await;
    widget.hold_first_event().await;
    widget.type_into("First name", "Priya").await;
    gloo_timers::future::TimeoutFuture::new(2300).await;
    settle().await;
    assert_eq!(widget.heading(), "Your seat is no longer held");
    assert!(widget
        .event_names()
        .contains(&"hbg:hold-expired".to_owned()));
    *widget.gateway.hold_seconds.borrow_mut() = Some(1800);
    widget.click("Hold this seat again").await;
    assert_eq!(widget.heading(), "Your details");
    assert_eq!(widget.field("First name").value(), "Priya");
    assert_eq!(widget.gateway.calls_to("hold").len(), 2);
}

#[wasm_bindgen_test]
async fn a_payment_page_off_the_allow_list_is_never_opened() {
    let gateway = FakeGateway::new();
    *gateway.payment_url.borrow_mut() = Some("https://evil.example/pay".into());
    let widget = mount(gateway).await;
    let page = web_sys::window().unwrap().location().href().unwrap();
    widget.hold_first_event().await;
    widget.fill_details().await;
    widget.choose_pay_option("candidate_pays").await;
    assert!(widget.text().contains("secure Stripe page"));
    widget.click("Confirm booking").await;
    assert_eq!(widget.heading(), "There is a problem");
    assert_eq!(web_sys::window().unwrap().location().href().unwrap(), page);
    assert!(!widget
        .event_names()
        .contains(&"hbg:payment-redirect".to_owned()));
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
async fn going_offline_shows_a_banner_and_keeps_input() {
    let widget = mount(FakeGateway::new()).await;
    widget.hold_first_event().await;
    widget.type_into("First name", "Priya").await;
    let banner = widget.one(".hbg-offline");
    assert!(banner.hidden());
    let window = web_sys::window().unwrap();
    window
        .dispatch_event(&web_sys::Event::new("offline").unwrap())
        .unwrap();
    settle().await;
    assert!(!banner.hidden());
    window
        .dispatch_event(&web_sys::Event::new("online").unwrap())
        .unwrap();
    settle().await;
    assert!(banner.hidden());
    assert_eq!(widget.field("First name").value(), "Priya");
}

#[wasm_bindgen_test]
async fn leaving_the_page_releases_the_hold_with_a_beacon() {
    let widget = mount(FakeGateway::new()).await;
    widget.hold_first_event().await;
    let window = web_sys::window().unwrap();
    window
        .dispatch_event(&web_sys::Event::new("pagehide").unwrap())
        .unwrap();
    assert_eq!(widget.gateway.calls_to("beacon"), vec!["beacon ref-41"]);
}

#[wasm_bindgen_test]
async fn pay_option_is_required() {
    let gateway = FakeGateway::new();
    *gateway.pay_options.borrow_mut() = vec![PayOption::Credits, PayOption::Inv];
    let widget = mount(gateway).await;
    widget.hold_first_event().await;
    widget.fill_details().await;
    widget.click("Confirm booking").await;
    assert_eq!(widget.heading(), "How the booking is paid for");
    assert!(widget.text().contains("There is a problem"));
    assert!(widget.gateway.calls_to("book").is_empty());
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
async fn a_hold_the_gateway_says_has_lapsed_is_offered_again() {
    let gateway = FakeGateway::new();
    gateway.bookings.borrow_mut().push_back(Err(field_error(
        "hold_ref",
        "This hold has expired. Hold a seat again.",
    )));
    let widget = mount(gateway).await;
    widget.hold_first_event().await;
    widget.fill_details().await;
    widget.choose_pay_option("credits").await;
    widget.click("Confirm booking").await;
    assert_eq!(widget.heading(), "Your seat is no longer held");
    widget.click("Hold this seat again").await;
    assert_eq!(
        widget.heading(),
        "How the booking is paid for",
        "back where the candidate was"
    );
    widget.click("Back").await;
    assert_eq!(widget.field("First name").value(), "Priya");
}

#[wasm_bindgen_test]
async fn a_failed_release_is_offered_with_the_next_hold() {
    let gateway = FakeGateway::new();
    gateway
        .releases
        .borrow_mut()
        .push_back(Err(booking_widget::api::ApiError::Network));
    let widget = mount(gateway).await;
    widget.hold_first_event().await;
    widget.click("Back").await;
    widget.choose_event("09:30 to 16:30").await;
    assert_eq!(
        widget.gateway.offered_refs.borrow().clone(),
        vec![None, Some("ref-41".to_owned())],
        "the unreleased hold is offered back to the gateway"
    );
    assert_eq!(widget.heading(), "Your details");
}
