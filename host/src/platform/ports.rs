//! The platform's side of `ports`: the grant source and audit sink that
//! capabilities and network use, implemented over the vault (grants read
//! with their MACs checked; audit entries group-committed).

use crate::consent::{Capability, CapabilityScope, UserGrant};
use crate::ports::{AuditSink, GrantSource};
use crate::vault::{AuditEvent, Vault};

impl GrantSource for Vault {
    fn version(&self, user_id: i64, plugin: &str) -> anyhow::Result<i64> {
        self.store()?.consent_version(user_id, plugin)
    }

    fn grants(&self, user_id: i64, plugin: &str) -> anyhow::Result<Vec<UserGrant>> {
        self.store()?.consent_grants(user_id, plugin)
    }

    fn capability(
        &self,
        user_id: i64,
        plugin: &str,
        capability: Capability,
    ) -> anyhow::Result<Option<CapabilityScope>> {
        self.store()?.active_capability(user_id, plugin, capability)
    }
}

impl AuditSink for Vault {
    fn record(&self, events: Vec<AuditEvent>) -> anyhow::Result<()> {
        self.audit_all(events).map(|_| ())
    }
}
