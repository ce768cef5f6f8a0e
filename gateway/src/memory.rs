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
//! asking. The same records count each session's and each client address's
//! live holds against their caps: a place is reserved before it is asked
//! for ([`Memory::reserve_hold`]).
//!
//! An attempt is keyed by its session, product, hold and the widget's key
//! (`Signer::attempt_key`, also the upstream idempotency key). It is
//! remembered in flight when first sent and settled by a definite answer:
//! its booking's id, or forgotten when it booked nothing (a 4xx, never sent).
//! A retry of an attempt with a booking replays that booking; a retry of an
//! attempt whose outcome is unknown (the answer was lost) first looks for
//! the booking the lost request made while it was in flight, and sends
//! again only when there is none. A shared store can lose everything
//! (restarted empty, flushed), an attempt in flight or of unknown outcome
//! included: a booking on a hold the store no longer knows (every hold
//! granted is remembered longer than it lives) is taken as a retry of
//! unknown outcome and looked for among the bookings of the last
//! [`KEEP_FOR`] (same candidate and pay option, at any place: the hold's
//! place is lost too) before it is sent, so it never books twice.
//!
//! Where it lives: in the process by default ([`InProcess`]), which is right
//! for one gateway instance; in Redis ([`SharedStore`], `HBG_SHARED_STORE`)
//! when several instances run behind a load balancer, so that a retry
//! answered by another instance finds what the first one remembered. Redis
//! is a store an operator already runs; its expiring keys do the forgetting.
//!
//! Invariants: an attempt is remembered for [`KEEP_FOR`], longer than any
//! hold lives, so a retry within a hold's life always finds it; only an
//! unknown outcome is ever reconciled; a hold is remembered until it lapses
//! by the gateway's clock; everything kept in the process is capped
//! ([`MAX_ATTEMPTS`], [`MAX_LIVE_HOLDS`], [`MAX_HOLD_PLACES`]), and an
//! attempt in flight or of unknown outcome is never evicted; keys are HMACs
//! that name no session or address; the memory holds hold hashes, ids,
//! e-mail addresses (no longer than the widget allows) and
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

/// How far a booking's creation time may stray outside the span its
/// attempt's lost request was in flight (the upstream's clock against the
/// gateway's).
pub const CLOCK_SLACK: Duration = Duration::minutes(2);

/// How long an attempt may stay in flight: longer than any booking request
/// is let run. One still in flight after that was abandoned (its instance
/// stopped mid-request) and is taken as an unknown outcome.
pub const IN_FLIGHT_FOR: Duration = Duration::minutes(2);

/// Most attempts one instance remembers in its process. Only attempts
/// that were sent are kept, so the cap is far above what the upstream's
/// rate limit lets through in [`KEEP_FOR`]; past it, the oldest attempt
/// whose booking is known is forgotten, and an attempt in flight or of
/// unknown outcome never is.
pub const MAX_ATTEMPTS: usize = 10_000;

/// The prefix of every key the gateway writes to a shared store.
const KEY_PREFIX: &str = "hbg-gateway:";

/// What is known of a create-booking attempt's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Outcome {
    /// Sent upstream at `since`; its answer is not back yet.
    InFlight {
        /// When it was (last) sent.
        since: DateTime<Utc>,
    },
    /// Sent, and its answer lost (a timeout, a 5xx, a broken connection),
    /// seen at `at`: it may or may not have booked.
    Unknown {
        /// When the outcome was found unknown.
        at: DateTime<Utc>,
    },
    /// It made this booking.
    Made {
        /// The upstream's booking id.
        booking_id: u64,
    },
}

/// One create-booking attempt: one session's try at booking one hold of one
/// product (its key says which: [`super::session::Signer::attempt_key`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// When the gateway first sent it upstream.
    pub started: DateTime<Utc>,
    /// The hold it books.
    pub hold_hash: String,
    /// The candidate's e-mail address, as sent.
    pub email: String,
    /// The pay option, as sent (the upstream's name).
    pub pay_option: String,
    /// Where its hold is, when this gateway granted the hold.
    pub place: Option<BookedPlace>,
    /// What is known of its outcome.
    pub outcome: Outcome,
}

impl Attempt {
    /// Whether `booking` is the one this attempt's lost request made: the
    /// attempt's outcome is unknown, and the booking has the same candidate,
    /// pay option and place (when the hold's place is known) and was created
    /// while the lost request was in flight. One rule for both products.
    pub fn made(&self, booking: &impl MadeBooking) -> bool {
        let Outcome::Unknown { at } = self.outcome else {
            return false;
        };
        let created = booking.created_at().with_timezone(&Utc);
        let same_place = self
            .place
            .as_ref()
            .is_none_or(|place| *place == booking.booked_place());
        same_place
            && booking.email().eq_ignore_ascii_case(&self.email)
            && booking.pay_option() == self.pay_option
            && created >= self.started - CLOCK_SLACK
            && created <= at + CLOCK_SLACK
    }

    /// What a retry of this attempt finds at `now`: an attempt in flight
    /// for longer than [`IN_FLIGHT_FOR`] was abandoned, and its outcome is
    /// unknown.
    fn begun_again(&self, now: DateTime<Utc>) -> Begun {
        match self.outcome {
            Outcome::Made { booking_id } => Begun::Made(booking_id),
            Outcome::Unknown { .. } => Begun::Unknown(self.clone()),
            Outcome::InFlight { since } if now - since > IN_FLIGHT_FOR => Begun::Unknown(Attempt {
                outcome: Outcome::Unknown {
                    at: since + IN_FLIGHT_FOR,
                },
                ..self.clone()
            }),
            Outcome::InFlight { .. } => Begun::InFlight,
        }
    }
}

/// What a create-booking request finds when it begins its attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Begun {
    /// A new attempt, now remembered as in flight: send it.
    New,
    /// An earlier try made this booking: replay it.
    Made(u64),
    /// An earlier try's answer was lost, or the shared store forgot
    /// whether there was one: look for the booking it may have made
    /// before sending.
    Unknown(Attempt),
    /// An earlier try is still in flight: wait for it.
    InFlight,
}

/// What a new attempt sends: the hold it books, the candidate's e-mail
/// address and the pay option (the upstream's name).
#[derive(Debug, Clone, Copy)]
pub struct NewAttempt<'a> {
    /// The hold it books.
    pub hold_hash: &'a str,
    /// The candidate's e-mail address.
    pub email: &'a str,
    /// The pay option, in the upstream's name.
    pub pay_option: &'a str,
}

