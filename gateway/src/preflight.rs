//! `booking-gateway preflight`: what an agency runs once before going live,
//! with its real configuration and credentials, to learn whether each
//! upstream it books through answers what the booking path needs.
//!
//! For each configured product, in order, through the gateway's own
//! upstream client (the same base URL, token exchange, headers and timeout):
//! the token exchange; `GET /profile` (Practical Training only); `GET
//! /courses`; `GET /locations` (Practical Training only); one page of `GET
//! /training-events` (Practical Training) or of `GET /timeslots` for the
//! first course over the next 14 days (Virtual BLS); `GET /credits`.
//!
//! Each call is reported with its status, its latency, the rate-limit
//! headers the upstream sent, and every field of its answer that is
//! missing, extra or of another type compared with what booking-core reads
//! of it (`booking_core::contract`). A difference is *blocking* when the
//! booking path needs the call and the typed read of the answer (the type
//! the gateway decodes it into) fails, and the difference can be the cause:
//! a field of another type, or a documented field missing (an inferred
//! field is optional when decoded); extra fields are informational. A call
//! the booking path needs that fails (not 2xx, not JSON, unreadable, timed
//! out) is blocking. `GET /locations` and `GET /credits` are checked but
//! not needed (the gateway takes venues from the events, and leaves credits
//! to the upstream), and an upstream without a profile (404) is served with
//! the configured pay options: those are notes, not problems.
//!
//! The report ends with a verdict: ready when nothing is blocking, else the
//! problems in plain words (what will not work, and what to check).
//!
//! Invariants: read-only (the token exchange and GETs only: no hold, no
//! booking, no token revoked); the report names fields, statuses,
//! rate-limit headers and setting names, never a token, a credential or a
//! field's value (an answer may hold personal data).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use booking_core::api::bls::Timeslot;
use booking_core::api::{
    ClientProfile, Course, CreditsResponse, Location, Page, TokenPair, TrainingEvent,
};
use booking_core::contract::{drift, Answer, DriftKind, Source};
use booking_core::product::Product;
use booking_core::uk_time;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::time::Instant;

use super::config::{GatewayConfig, ProductSettings, Secret};
use super::errors::GatewayError;
use super::product::ProductUpstream;
use super::upstream::Call;
use super::{product_upstream, StartError};

/// The days of Virtual BLS timeslots asked for, from today (UK).
pub const TIMESLOT_DAYS: i64 = 14;

/// The rate-limit headers reported, whichever the upstream sends.
const RATE_LIMIT_HEADERS: [&str; 4] = [
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "Retry-After",
];

/// The longest header value reported; a longer one is not shown.
const MAX_HEADER_CHARS: usize = 40;

/// What the preflight found, for every configured product.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The products checked, in order.
    pub products: Vec<Checked>,
    /// Every upstream call made, in order.
    pub calls: Vec<CallReport>,
    /// Every difference between an answer and what booking-core reads of it.
    pub drift: Vec<DriftReport>,
    /// Whether the booking path works, and in plain words what will not.
    pub verdict: Verdict,
}

/// A product checked.
#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    /// Which product.
    pub product: Product,
    /// Its upstream base URL, without any user, password or query.
    pub upstream: String,
    /// Whether credentials are set for it.
    pub credentials: bool,
}

/// One upstream call and how it went.
#[derive(Debug, Clone, Serialize)]
pub struct CallReport {
    /// Whose upstream.
    pub product: Product,
    /// `GET` or `POST`.
    pub method: String,
    /// The route, e.g. `/courses`.
    pub route: &'static str,
    /// The status, when an answer came.
    pub status: Option<u16>,
    /// Milliseconds from sending to the whole answer (or the failure).
    pub latency_ms: u64,
    /// The rate-limit headers sent, by name.
    pub rate_limit: BTreeMap<&'static str, String>,
    /// Why the call or the read of its answer failed, if it did.
    pub failure: Option<String>,
    /// Whether the booking path needs this call.
    pub needed: bool,
    /// Whether its failure stops the booking path.
    pub blocking: bool,
}

/// One field in which an answer differs from what booking-core reads.
#[derive(Debug, Clone, Serialize)]
pub struct DriftReport {
    /// Whose upstream.
    pub product: Product,
    /// The call's route.
    pub route: &'static str,
    /// The field's path, e.g. `data[].name`.
    pub field: String,
    /// `missing`, `extra` or `differently_typed`.
    pub kind: String,
    /// `documented` or `inferred`; `None` for a field booking-core does not
    /// know.
    pub source: Option<&'static str>,
    /// Whether the booking path depends on it (else informational).
    pub blocking: bool,
}

