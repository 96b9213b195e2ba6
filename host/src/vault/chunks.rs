//! Sealed day chunks (vault v2), the sealing side over the storage trait
//! (the SQLite statements are `chunks_sql.rs`): one row per (user, type,
//! UTC day), its payload the chunk (`chunk.rs`) sealed with
//! the user's key and bound to that row's user, type and day, so a row
//! moved to another user, type or day does not open. Only user id, type
//! and day are plaintext: exact times, counts (up to the padding) and
//! values are not.
//!
//! Writes merge into the day's chunk inside the caller's transaction
//! (sorted by (start, digest); a digest already stored is a duplicate, and
//! the stored copy, with its provenance, is kept). An invocation's writes
//! are staged as sealed chunks of their own in `staged_chunks` (bound to
//! the invocation) and merged at commit, one (type, day) at a time, so a
//! commit holds one day of one type in memory whatever it imports.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use zeroize::Zeroizing;

use super::chunk::{self, Columns, Decoded, Entry};
use super::keys::SecretKey;
use super::store::Store;
use crate::registry::DataType;

/// Entries grouped by (type code, UTC day).
pub(crate) type Groups = BTreeMap<(u8, i64), Vec<Entry>>;

fn aad(user_id: i64, ty: u8, day: i64) -> Vec<u8> {
    format!("chunk v2:{user_id}:{ty}:{day}").into_bytes()
}

fn staged_aad(invocation: &str, user_id: i64, ty: u8, day: i64) -> Vec<u8> {
    format!("staged chunk v2:{invocation}:{user_id}:{ty}:{day}").into_bytes()
}

/// Seals a day's entries (in (start, digest) order).
fn seal(key: &SecretKey, aad: &[u8], day: i64, entries: &[Entry]) -> Result<Vec<u8>> {
    let plain = Zeroizing::new(chunk::encode(day, entries)?);
    key.seal(&plain, aad)
}

/// Opens a stored chunk and decodes the columns `cols`, as entries.
pub(crate) fn open(key: &SecretKey, user_id: i64, at: (u8, i64), sealed: &[u8], cols: Columns) -> Result<Vec<Entry>> {
    Ok(open_columns(key, user_id, at, sealed, cols)?.into_entries())
}

/// Opens a stored chunk and decodes the columns `cols`, as columns.
pub(crate) fn open_columns(
    key: &SecretKey,
    user_id: i64,
    (ty, day): (u8, i64),
    sealed: &[u8],
    cols: Columns,
) -> Result<Decoded> {
    let plain = key
        .open(sealed, &aad(user_id, ty, day))
        .with_context(|| format!("unsealing the chunk of type {ty}, day {day}"))?;
    chunk::decode_columns(day, &plain, cols).with_context(|| format!("decoding the chunk of type {ty}, day {day}"))
}

/// How many samples a stored chunk holds (opened, not decoded).
pub(crate) fn open_count(key: &SecretKey, user_id: i64, (ty, day): (u8, i64), sealed: &[u8]) -> Result<u64> {
    let plain = key
        .open(sealed, &aad(user_id, ty, day))
        .with_context(|| format!("unsealing the chunk of type {ty}, day {day}"))?;
    Ok(chunk::count(&plain)? as u64)
}

/// Sorts a day's entries by (start, digest) and drops repeated digests
/// (the first, in the given order, is kept).
pub(crate) fn sort_dedup(entries: &mut Vec<Entry>) {
    entries.sort_by_key(|e| (e.start_ms, e.digest));
    entries.dedup_by(|later, kept| later.digest == kept.digest);
}

/// Merges `new` into the stored chunk of (user, type, day), inside the
/// caller's write transaction; returns how many of `new` were not stored
/// already.
pub(crate) fn merge<S: Store + ?Sized>(
    tx: &S,
    key: &SecretKey,
    user_id: i64,
    (ty, day): (u8, i64),
    new: Vec<Entry>,
) -> Result<u64> {
    let mut entries = match tx.chunk_sealed(user_id, ty, day)? {
        Some(s) => open(key, user_id, (ty, day), &s, Columns::ALL)?,
        None => Vec::new(),
    };
    let before = entries.len();
    entries.extend(new);
    sort_dedup(&mut entries);
    let added = entries.len() - before;
    if added > 0 {
        let payload = seal(key, &aad(user_id, ty, day), day, &entries)?;
        tx.put_chunk(user_id, ty, day, &payload)?;
    }
    Ok(added as u64)
}

/// Stages `groups` for `invocation`, inside the caller's write transaction.
pub(crate) fn stage<S: Store + ?Sized>(
    tx: &S,
    invocation: &str,
    user_id: i64,
    key: &SecretKey,
    groups: &Groups,
) -> Result<()> {
    let staged_ms = super::now_ms();
    for (&(ty, day), entries) in groups {
        let payload = seal(key, &staged_aad(invocation, user_id, ty, day), day, entries)?;
        tx.put_staged(invocation, user_id, (ty, day), &payload, staged_ms)?;
    }
    Ok(())
}

/// The entries `invocation` staged for (type, day), in staging order.
fn staged_entries<S: Store + ?Sized>(
    tx: &S,
    invocation: &str,
    user_id: i64,
    key: &SecretKey,
    (ty, day): (u8, i64),
) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    for sealed in tx.staged_sealed(invocation, user_id, (ty, day))? {
        let plain = key
            .open(&sealed, &staged_aad(invocation, user_id, ty, day))
            .context("unsealing a staged chunk")?;
        out.extend(chunk::decode(day, &plain, Columns::ALL)?);
    }
    Ok(out)
}

/// Merges what `invocation` staged for `user_id` into the stored chunks,
/// inside the caller's write transaction, one (type, day) at a time;
/// returns how many new samples were stored per type.
pub(crate) fn commit_staged<S: Store + ?Sized>(
    tx: &S,
    invocation: &str,
    user_id: i64,
    key: &SecretKey,
) -> Result<Vec<(DataType, u64)>> {
    let mut out: Vec<(DataType, u64)> = Vec::new();
    for group in tx.staged_days(invocation, user_id)? {
        let entries = staged_entries(tx, invocation, user_id, key, group)?;
        let added = merge(tx, key, user_id, group, entries)?;
        let ty = DataType::from_code(group.0).with_context(|| format!("a staged chunk of unknown type {}", group.0))?;
        match out.last_mut() {
            Some((t, n)) if *t == ty => *n += added,
            _ => out.push((ty, added)),
        }
    }
    tx.discard_staged(invocation)?;
    Ok(out)
}

/// Samples stored for `user_id`, per type (every chunk is opened, none
/// decoded).
pub(crate) fn counts(store: &dyn super::Store, user_id: i64, key: &SecretKey) -> Result<Vec<(DataType, u64)>> {
    let mut out: Vec<(DataType, u64)> = Vec::new();
    store.chunk_each_of_user(user_id, &mut |ty, day, sealed| {
        let n = open_count(key, user_id, (ty, day), sealed)?;
        let Some(ty) = DataType::from_code(ty) else {
            return Ok(());
        };
        match out.last_mut() {
            Some((t, total)) if *t == ty => *total += n,
            _ => out.push((ty, n)),
        }
        Ok(())
    })?;
    Ok(out)
}
