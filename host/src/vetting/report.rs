//! The reviewer's report: what a plugin really asks for and really
//! imports, with risk flags, so a person can decide whether to sign it.

use std::path::Path;

use serde::Serialize;
use wasmtime::Engine;
use wasmtime::component::Component;

use super::Approval;
use super::error::VettingError;
use super::imports::{ImportCheck, inspect};
use super::source::{PluginSource, read_plugin, sha256_hex};
use crate::manifest::Manifest;
use crate::registry::Category;
use crate::runtime::{EffectiveLimits, PlatformLimits};

/// How serious a risk flag is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Worth a look.
    Low,
    /// Needs a justification.
    Medium,
    /// Needs a strong justification.
    High,
}

/// A risk a reviewer should weigh.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Risk {
    /// How serious.
    pub severity: Severity,
    /// A stable id (`clinical-data`, `health-reads-with-egress`, ...).
    pub flag: String,
    /// What it is about.
    pub message: String,
}

/// The report on one plugin directory.
#[derive(Clone, Debug, Serialize)]
pub struct ReviewReport {
    /// The manifest as parsed.
    pub manifest: Manifest,
    /// sha256 of the component.
    pub component_sha256: String,
    /// Component size, bytes.
    pub component_bytes: usize,
    /// sha256 of the manifest text.
    pub manifest_sha256: String,
    /// The limits it would run under.
    pub limits: EffectiveLimits,
    /// Imports, exports and the static check.
    pub check: ImportCheck,
    /// Risk flags, most serious first.
    pub risks: Vec<Risk>,
    /// The approval beside the manifest, if any, and whether it covers
    /// exactly these bytes.
    pub approval: Option<ApprovalStatus>,
}

/// An approval found with the plugin.
#[derive(Clone, Debug, Serialize)]
pub struct ApprovalStatus {
    /// Who signed.
    pub reviewer: String,
    /// When.
    pub signed_at: String,
    /// Whether it matches this component and manifest (signature checked,
    /// trust not).
    pub matches: Result<(), String>,
}

/// Words that make a purpose too vague to consent to.
const VAGUE: [&str; 10] = [
    "improve",
    "enhance",
    "better experience",
    "analytics",
    "various",
    "other purposes",
    "personaliz",
    "insights",
    "optimiz",
    "business",
];
/// Purposes no health plugin may have.
const FORBIDDEN: [&str; 6] = ["training", "advertis", "marketing", "resell", "sell ", "data broker"];

fn purpose_risks(out: &mut Vec<Risk>, what: &str, purpose: &str) {
    let lower = purpose.to_lowercase();
    if let Some(word) = FORBIDDEN.iter().find(|w| lower.contains(*w)) {
        out.push(Risk {
            severity: Severity::High,
            flag: "forbidden-purpose".into(),
            message: format!(
                "{what}: purpose \"{purpose}\" mentions `{}`; health data may serve only the user's stated purpose",
                word.trim()
            ),
        });
    } else if lower.len() < 25 || VAGUE.iter().any(|w| lower.contains(w)) {
        out.push(Risk {
            severity: Severity::Medium,
            flag: "vague-purpose".into(),
            message: format!("{what}: purpose \"{purpose}\" is vague; users cannot tell what they consent to"),
        });
    }
}

fn risk(severity: Severity, flag: &str, message: String) -> Risk {
    Risk {
        severity,
        flag: flag.into(),
        message,
    }
}

