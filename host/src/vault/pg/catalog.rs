//! What every host loads from PostgreSQL: installed plugins (rows MACed
//! with their approval), every manifest ever installed (checked against
//! its sha256), the component bytes (checked against theirs) each host
//! compiles into its own cache, and the trusted reviewers (MACed).

use anyhow::{Result, bail};
use sha2::{Digest, Sha256};
use tokio_postgres::Row;

use super::Db;
use crate::vault::DerivedKeys;
use crate::vault::plugins::{self, PluginRecord};
use crate::vault::rowmac::{self, PLUGINS, REVIEWERS, Val};
use crate::vault::trust::Reviewer;

const COLUMNS: &str =
    "id, version, name, publisher, world, manifest, manifest_sha256, component_sha256, installed_ms, dev, approval";

fn plugin_vals(p: &PluginRecord) -> [Val<'_>; 11] {
    [
        Val::Text(&p.id),
        Val::Text(&p.version),
        Val::Text(&p.name),
        Val::Text(&p.publisher),
        Val::Text(&p.world),
        Val::Text(&p.manifest),
        Val::Text(&p.manifest_sha256),
        Val::Text(&p.component_sha256),
        Val::Int(p.installed_ms),
        Val::Int(i64::from(p.dev)),
        p.approval.as_deref().map_or(Val::Null, Val::Text),
    ]
}

/// A plugin row of [`COLUMNS`] then `mac`, checked.
fn plugin_of(row: &Row, keys: &DerivedKeys) -> Result<PluginRecord> {
    let dev: i64 = row.try_get(9)?;
    let record = PluginRecord {
        id: row.try_get(0)?,
        version: row.try_get(1)?,
        name: row.try_get(2)?,
        publisher: row.try_get(3)?,
        world: row.try_get(4)?,
        manifest: row.try_get(5)?,
        manifest_sha256: row.try_get(6)?,
        component_sha256: row.try_get(7)?,
        installed_ms: row.try_get(8)?,
        dev: dev != 0,
        approval: row.try_get(10)?,
    };
    let mac: Option<&[u8]> = row.try_get(11)?;
    rowmac::check(
        (dev == 0 || dev == 1) && PLUGINS.verify_of(&keys.row, &plugin_vals(&record), mac),
        || format!("plugins(plugin {})", record.id),
    )?;
    Ok(record)
}

/// Inserts or replaces a plugin row, and remembers its manifest.
pub(super) fn upsert(db: &Db<'_>, keys: &DerivedKeys, p: &PluginRecord) -> Result<()> {
    let mac = PLUGINS.mac_of(&keys.row, &plugin_vals(p));
    db.exec(
        &format!(
            "INSERT INTO plugins ({COLUMNS}, mac) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (id) DO UPDATE SET version = excluded.version, name = excluded.name,
               publisher = excluded.publisher, world = excluded.world, manifest = excluded.manifest,
               manifest_sha256 = excluded.manifest_sha256, component_sha256 = excluded.component_sha256,
               installed_ms = excluded.installed_ms, dev = excluded.dev, approval = excluded.approval,
               mac = excluded.mac"
        ),
        &[
            &p.id,
            &p.version,
            &p.name,
            &p.publisher,
            &p.world,
            &p.manifest,
            &p.manifest_sha256,
            &p.component_sha256,
            &p.installed_ms,
            &i64::from(p.dev),
            &p.approval,
            &mac,
        ],
    )?;
    db.exec(
        "INSERT INTO plugin_manifests (sha256, plugin_id, manifest) VALUES ($1, $2, $3)
         ON CONFLICT (sha256) DO NOTHING",
        &[&p.manifest_sha256, &p.id, &p.manifest],
    )?;
    Ok(())
}

/// Removes a plugin and every user's grants and storage for it.
pub(super) fn delete(db: &Db<'_>, id: &str) -> Result<bool> {
    for table in ["consents", "consent_versions", "capability_grants", "plugin_storage"] {
        db.exec(&format!("DELETE FROM {table} WHERE plugin_id = $1"), &[&id])?;
    }
    Ok(db.exec("DELETE FROM plugins WHERE id = $1", &[&id])? == 1)
}

