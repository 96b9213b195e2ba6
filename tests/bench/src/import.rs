//! B9: connector import throughput and peak memory, on a generated
//! 100 MB Apple Health export (imported in a child process so its peak
//! memory is the import's alone).

use healthplug_tests::TestHome;

use crate::measure::Report;

/// B9 (child process): imports the file named on the command line and
/// prints the report as JSON, so its peak memory is the import's alone.
pub fn import_child(file: &str) -> anyhow::Result<()> {
    let home = TestHome::new()?;
    home.install(&healthplug_tests::example_dir("apple-health"))?;
    healthplug_tests::grant_writes(&home.host, "bench", "apple-health", "steps,heart-rate,workout")?;
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
pub fn import_throughput(report: &mut Report) -> anyhow::Result<()> {
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
