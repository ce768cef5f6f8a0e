//! The sandbox's clock: real UTC time plus an offset.
//!
//! Invariant: every part of the sandbox (holds, tokens, the rate limiter,
//! "upcoming" events) reads time from this one clock, and the offset only
//! grows, so time never runs backwards. The offset can be moved only when the
//! sandbox runs in test mode (`--test-clock`).

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

/// Real time shifted by an adjustable offset.
#[derive(Debug)]
pub(crate) struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    /// A clock that starts at real time, or at `start` when given.
    pub(crate) fn new(start: Option<DateTime<Utc>>) -> Clock {
        let offset_ms = start.map_or(0, |start| (start - Utc::now()).num_milliseconds());
        Clock {
            offset_ms: AtomicI64::new(offset_ms),
        }
    }

    /// The sandbox's current time.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.offset_ms.load(Ordering::SeqCst))
    }

    /// The sandbox's current time in whole Unix seconds, as stored in the
    /// database.
    pub(crate) fn now_secs(&self) -> i64 {
        self.now().timestamp()
    }

    /// The sandbox's current time in Unix milliseconds.
    pub(crate) fn now_ms(&self) -> i64 {
        self.now().timestamp_millis()
    }

    /// Moves the clock forward by `seconds` (never backwards).
    pub(crate) fn advance(&self, seconds: u32) {
        self.offset_ms
            .fetch_add(i64::from(seconds) * 1000, Ordering::SeqCst);
    }

    /// How far the clock runs ahead of real time, in whole seconds.
    pub(crate) fn offset_seconds(&self) -> i64 {
        self.offset_ms.load(Ordering::SeqCst) / 1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_now_forward() {
        let clock = Clock::new(None);
        let before = clock.now();
        clock.advance(3601);
        let after = clock.now();
        assert!(after - before >= Duration::seconds(3601));
        assert_eq!(clock.offset_seconds(), 3601);
    }

    #[test]
    fn a_start_time_fixes_the_initial_reading() {
        let start = DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let clock = Clock::new(Some(start));
        let drift = (clock.now() - start).num_seconds();
        assert!((0..5).contains(&drift), "drift {drift}");
    }
}
