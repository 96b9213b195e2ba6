//! FHIR R4 connector: one patient's records from a transaction `Bundle`
//! (JSON) or Bulk Data NDJSON (one resource per line, streamed in two
//! passes). A file holding several patients is refused unless `patient`
//! names one; resources of other patients are counted, never imported.

mod dates;
mod resources;

use std::collections::{BTreeSet, HashMap};
use std::io::BufRead;

use healthplug_sdk::serde_json::{self, Value};
use healthplug_sdk::{Args, Connector, IngestError, Input, Report, Writer, export_connector};

use resources::{Medications, Outcome};

struct FhirR4;

export_connector!(FhirR4);

/// The longest NDJSON line accepted (a resource larger than this is noted
/// as malformed and skipped).
const MAX_LINE: usize = 16 * 1024 * 1024;

/// The patient id a reference points to (`Patient/x`, `urn:uuid:x`).
fn reference_id(reference: &str) -> String {
    reference
        .strip_prefix("Patient/")
        .or_else(|| reference.strip_prefix("urn:uuid:"))
        .unwrap_or(reference)
        .to_string()
}

/// The patient a resource belongs to (a Patient belongs to itself).
fn patient_of(resource: &Value) -> Option<String> {
    if resource["resourceType"] == "Patient" {
        return resource["id"].as_str().map(str::to_string);
    }
    ["subject", "patient", "beneficiary"]
        .iter()
        .find_map(|k| resource[*k]["reference"].as_str())
        .map(reference_id)
}

fn refuse_many(patients: &BTreeSet<String>) -> IngestError {
    let list: Vec<&str> = patients.iter().map(String::as_str).collect();
    IngestError::InvalidOptions(format!(
        "the file holds {} patients; importing them into one user's vault would mix their records. Choose one with --patient <id>: {}",
        list.len(),
        list.join(", ")
    ))
}

/// The patient to import: the one named, or the only one in the file.
fn choose(named: Option<String>, patients: &BTreeSet<String>) -> Result<Option<String>, IngestError> {
    match named {
        Some(p) if patients.contains(&p) || patients.is_empty() => Ok(Some(p)),
        Some(p) => Err(IngestError::InvalidOptions(format!(
            "patient `{p}` is not in this file; it holds {}",
            patients.iter().cloned().collect::<Vec<_>>().join(", ")
        ))),
        None if patients.len() > 1 => Err(refuse_many(patients)),
        None => Ok(patients.iter().next().cloned()),
    }
}

/// Routes one resource: imported, or counted as skipped or malformed.
fn handle(
    resource: &Value,
    chosen: Option<&str>,
    meds: &Medications,
    where_: (u32, String),
    report: &mut Report,
    writer: &mut Writer,
) -> Result<(), IngestError> {
    report.records_read += 1;
    if let (Some(chosen), Some(owner)) = (chosen, patient_of(resource))
        && owner != chosen
    {
        report.skip("resources of other patients");
        return Ok(());
    }
    match resources::map(resource, meds) {
        Outcome::Samples(samples) => {
            for s in samples {
                writer.push(s, report)?;
            }
        }
        Outcome::Skip(reason) => report.skip(reason),
        Outcome::Problem(reason) => report.problem(where_.0, format!("{}{reason}", where_.1)),
    }
    Ok(())
}

/// Reads one line of at most `MAX_LINE` bytes; `None` at the end. A longer
/// line is consumed and returned as `Err(length)`.
fn next_line(input: &mut Input, line: &mut Vec<u8>) -> Result<Option<Result<(), usize>>, IngestError> {
    line.clear();
    let mut overflow = 0usize;
    loop {
        let available = input.fill_buf()?;
        if available.is_empty() {
            return Ok(if line.is_empty() && overflow == 0 {
                None
            } else {
                Some(Ok(()))
            });
        }
        let (chunk, done) = match available.iter().position(|b| *b == b'\n') {
            Some(i) => (&available[..=i], true),
            None => (available, false),
        };
        if overflow > 0 || line.len() + chunk.len() > MAX_LINE {
            overflow += chunk.len();
        } else {
            line.extend_from_slice(chunk);
        }
        let n = chunk.len();
        input.consume(n);
        if done {
            return Ok(Some(if overflow > 0 {
                Err(overflow + line.len())
            } else {
                Ok(())
            }));
        }
    }
}

