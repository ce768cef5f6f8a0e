//! `booking-gateway`: the agency-side server. It serves the widget's files
//! and its API.
//!
//! Credentials come from the environment: HBG_CLIENT_ID, HBG_API_KEY and
//! HBG_GATEWAY_KEY (the key signing widget sessions; random when unset).

use booking_gateway::config::ProcessEnvironment;
use booking_gateway::{ConfigError, GatewayArgs, StartError};
use clap::Parser;

/// Command line of `booking-gateway`: the agency-side server, serving the
/// widget's files and its API.
///
/// Credentials come from the environment: HBG_CLIENT_ID, HBG_API_KEY and
/// HBG_GATEWAY_KEY (the key signing widget sessions; random when unset).
#[derive(Debug, Parser)]
#[command(name = "booking-gateway", version)]
struct Command {
    #[command(flatten)]
    args: GatewayArgs,
}

/// Why the gateway could not start or stopped.
#[derive(Debug, thiserror::Error)]
enum ServerError {
    /// The gateway could not start.
    #[error("gateway: {0}")]
    Gateway(#[from] StartError),
    /// A gateway setting is wrong.
    #[error("gateway configuration: {0}")]
    GatewayConfig(#[from] ConfigError),
}

/// Serves until Ctrl-C or SIGTERM.
async fn run(command: Command) -> Result<(), ServerError> {
    let config = command.args.resolve(&ProcessEnvironment)?;
    booking_gateway::serve(config, booking_http::shutdown_signal()).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let command = Command::parse();
    booking_http::init_tracing_as(command.args.log_format.unwrap_or_default());
    match run(command).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("booking-gateway: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
