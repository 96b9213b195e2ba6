//! Tests of [`JwtVerifier::verify`]: every refusal has a token that only
//! that check stops, and each assertion names the exact error, so removing
//! the check turns it into another error or an acceptance.

use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};

use super::jwt::JwtVerifier;
use super::jwt_claims::{MAX_TOKEN_BYTES, MAX_USER_CHARS};
use super::jwt_error::{JwtError, UserProblem};
use super::jwt_test_support::*;
use super::scopes::{Scope, Scopes};
use crate::text::Unsafe;

#[tokio::test]
async fn a_good_token_gives_its_user_scopes_and_expiry() {
    let key = TestKey::ed25519("k1");
    let (v, _dir) = verifier(&[&key]).await;
    let claims = good_claims("alice");
    let ok = v.verify(&key.sign(&claims)).await.unwrap();
    assert_eq!(ok.user, "alice");
    assert_eq!(ok.scopes, Scopes::tools());
    assert_eq!(ok.issuer, ISSUER);
    assert_eq!(ok.expires_ms, claims["exp"].as_i64().unwrap() * 1000);
    // Longest allowed user.
    let long = "u".repeat(MAX_USER_CHARS);
    assert_eq!(v.verify(&key.sign(&good_claims(&long))).await.unwrap().user, long);
}

#[tokio::test]
async fn each_token_reaches_only_its_own_user() {
    let key = TestKey::ed25519("k1");
    let (v, _dir) = verifier(&[&key]).await;
    let alice = key.sign(&good_claims("alice"));
    let bob = key.sign(&good_claims("bob"));
    assert_eq!(v.verify(&alice).await.unwrap().user, "alice");
    assert_eq!(v.verify(&bob).await.unwrap().user, "bob");
    // Alice's signature on claims naming Bob.
    let [header, _, signature]: [&str; 3] = alice.split('.').collect::<Vec<_>>().try_into().unwrap();
    let forged = format!("{header}.{}.{signature}", b64_json(&good_claims("bob")));
    assert_eq!(refused(&v, &forged).await, JwtError::BadSignature);
}

#[tokio::test]
async fn scopes_come_from_a_string_or_an_array_claim() {
    let key = TestKey::ed25519("k1");
    let (mut config, _dir) = file_config(&[&key]);
    config.scope_claim = "scp".into();
    let v = JwtVerifier::new(config).await.unwrap();
    let token = |scp: Value| key.sign(&with(without(good_claims("alice"), "scope"), "scp", scp));
    let list_only = Scopes::parse_lenient("tools:list");
    assert_eq!(
        v.verify(&token(json!(["email", "tools:list"]))).await.unwrap().scopes,
        list_only
    );
    assert_eq!(
        v.verify(&token(json!("tools:list profile"))).await.unwrap().scopes,
        list_only
    );
    let all = v
        .verify(&token(json!(["tools:call", "tools:list"])))
        .await
        .unwrap()
        .scopes;
    assert!(all.allows(Scope::ToolsCall) && all.allows(Scope::ToolsList));
    // The `scope` claim is not read when `scp` is configured.
    let none = v.verify(&key.sign(&good_claims("alice"))).await.unwrap();
    assert!(none.scopes.is_empty());
    for bad in [json!(3), json!(["tools:list", 4]), json!({"tools:list": true})] {
        assert_eq!(refused(&v, &token(bad)).await, JwtError::InvalidClaim("scp".into()));
    }
}

#[tokio::test]
async fn es256_and_rs256_tokens_verify() {
    let ec = TestKey::es256("ec");
    let rsa = TestKey::rs256("rsa");
    let (v, _dir) = verifier(&[&ec, &rsa]).await;
    assert_eq!(
        v.verify(&ec.sign(&good_claims("ec-user"))).await.unwrap().user,
        "ec-user"
    );
    assert_eq!(
        v.verify(&rsa.sign(&good_claims("rsa-user"))).await.unwrap().user,
        "rsa-user"
    );
}

