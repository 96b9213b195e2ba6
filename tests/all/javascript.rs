//! Plugins written in JavaScript (issue 18), built from source with
//! componentize-js (`sdk/js/build.mjs`): the example `hydration-coach`
//! answers exactly on the demo data, checks its arguments before running
//! and degrades cleanly on a refused type; the hostile cases that make
//! sense in JavaScript are contained with the same typed errors as the Rust
//! suite; the component imports no `storage` or `wasi:http` its manifest
//! does not declare, and no WASI function that opens a file.
//! Skipped (saying so) without the toolchain, unless `HEALTHPLUG_LANGS=required`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use healthplug_host::platform::{GrantRequest, InvokeOutcome};
use healthplug_host::registry::DataType;
use healthplug_host::runtime::{LimitKind, RunFailure};
use healthplug_tests::lang::{js_plugin, root};
use healthplug_tests::{DAY_MS, TestHome, types_of};
use serde_json::{Value, json};

use crate::hostile::{ALICE_STEPS, Arena, Observed, assert_limit, assert_log_capped};

fn hydration_coach() -> anyhow::Result<Option<PathBuf>> {
    js_plugin(&root().join("plugins/js/hydration-coach"), "hydration-coach")
}

fn hostile() -> anyhow::Result<Option<Arena>> {
    let Some(dir) = js_plugin(&root().join("tests/lang/js/hostile"), "hostile-js")? else {
        return Ok(None);
    };
    let arena = Arena::at(&dir, "hostile-js", TestHome::new()?)?;
    arena.grant("steps", GrantRequest::default())?;
    Ok(Some(arena))
}

fn start_ms(rfc3339: &str) -> i64 {
    rfc3339
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .unwrap_or(i64::MIN)
}

