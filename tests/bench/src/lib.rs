//! healthplug's benchmarks (`cargo bench -p healthplug-bench`): each module
//! measures one concern, side by side with its baseline; `measure` holds
//! the timing helpers and the results table.

pub mod backends;
pub mod bare;
pub mod compile;
pub mod consent_filter;
pub mod data_path;
pub mod egress;
pub mod import;
pub mod instantiate;
pub mod languages;
pub mod mcp_http;
pub mod measure;
pub mod ours;
pub mod overhead;
pub mod throughput;

pub use measure::{Report, Row, Stats, measure, once, stats};

/// The bytes of a test fixture's component (crate name with `_`).
pub fn fixture_bytes(crate_name: &str) -> anyhow::Result<Vec<u8>> {
    Ok(std::fs::read(healthplug_tests::fixture_wasm(crate_name))?)
}
