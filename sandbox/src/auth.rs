//! Token pairs: issue, refresh (rotating), inspect, revoke; and the bearer
//! token extractor every protected endpoint uses.
//!
//! Invariants: tokens are random and stored only as SHA-256 hashes; an
//! access token lives 1 hour and a refresh token 7 days on the sandbox clock;
//! a refresh token works once (refreshing rotates it); revoking marks both
//! tokens of the pair revoked; any missing, unknown, expired or revoked
//! bearer token answers 401 `{ "message": "Unauthenticated." }`. Checked
//! access tokens are cached in memory until they expire; revoking (the only
//! way a token ends early) removes them from the cache.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::{FromRequestParts, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::Json;
use booking_core::api::{ApiError, TokenInfo, TokenPair};
use rusqlite::{params, Connection, OptionalExtension};

use super::clock::{from_unix, utc_fixed};
use super::db::{random_token, sha256_hex, write_tx};
use super::errors::SandboxError;
use super::extract::{IgnoredBody, JsonObject};
use super::validate::Validator;
use super::{AppState, Product};

/// Access token lifetime in seconds (1 hour).
pub(crate) const ACCESS_TTL: i64 = 3600;
/// Refresh token lifetime in seconds (7 days).
pub(crate) const REFRESH_TTL: i64 = 7 * 24 * 3600;

/// Entries kept before the cache is emptied.
const CACHE_LIMIT: usize = 10_000;

/// Access tokens already found valid, by hash, so most requests skip the
/// database.
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    entries: Mutex<HashMap<String, Authed>>,
}

impl TokenCache {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Authed>> {
        // Plain data: a panic elsewhere cannot leave it half-written.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The caller for a token hash, if cached and not expired at `now`.
    fn get(&self, hash: &str, now: i64) -> Option<Authed> {
        self.entries()
            .get(hash)
            .filter(|authed| authed.access_expires > now)
            .cloned()
    }

    /// Remembers a valid token.
    fn insert(&self, hash: String, authed: Authed) {
        let mut entries = self.entries();
        if entries.len() >= CACHE_LIMIT {
            entries.clear();
        }
        entries.insert(hash, authed);
    }

    /// Forgets every cached token of a pair.
    fn forget(&self, token_id: i64) {
        self.entries()
            .retain(|_, authed| authed.token_id != token_id);
    }
}

/// The caller, identified by a valid access token.
#[derive(Debug, Clone)]
pub(crate) struct Authed {
    /// The account.
    pub account_id: i64,
    /// The token pair in use.
    pub token_id: i64,
    /// The account's client id.
    pub hb_client_id: String,
    /// The account's booking-page code.
    pub sgi_code: String,
    /// When the access token lapses (Unix seconds).
    pub access_expires: i64,
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = SandboxError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                let (scheme, token) = value.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|token| !token.is_empty())
            .ok_or(SandboxError::Unauthenticated)?;
        let hash = sha256_hex(token);
        let now = state.clock.now_secs();
        if let Some(authed) = state.tokens.get(&hash, now) {
            return Ok(authed);
        }
        let key = hash.clone();
        let product = state.product.as_str();
        let authed = state
            .db
            .call(move |conn| find_access(conn, &key, product, now).map_err(SandboxError::from))
            .await?
            .ok_or(SandboxError::Unauthenticated)?;
        state.tokens.insert(hash, authed.clone());
        Ok(authed)
    }
}

/// The live access token with this hash, of an account of `product`.
fn find_access(
    conn: &Connection,
    hash: &str,
    product: &str,
    now: i64,
) -> Result<Option<Authed>, rusqlite::Error> {
    conn.prepare_cached(
        "SELECT t.id, t.account_id, a.hb_client_id, a.sgi_code, t.access_expires_utc \
         FROM tokens t JOIN accounts a ON a.id = t.account_id \
         WHERE t.access_hash = ?1 AND t.revoked_utc IS NULL AND t.access_expires_utc > ?2 \
         AND a.product = ?3",
    )?
    .query_row(params![hash, now, product], |row| {
        Ok(Authed {
            token_id: row.get(0)?,
            account_id: row.get(1)?,
            hb_client_id: row.get(2)?,
            sgi_code: row.get(3)?,
            access_expires: row.get(4)?,
        })
    })
    .optional()
}

/// A new token pair, and the caller its access token identifies.
struct Issued {
    pair: TokenPair,
    access_hash: String,
    authed: Authed,
}

/// Creates a token pair for an account.
fn issue(conn: &Connection, account_id: i64, now: i64) -> Result<Issued, rusqlite::Error> {
    let access = format!("sbx_{}", random_token(48));
    let refresh = format!("rft_{}", random_token(48));
    let access_hash = sha256_hex(&access);
    conn.execute(
        "INSERT INTO tokens (account_id, access_hash, refresh_hash, access_expires_utc, \
         refresh_expires_utc, created_utc) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            account_id,
            access_hash,
            sha256_hex(&refresh),
            now + ACCESS_TTL,
            now + REFRESH_TTL,
            now
        ],
    )?;
    let token_id = conn.last_insert_rowid();
    let (hb_client_id, sgi_code) = conn.query_row(
        "SELECT hb_client_id, sgi_code FROM accounts WHERE id = ?1",
        [account_id],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    Ok(Issued {
        pair: TokenPair {
            access_token: access,
            refresh_token: refresh,
            token_type: "Bearer".to_owned(),
            expires_in: Some(ACCESS_TTL),
            refresh_expires_in: Some(REFRESH_TTL),
        },
        access_hash,
        authed: Authed {
            account_id,
            token_id,
            hb_client_id,
            sgi_code,
            access_expires: now + ACCESS_TTL,
        },
    })
}

