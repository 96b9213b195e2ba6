//! Runs one call into a plugin in a fresh `Store`: limits installed, epoch
//! deadline armed, and every way it can fail classified into a typed
//! failure naming the limit or the trap. The `Store` is dropped afterwards,
//! whatever happened.

use std::time::{Duration, Instant};

use serde::Serialize;
use wasmtime::component::ResourceTableError;
use wasmtime::{Store, Trap};
use wasmtime_wasi::I32Exit;

use super::engine::Runtime;
use super::limits::{EffectiveLimits, LimitKind};
use super::logs::LogLine;
use super::sandbox::{Sandbox, Sandboxed};

/// How a plugin call failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "failure", rename_all = "kebab-case")]
pub enum RunFailure {
    /// A limit was hit.
    Limit {
        /// Which.
        limit: LimitKind,
        /// Details.
        detail: String,
    },
    /// The plugin trapped (panicked, hit `unreachable`, accessed memory
    /// out of bounds, exited, ...).
    Trap {
        /// The trap message.
        message: String,
    },
    /// The plugin broke the contract at the boundary: malformed values
    /// (invalid UTF-8, an out-of-range discriminant, a pointer outside its
    /// memory), a handle it does not own, ...
    Violation {
        /// What the host rejected.
        message: String,
    },
    /// Every instance slot stayed busy for the configured wait; the plugin
    /// never ran.
    Busy {
        /// Details.
        detail: String,
    },
}

impl RunFailure {
    /// A one-line description.
    pub fn describe(&self) -> String {
        match self {
            RunFailure::Limit { limit, detail } => format!("hit its `{}` limit: {detail}", limit.id()),
            RunFailure::Trap { message } => format!("trapped: {message}"),
            RunFailure::Violation { message } => format!("returned malformed values: {message}"),
            RunFailure::Busy { detail } => format!("could not run: {detail}"),
        }
    }

    /// The audit outcome: `limit: <kind>`, `trap`, `violation` or `busy`.
    pub fn audit_outcome(&self) -> String {
        match self {
            RunFailure::Limit { limit, .. } => format!("limit: {}", limit.id()),
            RunFailure::Trap { .. } => "trap".into(),
            RunFailure::Violation { .. } => "violation".into(),
            RunFailure::Busy { .. } => "busy".into(),
        }
    }
}

/// The result of a call, with the store's data at the end.
pub struct Outcome<D, R> {
    /// The call's value or failure.
    pub value: Result<R, RunFailure>,
    /// The invocation log.
    pub logs: Vec<LogLine>,
    /// Wall time.
    pub elapsed: Duration,
    /// Host calls made.
    pub host_calls: u64,
    /// The largest linear memory the plugin grew to, bytes.
    pub peak_memory: usize,
    /// Fuel burnt (0 when the runtime does not meter fuel).
    pub fuel_used: u64,
    /// The store's data at the end (for callers that continue with it).
    pub data: D,
}

/// The message of an error, without wasmtime's "error while executing at
/// wasm backtrace" context: the root cause, sanitised (it may quote guest
/// data).
fn first_line(err: &wasmtime::Error) -> String {
    let text = err.root_cause().to_string();
    super::logs::sanitize(text.lines().next().unwrap_or("trap"))
}

/// Whether wasmtime refused to copy more than the hostcall budget.
fn hostcall_data_exhausted(err: &wasmtime::Error) -> bool {
    format!("{err:#}").contains("fuel allocated for hostcalls has been exhausted")
}

fn table_full(err: &wasmtime::Error) -> bool {
    err.chain()
        .any(|e| matches!(e.downcast_ref::<ResourceTableError>(), Some(ResourceTableError::Full)))
}

