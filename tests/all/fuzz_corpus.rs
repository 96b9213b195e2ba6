//! The fuzz targets' bodies (`healthplug_tests::fuzz`) over a seed corpus,
//! so the normal suite keeps them working on stable. Longer runs:
//! `cd tests/fuzz && cargo +nightly fuzz run <target>` (see the README).

use healthplug_tests::fuzz::{ComponentFuzzer, ConnectorFuzzer, manifest};
use healthplug_tests::{example_dir, fixture_wasm};

#[test]
fn manifest_seeds() -> anyhow::Result<()> {
    for id in ["activity-coach", "apple-health", "cloud-sync", "fhir-r4"] {
        let text = std::fs::read(example_dir(id).join("healthplug.toml"))?;
        manifest(&text);
        manifest(&text[..text.len() / 3]);
        let mut flipped = text.clone();
        flipped.iter_mut().step_by(17).for_each(|b| *b ^= 0x20);
        manifest(&flipped);
    }
    manifest(b"");
    manifest(&[0xff, 0xfe, b'[', b'[']);
    Ok(())
}

#[test]
fn component_seeds() -> anyhow::Result<()> {
    let fuzzer = ComponentFuzzer::new()?;
    let real = std::fs::read(fixture_wasm("probe"))?;
    fuzzer.run(&real);
    fuzzer.run(&real[..real.len() - 1]);
    fuzzer.run(b"\0asm\x0d\0\x01\0");
    fuzzer.run(&[]);
    Ok(())
}

#[test]
fn connector_seeds() -> anyhow::Result<()> {
    let fuzzer = ConnectorFuzzer::new()?;
    let seeds: [&[u8]; 5] = [
        b"\x00<?xml version=\"1.0\"?><HealthData><Record type=\"HKQuantityTypeIdentifierStepCount\" value=\"9\" unit=\"count\" startDate=\"2020-01-01 10:00:00 +0000\" endDate=\"2020-01-01 10:01:00 +0000\"/></HealthData>",
        b"\x01{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p\"}}]}",
        b"\x02Date,Meal,Calories\n2021-01-01,Lunch,500\n",
        b"\x03<gpx><trk><trkseg><trkpt lat=\"1\" lon=\"2\"><time>2021-01-01T00:00:00Z</time></trkpt></trkseg></trk></gpx>",
        b"\x02\xff\xfe\x00\x00garbage",
    ];
    for seed in seeds {
        fuzzer.run(seed);
    }
    Ok(())
}
