//! The gateway: the agency-side server that keeps API credentials out of the
//! browser. It serves the widget's files and an allow-listed API for it
//! under `/api` (`booking_core::widget_api`), forwarding to each product's
//! upstream API (Practical Training, and Virtual BLS when configured) with
//! the agency's token pair for it. The `booking-gateway` binary runs one;
//! tests and the bench clients start one in-process with [`spawn_gateway`].
//!
//! Modules and their jobs:
//! * `config`: flags, the TOML file and the environment's secrets.
//! * `upstream`: the HTTP client, the token pair's lifecycle, retries.
//! * `drift`: differences between the upstream's answers and what the
//!   gateway reads of them, each logged once.
//! * `product`: one upstream per product, and what differs between them.
//! * `cache`: cached, coalesced catalogue reads with last-good copies.
//! * `session`: HMAC-signed session tokens and hold/booking references.
//! * `policy`: pay options, agency fields, payment and return URL origins.
//! * `routes`: the `/api` handlers.
//! * `first_step`: the widget's first step as escaped HTML, shown before
//!   its module has loaded.
//! * `manage`: the booking page's handlers, opened by a durable booking
//!   link instead of a session.
//! * `static_files`: the widget's files, cache lifetimes, CSP.
//! * `errors`: one error type and its JSON bodies.
//! * `connections`: serving connections: the connection cap, the header
//!   timeout, graceful shutdown.
//! * `preflight`: the read-only check of each upstream an agency runs
//!   before going live.
//! * `health`: `/healthz` and `/readyz`, outside `/api`: no session, no
//!   origin check, no per-client rate limit.
//! * `request_id`: each request's id, in its span, on its upstream calls,
//!   in its answer's `X-Request-Id` and its JSON error bodies.
//! * `metrics`: the instance's Prometheus metrics, served as `GET /metrics`
//!   on the admin listener (`admin_listen`) only, never on the public one.
//!
//! The rate limit counts each client address ([`ClientAddress`]): the peer's,
//! or, from a proxy in `trusted_proxies`, the one its `X-Forwarded-For`
//! names; an IPv6 client by its /64.
//!
//! Slow clients are cut off: a request's headers must arrive within
//! `header_timeout` (else the connection is closed), its body within
//! `body_timeout` (else 408), and its answer be ready within
//! `request_timeout` (else 504; a queued turn gets [`QUEUED_TURN_EXTRA`]
//! more); at most `max_connections` are served at once.
//!
//! Invariants: the gateway is stateless apart from caches and its token
//! pair (sessions and ownership live in signed tokens, so instances sharing
//! `HBG_GATEWAY_KEY` are interchangeable); nothing of the upstream API but
//! the widget's routes is reachable; credentials, tokens, session tokens and
//! references never appear in a response they were not made for, a log line
//! or an error message; every `/api` answer is JSON (but a certificate,
//! a PDF) with `Cache-Control: no-store`.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, ORIGIN, RETRY_AFTER, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use governor::clock::Clock as _;
use governor::{DefaultKeyedRateLimiter, Quota};
use ipnet::{IpNet, Ipv6Net};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::{RequestBodyDeadlineLayer, TimeoutError};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

mod budget;
mod cache;
mod clock;
pub mod config;
mod connections;
mod drift;
mod errors;
mod first_step;
mod health;
mod manage;
mod memory;
mod metrics;
mod policy;
pub mod preflight;
mod product;
mod request_id;
mod routes;
mod session;
mod static_files;
mod upstream;

pub use cache::CacheTtls;
pub use clock::Clock;
#[cfg(feature = "test-clock")]
pub use clock::ManualClock;
pub use config::{
    ConfigError, Credentials, GatewayArgs, GatewayConfig, ProductSettings, Secret, PAYPAL_CHECKOUT,
};
pub use memory::{Remembered, StoreError};
pub use policy::AgencyContact;
pub use session::{SessionId, Signer};

