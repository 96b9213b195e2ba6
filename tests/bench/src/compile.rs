//! B6: compiling each example plugin vs loading it from healthplug's
//! compiled-component cache (file read, HMAC check, deserialize).

use healthplug_host::runtime::{CacheOutcome, ComponentCache, RuntimeConfig, engine_config};
use healthplug_host::vault::SecretKey;
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::measure::{Report, measure};

/// The example plugins (id, crate file name).
const EXAMPLES: [(&str, &str); 7] = [
    ("activity-coach", "activity_coach"),
    ("nutrition-coach", "nutrition_coach"),
    ("apple-health", "apple_health"),
    ("fhir-r4", "fhir_r4"),
    ("myfitnesspal", "myfitnesspal"),
    ("gpx", "gpx"),
    ("cloud-sync", "cloud_sync"),
];

/// B6.
pub fn compile_vs_cached(report: &mut Report) -> anyhow::Result<()> {
    let engine = Engine::new(&engine_config(&RuntimeConfig::default(), false))?;
    let dir = tempfile::tempdir()?;
    let cache = ComponentCache::new(dir.path(), SecretKey::generate()?.derive_bytes(b"bench cache"))?;
    let mut worst = f64::INFINITY;
    for (id, file) in EXAMPLES {
        let bytes = std::fs::read(healthplug_host::examples::wasm_dir().join(format!("{file}.wasm")))?;
        let sha = hex::encode(Sha256::digest(&bytes));
        let compile = measure(1, 3, || {
            let _ = Component::new(&engine, &bytes);
        });
        let (_, outcome) = cache.load(&engine, &sha, &bytes)?;
        anyhow::ensure!(
            matches!(outcome, CacheOutcome::Compiled),
            "{id}: expected a compile first"
        );
        let mut hit = true;
        let cached = measure(3, 30, || {
            hit &= matches!(cache.load(&engine, &sha, &bytes), Ok((_, CacheOutcome::Hit)));
        });
        anyhow::ensure!(hit, "{id}: the cache missed");
        let ratio = compile.p50_ns / cached.p50_ns;
        worst = worst.min(ratio);
        report.add(
            "B6",
            &format!("{id} ({} KB): compile → cached load", bytes.len() / 1024),
            compile.p50_ns / 1e6,
            "ms",
            format!("cached {:.2} ms: {ratio:.0}x faster", cached.p50_ns / 1e6),
        );
    }
    report.add(
        "B6",
        "cached load vs compile, the smallest ratio",
        worst,
        "x",
        format!("target ≥ 50x: {}", if worst >= 50.0 { "met" } else { "MISSED" }),
    );
    Ok(())
}
