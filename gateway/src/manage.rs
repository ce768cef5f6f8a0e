//! The `manage` routes: the candidate's own booking page, opened by a
//! durable booking link (`booking_core::manage::BookingLink`) in place of a
//! widget session. The booking is read live from the upstream each time.
//!
//! Invariants: a link opens only the one booking of the one product it
//! names, and only while it has not expired; a link is never logged (the
//! request log names the route template); a cancel is sent only inside the
//! agency's `candidate_cancel` policy, and one whose answer was lost is
//! settled by reading the booking back, never by sending it twice blind.
//!
//! A move to another date is done in a fixed order: the new seat held, then
//! booked, and only then the old booking cancelled, so a failure at any
//! step leaves the candidate a booking. It runs as a session of its own
//! (`Signer::move_session`, named by the booking and the widget's key), so
//! every retry of one move finds its hold and its booking attempt again
//! and books once, even when the upstream ignores `Idempotency-Key`; a move
//! that booked is remembered, so a retry only finishes the cancel. An old
//! booking that could not be cancelled is told to the candidate and logged
//! for the agency.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use booking_core::api::bls::VirtualBooking;
use booking_core::api::{BookingDetail, BookingStatus, SeatHold, TrainingEvent};
use booking_core::manage::{another_date_offered, other_dates, split_name, BookingLink};
use booking_core::product::Product;
use booking_core::uk_time;
use booking_core::widget_api::{
    BookingRequest, CancelOffer, CancelState, HoldRequest, ManagedBooking, MoveRequest,
    MovedBooking,
};

use super::budget::Caller;
use super::errors::GatewayError;
use super::memory::{Begun, NewAttempt, Outcome};
use super::product::{MadeBooking, ProductUpstream};
use super::routes::{
    cached_list, hold_place, read_booking, release_hash, vet_payment_url, widget_key, AttemptOf,
    Holder, JsonBody, UpstreamBooking, BOOKING_NOT_FOUND,
};
use super::session::SessionId;
use super::upstream::{Call, On429};
use super::AppState;

type Shared = State<Arc<AppState>>;

/// A certificate asked for before the upstream has one.
const NO_CERTIFICATE_YET: &str =
    "The certificate is not ready yet: it is issued once the training is completed.";

/// `GET /api/manage/{link}`: the booking the link names, with what the
/// candidate may do with it.
pub async fn managed_booking(
    State(state): Shared,
    caller: Caller,
    Path(link): Path<String>,
) -> Result<Response, GatewayError> {
    let link = open(&state, &link)?;
    let product = state.product(link.product)?;
    Ok(match link.product {
        Product::Practical => {
            let booking: BookingDetail = read_booking(product, link.booking_id, &caller).await?;
            page(&state, product, booking)
        }
        Product::VirtualBls => {
            let booking: VirtualBooking = read_booking(product, link.booking_id, &caller).await?;
            page(&state, product, booking)
        }
    })
}

