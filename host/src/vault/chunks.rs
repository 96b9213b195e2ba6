//! Sealed day chunks in SQLite (vault v2): one row per (user, type, UTC
//! day) in `sample_chunks`, its payload the chunk (`chunk.rs`) sealed with
//! the user's key and bound to that row's user, type and day, so a row
//! moved to another user, type or day does not open. Only user id, type
//! and day are plaintext: exact times, counts (up to the padding) and
//! values are not.
//!
//! Writes merge into the day's chunk inside the caller's transaction
//! (sorted by (start, digest); a digest already stored is a duplicate, and
//! the stored copy, with its provenance, is kept). An invocation's writes
//! are staged as sealed chunks of their own in `staged_chunks` (bound to
//! the invocation) and merged at commit, one (type, day) at a time, so a
//! commit holds one day of one type in memory whatever it imports.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension, params};
use zeroize::Zeroizing;

use super::chunk::{self, Columns, Decoded, Entry};
use super::keys::SecretKey;
use crate::registry::DataType;

/// Entries grouped by (type code, UTC day).
pub(crate) type Groups = BTreeMap<(u8, i64), Vec<Entry>>;

fn aad(user_id: i64, ty: u8, day: i64) -> Vec<u8> {
    format!("chunk v2:{user_id}:{ty}:{day}").into_bytes()
}

fn staged_aad(invocation: &str, user_id: i64, ty: u8, day: i64) -> Vec<u8> {
    format!("staged chunk v2:{invocation}:{user_id}:{ty}:{day}").into_bytes()
}

/// Seals a day's entries (in (start, digest) order).
fn seal(key: &SecretKey, aad: &[u8], day: i64, entries: &[Entry]) -> Result<Vec<u8>> {
    let plain = Zeroizing::new(chunk::encode(day, entries)?);
    key.seal(&plain, aad)
}

/// Opens a stored chunk and decodes the columns `cols`, as entries.
pub(crate) fn open(key: &SecretKey, user_id: i64, at: (u8, i64), sealed: &[u8], cols: Columns) -> Result<Vec<Entry>> {
    Ok(open_columns(key, user_id, at, sealed, cols)?.into_entries())
}

/// Opens a stored chunk and decodes the columns `cols`, as columns.
pub(crate) fn open_columns(
    key: &SecretKey,
    user_id: i64,
    (ty, day): (u8, i64),
    sealed: &[u8],
    cols: Columns,
) -> Result<Decoded> {
    let plain = key
        .open(sealed, &aad(user_id, ty, day))
        .with_context(|| format!("unsealing the chunk of type {ty}, day {day}"))?;
    chunk::decode_columns(day, &plain, cols).with_context(|| format!("decoding the chunk of type {ty}, day {day}"))
}

/// How many samples a stored chunk holds (opened, not decoded).
pub(crate) fn open_count(key: &SecretKey, user_id: i64, (ty, day): (u8, i64), sealed: &[u8]) -> Result<u64> {
    let plain = key
        .open(sealed, &aad(user_id, ty, day))
        .with_context(|| format!("unsealing the chunk of type {ty}, day {day}"))?;
    Ok(chunk::count(&plain)? as u64)
}

/// The sealed chunk of (user, type, day), if any.
pub(crate) fn sealed(conn: &Connection, user_id: i64, ty: u8, day: i64) -> Result<Option<Vec<u8>>> {
    let mut stmt =
        conn.prepare_cached("SELECT payload FROM sample_chunks WHERE user_id = ?1 AND data_type = ?2 AND day = ?3")?;
    Ok(stmt.query_row(params![user_id, ty, day], |r| r.get(0)).optional()?)
}

