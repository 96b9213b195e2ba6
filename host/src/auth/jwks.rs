//! An identity provider's key set (JWKS, RFC 7517) reduced to the keys a
//! token may be verified with, and the choice of one key for a token.
//!
//! Threats answered here:
//! 1. Algorithm confusion: every admitted key carries the algorithms its
//!    type allows (RSA: RS*/PS*; P-256: ES256; P-384: ES384; Ed25519:
//!    EdDSA), narrowed by the key's own `alg` and by the configured list. A
//!    token whose `alg` does not fit the key it names is refused, so a
//!    public key is never used as an HMAC secret. Symmetric (`oct`) keys
//!    are never admitted.
//! 2. Keys meant for something else: a key whose `use` is not `sig`, whose
//!    `key_ops` lack `verify`, or whose `alg` is an encryption algorithm is
//!    left out.
//! 3. Weak or malformed keys: RSA moduli under 2048 bits, EC coordinates or
//!    Ed25519 points of the wrong length (the verifier would otherwise slice
//!    them blindly) and invalid Ed25519 points are left out.
//! 4. A hostile or broken key set: at most [`MAX_KEYS`] keys are read; a
//!    key that cannot be read is skipped (counted) rather than failing the
//!    others.

use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse, RSAKeyParameters,
};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};

/// The most keys a key set may hold.
pub const MAX_KEYS: usize = 100;

/// The smallest RSA modulus admitted, in bytes (2048 bits).
const MIN_RSA_MODULUS_BYTES: usize = 256;

/// A key a token may be verified with.
struct UsableKey {
    kid: Option<String>,
    algorithms: Vec<Algorithm>,
    key: DecodingKey,
}

/// The usable keys of one fetched key set.
pub(crate) struct KeySet {
    keys: Vec<UsableKey>,
    skipped: usize,
}

/// Why no key was chosen for a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoKey {
    /// The token's `kid` names no key in the set.
    UnknownKid,
    /// The token has no `kid` and the set does not hold exactly one key.
    KidRequired(usize),
    /// The named key (or the only key) does not allow the token's `alg`.
    AlgorithmMismatch,
}

/// Why a key set could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BadKeySet {
    /// Not JSON, or no `keys` array.
    NotAKeySet(String),
    /// More than [`MAX_KEYS`] keys.
    TooManyKeys(usize),
    /// No key usable with the accepted algorithms.
    NoUsableKey { skipped: usize },
}

impl KeySet {
    /// Reads a JWKS document, keeping the keys usable with `accepted`.
    pub(crate) fn parse(json: &[u8], accepted: &[Algorithm]) -> Result<KeySet, BadKeySet> {
        #[derive(serde::Deserialize)]
        struct Raw {
            keys: Vec<serde_json::Value>,
        }
        let raw: Raw = serde_json::from_slice(json).map_err(|e| BadKeySet::NotAKeySet(e.to_string()))?;
        if raw.keys.len() > MAX_KEYS {
            return Err(BadKeySet::TooManyKeys(raw.keys.len()));
        }
        let mut set = KeySet {
            keys: Vec::new(),
            skipped: 0,
        };
        for value in raw.keys {
            match admit(value, accepted) {
                Some(key) => set.keys.push(key),
                None => set.skipped += 1,
            }
        }
        if set.keys.is_empty() {
            return Err(BadKeySet::NoUsableKey { skipped: set.skipped });
        }
        Ok(set)
    }

    /// The number of usable keys.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The number of keys left out.
    pub(crate) fn skipped(&self) -> usize {
        self.skipped
    }

    /// Whether a usable key has this `kid`.
    pub(crate) fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    /// The key to verify a token with `kid` and `alg`: the key named by
    /// `kid`, or, when the token names none, the set's only key.
    pub(crate) fn select(&self, kid: Option<&str>, alg: Algorithm) -> Result<&DecodingKey, NoKey> {
        let candidates: Vec<&UsableKey> = match kid {
            Some(kid) => self.keys.iter().filter(|k| k.kid.as_deref() == Some(kid)).collect(),
            None if self.keys.len() == 1 => self.keys.iter().collect(),
            None => return Err(NoKey::KidRequired(self.keys.len())),
        };
        if candidates.is_empty() {
            return Err(NoKey::UnknownKid);
        }
        candidates
            .into_iter()
            .find(|k| k.algorithms.contains(&alg))
            .map(|k| &k.key)
            .ok_or(NoKey::AlgorithmMismatch)
    }
}

