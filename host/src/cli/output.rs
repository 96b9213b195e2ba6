//! Everything the CLI prints goes through here: tidy tables and indented
//! JSON, written so that no text from a plugin (or anyone) can drive the
//! terminal, and so that a reader closing the pipe (`| head -1`) ends the
//! output quietly instead of panicking.
//!
//! Within `cli`, `println!`, `print!` and `eprintln!` are this module's
//! macros, not std's: they pass the text through
//! [`crate::text::sanitize_block`] (every control, escape and bidi
//! character made visible; line breaks kept) and write it with
//! [`emit`], which never panics. JSON goes out through [`print_json`],
//! whose escapes keep its value and drop every raw control or bidi
//! character. Table cells are single lines ([`crate::text::sanitize_line`]).

use std::cell::RefCell;
use std::io::{self, Write};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use crate::text::{escape_json, sanitize_block, sanitize_line};

/// `println!` for the CLI: sanitised, and quiet on a closed stdout.
macro_rules! println {
    () => {
        $crate::cli::output::emit($crate::cli::output::Stream::Out, "\n")
    };
    ($($arg:tt)*) => {
        $crate::cli::output::emit($crate::cli::output::Stream::Out, &format!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` for the CLI: sanitised, and quiet on a closed stdout.
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::cli::output::emit($crate::cli::output::Stream::Out, &format!($($arg)*))
    };
}

/// `eprintln!` for the CLI: sanitised.
macro_rules! eprintln {
    ($($arg:tt)*) => {
        $crate::cli::output::emit($crate::cli::output::Stream::Err, &format!("{}\n", format_args!($($arg)*)))
    };
}

/// Where a piece of output goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Out,
    /// Standard error.
    Err,
}

/// Set once stdout's reader has gone: later output is dropped.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
/// The first failure to write stdout other than a closed pipe.
static STDOUT_FAILED: OnceLock<String> = OnceLock::new();

thread_local! {
    /// When set, output is collected here instead ([`capture`]).
    static CAPTURE: RefCell<Option<(Vec<u8>, Vec<u8>)>> = const { RefCell::new(None) };
}

/// Writes text, sanitised (line breaks kept), to `stream`.
pub fn emit(stream: Stream, text: &str) {
    write_bytes(stream, sanitize_block(text).as_bytes());
}

fn write_bytes(stream: Stream, bytes: &[u8]) {
    let captured = CAPTURE.with(|c| match c.borrow_mut().as_mut() {
        Some((out, err)) => {
            match stream {
                Stream::Out => out.extend_from_slice(bytes),
                Stream::Err => err.extend_from_slice(bytes),
            }
            true
        }
        None => false,
    });
    if captured {
        return;
    }
    match stream {
        Stream::Out if !STDOUT_CLOSED.load(Ordering::Relaxed) => {
            if let Err(e) = io::stdout().lock().write_all(bytes) {
                stdout_failed(&e);
            }
        }
        Stream::Out => {}
        // Nothing is left to report a failure to write stderr on.
        Stream::Err => drop(io::stderr().lock().write_all(bytes)),
    }
}

fn stdout_failed(e: &io::Error) {
    STDOUT_CLOSED.store(true, Ordering::Relaxed);
    if e.kind() != io::ErrorKind::BrokenPipe {
        // Only the first failure is kept.
        let _ = STDOUT_FAILED.set(e.to_string());
    }
}

/// Flushes stdout; `Err` names a failure to write it (a reader that
/// closed the pipe is not one: output simply stops).
pub fn finish() -> Result<(), String> {
    if !STDOUT_CLOSED.load(Ordering::Relaxed)
        && let Err(e) = io::stdout().lock().flush()
    {
        stdout_failed(&e);
    }
    match STDOUT_FAILED.get() {
        Some(e) => Err(format!("cannot write the output: {e}")),
        None => Ok(()),
    }
}

/// Runs `f` with this thread's output collected: returns what it wrote to
/// stdout and to stderr.
pub fn capture<T>(f: impl FnOnce() -> T) -> (T, Vec<u8>, Vec<u8>) {
    CAPTURE.with(|c| *c.borrow_mut() = Some((Vec::new(), Vec::new())));
    let value = f();
    let (out, err) = CAPTURE.with(|c| c.borrow_mut().take()).unwrap_or_default();
    (value, out, err)
}

/// A simple aligned table.
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (each cell shown as one sanitised line).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows
            .push(cells.iter().map(|c| sanitize_line(c).into_owned()).collect());
    }

    /// Renders the table.
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(cell.chars().count());
                }
            }
        }
        let line = |cells: &[String]| {
            let mut out = String::new();
            for (i, cell) in cells.iter().enumerate() {
                let pad = widths.get(i).copied().unwrap_or(0).saturating_sub(cell.chars().count());
                out.push_str(cell);
                if i + 1 < cells.len() {
                    out.push_str(&" ".repeat(pad + 2));
                }
            }
            out.trim_end().to_string()
        };
        let mut out = line(&self.headers);
        out.push('\n');
        for row in &self.rows {
            out.push_str(&line(row));
            out.push('\n');
        }
        out
    }
}

/// Prints a value as pretty JSON, every control and bidi character in it
/// written as a `\uXXXX` escape.
pub fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    emit_json(Stream::Out, &serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Writes JSON text and a line break to `stream`, escaped as [`print_json`] does.
pub fn emit_json(stream: Stream, json: &str) {
    write_bytes(stream, escape_json(json).as_bytes());
    write_bytes(stream, b"\n");
}

/// One line of untrusted text, safe to show inside a line of output.
pub fn line(text: &str) -> std::borrow::Cow<'_, str> {
    sanitize_line(text)
}

/// Indents every line of `text` by `n` spaces.
pub fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines().map(|l| format!("{pad}{l}")).collect::<Vec<_>>().join("\n")
}

/// Pretty-prints JSON text (or returns it unchanged if it is not JSON).
pub fn pretty(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| text.to_string())
}

/// A time in ms as a short UTC date-time.
pub fn short_time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| ms.to_string())
}
