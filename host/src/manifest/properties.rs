//! Property tests of the manifest parser: any text, however mangled, is
//! either a manifest or an error naming the file (never a panic), and every
//! well-formed manifest parses to exactly what it says.

use std::path::Path;

use proptest::prelude::*;

use super::Manifest;
use crate::registry::DataType;

const VALID: &str = r#"[plugin]
id = "step-coach"
name = "Step Coach"
version = "1.2.3"
publisher = "Example Health"
description = "Coaches your steps"
component = "coach.wasm"

[[read]]
types = ["steps", "heart-rate"]
purpose = "Coach you on your daily activity"
fields = ["value", "time"]
days = 30
granularity = "daily"

[[write]]
types = ["body-mass"]
purpose = "Record your weight when you log it"

[storage]
purpose = "Remember your goals between sessions"
max-bytes = 4096

[limits]
memory-mib = 32
timeout-ms = 2000
fuel = 1000000
"#;

fn path() -> &'static Path {
    Path::new("plugins/coach/healthplug.toml")
}

/// Edits applied to a valid manifest: (position, what to do, a byte).
fn edits() -> impl Strategy<Value = Vec<(usize, u8, u8)>> {
    prop::collection::vec((0usize..VALID.len(), 0u8..4, any::<u8>()), 1..6)
}

fn mutate(edits: &[(usize, u8, u8)]) -> String {
    let mut bytes = VALID.as_bytes().to_vec();
    for &(at, op, byte) in edits {
        let at = at.min(bytes.len());
        match op {
            0 => bytes.insert(at, byte),
            1 if at < bytes.len() => {
                bytes.remove(at);
            }
            2 if at < bytes.len() => bytes[at] = byte,
            _ => bytes.truncate(at),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    #[test]
    fn any_text_is_a_manifest_or_an_error_naming_the_file(text in ".{0,400}") {
        if let Err(e) = Manifest::parse(&text, path()) {
            prop_assert!(e.to_string().starts_with("plugins/coach/healthplug.toml"), "{e}");
        }
    }

    #[test]
    fn a_mangled_manifest_is_refused_with_a_located_error_or_still_valid(edits in edits()) {
        let text = mutate(&edits);
        match Manifest::parse(&text, path()) {
            Err(e) => {
                prop_assert!(e.to_string().starts_with("plugins/coach/healthplug.toml"), "{e}");
                prop_assert!(!e.message.is_empty());
            }
            // Still valid: it must still say what a manifest must say.
            Ok(m) => {
                prop_assert!(!m.id.is_empty());
                prop_assert!(m.reads.iter().all(|r| !r.purpose.trim().is_empty()));
            }
        }
    }

    #[test]
    fn a_well_formed_manifest_parses_to_what_it_says(
        types in prop::collection::btree_set(0u8..45, 1..8),
        days in prop::option::of(1u32..3650),
        memory in 1u32..4096,
        timeout in 1u32..600_000,
    ) {
        let types: Vec<DataType> = types.into_iter().filter_map(DataType::from_code).collect();
        let names: Vec<String> = types.iter().map(|t| format!("\"{}\"", t.id())).collect();
        let text = format!(
            "[plugin]\nid = \"p\"\nname = \"P\"\nversion = \"1.0.0\"\npublisher = \"x\"\ncomponent = \"p.wasm\"\n\n\
             [[read]]\ntypes = [{}]\npurpose = \"Read these for the property test\"\n{}\n\
             [limits]\nmemory-mib = {memory}\ntimeout-ms = {timeout}\n",
            names.join(", "),
            days.map(|d| format!("days = {d}")).unwrap_or_default(),
        );
        let m = Manifest::parse(&text, path()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&m.reads[0].types, &types);
        prop_assert_eq!(m.reads[0].days, days);
        prop_assert_eq!(m.limits.memory_mib, Some(memory));
        prop_assert_eq!(m.limits.timeout_ms, Some(timeout));
    }
}

#[test]
fn the_seed_manifest_is_valid() {
    let m = Manifest::parse(VALID, path()).unwrap();
    assert_eq!(m.limits.fuel, Some(1_000_000));
}
