//! The sandbox: a stateful local implementation of the upstream APIs over
//! SQLite, for the demo, the tests and agencies' own testing, one per
//! product: the Practical Training API as published (its endpoints,
//! webhooks and booking invites) under `/api/v1`, and the Virtual BLS API
//! (its endpoints and webhooks) under `/bls/api/v1` (`bls`). Tests start
//! one in-process with [`spawn_sandbox`]; the `booking-sandbox` binary runs
//! one, or the webhook receiver ([`webhook_check`]).
//!
//! Modules and their jobs:
//! * `db`: connection, schema, seed data (venue times through
//!   `booking_core::uk_time`); `clock`: the one clock everything reads, and
//!   the conversions of stored Unix seconds.
//! * `auth`: token pairs and the bearer-token extractor.
//! * `catalog`: courses, locations, training events.
//! * `holds`: 30-minute seat holds, and the liveness and release of both
//!   products' holds. `booking_api`: what both products' bookings store and
//!   the booking endpoints they answer alike; `booking_form`: the fields of
//!   both products' booking bodies; `idempotency`: `Idempotency-Key`.
//!   `bookings`: Practical Training's bookings, the pay options' accounting,
//!   cancellation. `accounts`: profile, credits, wallet transactions,
//!   booking URL.
//! * `checkout`: the pages that stand in for the payment providers'
//!   checkouts (Stripe's here, PayPal's words in `bls`); `pages`: the
//!   escaping and the frame every stand-in page shares.
//! * `errors`, `validate`, `extract`, `pagination`: Laravel-style errors,
//!   validation, tolerant extractors and the pagination envelope. Answers are
//!   `booking_core::api` types serialised as they are (UTC as `+00:00`).
//! * `rate_limit`: 60 requests a minute per client IP on `/api/v1`.
//! * `profile`: the upstream profile, one switch per behaviour the published
//!   API leaves open (hold scope, idempotency, the 409's body, `return_url`,
//!   the largest page, the answers' shape); `shape`: `shape=documented`,
//!   every answer cut down to the fields the published documents show.
//! * `webhooks`: webhook endpoints, both products'; `webhook_targets`: the
//!   addresses a webhook may be sent to (no private, link-local or, outside
//!   test mode, loopback ones); `deliveries`: each product's event
//!   catalogue, events written with the changes they report, and the worker
//!   that signs, sends and retries them; `invites`: booking invites, their page and the test-mode outbox.
//! * `testmode`: `/_sandbox/*` clock and fixture endpoints, mounted only with
//!   `--test-clock`.
//! * `bls`: the Virtual BLS API, sharing the modules above where section 10
//!   says it shares with Practical Training.
//! * `certificate`: the certificate PDFs.
//! * `webhook_check`: how webhook deliveries are signed and checked, and
//!   the small receiver agencies can point a sandbox webhook at.
//!
//! Invariants: every `/api/v1` response is JSON (the certificate PDF aside);
//! a live hold always has a seat (seats minus bookings minus live holds never
//! goes below zero); every movement of money or credits is a wallet
//! transaction; another account's data answers 404.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath};
use axum::middleware::from_fn_with_state;
use axum::routing::{delete, get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

mod accounts;
mod auth;
mod bls;
mod booking_api;
mod booking_form;
mod bookings;
mod catalog;
mod certificate;
mod checkout;
mod clock;
mod db;
mod deliveries;
mod errors;
mod extract;
mod holds;
mod idempotency;
mod invites;
mod pages;
mod pagination;
pub mod profile;
mod rate_limit;
mod shape;
mod testmode;
mod validate;
mod wallet;
pub mod webhook_check;
mod webhook_targets;
mod webhooks;

pub use db::DatabaseLocation;
pub use deliveries::RetrySchedule;
pub use profile::UpstreamProfile;

use auth::TokenCache;
use booking_api::ProductBooking;
use booking_http::background::Background;
use booking_http::json_errors::{json_errors, Wording};
use bookings::BookingRecord;
use clock::Clock;
use db::Db;
use deliveries::{Deliveries, WorkerGuard};
use profile::ProfileCell;
use rate_limit::RateLimiter;
use webhook_targets::Reach;

/// How the JSON-error safety net words its messages here (Laravel's way).
const JSON_ERRORS: Wording = errors::json_error_message;

/// Largest request body accepted (64 KiB); larger ones answer 413.
pub const BODY_LIMIT: usize = 64 * 1024;

/// How to run a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Where the data lives.
    pub db: DatabaseLocation,
    /// Test mode: mounts `/_sandbox/*` (movable clock, fixtures).
    pub test_clock: bool,
    /// Test mode only: the instant the clock starts at, for reproducible dates.
    pub clock_start: Option<DateTime<Utc>>,
    /// Requests per minute per client IP on `/api/v1`.
    pub rate_limit: u32,
    /// Test mode only: the rate limit's window, instead of a minute (for
    /// tests of a client's own rate budget over a short window; no CLI flag).
    pub rate_window: Duration,
    /// Base URL used in pagination links, booking and payment URLs; by
    /// default `http://` plus the bound address.
    pub public_url: Option<String>,
    /// How the sandbox answers where the published API is silent.
    pub profile: UpstreamProfile,
    /// Test mode only: every webhook retry waits this many milliseconds
    /// instead of the standard schedule (`--webhook-retry-ms`).
    pub webhook_retry_ms: Option<u64>,
    /// The demo's webhook receiver, registered at start.
    pub demo_webhook: Option<DemoWebhook>,
}

