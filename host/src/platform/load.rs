//! Loading and removing installed plugins: every load re-checks the
//! installed bytes against the digest recorded at install and the approval
//! against the trust store, then compiles (or takes from the
//! authenticated cache) and links the component. A refused load or a
//! removal leaves no compiled artifact of that component behind.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::Component;

use super::Host;
use crate::bindings::PluginPre;
use crate::bindings::connector::ConnectorPre;
use crate::capabilities::InvocationState;
use crate::capabilities::linker_for;
use crate::consent::TypeRequest;
use crate::error::HostError;
use crate::manifest::{Manifest, World};
use crate::runtime::{CacheOutcome, EffectiveLimits};
use crate::vault::{AuditEvent, AuditKind, PluginRecord};
use crate::vetting::inspect;
pub(crate) use crate::vetting::sha256_hex;

/// A linked component, ready to instantiate, by world.
pub(crate) enum WorldPre {
    /// A tool plugin.
    Plugin(PluginPre<InvocationState>),
    /// A connector.
    Connector(ConnectorPre<InvocationState>),
}

/// A plugin ready to instantiate.
pub struct LoadedPlugin {
    /// Its vault record.
    pub record: PluginRecord,
    /// Its manifest.
    pub manifest: Manifest,
    /// Its effective limits.
    pub limits: EffectiveLimits,
    /// What its manifest requests, per type (shared by its invocations).
    pub requests: Arc<[TypeRequest]>,
    pub(crate) pre: WorldPre,
}

