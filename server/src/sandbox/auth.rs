//! Token pairs: issue, refresh (rotating), inspect, revoke; and the bearer
//! token extractor every protected endpoint uses.
//!
//! Invariants: tokens are random and stored only as SHA-256 hashes; an
//! access token lives 1 hour and a refresh token 7 days on the sandbox clock;
//! a refresh token works once (refreshing rotates it); revoking marks both
//! tokens of the pair revoked; any missing, unknown, expired or revoked
//! bearer token answers 401 `{ "message": "Unauthenticated." }`.

use axum::extract::{FromRequestParts, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use booking_core::api::{ApiError, TokenInfo, TokenPair};
use rusqlite::{params, Connection, OptionalExtension};

use super::db::{random_token, sha256_hex, write_tx};
use super::errors::SandboxError;
use super::extract::{IgnoredBody, JsonObject};
use super::uk_time::{from_unix, utc_fixed};
use super::validate::Validator;
use super::wire::ApiJson;
use super::AppState;

/// Access token lifetime in seconds (1 hour).
pub(crate) const ACCESS_TTL: i64 = 3600;
/// Refresh token lifetime in seconds (7 days).
pub(crate) const REFRESH_TTL: i64 = 7 * 24 * 3600;

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
        state
            .db
            .call(move |conn| find_access(conn, &hash, now).map_err(SandboxError::from))
            .await?
            .ok_or(SandboxError::Unauthenticated)
    }
}

/// The live access token with this hash.
fn find_access(conn: &Connection, hash: &str, now: i64) -> Result<Option<Authed>, rusqlite::Error> {
    conn.prepare_cached(
        "SELECT t.id, t.account_id, a.hb_client_id, a.sgi_code, t.access_expires_utc \
         FROM tokens t JOIN accounts a ON a.id = t.account_id \
         WHERE t.access_hash = ?1 AND t.revoked_utc IS NULL AND t.access_expires_utc > ?2",
    )?
    .query_row(params![hash, now], |row| {
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

/// Creates a token pair for an account.
fn issue(conn: &Connection, account_id: i64, now: i64) -> Result<TokenPair, rusqlite::Error> {
    let access = format!("sbx_{}", random_token(48));
    let refresh = format!("rft_{}", random_token(48));
    conn.execute(
        "INSERT INTO tokens (account_id, access_hash, refresh_hash, access_expires_utc, \
         refresh_expires_utc, created_utc) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            account_id,
            sha256_hex(&access),
            sha256_hex(&refresh),
            now + ACCESS_TTL,
            now + REFRESH_TTL,
            now
        ],
    )?;
    Ok(TokenPair {
        access_token: access,
        refresh_token: refresh,
        token_type: "Bearer".to_owned(),
        expires_in: ACCESS_TTL,
        refresh_expires_in: REFRESH_TTL,
    })
}

/// `POST /auth/token`: `hb_client_id` + `api_key` for a token pair.
pub(crate) async fn token(
    State(state): State<AppState>,
    JsonObject(body): JsonObject,
) -> Result<ApiJson<TokenPair>, SandboxError> {
    let mut validator = Validator::default();
    let client_id = validator.string(&body, "hb_client_id", true, 255);
    let api_key = validator.string(&body, "api_key", true, 255);
    validator.finish()?;
    let (Some(client_id), Some(api_key)) = (client_id, api_key) else {
        return Err(SandboxError::Internal("validated fields missing".into()));
    };
    let key_hash = sha256_hex(&api_key);
    let now = state.clock.now_secs();
    let pair = state
        .db
        .call(move |conn| {
            let account: Option<i64> = conn
                .query_row(
                    "SELECT id FROM accounts WHERE hb_client_id = ?1 AND api_key_hash = ?2 \
                     AND internal = 0",
                    params![client_id, key_hash],
                    |row| row.get(0),
                )
                .optional()?;
            let account = account.ok_or(SandboxError::Unauthorized(
                "These credentials do not match our records.",
            ))?;
            Ok(issue(conn, account, now)?)
        })
        .await?;
    Ok(ApiJson(pair))
}

/// `POST /auth/refresh`: a new pair for a live refresh token, which then
/// stops working.
pub(crate) async fn refresh(
    State(state): State<AppState>,
    JsonObject(body): JsonObject,
) -> Result<ApiJson<TokenPair>, SandboxError> {
    let mut validator = Validator::default();
    let refresh_token = validator.string(&body, "refresh_token", true, 255);
    validator.finish()?;
    let Some(refresh_token) = refresh_token else {
        return Err(SandboxError::Internal("validated field missing".into()));
    };
    let hash = sha256_hex(&refresh_token);
    let now = state.clock.now_secs();
    let pair = state
        .db
        .call(move |conn| {
            let tx = write_tx(conn)?;
            let found: Option<(i64, i64)> = tx
                .query_row(
                    "SELECT id, account_id FROM tokens WHERE refresh_hash = ?1 \
                     AND revoked_utc IS NULL AND refreshed_utc IS NULL AND refresh_expires_utc > ?2",
                    params![hash, now],
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
            let pair = issue(&tx, account_id, now)?;
            tx.commit()?;
            Ok(pair)
        })
        .await?;
    Ok(ApiJson(pair))
}

/// `GET /auth/token-info`: the access token in use.
pub(crate) async fn token_info(
    State(state): State<AppState>,
    authed: Authed,
) -> ApiJson<TokenInfo> {
    let now = state.clock.now_secs();
    ApiJson(TokenInfo {
        hb_client_id: authed.hb_client_id,
        token_type: "access".to_owned(),
        scopes: [
            "courses",
            "locations",
            "training-events",
            "holds",
            "bookings",
            "account",
        ]
        .map(str::to_owned)
        .to_vec(),
        expires_at: utc_fixed(from_unix(authed.access_expires)),
        expires_in: authed.access_expires - now,
    })
}

/// `POST /auth/revoke`: revokes both tokens of the pair in use.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    authed: Authed,
    _body: IgnoredBody,
) -> Result<ApiJson<ApiError>, SandboxError> {
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
    Ok(ApiJson(ApiError {
        message: "Token revoked.".to_owned(),
    }))
}