/// The demo's webhook receiver (`cargo xtask demo`): at start, the demo
/// account HB-DEMO gets an endpoint at `url` subscribed to every event and
/// signed with `secret`, or has it brought up to date.
#[derive(Debug, Clone)]
pub struct DemoWebhook {
    /// Where the receiver listens (loopback `http` is fine here).
    pub url: String,
    /// The signing secret the receiver checks with.
    pub secret: String,
}

impl Default for SandboxConfig {
    /// The CLI defaults: `127.0.0.1:8081`, `sandbox.sqlite3`, 60 a minute.
    fn default() -> Self {
        SandboxConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8081)),
            db: DatabaseLocation::File("sandbox.sqlite3".into()),
            test_clock: false,
            clock_start: None,
            rate_limit: 60,
            rate_window: Duration::from_secs(60),
            public_url: None,
            profile: UpstreamProfile::default(),
            webhook_retry_ms: None,
            demo_webhook: None,
        }
    }
}

impl SandboxConfig {
    /// For tests: an ephemeral port on 127.0.0.1, an in-memory database,
    /// test mode on and a rate limit high enough never to trigger.
    pub fn for_tests() -> Self {
        SandboxConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            db: DatabaseLocation::Memory,
            test_clock: true,
            clock_start: None,
            rate_limit: 1_000_000,
            rate_window: Duration::from_secs(60),
            public_url: None,
            profile: UpstreamProfile::default(),
            webhook_retry_ms: None,
            demo_webhook: None,
        }
    }
}

/// Why a sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Binding or serving failed.
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
    /// The database could not be opened, migrated or seeded.
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    /// The configuration is inconsistent.
    #[error("configuration: {0}")]
    Config(&'static str),
}

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    /// The database.
    pub db: Db,
    /// The sandbox clock.
    pub clock: Arc<Clock>,
    /// Base URL for links, without a trailing slash.
    pub public_url: Arc<str>,
    /// The per-IP request limiter.
    pub limiter: Arc<RateLimiter>,
    /// Access tokens already found valid.
    pub tokens: Arc<TokenCache>,
    /// The upstream profile in force.
    pub profile: Arc<ProfileCell>,
    /// Webhook delivery: wakes the worker.
    pub webhooks: Arc<Deliveries>,
    /// Whether `/_sandbox/*` is mounted (webhooks to loopback allowed).
    pub test_mode: bool,
    /// Which product's API these routes serve.
    pub product: Product,
}

