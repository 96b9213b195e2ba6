//! A plugin trying to learn more than its grant, from inside the sandbox:
//! bisecting aggregate windows down to single samples, bisecting raw
//! windows to recover a withheld `time`, using the write path as a read
//! oracle, racing a revoke with its commit, and making the host decrypt
//! everything on every call. Each probe failed (learnt something) on the
//! host before these holes were closed.

use std::sync::Arc;
use std::time::Duration;

use healthplug_host::consent::{Fields, Granularity};
use healthplug_host::platform::GrantRequest;
use healthplug_host::vault::NewSample;
use healthplug_tests::{DAY_MS, TestHome, budget_home, fixture_dir, grant_writes, now_ms, ty, types_of};
use serde_json::{Value, json};

const HOUR: i64 = 3_600_000;

/// The start of the UTC day `days` before today.
fn utc_day(days: i64) -> i64 {
    let now = now_ms();
    now - now.rem_euclid(DAY_MS) - days * DAY_MS
}

/// Twenty step samples at known, irregular times of one day, values 1..=20.
fn one_day_of_steps(day: i64) -> Vec<NewSample> {
    (0..20)
        .map(|i| {
            let start = day + i * 67 * 60_000 + i * i * 1_000;
            NewSample::quantity(ty("steps"), start, start + 60_000, (i + 1) as f64)
        })
        .collect()
}

fn probe_home(granularity: Granularity, fields: Fields) -> anyhow::Result<TestHome> {
    let home = TestHome::new()?;
    home.install(&fixture_dir("probe"))?;
    home.host
        .store_samples("alice", "test", &one_day_of_steps(utc_day(3)))?;
    home.grant_with(
        "alice",
        "probe",
        GrantRequest {
            types: types_of("steps"),
            fields: Some(fields),
            granularity: Some(granularity),
            ..GrantRequest::default()
        },
    )?;
    Ok(home)
}

fn call(home: &TestHome, tool: &str, args: Value) -> anyhow::Result<Value> {
    Ok(home.invoke_json("alice", "probe", tool, args)?.0)
}

fn rows(out: &Value) -> Vec<Value> {
    out["rows"].as_array().cloned().unwrap_or_default()
}

#[test]
fn bisecting_daily_aggregates_learns_nothing_finer_than_the_day() -> anyhow::Result<()> {
    let home = probe_home(Granularity::Daily, Fields::ALL)?;
    let day = utc_day(3);
    // The attack: one-millisecond windows at every sample's start, and
    // ever-narrower windows halving the day. Each would return a bucket
    // holding exactly the samples it covers.
    let mut windows: Vec<(i64, i64)> = one_day_of_steps(day)
        .iter()
        .map(|s| (s.start_ms, s.start_ms + 1))
        .collect();
    let (lo, mut hi) = (day, day + DAY_MS);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        windows.push((lo, mid));
        windows.push((mid, hi));
        hi = mid;
    }
    windows.push((day - HOUR, day + DAY_MS - 1));
    for (start, end) in windows {
        let out = call(
            &home,
            "aggregate",
            json!({ "types": ["steps"], "bucket": "daily", "start": start, "end": end }),
        )?;
        assert_eq!(out["ok"], true, "{out}");
        assert!(rows(&out).is_empty(), "a window inside one day revealed {out}");
    }
    // A window holding the whole day sees the whole day, starting at the day.
    let out = call(
        &home,
        "aggregate",
        json!({ "types": ["steps"], "bucket": "daily", "start": day - HOUR, "end": day + DAY_MS + HOUR }),
    )?;
    let r = rows(&out);
    assert_eq!(r.len(), 1, "{out}");
    assert_eq!(r[0]["bucket_start"], day);
    assert_eq!(r[0]["count"], 20);
    assert_eq!(r[0]["sum"], 210.0);
    // Hourly is finer than granted.
    let out = call(
        &home,
        "aggregate",
        json!({ "types": ["steps"], "bucket": "hourly", "start": day, "end": day + DAY_MS }),
    )?;
    assert_eq!(out["error"]["reason"], "granularity-too-fine", "{out}");
    Ok(())
}

