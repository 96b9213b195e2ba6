//! The data of one `Store`, which lives for exactly one invocation: the
//! user and plugin it runs for, a snapshot of the plugin's grants (checked
//! and refreshed on every host call), its limits, its log, and a `WasiCtx`
//! with no preopens, no environment, no arguments, no sockets or name
//! lookup, stdin closed and stdout/stderr captured into the log.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use serde::Serialize;
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

use super::limits::{EffectiveLimits, LimitKind};
use super::logs::{LogBuffer, LogPipe, SharedLog};
use crate::capabilities::{CoarseMonotonicClock, CoarseWallClock};
use crate::consent::{Calendar, Denial, Fields, GrantSet, PlatformPolicy, TypeRequest};
use crate::registry::DataType;
use crate::vault::{Cursor, SecretKey, UserRecord, Vault, capabilities, consents};

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

/// What one host call did with one data type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum AccessOutcome {
    /// Data was delivered.
    Allowed {
        /// Samples (or aggregate rows) delivered.
        count: u64,
        /// Fields delivered.
        fields: Fields,
        /// `raw`, `hourly` or `daily`.
        granularity: String,
    },
    /// Samples were written.
    Written {
        /// Samples stored.
        count: u64,
    },
    /// Refused.
    Denied {
        /// Why.
        reason: String,
    },
}

/// One data access of an invocation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Access {
    /// The type.
    pub data_type: DataType,
    /// What happened.
    #[serde(flatten)]
    pub outcome: AccessOutcome,
}

/// Consent state of one invocation, re-validated on every host call.
pub struct CallState {
    /// The vault.
    pub vault: Vault,
    /// The plugin.
    pub plugin: PluginIdentity,
    /// The user, if the call runs for one (listing tools does not).
    pub user: Option<UserSession>,
    /// What the manifest requests.
    pub requests: Arc<[TypeRequest]>,
    /// Platform policy.
    pub policy: PlatformPolicy,
    /// Grants computed at `consent_version`.
    pub grants: GrantSet,
    /// The consent version the grants were computed from.
    pub consent_version: i64,
    /// Accesses so far.
    pub accesses: Vec<Access>,
    /// Host calls so far.
    pub host_calls: u64,
    /// Identifies this invocation's staged writes.
    pub invocation: String,
    /// Samples staged for writing, per type (committed when it succeeds).
    pub staged: Vec<(DataType, u64)>,
    /// Samples unsealed so far (bounded by the `decrypts` limit).
    pub decrypts: u64,
    /// The positions of the pages handed out: cursor `n` is entry `n - 1`.
    pub cursors: Vec<Cursor>,
    /// The file a connector imports.
    pub input: Option<crate::capabilities::SourceFile>,
    /// Storage state, for plugins whose manifest declares `[storage]`.
    pub storage: Option<StorageState>,
    /// Egress hooks, for plugins whose manifest declares `[network]`
    /// (moved into the store when it is created).
    pub egress: Option<crate::network::EgressHooks>,
    /// The egress counters of those hooks.
    pub egress_stats: Option<std::sync::Arc<crate::network::EgressStats>>,
}

/// A plugin's storage during one invocation: writes are kept here and
/// committed when the invocation succeeds.
#[derive(Debug, Default)]
pub struct StorageState {
    /// The user granted storage (refreshed with the consent version).
    pub granted: bool,
    /// Pending writes: `Some(value)` to set, `None` to delete.
    pub overlay: std::collections::BTreeMap<String, Option<Vec<u8>>>,
    /// Bytes the overlay adds to what is stored (may be negative).
    pub bytes_delta: i64,
    /// Keys the overlay adds (may be negative).
    pub keys_delta: i64,
    /// The byte quota the user granted (never more than the manifest's).
    pub granted_bytes: u64,
    /// The key quota the user granted.
    pub granted_keys: u64,
}

/// Parses a storage grant's scope, `max-bytes=N;max-keys=M`.
fn storage_scope(scope: &str) -> (u64, u64) {
    let mut bytes = u64::MAX;
    let mut keys = u64::MAX;
    for part in scope.split(';') {
        match part.split_once('=') {
            Some(("max-bytes", v)) => bytes = v.parse().unwrap_or(0),
            Some(("max-keys", v)) => keys = v.parse().unwrap_or(0),
            _ => {}
        }
    }
    (bytes, keys)
}

