//! Granting, revoking and showing consent. A user can never grant more
//! than the manifest asks for: every option is checked against the
//! plugin's request for each type, and refused with a message saying what
//! the plugin does ask for.

use serde::Serialize;

use super::Host;
use crate::consent::{CapabilityScope, Fields, Granularity, UserGrant};
use crate::error::HostError;
use crate::manifest::Manifest;
use crate::registry::DataType;
use crate::vault::{AuditEvent, AuditKind, Capability, now_ms};
use crate::vetting::{Change, escalations};

/// What a user grants one plugin.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GrantRequest {
    /// The types.
    pub types: Vec<DataType>,
    /// Fields (default: what the manifest asks for).
    pub fields: Option<Fields>,
    /// Rolling history window in days (default: the manifest's).
    pub days: Option<u32>,
    /// Fixed start of visible history (ms since epoch).
    pub since_ms: Option<i64>,
    /// Granularity (default: the manifest's).
    pub granularity: Option<Granularity>,
    /// Also grant writing.
    pub write: bool,
    /// When the grant ends (ms since epoch).
    pub until_ms: Option<i64>,
    /// Also grant private storage (the manifest must declare `[storage]`).
    pub storage: bool,
    /// Also grant network access to these origins (empty: every origin the
    /// manifest declares); `None`: no network.
    pub network: Option<Vec<String>>,
}

/// What a revoke took away.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RevokeReport {
    /// Data types revoked.
    pub types: Vec<DataType>,
    /// Capabilities revoked.
    pub capabilities: Vec<Capability>,
    /// Storage entries deleted.
    pub storage_entries_deleted: u64,
}

/// A capability grant as shown to people.
#[derive(Clone, Debug, Serialize)]
pub struct CapabilityView {
    /// The plugin.
    pub plugin: String,
    /// `storage` or `network`.
    pub capability: String,
    /// What it covers (the quota, or the origins).
    pub scope: CapabilityScope,
    /// `active` or `revoked`.
    pub status: String,
    /// The purpose from the manifest.
    pub purpose: String,
}

/// One consent row as shown to people.
#[derive(Clone, Debug, Serialize)]
pub struct ConsentView {
    /// The plugin.
    pub plugin: String,
    /// The grant.
    #[serde(flatten)]
    pub grant: UserGrant,
    /// `active`, `revoked`, `expired`.
    pub status: String,
    /// The plugin is installed from a dev build (not reviewed).
    pub dev: bool,
}

impl Host {
    /// Revokes `plugin`'s grants for `user`: only `types` when given,
    /// otherwise everything (every type, storage and network), deleting the
    /// plugin's storage for the user. Effective on the plugin's next host
    /// call.
    pub fn revoke(&self, user: &str, plugin: &str, types: Option<&[DataType]>) -> Result<RevokeReport, HostError> {
        self.revoke_scope(user, plugin, types, None, types.is_none())
    }

    /// Revokes one capability; revoking storage deletes the stored data.
    pub fn revoke_capability(
        &self,
        user: &str,
        plugin: &str,
        capability: Capability,
    ) -> Result<RevokeReport, HostError> {
        self.revoke_scope(user, plugin, Some(&[]), Some(capability), false)
    }

    fn revoke_scope(
        &self,
        user: &str,
        plugin: &str,
        types: Option<&[DataType]>,
        capability: Option<Capability>,
        all_capabilities: bool,
    ) -> Result<RevokeReport, HostError> {
        let user = self.user(user)?;
        let digest = self
            .vault
            .plugin(plugin)?
            .map(|p| p.component_sha256)
            .unwrap_or_default();
        let now = now_ms();
        let report = self.vault.write(|tx| {
            let revoked = match types {
                Some([]) => Vec::new(),
                other => tx.revoke_consents(user.id, plugin, other, now)?,
            };
            for ty in &revoked {
                let mut event = AuditEvent::new(AuditKind::Revoke)
                    .user(&user.user_ref)
                    .plugin(plugin, &digest);
                event.data_type = Some(ty.id().to_string());
                event.outcome = Some("ok".into());
                tx.audit_append(&event)?;
            }
            let caps = if all_capabilities || capability.is_some() {
                tx.revoke_capabilities(user.id, plugin, capability, now)?
            } else {
                Vec::new()
            };
            let deleted = if all_capabilities || capability == Some(Capability::Storage) {
                tx.kv_delete_all(user.id, Some(plugin))?
            } else {
                0
            };
            for cap in &caps {
                let mut event = AuditEvent::new(AuditKind::Revoke)
                    .user(&user.user_ref)
                    .plugin(plugin, &digest);
                event.outcome = Some("ok".into());
                event.detail = Some(match cap {
                    Capability::Storage => format!("storage; {deleted} stored entries deleted"),
                    Capability::Network => "network".to_string(),
                });
                tx.audit_append(&event)?;
            }
            tx.bump_consent(user.id, plugin)?;
            Ok(RevokeReport {
                types: revoked,
                capabilities: caps,
                storage_entries_deleted: deleted,
            })
        })?;
        Ok(report)
    }

