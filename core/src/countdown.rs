//! The seat hold countdown: time left, warnings and their texts.
//!
//! The hold is server-authoritative: the countdown starts from the
//! `expires_in_seconds` the API returned and a monotonic clock reading taken
//! when the response arrived (`performance.now()` in milliseconds), never
//! from `expires_at` against the device's wall clock, which may be wrong.
//!
//! Invariants:
//! * Remaining time never goes up as the clock moves forward, and never
//!   goes below zero; a clock reading that is not a finite number counts as
//!   "expired" (the safe side).
//! * Displayed seconds round up, so "0:00" is never shown while time is
//!   left; displayed minutes round down, so the banner never promises more
//!   time than there is.
//! * [`HoldCountdown::warning_between`] reports each threshold at most once
//!   over any sequence of increasing readings, and never a threshold the
//!   hold was already past when it started (an adopted hold with 4 minutes
//!   left gets the 1-minute warning, not a stale 10-minute one).

use chrono::Duration;

/// Warning thresholds in seconds left, most distant first.
pub const WARNING_THRESHOLDS_SECONDS: [i64; 3] = [600, 300, 60];

/// "Keep my seat" is offered when this many seconds or fewer are left
/// (WCAG 2.2.1 asks for a warning and at least 20 seconds to extend).
pub const EXTEND_WINDOW_SECONDS: i64 = 60;

/// A live hold's countdown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HoldCountdown {
    expires_in_seconds: i64,
    received_at_ms: f64,
}

/// A threshold crossed by the countdown, announced once in the `aria-live`
/// region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HoldWarning {
    /// 10 minutes left.
    TenMinutes,
    /// 5 minutes left.
    FiveMinutes,
    /// 1 minute left: "Keep my seat" becomes available.
    OneMinute,
    /// The hold has lapsed.
    Expired,
}

impl HoldWarning {
    /// Whole minutes left at this threshold (0 for expiry).
    pub fn minutes_left(self) -> u32 {
        match self {
            HoldWarning::TenMinutes => 10,
            HoldWarning::FiveMinutes => 5,
            HoldWarning::OneMinute => 1,
            HoldWarning::Expired => 0,
        }
    }

    /// The sentence for the `aria-live="polite"` region.
    pub fn announcement(self) -> &'static str {
        match self {
            HoldWarning::TenMinutes => "10 minutes left to complete your booking",
            HoldWarning::FiveMinutes => "5 minutes left to complete your booking",
            HoldWarning::OneMinute => {
                "1 minute left to complete your booking. Select Keep my seat for more time"
            }
            HoldWarning::Expired => {
                "Your seat is no longer held. Your details are kept: you can hold the seat again"
            }
        }
    }

    fn threshold_ms(self) -> f64 {
        let seconds = match self {
            HoldWarning::TenMinutes => WARNING_THRESHOLDS_SECONDS[0],
            HoldWarning::FiveMinutes => WARNING_THRESHOLDS_SECONDS[1],
            HoldWarning::OneMinute => WARNING_THRESHOLDS_SECONDS[2],
            HoldWarning::Expired => 0,
        };
        seconds as f64 * 1000.0
    }
}

impl HoldCountdown {
    /// Starts counting from the API's `expires_in_seconds` (negative values
    /// count as zero) at the monotonic reading `received_at_ms`.
    pub fn start(expires_in_seconds: i64, received_at_ms: f64) -> HoldCountdown {
        HoldCountdown {
            expires_in_seconds: expires_in_seconds.max(0),
            received_at_ms,
        }
    }

    /// The seconds the hold had left when it was received.
    pub fn expires_in_seconds(&self) -> i64 {
        self.expires_in_seconds
    }

    /// Milliseconds left at the reading `now_ms`, never negative.
    pub fn remaining_ms(&self, now_ms: f64) -> f64 {
        if !now_ms.is_finite() || !self.received_at_ms.is_finite() {
            return 0.0;
        }
        let total = self.expires_in_seconds as f64 * 1000.0;
        let elapsed = (now_ms - self.received_at_ms).max(0.0);
        let left = total - elapsed;
        if left.is_finite() && left > 0.0 {
            left
        } else {
            0.0
        }
    }

    /// Time left, to the millisecond, never negative.
    pub fn remaining(&self, now_ms: f64) -> Duration {
        Duration::milliseconds(self.remaining_ms(now_ms) as i64)
    }

    /// Whole seconds left, rounded up (0 only once expired).
    pub fn remaining_seconds(&self, now_ms: f64) -> i64 {
        (self.remaining_ms(now_ms) / 1000.0).ceil() as i64
    }

    /// Whether the hold has lapsed.
    pub fn is_expired(&self, now_ms: f64) -> bool {
        self.remaining_ms(now_ms) <= 0.0
    }

    /// Whether "Keep my seat" may be offered: within the final minute and
    /// not yet expired.
    pub fn can_extend(&self, now_ms: f64) -> bool {
        let left = self.remaining_ms(now_ms);
        left > 0.0 && left <= (EXTEND_WINDOW_SECONDS * 1000) as f64
    }

    /// The threshold crossed between two readings, if any. When several are
    /// crossed at once (a tab asleep in the background), only the most
    /// urgent is reported.
    pub fn warning_between(&self, prev_ms: f64, now_ms: f64) -> Option<HoldWarning> {
        let (before, after) = (self.remaining_ms(prev_ms), self.remaining_ms(now_ms));
        [
            HoldWarning::Expired,
            HoldWarning::OneMinute,
            HoldWarning::FiveMinutes,
            HoldWarning::TenMinutes,
        ]
        .into_iter()
        .find(|warning| {
            let threshold = warning.threshold_ms();
            before > threshold && after <= threshold
        })
    }

