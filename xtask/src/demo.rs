//! `cargo xtask demo`: builds everything and runs it until Ctrl-C.

use std::process::Child;
use std::sync::{Arc, Mutex};

use crate::dist;
use crate::process::command;
use crate::{setup, TaskResult};

/// Where the demo's gateway listens.
pub const GATEWAY_ADDR: &str = "127.0.0.1:8080";

/// Builds the widget and the server, starts the servers, prints the URL and
/// waits; Ctrl-C stops every child process.
pub fn run() -> TaskResult {
    setup::run()?;
    dist::build()?;
    let server = dist::build_server()?;
    let children: Arc<Mutex<Vec<Child>>> = Arc::default();
    let for_handler = Arc::clone(&children);
    ctrlc::set_handler(move || {
        stop_all(&for_handler);
        std::process::exit(0);
    })
    .map_err(|error| format!("installing the Ctrl-C handler: {error}"))?;

    let dist_dir = dist::dist_dir();
    let gateway = command(
        server.to_str().expect("target path is UTF-8"),
        &[
            "gateway",
            "--listen",
            GATEWAY_ADDR,
            "--static",
            dist_dir.to_str().expect("dist path is UTF-8"),
        ],
    )
    .spawn()
    .map_err(|error| format!("starting the gateway: {error}"))?;
    children
        .lock()
        .expect("no panics hold the lock")
        .push(gateway);

    println!();
    println!("Booking widget demo: http://{GATEWAY_ADDR}/");
    println!("Press Ctrl-C to stop.");
    loop {
        let mut guard = children.lock().expect("no panics hold the lock");
        for child in guard.iter_mut() {
            if let Ok(Some(status)) = child.try_wait() {
                drop(guard);
                stop_all(&children);
                return Err(format!("a demo server stopped ({status})"));
            }
        }
        drop(guard);
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
}

fn stop_all(children: &Mutex<Vec<Child>>) {
    if let Ok(mut guard) = children.lock() {
        for child in guard.iter_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
        guard.clear();
    }
}
