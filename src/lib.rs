//! The booking widget: Leptos components over `booking-core`, compiled to
//! WebAssembly and mounted by `widget.js` inside a shadow root.

use wasm_bindgen::prelude::*;

pub mod api;
pub mod app;
pub mod browser;

/// Mounts the widget into `root` (an element inside the host's shadow root)
/// and keeps it alive until [`WidgetHandle::unmount`] is called.
#[wasm_bindgen]
pub fn mount(root: web_sys::HtmlElement) -> WidgetHandle {
    console_error_panic_hook::set_once();
    let handle = leptos::mount::mount_to(root, app::App);
    WidgetHandle {
        inner: Some(Box::new(handle)),
    }
}

/// A mounted widget; dropping it (or calling `unmount`) removes it.
#[wasm_bindgen]
pub struct WidgetHandle {
    inner: Option<Box<dyn std::any::Any>>,
}

#[wasm_bindgen]
impl WidgetHandle {
    /// Removes the widget's DOM and stops its effects.
    pub fn unmount(&mut self) {
        self.inner.take();
    }
}
