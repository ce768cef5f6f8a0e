//! The gateway's Prometheus metrics, scraped from its admin listener in
//! front of a real sandbox and the fault-injecting proxy: `/metrics` is
//! served there and never on the public listener; requests are counted by
//! route template and status, upstream calls by product, route template
//! and status (a 429 and a lost answer included), bookings by product and
//! pay option, lost answers settled without sending twice, and live holds
//! (from the in-process memory and from a shared store alike); each
//! gateway in a process counts its own; and no label names an id, a link
//! or an e-mail address.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::support::{gateway_config, temp_dir, Fault, Stack, Target, TwoInstances, Widget};
use booking_core::api::PayOption;
use booking_gateway::{spawn_gateway, GatewayConfig, RunningGateway};
use reqwest::{Method, StatusCode};

/// The course the test account has credits for.
const COURSE: u64 = 1;

/// An admin listener on a free loopback port.
fn admin_on_a_free_port(config: &mut GatewayConfig) {
    config.admin_listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
}

/// A stack whose gateway has an admin listener.
async fn stack() -> Stack {
    Stack::start_with(|config, _| {
        config.pay_options = PayOption::KNOWN.to_vec();
        admin_on_a_free_port(config);
    })
    .await
}

/// One sample of a scrape: a name, its labels and its value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// What one `GET /metrics` answered.
struct Scraped {
    text: String,
    samples: Vec<Sample>,
}

impl Scraped {
    /// The sum of the samples of `name` carrying every label of `labels`
    /// (0 when there is none).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.sum(name, labels, |_| true)
    }

    /// As [`Scraped::value`], of the samples whose labels `also` accepts.
    fn sum(
        &self,
        name: &str,
        labels: &[(&str, &str)],
        also: impl Fn(&BTreeMap<String, String>) -> bool,
    ) -> f64 {
        self.samples
            .iter()
            .filter(|sample| sample.name == name)
            .filter(|sample| {
                labels
                    .iter()
                    .all(|(key, value)| sample.labels.get(*key).map(String::as_str) == Some(value))
            })
            .filter(|sample| also(&sample.labels))
            .map(|sample| sample.value)
            .sum()
    }

    /// The upstream calls of `product` to `endpoint` answered with a 2xx.
    fn answered_2xx(&self, product: &str, endpoint: &str) -> f64 {
        self.sum(
            "hbg_upstream_calls_total",
            &[("product", product), ("endpoint", endpoint)],
            |labels| labels["status"].starts_with('2'),
        )
    }
}

/// Reads the OpenMetrics text: each sample line `name{key="value",...} value`.
fn samples(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("a sample has a value");
            let (name, labels) = match series.split_once('{') {
                Some((name, labels)) => (name, labels_of(labels.trim_end_matches('}'))),
                None => (series, BTreeMap::new()),
            };
            Sample {
                name: name.to_owned(),
                labels,
                value: value.parse().expect("a number"),
            }
        })
        .collect()
}

/// The labels of `key="value",key="value"` (values hold no `"`).
fn labels_of(text: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut rest = text;
    while let Some((key, after)) = rest.split_once("=\"") {
        let (value, after) = after.split_once('"').expect("a closed label value");
        labels.insert(key.trim_start_matches(',').to_owned(), value.to_owned());
        rest = after;
    }
    labels
}

/// `GET /metrics` on `gateway`'s admin listener.
async fn scrape(gateway: &RunningGateway) -> Scraped {
    let admin = gateway.admin_url().expect("an admin listener");
    let response = reqwest::get(format!("{admin}/metrics"))
        .await
        .expect("the admin listener answers");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text"),
        "{:?}",
        response.headers()
    );
    let text = response.text().await.expect("a body");
    assert!(text.ends_with("# EOF\n"), "{text}");
    Scraped {
        samples: samples(&text),
        text,
    }
}

