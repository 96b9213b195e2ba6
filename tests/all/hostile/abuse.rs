//! Flooding and crashing: host calls, logs, handles, random bytes and
//! storage are budgeted; panics, exits and traps end the invocation and
//! discard its writes, in plugins and connectors alike.

use healthplug_host::HostError;
use healthplug_host::platform::GrantRequest;
use healthplug_host::runtime::{LimitKind, RunFailure};
use healthplug_tests::types_of;
use serde_json::json;

use super::{ALICE_STEPS, Arena, Observed, assert_limit};

fn attacked(case: &str) -> anyhow::Result<(Arena, Observed)> {
    let arena = Arena::new(case)?;
    arena.grant_steps()?;
    let observed = arena.attack("attack", json!({}))?;
    Ok((arena, observed))
}

fn trapped(observed: &Observed, containing: &str) -> anyhow::Result<()> {
    match &observed.failure {
        Some(RunFailure::Trap { message }) => {
            anyhow::ensure!(message.contains(containing), "{message}");
            Ok(())
        }
        other => anyhow::bail!("expected a trap, got {other:?}"),
    }
}

/// Alice's steps in the vault.
fn alice_steps(arena: &Arena) -> anyhow::Result<Vec<f64>> {
    Ok(arena
        .home
        .host
        .records("alice", &types_of("steps"))?
        .iter()
        .filter_map(|r| r.value)
        .collect())
}

#[test]
fn a_million_host_calls_hit_the_host_call_budget() -> anyhow::Result<()> {
    let (arena, observed) = attacked("host-calls")?;
    assert_limit(&observed, LimitKind::HostCalls);
    arena.contained(&observed, "limit: host-calls")
}

#[test]
fn a_log_flood_is_capped_and_stripped_of_escapes() -> anyhow::Result<()> {
    let (arena, observed) = attacked("log-flood")?;
    super::assert_log_capped(&observed)?;
    arena.contained(&observed, "ok")
}

#[test]
fn hoarding_resource_handles_hits_the_table_capacity() -> anyhow::Result<()> {
    let (arena, observed) = attacked("handles")?;
    assert_limit(&observed, LimitKind::Handles);
    arena.contained(&observed, "limit: handles")
}

#[test]
fn asking_for_two_to_the_forty_random_bytes_is_refused() -> anyhow::Result<()> {
    let (arena, observed) = attacked("random")?;
    assert_limit(&observed, LimitKind::Random);
    arena.contained(&observed, "limit: random")
}

#[test]
fn a_panic_is_a_trap_and_its_message_stays_in_the_log() -> anyhow::Result<()> {
    let (arena, observed) = attacked("panic")?;
    trapped(&observed, "unreachable")?;
    arena.contained(&observed, "trap")
}

#[test]
fn exiting_the_process_only_ends_the_invocation() -> anyhow::Result<()> {
    let (arena, observed) = attacked("exit")?;
    // WASI 0.2 exits with success or failure only: 3 becomes 1.
    trapped(&observed, "exited with status 1")?;
    arena.contained(&observed, "trap")
}

#[test]
fn a_trap_in_the_middle_of_writes_commits_none_of_them() -> anyhow::Result<()> {
    let arena = Arena::new("trap-writes")?;
    arena.grant_writes("steps")?;
    let observed = arena.attack("attack", json!({}))?;
    trapped(&observed, "unreachable")?;
    assert_eq!(
        alice_steps(&arena)?,
        vec![ALICE_STEPS],
        "a write of a failed invocation was committed"
    );
    let writes = arena.home.host.audit_log(Some("alice"))?;
    assert!(
        !writes
            .iter()
            .any(|e| e.event.kind.id() == "write" && e.event.plugin.as_deref() == Some("hostile-trap-writes")),
        "a write was audited as committed"
    );
    arena.contained(&observed, "trap")
}

#[test]
fn writing_types_not_granted_or_not_declared_is_refused() -> anyhow::Result<()> {
    let arena = Arena::new("write-ungranted")?;
    arena.grant_writes("steps")?;
    let observed = arena.attack("attack", json!({}))?;
    let out = observed.json()?;
    let writes = out["writes"].as_array().cloned().unwrap_or_default();
    assert_eq!(writes[0]["result"]["accepted"], 1, "{out}");
    for refused in &writes[1..] {
        let error = refused["result"]["error"].as_str().unwrap_or_default();
        assert!(error.contains("not"), "{refused}");
    }
    let heart = arena.home.host.records("alice", &types_of("heart-rate"))?;
    assert!(heart.iter().all(|r| r.value == Some(61.0)), "heart rate was written");
    let mass = arena.home.host.records("alice", &types_of("body-mass"))?;
    assert_eq!(mass.len(), 1, "body mass was written");
    arena.contained(&observed, "ok")
}

#[test]
fn a_storage_flood_stops_at_the_quota() -> anyhow::Result<()> {
    let arena = Arena::new("storage-flood")?;
    arena.grant(
        "steps",
        GrantRequest {
            storage: true,
            ..GrantRequest::default()
        },
    )?;
    let observed = arena.attack("attack", json!({}))?;
    let out = observed.json()?;
    let stored = out["stored"].as_u64().unwrap_or(u64::MAX);
    assert!(stored * 4096 <= 65_536, "{out}");
    assert!(out["refused"].as_str().is_some_and(|r| r.contains("quota")), "{out}");
    arena.contained(&observed, "ok")
}

fn import(arena: &Arena) -> anyhow::Result<Result<healthplug_host::platform::ImportReport, HostError>> {
    arena.grant_writes("steps")?;
    let file = arena.home.path().join("input.txt");
    std::fs::write(&file, "anything\n")?;
    Ok(arena.home.host.import("alice", &arena.plugin, &file, &json!({})))
}

#[test]
fn a_connector_crashing_mid_import_commits_nothing() -> anyhow::Result<()> {
    let arena = Arena::new("connector-crash")?;
    let started = std::time::Instant::now();
    let failure = match import(&arena)? {
        Err(HostError::Plugin { failure, .. }) => failure,
        other => anyhow::bail!("expected a contained failure, got {other:?}"),
    };
    assert!(matches!(failure, RunFailure::Trap { .. }), "{failure:?}");
    assert_eq!(
        alice_steps(&arena)?,
        vec![ALICE_STEPS],
        "samples of a crashed import were committed"
    );
    let observed = Observed {
        outcome: None,
        text: format!("{failure:?}"),
        failure: Some(failure),
        elapsed: started.elapsed(),
    };
    arena.contained(&observed, "trap")
}

#[test]
fn a_connector_writing_an_undeclared_type_is_refused_that_write() -> anyhow::Result<()> {
    let arena = Arena::new("connector-undeclared")?;
    let started = std::time::Instant::now();
    let report = import(&arena)?.map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!(report.total_imported, 1, "{report:?}");
    assert_eq!(alice_steps(&arena)?.len(), 2);
    let heart = arena.home.host.records("alice", &types_of("heart-rate"))?;
    assert!(
        heart.iter().all(|r| r.value == Some(61.0)),
        "the undeclared write landed"
    );
    let denials = arena.home.host.audit_log(Some("alice"))?;
    assert!(denials.iter().any(|e| e.event.kind.id() == "denial"
        && e.event.plugin.as_deref() == Some("hostile-connector-undeclared")
        && e.event.data_type.as_deref() == Some("heart-rate")));
    let observed = Observed {
        outcome: None,
        text: format!("{report:?}"),
        failure: None,
        elapsed: started.elapsed(),
    };
    arena.contained(&observed, "ok")
}
