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
        let columns = read_columns(&mut csv)?;
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
            match row_samples(&columns, &row) {
                Ok(samples) => {
                    for s in samples {
                        writer.push(s, &mut report)?;
                    }
                    skip_unmapped(&columns, &row, &mut report);
                }
                Err(reason) => report.problem(line, reason),
            }
        }
        let written = writer.finish()?;
        report.samples_written = written.accepted;
        Ok(report)
    }
}

/// Where things are in the export: the header names (units stripped) and
/// the index of each column healthplug reads.
struct Columns {
    headers: Vec<String>,
    date: usize,
    meal: usize,
    time: Option<usize>,
    note: Option<usize>,
    /// (column, type, unit) of each nutrient column present.
    nutrients: Vec<(usize, DataType, &'static str)>,
}

/// Reads the header row, or says why this is not a Nutrition-Summary CSV.
fn read_columns<R: std::io::Read>(csv: &mut csv::Reader<R>) -> Result<Columns, IngestError> {
    let headers = csv
        .headers()
        .map_err(|e| IngestError::WrongFormat(format!("not a CSV file: {e}")))?
        .iter()
        .map(column_name)
        .collect();
    Columns::find(headers)
}

impl Columns {
    /// Locates the columns by name (any case); Date, Meal and Calories are required.
    fn find(headers: Vec<String>) -> Result<Columns, IngestError> {
        let find = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
        let (Some(date), Some(meal), Some(_)) = (find("Date"), find("Meal"), find("Calories")) else {
            return Err(IngestError::WrongFormat(format!(
                "not a MyFitnessPal Nutrition-Summary CSV: expected Date, Meal and Calories columns, found {}",
                headers.join(", ")
            )));
        };
        let time = find("Time");
        let note = find("Note");
        let nutrients = NUTRIENTS
            .iter()
            .filter_map(|(name, ty, unit)| find(name).map(|i| (i, *ty, *unit)))
            .collect();
        Ok(Columns {
            headers,
            date,
            meal,
            time,
            note,
            nutrients,
        })
    }

    /// True for a column healthplug neither stores nor uses to place a meal.
    fn is_unmapped(&self, i: usize) -> bool {
        let used = [Some(self.date), Some(self.meal), self.time, self.note];
        !self.nutrients.iter().any(|(c, _, _)| *c == i) && !used.contains(&Some(i))
    }
}

/// The trimmed cell of column `i` of `row`; "" when there is no such column.
fn cell(row: &csv::StringRecord, i: Option<usize>) -> &str {
    i.and_then(|i| row.get(i)).unwrap_or("").trim()
}

/// One sample per filled nutrient cell of a meal row, or why the row is
/// unreadable (the last bad cell is named).
fn row_samples(columns: &Columns, row: &csv::StringRecord) -> Result<Vec<NewSample>, String> {
    let (date, time) = (cell(row, Some(columns.date)), cell(row, columns.time));
    let meal = cell(row, Some(columns.meal));
    let Some((at, estimated)) = meal_time(date, time, meal) else {
        return Err(format!("unreadable date or time `{date} {time}`"));
    };
    let metadata = meal_metadata(meal, estimated);
    let note = cell(row, columns.note);
    let mut samples = Vec::new();
    let mut bad = None;
    for (i, ty, unit) in &columns.nutrients {
        let text = cell(row, Some(*i)).replace(',', "");
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
            _ => {
                let header = &columns.headers[*i];
                bad = Some(format!("{header} value `{text}` is not a non-negative number"));
            }
        }
    }
    match bad {
        Some(reason) => Err(reason),
        None => Ok(samples),
    }
}

/// The samples' metadata JSON: the meal, and whether its time was assumed.
fn meal_metadata(meal: &str, estimated: bool) -> String {
    let mut meta = BTreeMap::new();
    meta.insert("meal".to_string(), Value::String(meal.to_string()));
    if estimated {
        meta.insert("time_estimated".to_string(), Value::Bool(true));
    }
    serde_json::to_string(&meta).unwrap_or_default()
}

