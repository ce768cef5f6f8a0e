//! The gateway's integration tests, one test binary: each module drives a
//! real gateway over HTTP, in front of a real sandbox started in-process
//! (or a hostile or failing upstream), on ephemeral loopback ports, so the
//! modules' tests run side by side. `support` holds what they share.

mod support;

mod attacks;
mod bls;
mod busy_events;
mod contract;
mod dependencies;
mod deploy;
mod fault_table;
mod first_step;
mod flow;
mod health;
mod load;
mod lost_answers;
mod manage;
mod matrix;
mod metrics;
mod preflight;
mod profiles;
mod protection;
mod rate_budget;
mod request_ids;
mod resilience;
mod secrets;
mod sessions;
mod shared_store;
mod static_files;
mod store_faults;
mod wallet;