impl NewAttempt<'_> {
    /// The attempt remembered when it is first sent at `now`, its hold at
    /// `place` when known.
    fn remembered(&self, place: Option<BookedPlace>, now: DateTime<Utc>) -> Attempt {
        Attempt {
            started: now,
            hold_hash: self.hold_hash.to_owned(),
            email: self.email.to_owned(),
            pay_option: self.pay_option.to_owned(),
            place,
            outcome: Outcome::InFlight { since: now },
        }
    }

    /// The attempt as a retry must take it when the shared store has
    /// forgotten its hold (restarted empty, flushed): every hold a gateway
    /// grants is remembered for [`KEEP_FOR`], longer than any hold lives,
    /// so a live hold the store does not know means the store lost what it
    /// knew, an earlier try of this attempt included. Whether that try
    /// booked is unknown: its booking is looked for among those of the last
    /// [`KEEP_FOR`], at any place (the hold's place was forgotten too).
    fn on_forgotten_hold(&self, now: DateTime<Utc>) -> Attempt {
        Attempt {
            started: now - KEEP_FOR,
            outcome: Outcome::Unknown { at: now },
            ..self.remembered(None, now)
        }
    }
}

/// A session's hold (either product's, as JSON) and when it lapses by the
/// gateway's clock; while it is being asked for upstream, a reservation
/// with no hold yet.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SessionHold {
    hold: Option<serde_json::Value>,
    lapses: DateTime<Utc>,
    /// The hold's hash, once granted.
    #[serde(default)]
    hash: Option<String>,
    /// Whose it is.
    owner: HoldOwner,
    /// When a request for it was sent whose answer was lost: the upstream
    /// may hold the place for the session without the gateway knowing the
    /// hold (then `hold` is `None`, and `lapses` is when such a hold would).
    #[serde(default)]
    unconfirmed_since: Option<DateTime<Utc>>,
}

/// Who holds a place: the session and the client address (keys that name
/// neither, [`super::session::Signer::owner_key`] and
/// [`super::session::Signer::address_key`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldOwner {
    /// The session's key.
    pub session: String,
    /// The client address's key.
    pub address: String,
}

/// How many live holds a session and a client address may have at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoldCaps {
    /// Per widget session: a candidate books one seat at a time.
    pub per_session: usize,
    /// Per client address.
    pub per_address: usize,
}

/// A place reserved among a session's live holds before it is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reserved {
    /// A new place: give it back ([`Memory::unreserve_hold`]) if it is not
    /// granted.
    Anew,
    /// The session holds the place already (a retry, a renewal), or its
    /// caps could not be checked (the shared store did not answer).
    Already,
}

/// Why a hold is refused before it is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldRefusal {
    /// The session has as many live holds as it may.
    Session,
    /// The client address has as many live holds as it may.
    Address,
    /// The gateway remembers as many live holds as it can.
    Full,
}

/// How long a place stays reserved for a hold being asked for: longer than
/// any hold request is let run.
const RESERVATION_LIFE: Duration = Duration::minutes(2);

/// How long the upstream holds a seat (documented: 30 minutes): how long a
/// hold whose answer was lost may stand.
pub const HOLD_LIFE: Duration = Duration::minutes(30);

/// Most live holds (and reservations) one instance remembers in its
/// process.
pub const MAX_LIVE_HOLDS: usize = 10_000;

/// Most granted holds' places one instance remembers in its process, for
/// the booking attempts on them; past it, the oldest is forgotten.
pub const MAX_HOLD_PLACES: usize = 10_000;

/// How much longer than its grace a pending release's mark is kept, so the
/// task that releases the hold after the grace still finds it.
pub const PENDING_RELEASE_MARGIN: Duration = Duration::seconds(60);

/// The most holds waiting out their release grace at once in the process;
/// beyond it, a beacon's hold is released at once.
pub const MAX_PENDING_RELEASES: usize = 10_000;

