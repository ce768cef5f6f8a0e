//! What the bench clients share (the gateway's and the sandbox's, which
//! includes this file): the sandbox's clock, percentiles and how
//! they print times.
#![allow(dead_code)] // Each bench client uses a different part.

use std::process::ExitCode;
use std::time::Duration;

use reqwest::Client;
use serde_json::Value;

/// The exit status of a run named `name`: success when it met its goals;
/// an error is printed.
pub fn exit_code(name: &str, outcome: Result<bool, String>) -> ExitCode {
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("{name}: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The sandbox's "now" (its test-mode clock at `sandbox`).
pub async fn sandbox_now(
    client: &Client,
    sandbox: &str,
) -> Result<chrono::DateTime<chrono::FixedOffset>, String> {
    let clock: Value = client
        .get(format!("{sandbox}/_sandbox/clock"))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|error| format!("reading the sandbox clock (is it in test mode?): {error}"))?
        .json()
        .await
        .map_err(|error| error.to_string())?;
    clock["now"]
        .as_str()
        .and_then(|now| chrono::DateTime::parse_from_rfc3339(now).ok())
        .ok_or_else(|| "the sandbox clock answered without a time".to_owned())
}

/// Creates a training event in the sandbox (test mode) and answers its id.
pub async fn create_event(
    client: &Client,
    sandbox: &str,
    (course_id, location_id): (u64, u64),
    start: chrono::DateTime<chrono::FixedOffset>,
    capacity: u32,
) -> Result<u64, String> {
    let event: Value = client
        .post(format!("{sandbox}/_sandbox/training-events"))
        .json(&serde_json::json!({
            "course_id": course_id,
            "location_id": location_id,
            "start_date": start.to_rfc3339(),
            "capacity": capacity,
        }))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|error| format!("creating an event: {error}"))?
        .json()
        .await
        .map_err(|error| error.to_string())?;
    event["id"].as_u64().ok_or_else(|| "no event id".to_owned())
}

/// The nearest-rank percentile.
pub fn percentile(took: &[Duration], p: usize) -> Duration {
    let mut sorted = took.to_vec();
    sorted.sort_unstable();
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

/// "12.3 ms".
pub fn millis(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}
