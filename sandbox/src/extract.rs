//! Request extractors that never fail with axum's plain-text rejections.
//!
//! Invariants: a body is read up to [`super::BODY_LIMIT`] (413 beyond); an
//! empty body reads as `{}`; a body that is not a JSON object is a 400 with a
//! JSON message; query strings are parsed leniently (last value wins, empty
//! values count as absent); a path id that is not a positive integer is a 404.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::errors::SandboxError;

/// A JSON object body.
#[derive(Debug)]
pub(crate) struct JsonObject(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = SandboxError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(request, state).await?;
        parse_object(&bytes).map(JsonObject)
    }
}

/// A body that is read (so the connection stays clean) and then ignored.
#[derive(Debug)]
pub(crate) struct IgnoredBody;

impl<S: Send + Sync> FromRequest<S> for IgnoredBody {
    type Rejection = SandboxError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        read_body(request, state).await.map(|_| IgnoredBody)
    }
}

/// Reads the whole body within the size limit.
async fn read_body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, SandboxError> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                SandboxError::PayloadTooLarge
            } else {
                SandboxError::BadRequest("The request body could not be read.")
            }
        })
}

/// Parses a body as a JSON object; blank means `{}`.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, SandboxError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(SandboxError::BadRequest(
            "The request body must be a JSON object.",
        )),
        Err(_) => Err(SandboxError::BadRequest(
            "The request body is not valid JSON.",
        )),
    }
}

/// The query string as name/value pairs.
#[derive(Debug, Default)]
pub(crate) struct QueryParams(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let pairs = parts
            .uri
            .query()
            .map(|query| {
                form_urlencoded::parse(query.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        Ok(QueryParams(pairs))
    }
}

impl QueryParams {
    /// The last non-empty value of `name`, trimmed.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.trim())
            .filter(|value| !value.is_empty())
    }

    /// All pairs in their original order.
    pub(crate) fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

/// One path parameter as text; invalid percent-encoding is a 404.
#[derive(Debug)]
pub(crate) struct PathParam(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathParam {
    type Rejection = SandboxError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| PathParam(value))
            .map_err(|_| SandboxError::NotFound("Not found."))
    }
}

impl PathParam {
    /// The parameter as a positive id, or a 404 with `not_found`.
    pub(crate) fn id(&self, not_found: &'static str) -> Result<i64, SandboxError> {
        let digits = !self.0.is_empty() && self.0.bytes().all(|byte| byte.is_ascii_digit());
        digits
            .then(|| self.0.parse::<i64>().ok())
            .flatten()
            .filter(|id| *id > 0)
            .ok_or(SandboxError::NotFound(not_found))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies() {
        assert!(parse_object(b"").unwrap().is_empty());
        assert!(parse_object(b"  \n").unwrap().is_empty());
        assert_eq!(parse_object(br#"{"a":1}"#).unwrap()["a"], 1);
        assert!(matches!(
            parse_object(b"[1]"),
            Err(SandboxError::BadRequest(_))
        ));
        assert!(matches!(
            parse_object(b"{\"a\":"),
            Err(SandboxError::BadRequest(_))
        ));
        let deep = "[".repeat(10_000);
        assert!(matches!(
            parse_object(deep.as_bytes()),
            Err(SandboxError::BadRequest(_))
        ));
    }

    #[test]
    fn ids() {
        let id = |text: &str| PathParam(text.to_owned()).id("gone");
        assert_eq!(id("41").unwrap(), 41);
        for bad in ["0", "-1", "+1", "abc", "", "1.5", "99999999999999999999"] {
            assert!(id(bad).is_err(), "{bad}");
        }
    }
}
