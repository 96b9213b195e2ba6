//! The SQLite side of sealed day chunks (`chunks.rs` seals, opens and
//! merges): `sample_chunks`, one row per (user, type code, UTC day) with
//! its sealed payload, and `staged_chunks`, an invocation's sealed writes
//! until it commits or fails.

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension, params};

use super::store::EachChunk;

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
    each: &mut dyn FnMut(i64, &[u8]) -> Result<bool>,
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

/// Writes the sealed chunk of (user, type, day), replacing the one stored.
pub(crate) fn put(tx: &Connection, user_id: i64, ty: u8, day: i64, sealed: &[u8]) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO sample_chunks (user_id, data_type, day, payload) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (user_id, data_type, day) DO UPDATE SET payload = excluded.payload",
    )?
    .execute(params![user_id, ty, day, sealed])?;
    Ok(())
}

/// Stages one sealed chunk for `invocation`.
pub(crate) fn put_staged(
    tx: &Connection,
    invocation: &str,
    user_id: i64,
    (ty, day): (u8, i64),
    sealed: &[u8],
    staged_ms: i64,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO staged_chunks (invocation, user_id, data_type, day, payload, staged_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![invocation, user_id, ty, day, sealed, staged_ms])?;
    Ok(())
}

/// The (type code, day) pairs `invocation` staged for `user_id`, in order.
pub(crate) fn staged_days(conn: &Connection, invocation: &str, user_id: i64) -> Result<Vec<(u8, i64)>> {
    Ok(conn
        .prepare_cached(
            "SELECT DISTINCT data_type, day FROM staged_chunks WHERE invocation = ?1 AND user_id = ?2
             ORDER BY data_type, day",
        )?
        .query_map(params![invocation, user_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?)
}

/// The sealed chunks `invocation` staged for (type, day), in staging order.
pub(crate) fn staged_sealed(
    conn: &Connection,
    invocation: &str,
    user_id: i64,
    (ty, day): (u8, i64),
) -> Result<Vec<Vec<u8>>> {
    Ok(conn
        .prepare_cached(
            "SELECT payload FROM staged_chunks WHERE invocation = ?1 AND user_id = ?2 AND data_type = ?3 AND day = ?4
             ORDER BY rowid",
        )?
        .query_map(params![invocation, user_id, ty, day], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
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

/// Calls `each` with every stored chunk of `user_id`, by type code.
pub(crate) fn each_of_user(conn: &Connection, user_id: i64, each: &mut EachChunk<'_>) -> Result<()> {
    let mut stmt =
        conn.prepare_cached("SELECT data_type, day, payload FROM sample_chunks WHERE user_id = ?1 ORDER BY data_type")?;
    let mut rows = stmt.query(params![user_id])?;
    while let Some(row) = rows.next()? {
        each(row.get(0)?, row.get(1)?, row.get_ref(2)?.as_blob()?)?;
    }
    Ok(())
}
