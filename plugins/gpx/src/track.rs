//! The points and tracks of a GPX file as they are read, and a finished
//! track as a workout sample.

use std::collections::BTreeMap;

use healthplug_sdk::registry::vocab::ACTIVITY;
use healthplug_sdk::serde_json::{self, Value};
use healthplug_sdk::{DataType, NewSample, Timestamp};
use quick_xml::events::BytesStart;

/// The activity code for a GPX `<type>` (free text; Strava, Garmin and
/// Nike write words like `running`, `run`, `cycling`, `road_biking`):
/// `other` when it names none of healthplug's activities.
pub(crate) fn activity(kind: &str) -> &'static str {
    let k = kind.trim().to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| k.contains(w));
    if has(&["run", "jog"]) {
        "running"
    } else if has(&["hik", "trek"]) {
        "hiking"
    } else if has(&["walk"]) {
        "walking"
    } else if has(&["cycl", "bik", "ride", "riding"]) {
        "cycling"
    } else if has(&["swim"]) {
        "swimming"
    } else if has(&["row", "kayak", "canoe", "paddl"]) {
        "rowing"
    } else {
        "other"
    }
}

/// A point of a track or a waypoint.
#[derive(Default)]
pub(crate) struct Point {
    lat: Option<f64>,
    lon: Option<f64>,
    ele: Option<f64>,
    pub(crate) time: Option<Timestamp>,
    pub(crate) hr: Option<f64>,
    pub(crate) line: u32,
    pub(crate) bad: Option<String>,
}

/// A track being read.
#[derive(Default)]
pub(crate) struct Track {
    name: Option<String>,
    kind: Option<String>,
    points: u32,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    distance_m: f64,
    gain_m: f64,
    previous: Option<(f64, f64, Option<f64>)>,
    pub(crate) line: u32,
}

/// Great-circle distance in metres between two (lat, lon) points in degrees.
fn haversine_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let r = 6_371_008.8;
    let (la1, la2) = (a.0.to_radians(), b.0.to_radians());
    let dla = la2 - la1;
    let dlo = (b.1 - a.1).to_radians();
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * r * h.sqrt().asin()
}

/// The number in attribute `key` of `e`, if present, or why it is not a number.
fn coordinate(e: &BytesStart<'_>, key: &[u8]) -> Result<Option<f64>, String> {
    for attr in e.attributes().flatten() {
        if attr.key.as_ref() == key {
            let text = attr.unescape_value().map_err(|err| err.to_string())?;
            return text
                .trim()
                .parse::<f64>()
                .map(Some)
                .map_err(|_| format!("{} `{text}` is not a number", String::from_utf8_lossy(key)));
        }
    }
    Ok(None)
}

impl Point {
    /// A point opened by `e` at `line`, with its `lat` and `lon` attributes.
    pub(crate) fn open(e: &BytesStart<'_>, line: u32) -> Point {
        let mut p = Point {
            line,
            ..Point::default()
        };
        match (coordinate(e, b"lat"), coordinate(e, b"lon")) {
            (Ok(lat), Ok(lon)) => {
                p.lat = lat;
                p.lon = lon;
            }
            (Err(m), _) | (_, Err(m)) => p.bad = Some(m),
        }
        p
    }

    /// Sets the point's `time`, `ele` or `hr` from the text of that element.
    pub(crate) fn set_text(&mut self, field: &[u8], text: &str) {
        match field {
            b"time" => match text.parse::<jiff::Timestamp>() {
                Ok(ts) => self.time = Some(Timestamp::from_millis(ts.as_millisecond())),
                Err(_) => self.bad = Some(format!("time `{text}` is not a date-time")),
            },
            b"ele" => self.ele = text.parse().ok(),
            b"hr" => match text.parse::<f64>() {
                Ok(v) if (20.0..=260.0).contains(&v) => self.hr = Some(v),
                _ => self.bad = Some(format!("heart rate `{text}` is out of range")),
            },
            _ => {}
        }
    }
}

impl Track {
    /// A track opened at `line`, with no points yet.
    pub(crate) fn open(line: u32) -> Track {
        Track {
            line,
            ..Track::default()
        }
    }

    /// Sets the track's `type` (lower-cased) or `name` from the text of that element.
    pub(crate) fn set_text(&mut self, field: &[u8], text: String) {
        match field {
            b"type" => self.kind = Some(text.to_ascii_lowercase()),
            b"name" => self.name = Some(text),
            _ => {}
        }
    }

    /// Adds a point: widens the time span, adds distance and climb from the previous point.
    pub(crate) fn add(&mut self, p: &Point) {
        self.points += 1;
        if let Some(t) = p.time {
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        }
        if let (Some(lat), Some(lon)) = (p.lat, p.lon) {
            if let Some((plat, plon, pele)) = self.previous {
                self.distance_m += haversine_m((plat, plon), (lat, lon));
                if let (Some(a), Some(b)) = (pele, p.ele)
                    && b > a
                {
                    self.gain_m += b - a;
                }
            }
            self.previous = Some((lat, lon, p.ele));
        }
    }

