//! Consents, consent versions and capability grants in PostgreSQL, each
//! row MACed in process (`rowmac.rs`, the same encoding SQLite computes)
//! and checked on every read. Versions come from one counter in `meta`
//! (MACed, locked `FOR UPDATE` while taken) that only grows; every bump
//! also announces the change to the other hosts (`versions.rs`).

use anyhow::{Context, Result};
use tokio_postgres::Row;

use super::Db;
use super::versions::{CHANNEL, payload};
use crate::consent::{Capability, CapabilityScope, Fields, Granularity, UserGrant};
use crate::registry::DataType;
use crate::vault::DerivedKeys;
use crate::vault::capabilities::{self, CapabilityGrant};
use crate::vault::rowmac::{self, CAPABILITIES, CONSENT_VERSIONS, CONSENTS, META, Val};

const COLUMNS: &str =
    "data_type, read, write, fields, days, since_ms, granularity, until_ms, purpose, granted_ms, revoked_ms";

/// The key of the global consent version counter in `meta`.
const COUNTER: &str = "consent_version";

/// The MACed values of a consent row.
fn consent_vals<'a>(user_id: i64, plugin: &'a str, g: &'a UserGrant) -> [Val<'a>; 13] {
    [
        Val::Int(user_id),
        Val::Text(plugin),
        Val::Int(i64::from(g.data_type.code())),
        Val::Int(i64::from(g.read)),
        Val::Int(i64::from(g.write)),
        Val::Int(i64::from(g.fields.bits())),
        g.days.map(i64::from).into(),
        g.since_ms.into(),
        Val::Int(i64::from(g.granularity.code())),
        g.until_ms.into(),
        Val::Text(&g.purpose),
        Val::Int(g.granted_ms),
        g.revoked_ms.into(),
    ]
}

/// A grant from a row of [`COLUMNS`] then `mac`, checked; `None` for a
/// type this build does not know.
fn grant_of(row: &Row, user_id: i64, plugin: &str, keys: &DerivedKeys) -> Result<Option<UserGrant>> {
    let code: i64 = row.try_get(0)?;
    let grant = |data_type| -> Result<UserGrant> {
        Ok(UserGrant {
            data_type,
            read: row.try_get::<_, i64>(1)? != 0,
            write: row.try_get::<_, i64>(2)? != 0,
            fields: Fields::from_bits(u8::try_from(row.try_get::<_, i64>(3)?).unwrap_or(0)),
            days: row.try_get::<_, Option<i64>>(4)?.and_then(|d| u32::try_from(d).ok()),
            since_ms: row.try_get(5)?,
            granularity: Granularity::from_code(row.try_get(6)?).unwrap_or(Granularity::Daily),
            until_ms: row.try_get(7)?,
            purpose: row.try_get(8)?,
            granted_ms: row.try_get(9)?,
            revoked_ms: row.try_get(10)?,
        })
    };
    let mac: Option<&[u8]> = row.try_get(11)?;
    let name = || format!("consents(user {user_id}, plugin {plugin}, type {code})");
    let Some(data_type) = u8::try_from(code).ok().and_then(DataType::from_code) else {
        return Ok(None);
    };
    let g = grant(data_type)?;
    // Values that do not survive the round trip (an out-of-range field
    // mask, an unknown granularity) fail the MAC like any altered value.
    let exact = i64::from(g.fields.bits()) == row.try_get::<_, i64>(3)?
        && i64::from(g.granularity.code()) == row.try_get::<_, i64>(6)?;
    rowmac::check(
        exact && CONSENTS.verify_of(&keys.row, &consent_vals(user_id, plugin, &g), mac),
        name,
    )?;
    Ok(Some(g))
}

/// The grant rows of (user, plugin), revoked ones included.
pub(super) fn grants(db: &Db<'_>, keys: &DerivedKeys, user_id: i64, plugin: &str) -> Result<Vec<UserGrant>> {
    let rows = db.query(
        &format!("SELECT {COLUMNS}, mac FROM consents WHERE user_id = $1 AND plugin_id = $2 ORDER BY data_type"),
        &[&user_id, &plugin],
    )?;
    let mut out = Vec::new();
    for row in &rows {
        out.extend(grant_of(row, user_id, plugin, keys)?);
    }
    Ok(out)
}

/// Every consent row of a user, by plugin.
pub(super) fn of_user(db: &Db<'_>, keys: &DerivedKeys, user_id: i64) -> Result<Vec<(String, UserGrant)>> {
    let rows = db.query(
        &format!("SELECT {COLUMNS}, mac, plugin_id FROM consents WHERE user_id = $1 ORDER BY plugin_id, data_type"),
        &[&user_id],
    )?;
    let mut out = Vec::new();
    for row in &rows {
        let plugin: String = row.try_get(12)?;
        if let Some(g) = grant_of(row, user_id, &plugin, keys)? {
            out.push((plugin, g));
        }
    }
    Ok(out)
}

