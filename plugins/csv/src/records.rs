//! The CSV reader: RFC 4180 records streamed from a byte reader, each with
//! the line it starts on. Cells may be quoted (`"a, b"`, `""` for a quote,
//! line breaks inside quotes); a UTF-8 BOM at the start and CR before LF
//! are dropped. A record that is not valid CSV or UTF-8 comes back as the
//! reason, and reading goes on with the next one: one bad row never stops
//! an import.

use std::io::{self, BufRead};

/// The longest record kept, in bytes (longer ones are reported, not kept).
pub const MAX_RECORD: usize = 1024 * 1024;
/// The most cells a record may have.
pub const MAX_CELLS: usize = 64;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One record: the 1-based line it starts on, and its cells or why it
/// cannot be read.
#[derive(Debug, PartialEq)]
pub struct Record {
    /// The line the record starts on.
    pub line: u32,
    /// The cells, untrimmed, or the reason the record is unreadable.
    pub cells: Result<Vec<String>, String>,
}

impl Record {
    /// True for an empty line, or a row of empty cells (`,,,`).
    pub fn is_blank(&self) -> bool {
        matches!(&self.cells, Ok(cells) if cells.iter().all(|c| c.trim().is_empty()))
    }
}

/// Where the reader is within a record.
#[derive(Clone, Copy, Debug, PartialEq)]
enum State {
    /// At the start of a cell (leading blanks are dropped).
    CellStart,
    /// Inside a cell that did not start with a quote.
    Unquoted,
    /// Inside a quoted cell.
    Quoted,
    /// Just after a quote inside a quoted cell: the end, or `""`.
    AfterQuote,
}

/// The record being read.
struct Builder {
    cells: Vec<Vec<u8>>,
    cell: Vec<u8>,
    bytes: usize,
    state: State,
    error: Option<String>,
}

impl Builder {
    fn new() -> Builder {
        Builder {
            cells: Vec::new(),
            cell: Vec::new(),
            bytes: 0,
            state: State::CellStart,
            error: None,
        }
    }

    /// Notes the first thing wrong with the record.
    fn fail(&mut self, reason: &str) {
        if self.error.is_none() {
            self.error = Some(reason.to_string());
        }
    }

    fn push(&mut self, byte: u8) {
        if self.bytes >= MAX_RECORD {
            self.fail("the row is longer than 1 MiB");
            return;
        }
        self.bytes += 1;
        self.cell.push(byte);
    }

    fn end_cell(&mut self) {
        let cell = std::mem::take(&mut self.cell);
        if self.cells.len() >= MAX_CELLS {
            self.fail("the row has more than 64 cells");
        } else {
            self.cells.push(cell);
        }
        self.state = State::CellStart;
    }

    /// Takes one byte; true when it ends the record.
    fn feed(&mut self, byte: u8) -> bool {
        use State::*;
        match (self.state, byte) {
            (Quoted, b'"') => self.state = AfterQuote,
            (Quoted, b'\n') => {
                if self.cell.last() == Some(&b'\r') {
                    self.cell.pop();
                    self.bytes = self.bytes.saturating_sub(1);
                }
                self.push(b'\n');
            }
            (Quoted, _) => self.push(byte),
            (_, b'\n') => {
                self.end_cell();
                return true;
            }
            (_, b',') => self.end_cell(),
            // A CR outside quotes is part of a CRLF line end.
            (_, b'\r') => {}
            (CellStart | AfterQuote, b' ' | b'\t') => {}
            (CellStart, b'"') => self.state = Quoted,
            (AfterQuote, b'"') => {
                self.push(b'"');
                self.state = Quoted;
            }
            (AfterQuote, _) => {
                self.fail("text after a closing quote (quote the whole cell)");
                self.push(byte);
                self.state = Unquoted;
            }
            (Unquoted, b'"') => {
                self.fail("a quote inside an unquoted cell (quote the whole cell and double the quote: \"5'10\"\"\")");
                self.push(byte);
            }
            (CellStart | Unquoted, _) => {
                self.push(byte);
                self.state = Unquoted;
            }
        }
        false
    }

    /// The record, starting on `line`.
    fn finish(self, line: u32) -> Record {
        let cells = match self.error {
            Some(reason) => Err(reason),
            None => self
                .cells
                .into_iter()
                .map(String::from_utf8)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| "the row is not UTF-8 text".to_string()),
        };
        Record { line, cells }
    }
}

/// The records of a CSV stream, in order.
pub struct Records<R> {
    input: R,
    /// Line breaks read so far.
    newlines: u64,
    /// Whether the start of the stream (and a BOM there) was looked at.
    started: bool,
}

