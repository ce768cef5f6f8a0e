//! `/healthz` and `/readyz`, for a load balancer or an orchestrator.
//!
//! `/healthz` answers 200 `{"status":"ok"}` whenever the process serves;
//! it asks nothing of anyone. `/readyz` answers 200 `{"status":"ready"}`
//! when the gateway can book, and otherwise 503 naming each failing check
//! in plain words (`failing`, and all of them in `message`, with the
//! `request_id` every error body carries). Ready means:
//! - each configured product's upstream token is valid: a cached one, or
//!   the token exchange succeeds;
//! - the store is reachable: the shared store (Redis) answers a `PING`; the
//!   in-process memory always is;
//! - each product's upstream answered a call with a 2xx within
//!   [`FRESH_FOR`]: the gateway's own traffic counts, the token's included;
//!   when there was none, `/readyz` probes with one cheap read through the
//!   normal upstream client (in the call budget like any call).
//!
//! Invariants: a product is probed (its token exchanged, its read sent) at
//! most once per [`FRESH_FOR`] however often `/readyz` is asked; within it,
//! the last probe's outcome is the answer (concurrent requests wait for
//! the probe under way). Both routes are outside `/api`: no session, no
//! origin check, no per-client rate limit, and `Cache-Control: no-store`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use booking_core::product::Product;
use serde::Serialize;
use tokio::time::Instant;

use super::errors::GatewayError;
use super::product::{Probe, ProductUpstream};
use super::request_id::error_body;
use super::upstream::{Call, On429};
use super::AppState;

/// The liveness path.
pub const HEALTHZ: &str = "/healthz";

/// The readiness path.
pub const READYZ: &str = "/readyz";

/// How recent an upstream answer must be for the upstream to count as up,
/// and how often a product may be probed at most.
pub const FRESH_FOR: Duration = Duration::from_secs(60);

/// The problem of a probe that was dropped before it finished (the
/// request that ran it went away).
const UNFINISHED: &str = "the last check of the upstream did not finish";

/// `{"status":"ok"}`: the process serves.
#[derive(Debug, Serialize)]
struct Live {
    status: &'static str,
}

/// The readiness answer.
#[derive(Debug, Serialize)]
struct Readiness {
    /// `ready` or `unavailable`.
    status: &'static str,
    /// What fails, in one sentence (only when something does).
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    /// Each failing check.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    failing: Vec<Failing>,
}

/// One failing check.
#[derive(Debug, Serialize)]
struct Failing {
    /// `store` or `upstream`.
    check: &'static str,
    /// The product, for an upstream.
    #[serde(skip_serializing_if = "Option::is_none")]
    product: Option<&'static str>,
    /// What is wrong, in plain words.
    problem: String,
}

/// `GET /healthz`.
pub async fn healthz() -> Response {
    Json(Live { status: "ok" }).into_response()
}

/// `GET /readyz`.
pub async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let now = state.clock.now();
    let store = async {
        state.memory.ping().await.err().map(|error| {
            tracing::warn!(%error, "readiness: the shared store does not answer");
            Failing {
                check: "store",
                product: None,
                problem: "the shared store (Redis) does not answer".to_owned(),
            }
        })
    };
    let upstreams = async {
        let mut failing = Vec::new();
        for product in &state.products {
            if let Err(problem) = product_ready(product, now).await {
                tracing::warn!(product = %product.product, %problem, "readiness: upstream");
                failing.push(Failing {
                    check: "upstream",
                    product: Some(product.product.as_str()),
                    problem: format!("{}'s upstream: {problem}", name(product.product)),
                });
            }
        }
        failing
    };
    let (store, mut failing) = tokio::join!(store, upstreams);
    failing.extend(store);
    if failing.is_empty() {
        return Json(Readiness {
            status: "ready",
            message: None,
            failing,
        })
        .into_response();
    }
    let problems: Vec<&str> = failing.iter().map(|check| check.problem.as_str()).collect();
    let readiness = Readiness {
        status: "unavailable",
        message: Some(format!("Not ready: {}.", problems.join("; "))),
        failing,
    };
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(error_body(&readiness)),
    )
        .into_response()
}

/// Whether one product's upstream is ready at `now`: answered lately with
/// a valid token, or else its probe (at most one per [`FRESH_FOR`]) says so.
async fn product_ready(product: &ProductUpstream, now: Instant) -> Result<(), String> {
    let upstream = &product.upstream;
    if !upstream.has_credentials() {
        return Err("no API credentials are configured".to_owned());
    }
    let fresh = |at: Instant| now.saturating_duration_since(at) < FRESH_FOR;
    let mut last = product.last_probe.0.lock().await;
    if upstream.holds_token().await && upstream.last_answered().is_some_and(fresh) {
        return Ok(());
    }
    if let Some(probe) = last.as_ref().filter(|probe| fresh(probe.at)) {
        return probe.outcome.clone();
    }
    *last = Some(Probe {
        at: now,
        outcome: Err(UNFINISHED.to_owned()),
    });
    let outcome = probe(product, fresh).await;
    *last = Some(Probe {
        at: now,
        outcome: outcome.clone(),
    });
    outcome
}

/// Makes sure of the token, then, unless that exchange was an answer
/// within [`FRESH_FOR`], reads one course.
async fn probe(product: &ProductUpstream, fresh: impl Fn(Instant) -> bool) -> Result<(), String> {
    let upstream = &product.upstream;
    upstream
        .ensure_token()
        .await
        .map_err(|error| problem(&error))?;
    if upstream.last_answered().is_some_and(fresh) {
        return Ok(());
    }
    let call = Call::get("/courses", "/courses")
        .query("page", 1)
        .query("per_page", 1);
    let reply = upstream
        .send(&call, On429::Fail)
        .await
        .map_err(|error| problem(&error))?;
    if reply.status.is_success() {
        Ok(())
    } else {
        Err(format!("it answered {} to a read", reply.status.as_u16()))
    }
}

/// The product's name in a readiness answer.
fn name(product: Product) -> &'static str {
    match product {
        Product::Practical => "Practical Training",
        Product::VirtualBls => "Virtual BLS",
    }
}

/// What an upstream failure means, in plain words.
fn problem(error: &GatewayError) -> String {
    match error {
        GatewayError::UpstreamAuth => "it refused the API credentials",
        GatewayError::NotConfigured => "no API credentials are configured",
        GatewayError::Unreachable => "it is not reachable",
        GatewayError::Timeout => "it did not answer in time",
        GatewayError::UpstreamBusy { .. }
        | GatewayError::Queued(_)
        | GatewayError::TooManyRequests { .. } => {
            "its rate limit leaves no room to check it right now"
        }
        _ => "it answered with an error",
    }
    .to_owned()
}
