//! Access tokens against a local attacker who can write `vault.db` but not
//! read the master key: a token row moved to another user, extended,
//! revived, widened or planted is refused with an integrity error (never
//! accepted, never as someone else), and renumbering users does not hand a
//! token over. Also: a home written before tokens existed opens and issues
//! them.

use std::time::Duration;

use healthplug_host::Host;
use healthplug_host::auth::Scopes;
use healthplug_host::platform::{TokenError, TokenGrant};
use healthplug_tests::{TestHome, shared_runtime};
use sha2::{Digest, Sha256};

fn db(home: &TestHome) -> anyhow::Result<rusqlite::Connection> {
    Ok(rusqlite::Connection::open(home.path().join("vault.db"))?)
}

/// A home with alice and bob, and a token of alice's (its id and secret).
fn alice_and_bob(scopes: &str, expires: Option<Duration>) -> anyhow::Result<(TestHome, String, String)> {
    let home = TestHome::new()?;
    home.host.ensure_user("alice")?;
    home.host.ensure_user("bob")?;
    let (info, secret) = home
        .host
        .create_token("alice", expires, &Scopes::parse_strict(scopes)?, Some("laptop"))?;
    Ok((home, info.id, secret))
}

/// Asserts `result` is an integrity refusal of the row of token `id`.
fn refused(result: Result<TokenGrant, TokenError>, id: &str) -> anyhow::Result<()> {
    match result {
        Err(TokenError::Integrity(e)) => {
            anyhow::ensure!(e.row.starts_with(&format!("access_tokens(token {id})")), "{e}");
            Ok(())
        }
        Ok(grant) => anyhow::bail!("an altered token authenticated as {}", grant.user.handle),
        Err(other) => anyhow::bail!("an altered token was refused for another reason: {other}"),
    }
}

/// The listing refuses the altered row too.
fn listing_refused(host: &Host, id: &str) -> anyhow::Result<()> {
    match host.tokens(None) {
        Ok(list) => anyhow::bail!("an altered token row was listed: {list:?}"),
        Err(e) => {
            let text = e.to_string();
            anyhow::ensure!(
                text.contains(&format!(
                    "vault row access_tokens(token {id}) failed its integrity check"
                )),
                "{text}"
            );
            Ok(())
        }
    }
}

fn user_id(home: &TestHome, handle: &str) -> anyhow::Result<i64> {
    Ok(home.host.user(handle)?.id)
}

#[test]
fn a_token_moved_to_another_user_is_refused() -> anyhow::Result<()> {
    let (home, id, secret) = alice_and_bob("tools:list tools:call", None)?;
    assert_eq!(home.host.authenticate_token(&secret)?.user.handle, "alice");
    let bob = user_id(&home, "bob")?;
    let conn = db(&home)?;
    assert_eq!(conn.execute("UPDATE access_tokens SET user_id = ?1", [bob])?, 1);
    refused(home.host.authenticate_token(&secret), &id)?;
    listing_refused(&home.host, &id)?;
    // Moving the user ref along with the id does not help.
    conn.execute(
        "UPDATE access_tokens SET user_ref = (SELECT ref FROM users WHERE id = ?1)",
        [bob],
    )?;
    refused(home.host.authenticate_token(&secret), &id)
}

#[test]
fn renumbered_users_do_not_hand_a_token_over() -> anyhow::Result<()> {
    let (home, id, secret) = alice_and_bob("tools:call", None)?;
    let (alice, bob) = (user_id(&home, "alice")?, user_id(&home, "bob")?);
    // The token row stays as issued (its MAC holds); the users swap ids.
    db(&home)?.execute_batch(&format!(
        "PRAGMA foreign_keys = OFF;
         UPDATE users SET id = -1 WHERE id = {alice};
         UPDATE users SET id = {alice} WHERE id = {bob};
         UPDATE users SET id = {bob} WHERE id = -1;"
    ))?;
    assert_eq!(user_id(&home, "bob")?, alice, "the swap did not happen");
    refused(home.host.authenticate_token(&secret), &id)
}

#[test]
fn an_extended_revived_or_widened_token_is_refused() -> anyhow::Result<()> {
    // An expired token given a later expiry, or none.
    let (home, id, secret) = alice_and_bob("tools:list", Some(Duration::from_millis(1)))?;
    std::thread::sleep(Duration::from_millis(20));
    assert!(matches!(
        home.host.authenticate_token(&secret),
        Err(TokenError::Expired { .. })
    ));
    let conn = db(&home)?;
    conn.execute("UPDATE access_tokens SET expires_ms = expires_ms + 86400000000", [])?;
    refused(home.host.authenticate_token(&secret), &id)?;
    conn.execute("UPDATE access_tokens SET expires_ms = NULL", [])?;
    refused(home.host.authenticate_token(&secret), &id)?;

    // A revoked token revived.
    let (home, id, secret) = alice_and_bob("tools:list", None)?;
    home.host.revoke_token(&id)?;
    db(&home)?.execute("UPDATE access_tokens SET revoked_ms = NULL", [])?;
    refused(home.host.authenticate_token(&secret), &id)?;
    listing_refused(&home.host, &id)?;

    // A token's scopes widened.
    let (home, id, secret) = alice_and_bob("tools:list", None)?;
    db(&home)?.execute("UPDATE access_tokens SET scopes = 'tools:list tools:call'", [])?;
    refused(home.host.authenticate_token(&secret), &id)
}

