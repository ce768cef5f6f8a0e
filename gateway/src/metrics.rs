//! Prometheus metrics of one gateway instance, served as `GET /metrics` on
//! the admin listener (`admin_listen`) only, never on the public one.
//!
//! Each instance has its own registry ([`Metrics`], held in `AppState`
//! and by each product's upstream client), so several gateways in one
//! process each count their own traffic. What is counted:
//! - `hbg_requests_total{route, status}`: every request to the public
//!   listener, by its route template (`other` when no route matched: the
//!   widget's files, unknown paths);
//! - `hbg_upstream_calls_total{product, endpoint, status}`: every HTTP
//!   exchange with an upstream, the token's included, by route template
//!   and status (`error` when no answer came back);
//! - `hbg_queue_length{product}` (set when scraped) and
//!   `hbg_queue_wait_seconds`: holds and bookings waiting for their turn
//!   under the upstream's rate limit, and each wait given to one;
//! - `hbg_live_holds` (set when scraped): the memory's count of sessions'
//!   live holds, in the process or in the shared store;
//! - `hbg_bookings_total{product, pay_option}`: bookings made, each once
//!   (a replay of a booking already made is not a new one);
//! - `hbg_lost_answers_reconciled_total{what}`: lost answers settled
//!   without sending twice (`booking`, `hold`, `cancel`);
//! - `hbg_contract_drift_total{product, endpoint}`: differences from the
//!   contract (`super::drift`) in the answers this instance read, each
//!   difference in each answer (the log says each one once per process).
//!
//! Invariants: label values come from closed sets (route templates, the
//! products, status codes, the known pay options), never from a request's
//! path, an id, a reference, a link, a token or an e-mail address.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use booking_core::api::PayOption;
use booking_core::product::Product;
use booking_http::json_errors::{json_errors, Wording};
use prometheus_client::encoding::{text, EncodeLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use super::drift::Endpoint;
use super::errors::{self, GatewayError};
use super::routes::AttemptOf;
use super::AppState;

/// The path metrics are scraped at, on the admin listener.
pub const METRICS_PATH: &str = "/metrics";

/// The content type of the OpenMetrics text the registry writes.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The route label of a request no route matched.
const OTHER_ROUTE: &str = "other";

/// The upper bounds of the queue wait histogram's buckets, in seconds: up
/// to the longest wait a queued request is given (`budget::MAX_QUEUE`).
const QUEUE_WAIT_BUCKETS: [f64; 9] = [1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 90.0, 120.0];

/// A lost answer settled without sending twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reconciled {
    /// A booking attempt's booking, found after its answer was lost or
    /// replayed to a retry.
    Booking,
    /// A hold whose answer was lost, granted on a retry.
    Hold,
    /// A cancel whose answer was lost, settled by reading the booking back.
    Cancel,
}