#[tokio::test]
async fn a_signature_by_another_key_is_refused() {
    let key = TestKey::ed25519("k1");
    let impostor = TestKey::ed25519("k1");
    let (v, _dir) = verifier(&[&key]).await;
    assert_eq!(
        refused(&v, &impostor.sign(&good_claims("alice"))).await,
        JwtError::BadSignature
    );
    // Nor does a key the token carries itself count.
    let header = json!({ "alg": "EdDSA", "jwk": impostor.jwk });
    let token = impostor.sign_header(&header, &good_claims("alice"));
    assert_eq!(refused(&v, &token).await, JwtError::BadSignature);
}

#[tokio::test]
async fn unsigned_and_shared_secret_tokens_are_refused() {
    let key = TestKey::ed25519("k1");
    let (v, _dir) = verifier(&[&key]).await;
    let claims = good_claims("alice");
    for alg in ["none", "None", "NONE"] {
        let token = unsigned(&json!({ "alg": alg, "kid": "k1" }), &claims);
        assert_eq!(refused(&v, &token).await, JwtError::Unsigned, "{alg}");
    }
    // The classic confusion: HS256 with the public key as the secret.
    let secret = EncodingKey::from_secret(&key.public_bytes);
    let token = sign_raw(
        &json!({ "alg": "HS256", "kid": "k1" }),
        &claims,
        &secret,
        Algorithm::HS256,
    );
    assert_eq!(
        refused(&v, &token).await,
        JwtError::SharedSecretAlgorithm(Algorithm::HS256)
    );
    let jwk_secret = EncodingKey::from_secret(key.jwk.to_string().as_bytes());
    let token = sign_raw(&json!({ "alg": "HS512" }), &claims, &jwk_secret, Algorithm::HS512);
    assert_eq!(
        refused(&v, &token).await,
        JwtError::SharedSecretAlgorithm(Algorithm::HS512)
    );
    let token = key.sign_header(&json!({ "alg": "XS999", "kid": "k1" }), &claims);
    assert_eq!(refused(&v, &token).await, JwtError::UnknownAlgorithm);
}

#[tokio::test]
async fn the_algorithm_must_be_accepted_and_fit_the_key() {
    let ed = TestKey::ed25519("ed");
    let ec = TestKey::es256("ec");
    let (v, _dir) = verifier(&[&ed, &ec]).await;
    // Signed by the EC key, but naming the Ed25519 key.
    let token = ec.sign_header(&json!({ "alg": "ES256", "kid": "ed" }), &good_claims("alice"));
    assert_eq!(
        refused(&v, &token).await,
        JwtError::AlgorithmKeyMismatch(Algorithm::ES256)
    );
    // ES256 left out of the configuration.
    let (mut config, _dir2) = file_config(&[&ed, &ec]);
    config.algorithms = vec![Algorithm::EdDSA];
    let eddsa_only = JwtVerifier::new(config).await.unwrap();
    let token = ec.sign(&good_claims("alice"));
    assert_eq!(
        refused(&eddsa_only, &token).await,
        JwtError::AlgorithmNotAccepted(Algorithm::ES256)
    );
    assert!(eddsa_only.verify(&ed.sign(&good_claims("alice"))).await.is_ok());
}

#[tokio::test]
async fn the_issuer_must_be_the_configured_one() {
    let key = TestKey::ed25519("k1");
    let (v, _dir) = verifier(&[&key]).await;
    let sign = |claims: Value| key.sign(&claims);
    let other = with(good_claims("alice"), "iss", json!("https://evil.example.test/"));
    assert_eq!(refused(&v, &sign(other)).await, JwtError::WrongIssuer);
    let prefix = with(good_claims("alice"), "iss", json!("https://id.example.test"));
    assert_eq!(refused(&v, &sign(prefix)).await, JwtError::WrongIssuer);
    let missing = without(good_claims("alice"), "iss");
    assert_eq!(refused(&v, &sign(missing)).await, JwtError::MissingClaim("iss".into()));
    let array = with(
        good_claims("alice"),
        "iss",
        json!([ISSUER, "https://evil.example.test/"]),
    );
    assert_eq!(refused(&v, &sign(array)).await, JwtError::InvalidClaim("iss".into()));
}

