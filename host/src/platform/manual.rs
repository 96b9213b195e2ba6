//! Samples a person types in (`healthplug records add`): the entry's
//! checks, pure and unit-tested, and storing it for an existing user with
//! the origin `records-add`. The rules are the connectors' rules: a
//! registry type, a unit the registry converts to the canonical one, a code
//! from the type's vocabulary for coded types (and none for numeric ones),
//! a time with an explicit offset, so what a partner seeds locally is
//! exactly what a real connector would have stored.

use jiff::Timestamp;

use super::Host;
use crate::error::HostError;
use crate::registry::{Coding as TypeCoding, DataType, ValueKind, to_canonical};
use crate::vault::{Coding, InsertReport, NewSample};

/// The origin recorded for typed-in samples.
pub const MANUAL_ORIGIN: &str = "records-add";

/// One sample as typed: every field as text, checked by [`RecordEntry::sample`].
#[derive(Clone, Debug, Default)]
pub struct RecordEntry {
    /// The type id.
    pub data_type: String,
    /// The value, if given.
    pub value: Option<f64>,
    /// The unit of `value` (default: the type's canonical unit).
    pub unit: Option<String>,
    /// A point in time (RFC 3339 with an offset, or `now`).
    pub at: Option<String>,
    /// The start of an interval.
    pub start: Option<String>,
    /// The end of an interval.
    pub end: Option<String>,
    /// The code, for coded types.
    pub code: Option<String>,
    /// The code system, for clinical types (the others use their vocabulary).
    pub system: Option<String>,
}

fn invalid(message: String) -> HostError {
    HostError::InvalidRequest(message)
}

/// Parses an RFC 3339 time with an offset (`2026-11-28T07:00:00Z`,
/// `2026-11-28T07:00:00-08:00`) or `now`.
pub fn parse_time(text: &str, now_ms: i64) -> Result<i64, HostError> {
    if text == "now" {
        return Ok(now_ms);
    }
    text.parse::<Timestamp>().map(|t| t.as_millisecond()).map_err(|_| {
        invalid(format!(
            "`{text}` is not a time: write it as RFC 3339 with an offset, e.g. 2026-11-28T07:00:00Z or 2026-11-28T07:00:00-08:00 (or `now`)"
        ))
    })
}

impl RecordEntry {
    /// The sample this entry describes, or an error naming what is wrong.
    pub fn sample(&self, now_ms: i64) -> Result<NewSample, HostError> {
        let ty: DataType = self.data_type.parse().map_err(|e| invalid(format!("{e}")))?;
        let (start, end) = self.times(now_ms)?;
        let mut sample = match ty.info().kind {
            ValueKind::Coded => self.coded(ty, start, end)?,
            _ => self.numeric(ty, start, end)?,
        };
        sample.source_name = Some("typed in".to_string());
        Ok(sample)
    }

