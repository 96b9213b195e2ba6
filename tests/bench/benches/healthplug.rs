//! `cargo bench -p healthplug-bench`: every healthplug benchmark in one
//! run, printed as a table and written to `target/healthplug-bench.json`.

use healthplug_bench::{Report, measure};
use healthplug_host::consent::Fields;
use healthplug_host::platform::GrantRequest;
use healthplug_host::vault::NewSample;
use healthplug_tests::{DAY_MS, TestHome, fixture_dir, now_ms, ty, types_of};

fn main() -> anyhow::Result<()> {
    let mut report = Report::default();
    println!("{:<4} {:<58} {:>12} {:<10} note", "id", "measurement", "value", "unit");
    field_filtering(&mut report)?;
    let out = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/healthplug-bench.json");
    std::fs::write(&out, serde_json::to_string_pretty(&report)?)?;
    println!("\nresults: {}", out.display());
    println!("\n{}", report.markdown());
    Ok(())
}

/// B5: the cost of field-level consent filtering per sample, and per
/// invocation on 10,000 samples.
fn field_filtering(report: &mut Report) -> anyhow::Result<()> {
    let home = TestHome::new()?;
    home.install(&fixture_dir("bench-sum"))?;
    let n = 10_000usize;
    let now = now_ms();
    let samples: Vec<NewSample> = (0..n)
        .map(|i| {
            let t = now - DAY_MS + i as i64 * 1000;
            let mut s = NewSample::quantity(ty("steps"), t, t + 1000, (i % 97) as f64);
            s.source_name = Some("Bench Phone".into());
            s.device = Some(format!("device-{}", i % 4));
            s.notes = Some("walked to work".into());
            s.metadata = Some("{\"k\":1}".into());
            s
        })
        .collect();
    home.host.store_samples("bench", "bench", &samples)?;
    let mut per_grant = Vec::new();
    for (label, fields) in [
        ("every field granted", Fields::ALL),
        ("value only granted", Fields::VALUE),
        ("time only granted", Fields::TIME),
    ] {
        home.host.grant(
            "bench",
            "bench-sum",
            &GrantRequest {
                types: types_of("steps"),
                fields: Some(fields),
                ..GrantRequest::default()
            },
        )?;
        let stats = measure(2, 15, || {
            let _ = home.host.invoke("bench", "bench-sum", "sum", "{\"all_fields\": true}");
        });
        per_grant.push((label, stats.p50_ns));
        report.add(
            "B5",
            &format!("invoke, 10k samples, plugin asks all fields, {label}"),
            stats.p50_ns / 1e6,
            "ms p50",
            "",
        );
    }
    let saved = (per_grant[0].1 - per_grant[1].1) / n as f64;
    report.add(
        "B5",
        "withholding 6 of 7 fields: change per sample",
        -saved,
        "ns/sample",
        "negative = withholding is cheaper than delivering (columns are dropped, not masked)",
    );
    Ok(())
}
