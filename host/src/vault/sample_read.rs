//! Reading samples back from sealed day chunks: whole ranges (records,
//! aggregates) streamed a day at a time, and the reader behind paged
//! plugin queries, which finds the next day holding a chunk through the
//! plaintext (user, type, day) index, opens each chunk once per page and
//! decodes only the columns delivered.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use anyhow::Result;

use super::chunk::{Columns, Decoded, Digest, day_of};
use super::chunks;
use super::keys::SecretKey;
use super::samples::StoredSample;
use super::store::Store;
use crate::registry::DataType;

/// A range query over one type.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RangeQuery {
    pub data_type: DataType,
    pub start_ms: i64,
    pub end_ms: i64,
    pub limit: usize,
    /// The columns to decode (`Columns::INDEX`: time only, no payload).
    pub cols: Columns,
}

/// The UTC days a range `[start, end)` touches (empty when `start >= end`).
pub(crate) fn days_of((start, end): (i64, i64)) -> (i64, i64) {
    (day_of(start), day_of(end.saturating_sub(1)))
}

fn stored(ty: DataType, cols: Columns, e: super::chunk::Entry) -> StoredSample {
    StoredSample {
        data_type: ty,
        start_ms: e.start_ms,
        end_ms: e.end_ms,
        digest: e.digest,
        payload: cols.beyond_index().then_some(e.payload),
    }
}

/// Calls `each` with the samples of one type starting in `[start, end)`,
/// in (start, digest) order, at most `limit`; `each` returns `false` to
/// stop early. One chunk is open at a time.
pub(crate) fn scan(
    store: &dyn Store,
    user_id: i64,
    key: &SecretKey,
    q: RangeQuery,
    mut each: impl FnMut(StoredSample) -> Result<bool>,
) -> Result<()> {
    if q.start_ms >= q.end_ms || q.limit == 0 {
        return Ok(());
    }
    let code = q.data_type.code();
    let mut left = q.limit;
    store.chunk_each_sealed(user_id, code, days_of((q.start_ms, q.end_ms)), &mut |day, sealed| {
        for e in chunks::open(key, user_id, (code, day), sealed, q.cols)? {
            if e.start_ms < q.start_ms || e.start_ms >= q.end_ms {
                continue;
            }
            if !each(stored(q.data_type, q.cols, e))? {
                return Ok(false);
            }
            left -= 1;
            if left == 0 {
                return Ok(false);
            }
        }
        Ok(true)
    })
}

/// Samples of one type starting in `[start, end)`, in (start, digest) order.
pub(crate) fn query(store: &dyn Store, user_id: i64, key: &SecretKey, q: RangeQuery) -> Result<Vec<StoredSample>> {
    let mut out = Vec::new();
    scan(store, user_id, key, q, |s| {
        out.push(s);
        Ok(true)
    })?;
    Ok(out)
}

/// Whether any day chunk of one type touches `[start, end)` (plaintext
/// index only: nothing is opened).
pub(crate) fn holds_any(store: &dyn Store, user_id: i64, ty: DataType, (start, end): (i64, i64)) -> Result<bool> {
    if start >= end {
        return Ok(false);
    }
    Ok(store
        .chunk_next_day(user_id, ty.code(), days_of((start, end)))?
        .is_some())
}

/// A position in a plugin's query: where a page ended (the last sample
/// delivered). Plugins never see it, only an opaque number standing for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cursor {
    /// In (start, type, digest) order.
    Timed {
        /// Start of the last sample.
        start_ms: i64,
        /// Its type code.
        type_code: u8,
        /// Its keyed digest.
        digest: Digest,
    },
    /// In (local day, type, digest) order.
    ByDay {
        /// Start of the last sample's local day.
        day_ms: i64,
        /// Its type code.
        type_code: u8,
        /// Its keyed digest.
        digest: Digest,
    },
}

/// Decoded chunks a page reads more than once (finding the next local day,
/// then reading it) are kept here: the last few, whatever the range.
const KEPT_CHUNKS: usize = 16;

/// A chunk's (type code, UTC day).
type ChunkAt = (u8, i64);

/// The decoded samples of one type on one UTC day, as columns.
pub(crate) struct DayRows {
    /// Their type.
    pub data_type: DataType,
    /// Their columns, in (start, digest) order.
    pub cols: Decoded,
}

/// Reads the chunks of one user for one page of a query, decoding the
/// columns `cols`.
pub(crate) struct DayReader<'a> {
    store: &'a dyn Store,
    user_id: i64,
    key: &'a SecretKey,
    cols: Columns,
    kept: RefCell<VecDeque<(ChunkAt, Rc<DayRows>)>>,
}

impl<'a> DayReader<'a> {
    /// A reader of `user_id`'s chunks.
    pub fn new(store: &'a dyn Store, user_id: i64, key: &'a SecretKey, cols: Columns) -> DayReader<'a> {
        DayReader {
            store,
            user_id,
            key,
            cols,
            kept: RefCell::new(VecDeque::new()),
        }
    }

    /// The first UTC day in `[from, to]` holding samples of `ty` (from the
    /// plaintext index: nothing is opened).
    pub fn next_day(&self, ty: DataType, (from, to): (i64, i64)) -> Result<Option<i64>> {
        if from > to {
            return Ok(None);
        }
        self.store.chunk_next_day(self.user_id, ty.code(), (from, to))
    }

    /// The samples of `ty` on UTC day `day`, in (start, digest) order.
    pub fn day(&self, ty: DataType, day: i64) -> Result<Rc<DayRows>> {
        let at = (ty.code(), day);
        if let Some((_, rows)) = self.kept.borrow().iter().find(|(k, _)| *k == at) {
            return Ok(rows.clone());
        }
        let cols = match self.store.chunk_sealed(self.user_id, at.0, day)? {
            Some(sealed) => chunks::open_columns(self.key, self.user_id, at, &sealed, self.cols)?,
            None => Decoded::default(),
        };
        let rows = Rc::new(DayRows { data_type: ty, cols });
        let mut kept = self.kept.borrow_mut();
        if kept.len() == KEPT_CHUNKS {
            kept.pop_front();
        }
        kept.push_back((at, rows.clone()));
        Ok(rows)
    }
}