impl SessionHold {
    /// The hold with the seconds it has left at `now`, while it has any,
    /// and when it lapses.
    fn at<H: GrantedHold>(&self, now: DateTime<Utc>) -> Option<(H, DateTime<Utc>)> {
        let left = (self.lapses - now).num_seconds();
        if left <= 0 {
            return None;
        }
        let hold: H = serde_json::from_value(self.hold.clone()?).ok()?;
        Some((hold.with_seconds_left(left), self.lapses))
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
        StoreError(format!(
            "an entry that is not ours ({:?} error at line {} column {})",
            error.classify(),
            error.line(),
            error.column()
        ))
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

/// How many entries of each kind the memory holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Remembered {
    /// Create-booking attempts.
    pub attempts: usize,
    /// Holds granted (their places, kept as long as attempts).
    pub holds: usize,
    /// Sessions' live holds.
    pub session_holds: usize,
}

impl Memory {
    /// Whether the memory can be reached: the in-process memory always
    /// can; a shared store must answer a `PING`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Memory::InProcess(_) => Ok(()),
            Memory::Shared(store) => store.ping().await,
        }
    }

    /// How many entries of each kind are remembered now.
    pub async fn remembered(&self) -> Remembered {
        match self {
            Memory::InProcess(memory) => Remembered {
                attempts: lock(&memory.entries).len(),
                holds: lock(&memory.holds).len(),
                session_holds: lock(&memory.session_holds).len(),
            },
            Memory::Shared(store) => store.remembered().await.unwrap_or_else(|error| {
                tracing::warn!(%error, "the shared store could not be counted");
                Remembered::default()
            }),
        }
    }

    /// Begins the attempt under `key` at `now`: a new one is remembered as
    /// in flight ([`Begun::New`]); a retry finds what its earlier try left.
    pub async fn begin(
        &self,
        key: &str,
        attempt: NewAttempt<'_>,
        now: DateTime<Utc>,
    ) -> Result<Begun, StoreError> {
        match self {
            Memory::InProcess(memory) => memory.begin(key, attempt, now),
            Memory::Shared(store) => store.begin(key, attempt, now).await,
        }
    }

    /// Records the outcome of the attempt under `key`; a store that cannot
    /// be written is logged (a retry then finds the attempt as it was).
    pub async fn settle(&self, key: &str, outcome: Outcome) {
        match self {
            Memory::InProcess(memory) => {
                if let Some(attempt) = lock(&memory.entries).get_mut(key) {
                    attempt.outcome = outcome;
                }
            }
            Memory::Shared(store) => {
                if let Err(error) = store.settle(key, outcome).await {
                    tracing::warn!(%error, "a booking attempt's outcome was not remembered");
                }
            }
        }
    }

    /// Remembers a hold this gateway granted, under the key naming the
    /// session and the place ([`super::session::Signer::hold_key`]). A store
    /// that cannot be written is logged: the hold stands all the same.
    pub async fn held(
        &self,
        hold_key: &str,
        owner: &HoldOwner,
        hold: &impl GrantedHold,
        now: DateTime<Utc>,
    ) {
        match self {
            Memory::InProcess(memory) => memory.held(hold_key, owner, hold, now),
            Memory::Shared(store) => {
                if let Err(error) = store.held(hold_key, owner, hold, now).await {
                    tracing::warn!(%error, "a granted hold was not remembered");
                }
            }
        }
    }

    /// Reserves the place `hold_key` names among `owner`'s live holds before
    /// it is asked for upstream, within `caps`: a session holding the place
    /// already (a retry, a renewal) is let through as it is. When the
    /// shared store does not answer, the hold goes ahead unchecked.
    pub async fn reserve_hold(
        &self,
        hold_key: &str,
        owner: &HoldOwner,
        caps: HoldCaps,
        now: DateTime<Utc>,
    ) -> Result<Reserved, HoldRefusal> {
        match self {
            Memory::InProcess(memory) => memory.reserve_hold(hold_key, owner, caps, now),
            Memory::Shared(store) => match store.reserve_hold(hold_key, owner, caps, now).await {
                Ok(reserved) => reserved,
                Err(error) => {
                    tracing::warn!(%error, "a hold's caps could not be checked: it goes ahead");
                    Ok(Reserved::Already)
                }
            },
        }
    }

    /// Remembers that the session's request for the place `hold_key` names
    /// (at `place`), sent at `asked`, lost its answer: the upstream may hold
    /// the place for it until `asked` + [`HOLD_LIFE`]. The place stays the
    /// session's among its caps, and reads as held to everyone else, until
    /// then. A hold the session was granted on the place stays as it is.
    pub async fn hold_unconfirmed(
        &self,
        hold_key: &str,
        owner: &HoldOwner,
        place: &str,
        asked: DateTime<Utc>,
    ) {
        match self {
            Memory::InProcess(memory) => memory.hold_unconfirmed(hold_key, owner, place, asked),
            Memory::Shared(store) => {
                if let Err(error) = store.hold_unconfirmed(hold_key, owner, place, asked).await {
                    tracing::warn!(%error, "a hold whose answer was lost was not remembered");
                }
            }
        }
    }

    /// When the session's unconfirmed hold on the place `hold_key` names
    /// ([`Memory::hold_unconfirmed`]) lapses, while it has not.
    pub async fn unconfirmed_hold(
        &self,
        hold_key: &str,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let held = match self {
            Memory::InProcess(memory) => lock(&memory.session_holds).get(hold_key).cloned(),
            Memory::Shared(store) => match store.session_record(hold_key).await {
                Ok(held) => held,
                Err(error) => {
                    tracing::warn!(%error, "a session's hold could not be looked up");
                    None
                }
            },
        }?;
        (held.hold.is_none() && held.unconfirmed_since.is_some() && held.lapses > now)
            .then_some(held.lapses)
    }

    /// Whether any session was granted the hold `hold_hash`.
    pub async fn hold_owned(&self, hold_hash: &str) -> bool {
        match self {
            Memory::InProcess(memory) => lock(&memory.session_holds)
                .values()
                .any(|held| held.hash.as_deref() == Some(hold_hash)),
            Memory::Shared(store) => store.hold_owned(hold_hash).await.unwrap_or_else(|error| {
                tracing::warn!(%error, "a hold's owner could not be looked up: taken as owned");
                true
            }),
        }
    }

    /// Seconds until the latest hold of the kind of `place` (an event, or a
    /// timeslot) lapses, granted or unconfirmed, while it has any left: by
    /// then every hold the agency's account has on such places has lapsed.
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

    /// Gives back a place reserved anew whose hold was not granted.
    pub async fn unreserve_hold(&self, hold_key: &str, owner: &HoldOwner) {
        match self {
            Memory::InProcess(memory) => {
                let mut holds = lock(&memory.session_holds);
                if holds.get(hold_key).is_some_and(|held| held.hold.is_none()) {
                    holds.remove(hold_key);
                }
            }
            Memory::Shared(store) => {
                if let Err(error) = store.unreserve_hold(hold_key, owner).await {
                    tracing::warn!(%error, "a reserved place was left to lapse");
                }
            }
        }
    }

    /// Notes that the page holding `hold_hash` asked, as it went away, to
    /// release it: the hold waits `grace` for the page to come back (a
    /// reload) and take it up ([`Memory::end_pending_release`]). False when
    /// it cannot wait (the store does not answer, or the process holds too
    /// many): then it is released at once.
    pub async fn release_pending(
        &self,
        hold_hash: &str,
        grace: std::time::Duration,
        now: DateTime<Utc>,
    ) -> bool {
        match self {
            Memory::InProcess(memory) => {
                let mut pending = lock(&memory.pending_releases);
                pending.retain(|_, until| *until > now);
                if pending.len() >= MAX_PENDING_RELEASES {
                    return false;
                }
                let until = now
                    + chrono::Duration::from_std(grace).unwrap_or_default()
                    + PENDING_RELEASE_MARGIN;
                pending.insert(hold_hash.to_owned(), until);
                true
            }
            Memory::Shared(store) => match store.release_pending(hold_hash, grace).await {
                Ok(()) => true,
                Err(error) => {
                    tracing::warn!(%error, "a hold's release could not wait: released at once");
                    false
                }
            },
        }
    }

    /// Ends the wait of a hold whose page asked to release it: true when it
    /// was still waiting (so nothing took it up, and it is released now, or
    /// it is taken up now), false when it was not.
    pub async fn end_pending_release(&self, hold_hash: &str) -> bool {
        match self {
            Memory::InProcess(memory) => lock(&memory.pending_releases).remove(hold_hash).is_some(),
            Memory::Shared(store) => match store.end_pending_release(hold_hash).await {
                Ok(ended) => ended,
                Err(error) => {
                    tracing::warn!(%error, "a hold's pending release could not be read");
                    false
                }
            },
        }
    }

    /// Forgets the hold `hold_hash` among its session's live holds once a
    /// booking used it (the attempts on it are kept, for retries).
    pub async fn hold_used(&self, hold_hash: &str) {
        match self {
            Memory::InProcess(memory) => {
                lock(&memory.event_holds).retain(|_, (_, hash)| hash != hold_hash);
                memory.forget_session_hold(hold_hash);
            }
            Memory::Shared(store) => {
                let forgotten = match store.forget_session_hold(hold_hash).await {
                    Ok(()) => store.forget_place_hold(hold_hash).await,
                    Err(error) => Err(error),
                };
                if let Err(error) = forgotten {
                    tracing::warn!(%error, "a used hold was left to lapse");
                }
            }
        }
    }

    /// The session's hold on the place, while it has time left by the
    /// gateway's clock, with the seconds it has left now, and when it
    /// lapses.
    pub async fn session_hold<H: GrantedHold>(
        &self,
        hold_key: &str,
        now: DateTime<Utc>,
    ) -> Option<(H, DateTime<Utc>)> {
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

    /// For each place (with the key of the asking session's own hold on
    /// it), the seconds until it is free to hold when another session's
    /// hold blocks it: the latest hold on the place, or with `one_in_all`
    /// (an upstream allowing an account one live hold in all) the latest on
    /// any place of its kind; `None` for a place free now or held by the
    /// asking session itself. One look at the memory (a single round trip
    /// to a shared store), for a whole list of events.
    pub async fn blocked_places(
        &self,
        places: &[(String, String)],
        one_in_all: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<Option<i64>>, StoreError> {
        let (lapses, own): (Vec<Option<DateTime<Utc>>>, Vec<bool>) = match self {
            Memory::InProcess(memory) => {
                let latest = lock(&memory.event_holds);
                let session_holds = lock(&memory.session_holds);
                places
                    .iter()
                    .map(|(place, own_key)| {
                        let lapses = if one_in_all {
                            latest
                                .iter()
                                .filter(|(key, _)| place_kind(key) == place_kind(place))
                                .map(|(_, (lapses, _))| *lapses)
                                .max()
                        } else {
                            latest.get(place).map(|(lapses, _)| *lapses)
                        };
                        let own = session_holds
                            .get(own_key)
                            .is_some_and(|held| held.lapses > now);
                        (lapses, own)
                    })
                    .unzip()
            }
            Memory::Shared(store) => store.blocked_places(places, one_in_all, now).await?,
        };
        Ok(lapses
            .into_iter()
            .zip(own)
            .map(|(lapses, own)| {
                let left = (lapses? - now).num_seconds();
                (left > 0 && !own).then_some(left)
            })
            .collect())
    }

    /// Seconds until the hold this gateway granted on the place lapses,
    /// while it is live and neither used nor released. Unlike
    /// [`Memory::place_hold_frees_in`], a hold whose answer was lost does not
    /// count: the upstream may never have made it.
    pub async fn granted_place_hold_frees_in(
        &self,
        place: &str,
        now: DateTime<Utc>,
    ) -> Option<i64> {
        self.hold_frees_in(place, true, now).await
    }

    /// Seconds until the latest hold this gateway granted on the place (an
    /// event or a timeslot, by [`super::product::HoldPlace::key`]) lapses,
    /// while it has any left: when the upstream's 409 does not say when the
    /// seat frees, this does (a hold per account per place is always one the
    /// agency's gateway granted).
    pub async fn place_hold_frees_in(&self, place: &str, now: DateTime<Utc>) -> Option<i64> {
        self.hold_frees_in(place, false, now).await
    }

    /// Seconds until the place's latest hold lapses, while it has any left;
    /// with `granted_only`, only a hold the upstream confirmed counts.
    async fn hold_frees_in(
        &self,
        place: &str,
        granted_only: bool,
        now: DateTime<Utc>,
    ) -> Option<i64> {
        let lapses = match self {
            Memory::InProcess(memory) => lock(&memory.event_holds)
                .get(place)
                .filter(|(_, hash)| !granted_only || !hash.is_empty())
                .map(|(lapses, _)| *lapses),
            Memory::Shared(store) => match if granted_only {
                store.granted_event_hold_lapses(place).await
            } else {
                store.event_hold_lapses(place).await
            } {
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

    /// Forgets the hold `hold_hash` as the latest on its place (and of its
    /// kind), once it is released: the place is free again. Its booking
    /// attempts are forgotten too: the upstream released the hold, so no
    /// booking was made from it, and a retry must not look for one. A store
    /// that cannot be written is logged: the place reads as held until the
    /// hold would have lapsed.
    pub async fn released(&self, hold_hash: &str) {
        match self {
            Memory::InProcess(memory) => {
                lock(&memory.event_holds).retain(|_, (_, hash)| hash != hold_hash);
                lock(&memory.entries).retain(|_, attempt| attempt.hold_hash != hold_hash);
                memory.forget_session_hold(hold_hash);
            }
            Memory::Shared(store) => {
                if let Err(error) = store.released(hold_hash).await {
                    tracing::warn!(%error, "a released hold was not forgotten");
                }
            }
        }
    }

    /// Forgets the attempt under `key`, whose outcome is known to be no
    /// booking: it was never sent (queued, busy) or the upstream refused it
    /// (a 4xx). Its retry is a first attempt, with nothing to look for. A
    /// store that cannot be written is logged: a retry then looks for a
    /// booking first, which finds none.
    pub async fn forget(&self, key: &str) {
        match self {
            Memory::InProcess(memory) => {
                lock(&memory.entries).remove(key);
            }
            Memory::Shared(store) => {
                if let Err(error) = store.forget(key).await {
                    tracing::warn!(%error, "a booking attempt that booked nothing was not forgotten");
                }
            }
        }
    }

    /// Takes the lock on one place's holds (an event or a timeslot), so a
    /// renewal's release and hold leave no moment in which another session
    /// of this gateway (or, with a shared store, of any instance) can take
    /// the seat. A renewal takes it alone (`renewal`); in the process, plain
    /// holds share it with each other, and only wait for a renewal; in the
    /// shared store every hold takes it alone. When the shared store does
    /// not answer, the hold goes ahead unlocked.
    pub async fn lock_place(&self, place: &str, renewal: bool) -> EventLock {
        match self {
            Memory::InProcess(memory) => EventLock::InProcess {
                _guard: memory.lock_event(place, renewal).await,
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
}

/// A lock on one event's holds ([`Memory::lock_event`]); give it back with
/// [`EventLock::unlock`] (a shared lock also lapses by itself after
/// [`EVENT_LOCK_LIFE`]).
pub enum EventLock {
    /// This process's lock, given back when dropped.
    InProcess {
        /// The guard of the place's lock.
        _guard: PlaceGuard,
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

/// A guard of one place's lock in the process: shared by plain holds,
/// alone for a renewal.
#[derive(Debug)]
pub enum PlaceGuard {
    /// A plain hold's.
    Shared {
        /// Held until dropped.
        _guard: tokio::sync::OwnedRwLockReadGuard<()>,
    },
    /// A renewal's.
    Alone {
        /// Held until dropped.
        _guard: tokio::sync::OwnedRwLockWriteGuard<()>,
    },
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
    event_locks: Mutex<HashMap<String, Arc<tokio::sync::RwLock<()>>>>,
    /// Holds whose page asked to release them, until when they wait.
    pending_releases: Mutex<HashMap<String, DateTime<Utc>>>,
}

impl InProcess {
    async fn lock_event(&self, place: &str, alone: bool) -> PlaceGuard {
        let lock = {
            let mut locks = lock(&self.event_locks);
            locks.retain(|_, lock| Arc::strong_count(lock) > 1);
            locks.entry(place.to_owned()).or_default().clone()
        };
        if alone {
            PlaceGuard::Alone {
                _guard: lock.write_owned().await,
            }
        } else {
            PlaceGuard::Shared {
                _guard: lock.read_owned().await,
            }
        }
    }

    fn begin(
        &self,
        key: &str,
        attempt: NewAttempt<'_>,
        now: DateTime<Utc>,
    ) -> Result<Begun, StoreError> {
        let place = {
            let mut holds = lock(&self.holds);
            holds.retain(|_, (_, granted)| now - *granted < KEEP_FOR);
            holds.get(attempt.hold_hash).map(|(place, _)| place.clone())
        };
        let mut entries = lock(&self.entries);
        entries.retain(|_, attempt| now - attempt.started < KEEP_FOR);
        if let Some(earlier) = entries.get(key) {
            return Ok(earlier.begun_again(now));
        }
        if entries.len() >= MAX_ATTEMPTS {
            let oldest_made = entries
                .iter()
                .filter(|(_, attempt)| matches!(attempt.outcome, Outcome::Made { .. }))
                .min_by_key(|(_, attempt)| attempt.started)
                .map(|(key, _)| key.clone());
            let Some(oldest_made) = oldest_made else {
                return Err(StoreError(
                    "every remembered booking attempt is in flight or of unknown outcome".into(),
                ));
            };
            entries.remove(&oldest_made);
        }
        entries.insert(key.to_owned(), attempt.remembered(place, now));
        Ok(Begun::New)
    }

    fn held(&self, hold_key: &str, owner: &HoldOwner, hold: &impl GrantedHold, now: DateTime<Utc>) {
        {
            let mut places = lock(&self.holds);
            places.retain(|_, (_, granted)| now - *granted < KEEP_FOR);
            if places.len() >= MAX_HOLD_PLACES {
                let oldest = places
                    .iter()
                    .min_by_key(|(_, (_, granted))| *granted)
                    .map(|(hash, _)| hash.clone());
                places.remove(&oldest.unwrap_or_default());
            }
            places.insert(hold.hold_hash().to_owned(), (hold.booked_place(), now));
        }
        let Some(held) = session_hold(hold, owner, now) else {
            return;
        };
        let mut event_holds = lock(&self.event_holds);
        event_holds.retain(|_, (lapses, _)| *lapses > now);
        event_holds.insert(hold.place_key(), (held.lapses, hold.hold_hash().to_owned()));
        let mut session_holds = lock(&self.session_holds);
        session_holds.retain(|_, held| held.lapses > now);
        session_holds.insert(hold_key.to_owned(), held);
    }

    fn session_hold<H: GrantedHold>(
        &self,
        hold_key: &str,
        now: DateTime<Utc>,
    ) -> Option<(H, DateTime<Utc>)> {
        lock(&self.session_holds).get(hold_key)?.at(now)
    }

    fn reserve_hold(
        &self,
        hold_key: &str,
        owner: &HoldOwner,
        caps: HoldCaps,
        now: DateTime<Utc>,
    ) -> Result<Reserved, HoldRefusal> {
        let mut holds = lock(&self.session_holds);
        holds.retain(|_, held| held.lapses > now);
        if holds.contains_key(hold_key) {
            return Ok(Reserved::Already);
        }
        let (session, address) = holds.values().fold((0, 0), |(session, address), held| {
            (
                session + usize::from(held.owner.session == owner.session),
                address + usize::from(held.owner.address == owner.address),
            )
        });
        if session >= caps.per_session {
            return Err(HoldRefusal::Session);
        }
        if address >= caps.per_address {
            return Err(HoldRefusal::Address);
        }
        if holds.len() >= MAX_LIVE_HOLDS {
            return Err(HoldRefusal::Full);
        }
        holds.insert(
            hold_key.to_owned(),
            SessionHold {
                hold: None,
                lapses: now + RESERVATION_LIFE,
                hash: None,
                owner: owner.clone(),
                unconfirmed_since: None,
            },
        );
        Ok(Reserved::Anew)
    }

    fn hold_unconfirmed(
        &self,
        hold_key: &str,
        owner: &HoldOwner,
        place: &str,
        asked: DateTime<Utc>,
    ) {
        let lapses = asked + HOLD_LIFE;
        {
            let mut holds = lock(&self.session_holds);
            if holds.get(hold_key).is_some_and(|held| held.hold.is_some()) {
                return;
            }
            holds.insert(
                hold_key.to_owned(),
                SessionHold {
                    hold: None,
                    lapses,
                    hash: None,
                    owner: owner.clone(),
                    unconfirmed_since: Some(asked),
                },
            );
        }
        let mut latest = lock(&self.event_holds);
        if latest.get(place).is_none_or(|(known, _)| *known < lapses) {
            latest.insert(place.to_owned(), (lapses, String::new()));
        }
    }

    /// Forgets the session's hold `hold_hash` (released, or used by a
    /// booking).
    fn forget_session_hold(&self, hold_hash: &str) {
        lock(&self.session_holds).retain(|_, held| held.hash.as_deref() != Some(hold_hash));
    }
}

/// What is remembered of a session's hold; `None` only for a hold that
/// does not encode (never for the upstream's own types).
fn session_hold(
    hold: &impl GrantedHold,
    owner: &HoldOwner,
    now: DateTime<Utc>,
) -> Option<SessionHold> {
    Some(SessionHold {
        hold: Some(serde_json::to_value(hold).ok()?),
        lapses: hold.lapses(now),
        hash: Some(hold.hold_hash().to_owned()),
        owner: owner.clone(),
        unconfirmed_since: None,
    })
}

/// Plain values: a panic elsewhere cannot leave them half-written.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The memory in Redis, shared by every gateway instance pointed at it.
/// Keys: `attempt:{key}` (the attempt and its outcome as JSON),
/// `hold-attempts:{hash}` (the attempts on a hold), `hold-event:{hash}` (the
/// place of a hold granted), `session-hold:{hold_key}` (a session's hold),
/// `hold-owner:{hash}` (whose a hold is), `live-session:{session}` and
/// `live-address:{address}` (sorted sets of an owner's live holds by when
/// they lapse), `event-hold:{place}` (when the latest hold granted on a
/// place lapses) and `event-lock:{place}` (the lock on a place's holds),
/// each under [`KEY_PREFIX`] and each expiring on its own. A place is an
/// event's id or a timeslot's key.
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

    /// Whether the store answers a `PING`.
    async fn ping(&self) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        let _: String = redis::cmd("PING").query_async(&mut connection).await?;
        Ok(())
    }

    /// Marks `hold_hash` as waiting `grace` to be released (the mark lives
    /// [`PENDING_RELEASE_MARGIN`] longer, so the release finds it).
    async fn release_pending(
        &self,
        hold_hash: &str,
        grace: std::time::Duration,
    ) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        let margin = PENDING_RELEASE_MARGIN.num_milliseconds().unsigned_abs();
        let life = u64::try_from(grace.as_millis()).unwrap_or(u64::MAX / 2) + margin;
        let () = connection
            .pset_ex(store_key("release-pending", hold_hash), 1, life)
            .await?;
        Ok(())
    }

    /// Removes `hold_hash`'s release mark: true if it was there.
    async fn end_pending_release(&self, hold_hash: &str) -> Result<bool, StoreError> {
        let mut connection = self.connection.clone();
        let removed: u32 = connection
            .del(store_key("release-pending", hold_hash))
            .await?;
        Ok(removed == 1)
    }

    /// Counts the entries of each kind under [`KEY_PREFIX`].
    async fn remembered(&self) -> Result<Remembered, StoreError> {
        Ok(Remembered {
            attempts: self.count("attempt").await?,
            holds: self.count("hold-event").await?,
            session_holds: self.count("session-hold").await?,
        })
    }

    /// The number of keys of one kind.
    async fn count(&self, kind: &str) -> Result<usize, StoreError> {
        let mut connection = self.connection.clone();
        let mut keys = connection
            .scan_match::<_, String>(store_key(kind, "*"))
            .await?;
        let mut count = 0;
        while keys.next_item().await.is_some() {
            count += 1;
        }
        Ok(count)
    }

    async fn begin(
        &self,
        key: &str,
        attempt: NewAttempt<'_>,
        now: DateTime<Utc>,
    ) -> Result<Begun, StoreError> {
        let mut connection = self.connection.clone();
        let place: Option<String> = connection
            .get(store_key("hold-event", attempt.hold_hash))
            .await?;
        let place: Option<BookedPlace> =
            place.map(|json| serde_json::from_str(&json)).transpose()?;
        let hold_forgotten = place.is_none();
        let remembered = serde_json::to_string(&attempt.remembered(place, now))?;
        let attempt_key = store_key("attempt", key);
        let keep_for = KEEP_FOR.num_seconds();
        let created: Option<String> = redis::cmd("SET")
            .arg(&attempt_key)
            .arg(remembered)
            .arg("NX")
            .arg("EX")
            .arg(keep_for)
            .query_async(&mut connection)
            .await?;
        if created.is_some() {
            let on_hold = store_key("hold-attempts", attempt.hold_hash);
            let () = redis::pipe()
                .sadd(&on_hold, key)
                .ignore()
                .expire(&on_hold, keep_for)
                .ignore()
                .query_async(&mut connection)
                .await?;
            if hold_forgotten {
                return Ok(Begun::Unknown(attempt.on_forgotten_hold(now)));
            }
            return Ok(Begun::New);
        }
        let earlier: Option<String> = connection.get(&attempt_key).await?;
        let Some(earlier) = earlier else {
            return Err(StoreError("an attempt expired while it was read".into()));
        };
        let earlier: Attempt = serde_json::from_str(&earlier)?;
        Ok(earlier.begun_again(now))
    }

    /// Rewrites the outcome of the attempt under `key`, if it is still
    /// remembered, keeping its expiry.
    async fn settle(&self, key: &str, outcome: Outcome) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        let attempt_key = store_key("attempt", key);
        let earlier: Option<String> = connection.get(&attempt_key).await?;
        let Some(earlier) = earlier else {
            return Ok(());
        };
        let mut attempt: Attempt = serde_json::from_str(&earlier)?;
        attempt.outcome = outcome;
        let _: Option<String> = redis::cmd("SET")
            .arg(&attempt_key)
            .arg(serde_json::to_string(&attempt)?)
            .arg("XX")
            .arg("KEEPTTL")
            .query_async(&mut connection)
            .await?;
        Ok(())
    }

    async fn held(
        &self,
        hold_key: &str,
        owner: &HoldOwner,
        hold: &impl GrantedHold,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let held = SessionHold {
            hold: Some(serde_json::to_value(hold)?),
            lapses: hold.lapses(now),
            hash: Some(hold.hold_hash().to_owned()),
            owner: owner.clone(),
            unconfirmed_since: None,
        };
        let lives = (held.lapses - now).num_seconds().max(1);
        let place = hold.place_key();
        let lapses_ms = held.lapses.timestamp_millis();
        let (session_holds, address_holds) = live_keys(owner);
        let () = redis::pipe()
            .atomic()
            .zadd(&session_holds, hold_key, lapses_ms)
            .ignore()
            .zadd(&address_holds, hold_key, lapses_ms)
            .ignore()
            .cmd("EXPIRE")
            .arg(&session_holds)
            .arg(lives)
            .arg("GT")
            .ignore()
            .cmd("EXPIRE")
            .arg(&session_holds)
            .arg(lives)
            .arg("NX")
            .ignore()
            .cmd("EXPIRE")
            .arg(&address_holds)
            .arg(lives)
            .arg("GT")
            .ignore()
            .cmd("EXPIRE")
            .arg(&address_holds)
            .arg(lives)
            .arg("NX")
            .ignore()
            .set_ex(
                store_key("hold-owner", hold.hold_hash()),
                format!("{hold_key} {} {}", owner.session, owner.address),
                lives.unsigned_abs(),
            )
            .ignore()
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
                stamp(held.lapses),
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
                stamp(held.lapses),
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

    /// [`Memory::reserve_hold`] in one script: lapsed holds dropped, the
    /// place let through when the session holds it, else the caps checked
    /// and the place reserved.
    async fn reserve_hold(
        &self,
        hold_key: &str,
        owner: &HoldOwner,
        caps: HoldCaps,
        now: DateTime<Utc>,
    ) -> Result<Result<Reserved, HoldRefusal>, StoreError> {
        let (session_holds, address_holds) = live_keys(owner);
        let script = redis::Script::new(
            "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1]) \
             redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1]) \
             if redis.call('ZSCORE', KEYS[1], ARGV[2]) then return 1 end \
             if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return -1 end \
             if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return -2 end \
             redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2]) \
             redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2]) \
             redis.call('EXPIRE', KEYS[1], ARGV[6], 'GT') \
             redis.call('EXPIRE', KEYS[2], ARGV[6], 'GT') \
             redis.call('EXPIRE', KEYS[1], ARGV[6], 'NX') \
             redis.call('EXPIRE', KEYS[2], ARGV[6], 'NX') \
             return 0",
        );
        let answer: i64 = script
            .key(session_holds)
            .key(address_holds)
            .arg(now.timestamp_millis())
            .arg(hold_key)
            .arg((now + RESERVATION_LIFE).timestamp_millis())
            .arg(caps.per_session)
            .arg(caps.per_address)
            .arg(RESERVATION_LIFE.num_seconds())
            .invoke_async(&mut self.connection.clone())
            .await?;
        Ok(match answer {
            1 => Ok(Reserved::Already),
            -1 => Err(HoldRefusal::Session),
            -2 => Err(HoldRefusal::Address),
            _ => Ok(Reserved::Anew),
        })
    }

    async fn unreserve_hold(&self, hold_key: &str, owner: &HoldOwner) -> Result<(), StoreError> {
        let (session_holds, address_holds) = live_keys(owner);
        let () = redis::pipe()
            .zrem(session_holds, hold_key)
            .ignore()
            .zrem(address_holds, hold_key)
            .ignore()
            .query_async(&mut self.connection.clone())
            .await?;
        Ok(())
    }

    /// Forgets the session's hold `hold_hash` among its live holds, when it
    /// is still the session's hold on its place, in one script.
    async fn forget_session_hold(&self, hold_hash: &str) -> Result<(), StoreError> {
        let script = redis::Script::new(
            "local owner = redis.call('GET', KEYS[1]) \
             if not owner then return 0 end \
             local hold_key, session, address = owner:match('(%S+) (%S+) (%S+)') \
             local held = redis.call('GET', ARGV[2] .. 'session-hold:' .. hold_key) \
             if held and cjson.decode(held)['hash'] == ARGV[1] then \
               redis.call('ZREM', ARGV[2] .. 'live-session:' .. session, hold_key) \
               redis.call('ZREM', ARGV[2] .. 'live-address:' .. address, hold_key) \
               redis.call('DEL', ARGV[2] .. 'session-hold:' .. hold_key) \
             end \
             redis.call('DEL', KEYS[1]) \
             return 1",
        );
        let _: i64 = script
            .key(store_key("hold-owner", hold_hash))
            .arg(hold_hash)
            .arg(KEY_PREFIX)
            .invoke_async(&mut self.connection.clone())
            .await?;
        Ok(())
    }

    async fn session_hold<H: GrantedHold>(
        &self,
        hold_key: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(H, DateTime<Utc>)>, StoreError> {
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

    /// What is remembered of the session's place `hold_key` names.
    async fn session_record(&self, hold_key: &str) -> Result<Option<SessionHold>, StoreError> {
        let held: Option<String> = self
            .connection
            .clone()
            .get(store_key("session-hold", hold_key))
            .await?;
        Ok(held.map(|held| serde_json::from_str(&held)).transpose()?)
    }

    async fn hold_owned(&self, hold_hash: &str) -> Result<bool, StoreError> {
        let owned: bool = self
            .connection
            .clone()
            .exists(store_key("hold-owner", hold_hash))
            .await?;
        Ok(owned)
    }

    /// [`Memory::hold_unconfirmed`]: the session's record (unless it was
    /// granted a hold on the place), its place among its caps, and the
    /// place's and its kind's latest lapse, each kept until the lapse.
    async fn hold_unconfirmed(
        &self,
        hold_key: &str,
        owner: &HoldOwner,
        place: &str,
        asked: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if self
            .session_record(hold_key)
            .await?
            .is_some_and(|held| held.hold.is_some())
        {
            return Ok(());
        }
        let lapses = asked + HOLD_LIFE;
        let record = SessionHold {
            hold: None,
            lapses,
            hash: None,
            owner: owner.clone(),
            unconfirmed_since: Some(asked),
        };
        let lives = (lapses - Utc::now()).num_seconds().max(1);
        let (session_holds, address_holds) = live_keys(owner);
        let script = redis::Script::new(
            "redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) \
             redis.call('ZADD', KEYS[2], ARGV[3], ARGV[5]) \
             redis.call('ZADD', KEYS[3], ARGV[3], ARGV[5]) \
             for i = 2, 3 do \
               redis.call('EXPIRE', KEYS[i], ARGV[2], 'GT') \
               redis.call('EXPIRE', KEYS[i], ARGV[2], 'NX') \
             end \
             for i = 4, 5 do \
               local known = redis.call('GET', KEYS[i]) \
               if not known or known < ARGV[4] then \
                 redis.call('SET', KEYS[i], ARGV[4], 'EX', ARGV[2]) \
               end \
             end \
             return 0",
        );
        let _: i64 = script
            .key(store_key("session-hold", hold_key))
            .key(session_holds)
            .key(address_holds)
            .key(store_key("event-hold", place))
            .key(store_key("any-hold", place_kind(place)))
            .arg(serde_json::to_string(&record)?)
            .arg(lives)
            .arg(lapses.timestamp_millis())
            .arg(stamp(lapses))
            .arg(hold_key)
            .invoke_async(&mut self.connection.clone())
            .await?;
        Ok(())
    }

    /// The lapse times and own holds of [`Memory::blocked_places`], read
    /// with one `MGET`.
    async fn blocked_places(
        &self,
        places: &[(String, String)],
        one_in_all: bool,
        now: DateTime<Utc>,
    ) -> Result<(Vec<Option<DateTime<Utc>>>, Vec<bool>), StoreError> {
        let lapse_keys: Vec<String> = places
            .iter()
            .map(|(place, _)| match one_in_all {
                true => store_key("any-hold", place_kind(place)),
                false => store_key("event-hold", place),
            })
            .collect();
        let own_keys = places
            .iter()
            .map(|(_, own_key)| store_key("session-hold", own_key));
        let keys: Vec<String> = lapse_keys.iter().cloned().chain(own_keys).collect();
        if keys.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let values: Vec<Option<String>> = self.connection.clone().mget(&keys).await?;
        let (lapses, own) = values.split_at(places.len().min(values.len()));
        let lapses = lapses
            .iter()
            .map(|value| {
                value
                    .as_deref()
                    .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
                    .map(|lapses| lapses.with_timezone(&Utc))
            })
            .collect();
        let own = own
            .iter()
            .map(|value| {
                value
                    .as_deref()
                    .and_then(|text| serde_json::from_str::<SessionHold>(text).ok())
                    .is_some_and(|held| held.lapses > now)
            })
            .collect();
        Ok((lapses, own))
    }

    async fn event_hold_lapses(&self, place: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.lapses(store_key("event-hold", place)).await
    }

    /// When the place's latest granted hold lapses, while one is known
    /// (a hold whose answer was lost has no hash, and does not count).
    async fn granted_event_hold_lapses(
        &self,
        place: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let hash: Option<String> = self
            .connection
            .clone()
            .get(store_key("event-hold-hash", place))
            .await?;
        match hash {
            Some(_) => self.event_hold_lapses(place).await,
            None => Ok(None),
        }
    }

    /// Deletes the place's and its kind's latest hold when they are
    /// `hold_hash`, in one script.
    async fn released(&self, hold_hash: &str) -> Result<(), StoreError> {
        self.forget_session_hold(hold_hash).await?;
        let mut connection = self.connection.clone();
        let on_hold = store_key("hold-attempts", hold_hash);
        let attempts: Vec<String> = connection.smembers(&on_hold).await?;
        let mut forget = redis::pipe();
        for key in &attempts {
            forget.del(store_key("attempt", key)).ignore();
        }
        let () = forget
            .del(&on_hold)
            .ignore()
            .query_async(&mut connection)
            .await?;
        self.forget_place_hold(hold_hash).await
    }

    /// Forgets `hold_hash` as its place's latest hold (and its kind's), if
    /// it still is: released, or used by a booking.
    async fn forget_place_hold(&self, hold_hash: &str) -> Result<(), StoreError> {
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

    async fn forget(&self, key: &str) -> Result<(), StoreError> {
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

/// A time as the shared store keeps it: RFC 3339 in UTC to the
/// microsecond, so two such texts compare as their times do.
fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The shared store's keys of an owner's live holds: its session's and its
/// client address's.
fn live_keys(owner: &HoldOwner) -> (String, String) {
    (
        store_key("live-session", &owner.session),
        store_key("live-address", &owner.address),
    )
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

    fn owner(session: &str, address: &str) -> HoldOwner {
        HoldOwner {
            session: session.into(),
            address: address.into(),
        }
    }

    #[test]
    fn live_holds_are_capped_per_session_and_per_address() {
        let memory = InProcess::default();
        let caps = HoldCaps {
            per_session: 2,
            per_address: 3,
        };
        let reserve = |key: &str, session: &str, address: &str| {
            memory.reserve_hold(key, &owner(session, address), caps, at(0))
        };
        assert_eq!(reserve("s1-41", "s1", "a"), Ok(Reserved::Anew));
        assert_eq!(
            reserve("s1-41", "s1", "a"),
            Ok(Reserved::Already),
            "a retry"
        );
        assert_eq!(reserve("s1-42", "s1", "a"), Ok(Reserved::Anew));
        assert_eq!(reserve("s1-43", "s1", "a"), Err(HoldRefusal::Session));
        assert_eq!(reserve("s2-41", "s2", "a"), Ok(Reserved::Anew));
        assert_eq!(reserve("s3-41", "s3", "a"), Err(HoldRefusal::Address));
        assert_eq!(reserve("s3-41", "s3", "b"), Ok(Reserved::Anew));
        memory.held("s1-41", &owner("s1", "a"), &leeds_hold(), at(0));
        memory.forget_session_hold("hash");
        assert_eq!(
            reserve("s1-43", "s1", "a"),
            Ok(Reserved::Anew),
            "a released hold frees its place among the session's"
        );
        let later = memory.reserve_hold("s3-44", &owner("s3", "a"), caps, at(3));
        assert_eq!(later, Ok(Reserved::Anew), "reservations lapse");
    }

    const PRIYA: NewAttempt<'static> = NewAttempt {
        hold_hash: "hash",
        email: "priya@example.com",
        pay_option: "credits",
    };

    #[test]
    fn the_first_attempt_is_new_and_a_retry_finds_what_it_left() {
        let attempts = InProcess::default();
        assert_eq!(attempts.begin("k", PRIYA, at(0)).unwrap(), Begun::New);
        assert_eq!(
            attempts.begin("k", PRIYA, at(1)).unwrap(),
            Begun::InFlight,
            "a retry while the first try is in flight waits for it"
        );
        lock(&attempts.entries).get_mut("k").unwrap().outcome = Outcome::Unknown { at: at(1) };
        let Begun::Unknown(earlier) = attempts.begin("k", PRIYA, at(2)).unwrap() else {
            panic!("a lost answer's attempt is looked for");
        };
        assert_eq!(earlier.started, at(0));
        lock(&attempts.entries).get_mut("k").unwrap().outcome = Outcome::Made { booking_id: 9001 };
        assert_eq!(
            attempts.begin("k", PRIYA, at(3)).unwrap(),
            Begun::Made(9001)
        );
    }

    #[test]
    fn an_attempt_in_flight_too_long_was_abandoned() {
        let attempts = InProcess::default();
        attempts.begin("k", PRIYA, at(0)).unwrap();
        let Begun::Unknown(abandoned) = attempts.begin("k", PRIYA, at(3)).unwrap() else {
            panic!("an abandoned attempt's outcome is unknown");
        };
        assert_eq!(abandoned.outcome, Outcome::Unknown { at: at(2) });
    }

    #[test]
    fn attempts_are_forgotten_after_two_hours() {
        let attempts = InProcess::default();
        attempts.begin("k", PRIYA, at(0)).unwrap();
        assert_ne!(attempts.begin("k", PRIYA, at(119)).unwrap(), Begun::New);
        assert_eq!(attempts.begin("k", PRIYA, at(121)).unwrap(), Begun::New);
    }

    #[test]
    fn a_full_memory_forgets_a_made_booking_never_one_in_flight() {
        let attempts = InProcess::default();
        for n in 0..MAX_ATTEMPTS {
            attempts.begin(&format!("k{n}"), PRIYA, at(0)).unwrap();
        }
        assert!(
            attempts.begin("one more", PRIYA, at(1)).is_err(),
            "no attempt in flight is evicted to make room"
        );
        lock(&attempts.entries).get_mut("k7").unwrap().outcome = Outcome::Made { booking_id: 7 };
        assert_eq!(
            attempts.begin("one more", PRIYA, at(1)).unwrap(),
            Begun::New
        );
        assert!(!lock(&attempts.entries).contains_key("k7"));
        assert_eq!(lock(&attempts.entries).len(), MAX_ATTEMPTS);
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
    fn a_lost_booking_is_recognised_by_candidate_pay_option_and_time_in_flight() {
        let mut attempt = Attempt {
            started: at(0),
            hold_hash: "hash".into(),
            email: "Priya@Example.com".into(),
            pay_option: "credits".into(),
            place: None,
            outcome: Outcome::Unknown { at: at(1) },
        };
        assert!(attempt.made(&booking("priya@example.com", PayOption::Credits, at(0))));
        assert!(attempt.made(&booking("priya@example.com", PayOption::Credits, at(-1))));
        assert!(attempt.made(&booking("priya@example.com", PayOption::Credits, at(3))));
        assert!(
            !attempt.made(&booking("priya@example.com", PayOption::Credits, at(4))),
            "made after the lost request's answer was due"
        );
        assert!(!attempt.made(&booking("priya@example.com", PayOption::Credits, at(-3))));
        assert!(!attempt.made(&booking("sam@example.com", PayOption::Credits, at(0))));
        assert!(!attempt.made(&booking("priya@example.com", PayOption::Balance, at(0))));
        attempt.outcome = Outcome::InFlight { since: at(0) };
        assert!(
            !attempt.made(&booking("priya@example.com", PayOption::Credits, at(0))),
            "only an unknown outcome is reconciled"
        );
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
        memory.held("session-41", &owner("s", "a"), &hold, at(0));
        memory.begin("k", PRIYA, at(1)).unwrap();
        lock(&memory.entries).get_mut("k").unwrap().outcome = Outcome::Unknown { at: at(1) };
        let Begun::Unknown(attempt) = memory.begin("k", PRIYA, at(2)).unwrap() else {
            panic!("the lost answer's attempt");
        };
        assert_eq!(attempt.place, Some(hold.booked_place()));
        let mut on_the_event = booking("priya@example.com", PayOption::Credits, at(1));
        assert!(attempt.made(&on_the_event));
        on_the_event.location.name = "York".into();
        assert!(!attempt.made(&on_the_event), "another event's booking");
    }

    #[test]
    fn a_session_hold_is_remembered_until_it_lapses() {
        let memory = InProcess::default();
        memory.held("session-41", &owner("s", "a"), &leeds_hold(), at(0));
        let (later, lapses): (SeatHold, _) = memory
            .session_hold("session-41", at(10))
            .expect("remembered");
        assert_eq!(lapses, at(30));
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