/// The first day in `[from, to]` holding a chunk of `ty` (plaintext index
/// only: nothing is opened).
pub(crate) fn next_day(conn: &Connection, user_id: i64, ty: u8, (from, to): (i64, i64)) -> Result<Option<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT day FROM sample_chunks WHERE user_id = ?1 AND data_type = ?2 AND day >= ?3 AND day <= ?4
         ORDER BY day LIMIT 1",
    )?;
    Ok(stmt
        .query_row(params![user_id, ty, from, to], |r| r.get(0))
        .optional()?)
}

/// Calls `each` with every stored chunk of `ty` in days `[from, to]`, in
/// day order, still sealed; `each` returns `false` to stop.
pub(crate) fn each_sealed(
    conn: &Connection,
    user_id: i64,
    ty: u8,
    (from, to): (i64, i64),
    mut each: impl FnMut(i64, &[u8]) -> Result<bool>,
) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT day, payload FROM sample_chunks WHERE user_id = ?1 AND data_type = ?2 AND day >= ?3 AND day <= ?4
         ORDER BY day",
    )?;
    let mut rows = stmt.query(params![user_id, ty, from, to])?;
    while let Some(row) = rows.next()? {
        let day: i64 = row.get(0)?;
        let sealed = row.get_ref(1)?.as_blob()?;
        if !each(day, sealed)? {
            break;
        }
    }
    Ok(())
}

/// Sorts a day's entries by (start, digest) and drops repeated digests
/// (the first, in the given order, is kept).
pub(crate) fn sort_dedup(entries: &mut Vec<Entry>) {
    entries.sort_by_key(|e| (e.start_ms, e.digest));
    entries.dedup_by(|later, kept| later.digest == kept.digest);
}

/// Merges `new` into the stored chunk of (user, type, day), inside the
/// caller's write transaction; returns how many of `new` were not stored
/// already.
pub(crate) fn merge(
    tx: &Connection,
    key: &SecretKey,
    user_id: i64,
    (ty, day): (u8, i64),
    new: Vec<Entry>,
) -> Result<u64> {
    let mut entries = match sealed(tx, user_id, ty, day)? {
        Some(s) => open(key, user_id, (ty, day), &s, Columns::ALL)?,
        None => Vec::new(),
    };
    let before = entries.len();
    entries.extend(new);
    sort_dedup(&mut entries);
    let added = entries.len() - before;
    if added > 0 {
        let payload = seal(key, &aad(user_id, ty, day), day, &entries)?;
        tx.prepare_cached(
            "INSERT INTO sample_chunks (user_id, data_type, day, payload) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (user_id, data_type, day) DO UPDATE SET payload = excluded.payload",
        )?
        .execute(params![user_id, ty, day, payload])?;
    }
    Ok(added as u64)
}

/// Stages `groups` for `invocation`, inside the caller's write transaction.
pub(crate) fn stage(tx: &Connection, invocation: &str, user_id: i64, key: &SecretKey, groups: &Groups) -> Result<()> {
    let staged_ms = super::now_ms();
    let mut stmt = tx.prepare_cached(
        "INSERT INTO staged_chunks (invocation, user_id, data_type, day, payload, staged_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (&(ty, day), entries) in groups {
        let payload = seal(key, &staged_aad(invocation, user_id, ty, day), day, entries)?;
        stmt.execute(params![invocation, user_id, ty, day, payload, staged_ms])?;
    }
    Ok(())
}

/// The entries `invocation` staged for (type, day), in staging order.
fn staged_entries(
    tx: &Connection,
    invocation: &str,
    user_id: i64,
    key: &SecretKey,
    (ty, day): (u8, i64),
) -> Result<Vec<Entry>> {
    let mut stmt = tx.prepare_cached(
        "SELECT payload FROM staged_chunks WHERE invocation = ?1 AND user_id = ?2 AND data_type = ?3 AND day = ?4
         ORDER BY rowid",
    )?;
    let mut rows = stmt.query(params![invocation, user_id, ty, day])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let plain = key
            .open(row.get_ref(0)?.as_blob()?, &staged_aad(invocation, user_id, ty, day))
            .context("unsealing a staged chunk")?;
        out.extend(chunk::decode(day, &plain, Columns::ALL)?);
    }
    Ok(out)
}