/// The key in `value` if it may verify tokens with one of `accepted`.
fn admit(value: serde_json::Value, accepted: &[Algorithm]) -> Option<UsableKey> {
    let jwk: Jwk = serde_json::from_value(value).ok()?;
    if !meant_for_verifying(&jwk) {
        return None;
    }
    let mut algorithms = algorithms_for_key_type(&jwk.algorithm)?;
    if let Some(declared) = jwk.common.key_algorithm {
        let declared = declared_algorithm(declared)?;
        algorithms.retain(|a| *a == declared);
    }
    algorithms.retain(|a| accepted.contains(a));
    if algorithms.is_empty() {
        return None;
    }
    let key = DecodingKey::from_jwk(&jwk).ok()?;
    Some(UsableKey {
        kid: jwk.common.key_id,
        algorithms,
        key,
    })
}

/// Whether the key's `use` and `key_ops` (when given) allow verifying.
fn meant_for_verifying(jwk: &Jwk) -> bool {
    let use_ok = match &jwk.common.public_key_use {
        None | Some(PublicKeyUse::Signature) => true,
        Some(_) => false,
    };
    let ops_ok = match &jwk.common.key_operations {
        None => true,
        Some(ops) => ops.contains(&KeyOperations::Verify),
    };
    use_ok && ops_ok
}

/// The signature algorithm a key's `alg` names, if it names one.
fn declared_algorithm(declared: KeyAlgorithm) -> Option<Algorithm> {
    Algorithm::from_str(&declared.to_string()).ok()
}

/// The algorithms a key of this type and size can verify, or `None` for a
/// key that is symmetric, weak, of an unsupported curve or malformed.
fn algorithms_for_key_type(params: &AlgorithmParameters) -> Option<Vec<Algorithm>> {
    match params {
        AlgorithmParameters::RSA(rsa) => rsa_is_strong(rsa).then(|| AlgorithmFamily::Rsa.algorithms().to_vec()),
        AlgorithmParameters::EllipticCurve(ec) => {
            let (alg, len) = match ec.curve {
                EllipticCurve::P256 => (Algorithm::ES256, 32),
                EllipticCurve::P384 => (Algorithm::ES384, 48),
                EllipticCurve::P521 | EllipticCurve::Ed25519 => return None,
            };
            let fits = decoded_len(&ec.x) == Some(len) && decoded_len(&ec.y) == Some(len);
            fits.then(|| vec![alg])
        }
        AlgorithmParameters::OctetKeyPair(okp) => {
            if okp.curve != EllipticCurve::Ed25519 {
                return None;
            }
            let bytes: [u8; 32] = URL_SAFE_NO_PAD.decode(&okp.x).ok()?.try_into().ok()?;
            ed25519_dalek::VerifyingKey::from_bytes(&bytes).ok()?;
            Some(vec![Algorithm::EdDSA])
        }
        AlgorithmParameters::OctetKey(_) => None,
    }
}

fn rsa_is_strong(rsa: &RSAKeyParameters) -> bool {
    let Ok(n) = URL_SAFE_NO_PAD.decode(&rsa.n) else {
        return false;
    };
    let significant = n.iter().skip_while(|b| **b == 0).count();
    let e_ok = URL_SAFE_NO_PAD
        .decode(&rsa.e)
        .is_ok_and(|e| !e.is_empty() && e.len() <= 8);
    significant >= MIN_RSA_MODULUS_BYTES && e_ok
}

