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
///
/// The line goes out in one `write` on a file opened for appending, so
/// lines appended at once (several of this host's transactions committing
/// together on a shared log, or another process on the same home) never
/// interleave; the vault also appends one line at a time.
pub(crate) fn append(path: &Path, key: &SecretKey, seq: i64, hash: &str) -> Result<()> {
    let mut file = home::open_private(path, WHAT, true)?;
    let mac = hex::encode(key.mac(&line_data(seq, hash)));
    let line = format!("{seq} {hash} {mac}\n");
    file.write_all(line.as_bytes())
        .with_context(|| format!("writing {WHAT} {}", path.display()))?;
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
fn read(path: &Path, key: &SecretKey, ordered: bool) -> Anchored {
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
        if ordered && heads.last().is_some_and(|(last, _)| *last > seq) {
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
    let heads = match read(path, key, true) {
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
/// committed, each appended right after its commit. Two of this host's
/// transactions can commit in one order and append in the other, so
/// lines need not be in order; what must hold is that the highest head
/// anchored is in the chain with that very hash (`hash_at`), not beyond
/// the log's end (`last_seq`). The highest is enough: a verified chain
/// whose entry #n has the anchored hash holds every entry before it as it
/// was committed, and an older line copied to the end cannot lower it. A
/// host that never wrote has no file. Returns the first bad entry and the
/// problem, as [`check`].
pub(crate) fn check_shared(
    path: &Path,
    key: &SecretKey,
    last_seq: i64,
    hash_at: &mut dyn FnMut(i64) -> Result<Option<String>>,
) -> Result<Option<(i64, String)>> {
    let heads = match read(path, key, false) {
        Anchored::Missing => return Ok(None),
        Anchored::Bad(problem) => return Ok(Some((last_seq.max(1), problem))),
        Anchored::Heads(heads) => heads,
    };
    let Some(highest) = heads.iter().map(|(seq, _)| *seq).max() else {
        return Ok(None);
    };
    if highest > last_seq {
        return Ok(Some((
            last_seq + 1,
            format!(
                "the log was rolled back: this host's {WHAT} records entry #{highest}, committed, \
                 but the log ends at #{last_seq}"
            ),
        )));
    }
    let stored = hash_at(highest)?;
    for (_, hash) in heads.iter().filter(|(seq, _)| *seq == highest) {
        if stored.as_deref() != Some(hash.as_str()) {
            return Ok(Some((
                highest,
                format!("entry #{highest} is not the one this host committed and anchored: entries were rewritten"),
            )));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anchored(lines: &[(i64, &str)]) -> (tempfile::TempDir, std::path::PathBuf, SecretKey) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        let key = SecretKey::generate().unwrap();
        for (seq, hash) in lines {
            append(&path, &key, *seq, hash).unwrap();
        }
        (dir, path, key)
    }

    fn chain(seq: i64) -> Result<Option<String>> {
        Ok((1..=5).contains(&seq).then(|| format!("h{seq}")))
    }

    #[test]
    fn a_shared_anchor_may_be_out_of_order_but_its_highest_head_must_be_in_the_chain() {
        // Two transactions of this host committed #4 then #5 and appended
        // #5 then #4: fine.
        let (_d, path, key) = anchored(&[(2, "h2"), (5, "h5"), (4, "h4")]);
        assert_eq!(check_shared(&path, &key, 5, &mut chain).unwrap(), None);
        // The log was rolled back to #3 behind the host's back.
        let problem = check_shared(&path, &key, 3, &mut chain).unwrap().unwrap().1;
        assert!(problem.contains("rolled back"), "{problem}");
        // The entry the host committed as #5 was replaced.
        let (_d, path, key) = anchored(&[(5, "other")]);
        let problem = check_shared(&path, &key, 5, &mut chain).unwrap().unwrap().1;
        assert!(problem.contains("rewritten"), "{problem}");
        // A host that never wrote has nothing to check.
        let (_d, path, key) = anchored(&[]);
        std::fs::remove_file(&path).ok();
        assert_eq!(check_shared(&path, &key, 5, &mut chain).unwrap(), None);
    }

    #[test]
    fn lines_appended_at_once_never_interleave() {
        let (_d, path, key) = anchored(&[]);
        std::thread::scope(|s| {
            for t in 0..8i64 {
                let (path, key) = (&path, &key);
                s.spawn(move || {
                    for n in 0..50 {
                        append(path, key, t * 1000 + n, &"ab".repeat(32)).unwrap();
                    }
                });
            }
        });
        // Every line parses and verifies (out of order is fine here).
        let Anchored::Heads(heads) = read(&path, &key, false) else {
            panic!(
                "a line was mangled: {}",
                std::fs::read_to_string(&path).unwrap_or_default()
            );
        };
        assert_eq!(heads.len(), 400);
    }

    #[test]
    fn an_older_line_copied_to_the_end_does_not_hide_a_rollback() {
        let (_d, path, key) = anchored(&[(2, "h2"), (9, "h9"), (2, "h2")]);
        let problem = check_shared(&path, &key, 5, &mut chain).unwrap().unwrap().1;
        assert!(problem.contains("rolled back"), "{problem}");
        // The single-host check refuses the reordering outright.
        let problem = check(&path, &key, 2, "h2").unwrap().unwrap().1;
        assert!(problem.contains("goes back"), "{problem}");
    }
}
