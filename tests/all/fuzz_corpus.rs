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

#[test]
fn planner_seeds() {
    use healthplug_tests::fuzz_planner::planner;
    planner(&[]);
    planner(&[0xff; 64]);
    // Found by `cargo fuzz run planner`: an hourly bucket on Lord Howe
    // Island (30-minute DST) started before the window's visible start.
    let crash = "0a5745fc5df725001d0000fffffd236f495354001ef3f3f3f3f3f3f3f34c4d54f3f3f3f3f3f3f3f3f3f34d54dbdbdbdbdbdb00ffa2650000000005";
    planner(&hex::decode(crash).unwrap());
    let mut seed = vec![0u8, 0x7f, 2, 0, 1, 0x7f, 1];
    seed.extend(0i64.to_le_bytes());
    seed.extend(i64::MIN.to_le_bytes());
    seed.extend(i64::MAX.to_le_bytes());
    planner(&seed);
    // Every zone, granularity and field set over a few hostile ranges.
    for zone in 0..6u8 {
        for g in 0..3u8 {
            for fields in [0u8, 1, 4, 5, 0x7f] {
                for (start, end) in [
                    (i64::MIN, i64::MAX),
                    (-1, 0),
                    (1_772_900_000_000, 1_772_900_000_001),
                    (i64::MAX - 1, i64::MAX),
                ] {
                    let mut s = vec![10, fields, g, 3, zone, 0x7f, g];
                    s.extend(1_790_000_000_000i64.to_le_bytes());
                    s.extend(start.to_le_bytes());
                    s.extend(end.to_le_bytes());
                    planner(&s);
                }
            }
        }
    }
}
