// Hydration Coach: how much water the user drank each day over the last
// days, beside their weight (latest and trend), which sizes the daily goal.
// Each part degrades on its own: a refused type says what to grant, the
// rest still answers.

import { DataType, NotGranted, exportPlugin, health, log, tool } from "healthplug";

const DAY_MS = 86_400_000;
/** Millilitres of water a day per kilogram of body mass: a common rule of thumb. */
const ML_PER_KG = 35;
/** The goal without a weight to size it. */
const DEFAULT_GOAL_ML = 2000;

const refused = (e) => ({ error: `${e.dataType} not granted (${e.reason})` });

/** "2026-11-30" for a bucket start (ms) and the user's UTC offset there (s). */
const localDate = (ms, offsetSeconds) => new Date(ms + offsetSeconds * 1000).toISOString().slice(0, 10);

/** Water per local day, from the host's daily sums. */
function water(days) {
  const rows = health.aggregate([DataType.DIETARY_WATER]).daily().lastDays(days).fetch();
  const daily = rows.map((r) => ({ date: localDate(r.bucketStart, r.utcOffset), ml: r.sum }));
  const total = daily.reduce((sum, d) => sum + d.ml, 0);
  return { days_logged: daily.length, total_ml: total, mean_ml: daily.length ? total / daily.length : null, daily };
}

/** Latest weight, and its trend as the least-squares slope over the samples, kg per week. */
function bodyMass(days) {
  const points = [];
  for (const page of health.query([DataType.BODY_MASS]).lastDays(days).fields("value", "time").pages()) {
    for (const s of page) {
      if (s.value !== null && s.start !== null) points.push([s.start, s.value]);
    }
  }
  if (points.length === 0) return { samples: 0, latest_kg: null, latest_date: null, change_kg: null, trend_kg_per_week: null };
  const [lastAt, latest] = points[points.length - 1];
  const n = points.length;
  const meanT = points.reduce((a, [t]) => a + t, 0) / n;
  const meanV = points.reduce((a, [, v]) => a + v, 0) / n;
  let num = 0;
  let den = 0;
  for (const [t, v] of points) {
    num += (t - meanT) * (v - meanV);
    den += (t - meanT) * (t - meanT);
  }
  return {
    samples: n,
    latest_kg: latest,
    latest_date: new Date(lastAt).toISOString().slice(0, 10),
    change_kg: latest - points[0][1],
    trend_kg_per_week: den > 0 ? (num / den) * 7 * DAY_MS : null,
  };
}

/** Runs one part of the report; a refusal is that part's answer. */
function part(fn) {
  try {
    return fn();
  } catch (e) {
    if (e instanceof NotGranted) return refused(e);
    throw e;
  }
}

const report = tool(
  "hydration-report",
  "Water drunk each day, against a goal sized to your weight, and your weight's trend",
  { params: { days: { type: "integer", minimum: 1, maximum: 14, default: 14, description: "Days (default 14)" } } },
  ({ days }) => {
    const mass = part(() => bodyMass(days));
    const drunk = part(() => water(days));
    const goal = mass.latest_kg != null ? ML_PER_KG * mass.latest_kg : DEFAULT_GOAL_ML;
    if (drunk.daily) drunk.days_below_goal = drunk.daily.filter((d) => d.ml < goal).length;
    log.info(`hydration report over ${days} days`);
    return { days, goal_ml: goal, water: drunk, body_mass: mass };
  },
);

export const { tools, invoke } = exportPlugin(report);