    fn times(&self, now_ms: i64) -> Result<(i64, i64), HostError> {
        let (start, end) = match (&self.at, &self.start, &self.end) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(invalid("give either --at or --start/--end, not both".into()));
            }
            (Some(at), None, None) => {
                let t = parse_time(at, now_ms)?;
                (t, t)
            }
            (None, Some(s), Some(e)) => (parse_time(s, now_ms)?, parse_time(e, now_ms)?),
            (None, Some(s), None) => {
                let t = parse_time(s, now_ms)?;
                (t, t)
            }
            (None, None, Some(_)) => return Err(invalid("--end needs --start".into())),
            (None, None, None) => (now_ms, now_ms),
        };
        if end < start {
            return Err(invalid("the end is before the start".into()));
        }
        Ok((start, end))
    }

    fn numeric(&self, ty: DataType, start: i64, end: i64) -> Result<NewSample, HostError> {
        if let Some(code) = &self.code {
            return Err(invalid(format!(
                "`{ty}` is a numeric type: it takes --value, not a code (`{code}`)"
            )));
        }
        let Some(value) = self.value else {
            return Err(invalid(format!("`{ty}` needs --value (in {})", ty.info().unit)));
        };
        self.converted(ty, start, end, value)
    }

    fn converted(&self, ty: DataType, start: i64, end: i64, value: f64) -> Result<NewSample, HostError> {
        if !value.is_finite() {
            return Err(invalid(format!("--value {value} is not a finite number")));
        }
        let canonical_unit = ty.info().unit;
        let unit = self.unit.as_deref().unwrap_or(canonical_unit);
        let canonical = to_canonical(ty, value, unit).map_err(|e| invalid(format!("{e}")))?;
        let mut s = NewSample::quantity(ty, start, end, canonical);
        if canonical_unit.is_empty() {
            // A lab result keeps the unit its laboratory reported.
            s.unit = unit.to_string();
        } else if unit != canonical_unit {
            s.original_value = Some(value);
            s.original_unit = Some(unit.to_string());
        }
        Ok(s)
    }

    fn coded(&self, ty: DataType, start: i64, end: i64) -> Result<NewSample, HostError> {
        let Some(code) = self.code.as_deref() else {
            return Err(invalid(format!(
                "`{ty}` is a coded type: it needs --code{}",
                code_list(ty)
            )));
        };
        let coding = match ty.coding() {
            Some(TypeCoding::Vocabulary(v)) => {
                let Some(c) = v.code(code) else {
                    return Err(invalid(format!("`{code}` is not a `{ty}` code{}", code_list(ty))));
                };
                if self.system.as_deref().is_some_and(|s| s != v.system) {
                    return Err(invalid(format!(
                        "`{ty}` codes are from {}: leave --system out",
                        v.system
                    )));
                }
                Coding {
                    system: v.system.to_string(),
                    code: c.code.to_string(),
                    display: c.display.to_string(),
                }
            }
            _ => {
                let Some(system) = self.system.as_deref() else {
                    return Err(invalid(format!(
                        "`{ty}` codes come from an external system: give --system (e.g. http://loinc.org)"
                    )));
                };
                Coding {
                    system: system.to_string(),
                    code: code.to_string(),
                    display: code.to_string(),
                }
            }
        };
        let value = self.value.or_else(|| default_value(ty, &coding.code, start, end));
        let mut s = match value {
            Some(v) => self.converted(ty, start, end, v)?,
            None => {
                let mut s = NewSample::quantity(ty, start, end, 0.0);
                s.value = None;
                s
            }
        };
        s.coding = Some(coding);
        Ok(s)
    }
}

/// The value a coded sample gets when none is typed: a sleep stage's or a
/// workout's minutes, a menstrual flow's level.
fn default_value(ty: DataType, code: &str, start: i64, end: i64) -> Option<f64> {
    match ty.id() {
        "sleep" | "workout" => Some((end - start) as f64 / 60_000.0),
        "menstrual-flow" => ["none", "light", "medium", "heavy"]
            .iter()
            .position(|l| *l == code)
            .map(|i| i as f64),
        _ => None,
    }
}

fn code_list(ty: DataType) -> String {
    match ty.vocabulary() {
        Some(v) => format!(
            " (one of {})",
            v.codes.iter().map(|c| c.code).collect::<Vec<_>>().join(", ")
        ),
        None => String::new(),
    }
}

