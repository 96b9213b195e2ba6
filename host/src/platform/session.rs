//! The life of one invocation around the sandbox: the consent state it
//! starts with (grants loaded on the first host call, egress hooks when the
//! manifest declares `[network]`), and what happens when it ends: its
//! staged samples and storage writes are committed together when it
//! succeeded and discarded when it failed, and its egress is summarised in
//! the audit log.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::Host;
use super::install::LoadedPlugin;
use crate::capabilities::{CallState, HealthState, Party, PluginIdentity, StorageState, UserSession};
use crate::consent::{Capability, GrantSet};
use crate::error::HostError;
use crate::network::{EgressGrant, EgressHooks, EgressParty, EgressStats};
use crate::registry::DataType;
use crate::vault::UserRecord;
use crate::vault::{AuditEvent, AuditKind, Store};

/// Why the user no longer grants what `call` is about to commit, read from
/// the consent rows inside the commit transaction (`None`: still granted).
fn revoked_since(tx: &dyn Store, call: &CallState) -> anyhow::Result<Option<String>> {
    let (party, health) = (&call.party, &call.health);
    let Some(session) = &party.user else {
        return Ok(None);
    };
    let rows = tx.consent_grants(session.user.id, &party.plugin.id)?;
    let grants = GrantSet::compute(&health.requests, &rows, &health.policy);
    let now = crate::vault::now_ms();
    for (ty, _) in &health.staged {
        if let Err(denial) = grants.check_write(*ty, now) {
            return Ok(Some(format!(
                "writing {ty} is no longer granted ({})",
                denial.reason.id()
            )));
        }
    }
    let storage_writes = call.storage.as_ref().is_some_and(|s| !s.overlay.is_empty());
    if storage_writes
        && tx
            .active_capability(session.user.id, &party.plugin.id, Capability::Storage)?
            .is_none()
    {
        return Ok(Some("storage is no longer granted".into()));
    }
    Ok(None)
}

/// A random id for an invocation's staged writes.
fn new_invocation_id() -> String {
    let mut bytes = [0u8; 12];
    if getrandom::fill(&mut bytes).is_err() {
        // Uniqueness within this process is all that matters here.
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        bytes[..8].copy_from_slice(&n.to_le_bytes());
        bytes[8..].copy_from_slice(&std::process::id().to_le_bytes());
    }
    // The process id leads, so a host reopening the vault can tell the
    // staged writes of a process that died (see `vault::samples`).
    format!("{}-{}", std::process::id(), hex::encode(bytes))
}

impl Host {
    /// What an invocation for `user` runs with: their data key and calendar.
    pub fn session(&self, user: &UserRecord) -> Result<UserSession, HostError> {
        Ok(UserSession {
            user: user.clone(),
            key: self.vault.user_key(user.id)?,
            calendar: self.vault.user_calendar(user)?,
        })
    }

    /// Sets the time zone of the user `handle` (an IANA name).
    pub fn set_user_zone(&self, handle: &str, zone: &str) -> Result<crate::consent::Calendar, HostError> {
        let user = self.user(handle)?;
        self.vault
            .set_user_zone(&user, zone)
            .map_err(|e| HostError::InvalidRequest(format!("{e:#}")))
    }

    /// The state an invocation of `plugin` starts with, and the counters of
    /// its egress hooks (when the manifest declares `[network]`).
    pub(crate) fn call_state(
        &self,
        plugin: &LoadedPlugin,
        user: Option<UserSession>,
    ) -> (CallState, Option<Arc<EgressStats>>) {
        let egress = match (&plugin.manifest.network, &user) {
            (Some(net), Some(session)) => {
                let policy = &self.network;
                let grant = EgressGrant {
                    origins: net.allow.clone(),
                    max_requests: net.max_requests.unwrap_or(policy.max_requests).min(policy.max_requests),
                    max_request_bytes: policy.max_request_bytes,
                    max_response_bytes: net
                        .max_response_bytes
                        .unwrap_or(policy.max_response_bytes)
                        .min(policy.max_response_bytes),
                    deadline: Instant::now() + Duration::from_millis(u64::from(plugin.limits.timeout_ms)),
                };
                let party = EgressParty {
                    grants: Arc::new(self.vault.clone()),
                    audit: Arc::new(self.vault.clone()),
                    user_id: session.user.id,
                    user_ref: session.user.user_ref.clone(),
                    plugin: plugin.record.id.clone(),
                    digest: plugin.record.component_sha256.clone(),
                };
                Some(EgressHooks::new(grant, policy.clone(), party))
            }
            _ => None,
        };
        let stats = egress.as_ref().map(EgressHooks::stats);
        let party = Party {
            vault: self.vault.clone(),
            grants: Arc::new(self.vault.clone()),
            audit: Arc::new(self.vault.clone()),
            plugin: PluginIdentity {
                id: plugin.record.id.clone(),
                digest: plugin.record.component_sha256.clone(),
                dev: plugin.record.dev,
            },
            user,
            invocation: new_invocation_id(),
        };
        let call = CallState {
            party,
            health: HealthState::new(plugin.requests.clone(), self.policy.clone()),
            storage: plugin.manifest.storage.as_ref().map(|_| StorageState::default()),
            input: None,
            egress: egress.map(|e| Box::new(e) as Box<dyn wasmtime_wasi_http::WasiHttpHooks>),
        };
        (call, stats)
    }

