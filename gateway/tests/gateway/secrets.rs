//! The built `booking-gateway` binary, configured by flags, a TOML
//! file and the environment, runs a whole booking session against the
//! sandbox (through a counting proxy that notes every token the sandbox
//! issues); then no response body or header, and no log line, holds a
//! credential, a token, a booking link or a candidate's personal data. A setting the
//! widget would refuse stops the binary before it listens.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::support::{create_account, send, temp_dir, Proxy, Reply, Widget};
use booking_sandbox::{spawn_sandbox, SandboxConfig};
use reqwest::{Method, StatusCode};
use serde_json::json;

const SIGNING_KEY: &str = "binary-test-signing-key-5f0c9e1d2b3a4f5e6d7c";

/// The gateway process; killed if the test fails half-way.
struct Gateway {
    child: Child,
    url: String,
    stderr: mpsc::Receiver<String>,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_gateway(args: &[String], env: &[(&str, &str)]) -> Gateway {
    let mut command = Command::new(env!("CARGO_BIN_EXE_booking-gateway"));
    command
        .args(args)
        .env_remove("HBG_CLIENT_ID")
        .env_remove("HBG_API_KEY")
        .env_remove("HBG_GATEWAY_KEY")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("the binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let (line_tx, line_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = line_tx.send(line);
        }
    });
    let (log_tx, log_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        let _ = log_tx.send(text);
    });
    let line = line_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the gateway announces itself");
    let url = line
        .strip_prefix("gateway listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    Gateway {
        child,
        url,
        stderr: log_rx,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_credential_token_or_personal_data_leaks_into_responses_or_logs() {
    let sandbox = spawn_sandbox(SandboxConfig::for_tests()).await.unwrap();
    let client = reqwest::Client::new();
    let account = create_account(&client, sandbox.url()).await;
    let proxy = Proxy::start("127.0.0.1:0".parse().unwrap(), sandbox.url()).await;
    let dir = temp_dir("binary");
    let config = dir.path().join("gateway.toml");
    std::fs::write(
        &config,
        format!(
            r#"
            pay_options = ["credits", "balance", "inv", "candidate_pays"]
            payment_origins = ["{}"]
            allowed_origins = ["https://host.example"]
            agency_contact_name = "Tom Birch"
            agency_email = "accounts@northwestcare.example"
            upstream_timeout = 5
            "#,
            sandbox.url()
        ),
    )
    .unwrap();
    let args: Vec<String> = [
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        &proxy.api_url(),
        "--static",
        dir.path().to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]
    .iter()
    .map(|arg| (*arg).to_owned())
    .collect();
    let mut gateway = start_gateway(
        &args,
        &[
            ("HBG_CLIENT_ID", &account.client_id),
            ("HBG_API_KEY", &account.api_key),
            ("HBG_GATEWAY_KEY", SIGNING_KEY),
        ],
    );

    // A whole session, with its errors, keeping every answer.
    let mut replies: Vec<Reply> = Vec::new();
    let event_id = {
        let now = crate::support::sandbox_now(&client, sandbox.url()).await;
        let reply = client
            .post(format!("{}/_sandbox/training-events", sandbox.url()))
            .json(&json!({ "course_id": 1, "location_id": 1, "capacity": 10,
                           "start_date": (now + chrono::Duration::days(9)).to_rfc3339() }))
            .send()
            .await
            .unwrap();
        reply.json::<serde_json::Value>().await.unwrap()["id"]
            .as_u64()
            .unwrap()
    };
    let widget = Widget::start(client.clone(), &gateway.url).await;
    let other = Widget::start(client.clone(), &gateway.url).await;
    for path in [
        "/options".to_owned(),
        "/courses".to_owned(),
        "/training-events?course_id=1".to_owned(),
    ] {
        replies.push(widget.get(&path).await);
    }
    let held = widget.hold(event_id, None).await;
    assert_eq!(held.status, StatusCode::OK, "{}", held.text);
    let hold_ref = held.body["hold_ref"].as_str().unwrap().to_owned();
    let hold_hash = held.body["hold"]["hold_hash"].as_str().unwrap().to_owned();
    replies.push(held);
    replies.push(other.hold(event_id, None).await);
    replies.push(widget.hold(event_id, Some(&hold_ref)).await);
    replies.push(other.delete(&format!("/holds/{hold_ref}")).await);
    let booked = widget
        .book(
            &hold_ref,
            &booking_core::api::PayOption::CandidatePays,
            "k-1",
        )
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);
    let booking_ref = booked.body["booking_ref"].as_str().unwrap().to_owned();
    let booking_id = booked.body["booking"]["id"].as_u64().unwrap();
    let manage_link = booked.body["manage_link"].as_str().unwrap().to_owned();
    replies.push(booked);
    let page = send(client.get(format!("{}/api/manage/{manage_link}", gateway.url))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    replies.push(page);
    replies.push(widget.get(&format!("/bookings/{booking_ref}")).await);
    replies.push(other.get(&format!("/bookings/{booking_ref}")).await);
    replies.push(widget.post("/holds", json!({ "event_id": "x" }), &[]).await);
    replies.push(send(client.get(format!("{}/api/courses", gateway.url))).await);

    // Past the access token's lifetime: the gateway refreshes.
    let clock = client
        .post(format!("{}/_sandbox/clock", sandbox.url()))
        .json(&json!({ "advance_seconds": 3601 }))
        .send()
        .await
        .unwrap();
    assert_eq!(clock.status(), StatusCode::OK);
    let after = widget.get(&format!("/bookings/{booking_ref}")).await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.text);
    replies.push(after);
    assert_eq!(proxy.count(Method::POST, "/auth/refresh"), 1);

    // Graceful stop: SIGTERM, then the log.
    let pid = gateway.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let status = gateway.child.wait().unwrap();
    assert!(
        status.success(),
        "the gateway exits cleanly on SIGTERM: {status}"
    );
    let log = gateway
        .stderr
        .recv_timeout(Duration::from_secs(10))
        .expect("the log");
    assert_eq!(proxy.count(Method::POST, "/auth/revoke"), 1);

    let tokens = proxy.tokens();
    assert_eq!(tokens.len(), 4, "the first pair and the refreshed one");
    let mut secrets: Vec<(&str, String)> = vec![
        ("API key", account.api_key.clone()),
        ("client id", account.client_id.clone()),
        ("signing key", SIGNING_KEY.to_owned()),
    ];
    secrets.extend(tokens.iter().map(|token| ("token", token.clone())));
    for reply in &replies {
        let headers = format!("{:?}", reply.headers);
        for (what, secret) in &secrets {
            assert!(
                !reply.text.contains(secret.as_str()),
                "{what} in a response: {}",
                reply.text
            );
            assert!(
                !headers.contains(secret.as_str()),
                "{what} in response headers"
            );
        }
    }

    let mut private = secrets.clone();
    private.extend([
        ("session token", widget.session.clone()),
        ("session token", other.session.clone()),
        ("hold ref", hold_ref.clone()),
        ("hold hash", hold_hash.clone()),
        ("booking ref", booking_ref.clone()),
        ("booking link", manage_link.clone()),
        ("candidate name", "Priya".to_owned()),
        ("candidate email", "priya.patel".to_owned()),
        ("candidate phone", "7700900123".to_owned()),
    ]);
    let lines: Vec<&str> = log.lines().collect();
    assert!(lines.len() > 20, "debug logging is on: {log}");
    for line in &lines {
        for (what, secret) in &private {
            assert!(!line.contains(secret.as_str()), "{what} in the log: {line}");
        }
    }
    for expected in [
        "exchanged the API credentials for a token pair",
        "refreshed the upstream access token",
        "revoked the upstream access token",
        &format!("booking_id={booking_id}"),
    ] {
        assert!(log.contains(expected), "the log says {expected:?}: {log}");
    }
    for template in ["route=/api/holds/{hold_ref}", "route=/api/manage/{link}"] {
        assert!(
            lines.iter().any(|line| line.contains(template)),
            "routes are logged by template ({template}): {log}"
        );
    }
    assert!(
        lines
            .iter()
            .any(|line| line.contains("request{request_id=")
                && !line.contains("request{request_id=-")),
        "request lines carry a request id: {log}"
    );
}

