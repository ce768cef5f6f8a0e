//! The gateway's configuration: command-line flags, an optional TOML file
//! (`--config gateway.toml`) and, for secrets, the environment only.
//!
//! One upstream per product: Practical Training's (`upstream`,
//! `pay_options`, `payment_origins`, `HBG_CLIENT_ID`/`HBG_API_KEY`) and,
//! when any of its settings is given, Virtual BLS's (`bls_upstream`,
//! `bls_pay_options`, `bls_payment_origins`,
//! `HBG_BLS_CLIENT_ID`/`HBG_BLS_API_KEY`), each checked by the same rules.
//!
//! A flag wins over the file, the file over the default. Secrets
//! (`HBG_CLIENT_ID`, `HBG_API_KEY`, `HBG_BLS_CLIENT_ID`, `HBG_BLS_API_KEY`,
//! `HBG_GATEWAY_KEY`, `HBG_BOOKING_LINK_KEY`, and `HBG_SHARED_STORE`, whose URL may carry a
//! password) are read from the environment and nowhere else, so they stay
//! out of files and process listings.
//!
//! The gateway's own origin is `public_url`, or else `http://` and the
//! address it is bound to; nothing a request says (`Host`, `Forwarded`,
//! `X-Forwarded-*`) changes it. `X-Forwarded-For` is read only from the
//! proxies listed in `trusted_proxies`; the setting it replaced,
//! `trust_forwarded_for`, stops the start with a message naming it.
//!
//! Invariants: secrets are held in [`Secret`], whose `Debug` prints
//! `[redacted]` and which has no `Display`; URLs and origins are read by
//! `booking_core::redirect` (the widget's parser) and normalised when read;
//! a payment origin the widget would not open stops the start; pay options
//! are the four the API knows; a bad setting stops the gateway at start with
//! a message naming it.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use booking_core::api::PayOption;
use booking_core::manage::{BadCancelPolicy, CancelPolicy};
use booking_core::product::Product;
use booking_core::redirect::{
    origin_of, parse_origin, parse_payment_origin, split_url, LOOPBACK_HOSTS,
};
use ipnet::IpNet;
use serde::Deserialize;

use super::cache::CacheTtls;
use super::clock::Clock;
use super::policy::AgencyContact;
use super::session::{DEFAULT_SESSION_MAX_AGE, MIN_KEY_BYTES};

/// A credential or token: never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The agency's API credentials.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// `hb_client_id`, e.g. `HB-00417` (not secret, but kept out of logs).
    pub client_id: String,
    /// An active API key.
    pub api_key: Secret,
}

/// A product's upstream beside Practical Training's: the same settings as
/// Practical Training's `upstream`, credentials, `pay_options` and
/// `payment_origins`.
#[derive(Debug, Clone)]
pub struct ProductSettings {
    /// The product's API base URL including its version path, e.g.
    /// `https://bls.hbcompliance.co.uk/api/v1`.
    pub upstream: String,
    /// Its API credentials (an account of that product); without them its
    /// routes answer 503.
    pub credentials: Option<Credentials>,
    /// Pay options a public candidate may use, in the widget contract's
    /// names (`inv` for an invoice; the gateway sends Virtual BLS `invoice`).
    pub pay_options: Vec<PayOption>,
    /// Origins its `payment_url` may point at.
    pub payment_origins: Vec<String>,
}

impl ProductSettings {
    /// Virtual BLS's defaults for the upstream at `upstream`: card payment
    /// only, on PayPal's checkout.
    pub fn virtual_bls(upstream: impl Into<String>) -> ProductSettings {
        ProductSettings {
            upstream: upstream.into(),
            credentials: None,
            pay_options: vec![PayOption::CandidatePays],
            payment_origins: vec![PAYPAL_CHECKOUT.to_owned()],
        }
    }
}

/// PayPal's checkout origin, Virtual BLS's default payment origin.
pub const PAYPAL_CHECKOUT: &str = "https://www.paypal.com";

/// The local sandbox's Virtual BLS API, the default `bls_upstream`.
pub const LOCAL_BLS_UPSTREAM: &str = "http://127.0.0.1:8081/bls/api/v1";

/// Everything a gateway needs to run.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Address of the admin listener serving `GET /metrics` (port 0 picks a
    /// free port); `None` serves no metrics. It must stay private: bind it
    /// to loopback or an internal network, never where candidates reach.
    pub admin_listen: Option<SocketAddr>,
    /// The upstream API base URL including its version path, e.g.
    /// `https://tdta.hbcompliance.co.uk/api/v1` or `http://127.0.0.1:8081/api/v1`.
    pub upstream: String,
    /// Directory of the built widget (`dist/`).
    pub static_dir: PathBuf,
    /// API credentials; without them `/api` answers 503 and only the files
    /// are served.
    pub credentials: Option<Credentials>,
    /// HMAC key for sessions and references; `None` makes a random one.
    pub signing_key: Option<Secret>,
    /// Host page origins allowed to call `/api` (same-origin always is).
    pub allowed_origins: Vec<String>,
    /// Pay options a public candidate may use, in the order offered.
    pub pay_options: Vec<PayOption>,
    /// Origins a `payment_url` may point at: `https`, or `http` on a
    /// loopback host (the widget opens no other).
    pub payment_origins: Vec<String>,
    /// Agency contact fields added to every booking.
    pub agency: AgencyContact,
    /// Display name for the widget; by default the account's name upstream.
    pub account_name: Option<String>,
    /// Widget requests per minute per client address (an IPv6 client's /64).
    pub rate_limit: u32,
    /// Calls the upstream allows the gateway's address per
    /// `upstream_rate_window` (documented: 60 a minute). Instances that
    /// reach the upstream from one address divide it between them.
    pub upstream_rate_limit: u32,
    /// The upstream rate limit's window.
    pub upstream_rate_window: Duration,
    /// Where the gateway reads the time: always the system clock for a
    /// deployed gateway (neither the file nor the command line sets it);
    /// tests give it a manual clock (the `test-clock` feature).
    pub clock: Clock,
    /// Upstream request timeout.
    pub upstream_timeout: Duration,
    /// How long a client has to send a request's headers (also how long an
    /// idle kept-alive connection stays open); then the connection is closed.
    pub header_timeout: Duration,
    /// How long a client has to send a request's whole body, from the end
    /// of its headers; then it is answered 408.
    pub body_timeout: Duration,
    /// How long a request may take from its headers to its answer; then it
    /// is answered 504 (a queued hold or booking's turn is given
    /// [`QUEUED_TURN_EXTRA`](super::QUEUED_TURN_EXTRA) more).
    pub request_timeout: Duration,
    /// Connections served at once; further ones wait to be accepted until
    /// one closes.
    pub max_connections: u32,
    /// Cache lifetimes.
    pub cache: CacheTtls,
    /// The gateway's public origin, which candidates' browsers name (behind
    /// a proxy, or when listening on `0.0.0.0` or `::`): same-origin requests
    /// come from it and a `return_url` may point at it. By default
    /// `http://` and the address bound; never a request's `Host`.
    pub public_url: Option<String>,
    /// The proxies (address ranges) in front of the gateway whose
    /// `X-Forwarded-For` names the client: read right to left up to the
    /// first address not in these ranges. Empty: the peer is the client.
    pub trusted_proxies: Vec<IpNet>,
    /// The Redis URL of the store several instances share their memory of
    /// holds and booking attempts in (`HBG_SHARED_STORE`); `None` keeps it in
    /// the process, which is right for one instance.
    pub shared_store: Option<Secret>,
    /// The Virtual BLS upstream, when the agency books it too.
    pub virtual_bls: Option<ProductSettings>,
    /// The longest a widget session lives (its booking references with it).
    pub session_max_age: Duration,
    /// How long a hold the widget's page-exit beacon asks to release is
    /// kept for the page to come back (a reload) and take it up again.
    pub release_grace: Duration,
    /// Live holds a widget session may have at once.
    pub holds_per_session: usize,
    /// Live holds one client address may have at once.
    pub holds_per_address: usize,
    /// Holds and bookings a widget session may have waiting for their turn
    /// under the upstream's rate limit.
    pub queued_per_session: usize,
    /// Holds and bookings one client address may have waiting.
    pub queued_per_address: usize,
    /// Whether and until when candidates may cancel their own Practical
    /// Training bookings from their booking page (`candidate_cancel`).
    pub candidate_cancel: CancelPolicy,
    /// The key booking links are signed with (`HBG_BOOKING_LINK_KEY`):
    /// rotating it revokes every link and nothing else. `None` signs them
    /// with the gateway's key.
    pub booking_link_key: Option<Secret>,
}

