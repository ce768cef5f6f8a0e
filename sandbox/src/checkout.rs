//! The checkout page that stands in for Stripe Checkout, and the stand-in
//! for the account's public booking page.
//!
//! Invariants: every interpolated value is HTML-escaped; pages carry no
//! script and a Content-Security-Policy that forbids one; paying is a plain
//! form POST; after paying, the browser is sent only to the `return_url`
//! stored with the booking when it was created (a `return_url` edited into
//! the link is ignored), so the page cannot be used as an open redirect.

use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use booking_core::api::{BookingStatus, Money, PayStatus};
use booking_core::uk_time::to_uk;
use rusqlite::{params, OptionalExtension};

use super::bookings::{emit_booking, load_booking_by_checkout, BookingRecord};
use super::clock::from_unix;
use super::db::write_tx;
use super::deliveries::event;
use super::errors::SandboxError;
use super::extract::{PathParam, QueryParams};
use super::pages::{escape_html, page};
use super::AppState;

/// The booking summary shown on the checkout pages.
fn summary(booking: &BookingRecord) -> String {
    let start = to_uk(from_unix(booking.event.start_utc));
    format!(
        "<dl>\n<dt>Candidate</dt><dd>{}</dd>\n<dt>Course</dt><dd>{}</dd>\n\
         <dt>Venue</dt><dd>{}</dd>\n<dt>Date</dt><dd>{}</dd>\n<dt>Amount</dt><dd>{}</dd>\n\
         <dt>Booking</dt><dd>#{}</dd>\n</dl>\n",
        escape_html(&booking.candidate_name()),
        escape_html(&booking.event.course.name),
        escape_html(&format!(
            "{}, {}",
            booking.event.location.name, booking.event.location.address
        )),
        escape_html(&format!(
            "{} {}",
            start.format("%A %-d %B %Y, %H:%M"),
            if start.offset().local_minus_utc() == 0 {
                "GMT"
            } else {
                "BST"
            }
        )),
        escape_html(&Money(booking.amount_pence).to_string()),
        booking.id,
    )
}

/// The page for a link that leads nowhere.
fn unknown_link() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "Payment link not found",
        "<p>This payment link is not valid. Ask the agency for a new one.</p>\n",
    )
}

/// The page for a booking cancelled before payment.
fn cancelled(booking: &BookingRecord) -> Response {
    page(
        StatusCode::GONE,
        "Booking cancelled",
        &format!(
            "<p>This booking was cancelled, so there is nothing to pay.</p>\n{}",
            summary(booking)
        ),
    )
}

/// The page confirming payment.
fn paid(booking: &BookingRecord) -> Response {
    let note = if booking.booking_status == BookingStatus::Pending.as_str() {
        "<p>Your payment has been received. The booking now awaits review by the training provider.</p>\n"
    } else {
        "<p>Your payment has been received and your place is booked.</p>\n"
    };
    page(
        StatusCode::OK,
        "Payment received",
        &format!("{note}{}", summary(booking)),
    )
}

/// Loads the booking behind a checkout token.
async fn find(state: &AppState, token: String) -> Result<Option<BookingRecord>, SandboxError> {
    state
        .db
        .call(move |conn| Ok(load_booking_by_checkout(conn, &token)?))
        .await
}

/// The checkout page: the amount and a Pay button.
async fn page_handler(state: &AppState, token: String) -> Result<Response, SandboxError> {
    let Some(booking) = find(state, token.clone()).await? else {
        return Ok(unknown_link());
    };
    if booking.booking_status == BookingStatus::Cancelled.as_str() {
        return Ok(cancelled(&booking));
    }
    if booking.pay_status != PayStatus::Pending.as_str() {
        return Ok(paid(&booking));
    }
    let action = format!("/checkout/{}", escape_html(&token));
    let body = format!(
        "<p>Pay for this training booking.</p>\n{}\
         <form method=\"post\" action=\"{action}\">\n\
         <button type=\"submit\">Pay {}</button>\n</form>\n",
        summary(&booking),
        escape_html(&Money(booking.amount_pence).to_string()),
    );
    Ok(page(StatusCode::OK, "Checkout", &body))
}

