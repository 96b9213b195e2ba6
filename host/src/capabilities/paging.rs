//! Pages of raw samples for plugin queries, by keyset: each page starts
//! strictly after the last entry of the one before, found through the
//! index, so a page costs the same wherever it starts and nothing before
//! it is read or unsealed again.
//!
//! Two orders (see `plan.rs`): by (start, type, id) when the plugin sees
//! time; by (local day, type, digest) when it does not, so the position of
//! a sample within its day carries no time information. A plugin holds
//! cursors only as opaque numbers handed out by the host (an index into the
//! invocation's list of positions), never the position itself.

use anyhow::Result;
use rusqlite::Connection;

use super::plan::{Order, Plan, TypeRange};
use crate::consent::{Calendar, Granularity};
pub use crate::vault::Cursor;
use crate::vault::sample_read::{SampleKey, first_start, keys_after, keys_by_digest};

/// The host ran out of time for this invocation while serving a host call.
#[derive(Clone, Copy, Debug, thiserror::Error)]
#[error("the invocation's deadline passed during a host call")]
pub(crate) struct DeadlinePassed;

/// One page of index entries.
pub(crate) struct Page {
    /// The entries, in delivery order.
    pub rows: Vec<SampleKey>,
    /// More entries follow.
    pub more: bool,
}

/// What a page is read with.
pub(crate) struct PageSource<'a> {
    /// A vault connection.
    pub conn: &'a Connection,
    /// The user.
    pub user_id: i64,
    /// Their calendar (for days).
    pub calendar: &'a Calendar,
    /// Fails with [`DeadlinePassed`] once the invocation is out of time.
    pub check_deadline: &'a dyn Fn() -> Result<()>,
    /// Read the sealed payloads with the entries (a field beyond time is
    /// delivered), saving a query per returned sample.
    pub payload: bool,
}

/// The cursor after `row` in `order`.
pub(crate) fn cursor_after(row: &SampleKey, order: Order, calendar: &Calendar) -> Cursor {
    match order {
        Order::Timed => Cursor::Timed {
            start_ms: row.start_ms,
            type_code: row.data_type.code(),
            id: row.id,
        },
        Order::ByDay => Cursor::ByDay {
            day_ms: calendar.floor(row.start_ms, Granularity::Daily),
            type_code: row.data_type.code(),
            digest: row.digest.clone(),
        },
    }
}

/// The next page of `plan` after `after`, at most `limit` entries.
pub(crate) fn page(src: &PageSource<'_>, plan: &Plan, limit: usize, after: Option<&Cursor>) -> Result<Page> {
    let mut ranges: Vec<TypeRange> = plan.ranges.iter().filter(|r| !r.is_empty()).copied().collect();
    ranges.sort_by_key(|r| r.data_type.code());
    match plan.order {
        Order::Timed => timed(src, &ranges, limit, after),
        Order::ByDay => by_day(src, &ranges, limit, after),
    }
}

fn finish(mut rows: Vec<SampleKey>, limit: usize) -> Page {
    let more = rows.len() > limit;
    rows.truncate(limit);
    Page { rows, more }
}

/// How many index entries one type reads at a time while merging.
const CHUNK: usize = 1024;

/// One type's entries in (start, id) order, read a chunk at a time.
struct TypeStream {
    range: TypeRange,
    bound: (i64, i64),
    buffer: std::collections::VecDeque<SampleKey>,
    exhausted: bool,
}

impl TypeStream {
    /// The next entry, reading another chunk when the buffer runs dry.
    fn next(&mut self, src: &PageSource<'_>) -> Result<Option<SampleKey>> {
        if self.buffer.is_empty() && !self.exhausted {
            (src.check_deadline)()?;
            let r = self.range;
            let chunk = keys_after(
                src.conn,
                src.user_id,
                r.data_type,
                (r.start_ms, r.end_ms),
                self.bound,
                (CHUNK, src.payload),
            )?;
            self.exhausted = chunk.len() < CHUNK;
            if let Some(last) = chunk.last() {
                self.bound = (last.start_ms, last.id);
            }
            self.buffer.extend(chunk);
        }
        Ok(self.buffer.pop_front())
    }
}

