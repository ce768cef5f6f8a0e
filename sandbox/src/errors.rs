//! Errors and their Laravel-style JSON bodies.
//!
//! Invariants: every failure of an `/api/v1` request answers with a JSON body,
//! `{ "message": ... }` or, for 409 and 422, the richer shapes of
//! `booking_core::api`; a database or internal failure is logged and answers
//! 500 `{ "message": "Server Error" }`, never a panic and never a leak of the
//! cause. The servers' shared `json_errors` middleware, worded by
//! [`json_error_message`], is the safety net that rewrites any non-JSON error
//! response (an axum rejection, a 405) into that shape.

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use booking_core::api::bls::TimeslotHoldConflict;
use booking_core::api::{ApiError, HoldConflict, ValidationError};

/// Everything a sandbox request can fail with.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SandboxError {
    /// Missing, unknown, expired or revoked bearer token (401).
    #[error("unauthenticated")]
    Unauthenticated,
    /// A 401 with a specific message (bad credentials, bad refresh token).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Unknown id, or one that belongs to another account (404).
    #[error("{0}")]
    NotFound(&'static str),
    /// A body that is not a JSON object (400).
    #[error("{0}")]
    BadRequest(&'static str),
    /// A body over the size limit (413).
    #[error("payload too large")]
    PayloadTooLarge,
    /// A validation failure or business-rule violation (422).
    #[error("validation failed: {}", .0.message)]
    Validation(ValidationError),
    /// An active hold already exists (409), with its details.
    #[error("hold conflict")]
    HoldConflict(Box<HoldConflict>),
    /// An active Virtual BLS timeslot hold already exists (409).
    #[error("timeslot hold conflict")]
    TimeslotHoldConflict(Box<TimeslotHoldConflict>),
    /// The database failed (500, logged).
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    /// Anything else that should not happen (500, logged).
    #[error("internal: {0}")]
    Internal(String),
}

impl SandboxError {
    /// A 422 with one message for one field.
    pub(crate) fn invalid(field: &str, message: impl Into<String>) -> SandboxError {
        let message = message.into();
        let mut error = ValidationError {
            message: message.clone(),
            ..ValidationError::default()
        };
        error.errors.insert(field.to_owned(), vec![message]);
        SandboxError::Validation(error)
    }
}

/// The body every 500 carries.
pub(crate) const SERVER_ERROR: &str = "Server Error";

impl IntoResponse for SandboxError {
    fn into_response(self) -> Response {
        match self {
            SandboxError::Unauthenticated => message(StatusCode::UNAUTHORIZED, "Unauthenticated."),
            SandboxError::Unauthorized(text) => message(StatusCode::UNAUTHORIZED, text),
            SandboxError::NotFound(text) => message(StatusCode::NOT_FOUND, text),
            SandboxError::BadRequest(text) => message(StatusCode::BAD_REQUEST, text),
            SandboxError::PayloadTooLarge => message(
                StatusCode::PAYLOAD_TOO_LARGE,
                "The request body is too large.",
            ),
            SandboxError::Validation(body) => {
                (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
            }
            SandboxError::HoldConflict(body) => (StatusCode::CONFLICT, Json(*body)).into_response(),
            SandboxError::TimeslotHoldConflict(body) => {
                (StatusCode::CONFLICT, Json(*body)).into_response()
            }
            SandboxError::Database(error) => {
                tracing::error!(%error, "database error");
                message(StatusCode::INTERNAL_SERVER_ERROR, SERVER_ERROR)
            }
            SandboxError::Internal(error) => {
                tracing::error!(%error, "internal error");
                message(StatusCode::INTERNAL_SERVER_ERROR, SERVER_ERROR)
            }
        }
    }
}

/// A `{ "message": ... }` response.
pub(crate) fn message(status: StatusCode, text: &str) -> Response {
    (
        status,
        Json(ApiError {
            message: text.to_owned(),
            request_id: None,
        }),
    )
        .into_response()
}

/// Fallback for unknown routes.
pub(crate) async fn not_found() -> Response {
    message(StatusCode::NOT_FOUND, "Not found.")
}

/// Answers a panicked request with a logged 500 JSON body.
pub(crate) fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    message(StatusCode::INTERNAL_SERVER_ERROR, SERVER_ERROR)
}

/// The Laravel-style message of an error response that had no JSON body
/// (see `booking_http::json_errors`).
pub(crate) fn json_error_message(method: &Method, status: StatusCode) -> String {
    match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            format!("The {method} method is not supported for this route.")
        }
        StatusCode::NOT_FOUND => "Not found.".to_owned(),
        StatusCode::PAYLOAD_TOO_LARGE => "The request body is too large.".to_owned(),
        status if status.is_server_error() => SERVER_ERROR.to_owned(),
        status => status.canonical_reason().map_or_else(
            || "Request failed.".to_owned(),
            |reason| format!("{reason}."),
        ),
    }
}
