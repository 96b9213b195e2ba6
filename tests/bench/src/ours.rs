//! healthplug's own per-invocation path, driven piece by piece for the
//! benchmarks that need more than `Host::invoke`: the same runtime, the
//! linker a plugin's manifest entitles it to, `InvocationState` with its
//! limits, and `capabilities::run` over `runtime::run` (pool slot, store, limiter, epoch deadline,
//! fuel, hostcall budget).

use std::path::Path;
use std::sync::Arc;

use healthplug_host::Host;
use healthplug_host::bench_bindings::PluginPre;
use healthplug_host::capabilities::{
    CallState, HealthState, InvocationState, Party, PluginIdentity, linker_for, resolve_limits,
};
use healthplug_host::consent::{PlatformPolicy, TypeRequest};
use healthplug_host::manifest::Manifest;
use healthplug_host::runtime::{EffectiveLimits, Runtime};
use wasmtime::component::Component;

/// A plugin prepared the way healthplug prepares it.
pub struct Prepared {
    /// Its manifest.
    pub manifest: Manifest,
    /// Its limits.
    pub limits: EffectiveLimits,
    /// The pre-instantiated world.
    pub pre: PluginPre<InvocationState>,
    /// What the manifest requests (shared by invocations, as the host does).
    pub requests: Arc<[TypeRequest]>,
}

impl Prepared {
    /// Compiles the plugin in `dir` on `runtime`'s engine.
    pub fn new(runtime: &Runtime, dir: &Path) -> anyhow::Result<Prepared> {
        let manifest_path = dir.join("healthplug.toml");
        let manifest = Manifest::parse(&std::fs::read_to_string(&manifest_path)?, &manifest_path)?;
        let bytes = std::fs::read(dir.join(&manifest.component))?;
        let component = Component::new(runtime.engine(), &bytes)?;
        let linker = linker_for(runtime.engine(), &manifest)?;
        let pre = PluginPre::new(linker.instantiate_pre(&component)?)?;
        let limits = resolve_limits(&manifest.limits, None, &runtime.config().platform, manifest.world);
        let requests = manifest.type_requests().into();
        Ok(Prepared {
            manifest,
            limits,
            pre,
            requests,
        })
    }

    /// The consent state an invocation for `user` starts with.
    pub fn call_state(&self, host: &Host, user: Option<&str>) -> anyhow::Result<CallState> {
        let user = match user {
            Some(handle) => {
                let record = host.user(handle)?;
                Some(host.session(&record)?)
            }
            None => None,
        };
        let vault = host.vault().clone();
        Ok(CallState {
            party: Party {
                grants: Arc::new(vault.clone()),
                audit: Arc::new(vault.clone()),
                vault,
                plugin: PluginIdentity {
                    id: self.manifest.id.clone(),
                    digest: String::new(),
                    dev: true,
                },
                user,
                invocation: format!("{}-bench", std::process::id()),
            },
            health: HealthState::new(self.requests.clone(), PlatformPolicy::default()),
            storage: None,
            input: None,
            egress: None,
        })
    }
}

/// A fresh home on a new default runtime with `bench-sum` installed and
/// user `bench` granted its steps.
pub fn bench_sum_home() -> anyhow::Result<healthplug_tests::TestHome> {
    let home = home_on(Arc::new(Runtime::new(
        healthplug_host::runtime::RuntimeConfig::default(),
    )?))?;
    home.install(&healthplug_tests::fixture_dir("bench-sum"))?;
    home.grant("bench", "bench-sum", "steps")?;
    Ok(home)
}

/// A fresh home on `runtime`.
pub fn home_on(runtime: Arc<Runtime>) -> anyhow::Result<healthplug_tests::TestHome> {
    healthplug_tests::TestHome::with_runtime(runtime, PlatformPolicy::default())
}