/// `n` as a line number (saturating).
fn line_number(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl<R: BufRead> Records<R> {
    /// Records read from `input`.
    pub fn new(input: R) -> Records<R> {
        Records {
            input,
            newlines: 0,
            started: false,
        }
    }

    /// Drops a UTF-8 byte order mark at the start of the stream.
    fn skip_bom(&mut self) -> io::Result<()> {
        self.started = true;
        if self.input.fill_buf()?.starts_with(BOM) {
            self.input.consume(BOM.len());
        }
        Ok(())
    }

    /// The next record, or `None` at the end of the stream.
    pub fn next_record(&mut self) -> io::Result<Option<Record>> {
        if !self.started {
            self.skip_bom()?;
        }
        let line = line_number(self.newlines + 1);
        let mut record = Builder::new();
        let mut empty = true;
        loop {
            let available = self.input.fill_buf()?;
            if available.is_empty() {
                return Ok((!empty).then(|| self.at_end(record, line)));
            }
            empty = false;
            let mut used = 0;
            let mut done = false;
            for &byte in available {
                used += 1;
                if byte == b'\n' {
                    self.newlines += 1;
                }
                if record.feed(byte) {
                    done = true;
                    break;
                }
            }
            self.input.consume(used);
            if done {
                return Ok(Some(record.finish(line)));
            }
        }
    }

    /// The last record, which ends with the stream instead of a line break.
    fn at_end(&self, mut record: Builder, line: u32) -> Record {
        if record.state == State::Quoted {
            let last = line_number(self.newlines + 1);
            return Record {
                line,
                cells: Err(format!(
                    "a quoted cell that starts here is never closed: lines {line} to {last} (the end of the file) are inside it"
                )),
            };
        }
        record.end_cell();
        record.finish(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every record of `text`.
    fn records(text: &[u8]) -> Vec<Record> {
        let mut r = Records::new(text);
        let mut out = Vec::new();
        loop {
            match r.next_record() {
                Ok(Some(record)) => out.push(record),
                Ok(None) => return out,
                Err(e) => panic!("{e}"),
            }
        }
    }

    fn ok(line: u32, cells: &[&str]) -> Record {
        Record {
            line,
            cells: Ok(cells.iter().map(|c| c.to_string()).collect()),
        }
    }

    #[test]
    fn plain_rows_with_or_without_a_final_line_break() {
        assert_eq!(records(b"a,b\n1,2\n"), vec![ok(1, &["a", "b"]), ok(2, &["1", "2"])]);
        assert_eq!(records(b"a,b\n1,2"), vec![ok(1, &["a", "b"]), ok(2, &["1", "2"])]);
        assert_eq!(records(b""), vec![]);
        assert_eq!(records(b"a,,\n"), vec![ok(1, &["a", "", ""])]);
    }

    #[test]
    fn quoted_cells_hold_commas_quotes_and_line_breaks() {
        let text = b"notes,value\n\"ran 5 km, felt \"\"great\"\"\",1\n\"two\nlines\",2\n3,4\n";
        assert_eq!(
            records(text),
            vec![
                ok(1, &["notes", "value"]),
                ok(2, &["ran 5 km, felt \"great\"", "1"]),
                ok(3, &["two\nlines", "2"]),
                ok(5, &["3", "4"]),
            ]
        );
        assert_eq!(records(b" \"a\" , b\n"), vec![ok(1, &["a", "b"])]);
    }

    #[test]
    fn a_bom_and_crlf_line_ends_are_dropped() {
        let text = b"\xEF\xBB\xBFtype,value\r\nsteps,\"1\r\n2\"\r\nsteps,3\r\n";
        assert_eq!(
            records(text),
            vec![
                ok(1, &["type", "value"]),
                ok(2, &["steps", "1\n2"]),
                ok(4, &["steps", "3"])
            ]
        );
    }

    #[test]
    fn blank_rows_are_recognised() {
        let rs = records(b"a,b\n\n,\n1,2\n");
        let blank: Vec<bool> = rs.iter().map(Record::is_blank).collect();
        assert_eq!(blank, vec![false, true, true, false]);
        assert_eq!(rs[3].line, 4);
    }

    #[test]
    fn a_malformed_row_is_reported_and_reading_goes_on() {
        let rs = records(b"a,b\n5'10\",1\n\"x\"y,2\n\xFF,3\nok,4\n");
        let reasons: Vec<_> = rs.iter().map(|r| (r.line, r.cells.as_ref().err().cloned())).collect();
        assert!(
            reasons[1]
                .1
                .as_deref()
                .is_some_and(|m| m.starts_with("a quote inside an unquoted cell"))
        );
        assert!(
            reasons[2]
                .1
                .as_deref()
                .is_some_and(|m| m.starts_with("text after a closing quote"))
        );
        assert_eq!(reasons[3], (4, Some("the row is not UTF-8 text".to_string())));
        assert_eq!(rs[4], ok(5, &["ok", "4"]));
    }

    #[test]
    fn an_unclosed_quote_names_the_lines_it_swallows() {
        let rs = records(b"a,b\n\"open,1\n2,3\n4,5\n");
        assert_eq!(rs.len(), 2);
        assert_eq!(rs[1].line, 2);
        assert_eq!(
            rs[1].cells,
            Err(
                "a quoted cell that starts here is never closed: lines 2 to 5 (the end of the file) are inside it"
                    .into()
            )
        );
    }

    #[test]
    fn oversized_rows_are_refused_not_kept() {
        let mut wide = "x,".repeat(MAX_CELLS + 1).into_bytes();
        wide.extend_from_slice(b"\nok\n");
        let rs = records(&wide);
        assert_eq!(rs[0].cells, Err("the row has more than 64 cells".into()));
        assert_eq!(rs[1], ok(2, &["ok"]));
        let mut long = vec![b'y'; MAX_RECORD + 10];
        long.extend_from_slice(b"\nok\n");
        let rs = records(&long);
        assert_eq!(rs[0].cells, Err("the row is longer than 1 MiB".into()));
        assert_eq!(rs[1], ok(2, &["ok"]));
    }
}