/// Merges what `invocation` staged for `user_id` into the stored chunks,
/// inside the caller's write transaction, one (type, day) at a time;
/// returns how many new samples were stored per type.
pub(crate) fn commit_staged(
    tx: &Connection,
    invocation: &str,
    user_id: i64,
    key: &SecretKey,
) -> Result<Vec<(DataType, u64)>> {
    let groups: Vec<(u8, i64)> = tx
        .prepare_cached(
            "SELECT DISTINCT data_type, day FROM staged_chunks WHERE invocation = ?1 AND user_id = ?2
             ORDER BY data_type, day",
        )?
        .query_map(params![invocation, user_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out: Vec<(DataType, u64)> = Vec::new();
    for group in groups {
        let entries = staged_entries(tx, invocation, user_id, key, group)?;
        let added = merge(tx, key, user_id, group, entries)?;
        let ty = DataType::from_code(group.0).with_context(|| format!("a staged chunk of unknown type {}", group.0))?;
        match out.last_mut() {
            Some((t, n)) if *t == ty => *n += added,
            _ => out.push((ty, added)),
        }
    }
    tx.execute("DELETE FROM staged_chunks WHERE invocation = ?1", params![invocation])?;
    Ok(out)
}

/// Deletes what `invocation` staged (it failed); returns the chunks deleted.
pub(crate) fn discard_staged(conn: &Connection, invocation: &str) -> Result<u64> {
    Ok(conn.execute("DELETE FROM staged_chunks WHERE invocation = ?1", params![invocation])? as u64)
}

/// Whether process `pid` is running (on Linux; elsewhere every process is
/// assumed alive and only the age rule purges).
fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

/// Deletes the staged writes of invocations whose process is gone (killed
/// in the middle of an import or invocation): they were never visible and
/// never will be. Returns the chunks deleted.
pub(crate) fn purge_orphaned_staged(tx: &Connection) -> Result<u64> {
    let own = std::process::id();
    let invocations: Vec<String> = tx
        .prepare("SELECT DISTINCT invocation FROM staged_chunks")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut deleted = 0;
    for invocation in invocations {
        let pid = invocation.split_once('-').and_then(|(pid, _)| pid.parse::<u32>().ok());
        if let Some(pid) = pid
            && pid != own
            && !process_alive(pid)
        {
            deleted += discard_staged(tx, &invocation)?;
        }
    }
    Ok(deleted)
}

/// Samples stored for `user_id`, per type (every chunk is opened, none
/// decoded).
pub(crate) fn counts(store: &dyn super::Store, user_id: i64, key: &SecretKey) -> Result<Vec<(DataType, u64)>> {
    let mut out: Vec<(DataType, u64)> = Vec::new();
    store.chunk_each_of_user(user_id, &mut |ty, day, sealed| {
        let n = open_count(key, user_id, (ty, day), sealed)?;
        let Some(ty) = DataType::from_code(ty) else {
            return Ok(());
        };
        match out.last_mut() {
            Some((t, total)) if *t == ty => *total += n,
            _ => out.push((ty, n)),
        }
        Ok(())
    })?;
    Ok(out)
}

/// Calls `each` with every stored chunk of `user_id`, by type code.
pub(crate) fn each_of_user(conn: &Connection, user_id: i64, each: &mut super::store::EachChunk<'_>) -> Result<()> {
    let mut stmt =
        conn.prepare_cached("SELECT data_type, day, payload FROM sample_chunks WHERE user_id = ?1 ORDER BY data_type")?;
    let mut rows = stmt.query(params![user_id])?;
    while let Some(row) = rows.next()? {
        each(row.get(0)?, row.get(1)?, row.get_ref(2)?.as_blob()?)?;
    }
    Ok(())
}
