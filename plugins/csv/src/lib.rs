//! CSV connector: a generic CSV of samples, one per row
//! (`type,start,end,value,unit,code`, optionally `system,source,notes`),
//! for seeding a vault with test data or bringing in data from a tool
//! without its own connector. This file wires the pure reader
//! ([`file`]) to the host: every sample to the [`Writer`], every bad row a
//! problem with its line, every row of a type the user did not grant (or
//! a clinical record, which this connector never writes) counted as
//! skipped. The column rules are in README.md.

mod coding;
mod columns;
mod file;
mod records;
mod sample;
mod times;

use healthplug_sdk::registry::Category;
use healthplug_sdk::{Args, Connector, IngestError, Input, NewSample, Report, Writer, export_connector};

use file::CsvFile;

struct Csv;

export_connector!(Csv);

impl Connector for Csv {
    fn ingest(input: &mut Input, _options: &Args) -> Result<Report, IngestError> {
        let mut file = CsvFile::open(&mut *input)?;
        let mut report = Report::new();
        let mut writer = Writer::new();
        while let Some((line, outcome)) = file.next_row()? {
            report.records_read += 1;
            match outcome {
                Ok(sample) => push(sample, &mut writer, &mut report)?,
                Err(reason) => report.problem(line, reason),
            }
        }
        let written = writer.finish()?;
        report.samples_written = written.accepted;
        Ok(report)
    }
}

/// Writes `sample`, or counts it as skipped when its type may not be
/// written: a clinical record (this connector's manifest does not list
/// them, so the host would refuse the write) with the connector that does
/// import them named; any other ungranted type by the writer itself.
fn push(sample: NewSample, writer: &mut Writer, report: &mut Report) -> Result<(), IngestError> {
    let ty = sample.data_type;
    if ty.info().category == Category::Clinical && !writer.allows(ty) {
        report.skip(skip_reason(ty));
        return Ok(());
    }
    writer.push(sample, report)
}

/// The skip reason of a clinical row.
fn skip_reason(ty: healthplug_sdk::DataType) -> String {
    format!("{ty} (clinical records are not written by the csv connector: import them with fhir-r4)")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use healthplug_sdk::DataType;

    use super::*;

    /// The type ids of the manifest's `[[write]]` tables, in order.
    fn manifest_writes() -> Vec<String> {
        let manifest = include_str!("../healthplug.toml");
        let mut ids = Vec::new();
        for table in manifest.split("[[write]]").skip(1) {
            let Some(list) = table.split("types = [").nth(1).and_then(|t| t.split(']').next()) else {
                panic!("a [[write]] table without types: {table}")
            };
            ids.extend(list.split(',').map(|id| id.trim().trim_matches('"').to_string()));
            ids.retain(|id| !id.is_empty());
        }
        ids
    }

    #[test]
    fn the_manifest_writes_every_non_clinical_type_once() {
        let listed = manifest_writes();
        let unique: BTreeSet<&str> = listed.iter().map(String::as_str).collect();
        assert_eq!(unique.len(), listed.len(), "a type in two [[write]] tables: {listed:?}");
        let expected: BTreeSet<&str> = DataType::ALL
            .iter()
            .filter(|t| t.info().category != Category::Clinical)
            .map(|t| t.id())
            .collect();
        assert_eq!(unique, expected);
    }

    #[test]
    fn a_clinical_row_names_the_connector_that_imports_it() {
        assert_eq!(
            skip_reason(DataType::LabResult),
            "lab-result (clinical records are not written by the csv connector: import them with fhir-r4)"
        );
    }
}