use booking_core::manage::CancelPolicy;
use booking_core::product::Product;
use booking_core::widget_api::{
    route, API_BASE, IDEMPOTENCY_HEADER, QUEUE_TICKET_HEADER, SESSION_HEADER,
};
use booking_http::background::Background;
use booking_http::json_errors::{json_errors, Wording};
use cache::ReadCache;
use connections::{serve_connections, ConnectionLimits};
use errors::GatewayError;
use metrics::Metrics;
use policy::Policy;
use product::ProductUpstream;
use upstream::Upstream;

/// Largest `/api` request body accepted (16 KiB); larger ones answer 413.
pub const BODY_LIMIT: usize = 16 * 1024;

/// Longest wait on an upstream `Retry-After` before retrying once.
pub const MAX_RETRY_WAIT: Duration = Duration::from_secs(5);

/// Extra time a queued hold or booking's turn (a request carrying
/// `QUEUE_TICKET_HEADER`) is given over `request_timeout`: its turn may
/// start by waiting for the upstream slot reserved for it.
pub const QUEUED_TURN_EXTRA: Duration = Duration::from_secs(15);

/// Longest a graceful shutdown waits to revoke the upstream token.
const REVOKE_TIMEOUT: Duration = Duration::from_secs(3);

/// Connections the admin listener serves at once: a few scrapers.
const ADMIN_MAX_CONNECTIONS: u32 = 16;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The client's address as the gateway limits it: see [`client_address`].
/// The rate limit puts it in every `/api` request's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ClientAddress(pub IpAddr);

/// What every handler shares.
pub struct AppState {
    /// Practical Training's upstream first, then Virtual BLS's when configured.
    products: Vec<ProductUpstream>,
    /// Where the gateway reads the time.
    clock: Clock,
    cache: ReadCache,
    signer: Signer,
    /// Host page origins allowed to call `/api`.
    allowed_origins: Vec<String>,
    account_name: Option<String>,
    /// The gateway's own origin (see [`own_origin`]): same-origin requests
    /// come from it, and a `return_url` may point at it.
    own_origin: String,
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    limiter_checks: AtomicU64,
    /// Proxies whose `X-Forwarded-For` is read (see [`client_address`]).
    trusted_proxies: Vec<IpNet>,
    /// Holds granted per session and create-booking attempts, so a lost
    /// answer neither locks a candidate out nor books twice.
    memory: memory::Memory,
    /// What the upstream has been seen to allow an account's holds.
    hold_scope: routes::HoldScopeSeen,
    /// When the upstream last refused a hold on each place for another
    /// session's hold.
    recent_conflicts: routes::RecentConflicts,
    /// How many live holds a session and a client address may have.
    hold_caps: memory::HoldCaps,
    /// How long a hold released by a page-exit beacon waits for its page.
    release_grace: Duration,
    /// Whether and until when candidates may cancel their own bookings.
    candidate_cancel: CancelPolicy,
    /// The agency's address, shown for changes a candidate cannot make.
    agency_email: Option<String>,
    /// This instance's metrics, served on the admin listener.
    metrics: Arc<Metrics>,
}

/// Why a gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Binding or serving failed.
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
    /// A setting is wrong.
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    /// The HTTP client could not be built.
    #[error("upstream client: {0}")]
    Client(String),
    /// The shared store (`HBG_SHARED_STORE`) did not answer.
    #[error("HBG_SHARED_STORE: {0}")]
    SharedStore(memory::StoreError),
}

