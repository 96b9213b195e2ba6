//! The home against a local attacker who can write its files but not read
//! the master key: the audit head anchored outside the database catches a
//! rolled-back log and a tampered anchor; the key file and home are refused
//! when they are not this user's private files; user ids are never reused;
//! and a home of schema 2 upgrades once, and cannot be rewound to do it
//! again.

use std::path::Path;

use healthplug_host::Host;
use healthplug_host::vault::{NewSample, Vault};
use healthplug_tests::{TestHome, fixture_dir, now_ms, shared_runtime, ty};
use serde_json::json;

fn db(path: &Path) -> anyhow::Result<rusqlite::Connection> {
    Ok(rusqlite::Connection::open(path.join("vault.db"))?)
}

fn read_steps(home: &TestHome) -> anyhow::Result<()> {
    home.invoke_json("alice", "probe", "read", json!({ "types": ["steps"] }))?;
    Ok(())
}

/// A home with a few dozen audit entries.
fn busy_home() -> anyhow::Result<TestHome> {
    let home = TestHome::new()?;
    home.install(&fixture_dir("probe"))?;
    let t = now_ms() - 3_600_000;
    home.host
        .store_samples("alice", "test", &[NewSample::quantity(ty("steps"), t, t, 8642.0)])?;
    home.grant("alice", "probe", "steps")?;
    read_steps(&home)?;
    Ok(home)
}

/// The log's last seq and the authenticated head record in `meta`.
fn snapshot(home: &TestHome) -> anyhow::Result<(i64, String)> {
    let conn = db(home.path())?;
    let seq = conn.query_row("SELECT MAX(seq) FROM audit", [], |r| r.get(0))?;
    let head = conn.query_row("SELECT value FROM meta WHERE key = 'audit_head'", [], |r| r.get(0))?;
    Ok((seq, head))
}

/// Deletes the entries after `seq` and restores the head record of then.
fn roll_back(home: &TestHome, (seq, head): &(i64, String)) -> anyhow::Result<()> {
    let conn = db(home.path())?;
    conn.execute("DELETE FROM audit WHERE seq > ?1", [seq])?;
    conn.execute("UPDATE meta SET value = ?1 WHERE key = 'audit_head'", [head])?;
    Ok(())
}

fn expect_broken(home: &TestHome, needle: &str) -> anyhow::Result<()> {
    let report = home.host.verify_audit()?;
    let problem = report.problem.clone().unwrap_or_default();
    anyhow::ensure!(problem.contains(needle), "expected {needle:?}, got {report:?}");
    Ok(())
}

#[test]
fn a_rolled_back_log_is_caught_by_the_anchor() -> anyhow::Result<()> {
    let home = busy_home()?;
    let then = snapshot(&home)?;
    for _ in 0..3 {
        read_steps(&home)?;
    }
    assert!(home.host.verify_audit()?.ok());
    roll_back(&home, &then)?;
    expect_broken(&home, "the log was rolled back")
}

#[test]
fn rolling_back_the_last_write_is_reported_as_such() -> anyhow::Result<()> {
    let home = busy_home()?;
    let then = snapshot(&home)?;
    home.host
        .vault()
        .trust(&format!("ed25519:{}", "ab".repeat(32)), "rita")?;
    roll_back(&home, &then)?;
    expect_broken(&home, "one write ahead of the log")
}

fn anchor(home: &TestHome) -> std::path::PathBuf {
    home.path().join("audit.head")
}

#[test]
fn a_truncated_or_deleted_anchor_is_caught() -> anyhow::Result<()> {
    let home = busy_home()?;
    let text = std::fs::read_to_string(anchor(&home))?;
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > 2, "{text}");
    let cut = lines[..lines.len() - 1].join("\n") + "\n";
    std::fs::write(anchor(&home), &cut)?;
    expect_broken(&home, "the anchor file was truncated or replaced")?;
    std::fs::write(anchor(&home), "")?;
    expect_broken(&home, "is empty")?;
    std::fs::remove_file(anchor(&home))?;
    expect_broken(&home, "is missing")
}

#[test]
fn a_forged_or_replayed_anchor_line_is_caught() -> anyhow::Result<()> {
    let home = busy_home()?;
    let original = std::fs::read_to_string(anchor(&home))?;
    let (seq, _) = snapshot(&home)?;
    let forged = format!("{original}{} {} {}\n", seq + 5, "0".repeat(64), "1".repeat(64));
    std::fs::write(anchor(&home), forged)?;
    expect_broken(&home, "is forged")?;

    // Roll the log back and copy the honest line of then to the end.
    std::fs::write(anchor(&home), &original)?;
    let then = snapshot(&home)?;
    let line_then = original.lines().last().unwrap_or_default().to_string();
    for _ in 0..2 {
        read_steps(&home)?;
    }
    roll_back(&home, &then)?;
    let now = std::fs::read_to_string(anchor(&home))?;
    std::fs::write(anchor(&home), format!("{now}{line_then}\n"))?;
    expect_broken(&home, "goes back")
}

