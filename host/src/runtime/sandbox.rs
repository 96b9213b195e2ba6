//! The sandbox every invocation's `Store` holds, whatever capabilities it
//! links: a `WasiCtx` with no preopens, no environment, no arguments, no
//! sockets or name lookup, stdin closed and stdout/stderr captured into
//! the log; the resource limiter; the wall-time deadline host code checks;
//! the host-call budget; and the `wasi:http` hooks (refusing everything
//! unless the caller hands in egress hooks). It knows nothing of users,
//! grants or health data: those live in `capabilities`, which wrap a
//! `Sandbox` in their own store data.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

use super::limits::{EffectiveLimits, LimitKind};
use super::logs::{LogBuffer, LogPipe, SharedLog};

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

/// What every store holds, whatever else it links.
pub struct Sandbox {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    /// When the invocation's wall time is over (blocking WASI calls give
    /// up then; the epoch deadline interrupts wasm at the same time).
    pub(crate) deadline: Instant,
    /// Random bytes handed out so far.
    pub(crate) random_used: u64,
    /// Host calls so far.
    pub(crate) host_calls: u64,
    /// Memory and table limits, and the limit hit (if any).
    pub limiter: PluginLimiter,
    /// The plugin's limits.
    pub limits: EffectiveLimits,
    /// The invocation log.
    pub log: SharedLog,
    http: WasiHttpCtx,
    hooks: Box<dyn WasiHttpHooks>,
}

/// The hooks of a plugin without `[network]`: it cannot even link
/// `wasi:http`, and should anything reach here it is refused.
struct NoNetwork;

type IoFuture = Box<dyn std::future::Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>;
type Sent = Result<(http::Response<wasmtime_wasi_http::WasiBody>, IoFuture), wasmtime_wasi_http::Error>;

impl WasiHttpHooks for NoNetwork {
    fn send_request(
        &mut self,
        _request: http::Request<wasmtime_wasi_http::WasiBody>,
        _options: Option<wasmtime_wasi_http::RequestOptions>,
        _fut: IoFuture,
    ) -> Box<dyn std::future::Future<Output = Sent> + Send> {
        Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) })
    }
}

impl Sandbox {
    /// A fresh sandbox under `limits`: the given clocks, and `egress` as
    /// the `wasi:http` hooks (`None`: every request refused).
    pub fn new(
        limits: EffectiveLimits,
        wall: impl HostWallClock + 'static,
        monotonic: impl HostMonotonicClock + 'static,
        egress: Option<Box<dyn WasiHttpHooks>>,
    ) -> Sandbox {
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
            .wall_clock(wall)
            .monotonic_clock(monotonic);
        let mut table = ResourceTable::new();
        table.set_max_capacity(limits.handles);
        let mut http = WasiHttpCtx::new();
        http.set_field_size_limit(64 * 1024);
        let deadline = Instant::now() + Duration::from_millis(u64::from(limits.timeout_ms));
        Sandbox {
            wasi: builder.build(),
            table,
            deadline,
            random_used: 0,
            host_calls: 0,
            limiter: PluginLimiter::new(&limits),
            limits,
            log,
            http,
            hooks: egress.unwrap_or_else(|| Box::new(NoNetwork)),
        }
    }

    /// Starts a host call: past the invocation's deadline it ends the
    /// invocation (a trap naming the `timeout` limit), and it is counted
    /// against the host-call budget (past it, a trap naming `host-calls`).
    pub fn count_host_call(&mut self) -> wasmtime::Result<()> {
        self.check_deadline()?;
        self.host_calls += 1;
        if self.host_calls > self.limits.host_calls {
            self.limiter.hit.get_or_insert(LimitKind::HostCalls);
            return Err(wasmtime::Error::msg(format!(
                "more than {} host calls in one invocation",
                self.limits.host_calls
            )));
        }
        Ok(())
    }

    /// Fails (a trap naming the `timeout` limit) once the deadline passed.
    pub fn check_deadline(&mut self) -> wasmtime::Result<()> {
        if Instant::now() >= self.deadline {
            self.limiter.hit.get_or_insert(LimitKind::Timeout);
            return Err(wasmtime::Error::msg(format!(
                "ran longer than {} ms (stopped in a host call)",
                self.limits.timeout_ms
            )));
        }
        Ok(())
    }

    /// Notes that a budget kept by a capability ran out (the run's failure
    /// then names `kind`, even if the plugin carries on).
    pub fn limit_hit(&mut self, kind: LimitKind) {
        self.limiter.hit.get_or_insert(kind);
    }
}

impl WasiHttpView for Sandbox {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: self.hooks.as_mut(),
        }
    }
}

impl WasiView for Sandbox {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Store data the runtime can run: it holds a [`Sandbox`].
pub trait Sandboxed: WasiView + 'static {
    /// The sandbox.
    fn sandbox(&mut self) -> &mut Sandbox;
}

impl Sandboxed for Sandbox {
    fn sandbox(&mut self) -> &mut Sandbox {
        self
    }
}
