//! `booking-sandbox`: runs the sandbox, or the webhook receiver agencies
//! can point a sandbox webhook at.

use std::net::SocketAddr;
use std::time::Duration;

use booking_sandbox::UpstreamProfile;
use booking_sandbox::{webhook_check, DatabaseLocation, DemoWebhook, SandboxConfig, StartError};
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};

/// Command line of `booking-sandbox`.
#[derive(Debug, Parser)]
#[command(name = "booking-sandbox", version, about)]
struct Command {
    #[command(subcommand)]
    server: Server,
}

#[derive(Debug, Subcommand)]
enum Server {
    /// A local Practical Training and Virtual BLS API with a SQLite database.
    Serve {
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, default_value = "127.0.0.1:8081")]
        listen: SocketAddr,
        /// SQLite file, created and seeded when new; `:memory:` for a
        /// throw-away database.
        #[arg(long, default_value = "sandbox.sqlite3")]
        db: DatabaseLocation,
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
        /// shape=full|documented (sandbox/SANDBOX.md).
        #[arg(long, default_value = "")]
        profile: UpstreamProfile,
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
enum ServerError {
    /// Binding or serving failed.
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
    /// The sandbox could not start.
    #[error("sandbox: {0}")]
    Sandbox(#[from] StartError),
}

impl Command {
    /// Starts the chosen server and serves until Ctrl-C or SIGTERM.
    async fn run(self) -> Result<(), ServerError> {
        match self.server {
            Server::Serve {
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
                let config = SandboxConfig {
                    listen,
                    db,
                    test_clock,
                    clock_start,
                    rate_limit,
                    rate_window: Duration::from_secs(60),
                    public_url,
                    profile,
                    webhook_retry_ms,
                    demo_webhook: demo_webhook
                        .zip(demo_webhook_secret)
                        .map(|(url, secret)| DemoWebhook { url, secret }),
                };
                booking_sandbox::serve(config, booking_http::shutdown_signal()).await?;
                Ok(())
            }
            Server::WebhookReceiver { secret, listen } => {
                webhook_check::serve_receiver(listen, &secret, booking_http::shutdown_signal())
                    .await?;
                Ok(())
            }
        }
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    booking_http::init_tracing();
    match Command::parse().run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("booking-sandbox: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