#[test]
fn bisecting_hourly_aggregates_learns_nothing_finer_than_the_hour() -> anyhow::Result<()> {
    let home = probe_home(Granularity::Hourly, Fields::ALL)?;
    let day = utc_day(3);
    for s in one_day_of_steps(day) {
        for (start, end) in [(s.start_ms, s.start_ms + 1), (s.start_ms - 1, s.start_ms + 30 * 60_000)] {
            let out = call(
                &home,
                "aggregate",
                json!({ "types": ["steps"], "bucket": "hourly", "start": start, "end": end }),
            )?;
            assert!(rows(&out).is_empty(), "a window inside one hour revealed {out}");
        }
    }
    let out = call(
        &home,
        "aggregate",
        json!({ "types": ["steps"], "bucket": "hourly", "start": day, "end": day + DAY_MS }),
    )?;
    for r in rows(&out) {
        let start = r["bucket_start"].as_i64().unwrap_or(1);
        assert_eq!(
            start.rem_euclid(HOUR),
            0,
            "bucket_start is the only time, a whole hour: {r}"
        );
    }
    let total: f64 = rows(&out).iter().filter_map(|r| r["sum"].as_f64()).sum();
    assert_eq!(total, 210.0);
    Ok(())
}

#[test]
fn bisecting_raw_windows_without_time_learns_only_the_day() -> anyhow::Result<()> {
    let home = probe_home(Granularity::Raw, Fields::VALUE)?;
    let day = utc_day(3);
    // Without `time`, a window inside a day returns nothing, however it is cut.
    for s in one_day_of_steps(day) {
        for (start, end) in [
            (s.start_ms, s.start_ms + 1),
            (day, s.start_ms + 1),
            (s.start_ms, day + DAY_MS - 1),
        ] {
            let out = call(&home, "read", json!({ "types": ["steps"], "start": start, "end": end }))?;
            assert_eq!(out["count"], 0, "window {start}..{end} revealed {out}");
        }
    }
    // The whole day: every value, no time, in an order unrelated to time
    // (the values rise with time; a time order would be 1, 2, ... 20).
    let out = call(
        &home,
        "read",
        json!({ "types": ["steps"], "start": day, "end": day + DAY_MS }),
    )?;
    assert_eq!(out["count"], 20, "{out}");
    assert_eq!(out["fields"], json!(["value"]));
    let values: Vec<f64> = out["samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["value"].as_f64())
        .collect();
    let mut sorted = values.clone();
    sorted.sort_by(f64::total_cmp);
    assert_eq!(sorted, (1..=20).map(f64::from).collect::<Vec<_>>());
    assert_ne!(values, sorted, "samples within a day must not come in time order");
    // Paging one sample at a time walks the same set, and the cursors
    // carry no time either.
    let mut cursor = 0u64;
    let mut paged = Vec::new();
    loop {
        let out = call(
            &home,
            "read",
            json!({ "types": ["steps"], "start": day, "end": day + DAY_MS, "limit": 7, "cursor": cursor }),
        );
        // Cursors live within one invocation: a fresh invocation rejects it.
        let out = match out {
            Ok(o) if cursor == 0 => o,
            Ok(o) => {
                assert_eq!(o["error"]["kind"], "invalid-request", "{o}");
                break;
            }
            Err(e) => return Err(e),
        };
        paged.extend(
            out["samples"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|s| s["value"].as_f64()),
        );
        cursor = out["next_cursor"].as_u64().unwrap_or(0);
        assert!(cursor < 1000, "a cursor is a small opaque number, not a time");
        if cursor == 0 {
            break;
        }
    }
    assert_eq!(paged, values[..7].to_vec());
    let out = call(
        &home,
        "read",
        json!({ "types": ["steps"], "start": day, "end": day + DAY_MS, "limit": 7, "pages": true }),
    )?;
    let all: Vec<f64> = out["pages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["samples"].as_array().cloned().unwrap_or_default())
        .filter_map(|s| s["value"].as_f64())
        .collect();
    assert_eq!(all, values, "paging delivers the same order, each sample once");
    assert_eq!(out["pages"].as_array().unwrap().len(), 3);
    // Hourly aggregates would reveal the hour: refused without `time`.
    let out = call(
        &home,
        "aggregate",
        json!({ "types": ["steps"], "bucket": "hourly", "start": day, "end": day + DAY_MS }),
    )?;
    assert_eq!(out["error"]["reason"], "field-not-granted", "{out}");
    Ok(())
}

#[test]
fn paging_with_time_walks_every_sample_once_in_time_order() -> anyhow::Result<()> {
    let home = probe_home(Granularity::Raw, Fields::ALL)?;
    let day = utc_day(3);
    let more: Vec<NewSample> = one_day_of_steps(day - DAY_MS);
    home.host.store_samples("alice", "test", &more)?;
    let out = call(
        &home,
        "read",
        json!({ "types": ["steps"], "start": 0, "limit": 6, "pages": true }),
    )?;
    let starts: Vec<i64> = out["pages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["samples"].as_array().cloned().unwrap_or_default())
        .filter_map(|s| s["start"].as_i64())
        .collect();
    assert_eq!(starts.len(), 40);
    assert!(starts.windows(2).all(|w| w[0] < w[1]), "{starts:?}");
    Ok(())
}

#[test]
fn local_days_follow_the_users_zone_across_dst() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    home.install(&fixture_dir("probe"))?;
    home.host.ensure_user("alice")?;
    home.host.set_user_zone("alice", "America/Los_Angeles")?;
    // One sample every hour from 2026-03-07T08:00Z to 2026-03-10T08:00Z
    // (LA midnight to midnight around the spring change) and around the
    // autumn change, 2026-10-31T07:00Z to 2026-11-03T08:00Z.
    let hourly = |from: i64, to: i64| -> Vec<NewSample> {
        (0..(to - from) / HOUR)
            .map(|h| NewSample::quantity(ty("steps"), from + h * HOUR, from + h * HOUR, 1.0))
            .collect()
    };
    let spring_from = 1_772_870_400_000; // 2026-03-07T08:00:00Z
    let fall_from = 1_793_430_000_000; // 2026-10-31T07:00:00Z
    home.host
        .store_samples("alice", "test", &hourly(spring_from, spring_from + 72 * HOUR - HOUR))?;
    home.host
        .store_samples("alice", "test", &hourly(fall_from, fall_from + 73 * HOUR + HOUR))?;
    home.grant_with(
        "alice",
        "probe",
        GrantRequest {
            types: types_of("steps"),
            granularity: Some(Granularity::Daily),
            days: Some(3650),
            ..GrantRequest::default()
        },
    )?;
    let daily = |from: i64, to: i64| -> anyhow::Result<Vec<(i64, i64, i64)>> {
        let out = call(
            &home,
            "aggregate",
            json!({ "types": ["steps"], "bucket": "daily", "start": from, "end": to }),
        )?;
        Ok(rows(&out)
            .iter()
            .map(|r| {
                (
                    r["bucket_start"].as_i64().unwrap_or(0),
                    r["count"].as_i64().unwrap_or(0),
                    r["utc_offset"].as_i64().unwrap_or(0),
                )
            })
            .collect())
    };
    // Mar 7 (24 h, PST), Mar 8 (23 h: 02:00 is skipped), Mar 9 (24 h, PDT).
    assert_eq!(
        daily(spring_from - HOUR, spring_from + 80 * HOUR)?,
        vec![
            (spring_from, 24, -8 * 3600),
            (spring_from + 24 * HOUR, 23, -8 * 3600),
            (spring_from + 47 * HOUR, 24, -7 * 3600),
        ]
    );
    // Oct 31 (24 h, PDT), Nov 1 (25 h: 01:00 twice), Nov 2 (24 h, PST).
    assert_eq!(
        daily(fall_from, fall_from + 80 * HOUR)?,
        vec![
            (fall_from, 24, -7 * 3600),
            (fall_from + 24 * HOUR, 25, -7 * 3600),
            (fall_from + 49 * HOUR, 24, -8 * 3600),
        ]
    );
    // A window starting an hour into the local day drops that day.
    assert_eq!(
        daily(spring_from + HOUR, spring_from + 47 * HOUR)?,
        vec![(spring_from + 24 * HOUR, 23, -8 * 3600)]
    );
    Ok(())
}

#[test]
fn a_write_only_plugin_cannot_tell_stored_from_new() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    home.install(&fixture_dir("probe"))?;
    let t = now_ms() - 5 * DAY_MS;
    let stored = NewSample::quantity(ty("blood-glucose"), t, t, 104.0);
    home.host
        .store_samples("alice", "dexcom", std::slice::from_ref(&stored))?;
    grant_writes(&home.host, "alice", "probe", "blood-glucose")?;
    let guess = |value: f64| json!({ "samples": [{ "type": "blood-glucose", "start": t, "end": t, "value": value, "unit": "mg/dL" }] });
    let hit = call(&home, "write", guess(104.0))?;
    let miss = call(&home, "write", guess(105.0))?;
    assert_eq!(hit, miss, "the write answer must not depend on what is stored");
    assert_eq!(hit, json!({ "ok": true, "accepted": 1 }));
    // Reading is not granted, so the write path was its only window.
    let out = call(&home, "read", json!({ "types": ["blood-glucose"] }))?;
    assert_eq!(out["error"]["reason"], "not-requested", "{out}");
    Ok(())
}

#[test]
fn a_revoke_during_an_invocation_leaves_nothing_committed() -> anyhow::Result<()> {
    let home = Arc::new(TestHome::new()?);
    home.install(&fixture_dir("probe"))?;
    grant_writes(&home.host, "alice", "probe", "body-mass")?;
    let t = now_ms() - DAY_MS;
    let args = json!({ "samples": [{ "type": "body-mass", "start": t, "value": 80.0, "unit": "kg" }], "then": "sleep", "sleep_ms": 1500 });
    let runner = {
        let home = home.clone();
        std::thread::spawn(move || home.host.invoke("alice", "probe", "write", &args.to_string()))
    };
    std::thread::sleep(Duration::from_millis(500));
    home.host.revoke("alice", "probe", None)?;
    let outcome = runner
        .join()
        .map_err(|_| anyhow::anyhow!("the invocation thread panicked"))??;
    assert!(
        outcome.result.is_ok(),
        "the tool itself succeeded: {:?}",
        outcome.result
    );
    assert!(
        home.host.records("alice", &types_of("body-mass"))?.is_empty(),
        "a write staged before the revoke was committed after it"
    );
    assert!(
        !outcome
            .accesses
            .iter()
            .any(|a| matches!(a.outcome, healthplug_host::capabilities::AccessOutcome::Written { .. })),
        "nothing may be reported as written: {:?}",
        outcome.accesses
    );
    Ok(())
}

#[test]
fn an_all_types_flood_stays_within_the_decrypt_budget_and_the_deadline() -> anyhow::Result<()> {
    let home = budget_home()?;
    home.grant(
        "alice",
        "probe",
        "steps,heart-rate,body-mass,dietary-energy,workout,sleep,condition,medication,lab-result",
    )?;
    let (out, outcome) = home.invoke_json("alice", "probe", "flood", json!({ "iterations": 10_000 }))?;
    // 20,000 samples a query: the budget allows two full queries, no more.
    assert_eq!(out["ok"], 2, "{out}");
    assert_eq!(out["delivered"], 40_000, "{out}");
    assert_eq!(out["error"]["kind"], "limit-exceeded", "{out}");
    // Without the budget each of the 10,000 calls would unseal all 20,000
    // samples again (until the probe's 10 s deadline).
    assert_eq!(outcome.host_calls, 3, "stopped at the budget");
    Ok(())
}

#[test]
fn forged_cursors_are_refused_without_reading() -> anyhow::Result<()> {
    let home = probe_home(Granularity::Raw, Fields::ALL)?;
    for cursor in [1u64, 2, u64::from(u32::MAX), u64::MAX] {
        let (out, outcome) = home.invoke_json(
            "alice",
            "probe",
            "read",
            json!({ "types": ["steps"], "start": 0, "cursor": cursor }),
        )?;
        assert_eq!(out["error"]["kind"], "invalid-request", "{out}");
        assert!(outcome.accesses.is_empty(), "nothing was read: {:?}", outcome.accesses);
    }
    Ok(())
}

#[test]
fn paging_across_types_with_equal_times_matches_one_big_page() -> anyhow::Result<()> {
    let home = probe_home(Granularity::Raw, Fields::ALL)?;
    home.grant("alice", "probe", "steps,heart-rate")?;
    let t = utc_day(2);
    let same_times: Vec<NewSample> = (0..10)
        .flat_map(|i| {
            let at = t + (i / 3) * 60_000;
            [
                NewSample::quantity(ty("steps"), at, at, f64::from(i as u8)),
                NewSample::quantity(ty("heart-rate"), at, at, 60.0 + f64::from(i as u8)),
            ]
        })
        .collect();
    home.host.store_samples("alice", "test", &same_times)?;
    let whole = call(&home, "read", json!({ "types": ["heart-rate", "steps"], "start": 0 }))?;
    let paged = call(
        &home,
        "read",
        json!({ "types": ["heart-rate", "steps"], "start": 0, "limit": 3, "pages": true }),
    )?;
    let flat: Vec<Value> = paged["pages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["samples"].as_array().cloned().unwrap_or_default())
        .collect();
    assert_eq!(Some(&flat), whole["samples"].as_array());
    assert_eq!(flat.len(), 40);
    Ok(())
}
