//! A whole file: the header row (a file that is not CSV, or lacks the
//! documented columns, is refused as a whole), then each data row as a
//! sample or the reason it is not one, with its line. Blank rows are
//! passed over. Pure: the connector in `lib.rs` writes what this yields.

use std::io::BufRead;

use healthplug_sdk::{IngestError, NewSample};

use crate::columns::{Columns, OPTIONAL, REQUIRED};
use crate::records::Records;
use crate::sample;

/// A row's outcome: its line, and its sample or its problem.
pub type Outcome = (u32, Result<NewSample, String>);

/// An open CSV file, its header read.
pub struct CsvFile<R> {
    records: Records<R>,
    columns: Columns,
}

/// The refusal of a file that is not this connector's CSV.
fn wrong_format(why: &str) -> IngestError {
    IngestError::WrongFormat(format!(
        "{why}; expected a CSV file whose header names the columns {} (and optionally {})",
        REQUIRED.join(","),
        OPTIONAL.join(", ")
    ))
}

impl<R: BufRead> CsvFile<R> {
    /// Reads the header row of `input`.
    pub fn open(input: R) -> Result<CsvFile<R>, IngestError> {
        let mut records = Records::new(input);
        let header = loop {
            match records.next_record()? {
                None => return Err(wrong_format("the file is empty")),
                Some(r) if r.is_blank() => continue,
                Some(r) => break r,
            }
        };
        let cells = match header.cells {
            Ok(cells) if !cells.iter().any(|c| c.contains('\0')) => cells,
            Ok(_) => return Err(wrong_format("the file is binary, not text")),
            Err(reason) => {
                return Err(wrong_format(&format!(
                    "the header row (line {}) is unreadable: {reason}",
                    header.line
                )));
            }
        };
        let columns = Columns::from_header(&cells).map_err(IngestError::WrongFormat)?;
        Ok(CsvFile { records, columns })
    }

    /// The next data row's outcome, or `None` at the end of the file.
    pub fn next_row(&mut self) -> Result<Option<Outcome>, IngestError> {
        loop {
            let Some(record) = self.records.next_record()? else {
                return Ok(None);
            };
            if record.is_blank() {
                continue;
            }
            let outcome = record
                .cells
                .and_then(|cells| sample::sample(&self.columns.row(&cells)?));
            return Ok(Some((record.line, outcome)));
        }
    }
}

#[cfg(test)]
mod tests {
    use healthplug_sdk::DataType;

    use super::*;

    /// Every outcome of `text`, or the refusal of the whole file.
    fn import(text: &str) -> Result<Vec<Outcome>, IngestError> {
        let mut file = CsvFile::open(text.as_bytes())?;
        let mut out = Vec::new();
        while let Some(outcome) = file.next_row()? {
            out.push(outcome);
        }
        Ok(out)
    }

    fn outcomes(text: &str) -> Vec<Outcome> {
        match import(text) {
            Ok(o) => o,
            Err(e) => panic!("{e}"),
        }
    }

    fn wrong_format_of(text: &str) -> String {
        match import(text) {
            Err(IngestError::WrongFormat(m)) => m,
            other => panic!("{text:?} should be refused as a whole, got {other:?}"),
        }
    }

    #[test]
    fn bad_rows_are_problems_with_their_line_and_the_rest_imported() {
        let text = "type,start,end,value,unit,code\n\
                    steps,2026-11-23,,9000,,\n\
                    hart-rate,2026-11-23,,61,,\n\
                    \n\
                    body-mass,2026-11-23,,176,lb,\n\
                    steps,2026-11-23,,1,200,,\n";
        let got: Vec<(u32, Result<DataType, String>)> = outcomes(text)
            .into_iter()
            .map(|(line, r)| (line, r.map(|s| s.data_type)))
            .collect();
        assert_eq!(
            got,
            vec![
                (2, Ok(DataType::Steps)),
                (
                    3,
                    Err("unknown data type `hart-rate` (did you mean heart-rate?)".into())
                ),
                (5, Ok(DataType::BodyMass)),
                (
                    6,
                    Err("7 cells where the header has 6 (quote a cell that holds a comma)".into())
                ),
            ]
        );
    }

