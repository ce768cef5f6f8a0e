//! Cached, coalesced reads of the upstream catalogue.
//!
//! Every candidate's traffic leaves from the gateway, and the upstream allows
//! 60 requests a minute per client IP, so reads are shared:
//!
//! * answers are cached by key (the upstream path plus its normalised query)
//!   as the JSON bytes the widget gets: catalogue reads (courses, the account
//!   profile) for minutes, training events for seconds;
//! * concurrent requests for the same key share one upstream call (moka's
//!   `try_get_with` runs one loader per key and hands its result to every
//!   waiter);
//! * each answer is also kept as the key's "last good" copy for an hour:
//!   when the upstream is rate limiting, down or failing, a read is answered
//!   from that copy rather than with an error; with no copy, a 429 is waited
//!   out once (bounded) and retried, still coalesced.
//!
//! Invariants: freshness is read on the gateway's clock; errors are never
//! cached; a stale copy is served only when the
//! upstream is the problem, never for a 404 or a 422.

use std::future::Future;
use std::time::Duration;

use axum::body::Bytes;
use moka::future::Cache;
use moka::ops::compute::Op;
use tokio::time::Instant;

use super::clock::Clock;
use super::errors::GatewayError;

/// How fresh a kind of read must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Courses, the account profile: minutes.
    Catalogue,
    /// Training events, whose seats change: seconds.
    Events,
}

/// Lifetimes of cached reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheTtls {
    /// For [`Freshness::Catalogue`].
    pub catalogue: Duration,
    /// For [`Freshness::Events`].
    pub events: Duration,
}

/// How long a last-good copy is kept to stand in for a failing upstream.
const LAST_GOOD_TTL: Duration = Duration::from_secs(60 * 60);

/// Most keys kept per cache.
const MAX_KEYS: u64 = 10_000;

/// One cache of answers, each stamped with when it was loaded: an answer is
/// fresh for `ttl` on the gateway's clock.
struct Stamped {
    answers: Cache<String, (Instant, Bytes)>,
    ttl: Duration,
}

impl Stamped {
    /// Answers kept for `ttl`. On the system clock moka also drops them
    /// then, freeing their memory; on a manual clock only the stamps decide.
    fn new(ttl: Duration, clock: &Clock) -> Stamped {
        let ttl = ttl.max(Duration::from_millis(1));
        let builder = Cache::builder().max_capacity(MAX_KEYS);
        let answers = if clock.is_system() {
            builder.time_to_live(ttl).build()
        } else {
            builder.build()
        };
        Stamped { answers, ttl }
    }

    /// Whether an answer loaded `at` is still fresh at `now`.
    fn fresh(&self, at: Instant, now: Instant) -> bool {
        now < at + self.ttl
    }

    /// Drops the answer for `key` if it is still the one loaded `at` (a
    /// fresher one loaded meanwhile is kept).
    async fn drop_stale(&self, key: &str, at: Instant) {
        self.answers
            .entry(key.to_owned())
            .and_compute_with(|entry| async move {
                match entry {
                    Some(entry) if entry.value().0 == at => Op::Remove,
                    _ => Op::Nop,
                }
            })
            .await;
    }
}

/// The read cache.
pub struct ReadCache {
    catalogue: Stamped,
    events: Stamped,
    last_good: Stamped,
    max_retry_wait: Duration,
    clock: Clock,
}

impl ReadCache {
    /// A cache with these lifetimes on `clock`; a 429 with no stale copy is
    /// waited out when `Retry-After` is at most `max_retry_wait`.
    pub fn new(ttls: CacheTtls, max_retry_wait: Duration, clock: Clock) -> ReadCache {
        ReadCache {
            catalogue: Stamped::new(ttls.catalogue, &clock),
            events: Stamped::new(ttls.events, &clock),
            last_good: Stamped::new(LAST_GOOD_TTL, &clock),
            max_retry_wait,
            clock,
        }
    }

    /// The cached answer for `key`, or `load`'s, shared with every
    /// concurrent caller of the same key.
    pub async fn get<F, Fut>(
        &self,
        freshness: Freshness,
        key: String,
        load: F,
    ) -> Result<Bytes, GatewayError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Bytes, GatewayError>>,
    {
        let cache = match freshness {
            Freshness::Catalogue => &self.catalogue,
            Freshness::Events => &self.events,
        };
        let mut waited = false;
        let mut dropped_stale = false;
        loop {
            let loaded = cache
                .answers
                .try_get_with(key.clone(), async {
                    let bytes = load().await?;
                    let at = self.clock.now();
                    self.last_good
                        .answers
                        .insert(key.clone(), (at, bytes.clone()))
                        .await;
                    Ok::<_, GatewayError>((at, bytes))
                })
                .await;
            let error = match loaded {
                Ok((at, _)) if !dropped_stale && !cache.fresh(at, self.clock.now()) => {
                    dropped_stale = true;
                    cache.drop_stale(&key, at).await;
                    continue;
                }
                Ok((_, bytes)) => return Ok(bytes),
                Err(error) => GatewayError::clone(&error),
            };
            if error.is_upstream_trouble() {
                if let Some((at, stale)) = self.last_good.answers.get(&key).await {
                    if self.last_good.fresh(at, self.clock.now()) {
                        tracing::warn!(cache = %cache_label(&key), "upstream trouble: answering from the last good copy");
                        return Ok(stale);
                    }
                }
            }
            match error {
                GatewayError::UpstreamBusy { retry_after }
                    if !waited && Duration::from_secs(retry_after) <= self.max_retry_wait =>
                {
                    waited = true;
                    self.clock.sleep(Duration::from_secs(retry_after)).await;
                }
                error => return Err(error),
            }
        }
    }
}

