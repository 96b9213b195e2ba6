//! Host side of the `health-data` interface: grants, queries and
//! aggregates, each re-checked against the user's consent on every call.
//!
//! The outer `wasmtime::Result` is a host fault (trap); the inner `Result`
//! is what the plugin sees: `not-granted` for a refusal, never a trap.

use crate::bindings::healthplug::plugin::health_data::{
    AggregateBatch, AggregateQuery, Host, NewSamples, SampleQuery, WriteReport,
};
use crate::bindings::healthplug::plugin::types::{self as wit, SampleBatch, TypeGrant};
use crate::consent::{Fields, Granularity};
use crate::registry::DataType;
use crate::runtime::{Access, AccessOutcome, InvocationState};
use crate::vault::{AuditEvent, AuditKind, Origin, StoredSample, audit, now_ms, samples};

use super::columns::{Bucket, aggregate_batch, aggregate_rows, sample_batch};
use super::convert::{
    from_wit_fields, from_wit_granularity, from_wit_type, to_wit_denial, to_wit_fields, to_wit_granularity, to_wit_type,
};
use super::plan::{Plan, PlanError, plan};
use super::writes;

/// The error shown to a plugin when the host's own storage fails.
fn unavailable(e: &anyhow::Error) -> wit::Error {
    eprintln!("healthplug: vault error during a host call: {e:#}");
    wit::Error::Unavailable("the health data store is unavailable; try again later".into())
}

impl crate::bindings::healthplug::plugin::types::Host for InvocationState {}

impl InvocationState {
    /// Counts a host call against the invocation's budget; past it, the
    /// invocation ends (a trap naming the `host-calls` limit).
    pub(crate) fn count_host_call(&mut self) -> wasmtime::Result<()> {
        self.call.host_calls += 1;
        if self.call.host_calls > self.limits.host_calls {
            self.limiter.hit.get_or_insert(crate::runtime::LimitKind::HostCalls);
            return Err(wasmtime::Error::msg(format!(
                "more than {} host calls in one invocation",
                self.limits.host_calls
            )));
        }
        Ok(())
    }

    /// Refreshes the grants if the consent changed since the last call.
    pub(crate) fn begin_call(&mut self) -> Result<(), wit::Error> {
        let conn = self.call.vault.conn().map_err(|e| unavailable(&e))?;
        self.call.refresh(&conn).map_err(|e| unavailable(&e))
    }

    /// Plans a query; refusals are recorded and audited.
    fn plan_or_refuse(
        &mut self,
        types: &[wit::DataType],
        start: i64,
        end: i64,
        fields: Fields,
        granularity: Granularity,
    ) -> Result<Plan, wit::Error> {
        let types: Vec<DataType> = types.iter().map(|t| from_wit_type(*t)).collect();
        if types.len() > DataType::COUNT {
            return Err(wit::Error::InvalidRequest("too many data types in one query".into()));
        }
        match plan(&self.call.grants, now_ms(), &types, start, end, fields, granularity) {
            Ok(plan) => Ok(plan),
            Err(PlanError::Invalid(message)) => Err(wit::Error::InvalidRequest(message)),
            Err(PlanError::Denied(denial)) => {
                self.call.denied(denial);
                let purpose = self.call.grants.user_grant(denial.data_type).map(|g| g.purpose.clone());
                let event = self
                    .audit_event(AuditKind::Denial, denial.data_type)
                    .outcome(denial.reason.id());
                self.audit_all(vec![AuditEvent { purpose, ..event }]);
                Err(to_wit_denial(denial))
            }
        }
    }

    fn audit_event(&self, kind: AuditKind, ty: DataType) -> AuditEvent {
        let mut event = AuditEvent::new(kind).plugin(&self.call.plugin.id, &self.call.plugin.digest);
        if let Some(session) = &self.call.user {
            event = event.user(&session.user.user_ref);
        }
        event.data_type = Some(ty.id().to_string());
        if self.call.plugin.dev {
            event.detail = Some("dev".into());
        }
        event
    }

