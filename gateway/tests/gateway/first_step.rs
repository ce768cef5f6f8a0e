//! `GET /api/first-step`: the widget's first step as HTML, shown before
//! its module has loaded. Course names come from the upstream, so an
//! upstream naming a course with markup stands in for it here: every text
//! must arrive escaped.

use std::net::SocketAddr;

use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use booking_gateway::{spawn_gateway, RunningGateway};
use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::support::{gateway_config, temp_dir, Account, TempDir};

/// A course name that would run script if it were markup.
const HOSTILE: &str = "<img src=x onerror=\"alert('course')\">Moving & Handling <b>Practical</b>";

/// An upstream with two courses, the first named with markup.
async fn upstream() -> String {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("the upstream binds");
    let address = listener.local_addr().expect("address");
    let token = || async {
        Json(json!({
            "access_token": "access", "refresh_token": "refresh", "token_type": "Bearer",
            "expires_in": 3600, "refresh_expires_in": 604_800,
        }))
    };
    let courses = || async {
        Json(json!({
            "data": [
                { "id": 4, "name": HOSTILE, "duration_minutes": 420, "cost_inc_vat": 95.5 },
                { "id": 5, "name": "Fire Safety", "duration_minutes": 180 },
            ],
            "meta": { "current_page": 1, "per_page": 100, "last_page": 1, "total": 2 },
            "links": { "next": null, "prev": null },
        }))
    };
    let app = Router::new()
        .route("/api/v1/auth/token", post(token))
        .route("/api/v1/courses", get(courses))
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                Json(json!({ "message": "Not found." })),
            )
        });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{address}/api/v1")
}

async fn gateway() -> (RunningGateway, TempDir) {
    let dir = temp_dir("first-step");
    let account = Account {
        client_id: "HB-TEST".to_owned(),
        api_key: "key".to_owned(),
    };
    let config = gateway_config(&upstream().await, &account, dir.path());
    (spawn_gateway(config).await.expect("gateway starts"), dir)
}

/// The answer's status, and the step's HTML and courses when there is one
/// (else the body as it came).
async fn first_step(gateway: &RunningGateway, query: &str) -> (StatusCode, String, Value) {
    let response = reqwest::get(format!("{}/api/first-step{query}", gateway.url()))
        .await
        .expect("answered");
    let status = response.status();
    let text = response.text().await.expect("body");
    if status != StatusCode::OK {
        return (status, text, Value::Null);
    }
    let answer: Value = serde_json::from_str(&text).expect("a JSON answer");
    let html = answer["html"].as_str().expect("html").to_owned();
    (status, html, answer["courses"].clone())
}

#[tokio::test]
async fn the_course_list_arrives_as_escaped_html_with_the_widgets_words() {
    let (gateway, _dir) = gateway().await;
    let (status, html, courses) = first_step(&gateway, "?product=practical").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains("<p class=\"hbg-progress\">Step 1 of 6</p>"),
        "{html}"
    );
    assert!(html.contains(">Choose a course</h2>"), "{html}");
    assert!(
        html.contains(
            "<span class=\"hbg-choice-title\">&lt;img src=x onerror=&quot;alert(&#39;course&#39;)&quot;&gt;\
             Moving &amp; Handling &lt;b&gt;Practical&lt;/b&gt;</span>\
             <span class=\"hbg-choice-meta\">£95.50 per place</span>"
        ),
        "{html}"
    );
    assert!(!html.contains("<img") && !html.contains("<b>"), "{html}");
    assert_eq!(
        html.matches("<button type=\"button\" class=\"hbg-choice\"")
            .count(),
        2
    );
    // The courses as `GET /api/courses` answers them, for the module.
    assert_eq!(courses[0]["name"], HOSTILE);
    assert_eq!(courses[1]["id"], 5);
}

#[tokio::test]
async fn several_products_are_a_choice_and_a_preselected_course_waits_for_the_module() {
    let (gateway, _dir) = gateway().await;
    let (status, html, courses) = first_step(&gateway, "?product=practical+virtual-bls").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(">Choose the training</h2>"), "{html}");
    assert!(
        html.contains("Virtual Basic Life Support over Zoom"),
        "{html}"
    );
    assert_eq!(courses, serde_json::json!([]));
    let (status, html, _) = first_step(&gateway, "?product=practical&course=4").await;
    assert_eq!((status, html.as_str()), (StatusCode::NO_CONTENT, ""));
    let (status, body, _) = first_step(&gateway, "?product=nonsense").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.contains("The product must be practical or virtual-bls."),
        "{body}"
    );
}
