//! One data row to one sample: the `type`, `value` and `unit` rules, with
//! times from [`times`](crate::times) and codings from
//! [`coding`](crate::coding). Values are checked against the registry's
//! unit conversion exactly as the host will convert them, and written in
//! the unit the row gives (the host keeps it as provenance).

use healthplug_sdk::{DataType, NewSample, registry};

use crate::coding;
use crate::columns::Row;
use crate::times;

/// What a row's sample carries when its start or end was a bare date.
const DATE_ONLY: &str = r#"{"date_only":true}"#;

/// The registry type named `id`, or the registry's own "did you mean".
fn data_type(id: &str) -> Result<DataType, String> {
    if id.is_empty() {
        return Err("`type` is empty (run `healthplug types` for the list)".to_string());
    }
    let ty = id.parse::<registry::DataType>().map_err(|e| e.to_string())?;
    DataType::from_code(ty.code()).ok_or_else(|| format!("type `{id}` is not known to this SDK"))
}

/// A number cell.
fn number(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("value `{text}` is not a number")),
    }
}

/// The value and its unit: as given (the unit defaulting to the type's
/// canonical one and checked by the registry), or the coded type's default
/// when `value` is empty.
fn value(ty: DataType, row: &Row<'_>, span: &times::Interval) -> Result<Option<(f64, String)>, String> {
    if row.value.is_empty() {
        if !row.unit.is_empty() {
            return Err(format!("unit `{}` without a value", row.unit));
        }
        let default = coding::default_value(ty, row.code, span)?;
        return Ok(default.map(|(v, unit)| (v, unit.to_string())));
    }
    let v = number(row.value)?;
    let unit = if row.unit.is_empty() { ty.info().unit } else { row.unit };
    let canonical = ty.to_canonical(v, unit).map_err(|e| format!("unit: {e}"))?;
    if ty.info().unit == "1" && !(0.0..=1.0).contains(&canonical) {
        let given = if unit == "1" {
            format!("`{v}`")
        } else {
            format!("`{v} {unit}`")
        };
        let hint = if unit == "%" {
            ""
        } else {
            ": give unit `%` for a percentage"
        };
        return Err(format!("`{ty}` is a fraction from 0 to 1, not {given}{hint}"));
    }
    if ty.registry().coding().is_some() {
        coding::check_value(ty, row.code, canonical)?;
    }
    Ok(Some((v, unit.to_string())))
}

