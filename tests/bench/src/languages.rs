//! B13: the same benchmark plugin (bench-sum: `noop`, and `sum` over
//! 100,000 delivered samples) written in Rust, Python (componentize-py)
//! and JavaScript (componentize-js), side by side on healthplug's engine:
//! component size, compile, load from the compiled-component cache,
//! instantiate, a no-op invoke in a fresh instance, and B4's sum per
//! sample in a warm instance. The Python and JavaScript components are
//! built from source (`tests/lang/<lang>/bench-sum`); a language whose
//! toolchain is missing gets a row saying so.

use healthplug_host::runtime::{CacheOutcome, ComponentCache, RuntimeConfig, engine_config};
use healthplug_host::vault::SecretKey;
use healthplug_tests::lang::{js_plugin, python_plugin, root};
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::data_path::N;
use crate::measure::{Report, measure};
use crate::{bare, fixture_bytes};

fn sum_of(out: &str) -> f64 {
    serde_json::from_str::<serde_json::Value>(out)
        .ok()
        .and_then(|v| v["sum"].as_f64())
        .unwrap_or(f64::NAN)
}

/// A language's component bytes, or why it is missing.
type Built = Result<Vec<u8>, String>;

/// The components to compare: (language, bytes), or why one is missing.
fn components() -> anyhow::Result<Vec<(&'static str, Built)>> {
    let read = |dir: Option<std::path::PathBuf>, file: &str| match dir {
        Some(d) => std::fs::read(d.join(file)).map_err(|e| e.to_string()),
        None => Err("toolchain not installed (see docs)".to_string()),
    };
    let python = python_plugin(&root().join("tests/lang/python/bench-sum"), "bench-sum-python")?;
    let js = js_plugin(&root().join("tests/lang/js/bench-sum"), "bench-sum-js")?;
    Ok(vec![
        ("Rust", Ok(fixture_bytes("bench_sum")?)),
        ("Python", read(python, "bench_sum_python.wasm")),
        ("JavaScript", read(js, "bench_sum_js.wasm")),
    ])
}

/// B13.
pub fn languages(report: &mut Report) -> anyhow::Result<()> {
    let engine = Engine::new(&engine_config(&RuntimeConfig::default(), false))?;
    let dir = tempfile::tempdir()?;
    let cache = ComponentCache::new(dir.path(), SecretKey::generate()?.derive_bytes(b"bench cache"))?;
    for (lang, bytes) in components()? {
        match bytes {
            Ok(bytes) => one(report, &engine, &cache, lang, &bytes)?,
            Err(why) => report.add("B13", &format!("{lang}: not measured"), f64::NAN, "", why),
        }
    }
    Ok(())
}

fn one(report: &mut Report, engine: &Engine, cache: &ComponentCache, lang: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let ms = |ns: f64| ns / 1e6;
    let us = |ns: f64| ns / 1e3;
    report.add(
        "B13",
        &format!("{lang}: component size"),
        bytes.len() as f64 / 1024.0,
        "KiB",
        "",
    );
    let compile = measure(0, 3, || {
        let _ = Component::new(engine, bytes);
    });
    report.add(
        "B13",
        &format!("{lang}: compile"),
        ms(compile.p50_ns),
        "ms",
        "Cranelift, p50 of 3",
    );
    let sha = hex::encode(Sha256::digest(bytes));
    let (_, first) = cache.load(engine, &sha, bytes)?;
    anyhow::ensure!(
        matches!(first, CacheOutcome::Compiled),
        "{lang}: expected a compile first"
    );
    let cached = measure(2, 20, || {
        let _ = cache.load(engine, &sha, bytes);
    });
    report.add(
        "B13",
        &format!("{lang}: load from the cache"),
        ms(cached.p50_ns),
        "ms",
        "",
    );
    let pre = bare::plugin_pre(engine, bytes)?;
    let instantiate = measure(5, 100, || {
        let mut store = bare::store(engine, None);
        let _ = pre.instantiate(&mut store);
    });
    report.add(
        "B13",
        &format!("{lang}: instantiate"),
        us(instantiate.p50_ns),
        "us",
        "p50",
    );
    let mut answered = false;
    let noop = measure(5, 100, || {
        let mut store = bare::store(engine, None);
        if let Ok(p) = pre.instantiate(&mut store) {
            answered = matches!(p.call_invoke(&mut store, "noop", "{}"), Ok(Ok(_)));
        }
    });
    anyhow::ensure!(answered, "{lang}: noop did not answer");
    report.add(
        "B13",
        &format!("{lang}: no-op invoke, fresh instance"),
        us(noop.p50_ns),
        "us",
        "p50, instantiate included",
    );
    let warm = |n: usize| -> anyhow::Result<f64> {
        let mut store = bare::store(engine, Some(bare::steps_batch(n)));
        let plugin = pre.instantiate(&mut store)?;
        let mut check = f64::NAN;
        let stats = measure(3, 30, || {
            if let Ok(Ok(out)) = plugin.call_invoke(&mut store, "sum", "{}") {
                check = sum_of(&out);
            }
        });
        anyhow::ensure!(check == bare::expected_sum(n), "{lang}: the guest summed {check}");
        Ok(stats.p50_ns)
    };
    let per_sample = (warm(N)? - warm(0)?) / N as f64;
    report.add(
        "B13",
        &format!("{lang}: B4 sum, per sample"),
        per_sample,
        "ns/sample",
        "warm instance, 100k samples",
    );
    Ok(())
}
