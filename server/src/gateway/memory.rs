//! The gateway's short memory: which session was granted which hold, and
//! its create-booking attempts. It keeps a candidate from being locked out of
//! their own hold when an answer is lost, and one attempt from making two
//! bookings even when the upstream ignores `Idempotency-Key` (its published
//! documents do not mention the header).
//!
//! A hold is remembered under a key naming the session and the event. When
//! a retried hold meets the upstream's 409 and the 409 does not name another
//! hold, the remembered hold is the session's own and is handed back, whether
//! or not the 409 carries the hold's details. A hold is only ever handed back
//! on a 409 (the upstream saying a live hold exists), never instead of
//! asking.
//!
//! An attempt is keyed by the upstream idempotency key (the widget's key,
//! bound to its session). It is remembered before the upstream is called
//! and given its booking's id once the upstream answers. A retry of an
//! attempt with a booking replays that booking; a retry of an attempt whose
//! outcome is unknown (the answer was lost) first looks for the booking the
//! lost request may have made, and sends again only when there is none.
//!
//! Where it lives: in the process by default ([`InProcess`]), which is right
//! for one gateway instance; in Redis ([`SharedStore`], `HBG_SHARED_STORE`)
//! when several instances run behind a load balancer, so that a retry
//! answered by another instance finds what the first one remembered. Redis
//! is a store an operator already runs; its expiring keys do the forgetting.
//!
//! Invariants: an attempt is remembered for [`KEEP_FOR`], longer than any
//! hold lives, so a retry within a hold's life always finds it; a hold is
//! remembered until it lapses by the gateway's clock; keys are HMACs that
//! name no session; the memory holds hold hashes, ids, e-mail addresses and
//! times, never an upstream token; an attempt begins in one atomic step
//! (`SET NX` in Redis), so two instances never both take it as new; when the
//! shared store cannot be reached a booking is not sent (the candidate is
//! asked to try again), while a hold already granted is still handed out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::product::{BookedPlace, GrantedHold, MadeBooking};
use chrono::{DateTime, Duration, Utc};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

/// How long an attempt is remembered: two hours, four times a hold's life.
pub const KEEP_FOR: Duration = Duration::hours(2);

/// How much earlier than the attempt's start a booking it made may say it
/// was created (the upstream's clock against the gateway's).
pub const CLOCK_SLACK: Duration = Duration::minutes(2);

/// The prefix of every key the gateway writes to a shared store.
const KEY_PREFIX: &str = "hbg-gateway:";

/// One create-booking attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// When the gateway first sent it upstream.
    pub started: DateTime<Utc>,
    /// The candidate's e-mail address, as sent.
    pub email: String,
    /// The pay option, as sent (the upstream's name).
    pub pay_option: String,
    /// Where its hold is, when this gateway granted the hold.
    pub place: Option<BookedPlace>,
    /// The booking it made, once known.
    pub booking_id: Option<u64>,
}

impl Attempt {
    /// Whether `booking` is the one this attempt's lost request made: the
    /// same candidate, pay option and place (when the hold's place is
    /// known), created since the attempt began. One rule for both products.
    pub fn made(&self, booking: &impl MadeBooking) -> bool {
        let same_place = self
            .place
            .as_ref()
            .is_none_or(|place| *place == booking.booked_place());
        same_place
            && booking.email().eq_ignore_ascii_case(&self.email)
            && booking.pay_option() == self.pay_option
            && booking.created_at().with_timezone(&Utc) >= self.started - CLOCK_SLACK
    }
}

/// A session's hold (either product's, as JSON) and when it lapses by the
/// gateway's clock.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SessionHold {
    hold: serde_json::Value,
    lapses: DateTime<Utc>,
}

impl SessionHold {
    /// The hold with the seconds it has left at `now`, while it has any.
    fn at<H: GrantedHold>(&self, now: DateTime<Utc>) -> Option<H> {
        let left = (self.lapses - now).num_seconds();
        if left <= 0 {
            return None;
        }
        let hold: H = serde_json::from_value(self.hold.clone()).ok()?;
        Some(hold.with_seconds_left(left))
    }
}

