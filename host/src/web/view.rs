//! What the "My plugins" page shows, built from the platform for one
//! signed-in user: each installed plugin with who publishes it and who
//! reviewed it, every request in plain words beside what is granted now,
//! and the reviewer's risk flags as one sentence each. Every string that
//! came from a manifest goes through [`crate::text::sanitize_line`] here
//! (controls and escapes made visible); the template then HTML-escapes it.

use std::path::Path;

use super::review::{review_text, risks};
use crate::consent::CapabilityScope;
use crate::consent::{Fields, Granularity, TypeRequest, UserGrant};
use crate::error::HostError;
use crate::manifest::Manifest;
use crate::platform::{CapabilityView, ConsentView, Host};
use crate::registry::DataType;
use crate::text::sanitize_line;
use crate::vault::PluginRecord;

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
    /// What it asks beyond the manifest the user last agreed to, in plain
    /// words.
    pub pending: Vec<String>,
    /// The same, as the technical diff.
    pub pending_details: Vec<String>,
    /// Whether network access is granted now.
    pub network_granted: bool,
    /// Whether anything is granted now.
    pub granted_any: bool,
}

pub(super) fn line(text: &str) -> String {
    sanitize_line(text).into_owned()
}

/// A data type id in plain words ("Heart rate"); an id the registry does
/// not know is shown sanitised as it is.
pub fn type_words(id: &str) -> String {
    DataType::from_id(id).map_or_else(|| line(id), |t| t.info().name.to_string())
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

pub(super) fn asked_text(r: &TypeRequest) -> String {
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
        .map(|c| match &c.scope {
            CapabilityScope::Network { origins } => origins.clone(),
            CapabilityScope::Storage { .. } => Vec::new(),
        })
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
    let (pending, pending_details) = super::reconsent::pending(host, handle, &record.id)?;
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
        pending_details,
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
    fn escapes_become_visible_text() {
        assert_eq!(line("a\u{1b}[8mb"), "a\\u{1b}[8mb");
    }
}
