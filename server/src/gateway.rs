//! The gateway: the agency-side server in front of the widget.

use std::path::PathBuf;

use axum::Router;
use tower_http::services::ServeDir;

/// What the gateway needs to start.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Directory of the built widget.
    pub static_dir: PathBuf,
}

/// The gateway's routes.
pub fn router(config: GatewayConfig) -> Router {
    Router::new().fallback_service(ServeDir::new(config.static_dir))
}
