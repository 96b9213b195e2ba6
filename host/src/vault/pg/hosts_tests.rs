//! Several hosts (vaults over their own homes, sharing one master key)
//! on one PostgreSQL database, attacker first: a revoke made through one
//! host bites on the others within the documented bound, concurrent
//! appends from every host form one verifiable chain, a rolled-back log
//! is caught by the anchor of a host that wrote, and a host with another
//! master key is refused. Skipped (saying so) without
//! `HEALTHPLUG_TEST_DATABASE_URL`.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::testing::{self, TestSchema};
use super::versions::MAX_AGE;
use crate::consent::{Fields, Granularity, UserGrant};
use crate::registry::DataType;
use crate::vault::{AuditEvent, AuditKind, Database, Vault};

/// `n` hosts on one fresh schema; the first one's master key is copied
/// into every other home.
type Hosts = (TestSchema, Vec<tempfile::TempDir>, Vec<Vault>);

fn hosts(n: usize) -> Result<Option<Hosts>> {
    let Some(base) = testing::url() else {
        eprintln!(
            "skipped: {} is not set, so no PostgreSQL for several hosts",
            testing::TEST_DATABASE_ENV
        );
        return Ok(None);
    };
    let schema = TestSchema::new(&base)?;
    let database = Database::Postgres(schema.url.clone());
    let (mut homes, mut vaults) = (Vec::new(), Vec::new());
    for i in 0..n {
        let home = tempfile::tempdir()?;
        if i > 0 {
            std::fs::copy(homes_first(&homes).join("master.key"), home.path().join("master.key"))?;
        }
        vaults.push(Vault::open_on(home.path(), &database)?);
        homes.push(home);
    }
    Ok(Some((schema, homes, vaults)))
}

fn homes_first(homes: &[tempfile::TempDir]) -> &Path {
    homes.first().map_or(Path::new("/nonexistent"), |h| h.path())
}

fn steps_grant() -> UserGrant {
    UserGrant {
        data_type: DataType::from_id("steps").unwrap_or_else(|| unreachable!()),
        read: true,
        write: false,
        fields: Fields::DEFAULT,
        days: None,
        since_ms: None,
        granularity: Granularity::Raw,
        until_ms: None,
        purpose: "coaching".into(),
        granted_ms: 1,
        revoked_ms: None,
    }
}

#[test]
fn a_revoke_through_one_host_is_seen_by_another_within_the_bound() -> Result<()> {
    let Some((_schema, _homes, v)) = hosts(2)? else {
        return Ok(());
    };
    let (user, _) = v[0].ensure_user("ann")?;
    v[0].write(|tx| tx.put_consents(user.id, "p", &[steps_grant()]))?;
    // Host B reads (and caches) the version, as a host call does.
    let seen = v[1].read(|s| s.consent_version(user.id, "p"))?;
    assert_eq!(seen, v[0].read(|s| s.consent_version(user.id, "p"))?);
    let start = Instant::now();
    v[0].write(|tx| tx.revoke_consents(user.id, "p", None, 2).map(|_| ()))?;
    assert_ne!(
        v[0].read(|s| s.consent_version(user.id, "p"))?,
        seen,
        "the revoking host sees its own revoke at once"
    );
    loop {
        if v[1].read(|s| s.consent_version(user.id, "p"))? != seen {
            break;
        }
        assert!(
            start.elapsed() < MAX_AGE + Duration::from_millis(500),
            "host B still used the old version {:?} after the revoke",
            start.elapsed()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    eprintln!("host B saw the revoke after {:?} (bound {MAX_AGE:?})", start.elapsed());
    assert!(
        v[1].read(|s| s.consent_grants(user.id, "p"))?
            .iter()
            .all(|g| g.revoked_ms.is_some())
    );
    Ok(())
}

#[test]
fn concurrent_appends_from_three_hosts_form_one_verifiable_chain() -> Result<()> {
    let Some((_schema, _homes, v)) = hosts(3)? else {
        return Ok(());
    };
    // Two writers per host: a host's own transactions commit in one order
    // and may anchor in the other.
    std::thread::scope(|s| {
        for (i, vault) in v.iter().enumerate() {
            for t in 0..2 {
                s.spawn(move || -> Result<()> {
                    for n in 0..20 {
                        let event = AuditEvent::new(AuditKind::Access).detail(format!("host {i}/{t} #{n}"));
                        vault.write(|tx| tx.audit_append(&event))?;
                    }
                    Ok(())
                });
            }
        }
    });
    for vault in &v {
        let report = vault.verify_audit()?;
        assert!(report.ok(), "{report:?}");
        assert_eq!(report.entries, 120);
    }
    let entries = v[0].read(|s| s.audit_list(None))?;
    let seqs: Vec<i64> = entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=120).collect::<Vec<_>>(), "one chain, no gap, no repeat");
    Ok(())
}

#[test]
fn a_rolled_back_log_is_caught_by_a_host_that_wrote_past_it() -> Result<()> {
    let Some((_schema, _homes, v)) = hosts(2)? else {
        return Ok(());
    };
    v[0].audit(&AuditEvent::new(AuditKind::Access).detail("kept"))?;
    // The attacker copies the authenticated head, lets host B write two
    // more entries, then deletes them and restores the copy.
    v[0].tamper_for_tests("CREATE TABLE saved_head AS SELECT value FROM meta WHERE key = 'audit_head'")?;
    v[1].audit(&AuditEvent::new(AuditKind::Access).detail("rolled back 1"))?;
    v[1].audit(&AuditEvent::new(AuditKind::Access).detail("rolled back 2"))?;
    assert!(v[1].verify_audit()?.ok());
    v[0].tamper_for_tests("DELETE FROM audit WHERE seq > 1")?;
    v[0].tamper_for_tests("UPDATE meta SET value = (SELECT value FROM saved_head) WHERE key = 'audit_head'")?;
    assert!(v[0].verify_audit()?.ok(), "host A wrote nothing past the rollback");
    let report = v[1].verify_audit()?;
    assert!(
        report.problem.as_deref().is_some_and(|p| p.contains("rolled back")),
        "{report:?}"
    );
    Ok(())
}

#[test]
fn a_host_with_another_master_key_is_refused() -> Result<()> {
    let Some((schema, _homes, _v)) = hosts(1)? else {
        return Ok(());
    };
    let database = Database::Postgres(schema.url.clone());
    let stranger = tempfile::tempdir()?;
    let refused = Vault::open_on(stranger.path(), &database)
        .err()
        .map(|e| format!("{e:#}"));
    assert!(
        refused.as_deref().is_some_and(|e| e.contains("master key")),
        "{refused:?}"
    );
    Ok(())
}

#[test]
fn a_component_installed_through_one_host_is_found_by_another() -> Result<()> {
    let Some((_schema, _homes, v)) = hosts(2)? else {
        return Ok(());
    };
    let bytes = b"\0asm component bytes".to_vec();
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
    v[0].store()?.put_component_bytes(&sha, &bytes)?;
    assert_eq!(v[1].store()?.component_bytes(&sha)?, Some(bytes));
    // Bytes swapped in the database are refused, not loaded.
    v[0].tamper_for_tests("UPDATE components SET bytes = 'evil'::bytea")?;
    let e = v[1].store()?.component_bytes(&sha).err().map(|e| format!("{e:#}"));
    assert!(e.as_deref().is_some_and(|e| e.contains("integrity")), "{e:?}");
    Ok(())
}
