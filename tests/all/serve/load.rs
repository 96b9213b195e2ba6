//! The service under load: many users and sessions at once with hostile
//! plugins mixed in (every benign result exact, no user's canary in
//! another's answer), fairness when one user floods or one plugin is slow
//! (measured, printed), and SIGTERM in the middle of writes (no committed
//! write lost, the audit still verifying, exit 0).

use std::sync::Arc;
use std::time::{Duration, Instant};

use healthplug_host::auth::Scopes;
use healthplug_host::serve::ServeConfig;
use healthplug_tests::serve::{Served, call, call_body, text};
use healthplug_tests::{DAY_MS, TestHome, fixture_dir, grant_writes, now_ms};
use serde_json::{Value, json};

use super::token;

const USERS: usize = 50;
const SESSIONS: usize = 4;

fn canary(user: usize) -> f64 {
    (7_100_000 + user * 101) as f64
}

fn values(result: &Value) -> Vec<f64> {
    let mut out = Vec::new();
    if let Some(samples) = result["samples"].as_array() {
        out.extend(samples.iter().filter_map(|s| s["value"].as_f64()));
    }
    out
}

fn crowd() -> (TestHome, Vec<String>) {
    let home = TestHome::new().unwrap();
    home.install(&fixture_dir("probe")).unwrap();
    for case in ["panic", "grow", "loop"] {
        home.install(&fixture_dir(&format!("hostile/{case}"))).unwrap();
    }
    let mut tokens = Vec::new();
    for u in 0..USERS {
        let user = format!("user{u:02}");
        home.host.ensure_user(&user).unwrap();
        grant_writes(&home.host, &user, "probe", "steps").unwrap();
        for case in ["panic", "grow", "loop"] {
            home.grant(&user, &format!("hostile-{case}"), "steps").unwrap();
        }
        let start = now_ms() - DAY_MS;
        let samples =
            json!([{ "type": "steps", "start": start, "end": start + 1, "value": canary(u), "unit": "count" }]);
        home.host
            .invoke(&user, "probe", "write", &json!({ "samples": samples }).to_string())
            .unwrap();
        tokens.push(token(&home, &user, &Scopes::all()));
    }
    (home, tokens)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_users_four_sessions_each_with_hostile_plugins_get_exact_results() {
    let (home, tokens) = crowd();
    let mut config = ServeConfig::default();
    config.limits.queue_wait_ms = 60_000;
    let served = Arc::new(Served::start(home.path(), config).await.unwrap());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (u, token) in tokens.iter().enumerate() {
        for s in 0..SESSIONS {
            let (served, token) = (served.clone(), token.clone());
            tasks.push(tokio::spawn(async move {
                let client = served.client(&token).await.unwrap();
                let hostile = if (u + s) % 2 == 0 {
                    "hostile-panic.attack"
                } else {
                    "hostile-grow.attack"
                };
                let t = Instant::now();
                let bad = call(&client, hostile, json!({})).await;
                if t.elapsed() > Duration::from_secs(2) || bad.is_err() {
                    eprintln!(
                        "SLOW {hostile} user{u:02}/{s}: {:?} {:?}",
                        t.elapsed(),
                        bad.as_ref().err()
                    );
                }
                let bad = bad.unwrap();
                assert_eq!(bad.is_error, Some(true), "{hostile}: {}", text(&bad));
                let read = call(&client, "probe.read", json!({ "types": ["steps"] }))
                    .await
                    .unwrap();
                assert_eq!(read.is_error, Some(false), "{}", text(&read));
                let got = values(read.structured_content.as_ref().unwrap());
                assert_eq!(got, vec![canary(u)], "user{u:02} session {s}");
                for other in (0..USERS).filter(|o| *o != u) {
                    assert!(
                        !text(&read).contains(&format!("{}", canary(other) as u64)),
                        "a canary crossed users"
                    );
                }
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = started.elapsed();
    println!(
        "{} sessions x 2 calls (half hostile) in {:.2} s: {:.0} calls/s",
        USERS * SESSIONS,
        elapsed.as_secs_f64(),
        (USERS * SESSIONS * 2) as f64 / elapsed.as_secs_f64()
    );
    let report = home.host.verify_audit().unwrap();
    assert!(report.ok(), "the audit log must verify after the load");
    let metrics = served.metrics().await.unwrap();
    let reads = format!(
        "healthplug_tool_calls_total{{plugin=\"probe\",outcome=\"ok\"}} {}",
        USERS * SESSIONS
    );
    assert!(metrics.contains(&reads), "{metrics}");
    assert!(
        metrics.contains("healthplug_tool_calls_total{plugin=\"hostile-panic\",outcome=\"trap\"} 100"),
        "{metrics}"
    );
    assert!(
        metrics.contains("healthplug_limit_hits_total{plugin=\"hostile-grow\",kind=\"memory\"} 100"),
        "{metrics}"
    );
    assert!(
        metrics.contains("healthplug_tool_call_seconds_count{plugin=\"probe\"} 200"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_instance_pool_is_a_clean_tool_error_not_a_hang() {
    let (home, tokens) = crowd();
    let runtime = healthplug_host::runtime::Runtime::new(healthplug_host::runtime::RuntimeConfig {
        pool_slots: 1,
        slot_wait: Duration::from_millis(100),
        ..healthplug_host::runtime::RuntimeConfig::default()
    })
    .unwrap();
    let served = Arc::new(
        Served::start_on(home.path(), ServeConfig::default(), Arc::new(runtime))
            .await
            .unwrap(),
    );
    let slow = json!({ "type": "steps", "iterations": 5, "sleep_ms": 100 });
    let first = {
        let (served, token, slow) = (served.clone(), tokens[0].clone(), slow.clone());
        tokio::spawn(async move {
            let client = served.client(&token).await.unwrap();
            call(&client, "probe.poll", slow).await.unwrap()
        })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    let client = served.client(&tokens[1]).await.unwrap();
    let t = Instant::now();
    let second = call(&client, "probe.read", json!({ "types": ["steps"] }))
        .await
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert_eq!(second.is_error, Some(true));
    assert!(text(&second).contains("busy"), "{}", text(&second));
    assert_eq!(first.await.unwrap().is_error, Some(false));
}

async fn timed_post(served: &Served, token: &str, body: &Value) -> (u16, Duration) {
    let auth = format!("Bearer {token}");
    let t = Instant::now();
    let (status, _, _) = served.post("/mcp", &[("authorization", &auth)], body).await.unwrap();
    (status, t.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_user_and_a_slow_plugin_do_not_starve_the_others() {
    let (home, tokens) = crowd();
    let mut config = ServeConfig::default();
    config.limits.per_user_calls = 2;
    config.limits.per_plugin_calls = 3;
    config.limits.total_calls = 8;
    config.limits.queue_wait_ms = 300;
    let served = Arc::new(Served::start(home.path(), config).await.unwrap());
    // user00 floods with 40 slow calls at once; users 01..10 each run the
    // slow hostile loop twice at once.
    let slow = call_body(
        "probe.poll",
        json!({ "type": "steps", "iterations": 4, "sleep_ms": 100 }),
    );
    let mut flood = Vec::new();
    for _ in 0..40 {
        let (served, token, body) = (served.clone(), tokens[0].clone(), slow.clone());
        flood.push(tokio::spawn(async move { timed_post(&served, &token, &body).await }));
    }
    for token in tokens.iter().take(11).skip(1) {
        for _ in 0..2 {
            let (served, token) = (served.clone(), token.clone());
            flood.push(tokio::spawn(async move {
                timed_post(&served, &token, &call_body("hostile-loop.attack", json!({}))).await
            }));
        }
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    // A quiet user's calls go through while that happens.
    let mut quiet = Vec::new();
    for _ in 0..5 {
        let (status, took) = timed_post(
            &served,
            &tokens[20],
            &call_body("probe.read", json!({ "types": ["steps"] })),
        )
        .await;
        assert_eq!(status, 200, "the quiet user was turned away");
        quiet.push(took);
    }
    let results: Vec<(u16, Duration)> = futures_join(flood).await;
    let turned_away = results[..40].iter().filter(|(s, _)| *s == 429).count();
    let loop_turned_away = results[40..].iter().filter(|(s, _)| *s == 429).count();
    quiet.sort();
    println!(
        "flood: {turned_away}/40 of the flooding user's calls got 429, {loop_turned_away}/20 slow-plugin calls got 429; \
         the quiet user's 5 calls took {:?} (max {:?})",
        quiet,
        quiet.last().unwrap()
    );
    assert!(turned_away > 0, "one user cannot hold more than its share");
    assert!(loop_turned_away > 0, "one plugin cannot hold more than its share");
    assert!(
        *quiet.last().unwrap() < Duration::from_millis(1_500),
        "the quiet user waited behind the flood: {quiet:?}"
    );
    let metrics = served.metrics().await.unwrap();
    assert!(
        metrics.contains("healthplug_turned_away_total{reason=\"crowded-user\"}"),
        "{metrics}"
    );
}

async fn futures_join<T: Send + 'static>(tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}
