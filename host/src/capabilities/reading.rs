//! Serving `health-data.query` and `health-data.aggregate`: plan (consent),
//! read (keyset pages over sealed day chunks, decoding only the columns
//! delivered; or a streamed scan for aggregates), audit, deliver.
//!
//! Host work is bounded whatever a plugin asks: every sample delivered
//! beyond its time, and every sample an aggregate covers, is counted
//! against the invocation's `decrypts` limit (past it, the call is refused
//! with `limit-exceeded` and nothing is delivered; an aggregate is refused
//! as its scan passes the budget, having opened at most one day chunk
//! beyond it, or before opening anything once the budget is spent), and
//! long reads check the invocation's
//! deadline as they go, ending the invocation with the `timeout` limit
//! when it passes.

use std::time::Instant;

use anyhow::Result;

use super::health_state::HealthView;
use super::invocation::UserSession;
use crate::bindings::healthplug::plugin::health_data::{AggregateBatch, AggregateQuery, SampleQuery};
use crate::bindings::healthplug::plugin::types::{self as wit, SampleBatch};
use crate::consent::{BucketWalker, Calendar, Fields, Granularity};
use crate::registry::DataType;
use crate::runtime::LimitKind;
use crate::vault::chunk::Columns;
use crate::vault::sample_read::{self, DayReader, RangeQuery};

use super::columns::{Aggregator, aggregate_batch, sample_batch};
use super::convert::{from_wit_fields, from_wit_granularity};
use super::health_data::unavailable;
use super::paging::{Cursor, DeadlinePassed, PageSource, cursor_after, page};
use super::plan::Plan;

/// How often (in rows) a long read checks the deadline.
const DEADLINE_STRIDE: u64 = 1024;

/// An aggregate reached the invocation's decrypt budget mid-scan.
#[derive(Clone, Copy, Debug, thiserror::Error)]
#[error("the invocation's decrypt budget ran out during an aggregate")]
struct OverBudget;

/// What a read failed with: a refusal for the plugin, or the deadline.
enum ReadError {
    Refused(wit::Error),
    Deadline,
}

impl From<wit::Error> for ReadError {
    fn from(e: wit::Error) -> ReadError {
        ReadError::Refused(e)
    }
}

fn vault_error(e: anyhow::Error) -> ReadError {
    if e.downcast_ref::<DeadlinePassed>().is_some() {
        ReadError::Deadline
    } else {
        ReadError::Refused(unavailable(&e))
    }
}

