//! The sandbox as a port scanner: webhook endpoints aimed at the machine's
//! own services or its network (cloud metadata, private ranges, loopback),
//! an address that turns internal after it was registered, the test-mode
//! delivery log and outbox read without a token, and the secrets its
//! request log carried in paths.
//!
//! No test here sends anything to a private, link-local or metadata
//! address: a refusal is checked where it happens (registration), and the
//! delivery-time check is tried with a name and an address that lead to a
//! receiver on loopback.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use booking_sandbox::{DatabaseLocation, SandboxConfig};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::bls::{bls_booking_body, BLS_DEMO};
use crate::common::receiver::{eventually, TestReceiver};
use crate::common::{booking_body, temp_db, Harness, Reply, DEMO, NOINV};

/// A sandbox outside test mode, as an agency runs it for integration
/// testing.
async fn outside_test_mode() -> Harness {
    Harness::start_with(SandboxConfig {
        test_clock: false,
        ..SandboxConfig::for_tests()
    })
    .await
}

/// Registers an endpoint at `url` for `booking.created`.
async fn register(h: &Harness, token: &str, url: &str) -> Reply {
    h.post(
        Some(token),
        "/webhooks",
        json!({ "name": "Probe", "url": url, "events": ["booking.created"] }),
    )
    .await
}

/// Insists that `reply` is a 422 naming the `url` field, in the sandbox's
/// Laravel-style shape.
fn assert_url_refused(reply: &Reply, url: &str) {
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{url} was accepted: {}",
        reply.body
    );
    let errors = reply.body["errors"]["url"]
        .as_array()
        .unwrap_or_else(|| panic!("{url}: no errors.url in {}", reply.body));
    assert!(
        errors
            .iter()
            .any(|error| error.as_str().is_some_and(|text| text.contains("url"))),
        "{url}: {}",
        reply.body
    );
    assert!(reply.body["message"].is_string(), "{}", reply.body);
}

/// The number of the account's webhook endpoints.
async fn endpoint_count(h: &Harness, token: &str) -> i64 {
    let reply = h.get(token, "/webhooks").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["meta"]["total"].as_i64().expect("total")
}

#[tokio::test]
async fn a_webhook_endpoint_at_a_cloud_metadata_address_is_refused_outside_test_mode() {
    let h = outside_test_mode().await;
    let token = h.login(DEMO).await;
    for url in [
        "https://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "https://[fd00:ec2::254]/latest/meta-data/",
        "https://[::ffff:169.254.169.254]/latest/meta-data/",
        "https://[::ffff:a9fe:a9fe]/computeMetadata/v1/",
    ] {
        assert_url_refused(&register(&h, &token, url).await, url);
    }
    assert_eq!(endpoint_count(&h, &token).await, 0);
}

#[tokio::test]
async fn a_webhook_endpoint_at_a_private_or_loopback_address_is_refused_outside_test_mode() {
    let h = outside_test_mode().await;
    let token = h.login(DEMO).await;
    for url in [
        "https://10.0.0.1/hook",
        "https://172.16.5.4/hook",
        "https://172.31.255.254/hook",
        "https://192.168.1.1/hook",
        "https://127.0.0.1:6379/",
        "https://127.1.2.3/",
        "https://localhost:6379/",
        "https://2130706433/",
        "https://0x7f.1/",
        "https://[::1]:6379/",
        "https://100.64.0.1/hook",
        "https://0.0.0.0/hook",
        "https://0.1.2.3/hook",
        "https://224.0.0.1/hook",
        "https://255.255.255.255/hook",
        "https://[::]/hook",
        "https://[fe80::1]/hook",
        "https://[fc00::1]/hook",
        "https://[ff02::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
    ] {
        assert_url_refused(&register(&h, &token, url).await, url);
    }
    assert_eq!(endpoint_count(&h, &token).await, 0);
}