/// The preflight's conclusion.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// Whether everything the booking path needs works.
    pub ready: bool,
    /// What will not work, in plain words.
    pub problems: Vec<Finding>,
    /// What works otherwise than it might, without stopping bookings.
    pub notes: Vec<Finding>,
}

/// A sentence about one product.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The product it is about.
    pub product: Product,
    /// The sentence.
    pub says: String,
}

/// The name a report gives a product.
fn product_name(product: Product) -> &'static str {
    match product {
        Product::Practical => "Practical Training",
        Product::VirtualBls => "Virtual BLS",
    }
}

/// The variables holding a product's credentials.
fn credential_variables(product: Product) -> (&'static str, &'static str) {
    match product {
        Product::Practical => ("HBG_CLIENT_ID", "HBG_API_KEY"),
        Product::VirtualBls => ("HBG_BLS_CLIENT_ID", "HBG_BLS_API_KEY"),
    }
}

/// What one call is for, in the words the verdict uses.
struct Purpose {
    /// What fails, e.g. "Courses cannot be listed".
    fails: &'static str,
    /// What that does, e.g. "candidates cannot choose a course."
    so: String,
    /// Whether the booking path needs it (else a failure is a note).
    needed: bool,
    /// What a refusal of the credentials (401, 403, 422) means, when it is
    /// the token exchange.
    refused: Option<String>,
    /// What a 404 means, when the gateway does without the call.
    absent: Option<&'static str>,
}

impl Purpose {
    /// A call the booking path needs.
    fn needed(fails: &'static str, so: &str) -> Purpose {
        Purpose {
            fails,
            so: so.to_owned(),
            needed: true,
            refused: None,
            absent: None,
        }
    }

    /// A call checked that the booking path does without.
    fn checked(fails: &'static str, so: &str) -> Purpose {
        Purpose {
            needed: false,
            ..Purpose::needed(fails, so)
        }
    }
}

/// Why a call failed, as the verdict puts it in brackets.
enum Why {
    /// The upstream answered this status.
    Status(StatusCode),
    /// No answer came, for this reason.
    Transport(&'static str),
    /// The answer is not JSON.
    NotJson,
    /// The answer is JSON booking-core cannot read.
    Unreadable,
}

impl Why {
    /// The bracketed reason, `None` for an answer booking-core cannot read
    /// (its fields are listed instead).
    fn bracket(&self) -> Option<String> {
        match self {
            Why::Status(status) => Some(status.as_u16().to_string()),
            Why::Transport(reason) => Some((*reason).to_owned()),
            Why::NotJson => Some("not JSON".to_owned()),
            Why::Unreadable => None,
        }
    }

    /// The call's failure as the report lists it.
    fn failure(&self) -> String {
        match self {
            Why::Status(status) => format!("answered {status}"),
            Why::Transport(reason) => (*reason).to_owned(),
            Why::NotJson => "the answer is not JSON".to_owned(),
            Why::Unreadable => "booking-core cannot read the answer".to_owned(),
        }
    }
}

/// Why no answer came, without the cause's text.
fn transport(error: &GatewayError) -> &'static str {
    match error {
        GatewayError::Timeout => "timed out",
        GatewayError::Unreachable => "unreachable",
        GatewayError::UpstreamBusy { .. }
        | GatewayError::Queued(_)
        | GatewayError::TooManyRequests { .. } => "over the upstream rate limit",
        _ => "the connection failed",
    }
}

/// The rate-limit headers of an answer, each value shown only when it is
/// short printable text.
fn rate_limit(headers: &HeaderMap) -> BTreeMap<&'static str, String> {
    RATE_LIMIT_HEADERS
        .iter()
        .filter_map(|name| {
            let value = headers.get(*name)?.to_str().ok()?.trim();
            let shown = if value.len() <= MAX_HEADER_CHARS
                && value.chars().all(|c| c.is_ascii_graphic() || c == ' ')
            {
                value.to_owned()
            } else {
                "(not shown)".to_owned()
            };
            Some((*name, shown))
        })
        .collect()
}

/// An upstream base URL as a report shows it: scheme, host, port and path.
fn shown_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.set_query(None);
            parsed.set_fragment(None);
            parsed.to_string().trim_end_matches('/').to_owned()
        }
        Err(_) => "(not a URL)".to_owned(),
    }
}

/// Whether a drift can be why the typed read failed: a field of another
/// type, or a documented one missing (inferred fields are optional when
/// decoded, and an extra one is never read).
fn can_break_the_read(kind: DriftKind, source: Option<Source>) -> bool {
    match kind {
        DriftKind::Type => true,
        DriftKind::Missing => source == Some(Source::Documented),
        DriftKind::Extra => false,
    }
}

