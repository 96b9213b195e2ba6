//! Pages of raw samples for plugin queries, by keyset: each page starts
//! strictly after the last sample of the one before, its first day found
//! through the vault's plaintext (user, type, day) index, so a page costs
//! the same wherever it starts and opens only the day chunks it reads.
//!
//! Two orders (see `plan.rs`): by (start, type, digest) when the plugin sees
//! time; by (local day, type, digest) when it does not, so the position of
//! a sample within its day carries no time information. A plugin holds
//! cursors only as opaque numbers handed out by the host (an index into the
//! invocation's list of positions), never the position itself.

use std::cmp::Ordering;

use anyhow::Result;

use super::plan::{Order, Plan, TypeRange};
pub(crate) use super::rows::RowRef;
use crate::consent::{Calendar, Granularity};
use crate::registry::DataType;
pub use crate::vault::Cursor;
use crate::vault::chunk::Digest;
use crate::vault::sample_read::{DayReader, days_of};

/// The host ran out of time for this invocation while serving a host call.
#[derive(Clone, Copy, Debug, thiserror::Error)]
#[error("the invocation's deadline passed during a host call")]
pub(crate) struct DeadlinePassed;

/// One page of samples (with the fields the plan delivers).
pub(crate) struct Page {
    /// The samples, in delivery order.
    pub rows: Vec<RowRef>,
    /// More samples follow.
    pub more: bool,
}

/// What a page is read with.
pub(crate) struct PageSource<'a> {
    /// The user's chunks, decoded with the columns the plan delivers.
    pub days: &'a DayReader<'a>,
    /// Their calendar (for days).
    pub calendar: &'a Calendar,
    /// Fails with [`DeadlinePassed`] once the invocation is out of time.
    pub check_deadline: &'a dyn Fn() -> Result<()>,
}

/// The cursor after `row` in `order`.
pub(crate) fn cursor_after(row: &RowRef, order: Order, calendar: &Calendar) -> Cursor {
    match order {
        Order::Timed => Cursor::Timed {
            start_ms: row.start_ms(),
            type_code: row.data_type().code(),
            digest: row.digest(),
        },
        Order::ByDay => Cursor::ByDay {
            day_ms: calendar.floor(row.start_ms(), Granularity::Daily),
            type_code: row.data_type().code(),
            digest: row.digest(),
        },
    }
}

/// The next page of `plan` after `after`, at most `limit` samples.
pub(crate) fn page(src: &PageSource<'_>, plan: &Plan, limit: usize, after: Option<&Cursor>) -> Result<Page> {
    let mut ranges: Vec<TypeRange> = plan.ranges.iter().filter(|r| !r.is_empty()).copied().collect();
    ranges.sort_by_key(|r| r.data_type.code());
    match plan.order {
        Order::Timed => timed(src, &ranges, limit, after),
        Order::ByDay => by_day(src, &ranges, limit, after),
    }
}

fn finish(mut rows: Vec<RowRef>, limit: usize) -> Page {
    let more = rows.len() > limit;
    rows.truncate(limit);
    Page { rows, more }
}

/// Where a type's samples resume in (start, digest) order: strictly after
/// `start` and `tie` at that start.
#[derive(Clone, Copy)]
enum Tie {
    /// Every sample at `start` is included.
    Before,
    /// Samples at `start` with a greater digest are included.
    After(Digest),
    /// No sample at `start` is included.
    AfterAll,
}

fn resumes((s_start, s_digest): (i64, &Digest), (start, tie): (i64, Tie)) -> bool {
    match s_start.cmp(&start) {
        Ordering::Greater => true,
        Ordering::Less => false,
        Ordering::Equal => match tie {
            Tie::Before => true,
            Tie::After(d) => *s_digest > d,
            Tie::AfterAll => false,
        },
    }
}

/// One type's samples in (start, digest) order, read a day chunk at a time.
struct TypeStream {
    range: TypeRange,
    bound: (i64, Tie),
    next_day: i64,
    buffer: std::collections::VecDeque<RowRef>,
}

impl TypeStream {
    /// The next sample, opening the next day's chunk when the buffer runs dry.
    fn next(&mut self, src: &PageSource<'_>) -> Result<Option<RowRef>> {
        let r = self.range;
        let last_day = days_of((r.start_ms, r.end_ms)).1;
        while self.buffer.is_empty() {
            (src.check_deadline)()?;
            let Some(day) = src.days.next_day(r.data_type, (self.next_day, last_day))? else {
                break;
            };
            let rows = src.days.day(r.data_type, day)?;
            let bound = self.bound;
            let wanted = move |start: i64, digest: &Digest| {
                start >= r.start_ms && start < r.end_ms && resumes((start, digest), bound)
            };
            self.buffer.extend(RowRef::all(&rows, wanted));
            self.next_day = day + 1;
        }
        Ok(self.buffer.pop_front())
    }
}

