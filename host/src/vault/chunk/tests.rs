//! The chunk codec: round trips, selective decoding, padding, and chunks
//! that opened but do not decode.

use proptest::prelude::*;

use super::*;
use crate::vault::samples::Provenance;

fn entry(start_ms: i64, seed: u8) -> Entry {
    Entry {
        start_ms,
        end_ms: start_ms + i64::from(seed) * 1000,
        digest: [seed; DIGEST_LEN],
        payload: SamplePayload {
            value: (!seed.is_multiple_of(3)).then_some(f64::from(seed) * 1.5),
            unit: if seed.is_multiple_of(2) {
                "count".into()
            } else {
                "kg".into()
            },
            coding: (seed.is_multiple_of(4)).then(|| Coding {
                system: "http://loinc.org".into(),
                code: format!("{seed}-1"),
                display: "x".into(),
            }),
            source_name: (seed.is_multiple_of(5)).then(|| "Watch".into()),
            device: (seed.is_multiple_of(6)).then(|| "Watch7,1".into()),
            metadata: (seed.is_multiple_of(7)).then(|| "{}".into()),
            notes: (seed.is_multiple_of(8)).then(|| "a note".into()),
            provenance: Provenance {
                origin: if seed.is_multiple_of(2) {
                    "apple-health".into()
                } else {
                    "mfp".into()
                },
                origin_digest: (!seed.is_multiple_of(2)).then(|| "ab".repeat(32)),
                written_ms: 1_700_000_000_000 + i64::from(seed),
                original_value: (seed.is_multiple_of(9)).then_some(2.0),
                original_unit: (seed.is_multiple_of(9)).then(|| "lb".into()),
            },
        },
    }
}

const DAY: i64 = 20_000;

#[test]
fn a_day_round_trips_whole() {
    let entries: Vec<Entry> = (0..50u8)
        .map(|i| entry(DAY * DAY_MS + i64::from(i) * 60_000, i))
        .collect();
    let plain = encode(DAY, &entries).unwrap();
    assert_eq!(decode(DAY, &plain, Columns::ALL).unwrap(), entries);
    assert_eq!(count(&plain).unwrap(), 50);
}

#[test]
fn withheld_columns_are_not_decoded() {
    let entries: Vec<Entry> = (0..20u8).map(|i| entry(DAY * DAY_MS + i64::from(i), i)).collect();
    let plain = encode(DAY, &entries).unwrap();
    for e in decode(DAY, &plain, Columns::VALUE).unwrap() {
        assert!(e.payload.unit.is_empty() && e.payload.source_name.is_none() && e.payload.notes.is_none());
        assert!(e.payload.provenance.origin.is_empty() && e.payload.metadata.is_none());
    }
    let times = decode(DAY, &plain, Columns::INDEX).unwrap();
    assert!(times.iter().all(|e| e.payload.value.is_none()));
    assert_eq!(
        times.iter().map(|e| e.start_ms).collect::<Vec<_>>(),
        entries.iter().map(|e| e.start_ms).collect::<Vec<_>>()
    );
}

#[test]
fn sizes_come_in_classes() {
    assert_eq!(padded_len(0), 256);
    assert_eq!(padded_len(256), 256);
    assert_eq!(padded_len(257), 288);
    assert_eq!(padded_len(1000), 1024);
    assert_eq!(padded_len(1025), 1152);
    // One to fourteen samples of a day all seal to the same size.
    let sizes: std::collections::BTreeSet<usize> = (1..=4u8)
        .map(|n| {
            let entries: Vec<Entry> = (0..n).map(|i| entry(DAY * DAY_MS + i64::from(i), 2)).collect();
            encode(DAY, &entries).unwrap().len()
        })
        .collect();
    assert_eq!(sizes.len(), 1, "{sizes:?}");
}

#[test]
fn a_chunk_that_does_not_decode_says_what_is_wrong() {
    let entries: Vec<Entry> = (0..3u8).map(|i| entry(DAY * DAY_MS + i64::from(i), i)).collect();
    let plain = encode(DAY, &entries).unwrap();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (plain[..10].to_vec(), "truncated"),
        (
            {
                let mut p = plain.clone();
                p[0] = 1;
                p
            },
            "version",
        ),
        (
            {
                let mut p = plain.clone();
                p[5..9].copy_from_slice(&u32::MAX.to_le_bytes());
                p
            },
            "runs past",
        ),
        (
            {
                let mut p = plain.clone();
                p[1..5].copy_from_slice(&4u32.to_le_bytes());
                p
            },
            "not 4",
        ),
    ];
    for (bad, words) in cases {
        let e = decode(DAY, &bad, Columns::ALL)
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(e.contains(words), "{words}: {e}");
    }
}

proptest! {
    #[test]
    fn any_day_round_trips(seeds in proptest::collection::vec((0i64..DAY_MS, any::<u8>()), 0..64)) {
        let mut entries: Vec<Entry> = seeds.iter().map(|(at, s)| entry(DAY * DAY_MS + at, *s)).collect();
        entries.sort_by_key(|e| (e.start_ms, e.digest));
        let plain = encode(DAY, &entries).unwrap();
        prop_assert_eq!(decode(DAY, &plain, Columns::ALL).unwrap(), entries);
        prop_assert!(plain.len() >= 256 && plain.len() == padded_len(plain.len()));
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = decode(DAY, &bytes, Columns::ALL);
    }
}
