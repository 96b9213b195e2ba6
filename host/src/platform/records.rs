//! What the platform holds about a user: their records (exported with
//! provenance), the audit log, erasure, and storing samples directly (the
//! demo and tests).

use serde::Serialize;

use super::Host;
use crate::error::HostError;
use crate::registry::DataType;
use crate::vault::{AuditEntry, Coding, EraseReport, InsertReport, NewSample, Origin, VerifyReport};

/// Formats ms since the epoch as RFC 3339 (UTC).
pub fn format_time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| ms.to_string())
}

/// Provenance as exported.
#[derive(Clone, Debug, Serialize)]
pub struct ProvenanceView {
    /// Who wrote it.
    pub origin: String,
    /// Their component digest.
    pub origin_digest: Option<String>,
    /// When.
    pub written: String,
    /// Value as the source gave it.
    pub original_value: Option<f64>,
    /// Unit as the source gave it.
    pub original_unit: Option<String>,
}

/// One record as exported to the user.
#[derive(Clone, Debug, Serialize)]
pub struct RecordView {
    /// Registry type id.
    #[serde(rename = "type")]
    pub data_type: String,
    /// Start (RFC 3339).
    pub start: String,
    /// End (RFC 3339).
    pub end: String,
    /// Value in the canonical unit.
    pub value: Option<f64>,
    /// Canonical unit.
    pub unit: String,
    /// Coding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coding: Option<Coding>,
    /// Source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_name: Option<String>,
    /// Device.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// Metadata JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
    /// Notes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Provenance.
    pub provenance: ProvenanceView,
}

impl Host {
    /// Everything held about `user` (optionally only some types).
    pub fn records(&self, user: &str, types: &[DataType]) -> Result<Vec<RecordView>, HostError> {
        let user = self.user(user)?;
        let rows = self.vault.samples(&user, types, usize::MAX)?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let p = r.payload?;
                Some(RecordView {
                    data_type: r.data_type.id().to_string(),
                    start: format_time(r.start_ms),
                    end: format_time(r.end_ms),
                    value: p.value,
                    unit: p.unit,
                    coding: p.coding,
                    source_name: p.source_name,
                    device: p.device,
                    metadata: p
                        .metadata
                        .map(|m| serde_json::from_str(&m).unwrap_or(serde_json::Value::String(m))),
                    notes: p.notes,
                    provenance: ProvenanceView {
                        origin: p.provenance.origin,
                        origin_digest: p.provenance.origin_digest,
                        written: format_time(p.provenance.written_ms),
                        original_value: p.provenance.original_value,
                        original_unit: p.provenance.original_unit,
                    },
                })
            })
            .collect())
    }

    /// Stores samples for `user` (created if new), all or nothing.
    pub fn store_samples(&self, user: &str, origin: &str, samples: &[NewSample]) -> Result<InsertReport, HostError> {
        let (user, _) = self.ensure_user(user)?;
        let origin = Origin {
            id: origin.to_string(),
            digest: None,
        };
        Ok(self.vault.insert_samples(&user, &origin, samples)?)
    }

    /// Erases `user`: key destroyed, every row deleted.
    pub fn erase(&self, user: &str) -> Result<EraseReport, HostError> {
        let user = self.user(user)?;
        Ok(self.vault.erase_user(&user)?)
    }

    /// The audit log, optionally only entries about `user`.
    pub fn audit_log(&self, user: Option<&str>) -> Result<Vec<AuditEntry>, HostError> {
        let user_ref = user.map(|u| self.vault.user_ref(u));
        let conn = self.vault.store()?;
        Ok(conn.audit_list(user_ref.as_deref())?)
    }

    /// The audit entries naming the user whose pseudonymous ref is
    /// `user_ref`, oldest first.
    pub(crate) fn audit_log_of_ref(&self, user_ref: &str) -> Result<Vec<AuditEntry>, HostError> {
        let conn = self.vault.store()?;
        Ok(conn.audit_list(Some(user_ref))?)
    }

    /// Verifies the audit chain.
    pub fn verify_audit(&self) -> Result<VerifyReport, HostError> {
        Ok(self.vault.verify_audit()?)
    }
}
