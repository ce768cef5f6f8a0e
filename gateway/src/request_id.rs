//! Each request's id: the `X-Request-Id` a load balancer sent when it is
//! sane ([`is_request_id`]), else a new random one.
//!
//! [`assign`] (the outermost middleware) puts it in the request's header,
//! which the request's span takes as its `request_id` field (so every log
//! line of the request carries it), and in the answer's `X-Request-Id`.
//! While the request is served, [`current`] names it: the upstream client
//! sends it as `X-Request-Id` on every call the request makes, and every
//! JSON error body carries it as `request_id` ([`error_body`]; the shared
//! safety net reads the request's header). Work a request leaves to run
//! later ([`carried`]) keeps its id and span.
//!
//! Invariants: an id is 1 to 64 characters of `[A-Za-z0-9._-]`, so it is
//! safe in a header, a log line and a JSON string; an id that is not is
//! never used, in the log or anywhere else.

use std::future::Future;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use booking_core::widget_api::{is_request_id, REQUEST_ID_HEADER};
use rand::RngCore;
use serde::Serialize;
use tracing::Instrument;

/// The request id header.
pub const HEADER: HeaderName = HeaderName::from_static(REQUEST_ID_HEADER);

tokio::task_local! {
    static CURRENT: RequestId;
}

/// A request's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(Arc<str>);

impl RequestId {
    /// A new random id: 32 hexadecimal digits.
    fn random() -> RequestId {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
        RequestId(hex.into())
    }

    /// The id a request's `X-Request-Id` value gives, when it is sane.
    fn sent(value: &HeaderValue) -> Option<RequestId> {
        value
            .to_str()
            .ok()
            .filter(|value| is_request_id(value))
            .map(|value| RequestId(value.into()))
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The id of the request being served, if any.
pub fn current() -> Option<RequestId> {
    CURRENT.try_with(RequestId::clone).ok()
}

/// `future`, run later than the request that starts it (a spawned task),
/// with that request's id and span.
pub fn carried<F: Future>(future: F) -> impl Future<Output = F::Output> {
    let id = current();
    let span = tracing::Span::current();
    async move {
        match id {
            Some(id) => CURRENT.scope(id, future).await,
            None => future.await,
        }
    }
    .instrument(span)
}

/// `body` as JSON with the current request's id as `request_id` (when
/// `body` is an object and a request is being served).
pub fn error_body(body: &impl Serialize) -> serde_json::Value {
    let mut value = serde_json::to_value(body).unwrap_or_default();
    if let (Some(object), Some(id)) = (value.as_object_mut(), current()) {
        object.insert("request_id".to_owned(), id.as_str().into());
    }
    value
}

/// Middleware: gives the request its id (the one sent, when sane, else a
/// new one) in its `X-Request-Id`, serves it with that id [`current`], and
/// answers with it in `X-Request-Id`.
pub async fn assign(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(&HEADER)
        .and_then(RequestId::sent)
        .unwrap_or_else(RequestId::random);
    let value = HeaderValue::from_str(id.as_str());
    match &value {
        Ok(value) => request.headers_mut().insert(HEADER, value.clone()),
        Err(_) => request.headers_mut().remove(HEADER),
    };
    let mut response = CURRENT.scope(id, next.run(request)).await;
    if let Ok(value) = value {
        response.headers_mut().insert(HEADER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_are_sane_and_differ() {
        let (one, two) = (RequestId::random(), RequestId::random());
        assert!(is_request_id(one.as_str()), "{one:?}");
        assert_ne!(one, two);
    }
}