/// `GET /api/manage/{link}/certificate`: the booking's completion
/// certificate, passed through as the PDF the upstream sends.
pub async fn certificate(
    State(state): Shared,
    caller: Caller,
    Path(link): Path<String>,
) -> Result<Response, GatewayError> {
    let link = open(&state, &link)?;
    let product = state.product(link.product)?;
    let id = link.booking_id;
    let call = Call::get(
        "/bookings/{id}/certificate",
        format!("/bookings/{id}/certificate"),
    )
    .by(&caller);
    let reply = product.upstream.send(&call, On429::WaitAndRetry).await?;
    if !reply.status.is_success() {
        return Err(reply.into_error_or(BOOKING_NOT_FOUND, NO_CERTIFICATE_YET));
    }
    if !reply.body.starts_with(b"%PDF-") {
        return Err(GatewayError::BadGateway(
            "the upstream's certificate is not a PDF".to_owned(),
        ));
    }
    let disposition = format!("attachment; filename=\"certificate-{id}.pdf\"");
    Ok((
        [
            (CONTENT_TYPE, HeaderValue::from_static("application/pdf")),
            (
                CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
        ],
        reply.body,
    )
        .into_response())
}

/// `POST /api/manage/{link}/cancel`: cancels a Practical Training booking
/// inside the agency's policy, and answers its page in the cancelled
/// state. Cancelling a booking already cancelled answers the same page, so
/// a candidate whose answer was lost can ask again.
pub async fn cancel(
    State(state): Shared,
    caller: Caller,
    Path(link): Path<String>,
) -> Result<Response, GatewayError> {
    let link = open(&state, &link)?;
    let product = practical(&state, &link)?;
    let id = link.booking_id;
    let booking: BookingDetail = read_booking(product, id, &caller).await?;
    if booking.booking_status == BookingStatus::Cancelled {
        return Ok(page(&state, product, booking));
    }
    if let Some(refusal) = refusal(&state, &offer(&state, product.product, &booking)) {
        return Err(refusal);
    }
    let cancelled = cancel_upstream(product, id, &caller).await?;
    tracing::info!(booking_id = id, product = %link.product, "booking cancelled by the candidate");
    Ok(page(&state, product, cancelled))
}

/// `GET /api/manage/{link}/dates`: the other dates a Practical Training
/// booking may move to, when the candidate may move it.
pub async fn dates(
    State(state): Shared,
    caller: Caller,
    Path(link): Path<String>,
) -> Result<Response, GatewayError> {
    let link = open(&state, &link)?;
    let product = practical(&state, &link)?;
    let booking: BookingDetail = read_booking(product, link.booking_id, &caller).await?;
    refuse_unless_movable(&state, product, &booking)?;
    Ok(Json(dates_for(&state, product, &booking, &caller).await?).into_response())
}

/// `POST /api/manage/{link}/move` with an `Idempotency-Key`: moves a
/// Practical Training booking to another date of its course, paid the same
/// way: the new seat held, then booked, then the old booking cancelled.
/// Answers the new booking's page and link.
pub async fn move_booking(
    State(state): Shared,
    caller: Caller,
    Path(link): Path<String>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<MoveRequest>,
) -> Result<Response, GatewayError> {
    let widget_key = widget_key(&headers)?;
    let link = open(&state, &link)?;
    let product = practical(&state, &link)?;
    let old_id = link.booking_id;
    let old: BookingDetail = read_booking(product, old_id, &caller).await?;
    let session = state.signer.move_session(old_id, widget_key);
    let move_key = state
        .signer
        .attempt_key(&session, Product::Practical, "move", widget_key);
    let begun = state
        .memory
        .begin(
            &move_key,
            NewAttempt {
                hold_hash: "move",
                email: &old.candidate.email,
                pay_option: old.pay_option.wire_name(Product::Practical),
            },
            state.clock.utc(),
        )
        .await
        .map_err(|error| {
            tracing::error!(%error, "a move could not be remembered: not begun");
            GatewayError::MemoryUnavailable
        })?;
    let new: BookingDetail = match begun {
        Begun::Made(new_id) => read_booking(product, new_id, &caller).await?,
        Begun::InFlight => return Err(GatewayError::AttemptInFlight),
        Begun::New | Begun::Unknown(_) => {
            let mover = Mover {
                state: &state,
                product,
                session: &session,
                widget_key,
                caller: &caller,
            };
            match mover.book(&old, request.training_event_id).await {
                Ok(new) => {
                    let made = Outcome::Made { booking_id: new.id };
                    state.memory.settle(&move_key, made).await;
                    new
                }
                Err(error) => {
                    state.memory.forget(&move_key).await;
                    return Err(error);
                }
            }
        }
    };
    let old_booking_kept = match cancel_upstream(product, old_id, &caller).await {
        Ok(_) => None,
        Err(error) => {
            tracing::error!(
                old_booking_id = old_id,
                new_booking_id = new.id,
                %error,
                "a booking moved to another date, but its old booking could not be cancelled: the agency must cancel it"
            );
            Some(format!(
                "Your new place is booked, but your old place (booking {old_id}) could not be cancelled. The agency that booked you has been told; {}",
                contact_sentence(&state).to_lowercase()
            ))
        }
    };
    tracing::info!(
        old_booking_id = old_id,
        new_booking_id = new.id,
        "booking moved to another date by the candidate"
    );
    let manage_link = link_for(&state, Product::Practical, &new);
    let booking = vet_payment_url(product, new);
    Ok(Json(MovedBooking {
        page: ManagedBooking {
            cancel: offer(&state, product.product, &booking),
            booking,
            agency_email: state.agency_email.clone(),
        },
        manage_link,
        old_booking_kept,
    })
    .into_response())
}

/// One move of a booking to another date: the session it runs as, and who
/// it is for.
struct Mover<'a> {
    state: &'a AppState,
    product: &'a ProductUpstream,
    session: &'a SessionId,
    widget_key: &'a str,
    caller: &'a Caller,
}