impl HealthView<'_> {
    /// Ends a read: the deadline becomes a trap, a refusal the plugin's error.
    fn finish_read<T>(&mut self, r: Result<T, ReadError>) -> wasmtime::Result<Result<T, wit::Error>> {
        match r {
            Ok(v) => Ok(Ok(v)),
            Err(ReadError::Refused(e)) => Ok(Err(e)),
            Err(ReadError::Deadline) => {
                self.sandbox.check_deadline()?;
                Err(wasmtime::Error::msg(
                    "the invocation's deadline passed during a host call",
                ))
            }
        }
    }

    /// Takes `n` unseals from the budget, or refuses the whole call.
    fn take_decrypts(&mut self, n: u64) -> Result<(), wit::Error> {
        let total = self.call.decrypts.saturating_add(n);
        if total > self.sandbox.limits.decrypts {
            self.sandbox.limit_hit(LimitKind::Decrypts);
            return Err(wit::Error::LimitExceeded(format!(
                "this invocation may unseal at most {} samples; narrow the query (range, types or limit)",
                self.sandbox.limits.decrypts
            )));
        }
        self.call.decrypts = total;
        Ok(())
    }

    fn session(&self) -> Option<UserSession> {
        self.party.user.clone()
    }

    pub(super) fn query_samples(&mut self, q: SampleQuery) -> wasmtime::Result<Result<SampleBatch, wit::Error>> {
        let r = self.read_page(q);
        self.finish_read(r)
    }

    pub(super) fn aggregate_samples(
        &mut self,
        q: AggregateQuery,
    ) -> wasmtime::Result<Result<AggregateBatch, wit::Error>> {
        let r = self.read_aggregates(q);
        self.finish_read(r)
    }

    fn cursor(&self, token: u64, plan: &Plan) -> Result<Option<Cursor>, wit::Error> {
        if token == 0 {
            return Ok(None);
        }
        let cursor = usize::try_from(token - 1)
            .ok()
            .and_then(|i| self.call.cursors.get(i))
            .ok_or_else(|| {
                wit::Error::InvalidRequest(format!("unknown cursor {token}: use a next-cursor of this invocation"))
            })?;
        let fits = matches!(
            (cursor, plan.order),
            (Cursor::Timed { .. }, super::plan::Order::Timed) | (Cursor::ByDay { .. }, super::plan::Order::ByDay)
        );
        if !fits {
            return Err(wit::Error::InvalidRequest(format!(
                "cursor {token} belongs to a query of another shape"
            )));
        }
        Ok(Some(cursor.clone()))
    }

    fn read_page(&mut self, q: SampleQuery) -> Result<SampleBatch, ReadError> {
        self.begin_call()?;
        let plan = self.plan_or_refuse(&q.types, (q.start, q.end), from_wit_fields(q.fields), Granularity::Raw)?;
        let cap = self.sandbox.limits.samples_per_query;
        let limit = if q.limit == 0 { cap } else { (q.limit as usize).min(cap) };
        let after = self.cursor(q.cursor, &plan)?;
        let Some(session) = self.session() else {
            return Ok(sample_batch(&[], plan.fields, &Calendar::utc(), (false, 0)));
        };
        let conn = self
            .party
            .vault
            .store()
            .map_err(|e| ReadError::Refused(unavailable(&e)))?;
        let deadline = self.sandbox.deadline;
        let check = move || -> Result<()> {
            if Instant::now() >= deadline {
                return Err(DeadlinePassed.into());
            }
            Ok(())
        };
        let cols = columns(plan.fields);
        let days = DayReader::new(&*conn, session.user.id, &session.key, cols);
        let src = PageSource {
            days: &days,
            calendar: &session.calendar,
            check_deadline: &check,
        };
        let found = page(&src, &plan, limit, after.as_ref()).map_err(vault_error)?;
        if plan.needs_payload() {
            self.take_decrypts(found.rows.len() as u64)?;
        }
        let rows = found.rows;
        // Back to the pool before the audit write takes one: a call never
        // holds two connections (a pool of N would deadlock at N calls).
        drop(days);
        drop(conn);
        let counts: Vec<(DataType, u64)> = plan
            .ranges
            .iter()
            .map(|r| {
                (
                    r.data_type,
                    rows.iter().filter(|s| s.data_type() == r.data_type).count() as u64,
                )
            })
            .collect();
        let next = match (found.more, rows.last()) {
            (true, Some(last)) => {
                self.call
                    .cursors
                    .push(cursor_after(last, plan.order, &session.calendar));
                self.call.cursors.len() as u64
            }
            _ => 0,
        };
        self.delivered(&plan, &counts, "query")?;
        Ok(sample_batch(&rows, plan.fields, &session.calendar, (next != 0, next)))
    }

    fn read_aggregates(&mut self, q: AggregateQuery) -> Result<AggregateBatch, ReadError> {
        self.begin_call()?;
        let bucket = from_wit_granularity(q.bucket);
        if bucket == Granularity::Raw {
            return Err(wit::Error::InvalidRequest("an aggregate bucket must be hourly or daily".into()).into());
        }
        let plan = self.plan_or_refuse(&q.types, (q.start, q.end), Fields::VALUE, bucket)?;
        let Some(session) = self.session() else {
            return Ok(aggregate_batch(&[], &Calendar::utc()));
        };
        let conn = self
            .party
            .vault
            .store()
            .map_err(|e| ReadError::Refused(unavailable(&e)))?;
        // Samples are counted against the budget as the scan reaches them:
        // past it, the call is refused (nothing delivered), having opened
        // at most one day chunk beyond the budget; with nothing left, it
        // is refused before any chunk is opened.
        let budget = self.sandbox.limits.decrypts.saturating_sub(self.call.decrypts);
        let ranges: Vec<_> = plan.ranges.iter().filter(|r| !r.is_empty()).copied().collect();
        if budget == 0 {
            for r in &ranges {
                let held = sample_read::holds_any(&*conn, session.user.id, r.data_type, (r.start_ms, r.end_ms));
                if held.map_err(vault_error)? {
                    return Err(self
                        .take_decrypts(1)
                        .err()
                        .map_or(ReadError::Deadline, ReadError::Refused));
                }
            }
        }
        let deadline = self.sandbox.deadline;
        let mut aggregator = Aggregator::default();
        let mut counts = Vec::new();
        let mut seen = 0u64;
        for range in &ranges {
            let before = aggregator.len();
            let mut walker = BucketWalker::new(&session.calendar, bucket);
            let query = RangeQuery {
                data_type: range.data_type,
                start_ms: range.start_ms,
                end_ms: range.end_ms,
                limit: usize::MAX,
                cols: Columns::VALUE,
            };
            let scanned = sample_read::scan(&*conn, session.user.id, &session.key, query, |s| {
                seen += 1;
                if seen > budget {
                    return Err(OverBudget.into());
                }
                if seen.is_multiple_of(DEADLINE_STRIDE) && Instant::now() >= deadline {
                    return Err(DeadlinePassed.into());
                }
                if let Some(value) = s.payload.as_ref().and_then(|p| p.value) {
                    aggregator.push(s.data_type.code(), walker.bucket_of(s.start_ms), value);
                }
                Ok(true)
            });
            if let Err(e) = scanned {
                if e.downcast_ref::<OverBudget>().is_some() {
                    return Err(self
                        .take_decrypts(seen)
                        .err()
                        .map_or(ReadError::Deadline, ReadError::Refused));
                }
                return Err(vault_error(e));
            }
            counts.push((range.data_type, (aggregator.len() - before) as u64));
        }
        self.take_decrypts(seen)?;
        drop(conn);
        self.delivered(&plan, &counts, &format!("aggregate {}", bucket.id()))?;
        Ok(aggregate_batch(aggregator.buckets(), &session.calendar))
    }
}

/// The chunk columns a read decodes for the fields it delivers: the rest
/// are never decoded.
fn columns(fields: Fields) -> Columns {
    let mut cols = Columns::INDEX;
    for (field, more) in [
        (Fields::VALUE, Columns::VALUE),
        (Fields::UNIT, Columns::UNIT),
        (Fields::SOURCE_NAME, Columns::SOURCE),
        (Fields::DEVICE, Columns::DEVICE),
        (Fields::METADATA, Columns::METADATA),
        (Fields::NOTES, Columns::NOTES),
    ] {
        if fields.contains(field) {
            cols = cols.with(more);
        }
    }
    cols
}
