//! The gateway tried as an attacker and a hostile network would try it: one
//! test per attack found, each named for the attack, each run against a
//! real sandbox and gateway on loopback (the sandbox's own attacks too).
//! Every test here was seen failing before its fix.
//!
//! The attacks are grouped by what they aim at, one module each.

mod common;
mod gateway_support;

#[path = "gateway_attacks/bookings.rs"]
mod bookings;
#[path = "gateway_attacks/client_addresses.rs"]
mod client_addresses;
#[path = "gateway_attacks/expiry.rs"]
mod expiry;
#[path = "gateway_attacks/fair_shares.rs"]
mod fair_shares;
#[path = "gateway_attacks/hostile_upstream.rs"]
mod hostile_upstream;
#[path = "gateway_attacks/own_origin.rs"]
mod own_origin;
#[path = "gateway_attacks/sandbox.rs"]
mod sandbox;
#[path = "gateway_attacks/slow_clients.rs"]
mod slow_clients;
#[path = "gateway_attacks/store_outage.rs"]
mod store_outage;
