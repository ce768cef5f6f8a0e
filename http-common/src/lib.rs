//! HTTP plumbing the gateway (`booking-gateway`) and the sandbox
//! (`booking-sandbox`) share, kept apart from `booking-core`, which does no
//! I/O:
//! * `json_errors`: the safety net that words every error without a JSON
//!   body as `{ "message": ... }`.
//! * `background`: a server serving in the background of the current Tokio
//!   runtime, for tests and tools.
//! * [`announce`], [`shutdown_signal`] and [`init_tracing_as`]: the
//!   `listening on` line, Ctrl-C and SIGTERM, and logging to stderr as text
//!   or JSON lines ([`LogFormat`]).

use tokio::net::TcpListener;

pub mod background;
pub mod json_errors;

/// Prints the bound address on stdout, the line scripts and tests wait for.
pub fn announce(name: &str, listener: &TcpListener) -> std::io::Result<()> {
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

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Plain text, one line per event (the default).
    #[default]
    Text,
    /// One JSON object per line: the event's fields at the top level, the
    /// request's span (its `request_id`, method and route) under `span`.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    /// `text` or `json`.
    fn from_str(name: &str) -> Result<LogFormat, String> {
        match name.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("{name:?} is not a log format: write text or json")),
        }
    }
}

/// Logs plain text to stderr, as [`init_tracing_as`] does.
pub fn init_tracing() {
    init_tracing_as(LogFormat::Text);
}

/// Logs to stderr in `format`, filtered by `RUST_LOG` (default `info`);
/// text in colour only when stderr is a terminal, so log files and
/// collectors get plain text.
pub fn init_tracing_as(format: LogFormat) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => logs
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}
