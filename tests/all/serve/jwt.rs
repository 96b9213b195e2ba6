//! A platform's identity provider at the door: JWTs signed with a key
//! generated here, published as a JWKS file. Only a token for this
//! resource, from the configured issuer, unexpired, naming an existing
//! user, gets in, and it acts for that user only, with its scopes.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use healthplug_host::auth::{JwksSource, JwtConfig};
use healthplug_host::serve::ServeConfig;
use healthplug_tests::serve::{call_body, list_body};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use super::World;

const ISSUER: &str = "https://id.example.test/";
const RESOURCE: &str = "https://health.example.test/mcp";

struct Idp {
    key: EncodingKey,
    _dir: tempfile::TempDir,
    jwks: std::path::PathBuf,
}

impl Idp {
    fn new() -> Idp {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).unwrap();
        let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key().to_bytes();
        // PKCS#8 v1 for Ed25519 (RFC 8410): a fixed prefix, then the seed.
        let mut der = hex::decode("302e020100300506032b657004220420").unwrap();
        der.extend_from_slice(&seed);
        let dir = tempfile::tempdir().unwrap();
        let jwks = dir.path().join("jwks.json");
        let set = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": "k1",
            "x": URL_SAFE_NO_PAD.encode(public)}]});
        std::fs::write(&jwks, set.to_string()).unwrap();
        Idp {
            key: EncodingKey::from_ed_der(&der),
            _dir: dir,
            jwks,
        }
    }

    fn token(&self, claims: Value) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some("k1".into());
        jsonwebtoken::encode(&header, &claims, &self.key).unwrap()
    }

    fn claims(&self, sub: &str) -> Value {
        let now = healthplug_tests::now_ms() / 1000;
        json!({"iss": ISSUER, "aud": RESOURCE, "sub": sub, "exp": now + 600, "iat": now, "scope": "tools:list tools:call"})
    }

    fn config(&self) -> ServeConfig {
        ServeConfig {
            public_url: Some(RESOURCE.into()),
            jwt: Some(JwtConfig::new(ISSUER, RESOURCE, JwksSource::File(self.jwks.clone()))),
            ..ServeConfig::default()
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identity_providers_token_acts_for_its_user_only() {
    let world = World::new();
    let idp = Idp::new();
    let served = world.serve_with(idp.config()).await;
    let alice = format!("Bearer {}", idp.token(idp.claims("alice")));
    let (status, _, body) = served
        .post("/mcp", &[("authorization", &alice)], &list_body())
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("conformance.steps-total"), "{body}");
    let (_, _, body) = served
        .post(
            "/mcp",
            &[("authorization", &alice)],
            &call_body("conformance.steps-total", json!({"days": 3})),
        )
        .await
        .unwrap();
    assert!(body.contains("4111"), "{body}");
    let bob = format!("Bearer {}", idp.token(idp.claims("bob")));
    let (_, _, body) = served
        .post("/mcp", &[("authorization", &bob)], &list_body())
        .await
        .unwrap();
    assert!(!body.contains("conformance."), "{body}");
    // The metadata names the identity provider.
    let doc: Value = reqwest::get(format!("{}/.well-known/oauth-protected-resource/mcp", served.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["authorization_servers"], json!([ISSUER]));
    assert_eq!(doc["resource"], RESOURCE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_for_another_resource_issuer_or_user_is_refused() {
    let world = World::new();
    let idp = Idp::new();
    let served = world.serve_with(idp.config()).await;
    let now = healthplug_tests::now_ms() / 1000;
    let mut cases = Vec::new();
    for (field, value) in [
        ("aud", json!("https://other.example/mcp")),
        ("iss", json!("https://evil.example/")),
        ("exp", json!(now - 3600)),
        ("sub", json!("mallory")),
        ("sub", json!("alice\u{202e}")),
    ] {
        let mut claims = idp.claims("alice");
        claims[field] = value;
        cases.push((field, idp.token(claims)));
    }
    // Another key with the same kid.
    let forger = Idp::new();
    cases.push(("key", forger.token(forger.claims("alice"))));
    for (what, token) in cases {
        let auth = format!("Bearer {token}");
        let (status, headers, body) = served
            .post("/mcp", &[("authorization", &auth)], &list_body())
            .await
            .unwrap();
        assert_eq!(status, 401, "{what}: {body}");
        assert!(
            headers["www-authenticate"].to_str().unwrap().contains("invalid_token"),
            "{what}"
        );
        assert!(!body.contains(&token), "{what}: a token is never echoed");
    }
    // A list-only token is 403 on a call.
    let mut claims = idp.claims("alice");
    claims["scope"] = json!("tools:list openid");
    let auth = format!("Bearer {}", idp.token(claims));
    let (status, _, _) = served
        .post(
            "/mcp",
            &[("authorization", &auth)],
            &call_body("conformance.steps-total", json!({})),
        )
        .await
        .unwrap();
    assert_eq!(status, 403);
}