    /// The persistent banner: "Seat held for 27 minutes" (minutes rounded
    /// down, from one minute up), "Seat held: 0:45 left" in the final minute,
    /// "Seat no longer held" once expired.
    pub fn visible_text(&self, now_ms: f64) -> String {
        let seconds = self.remaining_seconds(now_ms);
        let minutes = (self.remaining_ms(now_ms) / 60_000.0).floor() as i64;
        match (seconds, minutes) {
            (0, _) => "Seat no longer held".to_owned(),
            (1..=59, _) => format!("Seat held: 0:{seconds:02} left"),
            (_, 0 | 1) => "Seat held for 1 minute".to_owned(),
            (_, minutes) => format!("Seat held for {minutes} minutes"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: f64 = 12_345.5;

    fn at(seconds_elapsed: f64) -> f64 {
        START + seconds_elapsed * 1000.0
    }

    #[test]
    fn remaining_time_counts_down_from_the_server_value() {
        let hold = HoldCountdown::start(1800, START);
        assert_eq!(hold.remaining_seconds(START), 1800);
        assert_eq!(hold.remaining(at(0.25)), Duration::milliseconds(1_799_750));
        assert_eq!(hold.remaining_seconds(at(0.2)), 1800);
        assert_eq!(hold.remaining_seconds(at(1.0)), 1799);
        assert_eq!(hold.remaining_seconds(at(1799.9)), 1);
        assert_eq!(hold.remaining_seconds(at(1800.0)), 0);
        assert!(!hold.is_expired(at(1799.999)));
        assert!(hold.is_expired(at(1800.0)));
        assert!(hold.is_expired(at(5000.0)));
        // A reading before the start (clock reset) does not add time.
        assert_eq!(hold.remaining_seconds(START - 60_000.0), 1800);
        // Nonsense readings count as expired.
        assert!(hold.is_expired(f64::NAN));
        assert!(hold.is_expired(f64::INFINITY));
        assert!(HoldCountdown::start(-5, START).is_expired(START));
    }

    #[test]
    fn extending_is_offered_only_in_the_final_minute() {
        let hold = HoldCountdown::start(1800, START);
        let table = [
            (0.0, false),
            (1739.0, false),
            (1740.0, true),
            (1799.0, true),
            (1800.0, false),
        ];
        for (elapsed, expected) in table {
            assert_eq!(hold.can_extend(at(elapsed)), expected, "{elapsed}");
        }
    }

    #[test]
    fn each_threshold_is_reported_once_when_ticking_every_second() {
        let hold = HoldCountdown::start(1800, START);
        let mut seen = Vec::new();
        for second in 1..=1900 {
            let (prev, now) = (at(f64::from(second - 1)), at(f64::from(second)));
            if let Some(warning) = hold.warning_between(prev, now) {
                seen.push((second, warning));
            }
        }
        assert_eq!(
            seen,
            vec![
                (1200, HoldWarning::TenMinutes),
                (1500, HoldWarning::FiveMinutes),
                (1740, HoldWarning::OneMinute),
                (1800, HoldWarning::Expired),
            ]
        );
    }

    #[test]
    fn a_long_sleep_reports_only_the_most_urgent_threshold() {
        let hold = HoldCountdown::start(1800, START);
        assert_eq!(
            hold.warning_between(at(60.0), at(1600.0)),
            Some(HoldWarning::FiveMinutes)
        );
        assert_eq!(
            hold.warning_between(at(60.0), at(4000.0)),
            Some(HoldWarning::Expired)
        );
        assert_eq!(hold.warning_between(at(1600.0), at(1601.0)), None);
    }

    #[test]
    fn an_adopted_short_hold_skips_passed_thresholds() {
        let hold = HoldCountdown::start(240, START);
        assert_eq!(hold.warning_between(START, at(1.0)), None);
        assert_eq!(
            hold.warning_between(at(179.0), at(180.0)),
            Some(HoldWarning::OneMinute)
        );
    }

    #[test]
    fn banner_texts() {
        let hold = HoldCountdown::start(1800, START);
        let table = [
            (0.0, "Seat held for 30 minutes"),
            (180.5, "Seat held for 26 minutes"),
            (1679.0, "Seat held for 2 minutes"),
            (1681.0, "Seat held for 1 minute"),
            (1740.0, "Seat held for 1 minute"),
            (1680.5, "Seat held for 1 minute"),
            (1740.5, "Seat held for 1 minute"),
            (1741.0, "Seat held: 0:59 left"),
            (1755.0, "Seat held: 0:45 left"),
            (1799.5, "Seat held: 0:01 left"),
            (1800.0, "Seat no longer held"),
        ];
        for (elapsed, text) in table {
            assert_eq!(hold.visible_text(at(elapsed)), text, "{elapsed}");
        }
    }

    #[test]
    fn announcements() {
        assert_eq!(
            HoldWarning::TenMinutes.announcement(),
            "10 minutes left to complete your booking"
        );
        assert!(HoldWarning::OneMinute
            .announcement()
            .contains("Keep my seat"));
        assert_eq!(HoldWarning::FiveMinutes.minutes_left(), 5);
        assert_eq!(HoldWarning::Expired.minutes_left(), 0);
    }
}