#[tokio::test]
async fn the_audience_must_contain_this_resource() {
    let key = TestKey::ed25519("k1");
    let (v, _dir) = verifier(&[&key]).await;
    let sign = |aud: Option<Value>| {
        let claims = without(good_claims("alice"), "aud");
        key.sign(&match aud {
            Some(aud) => with(claims, "aud", aud),
            None => claims,
        })
    };
    assert!(
        v.verify(&sign(Some(json!(["https://other.example.test/", AUDIENCE]))))
            .await
            .is_ok()
    );
    for wrong in [
        json!("https://other.example.test/"),
        json!(["https://other.example.test/"]),
        json!([]),
    ] {
        assert_eq!(refused(&v, &sign(Some(wrong))).await, JwtError::WrongAudience);
    }
    assert_eq!(refused(&v, &sign(None)).await, JwtError::MissingClaim("aud".into()));
}

#[tokio::test]
async fn expiry_and_not_before_are_checked_with_leeway() {
    let key = TestKey::ed25519("k1");
    let (v, _dir) = verifier(&[&key]).await;
    let at = |claim: &str, offset: i64| key.sign(&with(good_claims("alice"), claim, json!(now() + offset)));
    assert_eq!(refused(&v, &at("exp", -3600)).await, JwtError::Expired);
    assert_eq!(refused(&v, &at("nbf", 3600)).await, JwtError::NotYetValid);
    // Within the default 30 s leeway.
    assert!(v.verify(&at("exp", -10)).await.is_ok());
    assert!(v.verify(&at("nbf", 10)).await.is_ok());
    let missing = key.sign(&without(good_claims("alice"), "exp"));
    assert_eq!(refused(&v, &missing).await, JwtError::MissingClaim("exp".into()));
    let text = key.sign(&with(good_claims("alice"), "exp", json!("tomorrow")));
    assert_eq!(refused(&v, &text).await, JwtError::MissingClaim("exp".into()));
    let text = key.sign(&with(good_claims("alice"), "nbf", json!("yesterday")));
    assert_eq!(refused(&v, &text).await, JwtError::InvalidClaim("nbf".into()));
    // Without leeway the same tokens are refused.
    let (mut config, _dir2) = file_config(&[&key]);
    config.leeway_s = 0;
    let strict = JwtVerifier::new(config).await.unwrap();
    assert_eq!(refused(&strict, &at("exp", -10)).await, JwtError::Expired);
    assert_eq!(refused(&strict, &at("nbf", 10)).await, JwtError::NotYetValid);
}

#[tokio::test]
async fn keys_are_chosen_by_kid() {
    let k1 = TestKey::ed25519("k1");
    let k2 = TestKey::ed25519("k2");
    let (v, _dir) = verifier(&[&k1, &k2]).await;
    assert_eq!(v.verify(&k2.sign(&good_claims("bob"))).await.unwrap().user, "bob");
    let stranger = TestKey::ed25519("k3");
    assert_eq!(
        refused(&v, &stranger.sign(&good_claims("alice"))).await,
        JwtError::UnknownKey
    );
    let no_kid = k1.sign_header(&json!({ "alg": "EdDSA" }), &good_claims("alice"));
    assert_eq!(refused(&v, &no_kid).await, JwtError::KeyIdRequired(2));
    // With a single key, a token without `kid` uses it.
    let (single, _dir2) = verifier(&[&k1]).await;
    assert_eq!(single.verify(&no_kid).await.unwrap().user, "alice");
}