impl CallState {
    /// Re-reads the consent version and recomputes the grants if a grant or
    /// revoke happened since: a revocation bites on the next host call.
    pub fn refresh(&mut self, conn: &rusqlite::Connection) -> Result<()> {
        let Some(session) = &self.user else {
            self.grants = GrantSet::empty();
            return Ok(());
        };
        let version = consents::version(conn, session.user.id, &self.plugin.id)?;
        if version != self.consent_version {
            let rows = consents::grants(conn, session.user.id, &self.plugin.id)?;
            self.grants = GrantSet::compute(&self.requests, &rows, &self.policy);
            if let Some(storage) = self.storage.as_mut() {
                let scope = capabilities::active(
                    conn,
                    session.user.id,
                    &self.plugin.id,
                    capabilities::Capability::Storage,
                )?;
                storage.granted = scope.is_some();
                (storage.granted_bytes, storage.granted_keys) = storage_scope(scope.as_deref().unwrap_or(""));
            }
            self.consent_version = version;
        }
        Ok(())
    }

    /// Records a refusal.
    pub fn denied(&mut self, denial: Denial) {
        self.accesses.push(Access {
            data_type: denial.data_type,
            outcome: AccessOutcome::Denied {
                reason: denial.reason.id().to_string(),
            },
        });
    }
}

/// A `ResourceLimiter` that remembers which limit was hit, so the caller
/// gets a typed error naming it.
pub struct PluginLimiter {
    memory_bytes: usize,
    table_elements: usize,
    /// The limit hit, if any.
    pub hit: Option<LimitKind>,
    /// The largest linear memory granted, bytes.
    pub peak_memory: usize,
}

impl PluginLimiter {
    fn new(limits: &EffectiveLimits) -> PluginLimiter {
        PluginLimiter {
            memory_bytes: usize::try_from(limits.memory_bytes).unwrap_or(usize::MAX),
            table_elements: limits.table_elements,
            hit: None,
            peak_memory: 0,
        }
    }
}

impl ResourceLimiter for PluginLimiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            self.hit = Some(LimitKind::Memory);
            return Ok(false);
        }
        self.peak_memory = self.peak_memory.max(desired);
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.table_elements {
            self.hit = Some(LimitKind::Table);
            return Ok(false);
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        64
    }

    fn tables(&self) -> usize {
        64
    }

    fn memories(&self) -> usize {
        16
    }
}

/// The data of one invocation's `Store`.
pub struct InvocationState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    /// When the invocation's wall time is over (blocking WASI calls give
    /// up then; the epoch deadline interrupts wasm at the same time).
    pub(crate) deadline: Instant,
    /// Random bytes handed out so far.
    pub(crate) random_used: u64,
    /// Memory and table limits.
    pub limiter: PluginLimiter,
    /// The plugin's limits.
    pub limits: EffectiveLimits,
    /// Consent and accesses.
    pub call: CallState,
    /// The invocation log.
    pub log: SharedLog,
    http: WasiHttpCtx,
    hooks: Box<dyn WasiHttpHooks>,
}

/// The hooks of a plugin without `[network]`: it cannot even link
/// `wasi:http`, and should anything reach here it is refused.
struct NoNetwork;

impl WasiHttpHooks for NoNetwork {
    fn send_request(
        &mut self,
        _request: http::Request<wasmtime_wasi_http::WasiBody>,
        _options: Option<wasmtime_wasi_http::RequestOptions>,
        _fut: Box<dyn std::future::Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> Box<
        dyn std::future::Future<
                Output = Result<
                    (
                        http::Response<wasmtime_wasi_http::WasiBody>,
                        Box<dyn std::future::Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
                    ),
                    wasmtime_wasi_http::Error,
                >,
            > + Send,
    > {
        Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) })
    }
}

impl InvocationState {
    /// A fresh state: a sandboxed WASI context and no grants loaded yet
    /// (the first host call loads them).
    pub fn new(mut call: CallState, limits: EffectiveLimits) -> InvocationState {
        let log: SharedLog = Arc::new(Mutex::new(LogBuffer::new(limits.log_bytes)));
        let mut builder = WasiCtx::builder();
        builder
            .stdout(LogPipe::new(log.clone(), "stdout"))
            .stderr(LogPipe::new(log.clone(), "stderr"))
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(|_, _| Box::pin(async { false }))
            .max_random_size(limits.random_bytes)
            .wall_clock(CoarseWallClock)
            .monotonic_clock(CoarseMonotonicClock::new());
        let mut table = ResourceTable::new();
        table.set_max_capacity(limits.handles);
        let hooks: Box<dyn WasiHttpHooks> = match call.egress.take() {
            Some(egress) => Box::new(egress),
            None => Box::new(NoNetwork),
        };
        let mut http = WasiHttpCtx::new();
        http.set_field_size_limit(64 * 1024);
        let deadline = Instant::now() + Duration::from_millis(u64::from(limits.timeout_ms));
        InvocationState {
            wasi: builder.build(),
            table,
            deadline,
            random_used: 0,
            limiter: PluginLimiter::new(&limits),
            limits,
            call,
            log,
            http,
            hooks,
        }
    }
}

impl WasiHttpView for InvocationState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: self.hooks.as_mut(),
        }
    }
}

impl WasiView for InvocationState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
