//! GPX connector: each `<trk>` becomes a workout (start and end from its
//! point times, distance by the haversine formula, elevation gain, the
//! activity from `<type>`), and every track point or waypoint with a heart
//! rate (`gpxtpx:hr`, `ns3:hr`, `hr`) becomes a heart-rate sample.
//! Namespaces and prefixes vary between writers, so elements are matched by
//! local name.

mod track;

use healthplug_sdk::{Args, Connector, DataType, IngestError, Input, NewSample, Report, Writer, export_connector};
use quick_xml::Reader;
use quick_xml::events::{BytesStart, BytesText, Event};
use track::{Point, Track};

struct Gpx;

export_connector!(Gpx);

/// An element name without its namespace prefix: `gpxtpx:hr` → `hr`.
fn local(name: &[u8]) -> &[u8] {
    name.rsplit(|b| *b == b':').next().unwrap_or(name)
}

impl Connector for Gpx {
    fn ingest(input: &mut Input, _options: &Args) -> Result<Report, IngestError> {
        check_format(input)?;
        let mut reader = Reader::from_reader(&mut *input);
        reader.config_mut().trim_text(true);
        let mut import = Import::new();
        let mut buf = Vec::new();
        loop {
            let event = reader.read_event_into(&mut buf);
            let line = reader.get_ref().line();
            match event {
                Err(e) => {
                    import.report.problem(
                        line,
                        format!("XML syntax error, the rest of the file is unreadable: {e}"),
                    );
                    break;
                }
                Ok(Event::Eof) => break,
                Ok(Event::Start(e)) => import.open(&e, line),
                // `<trkpt …/>`: opened and complete at once.
                Ok(Event::Empty(e)) => {
                    import.open(&e, line);
                    import.close(local(e.name().as_ref()))?;
                }
                Ok(Event::Text(t)) => import.text(&t),
                Ok(Event::End(e)) => import.close(local(e.name().as_ref()))?,
                Ok(_) => {}
            }
            buf.clear();
        }
        import.finish()
    }
}

/// Refuses, before any parsing, a file that does not start like GPX.
fn check_format(input: &mut Input) -> Result<(), IngestError> {
    let head = String::from_utf8_lossy(input.peek(8192)?).into_owned();
    if !head.trim_start().starts_with('<') || !head.contains("<gpx") {
        return Err(IngestError::WrongFormat(
            "not a GPX file: no <gpx> element at the start".into(),
        ));
    }
    Ok(())
}

/// One import in progress: the track and point being read, the element
/// whose text comes next, and what has been written and reported.
struct Import {
    report: Report,
    writer: Writer,
    creator: String,
    track: Option<Track>,
    point: Option<Point>,
    text_of: Option<Vec<u8>>,
}

impl Import {
    /// An import that has read nothing yet; samples are credited to "GPX"
    /// until the `<gpx creator>` says otherwise.
    fn new() -> Import {
        Import {
            report: Report::new(),
            writer: Writer::new(),
            creator: String::from("GPX"),
            track: None,
            point: None,
            text_of: None,
        }
    }

    /// An opening (or empty) element at `line`: the file's creator, a
    /// track, a point, or a field whose text comes next.
    fn open(&mut self, e: &BytesStart<'_>, line: u32) {
        let name = local(e.name().as_ref()).to_vec();
        match name.as_slice() {
            b"gpx" => {
                if let Some(creator) = creator_of(e) {
                    self.creator = creator;
                }
            }
            b"trk" => self.track = Some(Track::open(line)),
            b"trkpt" | b"wpt" | b"rtept" => self.point = Some(Point::open(e, line)),
            b"time" | b"ele" | b"hr" | b"type" | b"name" => self.text_of = Some(name),
            _ => {}
        }
    }

    /// Text: a field of the point being read, or else of the track.
    fn text(&mut self, t: &BytesText<'_>) {
        let Some(field) = &self.text_of else { return };
        let text = t.decode().map(|c| c.trim().to_string()).unwrap_or_default();
        match (self.point.as_mut(), self.track.as_mut()) {
            (Some(p), _) => p.set_text(field, &text),
            (None, Some(t)) => t.set_text(field, text),
            (None, None) => {}
        }
    }

    /// A closing element: a point or a track is complete.
    fn close(&mut self, name: &[u8]) -> Result<(), IngestError> {
        self.text_of = None;
        match name {
            b"trkpt" | b"wpt" | b"rtept" => self.close_point(name),
            b"trk" => self.close_track(),
            _ => Ok(()),
        }
    }

    /// A point (`element` is `trkpt`, `wpt` or `rtept`) is complete: its
    /// heart rate is written, and a track point is added to its track.
    fn close_point(&mut self, element: &[u8]) -> Result<(), IngestError> {
        let Some(p) = self.point.take() else { return Ok(()) };
        self.report.records_read += 1;
        if let Some(reason) = &p.bad {
            self.report.problem(p.line, reason.clone());
            return Ok(());
        }
        if let (Some(hr), Some(t)) = (p.hr, p.time) {
            let s = NewSample::quantity(DataType::HeartRate, t, t, hr, "/min").with_source(&self.creator);
            self.writer.push(s, &mut self.report)?;
        } else if p.hr.is_some() {
            self.report.skip("heart rate without a time");
        }
        if element == b"trkpt" {
            if let Some(t) = self.track.as_mut() {
                t.add(&p);
            }
        } else if p.hr.is_none() {
            self.report
                .skip(format!("{} without heart rate", String::from_utf8_lossy(element)));
        }
        Ok(())
    }

    /// A track is complete: it is written as a workout, or noted as a problem.
    fn close_track(&mut self) -> Result<(), IngestError> {
        if let Some(t) = self.track.take() {
            self.report.records_read += 1;
            match t.workout(&self.creator) {
                Ok(s) => self.writer.push(s, &mut self.report)?,
                Err(reason) => self.report.problem(t.line, reason),
            }
        }
        Ok(())
    }

    /// Flushes the last samples and returns the report.
    fn finish(mut self) -> Result<Report, IngestError> {
        let written = self.writer.finish()?;
        self.report.samples_written = written.accepted;
        Ok(self.report)
    }
}

/// The `creator` attribute of the `<gpx>` element, when present and readable.
fn creator_of(e: &BytesStart<'_>) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == b"creator")
        .and_then(|a| a.unescape_value().map(|v| v.into_owned()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_names_drop_any_prefix() {
        assert_eq!(local(b"gpxtpx:hr"), b"hr");
        assert_eq!(local(b"hr"), b"hr");
    }

    #[test]
    fn the_creator_attribute_is_unescaped() {
        let e = BytesStart::from_content(r#"gpx version="1.1" creator="Garmin &amp; co""#, 3);
        assert_eq!(creator_of(&e).as_deref(), Some("Garmin & co"));
        assert_eq!(creator_of(&BytesStart::from_content("gpx", 3)), None);
    }
}
