//! Connectors on hostile and generated input (no test data needed): bad
//! records are counted with their line and never abort an import, a partial
//! write grant imports what it covers, imports stream in bounded memory,
//! and a failed import stores nothing.

use std::io::Write;
use std::path::{Path, PathBuf};

use healthplug_tests::{TestHome, example_dir, grant_writes, types_of, write_apple_export};
use serde_json::json;

fn home_with(connector: &str, types: &str) -> anyhow::Result<TestHome> {
    let home = TestHome::new()?;
    home.install(&example_dir(connector))?;
    grant_writes(&home.host, "ann", connector, types)?;
    Ok(home)
}

fn file(dir: &Path, name: &str, text: &str) -> anyhow::Result<PathBuf> {
    let path = dir.join(name);
    std::fs::write(&path, text)?;
    Ok(path)
}

#[test]
fn malformed_apple_records_are_counted_with_their_line() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let export = file(
        dir.path(),
        "export.xml",
        r#"<?xml version="1.0" encoding="UTF-8"?>
<HealthData locale="en_US">
 <Record type="HKQuantityTypeIdentifierStepCount" sourceName="Phone" unit="count" startDate="2020-01-01 10:00:00 -0800" endDate="2020-01-01 10:05:00 -0800" value="120"/>
 <Record type="HKQuantityTypeIdentifierStepCount" sourceName="Phone" unit="count" startDate="2020-01-01 11:00:00 -0800" endDate="2020-01-01 11:05:00 -0800" value="lots"/>
 <Record type="HKQuantityTypeIdentifierStepCount" sourceName="Phone" unit="count" startDate="yesterday" endDate="2020-01-01 11:05:00 -0800" value="5"/>
 <Record type="HKQuantityTypeIdentifierBodyMass" sourceName="Scale" unit="furlong" startDate="2020-01-01 07:00:00 -0800" endDate="2020-01-01 07:00:00 -0800" value="70"/>
 <Record type="c" sourceName="Phone" unit="count" startDate="2020-01-01 10:00:00 -0800" endDate="2020-01-01 10:05:00 -0800" value="1"/>
 <Record type="HKQuantityTypeIdentifierStepCount" sourceName="Phone" unit="count" startDate="2020-01-02 10:00:00 -0800" endDate="2020-01-02 10:05:00 -0800" value="80"/>
 <Record type="HKQuantityTypeIdentifierBodyMass" sourceName="Scale" unit="kg" startDate="2020-01-02 07:00:00 -0800" endDate="2020-01-02 07:00:00 -0800" value="70.5"/>
</HealthData>
"#,
    )?;
    let home = home_with("apple-health", "steps,body-mass")?;
    let report = home.host.import("ann", "apple-health", &export, &json!({}))?;
    assert_eq!(report.records_read, 7);
    assert_eq!(report.total_imported, 3, "{report:?}");
    let problems: Vec<(u32, &str)> = report.problems.iter().map(|p| (p.line, p.reason.as_str())).collect();
    assert_eq!(problems.len(), 4, "{problems:?}");
    assert_eq!(problems[0].0, 4);
    assert!(problems[0].1.contains("`lots` is not a number"));
    assert_eq!(problems[1].0, 5);
    assert!(problems[1].1.contains("unreadable date"));
    assert_eq!(problems[2].0, 6);
    assert!(problems[2].1.contains("unknown unit `furlong`"));
    assert_eq!(problems[3].0, 7);
    assert!(problems[3].1.contains("corrupt Record type `c`"));
    Ok(())
}

#[test]
fn an_xml_syntax_error_keeps_what_was_read_before_it() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let export = file(
        dir.path(),
        "export.xml",
        "<HealthData>\n <Record type=\"HKQuantityTypeIdentifierStepCount\" unit=\"count\" startDate=\"2020-01-01 10:00:00 -0800\" endDate=\"2020-01-01 10:00:00 -0800\" value=\"3\"/>\n <Broken>\n </Mismatched>\n <Record type=\"HKQuantityTypeIdentifierStepCount\" unit=\"count\" startDate=\"2020-01-02 10:00:00 -0800\" endDate=\"2020-01-02 10:00:00 -0800\" value=\"4\"/>\n</HealthData>\n",
    )?;
    let home = home_with("apple-health", "steps")?;
    let report = home.host.import("ann", "apple-health", &export, &json!({}))?;
    assert_eq!(report.total_imported, 1);
    assert_eq!(report.problems_total, 1);
    assert!(
        report.problems[0].reason.contains("XML syntax error"),
        "{:?}",
        report.problems
    );
    assert_eq!(report.problems[0].line, 4, "{:?}", report.problems);
    Ok(())
}

#[test]
fn a_partial_write_grant_imports_what_it_covers() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("export.xml");
    let counts = write_apple_export(&mut std::fs::File::create(&path)?, 400)?;
    let home = home_with("apple-health", "heart-rate")?;
    let report = home.host.import("ann", "apple-health", &path, &json!({}))?;
    assert_eq!(report.total_imported as usize, counts.1);
    let skipped = |r: &str| report.skipped.iter().find(|s| s.reason == r).map(|s| s.count as usize);
    assert_eq!(skipped("steps (writing not granted by the user)"), Some(counts.0));
    assert_eq!(skipped("workout (writing not granted by the user)"), Some(counts.2));
    assert!(home.host.records("ann", &types_of("steps"))?.is_empty());
    Ok(())
}

