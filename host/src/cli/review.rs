//! `healthplug review` (the reviewer's report), `review sign|keygen|diff`
//! and `healthplug trust add|list|remove`.

use std::path::Path;

use super::args::{ReviewArgs, ReviewCommand, TrustCommand};
use super::output::{indent, print_json, short_time};
use super::review_tools::{check_tools, print_tools};
use super::{CliError, CliResult, usage};
use crate::manifest::Manifest;
use crate::platform::Host;
use crate::runtime::{Runtime, RuntimeConfig};
use crate::vetting::approval::normalize_public_key;
use crate::vetting::source::{read_manifest, write_approval};
use crate::vetting::{ReviewReport, ReviewerKey, Severity, diff, review};

fn manifest_of(path: &Path) -> Result<Manifest, CliError> {
    Ok(read_manifest(path)?)
}

fn print_report(r: &ReviewReport) {
    let m = &r.manifest;
    println!(
        "{} ({}) {} by {}, world {}",
        m.name,
        m.id,
        m.version,
        m.publisher,
        m.world.id()
    );
    if let Some(d) = &m.description {
        println!("{}", indent(d, 2));
    }
    println!(
        "  component sha256 {} ({} KB)",
        r.component_sha256,
        r.component_bytes / 1024
    );
    println!("  manifest  sha256 {}", r.manifest_sha256);
    print_approval(r);
    print_requests(r);
    print_checks(r);
}

/// The approval line.
fn print_approval(r: &ReviewReport) {
    match &r.approval {
        None => println!("  approval: none"),
        Some(a) => match &a.matches {
            Ok(()) => println!(
                "  approval: signed by {} at {}, matches these bytes",
                a.reviewer, a.signed_at
            ),
            Err(e) => println!("  approval: does NOT match: {e}"),
        },
    }
}

/// What it asks: data, network, storage, limits.
fn print_requests(r: &ReviewReport) {
    let m = &r.manifest;
    println!("\ndata requested:");
    for t in m.type_requests() {
        let access = match (t.read, t.write) {
            (true, true) => "read+write",
            (false, true) => "write",
            _ => "read",
        };
        println!(
            "  {:<26} {:<10} fields {:<22} {:<12} {:<7} purpose: {}",
            t.data_type.id(),
            access,
            t.fields.to_string(),
            t.days
                .map(|d| format!("{d} days"))
                .unwrap_or_else(|| "all history".into()),
            t.granularity.id(),
            t.purpose
        );
    }
    match &m.network {
        None => println!("network: none"),
        Some(n) => {
            let hosts: Vec<String> = n.allow.iter().map(ToString::to_string).collect();
            println!("network: {} (purpose: {})", hosts.join(", "), n.purpose);
        }
    }
    match &m.storage {
        None => println!("storage: none"),
        Some(s) => println!(
            "storage: {} bytes in {} keys (purpose: {})",
            r.limits.storage_bytes, r.limits.storage_keys, s.purpose
        ),
    }
    println!(
        "limits: {} MiB memory, {} ms per invocation, {} host calls{}",
        r.limits.memory_bytes >> 20,
        r.limits.timeout_ms,
        r.limits.host_calls,
        r.limits
            .fuel
            .map(|f| format!(", {f} fuel (deterministic)"))
            .unwrap_or_default()
    );
}

/// Imports, exports and risk flags.
fn print_checks(r: &ReviewReport) {
    println!("\nimports:");
    for i in &r.check.imports {
        println!("  {i}");
    }
    println!("exports: {}", r.check.exports.join(", "));
    println!("\nrisk flags:");
    if r.risks.is_empty() {
        println!("  none");
    }
    for risk in &r.risks {
        let level = match risk.severity {
            Severity::High => "HIGH  ",
            Severity::Medium => "MEDIUM",
            Severity::Low => "low   ",
        };
        println!("  {level} {:<26} {}", risk.flag, risk.message);
    }
    if !r.check.ok() {
        println!("\nREFUSED: the component imports what its manifest does not allow; it cannot be installed.");
    }
}

pub(super) fn run(args: ReviewArgs, json: bool) -> CliResult {
    let runtime = || Runtime::new(RuntimeConfig::default()).map_err(CliError::from);
    match (args.command, args.path) {
        (None, Some(path)) => {
            let rt = runtime()?;
            let report = review(&path, rt.engine(), &rt.config().platform)?;
            let tools = check_tools(&path);
            if json {
                let mut value = serde_json::to_value(&report).map_err(anyhow::Error::from)?;
                if let Some(map) = value.as_object_mut() {
                    map.insert(
                        "tools".into(),
                        serde_json::to_value(&tools).map_err(anyhow::Error::from)?,
                    );
                }
                return Ok(print_json(&value)?);
            }
            print_report(&report);
            print_tools(&tools);
            Ok(())
        }
        (None, None) => Err(usage(
            "review what?",
            "healthplug review <plugin-dir or file.hpkg>, or review sign|keygen|diff",
        )),
        (Some(ReviewCommand::Keygen { out }), _) => keygen(&out, json),
        (Some(ReviewCommand::Sign { key, path, out }), _) => sign(&key, &path, out.as_deref(), &runtime()?, json),
        (Some(ReviewCommand::Diff { old, new }), _) => diff_manifests(&old, &new, json),
    }
}

