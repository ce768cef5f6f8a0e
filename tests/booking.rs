//! Browser tests of the last steps: the candidate's details, the pay
//! options, creating the booking once, and the payment page's allow-list.
//! The widget is mounted in headless Chromium over an in-memory gateway and
//! driven as a candidate would. Run with `wasm-pack test --headless --chrome`.
#![cfg(target_arch = "wasm32")]

mod support;

use booking_core::api::PayOption;
use support::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

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
