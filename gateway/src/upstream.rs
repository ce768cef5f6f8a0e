//! The upstream client: HTTP calls to one product's upstream API (the
//! Practical Training API, or the Virtual BLS API) with the agency's token
//! pair for that product.
//!
//! Each upstream's token manager keeps one token pair for the whole process
//! behind an async mutex: the first call exchanges the credentials, a call that finds
//! the access token within a minute of expiry (by the gateway's own clock,
//! from `expires_in`) refreshes it first, and a call the upstream answers 401
//! refreshes once (or exchanges the credentials again when the refresh token
//! is refused) and is retried once. Concurrent callers wait on the mutex, so
//! a burst costs one exchange. [`Upstream::revoke`] revokes the token on
//! shutdown.
//!
//! Invariants: credentials and tokens live in [`Secret`]s and are never
//! formatted into a log line or an error; a transport failure becomes 502
//! (unreachable) or 504 (timed out); a 5xx or an unreadable answer becomes
//! 502; an upstream 429 is retried once after `Retry-After` only when the
//! caller asks for it and the wait is within the bound; log lines name an
//! upstream route by its template (`/training-events/hold/{hold_hash}`),
//! never by a path holding a hash; every answer decoded is compared with
//! what booking-core reads of it first, and each difference logged once
//! ([`super::drift`]), so an answer is read for its documented fields
//! whatever else it carries or lacks.
//!
//! Every call carries the id of the request it is made for as
//! `X-Request-Id` (`super::request_id`).
//!
//! Every HTTP exchange, the token's included, first takes a slot of the
//! [`CallBudget`] (the upstream's rate limit, kept by the gateway): a hold
//! or booking that would pass it answers [`GatewayError::Queued`] without
//! being sent, and a read that would answers [`GatewayError::UpstreamBusy`],
//! so the upstream's 429 is the exception, not the way the limit is found.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::StatusCode;
use booking_core::api::{RefreshRequest, TokenPair, TokenRequest, ValidationError};
use booking_core::contract::Answer;
use booking_core::product::Product;
use booking_core::widget_api::QueuePlace;
use reqwest::header::{HeaderMap, AUTHORIZATION, RETRY_AFTER};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::budget::{CallBudget, CallClass, Caller, QueueTicket, Slot};
use super::clock::Clock;
use super::config::{Credentials, Secret};
use super::drift::{self, Endpoint};
use super::errors::GatewayError;
use super::metrics::Metrics;
use super::request_id;

/// How long before its expiry an access token is refreshed.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// The longest `Retry-After` the gateway takes from the upstream (and
/// passes on to the widget): an hour. Its limit is per minute, so any longer
/// wait is read as this.
const LONGEST_RETRY_AFTER: u64 = 60 * 60;

/// Header carrying the idempotency key upstream.
pub(super) const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// What a call does when the upstream answers 429.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On429 {
    /// Fail at once with [`GatewayError::UpstreamBusy`] (the cache decides).
    Fail,
    /// Wait `Retry-After` when it is within the bound and retry once.
    WaitAndRetry,
}

/// One upstream call.
#[derive(Debug, Clone)]
pub struct Call {
    method: Method,
    path: String,
    route: &'static str,
    query: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
    idempotency_key: Option<String>,
    class: CallClass,
    ticket: Option<QueueTicket>,
    caller: Option<Caller>,
}

impl Call {
    /// A GET of `path`; `route` names it in logs.
    pub fn get(route: &'static str, path: impl Into<String>) -> Call {
        Call {
            method: Method::GET,
            path: path.into(),
            route,
            query: Vec::new(),
            body: None,
            idempotency_key: None,
            class: CallClass::Read,
            ticket: None,
            caller: None,
        }
    }

