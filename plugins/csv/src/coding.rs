//! The `code` and `system` columns, and the value a coded row gets when
//! its `value` is empty. Types with a healthplug vocabulary (sleep,
//! menstrual-flow, workout) take one of its codes, and the system and
//! display come from it; clinical types take a code from an external
//! system named by a `system` URI (the display is the code); numeric types
//! take neither.

use healthplug_sdk::registry::{Coding, Vocabulary};
use healthplug_sdk::{DataType, NewCoding};

use crate::times::Interval;

/// The coding of a row of type `ty`, `None` for a numeric type.
pub fn coding(ty: DataType, code: &str, system: &str) -> Result<Option<NewCoding>, String> {
    match ty.registry().coding() {
        None if code.is_empty() && system.is_empty() => Ok(None),
        None => Err(format!(
            "`{ty}` is a numeric type: it takes a value, not a code or system (`{code}{system}`)"
        )),
        Some(Coding::Vocabulary(v)) => vocabulary_coding(ty, v, code, system).map(Some),
        Some(Coding::External { systems, .. }) => {
            let example = systems.first().map(|s| s.uri).unwrap_or("http://loinc.org");
            if code.is_empty() {
                return Err(format!("`{ty}` is a coded type: it needs a code (from {example})"));
            }
            if system.is_empty() {
                return Err(format!(
                    "`{ty}` codes come from an external system: give its URI in `system` (e.g. {example})"
                ));
            }
            if !is_uri(system) {
                return Err(format!("system `{system}` is not a URI (e.g. {example})"));
            }
            Ok(Some(NewCoding {
                system: system.to_string(),
                code: code.to_string(),
                display: code.to_string(),
            }))
        }
    }
}

/// A code of `ty`'s vocabulary, with its system and display.
fn vocabulary_coding(ty: DataType, v: &Vocabulary, code: &str, system: &str) -> Result<NewCoding, String> {
    let codes = || v.codes.iter().map(|c| c.code).collect::<Vec<_>>().join(", ");
    if code.is_empty() {
        return Err(format!("`{ty}` is a coded type: it needs a code (one of {})", codes()));
    }
    let Some(c) = v.code(code) else {
        let hint = close_codes(v, code)
            .map(|close| format!("did you mean {close}? "))
            .unwrap_or_default();
        return Err(format!("`{code}` is not a `{ty}` code ({hint}one of {})", codes()));
    };
    if !system.is_empty() && system != v.system {
        return Err(format!(
            "`{ty}` codes are from {}: leave `system` empty (it is `{system}`)",
            v.system
        ));
    }
    Ok(NewCoding {
        system: v.system.to_string(),
        code: c.code.to_string(),
        display: c.display.to_string(),
    })
}

/// Up to three codes of `v` that `code` may have meant (one holds the
/// other, ignoring case: `rem` → `asleepREM`, `run` → `running`).
fn close_codes(v: &Vocabulary, code: &str) -> Option<String> {
    let typed = code.to_ascii_lowercase();
    let close: Vec<&str> = v
        .codes
        .iter()
        .map(|c| c.code)
        .filter(|c| {
            let known = c.to_ascii_lowercase();
            known.contains(&typed) || typed.contains(&known)
        })
        .take(3)
        .collect();
    (!close.is_empty()).then(|| close.join(", "))
}

/// Whether `text` is an absolute URI: a scheme, `:`, and no blanks.
fn is_uri(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
        && !text.chars().any(char::is_whitespace)
}

/// A menstrual-flow code's level, as the vocabulary's value describes it
/// (none 0, light 1, medium 2, heavy 3; `unspecified` has none).
fn flow_level(code: &str) -> Option<f64> {
    match code {
        "none" => Some(0.0),
        "light" => Some(1.0),
        "medium" => Some(2.0),
        "heavy" => Some(3.0),
        _ => None,
    }
}

/// The value (and its unit) of a row of type `ty` whose `value` is empty:
/// a sleep stage's or a workout's minutes, a menstrual flow's level,
/// nothing for a clinical record; a numeric type needs a value.
pub fn default_value(ty: DataType, code: &str, span: &Interval) -> Result<Option<(f64, &'static str)>, String> {
    match ty {
        DataType::Sleep | DataType::Workout if span.end > span.start => Ok(Some((span.minutes(), "min"))),
        DataType::Sleep | DataType::Workout => Err(format!(
            "`{ty}` needs an `end` after its start (its value is the minutes between them) or a value"
        )),
        DataType::MenstrualFlow => Ok(flow_level(code).map(|level| (level, "{level}"))),
        _ if ty.registry().coding().is_some() => Ok(None),
        _ => Err(format!("`{ty}` needs a value (in {})", ty.info().unit)),
    }
}

