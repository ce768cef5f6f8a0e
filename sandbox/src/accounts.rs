//! The caller's account: booking URL, profile, credits and wallet
//! transactions.
//!
//! Invariant: each answer shows only the authenticated account's data, and
//! the money balance equals the sum of its wallet transactions' amounts.

use axum::extract::State;
use axum::Json;
use booking_core::api::{
    BookingUrl, ClientProfile, CourseCredit, CreditsResponse, Money, Page, TransactionType,
    WalletTransaction,
};
use rusqlite::types::Value as SqlValue;
use rusqlite::Connection;

use super::auth::Authed;
use super::catalog::to_u64;
use super::clock::{from_unix, utc_fixed};
use super::errors::SandboxError;
use super::extract::QueryParams;
use super::pagination::{count_and_page, envelope, Filters, PageRequest};
use super::validate::Validator;
use super::AppState;

/// `GET /booking-url`: the account's public booking page.
pub(crate) async fn booking_url(State(state): State<AppState>, authed: Authed) -> Json<BookingUrl> {
    Json(BookingUrl {
        booking_url: state.booking_url(&authed.sgi_code),
    })
}

/// The profile of an account.
pub(crate) fn load_profile(
    conn: &Connection,
    state: &AppState,
    account_id: i64,
) -> rusqlite::Result<ClientProfile> {
    conn.query_row(
        "SELECT id, name, email, hb_client_id, invoice_payments, sgi_code FROM accounts WHERE id = ?1",
        [account_id],
        |row| {
            let sgi: String = row.get(5)?;
            Ok(ClientProfile {
                id: Some(to_u64(row.get(0)?)),
                name: row.get(1)?,
                email: row.get(2)?,
                hb_client_id: row.get(3)?,
                invoice_payments: Some(row.get(4)?),
                booking_url: state.booking_url(&sgi),
            })
        },
    )
}

/// Credits per course and the money balance of an account.
pub(crate) fn load_credits(
    conn: &Connection,
    account_id: i64,
) -> rusqlite::Result<CreditsResponse> {
    let balance: i64 = conn.query_row(
        "SELECT balance_pence FROM accounts WHERE id = ?1",
        [account_id],
        |row| row.get(0),
    )?;
    let booking_credits = conn
        .prepare_cached(
            "SELECT cc.course_id, c.name, cc.credits FROM course_credits cc \
             JOIN courses c ON c.id = cc.course_id WHERE cc.account_id = ?1 ORDER BY cc.course_id",
        )?
        .query_map([account_id], |row| {
            Ok(CourseCredit {
                course_id: to_u64(row.get(0)?),
                course_name: row.get(1)?,
                credits: row.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(CreditsResponse {
        booking_credits,
        booking_money_balance: Money(balance),
        currency: "GBP".to_owned(),
    })
}

/// `GET /profile`.
pub(crate) async fn profile(
    State(state): State<AppState>,
    authed: Authed,
) -> Result<Json<ClientProfile>, SandboxError> {
    let shared = state.clone();
    let profile = state
        .db
        .call(move |conn| Ok(load_profile(conn, &shared, authed.account_id)?))
        .await?;
    Ok(Json(profile))
}

/// `GET /credits`.
pub(crate) async fn credits(
    State(state): State<AppState>,
    authed: Authed,
) -> Result<Json<CreditsResponse>, SandboxError> {
    let credits = state
        .db
        .call(move |conn| Ok(load_credits(conn, authed.account_id)?))
        .await?;
    Ok(Json(credits))
}

/// `GET /transactions`: wallet movements, newest first.
pub(crate) async fn transactions(
    State(state): State<AppState>,
    authed: Authed,
    query: QueryParams,
) -> Result<Json<Page<WalletTransaction>>, SandboxError> {
    let mut validator = Validator::default();
    let request = PageRequest::from_query(&query, &mut validator, state.profile.get().max_per_page);
    validator.finish()?;
    let filters = Filters::new("account_id = ?", SqlValue::Integer(authed.account_id));
    let (total, data) = state
        .db
        .call(move |conn| {
            Ok(count_and_page(
                conn,
                "SELECT id, kind, amount_pence, credits, course_id, \
                 COALESCE(booking_id, bls_booking_id), description, balance_after_pence, created_utc",
                "FROM wallet_transactions",
                filters,
                "id DESC",
                request,
                |row| {
                    let kind: String = row.get(1)?;
                    let amount: Option<i64> = row.get(2)?;
                    let course_id: Option<i64> = row.get(4)?;
                    let booking_id: Option<i64> = row.get(5)?;
                    Ok(WalletTransaction {
                        id: to_u64(row.get(0)?),
                        kind: TransactionType::parse(&kind),
                        amount: amount.map(Money),
                        credits: row.get(3)?,
                        course_id: course_id.map(to_u64),
                        booking_id: booking_id.map(to_u64),
                        description: row.get(6)?,
                        balance_after: Some(Money(row.get(7)?)),
                        created_at: utc_fixed(from_unix(row.get(8)?)),
                    })
                },
            )?)
        })
        .await?;
    Ok(Json(envelope(
        &state,
        "/transactions",
        &query,
        request,
        total,
        data,
    )))
}
