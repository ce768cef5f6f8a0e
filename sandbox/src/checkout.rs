//! The pages that stand in for the payment providers' checkouts, written
//! once over [`CheckoutStandIn`]: Stripe Checkout for Practical Training
//! (`/checkout/{token}`, here) and PayPal Checkout for Virtual BLS
//! (`bls::paypal`); and the stand-in for the account's public booking page.
//!
//! Invariants: every interpolated value is HTML-escaped; pages carry no
//! script and a Content-Security-Policy that forbids one; paying is a plain
//! form POST and harmless twice; after paying, the browser is sent only to
//! the `return_url` stored with the booking when it was created (a
//! `return_url` edited into the link is ignored), so the page cannot be used
//! as an open redirect.

use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use booking_core::api::{BookingStatus, Money};
use rusqlite::{params, Connection, OptionalExtension};

use super::booking_api::{emit_booking, ProductBooking};
use super::bookings::BookingRecord;
use super::db::write_tx;
use super::deliveries::event;
use super::errors::SandboxError;
use super::extract::{PathParam, QueryParams};
use super::pages::{escape_html, page, stand_in_page, uk_when, CARD_NOTICE};
use super::AppState;

/// What a product's payment stand-in says, and does on payment, beyond
/// what every stand-in does.
pub(crate) trait CheckoutStandIn: ProductBooking {
    /// What each page says it stands in for.
    const NOTICE: &'static str;
    /// The pay page's title.
    const PAY_TITLE: &'static str;
    /// The pay page's opening paragraph.
    const PAY_INTRO: &'static str;
    /// What the Pay button says after the amount.
    const PAY_WITH: &'static str;