/// The two upstream products the sandbox serves, each under its own base
/// path, with its own accounts, courses, tokens and rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Product {
    /// Practical Training, at `/api/v1`.
    Practical,
    /// Virtual BLS, at `/bls/api/v1`.
    VirtualBls,
}

impl Product {
    /// The value of the `product` columns of accounts and courses.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Product::Practical => "practical",
            Product::VirtualBls => "virtual_bls",
        }
    }

    /// The API's base path.
    pub(crate) fn api_base(self) -> &'static str {
        match self {
            Product::Practical => PRACTICAL_API_BASE,
            Product::VirtualBls => BLS_API_BASE,
        }
    }

    /// The path of the account's public booking page (`?sgi=CODE`).
    pub(crate) fn booking_page(self) -> &'static str {
        match self {
            Product::Practical => "/practical-training/",
            Product::VirtualBls => "/virtual-bls/",
        }
    }
}

/// Base path of the Practical Training API.
pub const PRACTICAL_API_BASE: &str = "/api/v1";
/// Base path of the Virtual BLS API (upstream: `https://bls.hbcompliance.co.uk/api/v1`).
pub const BLS_API_BASE: &str = "/bls/api/v1";

impl AppState {
    /// `{public_url}{api base}{path}`.
    pub(crate) fn api_url(&self, path: &str) -> String {
        format!("{}{}{path}", self.public_url, self.product.api_base())
    }

    /// The account's public booking page.
    pub(crate) fn booking_url(&self, sgi_code: &str) -> String {
        let code: String = form_urlencoded::byte_serialize(sgi_code.as_bytes()).collect();
        format!(
            "{}{}?sgi={code}",
            self.public_url,
            self.product.booking_page()
        )
    }

    /// The same state, building links for `product` (e.g. a fixture
    /// creating an account of the other product).
    pub(crate) fn as_product(&self, product: Product) -> AppState {
        AppState {
            product,
            ..self.clone()
        }
    }

    /// The same shared data serving the other product: its own token cache
    /// and rate limiter (the upstreams are separate hosts).
    fn for_product(&self, product: Product, rate_limit: u32, rate_window: Duration) -> AppState {
        AppState {
            limiter: Arc::new(RateLimiter::new(rate_limit, rate_window)),
            tokens: Arc::new(TokenCache::default()),
            product,
            ..self.clone()
        }
    }
}

/// A sandbox serving in the background (see [`spawn_sandbox`]). Dropping it
/// stops the server.
#[derive(Debug)]
pub struct RunningSandbox {
    server: Background,
    public_url: String,
}

impl RunningSandbox {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// `http://ADDR` of the bound address, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> &str {
        self.server.url()
    }

    /// The Practical Training API base, `http://ADDR/api/v1`.
    pub fn api_url(&self) -> String {
        format!("{}{PRACTICAL_API_BASE}", self.url())
    }

    /// The Virtual BLS API base, `http://ADDR/bls/api/v1`.
    pub fn bls_api_url(&self) -> String {
        format!("{}{BLS_API_BASE}", self.url())
    }

    /// The base URL the sandbox puts in links it returns.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// Stops accepting connections and waits for open requests to finish.
    pub async fn shutdown(self) -> std::io::Result<()> {
        self.server.shutdown().await
    }
}

/// Starts a sandbox in the background of the current Tokio runtime and
/// returns once it accepts connections.
///
/// ```ignore
/// let sandbox = spawn_sandbox(SandboxConfig::for_tests()).await?;
/// let events = reqwest::get(format!("{}/training-events", sandbox.api_url())).await?;
/// ```
pub async fn spawn_sandbox(config: SandboxConfig) -> Result<RunningSandbox, StartError> {
    let (listener, app, public_url, worker) = prepare(config).await?;
    let local_addr = listener.local_addr()?;
    let server = Background::spawn(local_addr, |stop| async move {
        let _worker = worker;
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(stop)
        .await
    });
    Ok(RunningSandbox { server, public_url })
}

