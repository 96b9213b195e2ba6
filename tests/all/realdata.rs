//! The four connectors on real exports written by others
//! (`../shared/testdata`, read through `HEALTHPLUG_TESTDATA`). Every count
//! and sum asserted here was computed independently of healthplug, by
//! `tests/realdata/expected.py` (Python's standard library only).
//!
//! Without `HEALTHPLUG_TESTDATA` these tests do nothing (a fresh clone has
//! no test data); with it, a missing file fails the test.

use std::path::PathBuf;

use healthplug_host::platform::{GrantRequest, ImportReport};
use healthplug_tests::{TestHome, example_dir};
use serde_json::json;

/// The path of a test-data file, `None` when `HEALTHPLUG_TESTDATA` is unset.
fn testdata(relative: &str) -> Option<PathBuf> {
    let root = std::env::var_os("HEALTHPLUG_TESTDATA").filter(|v| !v.is_empty())?;
    let path = PathBuf::from(root).join(relative);
    assert!(
        path.is_file(),
        "HEALTHPLUG_TESTDATA is set but {} is missing",
        path.display()
    );
    Some(path)
}

/// A home with `connector` installed and every type it declares granted
/// for writing to `ann`.
fn home_with(connector: &str) -> anyhow::Result<TestHome> {
    let home = TestHome::new()?;
    home.install(&example_dir(connector))?;
    let types = home
        .host
        .loaded(connector)?
        .manifest
        .type_requests()
        .iter()
        .map(|r| r.data_type)
        .collect();
    home.grant_with(
        "ann",
        connector,
        GrantRequest {
            types,
            write: true,
            ..GrantRequest::default()
        },
    )?;
    Ok(home)
}

/// Asserts the stored samples of `ty`: how many, and the sum of values.
fn expect(home: &TestHome, ty: &str, count: usize, sum: f64) -> anyhow::Result<()> {
    let records = home.host.records("ann", &healthplug_tests::types_of(ty))?;
    assert_eq!(records.len(), count, "{ty} count");
    let total: f64 = records.iter().filter_map(|r| r.value).sum();
    assert!(
        (total - sum).abs() <= 1e-6 * sum.abs().max(1.0),
        "{ty} sum: {total} != {sum}"
    );
    Ok(())
}

fn imported(report: &ImportReport, ty: &str) -> u64 {
    report
        .imported
        .iter()
        .find(|c| c.data_type == ty)
        .map(|c| c.count)
        .unwrap_or(0)
}

fn skipped(report: &ImportReport, reason: &str) -> u32 {
    report
        .skipped
        .iter()
        .find(|s| s.reason == reason)
        .map(|s| s.count)
        .unwrap_or(0)
}

fn import(home: &TestHome, connector: &str, file: &std::path::Path) -> anyhow::Result<ImportReport> {
    Ok(home.host.import("ann", connector, file, &json!({}))?)
}

#[test]
fn apple_health_dogsheep_export() -> anyhow::Result<()> {
    let Some(file) = testdata("apple-health/dogsheep/export.xml") else {
        return Ok(());
    };
    let home = home_with("apple-health")?;
    let report = import(&home, "apple-health", &file)?;
    assert_eq!(report.records_read, 5);
    expect(&home, "heart-rate", 1, 72.0)?;
    expect(&home, "body-mass-index", 1, 22.5312)?;
    expect(&home, "workout", 1, 5.194_123)?;
    expect(&home, "active-energy", 2, 913.765)?;
    expect(&home, "exercise-time", 2, 107.0)?;
    assert_eq!(
        skipped(&report, "ActivitySummary appleStandHours (no healthplug type)"),
        2
    );
    // The workout keeps its distance and energy, normalised, in metadata.
    let workout = &home.host.records("ann", &healthplug_tests::types_of("workout"))?[0];
    assert!(
        workout
            .coding
            .as_ref()
            .is_some_and(|c| c.system == "https://healthplug.dev/vocab/activity"
                && healthplug_host::registry::vocab::ACTIVITY.code(&c.code).is_some())
    );
    assert!(
        workout.metadata.as_ref().is_some_and(|m| m["energy_kcal"].is_number()),
        "{:?}",
        workout.metadata
    );
    Ok(())
}

#[test]
fn apple_health_sample_export_with_clinical_stubs() -> anyhow::Result<()> {
    let Some(file) = testdata("apple-health/opendroid-hk/sampleexport.xml") else {
        return Ok(());
    };
    let home = home_with("apple-health")?;
    let report = import(&home, "apple-health", &file)?;
    // 5 Records + 1 Workout + 17 ActivitySummary + 6 ClinicalRecord stubs.
    assert_eq!(report.records_read, 29);
    expect(&home, "active-energy", 17, 10_451.457)?;
    expect(&home, "exercise-time", 17, 1602.0)?;
    expect(&home, "body-mass-index", 4, 89.6)?;
    expect(&home, "heart-rate-variability", 1, 26.467)?;
    expect(&home, "workout", 1, 53.051_837)?;
    assert_eq!(
        skipped(
            &report,
            "ClinicalRecord (a stub: import its FHIR JSON with the fhir-r4 connector)"
        ),
        6
    );
    assert_eq!(report.problems_total, 0);
    Ok(())
}

