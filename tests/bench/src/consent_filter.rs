//! B5: the cost of field-level consent filtering per sample.

use healthplug_host::consent::Fields;
use healthplug_host::platform::GrantRequest;
use healthplug_host::vault::NewSample;
use healthplug_tests::{DAY_MS, TestHome, fixture_dir, now_ms, ty, types_of};

use crate::measure::{Report, measure};

/// B5: the cost of field-level consent filtering per sample, and per
/// invocation on 10,000 samples.
pub fn field_filtering(report: &mut Report) -> anyhow::Result<()> {
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
    let extra = (per_grant[0].1 - per_grant[1].1) / n as f64;
    report.add(
        "B5",
        "per-field filtering: all fields vs value only, per sample",
        extra,
        "ns/sample",
        "columns are dropped, not masked: the difference is noise",
    );
    let unseal = (per_grant[1].1 - per_grant[2].1) / n as f64;
    report.add(
        "B5",
        "unsealing (decrypt + decode) a sample, per sample",
        unseal,
        "ns/sample",
        "skipped entirely when only time is granted",
    );
    Ok(())
}
