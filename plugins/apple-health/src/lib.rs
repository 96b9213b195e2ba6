//! Apple Health connector: streams an `export.xml` (any size) and imports
//! its `Record`s, `Workout`s and `ActivitySummary`s. Everything it cannot
//! map is counted in the report by reason; malformed records are noted
//! with their line number and never stop the import.

mod mapping;

use std::collections::{BTreeMap, HashSet};

use healthplug_sdk::{Args, Connector, IngestError, Input, Report, Writer, export_connector};
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use mapping::{Element, Outcome};

struct AppleHealth;

export_connector!(AppleHealth);

/// Reads every attribute of an element (unescaped) into a map.
fn attributes(e: &BytesStart<'_>) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for attr in e.attributes() {
        let attr = attr.map_err(|err| format!("malformed attribute: {err}"))?;
        let key = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
        let value = attr.unescape_value().map_err(|err| format!("attribute {key}: {err}"))?;
        out.insert(key, value.into_owned());
    }
    Ok(out)
}

/// Where the parser is: inside a record whose children it collects, or
/// inside an element whose children it ignores.
enum Open {
    Element(Element),
    Ignored { name: Vec<u8>, depth: u32 },
}

impl Connector for AppleHealth {
    fn ingest(input: &mut Input, _options: &Args) -> Result<Report, IngestError> {
        let head = String::from_utf8_lossy(input.peek(64 * 1024)?).into_owned();
        if !head.trim_start().starts_with('<') || !head.contains("<HealthData") {
            return Err(IngestError::WrongFormat(
                "not an Apple Health export: no <HealthData> element at the start (expected the export.xml from Health > Export All Health Data)".into(),
            ));
        }
        let mut reader = Reader::from_reader(input);
        reader.config_mut().trim_text(true);
        let mut report = Report::new();
        let mut writer = Writer::new();
        let mut state = mapping::State::default();
        let mut open: Option<Open> = None;
        let mut buf = Vec::new();
        loop {
            let event = reader.read_event_into(&mut buf);
            let line = reader.get_ref().line();
            match event {
                Err(e) => {
                    // XML syntax errors leave the stream unreadable past this
                    // point: keep what was read, note where it broke.
                    report.problem(
                        line,
                        format!("XML syntax error, the rest of the file is unreadable: {e}"),
                    );
                    break;
                }
                Ok(Event::Eof) => break,
                Ok(Event::Start(e)) => match &mut open {
                    Some(Open::Ignored { name, depth }) => {
                        if e.name().as_ref() == name.as_slice() {
                            *depth += 1;
                        }
                    }
                    Some(Open::Element(element)) => element.child(&e),
                    None => match start(&e, &mut report, line) {
                        Some(element) => open = Some(Open::Element(element)),
                        None if is_container(e.name().as_ref()) => {}
                        None => {
                            open = Some(Open::Ignored {
                                name: e.name().as_ref().to_vec(),
                                depth: 0,
                            })
                        }
                    },
                },
                Ok(Event::Empty(e)) => match &mut open {
                    Some(Open::Element(element)) => element.child(&e),
                    Some(Open::Ignored { .. }) => {}
                    None => {
                        if let Some(element) = start(&e, &mut report, line) {
                            finish(element, line, &mut state, &mut report, &mut writer)?;
                        }
                    }
                },
                Ok(Event::End(e)) => match open.take() {
                    Some(Open::Element(element)) if element.closes(e.name().as_ref()) => {
                        finish(element, line, &mut state, &mut report, &mut writer)?;
                    }
                    Some(Open::Ignored { name, depth }) if name.as_slice() == e.name().as_ref() => {
                        if depth > 0 {
                            open = Some(Open::Ignored { name, depth: depth - 1 });
                        }
                    }
                    other => open = other,
                },
                Ok(_) => {}
            }
            buf.clear();
        }
        for (line, outcome) in state.activity_summaries() {
            apply(outcome, line, &mut report, &mut writer)?;
        }
        let written = writer.finish()?;
        report.samples_written = written.accepted;
        Ok(report)
    }
}

/// The root and wrapper elements whose children are records.
fn is_container(name: &[u8]) -> bool {
    matches!(name, b"HealthData")
}

/// Starts a top-level element: a record to map, or one counted as skipped
/// (`None`).
fn start(e: &BytesStart<'_>, report: &mut Report, line: u32) -> Option<Element> {
    let name = e.name().as_ref().to_vec();
    let kind = match name.as_slice() {
        b"HealthData" | b"ExportDate" | b"Me" => return None,
        b"Record" | b"Workout" | b"ActivitySummary" => name,
        b"Correlation" => {
            report.records_read += 1;
            report.skip("Correlation (its records also appear on their own and are imported there)");
            return None;
        }
        b"ClinicalRecord" => {
            report.records_read += 1;
            report.skip("ClinicalRecord (a stub: import its FHIR JSON with the fhir-r4 connector)");
            return None;
        }
        other => {
            report.records_read += 1;
            report.skip(format!("{} (no healthplug type)", String::from_utf8_lossy(other)));
            return None;
        }
    };
    report.records_read += 1;
    match attributes(e) {
        Ok(attrs) => Some(Element::new(kind, attrs)),
        Err(reason) => {
            report.problem(line, reason);
            None
        }
    }
}

fn finish(
    element: Element,
    line: u32,
    state: &mut mapping::State,
    report: &mut Report,
    writer: &mut Writer,
) -> Result<(), IngestError> {
    let outcome = state.map(element, line);
    apply(outcome, line, report, writer)
}

fn apply(outcome: Outcome, line: u32, report: &mut Report, writer: &mut Writer) -> Result<(), IngestError> {
    match outcome {
        Outcome::Samples(samples) => {
            for s in samples {
                writer.push(s, report)?;
            }
        }
        Outcome::Skip(reason) => report.skip(reason),
        Outcome::Problem(reason) => report.problem(line, reason),
        Outcome::Deferred => {}
    }
    Ok(())
}

/// Days (`YYYY-MM-DD` as written, local to the export) that already hold
/// records of a type, so daily summaries do not count them twice.
type Covered = HashSet<(u8, String)>;
