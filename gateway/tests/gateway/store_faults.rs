//! The gateway's shared store and the sandbox under faults, through real
//! HTTP: Redis restarted or flushed while a booking is in flight, an
//! instance killed while it holds a place's lock, two instances racing for
//! the last seat, every key expiring on its own, and a sandbox process
//! killed mid-booking and restarted on the same database. Each test starts
//! its own `redis-server`, or, for the sandbox's restarts, its own
//! `booking-sandbox` process ([`sandbox_binary`]).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::support::{
    create_account, gateway_config, temp_dir, Fate, Mode, Proxy, Reply, SandboxAccount,
    TwoInstances, Widget,
};
use booking_core::api::PayOption;
use booking_gateway::spawn_gateway;
use redis::AsyncCommands;
use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Course 1, which the test account has credits for.
const COURSE: u64 = 1;

/// The prefix of every key the gateway writes to its shared store.
const KEY_PREFIX: &str = "hbg-gateway:";

/// A connection of the test's own to the shared store.
async fn store(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .expect("a Redis URL")
        .get_multiplexed_async_connection()
        .await
        .expect("Redis answers")
}

/// Books as the widget does when told to try again: the same attempt (the
/// same idempotency key) is sent again while the gateway answers 503
/// ("Nothing was booked", "still being made"), for ten seconds at most.
async fn book_until_answered(widget: &Widget, hold_ref: &str, key: &str) -> Reply {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = widget.book(hold_ref, &PayOption::Credits, key).await;
        if reply.status != StatusCode::SERVICE_UNAVAILABLE || Instant::now() >= deadline {
            return reply;
        }
        // The widget's pause before trying again: the retry cadence is the
        // behaviour under test, against a shared store on real time.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The fault a booking in flight meets in the shared store.
#[derive(Debug, Clone, Copy)]
enum StoreFault {
    /// Redis is killed and started again, empty.
    Restarted,
    /// Every key is deleted (`FLUSHALL`).
    Flushed,
}

/// A candidate books with `attempt-1` while the store meets `fault`; the
/// booking is made upstream, and its answer is then delivered or lost as
/// `fate` says. The candidate's retry, through the other instance, gets the
/// one booking: sent upstream once, one booking, one credit spent.
async fn a_booking_in_flight_meets(fault: StoreFault, fate: Fate) {
    let mut both = TwoInstances::start().await;
    both.stack
        .set_profile(json!({"idempotency": "ignored"}))
        .await;
    let event_id = both.stack.create_event(COURSE, 10).await;
    let before = both.stack.wallet(COURSE).await;
    let candidate = both.stack.widget().await;
    let hold_ref = candidate.hold_ref(event_id).await;

    let release = Arc::new(Notify::new());
    both.stack.proxy.set_mode(Mode::Stall {
        method: Method::POST,
        path: "/bookings".to_owned(),
        fate,
        release: release.clone(),
    });
    let first = {
        let (candidate, hold_ref) = (candidate.clone(), hold_ref.clone());
        tokio::spawn(async move {
            candidate
                .book(&hold_ref, &PayOption::Credits, "attempt-1")
                .await
        })
    };
    both.stack
        .proxy
        .wait_for_count(
            "the booking to be made upstream",
            Method::POST,
            "/bookings",
            1,
        )
        .await;
    assert_eq!(both.stack.bookings_on(event_id).await.len(), 1);
    match fault {
        StoreFault::Restarted => both.redis.restart().await,
        StoreFault::Flushed => {
            let () = redis::cmd("FLUSHALL")
                .query_async(&mut store(&both.redis.url()).await)
                .await
                .expect("FLUSHALL");
        }
    }
    release.notify_one();
    let first = first.await.expect("the first try is answered");
    match fate {
        Fate::Answered => assert_eq!(first.status, StatusCode::CREATED, "{}", first.text),
        _ => assert!(first.status.is_server_error(), "{}", first.text),
    }

    let retried = book_until_answered(&both.on_second(&candidate), &hold_ref, "attempt-1").await;
    assert_eq!(
        retried.status,
        StatusCode::CREATED,
        "{fault:?}, {fate:?}: the retry gets the booking (sent upstream {} times): {}",
        both.stack.proxy.count(Method::POST, "/bookings"),
        retried.text
    );
    let made = both.stack.bookings_on(event_id).await;
    assert_eq!(made.len(), 1, "{fault:?}, {fate:?}: one booking: {made:?}");
    assert_eq!(retried.body["booking"]["id"], made[0]["id"]);
    assert_eq!(
        both.stack.wallet(COURSE).await,
        (before.0 - 1, before.1),
        "{fault:?}, {fate:?}: one credit spent"
    );
    assert_eq!(
        both.stack.proxy.count(Method::POST, "/bookings"),
        1,
        "{fault:?}, {fate:?}: the attempt was sent upstream once"
    );
}

#[tokio::test]
async fn redis_restarted_with_a_booking_in_flight_books_once_when_its_answer_comes() {
    a_booking_in_flight_meets(StoreFault::Restarted, Fate::Answered).await;
}

#[tokio::test]
async fn redis_restarted_with_a_booking_in_flight_books_once_when_its_answer_is_lost() {
    a_booking_in_flight_meets(StoreFault::Restarted, Fate::AnswerLost).await;
}

#[tokio::test]
async fn redis_flushed_with_a_booking_in_flight_books_once_when_its_answer_comes() {
    a_booking_in_flight_meets(StoreFault::Flushed, Fate::Answered).await;
}

#[tokio::test]
async fn redis_flushed_with_a_booking_in_flight_books_once_when_its_answer_is_lost() {
    a_booking_in_flight_meets(StoreFault::Flushed, Fate::AnswerLost).await;
}

#[tokio::test]
async fn a_first_booking_after_redis_was_flushed_is_looked_for_then_sent_once() {
    let both = TwoInstances::start().await;
    both.stack
        .set_profile(json!({"idempotency": "ignored"}))
        .await;
    let event_id = both.stack.create_event(COURSE, 10).await;
    let before = both.stack.wallet(COURSE).await;
    let candidate = both.stack.widget().await;
    let hold_ref = candidate.hold_ref(event_id).await;
    let () = redis::cmd("FLUSHALL")
        .query_async(&mut store(&both.redis.url()).await)
        .await
        .expect("FLUSHALL");

    let booked = candidate
        .book(&hold_ref, &PayOption::Credits, "attempt-1")
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);
    assert_eq!(both.stack.bookings_on(event_id).await.len(), 1);
    assert_eq!(both.stack.wallet(COURSE).await, (before.0 - 1, before.1));
    let proxy = &both.stack.proxy;
    assert_eq!(
        proxy.count(Method::GET, "/bookings"),
        1,
        "the store forgot the hold, so an earlier try was looked for"
    );
    assert_eq!(proxy.count(Method::POST, "/bookings"), 1, "then sent once");
}

