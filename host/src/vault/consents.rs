//! Consent rows (user x plugin x type) and the per-(user, plugin) consent
//! version host calls use to notice a grant or revoke at once. Versions
//! come from one global counter in `meta` that only ever grows (not reset
//! by removing a plugin or erasing a user), so a version once seen is never
//! handed out again. Every row is MACed and checked on read (`rowmac.rs`).

use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::Vault;
use super::rowmac::{self, CONSENT_VERSIONS, CONSENTS, META};
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

/// Names a consent row in errors.
fn row_name(user_id: i64, plugin_id: &str, code: i64) -> String {
    let ty = u8::try_from(code)
        .ok()
        .and_then(DataType::from_code)
        .map_or_else(|| code.to_string(), |t| t.id().to_string());
    format!("consents(user {user_id}, plugin {plugin_id}, type {ty})")
}

/// The grant rows of `user_id` for `plugin_id` (revoked ones included),
/// each checked against its MAC.
pub(crate) fn grants(conn: &Connection, user_id: i64, plugin_id: &str) -> Result<Vec<UserGrant>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS}, {} FROM consents WHERE user_id = ?1 AND plugin_id = ?2 ORDER BY data_type",
        CONSENTS.ok_expr()
    ))?;
    let rows = stmt.query_map(params![user_id, plugin_id], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, bool>(11)?, from_row(r, 0)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (code, ok, grant) = row?;
        rowmac::check(ok, || row_name(user_id, plugin_id, code))?;
        if let Some(grant) = grant {
            out.push(grant);
        }
    }
    Ok(out)
}

/// The (version, consented manifest) row of (user, plugin), checked.
fn version_row(conn: &Connection, user_id: i64, plugin_id: &str) -> Result<Option<(i64, Option<String>)>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT version, consented_manifest, {} FROM consent_versions WHERE user_id = ?1 AND plugin_id = ?2",
        CONSENT_VERSIONS.ok_expr()
    ))?;
    let row: Option<(i64, Option<String>, bool)> = stmt
        .query_row(params![user_id, plugin_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()
        .context("reading the consent version")?;
    let Some((version, manifest, ok)) = row else {
        return Ok(None);
    };
    rowmac::check(ok, || format!("consent_versions(user {user_id}, plugin {plugin_id})"))?;
    Ok(Some((version, manifest)))
}

/// Writes the (version, consented manifest) row of (user, plugin).
fn put_version_row(tx: &Connection, user_id: i64, plugin_id: &str, version: i64, manifest: Option<&str>) -> Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO consent_versions (user_id, plugin_id, version, consented_manifest)
         VALUES (?1, ?2, ?3, ?4)",
        params![user_id, plugin_id, version, manifest],
    )?;
    CONSENT_VERSIONS.stamp(
        tx,
        "user_id = ?1 AND plugin_id = ?2",
        &[&user_id as &dyn rusqlite::ToSql, &plugin_id],
    )
}

/// The consent version of (user, plugin): 0 before any grant.
pub(crate) fn version(conn: &Connection, user_id: i64, plugin_id: &str) -> Result<i64> {
    Ok(version_row(conn, user_id, plugin_id)?.map_or(0, |(v, _)| v))
}

/// The key of the global consent version counter in `meta`.
const COUNTER: &str = "consent_version";

/// Sets the global counter (migration: to the highest version issued).
pub(crate) fn seed_counter(tx: &Connection) -> Result<()> {
    let highest: i64 = tx.query_row("SELECT COALESCE(MAX(version), 0) FROM consent_versions", [], |r| {
        r.get(0)
    })?;
    tx.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
        params![COUNTER, highest.to_string()],
    )?;
    META.stamp(tx, "key = ?1", &[COUNTER])
}

