//! The widget's real HTTP client against a running gateway and sandbox:
//! a whole booking over the network. Built only with the `live-gateway`
//! feature; `HBG_TEST_GATEWAY` names the gateway's `/api` when it is built.
//! `cargo xtask test` starts a sandbox and a gateway and runs it as the
//! README shows.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Lets spawned tasks and effects run: microtask rounds, the next
/// animation frame, then microtasks again; no timer.
async fn settle() {
    for _ in 0..12 {
        leptos::task::tick().await;
    }
    let frame = js_sys::Promise::new(&mut |resolve, _| {
        let _ = web_sys::window().unwrap().request_animation_frame(&resolve);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(frame).await;
    for _ in 0..12 {
        leptos::task::tick().await;
    }
}

/// Waits until `ready` holds, polling for up to ten seconds (the poll
/// interval of a condition wait: the widget's DOM announces nothing).
async fn until(what: &str, ready: impl Fn() -> bool) {
    for _ in 0..200 {
        if ready() {
            return;
        }
        gloo_timers::future::TimeoutFuture::new(50).await;
    }
    panic!("timed out waiting for {what}");
}

fn buttons(root: &web_sys::HtmlElement, selector: &str) -> Vec<web_sys::HtmlElement> {
    let list = root.query_selector_all(selector).unwrap();
    (0..list.length())
        .filter_map(|index| list.item(index))
        .map(|node| node.unchecked_into())
        .collect()
}

fn button(root: &web_sys::HtmlElement, text: &str) -> Option<web_sys::HtmlElement> {
    buttons(root, "button")
        .into_iter()
        .find(|button| button.text_content().unwrap_or_default().contains(text))
}

fn heading(root: &web_sys::HtmlElement) -> String {
    root.query_selector("h2")
        .unwrap()
        .and_then(|heading| heading.text_content())
        .unwrap_or_default()
}

async fn type_into(root: &web_sys::HtmlElement, id: &str, value: &str) {
    let input: web_sys::HtmlInputElement = root
        .query_selector(&format!("#{id}"))
        .unwrap()
        .unwrap()
        .unchecked_into();
    input.set_value(value);
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    settle().await;
}

#[wasm_bindgen_test]
async fn a_booking_over_real_http() {
    let document = web_sys::window().unwrap().document().unwrap();
    let root: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&root).unwrap();
    let gateway = env!(
        "HBG_TEST_GATEWAY",
        "set HBG_TEST_GATEWAY to a running gateway's /api to build this test"
    );
    let config = serde_json::json!({ "api": gateway });
    let _widget = booking_widget::mount(root.clone(), &config.to_string());

    until("courses", || button(&root, "Moving & Handling").is_some()).await;
    button(&root, "Moving & Handling").unwrap().click();
    until("locations", || button(&root, "Any location").is_some()).await;
    button(&root, "Any location").unwrap().click();
    until("events", || {
        !buttons(&root, ".hbg-agenda button.hbg-choice").is_empty()
    })
    .await;
    buttons(&root, ".hbg-agenda button.hbg-choice")[0].click();
    until("the hold", || heading(&root) == "Your details").await;
    assert!(root.text_content().unwrap().contains("Seat held for"));

    type_into(&root, "hbg-first-name", "Priya").await;
    type_into(&root, "hbg-last-name", "Patel").await;
    type_into(&root, "hbg-email", "priya@example.com").await;
    button(&root, "Continue").unwrap().click();
    until("the payment step", || {
        heading(&root) == "How the booking is paid for"
    })
    .await;
    let credits: web_sys::HtmlElement = root
        .query_selector("#hbg-pay-credits")
        .unwrap()
        .expect("the gateway allows credits")
        .unchecked_into();
    credits.click();
    settle().await;
    button(&root, "Confirm booking").unwrap().click();
    until("the confirmation", || heading(&root) == "Booking confirmed").await;
    let text = root.text_content().unwrap();
    assert!(text.contains("Booking reference"));
    assert!(text.contains("booked (payment completed)"), "{text}");
    root.remove();
}
