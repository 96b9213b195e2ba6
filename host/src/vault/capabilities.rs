//! Capability grants beyond data: `storage`, and `network` with the exact
//! origins granted. Like data grants they bump the (user, plugin) consent
//! version, so a change bites on the plugin's next host call.

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// A capability a user may grant a plugin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// Private key-value storage.
    Storage,
    /// HTTPS egress to allowlisted origins.
    Network,
}

impl Capability {
    /// The kebab-case name.
    pub fn id(self) -> &'static str {
        match self {
            Capability::Storage => "storage",
            Capability::Network => "network",
        }
    }

    fn from_id(id: &str) -> Option<Capability> {
        match id {
            "storage" => Some(Capability::Storage),
            "network" => Some(Capability::Network),
            _ => None,
        }
    }
}

/// One capability grant row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CapabilityGrant {
    /// Which capability.
    pub capability: Capability,
    /// For network: the origins granted, comma-separated; empty otherwise.
    pub scope: String,
    /// When granted.
    pub granted_ms: i64,
    /// When revoked, if it was.
    pub revoked_ms: Option<i64>,
}

/// The capability rows of (user, plugin).
pub(crate) fn list(conn: &Connection, user_id: i64, plugin_id: &str) -> Result<Vec<CapabilityGrant>> {
    let mut stmt = conn.prepare_cached(
        "SELECT capability, scope, granted_ms, revoked_ms FROM capability_grants
         WHERE user_id = ?1 AND plugin_id = ?2 ORDER BY capability",
    )?;
    let rows = stmt.query_map(params![user_id, plugin_id], |r| {
        Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (cap, scope, granted_ms, revoked_ms) = row?;
        if let Some(capability) = Capability::from_id(&cap) {
            out.push(CapabilityGrant {
                capability,
                scope,
                granted_ms,
                revoked_ms,
            });
        }
    }
    Ok(out)
}

/// Grants a capability (replacing an earlier row) in the caller's write
/// transaction.
pub(crate) fn put(
    tx: &Connection,
    user_id: i64,
    plugin_id: &str,
    capability: Capability,
    scope: &str,
    now: i64,
) -> Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO capability_grants (user_id, plugin_id, capability, scope, granted_ms, revoked_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, NULL)",
        params![user_id, plugin_id, capability.id(), scope, now],
    )?;
    Ok(())
}

/// Revokes capabilities (all when `only` is `None`); returns those that
/// were in force.
pub(crate) fn revoke(
    tx: &Connection,
    user_id: i64,
    plugin_id: &str,
    only: Option<Capability>,
    now: i64,
) -> Result<Vec<Capability>> {
    let mut out = Vec::new();
    for g in list(tx, user_id, plugin_id)? {
        if g.revoked_ms.is_none() && only.is_none_or(|c| c == g.capability) {
            tx.execute(
                "UPDATE capability_grants SET revoked_ms = ?4 WHERE user_id = ?1 AND plugin_id = ?2 AND capability = ?3",
                params![user_id, plugin_id, g.capability.id(), now],
            )?;
            out.push(g.capability);
        }
    }
    Ok(out)
}

/// Whether (user, plugin) holds `capability` now, and its scope.
pub(crate) fn active(
    conn: &Connection,
    user_id: i64,
    plugin_id: &str,
    capability: Capability,
) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT scope FROM capability_grants
             WHERE user_id = ?1 AND plugin_id = ?2 AND capability = ?3 AND revoked_ms IS NULL",
            params![user_id, plugin_id, capability.id()],
            |r| r.get(0),
        )
        .optional()?)
}
