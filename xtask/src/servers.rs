//! Running `booking-sandbox` and `booking-gateway` processes: check a port
//! is free, start a server, wait for its `NAME listening on http://ADDR`
//! line, and stop it when its handle is dropped.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use crate::dist::{self, ServerBinaries};
use crate::process::{command, describe};
use crate::TaskResult;

/// The demo account's client id (seeded in every sandbox).
pub const DEMO_CLIENT_ID: &str = "HB-DEMO";
/// The demo account's API key.
pub const DEMO_API_KEY: &str = "sandbox-key";
/// Key signing the demo gateway's widget sessions. Demo only: it is public,
/// so anyone could forge sessions with it. A real gateway gets its own
/// random key through `HBG_GATEWAY_KEY`.
pub const DEMO_GATEWAY_KEY: &str = "demo-only-gateway-key-public-never-use-in-production";

/// How long a server may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A server process that is listening. Dropping it kills the process.
#[derive(Debug)]
pub struct Running {
    name: &'static str,
    child: Child,
    url: String,
}

impl Running {
    /// `http://ADDR` of the bound address.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The server's name, as in its announcement (`sandbox`, `gateway`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status, if the process has stopped.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Fails with a clear message when `addr` (`HOST:PORT`) cannot be bound,
/// e.g. because another program already listens there.
pub fn ensure_free(addr: &str, what: &str) -> TaskResult {
    match TcpListener::bind(addr) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => Err(format!(
            "{what} cannot listen on {addr}: the port is taken (another `cargo xtask demo`?). \
             Stop whatever uses it and try again."
        )),
        Err(error) => Err(format!("{what} cannot listen on {addr}: {error}")),
    }
}

/// Starts `command` and waits until it prints `NAME listening on
/// http://ADDR`. Its later stdout is passed through; stderr is inherited.
pub fn start(mut command: Command, name: &'static str) -> Result<Running, String> {
    command.stdout(Stdio::piped());
    let description = describe(&command);
    let mut child = command
        .spawn()
        .map_err(|error| format!("could not start `{description}`: {error}"))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let (found, url) = mpsc::channel::<String>();
    let prefix = format!("{name} listening on ");
    std::thread::spawn(move || {
        let mut found = Some(found);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            match line.strip_prefix(&prefix) {
                Some(url) if found.is_some() => {
                    if let Some(found) = found.take() {
                        let _ = found.send(url.trim().to_owned());
                    }
                }
                _ => println!("{line}"),
            }
        }
    });
    let mut running = Running {
        name,
        child,
        url: String::new(),
    };
    match url.recv_timeout(START_TIMEOUT) {
        Ok(url) => {
            running.url = url;
            Ok(running)
        }
        Err(RecvTimeoutError::Disconnected) => {
            let status = running
                .child
                .wait()
                .map_or_else(|error| error.to_string(), |status| status.to_string());
            Err(format!("the {name} stopped before it listened ({status})"))
        }
        Err(RecvTimeoutError::Timeout) => Err(format!(
            "the {name} did not listen within {}s",
            START_TIMEOUT.as_secs()
        )),
    }
}

/// A sandbox in test mode (in memory) and a gateway in front of it allowing
/// every pay option, on free ports.
pub struct TestStack {
    /// The sandbox.
    pub sandbox: Running,
    /// The gateway, serving `dist/`.
    pub gateway: Running,
}

/// The rate limits and per-address caps out of the way: far more requests
/// a minute, and holds from one address, than any test or bench sends (all
/// of whose candidates share 127.0.0.1).
const NO_EFFECTIVE_LIMIT: &str = "1000000";

/// Starts a [`TestStack`] with the binaries `servers`, every rate
/// limit and per-address cap out of the way; `gateway_args` are added to the gateway's flags
/// (e.g. `--allowed-origins`).
pub fn start_test_stack(
    servers: &ServerBinaries,
    gateway_args: &[&str],
) -> Result<TestStack, String> {
    let mut args = vec![
        "--rate-limit",
        NO_EFFECTIVE_LIMIT,
        "--upstream-rate-limit",
        NO_EFFECTIVE_LIMIT,
        "--holds-per-address",
        NO_EFFECTIVE_LIMIT,
        "--queued-per-address",
        NO_EFFECTIVE_LIMIT,
    ];
    args.extend_from_slice(gateway_args);
    start_stack(servers, NO_EFFECTIVE_LIMIT, &args)
}

/// Starts a sandbox (`booking-sandbox` at `sandbox_binary`) in test mode
/// (in memory) allowing `rate_limit` requests a minute per client IP on its
/// API.
pub fn start_sandbox(sandbox_binary: &Path, rate_limit: &str) -> Result<Running, String> {
    let mut sandbox = command(
        sandbox_binary.to_str().expect("target path is UTF-8"),
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--db",
            ":memory:",
            "--test-clock",
            "--rate-limit",
            rate_limit,
        ],
    );
    sandbox.env("RUST_LOG", "warn");
    start(sandbox, "sandbox")
}

fn start_stack(
    servers: &ServerBinaries,
    sandbox_rate_limit: &str,
    gateway_args: &[&str],
) -> Result<TestStack, String> {
    let sandbox = start_sandbox(&servers.sandbox, sandbox_rate_limit)?;
    let gateway = start_gateway(&servers.gateway, &sandbox, gateway_args)?;
    Ok(TestStack { sandbox, gateway })
}

/// Starts a gateway (`booking-gateway` at `gateway_binary`) serving `dist/`
/// in front of `sandbox` with the demo account's credentials, every pay
/// option and `gateway_args` (its defaults otherwise: rate limits and caps
/// included).
pub fn start_gateway(
    gateway_binary: &Path,
    sandbox: &Running,
    gateway_args: &[&str],
) -> Result<Running, String> {
    let gateway_binary = gateway_binary.to_str().expect("target path is UTF-8");
    let upstream = format!("{}/api/v1", sandbox.url());
    let dist_dir = dist::dist_dir();
    let mut args = vec![
        "--listen",
        "127.0.0.1:0",
        "--static",
        dist_dir.to_str().expect("dist path is UTF-8"),
        "--upstream",
        &upstream,
        "--payment-origins",
        sandbox.url(),
        "--pay-options",
        "credits,balance,inv,candidate_pays",
    ];
    args.extend_from_slice(gateway_args);
    let mut gateway = command(gateway_binary, &args);
    gateway
        .env("RUST_LOG", "warn")
        .env("HBG_CLIENT_ID", DEMO_CLIENT_ID)
        .env("HBG_API_KEY", DEMO_API_KEY)
        .env("HBG_GATEWAY_KEY", DEMO_GATEWAY_KEY);
    start(gateway, "gateway")
}

/// A port on 127.0.0.1 that is free right now.
pub fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|error| format!("finding a free port: {error}"))
}
