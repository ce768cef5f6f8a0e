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
//! Invariants: errors are never cached; a stale copy is served only when the
//! upstream is the problem, never for a 404 or a 422.

use std::future::Future;
use std::time::Duration;

use axum::body::Bytes;
use moka::future::Cache;

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

/// The read cache.
pub struct ReadCache {
    catalogue: Cache<String, Bytes>,
    events: Cache<String, Bytes>,
    last_good: Cache<String, Bytes>,
    max_retry_wait: Duration,
}

impl ReadCache {
    /// A cache with these lifetimes; a 429 with no stale copy is waited out
    /// when `Retry-After` is at most `max_retry_wait`.
    pub fn new(ttls: CacheTtls, max_retry_wait: Duration) -> ReadCache {
        let build = |ttl: Duration| {
            Cache::builder()
                .max_capacity(MAX_KEYS)
                .time_to_live(ttl.max(Duration::from_millis(1)))
                .build()
        };
        ReadCache {
            catalogue: build(ttls.catalogue),
            events: build(ttls.events),
            last_good: build(LAST_GOOD_TTL),
            max_retry_wait,
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
        loop {
            let loaded = cache
                .try_get_with(key.clone(), async {
                    let bytes = load().await?;
                    self.last_good.insert(key.clone(), bytes.clone()).await;
                    Ok::<_, GatewayError>(bytes)
                })
                .await;
            let error = match loaded {
                Ok(bytes) => return Ok(bytes),
                Err(error) => GatewayError::clone(&error),
            };
            if error.is_upstream_trouble() {
                if let Some(stale) = self.last_good.get(&key).await {
                    tracing::warn!(cache = %cache_label(&key), "upstream trouble: answering from the last good copy");
                    return Ok(stale);
                }
            }
            match error {
                GatewayError::UpstreamBusy { retry_after }
                    if !waited && Duration::from_secs(retry_after) <= self.max_retry_wait =>
                {
                    waited = true;
                    tokio::time::sleep(Duration::from_secs(retry_after)).await;
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

    fn cache() -> ReadCache {
        ReadCache::new(
            CacheTtls {
                catalogue: Duration::from_secs(60),
                events: Duration::from_millis(50),
            },
            Duration::from_secs(1),
        )
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
        let cache = cache();
        let first = cache
            .get(Freshness::Events, "/training-events".into(), || async {
                Ok(Bytes::from_static(b"[1]"))
            })
            .await;
        assert_eq!(first.unwrap(), Bytes::from_static(b"[1]"));
        tokio::time::sleep(Duration::from_millis(120)).await;
        let stale = cache
            .get(Freshness::Events, "/training-events".into(), || async {
                Err(GatewayError::UpstreamBusy { retry_after: 30 })
            })
            .await;
        assert_eq!(stale.unwrap(), Bytes::from_static(b"[1]"));
    }

    #[tokio::test]
    async fn not_found_is_not_answered_from_stale_copies_nor_cached() {
        let cache = cache();
        cache
            .get(Freshness::Events, "/training-events/1".into(), || async {
                Ok(Bytes::from_static(b"{}"))
            })
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(120)).await;
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
        let cache = cache();
        let calls = AtomicUsize::new(0);
        let answer = cache
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
            .await;
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