    fn audit_all(&self, events: Vec<AuditEvent>) {
        let vault = &self.call.vault;
        let result = vault.write(|tx| {
            for e in &events {
                audit::append(tx, vault.keys(), e)?;
            }
            Ok(())
        });
        if let Err(e) = result {
            eprintln!("healthplug: could not write the audit log: {e:#}");
        }
    }

    /// Reads the rows of every range of `plan`, `limit` per type at most.
    fn fetch(&self, plan: &Plan, limit: usize, unseal: bool) -> anyhow::Result<Vec<Vec<StoredSample>>> {
        let Some(session) = &self.call.user else {
            return Ok(Vec::new());
        };
        let conn = self.call.vault.conn()?;
        let mut out = Vec::with_capacity(plan.ranges.len());
        for range in &plan.ranges {
            if range.is_empty() {
                out.push(Vec::new());
                continue;
            }
            out.push(samples::query(
                &conn,
                session.user.id,
                &session.key,
                samples::RangeQuery {
                    data_type: range.data_type,
                    start_ms: range.start_ms,
                    end_ms: range.end_ms,
                    limit,
                    unseal,
                },
            )?);
        }
        Ok(out)
    }

    /// Records and audits what was delivered, per type.
    fn delivered(&mut self, plan: &Plan, counts: &[(DataType, u64)], detail: &str) {
        let mut events = Vec::new();
        for (ty, count) in counts {
            self.call.accesses.push(Access {
                data_type: *ty,
                outcome: AccessOutcome::Allowed {
                    count: *count,
                    fields: plan.fields,
                    granularity: plan.granularity.id().to_string(),
                },
            });
            let mut event = self.audit_event(AuditKind::Access, *ty).outcome("ok");
            event.fields = Some(plan.fields.to_string());
            event.count = Some(*count);
            event.purpose = self.call.grants.user_grant(*ty).map(|g| g.purpose.clone());
            event.detail = Some(match event.detail {
                Some(d) => format!("{detail}; {d}"),
                None => detail.to_string(),
            });
            events.push(event);
        }
        self.audit_all(events);
    }

    fn query_samples(&mut self, q: SampleQuery) -> Result<SampleBatch, wit::Error> {
        self.begin_call()?;
        let plan = self.plan_or_refuse(&q.types, q.start, q.end, from_wit_fields(q.fields), Granularity::Raw)?;
        let cap = self.limits.samples_per_query;
        let limit = if q.limit == 0 { cap } else { (q.limit as usize).min(cap) };
        let offset = q.offset as usize;
        let per_type = offset.saturating_add(limit).saturating_add(1);
        let per_range = self
            .fetch(&plan, per_type, plan.needs_payload())
            .map_err(|e| unavailable(&e))?;
        let mut rows: Vec<StoredSample> = per_range.into_iter().flatten().collect();
        rows.sort_by_key(|r| (r.start_ms, r.data_type.code(), r.id));
        let more = rows.len() > offset.saturating_add(limit);
        let page: Vec<StoredSample> = rows.into_iter().skip(offset).take(limit).collect();
        let counts: Vec<(DataType, u64)> = plan
            .ranges
            .iter()
            .map(|r| {
                (
                    r.data_type,
                    page.iter().filter(|s| s.data_type == r.data_type).count() as u64,
                )
            })
            .collect();
        let batch = sample_batch(&page, plan.fields, more);
        self.delivered(&plan, &counts, "query");
        Ok(batch)
    }