/// Builds the state, the routes and the connection limits for a validated
/// configuration, for a gateway bound to `bound`.
async fn build(
    config: GatewayConfig,
    bound: SocketAddr,
) -> Result<(Router, Arc<AppState>, ConnectionLimits), StartError> {
    let config = config.validated()?;
    let memory = match &config.shared_store {
        Some(url) => memory::Memory::Shared(
            memory::SharedStore::connect(url.expose())
                .await
                .map_err(StartError::SharedStore)?,
        ),
        None => memory::Memory::default(),
    };
    let signer = match &config.signing_key {
        Some(key) => Signer::new(key.expose().as_bytes(), config.session_max_age),
        None => {
            tracing::warn!(
                "HBG_GATEWAY_KEY is not set: using a random signing key, so widget sessions \
                 will not survive a restart or work across several gateway instances"
            );
            Signer::random(config.session_max_age)
        }
    };
    let signer = match &config.booking_link_key {
        Some(key) => signer.with_link_key(key.expose().as_bytes()),
        None => signer,
    };
    let practical = ProductSettings {
        upstream: config.upstream.clone(),
        credentials: config.credentials.clone(),
        pay_options: config.pay_options.clone(),
        payment_origins: config.payment_origins.clone(),
    };
    if practical.credentials.is_none() {
        tracing::warn!(
            "HBG_CLIENT_ID and HBG_API_KEY are not set: Practical Training's /api routes answer 503"
        );
    }
    let metrics = Arc::new(Metrics::new());
    let mut products = vec![product_upstream(
        &config,
        Product::Practical,
        &practical,
        &metrics,
    )?];
    if let Some(bls) = &config.virtual_bls {
        if bls.credentials.is_none() {
            tracing::warn!(
                "HBG_BLS_CLIENT_ID and HBG_BLS_API_KEY are not set: Virtual BLS's /api routes answer 503"
            );
        }
        products.push(product_upstream(
            &config,
            Product::VirtualBls,
            bls,
            &metrics,
        )?);
    }
    let rate = NonZeroU32::new(config.rate_limit).unwrap_or(NonZeroU32::MIN);
    let state = Arc::new(AppState {
        products,
        clock: config.clock.clone(),
        cache: ReadCache::new(config.cache, MAX_RETRY_WAIT, config.clock.clone()),
        signer,
        allowed_origins: config.allowed_origins.clone(),
        account_name: config.account_name.clone(),
        own_origin: own_origin(config.public_url.as_deref(), bound),
        limiter: DefaultKeyedRateLimiter::keyed(Quota::per_minute(rate)),
        limiter_checks: AtomicU64::new(0),
        memory,
        hold_scope: routes::HoldScopeSeen::default(),
        recent_conflicts: routes::RecentConflicts::default(),
        hold_caps: memory::HoldCaps {
            per_session: config.holds_per_session,
            per_address: config.holds_per_address,
        },
        trusted_proxies: config.trusted_proxies.clone(),
        release_grace: config.release_grace,
        candidate_cancel: config.candidate_cancel,
        agency_email: config
            .agency
            .contact_email
            .clone()
            .or_else(|| config.agency.email.clone()),
        metrics,
    });
    let limits = ConnectionLimits {
        header_timeout: config.header_timeout,
        max_connections: config.max_connections,
    };
    Ok((router(&config, state.clone()), state, limits))
}

/// The gateway's own origin: `public_url`, or else `http://` and the address
/// it is bound to (e.g. `http://127.0.0.1:8080`, no other name for it).
/// Never taken from a request (`Host`, `Forwarded`, `X-Forwarded-*`), which
/// its sender chooses.
fn own_origin(public_url: Option<&str>, bound: SocketAddr) -> String {
    if let Some(public_url) = public_url {
        return public_url.to_owned();
    }
    if bound.ip().is_unspecified() {
        tracing::warn!(
            "public_url is not set and the gateway listens on {bound}, an address no browser \
             names: requests from the gateway's own pages are refused and return URLs to them \
             dropped. Set public_url to the URL candidates open, e.g. \
             https://booking.agency.example"
        );
    }
    format!("http://{bound}")
}

