//! Browser tests: mount the widget in headless Chromium and check what a
//! candidate sees. Run with `wasm-pack test --headless --chrome`.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn fresh_root() -> web_sys::HtmlElement {
    let document = web_sys::window().unwrap().document().unwrap();
    let root: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&root).unwrap();
    root
}

#[wasm_bindgen_test]
async fn first_step_shows_its_heading() {
    let root = fresh_root();
    let _widget = booking_widget::mount(root.clone());
    leptos::task::tick().await;
    let heading = root.query_selector("h2").unwrap().expect("a step heading");
    assert_eq!(heading.text_content().unwrap(), "Choose a course");
}