    /// The summary's rows between the candidate and the amount.
    fn summary_rows(&self) -> Vec<(&'static str, String)>;
    /// The opening paragraph of the page confirming payment.
    fn paid_note(&self) -> &'static str;
    /// Marks the booking paid if it awaits payment, with what that causes,
    /// inside the caller's transaction.
    fn settle(&self, conn: &Connection, public_url: &str, now: i64) -> Result<(), SandboxError>;
}

/// A complete page of `B`'s stand-in.
fn stand_in<B: CheckoutStandIn>(status: StatusCode, title: &str, body: &str) -> Response {
    stand_in_page(status, title, B::NOTICE, body)
}

/// The booking summary on the pages.
fn summary<B: CheckoutStandIn>(booking: &B) -> String {
    let stored = booking.stored();
    let mut rows = vec![("Candidate", stored.candidate_name())];
    rows.extend(booking.summary_rows());
    rows.push(("Amount", Money(stored.amount_pence).to_string()));
    rows.push(("Booking", format!("#{}", stored.id)));
    let mut html = "<dl>\n".to_owned();
    for (term, value) in rows {
        html.push_str(&format!(
            "<dt>{term}</dt><dd>{}</dd>\n",
            escape_html(&value)
        ));
    }
    html.push_str("</dl>\n");
    html
}

/// The page for a link that leads nowhere.
fn unknown_link<B: CheckoutStandIn>() -> Response {
    stand_in::<B>(
        StatusCode::NOT_FOUND,
        "Payment link not found",
        "<p>This payment link is not valid. Ask the agency for a new one.</p>\n",
    )
}

/// The page for a booking cancelled before payment.
fn cancelled<B: CheckoutStandIn>(booking: &B) -> Response {
    stand_in::<B>(
        StatusCode::GONE,
        "Booking cancelled",
        &format!(
            "<p>This booking was cancelled, so there is nothing to pay.</p>\n{}",
            summary(booking)
        ),
    )
}

/// The page confirming payment.
fn paid<B: CheckoutStandIn>(booking: &B) -> Response {
    stand_in::<B>(
        StatusCode::OK,
        "Payment received",
        &format!("{}{}", booking.paid_note(), summary(booking)),
    )
}

/// A failure shown as a page rather than JSON.
fn error_page<B: CheckoutStandIn>(error: SandboxError) -> Response {
    let status = error.into_response().status();
    stand_in::<B>(
        status,
        "Something went wrong",
        "<p>The payment could not be processed. Please try again.</p>\n",
    )
}

/// The pay page of the booking behind `token`: the amount and a Pay button,
/// or why there is nothing to pay.
pub(crate) async fn pay_page<B: CheckoutStandIn>(state: &AppState, token: String) -> Response {
    let lookup = token.clone();
    let found = state
        .db
        .call(move |conn| Ok(B::load_by_token(conn, &lookup)?))
        .await;
    let booking = match found {
        Err(error) => return error_page::<B>(error),
        Ok(None) => return unknown_link::<B>(),
        Ok(Some(booking)) => booking,
    };
    let stored = booking.stored();
    if stored.is_cancelled() {
        return cancelled(&booking);
    }
    if !stored.is_unpaid() {
        return paid(&booking);
    }
    let action = B::checkout_link(&escape_html(&token));
    stand_in::<B>(
        StatusCode::OK,
        B::PAY_TITLE,
        &format!(
            "{}{}<form method=\"post\" action=\"{action}\">\n\
             <button type=\"submit\">Pay {}{}</button>\n</form>\n",
            B::PAY_INTRO,
            summary(&booking),
            escape_html(&Money(stored.amount_pence).to_string()),
            B::PAY_WITH,
        ),
    )
}

/// Pays for the booking behind `token` (once), then answers 303 to the
/// `return_url` stored with it or shows "Payment received".
pub(crate) async fn pay_for<B: CheckoutStandIn>(state: &AppState, token: String) -> Response {
    let now = state.clock.now_secs();
    let public_url = state.public_url.clone();
    let done = state
        .db
        .call(move |conn| {
            let tx = write_tx(conn)?;
            let Some(booking) = B::load_by_token(&tx, &token)? else {
                return Ok(None);
            };
            booking.settle(&tx, &public_url, now)?;
            let booking = B::load_by_token(&tx, &token)?;
            tx.commit()?;
            Ok(booking)
        })
        .await;
    state.webhooks.wake();
    let booking = match done {
        Err(error) => return error_page::<B>(error),
        Ok(None) => return unknown_link::<B>(),
        Ok(Some(booking)) => booking,
    };
    if booking.stored().is_cancelled() {
        return cancelled(&booking);
    }
    if let Some(location) = booking
        .stored()
        .return_url
        .as_deref()
        .and_then(|url| HeaderValue::from_str(url).ok())
    {
        return (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response();
    }
    paid(&booking)
}

/// Practical Training's stand-in for Stripe Checkout.
impl CheckoutStandIn for BookingRecord {
    const NOTICE: &'static str = CARD_NOTICE;
    const PAY_TITLE: &'static str = "Checkout";
    const PAY_INTRO: &'static str = "<p>Pay for this training booking.</p>\n";
    const PAY_WITH: &'static str = "";

    fn summary_rows(&self) -> Vec<(&'static str, String)> {
        let event = &self.event;
        vec![
            ("Course", event.course.name.clone()),
            (
                "Venue",
                format!("{}, {}", event.location.name, event.location.address),
            ),
            ("Date", uk_when(event.start_utc)),
        ]
    }

    fn paid_note(&self) -> &'static str {
        if self.stored.booking_status == BookingStatus::Pending.as_str() {
            "<p>Your payment has been received. The booking now awaits review by the training provider.</p>\n"
        } else {
            "<p>Your payment has been received and your place is booked.</p>\n"
        }
    }

    /// A paid booking is `booked` (and `booking.confirmed` written), or
    /// still `pending` while it awaits review.
    fn settle(&self, conn: &Connection, public_url: &str, now: i64) -> Result<(), SandboxError> {
        let stored = &self.stored;
        if !stored.is_unpaid() || stored.is_cancelled() {
            return Ok(());
        }
        let status = self.status_once_paid();
        conn.execute(
            "UPDATE bookings SET pay_status = 'completed', booking_status = ?1, \
             paid_utc = ?2 WHERE id = ?3",
            params![status.as_str(), now, stored.id],
        )?;
        if status == BookingStatus::Booked {
            emit_booking::<BookingRecord>(
                conn,
                event::BOOKING_CONFIRMED,
                stored.id,
                public_url,
                now,
            )?;
        }
        Ok(())
    }
}

/// `GET /checkout/{token}`.
pub(crate) async fn show(State(state): State<AppState>, token: PathParam) -> Response {
    pay_page::<BookingRecord>(&state, token.0).await
}

/// `POST /checkout/{token}`: completes the payment, then redirects (303) to
/// the booking's `return_url` or shows "Payment received". Paying twice is
/// harmless.
pub(crate) async fn pay(State(state): State<AppState>, token: PathParam) -> Response {
    pay_for::<BookingRecord>(&state, token.0).await
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
        Err(error) => error_page::<BookingRecord>(error),
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
