//! B8: invocations per second at concurrency 1, 4, 16 and 64 on this
//! machine, and density: how many live instances the pool holds, the
//! memory each costs, and what stops the count.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use healthplug_host::capabilities::InvocationState;
use healthplug_host::runtime::{Runtime, RuntimeConfig, Sandboxed};
use healthplug_tests::fixture_dir;
use serde_json::{Value, json};
use wasmtime::Store;

use crate::measure::Report;
use crate::ours::{Prepared, bench_sum_home, home_on};

/// B8: throughput of `invoke` (no-op tool) from `c` threads.
pub fn throughput(report: &mut Report) -> anyhow::Result<()> {
    let home = Arc::new(bench_sum_home()?);
    for concurrency in [1usize, 4, 16, 64] {
        let done = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let workers: Vec<_> = (0..concurrency)
            .map(|_| {
                let (home, done, stop) = (home.clone(), done.clone(), stop.clone());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        if home.host.invoke("bench", "bench-sum", "noop", "{}").is_ok() {
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs(2));
        stop.store(true, Ordering::Relaxed);
        for w in workers {
            let _ = w.join();
        }
        let rate = done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
        report.add(
            "B8",
            &format!("invocations/s at concurrency {concurrency} (2 cores)"),
            rate,
            "inv/s",
            if concurrency == 1 {
                "each: instantiate + call + consent + audit"
            } else {
                ""
            },
        );
    }
    Ok(())
}

fn rss_kib() -> u64 {
    status_field("VmRSS:")
}

fn status_field(name: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn map_count() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .map(|m| m.lines().count())
        .unwrap_or(0)
}

/// B8 (child process): instantiates bench-sum, runs its no-op tool and
/// keeps the instance alive, again and again until the pool or the OS
/// refuses; prints the count, what stopped it and the memory per instance
/// as JSON.
pub fn density_child(max: usize) -> anyhow::Result<()> {
    let config = RuntimeConfig::default();
    let slots = config.pool_slots;
    let runtime = Arc::new(Runtime::new(config)?);
    let home = home_on(runtime.clone())?;
    let prep = Prepared::new(&runtime, &fixture_dir("bench-sum"))?;
    let mut live = Vec::new();
    // One instance first, so shared one-off allocations are not counted.
    let before_maps = map_count();
    let mut before_rss = 0;
    let mut stopped_by = format!("the benchmark's own cap of {max}");
    let started = Instant::now();
    while live.len() < max {
        let call = prep.call_state(&home.host, None)?;
        let mut store = Store::new(runtime.engine(), InvocationState::new(call, prep.limits.clone()));
        store.limiter(|s| &mut s.sandbox().limiter);
        store.set_epoch_deadline(u64::MAX / 2);
        let _ = store.set_fuel(u64::MAX);
        let plugin = match prep.pre.instantiate(&mut store) {
            Ok(p) => p,
            Err(e) => {
                stopped_by = format!("{:#}", e).lines().next().unwrap_or("").to_string();
                break;
            }
        };
        if let Err(e) = plugin.call_invoke(&mut store, "noop", "{}") {
            stopped_by = format!("call failed: {e:#}");
            break;
        }
        if live.is_empty() {
            before_rss = rss_kib();
        }
        live.push((store, plugin));
    }
    let after_rss = rss_kib();
    let n = live.len().max(2) as f64;
    let out: Value = json!({
        "pool_slots": slots,
        "live": live.len(),
        "stopped_by": stopped_by,
        "kib_per_instance": after_rss.saturating_sub(before_rss) as f64 / (n - 1.0),
        "rss_mib": after_rss as f64 / 1024.0,
        "maps_per_instance": map_count().saturating_sub(before_maps) as f64 / n,
        "max_map_count": std::fs::read_to_string("/proc/sys/vm/max_map_count").unwrap_or_default().trim(),
        "seconds": started.elapsed().as_secs_f64(),
    });
    println!("{out}");
    Ok(())
}

/// B8: density, from a child process (its own address space and maps).
pub fn density(report: &mut Report) -> anyhow::Result<()> {
    let output = std::process::Command::new(std::env::current_exe()?)
        .args(["--density-child", "50000"])
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "density child failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let r: Value = serde_json::from_str(stdout.lines().last().unwrap_or("{}"))?;
    let live = r["live"].as_f64().unwrap_or(0.0);
    report.add(
        "B8",
        "live instances reached (default pool of 12,288 slots)",
        live,
        "instances",
        format!(
            "stopped by: {}; target ≥ 10,000: {}",
            r["stopped_by"].as_str().unwrap_or("?"),
            if live >= 10_000.0 { "met" } else { "MISSED" }
        ),
    );
    report.add(
        "B8",
        "resident memory per live instance (after one call)",
        r["kib_per_instance"].as_f64().unwrap_or(f64::NAN),
        "KiB",
        format!("{:.0} MiB for all", r["rss_mib"].as_f64().unwrap_or(0.0)),
    );
    report.add(
        "B8",
        "memory mappings per live instance",
        r["maps_per_instance"].as_f64().unwrap_or(f64::NAN),
        "maps",
        format!("vm.max_map_count = {}", r["max_map_count"].as_str().unwrap_or("?")),
    );
    Ok(())
}
