//! Connectors: import a partner's export file inside the sandbox.
//!
//! The host streams the file in chunks ([`Input`] is a `BufRead` that
//! counts lines as the parser consumes them); the connector maps what it
//! reads to samples and writes them through a [`Writer`] in batches;
//! unmappable records are counted in the [`Report`] and malformed ones noted
//! with their line number, never aborting the import.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Read};

use crate::bindings::healthplug::plugin::types as wit;
use crate::host;
use crate::{Args, DataType, Error, NewSample, WriteReport};

/// The most problems reported line by line (all are counted).
const MAX_PROBLEMS: usize = 100;
/// Samples buffered before a write.
const BATCH: usize = 5_000;
/// Bytes asked of the host per read.
const CHUNK: u32 = 256 * 1024;

/// A connector.
pub trait Connector {
    /// Imports `input`. Write samples with a [`Writer`]; count what you skip
    /// and note what is malformed in the returned [`Report`].
    fn ingest(input: &mut Input, options: &Args) -> Result<Report, IngestError>;
}

/// Why an import cannot run at all.
#[derive(Clone, Debug, PartialEq)]
pub enum IngestError {
    /// The input is not in this connector's format.
    WrongFormat(String),
    /// The options are invalid or missing.
    InvalidOptions(String),
    /// A write was refused (consent) or hit a limit.
    WriteFailed(Error),
    /// Reading the input failed.
    ReadFailed(String),
}

impl From<Error> for IngestError {
    fn from(e: Error) -> IngestError {
        IngestError::WriteFailed(e)
    }
}

impl From<io::Error> for IngestError {
    fn from(e: io::Error) -> IngestError {
        IngestError::ReadFailed(e.to_string())
    }
}

impl std::fmt::Display for IngestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IngestError::WrongFormat(m) => write!(f, "wrong format: {m}"),
            IngestError::InvalidOptions(m) => write!(f, "invalid options: {m}"),
            IngestError::WriteFailed(e) => write!(f, "write failed: {e}"),
            IngestError::ReadFailed(m) => write!(f, "read failed: {m}"),
        }
    }
}

/// The input file, streamed from the host. Reads count the lines the
/// parser has consumed, so [`line`](Input::line) is the current line.
pub struct Input {
    buffer: Vec<u8>,
    pos: usize,
    eof: bool,
    newlines: u64,
}

impl Input {
    pub(crate) fn new() -> Input {
        Input {
            buffer: Vec::new(),
            pos: 0,
            eof: false,
            newlines: 0,
        }
    }

    /// The file's base name.
    pub fn name(&self) -> String {
        host::source_name()
    }

    /// The file's size in bytes.
    pub fn size(&self) -> u64 {
        host::source_size()
    }

    /// The 1-based line the parser is on (lines fully consumed + 1).
    pub fn line(&self) -> u32 {
        u32::try_from(self.newlines + 1).unwrap_or(u32::MAX)
    }

    /// Goes back to the start of the file, for a second pass.
    pub fn rewind(&mut self) -> Result<(), IngestError> {
        host::source_rewind().map_err(|e| IngestError::ReadFailed(Error::from(e).to_string()))?;
        self.buffer.clear();
        self.pos = 0;
        self.eof = false;
        self.newlines = 0;
        Ok(())
    }

    /// The first bytes of the file (without consuming them), to sniff its
    /// format.
    pub fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        while self.buffer.len() - self.pos < n && !self.eof {
            self.refill()?;
        }
        let end = (self.pos + n).min(self.buffer.len());
        Ok(&self.buffer[self.pos..end])
    }

    fn refill(&mut self) -> io::Result<()> {
        let chunk = host::source_read(CHUNK).map_err(|e| io::Error::other(Error::from(e).to_string()))?;
        if chunk.is_empty() {
            self.eof = true;
        } else {
            self.buffer.drain(..self.pos);
            self.pos = 0;
            self.buffer.extend_from_slice(&chunk);
        }
        Ok(())
    }
}

impl Read for Input {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Input {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.buffer.len() && !self.eof {
            self.buffer.clear();
            self.pos = 0;
            self.refill()?;
        }
        Ok(&self.buffer[self.pos..])
    }

    fn consume(&mut self, amt: usize) {
        let end = (self.pos + amt).min(self.buffer.len());
        self.newlines += self.buffer[self.pos..end].iter().filter(|b| **b == b'\n').count() as u64;
        self.pos = end;
    }
}

/// What an import saw: records read, skipped by reason, malformed by line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// Records read.
    pub records_read: u64,
    /// Samples written.
    pub samples_written: u64,
    skipped: BTreeMap<String, u32>,
    problems: Vec<(u32, String)>,
    problems_total: u32,
}

