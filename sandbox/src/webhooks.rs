//! Webhook endpoints (`/webhooks`): list, create, get, update (PATCH or PUT),
//! delete, rotate the signing secret and send a test event, in the shape
//! BLS documents (the published webhooks section), the same handlers under
//! both products' APIs.
//!
//! Invariants: an account sees and changes only its own endpoints (another
//! account's answers 404, so does one of the other product, whose accounts
//! are its own); the signing secret is shown once, when created or
//! rotated, and afterwards only its prefix; a URL is `https`, or `http` to a
//! loopback host in test mode only, and its host is no private, link-local,
//! multicast or unspecified address, nor loopback outside test mode, nor a
//! name that resolves to one (`webhook_targets`); every event type named is
//! in the catalogue of the API's product (`deliveries::catalogue`); deleting
//! an endpoint abandons its pending deliveries.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use booking_core::api::{serialize_timestamp, ApiError, Page, Timestamp};
use booking_core::contract::{Answer, Field, Kind};
use booking_core::redirect::{split_url, LOOPBACK_HOSTS};
use reqwest::Url;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;
use serde_json::{Map, Value};

use super::auth::Authed;
use super::clock::{from_unix, utc_fixed};
use super::db::{random_token, write_tx};
use super::deliveries::{catalogue, emit, event, Audience};
use super::errors::SandboxError;
use super::extract::{IgnoredBody, JsonObject, PathParam, QueryParams};
use super::pagination::{count_and_page, envelope, Filters, PageRequest};
use super::validate::Validator;
use super::webhook_targets::Reach;
use super::{AppState, Product};

/// 404 message for an unknown endpoint.
const ENDPOINT_NOT_FOUND: &str = "Webhook endpoint not found.";
/// Length of a signing secret (as in the documented example).
const SECRET_LEN: usize = 64;
/// Characters of the secret shown after creation (as in the example).
const SECRET_PREFIX_LEN: usize = 12;
/// `timeout_seconds` when none is given (inferred).
const DEFAULT_TIMEOUT_SECONDS: i64 = 10;
/// The largest `timeout_seconds` accepted (inferred).
const MAX_TIMEOUT_SECONDS: i64 = 30;
/// What create and rotate-secret say about the secret (documented wording).
const NOTICE: &str = "Keep this secret safe; it is shown only once.";

/// A webhook endpoint as answered (`WebhookEndpoint`).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WebhookEndpoint {
    /// Endpoint id.
    pub id: i64,
    /// The agency's label for it.
    pub name: String,
    /// Where events are POSTed.
    pub url: String,
    /// The event types it receives.
    pub events: Vec<String>,
    /// The whole signing secret: on create and rotate only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// The secret's first characters, to tell secrets apart.
    pub secret_prefix: String,
    /// Seconds a delivery waits for an answer.
    pub timeout_seconds: i64,
    /// Whether events are sent to it.
    pub is_active: bool,
    /// When it was created.
    #[serde(serialize_with = "serialize_timestamp")]
    pub created_at: Timestamp,
    /// When it was last changed.
    #[serde(serialize_with = "serialize_timestamp")]
    pub updated_at: Timestamp,
    /// Create and rotate only: keep the secret safe.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

impl Answer for WebhookEndpoint {
    /// The fields of Virtual BLS's documented create answer; `timeout_seconds`
    /// (documented in the request only) and `updated_at` are inferred.
    const SHAPE: Kind = Kind::Object(&[
        Field::documented("id", Kind::Integer),
        Field::documented("name", Kind::Text),
        Field::documented("url", Kind::Text),
        Field::documented("events", Kind::List(&Kind::Text)),
        Field::documented("secret", Kind::Text).optional(),
        Field::documented("secret_prefix", Kind::Text),
        Field::inferred("timeout_seconds", Kind::Integer),
        Field::documented("is_active", Kind::Flag),
        Field::documented("created_at", Kind::Text),
        Field::inferred("updated_at", Kind::Text),
        Field::documented("notice", Kind::Text).optional(),
    ]);
}

const ENDPOINT_COLUMNS: &str =
    "id, name, url, events, secret, timeout_seconds, is_active, created_utc, updated_utc";