fn ndjson(input: &mut Input, named: Option<String>, report: &mut Report) -> Result<(), IngestError> {
    // First pass: which patients does the file hold?
    let mut patients = BTreeSet::new();
    let mut line = Vec::new();
    while let Some(read) = next_line(input, &mut line)? {
        if read.is_ok()
            && let Ok(resource) = serde_json::from_slice::<Value>(&line)
            && let Some(p) = patient_of(&resource)
        {
            patients.insert(p);
        }
    }
    let chosen = choose(named, &patients)?;
    input.rewind()?;
    let mut writer = Writer::new();
    let meds = Medications::default();
    loop {
        let number = input.line();
        let Some(read) = next_line(input, &mut line)? else {
            break;
        };
        if line.iter().all(u8::is_ascii_whitespace) && read.is_ok() {
            continue;
        }
        match read {
            Err(length) => {
                report.records_read += 1;
                report.problem(
                    number,
                    format!("a resource of {length} bytes is longer than the {MAX_LINE}-byte limit"),
                );
            }
            Ok(()) => match serde_json::from_slice::<Value>(&line) {
                Ok(resource) if resource.is_object() => {
                    handle(
                        &resource,
                        chosen.as_deref(),
                        &meds,
                        (number, String::new()),
                        report,
                        &mut writer,
                    )?;
                }
                Ok(_) => {
                    report.records_read += 1;
                    report.problem(number, "not a JSON object");
                }
                Err(e) => {
                    report.records_read += 1;
                    report.problem(number, format!("not valid JSON: {e}"));
                }
            },
        }
    }
    let written = writer.finish()?;
    report.samples_written = written.accepted;
    Ok(())
}

fn bundle(document: Value, named: Option<String>, report: &mut Report) -> Result<(), IngestError> {
    let entries: Vec<(String, Value)> = match document["resourceType"].as_str() {
        Some("Bundle") => document["entry"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| (e["fullUrl"].as_str().unwrap_or("").to_string(), e["resource"].clone()))
                    .collect()
            })
            .unwrap_or_default(),
        Some(_) => vec![(String::new(), document)],
        None => {
            return Err(IngestError::WrongFormat(
                "a JSON document without resourceType: not FHIR".into(),
            ));
        }
    };
    let mut patients: BTreeSet<String> = entries
        .iter()
        .filter(|(_, r)| r["resourceType"] == "Patient")
        .filter_map(|(_, r)| patient_of(r))
        .collect();
    if patients.is_empty() {
        patients = entries.iter().filter_map(|(_, r)| patient_of(r)).collect();
    }
    let chosen = choose(named, &patients)?;
    let mut meds: HashMap<String, Value> = HashMap::new();
    for (url, r) in &entries {
        if r["resourceType"] == "Medication" {
            if !url.is_empty() {
                meds.insert(url.clone(), r["code"].clone());
            }
            if let Some(id) = r["id"].as_str() {
                meds.insert(format!("Medication/{id}"), r["code"].clone());
            }
        }
    }
    let meds = Medications::new(meds);
    let mut writer = Writer::new();
    for (i, (_, resource)) in entries.iter().enumerate() {
        let kind = resource["resourceType"].as_str().unwrap_or("resource");
        let label = format!("entry {} ({kind} {}): ", i + 1, resource["id"].as_str().unwrap_or("?"));
        if !resource.is_object() {
            report.records_read += 1;
            report.problem(0, format!("entry {} has no resource", i + 1));
            continue;
        }
        handle(resource, chosen.as_deref(), &meds, (0, label), report, &mut writer)?;
    }
    let written = writer.finish()?;
    report.samples_written = written.accepted;
    Ok(())
}

impl Connector for FhirR4 {
    fn ingest(input: &mut Input, options: &Args) -> Result<Report, IngestError> {
        let patient: Option<String> = options
            .get("patient")
            .map_err(|e| IngestError::InvalidOptions(e.to_string()))?;
        // Enough to hold the first line of an NDJSON file.
        let head = input.peek(1 << 20)?.to_vec();
        let start = head
            .iter()
            .position(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF);
        if start.map(|i| head[i]) != Some(b'{') {
            return Err(IngestError::WrongFormat(
                "not FHIR JSON: expected a Bundle or NDJSON resources starting with `{`".into(),
            ));
        }
        let mut report = Report::new();
        // One JSON object per line is NDJSON; anything else is one document.
        let first_line = head.split(|b| *b == b'\n').next().unwrap_or(&[]);
        let is_ndjson = serde_json::from_slice::<Value>(first_line)
            .map(|v| v["resourceType"].is_string() && v["resourceType"] != "Bundle")
            .unwrap_or(false);
        if is_ndjson {
            ndjson(input, patient, &mut report)?;
        } else {
            let document: Value = serde_json::from_reader(&mut *input)
                .map_err(|e| IngestError::WrongFormat(format!("not a FHIR JSON document: {e}")))?;
            bundle(document, patient, &mut report)?;
        }
        Ok(report)
    }
}
