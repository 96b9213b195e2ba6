//! `healthplug consent grant|revoke|show`.

use super::args::{ConsentCommand, GrantArgs};
use super::output::{Table, print_json, short_time};
use super::{CliError, CliResult, usage};
use crate::consent::{Fields, Granularity, UserGrant};
use crate::platform::{ConsentView, GrantRequest, Host};
use crate::registry::{DataType, parse_type_list};
use crate::vault::Capability;

/// Parses `YYYY-MM-DD` (UTC midnight) or an RFC 3339 timestamp to ms.
pub(super) fn parse_date(text: &str, flag: &str) -> Result<i64, CliError> {
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Ok(t.as_millisecond());
    }
    let date: jiff::civil::Date = text.parse().map_err(|_| {
        usage(
            format!("{flag} `{text}` is not a date"),
            "use YYYY-MM-DD or an RFC 3339 time such as 2027-01-31T12:00:00Z",
        )
    })?;
    let zoned = date
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_err(|e| usage(format!("{flag} `{text}`: {e}"), "use YYYY-MM-DD"))?;
    Ok(zoned.timestamp().as_millisecond())
}

pub(super) fn types_arg(list: &str) -> Result<Vec<DataType>, CliError> {
    let types = parse_type_list(list).map_err(|e| usage(e.to_string(), "`healthplug types` lists every type"))?;
    if types.is_empty() {
        return Err(usage("no type given", "name types like --types steps,heart-rate"));
    }
    Ok(types)
}

fn grant_request(a: &GrantArgs) -> Result<GrantRequest, CliError> {
    let types = match &a.types {
        Some(t) => types_arg(t)?,
        None if a.storage || a.network.is_some() => Vec::new(),
        None => {
            return Err(usage(
                "nothing to grant",
                "name types with --types (or --all, --storage, --network)",
            ));
        }
    };
    request_for(a, types, a.write)
}

/// The request `a` describes, for `types` (writing them if `write`).
fn request_for(a: &GrantArgs, types: Vec<DataType>, write: bool) -> Result<GrantRequest, CliError> {
    let fields = match &a.fields {
        Some(f) => Some(Fields::parse_list(f).map_err(|e| usage(e.to_string(), "for example --fields value,time"))?),
        None => None,
    };
    let granularity = match &a.granularity {
        Some(g) => Some(
            g.parse::<Granularity>()
                .map_err(|e| usage(e, "use raw, hourly or daily"))?,
        ),
        None => None,
    };
    if a.days == Some(0) {
        return Err(usage("--days must be at least 1", "for example --days 30"));
    }
    let network = a.network.as_ref().map(|list| {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                crate::network::Origin::parse(s)
                    .map(|o| o.to_string())
                    .unwrap_or_else(|_| s.to_string())
            })
            .collect()
    });
    Ok(GrantRequest {
        types,
        storage: a.storage,
        network,
        fields,
        days: a.days,
        since_ms: a.since.as_deref().map(|s| parse_date(s, "--since")).transpose()?,
        granularity,
        write,
        until_ms: a.until.as_deref().map(|s| parse_date(s, "--until")).transpose()?,
    })
}

pub(super) fn run(host: &Host, cmd: ConsentCommand, json: bool) -> CliResult {
    match cmd {
        ConsentCommand::Grant(a) => grant(host, &a, json),
        ConsentCommand::Revoke {
            user,
            plugin,
            types,
            storage,
            network,
        } => revoke(host, &user, &plugin, (types.as_deref(), storage, network), json),
        ConsentCommand::Show { user } => show(host, &user, json),
    }
}

/// One grant as a line: "granted read of steps to coach for ann: ...".
fn grant_line(g: &UserGrant, plugin: &str, user: &str) -> String {
    format!(
        "granted {} {} to {plugin} for {user}: fields {}, {}, {}{}{}, for `{}`",
        match (g.read, g.write) {
            (true, true) => "read+write of",
            (false, true) => "write of",
            _ => "read of",
        },
        g.data_type,
        g.fields,
        g.granularity,
        g.days
            .map(|d| format!("last {d} days"))
            .unwrap_or_else(|| "all history".into()),
        g.since_ms
            .map(|s| format!(", since {}", short_time(s)))
            .unwrap_or_default(),
        g.until_ms
            .map(|u| format!(", until {}", short_time(u)))
            .unwrap_or_default(),
        g.purpose,
    )
}

/// `consent grant --all`: exactly the types the manifest asks for, read
/// and written as it asks (two grants: the types it writes, then those it
/// only reads), each printed with its purpose before anything is granted.
fn grant_all(host: &Host, a: &GrantArgs, json: bool) -> CliResult {
    let requests = host.loaded(&a.plugin)?.manifest.type_requests();
    if requests.is_empty() {
        return Err(usage(
            format!("`{}` asks for no data type", a.plugin),
            "grant its storage or network with --storage / --network",
        ));
    }
    if !json {
        for r in &requests {
            let how = match (r.read, r.write) {
                (true, true) => "read and write",
                (false, true) => "write",
                _ => "read",
            };
            println!("{} asks to {how} {}: {}", a.plugin, r.data_type, r.purpose);
        }
    }
    let mut rows = Vec::new();
    for write in [true, false] {
        let types: Vec<DataType> = requests
            .iter()
            .filter(|r| r.write == write && (write || r.read))
            .map(|r| r.data_type)
            .collect();
        if !types.is_empty() {
            rows.extend(host.grant(&a.user, &a.plugin, &request_for(a, types, write)?)?);
        }
    }
    if a.storage || a.network.is_some() {
        rows.extend(host.grant(&a.user, &a.plugin, &request_for(a, Vec::new(), false)?)?);
    }
    print_grants(rows, a, json)
}

