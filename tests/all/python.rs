//! Plugins written in Python (issue 18), built from source with
//! componentize-py: the example `sleep-coach` answers exactly on the demo
//! data and degrades cleanly on a refused type; the hostile cases that make
//! sense in Python are contained with the same typed errors as the Rust
//! suite; the component imports no `storage` its manifest does not declare.
//! Skipped (saying so) without the toolchain, unless `HEALTHPLUG_LANGS=required`.

use healthplug_host::platform::GrantRequest;
use healthplug_host::runtime::LimitKind;
use healthplug_tests::lang::{python_plugin, root};
use healthplug_tests::{DAY_MS, TestHome, types_of};
use serde_json::json;

use crate::hostile::{ALICE_STEPS, Arena, assert_limit, assert_log_capped};

fn sleep_coach() -> anyhow::Result<Option<std::path::PathBuf>> {
    python_plugin(&root().join("plugins/python/sleep-coach"), "sleep-coach")
}

fn hostile() -> anyhow::Result<Option<Arena>> {
    let Some(dir) = python_plugin(&root().join("tests/lang/python/hostile"), "hostile-python")? else {
        return Ok(None);
    };
    let arena = Arena::at(&dir, "hostile-python", TestHome::new()?)?;
    arena.grant("steps", GrantRequest::default())?;
    Ok(Some(arena))
}

#[test]
fn the_python_sleep_coach_answers_exactly_and_degrades_on_a_refusal() -> anyhow::Result<()> {
    let Some(dir) = sleep_coach()? else { return Ok(()) };
    let home = TestHome::new()?;
    healthplug_host::demo::run(&home.host, home.path())?;
    home.install(&dir)?;
    // Sleep and resting heart rate granted; HRV is not.
    home.grant("demo", "sleep-coach", "sleep,resting-heart-rate")?;
    let (out, outcome) = home.invoke_json("demo", "sleep-coach", "sleep-report", json!({ "days": 7 }))?;
    assert_eq!(
        out["hrv_sdnn_ms"],
        json!({ "error": "heart-rate-variability not granted (not-granted)" }),
        "{out}"
    );
    // The expected figures, from the vault directly.
    let now = healthplug_tests::now_ms();
    let sleep = home.host.records("demo", &types_of("sleep"))?;
    let mut deep = 0.0;
    let mut asleep = 0.0;
    for s in sleep.iter().filter(|s| start_ms(&s.start) >= now - 7 * DAY_MS) {
        let code = s.coding.as_ref().map(|c| c.code.as_str()).unwrap_or_default();
        if code.starts_with("asleep") {
            asleep += s.value.unwrap_or_default();
        }
        if code == "asleepDeep" {
            deep += s.value.unwrap_or_default();
        }
    }
    assert_eq!(out["sleep"]["asleep_minutes"].as_f64(), Some(asleep), "{out}");
    assert_eq!(out["sleep"]["minutes"]["asleepDeep"].as_f64(), Some(deep), "{out}");
    let first_day = (now.div_euclid(DAY_MS) - 6) * DAY_MS;
    let rhr: Vec<f64> = home
        .host
        .records("demo", &types_of("resting-heart-rate"))?
        .iter()
        .filter(|r| start_ms(&r.start) >= first_day)
        .filter_map(|r| r.value)
        .collect();
    let mean = rhr.iter().sum::<f64>() / rhr.len() as f64;
    assert_eq!(
        out["resting_heart_rate"]["days"].as_u64(),
        Some(rhr.len() as u64),
        "{out}"
    );
    let got = out["resting_heart_rate"]["mean"].as_f64().unwrap_or_default();
    assert!((got - mean).abs() < 1e-9, "{got} vs {mean}");
    assert!(
        outcome
            .accesses
            .iter()
            .any(|a| a.data_type.id() == "heart-rate-variability"),
        "the refusal is audited"
    );
    Ok(())
}

fn start_ms(rfc3339: &str) -> i64 {
    rfc3339
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .unwrap_or(i64::MIN)
}

#[test]
fn python_components_import_only_what_their_manifest_allows() -> anyhow::Result<()> {
    let Some(dir) = sleep_coach()? else { return Ok(()) };
    let out = healthplug_host::cli::run_captured(["healthplug", "--json", "review", &dir.display().to_string()]);
    assert!(out.success, "{}", out.stderr);
    let report: serde_json::Value = serde_json::from_str(&out.stdout)?;
    let imports = report["check"]["imports"].to_string();
    assert!(imports.contains("healthplug:plugin/health-data"), "{imports}");
    assert!(
        !imports.contains("healthplug:plugin/storage"),
        "built against plugin-core: {imports}"
    );
    assert!(
        report["check"]["errors"].as_array().is_some_and(Vec::is_empty),
        "{report}"
    );
    Ok(())
}

#[test]
fn a_python_loop_hits_the_timeout() -> anyhow::Result<()> {
    let Some(arena) = hostile()? else { return Ok(()) };
    let observed = arena.attack("spin", json!({}))?;
    assert_limit(&observed, LimitKind::Timeout);
    arena.contained(&observed, "limit: timeout")
}

#[test]
fn a_python_allocation_bomb_hits_the_memory_cap() -> anyhow::Result<()> {
    let Some(arena) = hostile()? else { return Ok(()) };
    let observed = arena.attack("grow", json!({}))?;
    assert_limit(&observed, LimitKind::Memory);
    arena.contained(&observed, "limit: memory")
}

#[test]
fn a_python_result_over_the_output_cap_is_refused() -> anyhow::Result<()> {
    let Some(arena) = hostile()? else { return Ok(()) };
    let observed = arena.attack("huge", json!({}))?;
    assert_limit(&observed, LimitKind::Output);
    arena.contained(&observed, "limit: output")
}

#[test]
fn python_finds_no_file_environment_socket_or_process() -> anyhow::Result<()> {
    let Some(arena) = hostile()? else { return Ok(()) };
    let observed = arena.attack("probe", json!({}))?;
    let out = observed.json()?;
    for probe in ["read_passwd", "list_root", "write_file", "socket", "resolve", "spawn"] {
        assert!(out[probe].get("refused").is_some(), "{probe} was not refused: {out}");
    }
    assert_eq!(out["environ"], json!({}), "the environment is empty");
    arena.contained(&observed, "ok")
}

#[test]
fn python_reads_only_what_was_granted() -> anyhow::Result<()> {
    let Some(arena) = hostile()? else { return Ok(()) };
    let observed = arena.attack("ungranted", json!({}))?;
    assert_eq!(observed.json()?, json!({ "refused": "not-granted" }));
    arena.contained(&observed, "ok")?;
    let observed = arena.attack("steps", json!({}))?;
    assert_eq!(
        observed.json()?,
        json!({ "steps": ALICE_STEPS }),
        "Alice's steps, none of Bob's"
    );
    arena.contained(&observed, "ok")
}

#[test]
fn a_python_log_flood_is_capped_and_stripped() -> anyhow::Result<()> {
    let Some(arena) = hostile()? else { return Ok(()) };
    let observed = arena.attack("flood", json!({}))?;
    assert_log_capped(&observed)?;
    arena.contained(&observed, "ok")
}
