//! Text that came from a plugin (or its manifest) made safe to show: the
//! one sanitiser every display of such text goes through (the CLI, the
//! audit display, the invocation log, and any later front end).
//!
//! A terminal obeys control characters and a bidi-aware renderer obeys
//! direction overrides, so a string holding them can conceal or rewrite
//! what is shown next to it: `ESC [8m` hides the rest of the screen, an OSC
//! sequence sets the window title or the clipboard, `\r` overwrites a line,
//! U+009B is a one-character CSI and U+202E reverses what follows. These
//! characters are never shown raw: [`sanitize_line`] and [`sanitize_block`]
//! replace each with a visible escape (`\u{1b}`), and [`escape_json`]
//! replaces them in JSON text with `\uXXXX` escapes, which leave the JSON's
//! value unchanged.

use std::borrow::Cow;
use std::fmt::Write as _;

/// The kind of character that may not be shown raw, for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unsafe {
    /// A C0 control (U+0000–U+001F), escape included.
    Control,
    /// DEL (U+007F).
    Delete,
    /// A C1 control (U+0080–U+009F), such as U+009B, a one-character CSI.
    C1Control,
    /// A bidirectional override, embedding, isolate or mark.
    Bidi,
    /// An invisible character that can hide or disguise text: zero-width
    /// space, word joiner, the byte-order mark, line and paragraph separators,
    /// tag characters.
    Invisible,
}

impl Unsafe {
    /// A short description for people.
    pub fn describe(self) -> &'static str {
        match self {
            Unsafe::Control => "a control character",
            Unsafe::Delete => "the DEL control character",
            Unsafe::C1Control => "a C1 control character",
            Unsafe::Bidi => "a bidirectional-text control",
            Unsafe::Invisible => "an invisible formatting character",
        }
    }
}

/// Why `c` may not be shown raw, or `None` when it may.
pub fn classify(c: char) -> Option<Unsafe> {
    match c {
        '\u{0}'..='\u{1f}' => Some(Unsafe::Control),
        '\u{7f}' => Some(Unsafe::Delete),
        '\u{80}'..='\u{9f}' => Some(Unsafe::C1Control),
        '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => Some(Unsafe::Bidi),
        '\u{200b}' | '\u{2028}' | '\u{2029}' | '\u{2060}' | '\u{feff}' | '\u{e0000}'..='\u{e007f}' => {
            Some(Unsafe::Invisible)
        }
        _ => None,
    }
}

/// Whether `c` may not be shown raw.
pub fn is_unsafe(c: char) -> bool {
    classify(c).is_some()
}

/// The first character of `text` that may not be shown raw (`\n` allowed
/// when `allow_newline`), with its character index.
pub fn first_unsafe(text: &str, allow_newline: bool) -> Option<(usize, char, Unsafe)> {
    text.chars()
        .enumerate()
        .filter(|&(_, c)| !(allow_newline && c == '\n'))
        .find_map(|(i, c)| classify(c).map(|kind| (i, c, kind)))
}

