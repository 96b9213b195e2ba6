//! The header row of a Peloton workout-history CSV: where each column is,
//! and whether the speed, distance and pace columns are imperial (`mph`,
//! `mi`, `min/mi`) or metric (`kph`, `km`, `min/km`), which Peloton
//! chooses by the account's country. A header without Peloton's required
//! columns, or with a unit that is neither, is the wrong format.

use healthplug_sdk::IngestError;

/// The columns without which a file is not a Peloton export.
const REQUIRED: [&str; 3] = ["Workout Timestamp", "Length (minutes)", "Fitness Discipline"];

/// How long the list of found headers in a wrong-format message may grow.
const MAX_FOUND_CHARS: usize = 200;

/// The unit system of a speed, distance or pace column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Units {
    /// mph, mi, min/mi.
    Imperial,
    /// kph, km, min/km.
    Metric,
}

impl Units {
    /// The length unit (`mi` or `km`), as the registry spells it.
    pub(crate) fn length(self) -> &'static str {
        match self {
            Units::Imperial => "mi",
            Units::Metric => "km",
        }
    }
}

/// A column holding a distance-based quantity: its index and unit system.
pub(crate) type Measured = Option<(usize, Units)>;

/// Where each column is (`None`: the export has no such column).
#[derive(Debug, PartialEq)]
pub(crate) struct Columns {
    pub(crate) timestamp: usize,
    pub(crate) length: usize,
    pub(crate) discipline: usize,
    pub(crate) live: Option<usize>,
    pub(crate) instructor: Option<usize>,
    pub(crate) class_type: Option<usize>,
    pub(crate) title: Option<usize>,
    pub(crate) output: Option<usize>,
    pub(crate) watts: Option<usize>,
    pub(crate) resistance: Option<usize>,
    pub(crate) cadence: Option<usize>,
    pub(crate) calories: Option<usize>,
    pub(crate) heart_rate: Option<usize>,
    pub(crate) incline: Option<usize>,
    pub(crate) speed: Measured,
    pub(crate) distance: Measured,
    pub(crate) pace: Measured,
}

/// A header cell split into its name and the unit in parentheses, BOM and
/// spaces trimmed: `Distance (mi)` → (`Distance`, `Some("mi")`).
fn split_header(header: &str) -> (&str, Option<&str>) {
    let h = header.trim_start_matches('\u{feff}').trim();
    match h.strip_suffix(')').and_then(|h| h.rsplit_once('(')) {
        Some((name, unit)) => (name.trim(), Some(unit.trim())),
        None => (h, None),
    }
}

/// The unit system of measured column `header`, by the unit it names:
/// one of the `imperial` spellings or one of the `metric` ones (any case;
/// the first of each is Peloton's current spelling).
fn units_of(header: &str, unit: Option<&str>, imperial: &[&str], metric: &[&str]) -> Result<Units, IngestError> {
    let is = |spellings: &[&str]| unit.is_some_and(|u| spellings.iter().any(|s| s.eq_ignore_ascii_case(u)));
    if is(imperial) {
        Ok(Units::Imperial)
    } else if is(metric) {
        Ok(Units::Metric)
    } else {
        Err(IngestError::WrongFormat(format!(
            "column `{}`: its unit is neither imperial ({}) nor metric ({})",
            header.trim_start_matches('\u{feff}').trim(),
            imperial.join(" or "),
            metric.join(" or ")
        )))
    }
}

/// `headers` joined for a message, cut short when long.
fn found(headers: &[String]) -> String {
    let joined = headers
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim())
        .collect::<Vec<_>>()
        .join(", ");
    match joined.char_indices().nth(MAX_FOUND_CHARS) {
        Some((cut, _)) => format!("{}...", &joined[..cut]),
        None => joined,
    }
}

