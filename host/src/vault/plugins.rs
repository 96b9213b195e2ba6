//! Installed plugins: identity, the manifest as installed, and the digests
//! every load is checked against. Each row (the reviewer's approval and
//! the `dev` flag included) is MACed and checked on every read
//! (`rowmac.rs`); an old manifest is checked against its sha256.

use anyhow::{Result, bail};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Vault;
use super::rowmac::{self, PLUGINS};

/// An installed plugin as recorded in the vault.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PluginRecord {
    /// Plugin id.
    pub id: String,
    /// Version.
    pub version: String,
    /// Display name.
    pub name: String,
    /// Publisher.
    pub publisher: String,
    /// `plugin` or `connector`.
    pub world: String,
    /// The manifest text as installed.
    #[serde(skip)]
    pub manifest: String,
    /// sha256 of the manifest text.
    pub manifest_sha256: String,
    /// sha256 of the component bytes.
    pub component_sha256: String,
    /// When installed (ms since epoch).
    pub installed_ms: i64,
    /// Installed with `--dev` (not reviewed).
    pub dev: bool,
    /// The reviewer's approval (JSON) it was installed with, unless dev.
    #[serde(skip)]
    pub approval: Option<String>,
}

const COLUMNS: &str =
    "id, version, name, publisher, world, manifest, manifest_sha256, component_sha256, installed_ms, dev, approval";

/// A plugin row and whether its MAC verified (column 11).
fn from_row(r: &Row<'_>) -> rusqlite::Result<(PluginRecord, bool)> {
    let record = PluginRecord {
        id: r.get(0)?,
        version: r.get(1)?,
        name: r.get(2)?,
        publisher: r.get(3)?,
        world: r.get(4)?,
        manifest: r.get(5)?,
        manifest_sha256: r.get(6)?,
        component_sha256: r.get(7)?,
        installed_ms: r.get(8)?,
        dev: r.get::<_, i64>(9)? != 0,
        approval: r.get(10)?,
    };
    Ok((record, r.get(11)?))
}

/// Refuses a row whose MAC did not verify.
fn checked((record, ok): (PluginRecord, bool)) -> Result<PluginRecord> {
    rowmac::check(ok, || format!("plugins(plugin {})", record.id))?;
    Ok(record)
}

/// Inserts or replaces a plugin record inside a write transaction.
pub(crate) fn upsert(tx: &Connection, p: &PluginRecord) -> Result<()> {
    tx.execute(
        &format!("INSERT OR REPLACE INTO plugins ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"),
        params![
            p.id,
            p.version,
            p.name,
            p.publisher,
            p.world,
            p.manifest,
            p.manifest_sha256,
            p.component_sha256,
            p.installed_ms,
            i64::from(p.dev),
            p.approval
        ],
    )?;
    PLUGINS.stamp(tx, "id = ?1", &[&p.id])?;
    tx.execute(
        "INSERT OR IGNORE INTO plugin_manifests (sha256, plugin_id, manifest) VALUES (?1, ?2, ?3)",
        params![p.manifest_sha256, p.id, p.manifest],
    )?;
    Ok(())
}

/// Deletes a plugin record and every consent given to it.
pub(crate) fn delete(tx: &Connection, id: &str) -> Result<bool> {
    tx.execute("DELETE FROM consents WHERE plugin_id = ?1", params![id])?;
    tx.execute("DELETE FROM consent_versions WHERE plugin_id = ?1", params![id])?;
    tx.execute("DELETE FROM capability_grants WHERE plugin_id = ?1", params![id])?;
    tx.execute("DELETE FROM plugin_storage WHERE plugin_id = ?1", params![id])?;
    Ok(tx.execute("DELETE FROM plugins WHERE id = ?1", params![id])? == 1)
}

/// A manifest installed at some point, by its sha256 (refused if its
/// text no longer hashes to it).
pub(crate) fn manifest_by_sha(conn: &Connection, sha256: &str) -> Result<Option<String>> {
    let text: Option<String> = conn
        .query_row(
            "SELECT manifest FROM plugin_manifests WHERE sha256 = ?1",
            params![sha256],
            |r| r.get(0),
        )
        .optional()?;
    checked_manifest(sha256, text)
}

/// `text`, stored under `sha256`, if it still hashes to it (any backend).
pub(super) fn checked_manifest(sha256: &str, text: Option<String>) -> Result<Option<String>> {
    if let Some(text) = &text
        && hex::encode(Sha256::digest(text.as_bytes())) != sha256
    {
        bail!(
            "vault row plugin_manifests(sha256 {sha256}) failed its integrity check: it was altered outside healthplug"
        );
    }
    Ok(text)
}

/// The installed plugin with this id (its row checked against its MAC).
pub(super) fn by_id(conn: &Connection, id: &str) -> Result<Option<PluginRecord>> {
    let row = conn
        .query_row(
            &format!("SELECT {COLUMNS}, {} FROM plugins WHERE id = ?1", PLUGINS.ok_expr()),
            params![id],
            from_row,
        )
        .optional()?;
    row.map(checked).transpose()
}

/// Every installed plugin, by id (each row checked against its MAC).
pub(super) fn all(conn: &Connection) -> Result<Vec<PluginRecord>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS}, {} FROM plugins ORDER BY id",
        PLUGINS.ok_expr()
    ))?;
    let rows = stmt.query_map([], from_row)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(checked(row?)?);
    }
    Ok(out)
}

impl Vault {
    /// The installed plugin with this id (its row checked against its MAC).
    pub fn plugin(&self, id: &str) -> Result<Option<PluginRecord>> {
        self.store()?.plugin(id)
    }

    /// Every installed plugin, by id (each row checked against its MAC).
    pub fn plugins(&self) -> Result<Vec<PluginRecord>> {
        self.store()?.plugins()
    }
}
