//! The safety net both servers put under their JSON APIs: any error
//! response whose body is not JSON (an axum rejection, a 405, a body-limit
//! 413) is rewritten into `{ "message": ... }`.
//!
//! Invariants: the status and every header but the body's own
//! (`Content-Length`, `Content-Encoding`) are kept, so `Allow` and
//! `Retry-After` survive; successes and JSON errors pass untouched; each
//! server words the messages its own way ([`Wording`]); a rewritten body
//! carries the request's `X-Request-Id` as `request_id` when the request has
//! a sane one (`booking_core::widget_api::is_request_id`).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use booking_core::api::ApiError;
use booking_core::widget_api::{is_request_id, REQUEST_ID_HEADER};

/// The message a rewritten error carries, from the request's method and the
/// response's status.
pub type Wording = fn(&Method, StatusCode) -> String;

/// Rewrites an error response without a JSON body into `{ "message": ... }`
/// worded by the state's [`Wording`]. Mount it with
/// `from_fn_with_state(wording, json_errors)`.
pub async fn json_errors(State(wording): State<Wording>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|value| is_request_id(value))
        .map(str::to_owned);
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if is_json {
        return response;
    }
    let (mut parts, _body) = response.into_parts();
    let body = serde_json::to_vec(&ApiError {
        message: wording(&method, status),
        request_id,
    })
    .unwrap_or_default();
    parts.headers.remove(CONTENT_LENGTH);
    parts.headers.remove(CONTENT_ENCODING);
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use axum::http::header::{ALLOW, RETRY_AFTER};
    use axum::middleware::from_fn_with_state;
    use axum::response::IntoResponse;
    use axum::routing::get;
    use axum::{Json, Router};
    use tower::Service;

    use super::*;

    fn wording(method: &Method, status: StatusCode) -> String {
        format!("{method} {}", status.as_u16())
    }

    async fn answer(path: &str, method: Method) -> (StatusCode, Vec<(String, String)>, String) {
        answer_with(path, method, &[]).await
    }

    async fn answer_with(
        path: &str,
        method: Method,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Vec<(String, String)>, String) {
        let mut app = Router::new()
            .route("/ok", get(|| async { "fine" }))
            .route(
                "/plain",
                get(|| async {
                    (
                        StatusCode::TOO_MANY_REQUESTS,
                        [(RETRY_AFTER, "7"), (CONTENT_ENCODING, "br")],
                        "slow down",
                    )
                        .into_response()
                }),
            )
            .route(
                "/json",
                get(|| async {
                    (
                        StatusCode::NOT_FOUND,
                        Json(ApiError {
                            message: "Booking not found.".into(),
                            request_id: None,
                        }),
                    )
                }),
            )
            .layer(from_fn_with_state(wording as Wording, json_errors));
        let mut request = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Body::empty()).unwrap();
        let response = app.call(request).await.unwrap();
        let status = response.status();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
            .collect();
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        (status, headers, String::from_utf8(body.to_vec()).unwrap())
    }

    fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
        headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    #[tokio::test]
    async fn plain_errors_become_json_keeping_status_and_headers() {
        let (status, headers, body) = answer("/plain", Method::GET).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(body, r#"{"message":"GET 429"}"#);
        assert_eq!(header(&headers, "content-type"), Some("application/json"));
        assert_eq!(header(&headers, "retry-after"), Some("7"));
        assert_eq!(header(&headers, "content-encoding"), None);

        let (status, headers, body) = answer("/ok", Method::DELETE).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(body, r#"{"message":"DELETE 405"}"#);
        assert!(header(&headers, ALLOW.as_str()).is_some_and(|allow| allow.contains("GET")));

        let (status, _, body) = answer("/nowhere", Method::GET).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body, r#"{"message":"GET 404"}"#);
    }

    #[tokio::test]
    async fn a_rewritten_error_carries_a_sane_request_id() {
        let (_, _, body) =
            answer_with("/plain", Method::GET, &[("x-request-id", "lb-1.a_b")]).await;
        assert_eq!(body, r#"{"message":"GET 429","request_id":"lb-1.a_b"}"#);
        let (_, _, body) = answer_with("/plain", Method::GET, &[("x-request-id", "a b")]).await;
        assert_eq!(body, r#"{"message":"GET 429"}"#);
    }

    #[tokio::test]
    async fn successes_and_json_errors_pass_untouched() {
        let (status, _, body) = answer("/ok", Method::GET).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "fine"));
        let (status, _, body) = answer("/json", Method::GET).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body, r#"{"message":"Booking not found."}"#);
    }
}