/// Runs a sandbox in the foreground until `shutdown` resolves, announcing
/// `sandbox listening on http://ADDR` on stdout once it accepts connections.
pub async fn serve(
    config: SandboxConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let (listener, app, _, _worker) = prepare(config).await?;
    booking_http::announce("sandbox", &listener)?;
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    Ok(())
}

/// Binds, opens the database, starts the webhook worker (stopped when its
/// guard is dropped) and builds the routes.
async fn prepare(
    config: SandboxConfig,
) -> Result<(TcpListener, Router, String, WorkerGuard), StartError> {
    if config.clock_start.is_some() && !config.test_clock {
        return Err(StartError::Config("a clock start needs the test clock"));
    }
    if config.webhook_retry_ms.is_some() && !config.test_clock {
        return Err(StartError::Config(
            "a webhook retry delay needs the test clock",
        ));
    }
    if config.rate_limit == 0 {
        return Err(StartError::Config("the rate limit must be at least 1"));
    }
    if config.rate_window != Duration::from_secs(60) && !config.test_clock {
        return Err(StartError::Config(
            "a rate limit window other than a minute needs the test clock",
        ));
    }
    if config.rate_window < Duration::from_millis(1) {
        return Err(StartError::Config(
            "the rate limit window must be at least a millisecond",
        ));
    }
    let listener = TcpListener::bind(config.listen).await?;
    let bound = listener.local_addr()?;
    let public_url = match &config.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => default_public_url(bound),
    };
    let clock = Arc::new(Clock::new(config.clock_start));
    let now = clock.now();
    let location = config.db.clone();
    let conn = tokio::task::spawn_blocking(move || {
        let mut conn = db::open_connection(&location, now)?;
        bls::seed::seed_if_new(&mut conn, now)?;
        Ok::<_, rusqlite::Error>(conn)
    })
    .await
    .map_err(|error| std::io::Error::other(error.to_string()))??;
    let db = Db::start(conn)?;
    let state = AppState {
        db,
        clock,
        public_url: public_url.clone().into(),
        limiter: Arc::new(RateLimiter::new(config.rate_limit, config.rate_window)),
        tokens: Arc::new(TokenCache::default()),
        profile: Arc::new(ProfileCell::new(config.profile)),
        webhooks: Arc::new(Deliveries::new(
            match config.webhook_retry_ms {
                Some(ms) => RetrySchedule::uniform(std::time::Duration::from_millis(ms)),
                None => RetrySchedule::standard(),
            },
            Reach::for_mode(config.test_clock),
            config.demo_webhook.as_ref().map(|demo| demo.url.clone()),
        )),
        test_mode: config.test_clock,
        product: Product::Practical,
    };
    if let Some(demo) = config.demo_webhook {
        webhooks::ensure_demo_endpoint(&state, demo)
            .await
            .map_err(|error| std::io::Error::other(format!("the demo's webhook: {error}")))?;
    }
    let worker = WorkerGuard(deliveries::spawn_worker(state.clone()));
    let bls = state.for_product(Product::VirtualBls, config.rate_limit, config.rate_window);
    Ok((
        listener,
        router(state, bls, config.test_clock),
        public_url,
        worker,
    ))
}

