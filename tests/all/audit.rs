//! The audit log: every grant, revoke, install, invocation, access and
//! denial is recorded without health values, and any edit, deletion,
//! reordering or truncation is detected and the first bad entry named.

use healthplug_host::vault::NewSample;
use healthplug_tests::{DAY_MS, TestHome, fixture_dir, now_ms, ty};
use serde_json::json;

/// A home with a few dozen audit entries.
fn busy_home() -> anyhow::Result<TestHome> {
    let home = TestHome::new()?;
    home.install(&fixture_dir("probe"))?;
    let t = now_ms() - DAY_MS;
    home.host
        .store_samples("alice", "test", &[NewSample::quantity(ty("steps"), t, t, 8642.0)])?;
    home.grant("alice", "probe", "steps")?;
    for _ in 0..3 {
        home.invoke_json("alice", "probe", "read", json!({ "types": ["steps"] }))?;
    }
    home.invoke_json("alice", "probe", "read", json!({ "types": ["heart-rate"] }))?;
    home.host.revoke("alice", "probe", None)?;
    Ok(home)
}

fn db(home: &TestHome) -> anyhow::Result<rusqlite::Connection> {
    Ok(rusqlite::Connection::open(home.path().join("vault.db"))?)
}

#[test]
fn every_kind_of_event_is_recorded_without_health_values() -> anyhow::Result<()> {
    let home = busy_home()?;
    let entries = home.host.audit_log(Some("alice"))?;
    let kinds: Vec<&str> = entries.iter().map(|e| e.event.kind.id()).collect();
    for kind in ["user", "grant", "invoke", "access", "denial", "revoke"] {
        assert!(kinds.contains(&kind), "no {kind} entry in {kinds:?}");
    }
    let all = home.host.audit_log(None)?;
    assert!(all.iter().any(|e| e.event.kind.id() == "install"));
    let access = entries
        .iter()
        .find(|e| e.event.kind.id() == "access")
        .ok_or_else(|| anyhow::anyhow!("no access"))?;
    assert_eq!(access.event.plugin.as_deref(), Some("probe"));
    assert_eq!(access.event.data_type.as_deref(), Some("steps"));
    assert_eq!(access.event.count, Some(1));
    assert_eq!(
        access.event.fields.as_deref(),
        Some("value,unit,time,source-name,device,metadata,notes")
    );
    assert!(
        access
            .event
            .purpose
            .as_deref()
            .is_some_and(|p| p.contains("test suite"))
    );
    assert_eq!(
        access.event.digest.as_deref(),
        Some(home.host.loaded("probe")?.record.component_sha256.as_str())
    );
    let denial = entries
        .iter()
        .find(|e| e.event.kind.id() == "denial")
        .ok_or_else(|| anyhow::anyhow!("no denial"))?;
    assert_eq!(denial.event.outcome.as_deref(), Some("not-granted"));
    let text = serde_json::to_string(&all)?;
    assert!(!text.contains("8642"), "a health value reached the audit log");
    assert!(!text.contains("\"alice\""), "the user id is pseudonymous in the log");
    assert!(home.host.verify_audit()?.ok());
    Ok(())
}

fn expect_bad(home: &TestHome, first_bad: i64, needle: &str) -> anyhow::Result<()> {
    let report = home.host.verify_audit()?;
    assert_eq!(report.first_bad, Some(first_bad), "{report:?}");
    let problem = report.problem.unwrap_or_default();
    assert!(problem.contains(needle), "{problem}");
    Ok(())
}

#[test]
fn an_edited_entry_is_detected() -> anyhow::Result<()> {
    let home = busy_home()?;
    let n = db(&home)?.execute(
        "UPDATE audit SET entry = replace(entry, '\"count\":1', '\"count\":0') WHERE seq = (SELECT MIN(seq) FROM audit WHERE entry LIKE '%\"kind\":\"access\"%')",
        [],
    )?;
    assert_eq!(n, 1);
    let seq: i64 = db(&home)?.query_row("SELECT MIN(seq) FROM audit WHERE entry LIKE '%\"count\":0%'", [], |r| {
        r.get(0)
    })?;
    expect_bad(&home, seq, "was edited")
}

#[test]
fn a_deleted_entry_is_detected() -> anyhow::Result<()> {
    let home = busy_home()?;
    db(&home)?.execute("DELETE FROM audit WHERE seq = 4", [])?;
    expect_bad(&home, 4, "missing")
}

