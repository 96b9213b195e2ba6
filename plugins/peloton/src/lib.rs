//! Peloton connector: a workout-history CSV export (one row per class or
//! free ride, timestamps with a zone abbreviation, speed, distance and
//! pace in the account's units) becomes one `workout` sample per row and,
//! where an average heart rate was measured, one `heart-rate` sample.
//!
//! The parsing is pure and lives in the modules: [`columns`] (the header),
//! [`zones`] (timestamps), [`row`] (a row's cells), [`workout`] (the
//! samples) and [`rows`] (the file, row by row); this file only hands the
//! rows to the host's writer and counts what it could not import.

mod columns;
mod row;
mod rows;
mod workout;
mod zones;

#[cfg(test)]
mod fixtures;

use healthplug_sdk::{Args, Connector, IngestError, Input, Report, Writer, export_connector};

use crate::rows::{Outcome, Rows};

struct Peloton;

export_connector!(Peloton);

impl Connector for Peloton {
    fn ingest(input: &mut Input, _options: &Args) -> Result<Report, IngestError> {
        let mut rows = Rows::open(&mut *input)?;
        let mut report = Report::new();
        let mut writer = Writer::new();
        while let Some((line, outcome)) = rows.next_row()? {
            report.records_read += 1;
            match outcome {
                Outcome::Samples(samples, skipped) => {
                    for s in samples {
                        writer.push(s, &mut report)?;
                    }
                    for reason in skipped {
                        report.skip(reason);
                    }
                }
                Outcome::Problem(reason) => report.problem(line, reason),
            }
        }
        let written = writer.finish()?;
        report.samples_written = written.accepted;
        Ok(report)
    }
}
