//! Bearer tokens issued by a platform's identity provider: JWTs verified
//! against a configured issuer, audience and key set (JWKS), the user taken
//! from a configured claim. healthplug is the OAuth 2.1 resource server;
//! this module decides whether a token is one it may act on, and for whom.
//!
//! Threats answered (the key set's own are in `jwks` and `jwks_fetch`):
//! 1. Forged tokens: the signature must verify with a key of the
//!    configured key set, chosen by the token's `kid` (or the set's only
//!    key when it names none). Keys the token carries itself (`jwk`, `jku`,
//!    `x5u`, `x5c`) are never used.
//! 2. Algorithm confusion: `none` and every HMAC algorithm are refused
//!    before any key is looked at; the `alg` must be in the configured list
//!    and fit the type of the key it names.
//! 3. Tokens for another service (RFC 8707): `aud` must contain the
//!    configured audience; `iss` must equal the configured issuer.
//! 4. Stale tokens: `exp` is required, `nbf` honoured, with a small leeway.
//! 5. Reaching another user's data: the user is one claim of the verified
//!    token, a non-empty string of at most [`MAX_USER_CHARS`](super::MAX_USER_CHARS) characters
//!    without control, bidi or invisible characters; nothing else in the
//!    token or the request names the user.
//! 6. Hammering the identity provider: a `kid` not in the key set causes a
//!    refetch at most once per `unknown-kid-refetch-s`, so a flood of
//!    forged `kid`s costs one fetch per interval.
//! 7. Resource exhaustion and leaks: tokens over [`MAX_TOKEN_BYTES`](super::MAX_TOKEN_BYTES) are
//!    refused unparsed; errors name what is wrong without quoting the token.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use super::jwks::{BadKeySet, KeySet, NoKey};
use super::jwks_fetch::{Fetcher, short};
use super::jwt_claims::{TokenHeader, from_library, read_expiry_ms, read_header, read_scopes, read_user};
use super::jwt_config::{JwksSource, JwtConfig};
use super::jwt_error::JwtError;
use super::scopes::Scopes;

/// A token that passed every check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedJwt {
    /// The user claim's value: whose data the token reaches.
    pub user: String,
    /// Our scopes among the token's (others' scopes are ignored).
    pub scopes: Scopes,
    /// `exp`, in milliseconds since the Unix epoch.
    pub expires_ms: i64,
    /// The issuer (the configured one).
    pub issuer: String,
}

/// Verifies an identity provider's tokens. Share one per service
/// (`Arc<JwtVerifier>`); it is `Send + Sync`.
pub struct JwtVerifier {
    config: JwtConfig,
    fetcher: Fetcher,
    keys: RwLock<Arc<KeySet>>,
    /// When an unknown `kid` last caused a refetch; held during one.
    last_kid_refetch: tokio::sync::Mutex<Option<Instant>>,
}

