//! Webhook events and their delivery: each product's event catalogue,
//! writing an event (in the transaction of the change it reports), and the
//! background worker that sends, signs and retries deliveries, alike for
//! both products.
//!
//! This is the one place for the delivery choices the published API leaves
//! open (its webhooks section; the signing scheme and
//! header names are `crate::webhook_check`'s):
//! * **Retry schedule (inferred):** [`RetrySchedule::standard`], a retry
//!   10 s, 1 min, 5 min, 30 min, 2 h and 8 h after each failed attempt, so
//!   seven attempts over about ten and a half hours, then `failed`.
//! * **Success (inferred):** any 2xx; a 3xx (redirects are not followed),
//!   4xx, 5xx, a timeout (the endpoint's `timeout_seconds`) or a connection
//!   failure is a failed attempt.
//! * **Where (the sandbox's own rule):** an attempt connects only to an
//!   address its endpoint may reach (`webhook_targets`), checked at every
//!   attempt; a refused address is a failed attempt whose error begins
//!   `refused:`, made without connecting. Redirects are not followed (the
//!   published API says nothing of them, and not following them means a 3xx
//!   can never lead to an address that was not checked), and no proxy is
//!   used.
//! * **`X-TDTA-Delivery-Id` (documented as "numeric id of this delivery
//!   attempt"):** the id of the attempt, new for every retry; the event id
//!   stays the same.
//! * **`X-TDTA-Timestamp`:** real Unix time at dispatch (not the test
//!   clock), so a receiver's five-minute check works when the test clock has
//!   been moved; `occurred_at` is the sandbox clock's.
//! * **Order:** one attempt in flight per endpoint, the oldest due delivery
//!   first, so an endpoint that answers 2xx gets its events in order; a
//!   delivery waiting for a retry does not hold back later ones.
//!
//! Invariants: an event and its deliveries are written in the same
//! transaction as the change they report, before anything is sent, so a
//! committed change always has its deliveries and a restart loses none
//! (pending deliveries, and attempts cut short by a stop, are picked up at
//! start); sending happens only in the worker, never in a request; every
//! attempt is logged (attempt number, status or error, duration); the body
//! of every attempt of a delivery is the same bytes.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::Json;
use chrono::{SecondsFormat, Utc};
use rand::Rng;
use rusqlite::{params, Connection};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::auth::Authed;
use super::clock::{from_unix, utc_fixed};
use super::db::write_tx;
use super::errors::SandboxError;
use super::extract::QueryParams;
use super::validate::Validator;
use super::webhook_targets::{CheckedResolver, Reach, Refused};
use super::{AppState, Product};
use crate::webhook_check::{
    signature, DELIVERY_ID_HEADER, EVENT_HEADER, EVENT_ID_HEADER, SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
};

