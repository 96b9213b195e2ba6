//! Vault v1 to v2: every sample row of v1 (`samples`, one sealed payload
//! per sample, exact times in plaintext) is opened and written into the
//! sealed day chunk of its (user, type, UTC day), inside the opening
//! transaction: a vault is migrated whole or not at all. A v1 row that does
//! not open (tampered with, or sealed for another row) stops the migration
//! with an error naming it, leaving the vault as it was. Writes an
//! invocation of the old code had staged but not committed (`staged_samples`)
//! are dropped, as they would have been had it died.

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, params};

use super::chunk::{self, Entry};
use super::chunks;
use super::keys::SecretKey;
use super::samples::SamplePayload;
use super::store::Store;
use super::store_sqlite::SqliteStore;
use super::{AuditEvent, AuditKind, Vault, audit};

/// What a migration moved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct MigrationReport {
    /// Sample rows of vault v1 moved.
    pub samples: u64,
    /// Day chunks written.
    pub chunks: u64,
    /// Uncommitted staged rows dropped.
    pub staged_dropped: u64,
}

/// Whether table `name` exists.
pub(super) fn has_table(tx: &Connection, name: &str) -> Result<bool> {
    Ok(tx
        .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1")?
        .exists(params![name])?)
}

/// The AAD v1 bound each sample's payload to.
fn v1_aad(user_id: i64, ty: i64, start: i64, end: i64) -> Vec<u8> {
    format!("sample:{user_id}:{ty}:{start}:{end}").into_bytes()
}

/// Migrates the v1 sample rows inside `tx`, if the vault has them.
pub(super) fn run(tx: &Connection, vault: &Vault) -> Result<Option<MigrationReport>> {
    if !has_table(tx, "samples")? {
        return Ok(None);
    }
    let mut report = MigrationReport::default();
    let users: Vec<(i64, Vec<u8>, Vec<u8>)> = tx
        .prepare("SELECT id, ref, wrapped_key FROM users ORDER BY id")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (user_id, user_ref, wrapped) in users {
        let key = vault
            .keys()
            .wrap
            .unwrap_key(&wrapped, &user_ref)
            .with_context(|| format!("unwrapping the key of user {user_id} to migrate their samples"))?;
        let store = SqliteStore {
            conn: tx,
            keys: vault.keys(),
        };
        migrate_user(tx, &store, user_id, &key, &mut report)?;
    }
    if has_table(tx, "staged_samples")? {
        report.staged_dropped = tx.execute("DELETE FROM staged_samples", [])? as u64;
        tx.execute_batch("DROP TABLE staged_samples")?;
    }
    tx.execute_batch("DROP TABLE samples")?;
    audit::append(
        tx,
        vault.keys(),
        &AuditEvent::new(AuditKind::Upgrade).outcome("ok").detail(format!(
            "vault v1 to v2: {} samples into {} sealed day chunks ({} uncommitted staged samples dropped)",
            report.samples, report.chunks, report.staged_dropped
        )),
    )?;
    Ok(Some(report))
}

/// One user's v1 rows, read in (type, start) order and written a (type,
/// day) at a time.
fn migrate_user(
    tx: &Connection,
    store: &dyn Store,
    user_id: i64,
    key: &SecretKey,
    report: &mut MigrationReport,
) -> Result<()> {
    let mut stmt = tx.prepare(
        "SELECT id, data_type, start_ms, end_ms, digest, payload FROM samples WHERE user_id = ?1
         ORDER BY data_type, start_ms, id",
    )?;
    let mut rows = stmt.query(params![user_id])?;
    let mut group: Option<(u8, i64)> = None;
    let mut entries: Vec<Entry> = Vec::new();
    while let Some(row) = rows.next()? {
        let (id, ty, start_ms, end_ms): (i64, i64, i64, i64) = (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
        let code = u8::try_from(ty).with_context(|| format!("sample row {id} has type code {ty}"))?;
        let plain = key
            .open(row.get_ref(5)?.as_blob()?, &v1_aad(user_id, ty, start_ms, end_ms))
            .with_context(|| format!("sample row {id} of user {user_id} does not open: the vault was not migrated"))?;
        let payload: SamplePayload =
            postcard::from_bytes(&plain).with_context(|| format!("sample row {id} does not decode"))?;
        let full = row.get_ref(4)?.as_blob()?;
        let digest: chunk::Digest = full
            .get(..chunk::DIGEST_LEN)
            .and_then(|d| d.try_into().ok())
            .with_context(|| format!("sample row {id} has a {}-byte digest", full.len()))?;
        if end_ms < start_ms {
            bail!("sample row {id} ends before it starts");
        }
        let at = (code, chunk::day_of(start_ms));
        if group.is_some_and(|g| g != at) {
            flush(store, user_id, key, group, &mut entries, report)?;
        }
        group = Some(at);
        entries.push(Entry {
            start_ms,
            end_ms,
            digest,
            payload,
        });
        report.samples += 1;
    }
    flush(store, user_id, key, group, &mut entries, report)
}

fn flush(
    store: &dyn Store,
    user_id: i64,
    key: &SecretKey,
    group: Option<(u8, i64)>,
    entries: &mut Vec<Entry>,
    report: &mut MigrationReport,
) -> Result<()> {
    if let Some(at) = group
        && !entries.is_empty()
    {
        chunks::merge(store, key, user_id, at, std::mem::take(entries))?;
        report.chunks += 1;
    }
    Ok(())
}