/// HMAC-SHA256 (RFC 2104) of `data` under a key of at most 64 bytes.
fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    block[..key.len()].copy_from_slice(key);
    let inner = Sha256::new()
        .chain_update(block.map(|b| b ^ 0x36))
        .chain_update(data)
        .finalize();
    Sha256::new()
        .chain_update(block.map(|b| b ^ 0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// Unpadded base64url.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// The key healthplug hashes token secrets with, from the master key: an
/// attacker stronger than the one this file is about.
fn token_hash_key(home: &TestHome) -> anyhow::Result<[u8; 32]> {
    let text = match std::env::var("HEALTHPLUG_MASTER_KEY") {
        Ok(text) => text,
        Err(_) => std::fs::read_to_string(home.path().join("master.key"))?,
    };
    let master = hex::decode(text.trim())?;
    Ok(hmac(&master, b"healthplug access token v1"))
}

/// Plants a token row of bob's whose secret hash is `hash`, with the MAC
/// of alice's honest row copied over.
fn plant(home: &TestHome, id: &str, hash: &[u8]) -> anyhow::Result<()> {
    let bob = user_id(home, "bob")?;
    let n = db(home)?.execute(
        "INSERT INTO access_tokens
           (id, user_id, user_ref, secret_hash, scopes, label, created_ms, expires_ms, revoked_ms, mac)
         SELECT ?1, ?2, (SELECT ref FROM users WHERE id = ?2), ?3, scopes, NULL, created_ms, NULL, NULL, mac
         FROM access_tokens ORDER BY rowid LIMIT 1",
        rusqlite::params![id, bob, hash],
    )?;
    anyhow::ensure!(n == 1, "nothing planted");
    Ok(())
}

#[test]
fn a_planted_token_row_is_refused() -> anyhow::Result<()> {
    let (home, _, _) = alice_and_bob("tools:list tools:call", None)?;
    let raw = [0x42u8; 32];
    let secret = format!("hp_{}", base64url(&raw));
    assert_eq!(secret.len(), 46, "{secret}");

    // Hashed with plain sha256: the lookup does not even find it.
    plant(&home, "hpt_5a256000", &Sha256::digest(raw))?;
    let got = home.host.authenticate_token(&secret);
    assert!(matches!(got, Err(TokenError::Unknown)), "{got:?}");

    // Hashed as healthplug does (the lookup finds it), but without a MAC
    // of its own: refused.
    let hash = hmac(&token_hash_key(&home)?, &raw);
    plant(&home, "hpt_f0f0f0f0", &hash)?;
    refused(home.host.authenticate_token(&secret), "hpt_f0f0f0f0")?;
    db(&home)?.execute("UPDATE access_tokens SET mac = NULL WHERE id = 'hpt_f0f0f0f0'", [])?;
    refused(home.host.authenticate_token(&secret), "hpt_f0f0f0f0")
}

#[test]
fn a_schema_rewind_does_not_bless_an_altered_token() -> anyhow::Result<()> {
    let (home, id, secret) = alice_and_bob("tools:call", None)?;
    let bob = user_id(&home, "bob")?;
    // Altered, its MAC cleared, and the schema record set back so that the
    // next open "upgrades" the vault and MACs rows that have none.
    db(&home)?.execute_batch(&format!(
        "UPDATE access_tokens SET user_id = {bob}, user_ref = (SELECT ref FROM users WHERE id = {bob}), mac = NULL;
         UPDATE meta SET value = '2' WHERE key = 'schema';"
    ))?;
    let reopened = match Host::open_with(home.path(), shared_runtime(), Default::default()) {
        Ok(host) => host,
        // Refusing to open is a refusal too.
        Err(_) => return Ok(()),
    };
    refused(reopened.authenticate_token(&secret), &id)
}

#[test]
fn a_home_from_before_tokens_opens_and_issues_them() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    home.host.ensure_user("alice")?;
    let conn = db(&home)?;
    conn.execute_batch("DROP TABLE access_tokens;")?;
    let schema: String = conn.query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| r.get(0))?;
    drop(conn);

    let host = Host::open_with(home.path(), shared_runtime(), Default::default())?;
    let (info, secret) = host.create_token("alice", None, &Scopes::all(), None)?;
    assert_eq!(host.authenticate_token(&secret)?.token_id, info.id);
    let after: String = db(&home)?.query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| r.get(0))?;
    assert_eq!(after, schema, "the schema version changed");
    let report = host.verify_audit()?;
    assert!(report.ok(), "{report:?}");
    Ok(())
}