    /// A POST of `path` with an optional JSON body.
    pub fn post<B: Serialize>(
        route: &'static str,
        path: impl Into<String>,
        body: Option<&B>,
    ) -> Result<Call, GatewayError> {
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|error| GatewayError::BadGateway(format!("encoding a request: {error}")))?;
        Ok(Call {
            method: Method::POST,
            body,
            class: CallClass::Write,
            ..Call::get(route, path)
        })
    }

    /// A DELETE of `path`.
    pub fn delete(route: &'static str, path: impl Into<String>) -> Call {
        Call {
            method: Method::DELETE,
            class: CallClass::Write,
            ..Call::get(route, path)
        }
    }

    /// Marks a write that starts a candidate's operation (a hold, a
    /// booking): over the rate limit it is queued rather than kept waiting,
    /// and `ticket` (from an earlier queued answer) claims its turn.
    pub fn queueable(mut self, ticket: Option<String>) -> Call {
        self.class = CallClass::QueueableWrite;
        self.ticket = ticket.map(QueueTicket);
        self
    }

    /// Makes the call for `caller`, whose fair share of the upstream's
    /// rate limit it takes.
    pub fn by(mut self, caller: &Caller) -> Call {
        self.caller = Some(caller.clone());
        self
    }

    /// The same call sent again within the operation (after a 401 or a
    /// 429): it waits for a slot of its own.
    fn again(&self) -> Call {
        let class = match self.class {
            CallClass::Read => CallClass::Read,
            CallClass::Write | CallClass::QueueableWrite => CallClass::Write,
        };
        Call {
            class,
            ticket: None,
            ..self.clone()
        }
    }

    /// Adds a query parameter.
    pub fn query(mut self, name: &'static str, value: impl ToString) -> Call {
        self.query.push((name, value.to_string()));
        self
    }

    /// Sends an `Idempotency-Key`.
    pub fn idempotency_key(mut self, key: String) -> Call {
        self.idempotency_key = Some(key);
        self
    }
}

/// An upstream answer that was neither a transport failure, a 5xx nor a
/// rate limit: a 2xx or a 4xx the caller interprets.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    /// The body.
    pub body: Bytes,
    /// The headers.
    pub headers: HeaderMap,
    /// The endpoint that answered.
    pub endpoint: Endpoint,
    /// Where the drift found in the answer is counted.
    pub metrics: Arc<Metrics>,
}

impl Reply {
    /// Decodes a 2xx JSON body, its drift from `T`'s shape logged first;
    /// maps 404 to `not_found` and 422 to a validation error with the
    /// upstream's field errors.
    pub fn json<T: DeserializeOwned + Answer>(
        self,
        not_found: &'static str,
    ) -> Result<T, GatewayError> {
        if !self.status.is_success() {
            return Err(self.into_error(not_found));
        }
        let answer: serde_json::Value = serde_json::from_slice(&self.body)
            .map_err(|error| GatewayError::BadGateway(unreadable(&error)))?;
        self.metrics.drift(
            &self.endpoint,
            drift::check(&self.endpoint, &answer, &T::SHAPE),
        );
        serde_json::from_value(answer).map_err(|error| GatewayError::BadGateway(unreadable(&error)))
    }

    /// Reads the body as `T` whatever the status, its drift from `T`'s
    /// shape logged first; `None` when it cannot be read (a 409's details
    /// are a bonus, never a requirement).
    pub fn details<T: DeserializeOwned + Answer>(&self) -> Option<T> {
        let answer: serde_json::Value = serde_json::from_slice(&self.body).ok()?;
        self.metrics.drift(
            &self.endpoint,
            drift::check(&self.endpoint, &answer, &T::SHAPE),
        );
        serde_json::from_value(answer).ok()
    }

    /// The error a non-2xx answer stands for.
    pub fn into_error(self, not_found: &'static str) -> GatewayError {
        self.into_error_or(not_found, REFUSED)
    }

    /// As [`Reply::into_error`], with `refused` as the message of a 422 whose
    /// body gives none (an upstream that sends only what is documented).
    pub fn into_error_or(self, not_found: &'static str, refused: &'static str) -> GatewayError {
        match self.status {
            StatusCode::NOT_FOUND => GatewayError::NotFound(not_found),
            StatusCode::UNPROCESSABLE_ENTITY => {
                GatewayError::Validation(validation(self.details().unwrap_or_default(), refused))
            }
            status => GatewayError::BadGateway(format!("unexpected upstream status {status}")),
        }
    }
}

