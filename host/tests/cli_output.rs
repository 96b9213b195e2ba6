//! What the `healthplug` binary writes, run for real: a reader that hangs
//! up (`| head -1`) ends the output quietly, never with a panic; a grant
//! says the purpose it was given for; a manifest trying to drive the
//! reviewer's terminal is refused naming its key, and nothing raw reaches
//! the screen; a token's secret is printed once, when it is created, and
//! never listed.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn bin(home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_healthplug"));
    command.arg("--home").arg(home).env_remove("HEALTHPLUG_MASTER_KEY");
    command
}

fn healthplug(home: &Path, args: &[&str]) -> Output {
    match bin(home).args(args).output() {
        Ok(o) => o,
        Err(e) => unreachable!("cannot run healthplug: {e}"),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs healthplug with stdout on a pipe whose reader takes `lines` lines
/// (none: it hangs up at once) and then closes it, as `| head -1` does.
/// Returns the lines read and the finished process (stderr collected).
fn with_reader_hanging_up(home: &Path, args: &[&str], lines: usize) -> (Vec<String>, Output) {
    let mut child = match bin(home)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => unreachable!("cannot run healthplug: {e}"),
    };
    let mut read = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        let mut reader = BufReader::new(stdout);
        for _ in 0..lines {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            read.push(line);
        }
        // Dropping the reader closes the pipe's read end.
    }
    match child.wait_with_output() {
        Ok(o) => (read, o),
        Err(e) => unreachable!("healthplug did not finish: {e}"),
    }
}

fn assert_quiet_exit(what: &str, out: &Output) {
    let stderr = text(&out.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe") && !stderr.contains("RUST_BACKTRACE"),
        "{what}: {stderr}"
    );
    assert!(out.status.success(), "{what}: {:?} {stderr}", out.status);
}

