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
use crate::text::sanitize_line;
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
    /// Installs the plugin at `path` (a plugin directory, its manifest, or
    /// a `.hpkg` package, read and verified whole before anything else).
    /// The component must be a file inside that directory or package.
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
        // Its tools, asked once with no user (it sees no data): names the
        // WIT allows, or the rename. A plugin whose `tools` fails installs
        // as before: that failure is contained wherever it is called, and
        // `serve` leaves out at list time any name MCP cannot carry.
        if let Ok(tools) = self.tools_of(&loaded) {
            let names: Vec<String> = tools.into_iter().map(|t| t.name).collect();
            if let Some(problem) = tool_name_problem(&names) {
                return Err(invalid(component_path, problem));
            }
        }

        // Everything is valid: now write, component first (content-addressed,
        // so a failed database write leaves nothing that matters).
        self.components.write(sha256, bytes)?;
        // Where every other host on a shared database finds it (nothing
        // on SQLite, whose components live in this home only).
        self.vault.store()?.put_component_bytes(sha256, bytes)?;
        self.commit_install(&record, previous.as_ref(), succession)?;
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

/// Why a plugin's tool names cannot be installed, if they cannot: each
/// must be lowercase letters and digits in words joined by single `-` or
/// `_`, starting with a letter, at most 64 characters (the WIT's rule:
/// MCP clients call tools by these names, snake_case included), and
/// unique. The message names the rename.
pub(crate) fn tool_name_problem(names: &[String]) -> Option<String> {
    for (i, name) in names.iter().enumerate() {
        if !is_tool_name(name) {
            return Some(format!(
                "tool `{}` is not a valid tool name (lowercase letters and digits in words joined by single `-` or `_`, \
                 starting with a letter, at most 64 characters), as the plugin world's WIT requires: rename it `{}`",
                sanitize_line(name),
                tool_rename(name)
            ));
        }
        if names[..i].contains(name) {
            return Some(format!("two tools are named `{name}`: tool names must be unique"));
        }
    }
    None
}

/// The WIT's rule for a tool name.
fn is_tool_name(name: &str) -> bool {
    let separated = |c: char| c == '-' || c == '_';
    !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with(separated)
        && !name
            .as_bytes()
            .windows(2)
            .any(|w| separated(w[0] as char) && separated(w[1] as char))
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || separated(c))
}

/// The nearest valid name: lowercase ASCII letters and digits kept, `_`
/// kept between words, every other run of characters one dash, nothing
/// at either end, a leading `tool-` if it would not start with a letter.
fn tool_rename(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with(['-', '_']) {
            out.push(if c == '_' { '_' } else { '-' });
        }
    }
    let trimmed = |s: &str| s.trim_end_matches(['-', '_']).to_string();
    let mut out = trimmed(&out);
    if !out.starts_with(|c: char| c.is_ascii_lowercase()) {
        out = trimmed(&format!("tool-{out}"));
    }
    trimmed(&out.chars().take(64).collect::<String>())
}

#[cfg(test)]
mod tool_name_tests {
    use super::*;

    fn problem(names: &[&str]) -> Option<String> {
        tool_name_problem(&names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn valid_names_pass_and_others_name_their_rename() {
        assert_eq!(problem(&["sleep-summary", "sleep_summary", "steps-7d"]), None);
        for (bad, rename) in [
            ("SleepSummary", "sleepsummary"),
            ("sleep summary!", "sleep-summary"),
            ("7-day", "tool-7-day"),
            ("sleep--x", "sleep-x"),
            ("sleep_-x", "sleep_x"),
            ("-", "tool"),
            ("", "tool"),
        ] {
            let p = problem(&[bad]).unwrap_or_default();
            assert!(p.contains(&format!("rename it `{rename}`")), "{bad}: {p}");
            assert!(is_tool_name(&tool_rename(bad)), "{bad} -> {}", tool_rename(bad));
        }
        assert!(problem(&["a", "a"]).unwrap_or_default().contains("unique"));
    }

    #[test]
    fn a_hostile_name_is_shown_made_visible() {
        let p = problem(&["x\u{1b}]0;pwned\u{7}\u{202e}"]).unwrap_or_default();
        assert!(!p.chars().any(|c| c.is_control() || c == '\u{202e}'), "{p:?}");
        assert!(p.contains("rename it `x-0-pwned`"), "{p}");
    }
}
