//! A connector's `ingest` run natively on the mock's input.
#![cfg(all(feature = "testing", not(target_arch = "wasm32")))]

mod common;

use std::io::{BufRead, Read};

use healthplug_sdk::testing::{self, MockHealth};
use healthplug_sdk::{Args, Connector, DataType, IngestError, Input, NewSample, Report, Timestamp, Writer};

/// A tiny connector: `type,start_ms,value,unit` lines after a header.
struct Csv;

impl Connector for Csv {
    fn ingest(input: &mut Input, _options: &Args) -> Result<Report, IngestError> {
        if !input.peek(5)?.starts_with(b"type,") {
            return Err(IngestError::WrongFormat(format!("{} has no header", input.name())));
        }
        let mut report = Report::new();
        let mut writer = Writer::new();
        let mut line = String::new();
        input.read_line(&mut line)?;
        loop {
            line.clear();
            if input.read_line(&mut line)? == 0 {
                break;
            }
            let at = input.line() - 1;
            report.records_read += 1;
            let cols: Vec<&str> = line.trim().split(',').collect();
            let Some(ty) = cols.first().and_then(|id| DataType::from_id(id)) else {
                report.skip("unknown type");
                continue;
            };
            let (Some(Ok(start)), Some(Ok(value)), Some(unit)) = (
                cols.get(1).map(|c| c.parse::<i64>()),
                cols.get(2).map(|c| c.parse::<f64>()),
                cols.get(3),
            ) else {
                report.problem(at, "a start, a value and a unit are needed");
                continue;
            };
            let start = Timestamp::from_millis(start);
            writer.push(NewSample::quantity(ty, start, start, value, unit), &mut report)?;
        }
        report.samples_written = writer.finish()?.accepted;
        Ok(report)
    }
}

const WEEK: &str = "type,start_ms,value,unit\n\
steps,1795800000000,1200,{steps}\n\
heart-rate,1795800000000,61,/min\n\
mood,1795800000000,3,1\n\
steps,yesterday,900,{steps}\n";

#[test]
fn a_connector_imports_what_the_user_lets_it_write() {
    let mock = MockHealth::new()
        .input("week.csv", WEEK)
        .grant_write(DataType::Steps)
        .install()
        .unwrap();
    let report = testing::ingest::<Csv>("{}").unwrap();
    assert_eq!((report.records_read, report.samples_written), (4, 1));
    assert_eq!(report.skipped("unknown type"), 1);
    assert_eq!(report.skipped("heart-rate (writing not granted by the user)"), 1);
    assert_eq!(
        report.problems(),
        [(5, "a start, a value and a unit are needed".to_string())]
    );
    assert_eq!(report.problems_total(), 1);
    let written = mock.written();
    assert_eq!(written.len(), 1);
    assert_eq!(written[0].sample.value, Some(1200.0));
}

#[test]
fn the_input_streams_and_rewinds() {
    let _mock = MockHealth::new().input("export.xml", "<a/>\n<b/>\n").install().unwrap();
    struct Twice;
    impl Connector for Twice {
        fn ingest(input: &mut Input, _: &Args) -> Result<Report, IngestError> {
            assert_eq!((input.name().as_str(), input.size()), ("export.xml", 10));
            let mut first = String::new();
            input.read_to_string(&mut first)?;
            assert_eq!(input.line(), 3);
            input.rewind()?;
            let mut second = String::new();
            input.read_to_string(&mut second)?;
            assert_eq!(first, second);
            let mut report = Report::new();
            report.records_read = second.lines().count() as u64;
            Ok(report)
        }
    }
    let report = testing::ingest::<Twice>("").unwrap();
    assert_eq!(report.records_read, 2);
    // Options must be a JSON object.
    assert!(matches!(
        testing::ingest::<Twice>("[1]"),
        Err(IngestError::InvalidOptions(_))
    ));
}

#[test]
fn without_an_input_reading_fails() {
    let _mock = MockHealth::new().install().unwrap();
    let e = testing::ingest::<Csv>("{}").unwrap_err();
    assert!(matches!(e, IngestError::ReadFailed(m) if m.contains("no input file")));
}