/// The event types, as sent in `event_type` and subscribed to in an
/// endpoint's `events`.
pub(crate) mod event {
    /// A booking was made (documented, §9.1).
    pub const BOOKING_CREATED: &str = "booking.created";
    /// A pending booking became `booked`: the candidate paid, or it was
    /// approved at review once paid (catalogue, §9.2; BLS's documented
    /// name).
    pub const BOOKING_CONFIRMED: &str = "booking.confirmed";
    /// A booking was cancelled, or refused at review (catalogue, §9.2).
    pub const BOOKING_CANCELLED: &str = "booking.cancelled";
    /// The provider moved a booking to another training event or timeslot
    /// ("Booking rescheduled"; the name is inferred).
    pub const BOOKING_RESCHEDULED: &str = "booking.rescheduled";
    /// Attendance was recorded, attended or not (BLS's documented name).
    pub const BOOKING_ATTENDANCE_MARKED: &str = "booking.attendance_marked";
    /// The candidate did not attend (catalogue, §9.2).
    pub const BOOKING_NO_SHOW: &str = "booking.no_show";
    /// A Virtual BLS kit was not returned in time ("Equipment return
    /// overdue"; the name is inferred).
    pub const BOOKING_EQUIPMENT_OVERDUE: &str = "booking.equipment_overdue";
    /// The certificate can be downloaded (BLS's documented name).
    pub const BOOKING_CERTIFICATE_AVAILABLE: &str = "booking.certificate_available";
    /// A hold lapsed unused (catalogue, §9.2).
    pub const HOLD_EXPIRED: &str = "hold.expired";
    /// A training event's seats fell to the low mark (catalogue, §9.2).
    pub const TRAINING_EVENT_SEATS_LOW: &str = "training_event.seats_low";
    /// A course's credits fell to the low mark (inferred name).
    pub const CREDITS_LOW: &str = "credits.low";
    /// A course's credits ran out (inferred name).
    pub const CREDITS_DEPLETED: &str = "credits.depleted";
    /// The money balance fell below the low mark (inferred name).
    pub const BALANCE_LOW: &str = "balance.low";
    /// The money balance ran out (inferred name).
    pub const BALANCE_DEPLETED: &str = "balance.depleted";
    /// A booking invite was sent (inferred name).
    pub const INVITE_SENT: &str = "booking_invite.sent";
    /// A booking invite's link was opened (inferred name).
    pub const INVITE_OPENED: &str = "booking_invite.opened";
    /// A booking was made through an invite (inferred name).
    pub const INVITE_USED: &str = "booking_invite.used";
    /// `POST /webhooks/{id}/test` (inferred name; BLS has a "Test event").
    pub const WEBHOOK_TEST: &str = "webhook.test";
}

/// Every event type a Practical Training endpoint may subscribe to.
pub(crate) const PRACTICAL_EVENTS: &[&str] = &[
    event::BOOKING_CREATED,
    event::BOOKING_CONFIRMED,
    event::BOOKING_CANCELLED,
    event::BOOKING_RESCHEDULED,
    event::BOOKING_ATTENDANCE_MARKED,
    event::BOOKING_NO_SHOW,
    event::BOOKING_CERTIFICATE_AVAILABLE,
    event::HOLD_EXPIRED,
    event::TRAINING_EVENT_SEATS_LOW,
    event::CREDITS_LOW,
    event::CREDITS_DEPLETED,
    event::BALANCE_LOW,
    event::BALANCE_DEPLETED,
    event::INVITE_SENT,
    event::INVITE_OPENED,
    event::INVITE_USED,
    event::WEBHOOK_TEST,
];

/// Every event type a Virtual BLS endpoint may subscribe to: the eight its
/// event pages title (reference §9.2).
pub(crate) const VIRTUAL_BLS_EVENTS: &[&str] = &[
    event::BOOKING_CREATED,
    event::BOOKING_CONFIRMED,
    event::BOOKING_RESCHEDULED,
    event::BOOKING_CANCELLED,
    event::BOOKING_ATTENDANCE_MARKED,
    event::BOOKING_EQUIPMENT_OVERDUE,
    event::BOOKING_CERTIFICATE_AVAILABLE,
    event::WEBHOOK_TEST,
];

/// The event catalogue of `product`: what its endpoints may subscribe to.
pub(crate) fn catalogue(product: Product) -> &'static [&'static str] {
    match product {
        Product::Practical => PRACTICAL_EVENTS,
        Product::VirtualBls => VIRTUAL_BLS_EVENTS,
    }
}

/// `training_event.seats_low` fires when a booking leaves this many seats
/// or fewer (and more were left before).
pub(crate) const SEATS_LOW_MARK: i64 = 2;
/// `credits.low` fires when a course's credits fall to this many (above 0).
pub(crate) const CREDITS_LOW_MARK: i64 = 1;
/// `balance.low` fires when the money balance falls below £100 (above 0).
pub(crate) const BALANCE_LOW_MARK_PENCE: i64 = 10_000;

/// Which endpoints an event goes to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Audience {
    /// The account's active endpoints subscribed to the event.
    Account(i64),
    /// Every account's active endpoints subscribed to it (a training event's
    /// seats concern every agency that may book it).
    Everyone,
    /// This one endpoint, subscribed or not (a test delivery).
    Endpoint(i64),
}

