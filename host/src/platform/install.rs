//! Installing, listing, loading and removing plugins. An install validates
//! everything (manifest, digest, component, world, imports) before it
//! writes anything; every load re-checks the installed bytes against the
//! digest recorded at install.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;
use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use super::Host;
use crate::bindings::PluginPre;
use crate::bindings::connector::ConnectorPre;
use crate::capabilities::linker_for;
use crate::consent::TypeRequest;
use crate::error::HostError;
use crate::manifest::{MANIFEST_FILE, Manifest, World};
use crate::runtime::{CacheOutcome, EffectiveLimits, InvocationState};
use crate::vault::{AuditEvent, AuditKind, PluginRecord, audit, now_ms, plugins};
use crate::vetting::{Approval, ApprovalError, ImportCheck, check_imports};

/// The largest component accepted, bytes.
const MAX_COMPONENT_BYTES: usize = 64 * 1024 * 1024;

/// How to install.
#[derive(Clone, Debug, Default)]
pub struct InstallOptions {
    /// A partner's local test install: not reviewed, marked dev everywhere.
    pub dev: bool,
    /// The reviewer's approval (its JSON text). Without `dev`, `install`
    /// reads `healthplug.approval` beside the manifest when this is `None`.
    pub approval: Option<String>,
}

impl InstallOptions {
    /// A partner's local, unreviewed install.
    pub fn dev() -> InstallOptions {
        InstallOptions {
            dev: true,
            approval: None,
        }
    }
}