    /// The track as a workout sample, or why it cannot be one.
    pub(crate) fn workout(&self, source: &str) -> Result<NewSample, String> {
        let (Some(start), Some(end)) = (self.first, self.last) else {
            return Err(format!(
                "track of {} points has no timestamps, so it cannot be placed in time",
                self.points
            ));
        };
        let kind = self.kind.clone().unwrap_or_else(|| "unknown".into());
        let minutes = (end.millis() - start.millis()) as f64 / 60_000.0;
        let mut meta = BTreeMap::new();
        meta.insert(
            "distance_m".to_string(),
            Value::from((self.distance_m * 10.0).round() / 10.0),
        );
        meta.insert(
            "elevation_gain_m".to_string(),
            Value::from((self.gain_m * 10.0).round() / 10.0),
        );
        meta.insert("points".to_string(), Value::from(self.points));
        if let Some(n) = &self.name {
            meta.insert("name".to_string(), Value::String(n.clone()));
        }
        let code = activity(&kind);
        let display = match ACTIVITY.code(code) {
            Some(c) if code != "other" => c.display.to_string(),
            _ => kind.clone(),
        };
        meta.insert("sourceActivity".to_string(), Value::String(kind.clone()));
        let mut s = NewSample::coded(DataType::Workout, start, end, ACTIVITY.system, code, &display)
            .with_value(minutes, "min")
            .with_source(source);
        s.metadata = serde_json::to_string(&meta).ok();
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpx_types_map_to_activity_codes() {
        for (kind, code) in [
            ("running", "running"),
            ("run", "running"),
            ("9", "other"),
            ("road_biking", "cycling"),
            ("Cycling", "cycling"),
            ("hiking", "hiking"),
            ("walking", "walking"),
            ("open water swimming", "swimming"),
            ("unknown", "other"),
        ] {
            assert_eq!(activity(kind), code, "{kind}");
            assert!(ACTIVITY.code(code).is_some());
        }
    }

    /// A point at (`lat`, `lon`, `ele`) and `time` (ms), with no problem.
    fn at(lat: f64, lon: f64, ele: Option<f64>, time: i64) -> Point {
        Point {
            lat: Some(lat),
            lon: Some(lon),
            ele,
            time: Some(Timestamp::from_millis(time)),
            ..Point::default()
        }
    }

    #[test]
    fn haversine_of_a_degree_of_latitude_is_about_111_km() {
        let d = haversine_m((0.0, 0.0), (1.0, 0.0));
        assert!((d - 111_195.0).abs() < 1.0, "{d}");
        assert_eq!(haversine_m((47.6, -122.3), (47.6, -122.3)), 0.0);
    }

    #[test]
    fn a_point_reads_its_coordinates_or_says_which_is_bad() {
        let p = Point::open(&BytesStart::from_content(r#"trkpt lat=" 47.5" lon="-122.25""#, 5), 7);
        assert_eq!(
            (p.lat, p.lon, p.line, p.bad.as_deref()),
            (Some(47.5), Some(-122.25), 7, None)
        );
        let p = Point::open(&BytesStart::from_content(r#"trkpt lat="north" lon="1""#, 5), 1);
        assert_eq!(p.bad.as_deref(), Some("lat `north` is not a number"));
        let p = Point::open(&BytesStart::from_content("wpt", 3), 1);
        assert_eq!((p.lat, p.lon, p.bad), (None, None, None));
    }

    #[test]
    fn point_text_sets_time_elevation_and_a_plausible_heart_rate() {
        let mut p = Point::default();
        p.set_text(b"time", "2021-06-01T07:00:00Z");
        p.set_text(b"ele", "52.5");
        p.set_text(b"hr", "120");
        p.set_text(b"name", "ignored");
        assert_eq!(p.time.map(Timestamp::millis), Some(1_622_530_800_000));
        assert_eq!((p.ele, p.hr, p.bad.as_deref()), (Some(52.5), Some(120.0), None));
        p.set_text(b"hr", "300");
        assert_eq!(p.bad.as_deref(), Some("heart rate `300` is out of range"));
        p.set_text(b"time", "yesterday");
        assert_eq!(p.bad.as_deref(), Some("time `yesterday` is not a date-time"));
    }

    #[test]
    fn a_track_sums_distance_and_climb_and_becomes_a_workout() {
        let mut t = Track::open(3);
        t.set_text(b"type", "Running".into());
        t.set_text(b"name", "Morning run".into());
        t.add(&at(0.0, 0.0, Some(10.0), 60_000));
        t.add(&at(0.001, 0.0, Some(15.0), 0));
        t.add(&at(0.002, 0.0, Some(12.0), 600_000));
        assert_eq!(t.points, 3);
        assert!((t.distance_m - 222.4).abs() < 0.1, "{}", t.distance_m);
        assert_eq!(t.gain_m, 5.0);
        let Ok(s) = t.workout("test") else {
            panic!("a timed track is a workout");
        };
        assert_eq!((s.start.millis(), s.end.millis()), (0, 600_000));
        assert_eq!((s.value, s.unit.as_str()), (Some(10.0), "min"));
        assert_eq!(s.coding.map(|c| c.code), Some("running".to_string()));
        assert_eq!(s.source_name.as_deref(), Some("test"));
        assert_eq!(
            s.metadata.as_deref(),
            Some(
                r#"{"distance_m":222.4,"elevation_gain_m":5.0,"name":"Morning run","points":3,"sourceActivity":"running"}"#
            )
        );
    }

    #[test]
    fn a_track_without_times_is_not_a_workout() {
        let mut t = Track::open(1);
        t.add(&Point::default());
        assert_eq!(
            t.workout("test").err().as_deref(),
            Some("track of 1 points has no timestamps, so it cannot be placed in time")
        );
    }
}
