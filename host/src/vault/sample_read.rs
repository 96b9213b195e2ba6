//! Reading samples back: whole ranges unsealed (records, aggregates), and
//! the read behind paged plugin queries: index entries (type, time,
//! digest, and the sealed payload when a field beyond time is wanted) to
//! order and page, of which only the returned page is unsealed, so a
//! plugin paging through a large history makes the host decrypt only what
//! it returns.

use anyhow::{Context, Result};
use rusqlite::{Connection, params};

use super::keys::SecretKey;
use super::samples::{SamplePayload, StoredSample, aad};
use crate::registry::DataType;

/// A range query over one type.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RangeQuery {
    pub data_type: DataType,
    pub start_ms: i64,
    pub end_ms: i64,
    pub limit: usize,
    pub unseal: bool,
}

fn limit_param(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// Opens one sealed payload.
pub(crate) fn unseal(key: &SecretKey, user_id: i64, entry: &SampleKey, sealed: &[u8]) -> Result<SamplePayload> {
    let plain = key
        .open(sealed, &aad(user_id, entry.data_type, entry.start_ms, entry.end_ms))
        .with_context(|| format!("unsealing sample {}", entry.id))?;
    postcard::from_bytes::<SamplePayload>(&plain).with_context(|| format!("decoding sample {}", entry.id))
}

/// Calls `each` with the samples of one type starting in `[start, end)`,
/// oldest first, at most `limit`; `each` returns `false` to stop early.
pub(crate) fn scan(
    conn: &Connection,
    user_id: i64,
    key: &SecretKey,
    q: RangeQuery,
    mut each: impl FnMut(StoredSample) -> Result<bool>,
) -> Result<()> {
    let sql = if q.unseal {
        "SELECT id, start_ms, end_ms, payload FROM samples
         WHERE user_id = ?1 AND data_type = ?2 AND start_ms >= ?3 AND start_ms < ?4
         ORDER BY start_ms, id LIMIT ?5"
    } else {
        "SELECT id, start_ms, end_ms FROM samples
         WHERE user_id = ?1 AND data_type = ?2 AND start_ms >= ?3 AND start_ms < ?4
         ORDER BY start_ms, id LIMIT ?5"
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let code = i64::from(q.data_type.code());
    let mut rows = stmt.query(params![user_id, code, q.start_ms, q.end_ms, limit_param(q.limit)])?;
    while let Some(row) = rows.next()? {
        let entry = SampleKey {
            id: row.get(0)?,
            data_type: q.data_type,
            start_ms: row.get(1)?,
            end_ms: row.get(2)?,
            digest: Vec::new(),
            sealed: None,
        };
        let payload = if q.unseal {
            let sealed: Vec<u8> = row.get(3)?;
            Some(unseal(key, user_id, &entry, &sealed)?)
        } else {
            None
        };
        let sample = StoredSample {
            id: entry.id,
            data_type: entry.data_type,
            start_ms: entry.start_ms,
            end_ms: entry.end_ms,
            payload,
        };
        if !each(sample)? {
            break;
        }
    }
    Ok(())
}

/// Samples of one type starting in `[start, end)`, oldest first.
pub(crate) fn query(conn: &Connection, user_id: i64, key: &SecretKey, q: RangeQuery) -> Result<Vec<StoredSample>> {
    let mut out = Vec::new();
    scan(conn, user_id, key, q, |s| {
        out.push(s);
        Ok(true)
    })?;
    Ok(out)
}

/// A position in the sample index: where a page of a plugin's query
/// ended (the last entry delivered). Plugins never see it, only an opaque
/// number standing for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cursor {
    /// In (start, type, id) order.
    Timed {
        /// Start of the last sample.
        start_ms: i64,
        /// Its type code.
        type_code: u8,
        /// Its row id.
        id: i64,
    },
    /// In (local day, type, digest) order.
    ByDay {
        /// Start of the last sample's local day.
        day_ms: i64,
        /// Its type code.
        type_code: u8,
        /// Its keyed digest.
        digest: Vec<u8>,
    },
}

/// The index entry of a stored sample: what orders and pages it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct SampleKey {
    pub id: i64,
    pub data_type: DataType,
    pub start_ms: i64,
    pub end_ms: i64,
    /// The keyed content digest (orders samples within a day when their
    /// time is withheld: it carries no time information).
    pub digest: Vec<u8>,
    /// The sealed payload, when it was asked for (still sealed).
    pub sealed: Option<Vec<u8>>,
}

