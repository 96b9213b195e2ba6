//! Helpers for healthplug's integration tests: fresh homes on a shared
//! runtime, paths of the example plugins and fixtures, and small
//! assertions on invocation output.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use healthplug_host::Host;
use healthplug_host::consent::PlatformPolicy;
use healthplug_host::network::NetworkPolicy;
use healthplug_host::platform::{GrantRequest, InstallOptions, InvokeOutcome};
use healthplug_host::registry::{DataType, parse_type_list};
use healthplug_host::runtime::{Runtime, RuntimeConfig};
use serde_json::Value;

pub mod fuzz;
pub mod fuzz_planner;
pub mod https;
pub mod lang;
pub mod pg;
pub mod serve;
pub mod web;

/// The installable directory of a fixture plugin of `tests/fixtures/`
/// (`name` is its path there): its manifest and built component side by
/// side, assembled by the build script.
pub fn fixture_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("HEALTHPLUG_FIXTURES_PACKAGES_DIR")).join(name)
}

/// The built component of a fixture (crate name with `_`).
pub fn fixture_wasm(crate_name: &str) -> PathBuf {
    PathBuf::from(env!("HEALTHPLUG_FIXTURES_WASM_DIR")).join(format!("{crate_name}.wasm"))
}

/// The installable directory of an example plugin of `plugins/`: its
/// manifest and built component side by side.
pub fn example_dir(id: &str) -> PathBuf {
    healthplug_host::examples::package_dir(id)
}

/// One runtime (engine, pool, ticker) shared by every test in the process.
pub fn shared_runtime() -> Arc<Runtime> {
    static RUNTIME: OnceLock<Arc<Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| match Runtime::new(RuntimeConfig::default()) {
            Ok(r) => Arc::new(r),
            Err(e) => unreachable!("the test runtime must start: {e:#}"),
        })
        .clone()
}

/// A fresh home directory with a host on it, deleted when dropped.
pub struct TestHome {
    /// The host.
    pub host: Host,
    dir: tempfile::TempDir,
}

impl TestHome {
    /// A fresh home with the default policy.
    pub fn new() -> anyhow::Result<TestHome> {
        TestHome::with_policy(PlatformPolicy::default())
    }

    /// A fresh home with `policy`.
    pub fn with_policy(policy: PlatformPolicy) -> anyhow::Result<TestHome> {
        TestHome::with_runtime(shared_runtime(), policy)
    }

    /// A fresh home whose plugins' egress follows `network` (a test's
    /// resolver, loopback, roots).
    pub fn with_network(network: NetworkPolicy) -> anyhow::Result<TestHome> {
        let dir = tempfile::Builder::new().prefix("healthplug-test-").tempdir()?;
        let host = Host::open_with(dir.path(), shared_runtime(), PlatformPolicy::default())?.with_network(network);
        Ok(TestHome { host, dir })
    }

    /// A fresh home on its own runtime (pool size, fuel, ... of its own).
    pub fn with_runtime(runtime: Arc<Runtime>, policy: PlatformPolicy) -> anyhow::Result<TestHome> {
        let dir = tempfile::Builder::new().prefix("healthplug-test-").tempdir()?;
        let host = Host::open_with(dir.path(), runtime, policy)?;
        Ok(TestHome { host, dir })
    }

    /// The home directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Installs a plugin directory (dev install).
    pub fn install(&self, dir: &Path) -> anyhow::Result<()> {
        self.host.install(dir, InstallOptions::dev())?;
        Ok(())
    }

    /// Grants `types` (comma-separated) with the manifest's defaults.
    pub fn grant(&self, user: &str, plugin: &str, types: &str) -> anyhow::Result<()> {
        self.grant_with(
            user,
            plugin,
            GrantRequest {
                types: types_of(types),
                ..GrantRequest::default()
            },
        )
    }

    /// Grants with explicit options.
    pub fn grant_with(&self, user: &str, plugin: &str, req: GrantRequest) -> anyhow::Result<()> {
        self.host.grant(user, plugin, &req)?;
        Ok(())
    }

    /// Invokes and parses the JSON output (failing on a tool error).
    pub fn invoke_json(
        &self,
        user: &str,
        plugin: &str,
        tool: &str,
        args: Value,
    ) -> anyhow::Result<(Value, InvokeOutcome)> {
        let outcome = self.host.invoke(user, plugin, tool, &args.to_string())?;
        let text = outcome
            .result
            .clone()
            .map_err(|f| anyhow::anyhow!("tool failed: {} {}", f.kind, f.message))?;
        Ok((serde_json::from_str(&text)?, outcome))
    }
}

/// Parses a comma-separated type list (test input, known good).
pub fn types_of(list: &str) -> Vec<DataType> {
    parse_type_list(list).unwrap_or_default()
}

/// One registry type by id (test input, known good).
pub fn ty(id: &str) -> DataType {
    DataType::from_id(id).unwrap_or_else(|| unreachable!("unknown type {id} in a test"))
}

