//! One invocation's store data, assembled from one state per capability
//! around the runtime's [`Sandbox`]: who runs (`Party`), the health-data
//! state (grants, accesses, staged writes, cursors), storage, the import
//! file, and the egress hooks. Each WIT interface is linked through a
//! borrowed view of the parts it needs (`HealthView`, `StorageView`, ...,
//! each with a `HasData` marker), never through the whole state.

use std::sync::Arc;

use wasmtime::Store;
use wasmtime_wasi::{WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

use super::health_state::{Access, HealthState};
use super::source::SourceFile;
use super::storage::StorageState;
use super::wasi_clocks::{CoarseMonotonicClock, CoarseWallClock};
use crate::consent::Calendar;
use crate::ports::{AuditSink, GrantSource};
use crate::runtime::{self, EffectiveLimits, LogLine, RunFailure, Runtime, Sandbox, Sandboxed};
use crate::vault::{SecretKey, UserRecord, Vault};

/// The plugin an invocation runs.
#[derive(Clone, Debug)]
pub struct PluginIdentity {
    /// Plugin id.
    pub id: String,
    /// Component sha256.
    pub digest: String,
    /// Installed with `--dev`.
    pub dev: bool,
}

/// The user an invocation runs for, with their data key and calendar.
#[derive(Clone)]
pub struct UserSession {
    /// The user.
    pub user: UserRecord,
    /// Their data key.
    pub key: SecretKey,
    /// Their time zone's calendar (buckets and day-snapping follow it).
    pub calendar: Calendar,
}

/// Who an invocation runs as, and the doors to the platform's records:
/// shared read-only by every capability of the invocation.
#[derive(Clone)]
pub struct Party {
    /// The vault holding the samples and storage.
    pub vault: Vault,
    /// What the user granted, read afresh on every host call.
    pub grants: Arc<dyn GrantSource>,
    /// Where accesses and refusals are audited before they happen.
    pub audit: Arc<dyn AuditSink>,
    /// The plugin.
    pub plugin: PluginIdentity,
    /// The user, if the call runs for one (listing tools does not).
    pub user: Option<UserSession>,
    /// Identifies this invocation's staged writes.
    pub invocation: String,
}

/// What an invocation starts with, one state per capability; what it
/// ends with comes back in [`Outcome::call`].
pub struct CallState {
    /// Who runs.
    pub party: Party,
    /// `health-data`: grants, accesses, staged writes, cursors.
    pub health: HealthState,
    /// `storage`, for plugins whose manifest declares `[storage]`.
    pub storage: Option<StorageState>,
    /// `source`: the file a connector imports.
    pub input: Option<SourceFile>,
    /// `wasi:http` hooks, for plugins whose manifest declares `[network]`
    /// (moved into the sandbox when the store is created).
    pub egress: Option<Box<dyn WasiHttpHooks>>,
}

/// The data of one invocation's `Store`.
pub struct InvocationState {
    pub(crate) sandbox: Sandbox,
    pub(crate) call: CallState,
}

impl InvocationState {
    /// A fresh state under `limits`: a sandboxed WASI context with coarse
    /// clocks, and no grants loaded yet (the first host call loads them).
    pub fn new(mut call: CallState, limits: EffectiveLimits) -> InvocationState {
        let egress = call.egress.take();
        let sandbox = Sandbox::new(limits, CoarseWallClock, CoarseMonotonicClock::new(), egress);
        InvocationState { sandbox, call }
    }
}

impl Sandboxed for InvocationState {
    fn sandbox(&mut self) -> &mut Sandbox {
        &mut self.sandbox
    }
}

impl WasiView for InvocationState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        self.sandbox.ctx()
    }
}

impl WasiHttpView for InvocationState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        self.sandbox.http()
    }
}

/// The result of a call, with what the plugin did along the way.
pub struct Outcome<R> {
    /// The call's value or failure.
    pub value: Result<R, RunFailure>,
    /// Data accesses.
    pub accesses: Vec<Access>,
    /// The invocation log.
    pub logs: Vec<LogLine>,
    /// Wall time.
    pub elapsed: std::time::Duration,
    /// Host calls made.
    pub host_calls: u64,
    /// The largest linear memory the plugin grew to, bytes.
    pub peak_memory: usize,
    /// Fuel burnt (0 when the runtime does not meter fuel).
    pub fuel_used: u64,
    /// The capabilities' state at the end (staged writes, storage overlay).
    pub call: CallState,
}

/// Runs `body` against a fresh store for `call`, under `limits`.
pub fn run<R>(
    runtime: &Runtime,
    limits: &EffectiveLimits,
    call: CallState,
    body: impl FnOnce(&mut Store<InvocationState>) -> wasmtime::Result<R>,
) -> Outcome<R> {
    let out = runtime::run(runtime, limits, InvocationState::new(call, limits.clone()), body);
    let call = out.data.call;
    Outcome {
        value: out.value,
        accesses: call.health.accesses.clone(),
        logs: out.logs,
        elapsed: out.elapsed,
        host_calls: out.host_calls,
        peak_memory: out.peak_memory,
        fuel_used: out.fuel_used,
        call,
    }
}