impl Host {
    /// Stores one typed-in sample for an existing `user` (origin
    /// `records-add`); an identical sample already stored is reported as a
    /// duplicate, not stored twice.
    pub fn add_record(&self, user: &str, entry: &RecordEntry) -> Result<(NewSample, InsertReport), HostError> {
        let now_ms = Timestamp::now().as_millisecond();
        let sample = entry.sample(now_ms)?;
        let user = self.user(user)?;
        let origin = crate::vault::Origin {
            id: MANUAL_ORIGIN.to_string(),
            digest: None,
        };
        let report = self
            .vault
            .insert_samples(&user, &origin, std::slice::from_ref(&sample))?;
        Ok((sample, report))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_000_000_000;

    fn entry(ty: &str) -> RecordEntry {
        RecordEntry {
            data_type: ty.into(),
            ..RecordEntry::default()
        }
    }

    fn err(e: &RecordEntry) -> String {
        e.sample(NOW).unwrap_err().to_string()
    }

    #[test]
    fn a_numeric_sample_at_a_time_and_in_another_unit() {
        let mut e = entry("body-mass");
        e.value = Some(176.0);
        e.unit = Some("[lb_av]".into());
        e.at = Some("2026-11-28T07:00:00-08:00".into());
        let s = e.sample(NOW).unwrap();
        assert_eq!(s.start_ms, 1_795_878_000_000);
        assert!((s.value.unwrap() - 79.832).abs() < 0.01, "{:?}", s.value);
        assert_eq!(
            (s.original_value, s.original_unit.as_deref()),
            (Some(176.0), Some("[lb_av]"))
        );
        e.unit = Some("parsec".into());
        assert!(err(&e).contains("parsec"), "{}", err(&e));
    }

    #[test]
    fn times_need_an_offset_and_an_order() {
        let mut e = entry("steps");
        e.value = Some(100.0);
        e.at = Some("2026-11-28 07:00".into());
        assert!(err(&e).contains("RFC 3339"), "{}", err(&e));
        e.at = None;
        e.start = Some("2026-11-28T08:00:00Z".into());
        e.end = Some("2026-11-28T07:00:00Z".into());
        assert!(err(&e).contains("before the start"));
        e.at = Some("now".into());
        assert!(err(&e).contains("not both"));
        let bare = RecordEntry {
            value: Some(1.0),
            ..entry("steps")
        };
        assert_eq!(bare.sample(NOW).unwrap().start_ms, NOW);
    }

    #[test]
    fn coded_types_take_a_vocabulary_code_and_numeric_ones_none() {
        let mut e = entry("sleep");
        e.start = Some("2026-11-27T23:00:00Z".into());
        e.end = Some("2026-11-28T00:30:00Z".into());
        assert!(err(&e).contains("asleepDeep"), "lists the codes: {}", err(&e));
        e.code = Some("deep".into());
        assert!(err(&e).contains("not a `sleep` code"), "{}", err(&e));
        e.code = Some("asleepDeep".into());
        let s = e.sample(NOW).unwrap();
        let c = s.coding.as_ref().unwrap();
        assert_eq!(
            (c.system.as_str(), c.display.as_str()),
            (crate::registry::vocab::SLEEP_STAGE.system, "Deep sleep")
        );
        assert_eq!(s.value, Some(90.0), "a stage's value is its minutes");
        let mut n = entry("resting-heart-rate");
        n.value = Some(52.0);
        n.code = Some("x".into());
        assert!(err(&n).contains("numeric type"));
        n.code = None;
        n.value = None;
        assert!(err(&n).contains("needs --value"));
        n.value = Some(f64::NAN);
        assert!(err(&n).contains("finite"));
    }

    #[test]
    fn clinical_codes_need_their_system_and_types_are_checked() {
        let mut e = entry("lab-result");
        e.code = Some("4548-4".into());
        e.value = Some(5.6);
        e.unit = Some("%".into());
        assert!(err(&e).contains("--system"));
        e.system = Some("http://loinc.org".into());
        assert_eq!(e.sample(NOW).unwrap().unit, "%");
        assert!(err(&entry("hart-rate")).contains("heart-rate"), "did you mean");
        let mut f = entry("menstrual-flow");
        f.code = Some("medium".into());
        assert_eq!(f.sample(NOW).unwrap().value, Some(2.0));
        f.code = Some("unspecified".into());
        assert_eq!(f.sample(NOW).unwrap().value, None);
    }
}
