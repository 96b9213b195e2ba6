//! Deterministic synthetic health data for the demo: ~90 days of steps,
//! heart rate, sleep, workouts, meals and body mass, ending today. Seeded by
//! calendar day, so the same day always gets the same values.

use crate::registry::DataType;
use crate::vault::{Coding, NewSample};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// SplitMix64: a tiny, well-known deterministic generator.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
}

fn ty(id: &str) -> DataType {
    DataType::from_id(id).unwrap_or_else(|| unreachable!("demo type {id} is in the registry"))
}

fn sample(t: DataType, start: i64, end: i64, value: f64, source: &str, device: Option<&str>) -> NewSample {
    let mut s = NewSample::quantity(t, start, end, (value * 100.0).round() / 100.0);
    s.source_name = Some(source.to_string());
    s.device = device.map(str::to_string);
    s
}

fn coded(t: DataType, start: i64, end: i64, minutes: f64, coding: (&str, &str, &str)) -> NewSample {
    let mut s = sample(t, start, end, minutes, "healthplug demo", Some("Demo Watch"));
    s.coding = Some(Coding {
        system: coding.0.to_string(),
        code: coding.1.to_string(),
        display: coding.2.to_string(),
    });
    s
}

const ACTIVITY: &str = crate::registry::vocab::ACTIVITY.system;
const SLEEP: &str = crate::registry::vocab::SLEEP_STAGE.system;

/// One calendar day being generated.
struct Day {
    /// Midnight, ms.
    start: i64,
    /// 0 = Sunday.
    weekday: i64,
}

impl Day {
    fn weekend(&self) -> bool {
        self.weekday == 0 || self.weekday == 6
    }

    fn workout_day(&self) -> bool {
        matches!(self.weekday, 1 | 3 | 6)
    }

    /// When a workout starts (18:00).
    fn workout_at(&self) -> i64 {
        self.start + 18 * HOUR
    }
}

/// Steps per hour, 07:00-21:00.
fn steps(out: &mut Vec<NewSample>, rng: &mut Rng, day: &Day) {
    let daily_target = if day.weekend() { 10_500.0 } else { 7_800.0 } * rng.range(0.75, 1.2);
    for h in 7..22 {
        let share = if (7..9).contains(&h) || (17..19).contains(&h) {
            0.11
        } else {
            0.055
        };
        let v = (daily_target * share * rng.range(0.6, 1.4)).round();
        let start = day.start + h * HOUR;
        out.push(sample(
            ty("steps"),
            start,
            start + HOUR,
            v,
            "healthplug demo",
            Some("Demo Phone"),
        ));
    }
}

/// Heart rate every 10 minutes, 06:00-23:00, higher during a workout.
fn heart_rate(out: &mut Vec<NewSample>, rng: &mut Rng, day: &Day) {
    let workout_at = day.workout_at();
    for m in (6 * 60..23 * 60).step_by(10) {
        let t = day.start + i64::from(m) * MINUTE;
        let exercising = day.workout_day() && t >= workout_at && t < workout_at + 40 * MINUTE;
        let bpm = if exercising {
            rng.range(128.0, 162.0)
        } else {
            rng.range(58.0, 84.0)
        };
        out.push(sample(
            ty("heart-rate"),
            t,
            t,
            bpm.round(),
            "healthplug demo",
            Some("Demo Watch"),
        ));
    }
}

/// A workout three days a week: cycling on Saturdays, else running.
fn workout(out: &mut Vec<NewSample>, rng: &mut Rng, day: &Day) {
    if !day.workout_day() {
        return;
    }
    let (code, display) = if day.weekday == 6 {
        ("cycling", "Cycling")
    } else {
        ("running", "Running")
    };
    let minutes = rng.range(30.0, 45.0).round();
    let start = day.workout_at();
    let mut w = coded(
        ty("workout"),
        start,
        start + (minutes as i64) * MINUTE,
        minutes,
        (ACTIVITY, code, display),
    );
    let km = if code == "running" {
        minutes / 6.0
    } else {
        minutes / 2.4
    };
    w.metadata = Some(format!(
        "{{\"distance_m\":{:.0},\"energy_kcal\":{:.0}}}",
        km * 1000.0,
        minutes * 10.5
    ));
    out.push(w);
}

/// Sleep the night before: 23:00 to ~07:00 in stages.
fn sleep(out: &mut Vec<NewSample>, rng: &mut Rng, day: &Day) {
    let mut t = day.start - HOUR;
    for (code, display, lo, hi) in [
        ("inBed", "In bed", 10.0, 20.0),
        ("asleepCore", "Core sleep", 80.0, 110.0),
        ("asleepDeep", "Deep sleep", 50.0, 80.0),
        ("asleepREM", "REM sleep", 60.0, 90.0),
        ("awake", "Awake", 3.0, 12.0),
        ("asleepCore", "Core sleep", 90.0, 130.0),
        ("asleepREM", "REM sleep", 30.0, 50.0),
    ] {
        let minutes = rng.range(lo, hi).round();
        let end = t + (minutes as i64) * MINUTE;
        out.push(coded(ty("sleep"), t, end, minutes, (SLEEP, code, display)));
        t = end;
    }
}