impl JwtVerifier {
    /// Checks the configuration and loads the key set (reading the file or
    /// fetching the URL).
    pub async fn new(config: JwtConfig) -> Result<JwtVerifier, JwtError> {
        config.check()?;
        let fetcher = match &config.jwks {
            JwksSource::File(path) => Fetcher::file(path.clone()),
            JwksSource::Url(url) => Fetcher::url(url)?,
        };
        let keys = load(&fetcher, &config.algorithms).await?;
        Ok(JwtVerifier {
            config,
            fetcher,
            keys: RwLock::new(Arc::new(keys)),
            last_kid_refetch: tokio::sync::Mutex::new(None),
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &JwtConfig {
        &self.config
    }

    /// The configured issuer (the authorization server to advertise).
    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    /// The configured audience (this resource).
    pub fn audience(&self) -> &str {
        &self.config.audience
    }

    /// Reloads the key set (call it periodically, e.g. every 15 minutes).
    /// On failure the keys in use are kept. Returns the number of usable
    /// keys.
    pub async fn refresh(&self) -> Result<usize, JwtError> {
        let keys = load(&self.fetcher, &self.config.algorithms).await?;
        let count = keys.len();
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
        Ok(count)
    }

    /// Verifies `token` (the bearer credential, without `Bearer `). A `kid`
    /// not in the key set may cause one refetch (see the module doc).
    pub async fn verify(&self, token: &str) -> Result<VerifiedJwt, JwtError> {
        let header = read_header(token, &self.config.algorithms)?;
        let first = self.verify_with(&self.current_keys(), token, &header);
        let Some(kid) = header
            .kid
            .as_deref()
            .filter(|_| matches!(first, Err(JwtError::UnknownKey)))
        else {
            return first;
        };
        if !self.refetch_for_unknown_kid(kid).await? {
            return Err(JwtError::UnknownKey);
        }
        self.verify_with(&self.current_keys(), token, &header)
    }

    /// Lets the next unknown `kid` refetch at once, as if the interval had
    /// passed.
    #[cfg(test)]
    pub(crate) async fn forget_last_kid_refetch(&self) {
        *self.last_kid_refetch.lock().await = None;
    }

    fn current_keys(&self) -> Arc<KeySet> {
        Arc::clone(&self.keys.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Refetches the key set for an unknown `kid` unless one was refetched
    /// within the interval; whether the `kid` is known afterwards. A
    /// refetch that fails still counts, so an outage is not hammered.
    async fn refetch_for_unknown_kid(&self, kid: &str) -> Result<bool, JwtError> {
        let mut last = self.last_kid_refetch.lock().await;
        if self.current_keys().has_kid(kid) {
            return Ok(true);
        }
        let interval = Duration::from_secs(self.config.unknown_kid_refetch_s);
        if last.is_some_and(|at| at.elapsed() < interval) {
            return Ok(false);
        }
        *last = Some(Instant::now());
        self.refresh().await?;
        Ok(self.current_keys().has_kid(kid))
    }

    fn verify_with(&self, keys: &KeySet, token: &str, header: &TokenHeader) -> Result<VerifiedJwt, JwtError> {
        let key = keys.select(header.kid.as_deref(), header.alg).map_err(|e| match e {
            NoKey::UnknownKid => JwtError::UnknownKey,
            NoKey::KidRequired(n) => JwtError::KeyIdRequired(n),
            NoKey::AlgorithmMismatch => JwtError::AlgorithmKeyMismatch(header.alg),
        })?;
        let claims = self.decode(token, key, header.alg)?;
        self.read_claims(&claims)
    }

    /// Checks the signature, `exp`, `nbf` and `aud`; the claims.
    fn decode(&self, token: &str, key: &DecodingKey, alg: Algorithm) -> Result<Map<String, Value>, JwtError> {
        let mut validation = Validation::new(alg);
        validation.set_required_spec_claims(&["exp", "aud"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = self.config.leeway_s;
        validation.validate_aud = true;
        validation.set_audience(&[&self.config.audience]);
        jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation)
            .map(|data| data.claims)
            .map_err(|e| from_library(e.kind()))
    }

    /// Checks `iss` and reads the user, scopes and expiry.
    fn read_claims(&self, claims: &Map<String, Value>) -> Result<VerifiedJwt, JwtError> {
        match claims.get("iss") {
            None => return Err(JwtError::MissingClaim("iss".into())),
            Some(Value::String(iss)) if *iss == self.config.issuer => {}
            Some(Value::String(_)) => return Err(JwtError::WrongIssuer),
            Some(_) => return Err(JwtError::InvalidClaim("iss".into())),
        }
        let user = read_user(claims, &self.config.user_claim)?;
        let scopes = read_scopes(claims, &self.config.scope_claim)?;
        let expires_ms = read_expiry_ms(claims)?;
        Ok(VerifiedJwt {
            user,
            scopes,
            expires_ms,
            issuer: self.config.issuer.clone(),
        })
    }
}

async fn load(fetcher: &Fetcher, accepted: &[Algorithm]) -> Result<KeySet, JwtError> {
    let bytes = fetcher.fetch().await?;
    let keys = KeySet::parse(&bytes, accepted).map_err(|e| match e {
        BadKeySet::NotAKeySet(reason) => JwtError::JwksInvalid(short(&reason)),
        BadKeySet::TooManyKeys(n) => JwtError::JwksInvalid(format!("{n} keys; at most {}", super::jwks::MAX_KEYS)),
        BadKeySet::NoUsableKey { skipped } => JwtError::JwksNoUsableKey { skipped },
    })?;
    tracing::info!(
        usable = keys.len(),
        left_out = keys.skipped(),
        "identity provider key set loaded"
    );
    Ok(keys)
}
