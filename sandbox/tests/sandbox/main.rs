//! The sandbox's integration tests, one test binary: each module drives a
//! real sandbox over HTTP (started in-process, or as the `booking-sandbox`
//! binary where the command line is tested), each with its own database on
//! an ephemeral loopback port, so the modules' tests run side by side.
//! `common` holds what they share.

mod common;

mod attacks;
mod auth;
mod bls;
mod bls_bookings;
mod bls_webhooks;
mod bookings;
mod concurrency;
mod events;
mod fuzz;
mod holds;
mod http;
mod invites;
mod profiles;
mod webhooks;
