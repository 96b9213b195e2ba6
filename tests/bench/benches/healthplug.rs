//! `cargo bench -p healthplug-bench`: every healthplug benchmark in one
//! run, printed as a table and written to `target/healthplug-bench.json`
//! (and as Markdown to `target/healthplug-bench.md`).
//!
//! `--only B4,B6` runs a subset; `--serve-load 64,10` runs one B11 load
//! alone (64 clients, 10 s) to watch under `perf`.

use healthplug_bench::{
    Report, backends, compile, consent_filter, data_path, egress, import, instantiate, languages, mcp_http, overhead,
    throughput,
};

type Bench = fn(&mut Report) -> anyhow::Result<()>;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1));
    if let Some(file) = arg("--import-child") {
        return import::import_child(file);
    }
    if let Some(max) = arg("--density-child") {
        return throughput::density_child(max.parse().unwrap_or(50_000));
    }
    if let Some(spec) = arg("--serve-load") {
        return mcp_http::serve_load(spec);
    }
    let only: Option<Vec<String>> = arg("--only").map(|list| list.split(',').map(str::to_uppercase).collect());
    let benches: [(&str, Bench); 14] = [
        ("B1", instantiate::instantiate),
        ("B2", instantiate::invoke),
        ("B3", instantiate::host_call),
        ("B4", data_path::delivery),
        ("B5", consent_filter::field_filtering),
        ("B6", compile::compile_vs_cached),
        ("B7", overhead::epoch_and_fuel),
        ("B8", throughput::throughput),
        ("B8", throughput::density),
        ("B9", import::import_throughput),
        ("B10", egress::egress_check),
        ("B11", mcp_http::mcp_http),
        ("B12", backends::backends),
        ("B13", languages::languages),
    ];
    let mut report = Report::default();
    println!("{:<4} {:<64} {:>12} {:<10} note", "id", "measurement", "value", "unit");
    for (id, bench) in benches {
        if only.as_ref().is_some_and(|o| !o.iter().any(|x| x == id)) {
            continue;
        }
        if let Err(e) = bench(&mut report) {
            report.add(id, "failed", f64::NAN, "", format!("{e:#}"));
        }
    }
    let target = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target");
    std::fs::write(
        target.join("healthplug-bench.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    std::fs::write(target.join("healthplug-bench.md"), report.markdown())?;
    println!("\nresults: {}", target.join("healthplug-bench.json").display());
    println!("\n{}", report.markdown());
    Ok(())
}
