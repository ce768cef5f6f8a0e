//! Booking invites over real HTTP: create, list and get with their errors;
//! the outbox; the invite link's page; a booking made through it, tied to
//! the invite; and the `booking_invite.*` webhooks, signed and in order.

use crate::common::receiver::TestReceiver;
use crate::common::{Harness, DEMO, NOINV};
use reqwest::header::LOCATION;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A page of the sandbox's HTML: status and text.
async fn html(
    h: &Harness,
    method: Method,
    url: &str,
    form: Option<&str>,
) -> (StatusCode, String, Option<String>) {
    let mut request = h.client.request(method, url);
    if let Some(form) = form {
        request = request
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned());
    }
    let response = request.send().await.expect("answered");
    let status = response.status();
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    (status, response.text().await.expect("text"), location)
}

async fn invite(h: &Harness, token: &str, body: Value) -> Value {
    let reply = h.post(Some(token), "/booking-invites", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

fn candidate(course_id: i64, pay_option: Option<&str>) -> Value {
    let mut body = json!({
        "first_name": "Aisha",
        "last_name": "Khan",
        "email": "aisha.khan@carestaff.example",
        "course_id": course_id,
    });
    if let Some(pay_option) = pay_option {
        body["pay_option"] = json!(pay_option);
    }
    body
}

/// The account's emails in the test-mode outbox.
async fn outbox(h: &Harness, token: &str) -> Vec<Value> {
    let reply = h
        .send(
            Method::GET,
            &h.url("/_sandbox/outbox"),
            Some(token),
            None,
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    reply.body["data"].as_array().expect("emails").clone()
}

#[tokio::test]
async fn an_invite_is_sent_opened_and_used_with_its_webhooks() {
    let h = Harness::start_with_file().await;
    let token = h.login(DEMO).await;
    let receiver = TestReceiver::start().await;
    let endpoint = h
        .create_endpoint(
            &token,
            &receiver.url,
            &[
                "booking_invite.sent",
                "booking_invite.opened",
                "booking_invite.used",
                "booking.created",
            ],
        )
        .await;
    receiver.set_secret(endpoint["secret"].as_str().unwrap());
    let event = h.create_event(2, 12, 72).await;

    let created = invite(&h, &token, candidate(2, Some("credits"))).await;
    let id = created["id"].as_i64().expect("id");
    assert_eq!(created["status"], "sent");
    assert_eq!(created["candidate"]["name"], "Aisha Khan");
    assert_eq!(
        created["candidate"]["email"],
        "aisha.khan@carestaff.example"
    );
    assert_eq!(created["course"]["id"], 2);
    assert_eq!(created["pay_option"], "credits");
    assert!(created["booking_id"].is_null());
    assert!(created["opened_at"].is_null());
    let link = created["invite_url"].as_str().expect("link").to_owned();
    assert!(
        link.starts_with(&format!(
            "{}/practical-training/?sgi=NWCARE07&invite=",
            h.sandbox.url()
        )),
        "{link}"
    );

    // "Sent": the email is in the outbox with the link.
    let emails = outbox(&h, &token).await;
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0]["to"]["email"], "aisha.khan@carestaff.example");
    assert_eq!(emails[0]["to"]["name"], "Aisha Khan");
    assert_eq!(emails[0]["link"], link.as_str());
    assert_eq!(emails[0]["booking_invite_id"], id);
    assert!(emails[0]["body"].as_str().unwrap().contains(&link));
    assert!(emails[0]["subject"]
        .as_str()
        .unwrap()
        .contains("Moving & Handling Practical"));

    // The link opens the booking page with the invite applied.
    let (status, page, _) = html(&h, Method::GET, &link, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Hello Aisha"), "{page}");
    assert!(page.contains("Moving &amp; Handling Practical"));
    assert!(page.contains(&format!("name=\"event_id\" value=\"{event}\"")));
    let opened = h.get(&token, &format!("/booking-invites/{id}")).await;
    assert_eq!(opened.body["status"], "opened");
    assert!(opened.body["opened_at"].is_string());
    // Opening again changes nothing.
    html(&h, Method::GET, &link, None).await;

    // Booking through it.
    let action = page
        .split("action=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a form")
        .to_owned();
    let (status, booked_page, _) = html(
        &h,
        Method::POST,
        &h.url(&action),
        Some(&format!("event_id={event}")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{booked_page}");
    assert!(booked_page.contains("is booked"));
    let used = h.get(&token, &format!("/booking-invites/{id}")).await.body;
    assert_eq!(used["status"], "used");
    assert!(used["used_at"].is_string());
    let booking_id = used["booking_id"].as_i64().expect("tied to its booking");
    let booking = h.get(&token, &format!("/bookings/{booking_id}")).await.body;
    assert_eq!(booking["candidate"]["name"], "Aisha Khan");
    assert_eq!(
        booking["candidate"]["email"],
        "aisha.khan@carestaff.example"
    );
    assert_eq!(booking["pay_option"], "credits");
    assert_eq!(booking["booking_status"], "booked");

    let events = receiver.wait_for_events(4).await;
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "booking_invite.sent",
            "booking_invite.opened",
            "booking.created",
            "booking_invite.used"
        ]
    );
    assert_eq!(events[0]["data"]["id"], id);
    assert_eq!(events[0]["data"]["status"], "sent");
    assert_eq!(events[1]["data"]["status"], "opened");
    assert_eq!(events[2]["data"]["id"], booking_id);
    assert_eq!(events[3]["data"]["booking_id"], booking_id);
    assert!(receiver.rejections().is_empty());

    // A used invite books nothing more.
    let (status, again, _) = html(
        &h,
        Method::POST,
        &h.url(&action),
        Some(&format!("event_id={event}")),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.contains("already been used"));
    let (status, reopened, _) = html(&h, Method::GET, &link, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(reopened.contains(&format!("booking #{booking_id}")));
    assert_eq!(receiver.events().len(), 4);
}

#[tokio::test]
async fn a_candidate_pays_invite_goes_on_to_the_checkout_page() {
    let h = Harness::start_with_file().await;
    let token = h.login(DEMO).await;
    let receiver = TestReceiver::start().await;
    let endpoint = h
        .create_endpoint(
            &token,
            &receiver.url,
            &["booking.created", "booking.confirmed"],
        )
        .await;
    receiver.set_secret(endpoint["secret"].as_str().unwrap());
    let event = h.create_event(2, 12, 72).await;
    let created = invite(&h, &token, candidate(2, None)).await;
    assert_eq!(created["pay_option"], "candidate_pays", "the default");
    let token_part = created["invite_url"]
        .as_str()
        .unwrap()
        .rsplit("invite=")
        .next()
        .unwrap()
        .to_owned();
    // Posting straight from the email's link, without opening the page first.
    let (status, _, location) = html(
        &h,
        Method::POST,
        &h.url(&format!("/practical-training/invites/{token_part}")),
        Some(&format!("event_id={event}")),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let checkout = location.expect("to the checkout page");
    assert!(
        checkout.starts_with(&format!("{}/checkout/", h.sandbox.url())),
        "{checkout}"
    );
    let shown = h
        .get(&token, &format!("/booking-invites/{}", created["id"]))
        .await
        .body;
    assert_eq!(shown["status"], "used");
    assert!(shown["opened_at"].is_string(), "used implies opened");
    let (status, _, _) = html(&h, Method::POST, &checkout, None).await;
    assert_eq!(status, StatusCode::OK);
    let events = receiver.wait_for_events(2).await;
    assert_eq!(events[0]["event_type"], "booking.created");
    assert_eq!(events[0]["data"]["booking_status"], "pending");
    assert_eq!(events[1]["event_type"], "booking.confirmed");
    assert_eq!(events[1]["data"]["id"], shown["booking_id"]);
}

#[tokio::test]
async fn invites_are_validated_listed_and_private_to_their_account() {
    let h = Harness::start_with_file().await;
    let token = h.login(DEMO).await;
    let other = h.login(NOINV).await;

    let reply = h.post(Some(&token), "/booking-invites", json!({})).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["first_name", "last_name", "email", "course_id"] {
        assert!(
            reply.body["errors"][field].is_array(),
            "{field}: {}",
            reply.body
        );
    }
    assert_eq!(
        reply.body["message"],
        "The first name field is required. (and 3 more errors)"
    );
    let mut bad = candidate(2, Some("cash"));
    bad["email"] = json!("not-an-email");
    let reply = h.post(Some(&token), "/booking-invites", bad).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply.body["errors"]["email"],
        json!(["The email field must be a valid email address."])
    );
    assert_eq!(
        reply.body["errors"]["pay_option"],
        json!(["The selected pay option is invalid."])
    );
    let reply = h
        .post(Some(&token), "/booking-invites", candidate(999, None))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply.body["errors"]["course_id"],
        json!(["The selected course id is invalid."])
    );
    let reply = h
        .send(
            Method::POST,
            &h.api("/booking-invites"),
            Some(&token),
            Some(b"nope".to_vec()),
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        outbox(&h, &token).await.is_empty(),
        "nothing sent for a refused invite"
    );

    let first = invite(&h, &token, candidate(2, None)).await;
    let second = invite(&h, &token, candidate(4, Some("inv"))).await;
    let list = h.get(&token, "/booking-invites").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["meta"]["total"], 2);
    assert_eq!(list.body["data"][0]["id"], second["id"], "newest first");
    assert_eq!(list.body["data"][1]["id"], first["id"]);
    let sent = h
        .get(&token, "/booking-invites?status=sent&per_page=1")
        .await;
    assert_eq!(sent.body["meta"]["total"], 2);
    assert_eq!(sent.body["data"].as_array().unwrap().len(), 1);
    assert!(sent.body["links"]["next"].is_string());
    assert_eq!(
        h.get(&token, "/booking-invites?status=used").await.body["meta"]["total"],
        0
    );
    let bad_filter = h.get(&token, "/booking-invites?status=lost").await;
    assert_eq!(bad_filter.status, StatusCode::UNPROCESSABLE_ENTITY);

    let id = first["id"].as_i64().unwrap();
    assert_eq!(
        h.get(&token, &format!("/booking-invites/{id}"))
            .await
            .status,
        StatusCode::OK
    );
    let foreign = h.get(&other, &format!("/booking-invites/{id}")).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    assert_eq!(foreign.body["message"], "Booking invite not found.");
    assert_eq!(
        h.get(&other, "/booking-invites").await.body["meta"]["total"],
        0
    );
    assert_eq!(
        h.get(&token, "/booking-invites/0").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        h.get(&token, "/booking-invites/x").await.status,
        StatusCode::NOT_FOUND
    );
    for (method, path) in [
        (Method::GET, "/booking-invites".to_owned()),
        (Method::POST, "/booking-invites".to_owned()),
        (Method::GET, format!("/booking-invites/{id}")),
    ] {
        let reply = h.send(method, &h.api(&path), None, None, &[]).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path}");
    }
    let wrong = h
        .send(
            Method::DELETE,
            &h.api(&format!("/booking-invites/{id}")),
            Some(&token),
            None,
            &[],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn the_invite_page_refuses_what_the_invite_does_not_allow() {
    let h = Harness::start_with_file().await;
    let token = h.login(DEMO).await;
    let created = invite(&h, &token, candidate(2, Some("balance"))).await;
    let link = created["invite_url"].as_str().unwrap().to_owned();
    let secret = link.rsplit("invite=").next().unwrap().to_owned();
    let action = h.url(&format!("/practical-training/invites/{secret}"));

    // A link with another account's code or an unknown token leads nowhere.
    let (status, _, _) = html(
        &h,
        Method::GET,
        &link.replace("NWCARE07", "PENNINE02"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = html(
        &h,
        Method::GET,
        &h.url("/practical-training/?sgi=NWCARE07&invite=nope"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = html(
        &h,
        Method::POST,
        &h.url("/practical-training/invites/nope"),
        Some("event_id=1"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // No event chosen, an event of another course, a full event.
    let (status, page, _) = html(&h, Method::POST, &action, Some("")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Choose a date"));
    let (status, _, _) = html(&h, Method::POST, &action, Some("event_id=abc")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let other_course = h.create_event(4, 12, 72).await;
    let (status, page, _) = html(
        &h,
        Method::POST,
        &action,
        Some(&format!("event_id={other_course}")),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("not one this invite offers"));
    let full = h.create_event(2, 1, 72).await;
    let filled = h
        .fixture(&format!("/_sandbox/training-events/{full}/fill"), json!({}))
        .await;
    assert_eq!(filled.status, StatusCode::OK);
    let (status, page, _) =
        html(&h, Method::POST, &action, Some(&format!("event_id={full}"))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("fully booked"));
    let (_, offered, _) = html(&h, Method::GET, &link, None).await;
    assert!(
        !offered.contains(&format!("value=\"{full}\"")),
        "a full event is not offered"
    );

    // The account cannot afford it: the page says so and nothing is used.
    let poor = h
        .create_account("HB-POOR", "poor-key", json!({ "balance": 10 }))
        .await;
    assert_eq!(poor["credits"]["booking_money_balance"], 10);
    let poor_token = h.login(("HB-POOR", "poor-key")).await;
    let poor_invite = invite(&h, &poor_token, candidate(2, Some("balance"))).await;
    let poor_secret = poor_invite["invite_url"]
        .as_str()
        .unwrap()
        .rsplit("invite=")
        .next()
        .unwrap()
        .to_owned();
    let event = h.create_event(2, 12, 72).await;
    let (status, page, _) = html(
        &h,
        Method::POST,
        &h.url(&format!("/practical-training/invites/{poor_secret}")),
        Some(&format!("event_id={event}")),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("does not cover"), "{page}");
    let shown = h
        .get(
            &poor_token,
            &format!("/booking-invites/{}", poor_invite["id"]),
        )
        .await
        .body;
    assert_eq!(shown["status"], "sent", "a refused booking changes nothing");
    assert!(shown["booking_id"].is_null());
    assert_eq!(h.remaining(&token, event).await, 12);

    // Markup in the candidate's name is shown as text.
    let mut marked = candidate(2, None);
    marked["first_name"] = json!("<script>alert(1)</script>");
    let marked = invite(&h, &token, marked).await;
    let (status, page, _) = html(
        &h,
        Method::GET,
        marked["invite_url"].as_str().unwrap(),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("<script>alert"));
    assert!(page.contains("&lt;script&gt;"));
}