/// One product's upstream client, its calls counted in `metrics`, and
/// its policy.
fn product_upstream(
    config: &GatewayConfig,
    product: Product,
    settings: &ProductSettings,
    metrics: &Arc<Metrics>,
) -> Result<ProductUpstream, StartError> {
    let upstream = Upstream::new(
        product,
        &settings.upstream,
        settings.credentials.clone(),
        config.upstream_timeout,
        MAX_RETRY_WAIT,
        config.clock.clone(),
        budget::CallBudget::new(
            config.upstream_rate_limit,
            config.upstream_rate_window,
            budget::QueueCaps {
                per_session: config.queued_per_session,
                per_address: config.queued_per_address,
            },
        ),
    )
    .map_err(|error| StartError::Client(error.to_string()))?
    .counted_in(metrics.clone());
    Ok(ProductUpstream {
        product,
        upstream,
        policy: Policy::new(
            settings.pay_options.clone(),
            settings.payment_origins.clone(),
            config.allowed_origins.clone(),
            config.agency.clone(),
        ),
        page_size: AtomicU32::new(routes::LARGEST_PAGE),
        last_probe: product::LastProbe::default(),
    })
}

impl AppState {
    /// The upstream of a product this gateway is configured for, or 404.
    fn product(&self, product: Product) -> Result<&ProductUpstream, GatewayError> {
        self.products
            .iter()
            .find(|configured| configured.product == product)
            .ok_or(GatewayError::NotFound(
                "That booking product is not offered here.",
            ))
    }
}

/// All routes: `/api` for the widget, the widget's files for the rest.
fn router(config: &GatewayConfig, state: Arc<AppState>) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(
            config
                .allowed_origins
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok()),
        ))
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([
            axum::http::header::CONTENT_TYPE,
            HeaderName::from_static(SESSION_HEADER),
            HeaderName::from_static(IDEMPOTENCY_HEADER),
            HeaderName::from_static(QUEUE_TICKET_HEADER),
        ])
        .expose_headers([RETRY_AFTER, request_id::HEADER])
        .max_age(Duration::from_secs(3600));
    let api = Router::new()
        .route(route::OPTIONS, get(routes::options))
        .route(route::COURSES, get(routes::courses))
        .route(route::FIRST_STEP, get(first_step::first_step))
        .route(route::TRAINING_EVENTS, get(routes::training_events))
        .route(route::TIMESLOTS, get(routes::timeslots))
        .route(route::HOLDS, post(routes::hold))
        .route(route::TIMESLOT_HOLDS, post(routes::hold_timeslot))
        .route(route::RELEASE_BEACON, post(routes::release_beacon))
        .route(route::HOLD, axum::routing::delete(routes::release_hold))
        .route(route::HOLD_PAY_OPTIONS, get(routes::hold_pay_options))
        .route(route::BOOKINGS, post(routes::create_booking))
        .route(route::BOOKING, get(routes::booking))
        .route(route::MANAGED_BOOKING, get(manage::managed_booking))
        .route(route::MANAGED_CERTIFICATE, get(manage::certificate))
        .route(route::MANAGED_CANCEL, post(manage::cancel))
        .route(route::MANAGED_DATES, get(manage::dates))
        .route(route::MANAGED_MOVE, post(manage::move_booking))
        .fallback(routes::not_found)
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(RequestBodyDeadlineLayer::new(config.body_timeout))
        .layer(from_fn_with_state(state.clone(), rate_limit))
        .layer(from_fn_with_state(state.clone(), origin_check))
        .layer(from_fn(acceptable_coding))
        .layer(cors)
        .layer(from_fn_with_state(config.request_timeout, request_deadline))
        .layer(from_fn_with_state(
            errors::json_error_message as Wording,
            json_errors,
        ))
        .layer(CompressionLayer::new())
        .layer(SetResponseHeaderLayer::overriding(
            CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let route = request
                        .extensions()
                        .get::<MatchedPath>()
                        .map_or("/api/*", MatchedPath::as_str);
                    request_span(request, route)
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state.clone());
    let files = static_files::router(config).layer(
        TraceLayer::new_for_http()
            .make_span_with(|request: &Request| request_span(request, request.uri().path()))
            .on_response(DefaultOnResponse::new().level(Level::DEBUG)),
    );
    // `/api/` itself is not matched by the nested router, and a route for it
    // beside the nest conflicts with it: it is given to the same router here,
    // so it answers as every other unknown `/api` path does.
    let outside_api = Router::new()
        .route_service("/api/", api.clone().into_service::<axum::body::Body>())
        .fallback_service(files);
    let health = Router::new()
        .route(health::HEALTHZ, get(health::healthz))
        .route(health::READYZ, get(health::readyz))
        .layer(SetResponseHeaderLayer::overriding(
            CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| request_span(request, request.uri().path()))
                .on_response(DefaultOnResponse::new().level(Level::DEBUG)),
        )
        .with_state(state.clone());
    Router::new()
        .merge(health)
        .nest(API_BASE, api)
        .fallback_service(outside_api)
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(from_fn(request_id::assign))
        .layer(from_fn_with_state(
            state.metrics.clone(),
            metrics::count_request,
        ))
}

