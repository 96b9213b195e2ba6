//! `docs/data-types.md`, generated from the registry: the fields of a
//! sample, what each kind of read needs, the table of types, and every
//! coded type's code system with its codes. A test keeps the file equal to
//! this output, so the reference cannot drift from what the host enforces.

use std::fmt::Write as _;

use crate::{Coding, DataType, ValueKind, Vocabulary};

const INTRO: &str = "# Health data types\n\n\
Generated from the registry (`sdk/registry/src/table.rs` and `vocab.rs`) by \
`healthplug types --markdown`; a test keeps this file, the WIT `data-type` \
enum and the registry in step.\n\n";

const FIELDS: &str = "## The fields of a sample\n\n\
A grant gives a plugin some of these fields per type; a field it was not \
granted arrives as `None` (an absent column), never as a placeholder.\n\n\
| field | what it holds |\n|---|---|\n\
| `value` | the number, in the type's canonical unit below; **for coded types also the coding** (code system, code, display): a plugin needs `value` to see which sleep stage or which workout a sample is |\n\
| `unit` | the unit of `value` (UCUM), always the canonical one: connectors convert on import and keep the original as provenance |\n\
| `time` | `start` and `end` (ms since the Unix epoch) and the UTC offset where it was recorded; a point measurement has `end == start` |\n\
| `source-name` | the app or organisation that recorded the sample (self-declared; `origin`, which the host sets, says which connector or plugin stored it) |\n\
| `device` | the device that measured it |\n\
| `metadata` | a JSON object of extra facts (a workout's `distance_m`, `energy_kcal`; a sleep stage's source value) |\n\
| `notes` | free text a person typed |\n\n";

const READS: &str = "## What each kind of read needs\n\n\
| call | works on | needs in the grant | returns |\n|---|---|---|---|\n\
| `health::query(types)` (WIT `query`) | every type | raw granularity for every type asked | the fields asked ∩ the fields granted; the range is clipped to the grant's history window; without `time`, the range is snapped to whole local days and samples come day by day |\n\
| `health::aggregate(types).daily()` (WIT `aggregate`, `daily`) | numeric types (cumulative and discrete), never coded ones | `daily` or finer granularity, and `value` | per local day with data: `sum`, `mean`, `min`, `max`, `count` (sum is the meaningful total for cumulative types; mean, min and max for discrete ones) |\n\
| `health::aggregate(types).hourly()` (WIT `aggregate`, `hourly`) | numeric types | `hourly` or `raw` granularity, `value` and `time` | the same per local hour |\n\
| `health::grants()` | - | nothing | what the plugin may read and write now |\n\n\
An aggregate's range is snapped inward to whole buckets of the user's calendar: a bucket the range covers only in part is dropped (except the one in progress now), so no narrow window reveals more than the grant. A coded type in an aggregate is an invalid request (`invalid-request`), whatever the grant.\n\n";

const HRV: &str = "**Heart rate variability.** HealthKit records SDNN (the standard deviation of normal-to-normal beat intervals, usually over a minute or more) and Health Connect records RMSSD (the root mean square of successive differences, dominated by short-term, parasympathetic variation). The two are different statistics with different typical values, so they are two types: `heart-rate-variability` is SDNN (HealthKit, LOINC 80404-7) and `heart-rate-variability-rmssd` is RMSSD (Health Connect). Never compare or average one with the other.\n\n";

/// The reference of every data type as Markdown (`docs/data-types.md`).
pub fn markdown_table() -> String {
    let mut out = String::from(INTRO);
    out.push_str(FIELDS);
    out.push_str(READS);
    out.push_str("## Types\n\n");
    type_table(&mut out);
    out.push('\n');
    out.push_str(HRV);
    out.push_str(
        "## Coded types\n\n\
         A coded sample carries a coding (system, code, display) under its `value` field. \
         For sleep, menstrual flow and workouts the system is healthplug's own vocabulary \
         and every connector maps its source's codes onto it, so a plugin matches one set \
         of codes whatever app recorded the data; clinical records keep the code system \
         their source used.\n\n",
    );
    for ty in DataType::all() {
        match ty.coding() {
            Some(Coding::Vocabulary(v)) => vocabulary(&mut out, ty, v),
            Some(Coding::External { describes, systems }) => {
                let _ = writeln!(out, "### `{}`\n", ty.id());
                let _ = writeln!(out, "The coding names {describes}. Code systems:\n");
                for s in systems {
                    let _ = writeln!(out, "- {}: `{}`", s.name, s.uri);
                }
                out.push('\n');
            }
            None => {}
        }
    }
    out
}