#[test]
fn reordered_entries_are_detected() -> anyhow::Result<()> {
    let home = busy_home()?;
    let conn = db(&home)?;
    // Swap the contents of entries 3 and 4 (each keeps its own hashes).
    conn.execute_batch(
        "UPDATE audit SET seq = -3 WHERE seq = 3;
         UPDATE audit SET seq = 3 WHERE seq = 4;
         UPDATE audit SET seq = 4 WHERE seq = -3;",
    )?;
    expect_bad(&home, 3, "does not follow")
}

#[test]
fn a_truncated_log_is_detected() -> anyhow::Result<()> {
    let home = busy_home()?;
    let last: i64 = db(&home)?.query_row("SELECT MAX(seq) FROM audit", [], |r| r.get(0))?;
    db(&home)?.execute("DELETE FROM audit WHERE seq > ?1", [last - 2])?;
    expect_bad(&home, last - 1, "truncated")
}

#[test]
fn a_rewritten_chain_is_detected_by_the_authenticated_head() -> anyhow::Result<()> {
    let home = busy_home()?;
    // Recompute every hash after an edit, as an attacker with database
    // access but without the master key would: only the head betrays it.
    let conn = db(&home)?;
    let rows: Vec<(i64, String)> = {
        let mut stmt = conn.prepare("SELECT seq, entry FROM audit ORDER BY seq")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?
    };
    let mut prev = "0".repeat(64);
    for (seq, entry) in rows {
        let entry = entry.replace("\"count\":1", "\"count\":2");
        let mut h = <sha2::Sha256 as sha2::Digest>::new();
        sha2::Digest::update(&mut h, prev.as_bytes());
        sha2::Digest::update(&mut h, b"\n");
        sha2::Digest::update(&mut h, entry.as_bytes());
        let hash = hex::encode(sha2::Digest::finalize(h));
        conn.execute(
            "UPDATE audit SET entry = ?1, prev_hash = ?2, hash = ?3 WHERE seq = ?4",
            rusqlite::params![entry, prev, hash, seq],
        )?;
        prev = hash;
    }
    let report = home.host.verify_audit()?;
    assert!(report.problem.unwrap_or_default().contains("entries were rewritten"));
    Ok(())
}

#[test]
fn a_wiped_log_is_detected() -> anyhow::Result<()> {
    let home = busy_home()?;
    db(&home)?.execute_batch("DELETE FROM audit; DELETE FROM meta WHERE key = 'audit_head';")?;
    let report = home.host.verify_audit()?;
    assert!(
        report.problem.clone().unwrap_or_default().contains("wiped"),
        "{report:?}"
    );
    Ok(())
}

#[test]
fn an_intact_log_verifies() -> anyhow::Result<()> {
    let home = busy_home()?;
    let report = home.host.verify_audit()?;
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.entries as usize, home.host.audit_log(None)?.len());
    Ok(())
}

#[test]
fn concurrent_invocations_share_audit_transactions_and_keep_the_chain() -> anyhow::Result<()> {
    use healthplug_host::vault::{AuditEvent, AuditKind};
    let home = std::sync::Arc::new(TestHome::new()?);
    let before = home.host.audit_log(None)?.len();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let home = home.clone();
            std::thread::spawn(move || -> anyhow::Result<Vec<Vec<i64>>> {
                let mut seqs = Vec::new();
                for i in 0..40 {
                    let events = (0..3)
                        .map(|k| {
                            AuditEvent::new(AuditKind::Invoke)
                                .outcome("ok")
                                .detail(format!("{t}:{i}:{k}"))
                        })
                        .collect();
                    seqs.push(home.host.vault().audit_all(events)?);
                }
                Ok(seqs)
            })
        })
        .collect();
    let mut all = Vec::new();
    for thread in threads {
        let seqs = thread.join().map_err(|_| anyhow::anyhow!("a writer panicked"))??;
        for s in seqs {
            // One call's entries are contiguous and in its order.
            assert_eq!(s.len(), 3);
            assert!(s[1] == s[0] + 1 && s[2] == s[1] + 1, "{s:?}");
            all.extend(s);
        }
    }
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 8 * 40 * 3, "an entry was lost or given twice");
    let log = home.host.audit_log(None)?;
    assert_eq!(log.len(), before + 8 * 40 * 3);
    for entry in &log[before..] {
        let detail = entry.event.detail.clone().unwrap_or_default();
        let k: Vec<&str> = detail.split(':').collect();
        let at = all.binary_search(&entry.seq).is_ok();
        assert!(at && k.len() == 3, "{detail}");
    }
    let report = home.host.verify_audit()?;
    assert!(report.ok(), "{report:?}");
    Ok(())
}
