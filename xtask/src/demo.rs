//! `cargo xtask demo [--fresh]`: builds everything and runs it until Ctrl-C.
//!
//! Three processes, as an agency would run them, except that the upstream is
//! the sandbox: the sandbox on 127.0.0.1:8081 (no test mode, like the real
//! API) with its database in `target/demo/`, kept between runs so demo
//! bookings persist (`--fresh` starts from newly seeded data); the gateway
//! on 127.0.0.1:8080, serving `dist/` and the widget's API for both
//! products, Practical Training with the HB-DEMO account's credentials and
//! Virtual BLS with HB-BLS-DEMO's; and the agency's webhook receiver on
//! 127.0.0.1:8090 (`booking-sandbox webhook-receiver`), registered as an
//! HB-DEMO webhook endpoint with a secret new at each run, printing each
//! event it receives and checks.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use crate::dist::{self, target_dir};
use crate::process::command;
use crate::servers::{self, Running, DEMO_API_KEY, DEMO_CLIENT_ID, DEMO_GATEWAY_KEY};
use crate::{setup, TaskResult};

/// Where the demo's gateway listens.
pub const GATEWAY_ADDR: &str = "127.0.0.1:8080";
/// Where the demo's sandbox listens.
pub const SANDBOX_ADDR: &str = "127.0.0.1:8081";
/// Where the demo's webhook receiver listens.
pub const RECEIVER_ADDR: &str = "127.0.0.1:8090";
/// The Virtual BLS demo account's client id (seeded in every sandbox).
pub const BLS_DEMO_CLIENT_ID: &str = "HB-BLS-DEMO";
/// The Virtual BLS demo account's API key.
pub const BLS_DEMO_API_KEY: &str = "bls-sandbox-key";

const USAGE: &str = "usage: cargo xtask demo [--fresh]";

/// Builds the widget and the servers, starts the sandbox and then the
/// gateway, prints where they are and waits; Ctrl-C stops both.
pub fn run(args: &[String]) -> TaskResult {
    let fresh = match args {
        [] => false,
        [flag] if flag == "--fresh" => true,
        _ => return Err(USAGE.to_owned()),
    };
    servers::ensure_free(GATEWAY_ADDR, "the gateway")?;
    servers::ensure_free(SANDBOX_ADDR, "the sandbox")?;
    servers::ensure_free(RECEIVER_ADDR, "the webhook receiver")?;
    setup::run()?;
    dist::build()?;
    let servers = dist::build_servers()?;
    let database = database(fresh)?;

    let children: Arc<Mutex<Vec<Running>>> = Arc::default();
    let for_handler = Arc::clone(&children);
    ctrlc::set_handler(move || {
        stop_all(&for_handler);
        std::process::exit(0);
    })
    .map_err(|error| format!("installing the Ctrl-C handler: {error}"))?;

    let secret = webhook_secret()?;
    let receiver = servers::start(
        receiver_command(&servers.sandbox, &secret),
        "webhook-receiver",
    )?;
    let receiver_url = receiver.url().to_owned();
    push(&children, receiver);
    let sandbox = match servers::start(
        sandbox_command(&servers.sandbox, &database, &receiver_url, &secret),
        "sandbox",
    ) {
        Ok(sandbox) => sandbox,
        Err(message) => {
            stop_all(&children);
            return Err(message);
        }
    };
    let sandbox_url = sandbox.url().to_owned();
    push(&children, sandbox);
    let gateway = match servers::start(gateway_command(&servers.gateway, &sandbox_url), "gateway") {
        Ok(gateway) => gateway,
        Err(message) => {
            stop_all(&children);
            return Err(message);
        }
    };
    let gateway_url = gateway.url().to_owned();
    push(&children, gateway);

    println!();
    println!("Booking widget demo");
    println!("  widget:  {gateway_url}/  (the gateway: the widget's files and its /api)");
    println!("  agency:  {gateway_url}/agency.html and {gateway_url}/agency-iframe.html  (embedded in an agency's page, and in iframe mode)");
    println!("  both:    {gateway_url}/agency-both.html  (an agency offering Practical Training and Virtual BLS: the candidate picks one)");
    println!(
        "  sandbox: {sandbox_url}/api/v1 and {sandbox_url}/bls/api/v1  (the Practical Training and Virtual BLS API stand-ins; sandbox/SANDBOX.md)"
    );
    println!("  try:     curl -s -X POST {sandbox_url}/api/v1/auth/token -H 'Content-Type: application/json' -d '{{\"hb_client_id\":\"{DEMO_CLIENT_ID}\",\"api_key\":\"{DEMO_API_KEY}\"}}'");
    println!(
        "  data:    {} (kept between runs; `cargo xtask demo --fresh` starts anew)",
        database.display()
    );
    println!("  webhooks: {receiver_url}/  (the agency's receiver, registered for HB-DEMO: each signed event the sandbox sends is checked and printed below as one JSON line)");
    println!("Press Ctrl-C to stop.");
    loop {
        let mut guard = children.lock().expect("no panics hold the lock");
        let stopped = guard
            .iter_mut()
            .find_map(|child| child.exited().map(|status| (child.name(), status)));
        drop(guard);
        if let Some((name, status)) = stopped {
            stop_all(&children);
            return Err(format!("the demo's {name} stopped ({status})"));
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
}

/// The demo database, `target/demo/sandbox.sqlite3`; removed first when
/// `fresh`, so the sandbox seeds a new one.
fn database(fresh: bool) -> Result<PathBuf, String> {
    let dir = target_dir().join("demo");
    std::fs::create_dir_all(&dir)
        .map_err(|error| format!("creating {}: {error}", dir.display()))?;
    let database = dir.join("sandbox.sqlite3");
    if fresh {
        for suffix in ["", "-wal", "-shm"] {
            let mut file = database.clone().into_os_string();
            file.push(suffix);
            remove_if_present(Path::new(&file))?;
        }
    }
    Ok(database)
}

fn remove_if_present(path: &Path) -> TaskResult {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(format!("removing {}: {error}", path.display())),
    }
}

fn sandbox_command(binary: &Path, database: &Path, receiver_url: &str, secret: &str) -> Command {
    let mut sandbox = command(
        binary.to_str().expect("target path is UTF-8"),
        &[
            "serve",
            "--listen",
            SANDBOX_ADDR,
            "--db",
            database.to_str().expect("target path is UTF-8"),
            "--demo-webhook",
            &format!("{receiver_url}/"),
        ],
    );
    sandbox.env("HBG_DEMO_WEBHOOK_SECRET", secret);
    sandbox
}

fn receiver_command(binary: &Path, secret: &str) -> Command {
    let mut receiver = command(
        binary.to_str().expect("target path is UTF-8"),
        &["webhook-receiver", "--listen", RECEIVER_ADDR],
    );
    receiver.env("TDTA_WEBHOOK_SECRET", secret);
    receiver
}

/// A signing secret new at each run: 24 random bytes, hex.
fn webhook_secret() -> Result<String, String> {
    use std::io::Read;
    let mut bytes = [0u8; 24];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut bytes))
        .map_err(|error| format!("reading /dev/urandom: {error}"))?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

