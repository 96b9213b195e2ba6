//! One data row of a Peloton CSV read into a [`Workout`]: the timestamp
//! placed in UTC, the length checked, each numeric cell parsed (empty is
//! absent) and the distance, speed and pace converted to metric through
//! the registry's length units. Any unreadable cell makes the whole row a
//! problem, named by its column.

use healthplug_sdk::{DataType, Timestamp};

use crate::columns::{Columns, Measured};
use crate::zones::parse_timestamp;

/// The longest workout believed, in minutes (a day).
const MAX_MINUTES: f64 = 24.0 * 60.0;

/// The plausible range of an average heart rate, in beats per minute.
const HEART_RATE: std::ops::RangeInclusive<f64> = 20.0..=260.0;

/// A row as read: times in UTC, numbers in the units of the metadata keys.
#[derive(Debug, PartialEq)]
pub(crate) struct Workout {
    pub(crate) start: Timestamp,
    pub(crate) end: Timestamp,
    pub(crate) minutes: f64,
    pub(crate) discipline: String,
    pub(crate) title: String,
    pub(crate) instructor: String,
    pub(crate) class_type: String,
    pub(crate) live: Option<bool>,
    /// (metadata key, value) of each numeric cell present, in column order.
    pub(crate) numbers: Vec<(&'static str, f64)>,
    /// The average heart rate, when measured.
    pub(crate) heart_rate: Option<f64>,
    /// The heart rate cell was `0`: no monitor was paired.
    pub(crate) heart_rate_zero: bool,
}

/// The trimmed cell of column `i` of `row`; "" when there is no such column.
pub(crate) fn cell(row: &csv::StringRecord, i: Option<usize>) -> &str {
    i.and_then(|i| row.get(i)).unwrap_or("").trim()
}

/// The number in `text` (a trailing `%` allowed when `percent`), `None`
/// when empty, or why it is not a number.
fn number(column: &str, text: &str, percent: bool) -> Result<Option<f64>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let digits = if percent {
        text.strip_suffix('%').unwrap_or(text).trim_end()
    } else {
        text
    };
    match digits.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        _ => Err(format!("{column} `{text}` is not a number")),
    }
}

/// The number in `text`, which may not be negative.
fn amount(column: &str, text: &str, percent: bool) -> Result<Option<f64>, String> {
    match number(column, text, percent)? {
        Some(v) if v < 0.0 => Err(format!("{column} `{text}` is negative")),
        v => Ok(v),
    }
}

/// A pace in minutes: decimal (`9.5`, as Peloton writes it) or `m:ss`
/// (`9:30`); `None` when empty.
fn pace(column: &str, text: &str) -> Result<Option<f64>, String> {
    let Some((m, s)) = text.split_once(':') else {
        return amount(column, text, false);
    };
    match (m.parse::<u32>(), s.parse::<u32>()) {
        (Ok(m), Ok(secs)) if secs < 60 && s.len() == 2 => Ok(Some(f64::from(m) + f64::from(secs) / 60.0)),
        _ => Err(format!("{column} `{text}` is not a pace")),
    }
}

/// Metres in `value` of length `unit` (`mi` or `km`), by the registry's
/// conversion (any distance type converts lengths alike).
fn metres(value: f64, unit: &str) -> Result<f64, String> {
    DataType::DistanceWalkingRunning
        .to_canonical(value, unit)
        .map_err(|e| e.to_string())
}

/// `value` rounded to `places` decimals.
fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

/// True for `Live`, false for `On Demand` (and its spellings) and
/// `Encore` (a replay), `None` for anything else.
fn live(text: &str) -> Option<bool> {
    let key: String = text.chars().filter(char::is_ascii_alphanumeric).collect();
    match key.to_ascii_lowercase().as_str() {
        "live" => Some(true),
        "ondemand" | "encore" => Some(false),
        _ => None,
    }
}

/// Reads `row` into a workout, or says which cell is unreadable.
pub(crate) fn read(columns: &Columns, row: &csv::StringRecord) -> Result<Workout, String> {
    let timestamp = cell(row, Some(columns.timestamp));
    if timestamp.is_empty() {
        return Err("no Workout Timestamp".to_string());
    }
    let start = parse_timestamp(timestamp)?;
    let length = cell(row, Some(columns.length));
    let minutes = match amount("Length", length, false)? {
        None => return Err("no Length".to_string()),
        Some(m) if m > MAX_MINUTES => return Err(format!("Length `{length}` minutes is longer than a day")),
        Some(m) => m,
    };
    let end = Timestamp::from_millis(start.millis() + (minutes * 60_000.0).round() as i64);
    let (heart_rate, heart_rate_zero) = match amount("Avg. Heartrate", cell(row, columns.heart_rate), false)? {
        Some(0.0) => (None, true),
        Some(hr) if !HEART_RATE.contains(&hr) => {
            return Err(format!("Avg. Heartrate `{hr}` is not a plausible heart rate"));
        }
        hr => (hr, false),
    };
    Ok(Workout {
        start,
        end,
        minutes,
        discipline: cell(row, Some(columns.discipline)).to_string(),
        title: cell(row, columns.title).to_string(),
        instructor: cell(row, columns.instructor).to_string(),
        class_type: cell(row, columns.class_type).to_string(),
        live: live(cell(row, columns.live)),
        numbers: numbers(columns, row)?,
        heart_rate,
        heart_rate_zero,
    })
}