fn print_grants(rows: Vec<UserGrant>, a: &GrantArgs, json: bool) -> CliResult {
    if json {
        return Ok(print_json(&rows)?);
    }
    for g in rows {
        println!("{}", grant_line(&g, &a.plugin, &a.user));
    }
    Ok(())
}

/// `consent grant`.
fn grant(host: &Host, a: &GrantArgs, json: bool) -> CliResult {
    if a.all {
        if a.write {
            return Err(usage(
                "--all already grants writing what the manifest asks to write",
                "drop --write",
            ));
        }
        return grant_all(host, a, json);
    }
    let req = grant_request(a)?;
    let rows = host.grant(&a.user, &a.plugin, &req)?;
    print_grants(rows, a, json)
}

/// `consent revoke`: everything, some types, storage or the network
/// (`what`: `--types`, `--storage`, `--network`).
fn revoke(host: &Host, user: &str, plugin: &str, what: (Option<&str>, bool, bool), json: bool) -> CliResult {
    let types = what.0.map(types_arg).transpose()?;
    let report = match (types, what.1, what.2) {
        (None, false, false) => host.revoke(user, plugin, None)?,
        (Some(types), false, false) => host.revoke(user, plugin, Some(&types))?,
        (None, true, false) => host.revoke_capability(user, plugin, Capability::Storage)?,
        (None, false, true) => host.revoke_capability(user, plugin, Capability::Network)?,
        _ => {
            return Err(usage(
                "revoke one thing at a time",
                "use --types, --storage or --network, or none of them to revoke everything",
            ));
        }
    };
    if json {
        return Ok(print_json(&report)?);
    }
    let mut what: Vec<String> = report.types.iter().map(|t| t.id().to_string()).collect();
    what.extend(report.capabilities.iter().map(|c| c.id().to_string()));
    if what.is_empty() {
        println!("nothing to revoke: {plugin} held no active grant for {user}");
    } else {
        println!(
            "revoked {} from {plugin} for {user}; effective on its next host call",
            what.join(", ")
        );
    }
    if report.storage_entries_deleted > 0 {
        println!(
            "deleted {} entries of {plugin}'s storage for {user}",
            report.storage_entries_deleted
        );
    }
    Ok(())
}

/// The data grants as a table.
fn grants_table(rows: &[ConsentView]) -> String {
    let mut t = Table::new(&[
        "PLUGIN",
        "TYPE",
        "ACCESS",
        "FIELDS",
        "GRANULARITY",
        "HISTORY",
        "UNTIL",
        "STATUS",
        "PURPOSE",
    ]);
    for c in rows {
        let g = &c.grant;
        t.row(vec![
            c.plugin.clone() + if c.dev { " (dev build)" } else { "" },
            g.data_type.to_string(),
            match (g.read, g.write) {
                (true, true) => "read+write",
                (false, true) => "write",
                _ => "read",
            }
            .into(),
            g.fields.to_string(),
            g.granularity.to_string(),
            match (g.days, g.since_ms) {
                (Some(d), _) => format!("{d} days"),
                (None, Some(s)) => format!("since {}", short_time(s)),
                (None, None) => "all".into(),
            },
            g.until_ms.map(short_time).unwrap_or_else(|| "-".into()),
            c.status.clone(),
            g.purpose.clone(),
        ]);
    }
    t.render()
}

/// `consent show`: the grants, pending re-consents, capabilities.
fn show(host: &Host, user: &str, json: bool) -> CliResult {
    let rows = host.consents(user)?;
    let caps = host.capability_grants(user)?;
    if json {
        return Ok(print_json(&serde_json::json!({ "data": rows, "capabilities": caps }))?);
    }
    if rows.is_empty() && caps.is_empty() {
        println!("{user} has granted nothing");
        return Ok(());
    }
    print!("{}", grants_table(&rows));
    let mut plugins: Vec<String> = rows.iter().map(|r| r.plugin.clone()).collect();
    plugins.dedup();
    for plugin in plugins {
        let pending = host.pending_reconsent(user, &plugin)?;
        if !pending.is_empty() {
            let what: Vec<&str> = pending.iter().map(|c| c.what.as_str()).collect();
            println!("re-consent pending for {plugin}: it now asks for {}", what.join("; "));
        }
    }
    if !caps.is_empty() {
        println!();
        let mut t = Table::new(&["PLUGIN", "CAPABILITY", "SCOPE", "STATUS", "PURPOSE"]);
        for c in caps {
            t.row(vec![c.plugin, c.capability, c.scope.to_string(), c.status, c.purpose]);
        }
        print!("{}", t.render());
    }
    Ok(())
}
