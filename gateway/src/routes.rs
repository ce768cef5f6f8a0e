//! The `/api` handlers: the widget contract of `booking_core::widget_api`,
//! and nothing else of the upstream API.
//!
//! Invariants: every route but `options` and the release beacon needs a
//! verified session; a hold or booking reference that does not open for the
//! caller's session is answered exactly like an unknown one (404); a 409 on
//! hold returns the existing hold only to the session whose reference names
//! it and tells anyone else only until when the seat is held; pay options
//! are checked against the policy before the upstream is called; agency
//! fields come from the configuration; a `payment_url` off the allow-list is
//! never handed to the widget; reads go through the cache.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use booking_core::api::bls::{Timeslot, VirtualBooking};
use booking_core::api::hold_seconds;
use booking_core::api::{
    BookingDetail, ClientProfile, Course, CreditsResponse, Money, Page, PayOption, Timestamp,
    TrainingEvent, ValidationError,
};
use booking_core::contract::Answer;
use booking_core::product::Product;
use booking_core::uk_time;
use booking_core::widget_api::{
    BookingReceipt, BookingRequest, HeldSeat, HeldTimeslot, HoldRequest, KitAddress, ReleaseBeacon,
    SeatTaken, SlotHoldRequest, UnusablePayOptions, WidgetOptions, IDEMPOTENCY_HEADER,
    QUEUE_TICKET_HEADER, SESSION_HEADER,
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::budget::Caller;
use super::cache::Freshness;
use super::errors::GatewayError;
use super::memory::{Attempt, Begun, HoldOwner, NewAttempt, Outcome, Reserved};
use super::product::{
    ConflictBody, GrantedHold, HoldPlace, MadeBooking, ProductQuery, ProductUpstream,
};
use super::session::{is_valid_idempotency_key, SessionId};
use super::upstream::{Call, On429, Reply};
use super::{manage, AppState, ClientAddress};

/// Shared state of the handlers.
type Shared = State<Arc<AppState>>;

/// Largest number of pages merged into one list.
const MAX_PAGES: u32 = 50;

/// Items asked for per upstream page at first: the documented largest.
pub(super) const LARGEST_PAGE: u32 = 100;

/// Items asked for per upstream page once the upstream refused
/// [`LARGEST_PAGE`] (its largest page is not documented).
const SMALLER_PAGE: u32 = 50;

const HOLD_NOT_FOUND: &str =
    "That seat hold was not found. It may have expired: hold the seat again.";
pub(super) const BOOKING_NOT_FOUND: &str = "That booking was not found.";
/// A release the upstream refused without saying why: the hold is no
/// longer live, for one of the reasons it can stop being.
const RELEASE_REFUSED: &str =
    "This seat is no longer held: the hold was released, it lapsed, or a booking used it.";

/// A verified widget session from [`SESSION_HEADER`].
pub struct WidgetSession(pub SessionId);

impl FromRequestParts<Arc<AppState>> for WidgetSession {
    type Rejection = GatewayError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        session_from(&parts.headers, state)
            .map(WidgetSession)
            .ok_or(GatewayError::NoSession)
    }
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = std::convert::Infallible;

    /// The request's client address (as the rate limit put it in the
    /// extensions) and its session, as keys naming neither.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let address = parts
            .extensions
            .get::<ClientAddress>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |client| client.0);
        let address = state.signer.address_key(address);
        let session = match session_from(&parts.headers, state) {
            Some(session) => state.signer.owner_key(&session),
            None => format!("no-session:{address}"),
        };
        Ok(Caller {
            address: address.into(),
            session: session.into(),
        })
    }
}

fn session_from(headers: &HeaderMap, state: &AppState) -> Option<SessionId> {
    headers
        .get(SESSION_HEADER)
        .and_then(|value| value.to_str().ok())
        .and_then(|token| state.signer.verify_session(token, state.clock.utc()))
}

/// A JSON body whatever its content type (the release beacon is
/// `text/plain`); a bad body is a 422 naming the problem, never a 500, and
/// one that does not arrive within `body_timeout` a 408.
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = GatewayError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    GatewayError::PayloadTooLarge
                } else if super::body_timed_out(&rejection) {
                    GatewayError::BodyTimeout
                } else {
                    GatewayError::BadRequest("The request body could not be read.")
                }
            })?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|error| invalid_body(&error))
    }
}

/// The 422 for a body that does not decode: a missing field is named as
/// that field's error.
fn invalid_body(error: &serde_json::Error) -> GatewayError {
    let text = error.to_string();
    let missing = text
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(field, _)| field.to_owned());
    match missing {
        Some(field) => GatewayError::invalid(&field, format!("The {field} field is required.")),
        None => GatewayError::Validation(ValidationError {
            message: format!("The request body is not valid: {text}."),
            errors: BTreeMap::new(),
        }),
    }
}

/// A cached JSON answer.
fn json_bytes(bytes: Bytes) -> Response {
    (
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        bytes,
    )
        .into_response()
}

fn to_bytes<T: Serialize>(value: &T) -> Result<Bytes, GatewayError> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|error| GatewayError::BadGateway(format!("encoding an answer: {error}")))
}

