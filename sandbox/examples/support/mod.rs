//! What the sandbox's bench client shares with the gateway's (a copy of
//! part of `gateway/examples/support`): the sandbox's clock, percentiles and
//! how it prints times.

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