/// The numeric cells of `row` as (metadata key, value), converted to
/// metric and rounded where converted.
fn numbers(columns: &Columns, row: &csv::StringRecord) -> Result<Vec<(&'static str, f64)>, String> {
    let plain = [
        ("energy_kcal", "Calories Burned", columns.calories, false),
        ("output_kj", "Total Output", columns.output, false),
        ("avg_watts", "Avg. Watts", columns.watts, false),
        ("avg_resistance_pct", "Avg. Resistance", columns.resistance, true),
        ("avg_cadence_rpm", "Avg. Cadence", columns.cadence, false),
    ];
    let mut out = Vec::new();
    for (key, column, at, percent) in plain {
        if let Some(v) = amount(column, cell(row, at), percent)? {
            out.push((key, v));
        }
    }
    // A treadmill's incline may be negative (a decline).
    if let Some(v) = number("Avg. Incline", cell(row, columns.incline), true)? {
        out.push(("avg_incline_pct", v));
    }
    // (value, metres in the column's length unit) of a measured column.
    let measured = |column: &str, at: Measured| -> Result<Option<(f64, f64)>, String> {
        let Some((i, units)) = at else { return Ok(None) };
        let metres_per_unit = metres(1.0, units.length())?;
        let text = cell(row, Some(i));
        let value = if column == "Avg. Pace" {
            pace(column, text)?
        } else {
            amount(column, text, false)?
        };
        Ok(value.map(|v| (v, metres_per_unit)))
    };
    if let Some((v, m)) = measured("Distance", columns.distance)? {
        out.push(("distance_m", round(v * m, 1)));
    }
    if let Some((v, m)) = measured("Avg. Speed", columns.speed)? {
        out.push(("avg_speed_kph", round(v * m / 1000.0, 2)));
    }
    if let Some((v, m)) = measured("Avg. Pace", columns.pace)? {
        out.push(("avg_pace_min_per_km", round(v * 1000.0 / m, 2)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "Workout Timestamp|Live/On-Demand|Instructor Name|Length (minutes)|Fitness Discipline|\
        Type|Title|Class Timestamp|Total Output|Avg. Watts|Avg. Resistance|Avg. Cadence (RPM)|\
        Avg. Speed (UNIT_SPEED)|Distance (UNIT_LENGTH)|Calories Burned|Avg. Heartrate|Avg. Incline|\
        Avg. Pace (min/UNIT_LENGTH)";

    /// The columns of Peloton's header in `imperial` or metric units.
    fn columns(imperial: bool) -> Columns {
        let (speed, length) = if imperial { ("mph", "mi") } else { ("kph", "km") };
        let header = HEADER.replace("UNIT_SPEED", speed).replace("UNIT_LENGTH", length);
        match Columns::find(&header.split('|').map(str::to_string).collect::<Vec<_>>()) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    /// A data row from cells separated by `|` (a cell may hold a comma).
    fn row(cells: &str) -> csv::StringRecord {
        csv::StringRecord::from(cells.split('|').collect::<Vec<_>>())
    }

    /// The row read with `columns`, or a panic naming the problem.
    fn workout(columns: &Columns, cells: &str) -> Workout {
        match read(columns, &row(cells)) {
            Ok(w) => w,
            Err(e) => panic!("{e}"),
        }
    }

    const RIDE: &str = "2020-04-17 12:29 (PDT)|Live|Cody Rigsby|20|Cycling|Music|20 min Pop Ride, Live|\
        2020-04-17 12:00 (PDT)|250|208|45%|80|20.00|10.00|300|140|||";

    #[test]
    fn an_imperial_ride_is_placed_in_utc_and_converted_to_metric() {
        let w = workout(&columns(true), RIDE);
        assert_eq!(
            (w.start.millis(), w.end.millis()),
            (1_587_151_740_000, 1_587_152_940_000)
        );
        assert_eq!((w.minutes, w.live, w.heart_rate), (20.0, Some(true), Some(140.0)));
        assert_eq!(
            (
                w.discipline.as_str(),
                w.title.as_str(),
                w.instructor.as_str(),
                w.class_type.as_str()
            ),
            ("Cycling", "20 min Pop Ride, Live", "Cody Rigsby", "Music")
        );
        assert_eq!(
            w.numbers,
            vec![
                ("energy_kcal", 300.0),
                ("output_kj", 250.0),
                ("avg_watts", 208.0),
                ("avg_resistance_pct", 45.0),
                ("avg_cadence_rpm", 80.0),
                ("distance_m", 16_093.4),
                ("avg_speed_kph", 32.19),
            ]
        );
    }

    #[test]
    fn metric_values_stay_and_imperial_pace_converts() {
        let metric = "2021-01-05 07:15 (CET)|On Demand|Adrian Williams|30|Running|Intervals|30 min Run|\
            |||||20|10|350||-1.5|6.00";
        let w = workout(&columns(false), metric);
        let get = |k: &str| w.numbers.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
        assert_eq!(get("avg_speed_kph"), Some(20.0));
        assert_eq!(get("distance_m"), Some(10_000.0));
        assert_eq!(get("avg_pace_min_per_km"), Some(6.0));
        assert_eq!(get("avg_incline_pct"), Some(-1.5));
        assert_eq!((w.live, w.heart_rate), (Some(false), None));
        let imperial = metric.replace("6.00", "10:00");
        let w = workout(&columns(true), &imperial);
        let get = |k: &str| w.numbers.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
        assert_eq!(get("avg_pace_min_per_km"), Some(6.21));
        assert_eq!(get("avg_speed_kph"), Some(32.19));
    }

    #[test]
    fn empty_cells_and_short_rows_are_absent() {
        let w = workout(&columns(true), "2020-04-17 12:29 (PDT)||| 10 |Meditation|||||||||||||");
        assert_eq!((w.numbers.len(), w.heart_rate, w.live), (0, None, None));
        assert_eq!((w.title.as_str(), w.instructor.as_str()), ("", ""));
        let w = workout(&columns(true), "2020-04-17 12:29 (PDT)|Live||5|Stretching");
        assert_eq!((w.minutes, w.numbers.len()), (5.0, 0));
    }

    #[test]
    fn resistance_may_be_a_percentage_or_a_number() {
        let plain = RIDE.replace("45%", "45");
        assert_eq!(
            workout(&columns(true), &plain).numbers,
            workout(&columns(true), RIDE).numbers
        );
        assert_eq!(number("Avg. Incline", "1.5 %", true), Ok(Some(1.5)));
        assert!(number("Avg. Watts", "45%", false).is_err());
    }

    #[test]
    fn a_zero_heart_rate_means_no_monitor() {
        let w = workout(&columns(true), &RIDE.replace("|140|", "|0|"));
        assert_eq!((w.heart_rate, w.heart_rate_zero), (None, true));
    }

    #[test]
    fn bad_cells_make_the_row_a_problem_naming_them() {
        let c = columns(true);
        let problem = |from: &str, to: &str| read(&c, &row(&RIDE.replace(from, to))).err();
        assert_eq!(
            problem("|20|Cycling", "|-20|Cycling").as_deref(),
            Some("Length `-20` is negative")
        );
        assert_eq!(problem("|20|Cycling", "||Cycling").as_deref(), Some("no Length"));
        assert_eq!(read(&c, &row("|||")).err().as_deref(), Some("no Workout Timestamp"));
        assert_eq!(
            problem("|20|Cycling", "|2000|Cycling").as_deref(),
            Some("Length `2000` minutes is longer than a day")
        );
        assert_eq!(
            problem("|208|", "|lots|").as_deref(),
            Some("Avg. Watts `lots` is not a number")
        );
        assert_eq!(
            problem("|208|", "|NaN|").as_deref(),
            Some("Avg. Watts `NaN` is not a number")
        );
        assert_eq!(problem("|10.00|", "|-3|").as_deref(), Some("Distance `-3` is negative"));
        assert_eq!(
            problem("|140|", "|400|").as_deref(),
            Some("Avg. Heartrate `400` is not a plausible heart rate")
        );
        assert_eq!(
            problem("12:29 (PDT)|Live", "12:29 (XYZ)|Live").as_deref(),
            Some("timestamp `2020-04-17 12:29 (XYZ)`: unknown time zone `XYZ`")
        );
        assert_eq!(
            pace("Avg. Pace", "9:75"),
            Err("Avg. Pace `9:75` is not a pace".to_string())
        );
    }

    #[test]
    fn live_on_demand_and_encore() {
        assert_eq!(live("Live"), Some(true));
        assert_eq!(
            (live("On Demand"), live("On-Demand"), live("Encore")),
            (Some(false), Some(false), Some(false))
        );
        assert_eq!((live(""), live("Scenic")), (None, None));
    }
}
