//! Telling the host page what happened: typed DOM `CustomEvent`s dispatched
//! on the `<hbg-booking>` element. They bubble and are `composed`, so they
//! cross the shadow boundary; their `detail` carries ids, times and statuses
//! only (see `booking_core::flow::HostEvent`).

use booking_core::flow::HostEvent;
use wasm_bindgen::JsCast;

/// The element host page events are dispatched on.
#[derive(Clone)]
pub struct Host {
    element: web_sys::EventTarget,
}

impl Host {
    /// The shadow host of `root` (the `<hbg-booking>` element), or `root`
    /// itself when it is not inside a shadow root.
    pub fn for_root(root: &web_sys::HtmlElement) -> Host {
        let node = root.get_root_node();
        let element = node
            .dyn_ref::<web_sys::ShadowRoot>()
            .map(|shadow| shadow.host().unchecked_into())
            .unwrap_or_else(|| root.clone().unchecked_into());
        Host { element }
    }

    /// Dispatches `event` as a bubbling, composed `CustomEvent`.
    pub fn emit(&self, event: &HostEvent) {
        let init = web_sys::CustomEventInit::new();
        init.set_bubbles(true);
        init.set_composed(true);
        if let Ok(detail) = js_sys::JSON::parse(&event.detail_json()) {
            init.set_detail(&detail);
        }
        if let Ok(custom) = web_sys::CustomEvent::new_with_event_init_dict(event.name(), &init) {
            let _ = self.element.dispatch_event(&custom);
        }
    }
}
