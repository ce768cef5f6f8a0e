//! Pure booking logic shared by the widget and the servers.
//!
//! Nothing here touches the DOM: every rule is tested natively and compiled
//! unchanged to WebAssembly for the widget.

pub mod api;
pub mod ics;
pub mod widget_api;
