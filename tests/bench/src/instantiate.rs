//! B1–B3: what healthplug's policy layer adds to instantiation, to a whole
//! invocation and to a host call, measured against bare wasmtime on the
//! same component.

use std::sync::Arc;

use healthplug_host::capabilities::run;
use healthplug_host::runtime::{Runtime, RuntimeConfig};
use healthplug_tests::fixture_dir;

use crate::measure::{Report, measure, measure_pair};
use crate::ours::{Prepared, bench_sum_home, home_on};
use crate::{bare, fixture_bytes};

/// B1: fresh store + instantiate + drop, ours vs bare.
pub fn instantiate(report: &mut Report) -> anyhow::Result<()> {
    let runtime = Arc::new(Runtime::new(RuntimeConfig::default())?);
    let home = home_on(runtime.clone())?;
    let prep = Prepared::new(&runtime, &fixture_dir("bench-sum"))?;
    let engine = bare::engine(false, false)?;
    let pre = bare::plugin_pre(&engine, &fixture_bytes("bench_sum")?)?;
    let (ours, bare) = measure_pair(
        300,
        10,
        500,
        || {
            let Ok(call) = prep.call_state(&home.host, None) else {
                return;
            };
            let _ = run(&runtime, &prep.limits, call, |store| {
                prep.pre.instantiate(store).map(|_| ())
            })
            .value;
        },
        || {
            let mut store = bare::store(&engine, None);
            let _ = pre.instantiate(&mut store);
        },
    );
    report.add(
        "B1",
        "instantiate, bare wasmtime (pooling, InstancePre)",
        bare.p50_ns / 1e3,
        "µs p50",
        "",
    );
    let ratio = ours.p50_ns / bare.p50_ns;
    report.add(
        "B1",
        "instantiate, healthplug (limits, deadline, hostcall budget, sandboxed WASI)",
        ours.p50_ns / 1e3,
        "µs p50",
        format!(
            "{ratio:.2}x bare; target ≤ 1.2x: {}",
            if ratio <= 1.2 { "met" } else { "MISSED" }
        ),
    );
    Ok(())
}

/// B2: a whole `invoke` (consent check, audit write, log, result) of a
/// tool that returns at once.
pub fn invoke(report: &mut Report) -> anyhow::Result<()> {
    let home = bench_sum_home()?;
    let stats = measure(200, 3000, || {
        let _ = home.host.invoke("bench", "bench-sum", "noop", "{}");
    });
    report.add("B2", "invoke end to end, no-op tool", stats.p50_ns / 1e3, "µs p50", "");
    report.add(
        "B2",
        "invoke end to end, no-op tool",
        stats.p99_ns / 1e3,
        "µs p99",
        "consent refresh + audit write (SQLite WAL) included",
    );
    let engine = bare::engine(false, false)?;
    let pre = bare::plugin_pre(&engine, &fixture_bytes("bench_sum")?)?;
    let bare = measure(200, 3000, || {
        let mut store = bare::store(&engine, None);
        if let Ok(plugin) = pre.instantiate(&mut store) {
            let _ = plugin.call_invoke(&mut store, "noop", "{}");
        }
    });
    report.add(
        "B2",
        "bare wasmtime: instantiate + call the same tool",
        bare.p50_ns / 1e3,
        "µs p50",
        format!(
            "healthplug is {:.1}x (the rest is audit and consent I/O)",
            stats.p50_ns / bare.p50_ns
        ),
    );
    Ok(())
}

/// B3: one host call that returns nothing (`log` with an empty line),
/// from the difference between 5,000 calls and none.
pub fn host_call(report: &mut Report) -> anyhow::Result<()> {
    const CALLS: f64 = 5_000.0;
    let runtime = Arc::new(Runtime::new(RuntimeConfig::default())?);
    let home = home_on(runtime.clone())?;
    let prep = Prepared::new(&runtime, &fixture_dir("bench-sum"))?;
    let ours = |calls: u32| {
        measure(5, 60, || {
            let Ok(call) = prep.call_state(&home.host, None) else {
                return;
            };
            let args = format!("{{\"calls\": {calls}}}");
            let _ = run(&runtime, &prep.limits, call, |store| {
                let plugin = prep.pre.instantiate(&mut *store)?;
                plugin.call_invoke(&mut *store, "log", &args)
            })
            .value;
        })
    };
    let per_call_ours = (ours(5_000).p50_ns - ours(0).p50_ns) / CALLS;
    let engine = bare::engine(false, false)?;
    let pre = bare::plugin_pre(&engine, &fixture_bytes("bench_sum")?)?;
    let bare = |calls: u32| {
        measure(5, 60, || {
            let mut store = bare::store(&engine, None);
            if let Ok(plugin) = pre.instantiate(&mut store) {
                let _ = plugin.call_invoke(&mut store, "log", &format!("{{\"calls\": {calls}}}"));
            }
        })
    };
    let per_call_bare = (bare(5_000).p50_ns - bare(0).p50_ns) / CALLS;
    report.add(
        "B3",
        "host call returning nothing, bare wasmtime",
        per_call_bare,
        "ns",
        "",
    );
    report.add(
        "B3",
        "host call returning nothing, healthplug (`log`)",
        per_call_ours,
        "ns",
        format!(
            "{:.1}x bare: counts the call, sanitises and keeps the line",
            per_call_ours / per_call_bare
        ),
    );
    Ok(())
}
