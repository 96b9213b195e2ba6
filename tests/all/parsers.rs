//! Property tests of each connector's parser, run where parsers run: in
//! the sandbox, through the host. A valid seed export is mangled (bytes
//! inserted, deleted, replaced, the file cut short) and imported; whatever
//! the input, the host returns a report or a typed error, stores only the
//! types the user granted, stores nothing when the import fails, and keeps
//! its audit log intact.

use healthplug_host::HostError;
use healthplug_host::registry::DataType;
use healthplug_tests::{TestHome, example_dir, grant_writes, types_of, write_apple_export};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::json;

const FHIR_BUNDLE: &str = r#"{"resourceType":"Bundle","type":"transaction","entry":[
{"resource":{"resourceType":"Patient","id":"p1"}},
{"resource":{"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4","display":"Heart rate"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2020-01-01T10:00:00Z","valueQuantity":{"value":72,"unit":"/min","system":"http://unitsofmeasure.org","code":"/min"}}},
{"resource":{"resourceType":"Observation","id":"o2","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"29463-7","display":"Body weight"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2020-01-02","valueQuantity":{"value":154,"unit":"lb","system":"http://unitsofmeasure.org","code":"[lb_av]"}}},
{"resource":{"resourceType":"Condition","id":"c1","code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006","display":"Diabetes"}]},"subject":{"reference":"Patient/p1"},"onsetDateTime":"2015-03-01"}}
]}"#;

const MFP_CSV: &str = "Date,Meal,Time,Calories,Fat (g),Sodium (mg),Carbohydrates (g),Protein (g),Note\n\
2021-05-01,Breakfast,,350,10,200,40,20,oats\n\
2021-05-01,Lunch,1:15 PM,600,20,700,60,30,\n\
2021-05-02,Dinner,19:30,700.5,25,900,80,35,\n";

const GPX: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1" xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">
<trk><name>Run</name><type>running</type><trkseg>
<trkpt lat="47.6062" lon="-122.3321"><ele>50</ele><time>2021-06-01T07:00:00Z</time><extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>120</gpxtpx:hr></gpxtpx:TrackPointExtension></extensions></trkpt>
<trkpt lat="47.6072" lon="-122.3331"><ele>52</ele><time>2021-06-01T07:01:00Z</time><extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>135</gpxtpx:hr></gpxtpx:TrackPointExtension></extensions></trkpt>
<trkpt lat="47.6082" lon="-122.3341"><ele>55</ele><time>2021-06-01T07:02:00Z</time><extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>142</gpxtpx:hr></gpxtpx:TrackPointExtension></extensions></trkpt>
</trkseg></trk></gpx>
"#;

fn apple_seed() -> Vec<u8> {
    let mut out = Vec::new();
    let _ = write_apple_export(&mut out, 40);
    out
}

/// Edits: (position, 0 insert / 1 delete / 2 replace / 3 cut, byte).
fn edits(len: usize) -> impl Strategy<Value = Vec<(usize, u8, u8)>> {
    prop::collection::vec((0..len.max(1), 0u8..4, any::<u8>()), 1..8)
}

fn mutate(seed: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for &(at, op, byte) in edits {
        let at = at.min(bytes.len());
        match op {
            0 => bytes.insert(at, byte),
            1 if at < bytes.len() => {
                bytes.remove(at);
            }
            2 if at < bytes.len() => bytes[at] = byte,
            3 if at > bytes.len() / 2 => bytes.truncate(at),
            _ => {}
        }
    }
    bytes
}

fn count(home: &TestHome, types: &[DataType]) -> anyhow::Result<usize> {
    Ok(home.host.records("ann", types)?.len())
}

/// Imports `cases` mutations of `seed` with `connector` and checks each.
fn mangled_imports_are_contained(connector: &str, declared: &str, seed: &[u8], name: &str) -> anyhow::Result<()> {
    let home = TestHome::new()?;
    home.install(&example_dir(connector))?;
    grant_writes(&home.host, "ann", connector, declared)?;
    let declared = types_of(declared);
    let ungranted: Vec<DataType> = DataType::all().filter(|t| !declared.contains(t)).collect();
    let file = home.path().join(name);
    let mut runner = TestRunner::new(Config {
        cases: 48,
        failure_persistence: None,
        ..Config::default()
    });
    let outcomes: [std::cell::Cell<usize>; 3] = Default::default();
    runner
        .run(&edits(seed.len()), |edits| {
            let bytes = mutate(seed, &edits);
            std::fs::write(&file, &bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let before = count(&home, &declared).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let result = home.host.import("ann", connector, &file, &json!({}));
            let after = count(&home, &declared).map_err(|e| TestCaseError::fail(e.to_string()))?;
            match &result {
                Ok(report) => {
                    outcomes[0].set(outcomes[0].get() + 1);
                    prop_assert!(after >= before);
                    prop_assert!(u64::try_from(after - before).unwrap_or(0) <= report.total_imported);
                }
                Err(HostError::Import { message, .. }) => {
                    outcomes[1].set(outcomes[1].get() + 1);
                    prop_assert!(!message.is_empty());
                    prop_assert_eq!(after, before, "a failed import stored samples");
                }
                Err(HostError::Plugin { failure, .. }) => {
                    outcomes[2].set(outcomes[2].get() + 1);
                    prop_assert_eq!(after, before, "a crashed import stored samples: {:?}", failure);
                }
                Err(other) => return Err(TestCaseError::fail(format!("not contained: {other}"))),
            }
            let strays = count(&home, &ungranted).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(strays, 0, "a type the user did not grant was stored");
            Ok(())
        })
        .map_err(|e| anyhow::anyhow!("{connector}: {e}"))?;
    assert!(home.host.verify_audit()?.ok());
    println!(
        "{connector}: {} reports, {} typed import errors, {} contained crashes",
        outcomes[0].get(),
        outcomes[1].get(),
        outcomes[2].get()
    );
    Ok(())
}

#[test]
fn apple_health_survives_mangled_exports() -> anyhow::Result<()> {
    mangled_imports_are_contained(
        "apple-health",
        "steps,heart-rate,workout,active-energy,distance-walking-running,exercise-time,stand-time",
        &apple_seed(),
        "export.xml",
    )
}

#[test]
fn fhir_r4_survives_mangled_bundles() -> anyhow::Result<()> {
    mangled_imports_are_contained(
        "fhir-r4",
        "heart-rate,body-mass,condition",
        FHIR_BUNDLE.as_bytes(),
        "bundle.json",
    )
}

#[test]
fn myfitnesspal_survives_mangled_csv() -> anyhow::Result<()> {
    mangled_imports_are_contained(
        "myfitnesspal",
        "dietary-energy,dietary-fat,dietary-sodium,dietary-carbohydrate,dietary-protein",
        MFP_CSV.as_bytes(),
        "Nutrition-Summary.csv",
    )
}

#[test]
fn gpx_survives_mangled_tracks() -> anyhow::Result<()> {
    mangled_imports_are_contained("gpx", "workout,heart-rate", GPX.as_bytes(), "run.gpx")
}