/// Merges the types' entries by (start, type, id), holding at most a chunk
/// per type and the page itself: a query over every type costs no more
/// memory than the page it returns.
fn timed(src: &PageSource<'_>, ranges: &[TypeRange], limit: usize, after: Option<&Cursor>) -> Result<Page> {
    use std::cmp::Reverse;
    let mut streams = Vec::with_capacity(ranges.len());
    for r in ranges {
        let code = r.data_type.code();
        // The exclusive lower bound in (start, id) for this type, so that
        // (start, type, id) is strictly after the cursor.
        let bound = match after {
            None => (i64::MIN, i64::MIN),
            Some(Cursor::Timed {
                start_ms,
                type_code,
                id,
            }) => match code.cmp(type_code) {
                std::cmp::Ordering::Less => (*start_ms, i64::MAX),
                std::cmp::Ordering::Equal => (*start_ms, *id),
                std::cmp::Ordering::Greater => (*start_ms, i64::MIN),
            },
            Some(Cursor::ByDay { .. }) => anyhow::bail!("cursor of another query"),
        };
        streams.push(TypeStream {
            range: *r,
            bound,
            buffer: std::collections::VecDeque::new(),
            exhausted: false,
        });
    }
    let mut heap = std::collections::BinaryHeap::new();
    for (i, stream) in streams.iter_mut().enumerate() {
        if let Some(k) = stream.next(src)? {
            heap.push(Reverse(((k.start_ms, k.data_type.code(), k.id), i, k)));
        }
    }
    let need = limit.saturating_add(1);
    let mut rows = Vec::new();
    while rows.len() < need {
        let Some(Reverse((_, i, key))) = heap.pop() else {
            break;
        };
        rows.push(key);
        if let Some(stream) = streams.get_mut(i)
            && let Some(k) = stream.next(src)?
        {
            heap.push(Reverse(((k.start_ms, k.data_type.code(), k.id), i, k)));
        }
    }
    Ok(finish(rows, limit))
}

/// The first local day at or after `from` holding a sample of any range.
fn next_day(src: &PageSource<'_>, ranges: &[TypeRange], from: i64) -> Result<Option<i64>> {
    let mut first: Option<i64> = None;
    for r in ranges {
        let start = r.start_ms.max(from);
        if start < r.end_ms
            && let Some(t) = first_start(src.conn, src.user_id, r.data_type, (start, r.end_ms))?
        {
            first = Some(first.map_or(t, |f| f.min(t)));
        }
    }
    Ok(first.map(|t| src.calendar.floor(t, Granularity::Daily)))
}

fn by_day(src: &PageSource<'_>, ranges: &[TypeRange], limit: usize, after: Option<&Cursor>) -> Result<Page> {
    let cursor = match after {
        None => None,
        Some(Cursor::ByDay {
            day_ms,
            type_code,
            digest,
        }) => Some((*day_ms, *type_code, digest.as_slice())),
        Some(Cursor::Timed { .. }) => anyhow::bail!("cursor of another query"),
    };
    let need = limit.saturating_add(1);
    let mut rows = Vec::new();
    let mut from = cursor.map_or(i64::MIN, |c| c.0);
    while rows.len() < need {
        (src.check_deadline)()?;
        let Some(day) = next_day(src, ranges, from)? else {
            break;
        };
        let day_end = src.calendar.next(day, Granularity::Daily);
        for r in ranges {
            let code = r.data_type.code();
            let after_digest: &[u8] = match cursor {
                Some((c_day, c_code, _)) if (day, code) < (c_day, c_code) => continue,
                Some((c_day, c_code, digest)) if (day, code) == (c_day, c_code) => digest,
                _ => &[],
            };
            let window = (r.start_ms.max(day), r.end_ms.min(day_end));
            if window.0 >= window.1 {
                continue;
            }
            let want = need - rows.len();
            rows.extend(keys_by_digest(
                src.conn,
                src.user_id,
                r.data_type,
                window,
                after_digest,
                (want, src.payload),
            )?);
            if rows.len() >= need {
                break;
            }
        }
        from = day_end;
    }
    Ok(finish(rows, limit))
}