fn date_of(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// `(date, ml)` per UTC day (the demo user's calendar) over the last `days`
/// days, today included, from the vault directly.
fn water_by_day(home: &TestHome, now: i64, days: i64) -> anyhow::Result<Vec<(String, f64)>> {
    let first_day = now.div_euclid(DAY_MS) - (days - 1);
    let mut by_day: BTreeMap<i64, f64> = BTreeMap::new();
    for r in home.host.records("demo", &types_of("dietary-water"))? {
        let day = start_ms(&r.start).div_euclid(DAY_MS);
        if day >= first_day {
            *by_day.entry(day).or_default() += r.value.unwrap_or_default();
        }
    }
    Ok(by_day.into_iter().map(|(d, ml)| (date_of(d * DAY_MS), ml)).collect())
}

/// The body mass samples of the last `days` × 24 h, oldest first, with
/// their change and least-squares trend.
struct Mass {
    /// `(ms, kg)`.
    points: Vec<(i64, f64)>,
    /// Last minus first, kg.
    change: f64,
    /// kg per week.
    trend: f64,
}

/// [`Mass`] from the vault directly.
fn body_mass(home: &TestHome, now: i64, days: i64) -> anyhow::Result<Mass> {
    let mut points: Vec<(i64, f64)> = home
        .host
        .records("demo", &types_of("body-mass"))?
        .iter()
        .map(|r| (start_ms(&r.start), r.value.unwrap_or(f64::NAN)))
        .filter(|(t, _)| *t >= now - days * DAY_MS)
        .collect();
    points.sort_by_key(|(t, _)| *t);
    let n = points.len() as f64;
    let mean_t = points.iter().fold(0.0, |a, (t, _)| a + *t as f64) / n;
    let mean_v = points.iter().fold(0.0, |a, (_, v)| a + v) / n;
    let (mut num, mut den) = (0.0, 0.0);
    for (t, v) in &points {
        num += (*t as f64 - mean_t) * (v - mean_v);
        den += (*t as f64 - mean_t) * (*t as f64 - mean_t);
    }
    let change = points.last().map_or(f64::NAN, |p| p.1) - points.first().map_or(f64::NAN, |p| p.1);
    let trend = num / den * 7.0 * DAY_MS as f64;
    Ok(Mass { points, change, trend })
}

fn close(got: &Value, want: f64) -> bool {
    got.as_f64()
        .is_some_and(|g| (g - want).abs() <= 1e-9 * want.abs().max(1.0))
}

fn failure(outcome: &InvokeOutcome) -> (String, String) {
    match &outcome.result {
        Ok(out) => (String::new(), out.clone()),
        Err(f) => (f.kind.clone(), f.message.clone()),
    }
}

#[test]
fn the_javascript_hydration_coach_answers_exactly_and_degrades_on_a_refusal() -> anyhow::Result<()> {
    let Some(dir) = hydration_coach()? else { return Ok(()) };
    let home = TestHome::new()?;
    healthplug_host::demo::run(&home.host, home.path())?;
    home.install(&dir)?;

    // Water granted; body mass is not.
    home.grant("demo", "hydration-coach", "dietary-water")?;
    let now = healthplug_tests::now_ms();
    let (out, outcome) = home.invoke_json("demo", "hydration-coach", "hydration-report", json!({}))?;
    assert_eq!(out["days"], json!(14), "the default: {out}");
    assert_eq!(
        out["body_mass"],
        json!({ "error": "body-mass not granted (not-granted)" }),
        "{out}"
    );
    assert!(
        outcome
            .accesses
            .iter()
            .any(|a| a.data_type.id() == "body-mass"
                && serde_json::to_string(a).is_ok_and(|s| s.contains("not-granted"))),
        "the refusal is audited: {:?}",
        outcome.accesses
    );
    let water = water_by_day(&home, now, 14)?;
    assert!(water.len() >= 13, "{water:?}");
    let daily: Vec<(String, f64)> = out["water"]["daily"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|d| {
                    (
                        d["date"].as_str().unwrap_or_default().to_string(),
                        d["ml"].as_f64().unwrap_or(f64::NAN),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(daily, water, "{out}");
    let total: f64 = water.iter().map(|(_, ml)| ml).sum();
    assert_eq!(out["water"]["total_ml"].as_f64(), Some(total), "{out}");
    assert_eq!(
        out["goal_ml"].as_f64(),
        Some(2000.0),
        "no weight, the default goal: {out}"
    );
    let below = water.iter().filter(|(_, ml)| *ml < 2000.0).count();
    assert_eq!(out["water"]["days_below_goal"].as_u64(), Some(below as u64), "{out}");

    // Body mass granted too: the latest weight sizes the goal.
    home.grant("demo", "hydration-coach", "dietary-water,body-mass")?;
    let now = healthplug_tests::now_ms();
    let (out, _) = home.invoke_json("demo", "hydration-coach", "hydration-report", json!({ "days": 7 }))?;
    let Mass { points, change, trend } = body_mass(&home, now, 7)?;
    let (last_at, latest) = *points
        .last()
        .ok_or_else(|| anyhow::anyhow!("no body mass in the demo"))?;
    let mass = &out["body_mass"];
    assert_eq!(mass["samples"].as_u64(), Some(points.len() as u64), "{out}");
    assert_eq!(mass["latest_kg"].as_f64(), Some(latest), "{out}");
    assert_eq!(mass["latest_date"].as_str(), Some(date_of(last_at).as_str()), "{out}");
    assert!(close(&mass["change_kg"], change), "{change} vs {out}");
    assert!(close(&mass["trend_kg_per_week"], trend), "{trend} vs {out}");
    let goal = 35.0 * latest;
    assert!(close(&out["goal_ml"], goal), "{goal} vs {out}");
    let water = water_by_day(&home, now, 7)?;
    let below = water.iter().filter(|(_, ml)| *ml < goal).count();
    assert_eq!(out["water"]["days_logged"].as_u64(), Some(water.len() as u64), "{out}");
    assert_eq!(out["water"]["days_below_goal"].as_u64(), Some(below as u64), "{out}");
    Ok(())
}

#[test]
fn javascript_tool_arguments_are_checked_before_the_handler_runs() -> anyhow::Result<()> {
    let Some(dir) = hydration_coach()? else { return Ok(()) };
    let home = TestHome::new()?;
    home.host.ensure_user("demo")?;
    home.install(&dir)?;
    home.grant("demo", "hydration-coach", "dietary-water,body-mass")?;
    for (args, kind, message) in [
        (json!({ "days": 15 }), "invalid-args", "`days` must be at most 14"),
        (json!({ "days": 0 }), "invalid-args", "`days` must be at least 1"),
        (json!({ "days": 2.5 }), "invalid-args", "`days` must be of type integer"),
        (json!({ "days": "7" }), "invalid-args", "`days` must be of type integer"),
        (
            json!({ "weeks": 2 }),
            "invalid-args",
            "unknown argument `weeks` (takes: days)",
        ),
    ] {
        let outcome = home
            .host
            .invoke("demo", "hydration-coach", "hydration-report", &args.to_string())?;
        assert_eq!(failure(&outcome), (kind.to_string(), message.to_string()), "{args}");
        assert_eq!(outcome.host_calls, 0, "the handler never ran for {args}");
    }
    let outcome = home.host.invoke("demo", "hydration-coach", "hydrate", "{}")?;
    assert_eq!(failure(&outcome), ("unknown-tool".to_string(), "hydrate".to_string()));
    let tools = home.host.tools("hydration-coach")?;
    assert_eq!(
        tools[0].args_schema,
        json!({
            "type": "object",
            "properties": { "days": { "type": "integer", "minimum": 1, "maximum": 14, "default": 14, "description": "Days (default 14)" } },
            "required": [],
            "additionalProperties": false,
        })
    );
    Ok(())
}

/// Every interface the component imports, with the functions it imports
/// from each, read from the component's type (no compile).
fn imported_functions(component: &Path) -> anyhow::Result<BTreeMap<String, Vec<String>>> {
    let wit_parser::decoding::DecodedWasm::Component(resolve, world) =
        wit_parser::decoding::decode(&std::fs::read(component)?)?
    else {
        anyhow::bail!("{} is not a component", component.display());
    };
    let mut imports = BTreeMap::new();
    for (key, item) in &resolve.worlds[world].imports {
        if let wit_parser::WorldItem::Interface { id, .. } = item {
            let functions = resolve.interfaces[*id].functions.keys().cloned().collect();
            imports.insert(resolve.name_world_key(key), functions);
        }
    }
    Ok(imports)
}

fn unversioned(name: &str) -> &str {
    name.split('@').next().unwrap_or(name)
}

#[test]
fn javascript_components_import_only_what_their_manifest_allows() -> anyhow::Result<()> {
    let Some(dir) = hydration_coach()? else { return Ok(()) };
    let out = healthplug_host::cli::run_captured(["healthplug", "--json", "review", &dir.display().to_string()]);
    assert!(out.success, "{}", out.stderr);
    let report: Value = serde_json::from_str(&out.stdout)?;
    let imports = report["check"]["imports"].to_string();
    assert!(imports.contains("healthplug:plugin/health-data"), "{imports}");
    for absent in [
        "healthplug:plugin/storage",
        "wasi:http/",
        "wasi:sockets/",
        "wasi:cli/environment",
    ] {
        assert!(!imports.contains(absent), "{absent} imported: {imports}");
    }
    assert!(
        report["check"]["errors"].as_array().is_some_and(Vec::is_empty),
        "{report}"
    );
    assert_eq!(report["tools"]["tools"][0][0], json!("hydration-report"), "{report}");

    // Function by function: the filesystem interfaces are there for the
    // engine's stdio streams only; nothing can open, read or list a path.
    let functions = imported_functions(&dir.join("hydration_coach.wasm"))?;
    let fs = functions
        .iter()
        .find(|(name, _)| unversioned(name) == "wasi:filesystem/types")
        .map(|(_, f)| f.clone())
        .unwrap_or_default();
    for f in &fs {
        assert!(
            [
                "[method]descriptor.write-via-stream",
                "[method]descriptor.append-via-stream",
                "[method]descriptor.get-flags",
                "[method]descriptor.get-type",
                "[method]descriptor.stat",
                "filesystem-error-code",
            ]
            .contains(&f.as_str()),
            "wasi:filesystem/types imports {f}"
        );
    }
    let names: Vec<&str> = functions.keys().map(|n| unversioned(n)).collect();
    assert!(
        names.contains(&"wasi:random/random") && names.contains(&"wasi:clocks/wall-clock"),
        "{names:?}"
    );
    Ok(())
}

#[test]
fn the_javascript_build_follows_the_manifest_storage_and_network() -> anyhow::Result<()> {
    let Some(plain) = hydration_coach()? else { return Ok(()) };
    let src = tempfile::tempdir()?;
    std::fs::copy(
        root().join("plugins/js/hydration-coach/app.js"),
        src.path().join("app.js"),
    )?;
    let manifest = std::fs::read_to_string(root().join("plugins/js/hydration-coach/healthplug.toml"))?;
    std::fs::write(
        src.path().join("healthplug.toml"),
        format!(
            "{manifest}\n[storage]\npurpose = \"Remember your goal\"\n\n[network]\nallow = [\"https://api.example.com\"]\npurpose = \"Fetch the weather\"\n"
        ),
    )?;
    let Some(built) = js_plugin(src.path(), "hydration-coach-storage-network")? else {
        return Ok(());
    };
    let plain = imported_functions(&plain.join("hydration_coach.wasm"))?;
    let wide = imported_functions(&built.join("hydration_coach.wasm"))?;
    let has = |imports: &BTreeMap<String, Vec<String>>, name: &str| imports.keys().any(|k| unversioned(k) == name);
    for (name, in_plain) in [
        ("healthplug:plugin/storage", false),
        ("wasi:http/outgoing-handler", false),
        ("healthplug:plugin/health-data", true),
    ] {
        assert_eq!(
            has(&plain, name),
            in_plain,
            "{name} in the plain build: {:?}",
            plain.keys()
        );
        assert!(
            has(&wide, name),
            "{name} in the [storage] + [network] build: {:?}",
            wide.keys()
        );
    }
    // The host links its wasi:http (0.2.10 here) and storage: it installs.
    let home = TestHome::new()?;
    home.install(&built)?;
    Ok(())
}

#[test]
fn the_js_sdk_knows_every_data_type_by_its_code() -> anyhow::Result<()> {
    let text = std::fs::read_to_string(root().join("sdk/js/src/types.js"))?;
    let list = text
        .split("export const TYPE_IDS = Object.freeze([")
        .nth(1)
        .and_then(|rest| rest.split("]);").next())
        .ok_or_else(|| anyhow::anyhow!("no TYPE_IDS in sdk/js/src/types.js"))?;
    let ids: Vec<&str> = list
        .split(',')
        .map(|s| s.trim().trim_matches('"'))
        .filter(|s| !s.is_empty())
        .collect();
    let registry: Vec<&str> = DataType::all().map(|t| t.id()).collect();
    assert_eq!(ids, registry, "a type's index in TYPE_IDS is its type code");
    Ok(())
}

#[test]
fn javascript_loops_timers_allocations_and_huge_results_hit_their_limits() -> anyhow::Result<()> {
    let Some(arena) = hostile()? else { return Ok(()) };
    for (tool, limit) in [
        ("spin", LimitKind::Timeout),
        ("sleep", LimitKind::Timeout),
        ("grow", LimitKind::Memory),
        ("huge", LimitKind::Output),
    ] {
        let observed = arena.attack(tool, json!({}))?;
        assert_limit(&observed, limit);
        arena.contained(&observed, &format!("limit: {}", limit.id()))?;
    }
    Ok(())
}

fn assert_trapped(observed: &Observed) {
    assert!(
        matches!(observed.failure, Some(RunFailure::Trap { .. })),
        "expected a trap, got {:?} {}",
        observed.failure,
        observed.text
    );
}

#[test]
fn javascript_finds_no_file_environment_socket_or_process() -> anyhow::Result<()> {
    let Some(arena) = hostile()? else { return Ok(()) };
    let observed = arena.attack("probe", json!({}))?;
    let out = observed.json()?;
    let globals = out["globals"].as_object().cloned().unwrap_or_default();
    assert_eq!(globals.len(), 9, "{out}");
    for (name, kind) in &globals {
        assert_eq!(kind, "undefined", "`{name}` exists: {out}");
    }
    arena.contained(&observed, "ok")?;
    // Loading a file as a module, or fetching without [network], reaches a
    // WASI function the component does not import: the engine traps.
    for tool in ["read-file", "fetch"] {
        let observed = arena.attack(tool, json!({}))?;
        assert_trapped(&observed);
        assert!(!observed.text.contains("root:"), "{}", observed.text);
        arena.contained(&observed, "trap")?;
    }
    Ok(())
}

#[test]
fn javascript_reads_only_what_was_granted() -> anyhow::Result<()> {
    let Some(arena) = hostile()? else { return Ok(()) };
    let observed = arena.attack("ungranted", json!({}))?;
    assert_eq!(observed.json()?, json!({ "refused": "not-granted" }));
    arena.contained(&observed, "ok")?;
    let observed = arena.attack("steps", json!({}))?;
    assert_eq!(
        observed.json()?["steps"].as_f64(),
        Some(ALICE_STEPS),
        "Alice's steps, none of Bob's"
    );
    arena.contained(&observed, "ok")
}

#[test]
fn an_uncaught_refusal_is_a_tool_failure_and_an_uncaught_bug_a_trap() -> anyhow::Result<()> {
    let Some(arena) = hostile()? else { return Ok(()) };
    let observed = arena.attack("refused", json!({}))?;
    let outcome = observed
        .outcome
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("no outcome: {}", observed.text))?;
    assert_eq!(
        failure(outcome),
        ("failed".to_string(), "body-mass not granted (not-granted)".to_string())
    );
    arena.contained(&observed, "tool-error: failed")?;
    let observed = arena.attack("throw", json!({}))?;
    assert_trapped(&observed);
    arena.contained(&observed, "trap")
}

#[test]
fn a_javascript_log_flood_is_capped_and_stripped() -> anyhow::Result<()> {
    let Some(arena) = hostile()? else { return Ok(()) };
    let observed = arena.attack("flood", json!({}))?;
    let outcome = assert_log_capped(&observed)?;
    assert!(
        outcome.logs.iter().any(|l| l.message.contains("STDOUT")),
        "console.log reaches the log"
    );
    arena.contained(&observed, "ok")
}
