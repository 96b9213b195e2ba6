//! Nutrition Coach: daily advice from energy and macronutrient intake
//! (daily aggregates only, as its manifest asks) and the body mass trend.

use std::collections::BTreeMap;

use healthplug_sdk::serde_json::{Value, json};
use healthplug_sdk::{Aggregate, Args, DataType, Error, Plugin, Tool, ToolError, export_plugin, health, info};

struct NutritionCoach;

impl Plugin for NutritionCoach {
    fn tools() -> Vec<Tool> {
        vec![
            Tool::new(
                "daily-advice",
                "Advice on energy and macronutrients from the last days of intake and body mass",
                daily_advice,
            )
            .param("days", "integer", "How many days to look back (1-30, default 7)"),
        ]
    }
}

export_plugin!(NutritionCoach);

const NUTRIENTS: [DataType; 4] = [
    DataType::DietaryEnergy,
    DataType::DietaryProtein,
    DataType::DietaryCarbohydrate,
    DataType::DietaryFat,
];

/// What the advice saw: the types allowed and refused, in the order asked.
#[derive(Default)]
struct Access {
    allowed: Vec<&'static str>,
    refused: Vec<Value>,
}

impl Access {
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

/// Daily intake: the rounded sum of each nutrient per date, and each
/// nutrient's average over the days that have it.
#[derive(Default)]
struct Intake {
    per_day: BTreeMap<String, BTreeMap<&'static str, f64>>,
    averages: BTreeMap<&'static str, f64>,
}

impl Intake {
    /// Adds the daily rows of one nutrient.
    fn add(&mut self, ty: DataType, rows: &[Aggregate]) {
        for r in rows {
            self.per_day
                .entry(r.bucket_start.date())
                .or_default()
                .insert(ty.id(), r.sum.round());
        }
        if !rows.is_empty() {
            self.averages
                .insert(ty.id(), rows.iter().map(|r| r.sum).sum::<f64>() / rows.len() as f64);
        }
    }

