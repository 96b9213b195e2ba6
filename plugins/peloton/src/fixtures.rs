//! Native tests over the files in `tests/fixtures/`: an imperial and a
//! metric export, one with empty cells, quoted titles and CRLF line ends,
//! one with bad rows, and other formats that must be refused. Each file is
//! read through [`Rows`] exactly as the connector reads its input.

use healthplug_sdk::registry::vocab::ACTIVITY;
use healthplug_sdk::serde_json::{self, Value};
use healthplug_sdk::{DataType, IngestError, NewSample};

use crate::rows::{NO_MONITOR, Outcome, Rows};

/// What a fixture gave: its samples, its problems by line, its skips.
#[derive(Debug, Default)]
struct Read {
    rows: usize,
    samples: Vec<NewSample>,
    problems: Vec<(u32, String)>,
    skipped: Vec<&'static str>,
}

/// Reads `tests/fixtures/<name>` as the connector would.
fn read(name: &str) -> Result<Read, IngestError> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).map_err(|e| IngestError::ReadFailed(format!("{path}: {e}")))?;
    let mut rows = Rows::open(bytes.as_slice())?;
    let mut out = Read::default();
    while let Some((line, outcome)) = rows.next_row()? {
        out.rows += 1;
        match outcome {
            Outcome::Samples(samples, skipped) => {
                out.samples.extend(samples);
                out.skipped.extend(skipped);
            }
            Outcome::Problem(reason) => out.problems.push((line, reason)),
        }
    }
    Ok(out)
}

/// Reads a fixture that must be read, or panics.
fn ok(name: &str) -> Read {
    match read(name) {
        Ok(r) => r,
        Err(e) => panic!("{name}: {e}"),
    }
}

/// The workouts of `read`.
fn workouts(read: &Read) -> Vec<&NewSample> {
    read.samples
        .iter()
        .filter(|s| s.data_type == DataType::Workout)
        .collect()
}

/// The metadata of `s` as a JSON object.
fn meta(s: &NewSample) -> serde_json::Map<String, Value> {
    match s.metadata.as_deref().map(serde_json::from_str::<Value>) {
        Some(Ok(Value::Object(m))) => m,
        other => panic!("metadata is not an object: {other:?}"),
    }
}

/// The activity code of `s`.
fn code(s: &NewSample) -> &str {
    s.coding.as_ref().map_or("", |c| c.code.as_str())
}

#[test]
fn an_imperial_export_converts_to_metric() {
    let r = ok("imperial.csv");
    assert_eq!((r.rows, r.problems.len(), r.samples.len()), (7, 0, 10));
    assert_eq!(r.skipped, vec![NO_MONITOR]);
    let w = workouts(&r);
    let codes: Vec<&str> = w.iter().map(|s| code(s)).collect();
    assert_eq!(
        codes,
        [
            "cycling",
            "running",
            "strength-training",
            "yoga",
            "mind-and-body",
            "cross-training",
            "walking"
        ]
    );
    assert!(r.samples.iter().all(|s| s.source_name.as_deref() == Some("Peloton")));
    assert!(
        w.iter()
            .all(|s| s.coding.as_ref().is_some_and(|c| c.system == ACTIVITY.system))
    );
    let ride = w[0];
    assert_eq!(
        (ride.start.millis(), ride.end.millis()),
        (1_587_151_740_000, 1_587_152_940_000)
    );
    assert_eq!((ride.value, ride.unit.as_str()), (Some(20.0), "min"));
    let m = meta(ride);
    assert_eq!(m["distance_m"], 16_093.4);
    assert_eq!(m["avg_speed_kph"], 32.19);
    assert_eq!(m["title"], "20 min Pop Ride, Live");
    assert_eq!(m["instructor"], "Cody Rigsby");
    assert_eq!(
        (m["live"].clone(), m["avg_resistance_pct"].clone()),
        (Value::Bool(true), Value::from(45.0))
    );
    assert_eq!(
        (m["output_kj"].clone(), m["energy_kcal"].clone()),
        (Value::from(250.0), Value::from(300.0))
    );
    let run = meta(w[1]);
    assert_eq!(
        (run["avg_pace_min_per_km"].clone(), run["avg_speed_kph"].clone()),
        (Value::from(6.01), Value::from(9.98))
    );
    assert_eq!(
        (run["distance_m"].clone(), run["avg_incline_pct"].clone()),
        (Value::from(4_989.0), Value::from(1.5))
    );
    let walk = meta(w[6]);
    assert!(
        !walk.contains_key("instructor") && !walk.contains_key("class_type"),
        "{walk:?}"
    );
    assert_eq!(walk["avg_pace_min_per_km"], 12.43);
    let heart: Vec<(i64, f64)> = r
        .samples
        .iter()
        .filter(|s| s.data_type == DataType::HeartRate)
        .map(|s| (s.start.millis(), s.value.unwrap_or_default()))
        .collect();
    assert_eq!(heart.len(), 3);
    assert_eq!(heart[0], (1_587_151_740_000, 140.5));
}

