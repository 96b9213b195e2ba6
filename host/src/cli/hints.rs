//! Hints that name the fix for an access an invocation was refused: the
//! manifest table a developer adds a type to, the `consent grant` command
//! a user would run, the query a summaries-only grant allows. A pure
//! function of the invocation's recorded accesses, so the CLI prints the
//! same fix whatever the plugin's own error message said.

use crate::capabilities::{Access, AccessOutcome};

/// One line per distinct (type, reason) refused, in the order first seen.
pub(super) fn refusal_fixes(user: &str, plugin: &str, accesses: &[Access]) -> Vec<String> {
    let mut seen: Vec<(String, String)> = Vec::new();
    for a in accesses {
        if let AccessOutcome::Denied { reason } = &a.outcome {
            let key = (a.data_type.id().to_string(), reason.clone());
            if !seen.contains(&key) {
                seen.push(key);
            }
        }
    }
    seen.iter().map(|(ty, reason)| fix(user, plugin, ty, reason)).collect()
}

/// The fix for one refusal.
fn fix(user: &str, plugin: &str, ty: &str, reason: &str) -> String {
    match reason {
        "not-requested" => format!(
            "`{ty}` is not in {plugin}'s manifest: add it to a [[read]] table in healthplug.toml \
             (types = [\"{ty}\"] with a purpose; [[write]] to write it), then reinstall the plugin"
        ),
        "not-granted" | "revoked" | "expired" => format!(
            "{user} has not granted {plugin} `{ty}` ({reason}): \
             `healthplug consent grant {user} {plugin} --types {ty}` (the user's decision)"
        ),
        "write-not-granted" => format!(
            "{user} has not allowed {plugin} to write `{ty}`: \
             `healthplug consent grant {user} {plugin} --types {ty} --write`"
        ),
        "aggregates-only" | "granularity-too-fine" => format!(
            "{user} granted {plugin} only summaries of `{ty}`: query with a daily or hourly granularity, \
             or the user grants `--granularity raw`"
        ),
        "field-not-granted" => format!(
            "{plugin} asked for a field of `{ty}` {user} has not granted: ask only for granted fields \
             (`healthplug consent show {user}`), or the user grants `--fields`"
        ),
        other => format!("`{ty}` was refused ({other}): `healthplug consent show {user}` shows what is granted"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::DataType;

    fn denied(ty: &str, reason: &str) -> Access {
        Access {
            data_type: DataType::from_id(ty).unwrap(),
            outcome: AccessOutcome::Denied { reason: reason.into() },
        }
    }

    #[test]
    fn each_refusal_names_its_fix_once() {
        let fixes = refusal_fixes(
            "ann",
            "sleep-coach",
            &[
                denied("heart-rate", "not-requested"),
                denied("heart-rate", "not-requested"),
                denied("sleep", "not-granted"),
                denied("steps", "write-not-granted"),
            ],
        );
        assert_eq!(fixes.len(), 3, "{fixes:?}");
        assert!(
            fixes[0].contains("[[read]]") && fixes[0].contains("heart-rate") && fixes[0].contains("healthplug.toml")
        );
        assert!(fixes[1].contains("healthplug consent grant ann sleep-coach --types sleep"));
        assert!(fixes[2].contains("--types steps --write"));
        assert!(fixes.iter().all(|f| !f.contains("plugin info")));
    }

    #[test]
    fn allowed_accesses_need_no_fix() {
        let ok = Access {
            data_type: DataType::from_id("steps").unwrap(),
            outcome: AccessOutcome::Written { count: 1 },
        };
        assert!(refusal_fixes("ann", "p", &[ok]).is_empty());
    }
}
