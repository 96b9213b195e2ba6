//! Load with hostiles: 250 invocations at once for 50 users, one in five
//! from a hostile plugin. Every benign result is exactly its user's data,
//! every hostile invocation is contained with its expected failure, and no
//! user's canary appears in anything produced for another user.

use std::sync::{Arc, Barrier};
use std::time::Instant;

use healthplug_host::HostError;
use healthplug_host::consent::{Fields, PlatformPolicy};
use healthplug_host::platform::GrantRequest;
use healthplug_host::runtime::{LimitKind, RunFailure, Runtime, RuntimeConfig};
use healthplug_host::vault::NewSample;
use healthplug_tests::{DAY_MS, TestHome, fixture_dir, now_ms, ty, types_of};
use serde_json::{Value, json};

const USERS: usize = 50;
const BENIGN_PER_USER: usize = 4;

/// The hostile plugins mixed in, with the failure each must end in
/// (`None`: it finishes, having found nothing).
const HOSTILES: [(&str, &str, Option<&str>); 6] = [
    ("loop", "attack", Some("limit: timeout")),
    ("grow", "attack", Some("limit: memory")),
    ("panic", "attack", Some("trap")),
    ("big-result", "attack", Some("limit: output")),
    ("host-calls", "attack", Some("limit: host-calls")),
    ("slot-scan", "scan", None),
];

fn note(user: usize) -> String {
    format!("CANARY-USER-{user:02}-Q")
}

fn value(user: usize) -> f64 {
    10_000.0 + user as f64
}

fn masked(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{:02x}", b ^ 0x5a)).collect()
}

/// One invocation's job and what it produced.
struct Job {
    user: usize,
    plugin: String,
    tool: String,
    args: Value,
    expect: Option<&'static str>,
}

fn setup() -> anyhow::Result<TestHome> {
    let runtime = Arc::new(Runtime::new(RuntimeConfig {
        pool_slots: 300,
        ..RuntimeConfig::default()
    })?);
    let home = TestHome::with_runtime(runtime, PlatformPolicy::default())?;
    home.install(&fixture_dir("probe"))?;
    for (case, _, _) in HOSTILES {
        home.install(&fixture_dir(&format!("hostile/{case}")))?;
    }
    let t = now_ms() - DAY_MS;
    for user in 0..USERS {
        let name = format!("user{user:02}");
        let mut sample = NewSample::quantity(ty("steps"), t, t + 60_000, value(user));
        sample.notes = Some(note(user));
        home.host.store_samples(&name, "test", &[sample])?;
        let all = GrantRequest {
            types: types_of("steps"),
            fields: Some(Fields::ALL),
            ..GrantRequest::default()
        };
        home.grant_with(&name, "probe", all.clone())?;
        home.grant_with(&name, "hostile-slot-scan", all)?;
        for (case, _, _) in HOSTILES.iter().filter(|(case, _, _)| *case != "slot-scan") {
            home.grant(&name, &format!("hostile-{case}"), "steps")?;
        }
    }
    Ok(home)
}

fn jobs() -> Vec<Job> {
    let others: Vec<String> = (0..USERS).map(|u| masked(note(u).as_bytes())).collect();
    let mut jobs = Vec::new();
    for user in 0..USERS {
        for _ in 0..BENIGN_PER_USER {
            jobs.push(Job {
                user,
                plugin: "probe".into(),
                tool: "read".into(),
                args: json!({ "types": ["steps"] }),
                expect: None,
            });
        }
        let (case, tool, expect) = HOSTILES[user % HOSTILES.len()];
        let needles: Vec<&String> = others
            .iter()
            .enumerate()
            .filter(|(u, _)| *u != user)
            .map(|(_, n)| n)
            .collect();
        jobs.push(Job {
            user,
            plugin: format!("hostile-{case}"),
            tool: tool.into(),
            args: json!({ "needles": needles }),
            expect,
        });
    }
    jobs
}

