//! The permission diff between two versions of a plugin: every change of
//! what it asks for, with escalations (new type, field, longer window,
//! finer granularity, write, new host, more storage) marked. Also decides
//! whether a user's consent needs renewing after an upgrade.

use serde::Serialize;

use crate::consent::TypeRequest;
use crate::manifest::Manifest;

/// One change between two manifests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// What changed, for people.
    pub what: String,
    /// True when the new version asks for more.
    pub escalation: bool,
}

fn change(out: &mut Vec<Change>, escalation: bool, what: String) {
    out.push(Change { what, escalation });
}

fn days(d: Option<u32>) -> String {
    d.map(|d| format!("{d} days")).unwrap_or_else(|| "all history".into())
}

fn type_changes(out: &mut Vec<Change>, old: &[TypeRequest], new: &[TypeRequest]) {
    for n in new {
        let Some(o) = old.iter().find(|o| o.data_type == n.data_type) else {
            let access = match (n.read, n.write) {
                (true, true) => "read and write",
                (false, true) => "write",
                _ => "read",
            };
            change(
                out,
                true,
                format!(
                    "new type {}: {access}, fields {}, {}, {}",
                    n.data_type,
                    n.fields,
                    days(n.days),
                    n.granularity
                ),
            );
            continue;
        };
        let ty = n.data_type;
        if n.read && !o.read {
            change(out, true, format!("{ty}: now also reads"));
        }
        if n.write && !o.write {
            change(out, true, format!("{ty}: now also writes"));
        }
        if o.read && !n.read {
            change(out, false, format!("{ty}: no longer reads"));
        }
        if o.write && !n.write {
            change(out, false, format!("{ty}: no longer writes"));
        }
        let added = n.fields.minus(o.fields);
        if !added.is_empty() {
            change(out, true, format!("{ty}: new fields {added}"));
        }
        let removed = o.fields.minus(n.fields);
        if !removed.is_empty() {
            change(out, false, format!("{ty}: drops fields {removed}"));
        }
        let longer = match (o.days, n.days) {
            (Some(a), Some(b)) => b > a,
            (Some(_), None) => true,
            _ => false,
        };
        if n.days != o.days {
            change(
                out,
                longer,
                format!("{ty}: history {} -> {}", days(o.days), days(n.days)),
            );
        }
        if n.granularity != o.granularity {
            change(
                out,
                n.granularity < o.granularity,
                format!("{ty}: granularity {} -> {}", o.granularity, n.granularity),
            );
        }
        if n.purpose != o.purpose {
            change(
                out,
                false,
                format!("{ty}: purpose \"{}\" -> \"{}\"", o.purpose, n.purpose),
            );
        }
    }
    for o in old {
        if !new.iter().any(|n| n.data_type == o.data_type) {
            change(out, false, format!("type {} no longer requested", o.data_type));
        }
    }
}

/// Every change from `old` to `new`.
pub fn diff(old: &Manifest, new: &Manifest) -> Vec<Change> {
    let mut out = Vec::new();
    if old.id != new.id {
        change(&mut out, true, format!("id {} -> {}", old.id, new.id));
    }
    if old.version != new.version {
        change(&mut out, false, format!("version {} -> {}", old.version, new.version));
    }
    if old.world != new.world {
        change(
            &mut out,
            true,
            format!("world {} -> {}", old.world.id(), new.world.id()),
        );
    }
    type_changes(&mut out, &old.type_requests(), &new.type_requests());
    match (&old.network, &new.network) {
        (None, Some(n)) => {
            let hosts: Vec<String> = n.allow.iter().map(ToString::to_string).collect();
            change(
                &mut out,
                true,
                format!("new network access to {} ({})", hosts.join(", "), n.purpose),
            );
        }
        (Some(_), None) => change(&mut out, false, "no longer uses the network".into()),
        (Some(o), Some(n)) => {
            for origin in &n.allow {
                if !o.allow.contains(origin) {
                    change(&mut out, true, format!("new network host {origin}"));
                }
            }
            for origin in &o.allow {
                if !n.allow.contains(origin) {
                    change(&mut out, false, format!("network host {origin} dropped"));
                }
            }
            if n.max_requests.unwrap_or(u32::MAX) > o.max_requests.unwrap_or(u32::MAX) {
                change(
                    &mut out,
                    true,
                    format!("more network requests: {:?} -> {:?}", o.max_requests, n.max_requests),
                );
            }
            if n.purpose != o.purpose {
                change(
                    &mut out,
                    false,
                    format!("network purpose \"{}\" -> \"{}\"", o.purpose, n.purpose),
                );
            }
        }
        (None, None) => {}
    }
    match (&old.storage, &new.storage) {
        (None, Some(s)) => change(&mut out, true, format!("new storage ({})", s.purpose)),
        (Some(_), None) => change(&mut out, false, "no longer uses storage".into()),
        (Some(o), Some(n)) => {
            if n.max_bytes.unwrap_or(u64::MAX) > o.max_bytes.unwrap_or(u64::MAX)
                || n.max_keys.unwrap_or(u64::MAX) > o.max_keys.unwrap_or(u64::MAX)
            {
                change(
                    &mut out,
                    true,
                    format!(
                        "more storage: {:?} bytes / {:?} keys -> {:?} bytes / {:?} keys",
                        o.max_bytes, o.max_keys, n.max_bytes, n.max_keys
                    ),
                );
            }
        }
        (None, None) => {}
    }
    if old.limits != new.limits {
        change(&mut out, false, format!("limits {:?} -> {:?}", old.limits, new.limits));
    }
    out
}

