//! The booking widget: Leptos components over `booking-core`, compiled to
//! WebAssembly and mounted by `widget.js` inside a shadow root.

use std::rc::Rc;

use leptos::prelude::IntoAny;
use wasm_bindgen::prelude::*;

pub mod api;
pub mod app;
pub mod browser;
pub mod calendar;
pub mod config;
pub mod host;
pub mod manage;
pub mod state;
pub mod steps;

use api::{BookingApi, HttpApi};
use config::WidgetConfig;

/// Mounts the widget into `root` (an element inside the host's shadow root)
/// with the settings `widget.js` read from the element's attributes (JSON),
/// talking to the gateway over HTTP.
#[wasm_bindgen]
pub fn mount(root: web_sys::HtmlElement, config_json: &str) -> WidgetHandle {
    console_error_panic_hook::set_once();
    let config = WidgetConfig::from_json(config_json);
    let mut api = HttpApi::new(&config.api);
    if let (Some(courses), [product]) = (config.courses.clone(), config.products.as_slice()) {
        api = api.with_courses(*product, courses);
    }
    let api: Rc<dyn BookingApi> = Rc::new(api);
    mount_with(root, config, api)
}

/// Mounts the widget with any [`BookingApi`] (tests use an in-memory one):
/// the booking page when the settings carry a booking link, else the
/// booking flow.
pub fn mount_with(
    root: web_sys::HtmlElement,
    config: WidgetConfig,
    api: Rc<dyn BookingApi>,
) -> WidgetHandle {
    let host = host::Host::for_root(&root);
    let handle = leptos::mount::mount_to(root, move || match config.booking_link.clone() {
        Some(link) => manage::BookingPageView(manage::BookingPageViewProps {
            link,
            api: Rc::clone(&api),
            page_url: config.return_url.clone().or_else(browser::page_url),
        })
        .into_any(),
        None => app::App(app::AppProps {
            config: config.clone(),
            api: Rc::clone(&api),
            host: host.clone(),
        })
        .into_any(),
    });
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
