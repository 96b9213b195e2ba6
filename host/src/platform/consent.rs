//! Granting, revoking and showing consent. A user can never grant more
//! than the manifest asks for: every option is checked against the
//! plugin's request for each type, and refused with a message saying what
//! the plugin does ask for.

use serde::Serialize;

use super::Host;
use crate::consent::{Fields, Granularity, TypeRequest, UserGrant};
use crate::error::HostError;
use crate::manifest::Manifest;
use crate::registry::DataType;
use crate::vault::{AuditEvent, AuditKind, Capability, audit, capabilities, consents, now_ms, plugins, storage};
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
    /// For network: the origins.
    pub scope: String,
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

fn check_against_request(req: &GrantRequest, ty: DataType, r: &TypeRequest, plugin: &str) -> Result<(), HostError> {
    let deny = |m: String| Err(HostError::Consent(m));
    if req.write && !r.write {
        return deny(format!("`{plugin}` does not ask to write `{ty}`; drop --write"));
    }
    if !req.write && !r.read {
        return deny(format!("`{plugin}` only asks to write `{ty}`; grant it with --write"));
    }
    if let Some(fields) = req.fields
        && !r.fields.contains(fields)
    {
        return deny(format!(
            "`{plugin}` asks for the fields {} of `{ty}`, not {}",
            r.fields,
            fields.minus(r.fields)
        ));
    }
    if let (Some(days), Some(asked)) = (req.days, r.days)
        && days > asked
    {
        return deny(format!(
            "`{plugin}` asks for {asked} days of `{ty}` history; you cannot grant {days}"
        ));
    }
    if let Some(g) = req.granularity
        && g < r.granularity
    {
        return deny(format!(
            "`{plugin}` asks for `{ty}` at {} granularity; you cannot grant finer ({g})",
            r.granularity
        ));
    }
    Ok(())
}

