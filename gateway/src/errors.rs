//! Every way a gateway request can fail, and the JSON the widget gets for it.
//!
//! Invariants: every `/api` failure answers JSON, `{ "message": ... }` and
//! the request's id as `request_id` (`super::request_id`), with
//! `errors` per field on 422 (the upstream's field errors passed through,
//! `hold_hash` renamed to `hold_ref`); messages are written for candidates and
//! never carry credentials, tokens, upstream URLs or the cause of an upstream
//! failure (that goes to the log, without secrets). The servers' shared
//! `json_errors` middleware, worded by [`json_error_message`], is the safety
//! net that turns any other error response under `/api` (an axum rejection, a
//! 405, a body-limit 413) into that shape.

use std::collections::BTreeMap;

use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use booking_core::api::{ApiError, ValidationError};
use booking_core::manage::LinkRefusal;
use booking_core::widget_api::{QueuePlace, SeatTaken};

use super::memory::HoldRefusal;
use super::request_id::error_body;

/// Message for requests without a valid session.
pub const NO_SESSION: &str = "Start a new booking session.";

/// Everything a gateway request can fail with.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GatewayError {
    /// The request carried no valid session token (401).
    #[error("no valid session")]
    NoSession,
    /// Unknown id, or a reference that does not belong to the caller's
    /// session (404); the message says what was not found.
    #[error("not found")]
    NotFound(&'static str),
    /// A request the widget should never send (400).
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// A validation failure or business-rule violation (422).
    #[error("validation failed")]
    Validation(ValidationError),
    /// The seat is being held by another session (409).
    #[error("seat held by another session")]
    SeatTaken(SeatTaken),
    /// An `Origin` that is neither the gateway's own nor allow-listed (403).
    #[error("origin not allowed")]
    OriginNotAllowed,
    /// The request body is over the limit (413).
    #[error("request body too large")]
    PayloadTooLarge,
    /// The request body did not arrive within `body_timeout` (408).
    #[error("request body too slow")]
    BodyTimeout,
    /// The request accepts no content coding the gateway can answer in
    /// (406); refused before anything is done.
    #[error("no acceptable content coding")]
    NotAcceptable,
    /// This client sent too many requests (429).
    #[error("client over the rate limit")]
    TooManyRequests {
        /// Seconds until a request will be accepted.
        retry_after: u64,
    },
    /// The upstream answered 429 and no cached answer could stand in (503).
    #[error("upstream rate limit")]
    UpstreamBusy {
        /// Seconds the upstream asked to wait.
        retry_after: u64,
    },
    /// A hold or booking waits its turn under the upstream's rate limit
    /// (503): nothing was sent; the widget sends it again with the ticket.
    #[error("queued under the upstream's rate limit")]
    Queued(QueuePlace),
    /// The upstream refused the connection or could not be resolved (502).
    #[error("upstream unreachable")]
    Unreachable,
    /// The upstream did not answer within the timeout (504).
    #[error("upstream timed out")]
    Timeout,
    /// The request was not answered within `request_timeout` (504); its
    /// handler was dropped.
    #[error("request not answered within request_timeout")]
    RequestTimeout,
    /// The upstream answered in a way the gateway cannot pass on (502); the
    /// reason is for the log only.
    #[error("upstream failure: {0}")]
    BadGateway(String),
    /// The upstream refused the gateway's credentials (502).
    #[error("upstream refused the gateway's credentials")]
    UpstreamAuth,
    /// The gateway was started without API credentials (503).
    #[error("no API credentials configured")]
    NotConfigured,
    /// The shared store the gateway remembers booking attempts in did not
    /// answer, so a booking is not sent: it could not be kept from being
    /// made twice (503).
    #[error("shared store unavailable")]
    MemoryUnavailable,
    /// An earlier try of the same booking attempt is still being sent
    /// upstream (503): the widget asks again in a moment and then gets
    /// that try's booking.
    #[error("booking attempt in flight")]
    AttemptInFlight,
    /// The session or its client address holds as many seats as it may, or
    /// the gateway remembers as many holds as it can (429; 503 for the
    /// last): nothing was asked for.
    #[error("too many live holds")]
    HoldsCapped(HoldRefusal),
    /// A booking link that is not valid (404) or has expired (410).
    #[error("booking link refused")]
    Link(LinkRefusal),
}