/// What an install did.
#[derive(Clone, Debug, Serialize)]
pub struct InstallReport {
    /// The installed plugin.
    pub plugin: PluginRecord,
    /// The version it replaced, if it was an upgrade.
    pub previous_version: Option<String>,
    /// Component size, bytes.
    pub component_bytes: usize,
    /// Whether the component was compiled or came from the cache.
    pub compiled: bool,
    /// Time to compile or load it, ms.
    pub load_ms: f64,
}

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

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn invalid(path: &Path, reason: impl Into<String>) -> HostError {
    HostError::InvalidComponent {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// The static capability check of a compiled component against its
/// manifest.
pub(crate) fn inspect(engine: &wasmtime::Engine, manifest: &Manifest, component: &Component) -> ImportCheck {
    let ty = component.component_type();
    let imports = ty.imports(engine).map(|(name, _)| name.to_string()).collect();
    let exports = ty.exports(engine).map(|(name, _)| name.to_string()).collect();
    check_imports(manifest, imports, exports)
}

/// The deepest message of a wasmtime error: the one that says what is wrong.
fn root_message(e: &wasmtime::Error) -> String {
    e.chain().last().map(|c| c.to_string()).unwrap_or_else(|| e.to_string())
}

impl Host {
    fn component_file(&self, sha256: &str) -> PathBuf {
        self.home().join("components").join(format!("{sha256}.wasm"))
    }

    /// Compiles (or loads from cache) and links a component for `manifest`.
    fn prepare(
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
        let linker = linker_for(engine, manifest)?;
        let pre = linker.instantiate_pre(&component).map_err(|e| {
            invalid(
                path,
                format!("it imports something this plugin may not use: {}", root_message(&e)),
            )
        })?;
        let pre = match manifest.world {
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
        };
        Ok((pre, outcome, load_ms))
    }

    /// Installs the plugin at `path` (a plugin directory or its manifest).
    pub fn install(&self, path: &Path, options: InstallOptions) -> Result<InstallReport, HostError> {
        let manifest_path = if path.is_dir() {
            path.join(MANIFEST_FILE)
        } else {
            path.to_path_buf()
        };
        let source = std::fs::read_to_string(&manifest_path).map_err(|e| {
            HostError::InvalidRequest(format!("cannot read the manifest {}: {e}", manifest_path.display()))
        })?;
        let manifest = Manifest::parse(&source, &manifest_path)?;
        let component_path = manifest.component_path(&manifest_path);
        let bytes = std::fs::read(&component_path)
            .map_err(|e| invalid(&component_path, format!("cannot read the component: {e}")))?;
        let mut options = options;
        if !options.dev && options.approval.is_none() {
            let file = manifest_path.with_file_name(crate::vetting::APPROVAL_FILE);
            options.approval = Some(
                std::fs::read_to_string(&file)
                    .map_err(|_| HostError::NotApproved(ApprovalError::Missing(file.display().to_string())))?,
            );
        }
        self.install_parts(&source, &manifest_path, &component_path, &bytes, options)
    }

    /// Installs from a manifest text and component bytes (`manifest_path`
    /// and `component_path` only name them in errors).
    pub fn install_parts(
        &self,
        manifest_source: &str,
        manifest_path: &Path,
        component_path: &Path,
        bytes: &[u8],
        options: InstallOptions,
    ) -> Result<InstallReport, HostError> {
        let manifest = Manifest::parse(manifest_source, manifest_path)?;
        if bytes.len() > MAX_COMPONENT_BYTES {
            return Err(invalid(
                component_path,
                format!("larger than {} MiB", MAX_COMPONENT_BYTES >> 20),
            ));
        }
        let sha256 = sha256_hex(bytes);
        if let Some(expected) = &manifest.sha256
            && *expected != sha256
        {
            return Err(HostError::DigestMismatch {
                path: component_path.display().to_string(),
                expected: expected.clone(),
                actual: sha256,
            });
        }
        let manifest_sha256 = sha256_hex(manifest_source.as_bytes());
        if !options.dev {
            let Some(text) = &options.approval else {
                return Err(HostError::NotApproved(ApprovalError::Missing("an approval".into())));
            };
            self.verify_approval(text, &manifest.id, &manifest.version, &sha256, &manifest_sha256)?;
        }
        let (pre, outcome, load_ms) = self.prepare(&manifest, &sha256, bytes, component_path)?;

        // Everything is valid: now write, component first (content-addressed,
        // so a failed database write leaves nothing that matters).
        let file = self.component_file(&sha256);
        if !file.exists() {
            let dir = self.home().join("components");
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let tmp = tempfile::NamedTempFile::new_in(&dir).context("writing the component")?;
            std::fs::write(tmp.path(), bytes).context("writing the component")?;
            tmp.persist(&file)
                .map_err(|e| anyhow::anyhow!("storing the component: {}", e.error))?;
        }
        let record = PluginRecord {
            id: manifest.id.clone(),
            version: manifest.version.clone(),
            name: manifest.name.clone(),
            publisher: manifest.publisher.clone(),
            world: manifest.world.id().to_string(),
            manifest: manifest_source.to_string(),
            manifest_sha256,
            component_sha256: sha256.clone(),
            installed_ms: now_ms(),
            dev: options.dev,
            approval: if options.dev { None } else { options.approval.clone() },
        };
        let previous = self.vault.plugin(&manifest.id)?;
        self.vault.write(|tx| {
            plugins::upsert(tx, &record)?;
            let detail = match &previous {
                Some(p) => format!(
                    "version {} (was {}){}",
                    record.version,
                    p.version,
                    if options.dev { "; dev" } else { "" }
                ),
                None => format!("version {}{}", record.version, if options.dev { "; dev" } else { "" }),
            };
            audit::append(
                tx,
                self.vault.keys(),
                &AuditEvent::new(AuditKind::Install)
                    .plugin(&record.id, &sha256)
                    .outcome("ok")
                    .detail(detail),
            )?;
            Ok(())
        })?;
        let limits = EffectiveLimits::resolve(
            &manifest.limits,
            manifest.storage.as_ref(),
            &self.runtime.config().platform,
            manifest.world,
        );
        let loaded = Arc::new(LoadedPlugin {
            record: record.clone(),
            requests: manifest.type_requests().into(),
            manifest,
            limits,
            pre,
        });
        if let Ok(mut map) = self.loaded.lock() {
            map.insert(record.id.clone(), loaded);
        }
        Ok(InstallReport {
            plugin: record,
            previous_version: previous.map(|p| p.version),
            component_bytes: bytes.len(),
            compiled: outcome == CacheOutcome::Compiled,
            load_ms,
        })
    }

    /// Checks a reviewer's approval against the trust store and the exact
    /// plugin, version, component and manifest.
    fn verify_approval(
        &self,
        text: &str,
        plugin: &str,
        version: &str,
        component_sha256: &str,
        manifest_sha256: &str,
    ) -> Result<(), HostError> {
        let approval = Approval::parse(text).map_err(HostError::NotApproved)?;
        let trusted: Vec<String> = self.vault.reviewers()?.into_iter().map(|r| r.public_key).collect();
        approval
            .verify(&trusted, plugin, version, component_sha256, manifest_sha256)
            .map_err(HostError::NotApproved)
    }

    /// Every installed plugin.
    pub fn plugins(&self) -> Result<Vec<PluginRecord>, HostError> {
        Ok(self.vault.plugins()?)
    }

    /// Removes a plugin and every consent given to it.
    pub fn remove(&self, id: &str) -> Result<PluginRecord, HostError> {
        let record = self
            .vault
            .plugin(id)?
            .ok_or_else(|| HostError::UnknownPlugin(id.to_string()))?;
        self.vault.write(|tx| {
            plugins::delete(tx, id)?;
            audit::append(
                tx,
                self.vault.keys(),
                &AuditEvent::new(AuditKind::Remove)
                    .plugin(id, &record.component_sha256)
                    .outcome("ok"),
            )?;
            Ok(())
        })?;
        if let Ok(mut map) = self.loaded.lock() {
            map.remove(id);
        }
        let still_used = self
            .vault
            .plugins()?
            .iter()
            .any(|p| p.component_sha256 == record.component_sha256);
        if !still_used {
            let _ = std::fs::remove_file(self.component_file(&record.component_sha256));
        }
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
        let file = self.component_file(&record.component_sha256);
        let bytes = std::fs::read(&file).map_err(|e| HostError::Tampered {
            plugin: id.to_string(),
            expected: record.component_sha256.clone(),
            actual: format!("unreadable ({e})"),
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
        let limits = EffectiveLimits::resolve(
            &manifest.limits,
            manifest.storage.as_ref(),
            &self.runtime.config().platform,
            manifest.world,
        );
        let loaded = Arc::new(LoadedPlugin {
            record,
            requests: manifest.type_requests().into(),
            manifest,
            limits,
            pre,
        });
        if let Ok(mut map) = self.loaded.lock() {
            map.insert(id.to_string(), loaded.clone());
        }
        Ok(loaded)
    }
}