/// Why an answer did not decode, without quoting it (it may hold personal
/// data): the kind of error and where (a JSON text's line and column; for
/// an answer read but not of the expected type, the fields it differs in
/// are logged as drift just before).
pub fn unreadable(error: &serde_json::Error) -> String {
    match error.line() {
        0 => format!(
            "unreadable upstream answer ({:?} error: see the drift logged for it)",
            error.classify()
        ),
        line => format!(
            "unreadable upstream answer ({:?} error at line {line} column {})",
            error.classify(),
            error.column()
        ),
    }
}

/// The message of a 422 that gives none.
const REFUSED: &str = "The booking service did not accept the request.";

/// The upstream's 422 body with `hold_hash` errors renamed to `hold_ref`
/// (the widget never sees hold hashes as fields), and `refused` as its
/// message when the upstream's is unreadable or blank.
fn validation(mut error: ValidationError, refused: &str) -> ValidationError {
    if error.message.trim().is_empty() {
        refused.clone_into(&mut error.message);
    }
    if let Some(messages) = error.errors.remove("hold_hash") {
        error.errors.insert("hold_ref".to_owned(), messages);
    }
    error
}

/// The live token pair and when its parts lapse.
struct TokenState {
    access: Secret,
    refresh: Secret,
    access_expires_at: Instant,
    refresh_expires_at: Instant,
}

impl TokenState {
    fn from_pair(pair: TokenPair, now: Instant) -> TokenState {
        TokenState {
            access_expires_at: now + Duration::from_secs(pair.access_seconds()),
            refresh_expires_at: now + Duration::from_secs(pair.refresh_seconds()),
            access: Secret::new(pair.access_token),
            refresh: Secret::new(pair.refresh_token),
        }
    }
}

/// What to do before using the current token pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Renewal {
    /// The access token is good.
    Keep,
    /// Refresh the access token with the refresh token.
    Refresh,
    /// Exchange the credentials for a new pair.
    Exchange,
}

/// Whether a token pair needs renewing at `now`: within [`REFRESH_MARGIN`]
/// of the access token's expiry it is refreshed, and once the refresh token
/// is (nearly) spent the credentials are exchanged again.
fn renewal(state: Option<&TokenState>, now: Instant) -> Renewal {
    match state {
        None => Renewal::Exchange,
        Some(state) if now + REFRESH_MARGIN < state.access_expires_at => Renewal::Keep,
        Some(state) if now + REFRESH_MARGIN < state.refresh_expires_at => Renewal::Refresh,
        Some(_) => Renewal::Exchange,
    }
}

/// The upstream API client.
pub struct Upstream {
    product: Product,
    http: reqwest::Client,
    base: String,
    credentials: Option<Credentials>,
    tokens: Mutex<Option<TokenState>>,
    max_retry_wait: Duration,
    /// Where the budget, the token's lifetime and the waits read the time.
    clock: Clock,
    budget: CallBudget,
    /// When the upstream last answered a call with a 2xx, by [`Clock`].
    last_answered: std::sync::Mutex<Option<Instant>>,
    /// The gateway instance's metrics, where its calls are counted.
    metrics: Arc<Metrics>,
}

