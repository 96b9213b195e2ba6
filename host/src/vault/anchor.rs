//! The audit head anchor: `audit.head` in the home, outside the database,
//! an append-only file with one line per audited write, `seq hash mac`,
//! each MACed with a key derived from the master key. The audit table can
//! be rolled back (later entries deleted, an older authenticated head
//! restored from a copy) without breaking its chain; the anchor says where
//! the log really ended.
//!
//! Crash rule: `Vault::write` appends (and syncs) the line for the new head
//! *before* it commits the transaction. So the database head is always in
//! the file; a head missing from it (the file behind the database) is a
//! truncated or replaced anchor. The file ahead of the database by exactly
//! one line is what a process that died between anchoring and committing
//! leaves behind, and also what rolling back the last write looks like:
//! `audit --verify` reports it as broken with its own message saying so,
//! distinct from a rollback of more than one write. The next write heals
//! it: it anchors the same seq again with its own hash (so lines may repeat
//! a seq, but never go back).
//!
//! Not covered: an attacker who truncates this file *and* rolls the
//! database back to the same earlier point (with copies of both) leaves a
//! consistent state; only an anchor off the machine would catch that.

use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context, Result};

use super::SecretKey;
use super::home;

/// The anchor's file name in the home.
pub(crate) const FILE: &str = "audit.head";

const WHAT: &str = "the audit head anchor";

fn line_data(seq: i64, hash: &str) -> Vec<u8> {
    format!("healthplug audit anchor v1\n{seq}\n{hash}").into_bytes()
}

/// Appends the head (`seq`, `hash`) to the anchor and syncs it.
pub(crate) fn append(path: &Path, key: &SecretKey, seq: i64, hash: &str) -> Result<()> {
    let mut file = home::open_private(path, WHAT, true)?;
    let mac = hex::encode(key.mac(&line_data(seq, hash)));
    writeln!(file, "{seq} {hash} {mac}").with_context(|| format!("writing {WHAT} {}", path.display()))?;
    file.sync_data()
        .with_context(|| format!("syncing {WHAT} {}", path.display()))?;
    Ok(())
}

/// What the anchor file holds.
enum Anchored {
    /// There is no file.
    Missing,
    /// What is wrong with it.
    Bad(String),
    /// The heads recorded, oldest first.
    Heads(Vec<(i64, String)>),
}

/// Reads and checks the anchor file.
fn read(path: &Path, key: &SecretKey) -> Anchored {
    if std::fs::symlink_metadata(path).is_err() {
        return Anchored::Missing;
    }
    let mut file = match home::open_private(path, WHAT, false) {
        Ok(file) => file,
        Err(e) => return Anchored::Bad(format!("{e:#}")),
    };
    let mut text = String::new();
    if file.read_to_string(&mut text).is_err() {
        return Anchored::Bad(format!("{WHAT} {FILE} is not text: it was overwritten"));
    }
    let mut heads: Vec<(i64, String)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let parts: Vec<&str> = line.split(' ').collect();
        let [seq, hash, mac] = parts.as_slice() else {
            return Anchored::Bad(format!("line {n} of {FILE} is malformed: {line:?}"));
        };
        let (Ok(seq), Ok(mac)) = (seq.parse::<i64>(), hex::decode(mac)) else {
            return Anchored::Bad(format!("line {n} of {FILE} is malformed: {line:?}"));
        };
        if !key.verify(&line_data(seq, hash), &mac) {
            return Anchored::Bad(format!(
                "line {n} of {FILE} (head #{seq}) is forged: its MAC does not verify"
            ));
        }
        // Equal is fine: a write anchored but never committed (a failed
        // commit, a crash) is anchored again by the next write.
        if heads.last().is_some_and(|(last, _)| *last > seq) {
            return Anchored::Bad(format!(
                "line {n} of {FILE} (head #{seq}) goes back from the line before it: an older line was copied to the end"
            ));
        }
        heads.push((seq, (*hash).to_string()));
    }
    if !text.is_empty() && !text.ends_with('\n') {
        return Anchored::Bad(format!("the last line of {FILE} is cut short"));
    }
    Anchored::Heads(heads)
}

