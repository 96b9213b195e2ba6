//! What is wrong with a manifest and where: the error type, and turning
//! the byte offsets of toml's spans into a line, a column and a key.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::text::{sanitize_block, sanitize_line};

/// A manifest that cannot be used, and where it is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ManifestError {
    /// The manifest file.
    pub path: PathBuf,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// 1-based column (0 when unknown).
    pub column: usize,
    /// The key at fault (`plugin.id`, `read[1].types`), empty if unknown.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        if !self.key.is_empty() {
            write!(f, ": `{}`", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl ManifestError {
    pub(super) fn io(path: &Path, e: &std::io::Error) -> ManifestError {
        ManifestError {
            path: path.to_path_buf(),
            line: 0,
            column: 0,
            key: String::new(),
            message: format!("cannot read the manifest: {e}"),
        }
    }
}

/// Turns byte offsets into line/column and builds errors.
pub(super) struct Locator<'a> {
    pub(super) source: &'a str,
    pub(super) path: &'a Path,
}

impl Locator<'_> {
    pub(super) fn error(&self, span: Option<Range<usize>>, key: &str, message: impl Into<String>) -> ManifestError {
        let (line, column) = match span {
            Some(span) => {
                let before = prefix(self.source, span.start);
                let start = before.len();
                let line = before.matches('\n').count() + 1;
                let column = before.rfind('\n').map_or(start, |nl| start - nl - 1) + 1;
                (line, column)
            }
            None => (0, 0),
        };
        ManifestError {
            path: self.path.to_path_buf(),
            line,
            column,
            key: key.to_string(),
            message: message.into(),
        }
    }
}

/// The toml error message without toml's own position preamble (and
/// with any control or bidi character it quotes made visible).
pub(super) fn toml_message(e: &toml::de::Error) -> String {
    let message = sanitize_block(e.message().trim()).into_owned();
    if message.starts_with("unknown field") {
        format!("{message}: unknown keys are not allowed")
    } else {
        message
    }
}

/// Guesses the key a toml error is about from the source line it points at
/// (any control or bidi character in it made visible).
pub(super) fn key_at(source: &str, span: &Option<Range<usize>>) -> String {
    sanitize_line(&raw_key_at(source, span)).into_owned()
}

fn raw_key_at(source: &str, span: &Option<Range<usize>>) -> String {
    let Some(span) = span else { return String::new() };
    let line_start = prefix(source, span.start).rfind('\n').map_or(0, |i| i + 1);
    let line = source[line_start..].lines().next().unwrap_or("");
    let section = source[..line_start]
        .lines()
        .rev()
        .find_map(|l| {
            let l = l.trim();
            l.starts_with('[')
                .then(|| l.trim_matches(|c| c == '[' || c == ']').to_string())
        })
        .unwrap_or_default();
    let key = line.split('=').next().unwrap_or("").trim();
    if line.trim_start().starts_with('[') || key.is_empty() {
        section
    } else if section.is_empty() {
        key.to_string()
    } else {
        format!("{section}.{key}")
    }
}

/// `source` up to byte `offset`, clamped to its length and to a character
/// boundary, so no span can make the slicing panic.
fn prefix(source: &str, offset: usize) -> &str {
    &source[..source.floor_char_boundary(offset.min(source.len()))]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_inside_a_character_are_clamped() {
        let source = "a = \"é\"\nb = 1";
        let at = Locator {
            source,
            path: Path::new("m.toml"),
        };
        // Byte 6 is inside `é`.
        let e = at.error(Some(6..7), "a", "x");
        assert_eq!((e.line, e.column), (1, 6));
        assert_eq!(key_at(source, &Some(6..7)), "a");
        assert_eq!(at.error(Some(999..1000), "b", "x").line, 2);
    }
}
