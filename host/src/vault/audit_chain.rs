//! Verifying the audit chain, whatever database holds it: walking the
//! entries in seq order (each present, following the one before it,
//! unedited, where it claims to be) and checking the authenticated head
//! record against where the walk ended. The SQLite (`audit.rs`) and
//! PostgreSQL (`pg/audit.rs`) backends feed it their rows.

use anyhow::Result;

use super::DerivedKeys;
use super::audit::{AuditEntry, GENESIS, VerifyReport, chain_hash};

/// One stored audit row: seq, entry JSON, previous hash, hash.
pub(crate) type ChainRow = (i64, String, String, String);

/// What walking the chain found.
pub(crate) enum Chain {
    /// The first break.
    Broken(VerifyReport),
    /// Every entry follows the one before it.
    Whole {
        /// How many entries.
        entries: i64,
        /// The last seq (0 when empty).
        last_seq: i64,
        /// The last hash (the genesis hash when empty).
        last_hash: String,
    },
}

impl Chain {
    /// (entries, last seq, last hash) of a whole chain, or the report of
    /// its first break.
    pub(crate) fn whole(self) -> std::result::Result<(i64, i64, String), VerifyReport> {
        match self {
            Chain::Broken(report) => Err(report),
            Chain::Whole {
                entries,
                last_seq,
                last_hash,
            } => Ok((entries, last_seq, last_hash)),
        }
    }
}

/// Walks the chain in seq order (any backend's rows): every entry present,
/// following the one before it, unedited, where it claims to be.
pub(crate) fn check_chain(rows: &mut dyn Iterator<Item = Result<ChainRow>>) -> Result<Chain> {
    let mut expected_seq = 1i64;
    let mut prev_hash = GENESIS.to_string();
    let mut checked = 0i64;
    let bad = |seq: i64, checked: i64, problem: String| {
        Chain::Broken(VerifyReport {
            entries: checked,
            first_bad: Some(seq),
            problem: Some(problem),
        })
    };
    for row in rows {
        let (seq, json, stored_prev, stored_hash) = row?;
        if seq != expected_seq {
            return Ok(bad(
                expected_seq,
                checked,
                format!("entry #{expected_seq} is missing (deleted): the log jumps to #{seq}"),
            ));
        }
        if stored_prev != prev_hash {
            return Ok(bad(
                seq,
                checked,
                format!(
                    "entry #{seq} does not follow entry #{}: the chain is broken (an entry was deleted or reordered)",
                    seq - 1
                ),
            ));
        }
        if chain_hash(&stored_prev, &json) != stored_hash {
            return Ok(bad(
                seq,
                checked,
                format!("entry #{seq} was edited: its hash does not match its content"),
            ));
        }
        match serde_json::from_str::<AuditEntry>(&json) {
            Ok(entry) if entry.seq == seq => {}
            Ok(entry) => {
                return Ok(bad(
                    seq,
                    checked,
                    format!("entry #{seq} claims to be #{}: entries were reordered", entry.seq),
                ));
            }
            Err(e) => {
                return Ok(bad(
                    seq,
                    checked,
                    format!("entry #{seq} is not a valid audit entry: {e}"),
                ));
            }
        }
        prev_hash = stored_hash;
        expected_seq += 1;
        checked += 1;
    }
    Ok(Chain::Whole {
        entries: checked,
        last_seq: expected_seq - 1,
        last_hash: prev_hash,
    })
}

/// The report for a whole chain of `entries` ending at (`last_seq`,
/// `prev_hash`), checked against the stored head record.
pub(crate) fn head_report(
    keys: &DerivedKeys,
    head: Option<String>,
    audited: i64,
    (entries, last_seq, prev_hash): (i64, i64, &str),
) -> VerifyReport {
    let problem = check_head_record(keys, head, audited, last_seq, prev_hash);
    VerifyReport {
        entries,
        first_bad: problem.as_ref().map(|(seq, _)| *seq),
        problem: problem.map(|(_, p)| p),
    }
}

/// Checks the authenticated head record in `meta` against the log's last
/// entry (`last_seq`, `last_hash`): the first bad entry and the problem.
fn check_head_record(
    keys: &DerivedKeys,
    head: Option<String>,
    audited: i64,
    last_seq: i64,
    prev_hash: &str,
) -> Option<(i64, String)> {
    let Some(head) = head else {
        // Creating a user or installing a plugin always writes an entry, so
        // a vault holding either has a log: an empty one was wiped.
        if last_seq == 0 && audited == 0 {
            return None;
        }
        return Some((
            last_seq.max(1),
            "the audit head record is missing: the log was wiped or replaced".to_string(),
        ));
    };
    let mut parts = head.rsplitn(2, ':');
    let mac = parts.next().unwrap_or("");
    let text = parts.next().unwrap_or("");
    let mac = hex::decode(mac).unwrap_or_default();
    if !keys.audit.verify(text.as_bytes(), &mac) {
        return Some((last_seq.max(1), "the audit head record was tampered with".to_string()));
    }
    let (head_seq, head_hash) = text.split_once(':').unwrap_or(("0", ""));
    let head_seq: i64 = head_seq.parse().unwrap_or(0);
    if head_seq > last_seq {
        return Some((
            last_seq + 1,
            format!("the log was truncated: it should hold {head_seq} entries but ends at #{last_seq}"),
        ));
    }
    if head_seq != last_seq || head_hash != prev_hash {
        return Some((
            head_seq.max(1),
            format!("the log does not end where its head says (#{head_seq}): entries were rewritten"),
        ));
    }
    None
}
