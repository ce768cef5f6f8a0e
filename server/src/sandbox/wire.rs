//! JSON responses with timestamps written the way the upstream writes them.
//!
//! `booking_core::api::Timestamp` serialises a zero UTC offset as `Z`
//! (chrono's default), while the API writes `+00:00` (GMT event times, hold
//! expiry, `created_at`). [`ApiJson`] serialises the shared types and then
//! rewrites `Z` to `+00:00` in the timestamp fields, and nowhere else. It can
//! go once the core type serialises `+00:00` itself.

use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::Value;

use super::errors::SandboxError;

/// Field names that hold timestamps in the API's payloads.
const TIMESTAMP_FIELDS: &[&str] = &["start_date", "end_date", "expires_at", "created_at", "now"];

/// A JSON response whose timestamps use `+00:00` for UTC.
#[derive(Debug, Clone)]
pub(crate) struct ApiJson<T>(pub T);

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        match serde_json::to_value(&self.0) {
            Ok(mut value) => {
                fix_offsets(&mut value);
                Json(value).into_response()
            }
            Err(error) => {
                SandboxError::Internal(format!("response serialisation: {error}")).into_response()
            }
        }
    }
}

/// Rewrites a trailing `Z` to `+00:00` in timestamp fields, at any depth.
pub(crate) fn fix_offsets(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                if let Value::String(text) = item {
                    if TIMESTAMP_FIELDS.contains(&key.as_str()) && looks_like_utc_timestamp(text) {
                        text.pop();
                        text.push_str("+00:00");
                    }
                } else {
                    fix_offsets(item);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(fix_offsets),
        _ => {}
    }
}

/// `YYYY-MM-DDTHH:MM:SS` (optionally with a fraction) followed by `Z`.
fn looks_like_utc_timestamp(text: &str) -> bool {
    let Some(body) = text.strip_suffix('Z') else {
        return false;
    };
    let bytes = body.as_bytes();
    bytes.len() >= 19
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes[10] == b'T'
        && bytes[13] == b':'
        && bytes[16] == b':'
        && bytes.iter().enumerate().all(|(index, byte)| {
            matches!(index, 4 | 7 | 10 | 13 | 16 | 19) || byte.is_ascii_digit()
        })
        && (bytes.len() == 19 || bytes[19] == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rewrites_only_timestamp_fields() {
        let mut value = json!({
            "expires_at": "2026-07-20T14:45:00Z",
            "training_event": { "start_date": "2026-12-01T09:30:00Z" },
            "data": [{ "created_at": "2026-07-20T14:17:03.250Z", "end_date": "2026-08-04T16:30:00+01:00" }],
            "candidate": { "name": "2026-07-20T14:45:00Z" },
            "now": "soon Z"
        });
        fix_offsets(&mut value);
        assert_eq!(value["expires_at"], "2026-07-20T14:45:00+00:00");
        assert_eq!(
            value["training_event"]["start_date"],
            "2026-12-01T09:30:00+00:00"
        );
        assert_eq!(
            value["data"][0]["created_at"],
            "2026-07-20T14:17:03.250+00:00"
        );
        assert_eq!(value["data"][0]["end_date"], "2026-08-04T16:30:00+01:00");
        assert_eq!(value["candidate"]["name"], "2026-07-20T14:45:00Z");
        assert_eq!(value["now"], "soon Z");
    }
}
