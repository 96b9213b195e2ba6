//! Memory, stack and the boundary: allocation bombs, deep recursion (plain
//! and through host calls) and huge values in either direction.

use healthplug_host::runtime::LimitKind;
use serde_json::json;

use super::{Arena, assert_limit};

fn limited(case: &str, limit: LimitKind) -> anyhow::Result<()> {
    let arena = Arena::new(case)?;
    arena.grant_steps()?;
    let observed = arena.attack("attack", json!({}))?;
    assert_limit(&observed, limit);
    arena.contained(&observed, &format!("limit: {}", limit.id()))
}

#[test]
fn a_memory_grow_bomb_hits_the_memory_cap() -> anyhow::Result<()> {
    limited("grow", LimitKind::Memory)
}

#[test]
fn deep_recursion_overflows_the_wasm_stack_not_the_host() -> anyhow::Result<()> {
    limited("recursion", LimitKind::Stack)
}

#[test]
fn overflowing_the_shadow_stack_in_linear_memory_is_a_trap() -> anyhow::Result<()> {
    let arena = Arena::new("shadow-stack")?;
    arena.grant_steps()?;
    let observed = arena.attack("attack", json!({}))?;
    match &observed.failure {
        Some(healthplug_host::runtime::RunFailure::Trap { message }) => {
            assert!(message.contains("out of bounds"), "{message}")
        }
        other => panic!("expected an out-of-bounds trap, got {other:?}"),
    }
    arena.contained(&observed, "trap")
}

#[test]
fn recursion_through_host_calls_overflows_cleanly() -> anyhow::Result<()> {
    limited("host-recursion", LimitKind::Stack)
}

#[test]
fn a_result_over_the_output_cap_is_refused() -> anyhow::Result<()> {
    limited("big-result", LimitKind::Output)
}

#[test]
fn a_huge_result_is_not_even_copied_to_the_host() -> anyhow::Result<()> {
    limited("huge-result", LimitKind::HostcallData)
}

#[test]
fn a_huge_host_call_argument_is_refused() -> anyhow::Result<()> {
    limited("host-argument", LimitKind::HostcallData)
}
