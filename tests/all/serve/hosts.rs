//! Three `healthplug serve` processes on one PostgreSQL database behave
//! as one platform: 50 users driven round-robin through MCP with hostile
//! plugins mixed in (every benign result exact, no user's canary in
//! another's answer); a revoke made through another host process refused
//! on the others within the documented bound; one host SIGKILLed in the
//! middle of writes (no acknowledged write lost, nothing staged visible);
//! PostgreSQL restarted under load (calls fail cleanly, then succeed
//! again with no host restarted); the audit chain and every host's anchor
//! verify after all of it. Skipped, saying so, without
//! `HEALTHPLUG_TEST_DATABASE_URL`.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use healthplug_host::Host;
use healthplug_host::auth::Scopes;
use healthplug_host::consent::PlatformPolicy;
use healthplug_host::platform::{GrantRequest, InstallOptions};
use healthplug_host::vault::{CONSENT_STALENESS_BOUND, Database, MASTER_KEY_ENV, write_private_file};
use healthplug_tests::pg::{Schema, restart_postgres, test_database};
use healthplug_tests::serve::{Served, call, free_port, healthplug_bin, text};
use healthplug_tests::{DAY_MS, fixture_dir, grant_writes, now_ms, shared_runtime, types_of};
use serde_json::{Value, json};
use tokio::process::Child;

const USERS: usize = 50;
const HOSTS: usize = 3;

fn canary(user: usize) -> f64 {
    (8_200_000 + user * 101) as f64
}

fn user(u: usize) -> String {
    format!("user{u:02}")
}

fn steps(result: &Value) -> Vec<f64> {
    let mut out = Vec::new();
    match result {
        Value::Object(map) => {
            if map.get("type").and_then(Value::as_str) == Some("steps")
                && let Some(v) = map.get("value").and_then(Value::as_f64)
            {
                out.push(v);
            }
            map.values().for_each(|c| out.extend(steps(c)));
        }
        Value::Array(items) => items.iter().for_each(|c| out.extend(steps(c))),
        _ => {}
    }
    out
}

/// The platform's own host (installs, users, grants, tokens) on `url`.
fn admin(home: &Path, url: &str) -> anyhow::Result<(Host, Vec<String>)> {
    let host = Host::open_shared(
        home,
        &Database::Postgres(url.into()),
        shared_runtime(),
        PlatformPolicy::default(),
    )?;
    host.install(&fixture_dir("probe"), InstallOptions::dev())?;
    for case in ["panic", "grow"] {
        host.install(&fixture_dir(&format!("hostile/{case}")), InstallOptions::dev())?;
    }
    let mut tokens = Vec::new();
    for u in 0..USERS {
        host.ensure_user(&user(u))?;
        grant_writes(&host, &user(u), "probe", "steps")?;
        for case in ["panic", "grow"] {
            let req = GrantRequest {
                types: types_of("steps"),
                ..Default::default()
            };
            host.grant(&user(u), &format!("hostile-{case}"), &req)?;
        }
        let start = now_ms() - DAY_MS;
        let samples =
            json!([{ "type": "steps", "start": start, "end": start + 1, "value": canary(u), "unit": "count" }]);
        host.invoke(&user(u), "probe", "write", &json!({ "samples": samples }).to_string())?;
        let (_, secret) =
            host.create_token(&user(u), Some(Duration::from_secs(3600)), &Scopes::all(), Some("hosts"))?;
        tokens.push(secret);
    }
    Ok((host, tokens))
}

/// One `healthplug serve` process on the shared database.
struct Process {
    child: Child,
    base: String,
    home: tempfile::TempDir,
}