/// Asserts that no label value is an id, a reference, a link or an
/// e-mail address: statuses are three digits or `error`, histogram bounds
/// (`le`) numbers, every other value has no digit, no `@` and no `:`, and
/// none of `secrets` appears anywhere in the text.
fn assert_names_nobody(scraped: &Scraped, secrets: &[&str]) {
    for sample in &scraped.samples {
        for (key, value) in &sample.labels {
            let fine = if key == "status" {
                value == "error" || (value.len() == 3 && value.bytes().all(|b| b.is_ascii_digit()))
            } else if key == "le" {
                value == "+Inf" || value.parse::<f64>().is_ok()
            } else {
                !value
                    .chars()
                    .any(|c| c.is_ascii_digit() || c == '@' || c == ':')
            };
            assert!(fine, "{} has {key}={value:?}", sample.name);
        }
    }
    for secret in secrets {
        assert!(
            !scraped.text.contains(secret),
            "{secret} in\n{}",
            scraped.text
        );
    }
}

#[tokio::test]
async fn metrics_are_served_on_the_admin_listener_only() {
    let stack = stack().await;
    let admin = stack.gateway.admin_url().expect("an admin listener");
    assert_ne!(admin, stack.gateway.url());
    let scraped = scrape(&stack.gateway).await;
    assert!(
        scraped.text.contains("# TYPE hbg_live_holds gauge"),
        "{}",
        scraped.text
    );
    let public = reqwest::get(format!("{}/metrics", stack.gateway.url()))
        .await
        .expect("the public listener answers");
    assert_eq!(public.status(), StatusCode::NOT_FOUND);
    let elsewhere = reqwest::get(format!("{admin}/api/options"))
        .await
        .expect("the admin listener answers");
    assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = elsewhere.json().await.expect("a JSON 404");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    let without = Stack::start().await;
    assert_eq!(
        without.gateway.admin_url(),
        None,
        "no admin_listen, no admin"
    );
}

#[tokio::test]
async fn a_hold_and_a_booking_are_counted_by_route_product_and_pay_option() {
    let stack = stack().await;
    let event_id = stack.create_event(COURSE, 5).await;
    let candidate = stack.widget().await;
    let hold_ref = candidate.hold_ref(event_id).await;
    let held = scrape(&stack.gateway).await;
    assert_eq!(held.value("hbg_live_holds", &[]), 1.0, "{}", held.text);
    let booked = candidate
        .book(&hold_ref, &PayOption::Credits, "metrics-booking")
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);

    let scraped = scrape(&stack.gateway).await;
    let requests = |route, status| {
        scraped.value(
            "hbg_requests_total",
            &[("route", route), ("status", status)],
        )
    };
    assert_eq!(requests("/api/options", "200"), 1.0, "{}", scraped.text);
    assert_eq!(requests("/api/holds", "200"), 1.0, "{}", scraped.text);
    assert_eq!(requests("/api/bookings", "201"), 1.0, "{}", scraped.text);
    for endpoint in ["/auth/token", "/training-events/{id}/hold", "/bookings"] {
        assert_eq!(
            scraped.answered_2xx("practical", endpoint),
            1.0,
            "{endpoint}: {}",
            scraped.text
        );
    }
    assert_eq!(
        scraped.value(
            "hbg_bookings_total",
            &[("product", "practical"), ("pay_option", "credits")]
        ),
        1.0,
        "{}",
        scraped.text
    );
    assert_eq!(scraped.value("hbg_bookings_total", &[]), 1.0);
    assert_eq!(
        scraped.value("hbg_lost_answers_reconciled_total", &[]),
        0.0,
        "nothing was lost"
    );
    assert_eq!(
        scraped.value("hbg_queue_length", &[("product", "practical")]),
        0.0
    );
}

