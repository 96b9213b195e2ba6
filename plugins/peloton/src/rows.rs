//! The data rows of a Peloton CSV, one by one: the header is checked
//! first, then each row is read into samples or a problem with its line
//! number. Pure over any `Read`, so the fixtures run natively.

use std::io::Read;

use healthplug_sdk::{IngestError, NewSample};

use crate::columns::Columns;
use crate::{row, workout};

/// What a skipped zero heart rate is counted as.
pub(crate) const NO_MONITOR: &str = "Avg. Heartrate of 0 (no heart-rate monitor paired)";

/// What one data row gave.
#[derive(Debug, PartialEq)]
pub(crate) enum Outcome {
    /// Its samples, and what it left out on purpose.
    Samples(Vec<NewSample>, Vec<&'static str>),
    /// Why it cannot be imported.
    Problem(String),
}

/// A Peloton CSV being read.
pub(crate) struct Rows<R> {
    csv: csv::Reader<R>,
    columns: Columns,
    record: csv::StringRecord,
}

impl<R: Read> Rows<R> {
    /// Reads the header of `reader`, or says why it is not a Peloton
    /// workout history.
    pub(crate) fn open(reader: R) -> Result<Rows<R>, IngestError> {
        let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
        let headers: Vec<String> = match csv.headers() {
            Ok(h) => h.iter().map(str::to_string).collect(),
            Err(e) if e.is_io_error() => return Err(IngestError::ReadFailed(e.to_string())),
            Err(e) => return Err(IngestError::WrongFormat(format!("not a CSV file: {e}"))),
        };
        if headers.iter().all(|h| h.trim().is_empty()) {
            return Err(IngestError::WrongFormat("empty file: no header row".into()));
        }
        let columns = Columns::find(&headers)?;
        Ok(Rows {
            csv,
            columns,
            record: csv::StringRecord::new(),
        })
    }

    /// The next row's line number and outcome; `None` at the end.
    pub(crate) fn next_row(&mut self) -> Result<Option<(u32, Outcome)>, IngestError> {
        let before = self.csv.position().line();
        let read = self.csv.read_record(&mut self.record);
        let line = self.record.position().map_or(before, |p| p.line());
        let line = u32::try_from(line).unwrap_or(u32::MAX);
        match read {
            Ok(false) => Ok(None),
            Ok(true) => Ok(Some((line, self.outcome()))),
            Err(e) if e.is_io_error() => Err(IngestError::ReadFailed(e.to_string())),
            Err(e) => Ok(Some((line, Outcome::Problem(format!("unreadable row: {e}"))))),
        }
    }

    /// The current record's outcome.
    fn outcome(&self) -> Outcome {
        match row::read(&self.columns, &self.record) {
            Ok(w) => {
                let skipped = if w.heart_rate_zero {
                    vec![NO_MONITOR]
                } else {
                    Vec::new()
                };
                Outcome::Samples(workout::samples(&w), skipped)
            }
            Err(reason) => Outcome::Problem(reason),
        }
    }
}
