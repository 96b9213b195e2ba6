//! The `healthplug` binary end to end: the demo, a partner's install and
//! invoke, and errors as one clear line with a hint and a non-zero exit.

use std::path::Path;
use std::process::{Command, Output};

fn healthplug(home: &Path, args: &[&str]) -> Output {
    match Command::new(env!("CARGO_BIN_EXE_healthplug"))
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("HEALTHPLUG_MASTER_KEY")
        .output()
    {
        Ok(o) => o,
        Err(e) => unreachable!("cannot run healthplug: {e}"),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn demo_prints_both_plugins_with_allowed_and_refused_types() {
    let home = tempfile::tempdir().unwrap();
    let out = healthplug(home.path(), &["demo"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("== activity-coach"), "{stdout}");
    assert!(stdout.contains("== nutrition-coach"), "{stdout}");
    assert!(stdout.contains("refused: workout (not-granted)"), "{stdout}");
    assert!(
        stdout.contains("refused: dietary-carbohydrate (not-granted), dietary-fat (not-granted)"),
        "{stdout}"
    );
    assert!(stdout.contains("allowed: steps"), "{stdout}");
}

#[test]
fn a_partner_installs_grants_and_invokes_from_the_command_line() {
    let home = tempfile::tempdir().unwrap();
    let plugin = healthplug_host::examples::source_dir("activity-coach");
    let plugin = plugin.to_str().unwrap();

    let out = healthplug(home.path(), &["plugin", "add", plugin, "--dev"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("installed activity-coach 0.1.0 [dev]"),
        "{}",
        text(&out.stdout)
    );

    let out = healthplug(home.path(), &["plugin", "list"]);
    assert!(
        text(&out.stdout).contains("activity-coach [dev]"),
        "{}",
        text(&out.stdout)
    );

    let out = healthplug(
        home.path(),
        &["consent", "grant", "ann", "activity-coach", "--types", "steps"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = healthplug(home.path(), &["consent", "show", "ann"]);
    let shown = text(&out.stdout);
    assert!(
        shown.contains("activity-coach") && shown.contains("steps") && shown.contains("active"),
        "{shown}"
    );

    let out = healthplug(
        home.path(),
        &[
            "--json",
            "invoke",
            "ann",
            "activity-coach",
            "weekly-summary",
            "{\"weeks\": 2}",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["result"]["output"]["period"]["weeks"], 2, "{v}");
    assert_eq!(v["dev"], true);

    let out = healthplug(home.path(), &["consent", "revoke", "ann", "activity-coach"]);
    assert!(text(&out.stdout).contains("revoked steps"), "{}", text(&out.stdout));
    let out = healthplug(home.path(), &["audit", "--verify"]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("audit log intact"), "{}", text(&out.stdout));
}

#[test]
fn errors_are_one_line_with_a_hint_and_a_failing_exit() {
    let home = tempfile::tempdir().unwrap();
    for (args, needle) in [
        (
            vec!["invoke", "nobody", "activity-coach", "weekly-summary"],
            "no plugin `activity-coach` is installed",
        ),
        (
            vec!["consent", "grant", "ann", "x", "--types", "stepz"],
            "unknown data type `stepz`",
        ),
        (vec!["plugin", "add", "/does/not/exist"], "does not exist"),
        (vec!["records", "nobody"], "no user `nobody`"),
    ] {
        let out = healthplug(home.path(), &args);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(stderr.contains("\nhint: "), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
            "{stderr}"
        );
    }
}

#[test]
fn import_prints_what_was_stored_skipped_and_malformed() {
    let home = tempfile::tempdir().unwrap();
    let connector = healthplug_host::examples::source_dir("gpx");
    let out = healthplug(home.path(), &["plugin", "add", connector.to_str().unwrap(), "--dev"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = healthplug(
        home.path(),
        &[
            "consent",
            "grant",
            "ann",
            "gpx",
            "--types",
            "workout,heart-rate",
            "--write",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let gpx = home.path().join("run.gpx");
    std::fs::write(
        &gpx,
        "<gpx><trk><type>run</type><trkseg>\
         <trkpt lat=\"52.0\" lon=\"5.0\"><time>2020-01-01T10:00:00Z</time><extensions><hr>120</hr></extensions></trkpt>\
         <trkpt lat=\"52.01\" lon=\"5.0\"><time>2020-01-01T10:30:00Z</time><extensions><hr>999</hr></extensions></trkpt>\
         </trkseg></trk></gpx>",
    )
    .unwrap();
    let out = healthplug(home.path(), &["import", "ann", "gpx", gpx.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("heart-rate") && stdout.contains("workout"), "{stdout}");
    assert!(
        stdout.contains("1 malformed records") && stdout.contains("heart rate `999` is out of range"),
        "{stdout}"
    );
    let again = healthplug(home.path(), &["--json", "import", "ann", "gpx", gpx.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(v["total_imported"], 0, "{v}");
    assert_eq!(v["duplicates"], 2, "{v}");
}