/// The checks of one product, adding to the report.
struct Check<'a> {
    product: &'a ProductUpstream,
    report: &'a mut Report,
}

impl Check<'_> {
    /// Notes a problem (blocking) or, for a call not needed, a note.
    fn finding(&mut self, needed: bool, says: String) {
        let finding = Finding {
            product: self.product.product,
            says,
        };
        if needed {
            self.report.verdict.problems.push(finding);
        } else {
            self.report.verdict.notes.push(finding);
        }
    }

    /// The sentence for `purpose` failing for `why`.
    fn says(purpose: &Purpose, why: &Why) -> String {
        if let (Why::Status(status), Some(refused)) = (why, &purpose.refused) {
            if [
                StatusCode::UNAUTHORIZED,
                StatusCode::FORBIDDEN,
                StatusCode::UNPROCESSABLE_ENTITY,
            ]
            .contains(status)
            {
                return format!("{} ({}): {refused}", purpose.fails, status.as_u16());
            }
        }
        match why.bracket() {
            Some(reason) => format!("{} ({reason}): {}", purpose.fails, purpose.so),
            None => format!("{}: {}", purpose.fails, purpose.so),
        }
    }

    /// Makes `call` (`method` `route`) with `token`, reports it, its
    /// rate-limit headers and its answer's differences from `T`, and
    /// returns the answer as the gateway reads it, if it can.
    async fn read<T: DeserializeOwned + Answer>(
        &mut self,
        (method, route): (Method, &'static str),
        call: Call,
        token: Option<&Secret>,
        purpose: &Purpose,
    ) -> Option<T> {
        let started = Instant::now();
        let outcome = self.product.upstream.transmit(&call, token).await;
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let mut entry = CallReport {
            product: self.product.product,
            method: method.to_string(),
            route,
            status: None,
            latency_ms,
            rate_limit: BTreeMap::new(),
            failure: None,
            needed: purpose.needed,
            blocking: false,
        };
        let (read, why) = match outcome {
            Err(error) => (None, Some(Why::Transport(transport(&error)))),
            Ok(reply) => {
                entry.status = Some(reply.status.as_u16());
                entry.rate_limit = rate_limit(&reply.headers);
                self.answer::<T>(reply, route, purpose)
            }
        };
        if let Some(why) = why {
            entry.failure = Some(why.failure());
            let absent = matches!(why, Why::Status(StatusCode::NOT_FOUND))
                .then_some(purpose.absent)
                .flatten();
            match absent {
                Some(note) => self.finding(false, format!("{} (404): {note}", purpose.fails)),
                None => {
                    entry.blocking = purpose.needed;
                    self.finding(purpose.needed, Check::says(purpose, &why));
                }
            }
        }
        self.report.calls.push(entry);
        read
    }

    /// Reads an answer as the gateway does, reporting its differences.
    fn answer<T: DeserializeOwned + Answer>(
        &mut self,
        reply: super::upstream::Reply,
        route: &'static str,
        purpose: &Purpose,
    ) -> (Option<T>, Option<Why>) {
        if !reply.status.is_success() {
            return (None, Some(Why::Status(reply.status)));
        }
        let Ok(answer) = serde_json::from_slice::<serde_json::Value>(&reply.body) else {
            return (None, Some(Why::NotJson));
        };
        let read = reply.json::<T>("").ok();
        let breaks = purpose.needed && read.is_none();
        for difference in drift(&answer, &T::SHAPE) {
            self.report.drift.push(DriftReport {
                product: self.product.product,
                route,
                field: difference.field,
                kind: difference.kind.to_string(),
                source: difference.source.map(|source| match source {
                    Source::Documented => "documented",
                    Source::Inferred => "inferred",
                }),
                blocking: breaks && can_break_the_read(difference.kind, difference.source),
            });
        }
        match read {
            Some(read) => (Some(read), None),
            None => (None, Some(Why::Unreadable)),
        }
    }

    /// The token exchange; the access token when it worked.
    async fn token(&mut self) -> Option<Secret> {
        let product = self.product.product;
        let (id, key) = credential_variables(product);
        let call = match self.product.upstream.token_call() {
            Ok(call) => call,
            Err(_) => {
                self.finding(
                    true,
                    format!(
                        "No credentials are set: set {id} and {key}, then run the preflight again."
                    ),
                );
                return None;
            }
        };
        let purpose = Purpose {
            refused: Some(format!("check {id} and {key}.")),
            ..Purpose::needed(
                "The token exchange failed",
                "nothing can be called, so nothing can be booked.",
            )
        };
        let pair: TokenPair = self
            .read((Method::POST, "/auth/token"), call, None, &purpose)
            .await?;
        Some(Secret::new(pair.access_token))
    }

    /// One page of a list route, as the gateway asks for it.
    fn page(&self, route: &'static str) -> Call {
        Call::get(route, route).query("page", 1).query(
            "per_page",
            self.product
                .page_size
                .load(std::sync::atomic::Ordering::Relaxed),
        )
    }

    /// Every check of this product, in order.
    async fn run(&mut self, today: chrono::NaiveDate) {
        let Some(token) = self.token().await else {
            return;
        };
        let token = Some(&token);
        let practical = self.product.product == Product::Practical;
        if practical {
            let profile = Purpose {
                absent: Some(
                    "the widget offers the configured pay options as they are, under the name \
                     set by account_name.",
                ),
                ..Purpose::needed(
                    "The account profile cannot be read",
                    "the widget cannot start (its options come from the profile).",
                )
            };
            let get = Call::get("/profile", "/profile");
            self.read::<ClientProfile>((Method::GET, "/profile"), get, token, &profile)
                .await;
        }
        let courses = Purpose::needed(
            "Courses cannot be listed",
            "candidates cannot choose a course.",
        );
        let listed: Option<Page<Course>> = self
            .read(
                (Method::GET, "/courses"),
                self.page("/courses"),
                token,
                &courses,
            )
            .await;
        if listed.as_ref().is_some_and(|page| page.data.is_empty()) {
            self.finding(
                true,
                "No course is listed: candidates have nothing to choose.".to_owned(),
            );
        }
        if practical {
            let locations = Purpose::checked(
                "Locations cannot be listed",
                "the booking path does without this list (each event names its venue).",
            );
            let call = self.page("/locations");
            self.read::<Page<Location>>((Method::GET, "/locations"), call, token, &locations)
                .await;
            let events = Purpose::needed(
                "Training events cannot be listed",
                "candidates cannot choose a date.",
            );
            let call = self.page("/training-events");
            let page: Option<Page<TrainingEvent>> = self
                .read((Method::GET, "/training-events"), call, token, &events)
                .await;
            if page.is_some_and(|page| page.data.is_empty()) {
                self.finding(
                    false,
                    "No training event is listed: candidates will see no dates until some are \
                     scheduled."
                        .to_owned(),
                );
            }
        } else if let Some(course) = listed.and_then(|page| page.data.into_iter().next()) {
            let slots = Purpose::needed(
                "Timeslots cannot be listed",
                "candidates cannot choose a time.",
            );
            let to = today + chrono::Duration::days(TIMESLOT_DAYS - 1);
            let call = self
                .page("/timeslots")
                .query("course_id", course.id)
                .query("date_from", today)
                .query("date_to", to);
            let page: Option<Page<Timeslot>> = self
                .read((Method::GET, "/timeslots"), call, token, &slots)
                .await;
            if page.is_some_and(|page| page.data.is_empty()) {
                self.finding(
                    false,
                    format!(
                        "No timeslot of the first course in the next {TIMESLOT_DAYS} days: \
                         candidates will see no times for it."
                    ),
                );
            }
        }
        let credits = Purpose::checked(
            "Credits cannot be read",
            "the booking path does without them (the upstream checks a payment by credits).",
        );
        let call = Call::get("/credits", "/credits");
        self.read::<CreditsResponse>((Method::GET, "/credits"), call, token, &credits)
            .await;
    }
}

