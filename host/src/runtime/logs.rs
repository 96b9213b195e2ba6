//! The invocation log: plugin log lines and captured stdout/stderr, kept
//! with the invocation (never printed to the host's stdout), size-capped
//! and with control characters made visible so a plugin cannot flood the
//! host or inject terminal escapes.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use serde::Serialize;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// Longest single log line kept, bytes.
const MAX_LINE: usize = 4096;

/// One log line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogLine {
    /// `trace`, `debug`, `info`, `warn`, `error`, `stdout` or `stderr`.
    pub level: String,
    /// The sanitised message.
    pub message: String,
}

/// The log of one invocation.
#[derive(Debug, Default)]
pub struct LogBuffer {
    lines: Vec<LogLine>,
    bytes: usize,
    max_bytes: usize,
    dropped_bytes: u64,
}

/// Makes one line of plugin text safe to keep and show (every control,
/// escape and bidi character replaced by a visible escape, through the one
/// sanitiser in [`crate::text`]) and caps its length.
pub fn sanitize(text: &str) -> String {
    // Only what can be kept is looked at, however long the line.
    let head = &text[..text.floor_char_boundary(MAX_LINE)];
    let shown = crate::text::sanitize_line(head);
    if shown.len() <= MAX_LINE && head.len() == text.len() {
        return shown.into_owned();
    }
    let cut = shown.floor_char_boundary(MAX_LINE);
    format!("{}…", &shown[..cut])
}

impl LogBuffer {
    /// A buffer that keeps at most `max_bytes` of messages.
    pub fn new(max_bytes: usize) -> LogBuffer {
        LogBuffer {
            max_bytes,
            ..LogBuffer::default()
        }
    }

    /// Adds a line (sanitised; dropped and counted once the cap is hit).
    pub fn push(&mut self, level: &str, message: &str) {
        let message = sanitize(message);
        if self.bytes + message.len() > self.max_bytes {
            self.dropped_bytes += message.len() as u64;
            return;
        }
        self.bytes += message.len();
        self.lines.push(LogLine {
            level: level.to_string(),
            message,
        });
    }

    /// The lines kept, plus a final note when some were dropped.
    pub fn lines(&self) -> Vec<LogLine> {
        let mut out = self.lines.clone();
        if self.dropped_bytes > 0 {
            out.push(LogLine {
                level: "warn".into(),
                message: format!(
                    "log truncated: {} more bytes dropped (cap {} bytes)",
                    self.dropped_bytes, self.max_bytes
                ),
            });
        }
        out
    }

    /// Bytes the cap dropped.
    pub fn dropped_bytes(&self) -> u64 {
        self.dropped_bytes
    }
}

/// A shared handle on an invocation's log.
pub type SharedLog = Arc<Mutex<LogBuffer>>;

/// Appends to the shared log, ignoring a poisoned lock (a panic elsewhere
/// must not take logging down with it).
pub fn append(log: &SharedLog, level: &str, message: &str) {
    match log.lock() {
        Ok(mut buffer) => buffer.push(level, message),
        Err(poisoned) => poisoned.into_inner().push(level, message),
    }
}

/// A guest stdout or stderr that writes into the invocation log.
#[derive(Clone)]
pub struct LogPipe {
    log: SharedLog,
    level: &'static str,
}

impl LogPipe {
    /// A pipe writing lines at `level` (`stdout` or `stderr`).
    pub fn new(log: SharedLog, level: &'static str) -> LogPipe {
        LogPipe { log, level }
    }

    fn write_bytes(&self, bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes);
        for line in text.split('\n').filter(|l| !l.trim().is_empty()) {
            append(&self.log, self.level, line);
        }
    }
}

impl IsTerminal for LogPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for LogPipe {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for LogPipe {
    async fn ready(&mut self) {}
}

impl OutputStream for LogPipe {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.write_bytes(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

impl tokio::io::AsyncWrite for LogPipe {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.write_bytes(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_escapes_and_caps() {
        assert_eq!(
            sanitize("\u{1b}[31mred\u{1b}[0m text\u{7}\r\u{9b}\u{202e}"),
            "\\u{1b}[31mred\\u{1b}[0m text\\u{7}\\u{d}\\u{9b}\\u{202e}"
        );
        for long in [
            "\u{1b}".repeat(MAX_LINE),
            "é".repeat(MAX_LINE),
            "x".repeat(MAX_LINE + 1),
        ] {
            let kept = sanitize(&long);
            assert!(
                kept.len() <= MAX_LINE + '…'.len_utf8() && kept.ends_with('…'),
                "{}",
                kept.len()
            );
        }
        assert_eq!(sanitize(&"x".repeat(MAX_LINE)), "x".repeat(MAX_LINE));
        let mut log = LogBuffer::new(10);
        log.push("info", "12345");
        log.push("info", "678901");
        let lines = log.lines();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].message, "12345");
        assert!(lines[1].message.contains("truncated"));
        assert_eq!(log.dropped_bytes(), 6);
    }
}
