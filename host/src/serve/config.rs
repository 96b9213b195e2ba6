//! The service's configuration: where it listens, the public identity of
//! its MCP resource (the audience every bearer token must name), which
//! `Host` and `Origin` headers it answers, the limits at the door, and the
//! identity provider it trusts. Read from a TOML file (`serve.toml` in the
//! home directory, or `--config`), then overridden from the command line.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::auth::JwtConfig;

/// The default listening address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";

/// The service configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ServeConfig {
    /// Where to listen.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The URL clients use for the MCP endpoint: the resource identifier
    /// every token's audience must name (RFC 8707). Defaults to
    /// `http://<listen>/mcp`.
    pub public_url: Option<String>,
    /// `Host` header values accepted besides the public URL's and, on a
    /// loopback address, `localhost`, `127.0.0.1` and `[::1]`.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Browser origins allowed to call (`https://app.example:443`); any
    /// other `Origin` header is refused (requests without one pass).
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Serve this one user without credentials: only on a loopback
    /// address, for a local assistant and the conformance suite.
    pub local_user: Option<String>,
    /// The limits at the door.
    #[serde(default)]
    pub limits: DoorLimits,
    /// A platform identity provider whose JWTs are accepted: the claim it
    /// names is the healthplug user handle (users are created by the
    /// platform with those handles).
    pub jwt: Option<JwtConfig>,
}

/// Limits applied before a request reaches a plugin.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct DoorLimits {
    /// The largest request body, bytes.
    pub max_body_bytes: usize,
    /// How long one HTTP request may take, ms.
    pub request_timeout_ms: u64,
    /// Tool calls of one user running at once.
    pub per_user_calls: usize,
    /// Calls of one plugin running at once, across users.
    pub per_plugin_calls: usize,
    /// Tool calls running at once in all.
    pub total_calls: usize,
    /// How long a call may wait for its turn before `429`, ms.
    pub queue_wait_ms: u64,
    /// How long in-flight calls may finish after SIGTERM, ms.
    pub shutdown_grace_ms: u64,
    /// Tools per `tools/list` page.
    pub page_size: usize,
}

impl Default for DoorLimits {
    fn default() -> DoorLimits {
        DoorLimits {
            max_body_bytes: 256 * 1024,
            request_timeout_ms: 30_000,
            per_user_calls: 4,
            per_plugin_calls: 32,
            total_calls: 64,
            queue_wait_ms: 2_000,
            shutdown_grace_ms: 10_000,
            page_size: 100,
        }
    }
}

impl DoorLimits {
    /// The queue wait.
    pub fn queue_wait(&self) -> Duration {
        Duration::from_millis(self.queue_wait_ms)
    }

    /// The per-request deadline.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// The shutdown grace period.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_millis(self.shutdown_grace_ms)
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8787))
}

impl Default for ServeConfig {
    fn default() -> ServeConfig {
        ServeConfig {
            listen: default_listen(),
            public_url: None,
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            local_user: None,
            limits: DoorLimits::default(),
            jwt: None,
        }
    }
}

/// A configuration that cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The file is not valid TOML of this shape.
    #[error("{path}: {reason}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong, with its line.
        reason: String,
    },
    /// The settings contradict each other or the threat model.
    #[error("{0}")]
    Invalid(String),
}

