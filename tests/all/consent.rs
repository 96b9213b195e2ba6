//! Every grant dimension — type, field, window, granularity, write,
//! expiry — tried beyond the grant: the plugin receives exactly what the
//! grant allows. And revocation during a running invocation.

use std::time::Duration;

use healthplug_host::consent::{Fields, Granularity};
use healthplug_host::platform::GrantRequest;
use healthplug_host::vault::NewSample;
use healthplug_tests::{DAY_MS, TestHome, fixture_dir, now_ms, ty, types_of};
use serde_json::{Value, json};

const SOURCE: &str = "Canary Source 7Q";
const DEVICE: &str = "Canary Device 7Q";
const NOTES: &str = "canary notes 7Q";

/// Steps one, five, twenty and forty days ago, with every field set.
fn history() -> Vec<NewSample> {
    let now = now_ms();
    [1, 5, 20, 40]
        .iter()
        .map(|d| {
            let start = now - d * DAY_MS;
            let mut s = NewSample::quantity(ty("steps"), start, start + 3_600_000, 1000.0 + *d as f64);
            s.source_name = Some(SOURCE.into());
            s.device = Some(DEVICE.into());
            s.notes = Some(NOTES.into());
            s.metadata = Some("{\"canary\":\"7Q\"}".into());
            s
        })
        .collect()
}

fn home_with_history() -> anyhow::Result<TestHome> {
    let home = TestHome::new()?;
    home.install(&fixture_dir("probe"))?;
    home.host.store_samples("alice", "test", &history())?;
    Ok(home)
}

fn read(home: &TestHome, args: Value) -> anyhow::Result<Value> {
    Ok(home.invoke_json("alice", "probe", "read", args)?.0)
}

fn values(out: &Value) -> Vec<f64> {
    out["samples"]
        .as_array()
        .map(|a| a.iter().filter_map(|s| s["value"].as_f64()).collect())
        .unwrap_or_default()
}

#[test]
fn fields_not_granted_are_absent_not_faked() -> anyhow::Result<()> {
    let home = home_with_history()?;
    home.grant_with(
        "alice",
        "probe",
        GrantRequest {
            types: types_of("steps"),
            fields: Some(Fields::VALUE | Fields::TIME),
            ..GrantRequest::default()
        },
    )?;
    // The plugin asks for every field; it gets value and time only.
    let out = read(&home, json!({ "types": ["steps"] }))?;
    assert_eq!(out["fields"], json!(["value", "time"]), "{out}");
    assert_eq!(out["count"], 4);
    for s in out["samples"].as_array().into_iter().flatten() {
        assert!(s["value"].is_number() && s["start"].is_number(), "{s}");
        for absent in ["unit", "source_name", "device", "notes", "metadata", "coding"] {
            assert!(s[absent].is_null(), "{absent} leaked: {s}");
        }
    }
    let text = out.to_string();
    assert!(
        !text.contains("Canary") && !text.contains("canary") && !text.contains("7Q"),
        "{text}"
    );

    // Granting notes shows them; the user can widen within the manifest.
    home.grant_with(
        "alice",
        "probe",
        GrantRequest {
            types: types_of("steps"),
            fields: Some(Fields::VALUE | Fields::NOTES),
            ..GrantRequest::default()
        },
    )?;
    let out = read(&home, json!({ "types": ["steps"] }))?;
    assert_eq!(out["fields"], json!(["value", "notes"]), "{out}");
    assert_eq!(out["samples"][0]["notes"], NOTES);
    assert!(out["samples"][0]["start"].is_null(), "time was withdrawn: {out}");
    Ok(())
}

#[test]
fn the_history_window_hides_older_samples() -> anyhow::Result<()> {
    let home = home_with_history()?;
    home.grant_with(
        "alice",
        "probe",
        GrantRequest {
            types: types_of("steps"),
            days: Some(10),
            ..GrantRequest::default()
        },
    )?;
    let out = read(&home, json!({ "types": ["steps"], "start": 0 }))?;
    assert_eq!(values(&out), vec![1005.0, 1001.0], "{out}");

    // A fixed start date works the same way.
    home.grant_with(
        "alice",
        "probe",
        GrantRequest {
            types: types_of("steps"),
            since_ms: Some(now_ms() - 30 * DAY_MS),
            ..GrantRequest::default()
        },
    )?;
    let out = read(&home, json!({ "types": ["steps"], "start": 0 }))?;
    assert_eq!(values(&out), vec![1020.0, 1005.0, 1001.0], "{out}");

    // The grants call reports the window too.
    let (grants, _) = home.invoke_json("alice", "probe", "grants", json!({}))?;
    let from = grants["grants"][0]["visible_from"].as_i64().unwrap_or(0);
    assert!((from - (now_ms() - 30 * DAY_MS)).abs() < 60_000, "{grants}");
    Ok(())
}

