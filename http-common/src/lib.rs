//! HTTP plumbing the gateway (`booking-gateway`) and the sandbox
//! (`booking-sandbox`) share, kept apart from `booking-core`, which does no
//! I/O:
//! * `json_errors`: the safety net that words every error without a JSON
//!   body as `{ "message": ... }`.
//! * `background`: a server serving in the background of the current Tokio
//!   runtime, for tests and tools.
//! * [`announce`], [`shutdown_signal`] and [`init_tracing`]: the
//!   `listening on` line, Ctrl-C and SIGTERM, and logging to stderr.

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