    /// Ends an invocation: commits (on success) or discards (on failure)
    /// its staged samples and storage writes, and audits its egress.
    /// Returns the samples stored per type.
    pub(crate) fn finish_invocation(
        &self,
        plugin: &LoadedPlugin,
        user_ref: &str,
        call: &CallState,
        egress: Option<&EgressStats>,
        success: bool,
    ) -> Result<Vec<(DataType, u64)>, HostError> {
        if let Some(stats) = egress {
            let requests = stats.requests.load(Ordering::Relaxed);
            if requests > 0 {
                let event = AuditEvent::new(AuditKind::Egress)
                    .user(user_ref)
                    .plugin(&plugin.record.id, &plugin.record.component_sha256)
                    .outcome("summary")
                    .detail(format!(
                        "{requests} requests ({} refused), {} bytes out, {} bytes in",
                        stats.refused.load(Ordering::Relaxed),
                        stats.bytes_out.load(Ordering::Relaxed),
                        stats.bytes_in.load(Ordering::Relaxed)
                    ));
                self.vault.audit(&event)?;
            }
        }
        let storage_writes = call.storage.as_ref().is_some_and(|s| !s.overlay.is_empty());
        if call.health.staged.is_empty() && !storage_writes {
            return Ok(Vec::new());
        }
        if !success {
            let conn = self.vault.store()?;
            conn.discard_staged(&call.party.invocation)?;
            return Ok(Vec::new());
        }
        let requests = plugin.manifest.type_requests();
        let committed = self.vault.write(|tx| {
            // Re-checked inside the commit: a revoke that landed while the
            // invocation ran is never undone by its commit.
            if let Some(reason) = revoked_since(tx, call)? {
                tx.discard_staged(&call.party.invocation)?;
                let event = AuditEvent::new(AuditKind::Write)
                    .user(user_ref)
                    .plugin(&plugin.record.id, &plugin.record.component_sha256)
                    .outcome("refused")
                    .detail(format!("nothing committed: {reason}"));
                tx.audit_append(&event)?;
                return Ok(Vec::new());
            }
            let committed = match &call.party.user {
                Some(session) => tx.commit_staged(&call.party.invocation, session.user.id, &session.key)?,
                None => Vec::new(),
            };
            for (ty, count) in &committed {
                let mut event = AuditEvent::new(AuditKind::Write)
                    .user(user_ref)
                    .plugin(&plugin.record.id, &plugin.record.component_sha256)
                    .outcome("ok");
                event.data_type = Some(ty.id().to_string());
                event.count = Some(*count);
                event.purpose = requests.iter().find(|r| r.data_type == *ty).map(|r| r.purpose.clone());
                tx.audit_append(&event)?;
            }
            self.commit_storage(tx, plugin, user_ref, call)?;
            Ok(committed)
        })?;
        Ok(committed)
    }

    /// Writes the invocation's storage overlay inside the commit, checking
    /// the quota against what is stored then.
    fn commit_storage(
        &self,
        tx: &dyn Store,
        plugin: &LoadedPlugin,
        user_ref: &str,
        call: &CallState,
    ) -> anyhow::Result<()> {
        let (Some(state), Some(session)) = (&call.storage, &call.party.user) else {
            return Ok(());
        };
        if state.overlay.is_empty() {
            return Ok(());
        }
        for (name, value) in &state.overlay {
            tx.kv_put(session.user.id, &plugin.record.id, &session.key, name, value.as_deref())?;
        }
        let usage = tx.kv_usage(session.user.id, &plugin.record.id)?;
        anyhow::ensure!(
            usage.bytes <= plugin.limits.storage_bytes && usage.keys <= plugin.limits.storage_keys,
            "storage quota exceeded at commit (a concurrent invocation wrote first)"
        );
        let mut event = AuditEvent::new(AuditKind::Storage)
            .user(user_ref)
            .plugin(&plugin.record.id, &plugin.record.component_sha256)
            .outcome("ok")
            .detail(format!(
                "{} keys changed; {} bytes in {} keys stored",
                state.overlay.len(),
                usage.bytes,
                usage.keys
            ));
        event.purpose = plugin.manifest.storage.as_ref().map(|s| s.purpose.clone());
        event.count = Some(state.overlay.len() as u64);
        tx.audit_append(&event)?;
        Ok(())
    }
}
