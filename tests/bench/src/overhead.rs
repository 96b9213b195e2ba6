//! B7: what epoch interruption and fuel metering cost a compute-heavy
//! plugin (sorting 200,000 numbers), against neither.

use healthplug_host::runtime::{RuntimeConfig, engine_config};
use wasmtime::Engine;

use crate::measure::{Report, measure};
use crate::{bare, fixture_bytes};

fn engine(epoch: bool, fuel: bool) -> anyhow::Result<Engine> {
    let mut config = engine_config(&RuntimeConfig::default(), fuel);
    config.epoch_interruption(epoch);
    Ok(Engine::new(&config)?)
}

/// B7.
pub fn epoch_and_fuel(report: &mut Report) -> anyhow::Result<()> {
    let bytes = fixture_bytes("bench_sum")?;
    let mut base = f64::NAN;
    for (label, epoch, fuel) in [
        ("neither", false, false),
        ("epoch interruption (healthplug's default)", true, false),
        ("epoch + fuel (plugins whose manifest sets `fuel`)", true, true),
    ] {
        let engine = engine(epoch, fuel)?;
        let pre = bare::plugin_pre(&engine, &bytes)?;
        let stats = measure(2, 15, || {
            let mut store = bare::store(&engine, None);
            if let Ok(plugin) = pre.instantiate(&mut store) {
                let _ = plugin.call_invoke(&mut store, "compute", "{\"n\": 200000}");
            }
        });
        if base.is_nan() {
            base = stats.p50_ns;
        }
        report.add(
            "B7",
            &format!("sort 200k numbers in the guest, {label}"),
            stats.p50_ns / 1e6,
            "ms p50",
            format!("{:+.1}% vs neither", (stats.p50_ns / base - 1.0) * 100.0),
        );
    }
    Ok(())
}
