//! The servers behind the widget.
//!
//! * `gateway`: the agency-side server. It serves the widget's files and the
//!   allow-listed booking API (`/api`), holding the upstream credentials.

use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

pub mod gateway;

/// Command line of `booking-server`.
#[derive(Debug, Parser)]
#[command(name = "booking-server", version, about)]
pub struct Command {
    #[command(subcommand)]
    server: Server,
}

#[derive(Debug, Subcommand)]
enum Server {
    /// The agency-side server: serves the widget's files and its API.
    ///
    /// Credentials come from the environment: HBG_CLIENT_ID, HBG_API_KEY and
    /// HBG_GATEWAY_KEY (the key signing widget sessions; random when unset).
    Gateway(gateway::GatewayArgs),
}

/// Why a server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Binding or serving failed.
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
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
            Server::Gateway(args) => {
                let config = args.resolve(&gateway::config::ProcessEnvironment)?;
                gateway::serve(config, shutdown_signal()).await?;
                Ok(())
            }
        }
    }
}

/// Prints the bound address on stdout, the line scripts and tests wait for.
fn announce(name: &str, listener: &TcpListener) -> std::io::Result<()> {
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

/// Logs to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