#[test]
fn a_trigger_planted_in_the_database_is_refused() -> anyhow::Result<()> {
    let home = busy_home()?;
    // It would re-widen every consent healthplug writes, after the fact.
    db(home.path())?.execute_batch(
        "CREATE TRIGGER widen AFTER UPDATE ON consents BEGIN
           UPDATE consents SET fields = 255 WHERE rowid = NEW.rowid;
         END;",
    )?;
    let e = Host::open_with(home.path(), shared_runtime(), Default::default())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("trigger `widen`") && e.contains("planted"), "{e:?}");
    Ok(())
}

#[test]
fn user_ids_are_never_reused() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    home.host.ensure_user("alice")?;
    let (bob, _) = home.host.ensure_user("bob")?;
    home.host.erase("bob")?;
    let (carol, _) = home.host.ensure_user("carol")?;
    assert!(
        carol.id > bob.id,
        "carol got id {} after bob's {} was erased",
        carol.id,
        bob.id
    );
    Ok(())
}

/// A raw `sample_chunks` row: type, day, sealed chunk.
type ChunkRow = (i64, i64, Vec<u8>);

#[test]
fn an_erased_user_readded_cannot_read_the_old_data() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    let t = now_ms() - 3_600_000;
    home.host
        .store_samples("alice", "test", &[NewSample::quantity(ty("steps"), t, t, 7131.0)])?;
    // Another host on the same home has alice's key cached.
    let other = Host::open_with(home.path(), shared_runtime(), Default::default())?;
    assert_eq!(other.records("alice", &[])?.len(), 1);
    let old: Vec<ChunkRow> = {
        let conn = db(home.path())?;
        let mut stmt = conn.prepare("SELECT data_type, day, payload FROM sample_chunks")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?
    };
    assert_eq!(old.len(), 1);
    home.host.erase("alice")?;
    let (alice, _) = home.host.ensure_user("alice")?;
    // The attacker puts the old rows back under the new user.
    let conn = db(home.path())?;
    for (data_type, day, payload) in &old {
        conn.execute(
            "INSERT INTO sample_chunks (user_id, data_type, day, payload) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![alice.id, data_type, day, payload],
        )?;
    }
    for host in [&home.host, &other] {
        if let Ok(records) = host.records("alice", &[]) {
            let text = serde_json::to_string(&records)?;
            assert!(!text.contains("7131"), "the erased user's data came back: {text}");
        }
    }
    Ok(())
}

#[test]
fn erase_says_so_when_the_write_ahead_log_keeps_the_data() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    let t = now_ms() - 3_600_000;
    home.host
        .store_samples("alice", "test", &[NewSample::quantity(ty("steps"), t, t, 5150.0)])?;
    // A reader holding an old snapshot keeps the checkpoint from finishing.
    let mut reader = db(home.path())?;
    let snapshot = reader.transaction()?;
    let n: i64 = snapshot.query_row("SELECT COUNT(*) FROM sample_chunks", [], |r| r.get(0))?;
    assert_eq!(n, 1);
    let e = home
        .host
        .erase("alice")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("could not be checkpointed"), "erase claimed success: {e:?}");
    drop(snapshot);
    assert!(home.host.user("alice").is_err(), "the user was erased all the same");
    Ok(())
}

#[cfg(unix)]
fn mode(p: &Path) -> anyhow::Result<u32> {
    use std::os::unix::fs::PermissionsExt;
    Ok(std::fs::metadata(p)?.permissions().mode() & 0o777)
}

#[cfg(unix)]
fn open_error(home: &Path) -> String {
    Vault::open(home).err().map(|e| format!("{e:#}")).unwrap_or_default()
}

#[cfg(unix)]
#[test]
fn the_home_and_its_files_are_private() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let home = dir.path().join("home");
    drop(Vault::open(&home)?);
    assert_eq!(mode(&home)?, 0o700);
    assert_eq!(mode(&home.join("master.key"))?, 0o600);
    assert_eq!(
        mode(&home.join("vault.db"))?,
        0o600,
        "the database is readable by others"
    );
    Ok(())
}