fn vocabulary(out: &mut String, ty: DataType, v: &Vocabulary) {
    let _ = writeln!(out, "### `{}`\n", ty.id());
    let _ = writeln!(out, "System `{}`. `value`: {}.\n", v.system, v.value);
    out.push_str("| code | display | meaning | HealthKit | Health Connect |\n|---|---|---|---|---|\n");
    for c in v.codes {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            c.code,
            c.display,
            c.meaning,
            cell(c.healthkit),
            cell(c.health_connect)
        );
    }
    let _ = writeln!(out, "\nNo equivalent: {}.\n", v.fallback);
}

fn type_table(out: &mut String) {
    out.push_str(
        "| code | id | name | category | unit (UCUM) | kind | HealthKit | Health Connect | LOINC / FHIR |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for ty in DataType::all() {
        let i = ty.info();
        let kind = match i.kind {
            ValueKind::Cumulative => "cumulative",
            ValueKind::Discrete => "discrete",
            ValueKind::Coded => "coded",
        };
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} | {} | {} | {} | {} | {} |",
            ty.code(),
            i.id,
            i.name,
            i.category.id(),
            cell(i.unit),
            kind,
            cell(i.healthkit),
            cell(i.health_connect),
            if i.code.is_empty() { "-" } else { i.code },
        );
    }
}

fn cell(s: &str) -> String {
    if s.is_empty() {
        "-".to_string()
    } else {
        s.split(" / ").map(|p| format!("`{p}`")).collect::<Vec<_>>().join(" / ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_coded_type_has_a_documented_coding_and_no_other_type_does() {
        for ty in DataType::all() {
            let coded = ty.info().kind == ValueKind::Coded;
            assert_eq!(ty.coding().is_some(), coded, "{ty}");
        }
        let doc = markdown_table();
        for ty in DataType::all().filter(|t| t.coding().is_some()) {
            assert!(doc.contains(&format!("### `{}`", ty.id())), "{ty}");
        }
    }

    #[test]
    fn vocabularies_have_unique_codes_and_reverse_healthkit_lookup() {
        for v in [
            &crate::vocab::SLEEP_STAGE,
            &crate::vocab::MENSTRUAL_FLOW,
            &crate::vocab::ACTIVITY,
        ] {
            for (i, c) in v.codes.iter().enumerate() {
                assert!(v.codes[..i].iter().all(|o| o.code != c.code), "{}", c.code);
                assert_eq!(v.code(c.code).map(|x| x.code), Some(c.code));
                for hk in c.healthkit.split(" / ").filter(|s| !s.is_empty()) {
                    assert_eq!(v.from_healthkit(hk).map(|x| x.code), Some(c.code), "{hk}");
                }
            }
        }
        let sleep = DataType::from_id("sleep").and_then(|t| t.vocabulary()).unwrap();
        let codes: Vec<_> = sleep.codes.iter().map(|c| c.code).collect();
        for code in ["inBed", "awake", "asleepCore", "asleepDeep", "asleepREM"] {
            assert!(codes.contains(&code), "{code}");
        }
    }

    #[test]
    fn sdnn_and_rmssd_are_different_types() {
        let sdnn = DataType::from_id("heart-rate-variability").unwrap().info();
        let rmssd = DataType::from_id("heart-rate-variability-rmssd").unwrap().info();
        assert!(sdnn.healthkit.ends_with("SDNN") && sdnn.health_connect.is_empty());
        assert!(rmssd.health_connect.contains("Rmssd") && rmssd.healthkit.is_empty());
    }
}
