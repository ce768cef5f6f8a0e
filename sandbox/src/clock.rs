//! The sandbox's clock: real UTC time plus an offset.
//!
//! Invariant: every part of the sandbox (holds, tokens, the rate limiter,
//! "upcoming" events) reads time from this one clock, and the offset only
//! grows, so time never runs backwards. The offset can be moved only when the
//! sandbox runs in test mode (`--test-clock`).

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};

/// How far ahead of real time the clock may run: a century.
const MAX_OFFSET_MS: i64 = 100 * 366 * 24 * 3600 * 1000;

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

    /// Moves the clock forward by `seconds` (never backwards). Refuses, and
    /// returns `false`, once the clock would run more than a century ahead.
    pub(crate) fn advance(&self, seconds: u32) -> bool {
        let step = i64::from(seconds) * 1000;
        self.offset_ms
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |offset| {
                let next = offset + step;
                (next <= MAX_OFFSET_MS).then_some(next)
            })
            .is_ok()
    }

    /// How far the clock runs ahead of real time, in whole seconds.
    pub(crate) fn offset_seconds(&self) -> i64 {
        self.offset_ms.load(Ordering::SeqCst) / 1000
    }
}

/// Unix seconds, as the database stores times, to a UTC instant (clamped
/// into chrono's range).
pub(crate) fn from_unix(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// An instant with offset `+00:00`: how hold expiry, `created_at`, token
/// expiry and the test clock are sent.
pub(crate) fn utc_fixed(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    at.fixed_offset()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_now_forward() {
        let clock = Clock::new(None);
        let before = clock.now();
        assert!(clock.advance(3601));
        let after = clock.now();
        assert!(after - before >= Duration::seconds(3601));
        assert_eq!(clock.offset_seconds(), 3601);
    }

    #[test]
    fn the_clock_stops_a_century_ahead() {
        let clock = Clock::new(None);
        let year = 31_536_000;
        while clock.advance(year) {}
        assert!(clock.offset_seconds() > 99 * i64::from(year));
        assert!(!clock.advance(u32::MAX));
        assert!(clock.now() > Utc::now());
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