/// Default live holds per widget session: a candidate books one seat at a
/// time, and may be holding a second while the first is let go.
pub const DEFAULT_HOLDS_PER_SESSION: usize = 2;

/// How long a hold the page-exit beacon asks to release is kept for a
/// reloading page: a reload on a slow phone takes a few seconds.
pub const DEFAULT_RELEASE_GRACE: Duration = Duration::from_secs(15);

/// Default live holds per client address: a few candidates behind one
/// office's address booking at once.
pub const DEFAULT_HOLDS_PER_ADDRESS: usize = 10;

/// Default requests waiting per widget session.
pub const DEFAULT_QUEUED_PER_SESSION: usize = 2;

/// Default requests waiting per client address.
pub const DEFAULT_QUEUED_PER_ADDRESS: usize = 10;

/// Default widget requests per minute per client address.
pub const DEFAULT_RATE_LIMIT: u32 = 120;

/// The upstream's documented limit: 60 requests a minute per client IP.
pub const DEFAULT_UPSTREAM_RATE_LIMIT: u32 = 60;

/// Default connections served at once.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 1024;

impl GatewayConfig {
    /// The defaults, for the upstream at `upstream` and the files in `static_dir`.
    pub fn new(upstream: impl Into<String>, static_dir: impl Into<PathBuf>) -> GatewayConfig {
        GatewayConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            admin_listen: None,
            upstream: upstream.into(),
            static_dir: static_dir.into(),
            credentials: None,
            signing_key: None,
            allowed_origins: Vec::new(),
            pay_options: vec![PayOption::CandidatePays],
            payment_origins: vec!["https://checkout.stripe.com".to_owned()],
            agency: AgencyContact::default(),
            account_name: None,
            rate_limit: DEFAULT_RATE_LIMIT,
            upstream_rate_limit: DEFAULT_UPSTREAM_RATE_LIMIT,
            upstream_rate_window: Duration::from_secs(60),
            clock: Clock::system(),
            upstream_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            cache: CacheTtls {
                catalogue: Duration::from_secs(300),
                events: Duration::from_secs(10),
            },
            public_url: None,
            trusted_proxies: Vec::new(),
            shared_store: None,
            virtual_bls: None,
            session_max_age: DEFAULT_SESSION_MAX_AGE,
            release_grace: DEFAULT_RELEASE_GRACE,
            holds_per_session: DEFAULT_HOLDS_PER_SESSION,
            holds_per_address: DEFAULT_HOLDS_PER_ADDRESS,
            queued_per_session: DEFAULT_QUEUED_PER_SESSION,
            queued_per_address: DEFAULT_QUEUED_PER_ADDRESS,
            candidate_cancel: CancelPolicy::Off,
            booking_link_key: None,
        }
    }

    /// Checks and normalises the settings.
    pub fn validated(mut self) -> Result<GatewayConfig, ConfigError> {
        self.upstream = upstream_setting(Product::Practical, &self.upstream)?;
        self.allowed_origins = normalise_origins("allowed_origins", &self.allowed_origins)?;
        self.payment_origins = payment_origins_setting(Product::Practical, &self.payment_origins)?;
        pay_options_setting(Product::Practical, &self.pay_options)?;
        if let Some(bls) = &mut self.virtual_bls {
            bls.upstream = upstream_setting(Product::VirtualBls, &bls.upstream)?;
            bls.payment_origins =
                payment_origins_setting(Product::VirtualBls, &bls.payment_origins)?;
            pay_options_setting(Product::VirtualBls, &bls.pay_options)?;
        }
        if self.admin_listen == Some(self.listen) && self.listen.port() != 0 {
            return Err(ConfigError::new(
                "admin_listen",
                "must differ from listen: metrics are never served on the public listener",
            ));
        }
        if self.rate_limit == 0 {
            return Err(ConfigError::new("rate_limit", "must be at least 1"));
        }
        if self.upstream_rate_limit == 0 {
            return Err(ConfigError::new(
                "upstream_rate_limit",
                "must be at least 1",
            ));
        }
        if self.shared_store.is_some() && !self.clock.is_system() {
            return Err(ConfigError::new(
                "shared_store",
                "keeps real time (its expiries are Redis's): it cannot run on a manual clock",
            ));
        }
        if self.upstream_rate_window.is_zero() {
            return Err(ConfigError::new(
                "upstream_rate_window",
                "must be more than 0 seconds",
            ));
        }
        for (setting, cap) in [
            ("holds_per_session", self.holds_per_session),
            ("holds_per_address", self.holds_per_address),
            ("queued_per_session", self.queued_per_session),
            ("queued_per_address", self.queued_per_address),
        ] {
            if cap == 0 {
                return Err(ConfigError::new(setting, "must be at least 1"));
            }
        }
        if self.session_max_age < Duration::from_secs(60) {
            return Err(ConfigError::new(
                "session_max_age",
                "must be at least 60 seconds",
            ));
        }
        for (setting, timeout) in [
            ("upstream_timeout", self.upstream_timeout),
            ("header_timeout", self.header_timeout),
            ("body_timeout", self.body_timeout),
            ("request_timeout", self.request_timeout),
        ] {
            if timeout.is_zero() {
                return Err(ConfigError::new(setting, "must be more than 0 seconds"));
            }
        }
        if self.max_connections == 0 {
            return Err(ConfigError::new("max_connections", "must be at least 1"));
        }
        if let Some(key) = &self.signing_key {
            if key.expose().len() < MIN_KEY_BYTES {
                return Err(ConfigError::new(
                    "HBG_GATEWAY_KEY",
                    format!("must be at least {MIN_KEY_BYTES} characters"),
                ));
            }
        }
        if let Some(key) = &self.booking_link_key {
            if key.expose().len() < MIN_KEY_BYTES {
                return Err(ConfigError::new(
                    "HBG_BOOKING_LINK_KEY",
                    format!("must be at least {MIN_KEY_BYTES} characters"),
                ));
            }
        }
        if let Some(store) = &self.shared_store {
            let scheme = store.expose().split("://").next().unwrap_or_default();
            if !["redis", "rediss", "redis+unix"].contains(&scheme) {
                return Err(ConfigError::new(
                    "HBG_SHARED_STORE",
                    "must be a Redis URL such as redis://127.0.0.1:6379/0",
                ));
            }
            if self.signing_key.is_none() {
                return Err(ConfigError::new(
                    "HBG_SHARED_STORE",
                    "instances sharing a store must sign sessions with one key: set HBG_GATEWAY_KEY too",
                ));
            }
        }
        if let Some(public_url) = &self.public_url {
            let origin = origin_of(public_url)
                .map_err(|_| ConfigError::new("public_url", "must be an http(s) URL"))?;
            self.public_url = Some(origin);
        }
        Ok(self)
    }
}