#[test]
fn aggregates_only_means_no_raw_samples_and_no_finer_buckets() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    home.install(&fixture_dir("probe"))?;
    // Two days of hourly heart rate: 60 + hour.
    let day0 = (now_ms() / DAY_MS - 3) * DAY_MS;
    let mut samples = Vec::new();
    for d in 0..2 {
        for h in 0..24 {
            let t = day0 + d * DAY_MS + h * 3_600_000;
            samples.push(NewSample::quantity(ty("heart-rate"), t, t, 60.0 + h as f64));
        }
    }
    home.host.store_samples("alice", "test", &samples)?;
    home.grant_with(
        "alice",
        "probe",
        GrantRequest {
            types: types_of("heart-rate"),
            granularity: Some(Granularity::Daily),
            ..GrantRequest::default()
        },
    )?;

    let raw = read(&home, json!({ "types": ["heart-rate"] }))?;
    assert_eq!(raw["error"]["reason"], "aggregates-only", "{raw}");
    let (hourly, _) = home.invoke_json(
        "alice",
        "probe",
        "aggregate",
        json!({ "types": ["heart-rate"], "bucket": "hourly" }),
    )?;
    assert_eq!(hourly["error"]["reason"], "granularity-too-fine", "{hourly}");

    let (daily, _) = home.invoke_json(
        "alice",
        "probe",
        "aggregate",
        json!({ "types": ["heart-rate"], "bucket": "daily" }),
    )?;
    assert_eq!(daily["count"], 2, "{daily}");
    for (i, row) in daily["rows"].as_array().into_iter().flatten().enumerate() {
        // Independently: sum of 60..=83 is 24*60 + 276 = 1716.
        assert_eq!(row["bucket_start"], day0 + i as i64 * DAY_MS);
        assert_eq!(row["count"], 24);
        assert_eq!(row["sum"], 1716.0);
        assert_eq!(row["min"], 60.0);
        assert_eq!(row["max"], 83.0);
        assert_eq!(row["mean"], 71.5);
    }
    Ok(())
}

#[test]
fn writing_needs_a_write_grant_and_keeps_provenance() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    home.install(&fixture_dir("probe"))?;
    home.grant("alice", "probe", "body-mass")?;
    let t = now_ms() - DAY_MS;
    let sample = json!({ "type": "body-mass", "start": t, "value": 176.0, "unit": "lb" });
    let (out, _) = home.invoke_json("alice", "probe", "write", json!({ "samples": [sample.clone()] }))?;
    assert_eq!(
        out["error"],
        json!({ "kind": "not-granted", "type": "body-mass", "reason": "write-not-granted" })
    );
    assert!(home.host.records("alice", &types_of("body-mass"))?.is_empty());

    home.grant_with(
        "alice",
        "probe",
        GrantRequest {
            types: types_of("body-mass"),
            write: true,
            ..GrantRequest::default()
        },
    )?;
    let (out, _) = home.invoke_json("alice", "probe", "write", json!({ "samples": [sample] }))?;
    assert_eq!(out, json!({ "ok": true, "accepted": 1 }));
    let records = home.host.records("alice", &types_of("body-mass"))?;
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert!(
        (r.value.unwrap_or(0.0) - 79.832_257_12).abs() < 1e-6,
        "lb converted to kg: {:?}",
        r.value
    );
    assert_eq!(r.unit, "kg");
    assert_eq!(r.provenance.origin, "probe");
    assert_eq!(r.provenance.original_value, Some(176.0));
    assert_eq!(r.provenance.original_unit.as_deref(), Some("lb"));
    assert_eq!(
        r.provenance.origin_digest.as_deref(),
        Some(home.host.loaded("probe")?.record.component_sha256.as_str())
    );

    // A type the manifest never asks to write is refused as not requested.
    let (out, _) = home.invoke_json(
        "alice",
        "probe",
        "write",
        json!({ "samples": [{ "type": "heart-rate", "start": t, "value": 60.0, "unit": "/min" }] }),
    )?;
    assert_eq!(out["error"]["reason"], "not-requested", "{out}");
    Ok(())
}