/// Every page of an upstream list, merged. Pages are as large as the
/// upstream accepts: a 422 on `per_page` makes the gateway ask for smaller
/// pages from then on, starting the list again.
async fn all_pages<T: DeserializeOwned + Answer>(
    product: &ProductUpstream,
    route: &'static str,
    query: &[(&'static str, String)],
    caller: &Caller,
) -> Result<Vec<T>, GatewayError> {
    let mut items = Vec::new();
    let mut page = 1;
    loop {
        let per_page = product.page_size.load(Ordering::Relaxed);
        let mut call = Call::get(route, route)
            .by(caller)
            .query("page", page)
            .query("per_page", per_page);
        for (name, value) in query {
            call = call.query(name, value);
        }
        let batch: Page<T> = match product
            .upstream
            .json(&call, On429::Fail, "Not found.")
            .await
        {
            Err(GatewayError::Validation(error))
                if error.errors.contains_key("per_page") && per_page > SMALLER_PAGE =>
            {
                tracing::warn!(
                    per_page,
                    "the upstream refused the page size: asking for {SMALLER_PAGE}"
                );
                product.page_size.store(SMALLER_PAGE, Ordering::Relaxed);
                items.clear();
                page = 1;
                continue;
            }
            other => other?,
        };
        let last_page = batch.meta.last_page;
        let empty = batch.data.is_empty();
        items.extend(batch.data);
        if empty || page >= last_page || page >= MAX_PAGES {
            return Ok(items);
        }
        page += 1;
    }
}

/// A product's account profile, cached with the catalogue; `None` when the
/// upstream has no profile endpoint (it is inferred for Practical Training,
/// and Virtual BLS has none).
async fn profile(
    state: &AppState,
    product: &ProductUpstream,
    caller: &Caller,
) -> Result<Option<ClientProfile>, GatewayError> {
    let loaded = state
        .cache
        .get(
            Freshness::Catalogue,
            format!("{}/profile", product.product),
            || async {
                let profile: ClientProfile = product
                    .upstream
                    .json(
                        &Call::get("/profile", "/profile").by(caller),
                        On429::Fail,
                        "Not found.",
                    )
                    .await?;
                to_bytes(&profile)
            },
        )
        .await;
    let bytes = match loaded {
        Ok(bytes) => bytes,
        Err(GatewayError::NotFound(_)) => {
            tracing::warn!(product = %product.product, "the upstream has no account profile: offering the configured pay options as they are");
            return Ok(None);
        }
        Err(error) => return Err(error),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|error| GatewayError::BadGateway(super::upstream::unreadable(&error)))
}

/// The agency's name when the product's upstream has no profile: another
/// configured product's profile name, if one answers.
async fn name_elsewhere(state: &AppState, asked: Product, caller: &Caller) -> String {
    for other in state.products.iter().filter(|p| p.product != asked) {
        if let Ok(Some(profile)) = profile(state, other, caller).await {
            return profile.name;
        }
    }
    String::new()
}

/// `GET /api/options?product=`.
pub async fn options(
    State(state): Shared,
    caller: Caller,
    headers: HeaderMap,
    Query(query): Query<ProductQuery>,
) -> Result<Json<WidgetOptions>, GatewayError> {
    let asked = query.product()?;
    let product = state.product(asked)?;
    let profile = profile(&state, product, &caller).await?;
    let session = match session_from(&headers, &state) {
        Some(_) => None,
        None => Some(state.signer.new_session(state.clock.utc()).1),
    };
    let (name, invoice_payments) = match profile {
        Some(profile) => (profile.name, profile.invoice_payments),
        None if state.account_name.is_some() => (String::new(), None),
        None => (name_elsewhere(&state, asked, &caller).await, None),
    };
    Ok(Json(WidgetOptions {
        account_name: state.account_name.clone().unwrap_or(name),
        pay_options: product.policy.offered(invoice_payments),
        payment_origins: product.policy.payment_origins().to_vec(),
        session,
        products: state
            .products
            .iter()
            .filter(|configured| configured.upstream.has_credentials())
            .map(|configured| configured.product)
            .collect(),
    }))
}

/// `GET /api/courses?product=`.
pub async fn courses(
    State(state): Shared,
    _session: WidgetSession,
    caller: Caller,
    Query(query): Query<ProductQuery>,
) -> Result<Response, GatewayError> {
    let product = state.product(query.product()?)?;
    Ok(json_bytes(course_list(&state, product, &caller).await?))
}

/// A product's courses as JSON, from the catalogue cache.
pub(super) async fn course_list(
    state: &AppState,
    product: &ProductUpstream,
    caller: &Caller,
) -> Result<Bytes, GatewayError> {
    state
        .cache
        .get(
            Freshness::Catalogue,
            format!("{}/courses", product.product),
            || async { to_bytes(&all_pages::<Course>(product, "/courses", &[], caller).await?) },
        )
        .await
}

/// Query of `GET /api/training-events`.
#[derive(Debug, Default, Deserialize)]
pub struct EventFilter {
    course_id: Option<String>,
    location_id: Option<String>,
}

fn id_filter(field: &str, value: Option<&str>) -> Result<Option<u64>, GatewayError> {
    match value.map(str::trim).filter(|value| !value.is_empty()) {
        None => Ok(None),
        Some(value) => value
            .parse()
            .map(Some)
            .map_err(|_| GatewayError::invalid(field, format!("The {field} must be a number."))),
    }
}

/// A cached list read of every page of `route` with `query`, as JSON.
pub(super) async fn cached_list<T: DeserializeOwned + Serialize + Answer>(
    state: &AppState,
    product: &ProductUpstream,
    route: &'static str,
    query: Vec<(&'static str, String)>,
    caller: &Caller,
) -> Result<Bytes, GatewayError> {
    let key = query
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&");
    state
        .cache
        .get(
            Freshness::Events,
            format!("{}{route}?{key}", product.product),
            || async { to_bytes(&all_pages::<T>(product, route, &query, caller).await?) },
        )
        .await
}

/// `GET /api/training-events?course_id=&location_id=`: every upcoming page,
/// each event another session holds marked busy when the upstream has been
/// seen to allow one hold per event or one in all ([`HoldScope`]).
pub async fn training_events(
    State(state): Shared,
    WidgetSession(session): WidgetSession,
    caller: Caller,
    Query(filter): Query<EventFilter>,
) -> Result<Response, GatewayError> {
    let product = state.product(Product::Practical)?;
    let mut query = Vec::new();
    if let Some(id) = id_filter("course_id", filter.course_id.as_deref())? {
        query.push(("course_id", id.to_string()));
    }
    if let Some(id) = id_filter("location_id", filter.location_id.as_deref())? {
        query.push(("location_id", id.to_string()));
    }
    let bytes =
        cached_list::<TrainingEvent>(&state, product, "/training-events", query, &caller).await?;
    if state.hold_scope.get() == HoldScope::Unknown {
        return Ok(json_bytes(bytes));
    }
    let mut events: Vec<TrainingEvent> = serde_json::from_slice(&bytes)
        .map_err(|error| GatewayError::BadGateway(format!("re-reading cached events: {error}")))?;
    mark_busy(&state, &session, &mut events).await;
    Ok(json_bytes(to_bytes(&events)?))
}

/// What the upstream has been seen to allow an account: the scope of its
/// holds, learnt from a 409 that met another session's hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HoldScope {
    /// No such 409 yet (or an upstream that allows several holds).
    Unknown,
    /// One live hold per event: another session's hold on it was met.
    Event,
    /// One live hold in all: another session's hold on another event was met.
    Account,
}

/// The [`HoldScope`] of Practical Training's events learnt so far; it only
/// ever widens.
#[derive(Debug, Default)]
pub struct HoldScopeSeen(std::sync::atomic::AtomicU8);

impl HoldScopeSeen {
    /// The scope learnt so far.
    pub fn get(&self) -> HoldScope {
        match self.0.load(Ordering::Relaxed) {
            0 => HoldScope::Unknown,
            1 => HoldScope::Event,
            _ => HoldScope::Account,
        }
    }

    /// Learns from a 409 that met another session's hold at `place`.
    fn seen(&self, place: HeldWhere) {
        let scope = match place {
            HeldWhere::Unknown => return,
            HeldWhere::ThisEvent => 1,
            HeldWhere::AnotherEvent => 2,
        };
        self.0.fetch_max(scope, Ordering::Relaxed);
    }
}

/// How long the events list waits for its busy marks from a shared store
/// before it is sent without them.
const BUSY_MARKS_PATIENCE: std::time::Duration = std::time::Duration::from_millis(750);

/// Marks each event whose seat no one else can hold now: under
/// [`HoldScope::Event`], an event another session holds; under
/// [`HoldScope::Account`], every event while any hold is live. An event
/// this session holds itself is not marked. The marks are looked up in one
/// round trip; when the memory does not answer within
/// [`BUSY_MARKS_PATIENCE`], the events go out unmarked (degraded: the
/// upstream's 409 still tells a candidate who tries a held seat).
async fn mark_busy(state: &AppState, session: &SessionId, events: &mut [TrainingEvent]) {
    let scope = state.hold_scope.get();
    if scope == HoldScope::Unknown {
        return;
    }
    let mut open: Vec<&mut TrainingEvent> =
        events.iter_mut().filter(|event| !event.is_full()).collect();
    let places: Vec<(String, String)> = open
        .iter()
        .map(|event| {
            let place = event.id.to_string();
            let own = state.signer.hold_key(session, &place);
            (place, own)
        })
        .collect();
    let lookup =
        state
            .memory
            .blocked_places(&places, scope == HoldScope::Account, state.clock.utc());
    let blocked = match tokio::time::timeout(BUSY_MARKS_PATIENCE, lookup).await {
        Ok(Ok(blocked)) => blocked,
        Ok(Err(error)) => {
            tracing::warn!(%error, "degraded: events listed without busy marks");
            return;
        }
        Err(_) => {
            tracing::warn!("degraded: the memory did not answer, events listed without busy marks");
            return;
        }
    };
    for (event, frees_in) in open.iter_mut().zip(blocked) {
        if let Some(seconds) = frees_in {
            event.busy_for_seconds = u32::try_from(seconds).ok();
        }
    }
}

/// Query of `GET /api/timeslots`.
#[derive(Debug, Default, Deserialize)]
pub struct SlotFilter {
    course_id: Option<String>,
    date_from: Option<String>,
    date_to: Option<String>,
}

/// The longest range of dates one timeslot read may cover: a booking
/// window (90 days) and a few days more, so a month grid's weeks fit.
pub(super) const MAX_SLOT_RANGE_DAYS: i64 = 100;

fn date_filter(field: &str, value: Option<&str>) -> Result<Option<NaiveDate>, GatewayError> {
    match value.map(str::trim).filter(|value| !value.is_empty()) {
        None => Ok(None),
        Some(value) => NaiveDate::parse_from_str(value, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                GatewayError::invalid(
                    field,
                    format!("The {field} must be a date written YYYY-MM-DD."),
                )
            }),
    }
}

/// `GET /api/timeslots?course_id=&date_from=&date_to=`: every page of the
/// Virtual BLS timeslots of a course in a range of UK dates.
pub async fn timeslots(
    State(state): Shared,
    _session: WidgetSession,
    caller: Caller,
    Query(filter): Query<SlotFilter>,
) -> Result<Response, GatewayError> {
    let product = state.product(Product::VirtualBls)?;
    let course_id = id_filter("course_id", filter.course_id.as_deref())?
        .ok_or_else(|| GatewayError::invalid("course_id", "The course_id field is required."))?;
    let from = date_filter("date_from", filter.date_from.as_deref())?;
    let to = date_filter("date_to", filter.date_to.as_deref())?;
    if let (Some(from), Some(to)) = (from, to) {
        if to < from {
            return Err(GatewayError::invalid(
                "date_to",
                "The date_to must be a date after or equal to date_from.",
            ));
        }
        if (to - from).num_days() >= MAX_SLOT_RANGE_DAYS {
            return Err(GatewayError::invalid(
                "date_to",
                format!("Ask for at most {MAX_SLOT_RANGE_DAYS} days of timeslots at a time."),
            ));
        }
    }
    let mut query = vec![("course_id", course_id.to_string())];
    query.extend(from.map(|from| ("date_from", from.to_string())));
    query.extend(to.map(|to| ("date_to", to.to_string())));
    let bytes = cached_list::<Timeslot>(&state, product, "/timeslots", query, &caller).await?;
    Ok(json_bytes(bytes))
}

/// `POST /api/holds`: a seat on a training event.
pub async fn hold(
    State(state): Shared,
    WidgetSession(session): WidgetSession,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(request): JsonBody<HoldRequest>,
) -> Result<Json<HeldSeat>, GatewayError> {
    let holder = Holder {
        session: &session,
        caller: &caller,
    };
    let (hold_ref, hold) = hold_place(&state, holder, &request, queue_ticket(&headers)).await?;
    Ok(Json(HeldSeat { hold_ref, hold }))
}

/// `POST /api/timeslot-holds`: a Virtual BLS timeslot.
pub async fn hold_timeslot(
    State(state): Shared,
    WidgetSession(session): WidgetSession,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(request): JsonBody<SlotHoldRequest>,
) -> Result<Json<HeldTimeslot>, GatewayError> {
    let holder = Holder {
        session: &session,
        caller: &caller,
    };
    let (hold_ref, hold) = hold_place(&state, holder, &request, queue_ticket(&headers)).await?;
    Ok(Json(HeldTimeslot { hold_ref, hold }))
}

/// Who asks for a hold: the widget session, and who it is for the
/// upstream's rate limit and the caps.
#[derive(Clone, Copy)]
pub(super) struct Holder<'a> {
    /// The session the hold is granted to.
    pub session: &'a SessionId,
    /// Who it is for.
    pub caller: &'a Caller,
}

