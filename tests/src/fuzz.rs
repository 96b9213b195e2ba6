//! The bodies of healthplug's fuzz targets (`tests/fuzz`, run with
//! `cargo +nightly fuzz`), kept here so the normal suite runs them over a
//! seed corpus on stable. Each panics when a property breaks: a panic is
//! what the fuzzer reports.
#![allow(clippy::panic, reason = "a panic is how a fuzz target reports a broken property")]

use std::path::Path;

use healthplug_host::HostError;
use healthplug_host::manifest::Manifest;
use healthplug_host::platform::{GrantRequest, InstallOptions};
use healthplug_host::registry::parse_type_list;

use crate::TestHome;

/// Any bytes given as a manifest parse or fail with an error naming the
/// file; never a panic.
pub fn manifest(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Err(e) = Manifest::parse(&text, Path::new("fuzz/healthplug.toml")) {
        assert!(e.to_string().starts_with("fuzz/healthplug.toml"), "{e}");
    }
}

/// Installs arbitrary bytes as a plugin's component.
pub struct ComponentFuzzer {
    home: TestHome,
}

const MANIFEST: &str = "[plugin]\nid = \"fuzzed\"\nname = \"Fuzzed\"\nversion = \"1.0.0\"\npublisher = \"fuzz\"\ncomponent = \"fuzzed.wasm\"\n\n[[read]]\ntypes = [\"steps\"]\npurpose = \"Read steps to fuzz the installer\"\n";

impl ComponentFuzzer {
    /// A fuzzer on a fresh home.
    pub fn new() -> anyhow::Result<ComponentFuzzer> {
        Ok(ComponentFuzzer { home: TestHome::new()? })
    }

    /// Installs `data`: it is a component (then removed again) or refused
    /// as an invalid component; never a panic or another kind of error.
    pub fn run(&self, data: &[u8]) {
        let result = self.home.host.install_parts(
            MANIFEST,
            Path::new("healthplug.toml"),
            Path::new("fuzzed.wasm"),
            data,
            InstallOptions::dev(),
        );
        match result {
            Ok(_) => {
                let _ = self.home.host.remove("fuzzed");
            }
            Err(HostError::InvalidComponent { path, .. }) => assert_eq!(path, "fuzzed.wasm"),
            Err(other) => panic!("not an invalid-component error: {other}"),
        }
    }
}

/// Imports arbitrary bytes with each connector.
pub struct ConnectorFuzzer {
    home: TestHome,
}

/// The connectors and the types granted to each.
const CONNECTORS: [(&str, &str, &str); 4] = [
    ("apple-health", "export.xml", "steps,heart-rate,workout,body-mass,sleep"),
    (
        "fhir-r4",
        "bundle.json",
        "heart-rate,body-mass,condition,medication,lab-result",
    ),
    (
        "myfitnesspal",
        "Nutrition-Summary.csv",
        "dietary-energy,dietary-fat,dietary-protein",
    ),
    ("gpx", "track.gpx", "workout,heart-rate"),
];

impl ConnectorFuzzer {
    /// A fuzzer with the four connectors installed and granted.
    pub fn new() -> anyhow::Result<ConnectorFuzzer> {
        let home = TestHome::new()?;
        for (id, _, types) in CONNECTORS {
            let dir = healthplug_host::examples::source_dir(id);
            let manifest_path = dir.join("healthplug.toml");
            let manifest = std::fs::read_to_string(&manifest_path)?;
            let wasm = healthplug_host::examples::wasm_dir().join(format!("{}.wasm", id.replace('-', "_")));
            let bytes = std::fs::read(&wasm)?;
            home.host
                .install_parts(&manifest, &manifest_path, &wasm, &bytes, InstallOptions::dev())?;
            home.grant_with(
                "fuzz",
                id,
                GrantRequest {
                    types: parse_type_list(types).unwrap_or_default(),
                    write: true,
                    ..GrantRequest::default()
                },
            )?;
        }
        Ok(ConnectorFuzzer { home })
    }

    /// Imports `data` (its first byte picks the connector): a report, a
    /// typed import error or a contained plugin failure; never a panic or
    /// a host error.
    pub fn run(&self, data: &[u8]) {
        let Some((&pick, input)) = data.split_first() else {
            return;
        };
        let (id, name, _) = CONNECTORS[usize::from(pick) % CONNECTORS.len()];
        let file = self.home.path().join(name);
        if std::fs::write(&file, input).is_err() {
            return;
        }
        match self.home.host.import("fuzz", id, &file, &serde_json::json!({})) {
            Ok(_) | Err(HostError::Import { .. }) | Err(HostError::Plugin { .. }) => {}
            Err(other) => panic!("{id}: not contained: {other}"),
        }
    }
}