/// The names of one product's settings, as the file and the messages say
/// them (a flag is the same with `--` and `-`).
struct SettingNames {
    upstream: &'static str,
    pay_options: &'static str,
    payment_origins: &'static str,
    example: &'static str,
}

fn setting_names(product: Product) -> SettingNames {
    match product {
        Product::Practical => SettingNames {
            upstream: "upstream",
            pay_options: "pay_options",
            payment_origins: "payment_origins",
            example: "https://tdta.hbcompliance.co.uk/api/v1",
        },
        Product::VirtualBls => SettingNames {
            upstream: "bls_upstream",
            pay_options: "bls_pay_options",
            payment_origins: "bls_payment_origins",
            example: "https://bls.hbcompliance.co.uk/api/v1",
        },
    }
}

/// A product's upstream URL, without a trailing `/`.
fn upstream_setting(product: Product, value: &str) -> Result<String, ConfigError> {
    let names = setting_names(product);
    let (origin, rest) = split_url(value).map_err(|_| {
        ConfigError::new(
            names.upstream,
            format!("must be an http(s) URL such as {}", names.example),
        )
    })?;
    Ok(format!("{origin}{}", rest.trim_end_matches('/')))
}

/// A product's pay options: at least one, each one its API knows, named as
/// that API names them.
fn pay_options_setting(product: Product, options: &[PayOption]) -> Result<(), ConfigError> {
    let setting = setting_names(product).pay_options;
    if let Some(PayOption::Other(name)) = options
        .iter()
        .find(|option| matches!(option, PayOption::Other(_)))
    {
        let known: Vec<&str> = PayOption::KNOWN
            .iter()
            .map(|option| option.wire_name(product))
            .collect();
        return Err(ConfigError::new(
            setting,
            format!("{name:?} is not one of {}", known.join(", ")),
        ));
    }
    if options.is_empty() {
        return Err(ConfigError::new(setting, "allow at least one pay option"));
    }
    Ok(())
}

/// A product's payment origins in canonical form.
fn payment_origins_setting(
    product: Product,
    origins: &[String],
) -> Result<Vec<String>, ConfigError> {
    let setting = setting_names(product).payment_origins;
    origins
        .iter()
        .map(|origin| payment_origin_setting(setting, origin))
        .collect()
}

/// The message for a value that is not an origin.
fn not_an_origin(value: &str) -> String {
    format!(
        "{value:?} is not an origin (write scheme://host[:port], e.g. https://www.agency.example)"
    )
}

/// Origins in canonical form, or the setting and the value that is not one.
fn normalise_origins(
    setting: &'static str,
    origins: &[String],
) -> Result<Vec<String>, ConfigError> {
    origins
        .iter()
        .map(|origin| {
            parse_origin(origin).map_err(|_| ConfigError::new(setting, not_an_origin(origin)))
        })
        .collect()
}

/// A payment origin in canonical form, refused unless the widget would open
/// a payment page there (`booking_core::redirect::parse_payment_origin`).
fn payment_origin_setting(setting: &'static str, value: &str) -> Result<String, ConfigError> {
    parse_origin(value).map_err(|_| ConfigError::new(setting, not_an_origin(value)))?;
    parse_payment_origin(value).map_err(|_| {
        ConfigError::new(
            setting,
            format!(
                "{value:?} would be refused by the widget, so every card payment would fail: \
                 a payment page must be https (http only on {}, for a local sandbox)",
                LOOPBACK_HOSTS.join(", ")
            ),
        )
    })
}

/// Trusted proxies: address ranges (`10.0.0.0/8`) or single addresses, with
/// any host bits cleared.
fn trusted_proxies_setting(values: &[String]) -> Result<Vec<IpNet>, ConfigError> {
    values
        .iter()
        .map(|value| {
            let value = value.trim();
            value
                .parse::<IpNet>()
                .or_else(|_| value.parse::<IpAddr>().map(IpNet::from))
                .map(|range| range.trunc())
                .map_err(|_| {
                    ConfigError::new(
                        "trusted_proxies",
                        format!(
                            "{value:?} is not an address range (write one such as \
                             10.0.0.0/8 or 2001:db8::/32, or an address)"
                        ),
                    )
                })
        })
        .collect()
}

/// A setting that cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{setting}: {message}")]
pub struct ConfigError {
    setting: &'static str,
    message: String,
}

