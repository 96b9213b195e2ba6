//! Nutrition Coach: daily advice from energy and macronutrient intake
//! (daily aggregates only, as its manifest asks) and the body mass trend.

use std::collections::BTreeMap;

use healthplug_sdk::serde_json::{Value, json};
use healthplug_sdk::{Args, DataType, Error, Plugin, Tool, ToolError, export_plugin, health, info};

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

fn daily_advice(args: &Args) -> Result<Value, ToolError> {
    let days = args.u32_in("days", 7, 1, 30)?;
    let mut allowed = Vec::new();
    let mut refused = Vec::new();
    let mut advice = Vec::new();

    // Per-type daily sums; each type is asked for alone so one refusal does
    // not hide the others.
    let mut per_day: BTreeMap<String, BTreeMap<&'static str, f64>> = BTreeMap::new();
    let mut averages: BTreeMap<&'static str, f64> = BTreeMap::new();
    for ty in NUTRIENTS {
        match health::aggregate([ty]).daily().last_days(days).fetch() {
            Ok(agg) => {
                allowed.push(ty.id());
                let rows: Vec<_> = agg.of(ty).collect();
                for r in &rows {
                    per_day
                        .entry(r.bucket_start.date())
                        .or_default()
                        .insert(ty.id(), r.sum.round());
                }
                if !rows.is_empty() {
                    averages.insert(ty.id(), rows.iter().map(|r| r.sum).sum::<f64>() / rows.len() as f64);
                }
            }
            Err(Error::NotGranted { data_type, reason }) => {
                refused.push(json!({ "type": data_type.id(), "reason": reason.id() }));
            }
            Err(e) => return Err(ToolError::Failed(e.to_string())),
        }
    }

    let mass = match health::query([DataType::BodyMass]).last_days(days.max(14)).fetch() {
        Ok(batch) => {
            allowed.push(DataType::BodyMass.id());
            let points: Vec<(i64, f64)> = batch
                .iter()
                .filter_map(|s| Some((s.start()?.millis(), s.value()?)))
                .collect();
            Some(points)
        }
        Err(Error::NotGranted { data_type, reason }) => {
            refused.push(json!({ "type": data_type.id(), "reason": reason.id() }));
            None
        }
        Err(e) => return Err(ToolError::Failed(e.to_string())),
    };

    let latest_mass = mass.as_ref().and_then(|p| p.last().map(|(_, kg)| *kg));
    let mass_change = mass.as_ref().and_then(|p| match (p.first(), p.last()) {
        (Some((t0, a)), Some((t1, b))) if t1 > t0 => Some((b - a, (t1 - t0) as f64 / 86_400_000.0)),
        _ => None,
    });

    if let Some(energy) = averages.get("dietary-energy") {
        advice.push(format!("You ate {energy:.0} kcal a day on average."));
        if let Some((delta, span_days)) = mass_change {
            let weekly = delta / span_days * 7.0;
            if weekly > 0.3 {
                advice.push(format!(
                    "Your weight rose {weekly:.1} kg a week: trimming about 300 kcal a day would steady it."
                ));
            } else if weekly < -0.9 {
                advice.push(format!(
                    "You are losing {:.1} kg a week: that is fast, eat a little more.",
                    -weekly
                ));
            } else {
                advice.push("Your weight is steady or moving gently: your intake fits.".to_string());
            }
        }
    }
    if let (Some(protein), Some(kg)) = (averages.get("dietary-protein"), latest_mass) {
        let per_kg = protein / kg;
        if per_kg < 0.8 {
            advice.push(format!(
                "Protein is {per_kg:.2} g/kg a day: aim for at least 0.8 g/kg ({:.0} g).",
                0.8 * kg
            ));
        } else {
            advice.push(format!("Protein is {per_kg:.2} g/kg a day: enough for most adults."));
        }
    }
    if let (Some(c), Some(f), Some(p)) = (
        averages.get("dietary-carbohydrate"),
        averages.get("dietary-fat"),
        averages.get("dietary-protein"),
    ) {
        let kcal = c * 4.0 + f * 9.0 + p * 4.0;
        if kcal > 0.0 {
            let fat_share = f * 9.0 / kcal;
            advice.push(format!("Fat gives {:.0} % of your macro energy.", fat_share * 100.0));
            if fat_share > 0.35 {
                advice.push("That is above the 35 % guideline: swap some fried food for grains or fruit.".into());
            }
        }
    }
    for r in &refused {
        if let Some(ty) = r.get("type").and_then(Value::as_str) {
            advice.push(format!("Grant `{ty}` for advice that uses it."));
        }
    }
    info!(
        "daily-advice over {days} days: {} allowed, {} refused",
        allowed.len(),
        refused.len()
    );
    Ok(json!({
        "days": days,
        "daily": per_day,
        "average_per_day": averages.iter().map(|(k, v)| (k.to_string(), v.round())).collect::<BTreeMap<_, _>>(),
        "body_mass_kg": latest_mass,
        "advice": advice,
        "allowed": allowed,
        "refused": refused,
    }))
}
