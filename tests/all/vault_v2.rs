//! Vault v2 against someone who can read and write the database file but
//! not the master key: exact times are not in the file, a day's sample
//! count is hidden up to a size class, and a sealed day chunk moved to
//! another day, type or user does not open (it is an error naming the
//! chunk, never another day's data served as this one's).

use std::path::Path;

use healthplug_host::vault::NewSample;
use healthplug_tests::{DAY_MS, TestHome, ty};

fn db(path: &Path) -> anyhow::Result<rusqlite::Connection> {
    Ok(rusqlite::Connection::open(path.join("vault.db"))?)
}

/// 2026-03-14 at 15:09:26.535 UTC: an instant unlikely to appear by chance.
const T: i64 = 1_773_500_966_535;

/// Every byte of the database and its write-ahead log.
fn file_bytes(home: &Path) -> anyhow::Result<Vec<u8>> {
    let mut all = std::fs::read(home.join("vault.db"))?;
    if let Ok(wal) = std::fs::read(home.join("vault.db-wal")) {
        all.extend(wal);
    }
    Ok(all)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn exact_times_are_not_in_the_file() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    let times = [T, T + 1_234_567, T + 7 * 3_600_000 + 4_321];
    let samples: Vec<NewSample> = times
        .iter()
        .map(|t| NewSample::quantity(ty("heart-rate"), *t, *t, 61.0))
        .collect();
    home.host.store_samples("alice", "test", &samples)?;
    let bytes = file_bytes(home.path())?;
    for t in times {
        // SQLite stores an integer of this size as 6 big-endian bytes.
        let be = t.to_be_bytes();
        for needle in [&be[2..], &be[..], &t.to_le_bytes()[..], t.to_string().as_bytes()] {
            assert!(
                !contains(&bytes, needle),
                "the instant {t} is in the file as {needle:?}"
            );
        }
    }
    // What is plaintext is the day.
    let day: i64 = db(home.path())?.query_row("SELECT day FROM sample_chunks", [], |r| r.get(0))?;
    assert_eq!(day, T.div_euclid(DAY_MS));
    Ok(())
}

#[test]
fn a_days_sample_count_is_hidden_by_its_size_class() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    let day = T.div_euclid(DAY_MS) * DAY_MS;
    let mut samples = vec![NewSample::quantity(ty("steps"), day + 60_000, day + 60_000, 12.0)];
    samples.extend((0..4).map(|i| {
        let t = day + DAY_MS + i * 3_600_000;
        NewSample::quantity(ty("steps"), t, t, 100.0 + i as f64)
    }));
    home.host.store_samples("alice", "test", &samples)?;
    let sizes: Vec<i64> = db(home.path())?
        .prepare("SELECT length(payload) FROM sample_chunks ORDER BY day")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    assert_eq!(sizes.len(), 2);
    assert_eq!(
        sizes[0], sizes[1],
        "one sample and four seal to different sizes: {sizes:?}"
    );
    Ok(())
}

fn read_error(home: &TestHome) -> String {
    match home.host.records("alice", &[]) {
        Ok(records) => format!("read {} records", records.len()),
        Err(e) => format!("{e:#}"),
    }
}

#[test]
fn a_chunk_moved_to_another_day_or_type_does_not_open() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    let day = T.div_euclid(DAY_MS) * DAY_MS;
    home.host.store_samples(
        "alice",
        "test",
        &[
            NewSample::quantity(ty("steps"), day + 1000, day + 1000, 1111.0),
            NewSample::quantity(ty("steps"), day + DAY_MS + 1000, day + DAY_MS + 1000, 2222.0),
        ],
    )?;
    // Another day: the first day's chunk is moved to the second (whose own
    // chunk is dropped).
    db(home.path())?.execute_batch(&format!(
        "DELETE FROM sample_chunks WHERE day = {d2};
         UPDATE sample_chunks SET day = {d2} WHERE day = {d1};",
        d1 = day / DAY_MS,
        d2 = day / DAY_MS + 1
    ))?;
    let e = read_error(&home);
    assert!(e.contains("unsealing the chunk"), "{e}");
    // Another type.
    db(home.path())?.execute_batch(&format!(
        "UPDATE sample_chunks SET data_type = {}",
        ty("heart-rate").code()
    ))?;
    let e = read_error(&home);
    assert!(e.contains("unsealing the chunk"), "{e}");
    Ok(())
}

#[test]
fn a_chunk_moved_to_another_user_does_not_open() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    home.host
        .store_samples("alice", "test", &[NewSample::quantity(ty("steps"), T, T, 3333.0)])?;
    let (bob, _) = home.host.ensure_user("bob")?;
    db(home.path())?.execute("UPDATE sample_chunks SET user_id = ?1", [bob.id])?;
    let e = match home.host.records("bob", &[]) {
        Ok(records) => format!("read {} records", records.len()),
        Err(e) => format!("{e:#}"),
    };
    assert!(e.contains("unsealing the chunk"), "{e}");
    Ok(())
}

#[test]
fn an_aggregate_flood_stops_at_the_decrypt_budget() -> anyhow::Result<()> {
    use healthplug_tests::{FLOOD_TYPES, budget_home};
    use serde_json::json;

    let home = budget_home()?;
    home.grant_with(
        "alice",
        "probe",
        healthplug_host::platform::GrantRequest {
            types: healthplug_tests::types_of(&FLOOD_TYPES.join(",")),
            granularity: Some(healthplug_host::consent::Granularity::Hourly),
            ..Default::default()
        },
    )?;
    let (out, outcome) = home.invoke_json(
        "alice",
        "probe",
        "flood",
        json!({ "iterations": 10_000, "aggregates": true, "types": FLOOD_TYPES }),
    )?;
    // Each aggregate covers 20,000 samples: the budget allows two.
    assert_eq!(out["ok"], 2, "{out}");
    assert_eq!(out["error"]["kind"], "limit-exceeded", "{out}");
    assert_eq!(outcome.host_calls, 3, "stopped at the budget");
    Ok(())
}
