//! CPU and time: loops, long copies, fuel, sleeps and waits that never
//! end are all stopped at the deadline (or the fuel budget).

use std::time::Duration;

use healthplug_host::runtime::LimitKind;
use serde_json::json;

use super::{Arena, assert_limit};

/// The default wall time is 1 s; containment must follow it closely.
const WITHIN: Duration = Duration::from_secs(5);

fn timed_out(case: &str) -> anyhow::Result<()> {
    let arena = Arena::new(case)?;
    arena.grant_steps()?;
    let observed = arena.attack("attack", json!({}))?;
    assert_limit(&observed, LimitKind::Timeout);
    assert!(observed.elapsed < WITHIN, "{case} ran {:?}", observed.elapsed);
    arena.contained(&observed, "limit: timeout")
}

#[test]
fn an_infinite_loop_is_stopped_at_the_deadline() -> anyhow::Result<()> {
    timed_out("loop")
}

#[test]
fn a_loop_of_huge_memory_copies_still_meets_the_deadline() -> anyhow::Result<()> {
    timed_out("memcopy")
}

#[test]
fn sleeping_an_hour_is_cut_short_at_the_deadline() -> anyhow::Result<()> {
    timed_out("sleep")
}

#[test]
fn waiting_on_a_pollable_that_never_resolves_ends_at_the_deadline() -> anyhow::Result<()> {
    timed_out("never")
}

#[test]
fn a_fuel_budget_stops_computation_deterministically() -> anyhow::Result<()> {
    let arena = Arena::new("fuel")?;
    arena.grant_steps()?;
    let first = arena.attack("attack", json!({}))?;
    assert_limit(&first, LimitKind::Fuel);
    // Its 10 s wall time would allow far more: the budget, not the clock,
    // stopped it.
    assert!(first.elapsed < WITHIN, "{:?}", first.elapsed);
    arena.contained(&first, "limit: fuel")
}