#[tokio::test]
async fn moving_a_webhook_endpoint_to_a_private_address_is_refused_outside_test_mode() {
    let h = outside_test_mode().await;
    let token = h.login(DEMO).await;
    let created = register(&h, &token, "https://hooks.northwestcare.example/tdta").await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let path = format!("/webhooks/{}", created.body["id"]);
    for (method, body) in [
        (Method::PATCH, json!({ "url": "https://10.1.2.3/hook" })),
        (
            Method::PUT,
            json!({ "name": "Probe", "url": "https://localhost:22/", "events": ["booking.created"] }),
        ),
    ] {
        let url = body["url"].as_str().unwrap_or_default().to_owned();
        let reply = h
            .send(
                method,
                &h.api(&path),
                Some(&token),
                Some(serde_json::to_vec(&body).expect("json")),
                &[],
            )
            .await;
        assert_url_refused(&reply, &url);
    }
    let kept = h.get(&token, &path).await;
    assert_eq!(kept.body["url"], "https://hooks.northwestcare.example/tdta");
}

#[tokio::test]
async fn a_webhook_endpoint_at_a_private_or_link_local_address_is_refused_in_test_mode() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    for url in [
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/hook",
        "https://192.168.0.10/hook",
        "https://100.64.1.1/hook",
        "https://0.0.0.0:6379/",
        "https://224.0.0.251/hook",
        "https://[fe80::1]/hook",
        "https://[fd12:3456::1]/hook",
        "https://[ff02::1]/hook",
        "https://[::ffff:192.168.0.1]/hook",
    ] {
        assert_url_refused(&register(&h, &token, url).await, url);
    }
    assert_eq!(endpoint_count(&h, &token).await, 0);
    // Loopback stays open in test mode: the project's receivers listen there.
    let receiver = TestReceiver::start().await;
    let loopback = register(&h, &token, &receiver.url).await;
    assert_eq!(loopback.status, StatusCode::CREATED, "{}", loopback.body);
}

