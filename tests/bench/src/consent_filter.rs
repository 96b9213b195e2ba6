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
    let mut timed = |label: &str, fields: Fields, days: Option<u32>| -> anyhow::Result<f64> {
        home.host.grant(
            "bench",
            "bench-sum",
            &GrantRequest {
                types: types_of("steps"),
                fields: Some(fields),
                days,
                ..GrantRequest::default()
            },
        )?;
        let stats = measure(3, 25, || {
            let _ = home.host.invoke("bench", "bench-sum", "sum", "{\"all_fields\": true}");
        });
        report.add(
            "B5",
            &format!("invoke, 10k samples, plugin asks all fields, {label}"),
            stats.p50_ns / 1e6,
            "ms p50",
            "",
        );
        Ok(stats.p50_ns)
    };
    let all = timed("every field granted", Fields::ALL, None)?;
    let windowed = timed("every field, 30-day window (covers them all)", Fields::ALL, Some(30))?;
    let value = timed("value only granted", Fields::VALUE, None)?;
    let time = timed("time only granted", Fields::TIME, None)?;
    let per = |ns: f64| ns / n as f64;
    report.add(
        "B5",
        "window filtering, extra cost per sample",
        per(windowed - all),
        "ns/sample",
        "a range bound on the day index and a filter inside the chunk: within noise",
    );
    report.add(
        "B5",
        "field filtering (value only vs every field), extra cost per sample",
        per(value - all),
        "ns/sample",
        "negative = a saving: withheld columns are never built, copied or lowered",
    );
    report.add(
        "B5",
        "decoding and delivering a sample's value (value only vs time only)",
        per(value - time),
        "ns/sample",
        "the day chunk is opened either way; only the value columns are decoded in addition",
    );
    Ok(())
}