/// What the data requests and capabilities expose: clinical records,
/// reads beside egress, storage, writes, long histories, wildcards.
fn exposure_risks(out: &mut Vec<Risk>, manifest: &Manifest, limits: &EffectiveLimits) {
    let requests = manifest.type_requests();
    let ids = |keep: &dyn Fn(&crate::consent::TypeRequest) -> bool| -> Vec<&'static str> {
        requests.iter().filter(|r| keep(r)).map(|r| r.data_type.id()).collect()
    };
    let clinical = ids(&|r| r.data_type.info().category == Category::Clinical);
    if !clinical.is_empty() {
        out.push(risk(
            Severity::High,
            "clinical-data",
            format!("clinical records: {}", clinical.join(", ")),
        ));
    }
    let reads = ids(&|r| r.read);
    if let Some(net) = &manifest.network {
        let hosts: Vec<String> = net.allow.iter().map(ToString::to_string).collect();
        out.push(if reads.is_empty() {
            risk(
                Severity::Low,
                "network-egress",
                format!(
                    "can reach {}; it reads no health data, so it can send only what it fetched or stored itself",
                    hosts.join(", ")
                ),
            )
        } else {
            risk(
                Severity::High,
                "health-reads-with-egress",
                format!("reads {} and can send data to {}", reads.join(", "), hosts.join(", ")),
            )
        });
    }
    if manifest.storage.is_some() {
        out.push(risk(
            Severity::Low,
            "persistent-storage",
            format!(
                "keeps up to {} bytes in {} keys between invocations (sealed, per user; deleted on revoke)",
                limits.storage_bytes, limits.storage_keys
            ),
        ));
    }
    let writes = ids(&|r| r.write);
    if !writes.is_empty() {
        out.push(risk(
            Severity::Medium,
            "write-access",
            format!("writes {}", writes.join(", ")),
        ));
    }
    for r in requests.iter().filter(|r| r.read) {
        match r.days {
            None => out.push(risk(
                Severity::Medium,
                "long-history",
                format!("{}: all history", r.data_type),
            )),
            Some(d) if d > 365 => out.push(risk(
                Severity::Medium,
                "long-history",
                format!("{}: {d} days of history", r.data_type),
            )),
            _ => {}
        }
    }
    for o in manifest
        .network
        .iter()
        .flat_map(|n| n.allow.iter())
        .filter(|o| o.is_wildcard())
    {
        out.push(risk(
            Severity::Medium,
            "broad-wildcard",
            format!("{o} reaches every subdomain"),
        ));
    }
}

/// Every purpose checked, and free-text fields.
fn wording_risks(out: &mut Vec<Risk>, manifest: &Manifest) {
    for r in &manifest.reads {
        let types: Vec<&str> = r.types.iter().map(|t| t.id()).collect();
        purpose_risks(out, &format!("reading {}", types.join(", ")), &r.purpose);
        if r.fields.contains(crate::consent::Fields::NOTES) || r.fields.contains(crate::consent::Fields::METADATA) {
            out.push(risk(
                Severity::Low,
                "free-text-fields",
                "asks for notes or metadata (free text may hold anything)".into(),
            ));
        }
    }
    for w in &manifest.writes {
        purpose_risks(out, "writing", &w.purpose);
    }
    if let Some(n) = &manifest.network {
        purpose_risks(out, "network", &n.purpose);
    }
    if let Some(s) = &manifest.storage {
        purpose_risks(out, "storage", &s.purpose);
    }
}

/// Risk flags of a manifest and its static check, the most severe first.
pub fn risks(manifest: &Manifest, check: &ImportCheck, limits: &EffectiveLimits) -> Vec<Risk> {
    let mut out = Vec::new();
    exposure_risks(&mut out, manifest, limits);
    wording_risks(&mut out, manifest);
    out.extend(
        check
            .errors
            .iter()
            .map(|e| risk(Severity::High, "import-mismatch", e.clone())),
    );
    out.extend(
        check
            .warnings
            .iter()
            .map(|w| risk(Severity::Medium, "over-asking", w.clone())),
    );
    out.sort_by_key(|r| std::cmp::Reverse(r.severity));
    out
}

/// Reads a plugin directory (or manifest), compiles its component to read
/// its imports, and builds the report.
pub fn review(path: &Path, engine: &Engine, platform: &PlatformLimits) -> Result<ReviewReport, VettingError> {
    let PluginSource {
        manifest_source: source,
        manifest,
        component_path,
        component: bytes,
        approval: approval_text,
        ..
    } = read_plugin(path)?;
    let component = Component::new(engine, &bytes).map_err(|e| VettingError::InvalidComponent {
        path: component_path.display().to_string(),
        reason: format!("not a valid WebAssembly component: {}", e.root_cause()),
    })?;
    let check = inspect(engine, &manifest, &component);
    let component_sha256 = sha256_hex(&bytes);
    let manifest_sha256 = sha256_hex(source.as_bytes());
    let approval = approval_text.map(|text| match Approval::parse(&text) {
        Ok(a) => ApprovalStatus {
            reviewer: a.reviewer.clone(),
            signed_at: a.signed_at.clone(),
            matches: a
                .verify(
                    std::slice::from_ref(&a.reviewer),
                    &manifest.id,
                    &manifest.version,
                    &component_sha256,
                    &manifest_sha256,
                )
                .map_err(|e| e.to_string()),
        },
        Err(e) => ApprovalStatus {
            reviewer: String::new(),
            signed_at: String::new(),
            matches: Err(e.to_string()),
        },
    });
    let limits =
        crate::capabilities::resolve_limits(&manifest.limits, manifest.storage.as_ref(), platform, manifest.world);
    Ok(ReviewReport {
        risks: risks(&manifest, &check, &limits),
        limits,
        manifest,
        component_sha256,
        component_bytes: bytes.len(),
        manifest_sha256,
        check,
        approval,
    })
}