impl Columns {
    /// Locates the columns by name (any case, units aside), or says why
    /// `headers` is not a Peloton workout history.
    pub(crate) fn find(headers: &[String]) -> Result<Columns, IngestError> {
        let split: Vec<(&str, Option<&str>)> = headers.iter().map(|h| split_header(h)).collect();
        let find = |name: &str| split.iter().position(|(n, _)| n.eq_ignore_ascii_case(name));
        let required: Vec<Option<usize>> = REQUIRED.iter().map(|r| find(split_header(r).0)).collect();
        let (Some(timestamp), Some(length), Some(discipline)) = (required[0], required[1], required[2]) else {
            let missing: Vec<&str> = REQUIRED
                .iter()
                .zip(&required)
                .filter(|(_, at)| at.is_none())
                .map(|(name, _)| *name)
                .collect();
            return Err(IngestError::WrongFormat(format!(
                "not a Peloton workout-history CSV: no {} column (found: {})",
                missing.join(", "),
                found(headers)
            )));
        };
        let measured = |name: &str, imperial: &[&str], metric: &[&str]| -> Result<Measured, IngestError> {
            let Some(i) = find(name) else { return Ok(None) };
            units_of(&headers[i], split[i].1, imperial, metric).map(|u| Some((i, u)))
        };
        Ok(Columns {
            timestamp,
            length,
            discipline,
            live: find("Live/On-Demand"),
            instructor: find("Instructor Name"),
            class_type: find("Type"),
            title: find("Title"),
            output: find("Total Output"),
            watts: find("Avg. Watts"),
            resistance: find("Avg. Resistance"),
            cadence: find("Avg. Cadence"),
            calories: find("Calories Burned"),
            heart_rate: find("Avg. Heartrate"),
            incline: find("Avg. Incline"),
            speed: measured("Avg. Speed", &["mph"], &["kph", "km/h"])?,
            distance: measured("Distance", &["mi", "miles"], &["km"])?,
            pace: measured("Avg. Pace", &["min/mi", "min/mile"], &["min/km"])?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header cells of a comma-separated `line`.
    fn cells(line: &str) -> Vec<String> {
        line.split(',').map(str::to_string).collect()
    }

    const IMPERIAL: &str = "\u{feff}Workout Timestamp,Live/On-Demand,Instructor Name,Length (minutes),\
        Fitness Discipline,Type,Title,Class Timestamp,Total Output,Avg. Watts,Avg. Resistance,\
        Avg. Cadence (RPM),Avg. Speed (mph),Distance (mi),Calories Burned,Avg. Heartrate,\
        Avg. Incline,Avg. Pace (min/mi)";

    #[test]
    fn headers_split_into_name_and_unit() {
        assert_eq!(split_header("\u{feff} Distance (mi) "), ("Distance", Some("mi")));
        assert_eq!(split_header("Avg. Pace (min/km)"), ("Avg. Pace", Some("min/km")));
        assert_eq!(split_header("Title"), ("Title", None));
    }

    #[test]
    fn an_imperial_header_finds_every_column() {
        let Ok(c) = Columns::find(&cells(IMPERIAL)) else {
            panic!("Peloton's own header");
        };
        assert_eq!(
            (c.timestamp, c.live, c.instructor, c.length, c.discipline),
            (0, Some(1), Some(2), 3, 4)
        );
        assert_eq!(
            (c.class_type, c.title, c.output, c.watts),
            (Some(5), Some(6), Some(8), Some(9))
        );
        assert_eq!((c.resistance, c.cadence, c.calories), (Some(10), Some(11), Some(14)));
        assert_eq!((c.heart_rate, c.incline), (Some(15), Some(16)));
        assert_eq!(c.speed, Some((12, Units::Imperial)));
        assert_eq!(c.distance, Some((13, Units::Imperial)));
        assert_eq!(c.pace, Some((17, Units::Imperial)));
    }

    #[test]
    fn a_metric_header_is_metric_and_optional_columns_may_be_absent() {
        let header =
            "Workout Timestamp,Length (minutes),Fitness Discipline,Avg. Speed (kph),Distance (km),Avg. Pace (min/km)";
        let Ok(c) = Columns::find(&cells(header)) else {
            panic!("a metric header");
        };
        assert_eq!(
            (c.speed, c.distance, c.pace),
            (
                Some((3, Units::Metric)),
                Some((4, Units::Metric)),
                Some((5, Units::Metric))
            )
        );
        assert_eq!((c.title, c.heart_rate, c.live), (None, None, None));
    }

    #[test]
    fn older_spellings_of_the_units_are_read() {
        let header = IMPERIAL
            .replace("(mph)", "(MPH)")
            .replace("(mi)", "(miles)")
            .replace("(min/mi)", "(min/mile)");
        let Ok(c) = Columns::find(&cells(&header)) else {
            panic!("an older imperial header");
        };
        assert_eq!(
            (c.speed, c.distance, c.pace),
            (
                Some((12, Units::Imperial)),
                Some((13, Units::Imperial)),
                Some((17, Units::Imperial))
            )
        );
    }

    #[test]
    fn other_units_are_the_wrong_format_naming_the_column() {
        let header = IMPERIAL.replace("Distance (mi)", "Distance (furlongs)");
        assert_eq!(
            Columns::find(&cells(&header)),
            Err(IngestError::WrongFormat(
                "column `Distance (furlongs)`: its unit is neither imperial (mi or miles) nor metric (km)".into()
            ))
        );
        let header = IMPERIAL.replace("Avg. Speed (mph)", "Avg. Speed");
        assert_eq!(
            Columns::find(&cells(&header)),
            Err(IngestError::WrongFormat(
                "column `Avg. Speed`: its unit is neither imperial (mph) nor metric (kph or km/h)".into()
            ))
        );
    }

    #[test]
    fn another_export_is_the_wrong_format_naming_what_is_missing() {
        let mfp = "\u{feff}Date,Meal,Time,Calories,Fat (g),Protein (g),Note";
        assert_eq!(
            Columns::find(&cells(mfp)),
            Err(IngestError::WrongFormat(
                "not a Peloton workout-history CSV: no Workout Timestamp, Length (minutes), Fitness Discipline \
                 column (found: Date, Meal, Time, Calories, Fat (g), Protein (g), Note)"
                    .into()
            ))
        );
        let partial = "Workout Timestamp,Fitness Discipline";
        let Err(IngestError::WrongFormat(m)) = Columns::find(&cells(partial)) else {
            panic!("no Length column");
        };
        assert!(
            m.starts_with("not a Peloton workout-history CSV: no Length (minutes) column"),
            "{m}"
        );
        let long = vec!["x".repeat(500)];
        let Err(IngestError::WrongFormat(m)) = Columns::find(&long) else {
            panic!("one long header");
        };
        assert!(m.ends_with("...)") && m.len() < 400, "{m}");
    }
}
