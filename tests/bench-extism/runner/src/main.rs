//! The Extism comparison benchmark: owns the timing of the same work as
//! healthplug's benchmark (summing N health sample values) done through an
//! Extism plugin (`../plugin`, embedded at build time), and the one-line JSON
//! report that `healthplug-bench` reads from the last line of stdout.
//!
//! Every figure is the median over `--runs` runs, after a warm-up:
//! - `instantiate_us`: a new `Plugin` from the wasm bytes (Extism compiles
//!   the module each time; wasmtime's on-disk cache is turned off so that
//!   the figure is the same on a fresh machine and nothing is written to the
//!   user's cache folder);
//! - `compiled_plugin_instantiate_us`: a new `Plugin` from a `CompiledPlugin`;
//! - `noop_call_us`: one call of `noop`, timed over batches of calls;
//! - `raw_*`: packing the `f64` values into bytes on the host plus calling
//!   `sum_raw`;
//! - `json_*`: `serde_json::to_vec` of the samples on the host plus calling
//!   `sum_json`.
//!
//! Every sum the plugin returns is checked; any failure exits non-zero.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use extism::{Manifest, Plugin, PluginBuilder, Wasm};
use serde::Serialize;

/// The plugin built by `build.rs`.
const PLUGIN_WASM: &[u8] = include_bytes!(env!("EXTISM_SUM_WASM"));

const DEFAULT_SAMPLES: usize = 100_000;
const DEFAULT_RUNS: usize = 30;
/// Calls of `noop` per timed run: one call is too short to time alone.
const NOOP_CALLS_PER_RUN: u32 = 1_000;
/// Untimed runs of each measurement before the timed ones.
const WARMUP_RUNS: usize = 3;

const USAGE: &str = "usage: extism-bench [--samples N] [--runs R]";