/// Runs the preflight for `config`: every configured product's checks, in
/// order (Practical Training, then Virtual BLS when configured). Fails only
/// when the configuration is wrong or a client cannot be built; every
/// upstream failure is in the report.
pub async fn run(config: GatewayConfig) -> Result<Report, StartError> {
    let config = config.validated()?;
    let practical = ProductSettings {
        upstream: config.upstream.clone(),
        credentials: config.credentials.clone(),
        pay_options: config.pay_options.clone(),
        payment_origins: config.payment_origins.clone(),
    };
    // The preflight serves nothing: its calls are counted nowhere read.
    let metrics = Arc::default();
    let mut products = vec![product_upstream(
        &config,
        Product::Practical,
        &practical,
        &metrics,
    )?];
    let mut urls = vec![practical.upstream.clone()];
    if let Some(bls) = &config.virtual_bls {
        products.push(product_upstream(
            &config,
            Product::VirtualBls,
            bls,
            &metrics,
        )?);
        urls.push(bls.upstream.clone());
    }
    let mut report = Report {
        products: products
            .iter()
            .zip(&urls)
            .map(|(product, url)| Checked {
                product: product.product,
                upstream: shown_url(url),
                credentials: product.upstream.has_credentials(),
            })
            .collect(),
        calls: Vec::new(),
        drift: Vec::new(),
        verdict: Verdict {
            ready: false,
            problems: Vec::new(),
            notes: Vec::new(),
        },
    };
    let today = uk_time::uk_today(config.clock.utc());
    for product in &products {
        Check {
            product,
            report: &mut report,
        }
        .run(today)
        .await;
    }
    report.verdict.ready = report.verdict.problems.is_empty();
    Ok(report)
}

