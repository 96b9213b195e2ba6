//! What the "My plugins" page shows, built from the platform for one
//! signed-in user: each installed plugin with who publishes it and who
//! reviewed it, every request in plain words beside what is granted now,
//! and the reviewer's risk flags as one sentence each. Every string that
//! came from a manifest goes through [`crate::text::sanitize_line`] here
//! (controls and escapes made visible); the template then HTML-escapes it.

use std::path::Path;

use crate::consent::{Fields, Granularity, TypeRequest, UserGrant};
use crate::error::HostError;
use crate::manifest::Manifest;
use crate::platform::{CapabilityView, ConsentView, Host};
use crate::text::sanitize_line;
use crate::vault::PluginRecord;
use crate::vetting::{Approval, ImportCheck, Risk};

/// One `<option>`.
pub struct Choice {
    /// Its value.
    pub value: String,
    /// What it says.
    pub label: String,
    /// Whether it is preselected.
    pub selected: bool,
}

/// One field checkbox.
pub struct FieldView {
    /// The field's id (`value`).
    pub name: &'static str,
    /// In plain words.
    pub label: &'static str,
    /// Whether it is ticked.
    pub checked: bool,
}

/// One data type a plugin asks for.
pub struct TypeView {
    /// The type's id.
    pub id: &'static str,
    /// In plain words.
    pub name: String,
    /// Why, in the plugin's words.
    pub purpose: String,
    /// What it asks, in plain words.
    pub asked: String,
    /// What is granted now, in plain words.
    pub granted: String,
    /// Whether a grant is active (the type box is ticked).
    pub active: bool,
    /// It asks to read.
    pub reads: bool,
    /// It asks to write.
    pub writes: bool,
    /// Write is ticked.
    pub write_checked: bool,
    /// The fields it asks for.
    pub fields: Vec<FieldView>,
    /// History choices (the manifest's window or shorter).
    pub history: Vec<Choice>,
    /// Granularity choices (never finer than asked).
    pub granularity: Vec<Choice>,
}

/// A capability beyond data.
pub struct CapView {
    /// Why.
    pub purpose: String,
    /// Storage: the quota; network: the origin.
    pub detail: String,
    /// Network: the origin as a form value.
    pub value: String,
    /// Granted now.
    pub granted: bool,
}

/// One installed plugin.
pub struct PluginView {
    /// Its id (safe in URLs: kebab-case, checked at install).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Publisher.
    pub publisher: String,
    /// Version.
    pub version: String,
    /// One-line description.
    pub description: String,
    /// "Approved by …" or "Development build: not reviewed".
    pub review: String,
    /// Data requests.
    pub types: Vec<TypeView>,
    /// Storage, if asked for.
    pub storage: Option<CapView>,
    /// Network origins, if asked for.
    pub network: Vec<CapView>,
    /// Why it asks for the network.
    pub network_purpose: String,
    /// Risk flags, one sentence each.
    pub risks: Vec<String>,
    /// What it asks beyond the manifest the user last agreed to.
    pub pending: Vec<String>,
    /// Whether network access is granted now.
    pub network_granted: bool,
    /// Whether anything is granted now.
    pub granted_any: bool,
}

fn line(text: &str) -> String {
    sanitize_line(text).into_owned()
}

/// A field in plain words.
pub fn field_label(name: &str) -> &'static str {
    match name {
        "value" => "the measurement itself",
        "unit" => "its unit",
        "time" => "when it was taken",
        "source-name" => "which app recorded it",
        "device" => "which device measured it",
        "metadata" => "extra details (metadata)",
        "notes" => "your notes",
        _ => "another detail",
    }
}

fn granularity_words(g: Granularity) -> &'static str {
    match g {
        Granularity::Raw => "every single sample",
        Granularity::Hourly => "hourly totals only",
        Granularity::Daily => "daily totals only",
    }
}

fn history_words(days: Option<u32>) -> String {
    days.map_or_else(|| "all of your history".into(), |d| format!("the last {d} days"))
}

fn fields_words(fields: Fields) -> String {
    fields
        .names()
        .iter()
        .map(|n| field_label(n))
        .collect::<Vec<_>>()
        .join(", ")
}

fn short_date(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map_or_else(|_| ms.to_string(), |t| t.strftime("%Y-%m-%d").to_string())
}

fn asked_text(r: &TypeRequest) -> String {
    let access = match (r.read, r.write) {
        (true, true) => "to read and add to",
        (false, true) => "to add to",
        _ => "to read",
    };
    if !r.read {
        return format!("Asks {access} your records.");
    }
    format!(
        "Asks {access}: {}; {}; {}.",
        fields_words(r.fields),
        history_words(r.days),
        granularity_words(r.granularity)
    )
}