fn main() -> ExitCode {
    match run() {
        Ok(Some(report)) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Ok(None) => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("extism-bench: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The command line.
#[derive(Debug, PartialEq)]
struct Options {
    samples: usize,
    runs: usize,
}

/// Reads `--samples N` and `--runs R`; `None` when help was asked for.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Options>> {
    let mut options = Options {
        samples: DEFAULT_SAMPLES,
        runs: DEFAULT_RUNS,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let slot = match arg.as_str() {
            "--samples" => &mut options.samples,
            "--runs" => &mut options.runs,
            "-h" | "--help" => return Ok(None),
            other => bail!("unknown argument `{other}`\n{USAGE}"),
        };
        let value = args.next().with_context(|| format!("{arg} needs a value\n{USAGE}"))?;
        *slot = value
            .parse()
            .with_context(|| format!("{arg} wants a positive whole number, not `{value}`"))?;
        ensure!(*slot > 0, "{arg} must be at least 1");
    }
    Ok(Some(options))
}

/// One health sample, as `sum_json` decodes it.
#[derive(Serialize)]
struct Sample {
    #[serde(rename = "type")]
    r#type: String,
    start: i64,
    end: i64,
    value: f64,
    unit: String,
}

/// The report printed as the last line of stdout.
#[derive(Serialize)]
struct Report {
    extism_version: String,
    samples: usize,
    instantiate_us: f64,
    compiled_plugin_instantiate_us: Option<f64>,
    noop_call_us: f64,
    raw_p50_ms: f64,
    raw_ns_per_sample: f64,
    json_p50_ms: f64,
    json_ns_per_sample: f64,
}

/// Runs the benchmark; `None` when only help was asked for.
fn run() -> Result<Option<String>> {
    let Some(options) = parse_args(std::env::args().skip(1))? else {
        return Ok(None);
    };
    let Options { samples, runs } = options;

    let values: Vec<f64> = (0..samples).map(|i| (i % 97) as f64).collect();
    let expected = expected_sum(samples);
    let records = sample_records(&values)?;

    let mut plugin = builder().build().context("creating the Extism plugin")?;
    let compiled = builder().compile().context("compiling the Extism plugin")?;

    eprintln!(
        "extism-bench: extism {}, {samples} samples, {runs} runs",
        extism_version()
    );

    let instantiate = p50(runs, || {
        let builder = builder();
        let start = Instant::now();
        let plugin = builder.build().context("creating a plugin from the wasm bytes")?;
        let elapsed = start.elapsed();
        drop(plugin);
        Ok(elapsed)
    })?;

    let compiled_instantiate = p50(runs, || {
        let start = Instant::now();
        let plugin = Plugin::new_from_compiled(&compiled).context("creating a plugin from the compiled plugin")?;
        let elapsed = start.elapsed();
        drop(plugin);
        Ok(elapsed)
    })?;

    let noop = p50(runs, || {
        let start = Instant::now();
        for _ in 0..NOOP_CALLS_PER_RUN {
            let output = plugin.call::<&str, &str>("noop", "").context("calling noop")?;
            ensure!(output.is_empty(), "noop returned {output:?}, not an empty string");
            black_box(output);
        }
        Ok(start.elapsed() / NOOP_CALLS_PER_RUN)
    })?;

    let raw = p50(runs, || {
        let start = Instant::now();
        let mut bytes = Vec::with_capacity(values.len() * 8);
        for value in &values {
            bytes.extend_from_slice(&value.to_le_bytes());
        }
        let output = plugin
            .call::<&[u8], &str>("sum_raw", &bytes)
            .context("calling sum_raw")?;
        let elapsed = start.elapsed();
        check_sum("sum_raw", output, expected)?;
        Ok(elapsed)
    })?;

    let json = p50(runs, || {
        let start = Instant::now();
        let bytes = serde_json::to_vec(&records).context("serializing the samples")?;
        let output = plugin
            .call::<&[u8], &str>("sum_json", &bytes)
            .context("calling sum_json")?;
        let elapsed = start.elapsed();
        check_sum("sum_json", output, expected)?;
        Ok(elapsed)
    })?;

    let per_sample_ns = |time: Duration| round(time.as_secs_f64() * 1e9 / samples as f64, 2);
    let report = Report {
        extism_version: extism_version().to_string(),
        samples,
        instantiate_us: round(instantiate.as_secs_f64() * 1e6, 1),
        compiled_plugin_instantiate_us: Some(round(compiled_instantiate.as_secs_f64() * 1e6, 1)),
        noop_call_us: round(noop.as_secs_f64() * 1e6, 3),
        raw_p50_ms: round(raw.as_secs_f64() * 1e3, 3),
        raw_ns_per_sample: per_sample_ns(raw),
        json_p50_ms: round(json.as_secs_f64() * 1e3, 3),
        json_ns_per_sample: per_sample_ns(json),
    };
    eprintln!(
        "extism-bench: instantiate {:.1} us (from compiled {:.1} us), noop call {:.3} us, \
         raw {:.3} ms ({:.2} ns/sample), json {:.3} ms ({:.2} ns/sample)",
        report.instantiate_us,
        compiled_instantiate.as_secs_f64() * 1e6,
        report.noop_call_us,
        report.raw_p50_ms,
        report.raw_ns_per_sample,
        report.json_p50_ms,
        report.json_ns_per_sample,
    );
    serde_json::to_string(&report).map(Some).context("writing the report")
}

/// A builder for the benchmark plugin: WASI on, no host functions, and
/// wasmtime's on-disk compilation cache off.
fn builder() -> PluginBuilder<'static> {
    PluginBuilder::new(Manifest::new([Wasm::data(PLUGIN_WASM)]))
        .with_wasi(true)
        .with_cache_disabled()
}

/// The Extism version, without the C string terminator it carries.
fn extism_version() -> &'static str {
    extism::extism_version().trim_end_matches('\0')
}

/// The sum of `(i % 97)` for `i` in `0..samples`, exact in `f64`.
fn expected_sum(samples: usize) -> f64 {
    let full_cycles = (samples / 97) as u64;
    let rest = (samples % 97) as u64;
    (full_cycles * (96 * 97 / 2) + rest * rest.saturating_sub(1) / 2) as f64
}

/// The values as health step-count samples, one second apart.
fn sample_records(values: &[f64]) -> Result<Vec<Sample>> {
    values
        .iter()
        .enumerate()
        .map(|(i, &value)| {
            let offset = i64::try_from(i).context("too many samples")? * 1_000;
            let start = 1_700_000_000_000 + offset;
            Ok(Sample {
                r#type: "steps".to_string(),
                start,
                end: start + 1_000,
                value,
                unit: "{steps}".to_string(),
            })
        })
        .collect()
}