#[test]
fn an_expired_grant_stops_working() -> anyhow::Result<()> {
    let home = home_with_history()?;
    home.grant_with(
        "alice",
        "probe",
        GrantRequest {
            types: types_of("steps"),
            until_ms: Some(now_ms() + 1_500),
            ..GrantRequest::default()
        },
    )?;
    assert_eq!(read(&home, json!({ "types": ["steps"] }))?["ok"], true);
    std::thread::sleep(Duration::from_millis(1_700));
    let out = read(&home, json!({ "types": ["steps"] }))?;
    assert_eq!(out["error"]["reason"], "expired", "{out}");
    let shown = home.host.consents("alice")?;
    assert_eq!(shown[0].status, "expired");
    Ok(())
}

#[test]
fn a_user_cannot_grant_more_than_the_manifest_asks() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    home.install(&healthplug_tests::example_dir("nutrition-coach"))?;
    let refuse = |req: GrantRequest, needle: &str| -> anyhow::Result<()> {
        match home.host.grant("alice", "nutrition-coach", &req) {
            Ok(_) => anyhow::bail!("granted beyond the manifest: {req:?}"),
            Err(e) => {
                assert!(e.to_string().contains(needle), "{e}");
                Ok(())
            }
        }
    };
    refuse(
        GrantRequest {
            types: types_of("steps"),
            ..GrantRequest::default()
        },
        "does not ask for `steps`",
    )?;
    refuse(
        GrantRequest {
            types: types_of("body-mass"),
            fields: Some(Fields::NOTES),
            ..GrantRequest::default()
        },
        "asks for the fields value,unit,time",
    )?;
    refuse(
        GrantRequest {
            types: types_of("body-mass"),
            days: Some(365),
            ..GrantRequest::default()
        },
        "asks for 30 days",
    )?;
    refuse(
        GrantRequest {
            types: types_of("dietary-energy"),
            granularity: Some(Granularity::Raw),
            ..GrantRequest::default()
        },
        "daily granularity",
    )?;
    refuse(
        GrantRequest {
            types: types_of("body-mass"),
            write: true,
            ..GrantRequest::default()
        },
        "does not ask to write",
    )?;
    refuse(
        GrantRequest {
            types: types_of("body-mass"),
            until_ms: Some(now_ms() - 1),
            ..GrantRequest::default()
        },
        "in the past",
    )?;
    assert!(home.host.consents("alice").is_err() || home.host.consents("alice")?.is_empty());
    Ok(())
}

#[test]
fn revocation_bites_on_the_next_host_call_of_a_running_invocation() -> anyhow::Result<()> {
    let home = std::sync::Arc::new(home_with_history()?);
    home.grant("alice", "probe", "steps")?;
    let running = {
        let home = home.clone();
        std::thread::spawn(move || {
            home.invoke_json(
                "alice",
                "probe",
                "poll",
                json!({ "type": "steps", "iterations": 300, "sleep_ms": 5 }),
            )
        })
    };
    // Wait until the plugin has been served at least once, then revoke.
    let started = std::time::Instant::now();
    while home
        .host
        .audit_log(Some("alice"))?
        .iter()
        .all(|e| e.event.kind.id() != "access")
    {
        assert!(started.elapsed() < Duration::from_secs(20), "the plugin never queried");
        std::thread::sleep(Duration::from_millis(5));
    }
    home.host.revoke("alice", "probe", None)?;
    let (out, _) = running
        .join()
        .map_err(|_| anyhow::anyhow!("invocation thread panicked"))??;
    let outcomes = out["outcomes"].as_array().cloned().unwrap_or_default();
    let first_denied = outcomes
        .iter()
        .position(|o| o["ok"] == false)
        .ok_or_else(|| anyhow::anyhow!("never denied: {out}"))?;
    assert!(first_denied >= 1, "served before the revoke");
    assert!(
        outcomes[..first_denied]
            .iter()
            .all(|o| o["ok"] == true && o["count"] == 4)
    );
    for o in &outcomes[first_denied..] {
        assert_eq!(
            o["error"],
            json!({ "kind": "not-granted", "type": "steps", "reason": "revoked" }),
            "{o}"
        );
    }
    Ok(())
}