/// Merges the types' samples by (start, type, digest), holding at most a
/// day chunk per type and the page itself.
fn timed(src: &PageSource<'_>, ranges: &[TypeRange], limit: usize, after: Option<&Cursor>) -> Result<Page> {
    use std::cmp::Reverse;
    let mut streams = Vec::with_capacity(ranges.len());
    for r in ranges {
        let code = r.data_type.code();
        // Where this type resumes so that (start, type, digest) is
        // strictly after the cursor.
        let bound = match after {
            None => (i64::MIN, Tie::Before),
            Some(Cursor::Timed {
                start_ms,
                type_code,
                digest,
            }) => match code.cmp(type_code) {
                Ordering::Less => (*start_ms, Tie::AfterAll),
                Ordering::Equal => (*start_ms, Tie::After(*digest)),
                Ordering::Greater => (*start_ms, Tie::Before),
            },
            Some(Cursor::ByDay { .. }) => anyhow::bail!("cursor of another query"),
        };
        let first_day = days_of((r.start_ms.max(bound.0), r.end_ms)).0;
        streams.push(TypeStream {
            range: *r,
            bound,
            next_day: first_day,
            buffer: std::collections::VecDeque::new(),
        });
    }
    let need = limit.saturating_add(1);
    if let [stream] = streams.as_mut_slice() {
        // One type: its own order is the page's.
        let mut rows = Vec::new();
        while rows.len() < need
            && let Some(s) = stream.next(src)?
        {
            rows.push(s);
        }
        return Ok(finish(rows, limit));
    }
    let key = |s: &RowRef| (s.start_ms(), s.data_type().code(), s.digest());
    let mut heap = std::collections::BinaryHeap::new();
    for (i, stream) in streams.iter_mut().enumerate() {
        if let Some(s) = stream.next(src)? {
            heap.push(Reverse((key(&s), i, Keyed(s))));
        }
    }
    let mut rows = Vec::new();
    while rows.len() < need {
        let Some(Reverse((_, i, Keyed(s)))) = heap.pop() else {
            break;
        };
        rows.push(s);
        if let Some(stream) = streams.get_mut(i)
            && let Some(s) = stream.next(src)?
        {
            heap.push(Reverse((key(&s), i, Keyed(s))));
        }
    }
    Ok(finish(rows, limit))
}

/// A sample carried through the merge heap, ordered by the key beside it
/// only (every key is distinct: type and digest identify a sample).
struct Keyed(RowRef);

impl PartialEq for Keyed {
    fn eq(&self, _: &Keyed) -> bool {
        true
    }
}
impl Eq for Keyed {}
impl PartialOrd for Keyed {
    fn partial_cmp(&self, other: &Keyed) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Keyed {
    fn cmp(&self, _: &Keyed) -> Ordering {
        Ordering::Equal
    }
}

/// The first sample start of `ty` in `[from, end)`.
fn first_start(src: &PageSource<'_>, ty: DataType, (from, end): (i64, i64)) -> Result<Option<i64>> {
    let (mut day, last) = days_of((from, end));
    while let Some(d) = src.days.next_day(ty, (day, last))? {
        let rows = src.days.day(ty, d)?;
        if let Some(start) = rows.cols.starts.iter().find(|s| **s >= from && **s < end) {
            return Ok(Some(*start));
        }
        day = d + 1;
    }
    Ok(None)
}

/// The first local day at or after `from` holding a sample of any range.
fn next_day(src: &PageSource<'_>, ranges: &[TypeRange], from: i64) -> Result<Option<i64>> {
    let mut first: Option<i64> = None;
    for r in ranges {
        let start = r.start_ms.max(from);
        if start < r.end_ms
            && let Some(t) = first_start(src, r.data_type, (start, r.end_ms))?
        {
            first = Some(first.map_or(t, |f| f.min(t)));
        }
    }
    Ok(first.map(|t| src.calendar.floor(t, Granularity::Daily)))
}

/// The samples of `ty` starting in `window` (within one local day) whose
/// digest is after `after`, in digest order, at most `want`.
fn by_digest(
    src: &PageSource<'_>,
    ty: DataType,
    window: (i64, i64),
    after: Option<&Digest>,
    want: usize,
) -> Result<Vec<RowRef>> {
    let (mut day, last) = days_of(window);
    let mut out = Vec::new();
    while let Some(d) = src.days.next_day(ty, (day, last))? {
        let rows = src.days.day(ty, d)?;
        let wanted = move |start: i64, digest: &Digest| {
            start >= window.0 && start < window.1 && after.is_none_or(|a| digest > a)
        };
        out.extend(RowRef::all(&rows, wanted));
        day = d + 1;
    }
    // Digests are distinct within a type: an unstable sort on the digest
    // alone, read once per sample, is the order.
    let mut keyed: Vec<(Digest, RowRef)> = out.into_iter().map(|r| (r.digest(), r)).collect();
    keyed.sort_unstable_by_key(|k| k.0);
    keyed.truncate(want);
    Ok(keyed.into_iter().map(|(_, r)| r).collect())
}

fn by_day(src: &PageSource<'_>, ranges: &[TypeRange], limit: usize, after: Option<&Cursor>) -> Result<Page> {
    let cursor = match after {
        None => None,
        Some(Cursor::ByDay {
            day_ms,
            type_code,
            digest,
        }) => Some((*day_ms, *type_code, digest)),
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
            let after_digest = match cursor {
                Some((c_day, c_code, _)) if (day, code) < (c_day, c_code) => continue,
                Some((c_day, c_code, digest)) if (day, code) == (c_day, c_code) => Some(digest),
                _ => None,
            };
            let window = (r.start_ms.max(day), r.end_ms.min(day_end));
            if window.0 >= window.1 {
                continue;
            }
            let want = need - rows.len();
            rows.extend(by_digest(src, r.data_type, window, after_digest, want)?);
            if rows.len() >= need {
                break;
            }
        }
        from = day_end;
    }
    Ok(finish(rows, limit))
}
