//! Answering a plugin's upgrade: when the installed manifest asks for more
//! than the one a user last agreed to, nothing new is visible until the
//! user answers. Accepting grants what widened, exactly as the installed
//! manifest asks it (each widened type at its asked fields, history and
//! granularity; storage and new network origins if newly asked), and
//! leaves every other grant as the user set it. Declining keeps the
//! earlier grants as they are (the installed manifest still bounds them)
//! and records that the user saw and refused the new request, so it is not
//! asked again. Both are audited.

use serde::Serialize;

use super::{GrantRequest, Host};
use crate::error::HostError;
use crate::registry::DataType;
use crate::vault::{AuditEvent, AuditKind};
use crate::vetting::{Widening, escalations, widening};

/// What answering a re-consent changed.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct ReconsentReport {
    /// Types granted anew (accept only).
    pub types: Vec<DataType>,
    /// Storage granted (accept only).
    pub storage: bool,
    /// Network origins granted (accept only).
    pub origins: Vec<String>,
}

impl Host {
    /// What `plugin` asks of `user` beyond the manifest they last agreed
    /// to, as things they can grant (empty when nothing is pending).
    pub fn pending_widening(&self, user: &str, plugin: &str) -> Result<Widening, HostError> {
        Ok(self
            .consented_and_installed(user, plugin)?
            .map(|(old, new)| widening(&old, &new))
            .unwrap_or_default())
    }

    /// Grants what `plugin`'s upgrade asks beyond what `user` agreed to.
    /// Refused when nothing is pending (a stale page).
    pub fn accept_reconsent(&self, user: &str, plugin: &str) -> Result<ReconsentReport, HostError> {
        let widened = self.pending_widening(user, plugin)?;
        if widened.is_empty() {
            return Err(HostError::Consent(format!(
                "`{plugin}` asks for nothing new; there is nothing to accept"
            )));
        }
        let loaded = self.loaded(plugin)?;
        let requests = loaded.manifest.type_requests();
        let writes = |ty: &DataType| requests.iter().any(|r| r.data_type == *ty && r.write);
        let (writing, reading): (Vec<DataType>, Vec<DataType>) = widened.types.iter().partition(|t| writes(t));
        let network = (!widened.origins.is_empty()).then(|| widened.origins.clone());
        // Two requests at most (write is one flag per request), granted
        // together or not at all; the first carries storage and network.
        let mut grants = Vec::new();
        if !reading.is_empty() || widened.storage || network.is_some() {
            grants.push(GrantRequest {
                types: reading,
                storage: widened.storage,
                network,
                ..GrantRequest::default()
            });
        }
        if !writing.is_empty() {
            grants.push(GrantRequest {
                types: writing,
                write: true,
                ..GrantRequest::default()
            });
        }
        self.grant_all(user, plugin, &grants)?;
        Ok(ReconsentReport {
            types: widened.types,
            storage: widened.storage,
            origins: widened.origins,
        })
    }

    /// Keeps `user`'s earlier grants to `plugin` and stops asking for what
    /// its upgrade added. Refused when nothing is pending.
    pub fn decline_reconsent(&self, user: &str, plugin: &str) -> Result<(), HostError> {
        // Every widening is also an escalation, so escalations alone say
        // whether anything is pending.
        let pending = self.consented_and_installed(user, plugin)?;
        if pending.is_none_or(|(old, new)| escalations(&old, &new).is_empty()) {
            return Err(HostError::Consent(format!(
                "`{plugin}` asks for nothing new; there is nothing to decline"
            )));
        }
        let record = self
            .vault
            .plugin(plugin)?
            .ok_or_else(|| HostError::UnknownPlugin(plugin.to_string()))?;
        let user = self.user(user)?;
        self.vault.write(|tx| {
            tx.set_consented_manifest(user.id, plugin, &record.manifest_sha256)?;
            let event = AuditEvent::new(AuditKind::Grant)
                .user(&user.user_ref)
                .plugin(plugin, &record.component_sha256)
                .outcome("declined")
                .detail(format!(
                    "re-consent for version {} declined; earlier grants kept",
                    record.version
                ));
            tx.audit_append(&event)?;
            Ok(())
        })?;
        Ok(())
    }
}