/// The path part of a key, for logs (queries hold only ids, but keep logs
/// to route names).
fn cache_label(key: &str) -> &str {
    key.split('?').next().unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;
    use crate::clock::ManualClock;

    const TTLS: CacheTtls = CacheTtls {
        catalogue: Duration::from_secs(60),
        events: Duration::from_millis(50),
    };

    fn cache() -> ReadCache {
        ReadCache::new(TTLS, Duration::from_secs(1), Clock::system())
    }

    /// A cache on a manual clock, and the clock.
    fn cache_on_a_manual_clock() -> (ReadCache, ManualClock) {
        let manual = Clock::manual();
        let cache = ReadCache::new(TTLS, Duration::from_secs(1), manual.clock());
        (cache, manual)
    }

    #[tokio::test]
    async fn concurrent_reads_of_one_key_share_one_load() {
        let cache = Arc::new(cache());
        let loads = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (cache, loads) = (cache.clone(), loads.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get(Freshness::Catalogue, "/courses".into(), || {
                        let loads = loads.clone();
                        async move {
                            loads.fetch_add(1, Ordering::SeqCst);
                            // A slow load, so that the other reads arrive
                            // while it is under way: the wait is the point.
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            Ok(Bytes::from_static(b"[]"))
                        }
                    })
                    .await
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap(), Bytes::from_static(b"[]"));
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failing_upstream_is_answered_from_the_last_good_copy() {
        let (cache, clock) = cache_on_a_manual_clock();
        let first = cache
            .get(Freshness::Events, "/training-events".into(), || async {
                Ok(Bytes::from_static(b"[1]"))
            })
            .await;
        assert_eq!(first.unwrap(), Bytes::from_static(b"[1]"));
        clock.advance(TTLS.events);
        let asked = AtomicUsize::new(0);
        let stale = cache
            .get(Freshness::Events, "/training-events".into(), || {
                asked.fetch_add(1, Ordering::SeqCst);
                async { Err(GatewayError::UpstreamBusy { retry_after: 30 }) }
            })
            .await;
        assert_eq!(stale.unwrap(), Bytes::from_static(b"[1]"));
        assert_eq!(
            asked.load(Ordering::SeqCst),
            1,
            "the stale answer was not served as fresh"
        );
    }

    #[tokio::test]
    async fn not_found_is_not_answered_from_stale_copies_nor_cached() {
        let (cache, clock) = cache_on_a_manual_clock();
        cache
            .get(Freshness::Events, "/training-events/1".into(), || async {
                Ok(Bytes::from_static(b"{}"))
            })
            .await
            .unwrap();
        clock.advance(TTLS.events);
        let gone = cache
            .get(Freshness::Events, "/training-events/1".into(), || async {
                Err(GatewayError::NotFound("gone"))
            })
            .await;
        assert!(matches!(gone, Err(GatewayError::NotFound(_))));
        let back = cache
            .get(Freshness::Events, "/training-events/1".into(), || async {
                Ok(Bytes::from_static(b"{\"back\":1}"))
            })
            .await;
        assert_eq!(back.unwrap(), Bytes::from_static(b"{\"back\":1}"));
    }

    #[tokio::test]
    async fn a_rate_limit_without_a_copy_is_waited_out_once() {
        let (cache, clock) = cache_on_a_manual_clock();
        let calls = Arc::new(AtomicUsize::new(0));
        let reading = {
            let calls = calls.clone();
            tokio::spawn(async move {
                cache
                    .get(Freshness::Catalogue, "/locations".into(), || {
                        let attempt = calls.fetch_add(1, Ordering::SeqCst);
                        async move {
                            if attempt == 0 {
                                Err(GatewayError::UpstreamBusy { retry_after: 1 })
                            } else {
                                Ok(Bytes::from_static(b"[]"))
                            }
                        }
                    })
                    .await
            })
        };
        while calls.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        clock.advance(Duration::from_millis(999));
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "retried before Retry-After"
        );
        clock.advance(Duration::from_millis(1));
        let answer = reading.await.unwrap();
        assert_eq!(answer.unwrap(), Bytes::from_static(b"[]"));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_long_rate_limit_without_a_copy_is_an_error() {
        let cache = cache();
        let answer = cache
            .get(Freshness::Catalogue, "/locations".into(), || async {
                Err(GatewayError::UpstreamBusy { retry_after: 30 })
            })
            .await;
        assert!(matches!(
            answer,
            Err(GatewayError::UpstreamBusy { retry_after: 30 })
        ));
    }
}
