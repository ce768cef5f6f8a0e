//! The gateway's clock: the one source of "now" for the rate budget's
//! window and queue, the read cache's freshness, the upstream token's
//! lifetime, the in-process memory of holds and booking attempts, session
//! ages, and the grace a released page's hold waits out.
//!
//! Invariants:
//! - A deployed gateway runs on the system clock ([`Clock::system`], the
//!   default); no setting of the TOML file, the environment or the command
//!   line chooses another.
//! - A manual clock exists only in test builds (the `test-clock` feature,
//!   which only the gateway's own tests enable): it stands still until a
//!   test advances it, never runs backwards, and wakes whatever sleeps on it
//!   once it passes the sleeper's deadline.
//! - Real time stays real where it must: socket and request timeouts, the
//!   shared store's (Redis) expiries and locks, the per-client request
//!   limiter and pauses after I/O failures do not read this clock. A
//!   gateway with a shared store must run on the system clock (its
//!   configuration is refused otherwise), so that the times it hands the
//!   store and the store's own expiries agree.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

/// Where the gateway reads the time.
#[derive(Clone, Default)]
pub struct Clock {
    #[cfg(any(test, feature = "test-clock"))]
    manual: Option<ManualClock>,
}

impl Clock {
    /// The system clock: real time.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// The current instant, for durations (windows, lifetimes).
    pub fn now(&self) -> Instant {
        #[cfg(any(test, feature = "test-clock"))]
        if let Some(manual) = &self.manual {
            return manual.now();
        }
        Instant::now()
    }

    /// The current UTC time, for times kept as dates (holds, attempts,
    /// sessions).
    pub fn utc(&self) -> DateTime<Utc> {
        #[cfg(any(test, feature = "test-clock"))]
        if let Some(manual) = &self.manual {
            return manual.utc();
        }
        Utc::now()
    }

    /// Waits until this clock has moved on by `wait`.
    pub async fn sleep(&self, wait: Duration) {
        self.sleep_until(self.now() + wait).await;
    }

    /// Waits until this clock reaches `deadline` (an instant it gave).
    pub async fn sleep_until(&self, deadline: Instant) {
        #[cfg(any(test, feature = "test-clock"))]
        if let Some(manual) = &self.manual {
            return manual.sleep_until(deadline).await;
        }
        tokio::time::sleep_until(deadline).await;
    }

    /// Whether it is the system clock (as every deployed gateway's is).
    pub fn is_system(&self) -> bool {
        #[cfg(any(test, feature = "test-clock"))]
        if self.manual.is_some() {
            return false;
        }
        true
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        #[cfg(any(test, feature = "test-clock"))]
        if let Some(manual) = &self.manual {
            return write!(formatter, "Clock(manual, +{:?})", manual.advanced());
        }
        formatter.write_str("Clock(system)")
    }
}

#[cfg(any(test, feature = "test-clock"))]
pub use manual::ManualClock;

#[cfg(any(test, feature = "test-clock"))]
mod manual {
    use std::sync::Arc;
    use std::time::Duration;

    use chrono::{DateTime, Utc};
    use tokio::sync::watch;
    use tokio::time::Instant;

    use super::Clock;

    /// A clock that moves only when told: tests advance it instead of
    /// sleeping. Clones share one time.
    #[derive(Clone)]
    pub struct ManualClock(Arc<Shared>);

    struct Shared {
        started: Instant,
        started_utc: DateTime<Utc>,
        advanced: watch::Sender<Duration>,
    }

    impl Clock {
        /// A manual clock, starting at the current real time: give
        /// [`ManualClock::clock`] to the gateway and advance the handle.
        pub fn manual() -> ManualClock {
            ManualClock(Arc::new(Shared {
                started: Instant::now(),
                started_utc: Utc::now(),
                advanced: watch::Sender::new(Duration::ZERO),
            }))
        }
    }

    impl ManualClock {
        /// The gateway clock that reads this one.
        pub fn clock(&self) -> Clock {
            Clock {
                manual: Some(self.clone()),
            }
        }

        /// Moves the clock forward by `by`, waking every sleeper whose
        /// deadline it passes.
        pub fn advance(&self, by: Duration) {
            self.0.advanced.send_modify(|advanced| *advanced += by);
        }

        /// How far it has been advanced since it was made.
        pub fn advanced(&self) -> Duration {
            *self.0.advanced.borrow()
        }

        /// Its current instant.
        pub fn now(&self) -> Instant {
            self.0.started + self.advanced()
        }

        /// Its current UTC time.
        pub fn utc(&self) -> DateTime<Utc> {
            let advanced =
                chrono::Duration::from_std(self.advanced()).unwrap_or(chrono::Duration::MAX);
            self.0.started_utc + advanced
        }

        /// Waits until the clock reaches `deadline`.
        pub(super) async fn sleep_until(&self, deadline: Instant) {
            let mut moved = self.0.advanced.subscribe();
            while self.now() < deadline {
                // The sender lives as long as `self`: `changed` cannot fail.
                if moved.changed().await.is_err() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_clock_is_the_system_clock() {
        let clock = Clock::default();
        assert!(clock.is_system());
        let before = Utc::now();
        assert!(clock.utc() >= before);
    }

    #[tokio::test]
    async fn a_manual_clock_stands_still_until_advanced_and_wakes_its_sleepers() {
        let manual = Clock::manual();
        let clock = manual.clock();
        let (at, utc) = (clock.now(), clock.utc());
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!((clock.now(), clock.utc()), (at, utc), "it stands still");
        let sleeper = {
            let clock = clock.clone();
            tokio::spawn(async move { clock.sleep(Duration::from_secs(60)).await })
        };
        tokio::task::yield_now().await;
        manual.advance(Duration::from_secs(59));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished(), "woken before its deadline");
        manual.advance(Duration::from_secs(1));
        tokio::time::timeout(Duration::from_secs(5), sleeper)
            .await
            .expect("woken once the clock passes its deadline")
            .unwrap();
        assert_eq!(clock.now(), at + Duration::from_secs(60));
        assert_eq!(clock.utc(), utc + chrono::Duration::seconds(60));
    }
}