/// The outcome and error of the first finished attempt to deliver to
/// `endpoint`, read from the sandbox's database file (outside test mode the
/// delivery log is not served).
fn finished_attempt(db: &std::path::Path, endpoint: i64) -> Option<(String, Option<String>)> {
    let conn = rusqlite::Connection::open(db).ok()?;
    conn.query_row(
        "SELECT a.outcome, a.error FROM webhook_attempts a \
         JOIN webhook_deliveries d ON d.id = a.delivery_id \
         WHERE d.endpoint_id = ?1 AND a.outcome <> 'sending' ORDER BY a.id LIMIT 1",
        [endpoint],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .ok()
}

#[tokio::test]
async fn a_webhook_endpoint_that_leads_to_loopback_at_delivery_gets_no_connection_outside_test_mode(
) {
    // Two endpoints stored while loopback was allowed (test mode, or an
    // older sandbox): one by address, one by a name that now resolves to
    // loopback, as a name re-pointed after registration does.
    let db = temp_db();
    let receiver = TestReceiver::start().await;
    let by_name = receiver.url.replace("127.0.0.1", "localhost");
    let endpoints: Vec<i64> = {
        let h = Harness::start_with(SandboxConfig {
            db: DatabaseLocation::File(db.clone()),
            ..SandboxConfig::for_tests()
        })
        .await;
        let token = h.login(DEMO).await;
        let mut ids = Vec::new();
        for url in [receiver.url.as_str(), by_name.as_str()] {
            let created = h.create_endpoint(&token, url, &["booking.created"]).await;
            ids.push(created["id"].as_i64().expect("id"));
        }
        h.sandbox.shutdown().await.expect("stops");
        ids
    };
    let h = Harness::start_with(SandboxConfig {
        db: DatabaseLocation::File(db.clone()),
        test_clock: false,
        ..SandboxConfig::for_tests()
    })
    .await;
    let token = h.login(DEMO).await;
    for id in &endpoints {
        let queued = h.post_empty(&token, &format!("/webhooks/{id}/test")).await;
        assert_eq!(queued.status, StatusCode::ACCEPTED, "{}", queued.body);
    }
    for id in &endpoints {
        let (outcome, error) = eventually(&format!("an attempt for endpoint {id}"), || async {
            finished_attempt(&db, *id)
        })
        .await;
        assert_eq!(
            receiver.requests().len(),
            0,
            "the sandbox connected to a loopback receiver outside test mode"
        );
        assert_eq!(outcome, "failed");
        let error = error.unwrap_or_default();
        assert!(error.contains("loopback"), "endpoint {id}: {error:?}");
    }
}

/// GETs a test-mode path with an optional bearer token.
async fn sandbox_get(h: &Harness, path: &str, token: Option<&str>) -> Reply {
    h.send(Method::GET, &h.url(path), token, None, &[]).await
}

#[tokio::test]
async fn the_test_mode_delivery_log_is_closed_without_the_accounts_token() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let other = h.login(NOINV).await;
    let receiver = TestReceiver::start().await;
    let endpoint = h
        .create_endpoint(&token, &receiver.url, &["booking.created"])
        .await;
    receiver.set_secret(endpoint["secret"].as_str().expect("secret"));
    let id = endpoint["id"].as_i64().expect("id");
    h.post_empty(&token, &format!("/webhooks/{id}/test")).await;
    receiver.wait_for_events(1).await;

    let anyone = sandbox_get(&h, "/_sandbox/webhook-deliveries", None).await;
    assert_eq!(anyone.status, StatusCode::UNAUTHORIZED, "{}", anyone.body);
    assert_eq!(anyone.body["message"], "Unauthenticated.");
    let forged = sandbox_get(&h, "/_sandbox/webhook-deliveries", Some("sbx_forged")).await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED, "{}", forged.body);

    let others = sandbox_get(&h, "/_sandbox/webhook-deliveries", Some(&other)).await;
    assert_eq!(others.status, StatusCode::OK, "{}", others.body);
    assert_eq!(others.body["data"], json!([]), "another account's log");
    let filtered = sandbox_get(
        &h,
        &format!("/_sandbox/webhook-deliveries?endpoint_id={id}"),
        Some(&other),
    )
    .await;
    assert_eq!(
        filtered.body["data"],
        json!([]),
        "another account's endpoint"
    );

    let own = sandbox_get(&h, "/_sandbox/webhook-deliveries", Some(&token)).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    let deliveries = own.body["data"].as_array().expect("deliveries");
    assert_eq!(deliveries.len(), 1, "{}", own.body);
    assert_eq!(deliveries[0]["endpoint_id"], id);
}

#[tokio::test]
async fn the_test_mode_outbox_is_closed_without_the_accounts_token() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let other = h.login(NOINV).await;
    let invite = h
        .post(
            Some(&token),
            "/booking-invites",
            json!({
                "first_name": "Aisha",
                "last_name": "Khan",
                "email": "aisha.khan@carestaff.example",
                "course_id": 2,
            }),
        )
        .await;
    assert_eq!(invite.status, StatusCode::CREATED, "{}", invite.body);

    let anyone = sandbox_get(&h, "/_sandbox/outbox", None).await;
    assert_eq!(anyone.status, StatusCode::UNAUTHORIZED, "{}", anyone.body);
    assert_eq!(anyone.body["message"], "Unauthenticated.");

    let others = sandbox_get(&h, "/_sandbox/outbox", Some(&other)).await;
    assert_eq!(others.status, StatusCode::OK, "{}", others.body);
    assert_eq!(others.body["data"], json!([]), "another account's emails");

    let own = sandbox_get(&h, "/_sandbox/outbox", Some(&token)).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    let emails = own.body["data"].as_array().expect("emails");
    assert_eq!(emails.len(), 1, "{}", own.body);
    assert_eq!(emails[0]["link"], invite.body["invite_url"]);
}

/// A `booking-sandbox serve` process in test mode, logging at `info`;
/// its stderr (the log) is collected as it comes. Killed when dropped.
struct LoggingSandbox {
    child: Child,
    url: String,
    log: Arc<Mutex<String>>,
}

