//! The SQLite side of plugin storage (`storage.rs` seals and unseals):
//! the `plugin_storage` statements, rows found by (user, plugin, key MAC).

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension, params};

use super::storage::{SealedEntry, Usage};

/// The sealed value under `mac`.
pub(super) fn sealed(conn: &Connection, user_id: i64, plugin: &str, mac: &[u8]) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .query_row(
            "SELECT value FROM plugin_storage WHERE user_id = ?1 AND plugin_id = ?2 AND key_mac = ?3",
            params![user_id, plugin, mac],
            |r| r.get(0),
        )
        .optional()?)
}

/// The stored size under `mac`.
pub(super) fn size(conn: &Connection, user_id: i64, plugin: &str, mac: &[u8]) -> Result<Option<u64>> {
    Ok(conn
        .query_row(
            "SELECT size FROM plugin_storage WHERE user_id = ?1 AND plugin_id = ?2 AND key_mac = ?3",
            params![user_id, plugin, mac],
            |r| r.get::<_, i64>(0),
        )
        .optional()?
        .map(|s| u64::try_from(s).unwrap_or(0)))
}

/// Every (key MAC, sealed key name).
pub(super) fn sealed_keys(conn: &Connection, user_id: i64, plugin: &str) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut stmt =
        conn.prepare_cached("SELECT key_mac, key FROM plugin_storage WHERE user_id = ?1 AND plugin_id = ?2")?;
    let rows = stmt.query_map(params![user_id, plugin], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Totals for (user, plugin).
pub(super) fn usage(conn: &Connection, user_id: i64, plugin: &str) -> Result<Usage> {
    let (bytes, keys): (i64, i64) = conn.query_row(
        "SELECT COALESCE(SUM(size), 0), COUNT(*) FROM plugin_storage WHERE user_id = ?1 AND plugin_id = ?2",
        params![user_id, plugin],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(Usage {
        bytes: u64::try_from(bytes).unwrap_or(0),
        keys: u64::try_from(keys).unwrap_or(0),
    })
}

/// Writes (`Some`) or deletes (`None`) the entry under `mac`.
pub(super) fn put(
    tx: &Connection,
    user_id: i64,
    plugin: &str,
    mac: &[u8],
    entry: Option<SealedEntry<'_>>,
) -> Result<()> {
    match entry {
        None => {
            tx.execute(
                "DELETE FROM plugin_storage WHERE user_id = ?1 AND plugin_id = ?2 AND key_mac = ?3",
                params![user_id, plugin, mac],
            )?;
        }
        Some(e) => {
            let size = i64::try_from(e.size).unwrap_or(i64::MAX);
            tx.execute(
                "INSERT OR REPLACE INTO plugin_storage (user_id, plugin_id, key_mac, key, value, size)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![user_id, plugin, mac, e.key, e.value, size],
            )?;
        }
    }
    Ok(())
}

/// Deletes a plugin's storage for a user (every plugin when `plugin` is
/// `None`); returns the entries deleted.
pub(super) fn delete_all(tx: &Connection, user_id: i64, plugin: Option<&str>) -> Result<u64> {
    let n = match plugin {
        Some(p) => tx.execute(
            "DELETE FROM plugin_storage WHERE user_id = ?1 AND plugin_id = ?2",
            params![user_id, p],
        )?,
        None => tx.execute("DELETE FROM plugin_storage WHERE user_id = ?1", params![user_id])?,
    };
    Ok(n as u64)
}