impl WebhookEndpoint {
    /// Reads [`ENDPOINT_COLUMNS`]; the secret is kept for [`Self::reveal`].
    fn from_row(row: &Row<'_>) -> rusqlite::Result<WebhookEndpoint> {
        let events: String = row.get(3)?;
        let secret: String = row.get(4)?;
        Ok(WebhookEndpoint {
            id: row.get(0)?,
            name: row.get(1)?,
            url: row.get(2)?,
            events: serde_json::from_str(&events).unwrap_or_default(),
            secret_prefix: secret.chars().take(SECRET_PREFIX_LEN).collect(),
            secret: Some(secret),
            timeout_seconds: row.get(5)?,
            is_active: row.get(6)?,
            created_at: utc_fixed(from_unix(row.get(7)?)),
            updated_at: utc_fixed(from_unix(row.get(8)?)),
            notice: None,
        })
    }

    /// The answer with the whole secret and the notice (create, rotate).
    fn reveal(mut self) -> WebhookEndpoint {
        self.notice = Some(NOTICE.to_owned());
        self
    }

    /// The answer with the prefix only (every other answer).
    fn masked(mut self) -> WebhookEndpoint {
        self.secret = None;
        self
    }
}

/// The account's endpoint with this id, not deleted.
fn load_endpoint(
    conn: &Connection,
    account_id: i64,
    id: i64,
) -> rusqlite::Result<Option<WebhookEndpoint>> {
    conn.prepare_cached(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints \
         WHERE id = ?1 AND account_id = ?2 AND deleted_utc IS NULL"
    ))?
    .query_row(params![id, account_id], WebhookEndpoint::from_row)
    .optional()
}

/// The fields of a create or update body, each present when given.
#[derive(Debug, Default)]
struct EndpointInput {
    name: Option<String>,
    url: Option<String>,
    events: Option<Vec<String>>,
    timeout_seconds: Option<i64>,
    is_active: Option<bool>,
}

/// Whether `url` may receive deliveries: `https`, or `http` to a loopback
/// host when the sandbox runs in test mode.
fn url_allowed(url: &str, test_mode: bool) -> Result<(), &'static str> {
    let Ok((origin, _)) = split_url(url) else {
        return Err("The url field must be a valid URL.");
    };
    if origin.starts_with("https://") {
        return Ok(());
    }
    let host_port = origin.trim_start_matches("http://");
    let host = if host_port.starts_with('[') {
        host_port.split_inclusive(']').next().unwrap_or(host_port)
    } else {
        host_port.split(':').next().unwrap_or(host_port)
    };
    if test_mode && LOOPBACK_HOSTS.contains(&host) {
        Ok(())
    } else if test_mode {
        Err("The url field must be an https URL (or http to a loopback address).")
    } else {
        Err("The url field must be an https URL.")
    }
}

/// Whether the host of `url` (already [`url_allowed`]) is an address the
/// sandbox may send to, or a name that resolves only to such addresses.
async fn address_allowed(url: &str, reach: Reach) -> Result<(), &'static str> {
    let Ok(url) = Url::parse(url) else {
        return Err("The url field must be a valid URL.");
    };
    reach.check_url(&url).await.map_err(|_| match reach {
        Reach::Public => {
            "The url field must point to a public address, not a private, loopback, \
             link-local, multicast or reserved one."
        }
        Reach::PublicAndLoopback => {
            "The url field must point to a public or loopback address, not a private, \
             link-local, multicast or reserved one."
        }
    })
}

/// Validates a body for an endpoint of `product`; with `whole`, `name`,
/// `url` and `events` are required (create and PUT), else every field is
/// optional (PATCH).
async fn validate(
    body: &Map<String, Value>,
    whole: bool,
    test_mode: bool,
    product: Product,
) -> Result<EndpointInput, SandboxError> {
    let mut v = Validator::default();
    let name = v.string(body, "name", whole, 100);
    let url = v.string(body, "url", whole, 2000);
    if let Some(url) = &url {
        let allowed = match url_allowed(url, test_mode) {
            Ok(()) => address_allowed(url, Reach::for_mode(test_mode)).await,
            Err(message) => Err(message),
        };
        if let Err(message) = allowed {
            v.add("url", message);
        }
    }
    let events = match body.get("events") {
        None | Some(Value::Null) => {
            if whole {
                v.add("events", "The events field is required.");
            }
            None
        }
        Some(Value::Array(items)) if items.is_empty() => {
            v.add("events", "The events field must have at least 1 item.");
            None
        }
        Some(Value::Array(items)) => {
            let mut events: Vec<String> = Vec::new();
            for (index, item) in items.iter().enumerate() {
                let field = format!("events.{index}");
                match item.as_str().map(str::trim) {
                    Some(kind) if catalogue(product).contains(&kind) => {
                        if events.iter().any(|seen| seen == kind) {
                            v.add(&field, format!("The {field} field has a duplicate value."));
                        } else {
                            events.push(kind.to_owned());
                        }
                    }
                    Some(_) => v.add(&field, format!("The selected {field} is invalid.")),
                    None => v.add(&field, format!("The {field} field must be a string.")),
                }
            }
            Some(events)
        }
        Some(_) => {
            v.add("events", "The events field must be an array.");
            None
        }
    };
    let timeout_seconds = v.integer(body, "timeout_seconds", false, 1, MAX_TIMEOUT_SECONDS);
    let is_active = v.boolean(body, "is_active");
    v.finish()?;
    Ok(EndpointInput {
        name,
        url,
        events,
        timeout_seconds,
        is_active,
    })
}

