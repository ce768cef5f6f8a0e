//! Small wrappers over the browser APIs the widget uses. Each one fails
//! quietly (storage blocked, no beacon support): the booking flow must go on.

use wasm_bindgen::JsCast;

fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

fn session_storage() -> Option<web_sys::Storage> {
    window()?.session_storage().ok().flatten()
}

/// Reads a value from this tab's `sessionStorage`.
pub fn session_get(key: &str) -> Option<String> {
    session_storage()?.get_item(key).ok().flatten()
}

/// Writes a value to this tab's `sessionStorage`.
pub fn session_set(key: &str, value: &str) {
    if let Some(storage) = session_storage() {
        let _ = storage.set_item(key, value);
    }
}

/// Removes a value from this tab's `sessionStorage`.
pub fn session_remove(key: &str) {
    if let Some(storage) = session_storage() {
        let _ = storage.remove_item(key);
    }
}

/// Sends `body` as `text/plain` with `navigator.sendBeacon`, which survives
/// the page being closed.
pub fn send_beacon(url: &str, body: &str) {
    if let Some(window) = window() {
        let _ = window.navigator().send_beacon_with_opt_str(url, Some(body));
    }
}

/// Milliseconds from a monotonic clock (`performance.now()`).
pub fn monotonic_ms() -> f64 {
    window()
        .and_then(|window| window.performance())
        .map(|performance| performance.now())
        .unwrap_or_default()
}

/// Records a `performance.mark` after the next render, so benchmarks can
/// time what the candidate sees (`hbg:interactive`, `hbg:calendar-shown`).
pub fn mark_after_render(name: &'static str) {
    leptos::prelude::request_animation_frame(move || {
        if let Some(performance) = window().and_then(|window| window.performance()) {
            let _ = performance.mark(name);
        }
    });
}

/// Records a `performance.mark` now.
pub fn mark(name: &str) {
    if let Some(performance) = window().and_then(|window| window.performance()) {
        let _ = performance.mark(name);
    }
}

/// The current time as milliseconds since the Unix epoch (`Date.now()`).
pub fn wall_clock_ms() -> f64 {
    js_sys::Date::now()
}

/// A random token for idempotency keys: 128 bits, hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 16];
    let filled = window()
        .and_then(|window| window.crypto().ok())
        .and_then(|crypto| crypto.get_random_values_with_u8_array(&mut bytes).ok())
        .is_some();
    if !filled {
        for byte in &mut bytes {
            *byte = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Sends the top window to `url` (the payment page).
pub fn navigate_top(url: &str) {
    let top = window().and_then(|window| window.top().ok().flatten());
    let target = top.or_else(window);
    if let Some(target) = target {
        let _ = target.location().set_href(url);
    }
}

/// The address of the page the widget is on.
pub fn page_url() -> Option<String> {
    window()?.location().href().ok()
}

/// Whether the browser believes it is online.
pub fn is_online() -> bool {
    window().is_none_or(|window| window.navigator().on_line())
}

/// Offers `contents` as a file download named `file_name`.
pub fn download(file_name: &str, mime: &str, contents: &str) {
    let Some(document) = window().and_then(|window| window.document()) else {
        return;
    };
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(contents));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Ok(link) = document.create_element("a") {
        let link: web_sys::HtmlAnchorElement = link.unchecked_into();
        link.set_href(&url);
        link.set_download(file_name);
        link.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}
