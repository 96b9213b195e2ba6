//! Unit tests of access tokens through the platform API (`tokens.rs`):
//! each proves one rule of the module doc or of `vault/tokens.rs`, on a
//! fresh home.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::*;
use crate::auth::Scope;
use crate::runtime::{Runtime, RuntimeConfig};

/// One runtime for these tests, without the instance pool (no plugin runs).
fn runtime() -> Arc<Runtime> {
    static RUNTIME: OnceLock<Arc<Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            let config = RuntimeConfig {
                pool_slots: 0,
                ..RuntimeConfig::default()
            };
            Arc::new(Runtime::new(config).unwrap())
        })
        .clone()
}

/// A fresh home with users alice and bob.
fn home() -> (tempfile::TempDir, Host) {
    let dir = tempfile::tempdir().unwrap();
    let host = Host::open_with(dir.path(), runtime(), Default::default()).unwrap();
    host.ensure_user("alice").unwrap();
    host.ensure_user("bob").unwrap();
    (dir, host)
}

fn all() -> Scopes {
    Scopes::tools()
}

const DAY: Duration = Duration::from_secs(86_400);

#[test]
fn a_token_authenticates_as_its_user_with_its_scopes() {
    let (_dir, host) = home();
    let list = Scopes::parse_strict("tools:list").unwrap();
    let (a, a_secret) = host.create_token("alice", Some(DAY), &list, Some("laptop")).unwrap();
    let (b, b_secret) = host.create_token("bob", None, &all(), None).unwrap();
    assert!(a_secret.starts_with("hp_") && a_secret.len() == 46, "{a_secret}");
    assert!(is_token_id(&a.id) && a.id != b.id, "{} {}", a.id, b.id);
    assert_eq!((a.user.as_str(), a.status), ("alice", TokenStatus::Active));
    assert_eq!(a.expires_ms, Some(a.created_ms + 86_400_000));
    assert_eq!(a.label.as_deref(), Some("laptop"));

    let grant = host.authenticate_token(&a_secret).unwrap();
    assert_eq!(grant.token_id, a.id);
    assert_eq!(grant.user, host.user("alice").unwrap());
    assert!(grant.scopes.allows(Scope::ToolsList) && !grant.scopes.allows(Scope::ToolsCall));
    assert_eq!(grant.expires_ms, a.expires_ms);

    let grant = host.authenticate_token(&b_secret).unwrap();
    assert_eq!(
        (grant.user.handle.as_str(), grant.scopes, grant.expires_ms),
        ("bob", all(), None)
    );
    // Authenticating wrote nothing: the audit log did not grow.
    let before = host.audit_log(None).unwrap().len();
    host.authenticate_token(&a_secret).unwrap();
    assert_eq!(host.audit_log(None).unwrap().len(), before);
}

#[test]
fn wrong_and_malformed_secrets_are_refused() {
    let (_dir, host) = home();
    let (info, secret) = host.create_token("alice", None, &all(), None).unwrap();
    let other = format!("hp_{}", URL_SAFE_NO_PAD.encode([9u8; 32]));
    assert!(matches!(host.authenticate_token(&other), Err(TokenError::Unknown)));
    // One character changed (keeping the last, which has spare bits).
    let mut chars: Vec<char> = secret.chars().collect();
    chars[10] = if chars[10] == 'A' { 'B' } else { 'A' };
    let flipped: String = chars.into_iter().collect();
    assert!(matches!(host.authenticate_token(&flipped), Err(TokenError::Unknown)));
    for bad in [
        String::new(),
        info.id.clone(),
        format!("Bearer {secret}"),
        format!("{secret}\n"),
        secret[..45].to_string(),
        secret.replace("hp_", "hq_"),
        "eyJhbGciOiJIUzI1NiJ9.e30.sig".into(),
    ] {
        let got = host.authenticate_token(&bad);
        assert!(matches!(got, Err(TokenError::Malformed)), "{bad:?}: {got:?}");
    }
    // The error never repeats what was presented.
    assert!(!TokenError::Malformed.to_string().contains("hp_"));
}

#[test]
fn an_expired_token_is_refused_and_listed_as_expired() {
    let (_dir, host) = home();
    let (info, secret) = host
        .create_token("alice", Some(Duration::from_millis(1)), &all(), None)
        .unwrap();
    std::thread::sleep(Duration::from_millis(20));
    match host.authenticate_token(&secret) {
        Err(TokenError::Expired { token_id }) => assert_eq!(token_id, info.id),
        other => panic!("an expired token authenticated: {other:?}"),
    }
    let listed = host.tokens(Some("alice")).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].status, TokenStatus::Expired);
}