#[tokio::test]
async fn a_lock_holder_killed_mid_hold_lets_its_lock_lapse_and_another_instance_then_holds() {
    let both = TwoInstances::start().await;
    let event_id = both.stack.create_event(COURSE, 1).await;
    let doomed_files = temp_dir("doomed");
    let doomed_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime of its own");
    let doomed = doomed_runtime
        .spawn(spawn_gateway(both.another_instance(&doomed_files)))
        .await
        .expect("the doomed instance's start ran")
        .expect("the doomed instance starts");
    let holder = Widget::start(both.stack.client.clone(), doomed.url()).await;
    let taker = both.stack.widget().await;

    let hold_path = format!("/training-events/{event_id}/hold");
    let release = Arc::new(Notify::new());
    both.stack.proxy.set_mode(Mode::Stall {
        method: Method::POST,
        path: hold_path.clone(),
        fate: Fate::NeverSent,
        release: release.clone(),
    });
    let holding = {
        let request = holder
            .client
            .post(format!("{}/api/holds", holder.base))
            .header("x-hbg-session", &holder.session)
            .json(&json!({ "event_id": event_id }));
        tokio::spawn(request.send())
    };
    let mut redis = store(&both.redis.url()).await;
    let lock_key = format!("{KEY_PREFIX}event-lock:{event_id}");
    let proxy = &both.stack.proxy;
    proxy
        .wait_for_count(
            "the holder's upstream call, under the lock",
            Method::POST,
            &hold_path,
            1,
        )
        .await;
    let holders_token: Option<String> = redis.get(&lock_key).await.expect("GET");
    let holders_token = holders_token.expect("the holder has the place's lock");
    let left_ms: i64 = redis.pttl(&lock_key).await.expect("PTTL");
    assert!(
        (1..=5000).contains(&left_ms),
        "the lock lives five seconds at most: {left_ms} ms left"
    );
    let lapses = Instant::now() + Duration::from_millis(left_ms.unsigned_abs());

    doomed_runtime.shutdown_background();
    drop(doomed);
    let died = holding.await.expect("the holder's request ran");
    assert!(
        died.is_err(),
        "the killed instance answered nothing: {died:?}"
    );

    let taken = taker.hold(event_id, None).await;
    assert_eq!(
        taken.status,
        StatusCode::OK,
        "another instance holds the place once the lock lapsed: {}",
        taken.text
    );
    let now_held_by: Option<String> = redis.get(&lock_key).await.expect("GET");
    assert_ne!(now_held_by, Some(holders_token), "the lock lapsed");
    let sent = proxy
        .seen()
        .into_iter()
        .find(|seen| seen.path == hold_path && seen.status == 200)
        .expect("the other instance's hold went upstream");
    assert!(
        sent.at + Duration::from_millis(50) >= lapses.into_std(),
        "the other instance waited for the lock to lapse"
    );
    assert!(
        sent.at <= (lapses + Duration::from_secs(1)).into_std(),
        "and went as soon as it lapsed, not after giving up on it ({:?} late)",
        sent.at - lapses.into_std()
    );
    release.notify_one();
}