impl From<HoldRefusal> for GatewayError {
    fn from(refusal: HoldRefusal) -> GatewayError {
        GatewayError::HoldsCapped(refusal)
    }
}

impl GatewayError {
    /// A 422 with one message for one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> GatewayError {
        let message = message.into();
        let mut errors = BTreeMap::new();
        errors.insert(field.to_owned(), vec![message.clone()]);
        GatewayError::Validation(ValidationError { message, errors })
    }

    /// Whether the upstream is the problem (rate limited, down, slow, broken),
    /// so a stale cached answer is better than an error.
    pub fn is_upstream_trouble(&self) -> bool {
        matches!(
            self,
            GatewayError::UpstreamBusy { .. }
                | GatewayError::Unreachable
                | GatewayError::Timeout
                | GatewayError::BadGateway(_)
                | GatewayError::UpstreamAuth
        )
    }

    /// Whether the upstream may have carried out a request that failed
    /// with this error: its answer was lost (a timeout, a broken
    /// connection) or was a 5xx or unreadable. Every other error is a
    /// definite outcome: the request was never sent, or the upstream
    /// refused it.
    pub fn leaves_outcome_unknown(&self) -> bool {
        matches!(self, GatewayError::Timeout | GatewayError::BadGateway(_))
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            GatewayError::NoSession => StatusCode::UNAUTHORIZED,
            GatewayError::NotFound(_) => StatusCode::NOT_FOUND,
            GatewayError::BadRequest(_) => StatusCode::BAD_REQUEST,
            GatewayError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            GatewayError::SeatTaken(_) => StatusCode::CONFLICT,
            GatewayError::OriginNotAllowed => StatusCode::FORBIDDEN,
            GatewayError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            GatewayError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            GatewayError::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            GatewayError::TooManyRequests { .. }
            | GatewayError::HoldsCapped(HoldRefusal::Session | HoldRefusal::Address) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            GatewayError::HoldsCapped(HoldRefusal::Full) => StatusCode::SERVICE_UNAVAILABLE,
            GatewayError::Link(LinkRefusal::Invalid) => StatusCode::NOT_FOUND,
            GatewayError::Link(LinkRefusal::Expired) => StatusCode::GONE,
            GatewayError::UpstreamBusy { .. }
            | GatewayError::Queued(_)
            | GatewayError::NotConfigured
            | GatewayError::MemoryUnavailable
            | GatewayError::AttemptInFlight => StatusCode::SERVICE_UNAVAILABLE,
            GatewayError::Unreachable
            | GatewayError::BadGateway(_)
            | GatewayError::UpstreamAuth => StatusCode::BAD_GATEWAY,
            GatewayError::Timeout | GatewayError::RequestTimeout => StatusCode::GATEWAY_TIMEOUT,
        }
    }

    /// The candidate-facing message.
    fn message(&self) -> String {
        match self {
            GatewayError::NoSession => NO_SESSION.to_owned(),
            GatewayError::NotFound(what) => (*what).to_owned(),
            GatewayError::BadRequest(message) => (*message).to_owned(),
            GatewayError::Validation(body) => body.message.clone(),
            GatewayError::SeatTaken(body) => body.message.clone(),
            GatewayError::Queued(place) => place.message.clone(),
            GatewayError::OriginNotAllowed => {
                "This booking service does not accept requests from this website.".to_owned()
            }
            GatewayError::PayloadTooLarge => "The request is too large.".to_owned(),
            GatewayError::BodyTimeout => {
                "The request took too long to arrive. Please try again.".to_owned()
            }
            GatewayError::NotAcceptable => {
                "The request accepts no answer the gateway can send: allow identity, gzip or br in Accept-Encoding.".to_owned()
            }
            GatewayError::TooManyRequests { retry_after } => format!(
                "Too many requests. Please try again in {} second{}.",
                retry_after,
                plural(*retry_after)
            ),
            GatewayError::UpstreamBusy { retry_after } => format!(
                "The booking service is busy. Please try again in {} second{}.",
                retry_after,
                plural(*retry_after)
            ),
            GatewayError::Unreachable | GatewayError::BadGateway(_) => {
                "The booking service is not reachable. Please try again in a moment.".to_owned()
            }
            GatewayError::UpstreamAuth => {
                "The booking service is not available right now. Please try again later.".to_owned()
            }
            GatewayError::Timeout | GatewayError::RequestTimeout => {
                "The booking service did not answer in time. Please try again in a moment."
                    .to_owned()
            }
            GatewayError::NotConfigured => {
                "Online booking is not set up on this server yet.".to_owned()
            }
            GatewayError::MemoryUnavailable => {
                "Nothing was booked: the booking service could not start it safely. Please try again in a moment.".to_owned()
            }
            GatewayError::AttemptInFlight => {
                "This booking is still being made. Please wait a moment, then try again.".to_owned()
            }
            GatewayError::HoldsCapped(HoldRefusal::Session) => {
                "You are already holding a seat. Book it, or go back to let it go, before holding another.".to_owned()
            }
            GatewayError::HoldsCapped(HoldRefusal::Address) => {
                "Too many seats are being held from your network right now. Please try again in a few minutes.".to_owned()
            }
            GatewayError::HoldsCapped(HoldRefusal::Full) => {
                "Too many seats are being held right now. Please try again in a few minutes.".to_owned()
            }
            GatewayError::Link(refusal) => refusal.message().to_owned(),
        }
    }

    /// The `Retry-After` seconds this error carries, if any.
    fn retry_after(&self) -> Option<u64> {
        match self {
            GatewayError::TooManyRequests { retry_after }
            | GatewayError::UpstreamBusy { retry_after } => Some((*retry_after).max(1)),
            GatewayError::Queued(place) => Some(u64::from(place.queued_for_seconds.max(1))),
            GatewayError::MemoryUnavailable | GatewayError::AttemptInFlight => Some(2),
            GatewayError::HoldsCapped(_) => Some(60),
            _ => None,
        }
    }
}