/// Writes one grant row with its MAC.
fn put_row(db: &Db<'_>, keys: &DerivedKeys, user_id: i64, plugin: &str, g: &UserGrant) -> Result<()> {
    let mac = CONSENTS.mac_of(&keys.row, &consent_vals(user_id, plugin, g));
    db.exec(
        &format!(
            "INSERT INTO consents (user_id, plugin_id, {COLUMNS}, mac)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
             ON CONFLICT (user_id, plugin_id, data_type) DO UPDATE SET
               read = excluded.read, write = excluded.write, fields = excluded.fields, days = excluded.days,
               since_ms = excluded.since_ms, granularity = excluded.granularity, until_ms = excluded.until_ms,
               purpose = excluded.purpose, granted_ms = excluded.granted_ms, revoked_ms = excluded.revoked_ms,
               mac = excluded.mac"
        ),
        &[
            &user_id,
            &plugin,
            &i64::from(g.data_type.code()),
            &i64::from(g.read),
            &i64::from(g.write),
            &i64::from(g.fields.bits()),
            &g.days.map(i64::from),
            &g.since_ms,
            &i64::from(g.granularity.code()),
            &g.until_ms,
            &g.purpose,
            &g.granted_ms,
            &g.revoked_ms,
            &mac,
        ],
    )?;
    Ok(())
}

/// Writes grant rows and bumps the version.
pub(super) fn put(db: &Db<'_>, keys: &DerivedKeys, user_id: i64, plugin: &str, grants: &[UserGrant]) -> Result<()> {
    for g in grants {
        put_row(db, keys, user_id, plugin, g)?;
    }
    bump(db, keys, user_id, plugin)
}

/// Marks grants revoked and bumps the version; the types that were in force.
pub(super) fn revoke(
    db: &Db<'_>,
    keys: &DerivedKeys,
    (user_id, plugin): (i64, &str),
    types: Option<&[DataType]>,
    now_ms: i64,
) -> Result<Vec<DataType>> {
    let mut revoked = Vec::new();
    for g in grants(db, keys, user_id, plugin)?
        .into_iter()
        .filter(|g| g.revoked_ms.is_none())
    {
        if types.is_none_or(|t| t.contains(&g.data_type)) {
            let data_type = g.data_type;
            let g = UserGrant {
                revoked_ms: Some(now_ms),
                ..g
            };
            put_row(db, keys, user_id, plugin, &g)?;
            revoked.push(data_type);
        }
    }
    bump(db, keys, user_id, plugin)?;
    Ok(revoked)
}

/// The (version, consented manifest) row of (user, plugin), checked.
pub(super) fn version_row(
    db: &Db<'_>,
    keys: &DerivedKeys,
    user_id: i64,
    plugin: &str,
) -> Result<Option<(i64, Option<String>)>> {
    let Some(row) = db.opt(
        "SELECT version, consented_manifest, mac FROM consent_versions WHERE user_id = $1 AND plugin_id = $2",
        &[&user_id, &plugin],
    )?
    else {
        return Ok(None);
    };
    let (version, manifest, mac): (i64, Option<String>, Option<&[u8]>) =
        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    let vals = [
        Val::Int(user_id),
        Val::Text(plugin),
        Val::Int(version),
        manifest.as_deref().map_or(Val::Null, Val::Text),
    ];
    rowmac::check(CONSENT_VERSIONS.verify_of(&keys.row, &vals, mac), || {
        format!("consent_versions(user {user_id}, plugin {plugin})")
    })?;
    Ok(Some((version, manifest)))
}

fn put_version_row(
    db: &Db<'_>,
    keys: &DerivedKeys,
    (user_id, plugin): (i64, &str),
    version: i64,
    manifest: Option<&str>,
) -> Result<()> {
    let vals = [
        Val::Int(user_id),
        Val::Text(plugin),
        Val::Int(version),
        manifest.map_or(Val::Null, Val::Text),
    ];
    let mac = CONSENT_VERSIONS.mac_of(&keys.row, &vals);
    db.exec(
        "INSERT INTO consent_versions (user_id, plugin_id, version, consented_manifest, mac)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (user_id, plugin_id) DO UPDATE SET
           version = excluded.version, consented_manifest = excluded.consented_manifest, mac = excluded.mac",
        &[&user_id, &plugin, &version, &manifest, &mac],
    )?;
    Ok(())
}

/// Creates the counter (at 0) if the database has none.
pub(super) fn seed_counter(db: &Db<'_>, keys: &DerivedKeys) -> Result<()> {
    let mac = META.mac_of(&keys.row, &[Val::Text(COUNTER), Val::Text("0")]);
    db.exec(
        "INSERT INTO meta (key, value, mac) VALUES ($1, '0', $2) ON CONFLICT (key) DO NOTHING",
        &[&COUNTER, &mac],
    )?;
    Ok(())
}