/// The sample a data row describes, or why it cannot be one.
pub fn sample(row: &Row<'_>) -> Result<NewSample, String> {
    let ty = data_type(row.data_type)?;
    let span = times::interval(row.start, row.end)?;
    let coding = coding::coding(ty, row.code, row.system)?;
    let value = value(ty, row, &span)?;
    let mut s = match (coding, value) {
        (Some(c), value) => {
            let s = NewSample::coded(ty, span.start, span.end, &c.system, &c.code, &c.display);
            match value {
                Some((v, unit)) => s.with_value(v, &unit),
                None => s,
            }
        }
        (None, Some((v, unit))) => NewSample::quantity(ty, span.start, span.end, v, &unit),
        // `value` refuses an empty value for a type without a coding.
        (None, None) => return Err(format!("`{ty}` needs a value")),
    };
    if !row.source.is_empty() {
        s = s.with_source(row.source);
    }
    if !row.notes.is_empty() {
        s = s.with_notes(row.notes);
    }
    if span.date_only {
        s = s.with_metadata(DATE_ONLY);
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use healthplug_sdk::registry::vocab::{ACTIVITY, SLEEP_STAGE};
    use healthplug_sdk::{NewCoding, Timestamp};

    use super::*;

    /// 2026-11-23T00:00:00Z.
    const NOV_23: i64 = 1_795_392_000_000;
    const MINUTE: i64 = 60_000;

    fn row<'a>(data_type: &'a str, start: &'a str, value: &'a str, unit: &'a str) -> Row<'a> {
        Row {
            data_type,
            start,
            value,
            unit,
            ..Row::default()
        }
    }

    fn ok(r: &Row<'_>) -> NewSample {
        match sample(r) {
            Ok(s) => s,
            Err(e) => panic!("{r:?}: {e}"),
        }
    }

    fn err(r: &Row<'_>) -> String {
        match sample(r) {
            Err(e) => e,
            Ok(s) => panic!("{r:?} should be refused, became {s:?}"),
        }
    }

    #[test]
    fn an_unknown_type_gets_the_registrys_suggestion() {
        assert_eq!(
            err(&row("hart-rate", "2026-11-23", "61", "")),
            "unknown data type `hart-rate` (did you mean heart-rate?)"
        );
        assert!(err(&row("", "2026-11-23", "61", "")).starts_with("`type` is empty"));
    }

    #[test]
    fn a_quantity_in_the_canonical_unit_by_default() {
        let s = ok(&row("resting-heart-rate", "2026-11-23T06:30:00-08:00", "58", ""));
        assert_eq!(
            (s.data_type, s.value, s.unit.as_str()),
            (DataType::RestingHeartRate, Some(58.0), "/min")
        );
        assert_eq!(s.start.millis(), NOV_23 + (14 * 60 + 30) * MINUTE);
        assert_eq!((s.end, s.coding, s.metadata), (s.start, None, None));
    }

    #[test]
    fn pounds_of_body_mass_are_kept_as_given_for_the_host_to_convert() {
        let s = ok(&row("body-mass", "2026-11-23", "176", "lb"));
        assert_eq!((s.value, s.unit.as_str()), (Some(176.0), "lb"));
        let kg = s.data_type.to_canonical(176.0, &s.unit).unwrap_or(0.0);
        assert!((kg - 79.832_257).abs() < 1e-5, "{kg}");
        assert_eq!(s.metadata.as_deref(), Some(r#"{"date_only":true}"#));
    }

    #[test]
    fn fractions_are_fractions_and_percentages_say_so() {
        let s = ok(&row("oxygen-saturation", "2026-11-23T06:30:00Z", "97", "%"));
        assert_eq!((s.value, s.unit.as_str()), (Some(97.0), "%"));
        assert_eq!(ok(&row("body-fat-percentage", "2026-11-23", "0.18", "")).unit, "1");
        assert_eq!(
            err(&row("body-fat-percentage", "2026-11-23", "18", "")),
            "`body-fat-percentage` is a fraction from 0 to 1, not `18`: give unit `%` for a percentage"
        );
        assert_eq!(
            err(&row("oxygen-saturation", "2026-11-23", "150", "%")),
            "`oxygen-saturation` is a fraction from 0 to 1, not `150 %`"
        );
    }

    #[test]
    fn a_unit_the_type_cannot_take_is_named() {
        assert_eq!(
            err(&row("body-mass", "2026-11-23", "176", "kcal")),
            "unit: `kcal` cannot be converted to `kg`, the unit of body-mass"
        );
        assert_eq!(
            err(&row("steps", "2026-11-23", "9", "furlong")),
            "unit: unknown unit `furlong`"
        );
        assert_eq!(
            err(&row("steps", "2026-11-23", "", "count")),
            "unit `count` without a value"
        );
    }

    #[test]
    fn values_must_be_numbers_and_numeric_types_need_one() {
        assert_eq!(
            err(&row("steps", "2026-11-23", "lots", "")),
            "value `lots` is not a number"
        );
        assert_eq!(
            err(&row("steps", "2026-11-23", "NaN", "")),
            "value `NaN` is not a number"
        );
        assert_eq!(
            err(&row("steps", "2026-11-23", "", "")),
            "`steps` needs a value (in {steps})"
        );
        let steps = Row {
            code: "walking",
            ..row("steps", "2026-11-23", "9000", "")
        };
        assert!(err(&steps).starts_with("`steps` is a numeric type"));
    }

    #[test]
    fn a_sleep_night_of_stages() {
        let stages = [
            ("inBed", "2026-11-23T22:40:00-08:00", "2026-11-24T06:30:00-08:00", 470.0),
            (
                "asleepDeep",
                "2026-11-23T22:55:00-08:00",
                "2026-11-24T00:10:00-08:00",
                75.0,
            ),
            (
                "asleepCore",
                "2026-11-24T00:10:00-08:00",
                "2026-11-24T03:50:00-08:00",
                220.0,
            ),
            (
                "asleepREM",
                "2026-11-24T03:50:00-08:00",
                "2026-11-24T06:05:00-08:00",
                135.0,
            ),
            ("awake", "2026-11-24T06:05:00-08:00", "2026-11-24T06:20:00-08:00", 15.0),
        ];
        for (code, start, end, minutes) in stages {
            let s = ok(&Row {
                data_type: "sleep",
                start,
                end,
                code,
                ..Row::default()
            });
            let c = s.coding.clone().unwrap_or_else(|| panic!("{code} is coded"));
            assert_eq!((c.system.as_str(), c.code.as_str()), (SLEEP_STAGE.system, code));
            assert_eq!((s.value, s.unit.as_str()), (Some(minutes), "min"), "{code}");
            assert_eq!(s.end.millis() - s.start.millis(), (minutes as i64) * MINUTE);
        }
    }

    #[test]
    fn a_workout_with_its_duration_source_and_notes() {
        let r = Row {
            data_type: "workout",
            start: "2026-11-25T07:00:00-08:00",
            end: "2026-11-25T07:42:30-08:00",
            code: "running",
            source: "Seed script",
            notes: "easy 7 km",
            ..Row::default()
        };
        let s = ok(&r);
        let coding = NewCoding {
            system: ACTIVITY.system.into(),
            code: "running".into(),
            display: "Running".into(),
        };
        assert_eq!(s.coding, Some(coding));
        assert_eq!((s.value, s.unit.as_str()), (Some(42.5), "min"));
        assert_eq!(
            (s.source_name.as_deref(), s.notes.as_deref()),
            (Some("Seed script"), Some("easy 7 km"))
        );
        let in_hours = ok(&Row {
            value: "0.75",
            unit: "h",
            ..r.clone()
        });
        assert_eq!((in_hours.value, in_hours.unit.as_str()), (Some(0.75), "h"));
        let no_end = Row { end: "", ..r };
        assert!(err(&no_end).starts_with("`workout` needs an `end`"));
    }

    #[test]
    fn menstrual_flow_takes_its_level_and_clinical_rows_their_system() {
        let flow = |code| Row {
            code,
            ..row("menstrual-flow", "2026-11-23", "", "")
        };
        assert_eq!(ok(&flow("medium")).value, Some(2.0));
        assert_eq!(ok(&flow("medium")).unit, "{level}");
        assert_eq!(ok(&flow("unspecified")).value, None);
        let lab = Row {
            code: "4548-4",
            system: "http://loinc.org",
            ..row("lab-result", "2026-11-23T09:00:00Z", "5.4", "%")
        };
        let s = ok(&lab);
        assert_eq!((s.value, s.unit.as_str()), (Some(5.4), "%"));
        assert_eq!(s.coding.map(|c| c.display), Some("4548-4".to_string()));
        let unsystematic = Row { system: "", ..lab };
        assert!(err(&unsystematic).contains("give its URI in `system`"));
    }

    #[test]
    fn times_are_checked_through_the_row() {
        let backwards = Row {
            end: "2026-11-22",
            ..row("steps", "2026-11-23", "10", "")
        };
        assert_eq!(err(&backwards), "end `2026-11-22` is before start `2026-11-23`");
        let at = Timestamp::from_millis(NOV_23);
        assert_eq!(ok(&row("steps", "2026-11-23T00:00:00Z", "10", "")).start, at);
    }
}