/// `GET /webhooks`: the account's endpoints, oldest first, secrets masked.
pub(crate) async fn list(
    State(state): State<AppState>,
    authed: Authed,
    query: QueryParams,
) -> Result<Json<Page<WebhookEndpoint>>, SandboxError> {
    let mut v = Validator::default();
    let request = PageRequest::from_query(&query, &mut v, state.profile.get().max_per_page);
    v.finish()?;
    let mut filters = Filters::new("account_id = ?", SqlValue::Integer(authed.account_id));
    filters.and("deleted_utc IS NULL");
    let (total, rows) = state
        .db
        .call(move |conn| {
            Ok(count_and_page(
                conn,
                &format!("SELECT {ENDPOINT_COLUMNS}"),
                "FROM webhook_endpoints",
                filters,
                "id",
                request,
                WebhookEndpoint::from_row,
            )?)
        })
        .await?;
    let data = rows.into_iter().map(WebhookEndpoint::masked).collect();
    Ok(Json(envelope(
        &state,
        "/webhooks",
        &query,
        request,
        total,
        data,
    )))
}

/// `POST /webhooks`: registers an endpoint; the answer (201) carries the
/// whole secret, once.
pub(crate) async fn create(
    State(state): State<AppState>,
    authed: Authed,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<WebhookEndpoint>), SandboxError> {
    let input = validate(&body, true, state.test_mode, state.product).await?;
    let now = state.clock.now_secs();
    let endpoint = state
        .db
        .call(move |conn| {
            let tx = write_tx(conn)?;
            let events = serde_json::to_string(&input.events.unwrap_or_default())
                .map_err(|error| SandboxError::Internal(error.to_string()))?;
            tx.execute(
                "INSERT INTO webhook_endpoints (account_id, name, url, events, secret, \
                 timeout_seconds, is_active, created_utc, updated_utc) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
                params![
                    authed.account_id,
                    input.name.unwrap_or_default(),
                    input.url.unwrap_or_default(),
                    events,
                    random_token(SECRET_LEN),
                    input.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECONDS),
                    input.is_active.unwrap_or(true),
                    now
                ],
            )?;
            let id = tx.last_insert_rowid();
            let endpoint = load_endpoint(&tx, authed.account_id, id)?
                .ok_or_else(|| SandboxError::Internal("new endpoint missing".into()))?;
            tx.commit()?;
            Ok(endpoint)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(endpoint.reveal())))
}

/// `GET /webhooks/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    authed: Authed,
    id: PathParam,
) -> Result<Json<WebhookEndpoint>, SandboxError> {
    let id = id.id(ENDPOINT_NOT_FOUND)?;
    let endpoint = state
        .db
        .call(move |conn| Ok(load_endpoint(conn, authed.account_id, id)?))
        .await?
        .ok_or(SandboxError::NotFound(ENDPOINT_NOT_FOUND))?;
    Ok(Json(endpoint.masked()))
}

/// `PATCH /webhooks/{id}`: changes the fields given.
pub(crate) async fn patch(
    State(state): State<AppState>,
    authed: Authed,
    id: PathParam,
    JsonObject(body): JsonObject,
) -> Result<Json<WebhookEndpoint>, SandboxError> {
    update(state, authed, id, body, false).await
}

/// `PUT /webhooks/{id}`: replaces `name`, `url` and `events` (required);
/// `timeout_seconds` and `is_active` go back to their defaults when left
/// out.
pub(crate) async fn put(
    State(state): State<AppState>,
    authed: Authed,
    id: PathParam,
    JsonObject(body): JsonObject,
) -> Result<Json<WebhookEndpoint>, SandboxError> {
    update(state, authed, id, body, true).await
}