/// A payment origin the widget would never open stops the binary before it
/// listens, with a message naming the setting and without the secrets.
#[test]
fn a_payment_origin_the_widget_would_refuse_stops_the_binary() {
    let child = Command::new(env!("CARGO_BIN_EXE_booking-gateway"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--payment-origins",
            "https://checkout.stripe.com,http://pay.agency.example",
        ])
        .env("HBG_CLIENT_ID", "HB-00417")
        .env("HBG_API_KEY", "refusal-test-api-key")
        .env("HBG_GATEWAY_KEY", SIGNING_KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let pid = child.id();
    let (exited, exit) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = exited.send(child.wait_with_output());
    });
    let Ok(output) = exit.recv_timeout(Duration::from_secs(30)) else {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
        panic!("the gateway did not stop");
    };
    let output = output.expect("the gateway's output");
    let (status, stdout, stderr) = (
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(!status.success());
    assert_eq!(stdout, "", "nothing is announced");
    assert!(
        stderr.contains(
            "gateway configuration: payment_origins: \"http://pay.agency.example\" would be refused by the widget"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("refusal-test-api-key"), "{stderr}");
    assert!(!stderr.contains(SIGNING_KEY), "{stderr}");
}

/// With `--log-format json`, or `HBG_LOG_FORMAT=json`, the binary logs one
/// JSON object per line, and a request's lines carry its id.
#[test]
fn json_logs_are_one_object_a_line_carrying_the_request_id() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for (how, flags, env) in [
        ("flag", &["--log-format", "json"][..], &[][..]),
        ("environment", &[][..], &[("HBG_LOG_FORMAT", "json")][..]),
    ] {
        let dir = temp_dir("json-log");
        let mut args: Vec<String> = ["--listen", "127.0.0.1:0", "--static"]
            .iter()
            .map(|arg| (*arg).to_owned())
            .collect();
        args.push(dir.path().to_str().unwrap().to_owned());
        args.extend(flags.iter().map(|flag| (*flag).to_owned()));
        let mut gateway = start_gateway(&args, env);
        let id = format!("json-log-{how}");
        let reply = runtime.block_on(send(
            reqwest::Client::new()
                .get(format!("{}/api/options", gateway.url))
                .header("x-request-id", &id),
        ));
        assert_eq!(reply.headers["x-request-id"], id.as_str());

        let pid = gateway.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        assert!(gateway.child.wait().unwrap().success());
        let log = gateway
            .stderr
            .recv_timeout(Duration::from_secs(10))
            .expect("the log");
        let lines: Vec<serde_json::Value> = log
            .lines()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|_| panic!("{how}: a line that is not JSON: {line:?}"))
            })
            .collect();
        assert!(lines.len() > 2, "{how}: {log}");
        assert!(lines.iter().all(serde_json::Value::is_object), "{log}");
        assert!(
            lines
                .iter()
                .any(|line| line["span"]["request_id"] == id.as_str()
                    && line["span"]["route"] == "/api/options"),
            "{how}: the request's lines carry its id: {log}"
        );
    }
}
