//! MyFitnessPal connector: a `Nutrition-Summary` CSV export (UTF-8 with a
//! BOM, one row per meal and day, vitamins and minerals in % of daily
//! value, `Time` often blank) becomes one sample per nutrient per meal.

use std::collections::BTreeMap;

use healthplug_sdk::serde_json::{self, Value};
use healthplug_sdk::{
    Args, Connector, DataType, IngestError, Input, NewSample, Report, Timestamp, Writer, export_connector,
};

struct MyFitnessPal;

export_connector!(MyFitnessPal);

/// The nutrient columns healthplug stores, by header name (the part before
/// any ` (unit)`), with the unit MyFitnessPal uses.
const NUTRIENTS: [(&str, DataType, &str); 10] = [
    ("Calories", DataType::DietaryEnergy, "kcal"),
    ("Fat", DataType::DietaryFat, "g"),
    ("Saturated Fat", DataType::DietarySaturatedFat, "g"),
    ("Cholesterol", DataType::DietaryCholesterol, "mg"),
    ("Sodium", DataType::DietarySodium, "mg"),
    ("Potassium", DataType::DietaryPotassium, "mg"),
    ("Carbohydrates", DataType::DietaryCarbohydrate, "g"),
    ("Fiber", DataType::DietaryFiber, "g"),
    ("Sugar", DataType::DietarySugar, "g"),
    ("Protein", DataType::DietaryProtein, "g"),
];

/// A header cell without its unit suffix and BOM: "Fat (g)" → "Fat".
fn column_name(header: &str) -> String {
    let h = header.trim_start_matches('\u{feff}').trim();
    h.split(" (").next().unwrap_or(h).trim().to_string()
}

/// When a meal is assumed to happen if the row has no time (UTC).
fn meal_hour(meal: &str) -> (u32, u32) {
    match meal.to_ascii_lowercase().as_str() {
        "breakfast" => (8, 0),
        "lunch" => (12, 30),
        "dinner" => (19, 0),
        "snacks" => (15, 30),
        _ => (12, 0),
    }
}

/// `2018-07-01` or `7/1/2018`, plus an optional `8:15 AM` / `20:15`.
fn meal_time(date: &str, time: &str, meal: &str) -> Option<(Timestamp, bool)> {
    let date: jiff::civil::Date = date
        .trim()
        .parse()
        .ok()
        .or_else(|| jiff::civil::Date::strptime("%m/%d/%Y", date.trim()).ok())?;
    let (clock, estimated) = match time.trim() {
        "" => {
            let (h, m) = meal_hour(meal);
            (
                jiff::civil::Time::new(i8::try_from(h).ok()?, i8::try_from(m).ok()?, 0, 0).ok()?,
                true,
            )
        }
        t => (
            jiff::civil::Time::strptime("%I:%M %p", t)
                .or_else(|_| jiff::civil::Time::strptime("%H:%M", t))
                .ok()?,
            false,
        ),
    };
    let ts = date
        .to_datetime(clock)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .ok()?
        .timestamp();
    Some((Timestamp::from_millis(ts.as_millisecond()), estimated))
}

impl Connector for MyFitnessPal {
    fn ingest(input: &mut Input, _options: &Args) -> Result<Report, IngestError> {
        let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(&mut *input);
        let headers: Vec<String> = csv
            .headers()
            .map_err(|e| IngestError::WrongFormat(format!("not a CSV file: {e}")))?
            .iter()
            .map(column_name)
            .collect();
        let find = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
        let (Some(date_col), Some(meal_col), Some(_)) = (find("Date"), find("Meal"), find("Calories")) else {
            return Err(IngestError::WrongFormat(format!(
                "not a MyFitnessPal Nutrition-Summary CSV: expected Date, Meal and Calories columns, found {}",
                headers.join(", ")
            )));
        };
        let time_col = find("Time");
        let note_col = find("Note");
        let nutrient_cols: Vec<(usize, DataType, &str)> = NUTRIENTS
            .iter()
            .filter_map(|(name, ty, unit)| find(name).map(|i| (i, *ty, *unit)))
            .collect();
        let mapped: Vec<usize> = nutrient_cols.iter().map(|(i, _, _)| *i).collect();

        let mut report = Report::new();
        let mut writer = Writer::new();
        let mut row = csv::StringRecord::new();
        loop {
            let line = u32::try_from(csv.position().line()).unwrap_or(u32::MAX);
            match csv.read_record(&mut row) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    report.records_read += 1;
                    report.problem(line, format!("unreadable row: {e}"));
                    continue;
                }
            }
            report.records_read += 1;
            let cell = |i: Option<usize>| i.and_then(|i| row.get(i)).unwrap_or("").trim();
            let meal = cell(Some(meal_col));
            let Some((at, estimated)) = meal_time(cell(Some(date_col)), cell(time_col), meal) else {
                report.problem(
                    line,
                    format!("unreadable date or time `{} {}`", cell(Some(date_col)), cell(time_col)),
                );
                continue;
            };
            let mut meta = BTreeMap::new();
            meta.insert("meal".to_string(), Value::String(meal.to_string()));
            if estimated {
                meta.insert("time_estimated".to_string(), Value::Bool(true));
            }
            let metadata = serde_json::to_string(&meta).unwrap_or_default();
            let note = cell(note_col);
            let mut samples = Vec::new();
            let mut bad = None;
            for (i, ty, unit) in &nutrient_cols {
                let text = cell(Some(*i)).replace(',', "");
                if text.is_empty() {
                    continue;
                }
                match text.parse::<f64>() {
                    Ok(v) if v.is_finite() && v >= 0.0 => {
                        let mut s = NewSample::quantity(*ty, at, at, v, unit)
                            .with_source("MyFitnessPal")
                            .with_metadata(&metadata);
                        if !note.is_empty() {
                            s = s.with_notes(note);
                        }
                        samples.push(s);
                    }
                    _ => bad = Some(format!("{} value `{text}` is not a non-negative number", headers[*i])),
                }
            }
            if let Some(reason) = bad {
                report.problem(line, reason);
                continue;
            }
            for s in samples {
                writer.push(s, &mut report)?;
            }
            for (i, h) in headers.iter().enumerate() {
                let unmapped = !mapped.contains(&i) && Some(i) != time_col && Some(i) != note_col;
                let has_value = cell(Some(i))
                    .parse::<f64>()
                    .map(|v| v != 0.0)
                    .unwrap_or(!cell(Some(i)).is_empty());
                if unmapped && i != date_col && i != meal_col && has_value {
                    report.skip(format!("{h} values (no healthplug type)"));
                }
            }
        }
        let written = writer.finish()?;
        report.samples_written = written.accepted;
        Ok(report)
    }
}
