//! The storage trait's contract as tests every backend runs: `run_all`
//! takes a backend (how to open a vault on it, how to alter a row behind
//! healthplug's back) and checks what `store.rs` promises, attacker
//! first: an altered grant is refused, a failed transaction leaves
//! nothing, staged samples stay invisible, sealed data stays sealed. The
//! SQLite backend runs it below; another backend adds one `#[test]` that
//! calls `run_all` with its own `Backend`.

use std::path::Path;

use anyhow::Result;

use super::{AuditEvent, AuditKind, NewSample, Origin, Vault};
use crate::consent::{Capability, CapabilityScope, Fields, Granularity, UserGrant};
use crate::registry::DataType;

/// A backend under test.
pub(crate) struct Backend {
    /// Opens (creating) a vault in a fresh home directory.
    pub open: fn(&Path) -> Result<Vault>,
    /// Runs one statement against the database as someone with write
    /// access to it but not the master key; how many rows it changed.
    pub tamper: fn(&Vault, &str) -> Result<usize>,
}

/// Runs every contract test against `backend`.
pub(crate) fn run_all(backend: &Backend) -> Result<()> {
    versions_move_with_every_grant_and_revoke(backend)?;
    a_failed_write_leaves_nothing(backend)?;
    staged_samples_stay_invisible_until_committed(backend)?;
    storage_round_trips_within_one_user_and_plugin(backend)?;
    an_altered_grant_is_refused(backend)?;
    chunks_are_found_by_day_and_stay_sealed(backend)?;
    tokens_and_sessions_are_found_by_hash_only(backend)?;
    an_erased_user_leaves_no_row(backend)?;
    Ok(())
}

fn fresh(backend: &Backend) -> Result<(tempfile::TempDir, Vault, i64)> {
    let dir = tempfile::tempdir()?;
    let vault = (backend.open)(dir.path())?;
    let (user, _) = vault.ensure_user("ann")?;
    Ok((dir, vault, user.id))
}

fn grant(ty: DataType, now: i64) -> UserGrant {
    UserGrant {
        data_type: ty,
        read: true,
        write: true,
        fields: Fields::DEFAULT,
        days: Some(30),
        since_ms: None,
        granularity: Granularity::Raw,
        until_ms: None,
        purpose: "coaching".into(),
        granted_ms: now,
        revoked_ms: None,
    }
}

/// A heart-rate sample at `start` with a value no encoding of the rest of
/// the row contains by chance.
fn sample(start: i64) -> NewSample {
    NewSample {
        data_type: DataType::from_id("heart-rate").unwrap_or_else(|| unreachable!()),
        start_ms: start,
        end_ms: start,
        value: Some(1234.5678),
        unit: "/min".into(),
        coding: None,
        source_name: Some("CANARY-SOURCE".into()),
        device: None,
        metadata: None,
        notes: None,
        original_value: None,
        original_unit: None,
    }
}

fn origin() -> Origin {
    Origin {
        id: "suite".into(),
        digest: None,
    }
}

fn versions_move_with_every_grant_and_revoke(backend: &Backend) -> Result<()> {
    let (_dir, vault, user) = fresh(backend)?;
    let steps = DataType::from_id("steps").unwrap_or_else(|| unreachable!());
    let version = |v: &Vault| v.read(|s| s.consent_version(user, "p"));
    let v0 = version(&vault)?;
    vault.write(|tx| tx.put_consents(user, "p", &[grant(steps, 1)]))?;
    let v1 = version(&vault)?;
    assert_ne!(v0, v1, "a grant moves the version");
    assert_eq!(vault.read(|s| s.consent_grants(user, "p"))?, vec![grant(steps, 1)]);
    assert!(
        vault.read(|s| s.consent_grants(user, "other"))?.is_empty(),
        "another plugin sees nothing"
    );
    let scope = CapabilityScope::Storage {
        max_bytes: 100,
        max_keys: 3,
    };
    vault.write(|tx| tx.put_capability(user, "p", &scope, 2))?;
    let v2 = version(&vault)?;
    assert_ne!(v1, v2, "a capability grant moves the version");
    assert_eq!(
        vault.read(|s| s.active_capability(user, "p", Capability::Storage))?,
        Some(scope)
    );
    let revoked = vault.write(|tx| tx.revoke_consents(user, "p", None, 3))?;
    assert_eq!(revoked, vec![steps]);
    let caps = vault.write(|tx| tx.revoke_capabilities(user, "p", None, 3))?;
    assert_eq!(caps, vec![Capability::Storage]);
    assert_ne!(version(&vault)?, v2, "a revoke moves the version");
    assert_eq!(
        vault.read(|s| s.active_capability(user, "p", Capability::Storage))?,
        None
    );
    assert!(
        vault
            .read(|s| s.consent_grants(user, "p"))?
            .iter()
            .all(|g| g.revoked_ms == Some(3))
    );
    Ok(())
}

