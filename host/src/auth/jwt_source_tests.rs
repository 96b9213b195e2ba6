//! Tests of where [`JwtVerifier`] gets its keys: the configuration, a
//! file, and a URL served by a one-response-per-connection HTTP server on
//! 127.0.0.1, including key rotation and the rate limit on refetches that
//! unknown `kid`s cause.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use jsonwebtoken::Algorithm;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::jwks_fetch::MAX_JWKS_BYTES;
use super::jwt::JwtVerifier;
use super::jwt_config::{JwksSource, JwtConfig};
use super::jwt_error::JwtError;
use super::jwt_test_support::*;

#[tokio::test]
async fn refresh_replaces_the_keys_and_a_failed_one_keeps_them() {
    let old = TestKey::ed25519("old");
    let new = TestKey::ed25519("new");
    let (config, _dir) = file_config(&[&old]);
    let JwksSource::File(path) = config.jwks.clone() else {
        unreachable!()
    };
    let v = JwtVerifier::new(config).await.unwrap();
    let old_token = old.sign(&good_claims("alice"));
    std::fs::write(&path, "{ not json").unwrap();
    assert!(matches!(v.refresh().await, Err(JwtError::JwksInvalid(_))));
    assert!(v.verify(&old_token).await.is_ok());
    std::fs::write(&path, jwks(&[&new])).unwrap();
    assert_eq!(v.refresh().await.unwrap(), 1);
    assert!(v.verify(&new.sign(&good_claims("bob"))).await.is_ok());
    assert_eq!(refused(&v, &old_token).await, JwtError::UnknownKey);
}

#[tokio::test]
async fn bad_configurations_are_refused() {
    let key = TestKey::ed25519("k1");
    type Change = fn(&mut JwtConfig);
    let cases: [(Change, &str); 7] = [
        (
            |c| c.algorithms = vec![Algorithm::EdDSA, Algorithm::HS256],
            "HS256 is a shared-secret algorithm",
        ),
        (|c| c.algorithms.clear(), "at least one algorithm"),
        (|c| c.leeway_s = 301, "leeway-s"),
        (|c| c.unknown_kid_refetch_s = 0, "unknown-kid-refetch-s"),
        (|c| c.issuer.clear(), "issuer"),
        (|c| c.user_claim.clear(), "user-claim"),
        (
            |c| c.jwks = JwksSource::Url("http://idp.example.test/jwks".into()),
            "loopback",
        ),
    ];
    for (change, expected) in cases {
        let (mut config, _dir) = file_config(&[&key]);
        change(&mut config);
        let err = JwtVerifier::new(config).await.err().unwrap();
        assert!(
            matches!(err, JwtError::Config(_)) && err.to_string().contains(expected),
            "{err}"
        );
        assert!(!err.is_token_problem());
    }
    let missing = JwtConfig::new(ISSUER, AUDIENCE, JwksSource::File("/nonexistent/jwks.json".into()));
    let err = JwtVerifier::new(missing).await.err().unwrap();
    assert!(matches!(err, JwtError::JwksFile { .. }), "{err}");
    let (config, _dir) = file_config(&[]);
    let err = JwtVerifier::new(config).await.err().unwrap();
    assert_eq!(err, JwtError::JwksNoUsableKey { skipped: 0 });
}

#[test]
fn the_configuration_reads_from_toml() {
    #[derive(serde::Deserialize)]
    struct Root {
        auth: Auth,
    }
    #[derive(serde::Deserialize)]
    struct Auth {
        jwt: JwtConfig,
    }
    let full: Root = toml::from_str(
        r#"
        [auth.jwt]
        issuer = "https://id.example.com/"
        audience = "https://health.example.com/mcp"
        jwks = { url = "https://id.example.com/.well-known/jwks.json" }
        user-claim = "email"
        scope-claim = "scp"
        algorithms = ["ES256", "EdDSA"]
        leeway-s = 5
        unknown-kid-refetch-s = 120
        "#,
    )
    .unwrap();
    let jwt = full.auth.jwt;
    assert_eq!(
        jwt.jwks,
        JwksSource::Url("https://id.example.com/.well-known/jwks.json".into())
    );
    assert_eq!((jwt.user_claim.as_str(), jwt.scope_claim.as_str()), ("email", "scp"));
    assert_eq!(jwt.algorithms, vec![Algorithm::ES256, Algorithm::EdDSA]);
    assert_eq!((jwt.leeway_s, jwt.unknown_kid_refetch_s), (5, 120));
    let minimal: Root =
        toml::from_str("[auth.jwt]\nissuer = \"i\"\naudience = \"a\"\njwks.file = \"/etc/healthplug/jwks.json\"\n")
            .unwrap();
    let expected = JwtConfig::new("i", "a", JwksSource::File("/etc/healthplug/jwks.json".into()));
    assert_eq!(minimal.auth.jwt, expected);
    for bad in [
        "jwks.file = \"/x\"\naudiences = \"a\"",
        "jwks = { path = \"/x\" }",
        "jwks.file = \"/x\"\nalgorithms = [\"none\"]",
        "jwks.file = \"/x\"\nleeway-s = -1",
    ] {
        let text = format!("[auth.jwt]\nissuer = \"i\"\naudience = \"a\"\n{bad}\n");
        assert!(toml::from_str::<Root>(&text).is_err(), "{bad}");
    }
}

#[test]
fn the_verifier_can_be_shared_across_tasks() {
    fn shared<T: Send + Sync>() {}
    fn send<T: Send>(_: &T) {}
    shared::<JwtVerifier>();
    let v: Option<&JwtVerifier> = None;
    if let Some(v) = v {
        send(&v.verify("t"));
        send(&v.refresh());
    }
}