#[test]
fn a_metric_export_keeps_its_values() {
    let r = ok("metric.csv");
    assert_eq!((r.rows, r.problems.len(), r.samples.len()), (5, 0, 8));
    let w = workouts(&r);
    let m = meta(w[0]);
    assert_eq!(
        (m["avg_speed_kph"].clone(), m["distance_m"].clone()),
        (Value::from(20.0), Value::from(10_000.0))
    );
    assert_eq!(w[0].start.millis(), 1_622_527_200_000);
    assert_eq!(meta(w[1])["avg_pace_min_per_km"], 5.0);
    assert_eq!(meta(w[2])["instructor"], "Erik Jäger");
    assert_eq!(meta(w[2])["avg_resistance_pct"], 42.0);
    assert_eq!((code(w[3]), w[3].start.millis()), ("rowing", 1_622_662_200_000));
    assert_eq!((code(w[4]), w[4].start.millis()), ("stretching", 1_622_804_400_000));
}

#[test]
fn empty_cells_quoted_titles_and_crlf_lines() {
    let r = ok("empty-and-quoted.csv");
    assert_eq!((r.rows, r.problems.len(), r.samples.len()), (6, 0, 6));
    let w = workouts(&r);
    let themed = meta(w[0]);
    assert_eq!(themed["title"], "\"Throwback\" Ride, 80s Edition");
    assert_eq!(w[0].start.millis(), 1_641_814_200_000);
    let keys: Vec<&str> = themed.keys().map(String::as_str).collect();
    assert_eq!(keys, ["class_type", "discipline", "instructor", "live", "title"]);
    assert_eq!(meta(w[1])["title"], "20 min Pop Ride, Live");
    assert_eq!(meta(w[1])["instructor"], "Robin Arzón");
    let low = meta(w[2]);
    assert_eq!(
        (low["avg_resistance_pct"].clone(), low["distance_m"].clone()),
        (Value::from(35.0), Value::from(8_690.5))
    );
    let just_ride = meta(w[3]);
    assert_eq!(
        (just_ride["output_kj"].clone(), just_ride.len()),
        (Value::from(95.0), 5)
    );
    assert_eq!(
        (code(w[4]), meta(w[4])["title"].clone()),
        ("cardio", Value::from("20 min Dance Cardio: Pop, Rock, and More"))
    );
}

#[test]
fn bad_rows_are_problems_by_line_and_the_rest_is_imported() {
    let r = ok("bad-rows.csv");
    assert_eq!(r.rows, 9);
    let lines: Vec<u32> = r.problems.iter().map(|(line, _)| *line).collect();
    assert_eq!(lines, [3, 4, 5, 6, 8, 9]);
    let reasons: Vec<&str> = r.problems.iter().map(|(_, reason)| reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "timestamp `2020-05-02 07:00 (XYZ)`: unknown time zone `XYZ`",
            "timestamp `yesterday (PDT)` is not a date and time",
            "Avg. Watts `n/a` is not a number",
            "Length `-10` is negative",
            "Avg. Heartrate `300` is not a plausible heart rate",
            "timestamp `2020-05-08 07:00` has no time zone in parentheses",
        ]
    );
    let w = workouts(&r);
    let codes: Vec<(&str, &str)> = w
        .iter()
        .map(|s| {
            s.coding
                .as_ref()
                .map_or(("", ""), |c| (c.code.as_str(), c.display.as_str()))
        })
        .collect();
    assert_eq!(
        codes,
        [("cycling", "Cycling"), ("running", "Running"), ("other", "Boxing")]
    );
    assert_eq!(meta(w[2])["discipline"], "Boxing");
}

#[test]
fn other_formats_are_refused_naming_what_is_missing() {
    let missing = "no Workout Timestamp, Length (minutes), Fitness Discipline column";
    for name in ["myfitnesspal.csv", "track.gpx"] {
        match read(name) {
            Err(IngestError::WrongFormat(m)) => {
                assert!(
                    m.starts_with(&format!("not a Peloton workout-history CSV: {missing}")),
                    "{m}"
                );
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    let Err(IngestError::WrongFormat(m)) = Rows::open(&b""[..]) else {
        panic!("an empty file is not an export");
    };
    assert_eq!(m, "empty file: no header row");
}

#[test]
fn units_that_are_neither_imperial_nor_metric_are_refused() {
    let imperial = match std::fs::read_to_string(format!("{}/tests/fixtures/imperial.csv", env!("CARGO_MANIFEST_DIR")))
    {
        Ok(text) => text,
        Err(e) => panic!("{e}"),
    };
    let odd = imperial.replace("Avg. Pace (min/mi)", "Avg. Pace (min/500m)");
    match Rows::open(odd.as_bytes()) {
        Err(IngestError::WrongFormat(m)) => assert_eq!(
            m,
            "column `Avg. Pace (min/500m)`: its unit is neither imperial (min/mi or min/mile) nor metric (min/km)"
        ),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("min/500m is not a Peloton unit"),
    }
}