impl ConfigError {
    fn new(setting: &'static str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            setting,
            message: message.into(),
        }
    }
}

/// `booking-gateway` flags. Each may also be set in the TOML file
/// under the same name with `_` for `-` (`static` for `--static`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct GatewayArgs {
    /// TOML file with any of the settings below but --log-format.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// How log lines are written: text, or json (one object per line, with
    /// each request's request_id); also HBG_LOG_FORMAT. Not read from the
    /// file: logging starts before it is read [default: text].
    #[arg(long, env = "HBG_LOG_FORMAT")]
    pub log_format: Option<booking_http::LogFormat>,
    /// Address to listen on; port 0 picks a free port [default: 127.0.0.1:8080].
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Address of the admin listener serving Prometheus metrics at
    /// /metrics, e.g. 127.0.0.1:9090; keep it private (loopback or an
    /// internal network); also HBG_ADMIN_LISTEN [default: none, no metrics].
    #[arg(long, env = "HBG_ADMIN_LISTEN")]
    pub admin_listen: Option<SocketAddr>,
    /// Upstream API base URL including `/api/v1`
    /// [default: http://127.0.0.1:8081/api/v1, the local sandbox].
    #[arg(long)]
    pub upstream: Option<String>,
    /// Directory of the built widget [default: dist].
    #[arg(long = "static")]
    pub static_dir: Option<PathBuf>,
    /// Host page origins allowed to call the API, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub allowed_origins: Option<Vec<String>>,
    /// Pay options candidates may use, comma-separated [default: candidate_pays].
    #[arg(long, value_delimiter = ',')]
    pub pay_options: Option<Vec<String>>,
    /// Origins a payment URL may point at, comma-separated: https, or http on
    /// `127.0.0.1`, `localhost` or `[::1]` [default: https://checkout.stripe.com].
    #[arg(long, value_delimiter = ',')]
    pub payment_origins: Option<Vec<String>>,
    /// Person at the agency, added to every booking.
    #[arg(long)]
    pub agency_contact_name: Option<String>,
    /// That person's email.
    #[arg(long)]
    pub agency_contact_email: Option<String>,
    /// Agency mailbox, e.g. for invoices.
    #[arg(long)]
    pub agency_email: Option<String>,
    /// Name shown in the widget [default: the account's name upstream].
    #[arg(long)]
    pub account_name: Option<String>,
    /// Widget requests per minute per client address (IPv6: per /64) [default: 120].
    #[arg(long)]
    pub rate_limit: Option<u32>,
    /// Upstream calls allowed per window, the upstream's rate limit for this
    /// gateway's address [default: 60].
    #[arg(long)]
    pub upstream_rate_limit: Option<u32>,
    /// Seconds of the upstream rate limit's window [default: 60].
    #[arg(long)]
    pub upstream_rate_window: Option<f64>,
    /// Upstream request timeout in seconds [default: 10].
    #[arg(long)]
    pub upstream_timeout: Option<f64>,
    /// Seconds a client has to send a request's headers; also how long an
    /// idle connection stays open [default: 10].
    #[arg(long)]
    pub header_timeout: Option<f64>,
    /// Seconds a client has to send a request's body, else 408 [default: 10].
    #[arg(long)]
    pub body_timeout: Option<f64>,
    /// Seconds a request may take in all, else 504; a queued hold or
    /// booking's turn gets 15 more [default: 30].
    #[arg(long)]
    pub request_timeout: Option<f64>,
    /// Connections served at once; more wait to be accepted [default: 1024].
    #[arg(long)]
    pub max_connections: Option<u32>,
    /// Seconds courses and the profile are cached [default: 300].
    #[arg(long)]
    pub catalogue_ttl: Option<f64>,
    /// Seconds training events are cached [default: 10].
    #[arg(long)]
    pub events_ttl: Option<f64>,
    /// The gateway's public URL, which candidates open, e.g.
    /// https://booking.agency.example: set it behind a proxy or when
    /// listening on 0.0.0.0 or :: [default: http:// and the address bound].
    #[arg(long)]
    pub public_url: Option<String>,
    /// Proxies in front of the gateway, comma-separated address ranges (e.g.
    /// 10.0.0.0/8,127.0.0.1/32): only their X-Forwarded-For is read, right
    /// to left, for the client's address [default: none].
    #[arg(long, value_delimiter = ',')]
    pub trusted_proxies: Option<Vec<String>>,
    /// Replaced by --trusted-proxies: giving it stops the start.
    #[arg(long, hide = true)]
    pub trust_forwarded_for: bool,
    /// Seconds a widget session lives at most [default: 43200, 12 hours].
    #[arg(long)]
    pub session_max_age: Option<f64>,
    /// Seconds a hold released by the page-exit beacon is kept for a
    /// reloading page to take up again [default: 15].
    #[arg(long)]
    pub release_grace: Option<f64>,
    /// Live holds a widget session may have at once [default: 2].
    #[arg(long)]
    pub holds_per_session: Option<usize>,
    /// Live holds one client address may have at once [default: 10].
    #[arg(long)]
    pub holds_per_address: Option<usize>,
    /// Holds and bookings a widget session may have waiting for their turn
    /// under the upstream's rate limit [default: 2].
    #[arg(long)]
    pub queued_per_session: Option<usize>,
    /// Holds and bookings one client address may have waiting [default: 10].
    #[arg(long)]
    pub queued_per_address: Option<usize>,
    /// Whether candidates may cancel their own Practical Training bookings
    /// from their booking page: "off", or e.g. "until 48h before" (hours h
    /// or days d) [default: off].
    #[arg(long)]
    pub candidate_cancel: Option<String>,
    /// Virtual BLS API base URL including `/api/v1`; setting it (or
    /// `HBG_BLS_CLIENT_ID`) books Virtual BLS too
    /// [default: http://127.0.0.1:8081/bls/api/v1, the local sandbox].
    #[arg(long)]
    pub bls_upstream: Option<String>,
    /// Virtual BLS pay options, comma-separated, as its API names them
    /// (credits, balance, invoice, candidate_pays) [default: candidate_pays].
    #[arg(long, value_delimiter = ',')]
    pub bls_pay_options: Option<Vec<String>>,
    /// Origins a Virtual BLS payment URL may point at, comma-separated
    /// [default: https://www.paypal.com].
    #[arg(long, value_delimiter = ',')]
    pub bls_payment_origins: Option<Vec<String>>,
}