fn granted_text(grant: Option<&ConsentView>) -> String {
    let Some(c) = grant else { return "Not shared.".into() };
    let g: &UserGrant = &c.grant;
    match c.status.as_str() {
        "revoked" => {
            return format!(
                "Not shared (stopped on {}).",
                g.revoked_ms.map(short_date).unwrap_or_default()
            );
        }
        "expired" => return "Not shared (the grant ended).".into(),
        _ => {}
    }
    let mut out = if g.read {
        format!(
            "Shared: {}; {}; {}",
            fields_words(g.fields),
            history_words(g.days),
            granularity_words(g.granularity)
        )
    } else {
        "Shared: it may add to your records".to_string()
    };
    if g.read && g.write {
        out.push_str("; it may also add to your records");
    }
    if let Some(until) = g.until_ms {
        out.push_str(&format!("; until {}", short_date(until)));
    }
    out.push('.');
    out
}

fn history_choices(asked: Option<u32>, current: Option<u32>) -> Vec<Choice> {
    let mut values: Vec<Option<u32>> = vec![asked];
    values.extend(
        [7, 30, 90, 365]
            .into_iter()
            .filter(|d| asked.is_none_or(|a| *d < a))
            .map(Some),
    );
    if let Some(c) = current
        && !values.contains(&Some(c))
        && asked.is_none_or(|a| c <= a)
    {
        values.push(Some(c));
    }
    values.sort_by_key(|d| std::cmp::Reverse(d.unwrap_or(u32::MAX)));
    values
        .into_iter()
        .map(|d| Choice {
            value: d.map_or_else(|| "all".into(), |d| d.to_string()),
            label: history_words(d),
            selected: d == current,
        })
        .collect()
}

fn type_view(r: &TypeRequest, grant: Option<&ConsentView>) -> TypeView {
    let active = grant.filter(|c| c.status == "active").map(|c| &c.grant);
    let fields = active.map_or(r.fields, |g| g.fields);
    let days = active.map_or(r.days, |g| g.days);
    let granularity = active.map_or(r.granularity, |g| g.granularity);
    TypeView {
        id: r.data_type.id(),
        name: r.data_type.info().name.to_string(),
        purpose: line(&r.purpose),
        asked: asked_text(r),
        granted: granted_text(grant),
        active: active.is_some(),
        reads: r.read,
        writes: r.write,
        write_checked: active.is_some_and(|g| g.write) || (!r.read && r.write),
        fields: r
            .fields
            .names()
            .into_iter()
            .map(|name| FieldView {
                name,
                label: field_label(name),
                checked: Fields::from_name(name).is_ok_and(|f| fields.contains(f)),
            })
            .collect(),
        history: history_choices(r.days, days),
        granularity: [Granularity::Raw, Granularity::Hourly, Granularity::Daily]
            .into_iter()
            .filter(|g| *g >= r.granularity)
            .map(|g| Choice {
                value: g.id().into(),
                label: granularity_words(g).into(),
                selected: g == granularity,
            })
            .collect(),
    }
}

/// A risk flag as one sentence a user can read.
pub fn risk_sentence(risk: &Risk, manifest: &Manifest) -> String {
    let hosts = || {
        manifest
            .network
            .as_ref()
            .map(|n| n.allow.iter().map(|o| o.host.clone()).collect::<Vec<_>>().join(", "))
            .unwrap_or_default()
    };
    let text = match risk.flag.as_str() {
        "health-reads-with-egress" => format!("It can send data to {}.", hosts()),
        "network-egress" => format!("It can reach {}, but reads none of your health data.", hosts()),
        "clinical-data" => "It reads clinical records (conditions, medications or lab results).".into(),
        "persistent-storage" => {
            "It keeps its own notes between uses; they are deleted when you stop its storage.".into()
        }
        "write-access" => {
            let written: Vec<String> = manifest
                .type_requests()
                .iter()
                .filter(|r| r.write)
                .map(|r| r.data_type.info().name.to_lowercase())
                .collect();
            format!("It can add {} to your records.", written.join(", "))
        }
        "long-history" => "It asks for more than a year of your history.".into(),
        "broad-wildcard" => "It can reach every subdomain of an address, not just one server.".into(),
        "vague-purpose" => "Its stated purpose is vague, so it is hard to know what you agree to.".into(),
        "forbidden-purpose" => "Its stated purpose mentions a use health data may not serve.".into(),
        "free-text-fields" => "It asks for notes or metadata: free text that may hold anything.".into(),
        _ => format!("{}.", risk.message.trim_end_matches('.')),
    };
    line(&text)
}

fn review_text(host: &Host, record: &PluginRecord) -> String {
    if record.dev {
        return "Development build: not reviewed".into();
    }
    let Some(approval) = record.approval.as_deref().and_then(|a| Approval::parse(a).ok()) else {
        return "Reviewed".into();
    };
    let name = host
        .vault()
        .reviewers()
        .ok()
        .and_then(|all| all.into_iter().find(|r| r.public_key == approval.reviewer))
        .map_or_else(|| "a trusted reviewer".to_string(), |r| r.name);
    format!(
        "Approved by {} on {}",
        line(&name),
        line(approval.signed_at.get(..10).unwrap_or(&approval.signed_at))
    )
}