impl Mover<'_> {
    /// Holds a seat on `event_id` (or takes the one an earlier try of this
    /// move holds) and books it for `old`'s candidate and pay option. A
    /// booking refused outright gives the seat back; one whose answer was
    /// lost keeps it, for a retry to find what it made.
    async fn book(
        &self,
        old: &BookingDetail,
        event_id: u64,
    ) -> Result<BookingDetail, GatewayError> {
        let (state, product) = (self.state, self.product);
        refuse_unless_movable(state, product, old)?;
        product.policy.check_pay_option(&old.pay_option)?;
        let offered = dates_for(state, product, old, self.caller).await?;
        if !offered.iter().any(|event| event.id == event_id) {
            return Err(GatewayError::invalid(
                "training_event_id",
                "Choose one of the other dates offered for this course: that one is not open to move to.",
            ));
        }
        let place = HoldRequest {
            event_id,
            hold_ref: None,
            renew: false,
        };
        let hold_key = state.signer.hold_key(self.session, &event_id.to_string());
        let remembered = state
            .memory
            .session_hold::<SeatHold>(&hold_key, state.clock.utc())
            .await;
        let hash = match remembered {
            Some((hold, _)) => hold.hold_hash,
            None => {
                let holder = Holder {
                    session: self.session,
                    caller: self.caller,
                };
                hold_place(state, holder, &place, None).await?.1.hold_hash
            }
        };
        let (first_name, last_name) = split_name(&old.candidate.name);
        let request = BookingRequest {
            hold_ref: String::new(),
            first_name,
            last_name,
            email: old.candidate.email.clone(),
            phone: old.candidate.phone.clone(),
            job_role: old.candidate.job_role.clone(),
            pay_option: old.pay_option.clone(),
            return_url: None,
            kit: None,
        };
        let body = UpstreamBooking {
            request: product.policy.booking_request(&request, &hash),
            return_url: None,
        };
        let attempt = AttemptOf {
            state,
            product,
            session: self.session,
            key: state
                .signer
                .attempt_key(self.session, Product::Practical, &hash, self.widget_key),
            hash: &hash,
            email: &old.candidate.email,
            pay_option: old.pay_option.wire_name(Product::Practical).to_owned(),
            ticket: None,
            caller: self.caller,
        };
        let made = attempt.made::<BookingDetail, _>(&body).await;
        if let Err(error) = &made {
            if !error.leaves_outcome_unknown() {
                if let Err(release) = release_hash(state, product, &hash, self.caller).await {
                    tracing::warn!(%release, "a move's hold was left to lapse");
                }
            }
        }
        made
    }
}

/// The other dates `booking` may move to, from the cached list of its
/// course's events.
async fn dates_for(
    state: &AppState,
    product: &ProductUpstream,
    booking: &BookingDetail,
    caller: &Caller,
) -> Result<Vec<TrainingEvent>, GatewayError> {
    let query = vec![("course_id", booking.course.id.to_string())];
    let bytes =
        cached_list::<TrainingEvent>(state, product, "/training-events", query, caller).await?;
    let events: Vec<TrainingEvent> = serde_json::from_slice(&bytes)
        .map_err(|error| GatewayError::BadGateway(format!("re-reading cached events: {error}")))?;
    Ok(other_dates(booking, events, state.clock.utc()))
}

/// A 422 saying why `booking` cannot move to another date, if it cannot.
fn refuse_unless_movable(
    state: &AppState,
    product: &ProductUpstream,
    booking: &BookingDetail,
) -> Result<(), GatewayError> {
    let offer = offer(state, product.product, booking);
    if another_date_offered(&offer, &booking.pay_option) {
        return Ok(());
    }
    Err(refusal(state, &offer).unwrap_or_else(|| {
        GatewayError::invalid(
            "booking",
            by_agency_message(state, "A booking paid by card"),
        )
    }))
}

/// Why a cancel (and so a move) is refused under `offer`, if it is.
fn refusal(state: &AppState, offer: &CancelOffer) -> Option<GatewayError> {
    let message = match offer.state {
        CancelState::Open => return None,
        CancelState::Closed => closed_message(state, offer.until.as_deref()),
        CancelState::Done => {
            "This training has already begun, so the booking can no longer be cancelled or moved."
                .to_owned()
        }
        CancelState::ByAgency => by_agency_message(state, "This booking"),
    };
    Some(GatewayError::invalid("booking", message))
}