/// The TOML file: the same settings as the flags.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    admin_listen: Option<SocketAddr>,
    upstream: Option<String>,
    #[serde(rename = "static")]
    static_dir: Option<PathBuf>,
    allowed_origins: Option<Vec<String>>,
    pay_options: Option<Vec<String>>,
    payment_origins: Option<Vec<String>>,
    agency_contact_name: Option<String>,
    agency_contact_email: Option<String>,
    agency_email: Option<String>,
    account_name: Option<String>,
    rate_limit: Option<u32>,
    upstream_rate_limit: Option<u32>,
    upstream_rate_window: Option<f64>,
    upstream_timeout: Option<f64>,
    header_timeout: Option<f64>,
    body_timeout: Option<f64>,
    request_timeout: Option<f64>,
    max_connections: Option<u32>,
    catalogue_ttl: Option<f64>,
    events_ttl: Option<f64>,
    public_url: Option<String>,
    session_max_age: Option<f64>,
    release_grace: Option<f64>,
    holds_per_session: Option<usize>,
    holds_per_address: Option<usize>,
    queued_per_session: Option<usize>,
    queued_per_address: Option<usize>,
    candidate_cancel: Option<String>,
    trusted_proxies: Option<Vec<String>>,
    /// Replaced by `trusted_proxies`: any value stops the start.
    trust_forwarded_for: Option<toml::Value>,
    bls_upstream: Option<String>,
    bls_pay_options: Option<Vec<String>>,
    bls_payment_origins: Option<Vec<String>>,
}

/// Where secrets come from: the process environment, or a map in tests.
pub trait Environment {
    /// The value of a variable, if set and not empty.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|value| !value.is_empty())
    }
}

impl<const N: usize> Environment for [(&str, &str); N] {
    fn var(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| (*value).to_owned())
    }
}

impl GatewayArgs {
    /// The configuration these flags, their file and the environment give.
    pub fn resolve(&self, env: &impl Environment) -> Result<GatewayConfig, ConfigError> {
        let file = match &self.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let mut config = GatewayConfig::new(
            pick(self.upstream.clone(), file.upstream)
                .unwrap_or_else(|| "http://127.0.0.1:8081/api/v1".to_owned()),
            pick(self.static_dir.clone(), file.static_dir).unwrap_or_else(|| "dist".into()),
        );
        if let Some(listen) = pick(self.listen, file.listen) {
            config.listen = listen;
        }
        config.admin_listen = pick(self.admin_listen, file.admin_listen);
        if let Some(origins) = pick(self.allowed_origins.clone(), file.allowed_origins) {
            config.allowed_origins = origins;
        }
        if let Some(options) = pick(self.pay_options.clone(), file.pay_options) {
            config.pay_options = pay_options_named(Product::Practical, &options);
        }
        if let Some(origins) = pick(self.payment_origins.clone(), file.payment_origins) {
            config.payment_origins = origins;
        }
        config.agency = AgencyContact {
            contact_name: pick(self.agency_contact_name.clone(), file.agency_contact_name),
            contact_email: pick(self.agency_contact_email.clone(), file.agency_contact_email),
            email: pick(self.agency_email.clone(), file.agency_email),
        };
        config.account_name = pick(self.account_name.clone(), file.account_name);
        if let Some(limit) = pick(self.rate_limit, file.rate_limit) {
            config.rate_limit = limit;
        }
        if let Some(limit) = pick(self.upstream_rate_limit, file.upstream_rate_limit) {
            config.upstream_rate_limit = limit;
        }
        if let Some(seconds) = pick(self.upstream_rate_window, file.upstream_rate_window) {
            config.upstream_rate_window = seconds_setting("upstream_rate_window", seconds)?;
        }
        if let Some(seconds) = pick(self.upstream_timeout, file.upstream_timeout) {
            config.upstream_timeout = seconds_setting("upstream_timeout", seconds)?;
        }
        if let Some(seconds) = pick(self.header_timeout, file.header_timeout) {
            config.header_timeout = seconds_setting("header_timeout", seconds)?;
        }
        if let Some(seconds) = pick(self.body_timeout, file.body_timeout) {
            config.body_timeout = seconds_setting("body_timeout", seconds)?;
        }
        if let Some(seconds) = pick(self.request_timeout, file.request_timeout) {
            config.request_timeout = seconds_setting("request_timeout", seconds)?;
        }
        if let Some(connections) = pick(self.max_connections, file.max_connections) {
            config.max_connections = connections;
        }
        if let Some(seconds) = pick(self.catalogue_ttl, file.catalogue_ttl) {
            config.cache.catalogue = seconds_setting("catalogue_ttl", seconds)?;
        }
        if let Some(seconds) = pick(self.events_ttl, file.events_ttl) {
            config.cache.events = seconds_setting("events_ttl", seconds)?;
        }
        if let Some(seconds) = pick(self.session_max_age, file.session_max_age) {
            config.session_max_age = seconds_setting("session_max_age", seconds)?;
        }
        if let Some(seconds) = pick(self.release_grace, file.release_grace) {
            config.release_grace = seconds_setting("release_grace", seconds)?;
        }
        for (cap, flag, file) in [
            (
                &mut config.holds_per_session,
                self.holds_per_session,
                file.holds_per_session,
            ),
            (
                &mut config.holds_per_address,
                self.holds_per_address,
                file.holds_per_address,
            ),
            (
                &mut config.queued_per_session,
                self.queued_per_session,
                file.queued_per_session,
            ),
            (
                &mut config.queued_per_address,
                self.queued_per_address,
                file.queued_per_address,
            ),
        ] {
            if let Some(value) = pick(flag, file) {
                *cap = value;
            }
        }
        if let Some(policy) = pick(self.candidate_cancel.clone(), file.candidate_cancel) {
            config.candidate_cancel = policy.parse().map_err(|error: BadCancelPolicy| {
                ConfigError::new("candidate_cancel", error.to_string())
            })?;
        }
        config.public_url = pick(self.public_url.clone(), file.public_url);
        if self.trust_forwarded_for || file.trust_forwarded_for.is_some() {
            return Err(ConfigError::new(
                "trust_forwarded_for",
                "was replaced by trusted_proxies: list the address ranges of the proxies in \
                 front of the gateway, e.g. trusted_proxies = [\"10.0.0.0/8\"] \
                 (--trusted-proxies 10.0.0.0/8); only their X-Forwarded-For is read",
            ));
        }
        if let Some(ranges) = pick(self.trusted_proxies.clone(), file.trusted_proxies) {
            config.trusted_proxies = trusted_proxies_setting(&ranges)?;
        }
        config.credentials = credentials(
            env,
            ("HBG_CLIENT_ID", "HBG_API_KEY", "HBG_CLIENT_ID/HBG_API_KEY"),
        )?;
        let bls_credentials = credentials(
            env,
            (
                "HBG_BLS_CLIENT_ID",
                "HBG_BLS_API_KEY",
                "HBG_BLS_CLIENT_ID/HBG_BLS_API_KEY",
            ),
        )?;
        let bls_upstream = pick(self.bls_upstream.clone(), file.bls_upstream);
        let bls_pay_options = pick(self.bls_pay_options.clone(), file.bls_pay_options);
        let bls_payment_origins = pick(self.bls_payment_origins.clone(), file.bls_payment_origins);
        let books_bls = bls_upstream.is_some()
            || bls_credentials.is_some()
            || bls_pay_options.is_some()
            || bls_payment_origins.is_some();
        if books_bls {
            let mut bls = ProductSettings::virtual_bls(
                bls_upstream.unwrap_or_else(|| LOCAL_BLS_UPSTREAM.to_owned()),
            );
            bls.credentials = bls_credentials;
            if let Some(options) = bls_pay_options {
                bls.pay_options = pay_options_named(Product::VirtualBls, &options);
            }
            if let Some(origins) = bls_payment_origins {
                bls.payment_origins = origins;
            }
            config.virtual_bls = Some(bls);
        }
        config.signing_key = env.var("HBG_GATEWAY_KEY").map(Secret::new);
        config.booking_link_key = env.var("HBG_BOOKING_LINK_KEY").map(Secret::new);
        config.shared_store = env.var("HBG_SHARED_STORE").map(Secret::new);
        config.validated()
    }
}