impl LoggingSandbox {
    fn start() -> LoggingSandbox {
        let mut child = Command::new(env!("CARGO_BIN_EXE_booking-sandbox"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--db",
                ":memory:",
                "--test-clock",
                "--rate-limit",
                "100000",
            ])
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("booking-sandbox starts");
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("stderr");
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = sink.lock().expect("log");
                log.push_str(&line);
                log.push('\n');
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = stdout.next().expect("a line").expect("text");
        let url = first
            .split_once("listening on ")
            .map(|(_, url)| url.to_owned())
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
        std::thread::spawn(move || stdout.map_while(Result::ok).for_each(drop));
        LoggingSandbox { child, url, log }
    }

    fn log(&self) -> String {
        self.log.lock().expect("log").clone()
    }
}

impl Drop for LoggingSandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends a request with an optional bearer token and JSON body; returns
/// the status and the body (JSON, or `null` for a page).
async fn call(
    client: &reqwest::Client,
    method: Method,
    url: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = client.request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("answered");
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// The part of a link after `after`, up to the next `&`, `?` or `/`: the
/// secret it carries.
fn secret_of(link: &str, after: &str) -> String {
    link.split(after)
        .nth(1)
        .and_then(|rest| rest.split(['&', '?', '/']).next())
        .unwrap_or_else(|| panic!("no {after} in {link}"))
        .to_owned()
}

#[tokio::test]
async fn the_sandbox_log_carries_no_checkout_token_hold_hash_or_invite_token() {
    let sandbox = LoggingSandbox::start();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let api = format!("{}/api/v1", sandbox.url);
    let bls_api = format!("{}/bls/api/v1", sandbox.url);
    let sign_in = |base: String, (id, key): (&'static str, &'static str)| {
        let client = client.clone();
        async move {
            let (status, body) = call(
                &client,
                Method::POST,
                &format!("{base}/auth/token"),
                None,
                Some(json!({ "hb_client_id": id, "api_key": key })),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body["access_token"].as_str().expect("token").to_owned()
        }
    };
    let token = sign_in(api.clone(), DEMO).await;
    let auth = Some(token.as_str());
    let mut secrets: Vec<(&str, String)> = vec![("access token", token.clone())];

    // A hold released by its hash, then a hold booked by a candidate who
    // pays on the checkout page.
    let (_, events) = call(
        &client,
        Method::GET,
        &format!("{api}/training-events?course_id=2&available_only=true&per_page=1"),
        auth,
        None,
    )
    .await;
    let event = events["data"][0]["id"].as_i64().expect("an event");
    let hold = format!("{api}/training-events/{event}/hold");
    let (_, released) = call(&client, Method::POST, &hold, auth, None).await;
    let released = released["hold_hash"].as_str().expect("hash").to_owned();
    let (status, body) = call(
        &client,
        Method::DELETE,
        &format!("{api}/training-events/hold/{released}"),
        auth,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    secrets.push(("hold hash", released));
    let (_, held) = call(&client, Method::POST, &hold, auth, None).await;
    let held = held["hold_hash"].as_str().expect("hash").to_owned();
    let (status, booking) = call(
        &client,
        Method::POST,
        &format!("{api}/bookings"),
        auth,
        Some(booking_body(&held, "candidate_pays")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{booking}");
    secrets.push(("hold hash", held));
    let checkout = booking["payment_url"].as_str().expect("payment url");
    let (status, _) = call(&client, Method::GET, checkout, None, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(&client, Method::POST, checkout, None, None).await;
    assert!(status.is_success() || status.is_redirection(), "{status}");
    secrets.push(("checkout token", secret_of(checkout, "/checkout/")));

    // A booking invite: its page (token in the query) and its form (token
    // in the path).
    let (status, invite) = call(
        &client,
        Method::POST,
        &format!("{api}/booking-invites"),
        auth,
        Some(json!({
            "first_name": "Aisha",
            "last_name": "Khan",
            "email": "aisha.khan@carestaff.example",
            "course_id": 2,
            "pay_option": "credits",
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{invite}");
    let link = invite["invite_url"].as_str().expect("invite url");
    let invite_token = secret_of(link, "invite=");
    let (status, _) = call(&client, Method::GET, link, None, None).await;
    assert_eq!(status, StatusCode::OK);
    let status = client
        .post(format!(
            "{}/practical-training/invites/{invite_token}",
            sandbox.url
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("event_id={event}"))
        .send()
        .await
        .expect("answered")
        .status();
    assert!(status.is_success(), "{status}");
    secrets.push(("invite token", invite_token));

    // A Virtual BLS timeslot held and released, and one booked by a
    // candidate who pays on the PayPal page.
    let bls = sign_in(bls_api.clone(), BLS_DEMO).await;
    let bls_auth = Some(bls.as_str());
    let (_, slots) = call(
        &client,
        Method::GET,
        &format!("{bls_api}/timeslots?course_id=41&per_page=2"),
        bls_auth,
        None,
    )
    .await;
    let mut hashes = Vec::new();
    for slot in slots["data"].as_array().expect("timeslots").iter().take(2) {
        let (status, hold) = call(
            &client,
            Method::POST,
            &format!("{bls_api}/timeslots/hold"),
            bls_auth,
            Some(json!({ "course_id": 41, "date": slot["date"], "time": slot["time"] })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{hold}");
        hashes.push(hold["hold_hash"].as_str().expect("hash").to_owned());
    }
    let (status, body) = call(
        &client,
        Method::DELETE,
        &format!("{bls_api}/timeslots/hold/{}", hashes[0]),
        bls_auth,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, booking) = call(
        &client,
        Method::POST,
        &format!("{bls_api}/bookings"),
        bls_auth,
        Some(bls_booking_body(&hashes[1], "candidate_pays")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{booking}");
    let paypal = booking["payment_url"].as_str().expect("payment url");
    let (status, _) = call(&client, Method::GET, paypal, None, None).await;
    assert_eq!(status, StatusCode::OK);
    secrets.push(("paypal token", secret_of(paypal, "token=")));
    for hash in hashes {
        secrets.push(("timeslot hold hash", hash));
    }

    // A webhook whose URL carries a key in its query, sent a test event.
    let receiver = TestReceiver::start().await;
    let hook_key = "hook-key-5f1d0c9a7e";
    let (status, endpoint) = call(
        &client,
        Method::POST,
        &format!("{api}/webhooks"),
        auth,
        Some(json!({
            "name": "Keyed receiver",
            "url": format!("{}?key={hook_key}", receiver.url),
            "events": ["webhook.test"],
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{endpoint}");
    receiver.set_secret(endpoint["secret"].as_str().expect("secret"));
    call(
        &client,
        Method::POST,
        &format!("{api}/webhooks/{}/test", endpoint["id"]),
        auth,
        None,
    )
    .await;
    receiver.wait_for_events(1).await;
    secrets.push(("webhook URL key", hook_key.to_owned()));

    // The last request; once it is in the log, every earlier one is.
    call(&client, Method::GET, &format!("{api}/profile"), auth, None).await;
    let log = eventually("the last request in the log", || async {
        let log = sandbox.log();
        log.lines()
            .any(|line| line.contains("/api/v1/profile") && line.contains("finished processing"))
            .then_some(log)
    })
    .await;
    for (what, secret) in &secrets {
        if let Some(line) = log.lines().find(|line| line.contains(secret.as_str())) {
            panic!("the log carries a {what}: {line}");
        }
    }
    // Each request is still logged, by its route.
    for route in [
        "/api/v1/training-events/hold/{hold_hash}",
        "/api/v1/bookings",
        "/checkout/{token}",
        "/practical-training/",
        "/practical-training/invites/{token}",
        "/bls/api/v1/timeslots/hold/{hold_hash}",
        "/paypal/checkoutnow",
    ] {
        assert!(
            log.lines()
                .any(|line| line.contains(route) && line.contains("finished processing request")),
            "no request to {route} in the log:\n{log}"
        );
    }
}
