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
    let plugin = healthplug_host::examples::package_dir("activity-coach");
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
    let connector = healthplug_host::examples::package_dir("gpx");
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

#[test]
fn a_reviewer_signs_and_the_platform_installs_only_what_it_trusts() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    // A copy of the example plugin: its manifest and its component.
    let src = healthplug_host::examples::package_dir("nutrition-coach");
    for file in ["healthplug.toml", "nutrition_coach.wasm"] {
        std::fs::copy(src.join(file), work.path().join(file)).unwrap();
    }
    let dir = work.path().to_str().unwrap();
    let key = work.path().join("reviewer.key");

    let out = healthplug(home.path(), &["review", dir]);
    let report = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        report.contains("dietary-energy") && report.contains("risk flags:") && report.contains("approval: none"),
        "{report}"
    );

    let out = healthplug(
        home.path(),
        &["--json", "review", "keygen", "--out", key.to_str().unwrap()],
    );
    let public = serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["public_key"]
        .as_str()
        .unwrap()
        .to_string();
    let out = healthplug(home.path(), &["review", "sign", "--key", key.to_str().unwrap(), dir]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(work.path().join("healthplug.approval").exists());

    let out = healthplug(home.path(), &["plugin", "add", dir]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("not a trusted reviewer"),
        "{}",
        text(&out.stderr)
    );

    let out = healthplug(home.path(), &["trust", "add", &public, "--name", "alice"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = healthplug(home.path(), &["plugin", "add", dir]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("[dev]"), "{}", text(&out.stdout));

    // The permission diff of an upgrade that asks for more.
    let newer = tempfile::tempdir().unwrap();
    let upgraded = std::fs::read_to_string(work.path().join("healthplug.toml"))
        .unwrap()
        .replace("version = \"0.1.0\"", "version = \"0.2.0\"")
        .replace("granularity = \"daily\"", "granularity = \"hourly\"");
    std::fs::write(newer.path().join("healthplug.toml"), upgraded).unwrap();
    let out = healthplug(home.path(), &["review", "diff", dir, newer.path().to_str().unwrap()]);
    let diff = text(&out.stdout);
    assert!(
        diff.contains("ESCALATION dietary-energy: granularity daily -> hourly"),
        "{diff}"
    );
    assert!(diff.contains("version 0.1.0 -> 0.2.0"), "{diff}");
}

#[test]
fn dev_installs_can_be_forbidden_and_consent_show_marks_dev_builds() {
    let home = tempfile::tempdir().unwrap();
    let plugin = healthplug_host::examples::package_dir("activity-coach");
    let plugin = plugin.to_str().unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_healthplug"))
        .arg("--home")
        .arg(home.path())
        .args(["plugin", "add", plugin, "--dev"])
        .env_remove("HEALTHPLUG_MASTER_KEY")
        .env("HEALTHPLUG_ALLOW_DEV", "0")
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    assert!(
        stderr.contains("does not allow --dev installs (HEALTHPLUG_ALLOW_DEV=0)"),
        "{stderr}"
    );
    let out = healthplug(home.path(), &["plugin", "list"]);
    assert!(
        text(&out.stdout).contains("no plugins installed"),
        "{}",
        text(&out.stdout)
    );

    let out = healthplug(home.path(), &["plugin", "add", plugin, "--dev"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = healthplug(
        home.path(),
        &["consent", "grant", "ann", "activity-coach", "--types", "steps"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = healthplug(home.path(), &["consent", "show", "ann"]);
    assert!(
        text(&out.stdout).contains("activity-coach (dev build)"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_user_has_a_time_zone_and_a_wrong_one_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let out = healthplug(home.path(), &["user", "add", "ann", "--tz", "Europe/Paris"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("time zone Europe/Paris"),
        "{}",
        text(&out.stdout)
    );
    let out = healthplug(home.path(), &["user", "set-tz", "ann", "Mars/Olympus_Mons"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("unknown time zone `Mars/Olympus_Mons`"),
        "{}",
        text(&out.stderr)
    );
    let out = healthplug(home.path(), &["user", "add", "bob", "--tz", "Nowhere/City"]);
    assert!(!out.status.success());
    let out = healthplug(home.path(), &["user", "list"]);
    assert!(
        !text(&out.stdout).contains("bob"),
        "a refused zone creates no user: {}",
        text(&out.stdout)
    );
    let out = healthplug(home.path(), &["user", "set-tz", "ann", "America/Los_Angeles"]);
    assert!(
        text(&out.stdout).contains("America/Los_Angeles"),
        "{}",
        text(&out.stdout)
    );
}