/// A product's credentials from two variables: both or neither.
fn credentials(
    env: &impl Environment,
    (id_var, key_var, setting): (&str, &str, &'static str),
) -> Result<Option<Credentials>, ConfigError> {
    match (env.var(id_var), env.var(key_var)) {
        (Some(client_id), Some(api_key)) => Ok(Some(Credentials {
            client_id,
            api_key: Secret::new(api_key),
        })),
        (None, None) => Ok(None),
        _ => Err(ConfigError::new(setting, "set both or neither")),
    }
}

/// Pay options as a product's API names them, in the widget contract's
/// names (a name the API does not know is kept, for the check to name).
fn pay_options_named(product: Product, names: &[String]) -> Vec<PayOption> {
    names
        .iter()
        .map(|name| PayOption::from_wire_name(product, name.trim()))
        .collect()
}

fn pick<T>(flag: Option<T>, file: Option<T>) -> Option<T> {
    flag.or(file)
}

fn seconds_setting(setting: &'static str, seconds: f64) -> Result<Duration, ConfigError> {
    Duration::try_from_secs_f64(seconds)
        .map_err(|_| ConfigError::new(setting, "must be a number of seconds, 0 or more"))
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        ConfigError::new("config", format!("reading {}: {error}", path.display()))
    })?;
    toml::from_str(&text)
        .map_err(|error| ConfigError::new("config", format!("{}: {error}", path.display())))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: GatewayArgs,
    }

    fn args(flags: &[&str]) -> GatewayArgs {
        let mut argv = vec!["gateway"];
        argv.extend_from_slice(flags);
        Cli::parse_from(argv).args
    }

    const ENV: [(&str, &str); 2] = [("HBG_CLIENT_ID", "HB-DEMO"), ("HBG_API_KEY", "sandbox-key")];

    #[test]
    fn defaults_need_no_flags() {
        let config = args(&[]).resolve(&ENV).unwrap();
        assert_eq!(config.upstream, "http://127.0.0.1:8081/api/v1");
        assert_eq!(config.pay_options, vec![PayOption::CandidatePays]);
        assert_eq!(config.payment_origins, vec!["https://checkout.stripe.com"]);
        assert_eq!(config.rate_limit, DEFAULT_RATE_LIMIT);
        assert_eq!(config.header_timeout, Duration::from_secs(10));
        assert_eq!(config.body_timeout, Duration::from_secs(10));
        assert_eq!(config.request_timeout, Duration::from_secs(30));
        assert_eq!(config.max_connections, DEFAULT_MAX_CONNECTIONS);
        assert_eq!(config.credentials.unwrap().client_id, "HB-DEMO");
        assert!(config.signing_key.is_none());
    }

    #[test]
    fn flags_win_over_the_file() {
        let dir = std::env::temp_dir().join(format!("gateway-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("gateway.toml");
        std::fs::write(
            &path,
            r#"
            upstream = "http://127.0.0.1:9000/api/v1/"
            static = "/srv/widget"
            allowed_origins = ["https://www.agency.example/"]
            pay_options = ["credits", "candidate_pays"]
            rate_limit = 30
            upstream_timeout = 2.5
            header_timeout = 5
            body_timeout = 7.5
            max_connections = 64
            trusted_proxies = ["10.1.2.3/8", "2001:db8::/48", "127.0.0.1"]
            agency_email = "accounts@agency.example"
            "#,
        )
        .unwrap();
        let config = args(&[
            "--config",
            path.to_str().unwrap(),
            "--rate-limit",
            "99",
            "--listen",
            "127.0.0.1:0",
            "--request-timeout",
            "20",
        ])
        .resolve(&ENV)
        .unwrap();
        assert_eq!(config.upstream, "http://127.0.0.1:9000/api/v1");
        assert_eq!(config.static_dir, PathBuf::from("/srv/widget"));
        assert_eq!(config.allowed_origins, vec!["https://www.agency.example"]);
        assert_eq!(
            config.pay_options,
            vec![PayOption::Credits, PayOption::CandidatePays]
        );
        assert_eq!(config.rate_limit, 99);
        assert_eq!(config.upstream_timeout, Duration::from_millis(2500));
        assert_eq!(config.header_timeout, Duration::from_secs(5));
        assert_eq!(config.body_timeout, Duration::from_millis(7500));
        assert_eq!(config.request_timeout, Duration::from_secs(20));
        assert_eq!(config.max_connections, 64);
        assert_eq!(
            config.trusted_proxies,
            ["10.0.0.0/8", "2001:db8::/48", "127.0.0.1/32"]
                .map(|range| range.parse::<IpNet>().unwrap())
        );
        assert_eq!(
            config.agency.email.as_deref(),
            Some("accounts@agency.example")
        );
        assert_eq!(config.listen.port(), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_example_file_is_a_valid_configuration() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("gateway.example.toml");
        let config = args(&["--config", path.to_str().unwrap()])
            .resolve(&ENV)
            .unwrap();
        assert_eq!(config.upstream, "https://tdta.hbcompliance.co.uk/api/v1");
        assert_eq!(config.allowed_origins, vec!["https://www.agency.example"]);
        assert_eq!(config.agency.contact_name.as_deref(), Some("Tom Birch"));
        let bls = config
            .virtual_bls
            .expect("the example books Virtual BLS too");
        assert_eq!(bls.upstream, "https://bls.hbcompliance.co.uk/api/v1");
        assert_eq!(
            bls.pay_options,
            vec![PayOption::CandidatePays, PayOption::Inv]
        );
        assert_eq!(bls.payment_origins, vec![PAYPAL_CHECKOUT]);
        assert_eq!(config.candidate_cancel.to_string(), "until 2d before");
    }

    #[test]
    fn the_admin_listener_is_off_unless_set_by_flag_or_file() {
        assert_eq!(args(&[]).resolve(&ENV).unwrap().admin_listen, None);
        let dir = std::env::temp_dir().join(format!("gateway-admin-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("gateway.toml");
        std::fs::write(&path, "admin_listen = \"127.0.0.1:9090\"\n").unwrap();
        let from_file = args(&["--config", path.to_str().unwrap()])
            .resolve(&ENV)
            .unwrap();
        assert_eq!(
            from_file.admin_listen,
            Some(SocketAddr::from(([127, 0, 0, 1], 9090)))
        );
        let flag = args(&[
            "--config",
            path.to_str().unwrap(),
            "--admin-listen",
            "127.0.0.1:9191",
        ])
        .resolve(&ENV)
        .unwrap();
        assert_eq!(
            flag.admin_listen,
            Some(SocketAddr::from(([127, 0, 0, 1], 9191)))
        );
        let error = args(&[
            "--listen",
            "127.0.0.1:8080",
            "--admin-listen",
            "127.0.0.1:8080",
        ])
        .resolve(&ENV)
        .unwrap_err();
        assert!(error.to_string().starts_with("admin_listen:"), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bad_settings_are_named() {
        let error = args(&["--pay-options", "credits,cash"])
            .resolve(&ENV)
            .unwrap_err();
        assert!(error.to_string().starts_with("pay_options:"), "{error}");
        let error = args(&["--candidate-cancel", "until soon"])
            .resolve(&ENV)
            .unwrap_err();
        assert!(
            error.to_string().starts_with("candidate_cancel:")
                && error.to_string().contains("until 48h before"),
            "{error}"
        );
        let short_link_key = [("HBG_BOOKING_LINK_KEY", "short")];
        let error = args(&[]).resolve(&short_link_key).unwrap_err();
        assert!(
            error.to_string().starts_with("HBG_BOOKING_LINK_KEY")
                && !error.to_string().contains("short"),
            "{error}"
        );
        let error = args(&["--allowed-origins", "https://a.example/path"])
            .resolve(&ENV)
            .unwrap_err();
        assert!(error.to_string().starts_with("allowed_origins:"), "{error}");
        let error = args(&["--upstream", "tdta.hbcompliance.co.uk/api/v1"])
            .resolve(&ENV)
            .unwrap_err();
        assert!(error.to_string().starts_with("upstream:"), "{error}");
        let error = args(&["--public-url", "booking.agency.example"])
            .resolve(&ENV)
            .unwrap_err();
        assert!(error.to_string().starts_with("public_url:"), "{error}");
        let error = args(&[])
            .resolve(&[("HBG_CLIENT_ID", "HB-DEMO")])
            .unwrap_err();
        assert!(error.to_string().contains("HBG_API_KEY"), "{error}");
        for setting in ["header_timeout", "body_timeout", "request_timeout"] {
            let flag = format!("--{}", setting.replace('_', "-"));
            let error = args(&[&flag, "0"]).resolve(&ENV).unwrap_err();
            assert!(error.to_string().starts_with(setting), "{error}");
        }
        let error = args(&["--max-connections", "0"]).resolve(&ENV).unwrap_err();
        assert!(error.to_string().starts_with("max_connections:"), "{error}");
    }

    #[test]
    fn trusted_proxies_are_address_ranges() {
        let config = args(&["--trusted-proxies", "192.168.0.0/16, ::1"])
            .resolve(&ENV)
            .unwrap();
        assert_eq!(
            config.trusted_proxies,
            ["192.168.0.0/16", "::1/128"].map(|range| range.parse::<IpNet>().unwrap())
        );
        assert!(args(&[]).resolve(&ENV).unwrap().trusted_proxies.is_empty());
        for bad in ["10.0.0.0/33", "proxy.internal", "10.0.0.0/8/8"] {
            let error = args(&["--trusted-proxies", bad])
                .resolve(&ENV)
                .unwrap_err()
                .to_string();
            assert!(error.starts_with("trusted_proxies:"), "{error}");
            assert!(error.contains(bad), "{error}");
        }
    }

    #[test]
    fn trust_forwarded_for_stops_the_start_pointing_at_trusted_proxies() {
        let dir = std::env::temp_dir().join(format!("gateway-forwarded-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("gateway.toml");
        for setting in ["trust_forwarded_for = true", "trust_forwarded_for = false"] {
            std::fs::write(&path, setting).unwrap();
            let error = args(&["--config", path.to_str().unwrap()])
                .resolve(&ENV)
                .unwrap_err()
                .to_string();
            assert!(error.starts_with("trust_forwarded_for:"), "{error}");
            assert!(error.contains("trusted_proxies"), "{error}");
        }
        let _ = std::fs::remove_dir_all(&dir);
        let error = args(&["--trust-forwarded-for"])
            .resolve(&ENV)
            .unwrap_err()
            .to_string();
        assert!(error.contains("trusted_proxies"), "{error}");
    }

    #[test]
    fn a_payment_origin_the_widget_would_refuse_stops_the_start() {
        for value in [
            "http://sandbox.example:8080",
            "http://checkout.stripe.com",
            "http://192.168.1.20:8081",
        ] {
            let error = args(&["--payment-origins", value])
                .resolve(&ENV)
                .unwrap_err()
                .to_string();
            assert!(error.starts_with("payment_origins:"), "{error}");
            assert!(error.contains(value), "{error}");
            assert!(error.contains("refused by the widget"), "{error}");
            assert!(
                error.contains("must be https (http only on 127.0.0.1, localhost, [::1]"),
                "{error}"
            );
        }
        let error = args(&["--payment-origins", "https://checkout.stripe.com/c/pay"])
            .resolve(&ENV)
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("payment_origins:"), "{error}");
        assert!(error.contains("is not an origin"), "{error}");
        let mut config = GatewayConfig::new("http://127.0.0.1:8081/api/v1", "dist");
        config.payment_origins = vec!["http://sandbox.example:8080".into()];
        let error = config.validated().unwrap_err().to_string();
        assert!(error.starts_with("payment_origins:"), "{error}");
    }

    #[test]
    fn loopback_http_payment_origins_are_accepted_for_a_local_sandbox() {
        let config = args(&[
            "--payment-origins",
            "http://127.0.0.1:8081,http://LOCALHOST:3000/,http://[::1]:9000,https://Pay.Example:443",
        ])
        .resolve(&ENV)
        .unwrap();
        assert_eq!(
            config.payment_origins,
            vec![
                "http://127.0.0.1:8081",
                "http://localhost:3000",
                "http://[::1]:9000",
                "https://pay.example",
            ]
        );
    }

    /// Whatever payment origin a gateway starts with, the widget honours,
    /// and the gateway hands on exactly the payment URLs the widget opens.
    #[test]
    fn the_gateway_accepts_what_the_widget_accepts() {
        use booking_core::redirect::PaymentRedirectPolicy;

        use super::super::policy::Policy;

        let schemes = ["https://", "http://", "HTTPS://", "ftp://", ""];
        let hosts = [
            "checkout.stripe.com",
            "Sandbox.Example",
            "127.0.0.1",
            "localhost",
            "[::1]",
            "192.168.1.20",
            "bücher.example",
            "user@checkout.stripe.com",
            "",
        ];
        let ports = ["", ":443", ":80", ":8081", ":99999"];
        let rests = ["", "/", "/c/pay", "?x=1"];
        let mut entries = Vec::new();
        for scheme in schemes {
            for host in hosts {
                for port in ports {
                    for rest in rests {
                        entries.push(format!("{scheme}{host}{port}{rest}"));
                    }
                }
            }
        }
        let urls: Vec<String> = entries
            .iter()
            .flat_map(|entry| {
                [
                    entry.clone(),
                    format!("{entry}/checkout/abc?return_url=x"),
                    format!("{entry}.evil.example/"),
                    format!("{entry} /"),
                ]
            })
            .collect();
        let mut accepted = 0;
        for entry in &entries {
            let mut config = GatewayConfig::new("http://127.0.0.1:8081/api/v1", "dist");
            config.payment_origins = vec![entry.clone()];
            let honoured = PaymentRedirectPolicy::new([entry.as_str()])
                .check(entry)
                .is_ok();
            let Ok(config) = config.validated() else {
                assert!(
                    !honoured,
                    "the gateway refuses {entry:?}, which the widget honours"
                );
                continue;
            };
            assert!(
                honoured,
                "the gateway accepts {entry:?}, which the widget ignores"
            );
            accepted += 1;
            // The widget's policy is built from `/api/options`.
            let widget = PaymentRedirectPolicy::new(config.payment_origins.clone());
            let gateway = Policy::new(
                config.pay_options.clone(),
                config.payment_origins.clone(),
                Vec::new(),
                AgencyContact::default(),
            );
            assert_eq!(gateway.payment_origins(), config.payment_origins.as_slice());
            for url in &urls {
                assert_eq!(
                    gateway.payment_url_allowed(url),
                    widget.check(url).is_ok(),
                    "{entry:?} {url:?}"
                );
            }
        }
        assert!(accepted > 20, "{accepted}");
    }

    #[test]
    fn a_short_signing_key_is_refused_without_echoing_it() {
        let env = [
            ("HBG_CLIENT_ID", "HB-DEMO"),
            ("HBG_API_KEY", "sandbox-key"),
            ("HBG_GATEWAY_KEY", "short-key-value"),
        ];
        let error = args(&[]).resolve(&env).unwrap_err().to_string();
        assert!(error.starts_with("HBG_GATEWAY_KEY"), "{error}");
        assert!(!error.contains("short-key-value"));
    }

    #[test]
    fn virtual_bls_is_booked_when_any_of_its_settings_is_given() {
        assert!(args(&[]).resolve(&ENV).unwrap().virtual_bls.is_none());
        let env = [
            ("HBG_CLIENT_ID", "HB-DEMO"),
            ("HBG_API_KEY", "sandbox-key"),
            ("HBG_BLS_CLIENT_ID", "HB-BLS-DEMO"),
            ("HBG_BLS_API_KEY", "bls-sandbox-key"),
        ];
        let config = args(&[]).resolve(&env).unwrap();
        let bls = config.virtual_bls.expect("Virtual BLS configured");
        assert_eq!(bls.upstream, LOCAL_BLS_UPSTREAM);
        assert_eq!(bls.credentials.unwrap().client_id, "HB-BLS-DEMO");
        assert_eq!(bls.pay_options, vec![PayOption::CandidatePays]);
        assert_eq!(bls.payment_origins, vec![PAYPAL_CHECKOUT]);
        assert_eq!(config.payment_origins, vec!["https://checkout.stripe.com"]);
        let config = args(&[
            "--bls-upstream",
            "https://bls.hbcompliance.co.uk/api/v1/",
            "--bls-pay-options",
            "invoice,credits",
            "--bls-payment-origins",
            "http://127.0.0.1:8081",
        ])
        .resolve(&ENV)
        .unwrap();
        let bls = config.virtual_bls.unwrap();
        assert_eq!(bls.upstream, "https://bls.hbcompliance.co.uk/api/v1");
        assert!(bls.credentials.is_none());
        assert_eq!(bls.pay_options, vec![PayOption::Inv, PayOption::Credits]);
        assert_eq!(bls.payment_origins, vec!["http://127.0.0.1:8081"]);
    }

    #[test]
    fn each_product_names_its_own_bad_settings() {
        let error = args(&["--bls-pay-options", "inv"])
            .resolve(&ENV)
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "bls_pay_options: \"inv\" is not one of credits, balance, invoice, candidate_pays"
        );
        let error = args(&["--pay-options", "invoice"])
            .resolve(&ENV)
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "pay_options: \"invoice\" is not one of credits, balance, inv, candidate_pays"
        );
        let error = args(&["--bls-payment-origins", "http://paypal.example"])
            .resolve(&ENV)
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("bls_payment_origins:"), "{error}");
        let error = args(&["--bls-upstream", "bls.hbcompliance.co.uk"])
            .resolve(&ENV)
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("bls_upstream:"), "{error}");
        let error = args(&[])
            .resolve(&[("HBG_BLS_CLIENT_ID", "HB-BLS-DEMO")])
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("HBG_BLS_CLIENT_ID/HBG_BLS_API_KEY"),
            "{error}"
        );
    }

    #[test]
    fn secrets_do_not_debug_print() {
        let config = args(&[]).resolve(&ENV).unwrap();
        assert!(!format!("{config:?}").contains("sandbox-key"));
    }
}