impl Holder<'_> {
    /// Whose the hold is, as the memory counts live holds.
    fn owner(&self) -> HoldOwner {
        HoldOwner {
            session: self.caller.session.to_string(),
            address: self.caller.address.to_string(),
        }
    }
}

/// Holds a place (an event's seat or a timeslot) for the session, within
/// the session's and the client address's caps on live holds (a place the
/// session holds already, retried or renewed, passes): a place not granted
/// is given back to the caps, unless the upstream's answer was lost.
pub(super) async fn hold_place<P: HoldPlace>(
    state: &AppState,
    holder: Holder<'_>,
    place: &P,
    ticket: Option<String>,
) -> Result<(String, P::Hold), GatewayError> {
    let hold_key = state.signer.hold_key(holder.session, &place.key());
    let owner = holder.owner();
    let reserved = state
        .memory
        .reserve_hold(&hold_key, &owner, state.hold_caps, state.clock.utc())
        .await?;
    let held = hold_reserved_place(state, holder, place, ticket).await;
    if let Ok((_, hold)) = &held {
        state.memory.end_pending_release(hold.hold_hash()).await;
    }
    let not_granted = held
        .as_ref()
        .is_err_and(|error| !error.leaves_outcome_unknown());
    if reserved == Reserved::Anew && not_granted {
        state.memory.unreserve_hold(&hold_key, &owner).await;
    }
    held
}

/// Holds a place reserved for the session, under the lock on the place's
/// holds: a granted hold with its session-bound reference, the session's
/// own hold when a retry meets the upstream's 409, or a 409 that says until
/// when another candidate holds it. Over the upstream's rate limit, the
/// hold is queued under a ticket ([`GatewayError::Queued`]) that `ticket`
/// brings back on its turn.
async fn hold_reserved_place<P: HoldPlace>(
    state: &AppState,
    holder: Holder<'_>,
    place: &P,
    ticket: Option<String>,
) -> Result<(String, P::Hold), GatewayError> {
    let session = holder.session;
    let product = state.product(P::PRODUCT)?;
    let key = place.key();
    let first = place.hold_call()?.queueable(ticket).by(holder.caller);
    let hold_key = state.signer.hold_key(session, &key);
    if let Some(taken) = known_taken::<P>(state, place, &key, &hold_key).await {
        return Err(GatewayError::SeatTaken(taken));
    }
    let lock = state.memory.lock_place(&key, place.renew()).await;
    let asked = state.clock.utc();
    let reply = if place.renew() {
        renewed_hold(state, product, holder, place, first).await
    } else {
        product.upstream.send(&first, On429::WaitAndRetry).await
    };
    lock.unlock().await;
    let reply = match reply {
        Err(error) if error.leaves_outcome_unknown() => {
            tracing::warn!(place = %key, "a hold's answer was lost: the seat may be held unconfirmed");
            state
                .memory
                .hold_unconfirmed(&hold_key, &holder.owner(), &key, asked)
                .await;
            return Err(error);
        }
        other => other?,
    };
    if reply.status.is_success() {
        let hold = match reply.json::<P::Hold>(P::NOT_FOUND) {
            Ok(hold) => hold.within_bounds(),
            Err(unreadable) => {
                tracing::warn!(place = %key, "a hold's answer was unreadable: the seat may be held unconfirmed");
                state
                    .memory
                    .hold_unconfirmed(&hold_key, &holder.owner(), &key, asked)
                    .await;
                return Err(unreadable);
            }
        };
        tracing::info!(product = %P::PRODUCT, place = %key, "seat held");
        return grant::<P>(state, holder, &hold_key, hold).await;
    }
    if reply.status != StatusCode::CONFLICT {
        return Err(reply.into_error(P::NOT_FOUND));
    }
    let conflict: Option<P::Conflict> = reply.details();
    let now = state.clock.utc();
    let own_hash = place
        .hold_ref()
        .and_then(|hold_ref| state.signer.open_hold_ref(session, hold_ref, now))
        .filter(|(product, _)| *product == P::PRODUCT)
        .map(|(_, hash)| hash);
    if let (Some(own_hash), Some(conflict)) = (own_hash, &conflict) {
        if conflict.hold_hash() == Some(own_hash) {
            if let Some(hold) = conflict.existing_hold() {
                tracing::info!(place = %key, "seat already held by this session");
                let hold_ref = place.hold_ref().unwrap_or_default().to_owned();
                return Ok((hold_ref, hold));
            }
        }
    }
    if let Some((hold, lapses)) =
        own_remembered_hold::<P>(state, session, &key, conflict.as_ref()).await
    {
        tracing::info!(place = %key, "seat already held by this session (remembered)");
        let hold_ref = state
            .signer
            .hold_ref(session, P::PRODUCT, hold.hold_hash(), lapses)
            .unwrap_or_default();
        return Ok((hold_ref, hold));
    }
    if let Some(lapses) = state.memory.unconfirmed_hold(&hold_key, now).await {
        return unconfirmed_hold::<P>(state, holder, &hold_key, conflict, lapses).await;
    }
    let named_place = conflict.as_ref().and_then(ConflictBody::place_key);
    let on_this_place = match &named_place {
        Some(named) if *named != key => None,
        _ => state.memory.place_hold_frees_in(&key, now).await,
    };
    let held_where = match &named_place {
        Some(named) if *named != key => HeldWhere::AnotherEvent,
        Some(_) => HeldWhere::ThisEvent,
        None if on_this_place.is_some() => HeldWhere::ThisEvent,
        None => HeldWhere::Unknown,
    };
    // Where the 409 does not say, every hold of the agency's account on
    // such places has lapsed by the latest one known.
    let remembered = match (on_this_place, held_where) {
        (Some(seconds), _) => Some(seconds),
        (None, HeldWhere::Unknown) => state.memory.any_hold_frees_in(&key, now).await,
        (None, _) => None,
    };
    if P::PRODUCT == Product::Practical {
        state.hold_scope.seen(held_where);
    }
    if held_where == HeldWhere::ThisEvent {
        state.recent_conflicts.seen(&key, now);
    }
    let said_until = conflict.as_ref().and_then(ConflictBody::expires_at);
    let free_in_seconds = conflict
        .as_ref()
        .and_then(ConflictBody::expires_in_seconds)
        .or_else(|| said_until.map(|until| (until.with_timezone(&Utc) - now).num_seconds()))
        .or(remembered)
        .map(hold_seconds);
    let held_until = said_until.or_else(|| {
        free_in_seconds.map(|seconds| (now + chrono::Duration::seconds(seconds)).fixed_offset())
    });
    let mut taken = seat_taken(held_until, held_where);
    taken.free_in_seconds = free_in_seconds;
    Err(GatewayError::SeatTaken(taken))
}

