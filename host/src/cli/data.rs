//! `healthplug invoke|records|user|types|audit|erase`.

use super::args::{RecordAddArgs, UserCommand};
use super::consent::types_arg;
use super::hints::refusal_fixes;
use super::output::{Table, indent, pretty, print_json, short_time};
use super::{CliError, CliResult};
use crate::capabilities::AccessOutcome;
use crate::platform::{Host, InvokeOutcome, RecordEntry};
use crate::registry::{DataType, markdown_table};

/// Prints what a plugin read and was refused, one line each.
pub(super) fn print_accesses(outcome: &InvokeOutcome) {
    let mut allowed: Vec<String> = Vec::new();
    let mut refused: Vec<String> = Vec::new();
    for a in &outcome.accesses {
        match &a.outcome {
            AccessOutcome::Allowed {
                count,
                fields,
                granularity,
            } => {
                let what = if granularity == "raw" {
                    "samples"
                } else {
                    "aggregate rows"
                };
                allowed.push(format!("{} ({count} {what}, fields {fields})", a.data_type));
            }
            AccessOutcome::Written { count } => allowed.push(format!("{} ({count} written)", a.data_type)),
            AccessOutcome::Denied { reason } => refused.push(format!("{} ({reason})", a.data_type)),
        }
    }
    println!(
        "  allowed: {}",
        if allowed.is_empty() {
            "-".into()
        } else {
            allowed.join(", ")
        }
    );
    println!(
        "  refused: {}",
        if refused.is_empty() {
            "-".into()
        } else {
            refused.join(", ")
        }
    );
}

pub(super) fn invoke(host: &Host, user: &str, plugin: &str, tool: &str, args: Option<&str>, json: bool) -> CliResult {
    let outcome = host.invoke(user, plugin, tool, args.unwrap_or("{}"))?;
    if json {
        return Ok(print_json(&outcome)?);
    }
    println!(
        "{} {}{} / {} for {user}  ({:.1} ms, {} host calls)",
        outcome.plugin,
        outcome.version,
        if outcome.dev { " [dev]" } else { "" },
        outcome.tool,
        outcome.elapsed_ms,
        outcome.host_calls
    );
    print_accesses(&outcome);
    let fixes = refusal_fixes(user, plugin, &outcome.accesses);
    match &outcome.result {
        Ok(text) => {
            for f in &fixes {
                println!("  fix: {f}");
            }
            println!("{}", pretty(text));
        }
        Err(f) => {
            // A refused access names its fix; otherwise the tool itself
            // (its name, its arguments) is what to check.
            let hint = if fixes.is_empty() {
                format!("`healthplug plugin info {plugin}` lists its tools and their arguments")
            } else {
                fixes.join("\n")
            };
            return Err(CliError::Usage(
                format!("tool `{tool}` failed ({}): {}", f.kind, f.message),
                Some(hint),
            ));
        }
    }
    if !outcome.logs.is_empty() {
        println!("  log:");
        for l in &outcome.logs {
            println!("{}", indent(&format!("[{}] {}", l.level, l.message), 4));
        }
    }
    Ok(())
}

pub(super) fn import(
    host: &Host,
    user: &str,
    connector: &str,
    file: &std::path::Path,
    patient: Option<&str>,
    json: bool,
) -> CliResult {
    if !file.is_file() {
        return Err(CliError::Usage(
            format!("{} is not a file", file.display()),
            Some("give the path of the export file".into()),
        ));
    }
    let mut options = serde_json::Map::new();
    if let Some(p) = patient {
        options.insert("patient".into(), serde_json::Value::String(p.into()));
    }
    let report = host.import(user, connector, file, &serde_json::Value::Object(options))?;
    print_import(&report, user, json)
}

