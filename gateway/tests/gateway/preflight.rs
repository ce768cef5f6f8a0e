//! `booking-gateway preflight`, run as the built binary against a sandbox
//! (through the counting, fault-injecting proxy) with a test account's
//! credentials: what it reports of each upstream call, its exit code, the
//! plain words it ends with, and that it writes nothing upstream and prints
//! no secret.

use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::support::{create_account, create_bls_account, Account, Fault, Mode, Proxy, Target};
use booking_sandbox::{spawn_sandbox, RunningSandbox, SandboxConfig};
use reqwest::Method;
use serde_json::{json, Value};

/// The longest a preflight run may take: far longer than it should.
const RUN_LIMIT: Duration = Duration::from_secs(60);

/// A sandbox, the proxy in front of it and an account of each product.
struct Upstream {
    /// Kept alive for the proxy to forward to.
    _sandbox: RunningSandbox,
    proxy: Proxy,
    practical: Account,
    bls: Account,
}

impl Upstream {
    async fn start() -> Upstream {
        let sandbox = spawn_sandbox(SandboxConfig::for_tests())
            .await
            .expect("sandbox starts");
        let client = reqwest::Client::new();
        let practical = create_account(&client, sandbox.url()).await;
        let bls = create_bls_account(&client, sandbox.url()).await;
        let proxy = Proxy::start("127.0.0.1:0".parse().expect("address"), sandbox.url()).await;
        Upstream {
            _sandbox: sandbox,
            proxy,
            practical,
            bls,
        }
    }