fn key_rows(
    stmt: &mut rusqlite::CachedStatement<'_>,
    ty: DataType,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<SampleKey>> {
    let rows = stmt.query_map(args, |r| {
        Ok(SampleKey {
            id: r.get(0)?,
            data_type: ty,
            start_ms: r.get(1)?,
            end_ms: r.get(2)?,
            digest: r.get(3)?,
            sealed: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Index entries of one type in `[start, end)` ordered by (start, id) and
/// strictly after `after` in that order, at most `limit`, with their
/// sealed payloads when `payload`.
pub(crate) fn keys_after(
    conn: &Connection,
    user_id: i64,
    ty: DataType,
    (start, end): (i64, i64),
    after: (i64, i64),
    (limit, payload): (usize, bool),
) -> Result<Vec<SampleKey>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, start_ms, end_ms, digest, CASE WHEN ?8 THEN payload END FROM samples
         WHERE user_id = ?1 AND data_type = ?2 AND start_ms >= ?3 AND start_ms < ?4
           AND (start_ms > ?5 OR (start_ms = ?5 AND id > ?6))
         ORDER BY start_ms, id LIMIT ?7",
    )?;
    let code = i64::from(ty.code());
    key_rows(
        &mut stmt,
        ty,
        params![user_id, code, start, end, after.0, after.1, limit_param(limit), payload],
    )
}

/// Index entries of one type in `[start, end)` ordered by digest and
/// strictly after `after_digest`, at most `limit`, with their sealed
/// payloads when `payload`.
pub(crate) fn keys_by_digest(
    conn: &Connection,
    user_id: i64,
    ty: DataType,
    (start, end): (i64, i64),
    after_digest: &[u8],
    (limit, payload): (usize, bool),
) -> Result<Vec<SampleKey>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, start_ms, end_ms, digest, CASE WHEN ?7 THEN payload END FROM samples
         WHERE user_id = ?1 AND data_type = ?2 AND start_ms >= ?3 AND start_ms < ?4 AND digest > ?5
         ORDER BY digest LIMIT ?6",
    )?;
    let code = i64::from(ty.code());
    key_rows(
        &mut stmt,
        ty,
        params![user_id, code, start, end, after_digest, limit_param(limit), payload],
    )
}

/// The earliest start at or after `from` (and before `end`) of one type.
pub(crate) fn first_start(
    conn: &Connection,
    user_id: i64,
    ty: DataType,
    (from, end): (i64, i64),
) -> Result<Option<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT start_ms FROM samples WHERE user_id = ?1 AND data_type = ?2 AND start_ms >= ?3 AND start_ms < ?4
         ORDER BY start_ms LIMIT 1",
    )?;
    let mut rows = stmt.query(params![user_id, i64::from(ty.code()), from, end])?;
    Ok(match rows.next()? {
        Some(row) => Some(row.get(0)?),
        None => None,
    })
}

/// How many samples of one type start in `[start, end)` (index only).
pub(crate) fn count(conn: &Connection, user_id: i64, ty: DataType, (start, end): (i64, i64)) -> Result<u64> {
    let mut stmt = conn.prepare_cached(
        "SELECT COUNT(*) FROM samples WHERE user_id = ?1 AND data_type = ?2 AND start_ms >= ?3 AND start_ms < ?4",
    )?;
    let n: i64 = stmt.query_row(params![user_id, i64::from(ty.code()), start, end], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The sealed payload of sample `id` of `user_id`.
pub(crate) fn sealed_payload(conn: &Connection, user_id: i64, id: i64) -> Result<Vec<u8>> {
    let mut stmt = conn.prepare_cached("SELECT payload FROM samples WHERE user_id = ?1 AND id = ?2")?;
    stmt.query_row(params![user_id, id], |r| r.get(0))
        .with_context(|| format!("sample {id} vanished while it was read"))
}