/// The span of one request: its id (`request_id`, see [`request_id`]),
/// method and route (a template for `/api`, so no reference or query
/// string reaches the log).
fn request_span(request: &Request, route: &str) -> tracing::Span {
    let id = request_id::current();
    let id = id.as_ref().map_or("-", request_id::RequestId::as_str);
    tracing::info_span!("request", request_id = %id, method = %request.method(), route = %route)
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    let body = request_id::error_body(&booking_core::api::ApiError {
        message: "Something went wrong. Please try again.".to_owned(),
        request_id: None,
    });
    (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
}

/// 504 for a request not answered within `request_timeout`, or
/// [`QUEUED_TURN_EXTRA`] more for a queued turn; its handler is dropped.
async fn request_deadline(
    State(request_timeout): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    let limit = if request.headers().contains_key(QUEUE_TICKET_HEADER) {
        request_timeout + QUEUED_TURN_EXTRA
    } else {
        request_timeout
    };
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                seconds = limit.as_secs_f64(),
                "a request was not answered in time: 504"
            );
            GatewayError::RequestTimeout.into_response()
        }
    }
}

/// Whether reading a request body failed because it did not arrive within
/// `body_timeout`.
pub(crate) fn body_timed_out(error: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(error), |error| error.source())
        .any(|error| error.is::<TimeoutError>())
}

/// The content codings the gateway can answer in.
const CODINGS: [&str; 3] = ["identity", "gzip", "br"];

/// Whether an `Accept-Encoding` value admits at least one of [`CODINGS`]
/// (RFC 9110 12.5.3: `identity` is acceptable unless refused by name or by
/// `*;q=0`).
fn admits_a_coding(accept_encoding: &str) -> bool {
    let mut weights = Vec::new();
    for item in accept_encoding.split(',') {
        let mut parts = item.split(';').map(str::trim);
        let coding = parts.next().unwrap_or_default().to_ascii_lowercase();
        let weight = parts
            .find_map(|param| {
                param
                    .strip_prefix("q=")
                    .or_else(|| param.strip_prefix("Q="))
            })
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if !coding.is_empty() {
            weights.push((coding, weight));
        }
    }
    let weight_of = |coding: &str| {
        weights
            .iter()
            .find(|(named, _)| named == coding)
            .or_else(|| weights.iter().find(|(named, _)| named == "*"))
            .map(|(_, weight)| *weight)
            .unwrap_or(if coding == "identity" { 1.0 } else { 0.0 })
    };
    CODINGS.iter().any(|coding| weight_of(coding) > 0.0)
}

/// 406, before any handler runs, for an `/api` request that accepts no
/// content coding the gateway can answer in (so a hold or booking is never
/// made for a client that refuses every answer).
async fn acceptable_coding(request: Request, next: Next) -> Response {
    let refuses_all = request
        .headers()
        .get(ACCEPT_ENCODING)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| !admits_a_coding(value));
    if refuses_all {
        return GatewayError::NotAcceptable.into_response();
    }
    next.run(request).await
}

