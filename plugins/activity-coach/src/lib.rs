//! Activity Coach: a weekly summary of steps, workouts and heart rate, and
//! a step goal, from whatever the user has granted. A refused type is
//! reported as refused, never guessed.

use std::collections::BTreeMap;

use healthplug_sdk::serde_json::{Value, json};
use healthplug_sdk::{
    Aggregate, Args, DataType, Error, Plugin, Samples, Timestamp, Tool, ToolError, export_plugin, health, info,
};

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

/// One section of the weekly report: its JSON and what it suggests, if anything.
struct Section {
    json: Value,
    suggestion: Option<String>,
}

/// The `weekly-summary` tool: steps, workouts and heart rate, each read on
/// its own so that a refused type hides only its own section.
fn weekly_summary(args: &Args) -> Result<Value, ToolError> {
    let weeks = args.u32_in("weeks", 1, 1, 12)?;
    let days = weeks * 7;
    let mut access = Access::new();

    let steps = access
        .record(
            DataType::Steps,
            health::aggregate([DataType::Steps]).daily().last_days(days).fetch(),
        )?
        .map(|agg| steps_summary(&agg.of(DataType::Steps).collect::<Vec<_>>()));
    let workouts = access
        .record(
            DataType::Workout,
            health::query([DataType::Workout]).last_days(days).fetch(),
        )?
        .map(|batch| workouts_summary(&batch, weeks));
    let heart_rate = access
        .record(
            DataType::HeartRate,
            health::aggregate([DataType::HeartRate]).daily().last_days(days).fetch(),
        )?
        .map(|agg| heart_rate_summary(&agg.of(DataType::HeartRate).collect::<Vec<_>>()));

    let mut suggestions: Vec<String> = [&steps, &workouts]
        .into_iter()
        .flatten()
        .filter_map(|section| section.suggestion.clone())
        .collect();
    suggestions.extend(grant_suggestions(&access.refused));
    info!(
        "weekly-summary: {} allowed, {} refused",
        access.allowed.len(),
        access.refused.len()
    );
    Ok(json!({
        "period": { "from": Timestamp::now().days_before(days).date(), "to": Timestamp::now().date(), "weeks": weeks },
        "steps": steps.map(|s| s.json),
        "workouts": workouts.map(|s| s.json),
        "heart_rate": heart_rate,
        "suggestions": suggestions,
        "allowed": access.allowed,
        "refused": access.refused,
    }))
}

/// Totals, daily average and best day of the daily step sums.
fn steps_summary(rows: &[Aggregate]) -> Section {
    let per_day: Vec<(String, f64)> = rows.iter().map(|a| (a.bucket_start.date(), a.sum)).collect();
    let total: f64 = per_day.iter().map(|(_, s)| s).sum();
    let average = if per_day.is_empty() {
        0.0
    } else {
        total / per_day.len() as f64
    };
    let best = per_day.iter().cloned().max_by(|a, b| a.1.total_cmp(&b.1));
    Section {
        json: json!({
            "days_with_data": per_day.len(),
            "total": total.round(),
            "daily_average": average.round(),
            "best_day": best.map(|(d, s)| json!({ "date": d, "steps": s.round() })),
        }),
        suggestion: Some(step_suggestion(average)),
    }
}

/// What to do next for a daily step average: walk more below 7,000.
fn step_suggestion(average: f64) -> String {
    if average < 7_000.0 {
        format!("You averaged {average:.0} steps a day: add a 20-minute walk to pass 7,000.")
    } else {
        format!("Great: {average:.0} steps a day on average. Keep it up.")
    }
}

/// Sessions and minutes per activity over `weeks` weeks of workouts.
fn workouts_summary(batch: &Samples, weeks: u32) -> Section {
    let by_activity = minutes_by_activity(batch);
    let minutes: f64 = by_activity.values().map(|(_, m)| m).sum();
    Section {
        json: json!({
            "count": batch.len(),
            "total_minutes": minutes.round(),
            "by_activity": by_activity
                .into_iter()
                .map(|(k, (n, m))| json!({ "activity": k, "sessions": n, "minutes": m.round() }))
                .collect::<Vec<_>>(),
        }),
        suggestion: workout_suggestion(minutes / f64::from(weeks)),
    }
}

