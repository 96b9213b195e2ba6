//! The audit log: append-only and hash-chained (sha256). Each entry's hash
//! covers the previous entry's hash and the entry's canonical JSON, and a
//! head record (entry count and last hash) is authenticated with a key
//! derived from the master key, so an edited, deleted, reordered or
//! truncated entry is detected and named; the head is also anchored in a
//! file outside the database (`anchor.rs`), so a rolled-back log is caught
//! too. Never holds health values.

use std::path::Path;

use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::DerivedKeys;
use super::audit_chain::{check_chain, head_report};

pub(crate) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an audit entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditKind {
    /// A plugin was installed or upgraded.
    Install,
    /// A plugin was removed.
    Remove,
    /// A user granted access.
    Grant,
    /// A user revoked access.
    Revoke,
    /// A plugin was invoked for a user (one entry per invocation, with its
    /// outcome).
    Invoke,
    /// A plugin read data through a host call.
    Access,
    /// A host call was refused.
    Denial,
    /// A plugin wrote data.
    Write,
    /// A file was imported through a connector.
    Import,
    /// A user was erased.
    Erase,
    /// A user was created.
    User,
    /// A plugin sent (or tried to send) a network request.
    Egress,
    /// A plugin's storage changed.
    Storage,
    /// The reviewer trust store changed.
    Trust,
    /// The vault's schema was upgraded.
    Upgrade,
    /// An access token was created or revoked (its id, never its secret).
    Token,
    /// A web sign-in link was issued, a web session opened or ended (their
    /// ids, never their secrets).
    Session,
}

impl AuditKind {
    /// The kebab-case name.
    pub fn id(self) -> &'static str {
        match self {
            AuditKind::Install => "install",
            AuditKind::Remove => "remove",
            AuditKind::Grant => "grant",
            AuditKind::Revoke => "revoke",
            AuditKind::Invoke => "invoke",
            AuditKind::Access => "access",
            AuditKind::Denial => "denial",
            AuditKind::Write => "write",
            AuditKind::Import => "import",
            AuditKind::Erase => "erase",
            AuditKind::User => "user",
            AuditKind::Egress => "egress",
            AuditKind::Storage => "storage",
            AuditKind::Trust => "trust",
            AuditKind::Upgrade => "upgrade",
            AuditKind::Token => "token",
            AuditKind::Session => "session",
        }
    }
}

/// One auditable event. Identifiers only: the user is their pseudonymous
/// ref, and no health value ever appears.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// What happened.
    pub kind: AuditKind,
    /// The user's ref (hex), if a user is involved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The plugin id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
    /// The plugin component's sha256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The data type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_type: Option<String>,
    /// The fields involved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<String>,
    /// How many samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// The purpose the access serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// The outcome (`ok`, a denial reason, an error kind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Extra non-health detail (tool name, version, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl AuditEvent {
    /// An event of `kind` with nothing else set.
    pub fn new(kind: AuditKind) -> AuditEvent {
        AuditEvent {
            kind,
            user: None,
            plugin: None,
            digest: None,
            data_type: None,
            fields: None,
            count: None,
            purpose: None,
            outcome: None,
            detail: None,
        }
    }

    /// Sets the user ref.
    pub fn user(mut self, user_ref: &str) -> AuditEvent {
        self.user = Some(user_ref.to_string());
        self
    }

    /// Sets the plugin and its digest.
    pub fn plugin(mut self, id: &str, digest: &str) -> AuditEvent {
        self.plugin = Some(id.to_string());
        self.digest = Some(digest.to_string());
        self
    }

    /// Sets the outcome.
    pub fn outcome(mut self, outcome: impl Into<String>) -> AuditEvent {
        self.outcome = Some(outcome.into());
        self
    }

    /// Sets the detail.
    pub fn detail(mut self, detail: impl Into<String>) -> AuditEvent {
        self.detail = Some(detail.into());
        self
    }
}

/// An entry as stored: sequence number, time and the event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// 1-based position in the log.
    pub seq: i64,
    /// When (ms since epoch).
    pub at: i64,
    /// What.
    #[serde(flatten)]
    pub event: AuditEvent,
}

