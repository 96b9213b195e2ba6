//! Capability grants beyond data: `storage`, and `network` with the exact
//! origins granted. Like data grants they bump the (user, plugin) consent
//! version, so a change bites on the plugin's next host call. Every row is
//! MACed and checked on read (`rowmac.rs`).

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension, ToSql, params};
use serde::Serialize;

use super::rowmac::{self, CAPABILITIES};
use crate::consent::{Capability, CapabilityScope};

/// The text a scope is stored as: `max-bytes=N;max-keys=M` for storage,
/// the origins comma-separated for network. Only this module writes or
/// reads it.
pub(super) fn encode(scope: &CapabilityScope) -> String {
    match scope {
        CapabilityScope::Storage { max_bytes, max_keys } => format!("max-bytes={max_bytes};max-keys={max_keys}"),
        CapabilityScope::Network { origins } => origins.join(","),
    }
}

/// The scope stored as `text` for `capability`. A storage scope missing a
/// quota has none (older rows); a quota that does not parse grants 0, so
/// a damaged row can only narrow what is granted.
pub(super) fn decode(capability: Capability, text: &str) -> CapabilityScope {
    match capability {
        Capability::Storage => {
            let (mut max_bytes, mut max_keys) = (u64::MAX, u64::MAX);
            for part in text.split(';') {
                match part.split_once('=') {
                    Some(("max-bytes", v)) => max_bytes = v.parse().unwrap_or(0),
                    Some(("max-keys", v)) => max_keys = v.parse().unwrap_or(0),
                    _ => {}
                }
            }
            CapabilityScope::Storage { max_bytes, max_keys }
        }
        Capability::Network => CapabilityScope::Network {
            origins: text
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_string)
                .collect(),
        },
    }
}

/// One capability grant row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CapabilityGrant {
    /// Which capability.
    pub capability: Capability,
    /// What it covers.
    pub scope: CapabilityScope,
    /// When granted.
    pub granted_ms: i64,
    /// When revoked, if it was.
    pub revoked_ms: Option<i64>,
}

fn row_name(user_id: i64, plugin_id: &str, capability: &str) -> String {
    format!("capability_grants(user {user_id}, plugin {plugin_id}, capability {capability})")
}

/// The capability rows of (user, plugin), each checked against its MAC.
pub(crate) fn list(conn: &Connection, user_id: i64, plugin_id: &str) -> Result<Vec<CapabilityGrant>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT capability, scope, granted_ms, revoked_ms, {} FROM capability_grants
         WHERE user_id = ?1 AND plugin_id = ?2 ORDER BY capability",
        CAPABILITIES.ok_expr()
    ))?;
    let rows = stmt.query_map(params![user_id, plugin_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get::<_, bool>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (cap, scope, granted_ms, revoked_ms, ok): (String, String, _, _, _) = row?;
        rowmac::check(ok, || row_name(user_id, plugin_id, &cap))?;
        if let Some(capability) = Capability::from_id(&cap) {
            out.push(CapabilityGrant {
                capability,
                scope: decode(capability, &scope),
                granted_ms,
                revoked_ms,
            });
        }
    }
    Ok(out)
}

/// Writes one capability row with its MAC.
fn put_row(tx: &Connection, user_id: i64, plugin_id: &str, g: &CapabilityGrant) -> Result<()> {
    let cap = g.capability.id();
    tx.execute(
        "INSERT OR REPLACE INTO capability_grants (user_id, plugin_id, capability, scope, granted_ms, revoked_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![user_id, plugin_id, cap, encode(&g.scope), g.granted_ms, g.revoked_ms],
    )?;
    CAPABILITIES.stamp(
        tx,
        "user_id = ?1 AND plugin_id = ?2 AND capability = ?3",
        &[&user_id as &dyn ToSql, &plugin_id, &cap],
    )
}

/// Grants a capability (replacing an earlier row) in the caller's write
/// transaction.
pub(crate) fn put(tx: &Connection, user_id: i64, plugin_id: &str, scope: &CapabilityScope, now: i64) -> Result<()> {
    put_row(
        tx,
        user_id,
        plugin_id,
        &CapabilityGrant {
            capability: scope.capability(),
            scope: scope.clone(),
            granted_ms: now,
            revoked_ms: None,
        },
    )
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
            let capability = g.capability;
            put_row(
                tx,
                user_id,
                plugin_id,
                &CapabilityGrant {
                    revoked_ms: Some(now),
                    ..g
                },
            )?;
            out.push(capability);
        }
    }
    Ok(out)
}

/// Whether (user, plugin) holds `capability` now, and its scope (the row
/// checked against its MAC).
pub(crate) fn active(
    conn: &Connection,
    user_id: i64,
    plugin_id: &str,
    capability: Capability,
) -> Result<Option<CapabilityScope>> {
    let row: Option<(String, bool)> = conn
        .prepare_cached(&format!(
            "SELECT scope, {} FROM capability_grants
             WHERE user_id = ?1 AND plugin_id = ?2 AND capability = ?3 AND revoked_ms IS NULL",
            CAPABILITIES.ok_expr()
        ))?
        .query_row(params![user_id, plugin_id, capability.id()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let Some((scope, ok)) = row else {
        return Ok(None);
    };
    rowmac::check(ok, || row_name(user_id, plugin_id, capability.id()))?;
    Ok(Some(decode(capability, &scope)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_through_their_text() {
        for scope in [
            CapabilityScope::Storage {
                max_bytes: 1 << 20,
                max_keys: 1000,
            },
            CapabilityScope::Network {
                origins: vec!["https://a.example".into(), "https://b.example:8443".into()],
            },
            CapabilityScope::Network { origins: vec![] },
        ] {
            assert_eq!(decode(scope.capability(), &encode(&scope)), scope);
        }
    }

    #[test]
    fn a_damaged_storage_scope_grants_nothing_more() {
        let scope = decode(Capability::Storage, "max-bytes=lots;max-keys=-1");
        assert_eq!(scope.storage_quota(), (0, 0));
        assert_eq!(
            decode(Capability::Network, " https://a.example , ,"),
            CapabilityScope::Network {
                origins: vec!["https://a.example".into()]
            }
        );
    }
}
