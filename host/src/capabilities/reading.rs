//! Serving `health-data.query` and `health-data.aggregate`: plan (consent),
//! read (keyset pages of index entries, then only the page unsealed; or a
//! streamed scan for aggregates), audit, deliver.
//!
//! Host work is bounded whatever a plugin asks: every unsealed sample is
//! counted against the invocation's `decrypts` limit (past it, the call is
//! refused with `limit-exceeded` before anything is opened), and long reads
//! check the invocation's deadline as they go, ending the invocation with
//! the `timeout` limit when it passes.

use std::time::Instant;

use anyhow::Result;

use crate::bindings::healthplug::plugin::health_data::{AggregateBatch, AggregateQuery, SampleQuery};
use crate::bindings::healthplug::plugin::types::{self as wit, SampleBatch};
use crate::consent::{BucketWalker, Calendar, Fields, Granularity};
use crate::registry::DataType;
use crate::runtime::{InvocationState, LimitKind, UserSession};
use crate::vault::StoredSample;
use crate::vault::sample_read::{self, RangeQuery, SampleKey};

use super::columns::{Aggregator, aggregate_batch, sample_batch};
use super::convert::{from_wit_fields, from_wit_granularity};
use super::health_data::unavailable;
use super::paging::{Cursor, DeadlinePassed, PageSource, cursor_after, page};
use super::plan::Plan;

/// How often (in rows) a long read checks the deadline.
const DEADLINE_STRIDE: u64 = 1024;

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

impl InvocationState {
    /// Ends a read: the deadline becomes a trap, a refusal the plugin's error.
    fn finish_read<T>(&mut self, r: Result<T, ReadError>) -> wasmtime::Result<Result<T, wit::Error>> {
        match r {
            Ok(v) => Ok(Ok(v)),
            Err(ReadError::Refused(e)) => Ok(Err(e)),
            Err(ReadError::Deadline) => {
                self.check_deadline()?;
                Err(wasmtime::Error::msg(
                    "the invocation's deadline passed during a host call",
                ))
            }
        }
    }

    /// Takes `n` unseals from the budget, or refuses the whole call.
    fn take_decrypts(&mut self, n: u64) -> Result<(), wit::Error> {
        let total = self.call.decrypts.saturating_add(n);
        if total > self.limits.decrypts {
            self.limiter.hit.get_or_insert(LimitKind::Decrypts);
            return Err(wit::Error::LimitExceeded(format!(
                "this invocation may unseal at most {} samples; narrow the query (range, types or limit)",
                self.limits.decrypts
            )));
        }
        self.call.decrypts = total;
        Ok(())
    }

    fn session(&self) -> Option<UserSession> {
        self.call.user.clone()
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
        let cap = self.limits.samples_per_query;
        let limit = if q.limit == 0 { cap } else { (q.limit as usize).min(cap) };
        let after = self.cursor(q.cursor, &plan)?;
        let Some(session) = self.session() else {
            return Ok(sample_batch(&[], plan.fields, &Calendar::utc(), (false, 0)));
        };
        let conn = self
            .call
            .vault
            .conn()
            .map_err(|e| ReadError::Refused(unavailable(&e)))?;
        let deadline = self.deadline;
        let check = move || -> Result<()> {
            if Instant::now() >= deadline {
                return Err(DeadlinePassed.into());
            }
            Ok(())
        };
        let src = PageSource {
            conn: &conn,
            user_id: session.user.id,
            calendar: &session.calendar,
            check_deadline: &check,
            payload: plan.needs_payload(),
        };
        let found = page(&src, &plan, limit, after.as_ref()).map_err(vault_error)?;
        let rows = self.unseal_page(&conn, &session, &plan, &found.rows)?;
        // Back to the pool before the audit write takes one: a call never
        // holds two connections (a pool of N would deadlock at N calls).
        drop(conn);
        let counts: Vec<(DataType, u64)> = plan
            .ranges
            .iter()
            .map(|r| {
                (
                    r.data_type,
                    rows.iter().filter(|s| s.data_type == r.data_type).count() as u64,
                )
            })
            .collect();
        let next = match (found.more, found.rows.last()) {
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

    /// Unseals the page's payloads (only when a field beyond time is
    /// delivered), counting each against the budget first.
    fn unseal_page(
        &mut self,
        conn: &rusqlite::Connection,
        session: &UserSession,
        plan: &Plan,
        keys: &[SampleKey],
    ) -> Result<Vec<StoredSample>, ReadError> {
        let unseal = plan.needs_payload();
        if unseal {
            self.take_decrypts(keys.len() as u64)?;
        }
        let mut rows = Vec::with_capacity(keys.len());
        for (i, k) in keys.iter().enumerate() {
            if i as u64 % DEADLINE_STRIDE == DEADLINE_STRIDE - 1 && Instant::now() >= self.deadline {
                return Err(ReadError::Deadline);
            }
            let payload = if unseal {
                let fetched;
                let sealed = match &k.sealed {
                    Some(sealed) => sealed,
                    None => {
                        fetched = sample_read::sealed_payload(conn, session.user.id, k.id).map_err(vault_error)?;
                        &fetched
                    }
                };
                Some(sample_read::unseal(&session.key, session.user.id, k, sealed).map_err(vault_error)?)
            } else {
                None
            };
            rows.push(StoredSample {
                id: k.id,
                data_type: k.data_type,
                start_ms: k.start_ms,
                end_ms: k.end_ms,
                payload,
            });
        }
        Ok(rows)
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
            .call
            .vault
            .conn()
            .map_err(|e| ReadError::Refused(unavailable(&e)))?;
        let mut total = 0u64;
        for range in plan.ranges.iter().filter(|r| !r.is_empty()) {
            let n = sample_read::count(&conn, session.user.id, range.data_type, (range.start_ms, range.end_ms));
            total = total.saturating_add(n.map_err(vault_error)?);
        }
        self.take_decrypts(total)?;
        let deadline = self.deadline;
        let mut aggregator = Aggregator::default();
        let mut counts = Vec::new();
        for range in plan.ranges.iter().filter(|r| !r.is_empty()) {
            let before = aggregator.len();
            let mut walker = BucketWalker::new(&session.calendar, bucket);
            let query = RangeQuery {
                data_type: range.data_type,
                start_ms: range.start_ms,
                end_ms: range.end_ms,
                limit: usize::MAX,
                unseal: true,
            };
            let mut seen = 0u64;
            let scanned = sample_read::scan(&conn, session.user.id, &session.key, query, |s| {
                seen += 1;
                if seen.is_multiple_of(DEADLINE_STRIDE) && Instant::now() >= deadline {
                    return Err(DeadlinePassed.into());
                }
                if let Some(value) = s.payload.as_ref().and_then(|p| p.value) {
                    aggregator.push(s.data_type.code(), walker.bucket_of(s.start_ms), value);
                }
                Ok(true)
            });
            scanned.map_err(vault_error)?;
            counts.push((range.data_type, (aggregator.len() - before) as u64));
        }
        drop(conn);
        self.delivered(&plan, &counts, &format!("aggregate {}", bucket.id()))?;
        Ok(aggregate_batch(aggregator.buckets(), &session.calendar))
    }
}
