//! Measurement helpers: timing loops with percentiles, the results table
//! printed side by side, and the machine-readable results file.

use std::time::{Duration, Instant};

use serde::Serialize;

/// Timing statistics of repeated runs.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Stats {
    /// Runs.
    pub runs: usize,
    /// Median, ns.
    pub p50_ns: f64,
    /// 99th percentile, ns.
    pub p99_ns: f64,
    /// Mean, ns.
    pub mean_ns: f64,
}

/// Runs `f` `warmup` times, then `runs` times, timing each run.
pub fn measure(warmup: usize, runs: usize, mut f: impl FnMut()) -> Stats {
    for _ in 0..warmup {
        f();
    }
    let mut times: Vec<f64> = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f();
        times.push(t.elapsed().as_nanos() as f64);
    }
    stats(&mut times)
}

/// Times `a` and `b` in alternating rounds (`rounds` × `runs` each, after
/// `warmup` of each), so a machine that speeds up or slows down during
/// the run (turbo, a noisy neighbour) skews neither side of a ratio.
pub fn measure_pair(
    warmup: usize,
    rounds: usize,
    runs: usize,
    mut a: impl FnMut(),
    mut b: impl FnMut(),
) -> (Stats, Stats) {
    for _ in 0..warmup {
        a();
        b();
    }
    let mut times_a: Vec<f64> = Vec::with_capacity(rounds * runs);
    let mut times_b: Vec<f64> = Vec::with_capacity(rounds * runs);
    for _ in 0..rounds {
        for (f, times) in [(&mut a as &mut dyn FnMut(), &mut times_a), (&mut b, &mut times_b)] {
            for _ in 0..runs {
                let t = Instant::now();
                f();
                times.push(t.elapsed().as_nanos() as f64);
            }
        }
    }
    (stats(&mut times_a), stats(&mut times_b))
}

/// Times each of `fs` in alternating rounds (`rounds` × `runs` each,
/// after `warmup` of each), as `measure_pair` does for two.
pub fn measure_rounds(warmup: usize, rounds: usize, runs: usize, fs: &mut [&mut dyn FnMut()]) -> Vec<Stats> {
    for _ in 0..warmup {
        for f in fs.iter_mut() {
            f();
        }
    }
    let mut times: Vec<Vec<f64>> = fs.iter().map(|_| Vec::with_capacity(rounds * runs)).collect();
    for _ in 0..rounds {
        for (f, times) in fs.iter_mut().zip(times.iter_mut()) {
            for _ in 0..runs {
                let t = Instant::now();
                f();
                times.push(t.elapsed().as_nanos() as f64);
            }
        }
    }
    times.iter_mut().map(|t| stats(t)).collect()
}

/// Statistics of `times` (ns), sorting them.
pub fn stats(times: &mut [f64]) -> Stats {
    times.sort_by(f64::total_cmp);
    let n = times.len().max(1);
    let at = |q: f64| {
        times
            .get(((n as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    Stats {
        runs: times.len(),
        p50_ns: at(0.5),
        p99_ns: at(0.99),
        mean_ns: times.iter().sum::<f64>() / n as f64,
    }
}

/// Times one run of `f`.
pub fn once<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let v = f();
    (v, t.elapsed())
}

/// One line of the results table.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// Benchmark id (B1..B9).
    pub id: String,
    /// What was measured.
    pub what: String,
    /// The figure.
    pub value: f64,
    /// Its unit.
    pub unit: String,
    /// A note: the comparison, the target, the verdict.
    pub note: String,
}

/// The results of one run.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// Rows in order.
    pub rows: Vec<Row>,
}

impl Report {
    /// Adds a row and prints it at once.
    pub fn add(&mut self, id: &str, what: &str, value: f64, unit: &str, note: impl Into<String>) {
        let row = Row {
            id: id.into(),
            what: what.into(),
            value,
            unit: unit.into(),
            note: note.into(),
        };
        println!("{}", format_row(&row));
        self.rows.push(row);
    }

    /// The table as Markdown.
    pub fn markdown(&self) -> String {
        let mut out = String::from("| id | measurement | value | unit | note |\n|---|---|---:|---|---|\n");
        for r in &self.rows {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                r.id,
                r.what,
                fmt_value(r.value),
                r.unit,
                r.note
            ));
        }
        out
    }
}

/// A value with sensible precision.
pub fn fmt_value(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn format_row(r: &Row) -> String {
    format!(
        "{:<4} {:<58} {:>12} {:<10} {}",
        r.id,
        r.what,
        fmt_value(r.value),
        r.unit,
        r.note
    )
}