/// A home holding the demo's user, plugins, grants and 90 days of data.
fn demo_home() -> tempfile::TempDir {
    let home = match tempfile::tempdir() {
        Ok(h) => h,
        Err(e) => unreachable!("no temporary directory: {e}"),
    };
    let out = healthplug(home.path(), &["demo"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    home
}

#[test]
fn a_reader_hanging_up_ends_records_and_invoke_quietly() {
    let home = demo_home();
    let user = healthplug_host::demo::DEMO_USER;

    // Far more than a pipe holds, so the writer meets the closed pipe.
    let all = healthplug(home.path(), &["records", user, "--limit", "1000000"]);
    assert!(all.status.success(), "{}", text(&all.stderr));
    assert!(all.stdout.len() > 256 * 1024, "{} bytes", all.stdout.len());
    let (lines, out) = with_reader_hanging_up(home.path(), &["records", user, "--limit", "1000000"], 1);
    assert!(lines[0].starts_with("TYPE"), "{lines:?}");
    assert_quiet_exit("records | head -1", &out);
    let (_, out) = with_reader_hanging_up(home.path(), &["--json", "records", user], 1);
    assert_quiet_exit("--json records | head -1", &out);

    // The reader is gone before the invocation prints anything.
    for json in [false, true] {
        let mut args = vec!["invoke", user, "activity-coach", "weekly-summary"];
        if json {
            args.insert(0, "--json");
        }
        let (_, out) = with_reader_hanging_up(home.path(), &args, 0);
        assert_quiet_exit(&format!("{args:?} | head -0"), &out);
    }
}

#[test]
fn a_grant_says_the_purpose_it_is_for() {
    let home = tempfile::tempdir().unwrap();
    let plugin = healthplug_host::examples::package_dir("activity-coach");
    let out = healthplug(home.path(), &["plugin", "add", plugin.to_str().unwrap(), "--dev"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = healthplug(
        home.path(),
        &["consent", "grant", "ann", "activity-coach", "--types", "steps"],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.starts_with("granted read of steps to activity-coach for ann"),
        "{stdout}"
    );
    assert!(
        stdout.contains("for `Summarise your weekly activity and suggest goals`"),
        "{stdout}"
    );
}

/// True when `text` holds a character a terminal or a bidi renderer would
/// obey (a line break aside).
fn has_raw_control(text: &str) -> bool {
    text.chars().any(|c| {
        (c.is_control() && c != '\n')
            || matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    })
}

#[test]
fn a_manifest_that_would_drive_the_terminal_is_refused_naming_its_key() {
    let home = tempfile::tempdir().unwrap();
    let src = healthplug_host::examples::source_dir("activity-coach");
    let good = std::fs::read_to_string(src.join("healthplug.toml")).unwrap();
    for (from, to, key) in [
        (
            "purpose = \"Summarise",
            "purpose = \"\\u001b[8mSummarise",
            "read[1].purpose",
        ),
        ("name = \"", "name = \"\\u001b]0;title\\u0007", "plugin.name"),
        ("publisher = \"", "publisher = \"\u{202e}", "plugin.publisher"),
        ("name = \"", "name = \"\\u009b2J", "plugin.name"),
    ] {
        assert!(good.contains(from), "{from}");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("healthplug.toml"), good.replacen(from, to, 1)).unwrap();
        let path = dir.path().to_str().unwrap();
        for args in [vec!["plugin", "add", path, "--dev"], vec!["review", path]] {
            let out = healthplug(home.path(), &args);
            let stderr = text(&out.stderr);
            assert!(!out.status.success(), "{args:?} {to}: {}", text(&out.stdout));
            assert!(stderr.contains(&format!("`{key}`")), "{to}: {stderr}");
            assert!(stderr.contains("healthplug.toml:"), "{to}: {stderr}");
            assert!(!has_raw_control(&stderr), "{to}: {stderr:?}");
            assert!(!has_raw_control(&text(&out.stdout)), "{to}");
        }
    }
}

#[test]
fn a_stdout_that_cannot_be_written_is_one_clear_error() {
    let full = Path::new("/dev/full");
    if !full.exists() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let out = bin(home.path())
        .args(["types"])
        .stdout(std::fs::OpenOptions::new().write(true).open(full).unwrap())
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.starts_with("error: cannot write the output: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Runs healthplug and returns its stdout, asserting success.
fn ok(home: &Path, args: &[&str]) -> String {
    let out = healthplug(home, args);
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

/// Runs healthplug and returns its stderr, asserting failure.
fn fails(home: &Path, args: &[&str]) -> String {
    let out = healthplug(home, args);
    assert!(!out.status.success(), "{args:?} succeeded: {}", text(&out.stdout));
    text(&out.stderr)
}

#[test]
fn a_token_secret_is_printed_once_and_never_listed() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    ok(home, &["user", "add", "alice"]);
    let created = ok(
        home,
        &[
            "token",
            "create",
            "alice",
            "--expires",
            "12h",
            "--scope",
            "tools:list",
            "--label",
            "laptop",
        ],
    );
    let secrets: Vec<&str> = created.split_whitespace().filter(|w| w.starts_with("hp_")).collect();
    assert_eq!(secrets.len(), 1, "{created}");
    let secret = secrets[0];
    assert_eq!(secret.len(), 46, "{secret}");
    assert!(created.contains("will not be shown again"), "{created}");
    let id = created.split_whitespace().nth(2).unwrap();
    assert!(id.starts_with("hpt_") && id.len() == 12, "{created}");
    assert!(
        created.starts_with(&format!("created token {id} for alice: tools:list, expires ")),
        "{created}"
    );
    assert!(created.contains("label: laptop"), "{created}");

    // Listed, as a table and as JSON, without the secret.
    let body = &secret[3..];
    let listed = ok(home, &["token", "list"]);
    assert!(listed.starts_with("ID"), "{listed}");
    let row = listed.lines().find(|l| l.starts_with(id)).unwrap();
    for cell in ["alice", "tools:list", "laptop", "active"] {
        assert!(row.contains(cell), "{cell}: {row}");
    }
    let json = ok(home, &["--json", "token", "list", "--user", "alice"]);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value[0]["id"], id);
    assert_eq!(value[0]["scopes"], "tools:list");
    assert!(value[0].get("secret").is_none(), "{json}");
    for shown in [&listed, &json] {
        assert!(!shown.contains(body), "the secret was listed: {shown}");
    }

    // `--json create` gives the secret once, in its own field.
    let json = ok(home, &["--json", "token", "create", "alice", "--expires", "never"]);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(value["secret"].as_str().unwrap().starts_with("hp_"), "{json}");
    assert!(value["expires_ms"].is_null() && value["status"] == "active", "{json}");
    assert!(ok(home, &["token", "list"]).contains("never"));

    // Revoked once; a second time is an error saying so.
    let revoked = ok(home, &["token", "revoke", id]);
    assert!(
        revoked.starts_with(&format!("revoked token {id} of alice")),
        "{revoked}"
    );
    let listed = ok(home, &["token", "list", "--user", "alice"]);
    assert!(
        listed.lines().any(|l| l.starts_with(id) && l.ends_with("revoked")),
        "{listed}"
    );
    assert!(fails(home, &["token", "revoke", id]).contains("already revoked"));

    // Bad requests name what is wrong.
    let stderr = fails(home, &["token", "create", "alice", "--expires", "30x"]);
    assert!(stderr.contains("`30x`") && stderr.contains("hint: "), "{stderr}");
    assert!(fails(home, &["token", "create", "alice", "--scope", "admin"]).contains("`admin`"));
    assert!(fails(home, &["token", "create", "carol"]).contains("no user `carol`"));
    assert!(fails(home, &["token", "revoke", "hpt_00000000"]).contains("no token hpt_00000000"));

    // Nothing written to the home holds the secret.
    for entry in std::fs::read_dir(home).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes.windows(body.len()).any(|w| w == body.as_bytes()),
                "the secret is in {}",
                path.display()
            );
        }
    }
}