fn plural(count: u64) -> &'static str {
    if count == 1 {
        ""
    } else {
        "s"
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        match &self {
            GatewayError::BadGateway(reason) => {
                tracing::warn!(reason = %reason, "upstream failure");
            }
            GatewayError::UpstreamAuth => {
                tracing::error!(
                    "the upstream refused the gateway's credentials (check HBG_CLIENT_ID and HBG_API_KEY)"
                );
            }
            _ => {}
        }
        let status = self.status();
        let retry_after = self.retry_after();
        let body = match self {
            GatewayError::Validation(body) => error_body(&body),
            GatewayError::SeatTaken(body) => error_body(&body),
            GatewayError::Queued(place) => error_body(&place),
            other => error_body(&ApiError {
                message: other.message(),
                request_id: None,
            }),
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The candidate-facing message of an error response under `/api` that had
/// no JSON body (see `booking_http::json_errors`).
pub fn json_error_message(_method: &Method, status: StatusCode) -> String {
    match status {
        StatusCode::NOT_FOUND => "Not found.",
        StatusCode::METHOD_NOT_ALLOWED => "This method is not allowed here.",
        StatusCode::PAYLOAD_TOO_LARGE => "The request is too large.",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "Send the request body as JSON.",
        StatusCode::REQUEST_TIMEOUT => "The request took too long.",
        status if status.is_server_error() => "Something went wrong. Please try again.",
        _ => "The request could not be understood.",
    }
    .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_failures_map_to_gateway_statuses() {
        assert_eq!(GatewayError::Unreachable.status(), StatusCode::BAD_GATEWAY);
        assert_eq!(GatewayError::Timeout.status(), StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(
            GatewayError::BadGateway("500".into()).status(),
            StatusCode::BAD_GATEWAY
        );
        assert_eq!(
            GatewayError::UpstreamBusy { retry_after: 3 }.status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    #[test]
    fn bad_gateway_reason_stays_out_of_the_body() {
        let response = GatewayError::BadGateway("upstream said 500 at /secret".into());
        assert!(!response.message().contains("secret"));
    }

    #[test]
    fn rate_limits_carry_retry_after() {
        let response = GatewayError::TooManyRequests { retry_after: 7 }.into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[RETRY_AFTER], "7");
    }
}