impl Reconciled {
    /// Its label value.
    fn as_str(self) -> &'static str {
        match self {
            Reconciled::Booking => "booking",
            Reconciled::Hold => "hold",
            Reconciled::Cancel => "cancel",
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabels {
    product: &'static str,
    endpoint: &'static str,
    status: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProductLabels {
    product: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BookingLabels {
    product: &'static str,
    pay_option: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReconciledLabels {
    what: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DriftLabels {
    product: &'static str,
    endpoint: &'static str,
}

/// One gateway instance's metrics and the registry they are written from.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    upstream_calls: Family<UpstreamLabels, Counter>,
    queue_length: Family<ProductLabels, Gauge>,
    queue_wait: Histogram,
    live_holds: Gauge,
    bookings: Family<BookingLabels, Counter>,
    reconciled: Family<ReconciledLabels, Counter>,
    drift: Family<DriftLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    /// A registry with every metric at zero.
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "hbg_requests",
            "Requests to the public listener, by route template and status",
            requests.clone(),
        );
        let upstream_calls = Family::<UpstreamLabels, Counter>::default();
        registry.register(
            "hbg_upstream_calls",
            "Calls to an upstream, by product, route template and status (error: no answer)",
            upstream_calls.clone(),
        );
        let queue_length = Family::<ProductLabels, Gauge>::default();
        registry.register(
            "hbg_queue_length",
            "Holds and bookings waiting for their turn under the upstream's rate limit",
            queue_length.clone(),
        );
        let queue_wait = Histogram::new(QUEUE_WAIT_BUCKETS);
        registry.register_with_unit(
            "hbg_queue_wait",
            "Waits given to holds and bookings queued under the upstream's rate limit",
            Unit::Seconds,
            queue_wait.clone(),
        );
        let live_holds = Gauge::default();
        registry.register(
            "hbg_live_holds",
            "Sessions' live holds the gateway's memory counts",
            live_holds.clone(),
        );
        let bookings = Family::<BookingLabels, Counter>::default();
        registry.register(
            "hbg_bookings",
            "Bookings made, by product and pay option",
            bookings.clone(),
        );
        let reconciled = Family::<ReconciledLabels, Counter>::default();
        registry.register(
            "hbg_lost_answers_reconciled",
            "Lost answers settled without sending twice, by what was settled",
            reconciled.clone(),
        );
        let drift = Family::<DriftLabels, Counter>::default();
        registry.register(
            "hbg_contract_drift",
            "Differences from the contract in upstream answers read, by product and route template",
            drift.clone(),
        );
        Metrics {
            registry,
            requests,
            upstream_calls,
            queue_length,
            queue_wait,
            live_holds,
            bookings,
            reconciled,
            drift,
        }
    }

    /// Counts a request to the public listener that matched `route` (a
    /// template), or no route.
    pub fn request(&self, route: Option<&str>, status: StatusCode) {
        let route = route
            .filter(|route| !route.contains("{*"))
            .unwrap_or(OTHER_ROUTE);
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                status: status.as_u16(),
            })
            .inc();
    }

    /// Counts an upstream call of `product` to `endpoint` (a route
    /// template) that was answered `status`, or not at all (`None`).
    pub fn upstream_call(
        &self,
        product: Product,
        endpoint: &'static str,
        status: Option<StatusCode>,
    ) {
        let status =
            status.map_or_else(|| "error".to_owned(), |status| status.as_u16().to_string());
        self.upstream_calls
            .get_or_create(&UpstreamLabels {
                product: product.as_str(),
                endpoint,
                status,
            })
            .inc();
    }

    /// Records the wait given to a queued hold or booking.
    pub fn queued(&self, wait: Duration) {
        self.queue_wait.observe(wait.as_secs_f64());
    }

    /// Counts the booking `attempt` made when sending it (`sent`) made one.
    pub fn booking_sent<B>(&self, sent: &Result<B, GatewayError>, attempt: &AttemptOf<'_>) {
        if sent.is_ok() {
            self.booked(attempt.product.product, &attempt.pay_option);
        }
    }

    /// Counts the booking an earlier try of `attempt` made, whose answer
    /// was lost, found before anything was sent again: made, and reconciled.
    pub fn lost_booking_found(&self, attempt: &AttemptOf<'_>) {
        self.booked(attempt.product.product, &attempt.pay_option);
        self.reconciled(Reconciled::Booking);
    }

    /// Counts a booking replayed to a retry of the attempt that made it
    /// (the answer to an earlier try was lost on its way to the widget).
    pub fn booking_replayed(&self) {
        self.reconciled(Reconciled::Booking);
    }

    /// Counts a hold whose answer was lost, granted on a retry.
    pub fn lost_hold_granted(&self) {
        self.reconciled(Reconciled::Hold);
    }

    /// Counts a cancel whose answer was lost, settled by reading the
    /// booking back.
    pub fn lost_cancel_settled(&self) {
        self.reconciled(Reconciled::Cancel);
    }

    /// Counts a booking of `product` paid by `pay_option` (the upstream's
    /// name; one it does not know is `other`).
    fn booked(&self, product: Product, pay_option: &str) {
        let pay_option = match PayOption::from_wire_name(product, pay_option) {
            PayOption::Other(_) => "other".to_owned(),
            known => known.wire_name(product).to_owned(),
        };
        self.bookings
            .get_or_create(&BookingLabels {
                product: product.as_str(),
                pay_option,
            })
            .inc();
    }

    /// Counts a lost answer settled without sending twice.
    fn reconciled(&self, what: Reconciled) {
        self.reconciled
            .get_or_create(&ReconciledLabels {
                what: what.as_str(),
            })
            .inc();
    }

    /// Counts the differences from the contract found in one answer of
    /// `endpoint`.
    pub fn drift(&self, endpoint: &Endpoint, found: usize) {
        if found == 0 {
            return;
        }
        self.drift
            .get_or_create(&DriftLabels {
                product: endpoint.product.as_str(),
                endpoint: endpoint.route,
            })
            .inc_by(u64::try_from(found).unwrap_or(u64::MAX));
    }

    /// The registry as OpenMetrics text, with the gauges read at scrape
    /// time set first: `live_holds`, and each product's queue length.
    fn scrape(
        &self,
        live_holds: usize,
        queues: &[(Product, usize)],
    ) -> Result<String, std::fmt::Error> {
        self.live_holds
            .set(i64::try_from(live_holds).unwrap_or(i64::MAX));
        for (product, waiting) in queues {
            self.queue_length
                .get_or_create(&ProductLabels {
                    product: product.as_str(),
                })
                .set(i64::try_from(*waiting).unwrap_or(i64::MAX));
        }
        let mut body = String::new();
        text::encode(&mut body, &self.registry)?;
        Ok(body)
    }
}

/// Counts each request to the public listener by the route it matched
/// (the outermost layer: every answer is counted, a panic's 500 included).
pub(super) async fn count_request(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|matched| matched.as_str().to_owned());
    let response = next.run(request).await;
    metrics.request(route.as_deref(), response.status());
    response
}