/// The manifest installed with this sha256, checked against it.
pub(super) fn manifest_by_sha(db: &Db<'_>, sha256: &str) -> Result<Option<String>> {
    let text: Option<String> = db
        .opt("SELECT manifest FROM plugin_manifests WHERE sha256 = $1", &[&sha256])?
        .map(|r| r.try_get(0))
        .transpose()?;
    plugins::checked_manifest(sha256, text)
}

/// One installed plugin.
pub(super) fn by_id(db: &Db<'_>, keys: &DerivedKeys, id: &str) -> Result<Option<PluginRecord>> {
    db.opt(&format!("SELECT {COLUMNS}, mac FROM plugins WHERE id = $1"), &[&id])?
        .map(|r| plugin_of(&r, keys))
        .transpose()
}

/// Every installed plugin, by id.
pub(super) fn all(db: &Db<'_>, keys: &DerivedKeys) -> Result<Vec<PluginRecord>> {
    db.query(&format!("SELECT {COLUMNS}, mac FROM plugins ORDER BY id"), &[])?
        .iter()
        .map(|r| plugin_of(r, keys))
        .collect()
}

/// The bytes of component `sha256`, checked against it.
pub(super) fn component(db: &Db<'_>, sha256: &str) -> Result<Option<Vec<u8>>> {
    let Some(row) = db.opt("SELECT bytes FROM components WHERE sha256 = $1", &[&sha256])? else {
        return Ok(None);
    };
    let bytes: Vec<u8> = row.try_get(0)?;
    if hex::encode(Sha256::digest(&bytes)) != sha256 {
        bail!("vault row components(sha256 {sha256}) failed its integrity check: it was altered outside healthplug");
    }
    Ok(Some(bytes))
}

/// Stores component bytes under their sha256 (kept if there already).
pub(super) fn put_component(db: &Db<'_>, sha256: &str, bytes: &[u8]) -> Result<()> {
    if hex::encode(Sha256::digest(bytes)) != sha256 {
        bail!("component bytes do not have the sha256 {sha256} they are stored under");
    }
    db.exec(
        "INSERT INTO components (sha256, bytes) VALUES ($1, $2)
         ON CONFLICT (sha256) DO UPDATE SET bytes = excluded.bytes",
        &[&sha256, &bytes],
    )?;
    Ok(())
}

/// Every trusted reviewer, by name.
pub(super) fn reviewers(db: &Db<'_>, keys: &DerivedKeys) -> Result<Vec<Reviewer>> {
    let rows = db.query(
        "SELECT public_key, name, added_ms, mac FROM trusted_reviewers ORDER BY name",
        &[],
    )?;
    let mut out = Vec::new();
    for row in &rows {
        let r = Reviewer {
            public_key: row.try_get(0)?,
            name: row.try_get(1)?,
            added_ms: row.try_get(2)?,
        };
        let vals = [Val::Text(&r.public_key), Val::Text(&r.name), Val::Int(r.added_ms)];
        rowmac::check(REVIEWERS.verify_of(&keys.row, &vals, row.try_get(3)?), || {
            format!("trusted_reviewers(key {})", r.public_key)
        })?;
        out.push(r);
    }
    Ok(out)
}

/// Trusts a reviewer (replacing a row with the same key).
pub(super) fn put_reviewer(db: &Db<'_>, keys: &DerivedKeys, r: &Reviewer) -> Result<()> {
    let vals = [Val::Text(&r.public_key), Val::Text(&r.name), Val::Int(r.added_ms)];
    let mac = REVIEWERS.mac_of(&keys.row, &vals);
    db.exec(
        "INSERT INTO trusted_reviewers (public_key, name, added_ms, mac) VALUES ($1, $2, $3, $4)
         ON CONFLICT (public_key) DO UPDATE SET name = excluded.name, added_ms = excluded.added_ms, mac = excluded.mac",
        &[&r.public_key, &r.name, &r.added_ms, &mac],
    )?;
    Ok(())
}