#[tokio::test]
async fn the_user_claim_must_be_a_sane_string() {
    let key = TestKey::ed25519("k1");
    let (v, _dir) = verifier(&[&key]).await;
    let bad = |problem| JwtError::BadUser {
        claim: "sub".into(),
        problem,
    };
    let cases = [
        (without(good_claims("x"), "sub"), bad(UserProblem::Missing)),
        (good_claims(""), bad(UserProblem::Empty)),
        (with(good_claims("x"), "sub", json!(42)), bad(UserProblem::NotAString)),
        // The library's own reading of `sub` fails first on an array.
        (with(good_claims("x"), "sub", json!(["alice"])), JwtError::Malformed),
        (with(good_claims("x"), "sub", Value::Null), bad(UserProblem::NotAString)),
        (good_claims("alice\u{1b}[2J"), bad(UserProblem::Unsafe(Unsafe::Control))),
        (good_claims("alice\nbob"), bad(UserProblem::Unsafe(Unsafe::Control))),
        (good_claims("alice\u{0}"), bad(UserProblem::Unsafe(Unsafe::Control))),
        (good_claims("alice\u{9b}"), bad(UserProblem::Unsafe(Unsafe::C1Control))),
        (good_claims("ecila\u{202e}"), bad(UserProblem::Unsafe(Unsafe::Bidi))),
        (good_claims(&"u".repeat(MAX_USER_CHARS + 1)), bad(UserProblem::TooLong)),
    ];
    for (claims, expected) in cases {
        assert_eq!(refused(&v, &key.sign(&claims)).await, expected, "{claims}");
    }
}

#[tokio::test]
async fn the_user_claim_is_configurable() {
    let key = TestKey::ed25519("k1");
    let (mut config, _dir) = file_config(&[&key]);
    config.user_claim = "email".into();
    let v = JwtVerifier::new(config).await.unwrap();
    let claims = with(good_claims("subject-123"), "email", json!("alice@example.test"));
    assert_eq!(v.verify(&key.sign(&claims)).await.unwrap().user, "alice@example.test");
    let err = refused(&v, &key.sign(&good_claims("subject-123"))).await;
    assert_eq!(
        err,
        JwtError::BadUser {
            claim: "email".into(),
            problem: UserProblem::Missing
        }
    );
    assert_eq!(err.to_string(), "token's user claim `email` is missing");
    let array = with(good_claims("subject-123"), "email", json!(["alice@example.test"]));
    let err = refused(&v, &key.sign(&array)).await;
    assert_eq!(
        err,
        JwtError::BadUser {
            claim: "email".into(),
            problem: UserProblem::NotAString
        }
    );
}

#[tokio::test]
async fn oversized_and_garbage_tokens_are_refused() {
    let key = TestKey::ed25519("k1");
    let (v, _dir) = verifier(&[&key]).await;
    // A correctly signed token, too long to be read.
    let padded = with(good_claims("alice"), "pad", json!("p".repeat(MAX_TOKEN_BYTES)));
    let long = key.sign(&padded);
    assert_eq!(
        refused(&v, &long).await,
        JwtError::TooLong {
            len: long.len(),
            max: MAX_TOKEN_BYTES
        }
    );
    let good = key.sign(&good_claims("alice"));
    let [h, c, s]: [&str; 3] = good.split('.').collect::<Vec<_>>().try_into().unwrap();
    let garbage = [
        String::new(),
        "garbage".into(),
        format!("{h}.{c}"),
        format!("{h}.{c}.{s}.{s}"),
        format!("{h}!.{c}.{s}"),
        format!("{}.{c}.{s}", b64_json(&json!("not an object"))),
        format!(
            "{}.{c}.{s}",
            base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, "{")
        ),
        format!("{h}.{}.{s}", b64_json(&json!([1, 2]))),
        format!("{h}.{c}!.{s}"),
        format!("{h}.{c}.{s}!"),
    ];
    for token in garbage {
        let err = refused(&v, &token).await;
        assert!(
            matches!(err, JwtError::Malformed | JwtError::BadSignature),
            "{token}: {err}"
        );
    }
    assert_eq!(refused(&v, "a.b.c").await, JwtError::Malformed);
}

#[tokio::test]
async fn critical_header_parameters_are_refused() {
    let key = TestKey::ed25519("k1");
    let (v, _dir) = verifier(&[&key]).await;
    let header = json!({ "alg": "EdDSA", "kid": "k1", "crit": ["exp"], "exp": 1 });
    assert_eq!(
        refused(&v, &key.sign_header(&header, &good_claims("alice"))).await,
        JwtError::CriticalHeader
    );
}
