//! Mapping Apple Health elements to healthplug samples, with the quirks
//! real exports have: `%` values already stored as fractions, BMI with unit
//! `count`, energy in `Cal`, VO2 max in `mL/min·kg`, corrupt `type="c"`
//! records, emoji in source names, device descriptions with pointer
//! addresses, and daily summaries that repeat what the records already say.

use std::collections::BTreeMap;

use healthplug_sdk::serde_json::{self, Value};
use healthplug_sdk::{DataType, NewSample, Timestamp};
use quick_xml::events::BytesStart;

use crate::{Covered, attributes};

use healthplug_sdk::registry::vocab::{ACTIVITY, MENSTRUAL_FLOW, SLEEP_STAGE};

const DAY_MS: i64 = 86_400_000;

/// What one element becomes.
pub enum Outcome {
    /// Samples to write.
    Samples(Vec<NewSample>),
    /// Counted as skipped, with a reason.
    Skip(String),
    /// Malformed, with a reason.
    Problem(String),
    /// Kept for the end of the file (daily summaries).
    Deferred,
}

/// A top-level element being read, with its metadata children.
pub struct Element {
    kind: Vec<u8>,
    attrs: BTreeMap<String, String>,
    metadata: BTreeMap<String, String>,
}

impl Element {
    pub fn new(kind: Vec<u8>, attrs: BTreeMap<String, String>) -> Element {
        Element {
            kind,
            attrs,
            metadata: BTreeMap::new(),
        }
    }

    /// Takes in a child element (only `MetadataEntry` matters).
    pub fn child(&mut self, e: &BytesStart<'_>) {
        if e.name().as_ref() == b"MetadataEntry"
            && let Ok(a) = attributes(e)
            && let (Some(k), Some(v)) = (a.get("key"), a.get("value"))
        {
            self.metadata.insert(k.clone(), v.clone());
        }
    }

    /// True when `name` ends this element.
    pub fn closes(&self, name: &[u8]) -> bool {
        name == self.kind.as_slice()
    }

    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }
}

/// Parses `2019-07-19 10:36:11 -0700`.
pub fn parse_date(text: &str) -> Option<Timestamp> {
    let t = jiff::fmt::strtime::parse("%Y-%m-%d %H:%M:%S %z", text.trim())
        .ok()?
        .to_timestamp()
        .ok()?;
    Some(Timestamp::from_millis(t.as_millisecond()))
}

/// "<<HKDevice: 0x…>, name:Apple Watch, …, hardware:Watch4,2, …>" →
/// "Apple Watch (Watch4,2)"; other texts are kept as they are.
fn device(text: &str) -> String {
    if !text.starts_with("<<HKDevice") {
        return text.to_string();
    }
    let field = |key: &str| {
        text.split(", ")
            .find_map(|part| part.strip_prefix(key))
            .map(|v| v.trim_end_matches('>').to_string())
    };
    match (field("name:"), field("hardware:")) {
        (Some(name), Some(hw)) => format!("{name} ({hw})"),
        (Some(name), None) => name,
        _ => text.to_string(),
    }
}