#[tokio::test]
async fn an_upstream_429_is_counted_with_its_status() {
    let stack = stack().await;
    let candidate = stack.widget().await;
    stack.proxy.fault_next(
        Target::exactly(Method::GET, "/courses"),
        Fault::RateLimited(1),
    );
    let courses = candidate.get("/courses").await;
    assert_eq!(stack.proxy.faulted(Fault::RateLimited(1)).len(), 1);

    let scraped = scrape(&stack.gateway).await;
    assert_eq!(
        scraped.value(
            "hbg_upstream_calls_total",
            &[
                ("product", "practical"),
                ("endpoint", "/courses"),
                ("status", "429")
            ]
        ),
        1.0,
        "{}",
        scraped.text
    );
    let status = courses.status.as_str().to_owned();
    assert_eq!(
        scraped.value(
            "hbg_requests_total",
            &[("route", "/api/courses"), ("status", &status)]
        ),
        1.0,
        "{}",
        scraped.text
    );
}

#[tokio::test]
async fn a_booking_whose_answer_was_lost_counts_one_reconciled_booking() {
    let stack = stack().await;
    let event_id = stack.create_event(COURSE, 5).await;
    let candidate = stack.widget().await;
    let hold_ref = candidate.hold_ref(event_id).await;
    stack.proxy.fault_next(
        Target::exactly(Method::POST, "/bookings"),
        Fault::LostAnswer,
    );
    let lost = candidate
        .book(&hold_ref, &PayOption::Credits, "metrics-lost")
        .await;
    assert_ne!(lost.status, StatusCode::CREATED, "{}", lost.text);
    assert_eq!(stack.proxy.faulted(Fault::LostAnswer).len(), 1);
    let again = candidate
        .book(&hold_ref, &PayOption::Credits, "metrics-lost")
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    assert_eq!(stack.bookings_on(event_id).await.len(), 1, "booked once");

    let scraped = scrape(&stack.gateway).await;
    assert_eq!(
        scraped.value("hbg_lost_answers_reconciled_total", &[("what", "booking")]),
        1.0,
        "{}",
        scraped.text
    );
    assert_eq!(
        scraped.value(
            "hbg_bookings_total",
            &[("product", "practical"), ("pay_option", "credits")]
        ),
        1.0,
        "one booking made, counted once: {}",
        scraped.text
    );
    assert_eq!(
        scraped.value(
            "hbg_upstream_calls_total",
            &[("endpoint", "/bookings"), ("status", "error")]
        ),
        1.0,
        "{}",
        scraped.text
    );
    assert_eq!(
        scraped.value(
            "hbg_requests_total",
            &[("route", "/api/bookings"), ("status", "201")]
        ),
        1.0
    );
}

#[tokio::test]
async fn two_gateways_in_one_process_keep_their_own_numbers() {
    let stack = stack().await;
    let static_dir = temp_dir("second-metrics");
    let mut config = gateway_config(&stack.proxy.api_url(), &stack.account, static_dir.path());
    admin_on_a_free_port(&mut config);
    let second = spawn_gateway(config).await.expect("second gateway starts");
    stack.widget().await;
    for _ in 0..3 {
        Widget::start(stack.client.clone(), second.url()).await;
    }

    let (first, other) = (scrape(&stack.gateway).await, scrape(&second).await);
    let options = |scraped: &Scraped| {
        scraped.value(
            "hbg_requests_total",
            &[("route", "/api/options"), ("status", "200")],
        )
    };
    assert_eq!(options(&first), 1.0, "{}", first.text);
    assert_eq!(options(&other), 3.0, "{}", other.text);
    assert_eq!(first.answered_2xx("practical", "/auth/token"), 1.0);
    assert_eq!(
        other.answered_2xx("practical", "/auth/token"),
        1.0,
        "each instance exchanges its own token"
    );
}