pub(crate) fn invalid(path: &Path, reason: impl Into<String>) -> HostError {
    HostError::InvalidComponent {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// The deepest message of a wasmtime error: the one that says what is wrong.
fn root_message(e: &wasmtime::Error) -> String {
    e.chain().last().map(|c| c.to_string()).unwrap_or_else(|| e.to_string())
}

/// Links `component` for `manifest`'s world.
fn link(
    engine: &wasmtime::Engine,
    manifest: &Manifest,
    component: &Component,
    path: &Path,
) -> Result<WorldPre, HostError> {
    let linker = linker_for(engine, manifest)?;
    let pre = linker.instantiate_pre(component).map_err(|e| {
        invalid(
            path,
            format!("it imports something this plugin may not use: {}", root_message(&e)),
        )
    })?;
    Ok(match manifest.world {
        World::Plugin => WorldPre::Plugin(PluginPre::new(pre).map_err(|e| {
            invalid(
                path,
                format!(
                    "it does not export the `plugin` world (`tools`, `invoke`): {}",
                    root_message(&e)
                ),
            )
        })?),
        World::Connector => WorldPre::Connector(ConnectorPre::new(pre).map_err(|e| {
            invalid(
                path,
                format!(
                    "it does not export the `connector` world (`ingest`): {}",
                    root_message(&e)
                ),
            )
        })?),
    })
}

impl Host {
    /// Compiles (or loads from cache) and links a component for `manifest`.
    pub(crate) fn prepare(
        &self,
        manifest: &Manifest,
        sha256: &str,
        bytes: &[u8],
        path: &Path,
    ) -> Result<(WorldPre, CacheOutcome, f64), HostError> {
        let engine = self
            .runtime
            .engine_for(manifest.limits.fuel.is_some())
            .map_err(HostError::Internal)?;
        let started = Instant::now();
        let (component, outcome): (Component, CacheOutcome) = self
            .cache
            .load(engine, sha256, bytes)
            .map_err(|e| invalid(path, format!("not a valid WebAssembly component: {}", e.root_cause())))?;
        let load_ms = started.elapsed().as_secs_f64() * 1e3;
        let check = inspect(engine, manifest, &component);
        if let Some(error) = check.errors.first() {
            return Err(invalid(path, error.clone()));
        }
        let pre = link(engine, manifest, &component, path)?;
        Ok((pre, outcome, load_ms))
    }

    /// Deletes the stored component `sha256` and its compiled artifacts
    /// unless an installed plugin still uses it (best effort: a leftover
    /// file is never loaded without the digest, approval and MAC checks).
    pub(crate) fn forget_component(&self, sha256: &str) {
        let used = self
            .vault
            .plugins()
            .map(|all| all.iter().any(|p| p.component_sha256 == sha256))
            .unwrap_or(true);
        if !used {
            let _ = self.components.remove(sha256);
            let _ = self.cache.remove(sha256);
        }
    }

    /// The bytes of component `sha256`: from this home, else from the
    /// shared database (another host installed it), then kept in this
    /// home. The caller checks them against the digest either way.
    fn component_bytes(&self, sha256: &str) -> anyhow::Result<Vec<u8>> {
        let local = self.components.read(sha256);
        if local.is_ok() {
            return local;
        }
        match self.vault.store()?.component_bytes(sha256)? {
            Some(bytes) => {
                self.components.write(sha256, &bytes)?;
                Ok(bytes)
            }
            None => local,
        }
    }

    /// Removes a plugin and every consent given to it.
    pub fn remove(&self, id: &str) -> Result<PluginRecord, HostError> {
        let record = self
            .vault
            .plugin(id)?
            .ok_or_else(|| HostError::UnknownPlugin(id.to_string()))?;
        self.vault.write(|tx| {
            tx.delete_plugin(id)?;
            tx.audit_append(
                &AuditEvent::new(AuditKind::Remove)
                    .plugin(id, &record.component_sha256)
                    .outcome("ok"),
            )?;
            Ok(())
        })?;
        if let Ok(mut map) = self.loaded.lock() {
            map.remove(id);
        }
        self.forget_component(&record.component_sha256);
        Ok(record)
    }

    /// The loaded plugin `id`: from memory, or loaded from the home
    /// directory after checking the component against its recorded digest.
    pub fn loaded(&self, id: &str) -> Result<Arc<LoadedPlugin>, HostError> {
        if let Ok(map) = self.loaded.lock()
            && let Some(p) = map.get(id)
        {
            return Ok(p.clone());
        }
        let record = self
            .vault
            .plugin(id)?
            .ok_or_else(|| HostError::UnknownPlugin(id.to_string()))?;
        let sha = record.component_sha256.clone();
        let result = self.load_record(record);
        if result.is_err() {
            // A refused load leaves no compiled artifact to trust later.
            let _ = self.cache.remove(&sha);
        }
        let loaded = Arc::new(result?);
        if let Ok(mut map) = self.loaded.lock() {
            map.insert(id.to_string(), loaded.clone());
        }
        Ok(loaded)
    }

    fn load_record(&self, record: PluginRecord) -> Result<LoadedPlugin, HostError> {
        let id = record.id.as_str();
        let file = self.components.path(&record.component_sha256);
        let bytes = self
            .component_bytes(&record.component_sha256)
            .map_err(|e| HostError::Tampered {
                plugin: id.to_string(),
                expected: record.component_sha256.clone(),
                actual: format!("unreadable ({e:#})"),
            })?;
        let actual = sha256_hex(&bytes);
        if actual != record.component_sha256 {
            return Err(HostError::Tampered {
                plugin: id.to_string(),
                expected: record.component_sha256.clone(),
                actual,
            });
        }
        let manifest_name = PathBuf::from(format!("<installed manifest of {id}>"));
        if sha256_hex(record.manifest.as_bytes()) != record.manifest_sha256 {
            return Err(HostError::Tampered {
                plugin: id.to_string(),
                expected: record.manifest_sha256.clone(),
                actual: "a modified manifest".into(),
            });
        }
        let manifest = Manifest::parse(&record.manifest, &manifest_name)?;
        if !record.dev {
            let text = record.approval.as_deref().unwrap_or("");
            self.verify_approval(text, &record.id, &record.version, &actual, &record.manifest_sha256)?;
        }
        let (pre, _, _) = self.prepare(&manifest, &record.component_sha256, &bytes, &file)?;
        let limits = crate::capabilities::resolve_limits(
            &manifest.limits,
            manifest.storage.as_ref(),
            &self.runtime.config().platform,
            manifest.world,
        );
        Ok(LoadedPlugin {
            record,
            requests: manifest.type_requests().into(),
            manifest,
            limits,
            pre,
        })
    }
}
