//! What the strings of a manifest may hold: the shape of an id and of a
//! version, and, for every string and key in the file, no character that
//! could conceal or rewrite what a reviewer or a user is shown (controls,
//! escapes, DEL, C1 controls, bidi overrides; see [`crate::text`]). Only
//! `plugin.description` may hold a line break.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::{Locator, ManifestError};
use crate::text::{first_unsafe, sanitize_line};

/// The one key whose text may span lines.
const MULTILINE_KEY: &str = "plugin.description";

/// Checks every key and string value of the document. A document that is
/// not TOML passes: the typed parse reports its syntax error.
pub(super) fn check_text(at: &Locator<'_>) -> Result<(), ManifestError> {
    match DeTable::parse(at.source) {
        Ok(doc) => check_table(at, doc.get_ref(), ""),
        Err(_) => Ok(()),
    }
}

fn check_table(at: &Locator<'_>, table: &DeTable<'_>, path: &str) -> Result<(), ManifestError> {
    for (key, value) in table.iter() {
        let shown = sanitize_line(key.get_ref());
        let name = if path.is_empty() {
            shown.into_owned()
        } else {
            format!("{path}.{shown}")
        };
        check_string(at, key.get_ref(), key.span(), &name, "the key")?;
        check_value(at, value, &name)?;
    }
    Ok(())
}

