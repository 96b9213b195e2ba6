//! `healthplug demo`: a user with ~90 days of synthetic data, both example
//! plugins installed, a partial consent, and both invoked, showing what
//! each was allowed and refused.

mod synth;

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use crate::error::HostError;
use crate::examples::{ACTIVITY_COACH, CSV_IMPORT, ExamplePlugin, NUTRITION_COACH};
use crate::platform::{GrantRequest, Host, InstallOptions, InvokeOutcome};
use crate::registry::{DataType, parse_type_list};
use crate::vault::now_ms;

pub use synth::generate;

/// The demo user's id.
pub const DEMO_USER: &str = "demo";

/// One plugin's part of the demo.
#[derive(Clone, Debug, Serialize)]
pub struct DemoPlugin {
    /// Plugin id.
    pub plugin: String,
    /// Component size, bytes.
    pub component_bytes: usize,
    /// Compile time, ms.
    pub load_ms: f64,
    /// Types granted.
    pub granted: Vec<String>,
    /// Types the plugin asks for that were not granted.
    pub not_granted: Vec<String>,
    /// The invocation.
    pub invocation: InvokeOutcome,
}

/// What the demo did.
#[derive(Clone, Debug, Serialize)]
pub struct DemoReport {
    /// The home directory used.
    pub home: String,
    /// Samples generated per type.
    pub samples: Vec<(String, u64)>,
    /// Time to generate and store them, ms.
    pub data_ms: f64,
    /// The plugins.
    pub plugins: Vec<DemoPlugin>,
    /// Total wall time, ms.
    pub total_ms: f64,
}

fn types(list: &str) -> Vec<DataType> {
    parse_type_list(list).unwrap_or_default()
}

fn install_example(host: &Host, example: &ExamplePlugin) -> Result<crate::platform::InstallReport, HostError> {
    let dir = crate::examples::source_dir(example.id);
    host.install_parts(
        example.manifest,
        &dir.join(crate::manifest::MANIFEST_FILE),
        &dir.join("plugin.wasm"),
        example.component,
        InstallOptions::dev(),
    )
}

fn run_one(host: &Host, example: &ExamplePlugin, grant: &str, tool: &str, args: &str) -> Result<DemoPlugin, HostError> {
    let installed = install_example(host, example)?;
    let granted = types(grant);
    host.grant(
        DEMO_USER,
        example.id,
        &GrantRequest {
            types: granted.clone(),
            ..GrantRequest::default()
        },
    )?;
    let loaded = host.loaded(example.id)?;
    let not_granted = loaded
        .manifest
        .type_requests()
        .iter()
        .map(|r| r.data_type)
        .filter(|t| !granted.contains(t))
        .map(|t| t.id().to_string())
        .collect();
    let invocation = host.invoke(DEMO_USER, example.id, tool, args)?;
    Ok(DemoPlugin {
        plugin: example.id.to_string(),
        component_bytes: installed.component_bytes,
        load_ms: installed.load_ms,
        granted: granted.iter().map(|t| t.id().to_string()).collect(),
        not_granted,
        invocation,
    })
}

/// Runs the demo in `home` (which should be fresh).
pub fn run(host: &Host, home: &Path) -> Result<DemoReport, HostError> {
    let started = Instant::now();
    let samples = generate(90, now_ms());
    let mut counts: Vec<(String, u64)> = Vec::new();
    for s in &samples {
        match counts.iter_mut().find(|(id, _)| id == s.data_type.id()) {
            Some((_, n)) => *n += 1,
            None => counts.push((s.data_type.id().to_string(), 1)),
        }
    }
    host.store_samples(DEMO_USER, "healthplug demo", &samples)?;
    let data_ms = started.elapsed().as_secs_f64() * 1e3;
    install_example(host, &CSV_IMPORT)?;
    let plugins = vec![
        run_one(host, &ACTIVITY_COACH, "steps,heart-rate", "weekly-summary", "{}")?,
        run_one(
            host,
            &NUTRITION_COACH,
            "dietary-energy,dietary-protein,body-mass",
            "daily-advice",
            "{\"days\": 7}",
        )?,
    ];
    Ok(DemoReport {
        home: home.display().to_string(),
        samples: counts,
        data_ms,
        plugins,
        total_ms: started.elapsed().as_secs_f64() * 1e3,
    })
}
