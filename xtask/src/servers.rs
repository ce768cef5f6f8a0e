//! Running `booking-server` processes: check a port is free, start a
//! server, wait for its `NAME listening on http://ADDR` line, and stop it
//! when its handle is dropped.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use crate::process::describe;
use crate::TaskResult;

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