fn a_failed_write_leaves_nothing(backend: &Backend) -> Result<()> {
    let (_dir, vault, user) = fresh(backend)?;
    let key = vault.user_key(user)?;
    let steps = DataType::from_id("steps").unwrap_or_else(|| unreachable!());
    let before = vault.read(|s| s.consent_version(user, "p"))?;
    let failed: Result<()> = vault.write(|tx| {
        tx.put_consents(user, "p", &[grant(steps, 1)])?;
        tx.kv_put(user, "p", &key, "k", Some(b"v"))?;
        tx.audit_append(&AuditEvent::new(AuditKind::Grant).user("ann-ref").outcome("ok"))?;
        tx.stage_samples("inv-1", user, &key, &origin(), &[sample(86_400_000)])?;
        anyhow::bail!("the caller gives up")
    });
    assert!(failed.is_err());
    let store = vault.store()?;
    assert_eq!(store.consent_version(user, "p")?, before);
    assert!(store.consent_grants(user, "p")?.is_empty());
    assert_eq!(store.kv_get(user, "p", &key, "k")?, None);
    assert!(store.audit_list(Some("ann-ref"))?.is_empty());
    assert_eq!(store.discard_staged("inv-1")?, 0, "nothing was staged");
    Ok(())
}

fn staged_samples_stay_invisible_until_committed(backend: &Backend) -> Result<()> {
    let (_dir, vault, user) = fresh(backend)?;
    let key = vault.user_key(user)?;
    let hr = DataType::from_id("heart-rate").unwrap_or_else(|| unreachable!());
    let batch: Vec<NewSample> = (0..5).map(|i| sample(86_400_000 + i * 60_000)).collect();
    vault.write(|tx| tx.stage_samples("inv-a", user, &key, &origin(), &batch))?;
    let store = vault.store()?;
    assert_eq!(
        store.chunk_next_day(user, hr.code(), (0, 10))?,
        None,
        "staged is not stored"
    );
    let committed = vault.write(|tx| tx.commit_staged("inv-a", user, &key))?;
    assert_eq!(committed, vec![(hr, 5)]);
    assert_eq!(store.chunk_next_day(user, hr.code(), (0, 10))?, Some(1));
    // The same samples again are duplicates; a discarded batch never lands.
    vault.write(|tx| tx.stage_samples("inv-b", user, &key, &origin(), &batch))?;
    let again = vault.write(|tx| tx.commit_staged("inv-b", user, &key))?;
    assert!(again.iter().all(|(_, n)| *n == 0), "duplicates stored: {again:?}");
    let later = [sample(5 * 86_400_000)];
    vault.write(|tx| tx.stage_samples("inv-c", user, &key, &origin(), &later))?;
    assert!(store.discard_staged("inv-c")? > 0);
    assert_eq!(vault.write(|tx| tx.commit_staged("inv-c", user, &key))?, Vec::new());
    assert_eq!(store.chunk_next_day(user, hr.code(), (2, 10))?, None);
    Ok(())
}

