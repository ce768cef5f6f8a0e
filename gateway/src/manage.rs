//! The `manage` routes: the candidate's own booking page, opened by a
//! durable booking link (`booking_core::manage::BookingLink`) in place of a
//! widget session. The booking is read live from the upstream each time.
//!
//! Invariants: a link opens only the one booking of the one product it
//! names, and only while it has not expired; a link is never logged (the
//! request log names the route template); a cancel is sent only inside the
//! agency's `candidate_cancel` policy, and one whose answer was lost is
//! settled by reading the booking back, never by sending it twice blind.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Json;
use booking_core::api::bls::VirtualBooking;
use booking_core::api::{BookingDetail, BookingStatus};
use booking_core::manage::BookingLink;
use booking_core::product::Product;
use booking_core::uk_time;
use booking_core::widget_api::{CancelOffer, CancelState, ManagedBooking};

use super::budget::Caller;
use super::errors::GatewayError;
use super::product::{MadeBooking, ProductUpstream};
use super::routes::{read_booking, vet_payment_url, BOOKING_NOT_FOUND};
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
    if link.product != Product::Practical {
        return Err(GatewayError::invalid(
            "booking",
            by_agency_message(&state, "A Virtual BLS booking"),
        ));
    }
    let product = state.product(link.product)?;
    let id = link.booking_id;
    let booking: BookingDetail = read_booking(product, id, &caller).await?;
    if booking.booking_status == BookingStatus::Cancelled {
        return Ok(page(&state, product, booking));
    }
    let offer = offer(&state, product.product, &booking);
    match offer.state {
        CancelState::Open => {}
        CancelState::Closed => {
            return Err(GatewayError::invalid(
                "booking",
                closed_message(&state, offer.until.as_deref()),
            ))
        }
        CancelState::Done => {
            return Err(GatewayError::invalid(
                "booking",
                "This training has already begun, so the booking can no longer be cancelled.",
            ))
        }
        CancelState::ByAgency => {
            return Err(GatewayError::invalid(
                "booking",
                by_agency_message(&state, "This booking"),
            ))
        }
    }
    let call = Call::post::<()>(
        "/bookings/{id}/cancel",
        format!("/bookings/{id}/cancel"),
        None,
    )?
    .by(&caller);
    let sent = product.upstream.send(&call, On429::WaitAndRetry).await;
    let cancelled: BookingDetail = match sent {
        Ok(reply) if reply.status.is_success() => reply.json(BOOKING_NOT_FOUND)?,
        Ok(reply) => {
            let refusal = reply.into_error(BOOKING_NOT_FOUND);
            settled(product, id, &caller, refusal).await?
        }
        Err(error) if error.leaves_outcome_unknown() => {
            settled(product, id, &caller, error).await?
        }
        Err(error) => return Err(error),
    };
    tracing::info!(booking_id = id, product = %link.product, "booking cancelled by the candidate");
    Ok(page(&state, product, cancelled))
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
        Ok(booking) if booking.booking_status == BookingStatus::Cancelled => Ok(booking),
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
