//! Opening a vault database: creating its files private, creating or
//! upgrading the schema, and refusing a database that was tampered with in
//! ways that would subvert it (planted triggers or views, a wrong master
//! key, a schema record rewound to trigger the upgrade again).
//!
//! Upgrading from schema 3 (vault v1) to 4 moves the samples into sealed
//! day chunks (`migrate_v2.rs`). Upgrading from schema 1 or 2 to 3: the `users` table is rebuilt with
//! `AUTOINCREMENT` (every column copied as it is, whatever columns it has),
//! the `mac` columns are added, and every security-relevant row then gets
//! its MAC once. Rows written before the upgrade are trusted as they are:
//! the upgrade cannot tell an older honest row from one altered before it.
//! The upgrade is recorded in the audit log, and a vault whose log records
//! it is never "upgraded" (blessing rows without a MAC) again.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

use super::rowmac;
use super::{
    AuditEvent, AuditKind, Conn, STALE_STAGED_MS, Vault, audit, chunks_sql, consents, home, migrate_v2, now_ms, schema,
};

/// Pre-creates `vault.db` readable by the owner only (SQLite gives the
/// `-wal` and `-shm` files the database's mode), and tightens the files of
/// homes created before that to 0600.
pub(super) fn private_db_files(db: &Path) -> Result<()> {
    if fs::symlink_metadata(db).is_err() {
        home::create_private(db).with_context(|| format!("creating the vault database {}", db.display()))?;
    }
    #[cfg(unix)]
    for suffix in ["", "-wal", "-shm"] {
        use std::os::unix::fs::PermissionsExt;
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        let path = PathBuf::from(name);
        if let Ok(meta) = fs::symlink_metadata(&path)
            && meta.is_file()
            && meta.permissions().mode() & 0o077 != 0
        {
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600))
                .with_context(|| format!("making {} private (0600)", path.display()))?;
        }
    }
    Ok(())
}

/// Creates or upgrades the schema and checks the master key; says what a
/// v1 to v2 migration moved, if one ran.
pub(super) fn run(vault: &Vault, mut conn: Conn, check: &str) -> Result<Option<migrate_v2::MigrationReport>> {
    rebuild_users(&vault.home().join("vault.db"))?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    refuse_planted(&tx)?;
    // Before the schema batch creates any missing table: which existing
    // tables already carry row MACs (only schema 3 writes them).
    let premacked = tables_with_macs(&tx)?;
    tx.execute_batch(schema::SCHEMA).context("creating the vault schema")?;
    for (table, column, ty) in schema::ADDED_COLUMNS {
        let has: bool = tx
            .prepare(&format!("SELECT 1 FROM pragma_table_info('{table}') WHERE name = ?1"))?
            .exists(params![column])?;
        if !has {
            tx.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {ty}"))?;
        }
    }
    // Writes of invocations that never finished (the process died): they
    // were never visible; drop them.
    tx.execute(
        "DELETE FROM staged_chunks WHERE staged_ms < ?1",
        params![now_ms() - STALE_STAGED_MS],
    )?;
    chunks_sql::purge_orphaned_staged(&tx)?;
    let meta = |key: &str| -> Result<Option<String>> {
        Ok(tx
            .query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| r.get(0))
            .optional()?)
    };
    let stored_check = meta("key_check")?;
    let stored_schema = meta("schema")?;
    let logged: bool = tx.prepare("SELECT 1 FROM audit LIMIT 1")?.exists([])?;
    if stored_check.is_none() && logged {
        bail!(
            "the vault's key check record is missing but its audit log is not empty: it was deleted outside healthplug"
        );
    }
    match &stored_check {
        Some(stored) if stored != check => bail!(
            "the master key does not match this vault ({}): was {} or master.key changed?",
            vault.home().display(),
            super::MASTER_KEY_ENV
        ),
        Some(_) => {}
        None => {
            tx.execute("INSERT INTO meta (key, value) VALUES ('key_check', ?1)", params![check])?;
        }
    }
    let before = audit::head(&tx)?;
    match stored_schema.as_deref() {
        None if stored_check.is_none() => consents::seed_counter(&tx)?,
        None => bail!("the vault's schema record is missing: it was deleted outside healthplug"),
        Some(v) if v == schema::SCHEMA_VERSION => {}
        Some("3") => {}
        Some(v @ ("1" | "2")) => upgrade(&tx, vault, v, &premacked)?,
        Some(v) => bail!("the vault has schema version {v}, which this healthplug does not know (a newer release?)"),
    }
    let migrated = if stored_schema.as_deref().is_some_and(|v| v != schema::SCHEMA_VERSION) {
        migrate_v2::run(&tx, vault)?
    } else if migrate_v2::has_table(&tx, "samples")? {
        bail!(
            "the vault (format v2) holds a v1 `samples` table, which it never creates: it was planted outside healthplug"
        );
    } else {
        None
    };
    tx.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', ?1)",
        params![schema::SCHEMA_VERSION],
    )?;
    vault.anchor_moved(before.as_ref(), audit::head(&tx)?.as_ref())?;
    tx.commit()?;
    Ok(migrated)
}