#[tokio::test]
async fn two_instances_racing_100_times_for_the_last_seat_get_exactly_one_hold_each_time() {
    let both = TwoInstances::start_with(|config| config.upstream_rate_limit = 100_000).await;
    let on_first = both.stack.widget().await;
    let on_second = Widget::start(both.stack.client.clone(), both.second.url()).await;
    for round in 1..=100 {
        let event_id = both.stack.create_event(COURSE, 1).await;
        let (first, second) = tokio::join!(
            on_first.hold(event_id, None),
            on_second.hold(event_id, None)
        );
        let mut granted = Vec::new();
        for (widget, reply) in [(&on_first, &first), (&on_second, &second)] {
            match reply.status {
                StatusCode::OK => granted.push((widget, reply)),
                StatusCode::CONFLICT => assert!(
                    reply.body["message"]
                        .as_str()
                        .is_some_and(|message| message.contains("Another candidate")),
                    "round {round}: a clear 409: {}",
                    reply.text
                ),
                other => panic!("round {round}: {other}: {}", reply.text),
            }
        }
        assert_eq!(
            granted.len(),
            1,
            "round {round}: exactly one hold: {} / {}",
            first.text,
            second.text
        );
        let (winner, held) = granted[0];
        let hold_ref = held.body["hold_ref"].as_str().expect("hold_ref");
        let released = winner.delete(&format!("/holds/{hold_ref}")).await;
        assert_eq!(released.status, StatusCode::NO_CONTENT, "{}", released.text);
    }
}