/// Checks the log's head (`last_seq`, `last_hash`; 0 when empty) against
/// the anchor. Returns the first bad entry and what is wrong, if anything.
pub(crate) fn check(path: &Path, key: &SecretKey, last_seq: i64, last_hash: &str) -> Result<Option<(i64, String)>> {
    let heads = match read(path, key) {
        Anchored::Missing if last_seq == 0 => return Ok(None),
        Anchored::Missing => {
            return Ok(Some((
                last_seq,
                format!("{WHAT} {FILE} is missing: it was deleted, so a rollback of the log cannot be ruled out"),
            )));
        }
        Anchored::Bad(problem) => return Ok(Some((last_seq.max(1), problem))),
        Anchored::Heads(heads) => heads,
    };
    let Some((seq, hash)) = heads.last() else {
        if last_seq == 0 {
            return Ok(None);
        }
        return Ok(Some((last_seq, format!("{WHAT} {FILE} is empty: it was truncated"))));
    };
    let seq = *seq;
    if seq == last_seq && hash == last_hash {
        return Ok(None);
    }
    if seq > last_seq {
        let one_ahead = heads.len() >= 2 && heads[heads.len() - 2] == (last_seq, last_hash.to_string());
        let problem = if one_ahead {
            format!(
                "{WHAT} is one write ahead of the log (it records #{seq}, the log ends at #{last_seq}): \
                 either healthplug died between anchoring that write and committing it (crash?), \
                 or the last write was rolled back"
            )
        } else {
            format!(
                "the log was rolled back: {WHAT} records entry #{seq} but the log ends at #{last_seq} \
                 (entries were deleted and an older head restored)"
            )
        };
        return Ok(Some((last_seq + 1, problem)));
    }
    if seq < last_seq {
        return Ok(Some((
            seq + 1,
            format!("{WHAT} ends at #{seq} but the log holds #{last_seq}: the anchor file was truncated or replaced"),
        )));
    }
    Ok(Some((
        last_seq,
        format!("the log's last entry #{last_seq} is not the one anchored: entries were rewritten"),
    )))
}

/// Checks this host's anchor against a log several hosts append to
/// (PostgreSQL): there the file records only the heads this host
/// committed, each appended right after its commit, so its last line must
/// name an entry the log holds with that very hash (`hash_at`), not beyond
/// the log's end (`last_seq`). The last line is enough: a verified chain
/// whose entry #n has the anchored hash holds every entry before it as it
/// was committed. A host that never wrote has no file. Returns the first
/// bad entry and the problem, as [`check`].
pub(crate) fn check_shared(
    path: &Path,
    key: &SecretKey,
    last_seq: i64,
    hash_at: &mut dyn FnMut(i64) -> Result<Option<String>>,
) -> Result<Option<(i64, String)>> {
    let heads = match read(path, key) {
        Anchored::Missing => return Ok(None),
        Anchored::Bad(problem) => return Ok(Some((last_seq.max(1), problem))),
        Anchored::Heads(heads) => heads,
    };
    if let Some((seq, hash)) = heads.last() {
        if *seq > last_seq {
            return Ok(Some((
                last_seq + 1,
                format!(
                    "the log was rolled back: this host's {WHAT} records entry #{seq}, committed, \
                     but the log ends at #{last_seq}"
                ),
            )));
        }
        match hash_at(*seq)? {
            Some(stored) if stored == *hash => {}
            _ => {
                return Ok(Some((
                    *seq,
                    format!("entry #{seq} is not the one this host committed and anchored: entries were rewritten"),
                )));
            }
        }
    }
    Ok(None)
}
