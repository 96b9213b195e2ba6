//! A token's header and claims, read in the order that keeps work and
//! exposure small: the length and the header are checked before any key is
//! looked at, the claims only after the signature verified.
//!
//! Threats answered here: oversized tokens (refused unparsed), unsigned or
//! HMAC tokens (refused from the header alone), a `crit` extension we would
//! silently ignore, a user claim that is missing, not a string, empty, over
//! [`MAX_USER_CHARS`] characters or holding control, bidi or invisible
//! characters (it becomes a vault user handle and appears in logs), and the
//! library's error texts, which can quote claims (they are mapped to
//! [`JwtError`] variants instead).

use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, AlgorithmFamily};
use serde_json::{Map, Value};

use super::jwt_error::{JwtError, UserProblem};
use super::scopes::Scopes;

/// The longest token read, in bytes.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The longest user claim, in characters (as a vault user handle).
pub const MAX_USER_CHARS: usize = 128;

/// The parts of a token's header read before any key is chosen.
pub(crate) struct TokenHeader {
    pub(crate) alg: Algorithm,
    pub(crate) kid: Option<String>,
}

/// The token's shape and header, checked before any key is looked at.
pub(crate) fn read_header(token: &str, accepted: &[Algorithm]) -> Result<TokenHeader, JwtError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(JwtError::TooLong {
            len: token.len(),
            max: MAX_TOKEN_BYTES,
        });
    }
    let parts: Vec<&str> = token.split('.').collect();
    let [header, _, _] = parts.as_slice() else {
        return Err(JwtError::Malformed);
    };
    #[derive(serde::Deserialize)]
    struct Raw {
        alg: String,
        #[serde(default)]
        kid: Option<String>,
        #[serde(default)]
        crit: Option<Value>,
    }
    let bytes = URL_SAFE_NO_PAD.decode(header).map_err(|_| JwtError::Malformed)?;
    let raw: Raw = serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)?;
    if raw.crit.is_some() {
        return Err(JwtError::CriticalHeader);
    }
    if raw.alg.eq_ignore_ascii_case("none") {
        return Err(JwtError::Unsigned);
    }
    let alg = Algorithm::from_str(&raw.alg).map_err(|_| JwtError::UnknownAlgorithm)?;
    if alg.family() == AlgorithmFamily::Hmac {
        return Err(JwtError::SharedSecretAlgorithm(alg));
    }
    if !accepted.contains(&alg) {
        return Err(JwtError::AlgorithmNotAccepted(alg));
    }
    Ok(TokenHeader { alg, kid: raw.kid })
}

/// The library's verdict in our terms (its messages may quote the token).
pub(crate) fn from_library(kind: &ErrorKind) -> JwtError {
    match kind {
        ErrorKind::InvalidSignature => JwtError::BadSignature,
        ErrorKind::ExpiredSignature => JwtError::Expired,
        ErrorKind::ImmatureSignature => JwtError::NotYetValid,
        ErrorKind::InvalidAudience => JwtError::WrongAudience,
        ErrorKind::MissingRequiredClaim(claim) => JwtError::MissingClaim(spec_claim(claim)),
        ErrorKind::InvalidClaimFormat(claim) => JwtError::InvalidClaim(spec_claim(claim)),
        ErrorKind::InvalidEcdsaKey | ErrorKind::InvalidEddsaKey | ErrorKind::InvalidRsaKey(_) => JwtError::KeyUnusable,
        ErrorKind::InvalidKeyFormat => JwtError::KeyUnusable,
        _ => JwtError::Malformed,
    }
}

/// A registered claim's name, from a fixed list (never the token's text).
fn spec_claim(name: &str) -> String {
    ["exp", "nbf", "aud", "iss", "sub"]
        .into_iter()
        .find(|c| *c == name)
        .unwrap_or("claim")
        .to_string()
}

pub(crate) fn read_user(claims: &Map<String, Value>, claim: &str) -> Result<String, JwtError> {
    let bad = |problem| JwtError::BadUser {
        claim: claim.to_string(),
        problem,
    };
    let user = match claims.get(claim) {
        None => return Err(bad(UserProblem::Missing)),
        Some(Value::String(user)) => user,
        Some(_) => return Err(bad(UserProblem::NotAString)),
    };
    if user.is_empty() {
        return Err(bad(UserProblem::Empty));
    }
    if user.chars().count() > MAX_USER_CHARS {
        return Err(bad(UserProblem::TooLong));
    }
    if let Some((_, _, kind)) = crate::text::first_unsafe(user, false) {
        return Err(bad(UserProblem::Unsafe(kind)));
    }
    Ok(user.clone())
}

/// Our scopes in a space-separated string or an array of strings; none
/// when the claim is absent.
pub(crate) fn read_scopes(claims: &Map<String, Value>, claim: &str) -> Result<Scopes, JwtError> {
    match claims.get(claim) {
        None => Ok(Scopes::default()),
        Some(Value::String(text)) => Ok(Scopes::parse_lenient(text)),
        Some(Value::Array(items)) => {
            let names: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
            let names = names.ok_or_else(|| JwtError::InvalidClaim(claim.to_string()))?;
            Ok(Scopes::parse_lenient(&names.join(" ")))
        }
        Some(_) => Err(JwtError::InvalidClaim(claim.to_string())),
    }
}

/// `exp` in milliseconds (the library has checked it is a number).
pub(crate) fn read_expiry_ms(claims: &Map<String, Value>) -> Result<i64, JwtError> {
    let exp = claims.get("exp").ok_or_else(|| JwtError::MissingClaim("exp".into()))?;
    let seconds = match (exp.as_u64(), exp.as_f64()) {
        (Some(s), _) => i64::try_from(s).unwrap_or(i64::MAX),
        (None, Some(f)) if f.is_finite() && f >= 0.0 => f.round().min(i64::MAX as f64) as i64,
        _ => return Err(JwtError::InvalidClaim("exp".into())),
    };
    Ok(seconds.saturating_mul(1000))
}