fn decoded_len(b64: &str) -> Option<usize> {
    URL_SAFE_NO_PAD.decode(b64).ok().map(|v| v.len())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::auth::jwt_test_support::TestKey;

    const ALL: [Algorithm; 3] = [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA];

    fn parse(keys: serde_json::Value) -> Result<KeySet, BadKeySet> {
        KeySet::parse(json!({ "keys": keys }).to_string().as_bytes(), &ALL)
    }

    #[test]
    fn keys_are_chosen_by_kid_and_must_fit_the_algorithm() {
        let ed = TestKey::ed25519("ed");
        let ec = TestKey::es256("ec");
        let set = parse(json!([ed.jwk, ec.jwk])).unwrap();
        assert_eq!(set.len(), 2);
        assert!(set.select(Some("ed"), Algorithm::EdDSA).is_ok());
        assert!(set.select(Some("ec"), Algorithm::ES256).is_ok());
        assert_eq!(
            set.select(Some("ed"), Algorithm::ES256).err(),
            Some(NoKey::AlgorithmMismatch)
        );
        assert_eq!(
            set.select(Some("ec"), Algorithm::RS256).err(),
            Some(NoKey::AlgorithmMismatch)
        );
        assert_eq!(
            set.select(Some("other"), Algorithm::EdDSA).err(),
            Some(NoKey::UnknownKid)
        );
        assert_eq!(set.select(None, Algorithm::EdDSA).err(), Some(NoKey::KidRequired(2)));
        let single = parse(json!([ed.jwk])).unwrap();
        assert!(single.select(None, Algorithm::EdDSA).is_ok());
        assert_eq!(
            single.select(None, Algorithm::ES256).err(),
            Some(NoKey::AlgorithmMismatch)
        );
    }

    #[test]
    fn symmetric_keys_are_never_admitted() {
        let ed = TestKey::ed25519("ed");
        let oct = json!({ "kty": "oct", "kid": "hmac", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0" });
        let set = parse(json!([ed.jwk, oct])).unwrap();
        assert_eq!((set.len(), set.skipped()), (1, 1));
        assert!(!set.has_kid("hmac"));
        // Not even when HS256 is (wrongly) among the accepted algorithms.
        let only_oct = json!({ "keys": [oct] }).to_string();
        assert!(matches!(
            KeySet::parse(only_oct.as_bytes(), &[Algorithm::HS256]),
            Err(BadKeySet::NoUsableKey { skipped: 1 })
        ));
    }

    #[test]
    fn keys_meant_for_something_else_are_left_out() {
        let mut enc = TestKey::ed25519("enc").jwk;
        enc["use"] = json!("enc");
        let mut wrap = TestKey::ed25519("wrap").jwk;
        wrap["key_ops"] = json!(["wrapKey"]);
        wrap.as_object_mut().unwrap().remove("use");
        let mut oaep = TestKey::ed25519("oaep").jwk;
        oaep["alg"] = json!("RSA-OAEP");
        let mut es = TestKey::ed25519("es").jwk;
        es["alg"] = json!("ES256");
        let good = TestKey::ed25519("good").jwk;
        let set = parse(json!([enc, wrap, oaep, es, good])).unwrap();
        assert_eq!((set.len(), set.skipped()), (1, 4));
        assert!(set.has_kid("good"));
    }

    #[test]
    fn weak_and_malformed_keys_are_left_out() {
        let short_rsa =
            json!({ "kty": "RSA", "kid": "rsa1024", "n": URL_SAFE_NO_PAD.encode([0xc1u8; 128]), "e": "AQAB" });
        let mut short_ed = TestKey::ed25519("short").jwk;
        short_ed["x"] = json!(URL_SAFE_NO_PAD.encode([7u8; 16]));
        let mut short_ec = TestKey::es256("short-ec").jwk;
        short_ec["y"] = json!(URL_SAFE_NO_PAD.encode([7u8; 31]));
        let p521 = json!({ "kty": "EC", "crv": "P-521", "kid": "p521", "x": "AA", "y": "AA" });
        let unknown = json!({ "kty": "XYZ", "kid": "xyz" });
        let err = parse(json!([short_rsa, short_ed, short_ec, p521, unknown, "not an object"]))
            .err()
            .unwrap();
        assert_eq!(err, BadKeySet::NoUsableKey { skipped: 6 });
        let big_rsa =
            json!({ "kty": "RSA", "kid": "rsa2048", "n": URL_SAFE_NO_PAD.encode([0xc1u8; 256]), "e": "AQAB" });
        assert!(parse(json!([big_rsa])).unwrap().has_kid("rsa2048"));
    }

    #[test]
    fn accepted_algorithms_narrow_the_keys() {
        let ed = TestKey::ed25519("ed");
        let doc = json!({ "keys": [ed.jwk] }).to_string();
        assert!(matches!(
            KeySet::parse(doc.as_bytes(), &[Algorithm::RS256]),
            Err(BadKeySet::NoUsableKey { skipped: 1 })
        ));
    }

    #[test]
    fn a_key_set_that_is_not_one_is_refused() {
        for doc in ["", "[]", "{}", "{\"keys\": 3}", "not json"] {
            assert!(
                matches!(KeySet::parse(doc.as_bytes(), &ALL), Err(BadKeySet::NotAKeySet(_))),
                "{doc}"
            );
        }
        let many: Vec<_> = (0..=MAX_KEYS).map(|_| json!({})).collect();
        assert_eq!(parse(json!(many)).err(), Some(BadKeySet::TooManyKeys(MAX_KEYS + 1)));
    }
}