fn classify(err: &wasmtime::Error, limiter_hit: Option<LimitKind>, limits: &EffectiveLimits) -> RunFailure {
    let limit = |limit: LimitKind, detail: String| RunFailure::Limit { limit, detail };
    // A trap that names its cause wins over a limit noted earlier (a plugin
    // may survive a refused `memory.grow` and then run out of time).
    match err.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => {
            return limit(LimitKind::Timeout, format!("ran longer than {} ms", limits.timeout_ms));
        }
        Some(Trap::StackOverflow) => return limit(LimitKind::Stack, "the wasm stack overflowed".into()),
        Some(Trap::OutOfFuel) => {
            let budget = limits.fuel.unwrap_or(0);
            return limit(LimitKind::Fuel, format!("burnt its {budget} units of fuel"));
        }
        _ => {}
    }
    if let Some(kind) = limiter_hit {
        let detail = match kind {
            LimitKind::Memory => format!("linear memory is capped at {} MiB", limits.memory_bytes / (1024 * 1024)),
            LimitKind::Table => format!("tables are capped at {} elements", limits.table_elements),
            LimitKind::HostCalls => format!("at most {} host calls per invocation", limits.host_calls),
            LimitKind::Timeout => format!("ran longer than {} ms", limits.timeout_ms),
            LimitKind::Random => format!("at most {} random bytes per invocation", limits.random_bytes),
            LimitKind::Decrypts => format!("at most {} samples unsealed per invocation", limits.decrypts),
            _ => first_line(err),
        };
        return limit(kind, detail);
    }
    match err.downcast_ref::<Trap>() {
        Some(trap) => RunFailure::Trap {
            message: trap.to_string(),
        },
        None if hostcall_data_exhausted(err) => limit(
            LimitKind::HostcallData,
            format!(
                "copied more than {} bytes to the host in one call",
                limits.hostcall_bytes
            ),
        ),
        None if table_full(err) => limit(
            LimitKind::Handles,
            format!("held more than {} resource handles", limits.handles),
        ),
        None => match err.downcast_ref::<I32Exit>() {
            Some(exit) => RunFailure::Trap {
                message: format!("the plugin exited with status {}", exit.0),
            },
            None => RunFailure::Violation {
                message: first_line(err),
            },
        },
    }
}

impl<D, R> Outcome<D, R> {
    /// A call that never reached the plugin.
    fn not_run(failure: RunFailure, data: D, started: Instant) -> Outcome<D, R> {
        Outcome {
            value: Err(failure),
            logs: Vec::new(),
            elapsed: started.elapsed(),
            host_calls: 0,
            peak_memory: 0,
            fuel_used: 0,
            data,
        }
    }
}

fn logs_of(sandbox: &Sandbox) -> Vec<LogLine> {
    match sandbox.log.lock() {
        Ok(buffer) => buffer.lines(),
        Err(poisoned) => poisoned.into_inner().lines(),
    }
}

/// Runs `body` against a fresh store holding `data`, under `limits`.
pub fn run<D: Sandboxed, R>(
    runtime: &Runtime,
    limits: &EffectiveLimits,
    data: D,
    body: impl FnOnce(&mut Store<D>) -> wasmtime::Result<R>,
) -> Outcome<D, R> {
    let started = Instant::now();
    let Some(_slot) = runtime.acquire_slot() else {
        let detail = format!(
            "all {} instance slots stayed busy for {} s",
            runtime.config().pool_slots,
            runtime.config().slot_wait.as_secs()
        );
        return Outcome::not_run(RunFailure::Busy { detail }, data, started);
    };
    let engine = match runtime.engine_for(limits.fuel.is_some()) {
        Ok(engine) => engine,
        Err(e) => {
            return Outcome::not_run(
                RunFailure::Trap {
                    message: format!("{e:#}"),
                },
                data,
                started,
            );
        }
    };
    let mut store = Store::new(engine, data);
    store.limiter(|s| &mut s.sandbox().limiter);
    store.set_epoch_deadline(runtime.deadline_ticks(limits.timeout_ms));
    store.epoch_deadline_trap();
    store.set_hostcall_fuel(limits.hostcall_bytes);
    if let Some(fuel) = limits.fuel
        && let Err(e) = store.set_fuel(fuel)
    {
        let message = format!("setting the fuel budget failed: {e}");
        return Outcome::not_run(RunFailure::Trap { message }, store.into_data(), started);
    }
    let result = body(&mut store);
    let fuel_used = limits
        .fuel
        .map_or(0, |budget| budget.saturating_sub(store.get_fuel().unwrap_or(0)));
    let mut data = store.into_data();
    let sandbox = data.sandbox();
    let value = match result {
        Ok(v) => match sandbox.limiter.hit {
            // A budget exhausted inside a host call the plugin survived is
            // still a limit hit.
            Some(LimitKind::HostCalls) => Err(RunFailure::Limit {
                limit: LimitKind::HostCalls,
                detail: format!("at most {} host calls per invocation", limits.host_calls),
            }),
            _ => Ok(v),
        },
        Err(e) => Err(classify(&e, sandbox.limiter.hit, limits)),
    };
    let (logs, host_calls, peak_memory) = (logs_of(sandbox), sandbox.host_calls, sandbox.limiter.peak_memory);
    Outcome {
        value,
        logs,
        elapsed: started.elapsed(),
        host_calls,
        peak_memory,
        fuel_used,
        data,
    }
}
