//! The page that stands in for PayPal Checkout for Virtual BLS
//! `candidate_pays` bookings (Practical Training's stand-in is for Stripe):
//! `checkout`'s pages, in PayPal's words.
//!
//! A booking's `payment_url` is `{public_url}/paypal/checkoutnow?token=TOKEN`,
//! shaped like PayPal's own `https://www.paypal.com/checkoutnow?token=...`,
//! with `&return_url=...` when the booking stored one.
//!
//! Invariants: those of every stand-in (`checkout`): every value is
//! HTML-escaped, no script, a strict Content-Security-Policy, paying is a
//! plain form POST and harmless twice, and the browser is sent back only to
//! the `return_url` stored with the booking; paying writes
//! `booking.confirmed` once, in the payment's transaction.

use axum::extract::State;
use axum::response::Response;
use rusqlite::{params, Connection};

use super::super::booking_api::emit_booking;
use super::super::checkout::{pay_for, pay_page, CheckoutStandIn};
use super::super::deliveries::event;
use super::super::errors::SandboxError;
use super::super::extract::QueryParams;
use super::super::pages::uk_when;
use super::super::AppState;
use super::bookings::VirtualRecord;

/// The PayPal stand-in's words.
impl CheckoutStandIn for VirtualRecord {
    const NOTICE: &'static str = "Sandbox PayPal checkout: no PayPal account is charged.";
    const PAY_TITLE: &'static str = "Pay with PayPal";
    const PAY_INTRO: &'static str = "<p>Pay for this Virtual BLS session.</p>\n";
    const PAY_WITH: &'static str = " with PayPal";

    fn summary_rows(&self) -> Vec<(&'static str, String)> {
        vec![
            ("Course", self.course.name.clone()),
            (
                "Session",
                format!("{}, online (Zoom)", uk_when(self.start_utc)),
            ),
        ]
    }

    fn paid_note(&self) -> &'static str {
        "<p>Your payment has been received and your session is booked. The training kit will be posted to you.</p>\n"
    }

    /// A paid booking is `booked`, and `booking.confirmed` is written.
    fn settle(&self, conn: &Connection, public_url: &str, now: i64) -> Result<(), SandboxError> {
        if self.stored.awaits_payment() {
            conn.execute(
                "UPDATE bls_bookings SET pay_status = 'completed', booking_status = 'booked', \
                 paid_utc = ?1 WHERE id = ?2",
                params![now, self.stored.id],
            )?;
            emit_booking::<VirtualRecord>(
                conn,
                event::BOOKING_CONFIRMED,
                self.stored.id,
                public_url,
                now,
            )?;
        }
        Ok(())
    }
}

/// The `token` the link carries.
fn token(query: &QueryParams) -> String {
    query.get("token").unwrap_or("").to_owned()
}

/// `GET /paypal/checkoutnow?token=...`: the amount and a Pay button.
pub(crate) async fn show(State(state): State<AppState>, query: QueryParams) -> Response {
    pay_page::<VirtualRecord>(&state, token(&query)).await
}

/// `POST /paypal/checkoutnow?token=...`: completes the payment (once), then
/// answers 303 to the stored `return_url` or shows "Payment received".
pub(crate) async fn pay(State(state): State<AppState>, query: QueryParams) -> Response {
    pay_for::<VirtualRecord>(&state, token(&query)).await
}
