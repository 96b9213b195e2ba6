//! B12: the same data invocation (the probe reading a user's steps:
//! consent, grants, sealed chunks, audit) on SQLite and on PostgreSQL with
//! one host, then with 2 and 3 hosts on one database (in this process,
//! each host with its own runtime, home and pool; on 2 cores this shows
//! the overhead of sharing, not scaling). Per invocation: throughput, p99,
//! PostgreSQL round trips and WAL bytes; per imported sample: table and
//! WAL bytes. These are the capacity model's inputs (README "Running
//! several hosts"). Needs `HEALTHPLUG_TEST_DATABASE_URL`; says so without.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use healthplug_host::Host;
use healthplug_host::consent::PlatformPolicy;
use healthplug_host::platform::InstallOptions;
use healthplug_host::runtime::{Runtime, RuntimeConfig};
use healthplug_host::vault::{Database, database_round_trips, write_private_file};
use healthplug_tests::pg::{Schema, TEST_DATABASE_ENV};
use healthplug_tests::{DAY_MS, fixture_dir, grant_writes, now_ms};
use serde_json::json;

use crate::measure::{Report, stats};

const USERS: usize = 8;
const SAMPLES_PER_USER: usize = 200;
/// Samples one write invocation imports (the most 64 KiB of arguments carry).
const IMPORTED: i64 = 500;
const READ: &str = r#"{"types":["steps"]}"#;

fn block_on<T>(f: impl std::future::Future<Output = T>) -> anyhow::Result<T> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(f))
}

/// A host over a fresh home on `database`, sharing `key` when given.
fn host(database: &Database, key: Option<&str>) -> anyhow::Result<(tempfile::TempDir, Host)> {
    let home = tempfile::tempdir()?;
    if let Some(key) = key {
        write_private_file(&home.path().join("master.key"), key.as_bytes())?;
    }
    let runtime = Arc::new(Runtime::new(RuntimeConfig::default())?);
    let host = Host::open_shared(home.path(), database, runtime, PlatformPolicy::default())?;
    Ok((home, host))
}

/// Installs the probe and gives each user a day of steps.
fn seed(host: &Host) -> anyhow::Result<()> {
    host.install(&fixture_dir("probe"), InstallOptions::dev())?;
    for u in 0..USERS {
        let user = format!("bench{u}");
        host.ensure_user(&user)?;
        grant_writes(host, &user, "probe", "steps")?;
        let start = now_ms() - DAY_MS;
        let samples: Vec<_> = (0..SAMPLES_PER_USER)
            .map(|i| json!({ "type": "steps", "start": start + i as i64 * 60_000, "end": start + i as i64 * 60_000 + 1, "value": i, "unit": "count" }))
            .collect();
        host.invoke(&user, "probe", "write", &json!({ "samples": samples }).to_string())?;
    }
    Ok(())
}