    /// The average of one nutrient, when it was granted and has data.
    fn average(&self, ty: DataType) -> Option<f64> {
        self.averages.get(ty.id()).copied()
    }
}

/// The body mass trend: the latest mass and the change over the period.
#[derive(Default)]
struct MassTrend {
    latest_kg: Option<f64>,
    /// (change in kg, span in days) from the first to the last point.
    change: Option<(f64, f64)>,
}

impl MassTrend {
    /// The trend of (time in ms, kg) points, oldest first.
    fn from_points(points: &[(i64, f64)]) -> MassTrend {
        MassTrend {
            latest_kg: points.last().map(|(_, kg)| *kg),
            change: match (points.first(), points.last()) {
                (Some((t0, a)), Some((t1, b))) if t1 > t0 => Some((b - a, (t1 - t0) as f64 / 86_400_000.0)),
                _ => None,
            },
        }
    }
}

/// The `daily-advice` tool: intake and body mass over the last `days` days.
fn daily_advice(args: &Args) -> Result<Value, ToolError> {
    let days = args.u32_in("days", 7, 1, 30)?;
    let mut access = Access::default();
    let intake = read_intake(days, &mut access)?;
    let mass = read_body_mass(days, &mut access)?
        .map(|points| MassTrend::from_points(&points))
        .unwrap_or_default();

    let mut advice = energy_advice(&intake, &mass);
    advice.extend(protein_advice(&intake, &mass));
    advice.extend(fat_advice(&intake));
    advice.extend(grant_advice(&access.refused));
    info!(
        "daily-advice over {days} days: {} allowed, {} refused",
        access.allowed.len(),
        access.refused.len()
    );
    Ok(json!({
        "days": days,
        "daily": intake.per_day,
        "average_per_day": intake.averages.iter().map(|(k, v)| (k.to_string(), v.round())).collect::<BTreeMap<_, _>>(),
        "body_mass_kg": mass.latest_kg,
        "advice": advice,
        "allowed": access.allowed,
        "refused": access.refused,
    }))
}

/// Daily sums of each nutrient; each type is asked for alone so one
/// refusal does not hide the others.
fn read_intake(days: u32, access: &mut Access) -> Result<Intake, ToolError> {
    let mut intake = Intake::default();
    for ty in NUTRIENTS {
        if let Some(agg) = access.record(ty, health::aggregate([ty]).daily().last_days(days).fetch())? {
            intake.add(ty, &agg.of(ty).collect::<Vec<_>>());
        }
    }
    Ok(intake)
}

/// Body mass as (time in ms, kg) over at least two weeks; `None` when refused.
fn read_body_mass(days: u32, access: &mut Access) -> Result<Option<Vec<(i64, f64)>>, ToolError> {
    let batch = access.record(
        DataType::BodyMass,
        health::query([DataType::BodyMass]).last_days(days.max(14)).fetch(),
    )?;
    Ok(batch.map(|batch| {
        batch
            .iter()
            .filter_map(|s| Some((s.start()?.millis(), s.value()?)))
            .collect()
    }))
}

/// Average energy, and whether it fits the weight trend.
fn energy_advice(intake: &Intake, mass: &MassTrend) -> Vec<String> {
    let Some(energy) = intake.average(DataType::DietaryEnergy) else {
        return Vec::new();
    };
    let mut advice = vec![format!("You ate {energy:.0} kcal a day on average.")];
    if let Some((delta, span_days)) = mass.change {
        advice.push(weight_trend_advice(delta / span_days * 7.0));
    }
    advice
}

/// Advice for a weekly weight change in kg: trim above +0.3, eat more below -0.9.
fn weight_trend_advice(weekly: f64) -> String {
    if weekly > 0.3 {
        format!("Your weight rose {weekly:.1} kg a week: trimming about 300 kcal a day would steady it.")
    } else if weekly < -0.9 {
        format!(
            "You are losing {:.1} kg a week: that is fast, eat a little more.",
            -weekly
        )
    } else {
        "Your weight is steady or moving gently: your intake fits.".to_string()
    }
}

/// Protein per kg of body mass against the 0.8 g/kg guideline.
fn protein_advice(intake: &Intake, mass: &MassTrend) -> Option<String> {
    let (Some(protein), Some(kg)) = (intake.average(DataType::DietaryProtein), mass.latest_kg) else {
        return None;
    };
    let per_kg = protein / kg;
    Some(if per_kg < 0.8 {
        format!(
            "Protein is {per_kg:.2} g/kg a day: aim for at least 0.8 g/kg ({:.0} g).",
            0.8 * kg
        )
    } else {
        format!("Protein is {per_kg:.2} g/kg a day: enough for most adults.")
    })
}

/// Fat's share of macronutrient energy, and a warning above 35 %.
fn fat_advice(intake: &Intake) -> Vec<String> {
    let (Some(c), Some(f), Some(p)) = (
        intake.average(DataType::DietaryCarbohydrate),
        intake.average(DataType::DietaryFat),
        intake.average(DataType::DietaryProtein),
    ) else {
        return Vec::new();
    };
    let mut advice = Vec::new();
    let kcal = c * 4.0 + f * 9.0 + p * 4.0;
    if kcal > 0.0 {
        let fat_share = f * 9.0 / kcal;
        advice.push(format!("Fat gives {:.0} % of your macro energy.", fat_share * 100.0));
        if fat_share > 0.35 {
            advice.push("That is above the 35 % guideline: swap some fried food for grains or fruit.".into());
        }
    }
    advice
}

/// One "grant it" line per refused type, in the order they were refused.
fn grant_advice(refused: &[Value]) -> impl Iterator<Item = String> + '_ {
    refused
        .iter()
        .filter_map(|r| r.get("type").and_then(Value::as_str))
        .map(|ty| format!("Grant `{ty}` for advice that uses it."))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY_MS: i64 = 86_400_000;

    /// A daily row of `ty` on day `day` (days since the epoch) summing to `sum`.
    fn row(ty: DataType, day: i64, sum: f64) -> Aggregate {
        Aggregate {
            data_type: Some(ty),
            bucket_start: healthplug_sdk::Timestamp::from_millis(day * DAY_MS),
            utc_offset: 0,
            count: 1,
            sum,
            mean: sum,
            min: sum,
            max: sum,
        }
    }

    /// Intake with one day of each (type, sum).
    fn intake(sums: &[(DataType, f64)]) -> Intake {
        let mut intake = Intake::default();
        for (ty, sum) in sums {
            intake.add(*ty, &[row(*ty, 0, *sum)]);
        }
        intake
    }

