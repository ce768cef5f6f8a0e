//! A server serving in the background of the current Tokio runtime, for
//! tests and tools that start the sandbox or the gateway in-process.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Resolves when a background server is asked to stop.
pub type StopSignal = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A server running in the background. Dropping it stops the server;
/// [`Background::shutdown`] also waits for open requests to finish.
#[derive(Debug)]
pub struct Background {
    local_addr: SocketAddr,
    url: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Background {
    /// Spawns `serve`, which must serve on `local_addr` until the stop
    /// signal it is given resolves.
    pub fn spawn<F>(local_addr: SocketAddr, serve: impl FnOnce(StopSignal) -> F) -> Background
    where
        F: Future<Output = std::io::Result<()>> + Send + 'static,
    {
        let (shutdown, stop) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(Box::pin(async {
            let _ = stop.await;
        })));
        Background {
            local_addr,
            url: format!("http://{local_addr}"),
            shutdown: Some(shutdown),
            task: Some(task),
        }
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://ADDR` of the bound address, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stops accepting connections and waits for open requests to finish.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        match self.task.take() {
            Some(task) => task
                .await
                .map_err(|error| std::io::Error::other(error.to_string()))?,
            None => Ok(()),
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}