/// Milliseconds per day.
pub const DAY_MS: i64 = 86_400_000;

/// Now, in ms since the epoch.
pub fn now_ms() -> i64 {
    healthplug_host::vault::now_ms()
}

/// Writes a synthetic Apple Health `export.xml` of `records` step and
/// heart-rate records (plus one workout per 100 records) to `out`, in the
/// real format (DTD, `HealthData` root, `-0800` dates, device strings).
/// Returns the number of records of each kind: (steps, heart rate, workouts).
pub fn write_apple_export(out: &mut impl std::io::Write, records: usize) -> std::io::Result<(usize, usize, usize)> {
    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(
        out,
        "<!DOCTYPE HealthData [\n<!ELEMENT HealthData (ExportDate,Me,(Record|Workout)*)>\n]>"
    )?;
    writeln!(out, "<HealthData locale=\"en_US\">")?;
    writeln!(out, " <ExportDate value=\"2021-01-22 19:29:25 -0800\"/>")?;
    let device = "&lt;&lt;HKDevice: 0x281307c50&gt;, name:iPhone, manufacturer:Apple Inc., model:iPhone, hardware:iPhone12,3, software:14.0&gt;";
    let (mut steps, mut hr, mut workouts) = (0, 0, 0);
    for i in 0..records {
        // One record a minute, 28-day months: every timestamp distinct.
        let d = i / 1440;
        let (year, month, day) = (2000 + d / (28 * 12), 1 + (d / 28) % 12, 1 + d % 28);
        let minute = i % 1440;
        let (h, m) = (minute / 60, minute % 60);
        let stamp = format!("{year}-{month:02}-{day:02} {h:02}:{m:02}:00 -0800");
        if i % 2 == 0 {
            steps += 1;
            writeln!(
                out,
                " <Record type=\"HKQuantityTypeIdentifierStepCount\" sourceName=\"Synthetic iPhone\" sourceVersion=\"14.0\" device=\"{device}\" unit=\"count\" creationDate=\"{stamp}\" startDate=\"{stamp}\" endDate=\"{stamp}\" value=\"{}\"/>",
                10 + i % 90
            )?;
        } else {
            hr += 1;
            writeln!(
                out,
                " <Record type=\"HKQuantityTypeIdentifierHeartRate\" sourceName=\"Synthetic Watch\" unit=\"count/min\" creationDate=\"{stamp}\" startDate=\"{stamp}\" endDate=\"{stamp}\" value=\"{}\">\n  <MetadataEntry key=\"HKMetadataKeyHeartRateMotionContext\" value=\"0\"/>\n </Record>",
                55 + i % 60
            )?;
        }
        if i % 100 == 99 {
            workouts += 1;
            writeln!(
                out,
                " <Workout workoutActivityType=\"HKWorkoutActivityTypeRunning\" duration=\"30\" durationUnit=\"min\" totalDistance=\"5\" totalDistanceUnit=\"km\" totalEnergyBurned=\"300\" totalEnergyBurnedUnit=\"Cal\" sourceName=\"Synthetic Watch\" creationDate=\"{stamp}\" startDate=\"{stamp}\" endDate=\"{stamp}\"/>"
            )?;
        }
    }
    writeln!(out, "</HealthData>")?;
    Ok((steps, hr, workouts))
}

/// Grants `user` read and write of `types` (comma-separated) for `plugin`,
/// with the manifest's defaults otherwise.
pub fn grant_writes(host: &Host, user: &str, plugin: &str, types: &str) -> anyhow::Result<()> {
    host.grant(
        user,
        plugin,
        &GrantRequest {
            types: types_of(types),
            write: true,
            ..GrantRequest::default()
        },
    )?;
    Ok(())
}

/// The four quantity types [`budget_home`] stores.
pub const FLOOD_TYPES: [&str; 4] = ["steps", "heart-rate", "body-mass", "dietary-energy"];

/// A home whose invocations may unseal at most 50,000 samples, with the
/// probe installed (not granted) and 5,000 samples a minute apart of each
/// of [`FLOOD_TYPES`] stored for `alice` ten days ago: 20,000 per query of
/// all four, so the budget allows two.
pub fn budget_home() -> anyhow::Result<TestHome> {
    let mut config = RuntimeConfig::default();
    config.platform.max_decrypts = 50_000;
    let home = TestHome::with_runtime(Arc::new(Runtime::new(config)?), PlatformPolicy::default())?;
    home.install(&fixture_dir("probe"))?;
    let now = now_ms();
    let mut samples = Vec::new();
    for id in FLOOD_TYPES {
        samples.extend((0..5_000).map(|i| {
            let t = now - 10 * DAY_MS + i * 60_000;
            healthplug_host::vault::NewSample::quantity(ty(id), t, t, 1.0)
        }));
    }
    home.host.store_samples("alice", "test", &samples)?;
    Ok(home)
}
