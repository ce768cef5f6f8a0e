//! The gateway's own origin: what a request says about where it was sent
//! (`Host`) must not make another site the gateway's own, or the payment
//! page would send the candidate there after paying.

use booking_core::api::PayOption;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{booking_body, send, Stack, Widget};

const COURSE: u64 = 1;

/// A stack whose candidates pay by card on the sandbox's checkout page.
async fn card_payment_stack() -> Stack {
    Stack::start_with(|config, sandbox| {
        config.pay_options = vec![PayOption::CandidatePays];
        config.payment_origins = vec![sandbox.url().to_owned()];
    })
    .await
}

/// Books a fresh hold for `widget` with `return_url`, sending `headers`.
async fn book_returning_to(
    stack: &Stack,
    widget: &Widget,
    return_url: &str,
    headers: &[(&str, &str)],
) -> crate::support::Reply {
    let event_id = stack.create_event(COURSE, 10).await;
    let hold_ref = widget.hold_ref(event_id).await;
    let mut body = booking_body(&hold_ref, "candidate_pays");
    body["return_url"] = json!(return_url);
    let mut request = widget
        .client
        .post(format!("{}/api/bookings", widget.base))
        .header("x-hbg-session", &widget.session)
        .header("idempotency-key", return_url)
        .json(&body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(request).await
}

/// The `return_url` of every booking the upstream was sent.
fn return_urls_sent(stack: &Stack) -> Vec<Option<String>> {
    stack
        .proxy
        .seen()
        .into_iter()
        .filter(|seen| seen.path == "/bookings" && seen.method == reqwest::Method::POST)
        .map(|seen| {
            let body: Value = serde_json::from_slice(&seen.request_body).expect("JSON");
            body["return_url"].as_str().map(str::to_owned)
        })
        .collect()
}

#[tokio::test]
async fn a_forged_host_cannot_send_the_candidate_to_another_site_after_paying() {
    let stack = card_payment_stack().await;
    let widget = stack.widget().await;
    let evil = "https://evil.example/booked";

    stack.proxy.clear();
    let forged = book_returning_to(
        &stack,
        &widget,
        evil,
        &[("host", "evil.example"), ("origin", "https://evil.example")],
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.text);
    let sent = return_urls_sent(&stack);
    assert!(
        !sent.contains(&Some(evil.to_owned())),
        "the upstream was sent {sent:?}"
    );

    // Without an `Origin` (not a browser), the booking is made but the
    // forged host's return URL is not passed on.
    stack.proxy.clear();
    let scripted = book_returning_to(&stack, &widget, evil, &[("host", "evil.example")]).await;
    assert_eq!(scripted.status, StatusCode::CREATED, "{}", scripted.text);
    assert_eq!(return_urls_sent(&stack), vec![None]);

    // The gateway's own pages still book and come back to it.
    stack.proxy.clear();
    let own = format!("{}/booked", stack.gateway.url());
    let same_origin =
        book_returning_to(&stack, &widget, &own, &[("origin", stack.gateway.url())]).await;
    assert_eq!(
        same_origin.status,
        StatusCode::CREATED,
        "{}",
        same_origin.text
    );
    assert_eq!(return_urls_sent(&stack), vec![Some(own.clone())]);
    let payment_url = same_origin.body["booking"]["payment_url"]
        .as_str()
        .expect("a payment page");
    assert!(payment_url.contains("return_url="), "{payment_url}");
}