fn storage_round_trips_within_one_user_and_plugin(backend: &Backend) -> Result<()> {
    let (_dir, vault, user) = fresh(backend)?;
    let (bob, _) = vault.ensure_user("bob")?;
    let key = vault.user_key(user)?;
    vault.write(|tx| {
        tx.kv_put(user, "p", &key, "b", Some(b"two"))?;
        tx.kv_put(user, "p", &key, "a", Some(b"one"))?;
        tx.kv_put(user, "q", &key, "a", Some(b"other plugin"))
    })?;
    let store = vault.store()?;
    assert_eq!(store.kv_get(user, "p", &key, "a")?, Some(b"one".to_vec()));
    assert_eq!(store.kv_size_of(user, "p", &key, "b")?, Some(4));
    assert_eq!(store.kv_keys(user, "p", &key)?, vec!["a".to_string(), "b".to_string()]);
    let usage = store.kv_usage(user, "p")?;
    assert_eq!((usage.keys, usage.bytes), (2, 8));
    let bob_key = vault.user_key(bob.id)?;
    assert!(
        store.kv_keys(bob.id, "p", &bob_key)?.is_empty(),
        "another user sees nothing"
    );
    assert!(store.kv_get(user, "p", &bob_key, "a").is_err() || store.kv_get(user, "p", &bob_key, "a")?.is_none());
    vault.write(|tx| tx.kv_put(user, "p", &key, "a", None))?;
    assert_eq!(store.kv_get(user, "p", &key, "a")?, None);
    assert_eq!(vault.write(|tx| tx.kv_delete_all(user, None))?, 2);
    Ok(())
}

fn an_altered_grant_is_refused(backend: &Backend) -> Result<()> {
    let (_dir, vault, user) = fresh(backend)?;
    let steps = DataType::from_id("steps").unwrap_or_else(|| unreachable!());
    let mut narrow = grant(steps, 1);
    narrow.fields = Fields::VALUE;
    vault.write(|tx| tx.put_consents(user, "p", &[narrow]))?;
    let changed = (backend.tamper)(&vault, "UPDATE consents SET fields = 127")?;
    assert_eq!(changed, 1);
    let read = vault.read(|s| s.consent_grants(user, "p"));
    let err = read.expect_err("a widened grant must not be read as granted");
    assert!(format!("{err:#}").contains("integrity"), "{err:#}");
    Ok(())
}

fn chunks_are_found_by_day_and_stay_sealed(backend: &Backend) -> Result<()> {
    let (_dir, vault, user) = fresh(backend)?;
    let key = vault.user_key(user)?;
    let hr = DataType::from_id("heart-rate").unwrap_or_else(|| unreachable!());
    let days = [3, 5, 9];
    let batch: Vec<NewSample> = days.iter().map(|d| sample(d * 86_400_000 + 1)).collect();
    vault.write(|tx| {
        tx.stage_samples("inv", user, &key, &origin(), &batch)?;
        tx.commit_staged("inv", user, &key)
    })?;
    let store = vault.store()?;
    let mut seen = Vec::new();
    store.chunk_each_sealed(user, hr.code(), (0, 100), &mut |day, sealed| {
        seen.push(day);
        for needle in [
            &1234.5678f64.to_le_bytes()[..],
            &1234.5678f64.to_be_bytes()[..],
            b"CANARY-SOURCE",
        ] {
            assert!(
                !sealed.windows(needle.len()).any(|w| w == needle),
                "plaintext in a chunk"
            );
        }
        Ok(day < 5)
    })?;
    assert_eq!(seen, vec![3, 5], "in day order, stopping when asked");
    assert_eq!(store.chunk_next_day(user, hr.code(), (6, 100))?, Some(9));
    assert!(store.chunk_sealed(user, hr.code(), 4)?.is_none());
    assert!(store.chunk_sealed(user, hr.code(), 9)?.is_some());
    Ok(())
}

