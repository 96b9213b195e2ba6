//! Seeding a home with test data (issue 17): `records add`, the `csv`
//! connector on its documented example week, and the `peloton` connector on
//! both unit variants of Peloton's CSV. Each also tried the wrong way: a
//! write grant narrower than the file, a clinical row through `csv`, a typo
//! in a code or a type.

use std::path::{Path, PathBuf};

use healthplug_host::cli::{Captured, run_captured};
use healthplug_host::registry::vocab::{ACTIVITY, SLEEP_STAGE};
use healthplug_tests::{TestHome, example_dir, grant_writes, types_of};
use serde_json::json;

fn source(connector: &str, rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../plugins")
        .join(connector)
        .join(rel)
}

fn home_with(connector: &str, types: &str) -> anyhow::Result<TestHome> {
    let home = TestHome::new()?;
    home.install(&example_dir(connector))?;
    grant_writes(&home.host, "ann", connector, types)?;
    Ok(home)
}

fn cli(home: &Path, args: &[&str]) -> Captured {
    let mut all = vec!["healthplug", "--home", home.to_str().unwrap_or_default()];
    all.extend_from_slice(args);
    run_captured(all)
}

#[test]
fn the_csv_example_week_imports_every_row_with_vocabulary_codes() -> anyhow::Result<()> {
    let home = home_with("csv", "sleep,resting-heart-rate,heart-rate-variability,steps,workout")?;
    let report = home
        .host
        .import("ann", "csv", &source("csv", "examples/week.csv"), &json!({}))?;
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let sleep = home.host.records("ann", &types_of("sleep"))?;
    assert_eq!(sleep.len(), 35, "five stages a night for a week");
    for s in &sleep {
        let c = s.coding.as_ref().expect("a sleep stage is coded");
        assert_eq!(c.system, SLEEP_STAGE.system);
        assert!(SLEEP_STAGE.code(&c.code).is_some(), "{}", c.code);
    }
    for ty in ["resting-heart-rate", "heart-rate-variability", "steps", "workout"] {
        assert_eq!(home.host.records("ann", &types_of(ty))?.len(), 7, "{ty}");
    }
    // The same file again stores nothing new.
    let again = home
        .host
        .import("ann", "csv", &source("csv", "examples/week.csv"), &json!({}))?;
    assert_eq!(again.total_imported, 0, "{again:?}");
    Ok(())
}

#[test]
fn csv_writes_only_what_was_granted_and_never_clinical_rows() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("mixed.csv");
    std::fs::write(
        &file,
        "type,start,end,value,unit,code,system\n\
         steps,2026-11-20T10:00:00Z,2026-11-20T11:00:00Z,900,,,\n\
         heart-rate,2026-11-20T10:00:00Z,,61,,,\n\
         lab-result,2026-11-20T09:00:00Z,,5.6,%,4548-4,http://loinc.org\n\
         sleep,2026-11-20T01:00:00Z,2026-11-20T02:00:00Z,,,deep,\n",
    )?;
    let home = home_with("csv", "steps,sleep")?;
    let report = home.host.import("ann", "csv", &file, &json!({}))?;
    assert_eq!(home.host.records("ann", &types_of("steps"))?.len(), 1);
    assert!(
        home.host.records("ann", &types_of("heart-rate"))?.is_empty(),
        "not granted"
    );
    assert!(
        home.host.records("ann", &types_of("lab-result"))?.is_empty(),
        "clinical"
    );
    assert!(
        home.host.records("ann", &types_of("sleep"))?.is_empty(),
        "`deep` is no code"
    );
    let lines: Vec<u32> = report.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, vec![5], "{:?}", report.problems);
    assert!(
        report.problems[0].reason.contains("asleepDeep"),
        "{:?}",
        report.problems
    );
    Ok(())
}

