//! `healthplug plugin add|list|info|remove`.

use std::path::Path;

use super::args::PluginCommand;
use super::output::{Table, indent, line, print_json, short_time};
use super::{CliResult, usage};
use crate::platform::{Host, InstallOptions};

pub(super) fn run(host: &Host, cmd: PluginCommand, json: bool) -> CliResult {
    match cmd {
        PluginCommand::Add { path, dev, approval } => add(host, &path, dev, approval.as_deref(), json),
        PluginCommand::List => list(host, json),
        PluginCommand::Info { id } => info(host, &id, json),
        PluginCommand::Remove { id } => remove(host, &id, json),
    }
}

/// `plugin add`.
fn add(host: &Host, path: &Path, dev: bool, approval: Option<&Path>, json: bool) -> CliResult {
    if !path.exists() {
        return Err(usage(
            format!("{} does not exist", path.display()),
            "give a plugin directory (with healthplug.toml), a manifest file, or a .hpkg package",
        ));
    }
    let approval = match approval {
        Some(file) => Some(std::fs::read_to_string(file).map_err(|e| {
            usage(
                format!("cannot read the approval {}: {e}", file.display()),
                "give the file `healthplug review sign` wrote",
            )
        })?),
        None => None,
    };
    let report = host.install(path, InstallOptions { dev, approval })?;
    if json {
        return Ok(print_json(&report)?);
    }
    let p = &report.plugin;
    let action = match &report.previous_version {
        Some(v) if *v == p.version => format!("reinstalled {} {}", p.id, p.version),
        Some(v) => format!("upgraded {} {} -> {}", p.id, v, p.version),
        None => format!("installed {} {}", p.id, p.version),
    };
    println!(
        "{action}{}  ({} KB, sha256 {}, {} in {:.0} ms)",
        if p.dev { " [dev]" } else { "" },
        report.component_bytes / 1024,
        &p.component_sha256[..16],
        if report.compiled {
            "compiled"
        } else {
            "loaded from cache"
        },
        report.load_ms
    );
    if report.consents_reset {
        println!(
            "  signed by another publisher key than the installed {}: a new plugin; every user's grants, consent versions and storage for the old one were deleted",
            p.id
        );
    }
    Ok(())
}

/// `plugin list`.
fn list(host: &Host, json: bool) -> CliResult {
    let plugins = host.plugins()?;
    if json {
        return Ok(print_json(&plugins)?);
    }
    if plugins.is_empty() {
        println!("no plugins installed (install one with `healthplug plugin add <dir>`)");
        return Ok(());
    }
    let mut t = Table::new(&["ID", "VERSION", "WORLD", "PUBLISHER", "SHA256", "INSTALLED"]);
    for p in plugins {
        t.row(vec![
            if p.dev { format!("{} [dev]", p.id) } else { p.id.clone() },
            p.version,
            p.world,
            p.publisher,
            p.component_sha256[..16].to_string(),
            short_time(p.installed_ms),
        ]);
    }
    print!("{}", t.render());
    Ok(())
}

/// `plugin info`.
fn info(host: &Host, id: &str, json: bool) -> CliResult {
    let loaded = host.loaded(id)?;
    let tools = host.tools(id)?;
    if json {
        return Ok(print_json(&serde_json::json!({
            "plugin": loaded.record,
            "manifest": loaded.manifest,
            "limits": loaded.limits,
            "tools": tools,
        }))?);
    }
    let m = &loaded.manifest;
    println!(
        "{} {} by {}{}",
        m.name,
        m.version,
        m.publisher,
        if loaded.record.dev { " [dev]" } else { "" }
    );
    if let Some(d) = &m.description {
        println!("{}", indent(d, 2));
    }
    println!("  sha256 {}", loaded.record.component_sha256);
    for r in &m.reads {
        let types: Vec<&str> = r.types.iter().map(|t| t.id()).collect();
        println!(
            "  reads {} (fields {}, {}, {}): {}",
            types.join(", "),
            r.fields,
            r.granularity,
            r.days
                .map(|d| format!("{d} days"))
                .unwrap_or_else(|| "all history".into()),
            r.purpose
        );
    }
    for w in &m.writes {
        let types: Vec<&str> = w.types.iter().map(|t| t.id()).collect();
        println!("  writes {}: {}", types.join(", "), w.purpose);
    }
    println!(
        "  limits: {} MiB memory, {} ms per invocation",
        loaded.limits.memory_bytes >> 20,
        loaded.limits.timeout_ms
    );
    println!("  tools:");
    for t in tools {
        println!("    {}: {}", line(&t.name), line(&t.description));
    }
    Ok(())
}

/// `plugin remove`.
fn remove(host: &Host, id: &str, json: bool) -> CliResult {
    let removed = host.remove(id)?;
    if json {
        return Ok(print_json(&removed)?);
    }
    println!(
        "removed {} {} and every consent given to it",
        removed.id, removed.version
    );
    Ok(())
}
