//! GPX connector: each `<trk>` becomes a workout (start and end from its
//! point times, distance by the haversine formula, elevation gain, the
//! activity from `<type>`), and every track point or waypoint with a heart
//! rate (`gpxtpx:hr`, `ns3:hr`, `hr`) becomes a heart-rate sample.
//! Namespaces and prefixes vary between writers, so elements are matched by
//! local name.

use std::collections::BTreeMap;

use healthplug_sdk::serde_json::{self, Value};
use healthplug_sdk::{
    Args, Connector, DataType, IngestError, Input, NewSample, Report, Timestamp, Writer, export_connector,
};
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

struct Gpx;

export_connector!(Gpx);

const ACTIVITY_SYSTEM: &str = "https://healthplug.dev/vocab/gpx-activity";

/// A point of a track or a waypoint.
#[derive(Default)]
struct Point {
    lat: Option<f64>,
    lon: Option<f64>,
    ele: Option<f64>,
    time: Option<Timestamp>,
    hr: Option<f64>,
    line: u32,
    bad: Option<String>,
}

/// A track being read.
#[derive(Default)]
struct Track {
    name: Option<String>,
    kind: Option<String>,
    points: u32,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    distance_m: f64,
    gain_m: f64,
    previous: Option<(f64, f64, Option<f64>)>,
    line: u32,
}

fn haversine_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let r = 6_371_008.8;
    let (la1, la2) = (a.0.to_radians(), b.0.to_radians());
    let dla = la2 - la1;
    let dlo = (b.1 - a.1).to_radians();
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * r * h.sqrt().asin()
}

fn local(name: &[u8]) -> &[u8] {
    name.rsplit(|b| *b == b':').next().unwrap_or(name)
}

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

impl Track {
    fn add(&mut self, p: &Point) {
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

    fn workout(&self, source: &str) -> Result<NewSample, String> {
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
        let mut s = NewSample::coded(DataType::Workout, start, end, ACTIVITY_SYSTEM, &kind, &kind)
            .with_value(minutes, "min")
            .with_source(source);
        s.metadata = serde_json::to_string(&meta).ok();
        Ok(s)
    }
}

impl Connector for Gpx {
    fn ingest(input: &mut Input, _options: &Args) -> Result<Report, IngestError> {
        let head = String::from_utf8_lossy(input.peek(8192)?).into_owned();
        if !head.trim_start().starts_with('<') || !head.contains("<gpx") {
            return Err(IngestError::WrongFormat(
                "not a GPX file: no <gpx> element at the start".into(),
            ));
        }
        let mut reader = Reader::from_reader(&mut *input);
        reader.config_mut().trim_text(true);
        let mut report = Report::new();
        let mut writer = Writer::new();
        let mut buf = Vec::new();
        let mut creator = String::from("GPX");
        let mut track: Option<Track> = None;
        let mut point: Option<Point> = None;
        let mut text_of: Option<Vec<u8>> = None;
        loop {
            let event = reader.read_event_into(&mut buf);
            let line = reader.get_ref().line();
            match event {
                Err(e) => {
                    report.problem(
                        line,
                        format!("XML syntax error, the rest of the file is unreadable: {e}"),
                    );
                    break;
                }
                Ok(Event::Eof) => break,
                Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                    let name = local(e.name().as_ref()).to_vec();
                    match name.as_slice() {
                        b"gpx" => {
                            if let Some(Ok(a)) = e
                                .attributes()
                                .flatten()
                                .find(|a| a.key.as_ref() == b"creator")
                                .map(|a| a.unescape_value().map(|v| v.into_owned()))
                            {
                                creator = a;
                            }
                        }
                        b"trk" => {
                            track = Some(Track {
                                line,
                                ..Track::default()
                            })
                        }
                        b"trkpt" | b"wpt" | b"rtept" => {
                            let mut p = Point {
                                line,
                                ..Point::default()
                            };
                            match (coordinate(&e, b"lat"), coordinate(&e, b"lon")) {
                                (Ok(lat), Ok(lon)) => {
                                    p.lat = lat;
                                    p.lon = lon;
                                }
                                (Err(m), _) | (_, Err(m)) => p.bad = Some(m),
                            }
                            point = Some(p);
                        }
                        b"time" | b"ele" | b"hr" | b"type" | b"name" => text_of = Some(name),
                        _ => {}
                    }
                }
                Ok(Event::Text(t)) => {
                    if let Some(field) = &text_of {
                        let text = t.decode().map(|c| c.trim().to_string()).unwrap_or_default();
                        match (field.as_slice(), point.as_mut()) {
                            (b"time", Some(p)) => match text.parse::<jiff::Timestamp>() {
                                Ok(ts) => p.time = Some(Timestamp::from_millis(ts.as_millisecond())),
                                Err(_) => p.bad = Some(format!("time `{text}` is not a date-time")),
                            },
                            (b"ele", Some(p)) => p.ele = text.parse().ok(),
                            (b"hr", Some(p)) => match text.parse::<f64>() {
                                Ok(v) if (20.0..=260.0).contains(&v) => p.hr = Some(v),
                                _ => p.bad = Some(format!("heart rate `{text}` is out of range")),
                            },
                            (b"type", None) => {
                                if let Some(t) = track.as_mut() {
                                    t.kind = Some(text.to_ascii_lowercase());
                                }
                            }
                            (b"name", None) => {
                                if let Some(t) = track.as_mut() {
                                    t.name = Some(text);
                                }
                            }
                            _ => {}
                        }
                    }
                }
                Ok(Event::End(e)) => {
                    let name = local(e.name().as_ref()).to_vec();
                    text_of = None;
                    match name.as_slice() {
                        b"trkpt" | b"wpt" | b"rtept" => {
                            if let Some(p) = point.take() {
                                report.records_read += 1;
                                if let Some(reason) = &p.bad {
                                    report.problem(p.line, reason.clone());
                                } else if let (Some(hr), Some(t)) = (p.hr, p.time) {
                                    let s = NewSample::quantity(DataType::HeartRate, t, t, hr, "/min")
                                        .with_source(&creator);
                                    writer.push(s, &mut report)?;
                                } else if p.hr.is_some() {
                                    report.skip("heart rate without a time");
                                }
                                if p.bad.is_some() {
                                    // Already noted.
                                } else if name.as_slice() == b"trkpt" {
                                    if let Some(t) = track.as_mut() {
                                        t.add(&p);
                                    }
                                } else if p.hr.is_none() {
                                    report.skip(format!("{} without heart rate", String::from_utf8_lossy(&name)));
                                }
                            }
                        }
                        b"trk" => {
                            if let Some(t) = track.take() {
                                report.records_read += 1;
                                match t.workout(&creator) {
                                    Ok(s) => writer.push(s, &mut report)?,
                                    Err(reason) => report.problem(t.line, reason),
                                }
                            }
                        }
                        _ => {}
                    }
                }
                Ok(_) => {}
            }
            buf.clear();
        }
        let written = writer.finish()?;
        report.samples_written = written.accepted;
        Ok(report)
    }
}
