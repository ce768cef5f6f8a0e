//! What the agency's account can pay with: for a session's held place the
//! gateway names the allowed pay options the account cannot use (no credit
//! left for the course, a balance short of the cost), read from the
//! upstream's `/credits` as fresh as the events, outside the hold itself.

use std::time::Duration;

use crate::support::{Reply, Stack, Widget, OPENING_BALANCE_PENCE, OPENING_CREDITS};
use booking_core::api::PayOption;
use reqwest::{Method, StatusCode};
use serde_json::json;

const COURSE: u64 = 2;

/// What the gateway says of the pay options for `hold_ref`, a place of
/// `COURSE` costing `pence`.
async fn pay_options(widget: &Widget, hold_ref: &str, pence: i64) -> Reply {
    widget
        .get(&format!(
            "/holds/{hold_ref}/pay-options?course_id={COURSE}&cost={pence}"
        ))
        .await
}

#[tokio::test]
async fn the_pay_options_the_account_cannot_use_are_named_for_a_held_place() {
    let stack = Stack::start_with(|config, _| {
        config.pay_options = PayOption::KNOWN.to_vec();
        config.cache.events = Duration::ZERO;
    })
    .await;
    let widget = stack.widget().await;
    let hold_ref = widget.hold_ref(stack.create_event(COURSE, 10).await).await;

    let affordable = pay_options(&widget, &hold_ref, 9_500).await;
    assert_eq!(affordable.status, StatusCode::OK, "{}", affordable.text);
    assert_eq!(affordable.body, json!({ "cannot_pay_with": [] }));
    let dear = pay_options(&widget, &hold_ref, OPENING_BALANCE_PENCE + 100).await;
    assert_eq!(
        dear.body,
        json!({ "cannot_pay_with": ["balance"] }),
        "{}",
        dear.text
    );

    for spent in 0..OPENING_CREDITS {
        let place = widget.hold_ref(stack.create_event(COURSE, 10).await).await;
        let booked = widget
            .book(&place, &PayOption::Credits, &format!("credit-{spent}"))
            .await;
        assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);
    }
    assert_eq!(
        stack.wallet(COURSE).await.0,
        0,
        "every credit of the course is spent"
    );
    let no_credit = pay_options(&widget, &hold_ref, 9_500).await;
    assert_eq!(
        no_credit.body,
        json!({ "cannot_pay_with": ["credits"] }),
        "{}",
        no_credit.text
    );
}

#[tokio::test]
async fn the_pay_options_are_read_for_the_sessions_own_hold_only_and_never_in_the_hold() {
    let stack = Stack::start_with(|config, _| config.pay_options = PayOption::KNOWN.to_vec()).await;
    let widget = stack.widget().await;
    let hold_ref = widget.hold_ref(stack.create_event(COURSE, 10).await).await;
    assert_eq!(
        stack.proxy.count(Method::GET, "/credits"),
        0,
        "a hold is answered without reading the wallet"
    );
    let stranger = stack.widget().await;
    let refused = pay_options(&stranger, &hold_ref, 9_500).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.text);
    let unnamed = widget.get(&format!("/holds/{hold_ref}/pay-options")).await;
    assert_eq!(unnamed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unnamed.body["errors"]["course_id"].is_array(),
        "{}",
        unnamed.text
    );
    assert_eq!(
        stack.proxy.count(Method::GET, "/credits"),
        0,
        "nothing read for a refusal"
    );

    for _ in 0..3 {
        let read = pay_options(&widget, &hold_ref, 9_500).await;
        assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    }
    assert_eq!(
        stack.proxy.count(Method::GET, "/credits"),
        1,
        "read once, then from the cache"
    );
}
