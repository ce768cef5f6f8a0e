//! The gateway's memory of create-booking attempts, so one candidate's one
//! attempt makes at most one booking even when the upstream ignores
//! `Idempotency-Key` (its published documents do not mention the header).
//!
//! An attempt is keyed by the upstream idempotency key (the widget's key,
//! bound to its session). It is remembered before the upstream is called
//! and given its booking's id once the upstream answers. A retry of an
//! attempt with a booking replays that booking; a retry of an attempt whose
//! outcome is unknown (the answer was lost) first looks for the booking the
//! lost request may have made, and sends again only when there is none.
//!
//! Invariants: an attempt is remembered for [`KEEP_FOR`], longer than any
//! hold lives, so a retry within a hold's life always finds it; the memory
//! holds ids, e-mail addresses and times only, never a token; it is
//! in-process: one gateway instance answers one session's retries (several
//! instances behind a load balancer need sticky sessions for this until the
//! memory moves to a shared store).

use std::collections::HashMap;
use std::sync::Mutex;

use booking_core::api::{BookingDetail, HeldEvent, PayOption};
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

/// The attempts of the last [`KEEP_FOR`], and the events of the holds
/// this gateway granted in that time.
#[derive(Debug, Default)]
pub struct Attempts {
    entries: Mutex<HashMap<String, Attempt>>,
    holds: Mutex<HashMap<String, (HeldEvent, DateTime<Utc>)>>,
}

impl Attempts {
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

    /// Remembers the event of a hold this gateway granted.
    pub fn held(&self, hold_hash: &str, event: HeldEvent, now: DateTime<Utc>) {
        lock(&self.holds).insert(hold_hash.to_owned(), (event, now));
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
        let attempts = Attempts::default();
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
        let attempts = Attempts::default();
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

    #[test]
    fn a_hold_granted_here_pins_the_lost_booking_to_its_event() {
        let attempts = Attempts::default();
        let leeds = HeldEvent {
            id: 41,
            course: "M&H".into(),
            location: "Leeds".into(),
            start_date: DateTime::parse_from_rfc3339("2026-12-08T09:30:00+00:00").unwrap(),
        };
        attempts.held("hash", leeds.clone(), at(0));
        attempts.begin("k", "hash", "priya@example.com", &PayOption::Credits, at(1));
        let attempt = attempts
            .begin("k", "hash", "priya@example.com", &PayOption::Credits, at(2))
            .unwrap();
        assert_eq!(attempt.event, Some(leeds));
        let mut on_the_event = booking("priya@example.com", PayOption::Credits, at(1));
        assert!(attempt.made(&on_the_event));
        on_the_event.location.name = "York".into();
        assert!(!attempt.made(&on_the_event), "another event's booking");
    }
}
