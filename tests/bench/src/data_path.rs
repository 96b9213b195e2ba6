//! B4: delivering 100,000 samples to a plugin that sums them, per sample:
//! the native limit (a sum over a `Vec`), native clone + sum, healthplug's
//! columnar path from a batch the host holds, healthplug end to end from
//! the encrypted vault, and the same job on Extism (raw bytes and JSON).

use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;

use healthplug_host::runtime::{RuntimeConfig, engine_config};
use healthplug_host::vault::NewSample;
use healthplug_tests::{DAY_MS, now_ms, ty};
use serde_json::Value;
use wasmtime::Engine;

use crate::measure::{Report, measure};
use crate::{bare, fixture_bytes};

/// Samples delivered.
pub const N: usize = 100_000;

fn sum_of(output: &str) -> f64 {
    serde_json::from_str::<Value>(output)
        .ok()
        .and_then(|v| v["sum"].as_f64())
        .unwrap_or(f64::NAN)
}

/// Runs the Extism comparison (its own workspace, its own wasmtime) and
/// returns its JSON line, or why it could not run.
pub fn extism() -> Result<Value, String> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../bench-extism/Cargo.toml");
    // Run from its own folder, so its `.cargo/config.toml` (target dir
    // under `target/bench-extism`) applies.
    let dir = manifest.parent().map(std::path::Path::to_path_buf).unwrap_or_default();
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(&dir)
        .args(["run", "--quiet", "--release", "--manifest-path"])
        .arg(&manifest)
        .args(["--", "--samples", &N.to_string()])
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        let err = String::from_utf8_lossy(&output.stderr);
        return Err(err.lines().rev().take(5).collect::<Vec<_>>().join(" | "));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().unwrap_or("");
    serde_json::from_str(last).map_err(|e| format!("unreadable Extism result `{last}`: {e}"))
}