#[tokio::test]
async fn live_holds_are_counted_from_the_shared_store() {
    let instances = TwoInstances::start_with(admin_on_a_free_port).await;
    let stack = &instances.stack;
    let event_id = stack.create_event(COURSE, 5).await;
    stack.widget().await.hold_ref(event_id).await;
    for gateway in [&stack.gateway, &instances.second] {
        let scraped = scrape(gateway).await;
        assert_eq!(
            scraped.value("hbg_live_holds", &[]),
            1.0,
            "the store's count, whichever instance granted it: {}",
            scraped.text
        );
    }
}

#[tokio::test]
async fn no_label_names_an_id_a_link_or_an_email() {
    let stack = stack().await;
    let event_id = stack.create_event(COURSE, 5).await;
    let candidate = stack.widget().await;
    let hold_ref = candidate.hold_ref(event_id).await;
    let booked = candidate
        .book(&hold_ref, &PayOption::Credits, "metrics-labels")
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);
    let booking_ref = booked.body["booking_ref"].as_str().expect("a booking_ref");
    let link = booked.body["manage_link"].as_str().expect("a manage_link");
    let booking_id = booked.body["booking"]["id"].to_string();
    assert_eq!(
        candidate
            .get(&format!("/bookings/{booking_ref}"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        candidate.get(&format!("/manage/{link}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        candidate.get("/no-such-route/12345").await.status,
        StatusCode::NOT_FOUND
    );
    let file = reqwest::get(format!(
        "{}/priya.patel@carestaff.example",
        stack.gateway.url()
    ))
    .await
    .expect("the gateway answers");
    assert_eq!(file.status(), StatusCode::NOT_FOUND);

    let scraped = scrape(&stack.gateway).await;
    assert!(
        scraped.value(
            "hbg_requests_total",
            &[("route", "/api/manage/{link}"), ("status", "200")]
        ) == 1.0
            && scraped.value(
                "hbg_requests_total",
                &[("route", "/api/bookings/{booking_ref}"), ("status", "200")]
            ) == 1.0,
        "{}",
        scraped.text
    );
    assert_eq!(
        scraped.value("hbg_requests_total", &[("route", "other")]),
        2.0,
        "an unknown path and a missing file: {}",
        scraped.text
    );
    assert_names_nobody(
        &scraped,
        &[
            &hold_ref,
            booking_ref,
            link,
            &candidate.session,
            "carestaff",
            &format!("/{event_id}"),
            &format!("/{booking_id}"),
        ],
    );
}

/// The gateway binary, stopped when dropped.
struct Binary(Child);

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_binary_announces_its_admin_listener_from_the_environment() {
    let dir = temp_dir("admin-binary");
    let mut child = Command::new(env!("CARGO_BIN_EXE_booking-gateway"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            "http://127.0.0.1:9/api/v1",
        ])
        .args(["--static", dir.path().to_str().expect("a UTF-8 path")])
        .env_remove("HBG_CLIENT_ID")
        .env_remove("HBG_API_KEY")
        .env_remove("HBG_GATEWAY_KEY")
        .env_remove("HBG_SHARED_STORE")
        .env("HBG_ADMIN_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let _binary = Binary(child);
    let (lines, line) = mpsc::channel();
    std::thread::spawn(move || {
        for text in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(text);
        }
    });
    let next = || {
        line.recv_timeout(Duration::from_secs(30))
            .expect("the gateway announces itself")
    };
    let public = next()
        .strip_prefix("gateway listening on ")
        .expect("the public listener first")
        .to_owned();
    let admin = next()
        .strip_prefix("gateway admin listening on ")
        .expect("then the admin listener")
        .to_owned();
    assert_ne!(public, admin);
    let metrics = reqwest::get(format!("{admin}/metrics"))
        .await
        .expect("the admin listener answers");
    assert_eq!(metrics.status(), StatusCode::OK);
    let text = metrics.text().await.expect("a body");
    assert!(text.contains("# TYPE hbg_live_holds gauge"), "{text}");
    let on_public = reqwest::get(format!("{public}/metrics"))
        .await
        .expect("the public listener answers");
    assert_eq!(on_public.status(), StatusCode::NOT_FOUND);
}