    /// The flags and environment of a gateway booking Practical Training
    /// only, through the proxy, with the test account.
    fn practical_only(&self) -> (Vec<String>, Vec<(&'static str, String)>) {
        (
            vec!["--upstream".to_owned(), self.proxy.api_url()],
            vec![
                ("HBG_CLIENT_ID", self.practical.client_id.clone()),
                ("HBG_API_KEY", self.practical.api_key.clone()),
            ],
        )
    }

    /// The flags and environment of a gateway booking both products.
    fn both(&self) -> (Vec<String>, Vec<(&'static str, String)>) {
        let (mut args, mut env) = self.practical_only();
        args.extend(["--bls-upstream".to_owned(), self.proxy.bls_api_url()]);
        env.extend([
            ("HBG_BLS_CLIENT_ID", self.bls.client_id.clone()),
            ("HBG_BLS_API_KEY", self.bls.api_key.clone()),
        ]);
        (args, env)
    }
}

/// What a preflight run gave.
struct Run {
    success: bool,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Its stdout read as the JSON report.
    fn report(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|error| panic!("not a JSON report ({error}): {}", self.stdout))
    }

    /// Asserts that neither stdout nor stderr holds `secret`.
    fn assert_never_shows(&self, secret: &str) {
        assert!(!self.stdout.contains(secret), "stdout shows a secret");
        assert!(!self.stderr.contains(secret), "stderr shows a secret");
    }
}

/// Runs `booking-gateway preflight` with `args` and `env` (and nothing of
/// the test process's own `HBG_` variables), logging at debug level, in a
/// blocking thread so the sandbox and proxy keep serving; killed if it
/// outlives [`RUN_LIMIT`].
async fn preflight(args: &[String], env: &[(&'static str, String)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_booking-gateway"));
    command.arg("preflight").args(args).env("RUST_LOG", "debug");
    for name in [
        "HBG_CLIENT_ID",
        "HBG_API_KEY",
        "HBG_BLS_CLIENT_ID",
        "HBG_BLS_API_KEY",
        "HBG_GATEWAY_KEY",
        "HBG_BOOKING_LINK_KEY",
        "HBG_SHARED_STORE",
    ] {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let pid = child.id();
    let (exited, exit) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = exited.send(child.wait_with_output());
    });
    let output: Output = tokio::task::spawn_blocking(move || exit.recv_timeout(RUN_LIMIT))
        .await
        .expect("the waiting thread")
        .unwrap_or_else(|_| {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("the preflight did not finish within {RUN_LIMIT:?}");
        })
        .expect("the preflight's output");
    Run {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `args` with `--json` added.
fn json(mut args: Vec<String>) -> Vec<String> {
    args.push("--json".to_owned());
    args
}

/// The report's calls of `product`, as `METHOD route` in order.
fn routes_of(report: &Value, product: &str) -> Vec<String> {
    calls_of(report, product)
        .iter()
        .map(|call| {
            format!(
                "{} {}",
                call["method"].as_str().expect("method"),
                call["route"].as_str().expect("route")
            )
        })
        .collect()
}

/// The report's calls of `product`.
fn calls_of(report: &Value, product: &str) -> Vec<Value> {
    report["calls"]
        .as_array()
        .expect("calls")
        .iter()
        .filter(|call| call["product"] == product)
        .cloned()
        .collect()
}

/// The report's differences of `product`'s `route`.
fn drift_of(report: &Value, product: &str, route: &str) -> Vec<Value> {
    report["drift"]
        .as_array()
        .expect("drift")
        .iter()
        .filter(|drift| drift["product"] == product && drift["route"] == route)
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn against_the_sandbox_both_products_pass_with_every_call_timed_and_its_rate_limit_shown() {
    let upstream = Upstream::start().await;
    let (args, env) = upstream.both();
    let run = preflight(&json(args.clone()), &env).await;
    assert!(run.success, "{}\n{}", run.stdout, run.stderr);
    let report = run.report();
    assert_eq!(report["products"][0]["product"], "practical", "{report}");
    assert_eq!(report["products"][1]["product"], "virtual-bls", "{report}");
    assert_eq!(
        routes_of(&report, "practical"),
        [
            "POST /auth/token",
            "GET /profile",
            "GET /courses",
            "GET /locations",
            "GET /training-events",
            "GET /credits"
        ]
    );
    assert_eq!(
        routes_of(&report, "virtual-bls"),
        [
            "POST /auth/token",
            "GET /courses",
            "GET /timeslots",
            "GET /credits"
        ]
    );
    for call in report["calls"].as_array().expect("calls") {
        assert_eq!(call["status"], 200, "{call}");
        assert!(call["latency_ms"].is_u64(), "{call}");
        assert_eq!(call["blocking"], false, "{call}");
        assert!(
            call["rate_limit"]["X-RateLimit-Limit"].is_string(),
            "the sandbox's rate-limit headers are shown: {call}"
        );
        assert!(
            call["rate_limit"]["X-RateLimit-Remaining"].is_string(),
            "{call}"
        );
    }
    for drift in report["drift"].as_array().expect("drift") {
        assert_eq!(drift["blocking"], false, "{drift}");
    }
    assert_eq!(report["verdict"]["ready"], true, "{report}");
    assert_eq!(report["verdict"]["problems"], serde_json::json!([]));

    let text = preflight(&args, &env).await;
    assert!(text.success, "{}\n{}", text.stdout, text.stderr);
    for line in [
        "POST /auth/token",
        "GET /profile",
        "GET /timeslots",
        "GET /credits",
    ] {
        assert!(text.stdout.contains(line), "{}", text.stdout);
    }
    assert!(text.stdout.contains("200"), "{}", text.stdout);
    assert!(text.stdout.contains(" ms"), "{}", text.stdout);
    assert!(text.stdout.contains("X-RateLimit-Limit"), "{}", text.stdout);
    assert!(text.stdout.contains("Ready"), "{}", text.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_course_list_without_names_is_blocking_and_says_courses_cannot_be_listed() {
    let upstream = Upstream::start().await;
    upstream.proxy.set_mode(Mode::DropField {
        path_prefix: "/courses".to_owned(),
        field: "name",
    });
    let (args, env) = upstream.practical_only();
    let run = preflight(&json(args.clone()), &env).await;
    assert!(!run.success, "{}", run.stdout);
    let report = run.report();
    let drift = drift_of(&report, "practical", "/courses");
    let missing = drift
        .iter()
        .find(|drift| drift["field"] == "data[].name")
        .unwrap_or_else(|| panic!("the missing name is named: {report}"));
    assert_eq!(missing["kind"], "missing");
    assert_eq!(missing["blocking"], true);
    assert_eq!(report["verdict"]["ready"], false);
    let courses = &calls_of(&report, "practical")[2];
    assert_eq!(courses["route"], "/courses");
    assert_eq!(courses["status"], 200);
    assert_eq!(courses["blocking"], true);

    let text = preflight(&args, &env).await;
    assert!(!text.success);
    assert!(text.stdout.contains("data[].name"), "{}", text.stdout);
    assert!(
        text.stdout
            .contains("Courses cannot be listed: candidates cannot choose a course."),
        "{}",
        text.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_field_the_gateway_reads_but_can_do_without_is_informational_and_passes() {
    let upstream = Upstream::start().await;
    upstream.proxy.set_mode(Mode::DropField {
        path_prefix: "/courses".to_owned(),
        field: "duration_minutes",
    });
    let (args, env) = upstream.practical_only();
    let run = preflight(&json(args), &env).await;
    assert!(run.success, "{}\n{}", run.stdout, run.stderr);
    let report = run.report();
    let drift = drift_of(&report, "practical", "/courses");
    let missing = drift
        .iter()
        .find(|drift| drift["field"] == "data[].duration_minutes")
        .unwrap_or_else(|| panic!("the missing field is listed: {report}"));
    assert_eq!(missing["kind"], "missing");
    assert_eq!(missing["source"], "inferred");
    assert_eq!(missing["blocking"], false);
    assert_eq!(report["verdict"]["ready"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_field_the_gateway_does_not_read_is_informational_passes_and_its_value_is_not_shown() {
    let upstream = Upstream::start().await;
    upstream.proxy.set_mode(Mode::AddField {
        path_prefix: "/courses".to_owned(),
        field: "account_manager",
        value: json!("Priya Patel"),
    });
    let (args, env) = upstream.practical_only();
    let run = preflight(&json(args.clone()), &env).await;
    assert!(run.success, "{}\n{}", run.stdout, run.stderr);
    let report = run.report();
    let drift = drift_of(&report, "practical", "/courses");
    let extras: Vec<&Value> = drift
        .iter()
        .filter(|drift| drift["kind"] == "extra")
        .collect();
    assert_eq!(extras.len(), 2, "the answer's and its items': {report}");
    for extra in extras {
        assert!(
            ["account_manager", "data[].account_manager"]
                .contains(&extra["field"].as_str().unwrap()),
            "{extra}"
        );
        assert_eq!(extra["blocking"], false, "{extra}");
        assert_eq!(extra["source"], Value::Null, "{extra}");
    }
    assert_eq!(report["verdict"]["ready"], true);
    let text = preflight(&args, &env).await;
    assert!(text.success);
    assert!(
        text.stdout.contains("data[].account_manager"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("informational"), "{}", text.stdout);
    text.assert_never_shows("Priya");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_fail_the_token_exchange_and_name_the_variables_without_showing_them() {
    let upstream = Upstream::start().await;
    let wrong_key = "tdta_test_wrong_key_7f3e9a1c5b";
    let (args, _) = upstream.practical_only();
    let env = vec![
        ("HBG_CLIENT_ID", upstream.practical.client_id.clone()),
        ("HBG_API_KEY", wrong_key.to_owned()),
    ];
    let run = preflight(&args, &env).await;
    assert!(!run.success, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("The token exchange failed (401): check HBG_CLIENT_ID and HBG_API_KEY."),
        "{}",
        run.stdout
    );
    run.assert_never_shows(wrong_key);
    run.assert_never_shows(&upstream.practical.api_key);
    let report = preflight(&json(args), &env).await.report();
    let calls = calls_of(&report, "practical");
    assert_eq!(
        calls.len(),
        1,
        "nothing is called without a token: {report}"
    );
    assert_eq!(calls[0]["status"], 401);
    assert_eq!(calls[0]["blocking"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_event_list_is_blocking_and_says_no_date_can_be_offered() {
    let upstream = Upstream::start().await;
    upstream.proxy.fault_next(
        Target::exactly(Method::GET, "/training-events"),
        Fault::ServerError,
    );
    let (args, env) = upstream.practical_only();
    let run = preflight(&args, &env).await;
    assert!(!run.success, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("Training events cannot be listed (500): candidates cannot choose a date."),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_preflight_sends_only_reads_and_the_token_exchange_and_prints_no_secret_or_value() {
    let upstream = Upstream::start().await;
    let (args, env) = upstream.both();
    let run = preflight(&args, &env).await;
    assert!(run.success, "{}\n{}", run.stdout, run.stderr);
    let seen = upstream.proxy.seen();
    assert!(!seen.is_empty());
    for call in &seen {
        let token_exchange = call.method == Method::POST
            && (call.path == "/auth/token" || call.path == "/bls/api/v1/auth/token");
        assert!(
            call.method == Method::GET || token_exchange,
            "only reads and the token exchange reach the upstream: {} {}",
            call.method,
            call.path
        );
    }
    let tokens = upstream.proxy.tokens();
    assert!(!tokens.is_empty());
    for secret in tokens
        .iter()
        .chain([&upstream.practical.api_key, &upstream.bls.api_key])
    {
        run.assert_never_shows(secret);
    }
    for value in [
        "Test Care Staffing",
        "Moving & Handling",
        "BLS Annual Update",
    ] {
        assert!(!run.stdout.contains(value), "{value}: {}", run.stdout);
    }
}
