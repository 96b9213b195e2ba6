//! `healthplug serve`: one tokio process serving many users over HTTP.
//! Plugins are loaded once and kept warm; invocations run on the blocking
//! pool so the reactor never waits on a plugin. MCP (Streamable HTTP,
//! stateless) is at `/mcp` for every plugin the caller's user enabled, and
//! at `/plugins/<id>/mcp` for one plugin with bare tool names; `/healthz`,
//! `/readyz` and `/metrics` beside it. `healthplug mcp` serves one user
//! over stdio with the same handler.
//!
//! Layering: serve sits beside the CLI at the top; it calls the platform
//! (`Host`) and `auth`, nothing below them.

mod auth;
mod call;
pub mod catalog;
pub mod config;
mod door;
pub mod gate;
mod mcp;
pub mod metrics;
mod render;
mod routes;
mod state;
mod stdio;

use std::path::Path;
use std::sync::Arc;

pub use auth::require;
pub use config::{ConfigError, DoorLimits, ServeConfig};
pub use mcp::McpServer;
pub use render::refusal_sentence;
pub use routes::{Server, start};
pub use state::{Caller, Credential, ServeState};
pub use stdio::{TOKEN_ENV, serve_stdio, stdio_caller};

use crate::error::HostError;
use crate::platform::Host;
use crate::vault::Database;

/// An error starting or running the service.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The home directory could not be opened, or a user is unknown.
    #[error(transparent)]
    Host(#[from] HostError),
    /// The address could not be bound, or the transport failed.
    #[error("{0}")]
    Io(String),
}

/// The configuration file read when none is named: `serve.toml` in the
/// home directory (optional).
pub fn default_config_path(home: &Path) -> std::path::PathBuf {
    home.join("serve.toml")
}

/// Opens `home` and builds the shared state for `config`.
pub async fn prepare(home: &Path, config: ServeConfig) -> Result<Arc<ServeState>, ServeError> {
    prepare_on(home, &Database::from_env().map_err(HostError::from)?, config).await
}

/// Opens `home` on `database` and builds the shared state for `config`.
pub async fn prepare_on(home: &Path, database: &Database, config: ServeConfig) -> Result<Arc<ServeState>, ServeError> {
    config.validate()?;
    let host = Arc::new(Host::open_on(home, database)?);
    with_host(host, config).await
}

/// Builds the shared state for `config` over an open `host`.
pub async fn with_host(host: Arc<Host>, config: ServeConfig) -> Result<Arc<ServeState>, ServeError> {
    config.validate()?;
    let local = match &config.local_user {
        Some(handle) => Some(Caller {
            user: host.user(handle)?,
            scopes: crate::auth::Scopes::all(),
            credential: Credential::Local,
        }),
        None => None,
    };
    let jwt = match &config.jwt {
        Some(jwt) => Some(
            crate::auth::JwtVerifier::new(jwt.clone())
                .await
                .map_err(|e| ConfigError::Invalid(format!("[jwt]: {e}")))?,
        ),
        None => None,
    };
    let mut state = ServeState::new(host, config);
    state.local = local;
    state.jwt = jwt;
    Ok(Arc::new(state))
}