#[cfg(unix)]
#[test]
fn a_symlinked_or_shared_key_file_is_refused() -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir()?;
    let home = dir.path().join("home");
    drop(Vault::open(&home)?);

    // A symbolic link to the real key (say, one the attacker controls).
    let key = home.join("master.key");
    let elsewhere = dir.path().join("elsewhere.key");
    std::fs::rename(&key, &elsewhere)?;
    std::os::unix::fs::symlink(&elsewhere, &key)?;
    let e = open_error(&home);
    assert!(
        e.contains("is a symbolic link"),
        "a symlinked key file was followed: {e:?}"
    );
    std::fs::remove_file(&key)?;
    std::fs::rename(&elsewhere, &key)?;

    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644))?;
    let e = open_error(&home);
    assert!(e.contains("by others"), "{e:?}");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))?;
    drop(Vault::open(&home)?);

    // Files of another user (only root can make them).
    if process_uid() == 0 {
        std::os::unix::fs::chown(&key, Some(4242), None)?;
        let e = open_error(&home);
        assert!(e.contains("belongs to user 4242"), "{e:?}");
        std::os::unix::fs::chown(&key, Some(0), None)?;
        std::os::unix::fs::chown(&home, Some(4242), None)?;
        let e = open_error(&home);
        assert!(
            e.contains("home directory") && e.contains("belongs to user 4242"),
            "{e:?}"
        );
    }
    Ok(())
}

#[cfg(unix)]
fn process_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    // The owner of a file this process just created is its uid.
    tempfile::NamedTempFile::new()
        .and_then(|f| f.as_file().metadata())
        .map(|m| m.uid())
        .unwrap_or(u32::MAX)
}

/// Turns a current home back into what schema 2 left on disk.
fn downgrade_to_schema_2(home: &Path) -> anyhow::Result<()> {
    let conn = db(home)?;
    conn.execute_batch("PRAGMA foreign_keys = OFF;")?;
    for table in [
        "plugins",
        "trusted_reviewers",
        "consents",
        "consent_versions",
        "capability_grants",
        "meta",
    ] {
        conn.execute_batch(&format!("ALTER TABLE {table} DROP COLUMN mac;"))?;
    }
    conn.execute_batch(
        "DELETE FROM meta WHERE key = 'consent_version';
         UPDATE meta SET value = '2' WHERE key = 'schema';
         CREATE TABLE users_v2 (
             id INTEGER PRIMARY KEY, ref BLOB NOT NULL UNIQUE, handle BLOB NOT NULL,
             wrapped_key BLOB NOT NULL, created_ms INTEGER NOT NULL);
         INSERT INTO users_v2 SELECT id, ref, handle, wrapped_key, created_ms FROM users;
         DROP TABLE users;
         ALTER TABLE users_v2 RENAME TO users;",
    )?;
    std::fs::remove_file(home.join("audit.head"))?;
    Ok(())
}

#[test]
fn a_schema_2_home_upgrades_once_and_cannot_be_rewound() -> anyhow::Result<()> {
    let home = busy_home()?;
    downgrade_to_schema_2(home.path())?;

    let upgraded = Host::open_with(home.path(), shared_runtime(), Default::default())?;
    assert_eq!(upgraded.consents("alice")?.len(), 1);
    assert!(upgraded.plugins()?.iter().any(|p| p.id == "probe"));
    let report = upgraded.verify_audit()?;
    assert!(report.ok(), "{report:?}");
    let log = upgraded.audit_log(None)?;
    assert!(
        log.iter().any(|e| e.event.kind.id() == "upgrade"),
        "the upgrade is not in the log"
    );
    let users_sql: String =
        db(home.path())?.query_row("SELECT sql FROM sqlite_master WHERE name = 'users'", [], |r| r.get(0))?;
    assert!(users_sql.contains("AUTOINCREMENT"), "{users_sql}");
    upgraded.revoke("alice", "probe", None)?;
    drop(upgraded);

    // Rewinding the schema record to get forged rows MACed on the next
    // open is refused.
    db(home.path())?.execute_batch(
        "UPDATE meta SET value = '2' WHERE key = 'schema';
         UPDATE consents SET revoked_ms = NULL, mac = NULL;",
    )?;
    let e = Host::open_with(home.path(), shared_runtime(), Default::default())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("records an upgrade past it"), "{e}");
    Ok(())
}

#[cfg(unix)]
#[test]
fn a_home_reached_through_a_link_is_refused_at_once_and_says_why() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let real = dir.path().join("real");
    std::fs::create_dir(&real)?;
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&real, &link)?;
    let started = std::time::Instant::now();
    let err = match healthplug_host::Host::open(&link) {
        Ok(_) => anyhow::bail!("a home through a symbolic link was opened"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(err.contains("symbolic link") && err.contains("real path"), "{err}");
    Ok(())
}

#[test]
fn a_schema_rewind_on_a_home_born_at_schema_3_blesses_nothing() -> anyhow::Result<()> {
    // A home created by this code has no "upgrade" in its log; rewinding
    // its schema record must not get altered rows MACed on the next open.
    let home = busy_home()?;
    home.host.revoke("alice", "probe", None)?;
    db(home.path())?.execute_batch(
        "UPDATE meta SET value = '2' WHERE key = 'schema';
         UPDATE consents SET revoked_ms = NULL, mac = NULL;",
    )?;
    let e = Host::open_with(home.path(), shared_runtime(), Default::default())
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(e.contains("already carries row MACs"), "the rewind was accepted: {e}");
    Ok(())
}