/// `GET /checkout/{token}`.
pub(crate) async fn show(State(state): State<AppState>, token: PathParam) -> Response {
    page_handler(&state, token.0)
        .await
        .unwrap_or_else(error_page)
}

/// `POST /checkout/{token}`: completes the payment, then redirects (303) to
/// the booking's `return_url` or shows "Payment received". Paying twice is
/// harmless.
pub(crate) async fn pay(State(state): State<AppState>, token: PathParam) -> Response {
    pay_handler(&state, token.0)
        .await
        .unwrap_or_else(error_page)
}

/// Marks the booking paid (once) and chooses the answer.
async fn pay_handler(state: &AppState, token: String) -> Result<Response, SandboxError> {
    let now = state.clock.now_secs();
    let public_url = state.public_url.clone();
    let booking = state
        .db
        .call(move |conn| {
            let tx = write_tx(conn)?;
            let Some(booking) = load_booking_by_checkout(&tx, &token)? else {
                return Ok(None);
            };
            let awaiting = booking.pay_status == PayStatus::Pending.as_str()
                && booking.booking_status != BookingStatus::Cancelled.as_str();
            if awaiting {
                let status = booking.status_once_paid();
                tx.execute(
                    "UPDATE bookings SET pay_status = 'completed', booking_status = ?1, \
                     paid_utc = ?2 WHERE id = ?3",
                    params![status.as_str(), now, booking.id],
                )?;
                if status == BookingStatus::Booked {
                    emit_booking(&tx, event::BOOKING_CONFIRMED, booking.id, &public_url, now)?;
                }
            }
            let booking = load_booking_by_checkout(&tx, &token)?;
            tx.commit()?;
            Ok(booking)
        })
        .await?;
    state.webhooks.wake();
    let Some(booking) = booking else {
        return Ok(unknown_link());
    };
    if booking.booking_status == BookingStatus::Cancelled.as_str() {
        return Ok(cancelled(&booking));
    }
    if let Some(location) = booking
        .return_url
        .as_deref()
        .and_then(|url| HeaderValue::from_str(url).ok())
    {
        return Ok((StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response());
    }
    Ok(paid(&booking))
}

/// A failure shown as a page rather than JSON.
fn error_page(error: SandboxError) -> Response {
    let status = error.into_response().status();
    page(
        status,
        "Something went wrong",
        "<p>The payment could not be processed. Please try again.</p>\n",
    )
}

/// `GET /practical-training/?sgi=CODE`: the sandbox's stand-in for an
/// account's public booking page; with `&invite=TOKEN`, the page of a
/// booking invite (`invites`).
pub(crate) async fn booking_page(State(state): State<AppState>, query: QueryParams) -> Response {
    let code = query.get("sgi").unwrap_or("").to_owned();
    if let Some(token) = query.get("invite") {
        return super::invites::page_for(&state, code, token.to_owned()).await;
    }
    let lookup = code.clone();
    let product = state.product.as_str();
    let name = state
        .db
        .call(move |conn| {
            let name = conn
                .query_row(
                    "SELECT name FROM accounts WHERE sgi_code = ?1 AND internal = 0 \
                     AND product = ?2",
                    [lookup, product.to_owned()],
                    |row| row.get::<_, String>(0),
                )
                .optional()?;
            Ok(name)
        })
        .await;
    match name {
        Err(error) => error_page(error),
        Ok(Some(name)) => page(
            StatusCode::OK,
            "Public booking page",
            &format!(
                "<p>This stands in for the public booking page of <strong>{}</strong> \
                 (code {}). Candidates book through the agency's widget in the sandbox.</p>\n",
                escape_html(&name),
                escape_html(&code)
            ),
        ),
        Ok(None) => page(
            StatusCode::NOT_FOUND,
            "Booking page not found",
            "<p>No account has this booking page.</p>\n",
        ),
    }
}
