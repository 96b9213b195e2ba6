//! The platform's trust store: the reviewers whose signed approvals let a
//! plugin be installed and loaded. Each row is MACed and checked on every
//! read (`rowmac.rs`), so a reviewer key planted in the database is refused.

use anyhow::Result;
use rusqlite::{Connection, params};
use serde::Serialize;

use super::rowmac::{self, REVIEWERS};
use super::{AuditEvent, AuditKind, Vault, now_ms};

/// A trusted reviewer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reviewer {
    /// `ed25519:<hex>`.
    pub public_key: String,
    /// A name for people.
    pub name: String,
    /// When it was trusted (ms since epoch).
    pub added_ms: i64,
}

/// Trusts a reviewer key (replacing its name if already trusted).
pub(super) fn put(tx: &Connection, r: &Reviewer) -> Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO trusted_reviewers (public_key, name, added_ms) VALUES (?1, ?2, ?3)",
        params![r.public_key, r.name, r.added_ms],
    )?;
    REVIEWERS.stamp(tx, "public_key = ?1", &[&r.public_key])
}

/// Stops trusting `public_key`.
pub(super) fn delete(tx: &Connection, public_key: &str) -> Result<()> {
    tx.execute(
        "DELETE FROM trusted_reviewers WHERE public_key = ?1",
        params![public_key],
    )?;
    Ok(())
}

/// Every trusted reviewer (each row checked against its MAC).
pub(super) fn list(conn: &Connection) -> Result<Vec<Reviewer>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT public_key, name, added_ms, {} FROM trusted_reviewers ORDER BY name",
        REVIEWERS.ok_expr()
    ))?;
    let rows = stmt.query_map([], |r| {
        let reviewer = Reviewer {
            public_key: r.get(0)?,
            name: r.get(1)?,
            added_ms: r.get(2)?,
        };
        Ok((reviewer, r.get::<_, bool>(3)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (reviewer, ok) = row?;
        rowmac::check(ok, || format!("trusted_reviewers(key {})", reviewer.public_key))?;
        out.push(reviewer);
    }
    Ok(out)
}

impl Vault {
    /// Trusts a reviewer key (replacing its name if already trusted).
    pub fn trust(&self, public_key: &str, name: &str) -> Result<()> {
        let reviewer = Reviewer {
            public_key: public_key.to_string(),
            name: name.to_string(),
            added_ms: now_ms(),
        };
        self.write(|tx| {
            tx.put_reviewer(&reviewer)?;
            tx.audit_append(
                &AuditEvent::new(AuditKind::Trust)
                    .outcome("added")
                    .detail(format!("{name} {public_key}")),
            )?;
            Ok(())
        })
    }

    /// Stops trusting the reviewer with this key or name; returns who was
    /// removed.
    pub fn untrust(&self, key_or_name: &str) -> Result<Vec<Reviewer>> {
        let gone: Vec<Reviewer> = self
            .reviewers()?
            .into_iter()
            .filter(|r| r.public_key == key_or_name || r.name == key_or_name)
            .collect();
        self.write(|tx| {
            for r in &gone {
                tx.delete_reviewer(&r.public_key)?;
                tx.audit_append(
                    &AuditEvent::new(AuditKind::Trust)
                        .outcome("removed")
                        .detail(format!("{} {}", r.name, r.public_key)),
                )?;
            }
            Ok(())
        })?;
        Ok(gone)
    }

    /// Every trusted reviewer (each row checked against its MAC).
    pub fn reviewers(&self) -> Result<Vec<Reviewer>> {
        self.store()?.reviewers()
    }
}