impl ServeConfig {
    /// Reads `path`; a missing file is the default configuration only when
    /// `required` is false.
    pub fn load(path: &Path, required: bool) -> Result<ServeConfig, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => return Ok(ServeConfig::default()),
            Err(e) => {
                return Err(ConfigError::Read {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                });
            }
        };
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.display().to_string(),
            reason: e.to_string().trim().replace('\n', " "),
        })
    }

    /// The MCP resource identifier.
    pub fn resource(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("http://{}/mcp", self.listen),
        }
    }

    /// Checks the settings against each other.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.local_user.is_some() && !self.listen.ip().is_loopback() {
            return Err(ConfigError::Invalid(format!(
                "`local-user` serves without credentials, so it listens only on a loopback address, not {}",
                self.listen
            )));
        }
        if self.local_user.is_some() && self.jwt.is_some() {
            return Err(ConfigError::Invalid(
                "`local-user` and `[jwt]` exclude each other: one user without credentials, or many with".into(),
            ));
        }
        if let Some(jwt) = &self.jwt
            && jwt.audience.trim_end_matches('/') != self.resource()
        {
            return Err(ConfigError::Invalid(format!(
                "[jwt] audience `{}` must be this server's resource `{}` (RFC 8707): tokens for another resource are never accepted",
                crate::text::sanitize_line(&jwt.audience),
                self.resource()
            )));
        }
        let l = &self.limits;
        for (name, value) in [
            ("per-user-calls", l.per_user_calls),
            ("per-plugin-calls", l.per_plugin_calls),
            ("total-calls", l.total_calls),
            ("page-size", l.page_size),
            ("max-body-bytes", l.max_body_bytes),
        ] {
            if value == 0 {
                return Err(ConfigError::Invalid(format!("limits.{name} must be at least 1")));
            }
        }
        let resource = self.resource();
        if !(resource.starts_with("http://") || resource.starts_with("https://")) {
            return Err(ConfigError::Invalid(format!(
                "public-url `{}` must be an http or https URL",
                crate::text::sanitize_line(&resource)
            )));
        }
        Ok(())
    }

    /// The `Host` values the MCP endpoint answers.
    pub fn host_allowlist(&self) -> Vec<String> {
        let mut hosts = self.allowed_hosts.clone();
        if self.listen.ip().is_loopback() {
            hosts.extend(["localhost", "127.0.0.1", "::1", "[::1]"].map(String::from));
        }
        if let Some(authority) = authority_of(&self.resource()) {
            hosts.push(authority.to_string());
            if let Some((host, _port)) = authority.rsplit_once(':')
                && !host.ends_with(']')
            {
                hosts.push(host.to_string());
            }
        }
        hosts.sort();
        hosts.dedup();
        hosts
    }
}

impl ServeConfig {
    /// The browser origins the MCP endpoint answers: the configured ones,
    /// the public URL's own, and on a loopback address the loopback
    /// origins (a local tool's page). Any other `Origin` is refused.
    pub fn origin_allowlist(&self) -> Vec<String> {
        let mut origins = self.allowed_origins.clone();
        let resource = self.resource();
        if let (Some((scheme, _)), Some(authority)) = (resource.split_once("://"), authority_of(&resource)) {
            origins.push(format!("{scheme}://{authority}"));
        }
        if self.listen.ip().is_loopback() {
            origins.extend(["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"].map(String::from));
        }
        origins.sort();
        origins.dedup();
        origins
    }
}

/// The `host[:port]` of an http(s) URL.
fn authority_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&rest[..end]).filter(|a| !a.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_user_is_refused_off_loopback() {
        let mut c = ServeConfig {
            local_user: Some("alice".into()),
            ..ServeConfig::default()
        };
        assert!(c.validate().is_ok());
        c.listen = "0.0.0.0:8787".parse().unwrap();
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("loopback"), "{e}");
    }

    #[test]
    fn the_resource_defaults_to_the_listen_address() {
        let c = ServeConfig::default();
        assert_eq!(c.resource(), "http://127.0.0.1:8787/mcp");
        let c = ServeConfig {
            public_url: Some("https://health.example/mcp/".into()),
            ..ServeConfig::default()
        };
        assert_eq!(c.resource(), "https://health.example/mcp");
        assert!(c.host_allowlist().contains(&"health.example".to_string()));
        assert_eq!(
            c.origin_allowlist(),
            [
                "http://127.0.0.1:*",
                "http://[::1]:*",
                "http://localhost:*",
                "https://health.example"
            ]
        );
        let public = ServeConfig {
            listen: "0.0.0.0:443".parse().unwrap(),
            public_url: Some("https://health.example/mcp".into()),
            ..ServeConfig::default()
        };
        assert_eq!(public.origin_allowlist(), ["https://health.example"]);
        assert!(!public.host_allowlist().contains(&"localhost".to_string()));
    }

    #[test]
    fn unknown_keys_and_zero_limits_are_named() {
        let e = toml::from_str::<ServeConfig>("listn = \"1.2.3.4:1\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("listn"), "{e}");
        let c: ServeConfig = toml::from_str("[limits]\nper-user-calls = 0").unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("per-user-calls"));
    }
}
