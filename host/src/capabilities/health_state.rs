//! The `health-data` capability's state for one invocation (the grants
//! computed at the last consent version seen, what was delivered or
//! refused, the staged writes, the decrypt budget spent, the cursors
//! handed out) and the view its host calls get: that state, the party it
//! runs for, and the sandbox's budgets, borrowed from the store.

use std::sync::Arc;

use serde::Serialize;
use wasmtime::component::HasData;

use super::invocation::{InvocationState, Party};
use super::paging::Cursor;
use crate::consent::{Denial, Fields, GrantSet, PlatformPolicy, TypeRequest};
use crate::registry::DataType;
use crate::runtime::Sandbox;

/// What one host call did with one data type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum AccessOutcome {
    /// Data was delivered.
    Allowed {
        /// Samples (or aggregate rows) delivered.
        count: u64,
        /// Fields delivered.
        fields: Fields,
        /// `raw`, `hourly` or `daily`.
        granularity: String,
    },
    /// Samples were written.
    Written {
        /// Samples stored.
        count: u64,
    },
    /// Refused.
    Denied {
        /// Why.
        reason: String,
    },
}

/// One data access of an invocation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Access {
    /// The type.
    pub data_type: DataType,
    /// What happened.
    #[serde(flatten)]
    pub outcome: AccessOutcome,
}

/// Health-data state of one invocation, re-validated on every host call.
pub struct HealthState {
    /// What the manifest requests.
    pub requests: Arc<[TypeRequest]>,
    /// Platform policy.
    pub policy: PlatformPolicy,
    /// Grants computed at `consent_version`.
    pub grants: GrantSet,
    /// The consent version the grants were computed from (-1: none yet).
    pub consent_version: i64,
    /// Accesses so far.
    pub accesses: Vec<Access>,
    /// Samples staged for writing, per type (committed when it succeeds).
    pub staged: Vec<(DataType, u64)>,
    /// Samples unsealed so far (bounded by the `decrypts` limit).
    pub decrypts: u64,
    /// The positions of the pages handed out: cursor `n` is entry `n - 1`.
    pub cursors: Vec<Cursor>,
}

impl HealthState {
    /// The state an invocation starts with: nothing granted until the
    /// first host call reads the grants.
    pub fn new(requests: Arc<[TypeRequest]>, policy: PlatformPolicy) -> HealthState {
        HealthState {
            requests,
            policy,
            grants: GrantSet::empty(),
            consent_version: -1,
            accesses: Vec::new(),
            staged: Vec::new(),
            decrypts: 0,
            cursors: Vec::new(),
        }
    }

    /// Re-reads the consent version and recomputes the grants if a grant or
    /// revoke happened since: a revocation bites on the next host call.
    pub fn refresh(&mut self, party: &Party) -> anyhow::Result<()> {
        let Some(session) = &party.user else {
            self.grants = GrantSet::empty();
            return Ok(());
        };
        let version = party.grants.version(session.user.id, &party.plugin.id)?;
        if version != self.consent_version {
            let rows = party.grants.grants(session.user.id, &party.plugin.id)?;
            self.grants = GrantSet::compute(&self.requests, &rows, &self.policy);
            self.consent_version = version;
        }
        Ok(())
    }

    /// Records a refusal.
    pub fn denied(&mut self, denial: Denial) {
        self.accesses.push(Access {
            data_type: denial.data_type,
            outcome: AccessOutcome::Denied {
                reason: denial.reason.id().to_string(),
            },
        });
    }
}

/// What a `health-data` (or `types`) host call gets.
pub struct HealthView<'a> {
    /// Budgets and deadline.
    pub(super) sandbox: &'a mut Sandbox,
    /// Who runs.
    pub(super) party: &'a Party,
    /// The capability's state.
    pub(super) call: &'a mut HealthState,
}

/// `HasData` for [`HealthView`].
pub struct HealthData;

impl HasData for HealthData {
    type Data<'a> = HealthView<'a>;
}

/// The view `health-data` calls get.
pub(super) fn health_view(s: &mut InvocationState) -> HealthView<'_> {
    HealthView {
        sandbox: &mut s.sandbox,
        party: &s.call.party,
        call: &mut s.call.health,
    }
}