fn risks(host: &Host, manifest: &Manifest) -> Vec<String> {
    let Ok(loaded) = host.loaded(&manifest.id) else {
        return vec!["It cannot be loaded now, so it cannot run.".into()];
    };
    let mut out: Vec<String> = crate::vetting::report::risks(manifest, &ImportCheck::default(), &loaded.limits)
        .iter()
        .map(|r| risk_sentence(r, manifest))
        .collect();
    out.dedup();
    out
}

fn plugin_view(
    host: &Host,
    handle: &str,
    record: &PluginRecord,
    consents: &[ConsentView],
    caps: &[CapabilityView],
) -> Result<Option<PluginView>, HostError> {
    let Ok(manifest) = Manifest::parse(&record.manifest, Path::new(&record.id)) else {
        return Ok(None);
    };
    let mine = |c: &&ConsentView| c.plugin == record.id;
    let types: Vec<TypeView> = manifest
        .type_requests()
        .iter()
        .map(|r| {
            type_view(
                r,
                consents.iter().filter(mine).find(|c| c.grant.data_type == r.data_type),
            )
        })
        .collect();
    let cap = |name: &str| {
        caps.iter()
            .find(|c| c.plugin == record.id && c.capability == name && c.status == "active")
    };
    let storage = manifest.storage.as_ref().map(|s| CapView {
        purpose: line(&s.purpose),
        detail: match (s.max_bytes, s.max_keys) {
            (Some(b), Some(k)) => format!("up to {b} bytes in {k} entries"),
            (Some(b), None) => format!("up to {b} bytes"),
            _ => "within the platform's standard quota".into(),
        },
        value: "on".into(),
        granted: cap("storage").is_some(),
    });
    let granted_origins: Vec<String> = cap("network")
        .map(|c| c.scope.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    let network = manifest
        .network
        .iter()
        .flat_map(|n| n.allow.iter())
        .map(|o| CapView {
            purpose: String::new(),
            detail: line(&o.host),
            value: o.to_string(),
            granted: granted_origins.contains(&o.to_string()),
        })
        .collect();
    let pending = host
        .pending_reconsent(handle, &record.id)?
        .into_iter()
        .filter(|c| c.escalation)
        .map(|c| line(&c.what))
        .collect();
    Ok(Some(PluginView {
        network_granted: cap("network").is_some(),
        granted_any: types.iter().any(|t| t.active) || cap("storage").is_some() || cap("network").is_some(),
        id: record.id.clone(),
        name: line(&manifest.name),
        publisher: line(&manifest.publisher),
        version: line(&manifest.version),
        description: manifest.description.as_deref().map(line).unwrap_or_default(),
        review: review_text(host, record),
        risks: risks(host, &manifest),
        network_purpose: manifest.network.as_ref().map(|n| line(&n.purpose)).unwrap_or_default(),
        types,
        storage,
        network,
        pending,
    }))
}

/// Every installed plugin as `handle` sees it.
pub fn plugins(host: &Host, handle: &str) -> Result<Vec<PluginView>, HostError> {
    let consents = host.consents(handle)?;
    let caps = host.capability_grants(handle)?;
    let mut out = Vec::new();
    for record in host.plugins()? {
        if let Some(view) = plugin_view(host, handle, &record, &consents, &caps)? {
            out.push(view);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_never_longer_than_asked() {
        let c = history_choices(Some(90), Some(30));
        let values: Vec<&str> = c.iter().map(|c| c.value.as_str()).collect();
        assert_eq!(values, ["90", "30", "7"]);
        assert!(c.iter().find(|c| c.value == "30").unwrap().selected);
        let all = history_choices(None, None);
        assert_eq!(all[0].value, "all");
        assert!(all[0].selected);
    }

    #[test]
    fn risk_flags_read_as_sentences() {
        let manifest = Manifest::parse(
            "[plugin]\nid = \"sender\"\nname = \"Sender\"\nversion = \"1.0.0\"\npublisher = \"p\"\ncomponent = \"c.wasm\"\n\
             [[read]]\ntypes = [\"steps\"]\npurpose = \"Send your daily step totals to your coach\"\nfields = [\"value\"]\n\
             days = 30\ngranularity = \"daily\"\n\
             [network]\nallow = [\"https://api.partner.example\"]\npurpose = \"Upload the totals to Partner Cloud\"\n",
            Path::new("sender"),
        )
        .unwrap();
        let effective = crate::runtime::EffectiveLimits::resolve(
            &manifest.limits,
            manifest.storage.as_ref(),
            &crate::runtime::PlatformLimits::default(),
            manifest.world,
        );
        let sentences: Vec<String> = crate::vetting::report::risks(&manifest, &ImportCheck::default(), &effective)
            .iter()
            .map(|r| risk_sentence(r, &manifest))
            .collect();
        assert!(
            sentences.contains(&"It can send data to api.partner.example.".to_string()),
            "{sentences:?}"
        );
    }

    #[test]
    fn escapes_become_visible_text() {
        assert_eq!(line("a\u{1b}[8mb"), "a\\u{1b}[8mb");
    }
}
