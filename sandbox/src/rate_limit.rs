//! The upstream's throttle: N requests a minute per client IP on `/api/v1`.
//!
//! Invariants: a fixed 60-second window per IP (shorter in tests that set
//! `SandboxConfig::rate_window`) starts at its first request (on the sandbox
//! clock); within it at most `limit` requests pass; the rest
//! answer 429 `{ "message": "Too Many Attempts." }` with `Retry-After` (whole
//! seconds until the window ends, at least 1). Every response carries
//! `X-RateLimit-Limit` and `X-RateLimit-Remaining`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::errors::message;
use super::AppState;

/// Above this many tracked IPs, finished windows are dropped.
const PRUNE_AT: usize = 10_000;

/// One IP's current window.
#[derive(Debug, Clone, Copy)]
struct Window {
    started_ms: i64,
    count: u32,
}

/// What the limiter decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Let it through; this many more fit in the window.
    Allowed {
        /// Requests left in the window.
        remaining: u32,
    },
    /// Refuse it; the window ends in this many seconds.
    Limited {
        /// Seconds until the window ends.
        retry_after: u64,
    },
}

/// Counts requests per IP in fixed windows.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: u32,
    window_ms: i64,
    windows: Mutex<HashMap<IpAddr, Window>>,
}

impl RateLimiter {
    /// A limiter allowing `limit` requests per `window` and IP.
    pub(crate) fn new(limit: u32, window: Duration) -> RateLimiter {
        RateLimiter {
            limit,
            window_ms: i64::try_from(window.as_millis()).unwrap_or(i64::MAX).max(1),
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// The configured limit.
    pub(crate) fn limit(&self) -> u32 {
        self.limit
    }

    /// Counts one request from `ip` at `now_ms`.
    pub(crate) fn check(&self, ip: IpAddr, now_ms: i64) -> Decision {
        // The map holds plain counters, so a panic elsewhere cannot leave it
        // inconsistent: recover it rather than fail every request.
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() > PRUNE_AT {
            windows.retain(|_, window| now_ms - window.started_ms < self.window_ms);
        }
        let window = windows.entry(ip).or_insert(Window {
            started_ms: now_ms,
            count: 0,
        });
        if now_ms - window.started_ms >= self.window_ms {
            *window = Window {
                started_ms: now_ms,
                count: 0,
            };
        }
        if window.count >= self.limit {
            let left_ms = (window.started_ms + self.window_ms - now_ms).max(1);
            let retry_after = u64::try_from((left_ms + 999) / 1000).unwrap_or(1).max(1);
            return Decision::Limited { retry_after };
        }
        window.count += 1;
        Decision::Allowed {
            remaining: self.limit - window.count,
        }
    }
}

/// Sets the rate-limit headers.
fn set_headers(headers: &mut HeaderMap, limit: u32, remaining: u32) {
    headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
}

/// Middleware applying the limiter to every request it wraps.
pub(crate) async fn middleware(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
    let limit = state.limiter.limit();
    match state.limiter.check(ip, state.clock.now_ms()) {
        Decision::Allowed { remaining } => {
            let mut response = next.run(request).await;
            set_headers(response.headers_mut(), limit, remaining);
            response
        }
        Decision::Limited { retry_after } => {
            let mut response = message(StatusCode::TOO_MANY_REQUESTS, "Too Many Attempts.");
            set_headers(response.headers_mut(), limit, 0);
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from(retry_after));
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    const MINUTE: Duration = Duration::from_secs(60);
    const WINDOW_MS: i64 = 60_000;

    #[test]
    fn allows_the_limit_then_refuses_until_the_window_ends() {
        let limiter = RateLimiter::new(3, MINUTE);
        assert_eq!(limiter.check(A, 0), Decision::Allowed { remaining: 2 });
        assert_eq!(limiter.check(A, 10), Decision::Allowed { remaining: 1 });
        assert_eq!(limiter.check(A, 20), Decision::Allowed { remaining: 0 });
        assert_eq!(
            limiter.check(A, 30_500),
            Decision::Limited { retry_after: 30 }
        );
        assert_eq!(
            limiter.check(A, 59_999),
            Decision::Limited { retry_after: 1 }
        );
        assert_eq!(limiter.check(A, 60_000), Decision::Allowed { remaining: 2 });
    }

    #[test]
    fn a_shorter_window_ends_sooner() {
        let limiter = RateLimiter::new(1, Duration::from_secs(2));
        assert_eq!(limiter.check(A, 0), Decision::Allowed { remaining: 0 });
        assert_eq!(
            limiter.check(A, 1_999),
            Decision::Limited { retry_after: 1 }
        );
        assert_eq!(limiter.check(A, 2_000), Decision::Allowed { remaining: 0 });
    }

    #[test]
    fn counts_each_ip_separately() {
        let limiter = RateLimiter::new(1, MINUTE);
        assert_eq!(limiter.check(A, 0), Decision::Allowed { remaining: 0 });
        assert_eq!(limiter.check(B, 0), Decision::Allowed { remaining: 0 });
        assert!(matches!(limiter.check(A, 1), Decision::Limited { .. }));
    }

    #[test]
    fn prunes_finished_windows() {
        let limiter = RateLimiter::new(5, MINUTE);
        for n in 0..=PRUNE_AT as u32 {
            limiter.check(IpAddr::V4(Ipv4Addr::from(n)), 0);
        }
        limiter.check(A, WINDOW_MS + 1);
        let tracked = limiter.windows.lock().unwrap().len();
        assert_eq!(tracked, 1);
    }
}