#[tokio::test]
async fn every_key_in_the_shared_store_has_a_time_to_live() {
    let both = TwoInstances::start().await;
    both.stack
        .set_profile(json!({"idempotency": "ignored"}))
        .await;
    let events = [
        both.stack.create_event(COURSE, 5).await,
        both.stack.create_event(COURSE, 5).await,
        both.stack.create_event(COURSE, 5).await,
    ];
    let priya = both.stack.widget().await;
    let sam = Widget::start(both.stack.client.clone(), both.second.url()).await;

    let priyas_ref = priya.hold_ref(events[0]).await;
    let renewed = both
        .on_second(&priya)
        .post(
            "/holds",
            json!({"event_id": events[0], "hold_ref": priyas_ref, "renew": true}),
            &[],
        )
        .await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.text);
    let priyas_ref = renewed.body["hold_ref"].as_str().expect("hold_ref");
    let taken = sam.hold(events[0], None).await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.text);
    let sams_ref = sam.hold_ref(events[1]).await;
    let released = sam.delete(&format!("/holds/{sams_ref}")).await;
    assert_eq!(released.status, StatusCode::NO_CONTENT, "{}", released.text);

    both.stack.proxy.set_mode(Mode::LoseAnswer {
        method: Method::POST,
        path: "/bookings".to_owned(),
    });
    let lost = priya
        .book(priyas_ref, &PayOption::Credits, "attempt-1")
        .await;
    assert!(lost.status.is_server_error(), "{}", lost.text);
    let retried = both
        .on_second(&priya)
        .book(priyas_ref, &PayOption::Credits, "attempt-1")
        .await;
    assert_eq!(retried.status, StatusCode::CREATED, "{}", retried.text);
    let refused = priya
        .book(priyas_ref, &PayOption::Credits, "attempt-2")
        .await;
    assert!(refused.status.is_client_error(), "{}", refused.text);
    let sams_ref = sam.hold_ref(events[1]).await;
    let booked = sam.book(&sams_ref, &PayOption::Credits, "attempt-1").await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);
    both.stack.proxy.set_mode(Mode::LoseAnswer {
        method: Method::POST,
        path: format!("/training-events/{}/hold", events[2]),
    });
    let lost_hold = sam.hold(events[2], None).await;
    assert!(lost_hold.status.is_server_error(), "{}", lost_hold.text);
    priya.hold_ref(events[1]).await;

    let release = Arc::new(Notify::new());
    both.stack.proxy.set_mode(Mode::Stall {
        method: Method::POST,
        path: format!("/training-events/{}/hold", events[2]),
        fate: Fate::NeverSent,
        release: release.clone(),
    });
    let holding = {
        let priya = priya.clone();
        let event_id = events[2];
        tokio::spawn(async move { priya.hold(event_id, None).await })
    };
    let stalled_path = format!("/training-events/{}/hold", events[2]);
    both.stack
        .proxy
        .wait_until("the stalled hold's upstream call, under the lock", |seen| {
            seen.iter().any(|seen| {
                seen.method == Method::POST && seen.path == stalled_path && seen.status == 502
            })
        })
        .await;
    let mut redis = store(&both.redis.url()).await;
    let lock_key = format!("{KEY_PREFIX}event-lock:{}", events[2]);
    let locked: bool = redis.exists(&lock_key).await.expect("EXISTS");
    assert!(locked, "the stalled hold has the place's lock");

    let mut keys: Vec<String> = Vec::new();
    {
        let mut scan = redis
            .scan_match::<_, String>(format!("{KEY_PREFIX}*"))
            .await
            .expect("SCAN");
        while let Some(key) = scan.next_item().await {
            keys.push(key);
        }
    }
    let mut kinds: Vec<&str> = keys
        .iter()
        .filter_map(|key| key.strip_prefix(KEY_PREFIX)?.split(':').next())
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    for kind in [
        "any-hold",
        "any-hold-hash",
        "attempt",
        "event-hold",
        "event-hold-hash",
        "event-lock",
        "hold-attempts",
        "hold-event",
        "hold-owner",
        "hold-place",
        "live-address",
        "live-session",
        "session-hold",
    ] {
        assert!(kinds.contains(&kind), "no {kind} key among {keys:?}");
    }
    let all: Vec<String> = redis.keys("*").await.expect("KEYS");
    assert_eq!(all.len(), keys.len(), "every key is the gateway's: {all:?}");
    for key in &keys {
        let ttl: i64 = redis.ttl(key).await.expect("TTL");
        assert!(ttl > 0, "{key} has no time to live (TTL {ttl})");
    }
    release.notify_one();
    let stalled = holding.await.expect("the stalled hold is answered");
    assert!(stalled.status.is_server_error(), "{}", stalled.text);
}

/// The `booking-sandbox` binary the restart tests run: the one
/// `BOOKING_SANDBOX_BIN` names (`cargo xtask test` builds it before the
/// native tests), else one built here by the Cargo running the tests. Cargo
/// builds only a package's own binaries for its tests, so no
/// `CARGO_BIN_EXE_` names it.
fn sandbox_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| match std::env::var_os("BOOKING_SANDBOX_BIN") {
        Some(binary) => {
            let binary = PathBuf::from(binary);
            assert!(
                binary.is_file(),
                "BOOKING_SANDBOX_BIN names no file: {}",
                binary.display()
            );
            binary
        }
        None => build_sandbox_binary(),
    })
}

/// Builds `booking-sandbox` with the Cargo running the tests (`CARGO`), in
/// its target directory, and returns the binary's path as Cargo reports it.
fn build_sandbox_binary() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| {
        panic!(
            "no booking-sandbox binary: set BOOKING_SANDBOX_BIN to one, or run the tests \
             through Cargo (which sets CARGO) so they can build it"
        )
    });
    let built = Command::new(&cargo)
        .args([
            "build",
            "--package",
            "booking-sandbox",
            "--bin",
            "booking-sandbox",
        ])
        .args(["--message-format", "json-render-diagnostics"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "no booking-sandbox binary: BOOKING_SANDBOX_BIN is not set and `{} build` \
                 did not start: {error}",
                cargo.to_string_lossy()
            )
        });
    assert!(
        built.status.success(),
        "no booking-sandbox binary: BOOKING_SANDBOX_BIN is not set and \
         `cargo build --package booking-sandbox` failed ({})",
        built.status
    );
    String::from_utf8_lossy(&built.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| {
            message["reason"] == "compiler-artifact"
                && message["target"]["name"] == "booking-sandbox"
        })
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .expect("no booking-sandbox binary: Cargo built it but named no executable")
}

/// A `booking-sandbox serve` process on an SQLite file; killed (SIGKILL)
/// when dropped.
struct SandboxProcess {
    child: Child,
    url: String,
}