/// The window in which the upstream's refusals of holds on a place, for
/// another session's hold, are counted: the memory is trusted to say so
/// again only within it. The upstream stays the authority on when a hold
/// ends (it may end one early, and its clock is its own).
const CONFLICT_FRESH_FOR: chrono::Duration = chrono::Duration::seconds(1);

/// Refusals in [`CONFLICT_FRESH_FOR`] that make a place contested: only
/// then is a hold on it refused from memory. A single candidate waiting
/// for a seat is always answered by the upstream; a crowd racing for one is
/// answered at once, and spends none of the upstream's calls.
const CONTESTED_AFTER: u32 = 3;

/// The most places [`RecentConflicts`] keeps.
const MAX_RECENT_CONFLICTS: usize = 10_000;

/// The upstream's recent refusals of holds on each place because another
/// session of the agency held it.
#[derive(Debug, Default)]
pub struct RecentConflicts(std::sync::Mutex<HashMap<String, Refusals>>);

/// Refusals of holds on one place in one window: when it began, when the
/// last came and how many came.
#[derive(Debug, Clone, Copy)]
struct Refusals {
    since: DateTime<Utc>,
    last: DateTime<Utc>,
    count: u32,
}

impl RecentConflicts {
    /// The upstream refused a hold on `place` at `at` for another's hold.
    fn seen(&self, place: &str, at: DateTime<Utc>) {
        let window = |since: DateTime<Utc>| at.signed_duration_since(since) < CONFLICT_FRESH_FOR;
        let mut places = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        places.retain(|_, refusals| window(refusals.last));
        let first = Refusals {
            since: at,
            last: at,
            count: 1,
        };
        let room = places.len() < MAX_RECENT_CONFLICTS;
        match places.get_mut(place) {
            Some(refusals) if window(refusals.since) => {
                refusals.last = at;
                refusals.count += 1;
            }
            Some(refusals) => *refusals = first,
            None if room => {
                places.insert(place.to_owned(), first);
            }
            None => {}
        }
    }

    /// Whether the place is contested at `now`: refused [`CONTESTED_AFTER`]
    /// times or more in one window, the last within [`CONFLICT_FRESH_FOR`].
    fn contested(&self, place: &str, now: DateTime<Utc>) -> bool {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(place)
            .is_some_and(|refusals| {
                refusals.count >= CONTESTED_AFTER
                    && now.signed_duration_since(refusals.last) < CONFLICT_FRESH_FOR
            })
    }
}

/// A seat the memory knows another session holds, on an upstream seen to
/// allow the agency's account one live hold per event (or one in all), and
/// contested ([`RecentConflicts::contested`]): the upstream would only
/// answer 409 again, so the candidate is told at once, as that 409 would
/// tell them, with no call and without waiting for the place's lock.
/// Never for a renewal, nor when the session holds the
/// place itself or asked for it and lost the answer (those need the
/// upstream).
async fn known_taken<P: HoldPlace>(
    state: &AppState,
    place: &P,
    key: &str,
    hold_key: &str,
) -> Option<SeatTaken> {
    let now = state.clock.utc();
    if P::PRODUCT != Product::Practical
        || place.renew()
        || state.hold_scope.get() == HoldScope::Unknown
        || !state.recent_conflicts.contested(key, now)
    {
        return None;
    }
    let memory = &state.memory;
    if memory
        .session_hold::<P::Hold>(hold_key, now)
        .await
        .is_some()
        || memory.unconfirmed_hold(hold_key, now).await.is_some()
    {
        return None;
    }
    let seconds = hold_seconds(memory.granted_place_hold_frees_in(key, now).await?);
    let held_until = (now + chrono::Duration::seconds(seconds)).fixed_offset();
    let mut taken = seat_taken(Some(held_until), HeldWhere::ThisEvent);
    taken.free_in_seconds = Some(seconds);
    tracing::info!(place = %key, "seat held by another session: told from memory");
    Some(taken)
}

/// Grants `hold` to the holder, as its session's hold on the place
/// `hold_key` names: its session-bound reference, remembered.
async fn grant<P: HoldPlace>(
    state: &AppState,
    holder: Holder<'_>,
    hold_key: &str,
    hold: P::Hold,
) -> Result<(String, P::Hold), GatewayError> {
    let now = state.clock.utc();
    let hold_ref = state
        .signer
        .hold_ref(
            holder.session,
            P::PRODUCT,
            hold.hold_hash(),
            hold.lapses(now),
        )
        .ok_or_else(|| {
            GatewayError::BadGateway("the upstream hold hash is not a plain token".into())
        })?;
    state
        .memory
        .held(hold_key, &holder.owner(), &hold, now)
        .await;
    Ok((hold_ref, hold))
}