impl Host {
    /// Grants `plugin` access to types for `user` (created if new).
    pub fn grant(&self, user: &str, plugin: &str, req: &GrantRequest) -> Result<Vec<UserGrant>, HostError> {
        let loaded = self.loaded(plugin)?;
        if req.types.is_empty() && !req.storage && req.network.is_none() {
            return Err(HostError::Consent(
                "name at least one type with --types (or grant --storage / --network)".into(),
            ));
        }
        let manifest = &loaded.manifest;
        if req.storage && manifest.storage.is_none() {
            return Err(HostError::Consent(format!("`{plugin}` does not ask for storage")));
        }
        let network_scope = match (&req.network, &manifest.network) {
            (None, _) => None,
            (Some(_), None) => {
                return Err(HostError::Consent(format!(
                    "`{plugin}` does not ask for network access"
                )));
            }
            (Some(asked), Some(declared)) => {
                let declared: Vec<String> = declared.allow.iter().map(ToString::to_string).collect();
                for origin in asked {
                    if !declared.contains(origin) {
                        return Err(HostError::Consent(format!(
                            "`{plugin}` does not ask to reach {origin}; it asks for {}",
                            declared.join(", ")
                        )));
                    }
                }
                Some(if asked.is_empty() {
                    declared.join(",")
                } else {
                    asked.join(",")
                })
            }
        };
        let now = now_ms();
        if req.until_ms.is_some_and(|t| t <= now) {
            return Err(HostError::Consent("--until is in the past".into()));
        }
        let requests = loaded.manifest.type_requests();
        let mut rows = Vec::new();
        for ty in &req.types {
            let Some(r) = requests.iter().find(|r| r.data_type == *ty) else {
                let asked: Vec<&str> = requests.iter().map(|r| r.data_type.id()).collect();
                return Err(HostError::Consent(format!(
                    "`{plugin}` does not ask for `{ty}`; it asks for {}",
                    if asked.is_empty() {
                        "nothing".to_string()
                    } else {
                        asked.join(", ")
                    }
                )));
            };
            check_against_request(req, *ty, r, plugin)?;
            rows.push(UserGrant {
                data_type: *ty,
                read: r.read,
                write: req.write,
                fields: req.fields.unwrap_or(r.fields),
                days: req.days.or(r.days),
                since_ms: req.since_ms,
                granularity: req.granularity.unwrap_or(r.granularity),
                until_ms: req.until_ms,
                purpose: r.purpose.clone(),
                granted_ms: now,
                revoked_ms: None,
            });
        }
        let (user, _) = self.ensure_user(user)?;
        let digest = loaded.record.component_sha256.clone();
        let manifest_sha256 = loaded.record.manifest_sha256.clone();
        let storage_scope = format!(
            "max-bytes={};max-keys={}",
            loaded.limits.storage_bytes, loaded.limits.storage_keys
        );
        self.vault.write(|tx| {
            consents::put(tx, user.id, plugin, &rows)?;
            consents::set_consented_manifest(tx, user.id, plugin, &manifest_sha256)?;
            for (capability, scope, purpose) in [
                (
                    Capability::Storage,
                    req.storage.then(|| storage_scope.clone()),
                    manifest.storage.as_ref().map(|s| s.purpose.clone()),
                ),
                (
                    Capability::Network,
                    network_scope.clone(),
                    manifest.network.as_ref().map(|n| n.purpose.clone()),
                ),
            ] {
                let Some(scope) = scope else { continue };
                capabilities::put(tx, user.id, plugin, capability, &scope, now)?;
                let mut event = AuditEvent::new(AuditKind::Grant)
                    .user(&user.user_ref)
                    .plugin(plugin, &digest);
                event.purpose = purpose;
                event.outcome = Some("ok".into());
                event.detail = Some(if scope.is_empty() {
                    capability.id().to_string()
                } else {
                    format!("{}: {scope}", capability.id())
                });
                audit::append(tx, self.vault.keys(), &event)?;
            }
            for g in &rows {
                let mut event = AuditEvent::new(AuditKind::Grant)
                    .user(&user.user_ref)
                    .plugin(plugin, &digest);
                event.data_type = Some(g.data_type.id().to_string());
                event.fields = Some(g.fields.to_string());
                event.purpose = Some(g.purpose.clone());
                event.outcome = Some("ok".into());
                event.detail = Some(format!(
                    "{}{}; {}{}",
                    if g.read { "read" } else { "" },
                    if g.write {
                        if g.read { "+write" } else { "write" }
                    } else {
                        ""
                    },
                    g.granularity,
                    g.days.map(|d| format!("; {d} days")).unwrap_or_default()
                ));
                audit::append(tx, self.vault.keys(), &event)?;
            }
            Ok(())
        })?;
        Ok(rows)
    }

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
                other => consents::revoke(tx, user.id, plugin, other, now)?,
            };
            for ty in &revoked {
                let mut event = AuditEvent::new(AuditKind::Revoke)
                    .user(&user.user_ref)
                    .plugin(plugin, &digest);
                event.data_type = Some(ty.id().to_string());
                event.outcome = Some("ok".into());
                audit::append(tx, self.vault.keys(), &event)?;
            }
            let caps = if all_capabilities || capability.is_some() {
                capabilities::revoke(tx, user.id, plugin, capability, now)?
            } else {
                Vec::new()
            };
            let deleted = if all_capabilities || capability == Some(Capability::Storage) {
                storage::delete_all(tx, user.id, Some(plugin))?
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
                audit::append(tx, self.vault.keys(), &event)?;
            }
            consents::bump(tx, user.id, plugin)?;
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
        let user = self.user(user)?;
        let Some(record) = self.vault.plugin(plugin)? else {
            return Ok(Vec::new());
        };
        let conn = self.vault.conn()?;
        let Some(consented) = consents::consented_manifest(&conn, user.id, plugin)? else {
            return Ok(Vec::new());
        };
        if consented == record.manifest_sha256 {
            return Ok(Vec::new());
        }
        let Some(old_text) = plugins::manifest_by_sha(&conn, &consented)? else {
            return Ok(Vec::new());
        };
        let name = std::path::Path::new(plugin);
        let (Ok(old), Ok(new)) = (
            Manifest::parse(&old_text, name),
            Manifest::parse(&record.manifest, name),
        ) else {
            return Ok(Vec::new());
        };
        Ok(escalations(&old, &new))
    }

    /// Every capability grant of `user`.
    pub fn capability_grants(&self, user: &str) -> Result<Vec<CapabilityView>, HostError> {
        let user = self.user(user)?;
        let plugins = self.vault.plugins()?;
        let conn = self.vault.conn()?;
        let mut out = Vec::new();
        for plugin in plugins {
            let manifest = crate::manifest::Manifest::parse(&plugin.manifest, std::path::Path::new(&plugin.id)).ok();
            for g in capabilities::list(&conn, user.id, &plugin.id)? {
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
