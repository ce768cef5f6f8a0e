//! Within the upstream's rate limit: 100 widget sessions loading the first
//! steps at once cost a handful of upstream calls.

use std::collections::BTreeMap;

use crate::support::{Stack, Widget};
use reqwest::StatusCode;

const SESSIONS: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_sessions_loading_the_first_steps_cost_a_handful_of_upstream_calls() {
    let stack = Stack::start().await;
    let course = 1;
    stack.create_event(course, 12).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(SESSIONS)
        .build()
        .unwrap();
    let base = stack.gateway.url().to_owned();
    let mut tasks = Vec::new();
    for _ in 0..SESSIONS {
        let (client, base) = (client.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let widget = Widget::start(client, &base).await;
            let events_path = format!("/training-events?course_id={course}");
            let (courses, events) = tokio::join!(widget.get("/courses"), widget.get(&events_path));
            for reply in [&courses, &events] {
                assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
            }
            events.body.as_array().map_or(0, Vec::len)
        }));
    }
    for task in tasks {
        assert!(task.await.unwrap() > 0, "every session sees the events");
    }

    let seen = stack.proxy.seen();
    let mut per_path: BTreeMap<String, usize> = BTreeMap::new();
    for call in &seen {
        *per_path.entry(call.path.clone()).or_default() += 1;
    }
    println!(
        "{SESSIONS} sessions x 3 widget requests: {} upstream calls {per_path:?}",
        seen.len()
    );
    for path in ["/auth/token", "/profile", "/courses", "/training-events"] {
        assert_eq!(per_path.get(path), Some(&1), "{path}: {per_path:?}");
    }
    assert_eq!(seen.len(), 4, "{per_path:?}");
}
