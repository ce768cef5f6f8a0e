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

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::header::{CONTENT_TYPE, HOST, ORIGIN};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use booking_core::api::{
    BookingDetail, ClientProfile, Course, CreateBookingRequest, HoldConflict, Page, SeatHold,
    Timestamp, TrainingEvent, ValidationError,
};
use booking_core::uk_time;
use booking_core::widget_api::{
    BookingReceipt, BookingRequest, HeldSeat, HoldRequest, ReleaseBeacon, SeatTaken, WidgetOptions,
    IDEMPOTENCY_HEADER, QUEUE_TICKET_HEADER, SESSION_HEADER,
};
use chrono::Utc;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::cache::Freshness;
use super::errors::GatewayError;
use super::memory::Attempt;
use super::session::{is_valid_idempotency_key, SessionId};
use super::upstream::{Call, On429, Reply};
use super::AppState;

/// Shared state of the handlers.
type Shared = State<Arc<AppState>>;

/// Largest number of pages merged into one list.
const MAX_PAGES: u32 = 50;

/// Items asked for per upstream page at first: the documented largest.
pub(super) const LARGEST_PAGE: u32 = 100;

/// Items asked for per upstream page once the upstream refused
/// [`LARGEST_PAGE`] (its largest page is not documented).
const SMALLER_PAGE: u32 = 50;

const EVENT_NOT_FOUND: &str = "That training event was not found.";
const HOLD_NOT_FOUND: &str =
    "That seat hold was not found. It may have expired: hold the seat again.";
const BOOKING_NOT_FOUND: &str = "That booking was not found.";

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

fn session_from(headers: &HeaderMap, state: &AppState) -> Option<SessionId> {
    headers
        .get(SESSION_HEADER)
        .and_then(|value| value.to_str().ok())
        .and_then(|token| state.signer.verify_session(token))
}

