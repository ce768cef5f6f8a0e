//! Browser tests of the held seat: holding, the countdown, releasing, a
//! seat held elsewhere, expiry, and leaving or losing the network.
//! The widget is mounted in headless Chromium over an in-memory gateway and
//! driven as a candidate would. Run with `wasm-pack test --headless --chrome`.
#![cfg(target_arch = "wasm32")]

mod support;

use support::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

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
    until("the hold to lapse", 5.0, || {
        widget.heading() == "Your seat is no longer held"
    })
    .await;
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
async fn leaving_the_page_releases_the_hold_with_a_beacon() {
    let widget = mount(FakeGateway::new()).await;
    widget.hold_first_event().await;
    let window = web_sys::window().unwrap();
    window
        .dispatch_event(&web_sys::Event::new("pagehide").unwrap())
        .unwrap();
    assert_eq!(
        widget.gateway.calls_to("beacon"),
        vec!["beacon ref-41 (page hidden)"]
    );
}

#[wasm_bindgen_test]
async fn a_reloaded_page_takes_its_hold_up_again() {
    let gateway = FakeGateway::new();
    let widget = mount(gateway.clone()).await;
    widget.hold_first_event().await;
    let window = web_sys::window().unwrap();
    window
        .dispatch_event(&web_sys::Event::new("pagehide").unwrap())
        .unwrap();
    drop(widget);
    assert_eq!(gateway.calls_to("hold"), vec!["hold 41"]);

    let reloaded = mount_in_this_tab(gateway.clone(), Default::default()).await;
    assert_eq!(reloaded.heading(), "Your details");
    assert_eq!(
        gateway.calls_to("hold"),
        vec!["hold 41", "hold 41"],
        "the same event asked for again, so the gateway hands back the same hold"
    );
    let again = mount_in_this_tab(gateway.clone(), Default::default()).await;
    assert_eq!(
        again.heading(),
        "Choose a course",
        "the kept hold is taken up once"
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
async fn five_minutes_before_expiry_the_candidate_is_warned_and_the_host_told() {
    let gateway = FakeGateway::new();
    *gateway.hold_seconds.borrow_mut() = Some(301);
    let widget = mount(gateway).await;
    widget.hold_first_event().await;
    let live = widget.one("[aria-live='polite'][aria-atomic='true']");
    assert!(!live.text_content().unwrap().contains("5 minutes left"));
    until("the five-minute warning", 5.0, || {
        live.text_content()
            .unwrap()
            .contains("5 minutes left to complete your booking")
    })
    .await;
    let expiring: Vec<String> = widget
        .events
        .borrow()
        .iter()
        .filter(|event| event.starts_with("hbg:hold-expiring "))
        .cloned()
        .collect();
    assert_eq!(
        expiring,
        vec![
            r#"hbg:hold-expiring {"product":"practical","event_id":41,"minutes_left":5}"#
                .to_owned()
        ],
        "one warning, for five minutes, naming the event"
    );
    assert_eq!(widget.heading(), "Your details", "the form stays");
}
