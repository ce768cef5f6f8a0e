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
//! Invariants: an attempt is remembered for [`KEEP_FOR`], longer than any
//! hold lives, so a retry within a hold's life always finds it; a hold is
//! remembered until it lapses by the gateway's clock; keys are HMACs that
//! name no session; the memory holds hold hashes, ids, e-mail addresses and
//! times, never an upstream token; it is in-process: one gateway instance
//! answers one session's retries (several instances behind a load balancer
//! need sticky sessions for this until the memory moves to a shared store).

use std::collections::HashMap;
use std::sync::Mutex;

use booking_core::api::{BookingDetail, HeldEvent, PayOption, SeatHold};
use chrono::{DateTime, Duration, Utc};

/// How long an attempt is remembered: two hours, four times a hold's life.
pub const KEEP_FOR: Duration = Duration::hours(2);

/// How much earlier than the attempt's start a booking it made may say it
/// was created (the upstream's clock against the gateway's).
pub const CLOCK_SLACK: Duration = Duration::minutes(2);

/// One create-booking attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// When the gateway first sent it upstream.
    pub started: DateTime<Utc>,
    /// The candidate's e-mail address, as sent.
    pub email: String,
    /// The pay option, as sent.
    pub pay_option: PayOption,
    /// The event its hold is on, when this gateway granted the hold.
    pub event: Option<HeldEvent>,
    /// The booking it made, once known.
    pub booking_id: Option<u64>,
}

impl Attempt {
    /// Whether `booking` is the one this attempt's lost request made: the
    /// same candidate, pay option and event (when the hold's event is
    /// known), created since the attempt began.
    pub fn made(&self, booking: &BookingDetail) -> bool {
        let same_event = self.event.as_ref().is_none_or(|event| {
            booking.start_date == event.start_date
                && booking.course.name == event.course
                && booking.location.name == event.location
        });
        same_event
            && booking.candidate.email.eq_ignore_ascii_case(&self.email)
            && booking.pay_option == self.pay_option
            && booking.created_at.with_timezone(&Utc) >= self.started - CLOCK_SLACK
    }
}

/// The attempts of the last [`KEEP_FOR`], the events of the holds this
/// gateway granted in that time, and each session's live holds.
#[derive(Debug, Default)]
pub struct Memory {
    entries: Mutex<HashMap<String, Attempt>>,
    holds: Mutex<HashMap<String, (HeldEvent, DateTime<Utc>)>>,
    session_holds: Mutex<HashMap<String, (SeatHold, DateTime<Utc>)>>,
}

impl Memory {
    /// The attempt already under `key`, if any; otherwise remembers a new
    /// one and answers `None`.
    pub fn begin(
        &self,
        key: &str,
        hold_hash: &str,
        email: &str,
        pay_option: &PayOption,
        now: DateTime<Utc>,
    ) -> Option<Attempt> {
        let event = {
            let mut holds = lock(&self.holds);
            holds.retain(|_, (_, granted)| now - *granted < KEEP_FOR);
            holds.get(hold_hash).map(|(event, _)| event.clone())
        };
        let mut entries = lock(&self.entries);
        entries.retain(|_, attempt| now - attempt.started < KEEP_FOR);
        if let Some(earlier) = entries.get(key) {
            return Some(earlier.clone());
        }
        entries.insert(
            key.to_owned(),
            Attempt {
                started: now,
                email: email.to_owned(),
                pay_option: pay_option.clone(),
                event,
                booking_id: None,
            },
        );
        None
    }

    /// Remembers a hold this gateway granted, under the key naming the
    /// session and the event ([`super::session::Signer::hold_key`]).
    pub fn held(&self, hold_key: &str, hold: &SeatHold, now: DateTime<Utc>) {
        lock(&self.holds).insert(hold.hold_hash.clone(), (hold.training_event.clone(), now));
        let lapses = now + Duration::seconds(hold.expires_in_seconds.max(0));
        let mut session_holds = lock(&self.session_holds);
        session_holds.retain(|_, (_, lapses)| *lapses > now);
        session_holds.insert(hold_key.to_owned(), (hold.clone(), lapses));
    }

    /// The session's hold on the event, while it has time left by the
    /// gateway's clock, with the seconds it has left now.
    pub fn session_hold(&self, hold_key: &str, now: DateTime<Utc>) -> Option<SeatHold> {
        let session_holds = lock(&self.session_holds);
        let (hold, lapses) = session_holds.get(hold_key)?;
        let left = (*lapses - now).num_seconds();
        (left > 0).then(|| SeatHold {
            expires_in_seconds: left,
            ..hold.clone()
        })
    }

    /// Records the booking the attempt under `key` made.
    pub fn made(&self, key: &str, booking_id: u64) {
        if let Some(attempt) = lock(&self.entries).get_mut(key) {
            attempt.booking_id = Some(booking_id);
        }
    }
}

/// Plain values: a panic elsewhere cannot leave them half-written.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T10:00:00+00:00")
            .unwrap()
            .with_timezone(&Utc)
            + Duration::minutes(minutes)
    }

    #[test]
    fn the_first_attempt_is_new_and_a_retry_finds_it() {
        let attempts = Memory::default();
        assert_eq!(
            attempts.begin("k", "hash", "priya@example.com", &PayOption::Credits, at(0)),
            None
        );
        let earlier = attempts
            .begin("k", "hash", "priya@example.com", &PayOption::Credits, at(1))
            .expect("the retry finds the attempt");
        assert_eq!(earlier.started, at(0));
        assert_eq!(earlier.booking_id, None);
        attempts.made("k", 9001);
        let done = attempts
            .begin("k", "hash", "priya@example.com", &PayOption::Credits, at(2))
            .unwrap();
        assert_eq!(done.booking_id, Some(9001));
    }

    #[test]
    fn attempts_are_forgotten_after_two_hours() {
        let attempts = Memory::default();
        attempts.begin("k", "hash", "priya@example.com", &PayOption::Credits, at(0));
        assert!(attempts
            .begin(
                "k",
                "hash",
                "priya@example.com",
                &PayOption::Credits,
                at(119)
            )
            .is_some());
        assert!(attempts
            .begin(
                "k",
                "hash",
                "priya@example.com",
                &PayOption::Credits,
                at(121)
            )
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
            pay_option: PayOption::Credits,
            event: None,
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
        let memory = Memory::default();
        let hold = leeds_hold();
        memory.held("session-41", &hold, at(0));
        memory.begin("k", "hash", "priya@example.com", &PayOption::Credits, at(1));
        let attempt = memory
            .begin("k", "hash", "priya@example.com", &PayOption::Credits, at(2))
            .unwrap();
        assert_eq!(attempt.event, Some(hold.training_event));
        let mut on_the_event = booking("priya@example.com", PayOption::Credits, at(1));
        assert!(attempt.made(&on_the_event));
        on_the_event.location.name = "York".into();
        assert!(!attempt.made(&on_the_event), "another event's booking");
    }

    #[test]
    fn a_session_hold_is_remembered_until_it_lapses() {
        let memory = Memory::default();
        memory.held("session-41", &leeds_hold(), at(0));
        let later = memory
            .session_hold("session-41", at(10))
            .expect("remembered");
        assert_eq!(later.hold_hash, "hash");
        assert_eq!(later.expires_in_seconds, 1200, "the seconds left now");
        assert_eq!(memory.session_hold("session-42", at(10)), None);
        assert_eq!(memory.session_hold("session-41", at(30)), None, "lapsed");
    }
}