fn check_value(at: &Locator<'_>, value: &Spanned<DeValue<'_>>, name: &str) -> Result<(), ManifestError> {
    match value.get_ref() {
        DeValue::String(s) => check_string(at, s, value.span(), name, "the value"),
        DeValue::Table(t) => check_table(at, t, name),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if let DeValue::Table(t) = item.get_ref() {
                    check_table(at, t, &format!("{name}[{}]", i + 1))?;
                } else {
                    check_value(at, item, name)?;
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn check_string(at: &Locator<'_>, text: &str, span: Range<usize>, name: &str, what: &str) -> Result<(), ManifestError> {
    let multiline = what == "the value" && name == MULTILINE_KEY;
    let Some((index, c, kind)) = first_unsafe(text, multiline) else {
        return Ok(());
    };
    Err(at.error(
        Some(span),
        name,
        format!(
            "{what} contains {} (U+{:04X}) at character {}: manifest text is shown to reviewers and users, so it may not hold control, escape or bidirectional-override characters{}",
            kind.describe(),
            u32::from(c),
            index + 1,
            if name == MULTILINE_KEY {
                " (a line break is the only one allowed here)"
            } else {
                ""
            }
        ),
    ))
}

/// A kebab-case plugin id: lowercase letters, digits and single dashes,
/// starting with a letter, at most 64 characters.
pub fn is_kebab_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && !id.ends_with('-')
        && !id.contains("--")
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// A semantic version: MAJOR.MINOR.PATCH with an optional pre-release.
pub(super) fn is_semver(v: &str) -> bool {
    let (core, pre) = match v.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (v, None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        && pre.is_none_or(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use proptest::prelude::*;

    use super::super::Manifest;
    use super::super::error::ManifestError;

    const GOOD: &str = r#"[plugin]
id = "step-coach"
name = "Step Coach"
version = "1.2.3"
publisher = "Acme Health"
description = "Coaches your steps"
component = "coach.wasm"

[[read]]
types = ["steps"]
purpose = "Summarise your weekly activity"

[[write]]
types = ["body-mass"]
purpose = "Record your weight when you log it"

[storage]
purpose = "Remember your goals between sessions"

[network]
allow = ["https://api.partner.example"]
purpose = "Fetch your workouts from Partner"
"#;

    fn parse(text: &str) -> Result<Manifest, ManifestError> {
        Manifest::parse(text, Path::new("healthplug.toml"))
    }

    /// `GOOD` with `injected` (TOML source text) placed inside the value
    /// that follows `after`.
    fn with(after: &str, injected: &str) -> String {
        GOOD.replacen(after, &format!("{after}{injected}"), 1)
    }

    #[test]
    fn the_good_manifest_parses() {
        assert!(parse(GOOD).is_ok());
    }

    #[test]
    fn a_concealing_escape_is_refused_in_every_display_string() {
        for (after, key, line) in [
            ("description = \"Coaches", "plugin.description", 6),
            ("name = \"Step", "plugin.name", 3),
            ("publisher = \"Acme", "plugin.publisher", 5),
            ("component = \"coach", "plugin.component", 7),
            ("purpose = \"Summarise", "read[1].purpose", 11),
            ("purpose = \"Record", "write[1].purpose", 15),
            ("purpose = \"Remember", "storage.purpose", 18),
            ("purpose = \"Fetch", "network.purpose", 22),
        ] {
            let e = parse(&with(after, "\\u001b[8m hidden")).unwrap_err();
            assert_eq!(e.key, key, "{after}: {e}");
            assert_eq!(e.line, line, "{e}");
            assert!(e.message.contains("U+001B"), "{e}");
            assert!(e.to_string().starts_with(&format!("healthplug.toml:{line}:")), "{e}");
        }
    }

    #[test]
    fn bidi_overrides_and_c1_controls_are_refused_raw_or_escaped() {
        for (injected, code) in [
            ("\u{202e}", "U+202E"),
            ("\\u202E", "U+202E"),
            ("\u{9b}31m", "U+009B"),
            ("\\u009b", "U+009B"),
            ("\u{2066}", "U+2066"),
            ("\u{200f}", "U+200F"),
            ("\u{61c}", "U+061C"),
            ("\\u007f", "U+007F"),
            ("\\r", "U+000D"),
            ("\\u0000", "U+0000"),
            ("\\u0007", "U+0007"),
            ("\\t", "U+0009"),
        ] {
            for (after, key) in [
                ("name = \"Step", "plugin.name"),
                ("purpose = \"Fetch", "network.purpose"),
            ] {
                let e = parse(&with(after, injected)).unwrap_err();
                assert_eq!(e.key, key, "{injected:?}: {e}");
                assert!(e.message.contains(code), "{injected:?}: {e}");
            }
        }
    }

    #[test]
    fn only_the_description_may_break_lines() {
        let m = parse(&with("description = \"Coaches", "\\nand explains")).unwrap();
        assert_eq!(m.description.as_deref(), Some("Coaches\nand explains your steps"));
        let e = parse(&with("purpose = \"Summarise", "\\nFAKE LINE")).unwrap_err();
        assert_eq!(e.key, "read[1].purpose", "{e}");
        let e = parse(&with("description = \"Coaches", "\\r")).unwrap_err();
        assert!(e.message.contains("line break is the only one"), "{e}");
    }

    #[test]
    fn keys_and_list_items_are_checked_too() {
        let e = parse(&GOOD.replace("[storage]\n", "[storage]\n\"x\\u001b]0;t\\u0007\" = 1\n")).unwrap_err();
        assert_eq!(e.key, "storage.x\\u{1b}]0;t\\u{7}", "{e}");
        assert!(e.message.starts_with("the key contains"), "{e}");
        let e = parse(&GOOD.replace("types = [\"steps\"]", "types = [\"steps\\u202e\"]")).unwrap_err();
        assert_eq!(e.key, "read[1].types", "{e}");
        assert!(e.message.contains("U+202E"), "{e}");
        assert!(!e.to_string().contains('\u{202e}'), "{e}");
    }

    proptest! {
        #[test]
        fn no_error_or_manifest_ever_carries_an_unsafe_character(
            text in "[ -~\u{1b}\u{7}\u{9b}\u{202e}\n\r]{0,40}",
        ) {
            let source = with("name = \"Step", &text.replace('\\', "\\\\").replace('"', "\\\""));
            match parse(&source) {
                Ok(m) => prop_assert!(!m.name.chars().any(crate::text::is_unsafe), "{:?}", m.name),
                Err(e) => prop_assert!(
                    !e.to_string().chars().any(|c| crate::text::is_unsafe(c) && c != '\n'),
                    "{e}"
                ),
            }
        }
    }
}
