//! The README's step-streak plugin (section 2) and its tests (section 5),
//! run natively against the mock: if this file changes, change the README.
#![cfg(all(feature = "testing", not(target_arch = "wasm32")))]

// ---- sdk/README.md, section 2: src/lib.rs ----

use healthplug_sdk::serde_json::{Value, json};
use healthplug_sdk::{Args, DataType, Error, Plugin, Timestamp, Tool, ToolError, export_plugin, health, info};

struct StepStreak;

impl Plugin for StepStreak {
    fn tools() -> Vec<Tool> {
        vec![
            Tool::new("streak", "Days in a row with at least `goal` steps", streak).param(
                "goal",
                "integer",
                "Daily step goal (default 8000)",
            ),
        ]
    }
}

fn streak(args: &Args) -> Result<Value, ToolError> {
    let goal = args.u32_in("goal", 8000, 1, 100_000)?;
    // Daily sums computed by the host, for the last 30 days.
    let days = match health::aggregate([DataType::Steps]).daily().last_days(30).fetch() {
        Ok(days) => days,
        Err(Error::NotGranted { reason, .. }) => {
            return Ok(json!({ "error": format!("steps not granted ({})", reason.id()) }));
        }
        Err(e) => return Err(e.into()),
    };
    // Count back from yesterday: today is not over yet.
    let today = Timestamp::now().start_of_day();
    let full_days: Vec<_> = days.iter().filter(|d| d.bucket_start < today).collect();
    let mut streak = 0;
    for day in full_days.iter().rev() {
        if day.sum < f64::from(goal) {
            break;
        }
        streak += 1;
    }
    info!("streak of {streak} days at {goal} steps");
    Ok(json!({ "goal": goal, "streak_days": streak }))
}

export_plugin!(StepStreak);

// ---- sdk/README.md, section 5: the tests ----

mod tests {
    use super::*;
    use healthplug_sdk::testing::{self, MockHealth};
    use healthplug_sdk::{DenialReason, Fields, Granularity, NewSample};

    const HOUR: i64 = 3_600_000;

    /// `count` steps walked from 09:00 to 10:00 UTC, `days_ago` days before
    /// the mock's clock (2026-11-28T12:00:00Z unless `.now(..)` sets it).
    fn walk(days_ago: u32, count: f64) -> NewSample {
        let day = testing::DEFAULT_NOW.start_of_day().days_before(days_ago);
        let start = Timestamp::from_millis(day.millis() + 9 * HOUR);
        let end = Timestamp::from_millis(start.millis() + HOUR);
        NewSample::quantity(DataType::Steps, start, end, count, "{steps}")
    }

    #[test]
    fn counts_whole_days_back_from_yesterday() {
        let mock = MockHealth::new()
            .samples([walk(4, 2_000.0), walk(3, 9_000.0), walk(2, 8_500.0), walk(1, 12_000.0)])
            .sample(walk(0, 300.0)) // today: not over yet, not counted
            .grant(DataType::Steps)
            .install()
            .unwrap();
        let result = testing::invoke::<StepStreak>("streak", r#"{"goal": 8000}"#).unwrap();
        assert_eq!(result, json!({ "goal": 8000, "streak_days": 3 }));
        assert_eq!(mock.logs()[0].message, "streak of 3 days at 8000 steps");
    }

    #[test]
    fn works_with_exactly_what_the_manifest_asks() {
        // healthplug.toml: fields = ["value", "time"], days = 30, granularity = "daily"
        let _mock = MockHealth::new()
            .samples((1..=40).map(|d| walk(d, 10_000.0)))
            .grant_with(
                DataType::Steps,
                Fields::VALUE | Fields::TIME,
                Granularity::Daily,
                Some(30),
            )
            .install()
            .unwrap();
        let result = testing::invoke::<StepStreak>("streak", "{}").unwrap();
        // 30 × 24 h of history: the partial day it starts in is dropped.
        assert_eq!(result["streak_days"], 29);
    }

    #[test]
    fn a_refusal_is_reported_not_hidden() {
        let _mock = MockHealth::new()
            .refuse(DataType::Steps, DenialReason::Revoked)
            .install()
            .unwrap();
        let result = testing::invoke::<StepStreak>("streak", "{}").unwrap();
        assert_eq!(result, json!({ "error": "steps not granted (revoked)" }));
    }

    #[test]
    fn bad_arguments_are_refused_before_the_tool_runs() {
        let _mock = MockHealth::new().grant(DataType::Steps).install().unwrap();
        assert!(testing::invoke::<StepStreak>("streak", r#"{"goal": 0}"#).is_err());
        assert!(testing::invoke::<StepStreak>("streak", r#"{"days": 3}"#).is_err());
    }
}