/// What a new manifest asks beyond an old one, as things a user can
/// grant: the data types whose request widened (new, now reads or writes,
/// more fields, longer history, finer granularity), storage if newly
/// asked, and network origins newly listed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Widening {
    /// Types asked for more (in the new manifest's order).
    pub types: Vec<crate::registry::DataType>,
    /// Storage is newly asked for.
    pub storage: bool,
    /// Network origins newly listed.
    pub origins: Vec<String>,
}

impl Widening {
    /// True when nothing widened.
    pub fn is_empty(&self) -> bool {
        self.types.is_empty() && !self.storage && self.origins.is_empty()
    }
}

fn widened(o: &TypeRequest, n: &TypeRequest) -> bool {
    let longer = match (o.days, n.days) {
        (Some(a), Some(b)) => b > a,
        (Some(_), None) => true,
        _ => false,
    };
    (n.read && !o.read)
        || (n.write && !o.write)
        || !n.fields.minus(o.fields).is_empty()
        || longer
        || n.granularity < o.granularity
}

/// What `new` asks beyond `old`.
pub fn widening(old: &Manifest, new: &Manifest) -> Widening {
    let (old_types, new_types) = (old.type_requests(), new.type_requests());
    let types = new_types
        .iter()
        .filter(|n| {
            old_types
                .iter()
                .find(|o| o.data_type == n.data_type)
                .is_none_or(|o| widened(o, n))
        })
        .map(|n| n.data_type)
        .collect();
    let old_origins: Vec<String> = old
        .network
        .iter()
        .flat_map(|n| n.allow.iter().map(ToString::to_string))
        .collect();
    let origins = new
        .network
        .iter()
        .flat_map(|n| n.allow.iter().map(ToString::to_string))
        .filter(|o| !old_origins.contains(o))
        .collect();
    Widening {
        types,
        storage: old.storage.is_none() && new.storage.is_some(),
        origins,
    }
}

/// The escalations only.
pub fn escalations(old: &Manifest, new: &Manifest) -> Vec<Change> {
    diff(old, new).into_iter().filter(|c| c.escalation).collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const BASE: &str = r#"
[plugin]
id = "p"
name = "P"
version = "1.0.0"
publisher = "x"
component = "p.wasm"

[[read]]
types = ["steps"]
purpose = "Summarise your steps"
fields = ["value", "time"]
days = 30
granularity = "daily"
"#;

    fn m(s: &str) -> Manifest {
        Manifest::parse(s, Path::new("healthplug.toml")).unwrap()
    }

    #[test]
    fn escalations_are_marked() {
        let old = m(BASE);
        let upgraded = BASE
            .replace("1.0.0", "1.1.0")
            .replace("[\"steps\"]", "[\"steps\", \"heart-rate\"]")
            .replace("[\"value\", \"time\"]", "[\"value\", \"time\", \"notes\"]")
            .replace("days = 30", "days = 90")
            .replace("\"daily\"", "\"hourly\"")
            + "\n[network]\nallow = [\"https://api.example.com\"]\npurpose = \"Sync with the partner\"\n";
        let new = m(&upgraded);
        let changes = diff(&old, &new);
        let esc: Vec<&str> = changes
            .iter()
            .filter(|c| c.escalation)
            .map(|c| c.what.as_str())
            .collect();
        assert!(esc.iter().any(|c| c.starts_with("new type heart-rate")), "{esc:?}");
        assert!(esc.iter().any(|c| c.contains("new fields notes")), "{esc:?}");
        assert!(esc.iter().any(|c| c.contains("history 30 days -> 90 days")), "{esc:?}");
        assert!(esc.iter().any(|c| c.contains("granularity daily -> hourly")), "{esc:?}");
        assert!(esc.iter().any(|c| c.starts_with("new network access")), "{esc:?}");
        assert!(
            changes
                .iter()
                .any(|c| !c.escalation && c.what == "version 1.0.0 -> 1.1.0")
        );
        // The reverse is all de-escalation.
        assert!(escalations(&new, &old).is_empty(), "{:?}", escalations(&new, &old));
        assert!(diff(&old, &old).is_empty());
    }

    #[test]
    fn widening_names_what_a_user_can_grant() {
        let old = m(BASE);
        assert!(widening(&old, &old).is_empty());
        let longer = m(&BASE.replace("days = 30", "days = 730"));
        assert_eq!(
            widening(&old, &longer).types,
            [crate::registry::DataType::from_id("steps").unwrap()]
        );
        // Asking less widens nothing.
        assert!(widening(&longer, &old).is_empty());
        let coarser = m(&BASE.replace("\"daily\"", "\"hourly\""));
        assert!(widening(&coarser, &old).is_empty());
        assert_eq!(widening(&old, &coarser).types.len(), 1);
        let more = m(&(BASE.replace("[\"steps\"]", "[\"steps\", \"sleep\"]")
            + "\n[storage]\npurpose = \"Keep your weekly notes between uses\"\n[network]\nallow = [\"https://api.example.com\"]\npurpose = \"Sync your steps with the partner service\"\n"));
        let w = widening(&old, &more);
        assert_eq!(w.types, [crate::registry::DataType::from_id("sleep").unwrap()]);
        assert!(w.storage);
        assert_eq!(w.origins, ["https://api.example.com"]);
    }
}
