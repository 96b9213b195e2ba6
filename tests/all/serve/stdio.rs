//! The real processes: `healthplug mcp` over stdio driven by the Rust SDK's
//! child-process transport, and `healthplug serve` stopped by SIGTERM in
//! the middle of writes.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use healthplug_host::auth::Scopes;
use healthplug_tests::serve::{Served, call, free_port, healthplug_bin, text};
use healthplug_tests::{TestHome, fixture_dir, grant_writes, now_ms};
use rmcp::ServiceExt;
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};

use super::{ALICE_STEPS, World, token};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_serves_one_user_from_the_environment() {
    let world = World::new();
    let mut command = tokio::process::Command::new(healthplug_bin().unwrap());
    command
        .arg("--home")
        .arg(world.home.path())
        .arg("mcp")
        .env("HEALTHPLUG_TOKEN", &world.alice)
        .env_remove("HEALTHPLUG_USER")
        .stderr(Stdio::null());
    let client = ().serve(TokioChildProcess::new(command).unwrap()).await.unwrap();
    let tools = client.list_all_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "conformance.steps-total"));
    let total = call(&client, "conformance.steps-total", json!({"days": 3}))
        .await
        .unwrap();
    assert_eq!(total.structured_content.unwrap()["steps"], json!(ALICE_STEPS));
    let refused = call(&client, "conformance.heart-rate-peak", json!({})).await.unwrap();
    assert_eq!(refused.is_error, Some(true));
    assert!(text(&refused).contains("may not read heart-rate"));
    client.cancel().await.unwrap();

    // A token of bob's with --user alice is refused outright.
    let out = std::process::Command::new(healthplug_bin().unwrap())
        .arg("--home")
        .arg(world.home.path())
        .args(["mcp", "--user", "alice"])
        .env("HEALTHPLUG_TOKEN", &world.bob)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("another user"));
}

async fn wait_ready(base: &str) {
    for _ in 0..200 {
        if reqwest::get(format!("{base}/readyz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not become ready");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_writes_loses_no_committed_write() {
    let home = TestHome::new().unwrap();
    home.install(&fixture_dir("probe")).unwrap();
    home.host.ensure_user("alice").unwrap();
    grant_writes(&home.host, "alice", "probe", "steps").unwrap();
    let secret = token(&home, "alice", &Scopes::all());
    let port = free_port().unwrap();
    let mut child = tokio::process::Command::new(healthplug_bin().unwrap())
        .arg("--home")
        .arg(home.path())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base).await;
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..6u64 {
        let (base, secret, stop) = (base.clone(), secret.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut committed = Vec::new();
            let Ok(client) = Served::connect(&format!("{base}/mcp"), Some(&secret)).await else {
                return committed;
            };
            for i in 0..10_000u64 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let value = (w * 100_000 + i) as f64;
                let start = now_ms() - 3_600_000;
                let samples =
                    json!([{ "type": "steps", "start": start, "end": start + 1, "value": value, "unit": "count" }]);
                let args = json!({ "samples": samples, "then": "sleep", "sleep_ms": 20 });
                match call(&client, "probe.write", args).await {
                    Ok(r) if r.is_error == Some(false) && text(&r).contains("\"accepted\":1") => committed.push(value),
                    _ => break,
                }
            }
            committed
        }));
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let pid = child.id().unwrap();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .unwrap()
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    assert!(status.success(), "serve exits 0 after SIGTERM: {status:?}");
    let mut acknowledged = Vec::new();
    for w in writers {
        acknowledged.extend(w.await.unwrap());
    }
    assert!(acknowledged.len() > 6, "the load ran: {}", acknowledged.len());
    let (read, _) = home
        .invoke_json("alice", "probe", "read", json!({ "types": ["steps"], "pages": true }))
        .unwrap();
    let stored = collect_values(&read);
    for v in &acknowledged {
        assert!(stored.contains(v), "an acknowledged write ({v}) was lost");
    }
    println!(
        "{} acknowledged writes, {} stored after SIGTERM",
        acknowledged.len(),
        stored.len()
    );
    assert!(home.host.verify_audit().unwrap().ok());
}

fn collect_values(v: &Value) -> Vec<f64> {
    let mut out = Vec::new();
    match v {
        Value::Object(map) => {
            if let (Some(Value::String(t)), Some(Value::Number(n))) = (map.get("type"), map.get("value"))
                && t == "steps"
                && let Some(f) = n.as_f64()
            {
                out.push(f);
            }
            for child in map.values() {
                out.extend(collect_values(child));
            }
        }
        Value::Array(items) => items.iter().for_each(|i| out.extend(collect_values(i))),
        _ => {}
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_carry_no_health_value_no_token_and_no_handle_even_at_trace() {
    let home = TestHome::new().unwrap();
    home.install(&fixture_dir("probe")).unwrap();
    home.host.ensure_user("zelda-canary").unwrap();
    grant_writes(&home.host, "zelda-canary", "probe", "steps").unwrap();
    let secret = token(&home, "zelda-canary", &Scopes::all());
    let port = free_port().unwrap();
    let log = home.path().join("serve.log");
    let mut child = tokio::process::Command::new(healthplug_bin().unwrap())
        .arg("--home")
        .arg(home.path())
        .args(["serve", "--log-json", "--listen", &format!("127.0.0.1:{port}")])
        .env("HEALTHPLUG_LOG", "trace")
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base).await;
    let client = Served::connect(&format!("{base}/mcp"), Some(&secret)).await.unwrap();
    let start = now_ms() - 3_600_000;
    let samples = json!([{ "type": "steps", "start": start, "end": start + 1, "value": 9_876_543.25, "unit": "count", "notes": "secret-note-canary" }]);
    let wrote = call(&client, "probe.write", json!({ "samples": samples }))
        .await
        .unwrap();
    assert_eq!(wrote.is_error, Some(false), "{}", text(&wrote));
    let read = call(&client, "probe.read", json!({ "types": ["steps"] }))
        .await
        .unwrap();
    assert!(
        text(&read).contains("9876543.25"),
        "the canary round-trips: {}",
        text(&read)
    );
    let _ = call(&client, "probe.read", json!({ "types": ["heart-rate"] })).await;
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().unwrap().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().await.unwrap().success());
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("tool call"), "the calls are logged: {logged}");
    for secret_text in [
        "9876543",
        "secret-note-canary",
        secret.as_str(),
        &secret[3..],
        "zelda-canary",
        "Bearer",
    ] {
        assert!(!logged.contains(secret_text), "the log carries `{secret_text}`");
    }
}