/// Caches a new access token and answers with the pair.
fn answer(state: &AppState, issued: Issued) -> Json<TokenPair> {
    state.tokens.insert(issued.access_hash, issued.authed);
    Json(issued.pair)
}

/// `POST /auth/token`: `hb_client_id` + `api_key` for a token pair.
pub(crate) async fn token(
    State(state): State<AppState>,
    JsonObject(body): JsonObject,
) -> Result<Json<TokenPair>, SandboxError> {
    let mut validator = Validator::default();
    let client_id = validator.string(&body, "hb_client_id", true, 255);
    let api_key = validator.string(&body, "api_key", true, 255);
    validator.finish()?;
    let (Some(client_id), Some(api_key)) = (client_id, api_key) else {
        return Err(SandboxError::Internal("validated fields missing".into()));
    };
    let key_hash = sha256_hex(&api_key);
    let now = state.clock.now_secs();
    let product = state.product.as_str();
    let issued = state
        .db
        .call(move |conn| {
            let account: Option<i64> = conn
                .query_row(
                    "SELECT id FROM accounts WHERE hb_client_id = ?1 AND api_key_hash = ?2 \
                     AND internal = 0 AND product = ?3",
                    params![client_id, key_hash, product],
                    |row| row.get(0),
                )
                .optional()?;
            let account = account.ok_or(SandboxError::Unauthorized(
                "These credentials do not match our records.",
            ))?;
            Ok(issue(conn, account, now)?)
        })
        .await?;
    Ok(answer(&state, issued))
}

/// `POST /auth/refresh`: a new pair for a live refresh token, which then
/// stops working.
pub(crate) async fn refresh(
    State(state): State<AppState>,
    JsonObject(body): JsonObject,
) -> Result<Json<TokenPair>, SandboxError> {
    let mut validator = Validator::default();
    let refresh_token = validator.string(&body, "refresh_token", true, 255);
    validator.finish()?;
    let Some(refresh_token) = refresh_token else {
        return Err(SandboxError::Internal("validated field missing".into()));
    };
    let hash = sha256_hex(&refresh_token);
    let now = state.clock.now_secs();
    let product = state.product.as_str();
    let issued = state
        .db
        .call(move |conn| {
            let tx = write_tx(conn)?;
            let found: Option<(i64, i64)> = tx
                .query_row(
                    "SELECT t.id, t.account_id FROM tokens t JOIN accounts a ON a.id = t.account_id \
                     WHERE t.refresh_hash = ?1 AND t.revoked_utc IS NULL AND t.refreshed_utc IS NULL \
                     AND t.refresh_expires_utc > ?2 AND a.product = ?3",
                    params![hash, now, product],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?;
            let (token_id, account_id) = found.ok_or(SandboxError::Unauthorized(
                "The refresh token is invalid, expired or revoked.",
            ))?;
            tx.execute(
                "UPDATE tokens SET refreshed_utc = ?1 WHERE id = ?2",
                params![now, token_id],
            )?;
            let issued = issue(&tx, account_id, now)?;
            tx.commit()?;
            Ok(issued)
        })
        .await?;
    Ok(answer(&state, issued))
}

/// `GET /auth/token-info`: the access token in use.
pub(crate) async fn token_info(State(state): State<AppState>, authed: Authed) -> Json<TokenInfo> {
    let now = state.clock.now_secs();
    let scopes: &[&str] = match state.product {
        Product::Practical => &[
            "courses",
            "locations",
            "training-events",
            "holds",
            "bookings",
            "account",
        ],
        Product::VirtualBls => &["courses", "timeslots", "holds", "bookings", "account"],
    };
    Json(TokenInfo {
        hb_client_id: authed.hb_client_id,
        token_type: "access".to_owned(),
        scopes: scopes.iter().map(|scope| (*scope).to_owned()).collect(),
        expires_at: utc_fixed(from_unix(authed.access_expires)),
        expires_in: authed.access_expires - now,
    })
}

/// `POST /auth/revoke`: revokes both tokens of the pair in use.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    authed: Authed,
    _body: IgnoredBody,
) -> Result<Json<ApiError>, SandboxError> {
    let now = state.clock.now_secs();
    state
        .db
        .call(move |conn| {
            conn.execute(
                "UPDATE tokens SET revoked_utc = ?1 WHERE id = ?2",
                params![now, authed.token_id],
            )?;
            Ok(())
        })
        .await?;
    state.tokens.forget(authed.token_id);
    Ok(Json(ApiError {
        message: "Token revoked.".to_owned(),
        request_id: None,
    }))
}
