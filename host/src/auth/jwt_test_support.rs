//! Test support: key pairs generated in the test, their public JWKs,
//! tokens signed with them (well-formed or deliberately not), and
//! verifiers reading a key set from a file.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};
use tempfile::TempDir;

use super::jwt::JwtVerifier;
use super::jwt_config::{JwksSource, JwtConfig};
use super::jwt_error::JwtError;

/// The issuer and audience the test configurations use.
pub const ISSUER: &str = "https://id.example.test/";
pub const AUDIENCE: &str = "https://health.example.test/mcp";

/// A private key, its algorithm and its public JWK (with `kid`).
pub struct TestKey {
    pub kid: String,
    pub alg: Algorithm,
    pub encoding: EncodingKey,
    pub jwk: Value,
    /// The raw public key bytes (Ed25519 only): what an attacker would use
    /// as an HMAC secret.
    pub public_bytes: Vec<u8>,
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).unwrap();
    bytes
}

impl TestKey {
    /// A fresh Ed25519 key.
    pub fn ed25519(kid: &str) -> TestKey {
        let seed = random::<32>();
        let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key().to_bytes();
        // PKCS#8 v1 for Ed25519 (RFC 8410): a fixed prefix, then the seed.
        let mut der = hex::decode("302e020100300506032b657004220420").unwrap();
        der.extend_from_slice(&seed);
        TestKey {
            kid: kid.into(),
            alg: Algorithm::EdDSA,
            encoding: EncodingKey::from_ed_der(&der),
            jwk: json!({
                "kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": kid,
                "x": URL_SAFE_NO_PAD.encode(public),
            }),
            public_bytes: public.to_vec(),
        }
    }

    /// A fresh P-256 key.
    pub fn es256(kid: &str) -> TestKey {
        // PKCS#8 for a P-256 key without the optional public key (RFC 5915).
        let mut der = hex::decode("3041020100301306072a8648ce3d020106082a8648ce3d030107042730250201010420").unwrap();
        der.extend_from_slice(&random::<32>());
        let encoding = EncodingKey::from_ec_der(&der);
        Self::with_library_jwk(kid, Algorithm::ES256, encoding)
    }

    /// A 2048-bit RSA key (one per test run: generating it takes a while).
    pub fn rs256(kid: &str) -> TestKey {
        static DER: OnceLock<Vec<u8>> = OnceLock::new();
        let der = DER.get_or_init(|| {
            use rsa::pkcs1::EncodeRsaPrivateKey as _;
            let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
            key.to_pkcs1_der().unwrap().as_bytes().to_vec()
        });
        Self::with_library_jwk(kid, Algorithm::RS256, EncodingKey::from_rsa_der(der))
    }

    fn with_library_jwk(kid: &str, alg: Algorithm, encoding: EncodingKey) -> TestKey {
        let mut jwk = serde_json::to_value(Jwk::from_encoding_key(&encoding, alg).unwrap()).unwrap();
        jwk["kid"] = json!(kid);
        jwk["use"] = json!("sig");
        TestKey {
            kid: kid.into(),
            alg,
            encoding,
            jwk,
            public_bytes: Vec::new(),
        }
    }

    /// A token over `claims` with the header `{alg, kid}`.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_header(&json!({ "alg": self.alg, "kid": self.kid, "typ": "JWT" }), claims)
    }

    /// A token with any header, signed with this key's algorithm.
    pub fn sign_header(&self, header: &Value, claims: &Value) -> String {
        sign_raw(header, claims, &self.encoding, self.alg)
    }
}

/// `base64url(header).base64url(claims).signature`, signed by `key` with `alg`.
pub fn sign_raw(header: &Value, claims: &Value, key: &EncodingKey, alg: Algorithm) -> String {
    let message = format!("{}.{}", b64_json(header), b64_json(claims));
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, alg).unwrap();
    format!("{message}.{signature}")
}

/// `base64url(header).base64url(claims).` with no signature.
pub fn unsigned(header: &Value, claims: &Value) -> String {
    format!("{}.{}.", b64_json(header), b64_json(claims))
}

pub fn b64_json(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// A JWKS document holding these keys' public halves.
pub fn jwks(keys: &[&TestKey]) -> String {
    json!({ "keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>() }).to_string()
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    jsonwebtoken::get_current_timestamp() as i64
}

/// Claims that pass every check, for `user`.
pub fn good_claims(user: &str) -> Value {
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": user,
        "exp": now() + 600,
        "iat": now(),
        "scope": "openid tools:list tools:call",
    })
}

/// `claims` with `key` removed.
pub fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

/// `claims` with `key` set to `value`.
pub fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

/// A configuration reading `keys` from a file in a fresh directory.
pub fn file_config(keys: &[&TestKey]) -> (JwtConfig, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jwks.json");
    std::fs::write(&path, jwks(keys)).unwrap();
    (JwtConfig::new(ISSUER, AUDIENCE, JwksSource::File(path)), dir)
}

pub async fn verifier(keys: &[&TestKey]) -> (JwtVerifier, TempDir) {
    let (config, dir) = file_config(keys);
    (JwtVerifier::new(config).await.unwrap(), dir)
}

/// The error `v` refuses `token` with, checked to be the token's fault and
/// to be one line that does not quote the token.
pub async fn refused(v: &JwtVerifier, token: &str) -> JwtError {
    let err = v.verify(token).await.unwrap_err();
    assert!(err.is_token_problem(), "{err}");
    assert!(!err.to_string().contains('\n'), "{err}");
    for part in token.split('.').filter(|p| p.len() >= 8) {
        assert!(!err.to_string().contains(part), "the message quotes the token: {err}");
    }
    err
}
