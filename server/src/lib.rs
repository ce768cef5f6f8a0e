//! The servers behind the widget.
//!
//! * `sandbox`: a stateful local implementation of the Practical Training
//!   API over SQLite, for the demo, the tests and agencies' own testing.
//!   Tests start one in-process with [`sandbox::spawn_sandbox`].
//! * `gateway`: the agency-side server. It serves the widget's files and the
//!   allow-listed booking API (`/api`), holding the upstream credentials.
//!   Tests start one in-process with [`gateway::spawn_gateway`].
//! * `webhook_check`: how webhook deliveries are signed and checked, and
//!   `webhook-receiver`, the small receiver agencies can point a sandbox
//!   webhook at.

use std::net::SocketAddr;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

pub mod background;
pub mod gateway;
mod json_errors;
pub mod sandbox;
pub mod webhook_check;

/// Command line of `booking-server`.
#[derive(Debug, Parser)]
#[command(name = "booking-server", version, about)]
pub struct Command {
    #[command(subcommand)]
    server: Server,
}

#[derive(Debug, Subcommand)]
enum Server {
    /// A local Practical Training API with a SQLite database.
    Sandbox {
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, default_value = "127.0.0.1:8081")]
        listen: SocketAddr,
        /// SQLite file, created and seeded when new; `:memory:` for a
        /// throw-away database.
        #[arg(long, default_value = "sandbox.sqlite3")]
        db: sandbox::DatabaseLocation,
        /// Test mode: mounts `/_sandbox/*` (movable clock, fixtures).
        #[arg(long)]
        test_clock: bool,
        /// With `--test-clock`: start the clock at this instant (RFC 3339).
        #[arg(long, requires = "test_clock")]
        clock_start: Option<DateTime<Utc>>,
        /// Requests per minute per client IP on `/api/v1`.
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..))]
        rate_limit: u32,
        /// Base URL for links the sandbox returns (default: http:// plus the
        /// bound address).
        #[arg(long)]
        public_url: Option<String>,
        /// How to answer where the published API is silent, as
        /// key=value,key=value: hold_scope=event|account|none,
        /// idempotency=honoured|ignored, conflict_body=with_hold|message_only,
        /// return_url=honoured|ignored, max_per_page=100|50,
        /// shape=full|documented (server/SANDBOX.md).
        #[arg(long, default_value = "")]
        profile: sandbox::UpstreamProfile,
        /// With `--test-clock`: every webhook retry waits this many
        /// milliseconds instead of the standard schedule (10 s to 8 h).
        #[arg(long, requires = "test_clock")]
        webhook_retry_ms: Option<u64>,
        /// Registers a webhook endpoint of the demo account HB-DEMO at this
        /// URL (loopback `http` allowed), subscribed to every event and signed
        /// with the secret in `HBG_DEMO_WEBHOOK_SECRET` (`cargo xtask demo`).
        #[arg(long, requires = "demo_webhook_secret")]
        demo_webhook: Option<String>,
        /// The demo webhook's signing secret.
        #[arg(
            long,
            env = "HBG_DEMO_WEBHOOK_SECRET",
            hide_env_values = true,
            hide = true
        )]
        demo_webhook_secret: Option<String>,
    },
    /// The agency-side server: serves the widget's files and its API.
    ///
    /// Credentials come from the environment: HBG_CLIENT_ID, HBG_API_KEY and
    /// HBG_GATEWAY_KEY (the key signing widget sessions; random when unset).
    Gateway(Box<gateway::GatewayArgs>),
    /// Receives a sandbox's (or the API's) webhooks: checks each signature
    /// and timestamp, drops repeats of an event, and prints each new event
    /// as one JSON line on stdout.
    WebhookReceiver {
        /// The endpoint's signing secret (shown when the endpoint was
        /// created or its secret rotated).
        #[arg(long, env = "TDTA_WEBHOOK_SECRET", hide_env_values = true)]
        secret: String,
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, default_value = "127.0.0.1:9090")]
        listen: SocketAddr,
    },
}

/// Why a server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Binding or serving failed.
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
    /// The sandbox could not start.
    #[error("sandbox: {0}")]
    Sandbox(#[from] sandbox::StartError),
    /// The gateway could not start.
    #[error("gateway: {0}")]
    Gateway(#[from] gateway::StartError),
    /// A gateway setting is wrong.
    #[error("gateway configuration: {0}")]
    GatewayConfig(#[from] gateway::ConfigError),
}

impl Command {
    /// Starts the chosen server and serves until Ctrl-C or SIGTERM.
    pub async fn run(self) -> Result<(), ServerError> {
        match self.server {
            Server::Sandbox {
                listen,
                db,
                test_clock,
                clock_start,
                rate_limit,
                public_url,
                profile,
                webhook_retry_ms,
                demo_webhook,
                demo_webhook_secret,
            } => {
                let config = sandbox::SandboxConfig {
                    listen,
                    db,
                    test_clock,
                    clock_start,
                    rate_limit,
                    public_url,
                    profile,
                    webhook_retry_ms,
                    demo_webhook: demo_webhook
                        .zip(demo_webhook_secret)
                        .map(|(url, secret)| sandbox::DemoWebhook { url, secret }),
                };
                sandbox::serve(config, shutdown_signal()).await?;
                Ok(())
            }
            Server::WebhookReceiver { secret, listen } => {
                webhook_check::serve_receiver(listen, &secret, shutdown_signal()).await?;
                Ok(())
            }
            Server::Gateway(args) => {
                let config = args.resolve(&gateway::config::ProcessEnvironment)?;
                gateway::serve(config, shutdown_signal()).await?;
                Ok(())
            }
        }
    }
}

/// Prints the bound address on stdout, the line scripts and tests wait for.
pub(crate) fn announce(name: &str, listener: &TcpListener) -> std::io::Result<()> {
    let address = listener.local_addr()?;
    println!("{name} listening on http://{address}");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`); colours only
/// when stderr is a terminal, so log files and collectors get plain text.
pub fn init_tracing() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}
