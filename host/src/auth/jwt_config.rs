//! The `[jwt]` configuration: which identity provider's tokens are
//! accepted, for which resource, and how they name the user.
//!
//! Threats answered here: a configuration that would weaken every check
//! is refused before any key is loaded: an HMAC algorithm in the list (a
//! shared secret cannot be published in a JWKS, and accepting one invites
//! the classic key-confusion attack), an empty issuer or audience, a leeway
//! over [`MAX_LEEWAY_S`], or no rate limit on refetches for unknown `kid`s.

use std::path::PathBuf;

use jsonwebtoken::{Algorithm, AlgorithmFamily};

use super::jwt_error::JwtError;

/// The largest leeway the configuration may ask for, in seconds.
pub const MAX_LEEWAY_S: u64 = 300;

/// The `[jwt]` section of the service configuration.
///
/// ```toml
/// [jwt]
/// issuer = "https://id.example.com/"
/// audience = "https://health.example.com/mcp"
/// jwks = { url = "https://id.example.com/.well-known/jwks.json" }
/// # jwks = { file = "/etc/healthplug/idp-jwks.json" }
/// user-claim = "sub"
/// scope-claim = "scope"
/// algorithms = ["RS256", "ES256", "EdDSA"]
/// leeway-s = 30
/// unknown-kid-refetch-s = 60
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct JwtConfig {
    /// The `iss` every token must carry, compared exactly.
    pub issuer: String,
    /// The audience every token's `aud` must contain: this resource.
    pub audience: String,
    /// Where the identity provider's keys are.
    pub jwks: JwksSource,
    /// The claim naming the user (default `sub`).
    #[serde(default = "default_user_claim")]
    pub user_claim: String,
    /// The claim holding the scopes: a space-separated string or an array
    /// of strings (default `scope`). A token without it has no scope.
    #[serde(default = "default_scope_claim")]
    pub scope_claim: String,
    /// The signature algorithms accepted (default RS256, ES256, EdDSA).
    /// HMAC algorithms are refused.
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<Algorithm>,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds (default 30, at
    /// most [`MAX_LEEWAY_S`]).
    #[serde(default = "default_leeway_s")]
    pub leeway_s: u64,
    /// The shortest time between two refetches of the key set caused by an
    /// unknown `kid`, in seconds (default 60, at least 1).
    #[serde(default = "default_refetch_s")]
    pub unknown_kid_refetch_s: u64,
}

/// Where the key set is read from.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JwksSource {
    /// A JWKS file (a relative path is relative to the working directory;
    /// the caller resolves it against the configuration file first).
    File(PathBuf),
    /// An `https://` URL (`http://` only to a loopback IP literal).
    Url(String),
}

fn default_user_claim() -> String {
    "sub".into()
}
fn default_scope_claim() -> String {
    "scope".into()
}
fn default_algorithms() -> Vec<Algorithm> {
    vec![Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA]
}
fn default_leeway_s() -> u64 {
    30
}
fn default_refetch_s() -> u64 {
    60
}

impl JwtConfig {
    /// A configuration with the defaults for everything but the issuer,
    /// audience and key set.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>, jwks: JwksSource) -> JwtConfig {
        JwtConfig {
            issuer: issuer.into(),
            audience: audience.into(),
            jwks,
            user_claim: default_user_claim(),
            scope_claim: default_scope_claim(),
            algorithms: default_algorithms(),
            leeway_s: default_leeway_s(),
            unknown_kid_refetch_s: default_refetch_s(),
        }
    }

    pub(crate) fn check(&self) -> Result<(), JwtError> {
        let refuse = |why: &str| Err(JwtError::Config(why.into()));
        if self.issuer.is_empty() || self.audience.is_empty() {
            return refuse("issuer and audience must not be empty");
        }
        if self.user_claim.is_empty() || self.scope_claim.is_empty() {
            return refuse("user-claim and scope-claim must not be empty");
        }
        if self.algorithms.is_empty() {
            return refuse("algorithms must name at least one algorithm");
        }
        if let Some(alg) = self.algorithms.iter().find(|a| a.family() == AlgorithmFamily::Hmac) {
            return Err(JwtError::Config(format!(
                "{alg:?} is a shared-secret algorithm; only public-key algorithms are accepted"
            )));
        }
        if self.leeway_s > MAX_LEEWAY_S {
            return Err(JwtError::Config(format!("leeway-s must be at most {MAX_LEEWAY_S}")));
        }
        if self.unknown_kid_refetch_s == 0 {
            return refuse("unknown-kid-refetch-s must be at least 1");
        }
        Ok(())
    }
}