impl Upstream {
    /// A client for `product`'s API at `base` (e.g.
    /// `https://tdta.hbcompliance.co.uk/api/v1`). Without credentials every
    /// call answers [`GatewayError::NotConfigured`]. Calls are spread so
    /// that no more than `budget` allows are sent. They are counted in
    /// metrics of their own until [`Upstream::counted_in`] says where.
    pub fn new(
        product: Product,
        base: &str,
        credentials: Option<Credentials>,
        timeout: Duration,
        max_retry_wait: Duration,
        clock: Clock,
        budget: CallBudget,
    ) -> Result<Upstream, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("hbg-booking-gateway/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Upstream {
            product,
            http,
            base: base.trim_end_matches('/').to_owned(),
            credentials,
            tokens: Mutex::new(None),
            max_retry_wait,
            clock,
            budget,
            last_answered: std::sync::Mutex::new(None),
            metrics: Arc::default(),
        })
    }

    /// The same client, its calls counted in the gateway instance's
    /// `metrics`.
    pub fn counted_in(mut self, metrics: Arc<Metrics>) -> Upstream {
        self.metrics = metrics;
        self
    }

    /// The gateway instance's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// How many holds and bookings wait in the queue of this upstream's
    /// budget now.
    pub fn queue_length(&self) -> usize {
        self.budget.waiting(self.clock.now())
    }

    /// When the upstream last answered a call (the token's included) with
    /// a 2xx, by the gateway's clock.
    pub fn last_answered(&self) -> Option<Instant> {
        *self
            .last_answered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether a token pair is held whose access token is good for now,
    /// so a call needs no exchange or refresh first.
    pub async fn holds_token(&self) -> bool {
        renewal(self.tokens.lock().await.as_ref(), self.clock.now()) == Renewal::Keep
    }

    /// Makes sure a good access token is held, exchanging or refreshing as
    /// a call would.
    pub async fn ensure_token(&self) -> Result<(), GatewayError> {
        self.access_token().await.map(drop)
    }

    /// Whether it was given credentials (without them every call answers
    /// [`GatewayError::NotConfigured`]).
    pub fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }

    /// Sends a call with the access token, renewing it on a 401 and, when
    /// asked, waiting out a 429 once.
    pub async fn send(&self, call: &Call, on_429: On429) -> Result<Reply, GatewayError> {
        let reply = self.send_authorised(call).await;
        let retry_after = match &reply {
            Err(GatewayError::UpstreamBusy { retry_after }) => *retry_after,
            _ => return reply,
        };
        let wait = Duration::from_secs(retry_after);
        if on_429 == On429::Fail || wait > self.max_retry_wait {
            return reply;
        }
        tracing::info!(
            upstream = call.route,
            wait_s = retry_after,
            "upstream rate limit: waiting to retry"
        );
        self.clock.sleep(wait).await;
        self.send_authorised(&call.again()).await
    }

    /// Sends a call and decodes its 2xx JSON answer.
    pub async fn json<T: DeserializeOwned + Answer>(
        &self,
        call: &Call,
        on_429: On429,
        not_found: &'static str,
    ) -> Result<T, GatewayError> {
        self.send(call, on_429).await?.json(not_found)
    }

    async fn send_authorised(&self, call: &Call) -> Result<Reply, GatewayError> {
        let token = self.access_token().await?;
        let reply = self.send_once(call, Some(&token)).await?;
        if reply.status != StatusCode::UNAUTHORIZED {
            return Ok(reply);
        }
        tracing::info!(
            upstream = call.route,
            "upstream refused the access token: renewing it"
        );
        let token = self.renew_rejected(&token).await?;
        let reply = self.send_once(&call.again(), Some(&token)).await?;
        if reply.status == StatusCode::UNAUTHORIZED {
            return Err(GatewayError::UpstreamAuth);
        }
        Ok(reply)
    }

    /// Waits for the call's slot of the budget, or says why it is not sent.
    async fn take_slot(&self, call: &Call) -> Result<(), GatewayError> {
        let whole_seconds = |wait: Duration| wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        match self.budget.slot(
            call.class,
            call.ticket.as_ref(),
            call.caller.as_ref(),
            self.clock.now(),
        ) {
            Slot::After(wait) if wait.is_zero() => Ok(()),
            Slot::After(wait) => {
                tracing::info!(
                    upstream = call.route,
                    wait_ms = wait.as_millis() as u64,
                    "upstream rate limit: waiting for a slot"
                );
                self.clock.sleep(wait).await;
                Ok(())
            }
            Slot::Queued { ticket, wait } => {
                self.metrics.queued(wait);
                let seconds = u32::try_from(whole_seconds(wait)).unwrap_or(u32::MAX);
                tracing::info!(
                    upstream = call.route,
                    wait_s = seconds,
                    "upstream rate limit: queued"
                );
                Err(GatewayError::Queued(QueuePlace {
                    message: QueuePlace::wait_text(seconds),
                    queue_ticket: ticket.0,
                    queued_for_seconds: seconds,
                }))
            }
            Slot::Busy { wait } => {
                tracing::warn!(
                    upstream = call.route,
                    wait_s = whole_seconds(wait),
                    "upstream rate limit: no slot"
                );
                Err(GatewayError::UpstreamBusy {
                    retry_after: whole_seconds(wait),
                })
            }
            Slot::TooManyWaiting { wait } => {
                tracing::info!(
                    upstream = call.route,
                    "upstream rate limit: the caller has enough requests waiting"
                );
                Err(GatewayError::TooManyRequests {
                    retry_after: whole_seconds(wait).max(1),
                })
            }
        }
    }

    /// One HTTP exchange, in its slot of the budget; transport failures,
    /// 5xx and 429 become errors.
    async fn send_once(&self, call: &Call, token: Option<&Secret>) -> Result<Reply, GatewayError> {
        let reply = self.transmit(call, token).await?;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            let retry_after = reply
                .headers
                .get(RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.trim().parse::<u64>().ok())
                .map(|seconds| seconds.min(LONGEST_RETRY_AFTER));
            return Err(GatewayError::UpstreamBusy {
                retry_after: retry_after.unwrap_or(1),
            });
        }
        if reply.status.is_server_error() {
            return Err(GatewayError::BadGateway(format!(
                "upstream {} answered {}",
                call.route, reply.status
            )));
        }
        Ok(reply)
    }

    /// One HTTP exchange, in its slot of the budget, whatever the status:
    /// only a transport failure is an error.
    pub(crate) async fn transmit(
        &self,
        call: &Call,
        token: Option<&Secret>,
    ) -> Result<Reply, GatewayError> {
        self.take_slot(call).await?;
        let started = Instant::now();
        let mut request = self
            .http
            .request(call.method.clone(), format!("{}{}", self.base, call.path))
            .header(reqwest::header::ACCEPT, "application/json");
        if !call.query.is_empty() {
            request = request.query(&call.query);
        }
        if let Some(token) = token {
            request = request.header(AUTHORIZATION, format!("Bearer {}", token.expose()));
        }
        if let Some(key) = &call.idempotency_key {
            request = request.header(IDEMPOTENCY_KEY, key);
        }
        if let Some(id) = request_id::current() {
            request = request.header(request_id::HEADER, id.as_str());
        }
        if let Some(body) = &call.body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let outcome = match request.send().await {
            Ok(response) => {
                let status = response.status();
                let headers = response.headers().clone();
                response.bytes().await.map(|body| (status, headers, body))
            }
            Err(error) => Err(error),
        };
        let elapsed_ms = started.elapsed().as_millis() as u64;
        self.metrics.upstream_call(
            self.product,
            call.route,
            outcome.as_ref().ok().map(|(status, _, _)| *status),
        );
        let (status, headers, body) = outcome.map_err(|error| {
            let failure = transport_failure(&error);
            tracing::warn!(
                upstream = call.route,
                method = %call.method,
                elapsed_ms,
                failure = %failure,
                "upstream call failed"
            );
            failure
        })?;
        tracing::debug!(
            upstream = call.route,
            method = %call.method,
            status = status.as_u16(),
            elapsed_ms,
            "upstream call"
        );
        if status.is_success() {
            *self
                .last_answered
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(self.clock.now());
        }
        Ok(Reply {
            status,
            body,
            headers,
            endpoint: Endpoint {
                product: self.product,
                method: call.method.clone(),
                route: call.route,
            },
            metrics: self.metrics.clone(),
        })
    }

    /// The current access token, exchanging or refreshing first if needed.
    async fn access_token(&self) -> Result<Secret, GatewayError> {
        let mut tokens = self.tokens.lock().await;
        match renewal(tokens.as_ref(), self.clock.now()) {
            Renewal::Keep => {}
            Renewal::Refresh => self.refresh_or_exchange(&mut tokens).await?,
            Renewal::Exchange => self.exchange(&mut tokens).await?,
        }
        tokens
            .as_ref()
            .map(|state| state.access.clone())
            .ok_or(GatewayError::UpstreamAuth)
    }

    /// After a 401 with `rejected`: renew the pair unless another call has
    /// already done so, and return the token to retry with.
    async fn renew_rejected(&self, rejected: &Secret) -> Result<Secret, GatewayError> {
        let mut tokens = self.tokens.lock().await;
        let already_renewed = tokens
            .as_ref()
            .is_some_and(|state| state.access != *rejected);
        if !already_renewed {
            self.refresh_or_exchange(&mut tokens).await?;
        }
        tokens
            .as_ref()
            .map(|state| state.access.clone())
            .ok_or(GatewayError::UpstreamAuth)
    }

    async fn refresh_or_exchange(
        &self,
        tokens: &mut Option<TokenState>,
    ) -> Result<(), GatewayError> {
        let Some(refresh) = tokens.as_ref().map(|state| state.refresh.clone()) else {
            return self.exchange(tokens).await;
        };
        let body = RefreshRequest {
            refresh_token: refresh.expose().to_owned(),
        };
        let call = Call::post("/auth/refresh", "/auth/refresh", Some(&body))?;
        let reply = self.send_once(&call, None).await?;
        if reply.status.is_success() {
            let pair: TokenPair = reply.json("")?;
            *tokens = Some(TokenState::from_pair(pair, self.clock.now()));
            tracing::info!("refreshed the upstream access token");
            return Ok(());
        }
        tracing::info!(
            status = reply.status.as_u16(),
            "upstream refused the refresh token: exchanging the credentials again"
        );
        self.exchange(tokens).await
    }

    /// The call exchanging the credentials for a token pair.
    pub(crate) fn token_call(&self) -> Result<Call, GatewayError> {
        let credentials = self
            .credentials
            .as_ref()
            .ok_or(GatewayError::NotConfigured)?;
        let body = TokenRequest {
            hb_client_id: credentials.client_id.clone(),
            api_key: credentials.api_key.expose().to_owned(),
        };
        Call::post("/auth/token", "/auth/token", Some(&body))
    }

    async fn exchange(&self, tokens: &mut Option<TokenState>) -> Result<(), GatewayError> {
        let call = self.token_call()?;
        let reply = self.send_once(&call, None).await?;
        match reply.status {
            status if status.is_success() => {
                let pair: TokenPair = reply.json("")?;
                *tokens = Some(TokenState::from_pair(pair, self.clock.now()));
                tracing::info!("exchanged the API credentials for a token pair");
                Ok(())
            }
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::UNPROCESSABLE_ENTITY => {
                *tokens = None;
                Err(GatewayError::UpstreamAuth)
            }
            status => Err(GatewayError::BadGateway(format!(
                "token exchange answered {status}"
            ))),
        }
    }

    /// Revokes the current access token (on shutdown). Failures are logged:
    /// the token lapses within the hour anyway.
    pub async fn revoke(&self) {
        let Some(state) = self.tokens.lock().await.take() else {
            return;
        };
        let call = Call {
            method: Method::POST,
            class: CallClass::Write,
            ..Call::get("/auth/revoke", "/auth/revoke")
        };
        match self.send_once(&call, Some(&state.access)).await {
            Ok(reply) if reply.status.is_success() => {
                tracing::info!("revoked the upstream access token");
            }
            Ok(reply) => {
                tracing::warn!(
                    status = reply.status.as_u16(),
                    "revoking the upstream token failed"
                );
            }
            Err(_) => tracing::warn!("revoking the upstream token failed"),
        }
    }
}