/// Counts as skipped each cell of a row that holds a value (not blank,
/// not zero) in a column with no healthplug type.
fn skip_unmapped(columns: &Columns, row: &csv::StringRecord, report: &mut Report) {
    for (i, h) in columns.headers.iter().enumerate() {
        let text = cell(row, Some(i));
        let has_value = text.parse::<f64>().map(|v| v != 0.0).unwrap_or(!text.is_empty());
        if columns.is_unmapped(i) && has_value {
            report.skip(format!("{h} values (no healthplug type)"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "\u{feff}Date,Meal,Time,Calories,Fat (g),Vitamin C,Protein (g),Note";

    /// The columns of `HEADER`.
    fn columns() -> Columns {
        match Columns::find(HEADER.split(',').map(column_name).collect()) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    /// A data row from cells separated by `|` (a cell may hold a comma).
    fn row(cells: &str) -> csv::StringRecord {
        csv::StringRecord::from(cells.split('|').collect::<Vec<_>>())
    }

    #[test]
    fn headers_lose_their_bom_and_unit() {
        assert_eq!(column_name("\u{feff}Date"), "Date");
        assert_eq!(column_name(" Saturated Fat (g) "), "Saturated Fat");
    }

    #[test]
    fn a_blank_time_is_the_meals_usual_hour() {
        let at = |d, t, m| meal_time(d, t, m).map(|(ts, est)| (ts.millis(), est));
        assert_eq!(at("2021-05-01", "", "Breakfast"), Some((1_619_856_000_000, true)));
        assert_eq!(at("5/1/2021", "1:15 PM", "Lunch"), Some((1_619_874_900_000, false)));
        assert_eq!(at("2021-05-01", "13:15", "Lunch"), Some((1_619_874_900_000, false)));
        assert_eq!(at("not-a-date", "", "Dinner"), None);
    }

    #[test]
    fn columns_are_found_by_name_or_the_file_is_refused() {
        let c = columns();
        assert_eq!((c.date, c.meal, c.time, c.note), (0, 1, Some(2), Some(7)));
        let found: Vec<usize> = c.nutrients.iter().map(|(i, _, _)| *i).collect();
        assert_eq!(found, vec![3, 4, 6]);
        assert!(c.is_unmapped(5) && !c.is_unmapped(2) && !c.is_unmapped(4));
        match Columns::find(vec!["Date".into(), "Food".into()]) {
            Err(IngestError::WrongFormat(m)) => assert!(m.ends_with("columns, found Date, Food"), "{m}"),
            _ => panic!("a file without Meal and Calories is not a Nutrition-Summary"),
        }
    }

    #[test]
    fn a_meal_row_becomes_one_sample_per_filled_nutrient() {
        let samples = row_samples(&columns(), &row("2021-05-01|Breakfast||1,350||12|20|oats"));
        let Ok(samples) = samples else { panic!("{samples:?}") };
        let got: Vec<_> = samples
            .iter()
            .map(|s| (s.data_type, s.value, s.unit.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (DataType::DietaryEnergy, Some(1_350.0), "kcal"),
                (DataType::DietaryProtein, Some(20.0), "g"),
            ]
        );
        assert_eq!(samples[0].notes.as_deref(), Some("oats"));
        assert_eq!(
            samples[0].metadata.as_deref(),
            Some(r#"{"meal":"Breakfast","time_estimated":true}"#)
        );
    }

    #[test]
    fn a_bad_cell_or_date_makes_the_row_a_problem() {
        let bad = row_samples(&columns(), &row("2021-05-01|Lunch||lots|-1||20|"));
        assert_eq!(
            bad.err().as_deref(),
            Some("Fat value `-1` is not a non-negative number")
        );
        let undated = row_samples(&columns(), &row("someday|Lunch|noon|350|||20|"));
        assert_eq!(undated.err().as_deref(), Some("unreadable date or time `someday noon`"));
    }

    #[test]
    fn values_without_a_type_are_counted_as_skipped() {
        let mut report = Report::new();
        skip_unmapped(&columns(), &row("2021-05-01|Lunch||350|10|30|20|"), &mut report);
        skip_unmapped(&columns(), &row("2021-05-01|Dinner||350|10|0|20|"), &mut report);
        assert_eq!(report.skipped("Vitamin C values (no healthplug type)"), 1);
    }
}