/// Cancels booking `id` upstream: the booking, cancelled, even when the
/// answer was lost (settled by reading it back).
async fn cancel_upstream(
    product: &ProductUpstream,
    id: u64,
    caller: &Caller,
) -> Result<BookingDetail, GatewayError> {
    let call = Call::post::<()>(
        "/bookings/{id}/cancel",
        format!("/bookings/{id}/cancel"),
        None,
    )?
    .by(caller);
    match product.upstream.send(&call, On429::WaitAndRetry).await {
        Ok(reply) if reply.status.is_success() => reply.json(BOOKING_NOT_FOUND),
        Ok(reply) => {
            let refusal = reply.into_error(BOOKING_NOT_FOUND);
            settled(product, id, caller, refusal).await
        }
        Err(error) if error.leaves_outcome_unknown() => settled(product, id, caller, error).await,
        Err(error) => Err(error),
    }
}

/// The Practical Training upstream a link to change a booking needs: a
/// Virtual BLS booking is changed by the agency only.
fn practical<'a>(
    state: &'a AppState,
    link: &BookingLink,
) -> Result<&'a ProductUpstream, GatewayError> {
    if link.product != Product::Practical {
        return Err(GatewayError::invalid(
            "booking",
            by_agency_message(state, "A Virtual BLS booking"),
        ));
    }
    state.product(link.product)
}

/// After a cancel that failed or whose answer was lost: the booking read
/// back if it is cancelled after all (an earlier try, or the lost one,
/// cancelled it), else the failure.
async fn settled(
    product: &ProductUpstream,
    id: u64,
    caller: &Caller,
    failure: GatewayError,
) -> Result<BookingDetail, GatewayError> {
    match read_booking::<BookingDetail>(product, id, caller).await {
        Ok(booking) if booking.booking_status == BookingStatus::Cancelled => {
            product.upstream.metrics().lost_cancel_settled();
            Ok(booking)
        }
        _ => Err(failure),
    }
}

/// The durable link to `booking`'s page, issued now.
pub(super) fn link_for<B: MadeBooking>(state: &AppState, product: Product, booking: &B) -> String {
    let (_, ends) = booking.times();
    let link = BookingLink::issue(product, booking.id(), state.clock.utc(), ends.to_utc());
    state.signer.booking_link(&link)
}

/// The booking a link names, or why the link does not open.
fn open(state: &AppState, link: &str) -> Result<BookingLink, GatewayError> {
    state
        .signer
        .open_booking_link(link, state.clock.utc())
        .map_err(GatewayError::Link)
}

/// What the policy offers for `booking` now.
fn offer<B: MadeBooking>(state: &AppState, product: Product, booking: &B) -> CancelOffer {
    let (starts, _) = booking.times();
    let over = matches!(
        booking.booking_status(),
        BookingStatus::Cancelled | BookingStatus::Completed | BookingStatus::NoShow
    );
    state
        .candidate_cancel
        .offer(product, over, starts.to_utc(), state.clock.utc())
}

/// The booking's page.
fn page<B: MadeBooking>(state: &AppState, product: &ProductUpstream, booking: B) -> Response {
    let booking = vet_payment_url(product, booking);
    Json(ManagedBooking {
        cancel: offer(state, product.product, &booking),
        booking,
        agency_email: state.agency_email.clone(),
    })
    .into_response()
}

/// A cancel refused because the agency's time for it has passed.
fn closed_message(state: &AppState, until: Option<&str>) -> String {
    let when = until
        .and_then(|until| chrono::DateTime::parse_from_rfc3339(until).ok())
        .map(|until| {
            let local = uk_time::to_uk(until.to_utc());
            format!(
                " at {} on {}",
                uk_time::clock_time(local.time()),
                uk_time::full_date(local.date_naive())
            )
        })
        .unwrap_or_default();
    format!(
        "The time to cancel this booking online ended{when}. {}",
        contact_sentence(state)
    )
}

/// A cancel the candidate cannot make themselves.
fn by_agency_message(state: &AppState, what: &str) -> String {
    format!(
        "{what} can be cancelled by the agency that booked you only. {}",
        contact_sentence(state)
    )
}

fn contact_sentence(state: &AppState) -> String {
    match &state.agency_email {
        Some(email) => format!("Contact them at {email}."),
        None => "Contact them to change it.".to_owned(),
    }
}