/// Refuses triggers and views: healthplug creates none, and one planted in
/// the file would run inside healthplug's own writes.
fn refuse_planted(tx: &Connection) -> Result<()> {
    let planted: Option<(String, String)> = tx
        .query_row(
            "SELECT type, name FROM sqlite_master WHERE type IN ('trigger', 'view') LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((kind, name)) = planted {
        bail!(
            "the vault database holds a {kind} `{name}`, which healthplug never creates: it was planted outside healthplug"
        );
    }
    Ok(())
}

/// The MACed tables that exist and already have a `mac` column.
fn tables_with_macs(tx: &Connection) -> Result<Vec<&'static str>> {
    let mut out = Vec::new();
    for table in rowmac::ALL {
        let has: bool = tx
            .prepare(&format!(
                "SELECT 1 FROM pragma_table_info('{}') WHERE name = 'mac'",
                table.name
            ))?
            .exists([])?;
        if has {
            out.push(table.name);
        }
    }
    Ok(out)
}

/// Upgrades schema `from` (1 or 2) to the current one inside `tx`.
/// `premacked` are the tables that carried row MACs before this open: a
/// vault of schema 1 or 2 has none, so any means the schema record was
/// rewound (on a vault born at schema 3, whose log records no upgrade).
fn upgrade(tx: &Connection, vault: &Vault, from: &str, premacked: &[&str]) -> Result<()> {
    let upgraded: Option<i64> = tx
        .query_row(
            "SELECT seq FROM audit WHERE entry LIKE '%\"kind\":\"upgrade\"%' ORDER BY seq LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(seq) = upgraded {
        bail!(
            "the vault's schema record says version {from}, but audit entry #{seq} records an upgrade past it: \
             the schema record was rewound outside healthplug (refusing to trust rows without a MAC)"
        );
    }
    if let Some(table) = premacked.first() {
        bail!(
            "the vault's schema record says version {from}, but its table `{table}` already carries row MACs, \
             which only version {} writes: the schema record was rewound outside healthplug (refusing to trust rows without a MAC)",
            schema::SCHEMA_VERSION
        );
    }
    let mut stamped = 0;
    for table in rowmac::ALL {
        stamped += tx.execute(
            &format!("UPDATE {} SET mac = {} WHERE mac IS NULL", table.name, table.mac_expr()),
            [],
        )?;
    }
    consents::seed_counter(tx)?;
    audit::append(
        tx,
        vault.keys(),
        &AuditEvent::new(AuditKind::Upgrade).outcome("ok").detail(format!(
            "schema {from} to {}: {stamped} rows written before the upgrade were MACed as they were",
            schema::SCHEMA_VERSION
        )),
    )?;
    Ok(())
}

/// The `CREATE TABLE` of the rebuilt users table: the stored definition
/// (every column, whatever was added since) with `AUTOINCREMENT`.
fn autoincrement_users(sql: &str) -> Option<String> {
    let body = &sql[sql.find('(')?..];
    let at = body.find("INTEGER PRIMARY KEY")? + "INTEGER PRIMARY KEY".len();
    Some(format!(
        "CREATE TABLE users_rebuilt {} AUTOINCREMENT{}",
        &body[..at],
        &body[at..]
    ))
}

/// Rebuilds a `users` table created before ids were `AUTOINCREMENT`, so an
/// erased user's id is never given to a new user. Runs on a connection of
/// its own with foreign keys off (dropping the old table must not cascade).
/// Ids issued before the upgrade and erased since cannot be known: the
/// sequence starts from the highest id present.
fn rebuild_users(db: &Path) -> Result<()> {
    let mut conn = Connection::open_with_flags(db, OpenFlags::default() | OpenFlags::SQLITE_OPEN_NOFOLLOW)
        .with_context(|| format!("opening the vault database {}", db.display()))?;
    conn.busy_timeout(super::BUSY_WAIT)?;
    let sql: Option<String> = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'users'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    let Some(sql) = sql else { return Ok(()) };
    if sql.to_ascii_uppercase().contains("AUTOINCREMENT") {
        return Ok(());
    }
    let Some(create) = autoincrement_users(&sql) else {
        bail!("cannot upgrade the vault's users table: unexpected definition {sql:?}");
    };
    conn.execute_batch("PRAGMA foreign_keys = OFF;")?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(&format!(
        "{create};
         INSERT INTO users_rebuilt SELECT * FROM users;
         DROP TABLE users;
         ALTER TABLE users_rebuilt RENAME TO users;"
    ))
    .context("rebuilding the users table with AUTOINCREMENT ids")?;
    if tx.prepare("PRAGMA foreign_key_check")?.exists([])? {
        bail!("rebuilding the users table would orphan rows: left as it was");
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_users_rebuild_keeps_every_column() {
        let old = "CREATE TABLE users (\n    id INTEGER PRIMARY KEY,\n    ref BLOB NOT NULL UNIQUE, tz TEXT NOT NULL DEFAULT 'UTC')";
        let new = autoincrement_users(old).unwrap();
        assert_eq!(
            new,
            "CREATE TABLE users_rebuilt (\n    id INTEGER PRIMARY KEY AUTOINCREMENT,\n    ref BLOB NOT NULL UNIQUE, tz TEXT NOT NULL DEFAULT 'UTC')"
        );
        assert!(autoincrement_users("CREATE TABLE users (id TEXT)").is_none());
    }
}