#[test]
fn apple_health_quirky_export_counts_what_it_cannot_map() -> anyhow::Result<()> {
    let Some(file) = testdata("apple-health/opendroid-hk/sampleexport-2.xml") else {
        return Ok(());
    };
    let home = home_with("apple-health")?;
    let report = import(&home, "apple-health", &file)?;
    expect(&home, "body-mass", 7, 526.904_69)?; // lb → kg
    expect(&home, "lean-body-mass", 2, 105.233_43)?;
    expect(&home, "body-fat-percentage", 2, 0.324)?; // "%" that is already a fraction
    expect(&home, "body-mass-index", 2, 45.0)?; // unit "count"
    expect(&home, "height", 1, 175.26)?;
    expect(&home, "distance-walking-running", 2, 7.050_005)?; // mi → m
    expect(&home, "steps", 3, 432.0)?;
    expect(&home, "vo2-max", 1, 33.09)?; // "mL/min·kg"
    expect(&home, "walking-heart-rate-average", 3, 288.5)?;
    expect(&home, "workout", 5, 323.037_011)?;
    // The corrupt `type="c"` record is reported with its line.
    assert_eq!(report.problems_total, 1);
    assert!(
        report.problems[0].reason.contains("corrupt Record type `c`"),
        "{:?}",
        report.problems
    );
    let line = report.problems[0].line as usize;
    let text = std::fs::read_to_string(&file)?;
    assert!(
        text.lines().nth(line - 1).is_some_and(|l| l.contains("type=\"c\"")),
        "line {line}"
    );
    for (reason, n) in [
        ("HKQuantityTypeIdentifierWalkingStepLength (no healthplug type)", 4),
        (
            "HKQuantityTypeIdentifierWalkingDoubleSupportPercentage (no healthplug type)",
            3,
        ),
        ("Audiogram (no healthplug type)", 1),
    ] {
        assert_eq!(skipped(&report, reason), n, "{reason}: {:?}", report.skipped);
    }
    // Source names survive byte for byte: a typographic apostrophe and a
    // no-break space here.
    let records = home.host.records("ann", &[])?;
    assert!(
        records
            .iter()
            .any(|r| r.source_name.as_deref() == Some("DonorTwo\u{2019}s Apple\u{a0}Watch"))
    );
    assert!(records.iter().all(|r| r.provenance.origin == "apple-health"));
    let kg = home.host.records("ann", &healthplug_tests::types_of("body-mass"))?;
    assert!(kg.iter().all(|r| r.provenance.original_unit.as_deref() == Some("lb")));
    Ok(())
}

#[test]
fn fhir_bundle_of_one_patient() -> anyhow::Result<()> {
    let Some(file) = testdata("fhir/synthea_sample_complete_patient.json") else {
        return Ok(());
    };
    let home = home_with("fhir-r4")?;
    let report = import(&home, "fhir-r4", &file)?;
    assert_eq!(report.records_read, 314);
    expect(&home, "blood-pressure-systolic", 20, 2720.0)?;
    expect(&home, "blood-pressure-diastolic", 20, 980.0)?;
    expect(&home, "body-mass", 2, 157.8)?;
    expect(&home, "body-temperature", 3, 116.815)?;
    expect(&home, "heart-rate", 1, 194.13)?;
    expect(&home, "height", 1, 162.1)?;
    expect(&home, "oxygen-saturation", 1, 0.7576)?; // 75.76 % as a fraction
    expect(&home, "respiratory-rate", 1, 34.989)?;
    expect(&home, "lab-result", 26, 1058.17)?;
    expect(&home, "condition", 21, 0.0)?;
    expect(&home, "medication", 12, 0.0)?;
    let labs = home.host.records("ann", &healthplug_tests::types_of("lab-result"))?;
    assert!(labs.iter().any(|r| {
        r.coding
            .as_ref()
            .is_some_and(|c| c.system == "http://loinc.org" && c.code == "4548-4")
    }));
    Ok(())
}