/// A JWKS server on 127.0.0.1: answers every connection with the current
/// body and counts the requests.
struct JwksServer {
    url: String,
    body: Arc<Mutex<(u16, String)>>,
    hits: Arc<AtomicUsize>,
}

impl JwksServer {
    async fn start(body: String) -> JwksServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/.well-known/jwks.json", listener.local_addr().unwrap());
        let body = Arc::new(Mutex::new((200, body)));
        let hits = Arc::new(AtomicUsize::new(0));
        let (b, h) = (Arc::clone(&body), Arc::clone(&hits));
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                h.fetch_add(1, Ordering::SeqCst);
                let (status, text) = b.lock().unwrap().clone();
                let head = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    text.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(text.as_bytes()).await;
                let _ = stream.shutdown().await;
            }
        });
        JwksServer { url, body, hits }
    }

    fn serve(&self, status: u16, body: String) {
        *self.body.lock().unwrap() = (status, body);
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    fn config(&self) -> JwtConfig {
        JwtConfig::new(ISSUER, AUDIENCE, JwksSource::Url(self.url.clone()))
    }
}

#[tokio::test]
async fn the_key_set_is_fetched_from_a_url() {
    let key = TestKey::ed25519("k1");
    let server = JwksServer::start(jwks(&[&key])).await;
    let v = JwtVerifier::new(server.config()).await.unwrap();
    assert_eq!(server.hits(), 1);
    assert_eq!(v.verify(&key.sign(&good_claims("alice"))).await.unwrap().user, "alice");
    assert_eq!(server.hits(), 1);
    assert_eq!(v.refresh().await.unwrap(), 1);
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn a_failing_or_oversized_key_set_url_is_an_error() {
    let server = JwksServer::start(String::new()).await;
    server.serve(500, "{}".into());
    let err = JwtVerifier::new(server.config()).await.err().unwrap();
    assert!(
        matches!(&err, JwtError::JwksFetch { reason, .. } if reason.contains("500")),
        "{err}"
    );
    server.serve(
        200,
        format!("{{\"keys\": [], \"pad\": \"{}\"}}", "p".repeat(MAX_JWKS_BYTES)),
    );
    let err = JwtVerifier::new(server.config()).await.err().unwrap();
    assert!(
        matches!(&err, JwtError::JwksFetch { reason, .. } if reason.contains("larger than")),
        "{err}"
    );
}

#[tokio::test]
async fn a_new_kid_causes_one_refetch_and_then_verifies() {
    let old = TestKey::ed25519("2024");
    let new = TestKey::ed25519("2025");
    let server = JwksServer::start(jwks(&[&old])).await;
    let v = JwtVerifier::new(server.config()).await.unwrap();
    server.serve(200, jwks(&[&old, &new]));
    assert_eq!(v.verify(&new.sign(&good_claims("alice"))).await.unwrap().user, "alice");
    assert_eq!(server.hits(), 2);
    assert_eq!(v.verify(&new.sign(&good_claims("bob"))).await.unwrap().user, "bob");
    assert_eq!(v.verify(&old.sign(&good_claims("carol"))).await.unwrap().user, "carol");
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn a_flood_of_unknown_kids_refetches_once_per_interval() {
    let key = TestKey::ed25519("k1");
    let server = JwksServer::start(jwks(&[&key])).await;
    let v = Arc::new(JwtVerifier::new(server.config()).await.unwrap());
    let forged: Vec<String> = (0..50)
        .map(|i| TestKey::ed25519(&format!("forged-{i}")).sign(&good_claims("alice")))
        .collect();
    let tasks: Vec<_> = forged
        .iter()
        .cloned()
        .map(|token| {
            let v = Arc::clone(&v);
            tokio::spawn(async move { v.verify(&token).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), Err(JwtError::UnknownKey));
    }
    assert_eq!(server.hits(), 2, "the initial load and one refetch");
    // A key that really rotated in meanwhile waits for the interval too.
    let rotated = TestKey::ed25519("rotated");
    server.serve(200, jwks(&[&key, &rotated]));
    assert_eq!(
        refused(&v, &rotated.sign(&good_claims("alice"))).await,
        JwtError::UnknownKey
    );
    assert_eq!(server.hits(), 2);
    // Once the interval has passed, the next unknown kid refetches.
    v.forget_last_kid_refetch().await;
    assert!(v.verify(&rotated.sign(&good_claims("alice"))).await.is_ok());
    assert_eq!(server.hits(), 3);
    // A failed refetch counts as one too.
    v.forget_last_kid_refetch().await;
    server.serve(503, String::new());
    assert!(matches!(v.verify(&forged[0]).await, Err(JwtError::JwksFetch { .. })));
    assert_eq!(refused(&v, &forged[1]).await, JwtError::UnknownKey);
    assert_eq!(server.hits(), 4);
    // ... and the keys in use are kept.
    assert!(v.verify(&key.sign(&good_claims("alice"))).await.is_ok());
}

#[tokio::test]
async fn an_https_url_is_fetched_over_tls_only() {
    // A server answering in plain HTTP behind an https:// URL: the TLS
    // handshake fails at once and nothing is taken from it.
    let key = TestKey::ed25519("k1");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}/jwks.json", listener.local_addr().unwrap());
    let body = jwks(&[&key]);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let answer = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}", body.len());
            let _ = stream.write_all(answer.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
    });
    let config = JwtConfig::new(ISSUER, AUDIENCE, JwksSource::Url(url));
    let started = std::time::Instant::now();
    let err = JwtVerifier::new(config).await.err().unwrap();
    assert!(
        matches!(&err, JwtError::JwksFetch { reason, .. } if !reason.contains("within")),
        "{err}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