/// A JSON body whatever its content type (the release beacon is
/// `text/plain`); a bad body is a 422 naming the problem, never a 500.
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
async fn all_pages<T: DeserializeOwned>(
    state: &AppState,
    route: &'static str,
    query: &[(&'static str, u64)],
) -> Result<Vec<T>, GatewayError> {
    let mut items = Vec::new();
    let mut page = 1;
    loop {
        let per_page = state.page_size.load(Ordering::Relaxed);
        let mut call = Call::get(route, route)
            .query("page", page)
            .query("per_page", per_page);
        for (name, value) in query {
            call = call.query(name, value);
        }
        let batch: Page<T> = match state.upstream.json(&call, On429::Fail, "Not found.").await {
            Err(GatewayError::Validation(error))
                if error.errors.contains_key("per_page") && per_page > SMALLER_PAGE =>
            {
                tracing::warn!(
                    per_page,
                    "the upstream refused the page size: asking for {SMALLER_PAGE}"
                );
                state.page_size.store(SMALLER_PAGE, Ordering::Relaxed);
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

/// The account profile, cached with the catalogue; `None` when the
/// upstream has no profile endpoint (it is inferred, not documented).
async fn profile(state: &AppState) -> Result<Option<ClientProfile>, GatewayError> {
    let loaded = state
        .cache
        .get(Freshness::Catalogue, "/profile".to_owned(), || async {
            let profile: ClientProfile = state
                .upstream
                .json(
                    &Call::get("/profile", "/profile"),
                    On429::Fail,
                    "Not found.",
                )
                .await?;
            to_bytes(&profile)
        })
        .await;
    let bytes = match loaded {
        Ok(bytes) => bytes,
        Err(GatewayError::NotFound(_)) => {
            tracing::warn!("the upstream has no account profile: offering the configured pay options as they are");
            return Ok(None);
        }
        Err(error) => return Err(error),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|error| GatewayError::BadGateway(super::upstream::unreadable(&error)))
}

/// `GET /api/options`.
pub async fn options(
    State(state): Shared,
    headers: HeaderMap,
) -> Result<Json<WidgetOptions>, GatewayError> {
    let profile = profile(&state).await?;
    let session = match session_from(&headers, &state) {
        Some(_) => None,
        None => Some(state.signer.new_session().1),
    };
    let (name, invoice_payments) = match profile {
        Some(profile) => (profile.name, profile.invoice_payments),
        None => (String::new(), true),
    };
    Ok(Json(WidgetOptions {
        account_name: state.account_name.clone().unwrap_or(name),
        pay_options: state.policy.offered(invoice_payments),
        payment_origins: state.policy.payment_origins().to_vec(),
        session,
    }))
}

/// `GET /api/courses`.
pub async fn courses(
    State(state): Shared,
    _session: WidgetSession,
) -> Result<Response, GatewayError> {
    let bytes = state
        .cache
        .get(Freshness::Catalogue, "/courses".to_owned(), || async {
            to_bytes(&all_pages::<Course>(&state, "/courses", &[]).await?)
        })
        .await?;
    Ok(json_bytes(bytes))
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

/// `GET /api/training-events?course_id=&location_id=`: every upcoming page,
/// each event another session holds marked busy when the upstream has been
/// seen to allow one hold per event or one in all ([`HoldScope`]).
pub async fn training_events(
    State(state): Shared,
    WidgetSession(session): WidgetSession,
    Query(filter): Query<EventFilter>,
) -> Result<Response, GatewayError> {
    let mut query = Vec::new();
    if let Some(id) = id_filter("course_id", filter.course_id.as_deref())? {
        query.push(("course_id", id));
    }
    if let Some(id) = id_filter("location_id", filter.location_id.as_deref())? {
        query.push(("location_id", id));
    }
    let key = query
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&");
    let bytes = state
        .cache
        .get(
            Freshness::Events,
            format!("/training-events?{key}"),
            || async {
                to_bytes(&all_pages::<TrainingEvent>(&state, "/training-events", &query).await?)
            },
        )
        .await?;
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

/// The [`HoldScope`] learnt so far; it only ever widens.
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

/// Marks each event whose seat no one else can hold now: under
/// [`HoldScope::Event`], an event another session holds; under
/// [`HoldScope::Account`], every event while any hold is live. An event
/// this session holds itself is not marked.
async fn mark_busy(state: &AppState, session: &SessionId, events: &mut [TrainingEvent]) {
    let now = Utc::now();
    let any = match state.hold_scope.get() {
        HoldScope::Unknown => return,
        HoldScope::Event => None,
        HoldScope::Account => state.memory.any_hold_frees_in(now).await,
    };
    for event in events.iter_mut().filter(|event| !event.is_full()) {
        let frees_in = match any {
            Some(seconds) => Some(seconds),
            None => state.memory.event_hold_frees_in(event.id, now).await,
        };
        let Some(seconds) = frees_in else {
            continue;
        };
        let own = state
            .memory
            .session_hold(&state.signer.hold_key(session, event.id), now)
            .await
            .is_some();
        if !own {
            event.busy_for_seconds = u32::try_from(seconds).ok();
        }
    }
}

/// `POST /api/holds`.
pub async fn hold(
    State(state): Shared,
    WidgetSession(session): WidgetSession,
    headers: HeaderMap,
    JsonBody(request): JsonBody<HoldRequest>,
) -> Result<Json<HeldSeat>, GatewayError> {
    let first = hold_call(request.event_id)?.queueable(queue_ticket(&headers));
    let lock = state.memory.lock_event(request.event_id).await;
    let reply = if request.renew {
        renewed_hold(&state, &session, &request, first).await
    } else {
        state.upstream.send(&first, On429::WaitAndRetry).await
    };
    lock.unlock().await;
    let reply = reply?;
    if reply.status.is_success() {
        let hold: SeatHold = reply.json(EVENT_NOT_FOUND)?;
        let hold_ref = state
            .signer
            .hold_ref(&session, &hold.hold_hash)
            .ok_or_else(|| {
                GatewayError::BadGateway("the upstream hold hash is not a plain token".into())
            })?;
        state
            .memory
            .held(
                &state.signer.hold_key(&session, request.event_id),
                &hold,
                Utc::now(),
            )
            .await;
        tracing::info!(event_id = request.event_id, "seat held");
        return Ok(Json(HeldSeat { hold_ref, hold }));
    }
    if reply.status != StatusCode::CONFLICT {
        return Err(reply.into_error(EVENT_NOT_FOUND));
    }
    let conflict: Option<HoldConflict> = serde_json::from_slice(&reply.body).ok();
    let own_hash = request
        .hold_ref
        .as_deref()
        .and_then(|hold_ref| state.signer.open_hold_ref(&session, hold_ref));
    if let (Some(own_hash), Some(conflict)) = (own_hash, &conflict) {
        if conflict.hold_hash.as_deref() == Some(own_hash) {
            if let Some(hold) = existing_hold(conflict) {
                tracing::info!(
                    event_id = request.event_id,
                    "seat already held by this session"
                );
                let hold_ref = request.hold_ref.clone().unwrap_or_default();
                return Ok(Json(HeldSeat { hold_ref, hold }));
            }
        }
    }
    if let Some(hold) = own_remembered_hold(&state, &session, &request, conflict.as_ref()).await {
        tracing::info!(
            event_id = request.event_id,
            "seat already held by this session (remembered)"
        );
        let hold_ref = state
            .signer
            .hold_ref(&session, &hold.hold_hash)
            .unwrap_or_default();
        return Ok(Json(HeldSeat { hold_ref, hold }));
    }
    let now = Utc::now();
    let named_event = conflict
        .as_ref()
        .and_then(|conflict| conflict.training_event.as_ref())
        .map(|held| held.id);
    let remembered = match named_event {
        Some(id) if id != request.event_id => None,
        _ => {
            state
                .memory
                .event_hold_frees_in(request.event_id, now)
                .await
        }
    };
    let place = match named_event {
        Some(id) if id != request.event_id => HeldWhere::AnotherEvent,
        Some(_) => HeldWhere::ThisEvent,
        None if remembered.is_some() => HeldWhere::ThisEvent,
        None => HeldWhere::Unknown,
    };
    state.hold_scope.seen(place);
    let said_until = conflict.as_ref().and_then(|conflict| conflict.expires_at);
    let free_in_seconds = conflict
        .as_ref()
        .and_then(|conflict| conflict.expires_in_seconds)
        .or_else(|| said_until.map(|until| (until.with_timezone(&Utc) - now).num_seconds()))
        .or(remembered)
        .map(|seconds| seconds.max(0));
    let held_until = said_until.or_else(|| {
        free_in_seconds.map(|seconds| (now + chrono::Duration::seconds(seconds)).fixed_offset())
    });
    let mut taken = seat_taken(held_until, place);
    taken.free_in_seconds = free_in_seconds;
    Err(GatewayError::SeatTaken(taken))
}

/// `POST /training-events/{id}/hold` upstream.
fn hold_call(event_id: u64) -> Result<Call, GatewayError> {
    let path = format!("/training-events/{event_id}/hold");
    Call::post::<()>("/training-events/{id}/hold", path, None)
}

/// The ticket of a request sent again after its turn in the queue.
fn queue_ticket(headers: &HeaderMap) -> Option<String> {
    headers
        .get(QUEUE_TICKET_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|ticket| !ticket.is_empty() && ticket.len() <= 64)
        .map(str::to_owned)
}

/// "Keep my seat": the upstream's answer to holding the event again in
/// place of the session's hold `request.hold_ref`, asked for while this
/// gateway's lock on the event's holds is held, so no other candidate of
/// the agency can take the seat in between. An upstream that lets an
/// account hold twice, on an event with a seat free, gives the new hold
/// before the old one is released (no gap at all); one that answers 409
/// (the live hold) or 422 (no other seat free) has the old hold released
/// and the seat held again at once. Any other answer leaves the old hold.
async fn renewed_hold(
    state: &AppState,
    session: &SessionId,
    request: &HoldRequest,
    first: Call,
) -> Result<Reply, GatewayError> {
    let old_ref = request.hold_ref.as_deref().ok_or(GatewayError::BadRequest(
        "Name the hold to renew in hold_ref.",
    ))?;
    let old_hash = state
        .signer
        .open_hold_ref(session, old_ref)
        .ok_or(GatewayError::NotFound(HOLD_NOT_FOUND))?;
    let first = state.upstream.send(&first, On429::WaitAndRetry).await?;
    if first.status.is_success() {
        if let Err(error) = release_hash(state, old_hash).await {
            tracing::warn!(%error, "the renewed hold's old hold was not released");
        }
        return Ok(first);
    }
    if ![StatusCode::CONFLICT, StatusCode::UNPROCESSABLE_ENTITY].contains(&first.status) {
        return Ok(first);
    }
    match release_hash(state, old_hash).await {
        Ok(()) | Err(GatewayError::NotFound(_)) => {}
        Err(error) => return Err(error),
    }
    let again = hold_call(request.event_id)?;
    state.upstream.send(&again, On429::WaitAndRetry).await
}

/// The hold this session was granted on the event, when a 409 meets a retry
/// whose answer was lost: remembered by the gateway, still live by its clock,
/// and not contradicted by the 409 (which may name no hold at all).
async fn own_remembered_hold(
    state: &AppState,
    session: &SessionId,
    request: &HoldRequest,
    conflict: Option<&HoldConflict>,
) -> Option<SeatHold> {
    let hold = state
        .memory
        .session_hold(
            &state.signer.hold_key(session, request.event_id),
            Utc::now(),
        )
        .await?;
    let named = conflict.and_then(|conflict| conflict.hold_hash.as_deref());
    named
        .is_none_or(|named| named == hold.hold_hash)
        .then_some(hold)
}

/// The hold a 409 describes, when it says enough to rebuild it.
fn existing_hold(conflict: &HoldConflict) -> Option<SeatHold> {
    Some(SeatHold {
        hold_hash: conflict.hold_hash.clone()?,
        expires_at: conflict.expires_at?,
        expires_in_seconds: conflict.expires_in_seconds?,
        training_event: conflict.training_event.clone()?,
    })
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
) -> Result<StatusCode, GatewayError> {
    let hash = state
        .signer
        .open_hold_ref(session, hold_ref)
        .ok_or(GatewayError::NotFound(HOLD_NOT_FOUND))?;
    release_hash(state, hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /training-events/hold/{hold_hash}` upstream.
async fn release_hash(state: &AppState, hash: &str) -> Result<(), GatewayError> {
    let call = Call::delete(
        "/training-events/hold/{hold_hash}",
        format!("/training-events/hold/{hash}"),
    );
    let reply = state.upstream.send(&call, On429::WaitAndRetry).await?;
    if reply.status.is_success() {
        state.memory.released(hash).await;
        tracing::info!("seat hold released");
        Ok(())
    } else {
        Err(reply.into_error(HOLD_NOT_FOUND))
    }
}

/// `DELETE /api/holds/{hold_ref}`.
pub async fn release_hold(
    State(state): Shared,
    WidgetSession(session): WidgetSession,
    Path(hold_ref): Path<String>,
) -> Result<StatusCode, GatewayError> {
    release(&state, &session, &hold_ref).await
}

/// `POST /api/holds/release`: the `navigator.sendBeacon` form, session in
/// the (`text/plain`) body.
pub async fn release_beacon(
    State(state): Shared,
    JsonBody(beacon): JsonBody<ReleaseBeacon>,
) -> Result<StatusCode, GatewayError> {
    let session = state
        .signer
        .verify_session(&beacon.session)
        .ok_or(GatewayError::NoSession)?;
    release(&state, &session, &beacon.hold_ref).await
}

/// `POST /bookings` body: the API's request plus the sandbox's `return_url`
/// extension (the real API ignores it).
#[derive(Debug, Serialize)]
struct UpstreamBooking {
    #[serde(flatten)]
    request: CreateBookingRequest,
    #[serde(skip_serializing_if = "Option::is_none")]
    return_url: Option<String>,
}

/// The gateway's own origin for this request: the configured public URL,
/// or the request's `Origin` when it names the `Host` it was sent to.
fn own_origin(state: &AppState, headers: &HeaderMap) -> Option<String> {
    if let Some(public) = &state.public_origin {
        return Some(public.clone());
    }
    let origin = headers.get(ORIGIN)?.to_str().ok()?;
    let host = headers.get(HOST)?.to_str().ok()?;
    super::same_authority(origin, host).then(|| origin.to_owned())
}

/// Drops a `payment_url` whose origin is not allow-listed.
fn vet_payment_url(state: &AppState, mut booking: BookingDetail) -> BookingDetail {
    if let Some(url) = &booking.payment_url {
        if !state.policy.payment_url_allowed(url) {
            tracing::warn!(
                booking_id = booking.id,
                "the upstream payment_url is not on the payment_origins list: withheld"
            );
            booking.payment_url = None;
        }
    }
    booking
}

/// Sends `POST /bookings` upstream with the attempt's idempotency key.
async fn send_booking(
    state: &AppState,
    body: &UpstreamBooking,
    key: &str,
    ticket: Option<String>,
) -> Result<BookingDetail, GatewayError> {
    let call = Call::post("/bookings", "/bookings", Some(body))?
        .idempotency_key(key.to_owned())
        .queueable(ticket);
    state
        .upstream
        .send(&call, On429::WaitAndRetry)
        .await?
        .json(HOLD_NOT_FOUND)
}

/// `GET /bookings/{id}` upstream.
async fn read_booking(state: &AppState, id: u64) -> Result<BookingDetail, GatewayError> {
    let call = Call::get("/bookings/{id}", format!("/bookings/{id}"));
    state
        .upstream
        .json(&call, On429::WaitAndRetry, BOOKING_NOT_FOUND)
        .await
}

/// Pages of the account's bookings searched for one a lost answer made.
const RECONCILE_PAGES: u32 = 3;

/// The booking an earlier attempt's lost request made, if it made one:
/// the newest bookings (the list is newest first; Inferred) searched for the
/// same candidate and pay option, created since the attempt began.
async fn lost_booking(
    state: &AppState,
    attempt: &Attempt,
) -> Result<Option<BookingDetail>, GatewayError> {
    let per_page = state.page_size.load(Ordering::Relaxed);
    for page in 1..=RECONCILE_PAGES {
        let call = Call::get("/bookings", "/bookings")
            .query("page", page)
            .query("per_page", per_page);
        let batch: Page<BookingDetail> = state
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

/// `POST /api/bookings` with an `Idempotency-Key`. A retry of an attempt
/// (the same key in the same session) never books twice, whether or not the
/// upstream honours the key: its booking is replayed, or the booking its
/// lost answer made is found before anything is sent again.
pub async fn create_booking(
    State(state): Shared,
    WidgetSession(session): WidgetSession,
    headers: HeaderMap,
    JsonBody(request): JsonBody<BookingRequest>,
) -> Result<(StatusCode, Json<BookingReceipt>), GatewayError> {
    let widget_key = headers
        .get(IDEMPOTENCY_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|key| is_valid_idempotency_key(key))
        .ok_or(GatewayError::BadRequest(
            "Send an Idempotency-Key header (1 to 128 visible characters) unique to this booking attempt.",
        ))?;
    state.policy.check_pay_option(&request.pay_option)?;
    let hash = state
        .signer
        .open_hold_ref(&session, &request.hold_ref)
        .ok_or(GatewayError::NotFound(HOLD_NOT_FOUND))?;
    let own = own_origin(&state, &headers);
    let return_url = request
        .return_url
        .clone()
        .filter(|url| state.policy.return_url_allowed(url, own.as_deref()));
    let body = UpstreamBooking {
        request: state.policy.booking_request(&request, hash),
        return_url,
    };
    let key = state.signer.idempotency_key(&session, widget_key);
    let ticket = queue_ticket(&headers);
    let earlier = state
        .memory
        .begin(
            &key,
            &body.request.hold_hash,
            &body.request.email,
            &body.request.pay_option,
            Utc::now(),
        )
        .await
        .map_err(|error| {
            tracing::error!(%error, "a booking attempt could not be remembered: not sent");
            GatewayError::MemoryUnavailable
        })?;
    let booking = match earlier {
        Some(Attempt {
            booking_id: Some(id),
            ..
        }) => {
            tracing::info!(
                booking_id = id,
                "booking attempt retried: its booking replayed"
            );
            read_booking(&state, id).await?
        }
        Some(earlier) => match lost_booking(&state, &earlier).await? {
            Some(booking) => {
                tracing::info!(
                    booking_id = booking.id,
                    "booking attempt retried: the booking its lost answer made was found"
                );
                booking
            }
            None => send_booking(&state, &body, &key, ticket).await?,
        },
        None => match send_booking(&state, &body, &key, ticket).await {
            Err(queued @ GatewayError::Queued(_)) => {
                state.memory.unsent(&key).await;
                return Err(queued);
            }
            sent => sent?,
        },
    };
    state.memory.made(&key, booking.id).await;
    let booking = vet_payment_url(&state, booking);
    tracing::info!(
        booking_id = booking.id,
        pay_option = %booking.pay_option,
        booking_status = %booking.booking_status,
        "booking created"
    );
    let booking_ref = state.signer.booking_ref(&session, booking.id);
    Ok((
        StatusCode::CREATED,
        Json(BookingReceipt {
            booking_ref,
            booking,
        }),
    ))
}

/// `GET /api/bookings/{booking_ref}`.
pub async fn booking(
    State(state): Shared,
    WidgetSession(session): WidgetSession,
    Path(booking_ref): Path<String>,
) -> Result<Json<BookingReceipt>, GatewayError> {
    let id = state
        .signer
        .open_booking_ref(&session, &booking_ref)
        .ok_or(GatewayError::NotFound(BOOKING_NOT_FOUND))?;
    let booking = read_booking(&state, id).await?;
    tracing::info!(booking_id = id, "booking read");
    Ok(Json(BookingReceipt {
        booking_ref,
        booking: vet_payment_url(&state, booking),
    }))
}

/// Any other `/api` path.
pub async fn not_found() -> GatewayError {
    GatewayError::NotFound("Not found.")
}

#[cfg(test)]
mod tests {
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
        assert_eq!(existing_hold(&conflict), None);
    }
}