/// Takes the next version from the global counter (checked against its
/// MAC), which never goes back: not on remove, not on erase.
fn next_version(tx: &Connection) -> Result<i64> {
    let row: Option<(String, bool)> = tx
        .query_row(
            &format!("SELECT value, {} FROM meta WHERE key = ?1", META.ok_expr()),
            params![COUNTER],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((value, ok)) = row else {
        anyhow::bail!("the vault's consent version counter is missing: it was deleted outside healthplug");
    };
    rowmac::check(ok, || format!("meta({COUNTER})"))?;
    let counter: i64 = value.parse().context("the consent version counter is not a number")?;
    let highest: i64 = tx.query_row("SELECT COALESCE(MAX(version), 0) FROM consent_versions", [], |r| {
        r.get(0)
    })?;
    let next = counter.max(highest) + 1;
    tx.execute(
        "UPDATE meta SET value = ?2 WHERE key = ?1",
        params![COUNTER, next.to_string()],
    )?;
    META.stamp(tx, "key = ?1", &[COUNTER])?;
    Ok(next)
}

/// Gives (user, plugin) a new consent version, so running invocations
/// recompute their grants on their next host call.
pub(crate) fn bump(tx: &Connection, user_id: i64, plugin_id: &str) -> Result<()> {
    let manifest = version_row(tx, user_id, plugin_id)?.and_then(|(_, m)| m);
    let version = next_version(tx)?;
    put_version_row(tx, user_id, plugin_id, version, manifest.as_deref())
}

/// Records that the user's grants now follow the manifest `sha256`.
pub(crate) fn set_consented_manifest(tx: &Connection, user_id: i64, plugin_id: &str, sha256: &str) -> Result<()> {
    if let Some((version, _)) = version_row(tx, user_id, plugin_id)? {
        put_version_row(tx, user_id, plugin_id, version, Some(sha256))?;
    }
    Ok(())
}

/// The manifest sha256 the user last granted against.
pub(crate) fn consented_manifest(conn: &Connection, user_id: i64, plugin_id: &str) -> Result<Option<String>> {
    Ok(version_row(conn, user_id, plugin_id)?.and_then(|(_, m)| m))
}

/// Writes one grant row of (user, plugin) with its MAC.
fn put_row(tx: &Connection, user_id: i64, plugin_id: &str, g: &UserGrant) -> Result<()> {
    let code = i64::from(g.data_type.code());
    tx.execute(
        &format!(
            "INSERT OR REPLACE INTO consents (user_id, plugin_id, {COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
        ),
        params![
            user_id,
            plugin_id,
            code,
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
    CONSENTS.stamp(
        tx,
        "user_id = ?1 AND plugin_id = ?2 AND data_type = ?3",
        &[&user_id as &dyn rusqlite::ToSql, &plugin_id, &code],
    )
}

/// Stores grant rows (replacing earlier rows of the same types) and bumps
/// the consent version, inside the caller's write transaction.
pub(crate) fn put(tx: &Connection, user_id: i64, plugin_id: &str, grants: &[UserGrant]) -> Result<()> {
    for g in grants {
        put_row(tx, user_id, plugin_id, g)?;
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
    for g in current.into_iter().filter(|g| g.revoked_ms.is_none()) {
        if types.is_none_or(|t| t.contains(&g.data_type)) {
            let data_type = g.data_type;
            put_row(
                tx,
                user_id,
                plugin_id,
                &UserGrant {
                    revoked_ms: Some(now_ms),
                    ..g
                },
            )?;
            revoked.push(data_type);
        }
    }
    bump(tx, user_id, plugin_id)?;
    Ok(revoked)
}

/// Every consent row of a user, by plugin, each checked against its MAC.
pub(super) fn of_user(conn: &Connection, user_id: i64) -> Result<Vec<(String, UserGrant)>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT plugin_id, {COLUMNS}, {} FROM consents WHERE user_id = ?1 ORDER BY plugin_id, data_type",
        CONSENTS.ok_expr()
    ))?;
    let rows = stmt.query_map(params![user_id], |r| {
        let plugin: String = r.get(0)?;
        Ok((r.get::<_, i64>(1)?, r.get::<_, bool>(12)?, from_row(r, 1)?, plugin))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (code, ok, grant, plugin) = row?;
        rowmac::check(ok, || row_name(user_id, &plugin, code))?;
        if let Some(grant) = grant {
            out.push((plugin, grant));
        }
    }
    Ok(out)
}

impl Vault {
    /// Every consent row of a user, by plugin, each checked against its
    /// MAC.
    pub fn consents_of(&self, user_id: i64) -> Result<Vec<(String, UserGrant)>> {
        self.store()?.consents_of_user(user_id)
    }

    /// The grant rows of a user for one plugin.
    pub fn grants(&self, user_id: i64, plugin_id: &str) -> Result<Vec<UserGrant>> {
        self.store()?.consent_grants(user_id, plugin_id)
    }
}