    fn aggregate_samples(&mut self, q: AggregateQuery) -> Result<AggregateBatch, wit::Error> {
        self.begin_call()?;
        let bucket = from_wit_granularity(q.bucket);
        let Some(bucket_ms) = bucket.bucket_ms() else {
            return Err(wit::Error::InvalidRequest(
                "an aggregate bucket must be hourly or daily".into(),
            ));
        };
        let plan = self.plan_or_refuse(&q.types, q.start, q.end, Fields::VALUE, bucket)?;
        let cap = self.limits.samples_per_query.saturating_mul(4);
        let per_range = self.fetch(&plan, cap, true).map_err(|e| unavailable(&e))?;
        let mut buckets: Vec<Bucket> = Vec::new();
        let mut counts = Vec::new();
        for (range, rows) in plan.ranges.iter().zip(&per_range) {
            let before = buckets.len();
            aggregate_rows(rows, bucket_ms, &mut buckets);
            counts.push((range.data_type, (buckets.len() - before) as u64));
        }
        self.delivered(&plan, &counts, &format!("aggregate {}", bucket.id()));
        Ok(aggregate_batch(&buckets))
    }
}

impl InvocationState {
    fn write_samples(&mut self, batch: NewSamples) -> Result<WriteReport, wit::Error> {
        self.begin_call()?;
        let samples = writes::decode(&batch).map_err(wit::Error::InvalidRequest)?;
        let now = now_ms();
        let mut types: Vec<DataType> = samples.iter().map(|s| s.data_type).collect();
        types.sort();
        types.dedup();
        for ty in &types {
            if let Err(denial) = self.call.grants.check_write(*ty, now) {
                self.call.denied(denial);
                let mut event = self
                    .audit_event(AuditKind::Denial, denial.data_type)
                    .outcome(denial.reason.id());
                event.detail = Some("write".into());
                self.audit_all(vec![event]);
                return Err(to_wit_denial(denial));
            }
        }
        let Some(session) = &self.call.user else {
            return Err(wit::Error::InvalidRequest("no user to write for".into()));
        };
        let origin = Origin {
            id: self.call.plugin.id.clone(),
            digest: Some(self.call.plugin.digest.clone()),
        };
        let vault = self.call.vault.clone();
        let (user_id, key, invocation) = (session.user.id, session.key.clone(), self.call.invocation.clone());
        let report = vault
            .write(|tx| samples::stage(tx, &invocation, user_id, &key, &origin, &samples))
            .map_err(|e| unavailable(&e))?;
        for ty in types {
            let count = samples.iter().filter(|s| s.data_type == ty).count() as u64;
            match self.call.staged.iter_mut().find(|(t, _)| *t == ty) {
                Some((_, n)) => *n += count,
                None => self.call.staged.push((ty, count)),
            }
            self.call.accesses.push(Access {
                data_type: ty,
                outcome: AccessOutcome::Written { count },
            });
        }
        self.call.duplicates += report.duplicates;
        Ok(WriteReport {
            accepted: u32::try_from(report.inserted).unwrap_or(u32::MAX),
            duplicates: u32::try_from(report.duplicates).unwrap_or(u32::MAX),
        })
    }
}

impl Host for InvocationState {
    fn grants(&mut self) -> wasmtime::Result<Vec<TypeGrant>> {
        self.count_host_call()?;
        if self.begin_call().is_err() {
            return Ok(Vec::new());
        }
        let now = now_ms();
        Ok(self
            .call
            .grants
            .in_force(now)
            .map(|g| TypeGrant {
                data_type: to_wit_type(g.data_type),
                read: g.read,
                write: g.write,
                fields: to_wit_fields(g.fields),
                granularity: to_wit_granularity(g.granularity),
                visible_from: g.visible_from(now),
                expires_at: g.expires_ms,
                purpose: g.purpose.clone(),
            })
            .collect())
    }

    fn query(&mut self, q: SampleQuery) -> wasmtime::Result<Result<SampleBatch, wit::Error>> {
        self.count_host_call()?;
        Ok(self.query_samples(q))
    }

    fn aggregate(&mut self, q: AggregateQuery) -> wasmtime::Result<Result<AggregateBatch, wit::Error>> {
        self.count_host_call()?;
        Ok(self.aggregate_samples(q))
    }

    fn write(&mut self, samples: NewSamples) -> wasmtime::Result<Result<WriteReport, wit::Error>> {
        self.count_host_call()?;
        Ok(self.write_samples(samples))
    }
}
