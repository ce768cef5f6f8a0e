//! The gateway against the sandbox's upstream profiles (`/_sandbox/profile`):
//! where the published API is silent, the gateway works whichever answer the
//! upstream gives.

mod gateway_support;

use gateway_support::Stack;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Sets switches of the sandbox's upstream profile.
async fn set_profile(stack: &Stack, switches: Value) {
    let reply = stack
        .client
        .post(format!("{}/_sandbox/profile", stack.sandbox.url()))
        .json(&switches)
        .send()
        .await
        .expect("sandbox answers");
    assert_eq!(reply.status(), StatusCode::OK);
}

#[tokio::test]
async fn lists_are_whole_when_the_upstream_takes_pages_of_fifty_at_most() {
    let stack = Stack::start().await;
    set_profile(&stack, json!({"max_per_page": 50})).await;
    let course = 2;
    let (status, first) = stack
        .sandbox_get(&format!("/training-events?course_id={course}&per_page=1"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let total = first["meta"]["total"].as_u64().expect("a total");
    assert!(total > 50, "more events than one page of fifty: {total}");

    let widget = stack.widget().await;
    let events = widget
        .get(&format!("/training-events?course_id={course}"))
        .await;
    assert_eq!(events.status, StatusCode::OK, "{}", events.text);
    assert_eq!(events.body.as_array().unwrap().len() as u64, total);
    assert_eq!(
        stack.proxy.count(Method::GET, "/training-events") as u64,
        1 + total.div_ceil(50),
        "one refused page of 100, then pages of 50"
    );

    stack.proxy.clear();
    let courses = widget.get("/courses").await;
    assert_eq!(courses.status, StatusCode::OK, "{}", courses.text);
    assert_eq!(
        stack.proxy.count(Method::GET, "/courses"),
        1,
        "the smaller page is remembered: no second refusal"
    );
}