    /// What `plugin` now asks of `user` beyond what the user granted: the
    /// escalations between the manifest the user last consented to and the
    /// installed one. Nothing new is visible until the user grants again.
    pub fn pending_reconsent(&self, user: &str, plugin: &str) -> Result<Vec<Change>, HostError> {
        Ok(self
            .consented_and_installed(user, plugin)?
            .map(|(old, new)| escalations(&old, &new))
            .unwrap_or_default())
    }

    /// The manifest `user` last agreed to for `plugin` and the installed
    /// one, when they differ (`None` when the user never granted, agreed
    /// to the installed one, or either no longer parses).
    pub(crate) fn consented_and_installed(
        &self,
        user: &str,
        plugin: &str,
    ) -> Result<Option<(Manifest, Manifest)>, HostError> {
        let user = self.user(user)?;
        let Some(record) = self.vault.plugin(plugin)? else {
            return Ok(None);
        };
        let conn = self.vault.store()?;
        let Some(consented) = conn.consented_manifest(user.id, plugin)? else {
            return Ok(None);
        };
        if consented == record.manifest_sha256 {
            return Ok(None);
        }
        let Some(old_text) = conn.manifest_by_sha(&consented)? else {
            return Ok(None);
        };
        let name = std::path::Path::new(plugin);
        match (
            Manifest::parse(&old_text, name),
            Manifest::parse(&record.manifest, name),
        ) {
            (Ok(old), Ok(new)) => Ok(Some((old, new))),
            _ => Ok(None),
        }
    }

    /// Every capability grant of `user`.
    pub fn capability_grants(&self, user: &str) -> Result<Vec<CapabilityView>, HostError> {
        let user = self.user(user)?;
        let plugins = self.vault.plugins()?;
        let conn = self.vault.store()?;
        let mut out = Vec::new();
        for plugin in plugins {
            let manifest = crate::manifest::Manifest::parse(&plugin.manifest, std::path::Path::new(&plugin.id)).ok();
            for g in conn.capability_grants(user.id, &plugin.id)? {
                let purpose = manifest.as_ref().and_then(|m| match g.capability {
                    Capability::Storage => m.storage.as_ref().map(|s| s.purpose.clone()),
                    Capability::Network => m.network.as_ref().map(|n| n.purpose.clone()),
                });
                out.push(CapabilityView {
                    plugin: plugin.id.clone(),
                    capability: g.capability.id().to_string(),
                    scope: g.scope,
                    status: if g.revoked_ms.is_some() { "revoked" } else { "active" }.to_string(),
                    purpose: purpose.unwrap_or_default(),
                });
            }
        }
        Ok(out)
    }

    /// Every consent row of `user`.
    pub fn consents(&self, user: &str) -> Result<Vec<ConsentView>, HostError> {
        let user = self.user(user)?;
        let now = now_ms();
        let dev: Vec<String> = self
            .vault
            .plugins()?
            .into_iter()
            .filter(|p| p.dev)
            .map(|p| p.id)
            .collect();
        Ok(self
            .vault
            .consents_of(user.id)?
            .into_iter()
            .map(|(plugin, grant)| {
                let status = if grant.revoked_ms.is_some() {
                    "revoked"
                } else if grant.until_ms.is_some_and(|t| t <= now) {
                    "expired"
                } else {
                    "active"
                };
                ConsentView {
                    dev: dev.contains(&plugin),
                    plugin,
                    grant,
                    status: status.to_string(),
                }
            })
            .collect())
    }
}
