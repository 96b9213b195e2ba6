//! The walls: no files, no environment, no sockets, no network without a
//! grant (and never to private addresses), and only coarse clocks.

use serde_json::{Value, json};

use super::Arena;

fn probe(case: &str) -> anyhow::Result<(Arena, super::Observed, Value)> {
    let arena = Arena::new(case)?;
    arena.grant_steps()?;
    let observed = arena.attack("attack", json!({}))?;
    let out = observed.json()?;
    Ok((arena, observed, out))
}

/// Every probe in `out` (but `skip`) was denied.
fn all_denied(out: &Value, skip: &[&str]) -> anyhow::Result<()> {
    let map = out.as_object().ok_or_else(|| anyhow::anyhow!("not an object: {out}"))?;
    for (probe, outcome) in map {
        if skip.contains(&probe.as_str()) {
            continue;
        }
        let text = outcome.as_str().unwrap_or_default();
        anyhow::ensure!(text.starts_with("denied"), "{probe} reached something: {outcome}");
    }
    Ok(())
}

#[test]
fn files_are_out_of_reach() -> anyhow::Result<()> {
    let (arena, observed, out) = probe("files")?;
    assert_eq!(out["preopens"], json!([]), "{out}");
    all_denied(&out, &["preopens"])?;
    arena.contained(&observed, "ok")
}

#[test]
fn the_environment_arguments_and_directory_are_empty() -> anyhow::Result<()> {
    let (arena, observed, out) = probe("env")?;
    assert_eq!(out["env"], json!([]), "{out}");
    assert_eq!(out["std-env"], json!([]), "{out}");
    assert_eq!(out["args"], json!([]), "{out}");
    assert!(out["cwd"].is_null(), "{out}");
    arena.contained(&observed, "ok")
}

#[test]
fn sockets_and_name_lookups_are_denied() -> anyhow::Result<()> {
    let (arena, observed, out) = probe("sockets")?;
    all_denied(&out, &[])?;
    arena.contained(&observed, "ok")
}

#[test]
fn http_without_a_grant_and_to_private_addresses_is_refused() -> anyhow::Result<()> {
    let (arena, observed, out) = probe("network")?;
    all_denied(&out, &[])?;
    let egress = arena.home.host.audit_log(Some("alice"))?;
    let refused = egress
        .iter()
        .filter(|e| e.event.kind.id() == "egress" && e.event.outcome.as_deref() == Some("refused"))
        .count();
    assert!(refused >= 4, "{refused} refusals audited");
    arena.contained(&observed, "ok")
}

#[test]
fn the_clocks_are_coarse() -> anyhow::Result<()> {
    let (arena, observed, out) = probe("clock")?;
    assert_eq!(out["monotonic-resolution-ns"], 1_000_000, "{out}");
    assert_eq!(out["wall-resolution-ns"], 1_000_000, "{out}");
    assert_eq!(out["wall-nanoseconds"].as_u64().unwrap_or(1) % 1_000_000, 0);
    for t in out["distinct-monotonic"].as_array().cloned().unwrap_or_default() {
        assert_eq!(t.as_u64().unwrap_or(1) % 1_000_000, 0, "a fine-grained reading: {t}");
    }
    arena.contained(&observed, "ok")
}