fn gateway_command(binary: &Path, sandbox_url: &str) -> Command {
    let upstream = format!("{sandbox_url}/api/v1");
    let bls_upstream = format!("{sandbox_url}/bls/api/v1");
    let dist_dir = dist::dist_dir();
    let mut gateway = command(
        binary.to_str().expect("target path is UTF-8"),
        &[
            "--listen",
            GATEWAY_ADDR,
            "--static",
            dist_dir.to_str().expect("dist path is UTF-8"),
            "--upstream",
            &upstream,
            "--payment-origins",
            sandbox_url,
            "--pay-options",
            "credits,balance,inv,candidate_pays",
            "--bls-upstream",
            &bls_upstream,
            "--bls-payment-origins",
            sandbox_url,
            "--bls-pay-options",
            "credits,balance,invoice,candidate_pays",
            "--account-name",
            "Northwest Care Staffing",
            "--agency-contact-name",
            "Tom Birch",
            "--agency-contact-email",
            "tom.birch@northwestcare.example",
            "--agency-email",
            "accounts@northwestcare.example",
        ],
    );
    gateway
        .env("HBG_CLIENT_ID", DEMO_CLIENT_ID)
        .env("HBG_API_KEY", DEMO_API_KEY)
        .env("HBG_BLS_CLIENT_ID", BLS_DEMO_CLIENT_ID)
        .env("HBG_BLS_API_KEY", BLS_DEMO_API_KEY)
        .env("HBG_GATEWAY_KEY", DEMO_GATEWAY_KEY);
    gateway
}

fn push(children: &Mutex<Vec<Running>>, child: Running) {
    children
        .lock()
        .expect("no panics hold the lock")
        .push(child);
}

/// Stops every child (dropping a [`Running`] kills its process).
fn stop_all(children: &Mutex<Vec<Running>>) {
    if let Ok(mut guard) = children.lock() {
        guard.clear();
    }
}
