//! Installing and listing plugins. An install validates everything
//! (manifest, digest, approval, what it replaces, component, world,
//! imports) before it writes anything. The plugin directory is read through
//! a `cap_std` handle (`vetting::read_plugin`), so nothing outside it is
//! read. Installing over a plugin of the same id is an update (users keep
//! their grants), a new plugin (a new component signed by another
//! publisher key: the old grants, consent versions and storage are deleted
//! in the same transaction) or refused (a `--dev` build over a reviewed
//! one, or any `--dev` build where the platform forbids them); see
//! `succession.rs`.

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use super::Host;
// `LoadedPlugin` and `WorldPre` moved to `load.rs`; re-exported here for
// the modules that name them through `install`.
pub use super::load::LoadedPlugin;
pub(crate) use super::load::WorldPre;
use super::load::{invalid, sha256_hex};
use super::succession::{Succession, succession};
use crate::error::HostError;
use crate::manifest::Manifest;
use crate::runtime::CacheOutcome;
use crate::vault::{AuditEvent, AuditKind, PluginRecord, now_ms};
use crate::vetting::{Approval, ApprovalError, MAX_COMPONENT_BYTES, read_plugin};

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
    /// A new component signed by another publisher key than the installed
    /// one: a new plugin. Every user's grants, consent versions and storage
    /// for the old one were deleted.
    pub consents_reset: bool,
}

impl Host {
    /// Installs the plugin at `path` (a plugin directory or its manifest).
    /// The component must be a file inside that directory.
    pub fn install(&self, path: &Path, options: InstallOptions) -> Result<InstallReport, HostError> {
        let source = read_plugin(path)?;
        let mut options = options;
        if !options.dev && options.approval.is_none() {
            let missing = || HostError::NotApproved(ApprovalError::Missing(source.approval_path.display().to_string()));
            options.approval = Some(source.approval.clone().ok_or_else(missing)?);
        }
        self.install_parts(
            &source.manifest_source,
            &source.manifest_path,
            &source.component_path,
            &source.component,
            options,
        )
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
        let result = self.install_checked(manifest, manifest_source, component_path, bytes, &sha256, &options);
        if result.is_err() {
            // A refused install leaves no component or compiled artifact.
            self.forget_component(&sha256);
        }
        result
    }

    fn install_checked(
        &self,
        manifest: Manifest,
        manifest_source: &str,
        component_path: &Path,
        bytes: &[u8],
        sha256: &str,
        options: &InstallOptions,
    ) -> Result<InstallReport, HostError> {
        let manifest_sha256 = sha256_hex(manifest_source.as_bytes());
        let signer = self.authorize(&manifest, options, sha256, &manifest_sha256)?;
        let previous = self.vault.plugin(&manifest.id)?;
        let succession = succession(previous.as_ref(), signer.as_deref(), sha256).map_err(HostError::NotApproved)?;
        let (pre, outcome, load_ms) = self.prepare(&manifest, sha256, bytes, component_path)?;

        // Everything is valid: now write, component first (content-addressed,
        // so a failed database write leaves nothing that matters).
        self.components.write(sha256, bytes)?;
        // Where every other host on a shared database finds it (nothing
        // on SQLite, whose components live in this home only).
        self.vault.store()?.put_component_bytes(sha256, bytes)?;
        let record = PluginRecord {
            id: manifest.id.clone(),
            version: manifest.version.clone(),
            name: manifest.name.clone(),
            publisher: manifest.publisher.clone(),
            world: manifest.world.id().to_string(),
            manifest: manifest_source.to_string(),
            manifest_sha256,
            component_sha256: sha256.to_string(),
            installed_ms: now_ms(),
            dev: options.dev,
            approval: if options.dev { None } else { options.approval.clone() },
        };
        self.commit_install(&record, previous.as_ref(), succession)?;
        let limits = crate::capabilities::resolve_limits(
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
        if let Some(p) = &previous
            && p.component_sha256 != sha256
        {
            self.forget_component(&p.component_sha256);
        }
        Ok(InstallReport {
            plugin: record,
            previous_version: previous.map(|p| p.version),
            component_bytes: bytes.len(),
            compiled: outcome == CacheOutcome::Compiled,
            load_ms,
            consents_reset: succession == Succession::NewPublisher,
        })
    }

    /// Whether this install may happen at all: a dev build where the
    /// platform allows them, or a valid approval. Returns the key that
    /// signed the approval (`None` for a dev build).
    fn authorize(
        &self,
        manifest: &Manifest,
        options: &InstallOptions,
        sha256: &str,
        manifest_sha256: &str,
    ) -> Result<Option<String>, HostError> {
        if options.dev {
            if !self.allow_dev {
                return Err(HostError::NotApproved(ApprovalError::DevDisabled));
            }
            return Ok(None);
        }
        let Some(text) = &options.approval else {
            return Err(HostError::NotApproved(ApprovalError::Missing("an approval".into())));
        };
        let approval = self.verify_approval(text, &manifest.id, &manifest.version, sha256, manifest_sha256)?;
        Ok(Some(approval.reviewer))
    }

    /// Records the install (and, for a new publisher, deletes the old
    /// plugin's grants, consent versions and storage) in one transaction.
    fn commit_install(
        &self,
        record: &PluginRecord,
        previous: Option<&PluginRecord>,
        succession: Succession,
    ) -> Result<(), HostError> {
        let dev = if record.dev { "; dev" } else { "" };
        let mut detail = match previous {
            Some(p) => format!("version {} (was {}){dev}", record.version, p.version),
            None => format!("version {}{dev}", record.version),
        };
        if succession == Succession::NewPublisher {
            detail.push_str(
                "; signed by a new publisher key: the previous grants, consent versions and storage were deleted",
            );
        }
        self.vault.write(|tx| {
            if succession == Succession::NewPublisher {
                tx.delete_plugin(&record.id)?;
            }
            tx.upsert_plugin(record)?;
            tx.audit_append(
                &AuditEvent::new(AuditKind::Install)
                    .plugin(&record.id, &record.component_sha256)
                    .outcome("ok")
                    .detail(detail),
            )?;
            Ok(())
        })?;
        Ok(())
    }

    /// Checks a reviewer's approval against the trust store and the exact
    /// plugin, version, component and manifest.
    pub(crate) fn verify_approval(
        &self,
        text: &str,
        plugin: &str,
        version: &str,
        component_sha256: &str,
        manifest_sha256: &str,
    ) -> Result<Approval, HostError> {
        let approval = Approval::parse(text).map_err(HostError::NotApproved)?;
        let trusted: Vec<String> = self.vault.reviewers()?.into_iter().map(|r| r.public_key).collect();
        approval
            .verify(&trusted, plugin, version, component_sha256, manifest_sha256)
            .map_err(HostError::NotApproved)?;
        Ok(approval)
    }

    /// Every installed plugin.
    pub fn plugins(&self) -> Result<Vec<PluginRecord>, HostError> {
        Ok(self.vault.plugins()?)
    }
}
