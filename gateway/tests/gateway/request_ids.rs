//! Request ids: a load balancer's sane `X-Request-Id` is kept, any other
//! replaced; the id goes upstream on every call the request makes, comes
//! back in the answer's header and in every JSON error body.

use axum::http::{Method, StatusCode};
use booking_core::widget_api::is_request_id;

use crate::support::{send, Fault, Reply, Stack, Target, Widget};

/// GET an `/api` path with the widget's session and `X-Request-Id: id`.
async fn get_with_id(widget: &Widget, path: &str, id: &str) -> Reply {
    send(
        widget
            .client
            .get(format!("{}/api{path}", widget.base))
            .header("x-hbg-session", &widget.session)
            .header("x-request-id", id),
    )
    .await
}

/// The `X-Request-Id` of an answer.
fn id_of(reply: &Reply) -> &str {
    reply
        .headers
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_else(|| panic!("an X-Request-Id on {reply:?}"))
}

#[tokio::test]
async fn a_sent_request_id_travels_upstream_and_back() {
    let stack = Stack::start().await;
    let widget = stack.widget().await;
    stack.proxy.clear();
    let reply = get_with_id(&widget, "/courses", "lb-7f3a.01_x").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(id_of(&reply), "lb-7f3a.01_x");
    let seen = stack.proxy.seen();
    assert!(!seen.is_empty(), "the courses were read upstream");
    for call in &seen {
        assert_eq!(
            call.request_headers
                .get("x-request-id")
                .map(|id| id.to_str().unwrap()),
            Some("lb-7f3a.01_x"),
            "{} {}",
            call.method,
            call.path
        );
    }
}

#[tokio::test]
async fn error_bodies_carry_the_request_id() {
    let stack = Stack::start().await;
    let widget = stack.widget().await;

    let not_found = get_with_id(&widget, "/bookings/not-a-reference", "req-404").await;
    assert_eq!(
        not_found.status,
        StatusCode::NOT_FOUND,
        "{}",
        not_found.text
    );
    assert_eq!(not_found.body["request_id"], "req-404");
    assert_eq!(id_of(&not_found), "req-404");

    let unreadable = send(
        widget
            .client
            .post(format!("{}/api/holds", widget.base))
            .header("x-hbg-session", &widget.session)
            .header("x-request-id", "req-bad-body")
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert!(unreadable.status.is_client_error(), "{}", unreadable.text);
    assert_eq!(unreadable.body["request_id"], "req-bad-body");

    let no_session = send(
        stack
            .client
            .get(format!("{}/api/courses", stack.gateway.url()))
            .header("x-request-id", "req-401"),
    )
    .await;
    assert_eq!(
        no_session.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        no_session.text
    );
    assert_eq!(no_session.body["request_id"], "req-401");
}

#[tokio::test]
async fn an_upstream_failure_answers_with_the_id_the_upstream_saw() {
    let stack = Stack::start().await;
    let widget = stack.widget().await;
    stack
        .proxy
        .fault_next(Target::exactly(Method::GET, "/courses"), Fault::ServerError);
    let reply = get_with_id(&widget, "/courses", "req-502").await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY, "{}", reply.text);
    assert_eq!(reply.body["request_id"], "req-502");
    let failed = stack.proxy.faulted(Fault::ServerError);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].request_headers["x-request-id"], "req-502");
}

#[tokio::test]
async fn a_request_id_that_is_not_sane_is_replaced() {
    let stack = Stack::start().await;
    let widget = stack.widget().await;
    let too_long = "a".repeat(65);
    for bad in ["has space", "a/b", "<script>", too_long.as_str()] {
        stack.proxy.clear();
        let reply = get_with_id(&widget, "/bookings/not-a-reference", bad).await;
        let id = id_of(&reply);
        assert_ne!(id, bad);
        assert!(is_request_id(id), "{id:?}");
        assert_eq!(reply.body["request_id"], id);
    }
    let longest = "b".repeat(64);
    let reply = get_with_id(&widget, "/bookings/not-a-reference", &longest).await;
    assert_eq!(id_of(&reply), longest);
}

#[tokio::test]
async fn requests_without_an_id_each_get_a_new_one() {
    let stack = Stack::start().await;
    let url = format!("{}/healthz", stack.gateway.url());
    let first = send(stack.client.get(&url)).await;
    let second = send(stack.client.get(&url)).await;
    assert!(is_request_id(id_of(&first)), "{first:?}");
    assert!(is_request_id(id_of(&second)), "{second:?}");
    assert_ne!(id_of(&first), id_of(&second));
}
