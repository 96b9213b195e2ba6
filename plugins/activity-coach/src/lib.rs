//! Activity Coach: a weekly summary of steps, workouts and heart rate, and
//! a step goal, from whatever the user has granted. A refused type is
//! reported as refused, never guessed.

use std::collections::BTreeMap;

use healthplug_sdk::serde_json::{Value, json};
use healthplug_sdk::{Args, DataType, Error, Plugin, Timestamp, Tool, ToolError, export_plugin, health, info};

struct ActivityCoach;

impl Plugin for ActivityCoach {
    fn tools() -> Vec<Tool> {
        vec![
            Tool::new(
                "weekly-summary",
                "Summarise steps, workouts and heart rate over the last week(s) and suggest what to do next",
                weekly_summary,
            )
            .param("weeks", "integer", "How many weeks to cover (1-12, default 1)"),
            Tool::new(
                "step-goal",
                "Suggest a daily step goal from the last four weeks of steps",
                step_goal,
            ),
        ]
    }
}

export_plugin!(ActivityCoach);

/// What a section of the report saw: data, or a refusal the user can fix.
struct Access {
    allowed: Vec<&'static str>,
    refused: Vec<Value>,
}

impl Access {
    fn new() -> Access {
        Access {
            allowed: Vec::new(),
            refused: Vec::new(),
        }
    }

    /// Records the outcome for `ty`; returns the data when it was allowed.
    fn record<T>(&mut self, ty: DataType, result: Result<T, Error>) -> Result<Option<T>, ToolError> {
        match result {
            Ok(v) => {
                self.allowed.push(ty.id());
                Ok(Some(v))
            }
            Err(Error::NotGranted { data_type, reason }) => {
                self.refused
                    .push(json!({ "type": data_type.id(), "reason": reason.id() }));
                Ok(None)
            }
            Err(e) => Err(ToolError::Failed(e.to_string())),
        }
    }
}

fn weekly_summary(args: &Args) -> Result<Value, ToolError> {
    let weeks = args.u32_in("weeks", 1, 1, 12)?;
    let days = weeks * 7;
    let mut access = Access::new();
    let mut suggestions = Vec::new();

    let steps = access.record(
        DataType::Steps,
        health::aggregate([DataType::Steps]).daily().last_days(days).fetch(),
    )?;
    let steps_json = steps.map(|agg| {
        let per_day: Vec<(String, f64)> = agg
            .of(DataType::Steps)
            .map(|a| (a.bucket_start.date(), a.sum))
            .collect();
        let total: f64 = per_day.iter().map(|(_, s)| s).sum();
        let average = if per_day.is_empty() {
            0.0
        } else {
            total / per_day.len() as f64
        };
        let best = per_day.iter().cloned().max_by(|a, b| a.1.total_cmp(&b.1));
        if average < 7_000.0 {
            suggestions.push(format!(
                "You averaged {average:.0} steps a day: add a 20-minute walk to pass 7,000."
            ));
        } else {
            suggestions.push(format!("Great: {average:.0} steps a day on average. Keep it up."));
        }
        json!({
            "days_with_data": per_day.len(),
            "total": total.round(),
            "daily_average": average.round(),
            "best_day": best.map(|(d, s)| json!({ "date": d, "steps": s.round() })),
        })
    });

    let workouts = access.record(
        DataType::Workout,
        health::query([DataType::Workout]).last_days(days).fetch(),
    )?;
    let workouts_json = workouts.map(|batch| {
        let mut by_activity: BTreeMap<String, (u32, f64)> = BTreeMap::new();
        for s in batch.iter() {
            let activity = s
                .coding()
                .map(|c| c.display.to_string())
                .unwrap_or_else(|| "workout".into());
            let entry = by_activity.entry(activity).or_default();
            entry.0 += 1;
            entry.1 += s.value().unwrap_or(0.0);
        }
        let minutes: f64 = by_activity.values().map(|(_, m)| m).sum();
        let weekly_minutes = minutes / f64::from(weeks);
        if weekly_minutes < 150.0 {
            suggestions.push(format!(
                "{weekly_minutes:.0} workout minutes a week: aim for 150 minutes of moderate activity."
            ));
        }
        json!({
            "count": batch.len(),
            "total_minutes": minutes.round(),
            "by_activity": by_activity
                .into_iter()
                .map(|(k, (n, m))| json!({ "activity": k, "sessions": n, "minutes": m.round() }))
                .collect::<Vec<_>>(),
        })
    });

    let heart = access.record(
        DataType::HeartRate,
        health::aggregate([DataType::HeartRate]).daily().last_days(days).fetch(),
    )?;
    let heart_json = heart.map(|agg| {
        let rows: Vec<_> = agg.of(DataType::HeartRate).collect();
        let samples: u32 = rows.iter().map(|r| r.count).sum();
        let mean = if samples == 0 {
            0.0
        } else {
            rows.iter().map(|r| r.mean * f64::from(r.count)).sum::<f64>() / f64::from(samples)
        };
        let min = rows.iter().map(|r| r.min).fold(f64::INFINITY, f64::min);
        let max = rows.iter().map(|r| r.max).fold(f64::NEG_INFINITY, f64::max);
        json!({
            "samples": samples,
            "mean_bpm": mean.round(),
            "min_bpm": if min.is_finite() { Some(min.round()) } else { None },
            "max_bpm": if max.is_finite() { Some(max.round()) } else { None },
        })
    });

    for refused in &access.refused {
        if let Some(ty) = refused.get("type").and_then(Value::as_str) {
            suggestions.push(format!("Grant `{ty}` to include it in your summary."));
        }
    }
    info!(
        "weekly-summary: {} allowed, {} refused",
        access.allowed.len(),
        access.refused.len()
    );
    Ok(json!({
        "period": { "from": Timestamp::now().days_before(days).date(), "to": Timestamp::now().date(), "weeks": weeks },
        "steps": steps_json,
        "workouts": workouts_json,
        "heart_rate": heart_json,
        "suggestions": suggestions,
        "allowed": access.allowed,
        "refused": access.refused,
    }))
}

fn step_goal(_args: &Args) -> Result<Value, ToolError> {
    let agg = health::aggregate([DataType::Steps]).daily().last_days(28).fetch()?;
    let mut daily: Vec<f64> = agg.of(DataType::Steps).map(|a| a.sum).collect();
    if daily.is_empty() {
        return Ok(json!({ "goal": 7000, "reason": "no step data yet: starting from a common baseline" }));
    }
    daily.sort_by(f64::total_cmp);
    let median = daily[daily.len() / 2];
    // Nudge 10 % above the median, rounded to 500 steps, between 5k and 15k.
    let goal = ((median * 1.1 / 500.0).round() * 500.0).clamp(5_000.0, 15_000.0);
    Ok(json!({
        "goal": goal,
        "median_daily_steps": median.round(),
        "days_considered": daily.len(),
        "reason": "10 % above your median day over the last four weeks",
    }))
}