    #[test]
    fn intake_rounds_daily_sums_and_averages_over_days_with_data() {
        let mut intake = Intake::default();
        let ty = DataType::DietaryEnergy;
        intake.add(ty, &[row(ty, 0, 1_800.4), row(ty, 1, 2_200.0)]);
        intake.add(DataType::DietaryFat, &[]);
        assert_eq!(intake.per_day["1970-01-01"]["dietary-energy"], 1_800.0);
        assert_eq!(intake.average(ty), Some(2_000.2));
        assert_eq!(intake.average(DataType::DietaryFat), None);
    }

    #[test]
    fn mass_trend_spans_first_to_last_point() {
        let trend = MassTrend::from_points(&[(0, 80.0), (7 * DAY_MS, 79.5)]);
        assert_eq!(trend.latest_kg, Some(79.5));
        assert_eq!(trend.change, Some((-0.5, 7.0)));
        let single = MassTrend::from_points(&[(0, 80.0)]);
        assert_eq!((single.latest_kg, single.change), (Some(80.0), None));
    }

    #[test]
    fn weight_trend_advice_by_weekly_change() {
        assert!(weight_trend_advice(0.5).starts_with("Your weight rose 0.5 kg a week"));
        assert!(weight_trend_advice(-1.2).starts_with("You are losing 1.2 kg a week"));
        assert_eq!(
            weight_trend_advice(-0.9),
            "Your weight is steady or moving gently: your intake fits."
        );
    }

    #[test]
    fn energy_advice_needs_energy_and_adds_the_trend_when_known() {
        let mass = MassTrend::from_points(&[(0, 80.0), (7 * DAY_MS, 81.0)]);
        assert!(energy_advice(&intake(&[]), &mass).is_empty());
        let advice = energy_advice(&intake(&[(DataType::DietaryEnergy, 2_500.0)]), &mass);
        assert_eq!(advice.len(), 2);
        assert_eq!(advice[0], "You ate 2500 kcal a day on average.");
        assert!(advice[1].starts_with("Your weight rose 1.0 kg a week"));
    }

    #[test]
    fn protein_advice_per_kg_of_latest_mass() {
        let mass = MassTrend::from_points(&[(0, 80.0)]);
        assert_eq!(
            protein_advice(&intake(&[(DataType::DietaryProtein, 40.0)]), &mass).as_deref(),
            Some("Protein is 0.50 g/kg a day: aim for at least 0.8 g/kg (64 g).")
        );
        assert_eq!(
            protein_advice(&intake(&[(DataType::DietaryProtein, 80.0)]), &mass).as_deref(),
            Some("Protein is 1.00 g/kg a day: enough for most adults.")
        );
        assert_eq!(
            protein_advice(&intake(&[(DataType::DietaryProtein, 80.0)]), &MassTrend::default()),
            None
        );
    }

    #[test]
    fn fat_advice_warns_above_35_percent() {
        let high = intake(&[
            (DataType::DietaryCarbohydrate, 100.0),
            (DataType::DietaryFat, 100.0),
            (DataType::DietaryProtein, 50.0),
        ]);
        assert_eq!(fat_advice(&high).len(), 2);
        assert_eq!(fat_advice(&high)[0], "Fat gives 60 % of your macro energy.");
        let low = intake(&[
            (DataType::DietaryCarbohydrate, 300.0),
            (DataType::DietaryFat, 40.0),
            (DataType::DietaryProtein, 100.0),
        ]);
        assert_eq!(
            fat_advice(&low),
            vec!["Fat gives 18 % of your macro energy.".to_string()]
        );
        let zero = intake(&[
            (DataType::DietaryCarbohydrate, 0.0),
            (DataType::DietaryFat, 0.0),
            (DataType::DietaryProtein, 0.0),
        ]);
        assert!(fat_advice(&zero).is_empty());
    }

    #[test]
    fn grant_advice_names_each_refused_type() {
        let refused = [json!({ "type": "body-mass", "reason": "not-granted" })];
        let got: Vec<String> = grant_advice(&refused).collect();
        assert_eq!(got, vec!["Grant `body-mass` for advice that uses it.".to_string()]);
    }
}