/// PATCH and PUT.
async fn update(
    state: AppState,
    authed: Authed,
    id: PathParam,
    body: Map<String, Value>,
    whole: bool,
) -> Result<Json<WebhookEndpoint>, SandboxError> {
    let id = id.id(ENDPOINT_NOT_FOUND)?;
    let input = validate(&body, whole, state.test_mode, state.product)
        .await
        .map(|mut input| {
            if whole {
                input.timeout_seconds = input.timeout_seconds.or(Some(DEFAULT_TIMEOUT_SECONDS));
                input.is_active = input.is_active.or(Some(true));
            }
            input
        });
    let now = state.clock.now_secs();
    let endpoint = state
        .db
        .call(move |conn| {
            let tx = write_tx(conn)?;
            // Another account's endpoint is 404 whatever the body says.
            let current = load_endpoint(&tx, authed.account_id, id)?
                .ok_or(SandboxError::NotFound(ENDPOINT_NOT_FOUND))?;
            let input = input?;
            let events = serde_json::to_string(&input.events.unwrap_or(current.events))
                .map_err(|error| SandboxError::Internal(error.to_string()))?;
            tx.execute(
                "UPDATE webhook_endpoints SET name = ?1, url = ?2, events = ?3, \
                 timeout_seconds = ?4, is_active = ?5, updated_utc = ?6 WHERE id = ?7",
                params![
                    input.name.unwrap_or(current.name),
                    input.url.unwrap_or(current.url),
                    events,
                    input.timeout_seconds.unwrap_or(current.timeout_seconds),
                    input.is_active.unwrap_or(current.is_active),
                    now,
                    id
                ],
            )?;
            let endpoint = load_endpoint(&tx, authed.account_id, id)?
                .ok_or_else(|| SandboxError::Internal("updated endpoint missing".into()))?;
            tx.commit()?;
            Ok(endpoint)
        })
        .await?;
    state.webhooks.wake();
    Ok(Json(endpoint.masked()))
}

