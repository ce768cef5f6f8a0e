//! `booking-server`: runs the sandbox or the gateway.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    booking_server::init_tracing();
    let command = booking_server::Command::parse();
    match command.run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("booking-server: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
