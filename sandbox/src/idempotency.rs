//! `Idempotency-Key` on `POST /bookings`, the same for both products: a key
//! seen before with the same body replays the booking it made, with another
//! body is a 422; under `idempotency=ignored` the header is not read at all.
//!
//! Invariants: the key check, the booking and the key's record are one
//! write transaction, so a key makes at most one booking; bodies are
//! compared by the hash of their canonical JSON, whatever their key order.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{Map, Value};

use super::db::{sha256_hex, write_tx};
use super::errors::SandboxError;
use super::profile::{Idempotency, UpstreamProfile};

/// The `Idempotency-Key` header, if present and well formed.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, SandboxError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key =
        value.to_str().ok().map(str::trim).filter(|key| {
            (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
        });
    match key {
        Some(key) => Ok(Some(key.to_owned())),
        None => Err(SandboxError::invalid(
            "idempotency_key",
            "The Idempotency-Key header must be 1 to 255 visible ASCII characters.",
        )),
    }
}

/// JSON text with object keys sorted at every level, so equal bodies hash
/// equally whatever their key order.
fn canonical_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let inner: Vec<String> = entries
                .into_iter()
                .map(|(key, value)| {
                    format!("{}:{}", Value::String(key.clone()), canonical_json(value))
                })
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(canonical_json).collect();
            format!("[{}]", inner.join(","))
        }
        other => other.to_string(),
    }
}

/// What `POST /bookings` answers: a new booking, or a replay of an earlier
/// one.
pub(crate) enum Created<R> {
    /// Made by this request.
    New(R),
    /// Made by an earlier request with the same key and body.
    Replayed(R),
}

impl<R> Created<R> {
    /// The 201 answer: the booking as `wire` writes it, marked
    /// `idempotent-replayed` when it is an earlier one.
    pub(crate) fn into_response<W: serde::Serialize>(self, wire: impl FnOnce(R) -> W) -> Response {
        match self {
            Created::New(booking) => (StatusCode::CREATED, Json(wire(booking))).into_response(),
            Created::Replayed(booking) => (
                StatusCode::CREATED,
                [("idempotent-replayed", "true")],
                Json(wire(booking)),
            )
                .into_response(),
        }
    }
}

/// A booking request as idempotency sees it: its key (when the profile
/// honours keys and one was sent) and the hash of its body.
pub(crate) struct RequestIdentity {
    key: Option<String>,
    hash: String,
}

impl RequestIdentity {
    /// Reads the key from `headers` and hashes `body`.
    pub(crate) fn of(
        headers: &HeaderMap,
        body: Map<String, Value>,
        profile: &UpstreamProfile,
    ) -> Result<RequestIdentity, SandboxError> {
        let key = match profile.idempotency {
            Idempotency::Honoured => idempotency_key(headers)?,
            Idempotency::Ignored => None,
        };
        Ok(RequestIdentity {
            key,
            hash: sha256_hex(&canonical_json(&Value::Object(body))),
        })
    }
}

/// Makes a booking once per idempotency key, in one write transaction:
/// a key seen before with the same body replays its booking, with another
/// body is a 422; otherwise `book` makes the booking, the key (in
/// `keys_table`) is kept, and `load` reads the booking back.
pub(crate) fn book_once<R>(
    conn: &mut Connection,
    keys_table: &str,
    account_id: i64,
    request: &RequestIdentity,
    now: i64,
    book: impl FnOnce(&Connection) -> Result<i64, SandboxError>,
    load: fn(&Connection, Option<i64>, i64) -> rusqlite::Result<Option<R>>,
) -> Result<Created<R>, SandboxError> {
    let tx = write_tx(conn)?;
    if let Some(key) = &request.key {
        let earlier: Option<(String, i64)> = tx
            .query_row(
                &format!(
                    "SELECT request_hash, booking_id FROM {keys_table} \
                     WHERE account_id = ?1 AND key = ?2"
                ),
                params![account_id, key],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        if let Some((hash, booking_id)) = earlier {
            if hash != request.hash {
                return Err(SandboxError::invalid(
                    "idempotency_key",
                    "This Idempotency-Key was already used with a different request.",
                ));
            }
            let booking = load(&tx, Some(account_id), booking_id)?
                .ok_or_else(|| SandboxError::Internal("idempotent booking missing".into()))?;
            return Ok(Created::Replayed(booking));
        }
    }
    let booking_id = book(&tx)?;
    if let Some(key) = &request.key {
        tx.execute(
            &format!(
                "INSERT INTO {keys_table} (account_id, key, request_hash, booking_id, \
                 created_utc) VALUES (?1, ?2, ?3, ?4, ?5)"
            ),
            params![account_id, key, request.hash, booking_id, now],
        )?;
    }
    let booking = load(&tx, Some(account_id), booking_id)?
        .ok_or_else(|| SandboxError::Internal("new booking missing".into()))?;
    tx.commit()?;
    Ok(Created::New(booking))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_ignores_key_order() {
        let a = json!({ "b": 1, "a": { "y": [1, { "q": 2, "p": 3 }], "x": null } });
        let b = json!({ "a": { "x": null, "y": [1, { "p": 3, "q": 2 }] }, "b": 1 });
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_ne!(canonical_json(&a), canonical_json(&json!({ "b": 2 })));
        assert_eq!(canonical_json(&json!({ "k\"": "v" })), r#"{"k\"":"v"}"#);
    }
}