impl Report {
    /// An empty report.
    pub fn new() -> Report {
        Report::default()
    }

    /// Counts a record skipped on purpose, e.g. a type healthplug does not
    /// hold.
    pub fn skip(&mut self, reason: impl Into<String>) {
        *self.skipped.entry(reason.into()).or_insert(0) += 1;
    }

    /// Notes a malformed record at `line`.
    pub fn problem(&mut self, line: u32, reason: impl Into<String>) {
        self.problems_total += 1;
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push((line, reason.into()));
        }
    }

    /// How many records were skipped for `reason`.
    pub fn skipped(&self, reason: &str) -> u32 {
        self.skipped.get(reason).copied().unwrap_or(0)
    }

    /// The malformed records noted, as (line, reason): the first 100.
    pub fn problems(&self) -> &[(u32, String)] {
        &self.problems
    }

    /// How many malformed records were noted in all.
    pub fn problems_total(&self) -> u32 {
        self.problems_total
    }

    fn into_wit(self) -> wit::IngestReport {
        wit::IngestReport {
            records_read: self.records_read,
            samples_written: self.samples_written,
            skipped: self
                .skipped
                .into_iter()
                .map(|(reason, count)| wit::SkipCount { reason, count })
                .collect(),
            problems: self
                .problems
                .into_iter()
                .map(|(line, reason)| wit::RecordProblem { line, reason })
                .collect(),
            problems_total: self.problems_total,
        }
    }
}

/// Buffers samples and writes them in batches of 5,000, skipping (and
/// counting in the report) the types the user did not grant for writing,
/// so a partial grant imports what it covers.
pub struct Writer {
    pending: Vec<NewSample>,
    written: WriteReport,
    writable: Vec<DataType>,
}

impl Default for Writer {
    fn default() -> Writer {
        Writer::new()
    }
}

impl Writer {
    /// A writer for the types this connector may write for the user now.
    pub fn new() -> Writer {
        let writable = crate::health::grants()
            .into_iter()
            .filter(|g| g.write)
            .map(|g| g.data_type)
            .collect();
        Writer {
            pending: Vec::new(),
            written: WriteReport::default(),
            writable,
        }
    }

    /// True when the user granted writing `data_type`.
    pub fn allows(&self, data_type: DataType) -> bool {
        self.writable.contains(&data_type)
    }

    /// Queues a sample (writing a batch when it is full), or counts it in
    /// `report` as skipped when its type is not granted for writing.
    pub fn push(&mut self, sample: NewSample, report: &mut Report) -> Result<(), IngestError> {
        if !self.allows(sample.data_type) {
            report.skip(format!("{} (writing not granted by the user)", sample.data_type));
            return Ok(());
        }
        self.pending.push(sample);
        if self.pending.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes what is pending.
    pub fn flush(&mut self) -> Result<(), IngestError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let r = crate::write::write(&self.pending)?;
        self.written.accepted += r.accepted;
        self.pending.clear();
        Ok(())
    }

    /// Writes the rest; returns what was written in all.
    pub fn finish(mut self) -> Result<WriteReport, IngestError> {
        self.flush()?;
        Ok(self.written)
    }
}

/// Implements the `ingest` export for `C`.
#[doc(hidden)]
pub fn guest_ingest<C: Connector>(options_json: &str) -> Result<wit::IngestReport, wit::IngestError> {
    let options = Args::from_json(options_json).map_err(|e| wit::IngestError::InvalidOptions(e.to_string()))?;
    let mut input = Input::new();
    match C::ingest(&mut input, &options) {
        Ok(report) => Ok(report.into_wit()),
        Err(IngestError::WrongFormat(m)) => Err(wit::IngestError::WrongFormat(m)),
        Err(IngestError::InvalidOptions(m)) => Err(wit::IngestError::InvalidOptions(m)),
        Err(IngestError::ReadFailed(m)) => Err(wit::IngestError::ReadFailed(m)),
        Err(IngestError::WriteFailed(e)) => Err(wit::IngestError::WriteFailed(to_wit_error(e))),
    }
}

fn to_wit_error(e: Error) -> wit::Error {
    match e {
        Error::NotGranted { data_type, reason } => wit::Error::NotGranted(wit::Denial { data_type, reason }),
        Error::CapabilityNotGranted(m) => wit::Error::CapabilityNotGranted(m),
        Error::InvalidRequest(m) => wit::Error::InvalidRequest(m),
        Error::LimitExceeded(m) => wit::Error::LimitExceeded(m),
        Error::Unavailable(m) => wit::Error::Unavailable(m),
    }
}