/// B4.
pub fn delivery(report: &mut Report) -> anyhow::Result<()> {
    let values: Vec<f64> = (0..N).map(|i| (i % 97) as f64).collect();
    let native = measure(20, 300, || {
        black_box(black_box(&values).iter().sum::<f64>());
    });
    let clone = measure(20, 300, || {
        let copy = black_box(&values).clone();
        black_box(copy.iter().sum::<f64>());
    });
    let per = |ns: f64| ns / N as f64;
    report.add(
        "B4",
        "native Rust: sum a Vec<f64> (the limit)",
        per(native.p50_ns),
        "ns/sample",
        "",
    );
    report.add("B4", "native Rust: clone + sum", per(clone.p50_ns), "ns/sample", "");

    // healthplug's engine and WIT path, the host holding the batch: the
    // host copies it, lowers it into the guest, the SDK decodes it, the
    // guest sums it. Per sample = (100k samples - empty batch) / 100k.
    let engine = Engine::new(&engine_config(&RuntimeConfig::default(), false))?;
    let pre = bare::plugin_pre(&engine, &fixture_bytes("bench_sum")?)?;
    let timed = |n: usize| -> anyhow::Result<f64> {
        let batch = bare::steps_batch(n);
        let mut check = f64::NAN;
        let stats = measure(10, 200, || {
            let mut store = bare::store(&engine, Some(batch.clone()));
            if let Ok(plugin) = pre.instantiate(&mut store)
                && let Ok(Ok(out)) = plugin.call_invoke(&mut store, "sum", "{}")
            {
                check = sum_of(&out);
            }
        });
        anyhow::ensure!(check == bare::expected_sum(n), "the guest summed {check}");
        Ok(stats.p50_ns)
    };
    // The same in one warm instance called again and again (its memory
    // already grown and touched), as the Extism figures are measured.
    let warm = |n: usize| -> anyhow::Result<f64> {
        let mut store = bare::store(&engine, Some(bare::steps_batch(n)));
        let plugin = pre.instantiate(&mut store)?;
        let mut check = f64::NAN;
        let stats = measure(10, 300, || {
            if let Ok(Ok(out)) = plugin.call_invoke(&mut store, "sum", "{}") {
                check = sum_of(&out);
            }
        });
        anyhow::ensure!(check == bare::expected_sum(n), "the guest summed {check}");
        Ok(stats.p50_ns)
    };
    // The same job on bare wasmtime's defaults: 4 GiB reservations (no
    // bounds checks), without and with epoch checks. The second isolates
    // what wasmtime's epoch interruption costs this loop, policy aside.
    let bare_per_sample = |epoch: bool| -> anyhow::Result<f64> {
        let bare_engine = bare::engine(epoch, false)?;
        let bare_pre = bare::plugin_pre(&bare_engine, &fixture_bytes("bench_sum")?)?;
        let warm = |n: usize| -> anyhow::Result<f64> {
            let mut store = bare::store(&bare_engine, Some(bare::steps_batch(n)));
            let plugin = bare_pre.instantiate(&mut store)?;
            Ok(measure(10, 300, || {
                let _ = plugin.call_invoke(&mut store, "sum", "{}");
            })
            .p50_ns)
        };
        Ok(per(warm(N)? - warm(0)?))
    };
    let bare_sum = bare_per_sample(false)?;
    let bare_epoch_sum = bare_per_sample(true)?;
    // Delivery alone: the guest receives the batch and only counts it.
    let deliver = |n: usize| -> anyhow::Result<f64> {
        let mut store = bare::store(&engine, Some(bare::steps_batch(n)));
        let plugin = pre.instantiate(&mut store)?;
        Ok(measure(10, 300, || {
            let _ = plugin.call_invoke(&mut store, "sum", "{\"count_only\": true}");
        })
        .p50_ns)
    };
    let delivery_only = per(deliver(N)? - deliver(0)?);
    let fresh = per(timed(N)? - timed(0)?);
    let ours = per(warm(N)? - warm(0)?);
    report.add(
        "B4",
        "bare wasmtime defaults (4 GiB reservation, no epoch): same guest, warm",
        bare_sum,
        "ns/sample",
        "",
    );
    report.add(
        "B4",
        "bare wasmtime defaults + epoch interruption: same guest, warm",
        bare_epoch_sum,
        "ns/sample",
        "the epoch check's slow-path call keeps the guest's f64 accumulator in a stack slot",
    );
    report.add(
        "B4",
        "healthplug: the same, fresh instance per call (as invocations run)",
        fresh,
        "ns/sample",
        "adds first-touch page faults of the guest's fresh memory",
    );
    report.add(
        "B4",
        "healthplug: columnar batch held by the host → guest sum (warm instance)",
        ours,
        "ns/sample",
        format!(
            "delivery alone {delivery_only:.2} ns; {:.2}x native clone + sum; target ≤ 2x: {}",
            ours / per(clone.p50_ns),
            if ours <= 2.0 * per(clone.p50_ns) {
                "met"
            } else {
                "MISSED"
            }
        ),
    );

    // End to end: the same samples in the encrypted vault.
    let home = crate::ours::bench_sum_home()?;
    let now = now_ms();
    let samples: Vec<NewSample> = (0..N)
        .map(|i| {
            let t = now - 30 * DAY_MS + i as i64 * 1000;
            NewSample::quantity(ty("steps"), t, t + 1000, (i % 97) as f64)
        })
        .collect();
    home.host.store_samples("bench", "bench", &samples)?;
    let e2e = measure(2, 10, || {
        let _ = home.host.invoke("bench", "bench-sum", "sum", "{}");
    });
    report.add(
        "B4",
        "healthplug end to end: vault read + decrypt + consent + deliver + sum",
        per(e2e.p50_ns),
        "ns/sample",
        "vault v2: one XChaCha20-Poly1305 open per day chunk; see PERFORMANCE.md for what bounds the rest",
    );

    match extism() {
        Ok(r) => {
            let noop_ns = r["noop_call_us"].as_f64().unwrap_or(0.0) * 1e3;
            let raw = (r["raw_p50_ms"].as_f64().unwrap_or(f64::NAN) * 1e6 - noop_ns) / N as f64;
            let json = (r["json_p50_ms"].as_f64().unwrap_or(f64::NAN) * 1e6 - noop_ns) / N as f64;
            let version = r["extism_version"].as_str().unwrap_or("?").to_string();
            report.add(
                "B4",
                &format!("Extism {version}: raw f64 bytes → guest sum"),
                raw,
                "ns/sample",
                format!("healthplug is {:.1}x faster", raw / ours),
            );
            report.add(
                "B4",
                &format!("Extism {version}: JSON samples → guest sum"),
                json,
                "ns/sample",
                format!("healthplug is {:.1}x faster", json / ours),
            );
            report.add(
                "B1",
                &format!("Extism {version}: create a plugin instance (context for B1)"),
                r["compiled_plugin_instantiate_us"]
                    .as_f64()
                    .or(r["instantiate_us"].as_f64())
                    .unwrap_or(f64::NAN),
                "µs p50",
                "for context",
            );
        }
        Err(why) => report.add("B4", "Extism comparison", f64::NAN, "", format!("not run: {why}")),
    }
    Ok(())
}
