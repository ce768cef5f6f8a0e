//! What the agency's account can pay with: a granted hold names the pay
//! options the gateway allows that the account cannot use for that place
//! (no credit left for the course, a balance short of the cost), read from
//! the upstream's `/credits` as fresh as the events.

use std::time::Duration;

use crate::support::{Stack, OPENING_BALANCE_PENCE, OPENING_CREDITS};
use booking_core::api::PayOption;
use reqwest::StatusCode;
use serde_json::{json, Value};

const COURSE: u64 = 2;

/// A training event of `COURSE` a week ahead that costs `pounds`.
async fn event_costing(stack: &Stack, pounds: f64) -> u64 {
    let now = crate::support::sandbox_now(&stack.client, stack.sandbox.url()).await;
    let reply = stack
        .client
        .post(format!("{}/_sandbox/training-events", stack.sandbox.url()))
        .json(&json!({
            "course_id": COURSE,
            "location_id": 1,
            "start_date": (now + chrono::Duration::days(7)).to_rfc3339(),
            "capacity": 10,
            "cost_inc_vat": pounds,
        }))
        .send()
        .await
        .expect("fixture");
    assert_eq!(reply.status(), StatusCode::CREATED);
    let body: Value = reply.json().await.expect("json");
    body["id"].as_u64().expect("event id")
}

#[tokio::test]
async fn a_hold_names_the_pay_options_the_account_cannot_use_for_its_seat() {
    let stack = Stack::start_with(|config, _| {
        config.pay_options = PayOption::KNOWN.to_vec();
        config.cache.events = Duration::ZERO;
    })
    .await;
    let widget = stack.widget().await;

    let affordable = widget.hold(event_costing(&stack, 95.0).await, None).await;
    assert_eq!(affordable.status, StatusCode::OK, "{}", affordable.text);
    assert!(
        affordable.body.get("cannot_pay_with").is_none(),
        "a credit and the balance both pay for it: {}",
        affordable.text
    );
    let released = widget
        .delete(&format!(
            "/holds/{}",
            affordable.body["hold_ref"].as_str().unwrap()
        ))
        .await;
    assert_eq!(released.status, StatusCode::NO_CONTENT);

    let dear_pounds = (OPENING_BALANCE_PENCE + 100) as f64 / 100.0;
    let dear = widget
        .hold(event_costing(&stack, dear_pounds).await, None)
        .await;
    assert_eq!(dear.status, StatusCode::OK, "{}", dear.text);
    assert_eq!(
        dear.body["cannot_pay_with"],
        json!(["balance"]),
        "{}",
        dear.text
    );
    let released = widget
        .delete(&format!(
            "/holds/{}",
            dear.body["hold_ref"].as_str().unwrap()
        ))
        .await;
    assert_eq!(released.status, StatusCode::NO_CONTENT);

    for spent in 0..OPENING_CREDITS {
        let hold_ref = widget.hold_ref(stack.create_event(COURSE, 10).await).await;
        let booked = widget
            .book(&hold_ref, &PayOption::Credits, &format!("credit-{spent}"))
            .await;
        assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);
    }
    assert_eq!(
        stack.wallet(COURSE).await.0,
        0,
        "every credit of the course is spent"
    );
    let no_credit = widget.hold(event_costing(&stack, 95.0).await, None).await;
    assert_eq!(no_credit.status, StatusCode::OK, "{}", no_credit.text);
    assert_eq!(
        no_credit.body["cannot_pay_with"],
        json!(["credits"]),
        "{}",
        no_credit.text
    );
}