#[test]
fn peloton_imperial_and_metric_exports_give_the_same_metres() -> anyhow::Result<()> {
    let home = home_with("peloton", "workout,heart-rate")?;
    for name in ["imperial.csv", "metric.csv"] {
        let report = home.host.import(
            "ann",
            "peloton",
            &source("peloton", &format!("tests/fixtures/{name}")),
            &json!({}),
        )?;
        assert!(report.problems.is_empty(), "{name}: {:?}", report.problems);
    }
    let workouts = home.host.records("ann", &types_of("workout"))?;
    assert!(!workouts.is_empty());
    for w in &workouts {
        let c = w.coding.as_ref().expect("coded");
        assert_eq!(c.system, ACTIVITY.system);
        assert!(ACTIVITY.code(&c.code).is_some(), "{}", c.code);
    }
    let ride = workouts
        .iter()
        .find(|w| {
            w.metadata
                .as_ref()
                .is_some_and(|m| m["title"] == "20 min Pop Ride, Live")
        })
        .expect("the quoted title survives");
    let meta = ride.metadata.as_ref().unwrap();
    assert_eq!(meta["distance_m"], 16093.4, "10 mi: {meta}");
    assert_eq!(ride.start, "2020-04-17T19:29:00Z", "12:29 PDT");
    assert_eq!(ride.coding.as_ref().unwrap().code, "cycling");
    assert!(!home.host.records("ann", &types_of("heart-rate"))?.is_empty());
    Ok(())
}

#[test]
fn peloton_refuses_another_apps_csv_by_name() -> anyhow::Result<()> {
    let home = home_with("peloton", "workout,heart-rate")?;
    let err = home
        .host
        .import(
            "ann",
            "peloton",
            &source("peloton", "tests/fixtures/myfitnesspal.csv"),
            &json!({}),
        )
        .unwrap_err();
    assert!(err.to_string().contains("Workout Timestamp"), "{err}");
    assert!(home.host.records("ann", &types_of("workout"))?.is_empty());
    Ok(())
}

#[test]
fn records_add_stores_a_checked_sample_and_names_what_is_wrong() {
    let home = tempfile::tempdir().unwrap();
    assert!(cli(home.path(), &["user", "add", "ann"]).success);
    let add = |args: &[&str]| {
        let mut all = vec!["records", "add", "ann"];
        all.extend_from_slice(args);
        cli(home.path(), &all)
    };
    let out = add(&[
        "--type",
        "resting-heart-rate",
        "--value",
        "52",
        "--at",
        "2026-11-28T07:00:00Z",
    ]);
    assert!(out.success, "{}", out.stderr);
    let out = add(&[
        "--type",
        "resting-heart-rate",
        "--value",
        "52",
        "--at",
        "2026-11-28T07:00:00Z",
    ]);
    assert!(out.stdout.contains("already stored"), "{}", out.stdout);
    let night = ["--start", "2026-11-28T01:00:00Z", "--end", "2026-11-28T02:30:00Z"];
    let out = add(&[&["--type", "sleep", "--code", "REM"][..], &night[..]].concat());
    assert!(!out.success && out.stderr.contains("asleepREM"), "{}", out.stderr);
    let out = add(&[&["--type", "sleep", "--code", "asleepREM"][..], &night[..]].concat());
    assert!(out.success, "{}", out.stderr);
    let out = add(&["--type", "body-mass", "--value", "176", "--unit", "lb"]);
    assert!(out.success && out.stdout.contains("79.8"), "{}", out.stdout);
    let out = add(&["--type", "body-mass", "--value", "70", "--unit", "furlong"]);
    assert!(!out.success && out.stderr.contains("furlong"), "{}", out.stderr);
    let out = add(&["--type", "heart-rate", "--value", "60", "--at", "yesterday"]);
    assert!(!out.success && out.stderr.contains("RFC 3339"), "{}", out.stderr);
    let out = cli(
        home.path(),
        &["records", "add", "bob", "--type", "steps", "--value", "3"],
    );
    assert!(
        !out.success && out.stderr.contains("bob"),
        "a typo in the user creates no one"
    );
    let out = cli(home.path(), &["--json", "records", "ann"]);
    let records: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let records = records.as_array().unwrap();
    assert_eq!(records.len(), 3, "{records:?}");
    assert!(records.iter().all(|r| r["provenance"]["origin"] == "records-add"));
    let rem = records.iter().find(|r| r["type"] == "sleep").unwrap();
    assert_eq!(
        (rem["value"].as_f64(), rem["coding"]["code"].as_str()),
        (Some(90.0), Some("asleepREM"))
    );
}