#[test]
fn imports_stream_in_bounded_guest_memory() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("export.xml");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
    let (steps, hr, workouts) = write_apple_export(&mut out, 80_000)?;
    out.flush()?;
    drop(out);
    let bytes = std::fs::metadata(&path)?.len();
    let home = home_with("apple-health", "steps,heart-rate,workout")?;
    let report = home.host.import("ann", "apple-health", &path, &json!({}))?;
    assert_eq!(report.total_imported as usize, steps + hr + workouts);
    assert!(
        report.guest_peak_memory_bytes < bytes / 2,
        "the connector held {} bytes for a {bytes}-byte file: not streaming",
        report.guest_peak_memory_bytes
    );
    Ok(())
}

#[test]
fn fhir_lines_that_are_not_json_are_counted_with_their_line() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let ndjson = file(
        dir.path(),
        "Condition.ndjson",
        concat!(
            r#"{"resourceType":"Condition","id":"a","code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006","display":"Diabetes"}]},"subject":{"reference":"Patient/p1"},"onsetDateTime":"2015-03-01T10:00:00Z"}"#,
            "\n",
            "{not json\n",
            r#"{"resourceType":"Condition","id":"b","subject":{"reference":"Patient/p1"},"onsetDateTime":"2015-03-01"}"#,
            "\n",
            r#"{"resourceType":"Condition","id":"c","code":{"coding":[{"system":"http://snomed.info/sct","code":"38341003","display":"Hypertension"}]},"subject":{"reference":"Patient/p1"},"onsetDateTime":"2016"}"#,
            "\n",
        ),
    )?;
    let home = home_with("fhir-r4", "condition")?;
    let report = home.host.import("ann", "fhir-r4", &ndjson, &json!({}))?;
    assert_eq!(report.total_imported, 2);
    let problems: Vec<(u32, &str)> = report.problems.iter().map(|p| (p.line, p.reason.as_str())).collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert_eq!(problems[0].0, 2);
    assert!(problems[0].1.contains("not valid JSON"));
    assert_eq!(problems[1].0, 3);
    assert!(problems[1].1.contains("Condition without a code"));
    let conditions = home.host.records("ann", &types_of("condition"))?;
    assert!(
        conditions.iter().any(|c| c.start == "2016-01-01T00:00:00Z"),
        "a partial date is the start of its year"
    );
    Ok(())
}

#[test]
fn a_bad_csv_row_is_counted_and_the_rest_imported() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let csv = file(
        dir.path(),
        "Nutrition-Summary.csv",
        "\u{feff}Date,Meal,Time,Calories,Fat (g),Sodium (mg),Carbohydrates (g),Protein (g),Note\n\
         2021-05-01,Breakfast,,350,10,200,40,20,oats\n\
         2021-05-01,Lunch,1:15 PM,lots,10,200,40,20,\n\
         not-a-date,Dinner,,500,10,200,40,20,\n\
         2021-05-02,Dinner,19:30,700.5,25,900,80,35,\n",
    )?;
    let home = home_with(
        "myfitnesspal",
        "dietary-energy,dietary-fat,dietary-sodium,dietary-carbohydrate,dietary-protein",
    )?;
    let report = home.host.import("ann", "myfitnesspal", &csv, &json!({}))?;
    assert_eq!(report.records_read, 4);
    assert_eq!(report.total_imported, 10);
    let lines: Vec<u32> = report.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, vec![3, 4], "{:?}", report.problems);
    let energy = home.host.records("ann", &types_of("dietary-energy"))?;
    assert_eq!(energy.len(), 2);
    assert_eq!(energy[0].notes.as_deref(), Some("oats"));
    assert_eq!(energy[1].start, "2021-05-02T19:30:00Z");
    Ok(())
}

/// A track point written as an empty element (`<trkpt …/>`, a position
/// with nothing inside) is a point of the route like any other: it counts
/// and adds its leg to the distance, and the next point opens afresh.
#[test]
fn a_self_closing_track_point_is_part_of_the_route() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let gpx = file(
        dir.path(),
        "run.gpx",
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1"><trk><type>running</type><trkseg>"#,
            r#"<trkpt lat="47.6000" lon="-122.3000"><time>2021-06-01T07:00:00Z</time></trkpt>"#,
            r#"<trkpt lat="47.6100" lon="-122.3000"/>"#,
            r#"<trkpt lat="47.6000" lon="-122.3000"><time>2021-06-01T07:10:00Z</time></trkpt>"#,
            "</trkseg></trk></gpx>\n",
        ),
    )?;
    let home = home_with("gpx", "workout,heart-rate")?;
    let report = home.host.import("ann", "gpx", &gpx, &json!({}))?;
    assert_eq!(report.records_read, 4, "three points and the track: {report:?}");
    let workouts = home.host.records("ann", &types_of("workout"))?;
    assert_eq!(workouts.len(), 1);
    let meta = workouts[0].metadata.clone().unwrap();
    assert_eq!(meta["points"], 3, "{meta}");
    let distance = meta["distance_m"].as_f64().unwrap();
    assert!(
        (distance - 2_223.9).abs() < 5.0,
        "there and back over 0.01° of latitude: {distance}"
    );
    Ok(())
}