#[test]
fn fhir_bulk_ndjson_imports_one_patient_only() -> anyhow::Result<()> {
    let Some(conditions) = testdata("fhir/bulk-10-patients/Condition.000.ndjson") else {
        return Ok(());
    };
    let home = home_with("fhir-r4")?;
    // Without --patient a file of 13 patients is refused, listing them.
    let err = match home.host.import("ann", "fhir-r4", &conditions, &json!({})) {
        Ok(_) => anyhow::bail!("a multi-patient file was imported without --patient"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("13 patients"), "{err}");
    for id in [
        "129c6ac7-8d06-89de-ad63-0204a93e76c3",
        "cbc86e51-9eca-3855-76ec-c058f72c5761",
        "fb7c882a-f897-e7c5-67e0-825e7fd55d15",
    ] {
        assert!(err.contains(id), "the patient ids are listed: {err}");
    }
    assert!(home.host.records("ann", &[])?.is_empty(), "nothing stored");

    let patient = json!({ "patient": "cbc86e51-9eca-3855-76ec-c058f72c5761" });
    let report = home.host.import("ann", "fhir-r4", &conditions, &patient)?;
    assert_eq!(imported(&report, "condition"), 21);
    assert_eq!(skipped(&report, "resources of other patients"), 534);
    for (file, ty, count, others) in [
        (
            "fhir/bulk-10-patients/MedicationRequest.000.ndjson",
            "medication",
            4,
            1741,
        ),
        ("fhir/bulk-10-patients/AllergyIntolerance.000.ndjson", "allergy", 8, 3),
        ("fhir/bulk-10-patients/Immunization.000.ndjson", "immunization", 11, 150),
    ] {
        let Some(path) = testdata(file) else { return Ok(()) };
        let report = home.host.import("ann", "fhir-r4", &path, &patient)?;
        assert_eq!(imported(&report, ty), count, "{file}");
        assert_eq!(skipped(&report, "resources of other patients"), others, "{file}");
        expect(&home, ty, count as usize, 0.0)?;
    }
    let Some(patients) = testdata("fhir/bulk-10-patients/Patient.000.ndjson") else {
        return Ok(());
    };
    let report = home.host.import("ann", "fhir-r4", &patients, &patient)?;
    assert_eq!(report.total_imported, 0);
    assert_eq!(skipped(&report, "resources of other patients"), 12);
    // A patient the file does not hold is refused by name.
    let err = home
        .host
        .import("ann", "fhir-r4", &conditions, &json!({ "patient": "nobody" }));
    assert!(err.is_err_and(|e| e.to_string().contains("patient `nobody` is not in this file")));
    Ok(())
}

#[test]
fn myfitnesspal_nutrition_summary() -> anyhow::Result<()> {
    let Some(file) = testdata("myfitnesspal/mfp.csv") else {
        return Ok(());
    };
    let home = home_with("myfitnesspal")?;
    let report = import(&home, "myfitnesspal", &file)?;
    assert_eq!(report.records_read, 78);
    expect(&home, "dietary-energy", 78, 10_836.3)?;
    expect(&home, "dietary-fat", 78, 373.3)?;
    expect(&home, "dietary-carbohydrate", 78, 717.8)?;
    expect(&home, "dietary-protein", 78, 1130.4)?;
    expect(&home, "dietary-sodium", 78, 80.9)?;
    assert_eq!(report.problems_total, 0);
    Ok(())
}

#[test]
fn gpx_tracks_and_heart_rate() -> anyhow::Result<()> {
    let home = home_with("gpx")?;
    for (file, ty, count, sum) in [
        ("gpx/gpx_with_garmin_extension.gpx", "heart-rate", 1, 171.0),
        ("gpx/track-with-less-sec-time.gpx", "workout", 1, 0.016_567),
        ("gpx/track_with_speed.gpx", "workout", 2, 0.016_567 + 0.216_667),
        (
            "apple-health/dogsheep/zip_contents/apple_health_export/workout-routes/route_2019-06-11_3.00pm.gpx",
            "workout",
            3,
            0.016_567 + 0.216_667 + 0.016_667,
        ),
    ] {
        let Some(path) = testdata(file) else { return Ok(()) };
        import(&home, "gpx", &path)?;
        expect(&home, ty, count, sum)?;
    }
    let workouts = home.host.records("ann", &healthplug_tests::types_of("workout"))?;
    let run = workouts
        .iter()
        .find(|w| w.coding.as_ref().is_some_and(|c| c.code == "running"));
    assert!(run.is_some(), "the NikePlus track is a run");
    Ok(())
}

#[test]
fn importing_the_same_file_twice_stores_nothing_new() -> anyhow::Result<()> {
    let Some(file) = testdata("myfitnesspal/mfp.csv") else {
        return Ok(());
    };
    let home = home_with("myfitnesspal")?;
    let first = import(&home, "myfitnesspal", &file)?;
    let before = home.host.records("ann", &[])?.len();
    let second = import(&home, "myfitnesspal", &file)?;
    assert_eq!(second.total_imported, 0);
    assert_eq!(second.duplicates, first.total_imported);
    assert_eq!(home.host.records("ann", &[])?.len(), before);
    Ok(())
}

#[test]
fn a_file_of_the_wrong_format_gets_one_clear_error() -> anyhow::Result<()> {
    let Some(csv) = testdata("myfitnesspal/mfp.csv") else {
        return Ok(());
    };
    let Some(xml) = testdata("apple-health/dogsheep/export.xml") else {
        return Ok(());
    };
    for (connector, file, needle) in [
        ("apple-health", &csv, "not an Apple Health export"),
        ("fhir-r4", &xml, "not FHIR JSON"),
        ("gpx", &csv, "not a GPX file"),
        ("myfitnesspal", &xml, "not a MyFitnessPal Nutrition-Summary CSV"),
    ] {
        let home = home_with(connector)?;
        match import(&home, connector, file) {
            Ok(r) => anyhow::bail!("{connector} imported {}", r.file),
            Err(e) => assert!(e.to_string().contains(needle), "{connector}: {e}"),
        }
        assert!(home.host.records("ann", &[])?.is_empty());
    }
    Ok(())
}
