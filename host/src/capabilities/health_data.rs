//! Host side of the `health-data` interface: grants, queries, aggregates
//! and writes, each re-checked against the user's consent on every call.
//!
//! Every host call first checks the invocation's deadline (the epoch
//! deadline interrupts wasm, never host code) and its host-call budget.
//! Every delivery is audited *before* the data is handed over: when the
//! audit log cannot be written the call fails (closed), never delivers
//! unaudited. The outer `wasmtime::Result` is a host fault (trap); the
//! inner `Result` is what the plugin sees: `not-granted` for a refusal.

use super::health_state::{Access, AccessOutcome, HealthView};
use crate::bindings::healthplug::plugin::health_data::{
    AggregateBatch, AggregateQuery, Host, NewSamples, SampleQuery, WriteReport,
};
use crate::bindings::healthplug::plugin::types::{self as wit, SampleBatch, TypeGrant};
use crate::consent::{Fields, Granularity};
use crate::registry::DataType;
use crate::vault::{AuditEvent, AuditKind, Origin, now_ms};

use super::convert::{from_wit_type, to_wit_denial, to_wit_fields, to_wit_granularity, to_wit_type};
use super::plan::{Plan, PlanError, Request, plan};
use super::writes;

/// The error shown to a plugin when the host's own storage fails.
pub(super) fn unavailable(e: &anyhow::Error) -> wit::Error {
    eprintln!("healthplug: vault error during a host call: {e:#}");
    wit::Error::Unavailable("the health data store is unavailable; try again later".into())
}

impl crate::bindings::healthplug::plugin::types::Host for HealthView<'_> {}

impl HealthView<'_> {
    /// Refreshes the grants if the consent changed since the last call.
    pub(crate) fn begin_call(&mut self) -> Result<(), wit::Error> {
        self.call.refresh(self.party).map_err(|e| unavailable(&e))
    }

    /// Plans a query; refusals are recorded and audited.
    pub(super) fn plan_or_refuse(
        &mut self,
        types: &[wit::DataType],
        range: (i64, i64),
        wanted: Fields,
        granularity: Granularity,
    ) -> Result<Plan, wit::Error> {
        let types: Vec<DataType> = types.iter().map(|t| from_wit_type(*t)).collect();
        if types.len() > DataType::COUNT {
            return Err(wit::Error::InvalidRequest("too many data types in one query".into()));
        }
        let calendar = self.party.user.as_ref().map(|s| s.calendar.clone()).unwrap_or_default();
        let request = Request {
            types: &types,
            start_ms: range.0,
            end_ms: range.1,
            wanted,
            granularity,
        };
        match plan(&self.call.grants, &calendar, now_ms(), &request) {
            Ok(plan) => Ok(plan),
            Err(PlanError::Invalid(message)) => Err(wit::Error::InvalidRequest(message)),
            Err(PlanError::Denied(denial)) => {
                self.call.denied(denial);
                let purpose = self.call.grants.user_grant(denial.data_type).map(|g| g.purpose.clone());
                let event = self
                    .audit_event(AuditKind::Denial, denial.data_type)
                    .outcome(denial.reason.id());
                self.audit_all(vec![AuditEvent { purpose, ..event }])?;
                Err(to_wit_denial(denial))
            }
        }
    }

    fn audit_event(&self, kind: AuditKind, ty: DataType) -> AuditEvent {
        let mut event = AuditEvent::new(kind).plugin(&self.party.plugin.id, &self.party.plugin.digest);
        if let Some(session) = &self.party.user {
            event = event.user(&session.user.user_ref);
        }
        event.data_type = Some(ty.id().to_string());
        if self.party.plugin.dev {
            event.detail = Some("dev".into());
        }
        event
    }

    /// Appends `events` to the audit log in one transaction; a failure
    /// fails the host call (closed).
    fn audit_all(&self, events: Vec<AuditEvent>) -> Result<(), wit::Error> {
        self.party.audit.record(events).map_err(|e| {
            eprintln!("healthplug: could not write the audit log, refusing the host call: {e:#}");
            wit::Error::Unavailable("the audit log cannot be written; nothing was delivered".into())
        })
    }

    /// Records and audits what is about to be delivered, per type; the
    /// caller delivers only when this succeeds.
    pub(super) fn delivered(
        &mut self,
        plan: &Plan,
        counts: &[(DataType, u64)],
        detail: &str,
    ) -> Result<(), wit::Error> {
        let mut events = Vec::new();
        for (ty, count) in counts {
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
        self.audit_all(events)?;
        for (ty, count) in counts {
            self.call.accesses.push(Access {
                data_type: *ty,
                outcome: AccessOutcome::Allowed {
                    count: *count,
                    fields: plan.fields,
                    granularity: plan.granularity.id().to_string(),
                },
            });
        }
        Ok(())
    }

    fn refuse_write(&mut self, denial: crate::consent::Denial) -> wit::Error {
        self.call.denied(denial);
        let mut event = self
            .audit_event(AuditKind::Denial, denial.data_type)
            .outcome(denial.reason.id());
        event.detail = Some("write".into());
        match self.audit_all(vec![event]) {
            Ok(()) => to_wit_denial(denial),
            Err(e) => e,
        }
    }

    fn write_samples(&mut self, batch: NewSamples) -> Result<WriteReport, wit::Error> {
        self.begin_call()?;
        let samples = writes::decode(&batch).map_err(wit::Error::InvalidRequest)?;
        let now = now_ms();
        let mut types: Vec<DataType> = samples.iter().map(|s| s.data_type).collect();
        types.sort();
        types.dedup();
        for ty in &types {
            if let Err(denial) = self.call.grants.check_write(*ty, now) {
                return Err(self.refuse_write(denial));
            }
        }
        let Some(session) = &self.party.user else {
            return Err(wit::Error::InvalidRequest("no user to write for".into()));
        };
        let origin = Origin {
            id: self.party.plugin.id.clone(),
            digest: Some(self.party.plugin.digest.clone()),
        };
        let vault = self.party.vault.clone();
        let (user_id, key, invocation) = (session.user.id, session.key.clone(), self.party.invocation.clone());
        vault
            .write(|tx| tx.stage_samples(&invocation, user_id, &key, &origin, &samples))
            .map_err(|e| unavailable(&e))?;
        for ty in types {
            let count = samples.iter().filter(|s| s.data_type == ty).count() as u64;
            match self.call.staged.iter_mut().find(|(t, _)| *t == ty) {
                Some((_, n)) => *n += count,
                None => self.call.staged.push((ty, count)),
            }
        }
        // The plugin learns only that its batch was taken: whether a sample
        // was already stored is found at commit, for the host's own report.
        Ok(WriteReport {
            accepted: u32::try_from(samples.len()).unwrap_or(u32::MAX),
        })
    }
}

impl Host for HealthView<'_> {
    fn grants(&mut self) -> wasmtime::Result<Vec<TypeGrant>> {
        self.sandbox.count_host_call()?;
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
        self.sandbox.count_host_call()?;
        self.query_samples(q)
    }

    fn aggregate(&mut self, q: AggregateQuery) -> wasmtime::Result<Result<AggregateBatch, wit::Error>> {
        self.sandbox.count_host_call()?;
        self.aggregate_samples(q)
    }

    fn write(&mut self, samples: NewSamples) -> wasmtime::Result<Result<WriteReport, wit::Error>> {
        self.sandbox.count_host_call()?;
        Ok(self.write_samples(samples))
    }
}