/// 403 for an `/api` request whose `Origin` is neither the gateway's own
/// (see [`own_origin`]) nor allow-listed. Requests without `Origin`
/// (same-origin GETs, non-browser clients) pass: CORS is a browser
/// protection.
async fn origin_check(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(origin) = request.headers().get(ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        let allowed =
            state.allowed_origins.iter().any(|o| o == origin) || state.own_origin == origin;
        if !allowed {
            tracing::info!("request from an origin not on the list refused");
            return GatewayError::OriginNotAllowed.into_response();
        }
    }
    next.run(request).await
}

/// The client's address for a request from `peer` with `headers`.
///
/// `X-Forwarded-For` is read only when `peer` is in `trusted_proxies`: its
/// entries (every such header, in order) right to left, each the address the
/// hop to its right saw, up to the first address not in `trusted_proxies`,
/// which is the client; entries to its left are the client's own word and
/// ignored. An entry that is not an address (nor `address:port`) met before
/// that ends the walk at the nearest trusted hop, the last address reached:
/// that proxy is taken as the client, so everyone behind it shares its
/// allowance rather than anyone escaping the limit; so does running out of
/// entries. An IPv4-mapped IPv6 address counts as its IPv4 address, and an
/// IPv6 address as its /64 (one subscriber's usual share).
fn client_address(trusted_proxies: &[IpNet], peer: IpAddr, headers: &HeaderMap) -> ClientAddress {
    let trusted = |address: &IpAddr| trusted_proxies.iter().any(|range| range.contains(address));
    let mut client = peer.to_canonical();
    if trusted(&client) {
        let entries = headers
            .get_all(X_FORWARDED_FOR)
            .iter()
            .rev()
            .flat_map(|value| value.to_str().unwrap_or_default().rsplit(','));
        for entry in entries {
            let Some(address) = forwarded_address(entry) else {
                break;
            };
            client = address;
            if !trusted(&client) {
                break;
            }
        }
    }
    ClientAddress(match client {
        IpAddr::V4(_) => client,
        IpAddr::V6(address) => IpAddr::V6(Ipv6Net::new_assert(address, 64).network()),
    })
}

/// The address in one `X-Forwarded-For` entry, `address` or `address:port`
/// (`[address]:port` for IPv6), IPv4-mapped addresses as IPv4.
fn forwarded_address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|address| address.ip()))
        .ok()
        .map(|address| address.to_canonical())
}

/// 429 with `Retry-After` once a client address is over the per-minute
/// limit; otherwise the request goes on with its [`ClientAddress`].
async fn rate_limit(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |info| info.0.ip());
    let client = client_address(&state.trusted_proxies, peer, request.headers());
    request.extensions_mut().insert(client);
    if state.limiter_checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
        state.limiter.retain_recent();
        state.limiter.shrink_to_fit();
    }
    if let Err(not_until) = state.limiter.check_key(&client.0) {
        let wait = not_until.wait_time_from(state.limiter.clock().now());
        let retry_after = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        return GatewayError::TooManyRequests { retry_after }.into_response();
    }
    next.run(request).await
}

/// A gateway serving in the background (see [`spawn_gateway`]), with its
/// admin listener when `admin_listen` is set. Dropping it stops both.
pub struct RunningGateway {
    server: Background,
    admin: Option<Background>,
    state: Arc<AppState>,
}

impl std::fmt::Debug for RunningGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningGateway")
            .field("server", &self.server)
            .field("admin", &self.admin)
            .finish_non_exhaustive()
    }
}

impl RunningGateway {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// `http://ADDR`, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> &str {
        self.server.url()
    }

    /// The admin listener's `http://ADDR`, which serves `GET /metrics`;
    /// `None` without `admin_listen`.
    pub fn admin_url(&self) -> Option<&str> {
        self.admin.as_ref().map(Background::url)
    }

    /// How much the gateway remembers right now (for tests and operators:
    /// what hostile requests leave behind).
    pub async fn remembered(&self) -> Remembered {
        self.state.memory.remembered().await
    }

    /// Stops accepting connections, waits for open requests to finish and
    /// revokes the upstream token.
    pub async fn shutdown(self) -> std::io::Result<()> {
        if let Some(admin) = self.admin {
            admin.shutdown().await?;
        }
        self.server.shutdown().await
    }
}