/// Three meals: energy and its macronutrients.
fn meals(out: &mut Vec<NewSample>, rng: &mut Rng, day: &Day) {
    for (hour, kcal) in [(8, 520.0), (13, 780.0), (19, 860.0)] {
        let t = day.start + hour * HOUR;
        let energy = kcal * rng.range(0.8, 1.25);
        let protein = energy * rng.range(0.12, 0.22) / 4.0;
        let fat = energy * rng.range(0.25, 0.42) / 9.0;
        let carbs = (energy - protein * 4.0 - fat * 9.0) / 4.0;
        for (id, v) in [
            ("dietary-energy", energy),
            ("dietary-protein", protein),
            ("dietary-fat", fat),
            ("dietary-carbohydrate", carbs),
        ] {
            out.push(sample(ty(id), t, t, v, "healthplug demo", None));
        }
    }
}

/// The morning's recovery figures (resting heart rate and HRV, lower and
/// higher after a rest day), and water through the day: the types a sleep
/// or hydration coach reads. Drawn from their own generator so adding them
/// left every other demo value as it was.
fn recovery_and_water(out: &mut Vec<NewSample>, rng: &mut Rng, day: &Day) {
    let rested = if day.workout_day() { 0.0 } else { 1.0 };
    let t = day.start + 6 * HOUR + 45 * MINUTE;
    let rhr = rng.range(53.0, 60.0) - 2.0 * rested;
    out.push(sample(
        ty("resting-heart-rate"),
        t,
        t,
        rhr.round(),
        "healthplug demo",
        Some("Demo Watch"),
    ));
    let sdnn = rng.range(38.0, 58.0) + 6.0 * rested;
    out.push(sample(
        ty("heart-rate-variability"),
        t,
        t,
        sdnn,
        "healthplug demo",
        Some("Demo Watch"),
    ));
    let rmssd = sdnn * rng.range(0.85, 1.15);
    out.push(sample(
        ty("heart-rate-variability-rmssd"),
        t,
        t,
        rmssd,
        "healthplug demo",
        Some("Demo Ring"),
    ));
    for hour in [8, 10, 12, 13, 15, 17, 19, 21] {
        if rng.range(0.0, 1.0) < 0.8 {
            let at = day.start + hour * HOUR;
            let ml = (rng.range(200.0, 450.0) / 50.0).round() * 50.0;
            out.push(sample(ty("dietary-water"), at, at, ml, "healthplug demo", None));
        }
    }
}

/// `days` days of data ending at `now_ms` (samples after `now_ms` are left
/// out).
pub fn generate(days: u32, now_ms: i64) -> Vec<NewSample> {
    let today = now_ms.div_euclid(DAY) * DAY;
    let first = today - i64::from(days.saturating_sub(1)) * DAY;
    let mut out = Vec::new();
    for d in 0..i64::from(days) {
        let start = first + d * DAY;
        let day = Day {
            start,
            weekday: (start / DAY + 4).rem_euclid(7),
        };
        // Seeded by calendar day: the same day always gets the same values.
        let mut rng = Rng::new(0x4845_414c_5448 ^ (start / DAY) as u64);
        steps(&mut out, &mut rng, &day);
        heart_rate(&mut out, &mut rng, &day);
        workout(&mut out, &mut rng, &day);
        sleep(&mut out, &mut rng, &day);
        meals(&mut out, &mut rng, &day);
        // Body mass each morning, drifting down slowly.
        let kg = 82.0 - 1.8 * (d as f64 / f64::from(days.max(1))) + rng.range(-0.35, 0.35);
        let t = start + 7 * HOUR + 30 * MINUTE;
        out.push(sample(ty("body-mass"), t, t, kg, "healthplug demo", Some("Demo Scale")));
        let mut rng = Rng::new(0x5245_434f_5645 ^ (start / DAY) as u64);
        recovery_and_water(&mut out, &mut rng, &day);
    }
    out.retain(|s| s.start_ms <= now_ms);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_ends_now() {
        let now = 20_000 * DAY + 15 * HOUR;
        let a = generate(90, now);
        let b = generate(90, now);
        assert_eq!(a, b);
        assert!(a.len() > 10_000, "{}", a.len());
        assert!(a.iter().all(|s| s.start_ms <= now));
        for id in [
            "workout",
            "sleep",
            "resting-heart-rate",
            "heart-rate-variability",
            "dietary-water",
        ] {
            assert!(a.iter().any(|s| s.data_type == ty(id)), "{id}");
        }
        // A day later, the overlapping days hold the same values.
        let c = generate(90, now + DAY);
        let steps_of = |v: &[NewSample], day: i64| {
            v.iter()
                .filter(|s| s.data_type == ty("steps") && s.start_ms.div_euclid(DAY) == day)
                .map(|s| s.value)
                .collect::<Vec<_>>()
        };
        assert!(steps_of(&a, 19_990) == steps_of(&c, 19_990));
    }
}