fn tokens_and_sessions_are_found_by_hash_only(backend: &Backend) -> Result<()> {
    use super::tokens::TokenInsert;
    use super::web::{WebInsert, WebKind};
    let (_dir, vault, user) = fresh(backend)?;
    let row = vault.read(|s| s.user_row(user))?.unwrap_or_else(|| unreachable!());
    let hash = [7u8; 32];
    vault.write(|tx| {
        tx.insert_token(&TokenInsert {
            id: "hpt_00000001",
            user_id: user,
            user_ref: &row.ref_bytes,
            secret_hash: &hash,
            scopes: "tools:call",
            sealed_label: None,
            created_ms: 1,
            expires_ms: None,
        })?;
        tx.insert_web(
            WebKind::Session,
            &WebInsert {
                id: "hps_00000001",
                user_id: user,
                user_ref: &row.ref_bytes,
                secret_hash: &hash,
                created_ms: 1,
                expires_ms: 100,
            },
        )
    })?;
    let store = vault.store()?;
    assert!(store.token_id_taken("hpt_00000001")? && !store.token_id_taken("hpt_00000002")?);
    let hit = store.token_by_hash(&hash)?.unwrap_or_else(|| unreachable!());
    assert_eq!((hit.token.id.as_str(), hit.token.user_id), ("hpt_00000001", user));
    assert!(
        store.token_by_hash(&[8u8; 32])?.is_none(),
        "only the exact hash finds it"
    );
    assert!(
        store.web_by_hash(WebKind::Link, &hash)?.is_none(),
        "a session hash is not a link"
    );
    vault.write(|tx| tx.set_token_revoked("hpt_00000001", 5))?;
    assert_eq!(
        store.token_row("hpt_00000001")?.map(|t| t.token.revoked_ms),
        Some(Some(5))
    );
    assert!(vault.write(|tx| tx.close_web(WebKind::Session, "hps_00000001", 50))?);
    assert!(
        !vault.write(|tx| tx.close_web(WebKind::Session, "hps_00000001", 60))?,
        "closed once"
    );
    assert_eq!(vault.write(|tx| tx.sweep_web(49))?, 0, "ended at 50: kept before then");
    assert_eq!(vault.write(|tx| tx.sweep_web(101))?, 1);
    // Someone with write access to the database revives the token.
    assert_eq!(
        (backend.tamper)(&vault, "UPDATE access_tokens SET revoked_ms = NULL")?,
        1
    );
    match store.token_by_hash(&hash) {
        Err(err) => assert!(format!("{err:#}").contains("integrity"), "{err:#}"),
        Ok(hit) => panic!("a revived token was found: {:?}", hit.map(|h| h.token)),
    }
    Ok(())
}

fn an_erased_user_leaves_no_row(backend: &Backend) -> Result<()> {
    let (_dir, vault, user) = fresh(backend)?;
    let key = vault.user_key(user)?;
    let steps = DataType::from_id("steps").unwrap_or_else(|| unreachable!());
    vault.write(|tx| {
        tx.put_consents(user, "p", &[grant(steps, 1)])?;
        tx.kv_put(user, "p", &key, "k", Some(b"v"))?;
        tx.stage_samples("inv", user, &key, &origin(), &[sample(86_400_000)])?;
        tx.commit_staged("inv", user, &key)
    })?;
    let rows = vault.write(|tx| tx.delete_user_rows(user))?;
    assert_eq!((rows.consents, rows.storage, rows.users), (1, 1, 1));
    vault.store()?.reclaim_erased("ann")?;
    let store = vault.store()?;
    assert!(store.user_row(user)?.is_none() && store.user_wrapped_key(user)?.is_none());
    assert!(store.consent_grants(user, "p")?.is_empty());
    let mut chunks = 0;
    store.chunk_each_of_user(user, &mut |_, _, _| {
        chunks += 1;
        Ok(())
    })?;
    assert_eq!(chunks, 0);
    Ok(())
}

#[cfg(test)]
mod sqlite {
    use super::*;

    #[test]
    fn the_sqlite_backend_keeps_the_storage_contract() -> Result<()> {
        run_all(&Backend {
            open: Vault::open,
            tamper: Vault::tamper_for_tests,
        })
    }
}

/// The same contract on PostgreSQL, when `HEALTHPLUG_TEST_DATABASE_URL`
/// names a database (`.ci/run` sets it); each vault gets a schema of its
/// own, dropped afterwards.
#[cfg(test)]
mod postgres {
    use super::*;
    use crate::vault::{Database, pg};

    fn open(home: &Path) -> Result<Vault> {
        let Some(base) = pg::testing::url() else {
            anyhow::bail!("HEALTHPLUG_TEST_DATABASE_URL is not set");
        };
        Vault::open_on(home, &Database::Postgres(pg::testing::fresh_schema(&base)?))
    }

    #[test]
    fn the_postgres_backend_keeps_the_storage_contract() -> Result<()> {
        if pg::testing::url().is_none() {
            eprintln!(
                "skipped: HEALTHPLUG_TEST_DATABASE_URL is not set, so no PostgreSQL to run the storage contract on"
            );
            return Ok(());
        }
        let result = run_all(&Backend {
            open,
            tamper: Vault::tamper_for_tests,
        });
        pg::testing::drop_schemas()?;
        result
    }
}