/// (sessions, minutes) per activity name; a workout without a coding is a "workout".
fn minutes_by_activity(batch: &Samples) -> BTreeMap<String, (u32, f64)> {
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
    by_activity
}

/// A nudge when weekly workout minutes fall short of the 150 recommended.
fn workout_suggestion(weekly_minutes: f64) -> Option<String> {
    (weekly_minutes < 150.0)
        .then(|| format!("{weekly_minutes:.0} workout minutes a week: aim for 150 minutes of moderate activity."))
}

/// Sample count, weighted mean, minimum and maximum of daily heart-rate rows.
fn heart_rate_summary(rows: &[Aggregate]) -> Value {
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
}

/// One "grant it" suggestion per refused type, in the order they were refused.
fn grant_suggestions(refused: &[Value]) -> impl Iterator<Item = String> + '_ {
    refused
        .iter()
        .filter_map(|r| r.get("type").and_then(Value::as_str))
        .map(|ty| format!("Grant `{ty}` to include it in your summary."))
}

/// The `step-goal` tool: 10 % above the median day of the last four weeks.
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A daily steps row starting at `date_ms` that sums to `sum`.
    fn day(date_ms: i64, sum: f64) -> Aggregate {
        Aggregate {
            data_type: Some(DataType::Steps),
            bucket_start: Timestamp::from_millis(date_ms),
            utc_offset: 0,
            count: 1,
            sum,
            mean: sum,
            min: sum,
            max: sum,
        }
    }

    #[test]
    fn step_suggestion_nudges_below_7000_only() {
        assert_eq!(
            step_suggestion(6_499.6),
            "You averaged 6500 steps a day: add a 20-minute walk to pass 7,000."
        );
        assert_eq!(
            step_suggestion(7_000.0),
            "Great: 7000 steps a day on average. Keep it up."
        );
    }

    #[test]
    fn workout_suggestion_only_under_150_minutes() {
        assert_eq!(
            workout_suggestion(90.4).as_deref(),
            Some("90 workout minutes a week: aim for 150 minutes of moderate activity.")
        );
        assert_eq!(workout_suggestion(150.0), None);
    }

    #[test]
    fn steps_summary_totals_averages_and_finds_the_best_day() {
        let section = steps_summary(&[day(0, 4_000.0), day(86_400_000, 9_000.4)]);
        assert_eq!(
            section.json,
            json!({
                "days_with_data": 2,
                "total": 13_000.0,
                "daily_average": 6_500.0,
                "best_day": { "date": "1970-01-02", "steps": 9_000.0 },
            })
        );
        assert!(
            section
                .suggestion
                .is_some_and(|s| s.starts_with("You averaged 6500 steps"))
        );
        let empty = steps_summary(&[]);
        assert_eq!(empty.json["best_day"], Value::Null);
        assert_eq!(empty.json["daily_average"], json!(0.0));
    }

    #[test]
    fn heart_rate_summary_weights_the_mean_by_count() {
        let rows = [
            Aggregate {
                count: 1,
                mean: 60.0,
                min: 60.0,
                max: 60.0,
                ..day(0, 60.0)
            },
            Aggregate {
                count: 3,
                mean: 100.0,
                min: 80.0,
                max: 140.0,
                ..day(0, 300.0)
            },
        ];
        assert_eq!(
            heart_rate_summary(&rows),
            json!({ "samples": 4, "mean_bpm": 90.0, "min_bpm": 60.0, "max_bpm": 140.0 })
        );
        assert_eq!(
            heart_rate_summary(&[]),
            json!({ "samples": 0, "mean_bpm": 0.0, "min_bpm": null, "max_bpm": null })
        );
    }

    #[test]
    fn grant_suggestions_name_each_refused_type() {
        let refused = [json!({ "type": "workout", "reason": "not-granted" }), json!({})];
        let got: Vec<String> = grant_suggestions(&refused).collect();
        assert_eq!(got, vec!["Grant `workout` to include it in your summary.".to_string()]);
    }
}
