//! The page that stands in for PayPal Checkout for Virtual BLS
//! `candidate_pays` bookings (Practical Training's stand-in is for Stripe).
//!
//! A booking's `payment_url` (`bookings::payment_url`) is
//! `{public_url}/paypal/checkoutnow?token=TOKEN`, shaped
//! like PayPal's own `https://www.paypal.com/checkoutnow?token=...`, with
//! `&return_url=...` when the booking stored one.
//!
//! Invariants: as for the card stand-in (`checkout`): every value is
//! HTML-escaped, no script, a strict Content-Security-Policy, paying is a
//! plain form POST and harmless twice, and the browser is sent back only to
//! the `return_url` stored with the booking.

use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use booking_core::api::{BookingStatus, Money, PayStatus};
use booking_core::uk_time::{to_uk, zone_label};
use rusqlite::params;

use super::super::clock::from_unix;
use super::super::db::write_tx;
use super::super::errors::SandboxError;
use super::super::extract::QueryParams;
use super::super::pages::{escape_html, stand_in_page};
use super::super::AppState;
use super::bookings::{load_virtual_by_token, VirtualRecord, CHECKOUT_PATH};

/// What each page says it stands in for.
const NOTICE: &str = "Sandbox PayPal checkout: no PayPal account is charged.";

/// The booking summary on the pages.
fn summary(booking: &VirtualRecord) -> String {
    let start = to_uk(from_unix(booking.start_utc));
    format!(
        "<dl>\n<dt>Candidate</dt><dd>{}</dd>\n<dt>Course</dt><dd>{}</dd>\n\
         <dt>Session</dt><dd>{}</dd>\n<dt>Amount</dt><dd>{}</dd>\n\
         <dt>Booking</dt><dd>#{}</dd>\n</dl>\n",
        escape_html(&booking.candidate_name()),
        escape_html(&booking.course.name),
        escape_html(&format!(
            "{} {}, online (Zoom)",
            start.format("%A %-d %B %Y, %H:%M"),
            zone_label(*start.offset())
        )),
        escape_html(&Money(booking.amount_pence).to_string()),
        booking.id,
    )
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    stand_in_page(status, title, NOTICE, body)
}

fn unknown_link() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "Payment link not found",
        "<p>This payment link is not valid. Ask the agency for a new one.</p>\n",
    )
}

fn paid(booking: &VirtualRecord) -> Response {
    page(
        StatusCode::OK,
        "Payment received",
        &format!(
            "<p>Your payment has been received and your session is booked. The training kit will be posted to you.</p>\n{}",
            summary(booking)
        ),
    )
}

fn error_page(error: SandboxError) -> Response {
    let status = error.into_response().status();
    page(
        status,
        "Something went wrong",
        "<p>The payment could not be processed. Please try again.</p>\n",
    )
}

/// `GET /paypal/checkoutnow?token=...`: the amount and a Pay button.
pub(crate) async fn show(State(state): State<AppState>, query: QueryParams) -> Response {
    let token = query.get("token").unwrap_or("").to_owned();
    let lookup = token.clone();
    let found = state
        .db
        .call(move |conn| Ok(load_virtual_by_token(conn, &lookup)?))
        .await;
    let booking = match found {
        Err(error) => return error_page(error),
        Ok(None) => return unknown_link(),
        Ok(Some(booking)) => booking,
    };
    if booking.booking_status == BookingStatus::Cancelled.as_str() {
        return page(
            StatusCode::GONE,
            "Booking cancelled",
            &format!(
                "<p>This booking was cancelled, so there is nothing to pay.</p>\n{}",
                summary(&booking)
            ),
        );
    }
    if booking.pay_status != PayStatus::Pending.as_str() {
        return paid(&booking);
    }
    let action = format!("{CHECKOUT_PATH}?token={}", escape_html(&token));
    page(
        StatusCode::OK,
        "Pay with PayPal",
        &format!(
            "<p>Pay for this Virtual BLS session.</p>\n{}\
             <form method=\"post\" action=\"{action}\">\n\
             <button type=\"submit\">Pay {} with PayPal</button>\n</form>\n",
            summary(&booking),
            escape_html(&Money(booking.amount_pence).to_string()),
        ),
    )
}

/// `POST /paypal/checkoutnow?token=...`: completes the payment (once), then
/// answers 303 to the stored `return_url` or shows "Payment received".
pub(crate) async fn pay(State(state): State<AppState>, query: QueryParams) -> Response {
    let token = query.get("token").unwrap_or("").to_owned();
    let now = state.clock.now_secs();
    let done = state
        .db
        .call(move |conn| {
            let tx = write_tx(conn)?;
            let Some(booking) = load_virtual_by_token(&tx, &token)? else {
                return Ok(None);
            };
            if booking.awaits_payment() {
                tx.execute(
                    "UPDATE bls_bookings SET pay_status = 'completed', booking_status = 'booked', \
                     paid_utc = ?1 WHERE id = ?2",
                    params![now, booking.id],
                )?;
            }
            let booking = load_virtual_by_token(&tx, &token)?;
            tx.commit()?;
            Ok(booking)
        })
        .await;
    let booking = match done {
        Err(error) => return error_page(error),
        Ok(None) => return unknown_link(),
        Ok(Some(booking)) => booking,
    };
    if let Some(location) = booking
        .return_url
        .as_deref()
        .and_then(|url| HeaderValue::from_str(url).ok())
    {
        return (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response();
    }
    paid(&booking)
}