/// Starts a gateway in the background of the current Tokio runtime and
/// returns once it accepts connections.
///
/// ```ignore
/// let mut config = GatewayConfig::new(sandbox.api_url(), "dist");
/// config.listen = "127.0.0.1:0".parse()?;
/// let gateway = spawn_gateway(config).await?;
/// let options = reqwest::get(format!("{}/api/options", gateway.url())).await?;
/// ```
pub async fn spawn_gateway(config: GatewayConfig) -> Result<RunningGateway, StartError> {
    let listener = TcpListener::bind(config.listen).await?;
    let admin_listener = bind_admin(&config).await?;
    let local_addr = listener.local_addr()?;
    let (app, state, limits) = build(config, local_addr).await?;
    let admin = admin_listener
        .map(|admin| spawn_admin(admin, &state, limits))
        .transpose()?;
    let server = Background::spawn(local_addr, |stop| {
        run(listener, app, state.clone(), limits, stop)
    });
    Ok(RunningGateway {
        server,
        admin,
        state,
    })
}

/// Runs a gateway in the foreground until `shutdown` resolves, announcing
/// `gateway listening on http://ADDR` on stdout once it accepts
/// connections, then, with `admin_listen`, `gateway admin listening on
/// http://ADDR`.
pub async fn serve(
    config: GatewayConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let listener = TcpListener::bind(config.listen).await?;
    let admin_listener = bind_admin(&config).await?;
    let (app, state, limits) = build(config, listener.local_addr()?).await?;
    booking_http::announce("gateway", &listener)?;
    if let Some(admin) = &admin_listener {
        booking_http::announce("gateway admin", admin)?;
    }
    let admin = admin_listener
        .map(|admin| spawn_admin(admin, &state, limits))
        .transpose()?;
    run(listener, app, state, limits, shutdown).await?;
    if let Some(admin) = admin {
        admin.shutdown().await?;
    }
    Ok(())
}

/// The admin listener, bound when `admin_listen` is set.
async fn bind_admin(config: &GatewayConfig) -> std::io::Result<Option<TcpListener>> {
    match config.admin_listen {
        Some(address) => Ok(Some(TcpListener::bind(address).await?)),
        None => Ok(None),
    }
}

/// Serves the admin routes ([`metrics::admin_router`]) on `listener` in
/// the background, with the public listener's header timeout and at most
/// [`ADMIN_MAX_CONNECTIONS`] connections.
fn spawn_admin(
    listener: TcpListener,
    state: &Arc<AppState>,
    limits: ConnectionLimits,
) -> std::io::Result<Background> {
    let local_addr = listener.local_addr()?;
    let app = metrics::admin_router(state.clone());
    let limits = ConnectionLimits {
        max_connections: ADMIN_MAX_CONNECTIONS,
        ..limits
    };
    Ok(Background::spawn(local_addr, |stop| async move {
        serve_connections(listener, app, limits, stop).await;
        Ok(())
    }))
}