/// The shared store could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("shared store: {0}")]
pub struct StoreError(String);

impl From<redis::RedisError> for StoreError {
    fn from(error: redis::RedisError) -> StoreError {
        StoreError(error.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(error: serde_json::Error) -> StoreError {
        StoreError(format!("an entry that is not ours: {error}"))
    }
}

/// Where the memory lives.
pub enum Memory {
    /// In this process: one gateway instance.
    InProcess(Box<InProcess>),
    /// In Redis: several instances share it.
    Shared(SharedStore),
}

impl Default for Memory {
    fn default() -> Memory {
        Memory::InProcess(Box::default())
    }
}

impl Memory {
    /// The attempt already under `key`, if any; otherwise remembers a new
    /// one and answers `None`.
    pub async fn begin(
        &self,
        key: &str,
        hold_hash: &str,
        email: &str,
        pay_option: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Attempt>, StoreError> {
        match self {
            Memory::InProcess(memory) => Ok(memory.begin(key, hold_hash, email, pay_option, now)),
            Memory::Shared(store) => store.begin(key, hold_hash, email, pay_option, now).await,
        }
    }

    /// Remembers a hold this gateway granted, under the key naming the
    /// session and the place ([`super::session::Signer::hold_key`]). A store
    /// that cannot be written is logged: the hold stands all the same.
    pub async fn held(&self, hold_key: &str, hold: &impl GrantedHold, now: DateTime<Utc>) {
        match self {
            Memory::InProcess(memory) => memory.held(hold_key, hold, now),
            Memory::Shared(store) => {
                if let Err(error) = store.held(hold_key, hold, now).await {
                    tracing::warn!(%error, "a granted hold was not remembered");
                }
            }
        }
    }

    /// The session's hold on the place, while it has time left by the
    /// gateway's clock, with the seconds it has left now.
    pub async fn session_hold<H: GrantedHold>(
        &self,
        hold_key: &str,
        now: DateTime<Utc>,
    ) -> Option<H> {
        match self {
            Memory::InProcess(memory) => memory.session_hold(hold_key, now),
            Memory::Shared(store) => match store.session_hold(hold_key, now).await {
                Ok(hold) => hold,
                Err(error) => {
                    tracing::warn!(%error, "a session's hold could not be looked up");
                    None
                }
            },
        }
    }

    /// Seconds until the latest hold this gateway granted on the place (an
    /// event or a timeslot, by [`super::product::HoldPlace::key`]) lapses,
    /// while it has any left: when the upstream's 409 does not say when the
    /// seat frees, this does (a hold per account per place is always one the
    /// agency's gateway granted).
    pub async fn place_hold_frees_in(&self, place: &str, now: DateTime<Utc>) -> Option<i64> {
        let lapses = match self {
            Memory::InProcess(memory) => lock(&memory.event_holds)
                .get(place)
                .map(|(lapses, _)| *lapses),
            Memory::Shared(store) => match store.event_hold_lapses(place).await {
                Ok(lapses) => lapses,
                Err(error) => {
                    tracing::warn!(%error, place, "a place's hold could not be looked up");
                    None
                }
            },
        }?;
        let left = (lapses - now).num_seconds();
        (left > 0).then_some(left)
    }

    /// Seconds until the latest hold this gateway granted on any place of
    /// the kind of `place` (an event, or a timeslot) lapses, while it has
    /// any left: what blocks every place under an upstream that allows an
    /// account one live hold in all.
    pub async fn any_hold_frees_in(&self, place: &str, now: DateTime<Utc>) -> Option<i64> {
        let kind = place_kind(place);
        let lapses = match self {
            Memory::InProcess(memory) => lock(&memory.event_holds)
                .iter()
                .filter(|(key, _)| place_kind(key) == kind)
                .map(|(_, (lapses, _))| *lapses)
                .max(),
            Memory::Shared(store) => match store.lapses(store_key("any-hold", kind)).await {
                Ok(lapses) => lapses,
                Err(error) => {
                    tracing::warn!(%error, "the latest hold could not be looked up");
                    None
                }
            },
        }?;
        let left = (lapses - now).num_seconds();
        (left > 0).then_some(left)
    }

    /// Forgets the hold `hold_hash` as the latest on its place (and of its
    /// kind), once it is released: the place is free again. A store that
    /// cannot be written is logged: the place reads as held until the hold
    /// would have lapsed.
    pub async fn released(&self, hold_hash: &str) {
        match self {
            Memory::InProcess(memory) => {
                lock(&memory.event_holds).retain(|_, (_, hash)| hash != hold_hash);
            }
            Memory::Shared(store) => {
                if let Err(error) = store.released(hold_hash).await {
                    tracing::warn!(%error, "a released hold was not forgotten");
                }
            }
        }
    }

    /// Forgets the attempt under `key`, which was never sent upstream (it
    /// was queued): its retry is a first attempt, with nothing to look for.
    /// A store that cannot be written is logged: the retry then looks for
    /// a booking first, which is safe.
    pub async fn unsent(&self, key: &str) {
        match self {
            Memory::InProcess(memory) => {
                lock(&memory.entries).remove(key);
            }
            Memory::Shared(store) => {
                if let Err(error) = store.unsent(key).await {
                    tracing::warn!(%error, "an unsent booking attempt was not forgotten");
                }
            }
        }
    }

    /// Takes the lock on one place's holds (an event or a timeslot): a
    /// hold, or a renewal's release and hold, is asked for upstream by one
    /// session at a time, so a renewal leaves no moment in which another
    /// session of this gateway (or, with a shared store, of any instance)
    /// can take the seat. When the shared store does not answer, the hold
    /// goes ahead unlocked.
    pub async fn lock_place(&self, place: &str) -> EventLock {
        match self {
            Memory::InProcess(memory) => EventLock::InProcess {
                _guard: memory.lock_event(place).await,
            },
            Memory::Shared(store) => match store.lock_event(place).await {
                Ok(lock) => lock,
                Err(error) => {
                    tracing::warn!(%error, place, "a place's holds could not be locked");
                    EventLock::Unlocked
                }
            },
        }
    }

    /// Records the booking the attempt under `key` made.
    pub async fn made(&self, key: &str, booking_id: u64) {
        match self {
            Memory::InProcess(memory) => memory.made(key, booking_id),
            Memory::Shared(store) => {
                if let Err(error) = store.made(key, booking_id).await {
                    tracing::warn!(%error, booking_id, "a booking attempt's outcome was not remembered");
                }
            }
        }
    }
}

/// A lock on one event's holds ([`Memory::lock_event`]); give it back with
/// [`EventLock::unlock`] (a shared lock also lapses by itself after
/// [`EVENT_LOCK_LIFE`]).
pub enum EventLock {
    /// This process's lock, given back when dropped.
    InProcess {
        /// The guard of the event's mutex.
        _guard: tokio::sync::OwnedMutexGuard<()>,
    },
    /// A lock in the shared store, named by a token only its taker knows.
    Shared {
        /// The store.
        store: SharedStore,
        /// The lock's key.
        key: String,
        /// The taker's token.
        token: String,
    },
    /// No lock (the shared store did not answer).
    Unlocked,
}

impl EventLock {
    /// Gives the lock back.
    pub async fn unlock(self) {
        if let EventLock::Shared { store, key, token } = self {
            if let Err(error) = store.unlock(&key, &token).await {
                tracing::warn!(%error, "an event's lock was left to lapse");
            }
        }
    }
}

/// How long a shared event lock lives at most: longer than a renewal's two
/// upstream calls take, short enough that a crashed instance's lock does not
/// hold others up for long.
pub const EVENT_LOCK_LIFE: std::time::Duration = std::time::Duration::from_secs(5);

/// The memory of one gateway instance: the attempts of the last
/// [`KEEP_FOR`], the events of the holds it granted in that time, each
/// session's live holds, and the events' hold locks.
#[derive(Debug, Default)]
pub struct InProcess {
    entries: Mutex<HashMap<String, Attempt>>,
    holds: Mutex<HashMap<String, (BookedPlace, DateTime<Utc>)>>,
    session_holds: Mutex<HashMap<String, SessionHold>>,
    /// The latest hold granted on each place: when it lapses, its hash.
    event_holds: Mutex<HashMap<String, (DateTime<Utc>, String)>>,
    event_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl InProcess {
    async fn lock_event(&self, place: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut locks = lock(&self.event_locks);
            locks.retain(|_, lock| Arc::strong_count(lock) > 1);
            locks.entry(place.to_owned()).or_default().clone()
        };
        lock.lock_owned().await
    }

    fn begin(
        &self,
        key: &str,
        hold_hash: &str,
        email: &str,
        pay_option: &str,
        now: DateTime<Utc>,
    ) -> Option<Attempt> {
        let event = {
            let mut holds = lock(&self.holds);
            holds.retain(|_, (_, granted)| now - *granted < KEEP_FOR);
            holds.get(hold_hash).map(|(place, _)| place.clone())
        };
        let mut entries = lock(&self.entries);
        entries.retain(|_, attempt| now - attempt.started < KEEP_FOR);
        if let Some(earlier) = entries.get(key) {
            return Some(earlier.clone());
        }
        entries.insert(key.to_owned(), new_attempt(email, pay_option, event, now));
        None
    }

    fn held(&self, hold_key: &str, hold: &impl GrantedHold, now: DateTime<Utc>) {
        lock(&self.holds).insert(hold.hold_hash().to_owned(), (hold.booked_place(), now));
        let Some(held) = session_hold(hold, now) else {
            return;
        };
        let mut event_holds = lock(&self.event_holds);
        event_holds.retain(|_, (lapses, _)| *lapses > now);
        event_holds.insert(hold.place_key(), (held.lapses, hold.hold_hash().to_owned()));
        let mut session_holds = lock(&self.session_holds);
        session_holds.retain(|_, held| held.lapses > now);
        session_holds.insert(hold_key.to_owned(), held);
    }

    fn session_hold<H: GrantedHold>(&self, hold_key: &str, now: DateTime<Utc>) -> Option<H> {
        lock(&self.session_holds).get(hold_key)?.at(now)
    }

    fn made(&self, key: &str, booking_id: u64) {
        if let Some(attempt) = lock(&self.entries).get_mut(key) {
            attempt.booking_id = Some(booking_id);
        }
    }
}

fn new_attempt(
    email: &str,
    pay_option: &str,
    place: Option<BookedPlace>,
    now: DateTime<Utc>,
) -> Attempt {
    Attempt {
        started: now,
        email: email.to_owned(),
        pay_option: pay_option.to_owned(),
        place,
        booking_id: None,
    }
}

/// What is remembered of a session's hold; `None` only for a hold that
/// does not encode (never for the upstream's own types).
fn session_hold(hold: &impl GrantedHold, now: DateTime<Utc>) -> Option<SessionHold> {
    Some(SessionHold {
        hold: serde_json::to_value(hold).ok()?,
        lapses: now + Duration::seconds(hold.seconds_left().max(0)),
    })
}

/// Plain values: a panic elsewhere cannot leave them half-written.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The memory in Redis, shared by every gateway instance pointed at it.
/// Keys: `attempt:{key}` (the attempt as JSON), `attempt-booking:{key}` (its
/// booking's id), `hold-event:{hash}` (the place of a hold granted),
/// `session-hold:{hold_key}` (a session's hold), `event-hold:{place}` (when
/// the latest hold granted on a place lapses) and `event-lock:{place}` (the
/// lock on a place's holds), each under [`KEY_PREFIX`] and each expiring on
/// its own. A place is an event's id or a timeslot's key.
#[derive(Clone)]
pub struct SharedStore {
    connection: ConnectionManager,
}

impl SharedStore {
    /// Connects to the Redis server at `url` (`redis://host:port/db`,
    /// `rediss://` for TLS), and checks that it answers. A command waits two
    /// seconds at most: a store that does not answer fails the request that
    /// needed it rather than stalling it.
    pub async fn connect(url: &str) -> Result<SharedStore, StoreError> {
        let client = redis::Client::open(url)?;
        let patience = std::time::Duration::from_secs(2);
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(2)
            .set_factor(2)
            .set_max_delay(500)
            .set_connection_timeout(patience)
            .set_response_timeout(patience);
        let mut connection = ConnectionManager::new_with_config(client, config).await?;
        let _: String = redis::cmd("PING").query_async(&mut connection).await?;
        Ok(SharedStore { connection })
    }

    async fn begin(
        &self,
        key: &str,
        hold_hash: &str,
        email: &str,
        pay_option: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Attempt>, StoreError> {
        let mut connection = self.connection.clone();
        let event: Option<String> = connection.get(store_key("hold-event", hold_hash)).await?;
        let event = event.map(|json| serde_json::from_str(&json)).transpose()?;
        let attempt = serde_json::to_string(&new_attempt(email, pay_option, event, now))?;
        let attempt_key = store_key("attempt", key);
        let created: Option<String> = redis::cmd("SET")
            .arg(&attempt_key)
            .arg(attempt)
            .arg("NX")
            .arg("EX")
            .arg(KEEP_FOR.num_seconds())
            .query_async(&mut connection)
            .await?;
        if created.is_some() {
            return Ok(None);
        }
        let (earlier, booking_id): (Option<String>, Option<u64>) = redis::pipe()
            .get(&attempt_key)
            .get(store_key("attempt-booking", key))
            .query_async(&mut connection)
            .await?;
        let Some(earlier) = earlier else {
            return Err(StoreError("an attempt expired while it was read".into()));
        };
        let mut earlier: Attempt = serde_json::from_str(&earlier)?;
        earlier.booking_id = earlier.booking_id.or(booking_id);
        Ok(Some(earlier))
    }

    async fn held(
        &self,
        hold_key: &str,
        hold: &impl GrantedHold,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let held = SessionHold {
            hold: serde_json::to_value(hold)?,
            lapses: now + Duration::seconds(hold.seconds_left().max(0)),
        };
        let lives = (held.lapses - now).num_seconds().max(1);
        let place = hold.place_key();
        let () = redis::pipe()
            .atomic()
            .set_ex(
                store_key("hold-event", hold.hold_hash()),
                serde_json::to_string(&hold.booked_place())?,
                KEEP_FOR.num_seconds().unsigned_abs(),
            )
            .ignore()
            .set_ex(
                store_key("session-hold", hold_key),
                serde_json::to_string(&held)?,
                lives.unsigned_abs(),
            )
            .ignore()
            .set_ex(
                store_key("event-hold", &place),
                held.lapses.to_rfc3339(),
                lives.unsigned_abs(),
            )
            .ignore()
            .set_ex(
                store_key("event-hold-hash", &place),
                hold.hold_hash(),
                lives.unsigned_abs(),
            )
            .ignore()
            .set_ex(
                store_key("hold-place", hold.hold_hash()),
                &place,
                lives.unsigned_abs(),
            )
            .ignore()
            .set_ex(
                store_key("any-hold", place_kind(&place)),
                held.lapses.to_rfc3339(),
                lives.unsigned_abs(),
            )
            .ignore()
            .set_ex(
                store_key("any-hold-hash", place_kind(&place)),
                hold.hold_hash(),
                lives.unsigned_abs(),
            )
            .ignore()
            .query_async(&mut self.connection.clone())
            .await?;
        Ok(())
    }

    async fn session_hold<H: GrantedHold>(
        &self,
        hold_key: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<H>, StoreError> {
        let held: Option<String> = self
            .connection
            .clone()
            .get(store_key("session-hold", hold_key))
            .await?;
        let Some(held) = held else {
            return Ok(None);
        };
        let held: SessionHold = serde_json::from_str(&held)?;
        Ok(held.at(now))
    }

    async fn event_hold_lapses(&self, place: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.lapses(store_key("event-hold", place)).await
    }

    /// Deletes the place's and its kind's latest hold when they are
    /// `hold_hash`, in one script.
    async fn released(&self, hold_hash: &str) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        let place: Option<String> = connection.get(store_key("hold-place", hold_hash)).await?;
        let Some(place) = place else {
            return Ok(());
        };
        let kind = place_kind(&place);
        let script = redis::Script::new(
            "for i = 1, 3, 2 do \
               if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i], KEYS[i + 1]) end \
             end \
             return 0",
        );
        let _: i64 = script
            .key(store_key("event-hold-hash", &place))
            .key(store_key("event-hold", &place))
            .key(store_key("any-hold-hash", kind))
            .key(store_key("any-hold", kind))
            .arg(hold_hash)
            .invoke_async(&mut connection)
            .await?;
        Ok(())
    }

    async fn unsent(&self, key: &str) -> Result<(), StoreError> {
        let () = self
            .connection
            .clone()
            .del(store_key("attempt", key))
            .await?;
        Ok(())
    }

    /// The lapse time stored under `key`, if any.
    async fn lapses(&self, key: String) -> Result<Option<DateTime<Utc>>, StoreError> {
        let lapses: Option<String> = self.connection.clone().get(key).await?;
        lapses
            .map(|lapses| {
                DateTime::parse_from_rfc3339(&lapses)
                    .map(|lapses| lapses.with_timezone(&Utc))
                    .map_err(|error| StoreError(format!("an entry that is not ours: {error}")))
            })
            .transpose()
    }

    async fn lock_event(&self, place: &str) -> Result<EventLock, StoreError> {
        let key = store_key("event-lock", place);
        let token = format!("{:016x}", rand::random::<u64>());
        let life = u64::try_from(EVENT_LOCK_LIFE.as_millis()).unwrap_or(u64::MAX);
        let deadline = tokio::time::Instant::now() + EVENT_LOCK_LIFE * 2;
        let mut connection = self.connection.clone();
        loop {
            let taken: Option<String> = redis::cmd("SET")
                .arg(&key)
                .arg(&token)
                .arg("NX")
                .arg("PX")
                .arg(life)
                .query_async(&mut connection)
                .await?;
            if taken.is_some() {
                return Ok(EventLock::Shared {
                    store: self.clone(),
                    key,
                    token,
                });
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(StoreError("an event's lock was not given back".into()));
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    async fn unlock(&self, key: &str, token: &str) -> Result<(), StoreError> {
        let script = redis::Script::new(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end",
        );
        let _: i64 = script
            .key(key)
            .arg(token)
            .invoke_async(&mut self.connection.clone())
            .await?;
        Ok(())
    }

    async fn made(&self, key: &str, booking_id: u64) -> Result<(), StoreError> {
        let () = self
            .connection
            .clone()
            .set_ex(
                store_key("attempt-booking", key),
                booking_id,
                KEEP_FOR.num_seconds().unsigned_abs(),
            )
            .await?;
        Ok(())
    }
}

/// The kind of a place key ([`super::product::HoldPlace::key`]): a
/// timeslot's starts `slot:`, an event's is its id.
fn place_kind(place: &str) -> &'static str {
    if place.starts_with("slot:") {
        "slot"
    } else {
        "event"
    }
}

fn store_key(kind: &str, key: &str) -> String {
    format!("{KEY_PREFIX}{kind}:{key}")
}

#[cfg(test)]
mod tests {
    use booking_core::api::{BookingDetail, HeldEvent, PayOption, SeatHold};

    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T10:00:00+00:00")
            .unwrap()
            .with_timezone(&Utc)
            + Duration::minutes(minutes)
    }

    #[test]
    fn the_first_attempt_is_new_and_a_retry_finds_it() {
        let attempts = InProcess::default();
        assert_eq!(
            attempts.begin("k", "hash", "priya@example.com", "credits", at(0)),
            None
        );
        let earlier = attempts
            .begin("k", "hash", "priya@example.com", "credits", at(1))
            .expect("the retry finds the attempt");
        assert_eq!(earlier.started, at(0));
        assert_eq!(earlier.booking_id, None);
        attempts.made("k", 9001);
        let done = attempts
            .begin("k", "hash", "priya@example.com", "credits", at(2))
            .unwrap();
        assert_eq!(done.booking_id, Some(9001));
    }

    #[test]
    fn attempts_are_forgotten_after_two_hours() {
        let attempts = InProcess::default();
        attempts.begin("k", "hash", "priya@example.com", "credits", at(0));
        assert!(attempts
            .begin("k", "hash", "priya@example.com", "credits", at(119))
            .is_some());
        assert!(attempts
            .begin("k", "hash", "priya@example.com", "credits", at(121))
            .is_none());
    }

    fn booking(email: &str, pay_option: PayOption, created: DateTime<Utc>) -> BookingDetail {
        let mut booking: BookingDetail = serde_json::from_value(serde_json::json!({
            "id": 1, "candidate": {"name": "Priya Patel", "email": email},
            "course": {"id": 2, "name": "M&H"},
            "location": {"id": 5, "name": "Leeds", "address": "Leeds"},
            "start_date": "2026-12-08T09:30:00+00:00", "end_date": "2026-12-08T16:30:00+00:00",
            "booking_status": "booked", "pay_status": "completed", "pay_option": "credits",
            "booked_by": "Agency", "created_at": "2026-12-01T10:00:00+00:00"
        }))
        .unwrap();
        booking.pay_option = pay_option;
        booking.created_at = created.fixed_offset();
        booking
    }

    #[test]
    fn a_lost_booking_is_recognised_by_candidate_pay_option_and_time() {
        let attempt = Attempt {
            started: at(0),
            email: "Priya@Example.com".into(),
            pay_option: "credits".into(),
            place: None,
            booking_id: None,
        };
        assert!(attempt.made(&booking("priya@example.com", PayOption::Credits, at(0))));
        assert!(attempt.made(&booking("priya@example.com", PayOption::Credits, at(-1))));
        assert!(!attempt.made(&booking("priya@example.com", PayOption::Credits, at(-3))));
        assert!(!attempt.made(&booking("sam@example.com", PayOption::Credits, at(0))));
        assert!(!attempt.made(&booking("priya@example.com", PayOption::Balance, at(0))));
    }

    fn leeds_hold() -> SeatHold {
        SeatHold {
            hold_hash: "hash".into(),
            expires_at: DateTime::parse_from_rfc3339("2026-12-01T10:30:00+00:00").unwrap(),
            expires_in_seconds: 1800,
            training_event: HeldEvent {
                id: 41,
                course: "M&H".into(),
                location: "Leeds".into(),
                start_date: DateTime::parse_from_rfc3339("2026-12-08T09:30:00+00:00").unwrap(),
            },
        }
    }

    #[test]
    fn a_hold_granted_here_pins_the_lost_booking_to_its_event() {
        let memory = InProcess::default();
        let hold = leeds_hold();
        memory.held("session-41", &hold, at(0));
        memory.begin("k", "hash", "priya@example.com", "credits", at(1));
        let attempt = memory
            .begin("k", "hash", "priya@example.com", "credits", at(2))
            .unwrap();
        assert_eq!(attempt.place, Some(hold.booked_place()));
        let mut on_the_event = booking("priya@example.com", PayOption::Credits, at(1));
        assert!(attempt.made(&on_the_event));
        on_the_event.location.name = "York".into();
        assert!(!attempt.made(&on_the_event), "another event's booking");
    }

    #[test]
    fn a_session_hold_is_remembered_until_it_lapses() {
        let memory = InProcess::default();
        memory.held("session-41", &leeds_hold(), at(0));
        let later: SeatHold = memory
            .session_hold("session-41", at(10))
            .expect("remembered");
        assert_eq!(later.hold_hash, "hash");
        assert_eq!(later.expires_in_seconds, 1200, "the seconds left now");
        assert_eq!(memory.session_hold::<SeatHold>("session-42", at(10)), None);
        assert_eq!(
            memory.session_hold::<SeatHold>("session-41", at(30)),
            None,
            "lapsed"
        );
    }
}