/// Takes the next version from the counter (locked for the rest of the
/// transaction, so two hosts never take the same one).
fn next_version(db: &Db<'_>, keys: &DerivedKeys) -> Result<i64> {
    let row = db
        .opt("SELECT value, mac FROM meta WHERE key = $1 FOR UPDATE", &[&COUNTER])?
        .context("the vault's consent version counter is missing: it was deleted outside healthplug")?;
    let (value, mac): (String, Option<&[u8]>) = (row.try_get(0)?, row.try_get(1)?);
    rowmac::check(
        META.verify_of(&keys.row, &[Val::Text(COUNTER), Val::Text(&value)], mac),
        || format!("meta({COUNTER})"),
    )?;
    let counter: i64 = value.parse().context("the consent version counter is not a number")?;
    let highest: i64 = db
        .one("SELECT COALESCE(MAX(version), 0) FROM consent_versions", &[])?
        .try_get(0)?;
    let next = counter.max(highest) + 1;
    let text = next.to_string();
    let mac = META.mac_of(&keys.row, &[Val::Text(COUNTER), Val::Text(&text)]);
    db.exec(
        "UPDATE meta SET value = $2, mac = $3 WHERE key = $1",
        &[&COUNTER, &text, &mac],
    )?;
    Ok(next)
}

/// Gives (user, plugin) a new version and tells the other hosts (the
/// notification is delivered when the transaction commits).
pub(super) fn bump(db: &Db<'_>, keys: &DerivedKeys, user_id: i64, plugin: &str) -> Result<()> {
    let manifest = version_row(db, keys, user_id, plugin)?.and_then(|(_, m)| m);
    let version = next_version(db, keys)?;
    put_version_row(db, keys, (user_id, plugin), version, manifest.as_deref())?;
    db.exec("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload(user_id, plugin)])?;
    Ok(())
}

/// Records the manifest the user's grants now follow.
pub(super) fn set_consented_manifest(
    db: &Db<'_>,
    keys: &DerivedKeys,
    user_id: i64,
    plugin: &str,
    sha256: &str,
) -> Result<()> {
    if let Some((version, _)) = version_row(db, keys, user_id, plugin)? {
        put_version_row(db, keys, (user_id, plugin), version, Some(sha256))?;
    }
    Ok(())
}

fn capability_vals<'a>(
    user_id: i64,
    plugin: &'a str,
    cap: &'a str,
    scope: &'a str,
    row: (i64, Option<i64>),
) -> [Val<'a>; 6] {
    [
        Val::Int(user_id),
        Val::Text(plugin),
        Val::Text(cap),
        Val::Text(scope),
        Val::Int(row.0),
        row.1.into(),
    ]
}

/// The capability rows of (user, plugin), revoked ones included.
pub(super) fn capability_list(
    db: &Db<'_>,
    keys: &DerivedKeys,
    user_id: i64,
    plugin: &str,
) -> Result<Vec<CapabilityGrant>> {
    let rows = db.query(
        "SELECT capability, scope, granted_ms, revoked_ms, mac FROM capability_grants
         WHERE user_id = $1 AND plugin_id = $2 ORDER BY capability",
        &[&user_id, &plugin],
    )?;
    let mut out = Vec::new();
    for row in &rows {
        let (cap, scope, granted_ms, revoked_ms, mac): (String, String, i64, Option<i64>, Option<&[u8]>) = (
            row.try_get(0)?,
            row.try_get(1)?,
            row.try_get(2)?,
            row.try_get(3)?,
            row.try_get(4)?,
        );
        let vals = capability_vals(user_id, plugin, &cap, &scope, (granted_ms, revoked_ms));
        rowmac::check(CAPABILITIES.verify_of(&keys.row, &vals, mac), || {
            format!("capability_grants(user {user_id}, plugin {plugin}, capability {cap})")
        })?;
        if let Some(capability) = Capability::from_id(&cap) {
            out.push(CapabilityGrant {
                capability,
                scope: capabilities::decode(capability, &scope),
                granted_ms,
                revoked_ms,
            });
        }
    }
    Ok(out)
}

/// Writes one capability row with its MAC.
pub(super) fn put_capability_row(
    db: &Db<'_>,
    keys: &DerivedKeys,
    user_id: i64,
    plugin: &str,
    g: &CapabilityGrant,
) -> Result<()> {
    let (cap, scope) = (g.capability.id(), capabilities::encode(&g.scope));
    let mac = CAPABILITIES.mac_of(
        &keys.row,
        &capability_vals(user_id, plugin, cap, &scope, (g.granted_ms, g.revoked_ms)),
    );
    db.exec(
        "INSERT INTO capability_grants (user_id, plugin_id, capability, scope, granted_ms, revoked_ms, mac)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (user_id, plugin_id, capability) DO UPDATE SET
           scope = excluded.scope, granted_ms = excluded.granted_ms, revoked_ms = excluded.revoked_ms, mac = excluded.mac",
        &[&user_id, &plugin, &cap, &scope, &g.granted_ms, &g.revoked_ms, &mac],
    )?;
    Ok(())
}

/// The scope of `capability` in force, if granted.
pub(super) fn active_capability(
    db: &Db<'_>,
    keys: &DerivedKeys,
    user_id: i64,
    plugin: &str,
    capability: Capability,
) -> Result<Option<CapabilityScope>> {
    Ok(capability_list(db, keys, user_id, plugin)?
        .into_iter()
        .find(|g| g.capability == capability && g.revoked_ms.is_none())
        .map(|g| g.scope))
}
