//! The gateway tried as an attacker and a hostile network would try it: one
//! test per attack found, each named for the attack, each run against a
//! real sandbox and gateway on loopback (the sandbox's own attacks too).
//! Every test here was seen failing before its fix.
//!
//! The attacks are grouped by what they aim at, one module each.

mod gateway_support;
#[path = "gateway_attacks/hostile_upstream.rs"]
mod hostile_upstream;
