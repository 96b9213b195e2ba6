//! `query` and `aggregate` on the mock, planned by the host's rules
//! (`host/src/capabilities/plan.rs`), paged as `paging.rs` pages and
//! aggregated as `reading.rs` and `columns.rs` aggregate.

use crate::bindings::healthplug::plugin::health_data::{AggregateBatch, AggregateQuery, SampleQuery};
use crate::bindings::healthplug::plugin::types::{self as wit, SampleBatch};
use crate::write::Dictionary;
use crate::{DataType, DenialReason, Fields, Granularity};

use super::samples::{Entry, sample_batch};
use super::state::{Key, MockState, Order};

/// The most samples one query returns (the host's `samples-per-query`).
const MAX_SAMPLES_PER_QUERY: usize = 500_000;

/// One type's slice of a plan: `[start, end)`, clipped and snapped.
#[derive(Clone, Copy, Debug)]
struct TypeRange {
    data_type: DataType,
    start_ms: i64,
    end_ms: i64,
}

impl TypeRange {
    fn holds(&self, e: &Entry) -> bool {
        e.data_type() == self.data_type && e.start_ms() >= self.start_ms && e.start_ms() < self.end_ms
    }
}

/// A planned query.
struct Plan {
    ranges: Vec<TypeRange>,
    fields: Fields,
    order: Order,
}

/// A query to plan: types, `[start, end)`, fields wanted, granularity.
struct Request<'a> {
    types: &'a [DataType],
    range: (i64, i64),
    wanted: Fields,
    granularity: Granularity,
}

/// The plugin's mistakes, whatever it was granted (the host's
/// `check_shape`, same messages).
fn check_shape(req: &Request<'_>) -> Result<(), String> {
    if req.types.is_empty() {
        return Err("the query names no data type".into());
    }
    let (start, end) = req.range;
    if start >= end {
        return Err(format!(
            "the time range is empty: start {start} is not before end {end}"
        ));
    }
    for (i, ty) in req.types.iter().enumerate() {
        if req.types[..i].contains(ty) {
            return Err(format!("{ty} is listed twice"));
        }
        if req.granularity != Granularity::Raw && !ty.registry().aggregatable() {
            return Err(format!("{ty} is a coded type and cannot be aggregated"));
        }
    }
    Ok(())
}

impl MockState {
    /// Plans `req`: invalid, denied (recorded), or per-type ranges and the
    /// fields delivered.
    fn plan(&mut self, req: &Request<'_>) -> Result<Plan, wit::Error> {
        check_shape(req).map_err(wit::Error::InvalidRequest)?;
        let mut fields = req.wanted;
        let mut ranges = Vec::with_capacity(req.types.len());
        for ty in req.types {
            let grant = match self.check_read(*ty, req.granularity) {
                Ok(grant) => grant,
                Err(reason) => return Err(self.deny(*ty, reason)),
            };
            let has_time = grant.fields.contains(Fields::TIME);
            let needs_value = req.granularity != Granularity::Raw && !grant.fields.contains(Fields::VALUE);
            let needs_time = req.granularity == Granularity::Hourly && !has_time;
            if needs_value || needs_time {
                return Err(self.deny(*ty, DenialReason::FieldNotGranted));
            }
            fields &= grant.fields;
            let (start, end) = (
                req.range.0.max(self.visible_from(&grant).unwrap_or(i64::MIN)),
                req.range.1,
            );
            let snap_to = match req.granularity {
                Granularity::Raw if has_time => Granularity::Raw,
                Granularity::Raw => Granularity::Daily,
                bucket => bucket,
            };
            let (start_ms, end_ms) = self
                .calendar
                .snap(start, end, self.now_ms, snap_to)
                .unwrap_or((end, end));
            ranges.push(TypeRange {
                data_type: *ty,
                start_ms,
                end_ms,
            });
        }
        let order = if fields.contains(Fields::TIME) {
            Order::Timed
        } else {
            Order::ByDay
        };
        Ok(Plan { ranges, fields, order })
    }

    /// The position a cursor token stands for.
    fn cursor(&self, token: u64, order: Order) -> Result<Option<Key>, wit::Error> {
        if token == 0 {
            return Ok(None);
        }
        let (kind, key) = usize::try_from(token - 1)
            .ok()
            .and_then(|i| self.cursors.get(i))
            .ok_or_else(|| {
                wit::Error::InvalidRequest(format!("unknown cursor {token}: use a next-cursor of this invocation"))
            })?;
        if *kind != order {
            return Err(wit::Error::InvalidRequest(format!(
                "cursor {token} belongs to a query of another shape"
            )));
        }
        Ok(Some(*key))
    }