fn check(job: &Job, result: Result<healthplug_host::platform::InvokeOutcome, HostError>) -> anyhow::Result<String> {
    let text = match (&result, job.expect) {
        (Ok(outcome), None) => {
            let out: Value = serde_json::from_str(outcome.result.as_deref().map_err(|f| anyhow::anyhow!("{f:?}"))?)?;
            if job.plugin == "probe" {
                assert_eq!(out["count"], 1, "{out}");
                assert_eq!(out["samples"][0]["value"], value(job.user), "{out}");
                assert_eq!(out["samples"][0]["notes"], note(job.user), "{out}");
            } else {
                assert_eq!(out["found"], json!([]), "another user's data in a reused slot: {out}");
            }
            serde_json::to_string(outcome)?
        }
        (Err(HostError::Plugin { failure, .. }), Some(expected)) => {
            // Under load a hostile plugin may run out of wall time before
            // it reaches its own limit: contained either way.
            let timed_out = matches!(
                failure,
                RunFailure::Limit {
                    limit: LimitKind::Timeout,
                    ..
                }
            );
            assert!(
                failure.audit_outcome() == expected || timed_out,
                "{}: {failure:?}",
                job.plugin
            );
            format!("{failure:?}")
        }
        _ => anyhow::bail!("{} for user {}: unexpected {result:?}", job.plugin, job.user),
    };
    Ok(text)
}

#[test]
fn two_hundred_and_fifty_concurrent_invocations_with_hostiles_mixed_in() -> anyhow::Result<()> {
    let home = Arc::new(setup()?);
    let jobs = jobs();
    let count = jobs.len();
    let barrier = Arc::new(Barrier::new(count));
    let started = Instant::now();
    let handles: Vec<_> = jobs
        .into_iter()
        .map(|job| {
            let home = home.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || -> anyhow::Result<(Job, String)> {
                barrier.wait();
                let user = format!("user{:02}", job.user);
                let result = home.host.invoke(&user, &job.plugin, &job.tool, &job.args.to_string());
                let text = check(&job, result)?;
                Ok((job, text))
            })
        })
        .collect();
    let mut finished = Vec::new();
    for handle in handles {
        finished.push(handle.join().map_err(|_| anyhow::anyhow!("a worker panicked"))??);
    }
    let elapsed = started.elapsed();
    // No user's canary in anything produced for another.
    for (job, text) in &finished {
        for other in (0..USERS).filter(|u| *u != job.user) {
            assert!(
                !text.contains(&note(other)),
                "user {other}'s note reached user {}",
                job.user
            );
        }
    }
    let invocations = home
        .host
        .audit_log(None)?
        .iter()
        .filter(|e| e.event.kind.id() == "invoke")
        .count();
    assert_eq!(invocations, count);
    assert!(home.host.verify_audit()?.ok());
    println!(
        "| load: {count} concurrent invocations, {USERS} users, {} hostile | all contained, no cross-user canary | {:.0} ms ({:.0}/s) |",
        USERS,
        elapsed.as_secs_f64() * 1e3,
        count as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}

#[test]
fn a_full_pool_answers_busy_instead_of_failing_or_queueing_forever() -> anyhow::Result<()> {
    let runtime = Arc::new(Runtime::new(RuntimeConfig {
        pool_slots: 1,
        slot_wait: std::time::Duration::from_millis(100),
        ..RuntimeConfig::default()
    })?);
    let home = Arc::new(TestHome::with_runtime(runtime, PlatformPolicy::default())?);
    home.install(&fixture_dir("probe"))?;
    home.install(&fixture_dir("hostile/loop"))?;
    home.grant("alice", "probe", "steps")?;
    home.grant("alice", "hostile-loop", "steps")?;
    let looping = {
        let home = home.clone();
        std::thread::spawn(move || home.host.invoke("alice", "hostile-loop", "attack", "{}"))
    };
    // Wait until the loop holds the only slot.
    let started = Instant::now();
    let busy = loop {
        match home.host.invoke("alice", "probe", "read", r#"{"types":["steps"]}"#) {
            Err(HostError::Plugin {
                failure: RunFailure::Busy { detail },
                ..
            }) => break detail,
            _ if started.elapsed() > std::time::Duration::from_secs(5) => anyhow::bail!("never busy"),
            _ => std::thread::sleep(std::time::Duration::from_millis(5)),
        }
    };
    assert!(busy.contains("1 instance slots"), "{busy}");
    let looped = looping
        .join()
        .map_err(|_| anyhow::anyhow!("the loop thread panicked"))?;
    assert!(matches!(
        looped,
        Err(HostError::Plugin {
            failure: RunFailure::Limit { .. },
            ..
        })
    ));
    // The slot is free again.
    let (out, _) = home.invoke_json("alice", "probe", "read", json!({ "types": ["steps"] }))?;
    assert_eq!(out["ok"], true);
    let audit = home.host.audit_log(Some("alice"))?;
    assert!(audit.iter().any(|e| e.event.outcome.as_deref() == Some("busy")));
    Ok(())
}