/// The admin listener's routes: `GET /metrics`, and a JSON 404 for the rest.
pub(super) fn admin_router(state: Arc<AppState>) -> Router {
    Router::new()
        .route(METRICS_PATH, get(serve_metrics))
        .fallback(super::routes::not_found)
        .layer(from_fn_with_state(
            errors::json_error_message as Wording,
            json_errors,
        ))
        .with_state(state)
}

/// `GET /metrics`: this instance's metrics.
async fn serve_metrics(State(state): State<Arc<AppState>>) -> Response {
    let live_holds = state.memory.remembered().await.session_holds;
    let queues: Vec<(Product, usize)> = state
        .products
        .iter()
        .map(|product| (product.product, product.upstream.queue_length()))
        .collect();
    match state.metrics.scrape(live_holds, &queues) {
        Ok(body) => (
            [(
                CONTENT_TYPE,
                HeaderValue::from_static(OPENMETRICS_CONTENT_TYPE),
            )],
            body,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "the metrics could not be written");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_written_with_their_labels() {
        let metrics = Metrics::new();
        metrics.request(Some("/api/holds"), StatusCode::OK);
        metrics.request(None, StatusCode::NOT_FOUND);
        metrics.request(Some("/api/{*rest}"), StatusCode::NOT_FOUND);
        metrics.upstream_call(Product::Practical, "/bookings/{id}", None);
        metrics.booked(Product::VirtualBls, "invoice");
        metrics.booked(Product::Practical, "someone@example.com");
        metrics.reconciled(Reconciled::Booking);
        metrics.queued(Duration::from_secs(7));
        let text = metrics.scrape(3, &[(Product::Practical, 2)]).unwrap();
        for line in [
            "hbg_requests_total{route=\"/api/holds\",status=\"200\"} 1",
            "hbg_requests_total{route=\"other\",status=\"404\"} 2",
            "hbg_upstream_calls_total{product=\"practical\",endpoint=\"/bookings/{id}\",status=\"error\"} 1",
            "hbg_bookings_total{product=\"virtual-bls\",pay_option=\"invoice\"} 1",
            "hbg_bookings_total{product=\"practical\",pay_option=\"other\"} 1",
            "hbg_lost_answers_reconciled_total{what=\"booking\"} 1",
            "hbg_live_holds 3",
            "hbg_queue_length{product=\"practical\"} 2",
            "hbg_queue_wait_seconds_count 1",
        ] {
            assert!(text.lines().any(|written| written == line), "{line}\n{text}");
        }
        assert!(!text.contains("example.com"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