/// Invocations/s and p99 of the read from 4 threads over `hosts` for 3 s.
fn drive(hosts: &[Arc<Host>]) -> (f64, f64, u64) {
    let stop = Arc::new(AtomicBool::new(false));
    let trips = database_round_trips();
    let started = Instant::now();
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (hosts, stop) = (hosts.to_vec(), stop.clone());
            std::thread::spawn(move || {
                let mut times = Vec::new();
                let mut i = w;
                while !stop.load(Ordering::Relaxed) {
                    let host = &hosts[i % hosts.len()];
                    let t = Instant::now();
                    if host
                        .invoke(&format!("bench{}", i % USERS), "probe", "read", READ)
                        .is_ok()
                    {
                        times.push(t.elapsed().as_nanos() as f64);
                    }
                    i += 1;
                }
                times
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::Relaxed);
    let mut times: Vec<f64> = workers.into_iter().flat_map(|w| w.join().unwrap_or_default()).collect();
    let n = times.len() as u64;
    let rate = n as f64 / started.elapsed().as_secs_f64();
    let s = stats(&mut times);
    (rate, s.p99_ns, (database_round_trips() - trips) / n.max(1))
}

/// B12.
pub fn backends(report: &mut Report) -> anyhow::Result<()> {
    let (_home, sqlite) = host(&Database::Embedded, None)?;
    seed(&sqlite)?;
    let (rate, p99, _) = drive(&[Arc::new(sqlite)]);
    report.add("B12", "SQLite, 1 host: probe reads/s (4 threads)", rate, "inv/s", "");
    report.add("B12", "SQLite, 1 host: p99", p99 / 1e6, "ms", "");
    let Some(base) = std::env::var(TEST_DATABASE_ENV).ok().filter(|u| !u.is_empty()) else {
        report.add(
            "B12",
            "PostgreSQL",
            f64::NAN,
            "",
            format!("skipped: {TEST_DATABASE_ENV} is not set"),
        );
        return Ok(());
    };
    let schema = block_on(Schema::create(&base, "b12"))??;
    let database = Database::Postgres(schema.url.clone());
    let (first_home, first) = host(&database, None)?;
    seed(&first)?;
    let key = std::fs::read_to_string(first_home.path().join("master.key"))?;
    let mut hosts = vec![Arc::new(first)];
    let mut homes = vec![first_home];
    for n in 1..=3 {
        while hosts.len() < n {
            let (home, h) = host(&database, Some(key.trim()))?;
            hosts.push(Arc::new(h));
            homes.push(home);
        }
        // Warm each host's compiled-component cache and consent cache.
        for (i, h) in hosts.iter().enumerate() {
            h.invoke(&format!("bench{i}"), "probe", "read", READ)?;
        }
        let wal = block_on(schema.query_i64("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::BIGINT"))??;
        let (rate, p99, trips) = drive(&hosts);
        let wal_after = block_on(schema.query_i64("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::BIGINT"))??;
        let note = if n == 1 {
            "each: load check, consent, grants, chunks, audit"
        } else {
            "2 cores: overhead, not scaling"
        };
        report.add(
            "B12",
            &format!("PostgreSQL, {n} host(s): probe reads/s (4 threads)"),
            rate,
            "inv/s",
            note,
        );
        report.add("B12", &format!("PostgreSQL, {n} host(s): p99"), p99 / 1e6, "ms", "");
        if n == 1 {
            report.add(
                "B12",
                "PostgreSQL round trips per read invocation",
                trips as f64,
                "trips",
                "client-side count",
            );
            let per = (wal_after - wal) as f64 / (rate * 3.0).max(1.0);
            report.add(
                "B12",
                "PostgreSQL WAL bytes per read invocation",
                per,
                "B",
                "the audit entry and head",
            );
        }
    }
    import_cost(report, &hosts[0], &schema)?;
    chain_rate(report, &hosts)
}

/// Audit appends/s into the one chain from every host at once (8 threads
/// each appending one entry per transaction: the advisory lock's bound,
/// before group commit batches concurrent entries).
fn chain_rate(report: &mut Report, hosts: &[Arc<Host>]) -> anyhow::Result<()> {
    use healthplug_host::vault::{AuditEvent, AuditKind};
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let (host, stop) = (hosts[w % hosts.len()].clone(), stop.clone());
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let event = AuditEvent::new(AuditKind::Access).detail("b12");
                    if host.vault().write(|tx| tx.audit_append(&event)).is_ok() {
                        n += 1;
                    }
                }
                n
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, Ordering::Relaxed);
    let n: u64 = workers.into_iter().map(|w| w.join().unwrap_or(0)).sum();
    let rate = n as f64 / started.elapsed().as_secs_f64();
    let note = format!("{} hosts, one transaction per entry", hosts.len());
    report.add("B12", "PostgreSQL audit chain: appends/s", rate, "entries/s", note);
    let report_ok = hosts[0].vault().verify_audit()?.ok();
    anyhow::ensure!(report_ok, "the chain did not verify after the appends");
    Ok(())
}

/// Table and WAL bytes per imported sample (one write of 500 samples, the
/// most one tool call's 64 KiB of arguments carries).
fn import_cost(report: &mut Report, host: &Host, schema: &Schema) -> anyhow::Result<()> {
    let size = "SELECT pg_total_relation_size('sample_chunks')::BIGINT";
    let wal = "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::BIGINT";
    let (size0, wal0) = (block_on(schema.query_i64(size))??, block_on(schema.query_i64(wal))??);
    let trips = database_round_trips();
    let start = now_ms() - 3 * DAY_MS;
    let samples: Vec<_> = (0..IMPORTED)
        .map(|i| json!({ "type": "steps", "start": start + i * 60_000, "end": start + i * 60_000 + 1, "value": i, "unit": "count" }))
        .collect();
    host.invoke("bench0", "probe", "write", &json!({ "samples": samples }).to_string())?;
    let trips = database_round_trips() - trips;
    let (size1, wal1) = (block_on(schema.query_i64(size))??, block_on(schema.query_i64(wal))??);
    report.add(
        "B12",
        "PostgreSQL table bytes per imported sample",
        (size1 - size0) as f64 / IMPORTED as f64,
        "B",
        "500 samples over 1 day",
    );
    report.add(
        "B12",
        "PostgreSQL WAL bytes per imported sample",
        (wal1 - wal0) as f64 / IMPORTED as f64,
        "B",
        "",
    );
    report.add(
        "B12",
        "PostgreSQL round trips for that write invocation",
        trips as f64,
        "trips",
        "",
    );
    Ok(())
}
