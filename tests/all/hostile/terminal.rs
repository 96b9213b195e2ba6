//! Terminal injection: `hostile-terminal` puts ESC [8m (conceal), OSC 0
//! (window title), OSC 52 (clipboard), `\r`, NUL, BEL, U+009B (one-char
//! CSI) and U+202E (right-to-left override) in its tool name, description,
//! argument schema, result, log line and tool error. The CLI, run through
//! its real code path, shows each made visible, in text and in `--json`
//! (whose value is kept), in `plugin info`, `invoke` and `audit`.

use std::path::Path;

use healthplug_host::cli::{Captured, run_captured};
use healthplug_tests::fixture_dir;
use serde_json::Value;

/// What the plugin's strings carry, made visible.
const SHOWN: [&str; 7] = [
    "\\u{1b}[8mHIDDEN",
    "\\u{1b}]0;pwned-title\\u{7}",
    "\\u{1b}]52;c;cHduZWQ=\\u{7}",
    "\\u{d}OVERWRITE",
    "\\u{0}NUL\\u{7}BEL",
    "\\u{9b}31mCSI",
    "\\u{202e}DESREVER",
];

/// A character a terminal or a bidi renderer would obey (a line break aside).
fn raw_control(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn cli(home: &Path, args: &[&str]) -> Captured {
    let mut all = vec!["healthplug", "--home", home.to_str().unwrap_or_default()];
    all.extend_from_slice(args);
    run_captured(all)
}

/// Runs the CLI and checks nothing raw reached either stream.
fn shown(home: &Path, args: &[&str]) -> Captured {
    let out = cli(home, args);
    for (stream, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        assert!(
            !text.chars().any(raw_control),
            "{args:?}: a raw control reached {stream}: {text:?}"
        );
    }
    out
}

fn assert_all_visible(what: &str, text: &str) {
    for escape in SHOWN {
        assert!(text.contains(escape), "{what}: `{escape}` not shown in {text}");
    }
}

#[test]
fn every_string_a_plugin_returns_is_shown_made_visible() -> anyhow::Result<()> {
    let home = tempfile::tempdir()?;
    let home = home.path();
    let dir = fixture_dir("hostile/terminal");
    let out = shown(home, &["plugin", "add", dir.to_str().unwrap_or_default(), "--dev"]);
    assert!(out.success, "{}", out.stderr);
    let out = shown(
        home,
        &["consent", "grant", "alice", "hostile-terminal", "--types", "steps"],
    );
    assert!(out.success, "{}", out.stderr);

    // plugin info: the tool's name and description, one line each.
    let info = shown(home, &["plugin", "info", "hostile-terminal"]);
    assert!(info.success, "{}", info.stderr);
    let tool_line = info
        .stdout
        .lines()
        .find(|l| l.contains("Shows things\\u{1b}"))
        .unwrap_or_default();
    assert_all_visible("plugin info", tool_line);
    assert!(tool_line.contains("Shows things"), "{}", info.stdout);

    // --json keeps the values (the tool's real name, to invoke it by).
    let json = shown(home, &["--json", "plugin", "info", "hostile-terminal"]);
    let v: Value = serde_json::from_str(&json.stdout)?;
    let tool = v["tools"][0]["name"].as_str().unwrap_or_default().to_string();
    assert_eq!(tool, "show");
    let description = v["tools"][0]["description"].as_str().unwrap_or_default();
    assert!(
        description.starts_with("Shows things\u{1b}[8m") && description.ends_with("\u{202e}DESREVER"),
        "{description:?}"
    );
    assert!(
        json.stdout.contains("\\u202e") && json.stdout.contains("\\u009b"),
        "{}",
        json.stdout
    );
    let schema = v["tools"][0]["args_schema"].to_string();
    assert!(schema.contains('\u{202e}') && schema.contains('\u{9b}'), "{schema}");

    // invoke, text: the non-JSON result and the log line.
    let text = shown(home, &["invoke", "alice", "hostile-terminal", &tool]);
    assert!(text.success, "{}", text.stderr);
    assert_all_visible("invoke result", &text.stdout);
    let log = text.stdout.lines().find(|l| l.contains("log line")).unwrap_or_default();
    assert_all_visible("invoke log", log);

    // invoke --json: plain text and JSON results keep their values.
    let plain = shown(home, &["--json", "invoke", "alice", "hostile-terminal", &tool]);
    let v: Value = serde_json::from_str(&plain.stdout)?;
    let output = v["result"]["output"].as_str().unwrap_or_default();
    assert!(output.starts_with("plain result\u{1b}[8mHIDDEN"), "{output:?}");
    let structured = shown(
        home,
        &[
            "--json",
            "invoke",
            "alice",
            "hostile-terminal",
            &tool,
            r#"{"mode": "json"}"#,
        ],
    );
    let v: Value = serde_json::from_str(&structured.stdout)?;
    assert_eq!(v["result"]["output"]["note"], "json\u{9b}31m\u{202e}DESREVER", "{v}");
    let text = shown(
        home,
        &["invoke", "alice", "hostile-terminal", &tool, r#"{"mode": "json"}"#],
    );
    assert!(
        text.stdout.contains("json\\u{9b}31m\\u{202e}DESREVER"),
        "{}",
        text.stdout
    );

    // A tool error, in text and in JSON.
    let failed = shown(home, &["invoke", "alice", "hostile-terminal", &tool, r#"{"fail": 1}"#]);
    assert!(!failed.success);
    assert!(failed.stderr.contains("tool error"), "{}", failed.stderr);
    assert_all_visible("tool error", &failed.stderr);
    let failed = shown(
        home,
        &["--json", "invoke", "alice", "hostile-terminal", &tool, r#"{"fail": 1}"#],
    );
    let v: Value = serde_json::from_str(&failed.stdout)?;
    let message = v["result"]["error"]["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("tool error\\u{1b}[8mHIDDEN"), "{v}");

    // The audit log names the tool invoked, whatever name the caller used.
    let called = shown(home, &["invoke", "alice", "hostile-terminal", "show\u{1b}[8mHIDDEN"]);
    assert!(called.success, "{}", called.stderr);
    let audit = shown(home, &["audit", "alice"]);
    assert!(audit.success, "{}", audit.stderr);
    assert!(audit.stdout.contains("tool show\\u{1b}[8mHIDDEN"), "{}", audit.stdout);
    assert_eq!(
        audit.stdout.lines().count(),
        cli(home, &["--json", "audit", "alice"])
            .stdout
            .matches("\"seq\"")
            .count()
            + 1,
        "one line per entry: {}",
        audit.stdout
    );
    let json = shown(home, &["--json", "audit", "alice"]);
    let entries: Value = serde_json::from_str(&json.stdout)?;
    assert!(entries.to_string().contains("\\u001b[8mHIDDEN"), "{entries}");
    Ok(())
}
