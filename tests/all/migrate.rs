//! Vault v1 to v2. `tests/data/vault-v1/` is a home written by healthplug
//! before v2 (commit 74ee7ed; how: its README): per-sample sealed rows with
//! plaintext times. Opened by today's code it must come out as sealed day
//! chunks holding every record unchanged (provenance included), with the
//! move in the audit log, and dedupe still working across it; a v1 row
//! that does not open must stop the migration and leave the vault as it
//! was; a v1 table planted in a v2 vault must be refused.

use std::path::{Path, PathBuf};
use std::process::Command;

use healthplug_host::platform::Host;
use healthplug_host::vault::NewSample;
use healthplug_tests::serve::healthplug_bin;
use healthplug_tests::{DAY_MS, TestHome, shared_runtime, ty};
use serde_json::Value;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/vault-v1")
}

/// A private copy of the v1 home (git keeps no file modes).
fn v1_home() -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new().prefix("healthplug-v1-").tempdir()?;
    for name in ["master.key", "vault.db", "audit.head"] {
        std::fs::copy(fixture().join(name), dir.path().join(name))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path().join(name), std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(dir)
}

fn db(home: &Path) -> anyhow::Result<rusqlite::Connection> {
    Ok(rusqlite::Connection::open(home.join("vault.db"))?)
}

fn has_table(home: &Path, name: &str) -> anyhow::Result<bool> {
    Ok(db(home)?
        .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1")?
        .exists([name])?)
}

/// Records as a sorted list of their JSON texts: v1 ordered samples of
/// equal start by row id, v2 by digest.
fn canonical(records: &Value) -> Vec<String> {
    let mut out: Vec<String> = records.as_array().into_iter().flatten().map(Value::to_string).collect();
    out.sort();
    out
}

#[test]
fn a_v1_home_opens_as_sealed_day_chunks_with_every_record() -> anyhow::Result<()> {
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(fixture().join("records.json"))?)?;
    let home = v1_home()?;
    let v1_rows: i64 = db(home.path())?.query_row("SELECT COUNT(*) FROM samples", [], |r| r.get(0))?;
    let host = Host::open_with(home.path(), shared_runtime(), Default::default())?;
    let report = host
        .vault()
        .migrated()
        .ok_or_else(|| anyhow::anyhow!("nothing was migrated"))?;
    assert_eq!(report.samples, u64::try_from(v1_rows)?, "{report:?}");
    for user in ["alice", "carol"] {
        let now = serde_json::to_value(host.records(user, &[])?)?;
        assert_eq!(canonical(&now), canonical(&expected[user]), "{user}'s records changed");
    }
    assert!(!has_table(home.path(), "samples")?, "the v1 table is still there");
    // Only user, type and day are plaintext now.
    let columns: Vec<String> = db(home.path())?
        .prepare("SELECT name FROM pragma_table_info('sample_chunks') ORDER BY cid")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    assert_eq!(columns, ["id", "user_id", "data_type", "day", "payload"]);
    let chunks: i64 = db(home.path())?.query_row("SELECT COUNT(*) FROM sample_chunks", [], |r| r.get(0))?;
    assert_eq!(u64::try_from(chunks)?, report.chunks);
    let verified = host.verify_audit()?;
    assert!(verified.ok(), "{verified:?}");
    let log = serde_json::to_string(&host.audit_log(None)?)?;
    assert!(log.contains("vault v1 to v2"), "the migration is not in the audit log");
    // Dedupe holds across the move: carol's samples, stored again exactly
    // as v1 stored them, are all duplicates.
    let t0 = 1_767_225_600_000;
    let again: Vec<NewSample> = (0..12)
        .map(|i| {
            NewSample::quantity(
                ty("body-mass"),
                t0 + i * DAY_MS,
                t0 + i * DAY_MS,
                80.0 + i as f64 * 0.01,
            )
        })
        .collect();
    let stored = host.store_samples("carol", "test", &again)?;
    assert_eq!((stored.inserted, stored.duplicates), (0, 12));
    drop(host);
    let reopened = Host::open_with(home.path(), shared_runtime(), Default::default())?;
    assert_eq!(reopened.vault().migrated(), None, "a v2 vault was migrated again");
    Ok(())
}

#[test]
fn a_v1_row_that_does_not_open_stops_the_migration() -> anyhow::Result<()> {
    let home = v1_home()?;
    {
        let conn = db(home.path())?;
        // Swap two rows' sealed payloads: each is bound to its own row.
        let (a, b): (i64, i64) = conn.query_row("SELECT MIN(id), MAX(id) FROM samples", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        conn.execute_batch(&format!(
            "UPDATE samples SET payload = (SELECT payload FROM samples WHERE id = {b}) WHERE id = {a}"
        ))?;
    }
    let before: i64 = db(home.path())?.query_row("SELECT COUNT(*) FROM samples", [], |r| r.get(0))?;
    let error = Host::open_with(home.path(), shared_runtime(), Default::default())
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(
        error.contains("sample row") && error.contains("not migrated"),
        "{error}"
    );
    assert!(has_table(home.path(), "samples")?);
    let after: i64 = db(home.path())?.query_row("SELECT COUNT(*) FROM samples", [], |r| r.get(0))?;
    assert_eq!(before, after, "rows were lost");
    let chunks: i64 = db(home.path())?
        .query_row("SELECT COUNT(*) FROM sample_chunks", [], |r| r.get(0))
        .unwrap_or(0);
    assert_eq!(chunks, 0, "a half migration was kept");
    let schema: String = db(home.path())?.query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| r.get(0))?;
    assert_eq!(schema, "3");
    Ok(())
}

#[test]
fn a_v1_table_planted_in_a_v2_vault_is_refused() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    db(home.path())?.execute_batch(
        "CREATE TABLE samples (id INTEGER PRIMARY KEY, user_id INTEGER, data_type INTEGER, start_ms INTEGER,
         end_ms INTEGER, digest BLOB, payload BLOB)",
    )?;
    let error = Host::open_with(home.path(), shared_runtime(), Default::default())
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(error.contains("planted"), "{error}");
    Ok(())
}

#[test]
fn the_migrate_command_says_what_moved() -> anyhow::Result<()> {
    let home = v1_home()?;
    let run = |home: &Path| -> anyhow::Result<Value> {
        let out = Command::new(healthplug_bin()?)
            .args(["--home", &home.display().to_string(), "--json", "migrate"])
            .output()?;
        anyhow::ensure!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        Ok(serde_json::from_slice(&out.stdout)?)
    };
    let first = run(home.path())?;
    assert!(first["migrated"]["samples"].as_u64().unwrap_or(0) > 0, "{first}");
    let second = run(home.path())?;
    assert_eq!(second["migrated"], Value::Null, "{second}");
    Ok(())
}
