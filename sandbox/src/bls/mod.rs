//! The Virtual BLS API, as published by Healthier Business Group, under
//! `/bls/api/v1`: remote Basic Life Support training at **timeslots**
//! generated from trainers' free capacity (`booking_core::slots`), a kit
//! posted to the candidate and a Zoom session.
//!
//! It shares everything §10 says is shared with the Practical Training
//! sandbox: the token endpoints and bearer extractor (`auth`), the
//! pagination envelope, Laravel-style errors and validation, the rate limit
//! (its own limiter: another host upstream), the upstream profile, the
//! wallet (`wallet`), credits, transactions and the booking URL
//! (`accounts`), the payment stand-in's pages (`checkout`), webhook
//! endpoints (`webhooks`, its own event catalogue) and their delivery
//! (`deliveries`), and cancellation (`booking_api`). What is its own:
//! its accounts and courses (`product = 'virtual_bls'`), the trainers'
//! schedules, timeslot holds and bookings (`bls_*` tables), and the PayPal
//! stand-in.
//!
//! Modules: `seed` (seed data), `schedule` (courses, trainers' schedules
//! and what keeps them busy), `timeslots` (list, hold), `bookings` (the
//! Virtual BLS booking record and how one is made), `paypal` (the stand-in
//! checkout page), `testmode` (the provider's side: marking training and
//! kit status, moving and cancelling bookings). The
//! endpoints both products answer alike are the crate root's
//! (`shared_routes`), `booking_api`'s and `holds`'s.
//!
//! Invariants:
//! * A timeslot is offered, held or booked only when `booking_core::slots`
//!   finds a trainer free for it, counting every live hold and every booking
//!   that is not cancelled as busy for its buffered span; holds and bookings
//!   are written in the same `BEGIN IMMEDIATE` transaction as that check, so
//!   a trainer is never double-booked.
//! * A hold takes one trainer (the least busy that day) for 30 minutes;
//!   booking it keeps that trainer and that span.
//! * A certificate is available exactly when `training_status = completed`
//!   and `equipment_status = in`.

use axum::routing::{delete, get, post};
use axum::Router;

use super::{checkout, holds, mount, shared_routes, AppState, BLS_API_BASE};
use bookings::VirtualRecord;

mod bookings;
mod paypal;
mod schedule;
pub(crate) mod seed;
mod testmode;
mod timeslots;

/// The Virtual BLS routes with their state: the API under `/bls/api/v1`,
/// the PayPal stand-in and the public booking page stand-in.
pub(crate) fn router(state: AppState) -> Router {
    let api = shared_routes::<VirtualRecord>()
        .route("/timeslots", get(timeslots::list))
        .route("/timeslots/hold", post(timeslots::hold))
        .route("/timeslots/hold/{hold_hash}", delete(holds::release));
    mount(BLS_API_BASE, api, &state)
        .route(bookings::CHECKOUT_PATH, get(paypal::show).post(paypal::pay))
        .route("/virtual-bls/", get(checkout::booking_page))
        .with_state(state)
}

/// The Virtual BLS test-mode routes, relative to `/_sandbox`.
pub(crate) fn testmode_router() -> Router<AppState> {
    Router::new()
        .route("/bls/bookings/{id}/status", post(testmode::mark_status))
        .route("/bls/bookings/{id}/reschedule", post(testmode::reschedule))
        .route("/bls/bookings/{id}/cancel", post(testmode::cancel))
}