pub(crate) fn chain_hash(prev: &str, entry_json: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(entry_json.as_bytes());
    hex::encode(h.finalize())
}

pub(crate) fn head_text(seq: i64, hash: &str) -> String {
    format!("{seq}:{hash}")
}

/// The last entry's seq and hash, if any.
pub(crate) fn head(conn: &Connection) -> Result<Option<(i64, String)>> {
    Ok(conn
        .prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Appends `event` inside the caller's write transaction; returns its seq.
/// The new head is anchored outside the database (see `anchor.rs`) by
/// `Vault::write` before the transaction commits.
pub(crate) fn append(tx: &Connection, keys: &DerivedKeys, event: &AuditEvent) -> Result<i64> {
    let (prev_seq, prev_hash) = head(tx)?.unwrap_or((0, GENESIS.to_string()));
    let entry = AuditEntry {
        seq: prev_seq + 1,
        at: super::now_ms(),
        event: event.clone(),
    };
    let json = serde_json::to_string(&entry).context("encoding an audit entry")?;
    let hash = chain_hash(&prev_hash, &json);
    tx.execute(
        "INSERT INTO audit (seq, entry, prev_hash, hash) VALUES (?1, ?2, ?3, ?4)",
        params![entry.seq, json, prev_hash, hash],
    )?;
    let head = head_text(entry.seq, &hash);
    let mac = hex::encode(keys.audit.mac(head.as_bytes()));
    tx.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('audit_head', ?1)",
        params![format!("{head}:{mac}")],
    )?;
    Ok(entry.seq)
}

/// Entries in order, optionally only those about one user ref.
pub fn list(conn: &Connection, user_ref: Option<&str>) -> Result<Vec<AuditEntry>> {
    let mut stmt = conn.prepare("SELECT seq, entry FROM audit ORDER BY seq")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, json) = row?;
        let entry: AuditEntry =
            serde_json::from_str(&json).with_context(|| format!("audit entry #{seq} is not valid JSON"))?;
        if user_ref.is_none_or(|u| entry.event.user.as_deref() == Some(u)) {
            out.push(entry);
        }
    }
    Ok(out)
}

/// The result of verifying the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Entries checked.
    pub entries: i64,
    /// The first bad entry, if any.
    pub first_bad: Option<i64>,
    /// What is wrong, if anything.
    pub problem: Option<String>,
}

impl VerifyReport {
    /// True when the log is intact.
    pub fn ok(&self) -> bool {
        self.problem.is_none()
    }
}

/// Walks the chain, checks the authenticated head, then checks the head
/// against the anchor file at `anchor` (see `anchor.rs`).
pub(crate) fn verify(conn: &Connection, keys: &DerivedKeys, anchor: &Path) -> Result<VerifyReport> {
    let report = verify_table(conn, keys)?;
    if !report.ok() {
        return Ok(report);
    }
    let (last_seq, last_hash) = head(conn)?.unwrap_or((0, GENESIS.to_string()));
    if let Some((first_bad, problem)) = super::anchor::check(anchor, &keys.anchor, last_seq, &last_hash)? {
        return Ok(VerifyReport {
            entries: report.entries,
            first_bad: Some(first_bad),
            problem: Some(problem),
        });
    }
    Ok(report)
}

/// Walks the chain and checks the authenticated head in `meta`.
fn verify_table(conn: &Connection, keys: &DerivedKeys) -> Result<VerifyReport> {
    let mut stmt = conn.prepare("SELECT seq, entry, prev_hash, hash FROM audit ORDER BY seq")?;
    let mut rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    let chain = check_chain(&mut rows.by_ref().map(|r| r.map_err(anyhow::Error::from)))?;
    let (checked, last_seq, prev_hash) = match chain.whole() {
        Ok(whole) => whole,
        Err(report) => return Ok(report),
    };
    let head: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'audit_head'", [], |r| r.get(0))
        .optional()?;
    let audited: i64 = conn.query_row(
        "SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM plugins)",
        [],
        |r| r.get(0),
    )?;
    Ok(head_report(keys, head, audited, (checked, last_seq, &prev_hash)))
}
