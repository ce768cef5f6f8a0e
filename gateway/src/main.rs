//! `booking-gateway`: the agency-side server. It serves the widget's files
//! and its API.
//!
//! Credentials come from the environment: HBG_CLIENT_ID, HBG_API_KEY and
//! HBG_GATEWAY_KEY (the key signing widget sessions; random when unset).
//!
//! `booking-gateway preflight` with the same options checks, read-only,
//! that each configured upstream answers what the booking path needs
//! (`booking_gateway::preflight`), and exits non-zero when it does not.

use std::process::ExitCode;

use booking_gateway::config::ProcessEnvironment;
use booking_gateway::{ConfigError, GatewayArgs, StartError};
use clap::{Parser, Subcommand};

/// Command line of `booking-gateway`: the agency-side server, serving the
/// widget's files and its API.
///
/// Credentials come from the environment: HBG_CLIENT_ID, HBG_API_KEY and
/// HBG_GATEWAY_KEY (the key signing widget sessions; random when unset).
#[derive(Debug, Parser)]
#[command(
    name = "booking-gateway",
    version,
    args_conflicts_with_subcommands = true
)]
struct Command {
    #[command(subcommand)]
    action: Option<Action>,
    #[command(flatten)]
    args: GatewayArgs,
}

/// What to do instead of serving.
#[derive(Debug, Subcommand)]
enum Action {
    /// Checks, read-only, that each configured upstream answers what the
    /// booking path needs, with these options and credentials; exits
    /// non-zero when something it needs will not work.
    Preflight {
        #[command(flatten)]
        args: GatewayArgs,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
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
    /// The preflight's report could not be written as JSON.
    #[error("preflight report: {0}")]
    Report(#[from] serde_json::Error),
}

/// Serves until Ctrl-C or SIGTERM; or runs the preflight, failing when the
/// booking path will not work.
async fn run(command: Command) -> Result<ExitCode, ServerError> {
    let Some(Action::Preflight { args, json }) = command.action else {
        let config = command.args.resolve(&ProcessEnvironment)?;
        booking_gateway::serve(config, booking_http::shutdown_signal()).await?;
        return Ok(ExitCode::SUCCESS);
    };
    let report = booking_gateway::preflight::run(args.resolve(&ProcessEnvironment)?).await?;
    if json {
        println!("{}", report.to_json()?);
    } else {
        print!("{}", report.text());
    }
    Ok(if report.verdict.ready {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let command = Command::parse();
    let log_format = match &command.action {
        Some(Action::Preflight { args, .. }) => args.log_format,
        None => command.args.log_format,
    };
    booking_http::init_tracing_as(log_format.unwrap_or_default());
    match run(command).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("booking-gateway: {error}");
            ExitCode::FAILURE
        }
    }
}