async fn start(url: &str, master_key: &str) -> Process {
    let home = tempfile::tempdir().unwrap();
    let port = free_port().unwrap();
    let child = tokio::process::Command::new(healthplug_bin().unwrap())
        .arg("--home")
        .arg(home.path())
        .args(["--database", url, "serve", "--listen", &format!("127.0.0.1:{port}")])
        .env(MASTER_KEY_ENV, master_key)
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..400 {
        if reqwest::get(format!("{base}/readyz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Process { child, base, home };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("host {base} did not become ready");
}

async fn read_steps(base: &str, token: &str) -> anyhow::Result<Result<Vec<f64>, String>> {
    let client = Served::connect(&format!("{base}/mcp"), Some(token)).await?;
    let read = call(&client, "probe.read", json!({ "types": ["steps"], "pages": true })).await?;
    let _ = client.cancel().await;
    if read.is_error == Some(true) {
        return Ok(Err(text(&read)));
    }
    Ok(Ok(steps(read.structured_content.as_ref().unwrap_or(&Value::Null))))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hosts_on_one_database_behave_as_one_platform() {
    let Some(base_url) = test_database("three hosts on one database") else {
        return;
    };
    let schema = Schema::create(&base_url, "fleet").await.unwrap();
    let admin_home = tempfile::tempdir().unwrap();
    let (url, home_path) = (schema.url.clone(), admin_home.path().to_path_buf());
    let (admin, tokens) = tokio::task::spawn_blocking(move || admin(&home_path, &url))
        .await
        .unwrap()
        .unwrap();
    let admin = Arc::new(admin);
    let master_key = std::fs::read_to_string(admin_home.path().join("master.key")).unwrap();
    let mut hosts = Vec::new();
    for _ in 0..HOSTS {
        hosts.push(start(&schema.url, master_key.trim()).await);
    }
    let bases: Vec<String> = hosts.iter().map(|h| h.base.clone()).collect();
    let tokens = Arc::new(tokens);
    warm(&bases, &tokens).await;

    round_robin_with_hostiles(&bases, &tokens).await;
    revoke_through_another_process(&bases, &tokens, &schema.url, admin_home.path(), master_key.trim()).await;
    sigkill_mid_writes(&mut hosts, &tokens, &admin, &schema).await;
    postgres_restart_under_load(&bases[..2], &tokens).await;

    // The chain verifies, and so does the anchor of every host that wrote.
    let report = admin.verify_audit().unwrap();
    assert!(report.ok(), "{report:?}");
    for h in &hosts {
        // The processes had the key in their environment; the in-process
        // check reads it from the home, as a host may.
        write_private_file(&h.home.path().join("master.key"), master_key.trim().as_bytes()).unwrap();
        let database = Database::Postgres(schema.url.clone());
        let host = Host::open_shared(h.home.path(), &database, shared_runtime(), PlatformPolicy::default());
        let report = host.unwrap().verify_audit().unwrap();
        assert!(report.ok(), "host {}: {report:?}", h.base);
    }
    println!(
        "audit: {} entries, one chain, every host's anchor inside it",
        report.entries
    );
}

/// Each host compiles every plugin into its own cache on first use: one
/// call of each first, so the load below measures serving, not compiling.
async fn warm(bases: &[String], tokens: &Arc<Vec<String>>) {
    let started = Instant::now();
    for base in bases {
        let client = Served::connect(&format!("{base}/mcp"), Some(&tokens[0])).await.unwrap();
        for tool in ["hostile-panic.attack", "hostile-grow.attack", "probe.read"] {
            call(&client, tool, json!({ "types": ["steps"] })).await.unwrap();
        }
        let _ = client.cancel().await;
    }
    println!(
        "{} hosts compiled 3 plugins each into their own caches in {:?}",
        bases.len(),
        started.elapsed()
    );
}

/// 50 users, each on host `u % 3`: a hostile call fails, the benign read
/// returns exactly that user's canary and nobody else's.
async fn round_robin_with_hostiles(bases: &[String], tokens: &Arc<Vec<String>>) {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for u in 0..USERS {
        let (base, tokens) = (bases[u % bases.len()].clone(), tokens.clone());
        tasks.push(tokio::spawn(async move {
            let client = Served::connect(&format!("{base}/mcp"), Some(&tokens[u])).await.unwrap();
            let hostile = if u % 2 == 0 {
                "hostile-panic.attack"
            } else {
                "hostile-grow.attack"
            };
            let bad = call(&client, hostile, json!({})).await.unwrap();
            assert_eq!(bad.is_error, Some(true), "{hostile}: {}", text(&bad));
            let read = call(&client, "probe.read", json!({ "types": ["steps"] }))
                .await
                .unwrap();
            assert_eq!(read.is_error, Some(false), "{}", text(&read));
            assert_eq!(
                steps(read.structured_content.as_ref().unwrap()),
                vec![canary(u)],
                "{}",
                user(u)
            );
            for other in (0..USERS).filter(|o| *o != u) {
                assert!(
                    !text(&read).contains(&format!("{}", canary(other) as u64)),
                    "a canary crossed users"
                );
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    println!(
        "{USERS} users over {} hosts, hostile calls mixed in: {:?}",
        bases.len(),
        started.elapsed()
    );
}

/// user00 reads through hosts 1 and 2 (their caches hold the version);
/// a `healthplug consent revoke` process (a host of its own) revokes; both
/// hosts refuse within the documented bound.
async fn revoke_through_another_process(
    bases: &[String],
    tokens: &Arc<Vec<String>>,
    url: &str,
    home: &Path,
    key: &str,
) {
    for base in &bases[1..] {
        assert!(read_steps(base, &tokens[0]).await.unwrap().is_ok());
    }
    let revoked = tokio::process::Command::new(healthplug_bin().unwrap())
        .arg("--home")
        .arg(home)
        .args(["--database", url, "consent", "revoke", &user(0), "probe"])
        .env(MASTER_KEY_ENV, key)
        .output()
        .await
        .unwrap();
    assert!(revoked.status.success(), "{}", String::from_utf8_lossy(&revoked.stderr));
    let at = Instant::now();
    for base in &bases[1..] {
        loop {
            match read_steps(base, &tokens[0]).await.unwrap() {
                Err(refusal) => {
                    assert!(
                        ["revoked", "consent", "granted it nothing"]
                            .iter()
                            .any(|w| refusal.contains(w)),
                        "{refusal}"
                    );
                    break;
                }
                Ok(values) => {
                    assert!(
                        at.elapsed() < CONSENT_STALENESS_BOUND,
                        "{base} still served {values:?} after the revoke"
                    );
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        }
    }
    println!(
        "the revoke bit on the other hosts after {:?} (bound {CONSENT_STALENESS_BOUND:?})",
        at.elapsed()
    );
}

/// Writers on host 2; host 2 is SIGKILLed mid-writes. Every acknowledged
/// write is stored, nothing that was never written appears, the other
/// hosts keep serving.
async fn sigkill_mid_writes(hosts: &mut [Process], tokens: &Arc<Vec<String>>, admin: &Arc<Host>, schema: &Schema) {
    let base = hosts[2].base.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 1..5usize {
        let (base, tokens, stop) = (base.clone(), tokens.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let (mut acked, mut tried) = (Vec::new(), Vec::new());
            let Ok(client) = Served::connect(&format!("{base}/mcp"), Some(&tokens[w])).await else {
                return (acked, tried);
            };
            for i in 0..10_000usize {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let value = (9_000_000 + w * 100_000 + i) as f64;
                let start = now_ms() - 3_600_000 + i as i64;
                let samples =
                    json!([{ "type": "steps", "start": start, "end": start + 1, "value": value, "unit": "count" }]);
                tried.push(value);
                let args = json!({ "samples": samples, "then": "sleep", "sleep_ms": 20 });
                match call(&client, "probe.write", args).await {
                    Ok(r) if r.is_error == Some(false) && text(&r).contains("\"accepted\":1") => acked.push(value),
                    _ => break,
                }
            }
            (acked, tried)
        }));
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    hosts[2].child.start_kill().unwrap();
    let _ = hosts[2].child.wait().await;
    stop.store(true, Ordering::Relaxed);
    let staged = schema.query_i64("SELECT COUNT(*) FROM staged_chunks").await.unwrap();
    let mut acked_total = 0;
    for (w, writer) in writers.into_iter().enumerate() {
        let (acked, tried) = writer.await.unwrap();
        acked_total += acked.len();
        let admin = admin.clone();
        let (_, stored) = tokio::task::spawn_blocking(move || {
            let out = admin.invoke(
                &user(w + 1),
                "probe",
                "read",
                &json!({ "types": ["steps"], "pages": true }).to_string(),
            );
            let text = out.unwrap().result.unwrap();
            ((), steps(&serde_json::from_str(&text).unwrap()))
        })
        .await
        .unwrap();
        for v in &acked {
            assert!(
                stored.contains(v),
                "an acknowledged write ({v}) was lost with the killed host"
            );
        }
        for v in stored.iter().filter(|v| **v != canary(w + 1)) {
            assert!(tried.contains(v), "a value nobody wrote appeared: {v}");
        }
    }
    assert!(acked_total > 4, "the load ran: {acked_total} writes acknowledged");
    // The survivors serve the same users.
    assert!(read_steps(&hosts[0].base, &tokens[1]).await.unwrap().is_ok());
    println!("SIGKILL mid-writes: {acked_total} acknowledged writes kept, {staged} staged rows left invisible");
}

/// Reads keep going on hosts 0 and 1 while PostgreSQL restarts: calls
/// during the restart fail cleanly (an error, not a hang), and succeed
/// again afterwards with no host restarted.
async fn postgres_restart_under_load(bases: &[String], tokens: &Arc<Vec<String>>) {
    let stop = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for (i, base) in bases.iter().enumerate() {
        let (base, tokens, stop) = (base.clone(), tokens.clone(), stop.clone());
        readers.push(tokio::spawn(async move {
            let (mut ok, mut failed, mut slowest) = (0, 0, Duration::ZERO);
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let u = 10 + i;
                match tokio::time::timeout(Duration::from_secs(30), read_steps(&base, &tokens[u])).await {
                    Ok(Ok(Ok(values))) => {
                        assert_eq!(values, vec![canary(u)]);
                        ok += 1;
                    }
                    Ok(_) => failed += 1,
                    Err(_) => panic!("a call hung for 30 s while PostgreSQL restarted"),
                }
                slowest = slowest.max(t.elapsed());
            }
            (ok, failed, slowest)
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    tokio::task::spawn_blocking(restart_postgres).await.unwrap().unwrap();
    let back = Instant::now();
    'recover: for base in bases {
        while back.elapsed() < Duration::from_secs(30) {
            if matches!(read_steps(base, &tokens[20]).await, Ok(Ok(_))) {
                continue 'recover;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{base} did not recover within 30 s of PostgreSQL's restart");
    }
    let recovered = back.elapsed();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        let (ok, failed, slowest) = r.await.unwrap();
        println!(
            "PostgreSQL restart: {ok} reads ok, {failed} failed cleanly, slowest {slowest:?}, all hosts serving again {recovered:?} after"
        );
    }
}