impl Report {
    /// The report as pretty JSON: one object with `products`, `calls`,
    /// `drift` and `verdict`.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// The report as text for a person: each product's calls with their
    /// status, latency, rate-limit headers and differences, then the
    /// verdict in plain words.
    pub fn text(&self) -> String {
        let mut out = String::from("Preflight of the booking gateway's upstreams (read-only)\n");
        for checked in &self.products {
            let _ = writeln!(
                out,
                "\n{} at {}",
                product_name(checked.product),
                checked.upstream
            );
            let calls = self
                .calls
                .iter()
                .filter(|call| call.product == checked.product);
            for call in calls {
                let status = call
                    .status
                    .map_or_else(|| "---".to_owned(), |status| status.to_string());
                let _ = write!(
                    out,
                    "  {:<22} {status:>3} {:>6} ms",
                    format!("{} {}", call.method, call.route),
                    call.latency_ms
                );
                let headers: Vec<String> = call
                    .rate_limit
                    .iter()
                    .map(|(name, value)| format!("{name}: {value}"))
                    .collect();
                if !headers.is_empty() {
                    let _ = write!(out, "  {}", headers.join(", "));
                }
                out.push('\n');
                if let Some(failure) = &call.failure {
                    let weight = if call.blocking {
                        "blocking"
                    } else {
                        "not blocking"
                    };
                    let _ = writeln!(out, "       failed: {failure} ({weight})");
                }
                let differences = self
                    .drift
                    .iter()
                    .filter(|drift| drift.product == call.product && drift.route == call.route);
                for drift in differences {
                    let kind = match drift.kind.as_str() {
                        "differently_typed" => "another type",
                        kind => kind,
                    };
                    let source = drift.source.unwrap_or("not read");
                    let weight = if drift.blocking {
                        "BLOCKING"
                    } else {
                        "informational"
                    };
                    let _ = writeln!(
                        out,
                        "       {kind:<12} {} ({source}): {weight}",
                        drift.field
                    );
                }
            }
        }
        out.push('\n');
        if self.verdict.ready {
            out.push_str("Ready: everything the booking path needs works.\n");
        } else {
            out.push_str("Not ready: this will not work.\n");
            for problem in &self.verdict.problems {
                let _ = writeln!(
                    out,
                    "  - {}: {}",
                    product_name(problem.product),
                    problem.says
                );
            }
        }
        if !self.verdict.notes.is_empty() {
            out.push_str("Notes:\n");
            for note in &self.verdict.notes {
                let _ = writeln!(out, "  - {}: {}", product_name(note.product), note.says);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::RETRY_AFTER;

    use super::*;

    #[test]
    fn only_a_mistyped_or_documented_missing_field_can_break_a_read() {
        assert!(can_break_the_read(DriftKind::Type, Some(Source::Inferred)));
        assert!(can_break_the_read(
            DriftKind::Missing,
            Some(Source::Documented)
        ));
        assert!(!can_break_the_read(
            DriftKind::Missing,
            Some(Source::Inferred)
        ));
        assert!(!can_break_the_read(DriftKind::Extra, None));
    }

    #[test]
    fn a_shown_url_keeps_no_user_password_or_query() {
        assert_eq!(
            shown_url("https://agency:hunter2@tdta.example/api/v1?key=abc#x"),
            "https://tdta.example/api/v1"
        );
        assert_eq!(shown_url("not a url"), "(not a URL)");
    }

    #[test]
    fn rate_limit_headers_are_shown_only_when_short_and_printable() {
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-limit", "60".parse().unwrap());
        headers.insert("x-ratelimit-reset", "x".repeat(80).parse().unwrap());
        headers.insert(RETRY_AFTER, "3".parse().unwrap());
        headers.insert("x-other", "1".parse().unwrap());
        let shown = rate_limit(&headers);
        assert_eq!(shown["X-RateLimit-Limit"], "60");
        assert_eq!(shown["X-RateLimit-Reset"], "(not shown)");
        assert_eq!(shown["Retry-After"], "3");
        assert_eq!(shown.len(), 3);
    }
}
