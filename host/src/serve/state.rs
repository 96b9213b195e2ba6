//! What every request of the service shares: the warm `Host` (one vault,
//! one engine, each plugin loaded once), the tool catalog, the fairness
//! gate, the metrics and the configuration; and what the door attaches to
//! a request it lets in: the authenticated `Caller` and, for a tool call,
//! its `Admitted` permits.

use std::sync::Arc;

use super::catalog::Catalog;
use super::config::ServeConfig;
use super::gate::{Admission, Gate};
use super::metrics::Metrics;
use crate::auth::Scopes;
use crate::platform::Host;
use crate::vault::UserRecord;

/// The shared state.
pub struct ServeState {
    /// The host.
    pub host: Arc<Host>,
    /// Tools per plugin.
    pub catalog: Catalog,
    /// Fairness.
    pub gate: Gate,
    /// Metrics.
    pub metrics: Metrics,
    /// Configuration.
    pub config: ServeConfig,
    /// The one user served without credentials (`local-user`).
    pub local: Option<Caller>,
    /// The identity provider's verifier, if one is configured.
    pub jwt: Option<crate::auth::JwtVerifier>,
    /// The address actually bound (port 0 resolved).
    pub bound: std::sync::OnceLock<std::net::SocketAddr>,
}

impl ServeState {
    /// State over `host` with `config`.
    pub fn new(host: Arc<Host>, config: ServeConfig) -> ServeState {
        ServeState {
            gate: Gate::new(&config.limits),
            catalog: Catalog::default(),
            metrics: Metrics::new(),
            host,
            config,
            local: None,
            jwt: None,
            bound: std::sync::OnceLock::new(),
        }
    }

    /// The MCP resource identifier: the public URL, else the bound
    /// address's `/mcp`.
    pub fn resource(&self) -> String {
        match (&self.config.public_url, self.bound.get()) {
            (None, Some(addr)) => format!("http://{addr}/mcp"),
            _ => self.config.resource(),
        }
    }
}

/// How a caller proved who they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credential {
    /// An opaque token issued by `healthplug token create`.
    Token,
    /// A JWT from the configured identity provider.
    Jwt,
    /// None: the one local user of a stdio or `local-user` server.
    Local,
}

/// The authenticated caller of a request.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The user the request acts for.
    pub user: UserRecord,
    /// What it may do.
    pub scopes: Scopes,
    /// How it authenticated.
    pub credential: Credential,
}

/// The permits of a tool call the door admitted (held until the response
/// is sent).
#[derive(Clone, Debug)]
pub struct Admitted(#[expect(dead_code, reason = "held for its Drop, which releases the permits")] pub Arc<Admission>);