/// The 409 met by a session whose earlier request for the place lost its
/// answer (the hold, if the upstream made it, lapses at `lapses`). When the
/// 409 names a hold on the place that no session was granted, it is the
/// lost request's: granted to the session like any hold. When it names
/// another session's hold, or another place's, the seat is taken as usual.
/// When it names no hold, the gateway cannot tell, and says so: the seat
/// is kept for the candidate until `lapses`, when the widget can take it.
async fn unconfirmed_hold<P: HoldPlace>(
    state: &AppState,
    holder: Holder<'_>,
    hold_key: &str,
    conflict: Option<P::Conflict>,
    lapses: DateTime<Utc>,
) -> Result<(String, P::Hold), GatewayError> {
    let named = conflict.as_ref().and_then(ConflictBody::hold_hash);
    if let Some(hold) = conflict.as_ref().and_then(ConflictBody::existing_hold) {
        let on_the_place = state.signer.hold_key(holder.session, &hold.place_key()) == hold_key;
        if on_the_place && !state.memory.hold_owned(hold.hold_hash()).await {
            tracing::info!("a hold whose answer was lost is the session's: granted");
            state.metrics.lost_hold_granted();
            return grant::<P>(state, holder, hold_key, hold.within_bounds()).await;
        }
    }
    if named.is_some() {
        let held_until = conflict.as_ref().and_then(ConflictBody::expires_at);
        let mut taken = seat_taken(held_until, HeldWhere::Unknown);
        taken.free_in_seconds = conflict.as_ref().and_then(ConflictBody::expires_in_seconds);
        return Err(GatewayError::SeatTaken(taken));
    }
    let now = state.clock.utc();
    let until = uk_time::clock_time(uk_time::to_uk(lapses).time());
    Err(GatewayError::SeatTaken(SeatTaken {
        message: format!(
            "We could not confirm your hold. It is kept for you until {until}; we will take it for you then, or choose another date."
        ),
        held_until: Some(lapses.fixed_offset()),
        free_in_seconds: Some((lapses - now).num_seconds().max(0)),
    }))
}

/// The ticket of a request sent again after its turn in the queue.
fn queue_ticket(headers: &HeaderMap) -> Option<String> {
    headers
        .get(QUEUE_TICKET_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|ticket| !ticket.is_empty() && ticket.len() <= 64)
        .map(str::to_owned)
}

/// "Keep my seat": the upstream's answer to holding the place again in
/// place of the session's hold `place.hold_ref()`, asked for while this
/// gateway's lock on the place's holds is held, so no other candidate of
/// the agency can take the seat in between. An upstream that lets an
/// account hold twice, on a place with a seat free, gives the new hold
/// before the old one is released (no gap at all); one that answers 409
/// (the live hold) or 422 (no other seat free) has the old hold released
/// and the seat held again at once. Any other answer leaves the old hold.
async fn renewed_hold<P: HoldPlace>(
    state: &AppState,
    product: &ProductUpstream,
    holder: Holder<'_>,
    place: &P,
    first: Call,
) -> Result<Reply, GatewayError> {
    let session = holder.session;
    let old_ref = place.hold_ref().ok_or(GatewayError::BadRequest(
        "Name the hold to renew in hold_ref.",
    ))?;
    let old_hash = state
        .signer
        .open_hold_ref(session, old_ref, state.clock.utc())
        .filter(|(held, _)| *held == P::PRODUCT)
        .map(|(_, hash)| hash)
        .ok_or(GatewayError::NotFound(HOLD_NOT_FOUND))?;
    let first = product.upstream.send(&first, On429::WaitAndRetry).await?;
    if first.status.is_success() {
        if let Err(error) = release_hash(state, product, old_hash, holder.caller).await {
            tracing::warn!(%error, "the renewed hold's old hold was not released");
        }
        return Ok(first);
    }
    if ![StatusCode::CONFLICT, StatusCode::UNPROCESSABLE_ENTITY].contains(&first.status) {
        return Ok(first);
    }
    match release_hash(state, product, old_hash, holder.caller).await {
        // Released, or gone already (a renewal asked again after its
        // answer was lost released it the first time).
        Ok(()) | Err(GatewayError::NotFound(_) | GatewayError::Validation(_)) => {}
        Err(error) => return Err(error),
    }
    product
        .upstream
        .send(&place.hold_call()?.by(holder.caller), On429::WaitAndRetry)
        .await
}

/// The hold this session was granted on the place, when a 409 meets a retry
/// whose answer was lost: remembered by the gateway, still live by its clock,
/// and not contradicted by the 409 (which may name no hold at all).
async fn own_remembered_hold<P: HoldPlace>(
    state: &AppState,
    session: &SessionId,
    key: &str,
    conflict: Option<&P::Conflict>,
) -> Option<(P::Hold, DateTime<Utc>)> {
    let (hold, lapses): (P::Hold, _) = state
        .memory
        .session_hold(&state.signer.hold_key(session, key), state.clock.utc())
        .await?;
    let named = conflict.and_then(ConflictBody::hold_hash);
    named
        .is_none_or(|named| named == hold.hold_hash())
        .then_some((hold, lapses))
}

/// Where the hold a 409 meets is, as far as the gateway can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeldWhere {
    /// On the event asked for (the 409 says so, or this gateway granted it).
    ThisEvent,
    /// On another event: the upstream allows one hold per account.
    AnotherEvent,
    /// The 409 does not say, and this gateway does not know.
    Unknown,
}

/// The 409 another session gets, said as it is: another candidate of the
/// same agency (every candidate books through its one account) is booking
/// this date, or, when the upstream allows one hold per account, booking at
/// all, or (when neither the 409 nor the gateway's memory says which) is in
/// the middle of a booking; and until when at the latest.
fn seat_taken(held_until: Option<Timestamp>, place: HeldWhere) -> SeatTaken {
    let until = held_until
        .map(|until| uk_time::clock_time(uk_time::to_uk(until.with_timezone(&Utc)).time()));
    let message = match (place, until) {
        (HeldWhere::Unknown, Some(until)) => format!(
            "Another candidate is in the middle of a booking, so this seat cannot be held just now. Try again in a few minutes (by {until} at the latest), or choose another date."
        ),
        (HeldWhere::Unknown, None) => "Another candidate is in the middle of a booking, so this seat cannot be held just now. Try again in a few minutes, or choose another date.".to_owned(),
        (HeldWhere::ThisEvent, Some(until)) => format!(
            "Another candidate is booking this date right now. If they do not finish, it is free again at {until}: choose another date, or try again then."
        ),
        (HeldWhere::ThisEvent, None) => "Another candidate is booking this date right now. Choose another date, or try again in a few minutes.".to_owned(),
        (HeldWhere::AnotherEvent, Some(until)) => format!(
            "Another candidate is in the middle of a booking, and only one booking can be made at a time. Try again in a few minutes (by {until} at the latest)."
        ),
        (HeldWhere::AnotherEvent, None) => "Another candidate is in the middle of a booking, and only one booking can be made at a time. Try again in a few minutes.".to_owned(),
    };
    SeatTaken {
        message,
        held_until,
        free_in_seconds: None,
    }
}