    #[test]
    fn a_bom_crlf_and_quoted_notes_read_like_any_other_file() {
        let text = "\u{feff}type,start,end,value,unit,code,notes\r\n\
                    workout,2026-11-25T07:00:00-08:00,2026-11-25T07:45:00-08:00,,,running,\"hills, then \"\"flat\"\"\"\r\n";
        let o = outcomes(text);
        let Some((2, Ok(s))) = o.first() else { panic!("{o:?}") };
        assert_eq!(s.notes.as_deref(), Some("hills, then \"flat\""));
        assert_eq!(s.value, Some(45.0));
    }

    #[test]
    fn a_file_without_the_columns_or_not_csv_is_the_wrong_format() {
        let m = wrong_format_of("type,start,value\nsteps,2026-11-23,1\n");
        assert!(
            m.starts_with("not a healthplug CSV: missing columns `end`, `unit`, `code`"),
            "{m}"
        );
        let m = wrong_format_of("Date,Meal,Calories\n2021-05-01,Lunch,350\n");
        assert!(m.contains("unknown columns `Date`, `Meal`, `Calories`"), "{m}");
        let m = wrong_format_of("{\n  \"resourceType\": \"Bundle\"\n}\n");
        assert!(m.starts_with("not a healthplug CSV: missing columns `type`"), "{m}");
        assert!(wrong_format_of("").starts_with("the file is empty; expected a CSV file"));
        assert!(wrong_format_of("PK\u{3}\u{4}\0\0,x\n").starts_with("the file is binary"));
        let m = wrong_format_of("\"type,start\n");
        assert!(
            m.starts_with("the header row (line 1) is unreadable: a quoted cell"),
            "{m}"
        );
    }

    #[test]
    fn the_readme_examples_read_as_it_says() {
        let readme = include_str!("../README.md");
        let blocks: Vec<&str> = readme
            .split("```csv\n")
            .skip(1)
            .filter_map(|b| b.split("```").next())
            .collect();
        let [file, clinical] = blocks[..] else {
            panic!("two csv examples: {blocks:?}")
        };
        let o = outcomes(file);
        assert_eq!(o.len(), 6);
        assert!(o.iter().all(|(_, r)| r.is_ok()), "{o:?}");
        let header = file.lines().next().unwrap_or_default();
        let lab = outcomes(&format!("{header}\n{clinical}"));
        assert!(
            matches!(&lab[..], [(2, Ok(s))] if s.data_type == DataType::LabResult),
            "{lab:?}"
        );
    }

    #[test]
    fn the_example_week_imports_without_a_problem() {
        let o = outcomes(include_str!("../examples/week.csv"));
        let problems: Vec<_> = o.iter().filter(|(_, r)| r.is_err()).collect();
        assert!(problems.is_empty(), "{problems:?}");
        let count = |ty| {
            o.iter()
                .filter(|(_, r)| r.as_ref().is_ok_and(|s| s.data_type == ty))
                .count()
        };
        assert_eq!(count(DataType::Sleep), 35, "5 stages a night for 7 nights");
        for ty in [
            DataType::RestingHeartRate,
            DataType::HeartRateVariability,
            DataType::Steps,
            DataType::Workout,
        ] {
            assert_eq!(count(ty), 7, "{ty}: one a day");
        }
        let days: std::collections::BTreeSet<String> = o
            .iter()
            .filter_map(|(_, r)| r.as_ref().ok())
            .map(|s| s.start.date())
            .collect();
        let (first, last) = (days.first().map(String::as_str), days.last().map(String::as_str));
        assert_eq!(
            (first, last),
            (Some("2026-11-23"), Some("2026-11-30")),
            "late November 2026 (UTC dates)"
        );
    }
}
