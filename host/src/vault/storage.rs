//! Plugin storage rows: one user x one plugin, keys looked up by a keyed
//! MAC, keys and values sealed with the user's key and bound to their
//! (user, plugin) so a row cannot be moved to another plugin or user.

use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension, params};

use super::SecretKey;

/// Byte and key totals of a plugin's storage for a user.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Bytes (keys + values).
    pub bytes: u64,
    /// Keys.
    pub keys: u64,
}

fn key_mac(key: &SecretKey, plugin: &str, name: &str) -> [u8; 32] {
    let mut data = Vec::with_capacity(plugin.len() + name.len() + 1);
    data.extend_from_slice(plugin.as_bytes());
    data.push(0);
    data.extend_from_slice(name.as_bytes());
    key.derive("plugin storage key v1").mac(&data)
}

fn aad(user_id: i64, plugin: &str, what: &str, mac: &[u8]) -> Vec<u8> {
    format!("storage:{what}:{user_id}:{plugin}:{}", hex::encode(mac)).into_bytes()
}

/// The value under `name`.
pub(crate) fn get(
    conn: &Connection,
    user_id: i64,
    plugin: &str,
    key: &SecretKey,
    name: &str,
) -> Result<Option<Vec<u8>>> {
    let mac = key_mac(key, plugin, name);
    let sealed: Option<Vec<u8>> = conn
        .query_row(
            "SELECT value FROM plugin_storage WHERE user_id = ?1 AND plugin_id = ?2 AND key_mac = ?3",
            params![user_id, plugin, mac.as_slice()],
            |r| r.get(0),
        )
        .optional()?;
    match sealed {
        None => Ok(None),
        Some(s) => Ok(Some(
            key.open(&s, &aad(user_id, plugin, "value", &mac))
                .context("unsealing a stored value")?
                .to_vec(),
        )),
    }
}

/// The size of the entry under `name`, if any.
pub(crate) fn size_of(
    conn: &Connection,
    user_id: i64,
    plugin: &str,
    key: &SecretKey,
    name: &str,
) -> Result<Option<u64>> {
    let mac = key_mac(key, plugin, name);
    Ok(conn
        .query_row(
            "SELECT size FROM plugin_storage WHERE user_id = ?1 AND plugin_id = ?2 AND key_mac = ?3",
            params![user_id, plugin, mac.as_slice()],
            |r| r.get::<_, i64>(0),
        )
        .optional()?
        .map(|s| u64::try_from(s).unwrap_or(0)))
}

/// Every key (unsealed), sorted.
pub(crate) fn keys(conn: &Connection, user_id: i64, plugin: &str, key: &SecretKey) -> Result<Vec<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT key_mac, key FROM plugin_storage WHERE user_id = ?1 AND plugin_id = ?2")?;
    let rows = stmt.query_map(params![user_id, plugin], |r| {
        Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (mac, sealed) = row?;
        let plain = key
            .open(&sealed, &aad(user_id, plugin, "key", &mac))
            .context("unsealing a stored key")?;
        out.push(String::from_utf8(plain.to_vec()).context("a stored key is not UTF-8")?);
    }
    out.sort();
    Ok(out)
}

/// Totals for (user, plugin).
pub(crate) fn usage(conn: &Connection, user_id: i64, plugin: &str) -> Result<Usage> {
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

/// Sets (`Some`) or deletes (`None`) `name` in the caller's transaction.
pub(crate) fn put(
    tx: &Connection,
    user_id: i64,
    plugin: &str,
    key: &SecretKey,
    name: &str,
    value: Option<&[u8]>,
) -> Result<()> {
    let mac = key_mac(key, plugin, name);
    match value {
        None => {
            tx.execute(
                "DELETE FROM plugin_storage WHERE user_id = ?1 AND plugin_id = ?2 AND key_mac = ?3",
                params![user_id, plugin, mac.as_slice()],
            )?;
        }
        Some(v) => {
            let sealed_key = key.seal(name.as_bytes(), &aad(user_id, plugin, "key", &mac))?;
            let sealed_value = key.seal(v, &aad(user_id, plugin, "value", &mac))?;
            let size = i64::try_from(name.len() + v.len()).unwrap_or(i64::MAX);
            tx.execute(
                "INSERT OR REPLACE INTO plugin_storage (user_id, plugin_id, key_mac, key, value, size)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![user_id, plugin, mac.as_slice(), sealed_key, sealed_value, size],
            )?;
        }
    }
    Ok(())
}

/// Deletes a plugin's storage for a user (every plugin when `plugin` is
/// `None`); returns the entries deleted.
pub(crate) fn delete_all(tx: &Connection, user_id: i64, plugin: Option<&str>) -> Result<u64> {
    let n = match plugin {
        Some(p) => tx.execute(
            "DELETE FROM plugin_storage WHERE user_id = ?1 AND plugin_id = ?2",
            params![user_id, p],
        )?,
        None => tx.execute("DELETE FROM plugin_storage WHERE user_id = ?1", params![user_id])?,
    };
    Ok(n as u64)
}