impl SandboxProcess {
    /// Starts one on `db`, listening on `listen`, in test mode, ignoring
    /// `Idempotency-Key`, and waits until it says where it listens.
    fn start(db: &Path, listen: &str) -> SandboxProcess {
        let db = db.to_str().expect("a UTF-8 path");
        let mut child = Command::new(sandbox_binary())
            .args(["serve", "--listen", listen, "--db", db, "--test-clock"])
            .args(["--rate-limit", "100000", "--profile", "idempotency=ignored"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the sandbox process starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let url = lines
            .by_ref()
            .map(|line| line.expect("text"))
            .find_map(|line| {
                line.strip_prefix("sandbox listening on ")
                    .map(str::to_owned)
            })
            .expect("the sandbox process says where it listens");
        std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
        SandboxProcess { child, url }
    }

    /// Kills it now and waits until it is gone.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A sandbox process, the counting proxy and a gateway in front of it: a
/// candidate books with `attempt-1` and the sandbox is killed while the
/// booking is in flight (`fate`: after it committed, its answer lost; or
/// before it got there), then started again on the same file and port. The
/// candidate's retry books once and charges once.
async fn the_sandbox_killed_mid_booking(fate: Fate) {
    let files = temp_dir("sandbox-restart");
    let static_dir = temp_dir("static");
    let db = files.path().join("sandbox.sqlite3");
    let mut sandbox = SandboxProcess::start(&db, "127.0.0.1:0");
    let address = sandbox
        .url
        .strip_prefix("http://")
        .expect("an http URL")
        .to_owned();
    let client = reqwest::Client::new();
    let account = create_account(&client, &sandbox.url).await;
    let url = sandbox.url.clone();
    let upstream = SandboxAccount {
        client: &client,
        url: &url,
        account: &account,
    };
    let proxy = Proxy::start("127.0.0.1:0".parse().expect("address"), &sandbox.url).await;
    let mut config = gateway_config(&proxy.api_url(), &account, static_dir.path());
    config.pay_options = PayOption::KNOWN.to_vec();
    let gateway = spawn_gateway(config).await.expect("gateway starts");
    let event_id = upstream.create_event(COURSE, 10).await;
    let before = upstream.wallet(COURSE).await;
    let candidate = Widget::start(client.clone(), gateway.url()).await;
    let hold_ref = candidate.hold_ref(event_id).await;

    let release = Arc::new(Notify::new());
    proxy.set_mode(Mode::Stall {
        method: Method::POST,
        path: "/bookings".to_owned(),
        fate,
        release: release.clone(),
    });
    let first = {
        let (candidate, hold_ref) = (candidate.clone(), hold_ref.clone());
        tokio::spawn(async move {
            candidate
                .book(&hold_ref, &PayOption::Credits, "attempt-1")
                .await
        })
    };
    proxy
        .wait_for_count("the booking to be in flight", Method::POST, "/bookings", 1)
        .await;
    sandbox.kill();
    release.notify_one();
    let first = first.await.expect("the first try is answered");
    assert_eq!(first.status, StatusCode::BAD_GATEWAY, "{}", first.text);

    let _restarted = SandboxProcess::start(&db, &address);
    let retried = book_until_answered(&candidate, &hold_ref, "attempt-1").await;
    assert_eq!(
        retried.status,
        StatusCode::CREATED,
        "{fate:?}: the retry gets the booking: {}",
        retried.text
    );
    let made = upstream.bookings_on(event_id).await;
    assert_eq!(made.len(), 1, "{fate:?}: one booking: {made:?}");
    assert_eq!(retried.body["booking"]["id"], made[0]["id"]);
    assert_eq!(
        upstream.wallet(COURSE).await,
        (before.0 - 1, before.1),
        "{fate:?}: one credit spent"
    );
    let reached_the_sandbox = proxy
        .seen()
        .iter()
        .filter(|seen| seen.method == Method::POST && seen.path == "/bookings")
        .filter(|seen| seen.status != 502)
        .count();
    assert_eq!(
        reached_the_sandbox, 1,
        "{fate:?}: the booking reached the sandbox once"
    );
}

#[tokio::test]
async fn the_sandbox_killed_after_committing_a_booking_and_restarted_books_it_once() {
    the_sandbox_killed_mid_booking(Fate::AnswerLost).await;
}

#[tokio::test]
async fn the_sandbox_killed_before_committing_a_booking_and_restarted_books_it_once() {
    the_sandbox_killed_mid_booking(Fate::NeverSent).await;
}