/// `DELETE /webhooks/{id}`: removes the endpoint; deliveries still pending
/// for it are abandoned.
pub(crate) async fn delete(
    State(state): State<AppState>,
    authed: Authed,
    id: PathParam,
) -> Result<Json<ApiError>, SandboxError> {
    let id = id.id(ENDPOINT_NOT_FOUND)?;
    let now = state.clock.now_secs();
    state
        .db
        .call(move |conn| {
            let tx = write_tx(conn)?;
            load_endpoint(&tx, authed.account_id, id)?
                .ok_or(SandboxError::NotFound(ENDPOINT_NOT_FOUND))?;
            tx.execute(
                "UPDATE webhook_endpoints SET deleted_utc = ?1 WHERE id = ?2",
                params![now, id],
            )?;
            tx.execute(
                "UPDATE webhook_deliveries SET status = 'abandoned' \
                 WHERE endpoint_id = ?1 AND status = 'pending'",
                [id],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await?;
    Ok(Json(ApiError {
        message: "Webhook endpoint deleted.".to_owned(),
        request_id: None,
    }))
}

/// `POST /webhooks/{id}/rotate-secret`: a new secret, shown once; the old
/// one stops signing at once (retries of earlier events are signed with
/// the new one).
pub(crate) async fn rotate_secret(
    State(state): State<AppState>,
    authed: Authed,
    id: PathParam,
    _body: IgnoredBody,
) -> Result<Json<WebhookEndpoint>, SandboxError> {
    let id = id.id(ENDPOINT_NOT_FOUND)?;
    let now = state.clock.now_secs();
    let endpoint = state
        .db
        .call(move |conn| {
            let tx = write_tx(conn)?;
            load_endpoint(&tx, authed.account_id, id)?
                .ok_or(SandboxError::NotFound(ENDPOINT_NOT_FOUND))?;
            tx.execute(
                "UPDATE webhook_endpoints SET secret = ?1, updated_utc = ?2 WHERE id = ?3",
                params![random_token(SECRET_LEN), now, id],
            )?;
            let endpoint = load_endpoint(&tx, authed.account_id, id)?
                .ok_or_else(|| SandboxError::Internal("rotated endpoint missing".into()))?;
            tx.commit()?;
            Ok(endpoint)
        })
        .await?;
    Ok(Json(endpoint.reveal()))
}

/// `POST /webhooks/{id}/test` answer (202).
#[derive(Debug, Serialize)]
pub(crate) struct TestQueued {
    /// What happened.
    pub message: String,
    /// The test event's id.
    pub event_id: String,
}

impl Answer for TestQueued {
    const SHAPE: Kind = Kind::Object(&[
        Field::inferred("message", Kind::Text),
        Field::inferred("event_id", Kind::Text),
    ]);
}

/// `POST /webhooks/{id}/test`: queues a `webhook.test` event for this
/// endpoint, whatever it subscribes to; 422 while it is inactive.
pub(crate) async fn test(
    State(state): State<AppState>,
    authed: Authed,
    id: PathParam,
    _body: IgnoredBody,
) -> Result<(StatusCode, Json<TestQueued>), SandboxError> {
    let id = id.id(ENDPOINT_NOT_FOUND)?;
    let now = state.clock.now_secs();
    let event_id = state
        .db
        .call(move |conn| {
            let tx = write_tx(conn)?;
            let endpoint = load_endpoint(&tx, authed.account_id, id)?
                .ok_or(SandboxError::NotFound(ENDPOINT_NOT_FOUND))?;
            if !endpoint.is_active {
                return Err(SandboxError::invalid(
                    "is_active",
                    "This webhook endpoint is not active; activate it to send a test event.",
                ));
            }
            let data = serde_json::json!({
                "message": "This is a test event from the sandbox.",
                "webhook_endpoint": { "id": endpoint.id, "name": endpoint.name },
            });
            let (event_id, _) = emit(&tx, Audience::Endpoint(id), event::WEBHOOK_TEST, data, now)?
                .ok_or_else(|| SandboxError::Internal("test event not written".into()))?;
            tx.commit()?;
            Ok(event_id)
        })
        .await?;
    state.webhooks.wake();
    Ok((
        StatusCode::ACCEPTED,
        Json(TestQueued {
            message: "Test event queued.".to_owned(),
            event_id,
        }),
    ))
}

/// Registers the demo's receiver ([`super::DemoWebhook`]) for the demo
/// account HB-DEMO, subscribed to every event, or brings its endpoint (found
/// by its name) up to date with the receiver's address and secret.
pub(crate) async fn ensure_demo_endpoint(
    state: &AppState,
    demo: super::DemoWebhook,
) -> Result<(), SandboxError> {
    let now = state.clock.now_secs();
    state
        .db
        .call(move |conn| {
            let tx = write_tx(conn)?;
            let account_id: i64 = tx.query_row(
                "SELECT id FROM accounts WHERE hb_client_id = 'HB-DEMO'",
                [],
                |row| row.get(0),
            )?;
            let events = serde_json::to_string(catalogue(Product::Practical))
                .map_err(|error| SandboxError::Internal(error.to_string()))?;
            let updated = tx.execute(
                "UPDATE webhook_endpoints SET url = ?3, events = ?4, secret = ?5, is_active = 1, \
                 updated_utc = ?6 WHERE account_id = ?1 AND name = ?2 AND deleted_utc IS NULL",
                params![
                    account_id,
                    DEMO_ENDPOINT_NAME,
                    demo.url,
                    events,
                    demo.secret,
                    now
                ],
            )?;
            if updated == 0 {
                tx.execute(
                    "INSERT INTO webhook_endpoints (account_id, name, url, events, secret, \
                     timeout_seconds, is_active, created_utc, updated_utc) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?7)",
                    params![
                        account_id,
                        DEMO_ENDPOINT_NAME,
                        demo.url,
                        events,
                        demo.secret,
                        DEFAULT_TIMEOUT_SECONDS,
                        now
                    ],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
}

/// The name of the demo receiver's endpoint.
const DEMO_ENDPOINT_NAME: &str = "Demo receiver (cargo xtask demo)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_https_or_loopback_http_in_test_mode() {
        assert!(url_allowed("https://hooks.agency.example/tdta", false).is_ok());
        assert!(url_allowed("http://hooks.agency.example/tdta", false).is_err());
        assert!(url_allowed("http://127.0.0.1:9090/hook", false).is_err());
        assert!(url_allowed("http://127.0.0.1:9090/hook", true).is_ok());
        assert!(url_allowed("http://localhost/hook", true).is_ok());
        assert!(url_allowed("http://[::1]:9090/", true).is_ok());
        assert!(url_allowed("http://127.0.0.1.evil.example/", true).is_err());
        assert!(url_allowed("ftp://127.0.0.1/", true).is_err());
        assert!(url_allowed("https://", true).is_err());
    }
}
