//! `cargo bench -p healthplug-bench`: every healthplug benchmark in one
//! run, printed as a table and written to `target/healthplug-bench.json`.

use healthplug_bench::{Report, measure};
use healthplug_host::consent::Fields;
use healthplug_host::platform::GrantRequest;
use healthplug_host::vault::NewSample;
use healthplug_tests::{DAY_MS, TestHome, fixture_dir, now_ms, ty, types_of};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--import-child") {
        return import_child(args.get(i + 1).map(String::as_str).unwrap_or(""));
    }
    let mut report = Report::default();
    println!("{:<4} {:<58} {:>12} {:<10} note", "id", "measurement", "value", "unit");
    field_filtering(&mut report)?;
    egress_check(&mut report)?;
    import_throughput(&mut report)?;
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

/// B9 (child process): imports the file named on the command line and
/// prints the report as JSON, so its peak memory is the import's alone.
fn import_child(file: &str) -> anyhow::Result<()> {
    let home = TestHome::new()?;
    home.install(&healthplug_tests::example_dir("apple-health"))?;
    home.host.grant(
        "bench",
        "apple-health",
        &GrantRequest {
            types: types_of("steps,heart-rate,workout"),
            write: true,
            ..GrantRequest::default()
        },
    )?;
    let report = home.host.import(
        "bench",
        "apple-health",
        std::path::Path::new(file),
        &serde_json::json!({}),
    )?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

/// B9: import throughput of the Apple Health connector on a generated
/// 100 MB export.xml, with the peak memory of host and guest.
fn import_throughput(report: &mut Report) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("export.xml");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
    // ~360 bytes a record: 290,000 records is about 100 MB.
    let (steps, hr, workouts) = healthplug_tests::write_apple_export(&mut out, 290_000)?;
    std::io::Write::flush(&mut out)?;
    drop(out);
    let bytes = std::fs::metadata(&path)?.len();
    let child = std::process::Command::new(std::env::current_exe()?)
        .arg("--import-child")
        .arg(&path)
        .output()?;
    anyhow::ensure!(
        child.status.success(),
        "import child failed: {}",
        String::from_utf8_lossy(&child.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&child.stdout)?;
    let stored = r["total_imported"].as_u64().unwrap_or(0);
    anyhow::ensure!(
        stored as usize == steps + hr + workouts,
        "stored {stored} of {}",
        steps + hr + workouts
    );
    let secs = r["elapsed_ms"].as_f64().unwrap_or(0.0) / 1e3;
    report.add(
        "B9",
        &format!(
            "apple-health import of a {:.0} MB export.xml ({stored} samples)",
            bytes as f64 / 1e6
        ),
        secs,
        "s",
        "",
    );
    report.add(
        "B9",
        "import throughput",
        stored as f64 / secs,
        "samples/s",
        "parse + validate + seal + stage + commit",
    );
    report.add("B9", "import throughput", bytes as f64 / 1e6 / secs, "MB/s", "");
    report.add(
        "B9",
        "peak guest (connector) linear memory",
        r["guest_peak_memory_bytes"].as_f64().unwrap_or(0.0) / 1e6,
        "MB",
        "streamed: independent of the file size",
    );
    report.add(
        "B9",
        "peak host resident memory (whole process)",
        r["host_peak_rss_bytes"].as_f64().unwrap_or(0.0) / 1e6,
        "MB",
        "VmHWM of the importing process",
    );
    Ok(())
}

/// The per-request cost of the egress policy check (grant lookup,
/// allowlist, resolved-address checks), DNS excluded (a fixed resolver).
fn egress_check(report: &mut Report) -> anyhow::Result<()> {
    use healthplug_host::network::{EgressGrant, EgressHooks, EgressParty, NetworkPolicy, Origin};
    let home = TestHome::new()?;
    home.install(&healthplug_tests::example_dir("cloud-sync"))?;
    home.host.grant(
        "bench",
        "cloud-sync",
        &GrantRequest {
            network: Some(Vec::new()),
            ..GrantRequest::default()
        },
    )?;
    let user = home.host.user("bench")?;
    let mut policy = NetworkPolicy::default();
    let ip: std::net::IpAddr = "93.184.216.34".parse()?;
    policy.resolver_for_tests = Some(std::sync::Arc::new(move |_: &str, _: u16| Some(vec![ip])));
    let hooks = EgressHooks::new(
        EgressGrant {
            origins: vec![Origin::parse("https://api.partner.example").map_err(anyhow::Error::msg)?],
            max_requests: 20,
            max_request_bytes: 1 << 20,
            max_response_bytes: 1 << 22,
            deadline: std::time::Instant::now() + std::time::Duration::from_secs(3600),
        },
        policy,
        EgressParty {
            vault: home.host.vault().clone(),
            user_id: user.id,
            user_ref: user.user_ref.clone(),
            plugin: "cloud-sync".into(),
            digest: String::new(),
        },
    );
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    anyhow::ensure!(
        rt.block_on(hooks.preflight("https://api.partner.example/v1/samples"))
            .is_ok()
    );
    anyhow::ensure!(rt.block_on(hooks.preflight("https://evil.example/")).is_err());
    let allowed = measure(100, 5000, || {
        let _ = rt.block_on(hooks.preflight("https://api.partner.example/v1/samples"));
    });
    report.add(
        "B10",
        "egress policy check per request, allowed",
        allowed.p50_ns / 1e3,
        "µs p50",
        "grant read + allowlist + address checks",
    );
    let refused = measure(100, 5000, || {
        let _ = rt.block_on(hooks.preflight("https://evil.example/"));
    });
    report.add(
        "B10",
        "egress policy check per request, refused",
        refused.p50_ns / 1e3,
        "µs p50",
        "",
    );
    Ok(())
}