/// Checks a value given for a coded type: a menstrual flow's must be its
/// code's level (`canonical` is the value in the canonical unit).
pub fn check_value(ty: DataType, code: &str, canonical: f64) -> Result<(), String> {
    if ty != DataType::MenstrualFlow {
        return Ok(());
    }
    match flow_level(code) {
        None => Err(format!("`{code}` menstrual flow has no level: leave `value` empty")),
        Some(level) if level != canonical => Err(format!(
            "menstrual-flow `{code}` is level {level}, not {canonical} (leave `value` empty)"
        )),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use healthplug_sdk::registry::vocab::{ACTIVITY, MENSTRUAL_FLOW, SLEEP_STAGE};
    use healthplug_sdk::{DataType, Timestamp};

    use super::*;

    fn span(minutes: i64) -> Interval {
        Interval {
            start: Timestamp::from_millis(0),
            end: Timestamp::from_millis(minutes * 60_000),
            date_only: false,
        }
    }

    fn err<T: std::fmt::Debug>(r: Result<T, String>) -> String {
        match r {
            Err(e) => e,
            Ok(v) => panic!("expected an error, got {v:?}"),
        }
    }

    #[test]
    fn vocabulary_codes_bring_their_system_and_display() {
        let c = coding(DataType::Sleep, "asleepREM", "");
        assert_eq!(
            c,
            Ok(Some(NewCoding {
                system: SLEEP_STAGE.system.into(),
                code: "asleepREM".into(),
                display: "REM sleep".into(),
            }))
        );
        let w = coding(DataType::Workout, "strength-training", ACTIVITY.system);
        assert_eq!(w.map(|c| c.map(|c| c.display)), Ok(Some("Strength training".into())));
    }

    #[test]
    fn a_code_outside_the_vocabulary_lists_the_valid_ones() {
        assert_eq!(
            err(coding(DataType::Sleep, "rem", "")),
            "`rem` is not a `sleep` code (did you mean asleepREM? one of inBed, awake, asleepUnspecified, \
             asleepCore, asleepDeep, asleepREM)"
        );
        let flow = err(coding(DataType::MenstrualFlow, "spotting", ""));
        assert!(
            flow.ends_with("(one of unspecified, none, light, medium, heavy)"),
            "{flow}"
        );
        assert!(err(coding(DataType::Workout, "", "")).contains("it needs a code (one of running, walking"));
        assert!(err(coding(DataType::Workout, "Run", "")).contains("(did you mean running? one of running,"));
        let other_system = err(coding(DataType::Sleep, "awake", "http://snomed.info/sct"));
        assert!(other_system.contains("leave `system` empty"), "{other_system}");
    }

    #[test]
    fn clinical_codes_need_a_system_uri_and_display_the_code() {
        let c = coding(DataType::LabResult, "4548-4", "http://loinc.org");
        assert_eq!(
            c,
            Ok(Some(NewCoding {
                system: "http://loinc.org".into(),
                code: "4548-4".into(),
                display: "4548-4".into(),
            }))
        );
        assert!(coding(DataType::Condition, "44054006", "urn:oid:2.16.840.1.113883.6.96").is_ok());
        assert_eq!(
            err(coding(DataType::Immunization, "140", "")),
            "`immunization` codes come from an external system: give its URI in `system` (e.g. http://hl7.org/fhir/sid/cvx)"
        );
        assert_eq!(
            err(coding(DataType::LabResult, "4548-4", "loinc")),
            "system `loinc` is not a URI (e.g. http://loinc.org)"
        );
        assert!(
            err(coding(
                DataType::Medication,
                "",
                "http://www.nlm.nih.gov/research/umls/rxnorm"
            ))
            .contains("needs a code")
        );
    }

    #[test]
    fn numeric_types_refuse_a_code() {
        assert_eq!(coding(DataType::Steps, "", ""), Ok(None));
        assert_eq!(
            err(coding(DataType::Steps, "walking", "")),
            "`steps` is a numeric type: it takes a value, not a code or system (`walking`)"
        );
        assert!(coding(DataType::HeartRate, "", "http://loinc.org").is_err());
    }

    #[test]
    fn empty_values_default_by_type() {
        assert_eq!(
            default_value(DataType::Sleep, "asleepCore", &span(95)),
            Ok(Some((95.0, "min")))
        );
        assert_eq!(
            default_value(DataType::Workout, "running", &span(42)),
            Ok(Some((42.0, "min")))
        );
        assert!(err(default_value(DataType::Workout, "running", &span(0))).contains("needs an `end`"));
        assert_eq!(
            default_value(DataType::MenstrualFlow, "heavy", &span(0)),
            Ok(Some((3.0, "{level}")))
        );
        assert_eq!(
            default_value(DataType::MenstrualFlow, "unspecified", &span(0)),
            Ok(None)
        );
        assert_eq!(default_value(DataType::Condition, "44054006", &span(0)), Ok(None));
        assert_eq!(
            err(default_value(DataType::RestingHeartRate, "", &span(0))),
            "`resting-heart-rate` needs a value (in /min)"
        );
    }

    #[test]
    fn flow_levels_are_the_vocabularys_own() {
        for c in MENSTRUAL_FLOW.codes {
            match flow_level(c.code) {
                Some(level) => {
                    let said = format!("{} {level}", c.code);
                    assert!(
                        MENSTRUAL_FLOW.value.contains(&said),
                        "{said} in {}",
                        MENSTRUAL_FLOW.value
                    );
                }
                None => assert!(MENSTRUAL_FLOW.value.contains(&format!("absent for `{}`", c.code))),
            }
        }
        assert_eq!(check_value(DataType::MenstrualFlow, "light", 1.0), Ok(()));
        assert_eq!(
            err(check_value(DataType::MenstrualFlow, "light", 3.0)),
            "menstrual-flow `light` is level 1, not 3 (leave `value` empty)"
        );
        assert!(check_value(DataType::MenstrualFlow, "unspecified", 0.0).is_err());
        assert_eq!(check_value(DataType::Sleep, "awake", 12.0), Ok(()));
    }
}
