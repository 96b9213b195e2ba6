//! Granting: a user can never grant more than the manifest asks for.
//! Every request is planned first (checked against the plugin's request
//! for each type, refused with a message saying what the plugin does ask
//! for); only when every request of a call is valid are they all written,
//! in one transaction with their audit entries. So a form granting three
//! types at three different windows grants all three or none.

use super::Host;
use super::consent::GrantRequest;
use super::load::LoadedPlugin;
use crate::consent::{TypeRequest, UserGrant};
use crate::error::HostError;
use crate::registry::DataType;
use crate::vault::{AuditEvent, AuditKind, Capability, CapabilityScope, UserRecord, now_ms};

/// One checked request, ready to write.
struct Planned {
    rows: Vec<UserGrant>,
    storage: bool,
    network: Option<CapabilityScope>,
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

/// The network scope `req` asks for, checked against the manifest.
fn network_scope(
    req: &GrantRequest,
    loaded: &LoadedPlugin,
    plugin: &str,
) -> Result<Option<CapabilityScope>, HostError> {
    match (&req.network, &loaded.manifest.network) {
        (None, _) => Ok(None),
        (Some(_), None) => Err(HostError::Consent(format!(
            "`{plugin}` does not ask for network access"
        ))),
        (Some(asked), Some(declared)) => {
            let declared: Vec<String> = declared.allow.iter().map(ToString::to_string).collect();
            if let Some(origin) = asked.iter().find(|o| !declared.contains(o)) {
                return Err(HostError::Consent(format!(
                    "`{plugin}` does not ask to reach {origin}; it asks for {}",
                    declared.join(", ")
                )));
            }
            let origins = if asked.is_empty() { declared } else { asked.clone() };
            Ok(Some(CapabilityScope::Network { origins }))
        }
    }
}

/// The manifest's request for `ty`, or the refusal naming what it asks.
fn request_for<'a>(requests: &'a [TypeRequest], ty: DataType, plugin: &str) -> Result<&'a TypeRequest, HostError> {
    requests.iter().find(|r| r.data_type == ty).ok_or_else(|| {
        let asked: Vec<&str> = requests.iter().map(|r| r.data_type.id()).collect();
        HostError::Consent(format!(
            "`{plugin}` does not ask for `{ty}`; it asks for {}",
            if asked.is_empty() {
                "nothing".to_string()
            } else {
                asked.join(", ")
            }
        ))
    })
}

/// Checks `req` against the manifest and policy; the rows it would write.
fn plan(req: &GrantRequest, loaded: &LoadedPlugin, plugin: &str, now: i64) -> Result<Planned, HostError> {
    if req.types.is_empty() && !req.storage && req.network.is_none() {
        return Err(HostError::Consent(
            "name at least one type with --types (or grant --storage / --network)".into(),
        ));
    }
    if req.storage && loaded.manifest.storage.is_none() {
        return Err(HostError::Consent(format!("`{plugin}` does not ask for storage")));
    }
    let network = network_scope(req, loaded, plugin)?;
    if req.until_ms.is_some_and(|t| t <= now) {
        return Err(HostError::Consent("--until is in the past".into()));
    }
    let requests = loaded.manifest.type_requests();
    let mut rows = Vec::new();
    for ty in &req.types {
        let r = request_for(&requests, *ty, plugin)?;
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
    Ok(Planned {
        rows,
        storage: req.storage,
        network,
    })
}

/// The audit entry of one data grant.
fn grant_event(user: &UserRecord, plugin: &str, digest: &str, g: &UserGrant) -> AuditEvent {
    let mut event = AuditEvent::new(AuditKind::Grant)
        .user(&user.user_ref)
        .plugin(plugin, digest);
    event.data_type = Some(g.data_type.id().to_string());
    event.fields = Some(g.fields.to_string());
    event.purpose = Some(g.purpose.clone());
    event.outcome = Some("ok".into());
    let access = match (g.read, g.write) {
        (true, true) => "read+write",
        (false, true) => "write",
        (true, false) => "read",
        (false, false) => "",
    };
    event.detail = Some(format!(
        "{access}; {}{}",
        g.granularity,
        g.days.map(|d| format!("; {d} days")).unwrap_or_default()
    ));
    event
}

impl Host {
    /// Grants `plugin` access to types for `user` (created if new).
    pub fn grant(&self, user: &str, plugin: &str, req: &GrantRequest) -> Result<Vec<UserGrant>, HostError> {
        self.grant_all(user, plugin, std::slice::from_ref(req))
    }

    /// Grants every request in `reqs` or none: each is checked first, and
    /// all are written in one transaction.
    pub fn grant_all(&self, user: &str, plugin: &str, reqs: &[GrantRequest]) -> Result<Vec<UserGrant>, HostError> {
        let loaded = self.loaded(plugin)?;
        let now = now_ms();
        let plans = reqs
            .iter()
            .map(|req| plan(req, &loaded, plugin, now))
            .collect::<Result<Vec<Planned>, HostError>>()?;
        let (user, _) = self.ensure_user(user)?;
        self.write_grants(&user, plugin, &loaded, &plans, now)?;
        Ok(plans.into_iter().flat_map(|p| p.rows).collect())
    }

    fn write_grants(
        &self,
        user: &UserRecord,
        plugin: &str,
        loaded: &LoadedPlugin,
        plans: &[Planned],
        now: i64,
    ) -> Result<(), HostError> {
        let digest = &loaded.record.component_sha256;
        let manifest = &loaded.manifest;
        let storage_scope = CapabilityScope::Storage {
            max_bytes: loaded.limits.storage_bytes,
            max_keys: loaded.limits.storage_keys,
        };
        self.vault.write(|tx| {
            for p in plans {
                tx.put_consents(user.id, plugin, &p.rows)?;
                for (capability, scope, purpose) in [
                    (
                        Capability::Storage,
                        p.storage.then(|| storage_scope.clone()),
                        manifest.storage.as_ref().map(|s| s.purpose.clone()),
                    ),
                    (
                        Capability::Network,
                        p.network.clone(),
                        manifest.network.as_ref().map(|n| n.purpose.clone()),
                    ),
                ] {
                    let Some(scope) = scope else { continue };
                    tx.put_capability(user.id, plugin, &scope, now)?;
                    let mut event = AuditEvent::new(AuditKind::Grant)
                        .user(&user.user_ref)
                        .plugin(plugin, digest);
                    event.purpose = purpose;
                    event.outcome = Some("ok".into());
                    event.detail = Some(if scope == (CapabilityScope::Network { origins: Vec::new() }) {
                        capability.id().to_string()
                    } else {
                        format!("{}: {scope}", capability.id())
                    });
                    tx.audit_append(&event)?;
                }
                for g in &p.rows {
                    tx.audit_append(&grant_event(user, plugin, digest, g))?;
                }
            }
            // After `put`, which creates the (user, plugin) version row.
            tx.set_consented_manifest(user.id, plugin, &loaded.record.manifest_sha256)?;
            Ok(())
        })?;
        Ok(())
    }
}