/// `http://` plus the bound address; an unspecified address (`0.0.0.0`)
/// becomes `127.0.0.1` so links work from this machine.
fn default_public_url(bound: SocketAddr) -> String {
    let mut address = bound;
    if address.ip().is_unspecified() {
        address.set_ip(if address.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    format!("http://{address}")
}

/// All routes: `/api/v1`, `/bls/api/v1`, the checkout pages and, in test
/// mode, `/_sandbox`.
fn router(state: AppState, bls: AppState, test_mode: bool) -> Router {
    let api = shared_routes::<BookingRecord>()
        .route("/profile", get(accounts::profile))
        .route("/locations", get(catalog::locations))
        .route("/training-events", get(catalog::events))
        .route("/training-events/{id}", get(catalog::event))
        .route("/training-events/{id}/hold", post(holds::hold))
        .route("/training-events/hold/{hold_hash}", delete(holds::release))
        .route("/bookings/no-shows", get(bookings::no_shows))
        .route("/bookings/{id}/cancel", post(bookings::cancel))
        .route("/booking-invites", get(invites::list).post(invites::create))
        .route("/booking-invites/{id}", get(invites::show));
    let mut app = mount(PRACTICAL_API_BASE, api, &state)
        .route("/checkout/{token}", get(checkout::show).post(checkout::pay))
        .route("/practical-training/", get(checkout::booking_page))
        .route("/practical-training/invites/{token}", post(invites::book));
    if test_mode {
        app = app.nest(
            "/_sandbox",
            testmode::router()
                .merge(bls::testmode_router())
                .fallback(errors::not_found)
                .layer(DefaultBodyLimit::max(BODY_LIMIT))
                .layer(from_fn_with_state(JSON_ERRORS, json_errors)),
        );
    }
    app.with_state(state)
        .merge(bls::router(bls))
        .fallback(errors::not_found)
        .layer(CatchPanicLayer::custom(errors::panic_response))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
}

/// The routes both APIs answer alike: tokens, the account's booking page,
/// credits and transactions, courses, the bookings `B` (list, create, one,
/// its certificate) and webhook endpoints.
pub(crate) fn shared_routes<B: ProductBooking>() -> Router<AppState> {
    Router::new()
        .route("/auth/token", post(auth::token))
        .route("/auth/refresh", post(auth::refresh))
        .route("/auth/token-info", get(auth::token_info))
        .route("/auth/revoke", post(auth::revoke))
        .route("/booking-url", get(accounts::booking_url))
        .route("/credits", get(accounts::credits))
        .route("/transactions", get(accounts::transactions))
        .route("/courses", get(catalog::courses))
        .route(
            "/bookings",
            get(booking_api::list::<B>).post(booking_api::create::<B>),
        )
        .route("/bookings/{id}", get(booking_api::show::<B>))
        .route(
            "/bookings/{id}/certificate",
            get(booking_api::certificate::<B>),
        )
        .route("/webhooks", get(webhooks::list).post(webhooks::create))
        .route(
            "/webhooks/{id}",
            get(webhooks::show)
                .patch(webhooks::patch)
                .put(webhooks::put)
                .delete(webhooks::delete),
        )
        .route(
            "/webhooks/{id}/rotate-secret",
            post(webhooks::rotate_secret),
        )
        .route("/webhooks/{id}/test", post(webhooks::test))
}

/// An API's `routes` nested at its `base` path: 404 for any other path, the
/// body limit, the product's rate limit (`state`'s), JSON errors and the
/// profile's answer shape.
pub(crate) fn mount(base: &str, routes: Router<AppState>, state: &AppState) -> Router<AppState> {
    let api = routes
        .fallback(errors::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(from_fn_with_state(state.clone(), rate_limit::middleware))
        .layer(from_fn_with_state(JSON_ERRORS, json_errors))
        .layer(from_fn_with_state(state.clone(), shape::documented_only));
    Router::new().nest(base, api)
}

/// The span each request is logged in: its method and its route template
/// (`/checkout/{token}`), never the path and query as sent, which carry
/// checkout and PayPal tokens, hold hashes and invite tokens. A request no
/// route matched is logged as `unmatched`.
fn request_span<B>(request: &axum::http::Request<B>) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    tracing::info_span!("request", method = %request.method(), route)
}