    fn key(&self, e: &Entry, order: Order) -> Key {
        let at = match order {
            Order::Timed => e.start_ms(),
            Order::ByDay => self.calendar.floor(e.start_ms(), Granularity::Daily),
        };
        (at, e.data_type().code(), e.digest, e.seq)
    }

    /// `health-data.query`.
    pub(crate) fn query(&mut self, q: &SampleQuery) -> Result<SampleBatch, wit::Error> {
        let request = Request {
            types: &q.types,
            range: (q.start, q.end),
            wanted: q.fields,
            granularity: Granularity::Raw,
        };
        let plan = self.plan(&request)?;
        let limit = match usize::try_from(q.limit) {
            Ok(0) | Err(_) => MAX_SAMPLES_PER_QUERY,
            Ok(n) => n.min(MAX_SAMPLES_PER_QUERY),
        };
        let after = self.cursor(q.cursor, plan.order)?;
        let mut rows: Vec<(Key, &Entry)> = self
            .samples
            .iter()
            .filter(|e| plan.ranges.iter().any(|r| r.holds(e)))
            .map(|e| (self.key(e, plan.order), e))
            .filter(|(key, _)| after.is_none_or(|a| *key > a))
            .collect();
        rows.sort_by_key(|(key, _)| *key);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let last = rows.last().map(|(key, _)| *key);
        let entries: Vec<&Entry> = rows.into_iter().map(|(_, e)| e).collect();
        let next = match (more, last) {
            (true, Some(_)) => u64::try_from(self.cursors.len() + 1).unwrap_or(u64::MAX),
            _ => 0,
        };
        let batch = sample_batch(&entries, plan.fields, self.calendar, (next != 0, next));
        if let (true, Some(key)) = (next != 0, last) {
            self.cursors.push((plan.order, key));
        }
        Ok(batch)
    }

    /// `health-data.aggregate`.
    pub(crate) fn aggregate(&mut self, q: &AggregateQuery) -> Result<AggregateBatch, wit::Error> {
        if q.bucket == Granularity::Raw {
            return Err(wit::Error::InvalidRequest(
                "an aggregate bucket must be hourly or daily".into(),
            ));
        }
        let request = Request {
            types: &q.types,
            range: (q.start, q.end),
            wanted: Fields::VALUE,
            granularity: q.bucket,
        };
        let plan = self.plan(&request)?;
        let mut aggregator = Aggregator::default();
        for range in plan.ranges.iter().filter(|r| r.start_ms < r.end_ms) {
            // `samples` is in start order: the scan order of the host.
            for e in self.samples.iter().filter(|e| range.holds(e)) {
                if let Some(value) = e.stored.sample.value {
                    let bucket = self.calendar.floor(e.start_ms(), q.bucket);
                    aggregator.push(range.data_type.code(), bucket, value);
                }
            }
        }
        Ok(aggregator.finish(self.calendar.offset_seconds()))
    }
}

/// One aggregate row under construction.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    type_code: u8,
    start_ms: i64,
    count: u32,
    sum: f64,
    min: f64,
    max: f64,
}

/// Folds values, in (type, time) order, into buckets.
#[derive(Default)]
struct Aggregator {
    buckets: Vec<Bucket>,
}

impl Aggregator {
    fn push(&mut self, type_code: u8, start_ms: i64, value: f64) {
        match self.buckets.last_mut() {
            Some(b) if b.start_ms == start_ms && b.type_code == type_code => {
                b.count = b.count.saturating_add(1);
                b.sum += value;
                b.min = b.min.min(value);
                b.max = b.max.max(value);
            }
            _ => self.buckets.push(Bucket {
                type_code,
                start_ms,
                count: 1,
                sum: value,
                min: value,
                max: value,
            }),
        }
    }

    fn finish(self, offset_seconds: i32) -> AggregateBatch {
        let b = &self.buckets;
        let mut units = Dictionary::new();
        for bucket in b {
            units.push(DataType::from_code(bucket.type_code).map(|t| t.info().unit));
        }
        AggregateBatch {
            type_codes: b.iter().map(|b| b.type_code).collect(),
            bucket_starts: b.iter().map(|b| b.start_ms).collect(),
            utc_offsets: b.iter().map(|_| offset_seconds).collect(),
            counts: b.iter().map(|b| b.count).collect(),
            sums: b.iter().map(|b| b.sum).collect(),
            means: b.iter().map(|b| b.sum / f64::from(b.count.max(1))).collect(),
            mins: b.iter().map(|b| b.min).collect(),
            maxs: b.iter().map(|b| b.max).collect(),
            units: units.finish(),
        }
    }
}