fn escape(text: &str, keep: impl Fn(char) -> bool, push: impl Fn(&mut String, char)) -> Cow<'_, str> {
    if !text.chars().any(|c| is_unsafe(c) && !keep(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_unsafe(c) && !keep(c) {
            push(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn visible(out: &mut String, c: char) {
    // Writing to a String cannot fail.
    let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
}

/// One line of text, safe to show: every unsafe character (newlines and
/// tabs included) becomes a visible escape such as `\u{1b}`.
pub fn sanitize_line(text: &str) -> Cow<'_, str> {
    escape(text, |_| false, visible)
}

/// Text of several lines, safe to show: as [`sanitize_line`], but `\n`
/// is kept.
pub fn sanitize_block(text: &str) -> Cow<'_, str> {
    escape(text, |c| c == '\n', visible)
}

/// JSON text (as `serde_json` writes it), safe to show: every unsafe
/// character but the `\n` between values becomes a `\uXXXX` escape. Such
/// characters can only occur inside JSON strings, where the escape means
/// the same character, so the JSON's value is unchanged.
pub fn escape_json(json: &str) -> Cow<'_, str> {
    escape(
        json,
        |c| c == '\n',
        |out, c| {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        },
    )
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const HOSTILE: &str =
        "a\u{1b}[8mb\u{1b}]0;title\u{7}c\rd\u{0}e\u{7f}f\u{9b}31mg\u{202e}h\u{2066}i\u{200f}j\u{61c}k\tl\nm";

    #[test]
    fn every_dangerous_character_is_classified() {
        for c in ['\u{0}', '\u{7}', '\u{9}', '\u{a}', '\u{d}', '\u{1b}', '\u{1f}'] {
            assert_eq!(classify(c), Some(Unsafe::Control), "{c:?}");
        }
        assert_eq!(classify('\u{7f}'), Some(Unsafe::Delete));
        for c in ['\u{80}', '\u{9b}', '\u{9d}', '\u{9f}'] {
            assert_eq!(classify(c), Some(Unsafe::C1Control), "{c:?}");
        }
        for c in [
            '\u{61c}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}', '\u{2066}',
            '\u{2067}', '\u{2068}', '\u{2069}',
        ] {
            assert_eq!(classify(c), Some(Unsafe::Bidi), "{c:?}");
        }
        for c in ['\u{200b}', '\u{2028}', '\u{2029}', '\u{feff}', '\u{e0041}'] {
            assert_eq!(classify(c), Some(Unsafe::Invisible), "{c:?}");
        }
        for c in ['a', ' ', '~', '\u{a0}', 'é', '→', '日', '\u{2070}', '😀'] {
            assert_eq!(classify(c), None, "{c:?}");
        }
    }

    #[test]
    fn a_line_shows_every_control_as_a_visible_escape() {
        assert_eq!(
            sanitize_line(HOSTILE),
            "a\\u{1b}[8mb\\u{1b}]0;title\\u{7}c\\u{d}d\\u{0}e\\u{7f}f\\u{9b}31mg\\u{202e}h\\u{2066}i\\u{200f}j\\u{61c}k\\u{9}l\\u{a}m"
        );
    }

    #[test]
    fn a_block_keeps_its_newlines_only() {
        let shown = sanitize_block(HOSTILE);
        assert!(shown.ends_with("k\\u{9}l\nm"), "{shown}");
        assert_eq!(shown.matches('\n').count(), 1);
    }

    #[test]
    fn safe_text_is_not_copied() {
        assert!(matches!(sanitize_line("Step Coach → 日本"), Cow::Borrowed(_)));
        assert!(matches!(escape_json("{\n  \"a\": \"é\"\n}"), Cow::Borrowed(_)));
    }

    #[test]
    fn json_keeps_its_value_and_loses_the_raw_characters() {
        let value = serde_json::json!({ "name": HOSTILE, "list": ["\u{9b}", "\u{202e}x"] });
        for text in [
            serde_json::to_string(&value).unwrap_or_default(),
            serde_json::to_string_pretty(&value).unwrap_or_default(),
        ] {
            let shown = escape_json(&text);
            assert!(shown.contains("\\u202e") && shown.contains("\\u009b"), "{shown}");
            assert!(!shown.chars().any(|c| is_unsafe(c) && c != '\n'), "{shown}");
            let back: serde_json::Value = serde_json::from_str(&shown).unwrap_or_default();
            assert_eq!(back, value);
        }
    }

    #[test]
    fn the_first_unsafe_character_is_found() {
        assert_eq!(
            first_unsafe("ok\nthen\u{202e}", false),
            Some((2, '\n', Unsafe::Control))
        );
        assert_eq!(
            first_unsafe("ok\nthen\u{202e}", true),
            Some((7, '\u{202e}', Unsafe::Bidi))
        );
        assert_eq!(first_unsafe("fine", false), None);
    }

    proptest! {
        #[test]
        fn nothing_unsafe_survives(text in any::<String>()) {
            prop_assert!(!sanitize_line(&text).chars().any(is_unsafe));
            prop_assert!(!sanitize_block(&text).chars().any(|c| is_unsafe(c) && c != '\n'));
        }

        #[test]
        fn safe_text_is_shown_as_it_is(text in "[^\u{0}-\u{1f}\u{7f}-\u{9f}\u{61c}\u{200b}-\u{200f}\u{2028}-\u{202e}\u{2060}\u{2066}-\u{2069}\u{feff}\u{e0000}-\u{e007f}]*") {
            prop_assert_eq!(sanitize_line(&text), text.as_str());
        }

        #[test]
        fn escaped_json_means_the_same(text in any::<String>()) {
            let json = serde_json::to_string_pretty(&serde_json::json!({ "s": text })).unwrap_or_default();
            let shown = escape_json(&json);
            prop_assert!(!shown.chars().any(|c| is_unsafe(c) && c != '\n'));
            let back: serde_json::Value = serde_json::from_str(&shown).unwrap_or_default();
            prop_assert_eq!(back["s"].as_str(), Some(text.as_str()));
        }
    }
}
