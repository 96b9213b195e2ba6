//! Consent rows (user x plugin x type) and the per-(user, plugin) version
//! counter host calls use to notice a grant or revoke at once.

use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::Vault;
use crate::consent::{Fields, Granularity, UserGrant};
use crate::registry::DataType;

const COLUMNS: &str =
    "data_type, read, write, fields, days, since_ms, granularity, until_ms, purpose, granted_ms, revoked_ms";

/// Reads a grant from the consent columns starting at column `at`.
fn from_row(r: &Row<'_>, at: usize) -> rusqlite::Result<Option<UserGrant>> {
    let code: i64 = r.get(at)?;
    let Some(data_type) = u8::try_from(code).ok().and_then(DataType::from_code) else {
        return Ok(None);
    };
    Ok(Some(UserGrant {
        data_type,
        read: r.get::<_, i64>(at + 1)? != 0,
        write: r.get::<_, i64>(at + 2)? != 0,
        fields: Fields::from_bits(u8::try_from(r.get::<_, i64>(at + 3)?).unwrap_or(0)),
        days: r.get::<_, Option<i64>>(at + 4)?.and_then(|d| u32::try_from(d).ok()),
        since_ms: r.get(at + 5)?,
        granularity: Granularity::from_code(r.get(at + 6)?).unwrap_or(Granularity::Daily),
        until_ms: r.get(at + 7)?,
        purpose: r.get(at + 8)?,
        granted_ms: r.get(at + 9)?,
        revoked_ms: r.get(at + 10)?,
    }))
}

/// The grant rows of `user_id` for `plugin_id` (revoked ones included).
pub(crate) fn grants(conn: &Connection, user_id: i64, plugin_id: &str) -> Result<Vec<UserGrant>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM consents WHERE user_id = ?1 AND plugin_id = ?2 ORDER BY data_type"
    ))?;
    let rows = stmt.query_map(params![user_id, plugin_id], |r| from_row(r, 0))?;
    let mut out = Vec::new();
    for row in rows {
        if let Some(grant) = row? {
            out.push(grant);
        }
    }
    Ok(out)
}

/// The consent version of (user, plugin): 0 before any grant.
pub(crate) fn version(conn: &Connection, user_id: i64, plugin_id: &str) -> Result<i64> {
    let mut stmt = conn.prepare_cached("SELECT version FROM consent_versions WHERE user_id = ?1 AND plugin_id = ?2")?;
    Ok(stmt
        .query_row(params![user_id, plugin_id], |r| r.get(0))
        .optional()
        .context("reading the consent version")?
        .unwrap_or(0))
}

pub(crate) fn bump(tx: &Connection, user_id: i64, plugin_id: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO consent_versions (user_id, plugin_id, version) VALUES (?1, ?2, 1)
         ON CONFLICT (user_id, plugin_id) DO UPDATE SET version = version + 1",
        params![user_id, plugin_id],
    )?;
    Ok(())
}

/// Records that the user's grants now follow the manifest `sha256`.
pub(crate) fn set_consented_manifest(tx: &Connection, user_id: i64, plugin_id: &str, sha256: &str) -> Result<()> {
    tx.execute(
        "UPDATE consent_versions SET consented_manifest = ?3 WHERE user_id = ?1 AND plugin_id = ?2",
        params![user_id, plugin_id, sha256],
    )?;
    Ok(())
}

/// The manifest sha256 the user last granted against.
pub(crate) fn consented_manifest(conn: &Connection, user_id: i64, plugin_id: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT consented_manifest FROM consent_versions WHERE user_id = ?1 AND plugin_id = ?2",
            params![user_id, plugin_id],
            |r| r.get(0),
        )
        .optional()?
        .flatten())
}

/// Stores grant rows (replacing earlier rows of the same types) and bumps
/// the consent version, inside the caller's write transaction.
pub(crate) fn put(tx: &Connection, user_id: i64, plugin_id: &str, grants: &[UserGrant]) -> Result<()> {
    for g in grants {
        tx.execute(
            &format!(
                "INSERT OR REPLACE INTO consents (user_id, plugin_id, {COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
            ),
            params![
                user_id,
                plugin_id,
                i64::from(g.data_type.code()),
                i64::from(g.read),
                i64::from(g.write),
                i64::from(g.fields.bits()),
                g.days.map(i64::from),
                g.since_ms,
                i64::from(g.granularity.code()),
                g.until_ms,
                g.purpose,
                g.granted_ms,
                g.revoked_ms,
            ],
        )?;
    }
    bump(tx, user_id, plugin_id)
}

/// Marks grants revoked (all types when `types` is `None`) and bumps the
/// version; returns the types that were in force and are now revoked.
pub(crate) fn revoke(
    tx: &Connection,
    user_id: i64,
    plugin_id: &str,
    types: Option<&[DataType]>,
    now_ms: i64,
) -> Result<Vec<DataType>> {
    let current = grants(tx, user_id, plugin_id)?;
    let mut revoked = Vec::new();
    for g in current.iter().filter(|g| g.revoked_ms.is_none()) {
        if types.is_none_or(|t| t.contains(&g.data_type)) {
            tx.execute(
                "UPDATE consents SET revoked_ms = ?4 WHERE user_id = ?1 AND plugin_id = ?2 AND data_type = ?3",
                params![user_id, plugin_id, i64::from(g.data_type.code()), now_ms],
            )?;
            revoked.push(g.data_type);
        }
    }
    bump(tx, user_id, plugin_id)?;
    Ok(revoked)
}

impl Vault {
    /// Every consent row of a user, by plugin.
    pub fn consents_of(&self, user_id: i64) -> Result<Vec<(String, UserGrant)>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT plugin_id, {COLUMNS} FROM consents WHERE user_id = ?1 ORDER BY plugin_id, data_type"
        ))?;
        let rows = stmt.query_map(params![user_id], |r| {
            let plugin: String = r.get(0)?;
            Ok(from_row(r, 1)?.map(|grant| (plugin, grant)))
        })?;
        let mut out = Vec::new();
        for row in rows {
            if let Some(pair) = row? {
                out.push(pair);
            }
        }
        Ok(out)
    }

    /// The grant rows of a user for one plugin.
    pub fn grants(&self, user_id: i64, plugin_id: &str) -> Result<Vec<UserGrant>> {
        let conn = self.conn()?;
        grants(&conn, user_id, plugin_id)
    }
}