pub(super) fn sync(host: &Host, user: &str, connector: &str, options: Option<&str>, json: bool) -> CliResult {
    let options: serde_json::Value = match options {
        None => serde_json::json!({}),
        Some(text) => serde_json::from_str(text).map_err(|e| {
            CliError::Usage(
                format!("--options is not JSON: {e}"),
                Some(r#"for example --options '{"base_url": "https://api.partner.example"}'"#.into()),
            )
        })?,
    };
    let report = host.sync(user, connector, &options)?;
    print_import(&report, user, json)
}

fn print_import(report: &crate::platform::ImportReport, user: &str, json: bool) -> CliResult {
    if json {
        return Ok(print_json(report)?);
    }
    let what = if report.file.is_empty() {
        "synced".to_string()
    } else {
        format!("imported {} ({} bytes)", report.file, report.bytes)
    };
    println!(
        "{} {}{} {what} for {user} in {:.0} ms",
        report.connector,
        report.version,
        if report.dev { " [dev]" } else { "" },
        report.elapsed_ms
    );
    println!(
        "  {} records read, {} new samples stored, {} already stored",
        report.records_read, report.total_imported, report.duplicates
    );
    if !report.imported.is_empty() {
        let mut t = Table::new(&["IMPORTED", "SAMPLES"]);
        for c in &report.imported {
            t.row(vec![c.data_type.clone(), c.count.to_string()]);
        }
        print!("{}", indent(&t.render(), 2));
        println!();
    }
    if !report.skipped.is_empty() {
        let mut t = Table::new(&["SKIPPED", "RECORDS"]);
        for s in &report.skipped {
            t.row(vec![s.reason.clone(), s.count.to_string()]);
        }
        print!("{}", indent(&t.render(), 2));
        println!();
    }
    if report.problems_total > 0 {
        println!("  {} malformed records (not imported):", report.problems_total);
        for p in &report.problems {
            println!("    line {}: {}", p.line, p.reason);
        }
        if report.problems_total as usize > report.problems.len() {
            println!(
                "    ... and {} more",
                report.problems_total as usize - report.problems.len()
            );
        }
    }
    Ok(())
}

pub(super) fn records(host: &Host, user: &str, types: Option<&str>, limit: usize, json: bool) -> CliResult {
    let types: Vec<DataType> = types.map(types_arg).transpose()?.unwrap_or_default();
    let records = host.records(user, &types)?;
    if json {
        return Ok(print_json(&records)?);
    }
    if records.is_empty() {
        println!("no records for {user}");
        return Ok(());
    }
    let mut t = Table::new(&["TYPE", "START", "END", "VALUE", "UNIT", "CODING", "SOURCE", "ORIGIN"]);
    for r in records.iter().take(limit) {
        t.row(vec![
            r.data_type.clone(),
            r.start.clone(),
            r.end.clone(),
            r.value.map(|v| format!("{v}")).unwrap_or_else(|| "-".into()),
            r.unit.clone(),
            r.coding.as_ref().map(|c| c.display.clone()).unwrap_or_default(),
            r.source_name.clone().unwrap_or_default(),
            r.provenance.origin.clone(),
        ]);
    }
    print!("{}", t.render());
    if records.len() > limit {
        println!("... {} more (use --limit, --type or --json)", records.len() - limit);
    }
    Ok(())
}

/// `healthplug records add`: one typed-in sample.
pub(super) fn add_record(host: &Host, args: RecordAddArgs, json: bool) -> CliResult {
    let entry = RecordEntry {
        data_type: args.data_type,
        value: args.value,
        unit: args.unit,
        at: args.at,
        start: args.start,
        end: args.end,
        code: args.code,
        system: args.system,
    };
    let (sample, report) = host.add_record(&args.user, &entry)?;
    if json {
        return Ok(print_json(&serde_json::json!({
            "type": sample.data_type.id(),
            "start_ms": sample.start_ms,
            "end_ms": sample.end_ms,
            "value": sample.value,
            "unit": sample.unit,
            "code": sample.coding.as_ref().map(|c| &c.code),
            "stored": report.inserted,
            "duplicates": report.duplicates,
        }))?);
    }
    let what = match (&sample.coding, sample.value) {
        (Some(c), Some(v)) => format!("{} {} ({v} {})", sample.data_type, c.code, sample.unit),
        (Some(c), None) => format!("{} {}", sample.data_type, c.code),
        (None, v) => format!("{} {} {}", sample.data_type, v.unwrap_or_default(), sample.unit),
    };
    if report.inserted == 0 {
        println!("{what}: already stored for {}, nothing added", args.user);
    } else {
        println!("added {what} for {}", args.user);
    }
    Ok(())
}

pub(super) fn user(host: &Host, cmd: UserCommand, json: bool) -> CliResult {
    match cmd {
        UserCommand::Add { user, tz } => {
            if let Some(zone) = &tz {
                crate::consent::Calendar::named(zone)
                    .map_err(|e| crate::error::HostError::InvalidRequest(e.to_string()))?;
            }
            let (record, created) = host.ensure_user(&user)?;
            let zone = match &tz {
                Some(zone) => Some(host.set_user_zone(&user, zone)?),
                None => None,
            };
            if json {
                return Ok(print_json(&record)?);
            }
            let zone = zone.map(|c| format!(" (time zone {})", c.name())).unwrap_or_default();
            if created {
                println!("created user {user}{zone}");
            } else {
                println!("user {user} already exists{zone}");
            }
            Ok(())
        }
        UserCommand::SetTz { user, tz } => {
            let calendar = host.set_user_zone(&user, &tz)?;
            if json {
                return Ok(print_json(&serde_json::json!({ "user": user, "tz": calendar.name() }))?);
            }
            println!(
                "{user}: time zone {}; daily and hourly aggregates now follow its local days",
                calendar.name()
            );
            Ok(())
        }
        UserCommand::List => {
            let users = host.users()?;
            if json {
                return Ok(print_json(&users)?);
            }
            let mut t = Table::new(&["USER", "REF", "CREATED"]);
            for u in users {
                t.row(vec![u.handle, u.user_ref, short_time(u.created_ms)]);
            }
            print!("{}", t.render());
            Ok(())
        }
    }
}

pub(super) fn types(markdown: bool, json: bool) -> CliResult {
    if markdown {
        print!("{}", markdown_table());
        return Ok(());
    }
    if json {
        let list: Vec<_> = DataType::all()
            .map(|t| {
                let i = t.info();
                serde_json::json!({
                    "code": t.code(), "id": i.id, "name": i.name, "category": i.category.id(),
                    "unit": i.unit, "healthkit": i.healthkit, "health_connect": i.health_connect, "code_system": i.code,
                })
            })
            .collect();
        return Ok(print_json(&list)?);
    }
    let mut t = Table::new(&["ID", "CATEGORY", "UNIT", "NAME"]);
    for ty in DataType::all() {
        let i = ty.info();
        t.row(vec![i.id.into(), i.category.id().into(), i.unit.into(), i.name.into()]);
    }
    print!("{}", t.render());
    Ok(())
}

pub(super) fn audit(host: &Host, user: Option<&str>, verify: bool, json: bool) -> CliResult {
    if verify {
        let report = host.verify_audit()?;
        if json {
            print_json(&report)?;
        } else if let Some(problem) = &report.problem {
            println!("audit log BROKEN after {} good entries: {problem}", report.entries);
        } else {
            println!(
                "audit log intact: {} entries, hash chain and head verified",
                report.entries
            );
        }
        return match report.problem {
            Some(p) => Err(CliError::Usage(
                format!("the audit log failed verification: {p}"),
                Some("the log was altered outside healthplug; keep a copy for investigation".into()),
            )),
            None => Ok(()),
        };
    }
    if let Some(u) = user {
        host.user(u)?;
    }
    let entries = host.audit_log(user)?;
    if json {
        return Ok(print_json(&entries)?);
    }
    let mut t = Table::new(&[
        "#", "TIME", "KIND", "USER", "PLUGIN", "TYPE", "FIELDS", "COUNT", "OUTCOME", "DETAIL",
    ]);
    for e in entries {
        let ev = &e.event;
        t.row(vec![
            e.seq.to_string(),
            short_time(e.at),
            ev.kind.id().into(),
            ev.user.clone().unwrap_or_default(),
            ev.plugin.clone().unwrap_or_default(),
            ev.data_type.clone().unwrap_or_default(),
            ev.fields.clone().unwrap_or_default(),
            ev.count.map(|c| c.to_string()).unwrap_or_default(),
            ev.outcome.clone().unwrap_or_default(),
            ev.detail.clone().unwrap_or_default(),
        ]);
    }
    print!("{}", t.render());
    Ok(())
}

pub(super) fn erase(host: &Host, user: &str, json: bool) -> CliResult {
    let report = host.erase(user)?;
    if json {
        return Ok(print_json(&report)?);
    }
    println!(
        "erased {user}: {} samples and {} consents deleted, {} storage entries deleted, {} tokens deleted, data key {}",
        report.samples,
        report.consents,
        report.storage_entries,
        report.tokens,
        if report.key_destroyed { "destroyed" } else { "not found" }
    );
    Ok(())
}

pub(super) fn migrate(host: &Host, json: bool) -> CliResult {
    let report = host.vault().migrated();
    if json {
        let value = serde_json::json!({ "format": 2, "migrated": report });
        return Ok(print_json(&value)?);
    }
    match report {
        Some(r) => println!(
            "vault migrated to v2 (sealed day chunks): {} samples into {} chunks, {} uncommitted staged samples dropped",
            r.samples, r.chunks, r.staged_dropped
        ),
        None => println!("vault is already v2 (sealed day chunks): nothing to migrate"),
    }
    Ok(())
}