#[test]
fn a_revoked_token_is_refused_and_cannot_be_revoked_again() {
    let (_dir, host) = home();
    let (info, secret) = host.create_token("alice", Some(DAY), &all(), Some("ci")).unwrap();
    let (_, kept) = host.create_token("alice", Some(DAY), &all(), None).unwrap();
    let revoked = host.revoke_token(&info.id).unwrap();
    assert_eq!(revoked.status, TokenStatus::Revoked);
    assert_eq!((revoked.user.as_str(), revoked.label.as_deref()), ("alice", Some("ci")));
    match host.authenticate_token(&secret) {
        Err(TokenError::Revoked { token_id }) => assert_eq!(token_id, info.id),
        other => panic!("a revoked token authenticated: {other:?}"),
    }
    // The other token of the same user is untouched.
    assert_eq!(host.authenticate_token(&kept).unwrap().user.handle, "alice");
    let again = host.revoke_token(&info.id).unwrap_err().to_string();
    assert!(again.contains("already revoked"), "{again}");
    let unknown = host.revoke_token("hpt_00000000").unwrap_err().to_string();
    assert!(unknown.contains("no token hpt_00000000"), "{unknown}");
    let bad = host.revoke_token("hpt_\u{1b}[2J").unwrap_err().to_string();
    assert!(bad.contains("not a token id") && !bad.contains('\u{1b}'), "{bad}");
    let statuses: Vec<TokenStatus> = host.tokens(None).unwrap().iter().map(|t| t.status).collect();
    assert_eq!(statuses, [TokenStatus::Revoked, TokenStatus::Active]);
}

#[test]
fn erasing_the_user_deletes_their_tokens() {
    let (_dir, host) = home();
    let (_, alice) = host.create_token("alice", None, &all(), None).unwrap();
    let (_, bob) = host.create_token("bob", None, &all(), None).unwrap();
    let report = host.erase("alice").unwrap();
    assert_eq!(report.tokens, 1);
    assert!(matches!(host.authenticate_token(&alice), Err(TokenError::Unknown)));
    // A new alice is another user: the old token does not come back.
    host.ensure_user("alice").unwrap();
    assert!(matches!(host.authenticate_token(&alice), Err(TokenError::Unknown)));
    assert!(host.tokens(Some("alice")).unwrap().is_empty());
    assert_eq!(host.authenticate_token(&bob).unwrap().user.handle, "bob");
    let rows: i64 = host
        .vault()
        .sql_for_tests()
        .unwrap()
        .query_row("SELECT COUNT(*) FROM access_tokens", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 1);
}

/// Every file under `dir`, recursively, read whole.
fn files(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn neither_the_secret_nor_the_label_is_in_the_home() {
    let (dir, host) = home();
    let label = "label-canary-3141";
    let (info, secret) = host.create_token("alice", Some(DAY), &all(), Some(label)).unwrap();
    host.authenticate_token(&secret).unwrap();
    host.revoke_token(&info.id).unwrap();
    let body = secret.trim_start_matches("hp_");
    let raw = URL_SAFE_NO_PAD.decode(body).unwrap();
    let mut found = Vec::new();
    files(dir.path(), &mut found);
    assert!(found.iter().any(|(name, _)| name.ends_with("vault.db")), "no vault.db");
    for (name, bytes) in &found {
        for (what, needle) in [
            ("secret", secret.as_bytes()),
            ("its base64 body", body.as_bytes()),
            ("its raw bytes", raw.as_slice()),
            ("the label", label.as_bytes()),
        ] {
            assert!(!contains(bytes, needle), "{what} is in {name}");
        }
    }
    // The audit log names the token and the user's ref, not the secret.
    let log = serde_json::to_string(&host.audit_log(Some("alice")).unwrap()).unwrap();
    assert!(log.contains(&info.id) && log.contains("\"kind\":\"token\""), "{log}");
    assert!(!log.contains(body) && !log.contains(label), "{log}");
    assert!(log.contains(&host.user("alice").unwrap().user_ref), "{log}");
}

#[test]
fn bad_requests_are_refused() {
    let (_dir, host) = home();
    let none = Scopes::parse_strict("").unwrap();
    let refused = |r: Result<(TokenInfo, String), HostError>| r.map(|_| ()).unwrap_err().to_string();
    assert!(refused(host.create_token("alice", None, &none, None)).contains("at least one scope"));
    assert!(refused(host.create_token("carol", None, &all(), None)).contains("no user `carol`"));
    assert!(refused(host.create_token("alice", Some(Duration::ZERO), &all(), None)).contains("longer than zero"));
    assert!(refused(host.create_token("alice", Some(Duration::MAX), &all(), None)).contains("too long"));
    let long = "x".repeat(LABEL_MAX + 1);
    assert!(refused(host.create_token("alice", None, &all(), Some(&long))).contains("at most"));
    assert!(host.tokens(None).unwrap().is_empty(), "a refused request left a token");
    // A label is kept on one line, with controls made visible.
    let (info, _) = host
        .create_token("alice", None, &all(), Some("  a\u{1b}[8m\nb  "))
        .unwrap();
    assert_eq!(info.label.as_deref(), Some("a\\u{1b}[8m\\u{a}b"));
    assert_eq!(host.tokens(None).unwrap()[0].label, info.label);
    let (blank, _) = host.create_token("alice", None, &all(), Some("   ")).unwrap();
    assert_eq!(blank.label, None);
}

#[test]
fn token_info_serialises_without_a_secret() {
    let (_dir, host) = home();
    let (info, secret) = host.create_token("alice", None, &all(), None).unwrap();
    let json = serde_json::to_value(&info).unwrap();
    assert_eq!(json["scopes"], "tools:list tools:call");
    assert_eq!(json["status"], "active");
    assert_eq!(json["user"], "alice");
    assert!(!json.to_string().contains(&secret[3..]));
}
