//! The Extism plugin of the comparison benchmark: owns the three exports the
//! runner calls. `sum_raw` sums little-endian `f64` values packed 8 bytes
//! apiece, `sum_json` sums the `value` of JSON health samples (how Extism
//! users usually pass structured data), and `noop` returns at once, for the
//! per-call overhead. Sums come back as text formatted with `{}`.

use extism_pdk::{FnResult, Json, plugin_fn};
use serde::Deserialize;

/// One health sample as the runner serializes it. Only `value` is summed;
/// the other fields are decoded all the same, as a real plugin would.
#[derive(Deserialize)]
#[expect(dead_code, reason = "decoded like a real record, but only `value` is summed")]
pub struct Sample {
    #[serde(rename = "type")]
    r#type: String,
    start: i64,
    end: i64,
    value: f64,
    unit: String,
}

/// Sums `input` read as little-endian `f64` values, 8 bytes each.
#[plugin_fn]
pub fn sum_raw(input: Vec<u8>) -> FnResult<String> {
    let chunks = input.chunks_exact(8);
    if !chunks.remainder().is_empty() {
        return Err(extism_pdk::Error::msg(format!("input is {} bytes, not a multiple of 8", input.len())).into());
    }
    let mut sum = 0.0_f64;
    for chunk in chunks {
        let mut bytes = [0_u8; 8];
        bytes.copy_from_slice(chunk);
        sum += f64::from_le_bytes(bytes);
    }
    Ok(format!("{sum}"))
}

/// Sums the `value` of every sample of a JSON array.
#[plugin_fn]
pub fn sum_json(Json(samples): Json<Vec<Sample>>) -> FnResult<String> {
    let sum: f64 = samples.iter().map(|sample| sample.value).sum();
    Ok(format!("{sum}"))
}

/// Does nothing: the cost of a call itself.
#[plugin_fn]
pub fn noop(_input: String) -> FnResult<String> {
    Ok(String::new())
}
