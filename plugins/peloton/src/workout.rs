//! A read [`Workout`] as samples: one `workout` coded with healthplug's
//! activity vocabulary (Peloton's Fitness Discipline mapped onto it, an
//! unknown discipline coded `other` under its own name), its duration as
//! the value and everything else as metadata; and, when an average heart
//! rate was measured, one `heart-rate` sample spanning the workout.

use std::collections::BTreeMap;

use healthplug_sdk::registry::vocab::ACTIVITY;
use healthplug_sdk::serde_json::{self, Value};
use healthplug_sdk::{DataType, NewSample};

use crate::row::Workout;

/// The source name every sample carries.
pub(crate) const SOURCE: &str = "Peloton";

/// Peloton's Fitness Discipline values (any case) and their activity code.
/// Pilates and Row Bootcamp go beyond the common list because the
/// vocabulary has their codes.
pub(crate) const DISCIPLINES: [(&str, &str); 14] = [
    ("Cycling", "cycling"),
    ("Running", "running"),
    ("Walking", "walking"),
    ("Strength", "strength-training"),
    ("Yoga", "yoga"),
    ("Meditation", "mind-and-body"),
    ("Stretching", "stretching"),
    ("Cardio", "cardio"),
    ("Bike Bootcamp", "cross-training"),
    ("Tread Bootcamp", "cross-training"),
    ("Row Bootcamp", "cross-training"),
    ("Bootcamp", "cross-training"),
    ("Rowing", "rowing"),
    ("Pilates", "pilates"),
];

/// The activity (code, display) of `discipline`: a mapped discipline
/// takes the vocabulary's display text, any other is `other` under the
/// source's name.
pub(crate) fn activity(discipline: &str) -> (&'static str, String) {
    let mapped = DISCIPLINES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(discipline.trim()))
        .and_then(|(_, code)| ACTIVITY.code(code));
    match mapped {
        Some(c) => (c.code, c.display.to_string()),
        None if discipline.trim().is_empty() => ("other", "Other".to_string()),
        None => ("other", discipline.trim().to_string()),
    }
}

/// The workout's metadata JSON: discipline, title, instructor, live,
/// class type and each number present.
fn metadata(w: &Workout) -> String {
    let mut meta = BTreeMap::new();
    let texts = [
        ("discipline", &w.discipline),
        ("title", &w.title),
        ("instructor", &w.instructor),
        ("class_type", &w.class_type),
    ];
    for (key, text) in texts {
        if !text.is_empty() {
            meta.insert(key, Value::String(text.clone()));
        }
    }
    if let Some(live) = w.live {
        meta.insert("live", Value::Bool(live));
    }
    for (key, value) in &w.numbers {
        meta.insert(key, Value::from(*value));
    }
    serde_json::to_string(&meta).unwrap_or_default()
}

/// The samples of a workout: the workout, then its average heart rate.
pub(crate) fn samples(w: &Workout) -> Vec<NewSample> {
    let (code, display) = activity(&w.discipline);
    let workout = NewSample::coded(DataType::Workout, w.start, w.end, ACTIVITY.system, code, &display)
        .with_value(w.minutes, "min")
        .with_source(SOURCE)
        .with_metadata(&metadata(w));
    let mut out = vec![workout];
    if let Some(hr) = w.heart_rate {
        out.push(
            NewSample::quantity(DataType::HeartRate, w.start, w.end, hr, "/min")
                .with_source(SOURCE)
                .with_metadata(r#"{"statistic":"average"}"#),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use healthplug_sdk::Timestamp;

    use super::*;

    /// A 20-minute workout of `discipline` with `numbers` and `heart_rate`.
    fn workout(discipline: &str, numbers: Vec<(&'static str, f64)>, heart_rate: Option<f64>) -> Workout {
        Workout {
            start: Timestamp::from_millis(0),
            end: Timestamp::from_millis(1_200_000),
            minutes: 20.0,
            discipline: discipline.to_string(),
            title: "20 min Pop Ride, Live".to_string(),
            instructor: String::new(),
            class_type: "Music".to_string(),
            live: Some(true),
            numbers,
            heart_rate,
            heart_rate_zero: false,
        }
    }

    #[test]
    fn every_discipline_maps_to_a_code_of_the_vocabulary() {
        for (name, code) in DISCIPLINES {
            assert!(ACTIVITY.code(code).is_some(), "{name} → {code} is not an activity code");
            assert_eq!(activity(name).0, code);
        }
        assert_eq!(
            activity("bike bootcamp"),
            ("cross-training", "Cross training".to_string())
        );
        assert_eq!(activity("Meditation"), ("mind-and-body", "Mind and body".to_string()));
        assert_eq!(activity("Boxing"), ("other", "Boxing".to_string()));
        assert_eq!(activity(" "), ("other", "Other".to_string()));
    }

    #[test]
    fn a_workout_with_heart_rate_is_two_samples() {
        let w = workout(
            "Cycling",
            vec![("distance_m", 16_093.4), ("output_kj", 250.0)],
            Some(140.0),
        );
        let s = samples(&w);
        assert_eq!(s.len(), 2);
        let Some(coding) = &s[0].coding else {
            panic!("a workout is coded")
        };
        assert_eq!(
            (coding.system.as_str(), coding.code.as_str(), coding.display.as_str()),
            (ACTIVITY.system, "cycling", "Cycling")
        );
        assert_eq!(
            (s[0].data_type, s[0].value, s[0].unit.as_str()),
            (DataType::Workout, Some(20.0), "min")
        );
        assert_eq!(
            s[0].metadata.as_deref(),
            Some(
                r#"{"class_type":"Music","discipline":"Cycling","distance_m":16093.4,"live":true,"output_kj":250.0,"title":"20 min Pop Ride, Live"}"#
            )
        );
        assert_eq!(
            (s[1].data_type, s[1].value, s[1].unit.as_str()),
            (DataType::HeartRate, Some(140.0), "/min")
        );
        assert_eq!((s[1].start, s[1].end), (w.start, w.end));
        assert_eq!(s[1].metadata.as_deref(), Some(r#"{"statistic":"average"}"#));
        assert!(s.iter().all(|x| x.source_name.as_deref() == Some("Peloton")));
    }

    #[test]
    fn without_heart_rate_only_the_workout() {
        let s = samples(&workout("Barre", Vec::new(), None));
        assert_eq!(s.len(), 1);
        assert_eq!(
            s[0].coding.as_ref().map(|c| (c.code.as_str(), c.display.as_str())),
            Some(("other", "Barre"))
        );
    }
}
