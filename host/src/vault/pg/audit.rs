//! One audit chain for every host on the database. An append takes a
//! transaction-scoped advisory lock ([`CHAIN_LOCK`]) before it reads the
//! head, so appends from all hosts are serialised: each entry's seq is the
//! head's plus one and its hash covers the head's hash, in commit order,
//! and the lock is released by the commit (or rollback) that makes the
//! entry visible. The authenticated head record in `meta` moves in the
//! same transaction. Each host anchors the heads it committed in its own
//! anchor file right after the commit (`anchor::check_shared`).
//!
//! Cost: audited writes from all hosts commit one at a time (each host
//! batches concurrent audit events into one transaction, `group_commit`),
//! the bound the capacity model in the README states.

use std::path::Path;

use anyhow::{Context, Result};

use super::Db;
use crate::vault::DerivedKeys;
use crate::vault::anchor;
use crate::vault::audit::{self, AuditEntry, AuditEvent, VerifyReport};
use crate::vault::audit_chain::{self, ChainRow};

/// The advisory lock key serialising appends (an arbitrary constant).
pub(super) const CHAIN_LOCK: i64 = 0x6865_616c_7468_0002;

/// How many entries one query of a verification reads.
const PAGE: i64 = 10_000;

/// The chain's head.
pub(super) fn head(db: &Db<'_>) -> Result<Option<(i64, String)>> {
    db.opt("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", &[])?
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .transpose()
}

/// Appends `event` (inside a write transaction); its seq and hash.
pub(super) fn append(db: &Db<'_>, keys: &DerivedKeys, event: &AuditEvent) -> Result<(i64, String)> {
    anyhow::ensure!(
        db.in_transaction(),
        "an audit entry is appended inside a write transaction"
    );
    db.exec("SELECT pg_advisory_xact_lock($1)", &[&CHAIN_LOCK])?;
    let (prev_seq, prev_hash) = head(db)?.unwrap_or((0, audit::GENESIS.to_string()));
    let entry = AuditEntry {
        seq: prev_seq + 1,
        at: crate::vault::now_ms(),
        event: event.clone(),
    };
    let json = serde_json::to_string(&entry).context("encoding an audit entry")?;
    let hash = audit::chain_hash(&prev_hash, &json);
    db.exec(
        "INSERT INTO audit (seq, entry, prev_hash, hash) VALUES ($1, $2, $3, $4)",
        &[&entry.seq, &json, &prev_hash, &hash],
    )?;
    let text = audit::head_text(entry.seq, &hash);
    let mac = hex::encode(keys.audit.mac(text.as_bytes()));
    db.exec(
        "INSERT INTO meta (key, value) VALUES ('audit_head', $1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[&format!("{text}:{mac}")],
    )?;
    Ok((entry.seq, hash))
}

/// The rows of the chain, a page at a time.
fn rows<'a>(db: &'a Db<'a>) -> impl Iterator<Item = Result<ChainRow>> + 'a {
    let mut after = 0i64;
    let mut page: std::vec::IntoIter<ChainRow> = Vec::new().into_iter();
    let mut done = false;
    std::iter::from_fn(move || {
        if let Some(row) = page.next() {
            after = row.0;
            return Some(Ok(row));
        }
        if done {
            return None;
        }
        let fetched = db.query(
            "SELECT seq, entry, prev_hash, hash FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2",
            &[&after, &PAGE],
        );
        let fetched: Result<Vec<ChainRow>> = fetched.and_then(|rows| {
            rows.iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
                .collect()
        });
        match fetched {
            Err(e) => {
                done = true;
                Some(Err(e))
            }
            Ok(fetched) => {
                done = i64::try_from(fetched.len()).unwrap_or(0) < PAGE;
                page = fetched.into_iter();
                let row = page.next()?;
                after = row.0;
                Some(Ok(row))
            }
        }
    })
}

/// Walks the chain, checks the authenticated head, then this host's
/// anchor against the chain.
pub(super) fn verify(db: &Db<'_>, keys: &DerivedKeys, anchor_path: &Path) -> Result<VerifyReport> {
    let (entries, last_seq, last_hash) = match audit_chain::check_chain(&mut rows(db))?.whole() {
        Ok(whole) => whole,
        Err(report) => return Ok(report),
    };
    let head: Option<String> = db
        .opt("SELECT value FROM meta WHERE key = 'audit_head'", &[])?
        .map(|r| r.try_get(0))
        .transpose()?;
    let audited: i64 = db
        .one(
            "SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM plugins)",
            &[],
        )?
        .try_get(0)?;
    let report = audit_chain::head_report(keys, head, audited, (entries, last_seq, &last_hash));
    if !report.ok() {
        return Ok(report);
    }
    let mut hash_at = |seq: i64| -> Result<Option<String>> {
        db.opt("SELECT hash FROM audit WHERE seq = $1", &[&seq])?
            .map(|r| r.try_get(0).context("reading an audit hash"))
            .transpose()
    };
    if let Some((first_bad, problem)) = anchor::check_shared(anchor_path, &keys.anchor, last_seq, &mut hash_at)? {
        return Ok(VerifyReport {
            entries,
            first_bad: Some(first_bad),
            problem: Some(problem),
        });
    }
    Ok(report)
}

/// The entries of one user (by ref), or all.
pub(super) fn list(db: &Db<'_>, user_ref: Option<&str>) -> Result<Vec<AuditEntry>> {
    let mut out = Vec::new();
    for row in rows(db) {
        let (seq, json, _, _) = row?;
        let entry: AuditEntry =
            serde_json::from_str(&json).with_context(|| format!("audit entry #{seq} is not valid JSON"))?;
        if user_ref.is_none_or(|u| entry.event.user.as_deref() == Some(u)) {
            out.push(entry);
        }
    }
    Ok(out)
}