/// Releases a hold upstream: 204, or 404 when it is unknown or gone.
async fn release(
    state: &AppState,
    session: &SessionId,
    hold_ref: &str,
    caller: &Caller,
) -> Result<StatusCode, GatewayError> {
    let (product, hash) = state
        .signer
        .open_hold_ref(session, hold_ref, state.clock.utc())
        .ok_or(GatewayError::NotFound(HOLD_NOT_FOUND))?;
    release_hash(state, state.product(product)?, hash, caller).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Releases a hold of `product` upstream, and forgets it as its place's
/// latest and among its session's live holds. A release whose answer was
/// lost is sent again once: a hold the upstream then does not know, or
/// says is already released (404, 422), was released by the first.
pub(super) async fn release_hash(
    state: &AppState,
    product: &ProductUpstream,
    hash: &str,
    caller: &Caller,
) -> Result<(), GatewayError> {
    let call = product.release_call(hash).by(caller);
    let reply = match product.upstream.send(&call, On429::WaitAndRetry).await {
        Err(error) if error.leaves_outcome_unknown() => {
            tracing::info!(product = %product.product, "a release's answer was lost: sent again");
            let again = product.upstream.send(&call, On429::WaitAndRetry).await?;
            if [StatusCode::NOT_FOUND, StatusCode::UNPROCESSABLE_ENTITY].contains(&again.status) {
                Reply {
                    status: StatusCode::NO_CONTENT,
                    body: Bytes::new(),
                    ..again
                }
            } else {
                again
            }
        }
        other => other?,
    };
    if reply.status.is_success() {
        state.memory.released(hash).await;
        tracing::info!(product = %product.product, "seat hold released");
        Ok(())
    } else {
        Err(reply.into_error_or(HOLD_NOT_FOUND, RELEASE_REFUSED))
    }
}

/// The query of `GET /api/holds/{hold_ref}/pay-options`: the held place's
/// course and cost (in pence), as the widget shows them. They only decide
/// what the asking session is shown; the upstream decides the booking.
#[derive(Debug, Deserialize)]
pub struct PayOptionsQuery {
    /// The course.
    course_id: Option<String>,
    /// The cost in pence, when known.
    cost: Option<String>,
}

/// `GET /api/holds/{hold_ref}/pay-options`: which allowed pay options the
/// agency's account cannot use for the session's held place: `credits`
/// without a credit left for the course, `balance` short of the cost. Read
/// from the upstream's `/credits`, cached as long as the events are; the
/// read never waits for the upstream's rate limit (holds and bookings come
/// first), and when it cannot be made the answer is an error, on which the
/// widget offers every allowed option.
pub async fn hold_pay_options(
    State(state): Shared,
    WidgetSession(session): WidgetSession,
    caller: Caller,
    Path(hold_ref): Path<String>,
    Query(query): Query<PayOptionsQuery>,
) -> Result<Json<UnusablePayOptions>, GatewayError> {
    let (held, _) = state
        .signer
        .open_hold_ref(&session, &hold_ref, state.clock.utc())
        .ok_or(GatewayError::NotFound(HOLD_NOT_FOUND))?;
    let product = state.product(held)?;
    let course_id = id_filter("course_id", query.course_id.as_deref())?
        .ok_or_else(|| GatewayError::invalid("course_id", "Name the course of the held place."))?;
    let cost = match query.cost.as_deref() {
        None => None,
        Some(text) => Some(Money(text.parse().map_err(|_| {
            GatewayError::invalid("cost", "The cost must be a whole number of pence.")
        })?)),
    };
    let bytes = state
        .cache
        .get(
            Freshness::Events,
            format!("{}/credits", product.product),
            || async {
                let call = Call::get("/credits", "/credits").by(&caller);
                let credits: CreditsResponse = product
                    .upstream
                    .json(&call, On429::Fail, "The account's credits were not found.")
                    .await?;
                to_bytes(&credits)
            },
        )
        .await?;
    let wallet: CreditsResponse = serde_json::from_slice(&bytes)
        .map_err(|error| GatewayError::BadGateway(format!("re-reading cached credits: {error}")))?;
    let credits_left = wallet
        .booking_credits
        .iter()
        .filter(|credit| credit.course_id == course_id)
        .map(|credit| credit.credits)
        .sum::<u32>();
    let cannot_pay_with = product
        .policy
        .pay_options()
        .iter()
        .filter(|option| match option {
            PayOption::Credits => credits_left == 0,
            PayOption::Balance => cost.is_some_and(|cost| wallet.booking_money_balance < cost),
            _ => false,
        })
        .cloned()
        .collect();
    Ok(Json(UnusablePayOptions { cannot_pay_with }))
}

/// `DELETE /api/holds/{hold_ref}`: either product's hold.
pub async fn release_hold(
    State(state): Shared,
    WidgetSession(session): WidgetSession,
    caller: Caller,
    Path(hold_ref): Path<String>,
) -> Result<StatusCode, GatewayError> {
    release(&state, &session, &hold_ref, &caller).await
}

/// `POST /api/holds/release`: the `navigator.sendBeacon` form, session in
/// the (`text/plain`) body, sent as the widget goes. When its page went
/// away (`page_hidden`) it may be reloading, so the hold is released after
/// the gateway's `release_grace` (on its clock), unless its session takes it up first
/// (asks for it again or books with it); otherwise, or when the hold cannot
/// wait, it is released at once.
pub async fn release_beacon(
    State(state): Shared,
    caller: Caller,
    JsonBody(beacon): JsonBody<ReleaseBeacon>,
) -> Result<StatusCode, GatewayError> {
    let now = state.clock.utc();
    let session = state
        .signer
        .verify_session(&beacon.session, now)
        .ok_or(GatewayError::NoSession)?;
    let (product, hash) = state
        .signer
        .open_hold_ref(&session, &beacon.hold_ref, now)
        .ok_or(GatewayError::NotFound(HOLD_NOT_FOUND))?;
    state.product(product)?;
    let grace = state.release_grace;
    if !beacon.page_hidden || !state.memory.release_pending(hash, grace, now).await {
        return release(&state, &session, &beacon.hold_ref, &caller).await;
    }
    let hash = hash.to_owned();
    let state = state.clone();
    let release_at = state.clock.now() + grace;
    tokio::spawn(super::request_id::carried(async move {
        state.clock.sleep_until(release_at).await;
        if !state.memory.end_pending_release(&hash).await {
            return;
        }
        let released = match state.product(product) {
            Ok(upstream) => release_hash(&state, upstream, &hash, &caller).await,
            Err(error) => Err(error),
        };
        if let Err(error) = released {
            tracing::info!(%error, product = %product, "a page's hold was not released: it lapses");
        }
    }));
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /bookings` body: the API's request (either product's) plus the
/// sandbox's `return_url` extension (the real API ignores it).
#[derive(Debug, Serialize)]
pub(super) struct UpstreamBooking<R> {
    /// The API's own request.
    #[serde(flatten)]
    pub request: R,
    /// Where the payment page returns to, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_url: Option<String>,
}

/// Drops a `payment_url` whose origin is not on the product's allow-list.
pub(super) fn vet_payment_url<B: MadeBooking>(product: &ProductUpstream, mut booking: B) -> B {
    let id = booking.id();
    let url = booking.payment_url_mut();
    if url
        .as_deref()
        .is_some_and(|url| !product.policy.payment_url_allowed(url))
    {
        tracing::warn!(
            booking_id = id,
            product = %product.product,
            "the upstream payment_url is not on the payment_origins list: withheld"
        );
        *url = None;
    }
    booking
}

/// Sends `POST /bookings` upstream with the attempt's idempotency key.
async fn send_booking<B: MadeBooking, R: Serialize>(
    product: &ProductUpstream,
    body: &UpstreamBooking<R>,
    key: &str,
    ticket: Option<String>,
    caller: &Caller,
) -> Result<B, GatewayError> {
    let call = Call::post("/bookings", "/bookings", Some(body))?
        .idempotency_key(key.to_owned())
        .queueable(ticket)
        .by(caller);
    product
        .upstream
        .send(&call, On429::WaitAndRetry)
        .await?
        .json(HOLD_NOT_FOUND)
}

/// `GET /bookings/{id}` upstream.
pub(super) async fn read_booking<B: MadeBooking>(
    product: &ProductUpstream,
    id: u64,
    caller: &Caller,
) -> Result<B, GatewayError> {
    let call = Call::get("/bookings/{id}", format!("/bookings/{id}")).by(caller);
    product
        .upstream
        .json(&call, On429::WaitAndRetry, BOOKING_NOT_FOUND)
        .await
}

/// Pages of the account's bookings searched for one a lost answer made.
const RECONCILE_PAGES: u32 = 3;

/// The booking an earlier attempt's lost request made, if it made one:
/// the newest bookings (the list is newest first; Inferred) searched for the
/// same candidate, pay option and place, created since the attempt began.
async fn lost_booking<B: MadeBooking>(
    product: &ProductUpstream,
    attempt: &Attempt,
    caller: &Caller,
) -> Result<Option<B>, GatewayError> {
    let per_page = product.page_size.load(Ordering::Relaxed);
    for page in 1..=RECONCILE_PAGES {
        let call = Call::get("/bookings", "/bookings")
            .by(caller)
            .query("page", page)
            .query("per_page", per_page);
        let batch: Page<B> = product
            .upstream
            .json(&call, On429::WaitAndRetry, BOOKING_NOT_FOUND)
            .await?;
        let last_page = batch.meta.last_page;
        if let Some(found) = batch.data.into_iter().find(|booking| attempt.made(booking)) {
            return Ok(Some(found));
        }
        if page >= last_page {
            break;
        }
    }
    Ok(None)
}

/// The kit's address a Virtual BLS booking needs: a 422 naming each field
/// left out, before anything is sent.
fn kit_address(request: &BookingRequest) -> Result<&KitAddress, GatewayError> {
    let kit = request.kit.as_ref();
    let mut errors = BTreeMap::new();
    for (field, value, message) in [
        (
            "address",
            kit.map(|kit| kit.address.as_str()),
            "Enter the address the training kit is posted to.",
        ),
        (
            "city",
            kit.map(|kit| kit.city.as_str()),
            "Enter the town or city the training kit is posted to.",
        ),
        (
            "postcode",
            kit.map(|kit| kit.postcode.as_str()),
            "Enter the postcode the training kit is posted to.",
        ),
    ] {
        if value.is_none_or(|value| value.trim().is_empty()) {
            errors.insert(field.to_owned(), vec![message.to_owned()]);
        }
    }
    match kit {
        Some(kit) if errors.is_empty() => Ok(kit),
        _ => Err(GatewayError::Validation(ValidationError {
            message: "Enter where the training kit is posted.".to_owned(),
            errors,
        })),
    }
}

/// A 422 naming every field longer than the widget's own limits, before
/// anything is stored or sent.
fn refuse_overlong_fields(request: &BookingRequest) -> Result<(), GatewayError> {
    let overlong = booking_core::validation::overlong_fields(request);
    let Some((_, first)) = overlong.first() else {
        return Ok(());
    };
    Err(GatewayError::Validation(ValidationError {
        message: first.clone(),
        errors: overlong
            .iter()
            .map(|(field, message)| (field.name().to_owned(), vec![message.clone()]))
            .collect(),
    }))
}

/// `POST /api/bookings` with an `Idempotency-Key`, for the product the hold
/// reference names. A retry of an attempt (the same key in the same
/// session) never books twice, whether or not the upstream honours the key:
/// its booking is replayed, or the booking its lost answer made is found
/// before anything is sent again.
pub async fn create_booking(
    State(state): Shared,
    WidgetSession(session): WidgetSession,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(request): JsonBody<BookingRequest>,
) -> Result<Response, GatewayError> {
    let widget_key = widget_key(&headers)?;
    // A pay option no product allows is refused before the reference is
    // even opened; then the one the reference names must allow it.
    let allowed_somewhere = state
        .products
        .iter()
        .any(|product| product.policy.check_pay_option(&request.pay_option).is_ok());
    if !allowed_somewhere {
        if let Some(first) = state.products.first() {
            first.policy.check_pay_option(&request.pay_option)?;
        }
    }
    refuse_overlong_fields(&request)?;
    let (held, hash) = state
        .signer
        .open_hold_ref(&session, &request.hold_ref, state.clock.utc())
        .ok_or(GatewayError::NotFound(HOLD_NOT_FOUND))?;
    let product = state.product(held)?;
    product.policy.check_pay_option(&request.pay_option)?;
    state.memory.end_pending_release(hash).await;
    let return_url = request
        .return_url
        .clone()
        .filter(|url| product.policy.return_url_allowed(url, &state.own_origin));
    let attempt = AttemptOf {
        state: &state,
        product,
        session: &session,
        key: state.signer.attempt_key(&session, held, hash, widget_key),
        hash,
        email: &request.email,
        pay_option: request.pay_option.wire_name(held).to_owned(),
        ticket: queue_ticket(&headers),
        caller: &caller,
    };
    match held {
        Product::Practical => {
            if request.kit.is_some() {
                return Err(GatewayError::invalid(
                    "kit",
                    "A training kit is posted for Virtual BLS bookings only.",
                ));
            }
            let body = UpstreamBooking {
                request: product.policy.booking_request(&request, hash),
                return_url,
            };
            attempt.book::<BookingDetail, _>(&body).await
        }
        Product::VirtualBls => {
            let kit = kit_address(&request)?;
            let body = UpstreamBooking {
                request: product.policy.virtual_booking_request(&request, hash, kit),
                return_url,
            };
            attempt.book::<VirtualBooking, _>(&body).await
        }
    }
}

/// The widget's `Idempotency-Key` for a booking attempt, checked.
pub(super) fn widget_key(headers: &HeaderMap) -> Result<&str, GatewayError> {
    headers
        .get(IDEMPOTENCY_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|key| is_valid_idempotency_key(key))
        .ok_or(GatewayError::BadRequest(
            "Send an Idempotency-Key header (1 to 128 visible characters) unique to this booking attempt.",
        ))
}

/// One create-booking attempt: what it needs to be remembered, replayed or
/// reconciled, whichever product it books.
pub(super) struct AttemptOf<'a> {
    /// The gateway's state.
    pub state: &'a AppState,
    /// The product booked.
    pub product: &'a ProductUpstream,
    /// The session booking.
    pub session: &'a SessionId,
    /// The attempt's key, also its upstream idempotency key.
    pub key: String,
    /// The hold it books.
    pub hash: &'a str,
    /// The candidate's e-mail address.
    pub email: &'a str,
    /// The pay option in the upstream's name.
    pub pay_option: String,
    /// The queue ticket it was sent again with, on its turn.
    pub ticket: Option<String>,
    /// Who it is for, for the upstream's rate limit.
    pub caller: &'a Caller,
}

impl AttemptOf<'_> {
    /// Sends the booking once (or finds the one an earlier try made) and
    /// answers 201 with its session-bound receipt.
    async fn book<B: MadeBooking, R: Serialize>(
        &self,
        body: &UpstreamBooking<R>,
    ) -> Result<Response, GatewayError> {
        let booking: B = self.made(body).await?;
        let booking_ref =
            self.state
                .signer
                .booking_ref(self.session, self.product.product, booking.id());
        Ok((
            StatusCode::CREATED,
            receipt(self.state, self.product.product, booking_ref, booking),
        )
            .into_response())
    }

    /// Sends the booking once, or finds the one an earlier try made: the
    /// booking, its payment link vetted.
    pub(super) async fn made<B: MadeBooking, R: Serialize>(
        &self,
        body: &UpstreamBooking<R>,
    ) -> Result<B, GatewayError> {
        let (state, product) = (self.state, self.product);
        let begun = state
            .memory
            .begin(
                &self.key,
                NewAttempt {
                    hold_hash: self.hash,
                    email: self.email,
                    pay_option: &self.pay_option,
                },
                state.clock.utc(),
            )
            .await
            .map_err(|error| {
                tracing::error!(%error, "a booking attempt could not be remembered: not sent");
                GatewayError::MemoryUnavailable
            })?;
        let booking: B = match begun {
            Begun::Made(id) => {
                state.metrics.booking_replayed();
                tracing::info!(
                    booking_id = id,
                    "booking attempt retried: its booking replayed"
                );
                read_booking(product, id, self.caller).await?
            }
            Begun::InFlight => return Err(GatewayError::AttemptInFlight),
            Begun::Unknown(earlier) => {
                match lost_booking::<B>(product, &earlier, self.caller).await? {
                    Some(booking) => {
                        state.metrics.lost_booking_found(self);
                        tracing::info!(
                            booking_id = booking.id(),
                            "booking attempt retried: the booking its lost answer made was found"
                        );
                        booking
                    }
                    None => {
                        let since = state.clock.utc();
                        state
                            .memory
                            .settle(&self.key, Outcome::InFlight { since })
                            .await;
                        self.send(body).await?
                    }
                }
            }
            Begun::New => self.send(body).await?,
        };
        state
            .memory
            .settle(
                &self.key,
                Outcome::Made {
                    booking_id: booking.id(),
                },
            )
            .await;
        state.memory.hold_used(self.hash).await;
        let booking = vet_payment_url(product, booking);
        tracing::info!(
            booking_id = booking.id(),
            product = %product.product,
            pay_option = %booking.pay_option(),
            booking_status = %booking.status(),
            "booking created"
        );
        Ok(booking)
    }

    /// Sends the booking upstream and remembers what its answer says of
    /// the outcome: an answer lost on the way (a timeout, a 5xx, a broken
    /// connection) leaves the attempt to be looked for; any definite
    /// refusal, or a booking never sent, forgets it.
    async fn send<B: MadeBooking, R: Serialize>(
        &self,
        body: &UpstreamBooking<R>,
    ) -> Result<B, GatewayError> {
        let sent = send_booking(
            self.product,
            body,
            &self.key,
            self.ticket.clone(),
            self.caller,
        )
        .await;
        self.state.metrics.booking_sent(&sent, self);
        if let Err(error) = &sent {
            let memory = &self.state.memory;
            if error.leaves_outcome_unknown() {
                let at = self.state.clock.utc();
                memory.settle(&self.key, Outcome::Unknown { at }).await;
            } else {
                memory.forget(&self.key).await;
            }
        }
        sent
    }
}

/// `GET /api/bookings/{booking_ref}`: the booking of the product the
/// reference names, to the session that made it only (a Virtual BLS
/// booking's Zoom details go to no one else).
pub async fn booking(
    State(state): Shared,
    WidgetSession(session): WidgetSession,
    caller: Caller,
    Path(booking_ref): Path<String>,
) -> Result<Response, GatewayError> {
    let (held, id) = state
        .signer
        .open_booking_ref(&session, &booking_ref)
        .ok_or(GatewayError::NotFound(BOOKING_NOT_FOUND))?;
    let product = state.product(held)?;
    tracing::info!(booking_id = id, product = %held, "booking read");
    Ok(match held {
        Product::Practical => {
            let booking: BookingDetail = read_booking(product, id, &caller).await?;
            receipt(&state, held, booking_ref, vet_payment_url(product, booking))
        }
        Product::VirtualBls => {
            let booking: VirtualBooking = read_booking(product, id, &caller).await?;
            receipt(&state, held, booking_ref, vet_payment_url(product, booking))
        }
    })
}

/// A booking as the session that made it gets it: its reference, and the
/// durable link to its own page.
fn receipt<B: MadeBooking>(
    state: &AppState,
    product: Product,
    booking_ref: String,
    booking: B,
) -> Response {
    Json(BookingReceipt {
        booking_ref,
        manage_link: Some(manage::link_for(state, product, &booking)),
        booking,
    })
    .into_response()
}

/// Any other `/api` path.
pub async fn not_found() -> GatewayError {
    GatewayError::NotFound("Not found.")
}

#[cfg(test)]
mod tests {
    use booking_core::api::{CreateBookingRequest, HoldConflict};

    use super::*;

    fn at(text: &str) -> Timestamp {
        chrono::DateTime::parse_from_rfc3339(text).unwrap()
    }

    #[test]
    fn held_until_is_told_in_uk_clock_time() {
        let summer = seat_taken(Some(at("2026-07-20T13:45:00+00:00")), HeldWhere::ThisEvent);
        assert_eq!(
            summer.message,
            "Another candidate is booking this date right now. If they do not finish, it is free again at 14:45: choose another date, or try again then."
        );
        let winter = seat_taken(Some(at("2026-12-01T13:45:00+00:00")), HeldWhere::ThisEvent);
        assert!(winter.message.contains("free again at 13:45:"));
        assert_eq!(winter.held_until, Some(at("2026-12-01T13:45:00+00:00")));
    }

    #[test]
    fn a_hold_on_another_event_says_one_booking_at_a_time() {
        let elsewhere = seat_taken(
            Some(at("2026-12-01T13:45:00+00:00")),
            HeldWhere::AnotherEvent,
        );
        assert_eq!(
            elsewhere.message,
            "Another candidate is in the middle of a booking, and only one booking can be made at a time. Try again in a few minutes (by 13:45 at the latest)."
        );
        let this_date = seat_taken(None, HeldWhere::ThisEvent);
        assert_eq!(
            this_date.message,
            "Another candidate is booking this date right now. Choose another date, or try again in a few minutes."
        );
    }

    #[test]
    fn a_hold_nobody_can_place_is_not_said_to_be_on_this_date() {
        let unknown = seat_taken(None, HeldWhere::Unknown);
        assert_eq!(
            unknown.message,
            "Another candidate is in the middle of a booking, so this seat cannot be held just now. Try again in a few minutes, or choose another date."
        );
        let until = seat_taken(Some(at("2026-12-01T13:45:00+00:00")), HeldWhere::Unknown);
        assert!(
            until.message.contains("(by 13:45 at the latest)"),
            "{}",
            until.message
        );
    }

    #[test]
    fn the_upstream_booking_adds_only_the_listed_extensions() {
        let request: CreateBookingRequest = serde_json::from_value(serde_json::json!({
            "hold_hash": "h", "first_name": "Priya", "last_name": "Patel",
            "email": "priya@example.com", "pay_option": "credits"
        }))
        .unwrap();
        let documented = serde_json::to_value(&request).unwrap();
        let sent = serde_json::to_value(UpstreamBooking {
            request,
            return_url: Some("https://www.agency.example/booked".into()),
        })
        .unwrap();
        let extra: Vec<&String> = sent
            .as_object()
            .unwrap()
            .keys()
            .filter(|key| !documented.as_object().unwrap().contains_key(*key))
            .collect();
        assert_eq!(extra, ["return_url"]);
        let listed: Vec<&str> = booking_core::api::UPSTREAM_EXTENSIONS
            .iter()
            .map(|(name, _)| *name)
            .collect();
        assert!(extra.iter().all(|key| listed.contains(&key.as_str())));
        assert!(listed.contains(&"Idempotency-Key"));
        assert!(super::super::upstream::IDEMPOTENCY_KEY.eq_ignore_ascii_case("Idempotency-Key"));
    }

    #[test]
    fn a_missing_field_is_named() {
        let error = serde_json::from_str::<HoldRequest>("{}").unwrap_err();
        let GatewayError::Validation(body) = invalid_body(&error) else {
            panic!("a validation error");
        };
        assert_eq!(
            body.errors["event_id"],
            vec!["The event_id field is required."]
        );
    }

    #[test]
    fn a_conflict_without_details_cannot_be_rebuilt() {
        let conflict = HoldConflict {
            message: "An active hold already exists.".into(),
            hold_hash: Some("abc".into()),
            expires_at: None,
            expires_in_seconds: None,
            training_event: None,
        };
        assert_eq!(conflict.existing_hold(), None);
    }
}