/// The error a failed HTTP exchange stands for.
fn transport_failure(error: &reqwest::Error) -> GatewayError {
    if error.is_timeout() {
        GatewayError::Timeout
    } else if error.is_connect() {
        GatewayError::Unreachable
    } else {
        GatewayError::BadGateway("the upstream connection failed".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use booking_core::api::bls::VirtualBooking;

    use super::*;

    fn state(now: Instant, access_s: u64, refresh_s: u64) -> TokenState {
        TokenState {
            access: Secret::new("a".into()),
            refresh: Secret::new("r".into()),
            access_expires_at: now + Duration::from_secs(access_s),
            refresh_expires_at: now + Duration::from_secs(refresh_s),
        }
    }

    #[test]
    fn tokens_are_renewed_a_minute_before_expiry() {
        let now = Instant::now();
        assert_eq!(renewal(None, now), Renewal::Exchange);
        assert_eq!(
            renewal(Some(&state(now, 3600, 604_800)), now),
            Renewal::Keep
        );
        assert_eq!(renewal(Some(&state(now, 61, 604_800)), now), Renewal::Keep);
        assert_eq!(
            renewal(Some(&state(now, 60, 604_800)), now),
            Renewal::Refresh
        );
        assert_eq!(
            renewal(Some(&state(now, 0, 604_800)), now),
            Renewal::Refresh
        );
        assert_eq!(renewal(Some(&state(now, 10, 30)), now), Renewal::Exchange);
    }

    /// An answer of `route` with this status and body.
    fn reply(route: &'static str, status: StatusCode, body: &'static [u8]) -> Reply {
        Reply {
            status,
            body: Bytes::from_static(body),
            headers: HeaderMap::new(),
            endpoint: Endpoint {
                product: Product::VirtualBls,
                method: Method::POST,
                route,
            },
            metrics: Arc::default(),
        }
    }

    /// The 422 a body stands for.
    fn refusal(body: &'static [u8]) -> ValidationError {
        let answer = reply("/upstream-test/422", StatusCode::UNPROCESSABLE_ENTITY, body);
        let GatewayError::Validation(error) = answer.into_error("") else {
            panic!("a 422 is a validation error");
        };
        error
    }

    #[test]
    fn hold_hash_errors_are_renamed_for_the_widget() {
        let error = refusal(
            br#"{"message":"The hold has expired.","errors":{"hold_hash":["The hold has expired."],"email":["Bad."]}}"#,
        );
        assert_eq!(error.message, "The hold has expired.");
        assert!(error.errors.contains_key("hold_ref"));
        assert!(!error.errors.contains_key("hold_hash"));
        assert!(error.errors.contains_key("email"));
    }

    #[test]
    fn an_unreadable_answer_is_described_without_quoting_it() {
        let answer = reply(
            "/upstream-test/unreadable",
            StatusCode::OK,
            br#"{"id":"Priya Patel"}"#,
        );
        let Err(GatewayError::BadGateway(reason)) = answer.json::<booking_core::api::Trainer>("")
        else {
            panic!("an unreadable answer is a bad gateway");
        };
        assert!(!reason.contains("Priya"), "{reason}");
    }

    #[test]
    fn an_unreadable_or_blank_validation_body_still_gives_a_message() {
        for body in [
            &b"<html>"[..],
            br#"{"message":"","errors":{"email":[]}}"#,
            b"{}",
        ] {
            assert!(!refusal(body).message.trim().is_empty());
        }
    }

    #[test]
    fn a_booking_without_an_inferred_field_is_read_and_the_field_logged_once() {
        let body = br#"{"id":7731,"candidate":{"name":"Owen Hughes","email":"owen@example.com"},
            "course":{"id":41,"name":"BLS Annual Update (Virtual)"},
            "start_date":"2026-09-02T14:00:00+01:00","end_date":"2026-09-02T15:00:00+01:00",
            "booking_status":"booked","pay_status":"completed","pay_option":"credits",
            "booked_by":"Agency","virtual":{"zoom_id":"845 112 9034",
            "zoom_link":"https://zoom.us/j/8451129034","zoom_password":"k7Tq2w"},
            "equipment_status":"out","certificate_available":false,
            "created_at":"2026-08-28T10:41:12+00:00","loyalty_points":12}"#;
        let log = drift::tests::Captured::default();
        let read = log.during(|| {
            (0..2)
                .map(|_| {
                    reply("/upstream-test/bookings", StatusCode::CREATED, body)
                        .json::<VirtualBooking>("")
                })
                .collect::<Vec<_>>()
        });
        for booking in read {
            let booking = booking.expect("the booking is read");
            assert_eq!(booking.id, 7731);
            assert_eq!(booking.training_status, None);
        }
        let text = log.text();
        for field in ["training_status", "loyalty_points"] {
            assert_eq!(
                text.matches(&format!("field={field} ")).count(),
                1,
                "{text}"
            );
        }
        assert!(!text.contains("Owen") && !text.contains("k7Tq2w"), "{text}");
    }
}