/// `review keygen`.
fn keygen(out: &Path, json: bool) -> CliResult {
    let key = ReviewerKey::generate()?;
    key.save(out)?;
    if json {
        return Ok(print_json(
            &serde_json::json!({ "key_file": out, "public_key": key.public() }),
        )?);
    }
    println!("wrote the private key to {} (keep it secret)", out.display());
    println!("public key: {}", key.public());
    println!(
        "platforms trust it with: healthplug trust add {} --name <you>",
        key.public()
    );
    Ok(())
}

/// `review sign`.
fn sign(key: &Path, path: &Path, out: Option<&Path>, rt: &Runtime, json: bool) -> CliResult {
    let report = review(path, rt.engine(), &rt.config().platform)?;
    if !report.check.ok() {
        return Err(usage(
            format!("refusing to sign: {}", report.check.errors.join("; ")),
            "fix the manifest or the component first; `healthplug review <dir>` shows the report",
        ));
    }
    if let Some(problem) = check_tools(path).problem() {
        return Err(usage(
            format!("refusing to sign: {problem}"),
            "fix it and review again; the platform would refuse the same at install",
        ));
    }
    let key = ReviewerKey::load(key)?;
    let m = &report.manifest;
    let approval = key.approve(&m.id, &m.version, &report.component_sha256, &report.manifest_sha256);
    let text = serde_json::to_string_pretty(&approval).map_err(anyhow::Error::from)?;
    let dest = match out {
        // Beside the manifest, through the plugin directory's handle.
        None => write_approval(path, &text).map_err(|e| usage(e.to_string(), "choose another place with --out"))?,
        Some(dest) => {
            std::fs::write(dest, &text).map_err(|e| {
                usage(
                    format!("cannot write {}: {e}", dest.display()),
                    "choose another place with --out",
                )
            })?;
            dest.to_path_buf()
        }
    };
    if json {
        return Ok(print_json(&approval)?);
    }
    println!(
        "approved {} {} (component {}, manifest {}) as {}",
        m.id,
        m.version,
        &report.component_sha256[..16],
        &report.manifest_sha256[..16],
        approval.reviewer
    );
    println!("wrote {}", dest.display());
    Ok(())
}

/// `review diff`.
fn diff_manifests(old: &Path, new: &Path, json: bool) -> CliResult {
    let (old, new) = (manifest_of(old)?, manifest_of(new)?);
    let changes = diff(&old, &new);
    if json {
        return Ok(print_json(&changes)?);
    }
    println!("{} {} -> {} {}", old.id, old.version, new.id, new.version);
    if changes.is_empty() {
        println!("  no change in what it asks for");
    }
    for c in &changes {
        println!(
            "  {} {}",
            if c.escalation { "ESCALATION" } else { "          " },
            c.what
        );
    }
    let n = changes.iter().filter(|c| c.escalation).count();
    println!(
        "{n} escalation{}{}",
        if n == 1 { "" } else { "s" },
        if n > 0 {
            ": users' grants keep their old scope until they consent again"
        } else {
            ""
        }
    );
    Ok(())
}

pub(super) fn trust(host: &Host, cmd: TrustCommand, json: bool) -> CliResult {
    let vault = host.vault();
    match cmd {
        TrustCommand::Add { public_key, name } => {
            let key = normalize_public_key(&public_key).map_err(|e| {
                usage(
                    format!("{e:#}"),
                    "give the key `review keygen` printed (ed25519:<64 hex digits>)",
                )
            })?;
            let name = name.unwrap_or_else(|| key[8..24].to_string());
            vault.trust(&key, &name)?;
            if json {
                return Ok(print_json(&serde_json::json!({ "public_key": key, "name": name }))?);
            }
            println!("trusting {name} ({key})");
            Ok(())
        }
        TrustCommand::List => {
            let reviewers = vault.reviewers()?;
            if json {
                return Ok(print_json(&reviewers)?);
            }
            if reviewers.is_empty() {
                println!("no trusted reviewers: only --dev installs are possible");
            }
            for r in reviewers {
                println!("{}  {}  (since {})", r.name, r.public_key, short_time(r.added_ms));
            }
            Ok(())
        }
        TrustCommand::Remove { reviewer } => {
            let gone = vault.untrust(&reviewer)?;
            if json {
                return Ok(print_json(&gone)?);
            }
            if gone.is_empty() {
                return Err(usage(
                    format!("no trusted reviewer `{reviewer}`"),
                    "`healthplug trust list` shows them",
                ));
            }
            for r in gone {
                println!(
                    "no longer trusting {} ({}); plugins they approved will not load",
                    r.name, r.public_key
                );
            }
            Ok(())
        }
    }
}
