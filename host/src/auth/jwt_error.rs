//! Why a token was refused, or why a verifier could not be made.
//!
//! Threat answered here: leaking the credential. Every message is one line
//! and names what is wrong without quoting the token (not even its `kid` or
//! `alg` text: an algorithm is named only when it is one we know), so the
//! message may go to logs and back to the client.

use jsonwebtoken::Algorithm;

use super::jwt_claims::MAX_USER_CHARS;
use crate::text::Unsafe;

/// What a token was refused for, or why the verifier could not be made.
/// Messages are one line, name the problem and never quote the token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// The configuration is unusable.
    #[error("JWT configuration: {0}")]
    Config(String),
    /// The JWKS file could not be read.
    #[error("cannot read the JWKS file {path}: {reason}")]
    JwksFile { path: String, reason: String },
    /// The JWKS URL could not be fetched.
    #[error("cannot fetch the JWKS from {url}: {reason}")]
    JwksFetch { url: String, reason: String },
    /// The key set is not a JWKS.
    #[error("the JWKS is not a valid key set: {0}")]
    JwksInvalid(String),
    /// The key set holds no key usable with the accepted algorithms.
    #[error("the JWKS holds no key usable with the accepted algorithms ({skipped} left out)")]
    JwksNoUsableKey { skipped: usize },
    /// The token is too long to be read.
    #[error("token is {len} bytes; at most {max} are read")]
    TooLong { len: usize, max: usize },
    /// The token is not three base64url parts with a JSON header and claims.
    #[error("token is not a well-formed signed JWT")]
    Malformed,
    /// The token's `alg` is `none`.
    #[error("token is unsigned (`alg` is `none`)")]
    Unsigned,
    /// The token's `alg` is an HMAC algorithm.
    #[error("token uses {0:?}, a shared-secret algorithm, which is never accepted")]
    SharedSecretAlgorithm(Algorithm),
    /// The token's `alg` is not a known algorithm.
    #[error("token's `alg` is not a known signature algorithm")]
    UnknownAlgorithm,
    /// The token's `alg` is not in the configured list.
    #[error("token uses {0:?}, which is not among the accepted algorithms")]
    AlgorithmNotAccepted(Algorithm),
    /// The token's `alg` does not fit the key it names.
    #[error("token uses {0:?}, which does not fit the type of the key it names")]
    AlgorithmKeyMismatch(Algorithm),
    /// The token has a `crit` header parameter.
    #[error("token has a `crit` header parameter, which is not supported")]
    CriticalHeader,
    /// The token's `kid` is not in the key set (after a refetch, if one was
    /// allowed).
    #[error("token names a key (`kid`) that is not in the issuer's key set")]
    UnknownKey,
    /// The token names no key and the key set has several.
    #[error("token names no key (`kid`) and the issuer's key set has {0}")]
    KeyIdRequired(usize),
    /// The signature does not verify.
    #[error("token's signature does not verify")]
    BadSignature,
    /// The issuer's key could not be used.
    #[error("the issuer's key for this token could not be used")]
    KeyUnusable,
    /// `exp` is past (beyond the leeway).
    #[error("token has expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("token is not valid yet (`nbf`)")]
    NotYetValid,
    /// A required claim is missing.
    #[error("token has no `{0}` claim")]
    MissingClaim(String),
    /// A claim has the wrong type or format.
    #[error("token's `{0}` claim has the wrong type or format")]
    InvalidClaim(String),
    /// `iss` is not the configured issuer.
    #[error("token was issued by another issuer")]
    WrongIssuer,
    /// `aud` does not contain the configured audience.
    #[error("token is not issued for this resource (`aud`)")]
    WrongAudience,
    /// The user claim is unusable.
    #[error("token's user claim `{claim}` {problem}")]
    BadUser { claim: String, problem: UserProblem },
}

impl JwtError {
    /// Whether the token itself is at fault (answer 401), rather than the
    /// configuration or the identity provider's key set (answer 5xx).
    pub fn is_token_problem(&self) -> bool {
        !matches!(
            self,
            JwtError::Config(_)
                | JwtError::JwksFile { .. }
                | JwtError::JwksFetch { .. }
                | JwtError::JwksInvalid(_)
                | JwtError::JwksNoUsableKey { .. }
        )
    }
}

/// What is wrong with a user claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserProblem {
    Missing,
    NotAString,
    Empty,
    TooLong,
    Unsafe(Unsafe),
}

impl std::fmt::Display for UserProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UserProblem::Missing => f.write_str("is missing"),
            UserProblem::NotAString => f.write_str("is not a string"),
            UserProblem::Empty => f.write_str("is empty"),
            UserProblem::TooLong => write!(f, "is longer than {MAX_USER_CHARS} characters"),
            UserProblem::Unsafe(kind) => write!(f, "contains {}", kind.describe()),
        }
    }
}