/// Fails unless `output` is the decimal form of `expected`.
fn check_sum(export: &str, output: &str, expected: f64) -> Result<()> {
    let got: f64 = output
        .trim()
        .parse()
        .with_context(|| format!("{export} returned {output:?}, not a number"))?;
    ensure!(got == expected, "{export} returned the sum {got}, expected {expected}");
    Ok(())
}

/// The median of `runs` timings of `measure`, after [`WARMUP_RUNS`] untimed ones.
fn p50(runs: usize, mut measure: impl FnMut() -> Result<Duration>) -> Result<Duration> {
    for _ in 0..WARMUP_RUNS {
        measure()?;
    }
    let mut times = (0..runs).map(|_| measure()).collect::<Result<Vec<_>>>()?;
    times.sort_unstable();
    let mid = times.len() / 2;
    match (times.get(mid.wrapping_sub(1)), times.get(mid)) {
        (_, None) => bail!("no runs to take a median of"),
        (Some(&low), Some(&high)) if times.len() % 2 == 0 => Ok((low + high) / 2),
        (_, Some(&middle)) => Ok(middle),
    }
}

/// `value` rounded to `digits` decimals.
fn round(value: f64, digits: i32) -> f64 {
    let scale = 10_f64.powi(digits);
    (value * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn expected_sum_matches_a_plain_loop() {
        for samples in [0, 1, 2, 96, 97, 98, 1_000, 100_000] {
            let looped: f64 = (0..samples).map(|i| (i % 97) as f64).sum();
            assert_eq!(expected_sum(samples), looped, "{samples} samples");
        }
    }

    #[test]
    fn parses_the_command_line() {
        assert_eq!(
            parse_args(args(&[])).unwrap(),
            Some(Options {
                samples: DEFAULT_SAMPLES,
                runs: DEFAULT_RUNS
            })
        );
        assert_eq!(
            parse_args(args(&["--samples", "10", "--runs", "3"])).unwrap(),
            Some(Options { samples: 10, runs: 3 })
        );
        assert_eq!(parse_args(args(&["--help"])).unwrap(), None);
        assert!(parse_args(args(&["--samples"])).is_err());
        assert!(parse_args(args(&["--samples", "0"])).is_err());
        assert!(parse_args(args(&["--runs", "x"])).is_err());
        assert!(parse_args(args(&["--bogus"])).is_err());
    }

    #[test]
    fn median_of_odd_and_even_runs() {
        let mut odd = [9, 9, 9, 3, 1, 2].into_iter().map(Duration::from_millis);
        assert_eq!(
            p50(3, || odd.next().context("out of times")).unwrap(),
            Duration::from_millis(2)
        );
        let mut times = [9, 9, 9, 4, 1, 3, 2].into_iter().map(Duration::from_millis);
        assert_eq!(
            p50(4, || times.next().context("out of times")).unwrap(),
            Duration::from_micros(2_500)
        );
    }

    #[test]
    fn samples_are_one_second_apart() {
        let records = sample_records(&[1.0, 2.0]).unwrap();
        assert_eq!(records[1].start - records[0].start, 1_000);
        assert_eq!(records[0].end, records[0].start + 1_000);
        let json = serde_json::to_string(&records[0]).unwrap();
        assert!(json.starts_with(r#"{"type":"steps","start":1700000000000,"#), "{json}");
    }

    #[test]
    fn checks_sums() {
        assert!(check_sum("f", "4950", 4950.0).is_ok());
        assert!(check_sum("f", "4951", 4950.0).is_err());
        assert!(check_sum("f", "nope", 4950.0).is_err());
    }

    /// The whole benchmark on a small input, through the real plugin.
    #[test]
    fn plugin_sums_match() {
        let values: Vec<f64> = (0..500).map(|i| (i % 97) as f64).collect();
        let mut plugin = builder().build().unwrap();
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let raw = plugin.call::<&[u8], &str>("sum_raw", &bytes).unwrap().to_string();
        check_sum("sum_raw", &raw, expected_sum(500)).unwrap();
        let json = serde_json::to_vec(&sample_records(&values).unwrap()).unwrap();
        let summed = plugin.call::<&[u8], &str>("sum_json", &json).unwrap().to_string();
        check_sum("sum_json", &summed, expected_sum(500)).unwrap();
        assert!(plugin.call::<&[u8], &str>("sum_raw", &[1, 2, 3][..]).is_err());
        assert_eq!(plugin.call::<&str, &str>("noop", "").unwrap(), "");
    }
}
