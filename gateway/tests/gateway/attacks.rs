//! The gateway tried as an attacker and a hostile network would try it: one
//! test per attack found, each named for the attack, each run against a
//! real sandbox and gateway on loopback (the sandbox's own attacks are the
//! sandbox's tests, `attacks` there). Every test here was seen failing
//! before its fix.
//!
//! The attacks are grouped by what they aim at, one module each.

mod bookings;
mod client_addresses;
mod expiry;
mod fair_shares;
mod hostile_upstream;
mod own_origin;
mod slow_clients;
mod store_outage;