/// Real time in Unix milliseconds: delivery scheduling runs on real time,
/// whatever the test clock says.
pub(crate) fn real_now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// A time-ordered (version 7) UUID, as the documented `event_id` is.
fn uuid_v7() -> String {
    let mut bytes = [0_u8; 16];
    rand::rng().fill(&mut bytes);
    let millis = u64::try_from(real_now_ms()).unwrap_or(0).to_be_bytes();
    bytes[..6].copy_from_slice(&millis[2..]);
    bytes[6] = 0x70 | (bytes[6] & 0x0f);
    bytes[8] = 0x80 | (bytes[8] & 0x3f);
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Whether an endpoint's stored `events` (a JSON array) includes `kind`.
fn subscribed(events: &str, kind: &str) -> bool {
    serde_json::from_str::<Vec<String>>(events)
        .map(|events| events.iter().any(|event| event == kind))
        .unwrap_or(false)
}

/// Writes an event of `kind` carrying `data` for the endpoints of
/// `audience`, and one pending delivery to each, inside the caller's
/// transaction. Nothing is written when no endpoint wants it. Returns the
/// event id and the delivery ids. Call [`Deliveries::wake`] after the
/// commit.
pub(crate) fn emit(
    conn: &Connection,
    audience: Audience,
    kind: &str,
    data: Value,
    occurred_secs: i64,
) -> rusqlite::Result<Option<(String, Vec<i64>)>> {
    let (sql, param): (&str, Option<i64>) = match audience {
        Audience::Account(account) => (
            "SELECT id, events FROM webhook_endpoints WHERE account_id = ?1 \
             AND is_active = 1 AND deleted_utc IS NULL ORDER BY id",
            Some(account),
        ),
        Audience::Everyone => (
            "SELECT id, events FROM webhook_endpoints WHERE ?1 IS NULL \
             AND is_active = 1 AND deleted_utc IS NULL ORDER BY id",
            None,
        ),
        Audience::Endpoint(endpoint) => (
            "SELECT id, '[]' FROM webhook_endpoints WHERE id = ?1 AND deleted_utc IS NULL",
            Some(endpoint),
        ),
    };
    let endpoints: Vec<i64> = conn
        .prepare_cached(sql)?
        .query_map([param], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?
        .into_iter()
        .filter(|(_, events)| matches!(audience, Audience::Endpoint(_)) || subscribed(events, kind))
        .map(|(id, _)| id)
        .collect();
    if endpoints.is_empty() {
        return Ok(None);
    }
    let event_id = uuid_v7();
    let body = json!({
        "event_id": event_id,
        "event_type": kind,
        "occurred_at": utc_fixed(from_unix(occurred_secs)).to_rfc3339_opts(SecondsFormat::Secs, false),
        "data": data,
    })
    .to_string();
    conn.prepare_cached(
        "INSERT INTO webhook_events (event_id, event_type, body, occurred_utc) \
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![event_id, kind, body, occurred_secs])?;
    let event_row = conn.last_insert_rowid();
    let now_ms = real_now_ms();
    let mut deliveries = Vec::with_capacity(endpoints.len());
    for endpoint in endpoints {
        conn.prepare_cached(
            "INSERT INTO webhook_deliveries (event_row, endpoint_id, status, attempts, \
             next_attempt_ms, created_ms) VALUES (?1, ?2, 'pending', 0, ?3, ?3)",
        )?
        .execute(params![event_row, endpoint, now_ms])?;
        deliveries.push(conn.last_insert_rowid());
    }
    Ok(Some((event_id, deliveries)))
}

/// How long to wait before each retry (inferred, see the module notes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
}

impl RetrySchedule {
    /// The sandbox's schedule: retries after 10 s, 1 min, 5 min, 30 min,
    /// 2 h and 8 h, so seven attempts in all.
    pub fn standard() -> RetrySchedule {
        RetrySchedule {
            delays: [10, 60, 300, 1800, 7200, 28_800]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
        }
    }

    /// The same number of attempts, each retry after `delay` (for tests:
    /// `--webhook-retry-ms`).
    pub fn uniform(delay: Duration) -> RetrySchedule {
        let attempts = RetrySchedule::standard().delays.len();
        RetrySchedule {
            delays: vec![delay; attempts],
        }
    }

    /// Attempts before a delivery is given up as `failed`.
    pub fn max_attempts(&self) -> i64 {
        i64::try_from(self.delays.len()).unwrap_or(i64::MAX - 1) + 1
    }

    /// The wait after failed attempt number `attempt` (1-based).
    fn delay_after(&self, attempt: i64) -> Duration {
        let index = usize::try_from(attempt.saturating_sub(1)).unwrap_or(0);
        self.delays
            .get(index)
            .or(self.delays.last())
            .copied()
            .unwrap_or(Duration::ZERO)
    }
}

impl Default for RetrySchedule {
    fn default() -> Self {
        RetrySchedule::standard()
    }
}

/// The delivery machinery every handler shares: the wake-up of the worker.
#[derive(Debug)]
pub(crate) struct Deliveries {
    wake: Notify,
    retry: RetrySchedule,
    busy: Mutex<HashSet<i64>>,
    reach: Reach,
    demo_url: Option<String>,
}

/// The longest the worker sleeps before looking again (for holds that
/// expire and test-clock moves it is not woken for).
const IDLE_POLL: Duration = Duration::from_millis(500);
/// The most deliveries started in one round.
const ROUND_LIMIT: i64 = 500;
/// The longest error text kept in the log.
const ERROR_MAX_CHARS: usize = 300;

impl Deliveries {
    /// Delivery with this retry schedule, to the addresses of `reach`, and
    /// to loopback too for the demo's receiver at `demo_url` (set by the
    /// operator at start, not through the API).
    pub(crate) fn new(retry: RetrySchedule, reach: Reach, demo_url: Option<String>) -> Deliveries {
        Deliveries {
            wake: Notify::new(),
            retry,
            busy: Mutex::new(HashSet::new()),
            reach,
            demo_url,
        }
    }

    /// The addresses a delivery to `url` may connect to.
    fn reach_for(&self, url: &str) -> Reach {
        if self.demo_url.as_deref() == Some(url) {
            Reach::PublicAndLoopback
        } else {
            self.reach
        }
    }

    /// Tells the worker that new deliveries (or a moved clock) may be due.
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    fn busy(&self) -> std::sync::MutexGuard<'_, HashSet<i64>> {
        self.busy
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One attempt about to be made.
#[derive(Debug)]
struct Attempt {
    delivery_id: i64,
    attempt_id: i64,
    attempt: i64,
    endpoint_id: i64,
    url: String,
    secret: String,
    timeout_seconds: i64,
    event_id: String,
    event_type: String,
    body: String,
}

/// Starts the delivery worker; it runs until the handle is aborted.
/// Attempts cut short by an earlier stop are logged `interrupted` and their
/// deliveries made due at once.
pub(crate) fn spawn_worker(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let recovered = state
            .db
            .call(|conn| {
                let tx = write_tx(conn)?;
                tx.execute(
                    "UPDATE webhook_deliveries SET next_attempt_ms = ?1 WHERE status = 'pending' \
                     AND id IN (SELECT delivery_id FROM webhook_attempts WHERE outcome = 'sending')",
                    [real_now_ms()],
                )?;
                tx.execute(
                    "UPDATE webhook_attempts SET outcome = 'interrupted', \
                     error = 'the sandbox stopped during the attempt' WHERE outcome = 'sending'",
                    [],
                )?;
                tx.commit()?;
                Ok(())
            })
            .await;
        if let Err(error) = recovered {
            tracing::error!(%error, "webhook deliveries could not be recovered");
        }
        let clients = match Clients::build() {
            Ok(clients) => clients,
            Err(error) => {
                tracing::error!(%error, "webhook client could not be built");
                return;
            }
        };
        loop {
            if let Err(error) = report_expired_holds(&state).await {
                tracing::warn!(%error, "expired holds not reported");
            }
            let next = match start_due(&state, &clients).await {
                Ok(next) => next,
                Err(error) => {
                    tracing::warn!(%error, "webhook deliveries not started");
                    None
                }
            };
            let wait = next
                .map(|due| Duration::from_millis(u64::try_from(due - real_now_ms()).unwrap_or(0)))
                .unwrap_or(IDLE_POLL)
                .min(IDLE_POLL);
            tokio::select! {
                () = state.webhooks.wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    })
}

/// Writes `hold.expired` for each hold that lapsed unused since the last
/// look, once.
async fn report_expired_holds(state: &AppState) -> Result<(), SandboxError> {
    let now = state.clock.now_secs();
    state
        .db
        .call(move |conn| {
            // A cheap look first, so an idle sandbox takes no write lock.
            let any: bool = conn
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM holds WHERE expiry_reported_utc IS NULL \
                     AND used_utc IS NULL AND released_utc IS NULL AND expires_utc <= ?1)",
                )?
                .query_row([now], |row| row.get(0))?;
            if !any {
                return Ok(());
            }
            let tx = write_tx(conn)?;
            let expired: Vec<(i64, i64, String, i64, i64)> = tx
                .prepare_cached(
                    "SELECT id, account_id, hold_hash, event_id, expires_utc FROM holds \
                     WHERE expiry_reported_utc IS NULL AND used_utc IS NULL \
                     AND released_utc IS NULL AND expires_utc <= ?1 LIMIT 500",
                )?
                .query_map([now], |row| <(i64, i64, String, i64, i64)>::try_from(row))?
                .collect::<rusqlite::Result<_>>()?;
            for (id, account, hash, event_id, expires) in expired {
                let event = super::catalog::load_event(&tx, event_id)?;
                let data = json!({
                    "hold_hash": hash,
                    "expires_at": utc_fixed(from_unix(expires)),
                    "training_event": event.map(|event| json!({
                        "id": event.id,
                        "course": event.course.name,
                        "location": event.location.name,
                        "start_date": booking_core::uk_time::to_uk(from_unix(event.start_utc)),
                    })),
                });
                emit(
                    &tx,
                    Audience::Account(account),
                    event::HOLD_EXPIRED,
                    data,
                    expires,
                )?;
                tx.execute(
                    "UPDATE holds SET expiry_reported_utc = ?1 WHERE id = ?2",
                    params![now, id],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
}

/// The delivery clients, one for each reach: each resolves names through a
/// [`CheckedResolver`], follows no redirect and uses no proxy.
#[derive(Clone)]
struct Clients {
    public: reqwest::Client,
    public_and_loopback: reqwest::Client,
}

impl Clients {
    fn build() -> reqwest::Result<Clients> {
        let client = |reach: Reach| {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .dns_resolver(Arc::new(CheckedResolver(reach)))
                .user_agent("TDTA-Sandbox-Webhooks/1")
                .build()
        };
        Ok(Clients {
            public: client(Reach::Public)?,
            public_and_loopback: client(Reach::PublicAndLoopback)?,
        })
    }

    /// The client that connects only to the addresses of `reach`.
    fn reaching(&self, reach: Reach) -> &reqwest::Client {
        match reach {
            Reach::Public => &self.public,
            Reach::PublicAndLoopback => &self.public_and_loopback,
        }
    }
}

/// Starts an attempt for the oldest due delivery of each endpoint not
/// already busy. Returns when the next pending delivery falls due.
async fn start_due(state: &AppState, clients: &Clients) -> Result<Option<i64>, SandboxError> {
    let busy: HashSet<i64> = state.webhooks.busy().clone();
    let lease = state.webhooks.retry.clone();
    let (attempts, next) = state
        .db
        .call(move |conn| claim_due(conn, &busy, &lease))
        .await?;
    for attempt in attempts {
        state.webhooks.busy().insert(attempt.endpoint_id);
        let state = state.clone();
        let clients = clients.clone();
        tokio::spawn(async move {
            let endpoint = attempt.endpoint_id;
            send(&state, &clients, attempt).await;
            state.webhooks.busy().remove(&endpoint);
            state.webhooks.wake();
        });
    }
    Ok(next)
}

/// Picks the attempts to make now and logs each as `sending` before it is
/// made; the delivery's next attempt is set as if this one will fail, so a
/// stop mid-attempt still leaves it due. Also returns the earliest pending
/// delivery not started.
fn claim_due(
    conn: &mut Connection,
    busy: &HashSet<i64>,
    retry: &RetrySchedule,
) -> Result<(Vec<Attempt>, Option<i64>), SandboxError> {
    let now = real_now_ms();
    let pending: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM webhook_deliveries WHERE status = 'pending')",
        )?
        .query_row([], |row| row.get(0))?;
    if !pending {
        return Ok((Vec::new(), None));
    }
    let tx = write_tx(conn)?;
    type Row = (
        i64,
        i64,
        i64,
        String,
        String,
        i64,
        String,
        String,
        String,
        i64,
    );
    let rows: Vec<Row> = tx
        .prepare_cached(
            "SELECT d.id, d.endpoint_id, d.attempts, w.url, w.secret, w.timeout_seconds, \
             ev.event_id, ev.event_type, ev.body, d.next_attempt_ms \
             FROM webhook_deliveries d \
             JOIN webhook_endpoints w ON w.id = d.endpoint_id \
             JOIN webhook_events ev ON ev.id = d.event_row \
             WHERE d.status = 'pending' AND w.is_active = 1 AND w.deleted_utc IS NULL \
             ORDER BY d.next_attempt_ms <= ?1 DESC, d.id LIMIT ?2",
        )?
        .query_map(params![now, ROUND_LIMIT], |row| Row::try_from(row))?
        .collect::<rusqlite::Result<_>>()?;
    let mut taken: HashSet<i64> = busy.clone();
    let mut attempts = Vec::new();
    let mut next: Option<i64> = None;
    for (id, endpoint, done, url, secret, timeout, event_id, event_type, body, due) in rows {
        if due > now {
            if !taken.contains(&endpoint) {
                next = Some(next.map_or(due, |next| next.min(due)));
            }
            continue;
        }
        if !taken.insert(endpoint) {
            continue;
        }
        let attempt = done + 1;
        let lease_ms = timeout.saturating_mul(1000).saturating_add(
            i64::try_from(retry.delay_after(attempt).as_millis()).unwrap_or(i64::MAX / 4),
        );
        tx.execute(
            "UPDATE webhook_deliveries SET attempts = ?1, next_attempt_ms = ?2 WHERE id = ?3",
            params![attempt, now.saturating_add(lease_ms), id],
        )?;
        tx.execute(
            "INSERT INTO webhook_attempts (delivery_id, attempt, started_ms, outcome) \
             VALUES (?1, ?2, ?3, 'sending')",
            params![id, attempt, now],
        )?;
        attempts.push(Attempt {
            delivery_id: id,
            attempt_id: tx.last_insert_rowid(),
            attempt,
            endpoint_id: endpoint,
            url,
            secret,
            timeout_seconds: timeout,
            event_id,
            event_type,
            body,
        });
    }
    tx.commit()?;
    Ok((attempts, next))
}

/// Makes one attempt and logs its outcome.
async fn send(state: &AppState, clients: &Clients, attempt: Attempt) {
    let timestamp = Utc::now().timestamp();
    let signed = signature(&attempt.secret, timestamp, attempt.body.as_bytes());
    let started = Instant::now();
    let reach = state.webhooks.reach_for(&attempt.url);
    let (status, error) = match reach.check_literal(&attempt.url) {
        Err(refused) => (None, Some(refusal(&refused))),
        Ok(()) => post(clients.reaching(reach), &attempt, timestamp, signed).await,
    };
    let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let succeeded = status.is_some_and(|status| (200..300).contains(&status));
    let retry = state.webhooks.retry.clone();
    let logged = state
        .db
        .call(move |conn| {
            let tx = write_tx(conn)?;
            let now = real_now_ms();
            tx.execute(
                "UPDATE webhook_attempts SET duration_ms = ?1, status_code = ?2, outcome = ?3, \
                 error = ?4 WHERE id = ?5",
                params![
                    duration_ms,
                    status,
                    if succeeded { "succeeded" } else { "failed" },
                    error,
                    attempt.attempt_id
                ],
            )?;
            if succeeded {
                tx.execute(
                    "UPDATE webhook_deliveries SET status = 'delivered', finished_ms = ?1 \
                     WHERE id = ?2 AND status = 'pending'",
                    params![now, attempt.delivery_id],
                )?;
            } else if attempt.attempt >= retry.max_attempts() {
                tx.execute(
                    "UPDATE webhook_deliveries SET status = 'failed', finished_ms = ?1 \
                     WHERE id = ?2 AND status = 'pending'",
                    params![now, attempt.delivery_id],
                )?;
            } else {
                let delay =
                    i64::try_from(retry.delay_after(attempt.attempt).as_millis()).unwrap_or(0);
                tx.execute(
                    "UPDATE webhook_deliveries SET next_attempt_ms = ?1 WHERE id = ?2",
                    params![now.saturating_add(delay), attempt.delivery_id],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await;
    if let Err(error) = logged {
        tracing::error!(%error, "webhook attempt not logged");
    }
}

/// Sends an attempt: the receiver's status, or what went wrong without one.
async fn post(
    client: &reqwest::Client,
    attempt: &Attempt,
    timestamp: i64,
    signed: String,
) -> (Option<i64>, Option<String>) {
    let result = client
        .post(&attempt.url)
        .timeout(Duration::from_secs(
            u64::try_from(attempt.timeout_seconds).unwrap_or(10),
        ))
        .header("content-type", "application/json")
        .header(EVENT_HEADER, &attempt.event_type)
        .header(EVENT_ID_HEADER, &attempt.event_id)
        .header(DELIVERY_ID_HEADER, attempt.attempt_id.to_string())
        .header(TIMESTAMP_HEADER, timestamp.to_string())
        .header(SIGNATURE_HEADER, signed)
        .body(attempt.body.clone())
        .send()
        .await;
    match result {
        Ok(response) => {
            let status = response.status();
            // Read (and drop) a little of the answer so the connection is reused.
            let _ = tokio::time::timeout(Duration::from_secs(1), response.bytes()).await;
            (Some(i64::from(status.as_u16())), None)
        }
        Err(error) if error.is_timeout() => (None, Some("timed out".to_owned())),
        Err(error) => (None, Some(describe(error))),
    }
}

/// What the log says of an address a delivery may not reach.
fn refusal(refused: &Refused) -> String {
    format!("refused: {refused}, which webhooks may not reach")
}

/// A transport error in a few words, without the URL's query; a refusal
/// by the resolver names the address.
fn describe(error: reqwest::Error) -> String {
    let refused = std::iter::successors(std::error::Error::source(&error), |cause| cause.source())
        .find_map(|cause| cause.downcast_ref::<Refused>());
    let text = if let Some(refused) = refused {
        refusal(refused)
    } else if error.is_connect() {
        "connection failed".to_owned()
    } else if error.is_request() || error.is_body() {
        "the request could not be sent".to_owned()
    } else {
        error.without_url().to_string()
    };
    text.chars().take(ERROR_MAX_CHARS).collect()
}

/// One attempt in the test-mode delivery log.
#[derive(Debug, Serialize)]
struct AttemptLog {
    /// 1 for the first attempt.
    attempt: i64,
    /// The `X-TDTA-Delivery-Id` it was sent with.
    delivery_attempt_id: i64,
    /// `sending`, `succeeded`, `failed` or `interrupted`.
    outcome: String,
    /// The receiver's HTTP status, if it answered.
    status_code: Option<i64>,
    /// What went wrong without an answer (timeout, connection).
    error: Option<String>,
    /// How long it took, in milliseconds.
    duration_ms: Option<i64>,
    /// When it started (real time).
    started_at: String,
}

/// One delivery in the test-mode delivery log.
#[derive(Debug, Serialize)]
struct DeliveryLog {
    id: i64,
    endpoint_id: i64,
    event_id: String,
    event_type: String,
    /// `pending`, `delivered`, `failed` or `abandoned` (endpoint deleted).
    status: String,
    attempts: Vec<AttemptLog>,
}

/// Unix milliseconds as `+00:00` RFC 3339 with milliseconds.
fn ms_time(ms: i64) -> String {
    chrono::DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .fixed_offset()
        .to_rfc3339_opts(SecondsFormat::Millis, false)
}

/// `GET /_sandbox/webhook-deliveries[?endpoint_id=N&event_type=T]`: every
/// delivery to the caller's endpoints, oldest first, with each attempt.
pub(crate) async fn log(
    State(state): State<AppState>,
    authed: Authed,
    query: QueryParams,
) -> Result<Json<Value>, SandboxError> {
    let mut v = Validator::default();
    let endpoint = v.query_integer(query.get("endpoint_id"), "endpoint_id", 1, i64::MAX);
    let kind = query.get("event_type").map(str::to_owned);
    v.finish()?;
    let deliveries = state
        .db
        .call(move |conn| {
            let mut deliveries: Vec<DeliveryLog> = conn
                .prepare(
                    "SELECT d.id, d.endpoint_id, ev.event_id, ev.event_type, d.status \
                     FROM webhook_deliveries d JOIN webhook_events ev ON ev.id = d.event_row \
                     JOIN webhook_endpoints w ON w.id = d.endpoint_id \
                     WHERE w.account_id = ?3 AND (?1 IS NULL OR d.endpoint_id = ?1) \
                     AND (?2 IS NULL OR ev.event_type = ?2) ORDER BY d.id",
                )?
                .query_map(params![endpoint, kind, authed.account_id], |row| {
                    Ok(DeliveryLog {
                        id: row.get(0)?,
                        endpoint_id: row.get(1)?,
                        event_id: row.get(2)?,
                        event_type: row.get(3)?,
                        status: row.get(4)?,
                        attempts: Vec::new(),
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            let mut attempts = conn.prepare_cached(
                "SELECT attempt, id, outcome, status_code, error, duration_ms, started_ms \
                 FROM webhook_attempts WHERE delivery_id = ?1 ORDER BY attempt, id",
            )?;
            for delivery in &mut deliveries {
                delivery.attempts = attempts
                    .query_map([delivery.id], |row| {
                        Ok(AttemptLog {
                            attempt: row.get(0)?,
                            delivery_attempt_id: row.get(1)?,
                            outcome: row.get(2)?,
                            status_code: row.get(3)?,
                            error: row.get(4)?,
                            duration_ms: row.get(5)?,
                            started_at: ms_time(row.get(6)?),
                        })
                    })?
                    .collect::<rusqlite::Result<_>>()?;
            }
            Ok(deliveries)
        })
        .await?;
    Ok(Json(json!({ "data": deliveries })))
}

/// Stops the worker when dropped (with the server that owns it).
#[derive(Debug)]
pub(crate) struct WorkerGuard(pub JoinHandle<()>);

impl Drop for WorkerGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_version_7_uuids() {
        let id = uuid_v7();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "7");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(id, uuid_v7());
    }

    #[test]
    fn the_standard_schedule_makes_seven_attempts() {
        let schedule = RetrySchedule::standard();
        assert_eq!(schedule.max_attempts(), 7);
        assert_eq!(schedule.delay_after(1), Duration::from_secs(10));
        assert_eq!(schedule.delay_after(6), Duration::from_secs(28_800));
        assert_eq!(
            RetrySchedule::uniform(Duration::from_millis(5)).delay_after(3),
            Duration::from_millis(5)
        );
    }

    #[test]
    fn subscriptions_match_exact_names() {
        assert!(subscribed(r#"["booking.created"]"#, "booking.created"));
        assert!(!subscribed(r#"["booking.created"]"#, "booking.cancelled"));
        assert!(!subscribed("not json", "booking.created"));
    }
}