/// Serves until `shutdown` resolves, then revokes the upstream tokens.
async fn run(
    listener: TcpListener,
    app: Router,
    state: Arc<AppState>,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_connections(listener, app, limits, shutdown).await;
    let revoke_all = async {
        for product in &state.products {
            product.upstream.revoke().await;
        }
    };
    if tokio::time::timeout(REVOKE_TIMEOUT, revoke_all)
        .await
        .is_err()
    {
        tracing::warn!("revoking the upstream tokens timed out");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_must_admit_a_coding_the_gateway_can_send() {
        for admitted in [
            "",
            "gzip",
            "br;q=0.5, identity;q=0",
            "identity;q=0, *;q=0.1",
            "*;q=0, gzip",
            "compress, gzip;q=0.2",
        ] {
            assert!(admits_a_coding(admitted), "{admitted:?}");
        }
        for refused in [
            "identity;q=0, *;q=0",
            "*;q=0",
            "identity;q=0",
            "compress, identity;q=0",
            "IDENTITY;Q=0",
        ] {
            assert!(!admits_a_coding(refused), "{refused:?}");
        }
    }

    /// The client address of a request from `peer` with these
    /// `X-Forwarded-For` headers, behind proxies in 10.0.0.0/8.
    fn client_of(peer: &str, forwarded_for: &[&str]) -> String {
        let mut headers = HeaderMap::new();
        for value in forwarded_for {
            headers.append(X_FORWARDED_FOR, HeaderValue::from_str(value).unwrap());
        }
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        client_address(&trusted, peer.parse().unwrap(), &headers)
            .0
            .to_string()
    }

    #[test]
    fn x_forwarded_for_is_read_from_trusted_proxies_only() {
        assert_eq!(client_of("198.51.100.1", &["203.0.113.9"]), "198.51.100.1");
        assert_eq!(client_of("10.0.0.1", &["203.0.113.9"]), "203.0.113.9");
        assert_eq!(client_of("10.0.0.1", &[]), "10.0.0.1");
        assert_eq!(
            client_of("::ffff:10.0.0.1", &["203.0.113.9"]),
            "203.0.113.9"
        );
    }

    #[test]
    fn the_client_is_the_first_untrusted_address_from_the_right() {
        let client = |forwarded_for| client_of("10.0.0.1", forwarded_for);
        assert_eq!(client(&["203.0.113.9, 10.0.0.2"]), "203.0.113.9");
        assert_eq!(client(&["1.2.3.4, 203.0.113.9, 10.0.0.2"]), "203.0.113.9");
        assert_eq!(client(&["1.2.3.4, 203.0.113.9", "10.0.0.2"]), "203.0.113.9");
        assert_eq!(client(&["not an address, 203.0.113.9"]), "203.0.113.9");
        assert_eq!(client(&["203.0.113.9:4711"]), "203.0.113.9");
        assert_eq!(client(&["[2001:db8::1]:443"]), "2001:db8::");
        assert_eq!(client(&["10.0.0.3, 10.0.0.2"]), "10.0.0.3");
    }

    #[test]
    fn an_unreadable_entry_before_the_client_stops_at_the_nearest_trusted_hop() {
        let client = |forwarded_for| client_of("10.0.0.1", forwarded_for);
        assert_eq!(client(&["203.0.113.9, unknown"]), "10.0.0.1");
        assert_eq!(client(&["203.0.113.9, unknown, 10.0.0.2"]), "10.0.0.2");
        assert_eq!(client(&["203.0.113.9, "]), "10.0.0.1");
        assert_eq!(client(&[""]), "10.0.0.1");
    }

    #[test]
    fn ipv6_clients_are_limited_per_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(client_of("2001:db8:1:2:3:4:5:6", &[]), "2001:db8:1:2::");
        assert_eq!(
            client_of("10.0.0.1", &["2001:db8:1:2::7"]),
            "2001:db8:1:2::"
        );
        assert_eq!(client_of("::ffff:198.51.100.1", &[]), "198.51.100.1");
        assert_eq!(
            client_of("10.0.0.1", &["::ffff:198.51.100.1"]),
            "198.51.100.1"
        );
    }

    #[test]
    fn the_own_origin_is_the_public_url_or_the_bound_address() {
        let bound = SocketAddr::from(([127, 0, 0, 1], 8080));
        assert_eq!(own_origin(None, bound), "http://127.0.0.1:8080");
        assert_eq!(
            own_origin(Some("https://booking.agency.example"), bound),
            "https://booking.agency.example"
        );
        let bound = SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 8080));
        assert_eq!(own_origin(None, bound), "http://[::1]:8080");
    }
}
