//! Pure booking logic shared by the widget and the servers.
//!
//! Nothing here touches the DOM: every rule is tested natively and compiled
//! unchanged to WebAssembly for the widget.
//!
//! * [`api`]: the wire types of the Practical Training and Virtual BLS APIs.
//! * [`contract`]: what the project reads of each upstream answer, and which
//!   of its fields the published documents show.
//! * [`product`]: the booking products and where they differ.
//! * [`uk_time`]: UK civil time (GMT/BST) and date and time texts.
//! * [`calendar`]: the month grid and day agendas computed from events.
//! * [`countdown`]: the seat hold countdown and its warnings.
//! * [`flow`]: the booking flow as a pure state machine.
//! * [`first_step`]: the first step's words, for the widget and the gateway's
//!   early step.
//! * [`validation`]: candidate form checks, field errors, pay options on offer.
//! * [`redirect`]: which payment pages the widget may redirect to.
//! * [`slots`]: Virtual BLS timeslots generated from trainers' capacity.
//! * [`slot_calendar`]: the timeslot calendar (month grid, then a day's times).
//! * `month_nav` (internal): month navigation, the same code for both calendars.
//! * [`ics`]: the "add to calendar" file for a booking.
//! * [`manage`]: after the booking: the durable link, the cancel policy and
//!   the booking page's words.
//! * [`json`]: a small JSON reader for the widget.
//! * [`widget_api`]: the contract between the widget and the gateway.
//! * `synthetic` (tests and benchmarks only): synthetic training events.

#![warn(missing_docs)]

pub mod api;
pub mod calendar;
pub mod contract;
pub mod countdown;
pub mod first_step;
pub mod flow;
pub mod ics;
pub mod json;
pub mod manage;
mod month_nav;
pub mod product;
pub mod redirect;
pub mod slot_calendar;
pub mod slots;
#[cfg(any(test, feature = "synthetic"))]
pub mod synthetic;
pub mod uk_time;
pub mod validation;
pub mod widget_api;

pub use uk_time::{uk_local, uk_offset_at};