/// "HKWorkoutActivityTypeTraditionalStrengthTraining" → "Traditional Strength Training".
fn words(code: &str, prefix: &str) -> String {
    let mut out = String::new();
    for (i, c) in code.trim_start_matches(prefix).chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

fn metadata_json(map: &BTreeMap<String, String>, extra: BTreeMap<String, Value>) -> Option<String> {
    let mut all: BTreeMap<String, Value> = map.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    all.extend(extra);
    (!all.is_empty()).then(|| serde_json::to_string(&all).unwrap_or_default())
}

/// A daily summary kept until the end of the file.
struct Summary {
    line: u32,
    date: String,
    attrs: BTreeMap<String, String>,
}

/// Mapping state across the file.
#[derive(Default)]
pub struct State {
    covered: Covered,
    summaries: Vec<Summary>,
}

impl State {
    /// Maps one finished element.
    pub fn map(&mut self, e: Element, line: u32) -> Outcome {
        match e.kind.as_slice() {
            b"Record" => self.record(&e),
            b"Workout" => workout(&e),
            b"ActivitySummary" => match e.attr("dateComponents") {
                Some(date) => {
                    self.summaries.push(Summary {
                        line,
                        date: date.to_string(),
                        attrs: e.attrs,
                    });
                    Outcome::Deferred
                }
                None => Outcome::Problem("ActivitySummary without dateComponents".into()),
            },
            _ => Outcome::Skip("unknown element".into()),
        }
    }

    fn record(&mut self, e: &Element) -> Outcome {
        let Some(hk) = e.attr("type") else {
            return Outcome::Problem("Record without a type".into());
        };
        if !hk.starts_with("HK") {
            return Outcome::Problem(format!("corrupt Record type `{hk}`"));
        }
        let (Some(start_text), Some(end_text)) = (e.attr("startDate"), e.attr("endDate")) else {
            return Outcome::Problem(format!("{hk} record without startDate or endDate"));
        };
        let (Some(start), Some(end)) = (parse_date(start_text), parse_date(end_text)) else {
            return Outcome::Problem(format!(
                "{hk} record has an unreadable date `{start_text}` / `{end_text}`"
            ));
        };
        if end < start {
            return Outcome::Problem(format!("{hk} record ends before it starts"));
        }
        let Some(ty) = DataType::from_healthkit(hk) else {
            return Outcome::Skip(format!("{hk} (no healthplug type)"));
        };
        let raw = e.attr("value").unwrap_or("");
        let mut sample = match ty {
            DataType::Sleep => {
                // Coded with healthplug's sleep-stage vocabulary, whatever
                // HealthKit version wrote the export (`Asleep` is the old
                // name of `AsleepUnspecified`).
                let Some(stage) = SLEEP_STAGE.from_healthkit(raw) else {
                    return Outcome::Problem(format!("sleep record with value `{raw}` (not a known stage)"));
                };
                let minutes = (end.millis() - start.millis()) as f64 / 60_000.0;
                NewSample::coded(ty, start, end, SLEEP_STAGE.system, stage.code, stage.display)
                    .with_value(minutes, "min")
            }
            DataType::MenstrualFlow => {
                let Some(level) = MENSTRUAL_FLOW.from_healthkit(raw) else {
                    return Outcome::Problem(format!("menstrual flow record with value `{raw}`"));
                };
                let value = match level.code {
                    "none" => Some(0.0),
                    "light" => Some(1.0),
                    "medium" => Some(2.0),
                    "heavy" => Some(3.0),
                    _ => None,
                };
                let s = NewSample::coded(ty, start, end, MENSTRUAL_FLOW.system, level.code, level.display);
                match value {
                    Some(v) => s.with_value(v, "{level}"),
                    None => s,
                }
            }
            _ => {
                let Ok(value) = raw.trim().parse::<f64>() else {
                    return Outcome::Problem(format!("{hk} record value `{raw}` is not a number"));
                };
                if !value.is_finite() {
                    return Outcome::Problem(format!("{hk} record value `{raw}` is not finite"));
                }
                let mut unit = e.attr("unit").unwrap_or("").to_string();
                // Apple writes percentages as fractions (0.161) with unit "%".
                if unit == "%" && ty.info().unit == "1" {
                    unit = "1".into();
                }
                if let Err(err) = ty.to_canonical(value, &unit) {
                    return Outcome::Problem(format!("{hk} record: {err}"));
                }
                if matches!(ty, DataType::ActiveEnergy | DataType::ExerciseTime) {
                    self.covered.insert((ty.code(), start_text.chars().take(10).collect()));
                }
                NewSample::quantity(ty, start, end, value, &unit)
            }
        };
        sample.source_name = e.attr("sourceName").map(str::to_string);
        sample.device = e.attr("device").map(device);
        let mut extra = BTreeMap::new();
        if let Some(v) = e.attr("sourceVersion") {
            extra.insert("sourceVersion".to_string(), Value::String(v.to_string()));
        }
        if matches!(ty, DataType::Sleep | DataType::MenstrualFlow) {
            extra.insert("sourceValue".to_string(), Value::String(raw.to_string()));
        }
        sample.metadata = metadata_json(&e.metadata, extra);
        Outcome::Samples(vec![sample])
    }

    /// The deferred daily summaries, each imported only for days whose
    /// records did not already cover it.
    pub fn activity_summaries(&mut self) -> Vec<(u32, Outcome)> {
        let mut out = Vec::new();
        for s in std::mem::take(&mut self.summaries) {
            let Ok(date) = s.date.parse::<jiff::civil::Date>() else {
                out.push((
                    s.line,
                    Outcome::Problem(format!("ActivitySummary date `{}` is not a date", s.date)),
                ));
                continue;
            };
            let Ok(day) = date.to_zoned(jiff::tz::TimeZone::UTC) else {
                out.push((
                    s.line,
                    Outcome::Problem(format!("ActivitySummary date `{}` is out of range", s.date)),
                ));
                continue;
            };
            let start = Timestamp::from_millis(day.timestamp().as_millisecond());
            let end = Timestamp::from_millis(start.millis() + DAY_MS - 1);
            for (ty, value_key, unit_key, default_unit, goal_key) in [
                (
                    DataType::ActiveEnergy,
                    "activeEnergyBurned",
                    "activeEnergyBurnedUnit",
                    "kcal",
                    "activeEnergyBurnedGoal",
                ),
                (
                    DataType::ExerciseTime,
                    "appleExerciseTime",
                    "",
                    "min",
                    "appleExerciseTimeGoal",
                ),
            ] {
                let Some(raw) = s.attrs.get(value_key) else { continue };
                let Ok(value) = raw.parse::<f64>() else {
                    out.push((
                        s.line,
                        Outcome::Problem(format!("ActivitySummary {value_key} `{raw}` is not a number")),
                    ));
                    continue;
                };
                if self.covered.contains(&(ty.code(), s.date.clone())) {
                    out.push((
                        s.line,
                        Outcome::Skip(format!(
                            "ActivitySummary {value_key} (the day's {ty} records are imported)"
                        )),
                    ));
                    continue;
                }
                let unit = s.attrs.get(unit_key).map(String::as_str).unwrap_or(default_unit);
                if let Err(err) = ty.to_canonical(value, unit) {
                    out.push((s.line, Outcome::Problem(format!("ActivitySummary {value_key}: {err}"))));
                    continue;
                }
                let mut sample =
                    NewSample::quantity(ty, start, end, value, unit).with_source("Apple Health activity summary");
                let mut meta = BTreeMap::new();
                meta.insert("summary".to_string(), Value::String("ActivitySummary".into()));
                if let Some(goal) = s.attrs.get(goal_key) {
                    meta.insert("goal".to_string(), Value::String(goal.clone()));
                }
                sample.metadata = metadata_json(&BTreeMap::new(), meta);
                out.push((s.line, Outcome::Samples(vec![sample])));
            }
            if s.attrs.contains_key("appleStandHours") {
                out.push((
                    s.line,
                    Outcome::Skip("ActivitySummary appleStandHours (no healthplug type)".into()),
                ));
            }
        }
        out
    }
}

fn workout(e: &Element) -> Outcome {
    let activity = e.attr("workoutActivityType").unwrap_or("HKWorkoutActivityTypeOther");
    let (Some(start), Some(end)) = (
        e.attr("startDate").and_then(parse_date),
        e.attr("endDate").and_then(parse_date),
    ) else {
        return Outcome::Problem(format!("{activity} workout with a missing or unreadable date"));
    };
    if end < start {
        return Outcome::Problem(format!("{activity} workout ends before it starts"));
    }
    let (duration, unit) = match e.attr("duration").map(str::parse::<f64>) {
        Some(Ok(d)) if d.is_finite() => (d, e.attr("durationUnit").unwrap_or("min").to_string()),
        Some(_) => return Outcome::Problem(format!("{activity} workout duration is not a number")),
        None => ((end.millis() - start.millis()) as f64 / 60_000.0, "min".to_string()),
    };
    if let Err(err) = DataType::Workout.to_canonical(duration, &unit) {
        return Outcome::Problem(format!("{activity} workout: {err}"));
    }
    let mut extra = BTreeMap::new();
    let number = |key: &str| {
        e.attr(key)
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|v| v.is_finite())
    };
    if let Some(d) = number("totalDistance") {
        let u = e.attr("totalDistanceUnit").unwrap_or("km");
        extra.insert("totalDistance".to_string(), Value::from(d));
        extra.insert("totalDistanceUnit".to_string(), Value::String(u.into()));
        if let Ok(m) = DataType::DistanceWalkingRunning.to_canonical(d, u) {
            extra.insert("distance_m".to_string(), Value::from((m * 10.0).round() / 10.0));
        }
    }
    if let Some(kcal) = number("totalEnergyBurned") {
        // Exports say "Cal" (= kcal) here.
        let u = e.attr("totalEnergyBurnedUnit").unwrap_or("kcal");
        extra.insert("totalEnergyBurned".to_string(), Value::from(kcal));
        extra.insert("totalEnergyBurnedUnit".to_string(), Value::String(u.into()));
        if let Ok(k) = DataType::ActiveEnergy.to_canonical(kcal, u) {
            extra.insert("energy_kcal".to_string(), Value::from((k * 10.0).round() / 10.0));
        }
    }
    // Coded with healthplug's activity vocabulary; an activity it has no
    // code for is `other`, named as HealthKit names it.
    extra.insert("sourceActivity".to_string(), Value::String(activity.to_string()));
    let (code, display) = match ACTIVITY.from_healthkit(activity) {
        Some(c) if c.code != "other" => (c.code, c.display.to_string()),
        _ => ("other", words(activity, "HKWorkoutActivityType")),
    };
    let mut sample =
        NewSample::coded(DataType::Workout, start, end, ACTIVITY.system, code, &display).with_value(duration, &unit);
    sample.source_name = e.attr("sourceName").map(str::to_string);
    sample.device = e.attr("device").map(device);
    sample.metadata = metadata_json(&e.metadata, extra);
    Outcome::Samples(vec![sample])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quirks() {
        assert_eq!(
            parse_date("2019-07-19 10:36:11 -0700").map(|t| t.millis()),
            Some(1_563_557_771_000)
        );
        assert_eq!(parse_date("yesterday"), None);
        assert_eq!(
            device(
                "<<HKDevice: 0x2820680f0>, name:Apple Watch, manufacturer:Apple Inc., model:Watch, hardware:Watch4,2, software:7.2>"
            ),
            "Apple Watch (Watch4,2)"
        );
        assert_eq!(
            words(
                "HKWorkoutActivityTypeTraditionalStrengthTraining",
                "HKWorkoutActivityType"
            ),
            "Traditional Strength Training"
        );
    }
}
