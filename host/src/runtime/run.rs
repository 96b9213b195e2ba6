//! Runs one call into a plugin in a fresh `Store`: limits installed, epoch
//! deadline armed, and every way it can fail classified into a typed
//! failure naming the limit or the trap. The `Store` is dropped afterwards,
//! whatever happened.

use std::time::{Duration, Instant};

use serde::Serialize;
use wasmtime::{Store, Trap};

use super::engine::Runtime;
use super::limits::{EffectiveLimits, LimitKind};
use super::logs::LogLine;
use super::state::{Access, CallState, InvocationState};

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
    /// The plugin trapped (panicked, hit `unreachable`, returned malformed
    /// values, ...).
    Trap {
        /// The trap message.
        message: String,
    },
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
    pub elapsed: Duration,
    /// Host calls made.
    pub host_calls: u64,
    /// The largest linear memory the plugin grew to, bytes.
    pub peak_memory: usize,
    /// The consent state at the end (for callers that continue with it).
    pub call: CallState,
}

fn classify(err: &wasmtime::Error, limiter_hit: Option<LimitKind>, limits: &EffectiveLimits) -> RunFailure {
    if let Some(kind) = limiter_hit {
        let detail = match kind {
            LimitKind::Memory => format!("linear memory is capped at {} MiB", limits.memory_bytes / (1024 * 1024)),
            LimitKind::Table => format!("tables are capped at {} elements", limits.table_elements),
            LimitKind::HostCalls => format!("at most {} host calls per invocation", limits.host_calls),
            _ => format!("{err:#}"),
        };
        return RunFailure::Limit { limit: kind, detail };
    }
    match err.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => RunFailure::Limit {
            limit: LimitKind::Timeout,
            detail: format!("ran longer than {} ms", limits.timeout_ms),
        },
        Some(Trap::StackOverflow) => RunFailure::Limit {
            limit: LimitKind::Stack,
            detail: "the wasm stack overflowed".into(),
        },
        _ => RunFailure::Trap {
            message: format!("{err:#}").lines().next().unwrap_or("trap").to_string(),
        },
    }
}

/// Runs `body` against a fresh store for `call`, under `limits`.
pub fn run<R>(
    runtime: &Runtime,
    limits: &EffectiveLimits,
    call: CallState,
    body: impl FnOnce(&mut Store<InvocationState>) -> wasmtime::Result<R>,
) -> Outcome<R> {
    let started = Instant::now();
    let mut store = Store::new(runtime.engine(), InvocationState::new(call, limits.clone()));
    store.limiter(|s| &mut s.limiter);
    store.set_epoch_deadline(runtime.deadline_ticks(limits.timeout_ms));
    store.epoch_deadline_trap();
    let result = body(&mut store);
    let state = store.into_data();
    let value = match result {
        Ok(v) => match state.limiter.hit {
            // A budget exhausted inside a host call the plugin survived is
            // still a limit hit.
            Some(LimitKind::HostCalls) => Err(RunFailure::Limit {
                limit: LimitKind::HostCalls,
                detail: format!("at most {} host calls per invocation", limits.host_calls),
            }),
            _ => Ok(v),
        },
        Err(e) => Err(classify(&e, state.limiter.hit, limits)),
    };
    let logs = match state.log.lock() {
        Ok(buffer) => buffer.lines(),
        Err(poisoned) => poisoned.into_inner().lines(),
    };
    Outcome {
        value,
        accesses: state.call.accesses.clone(),
        logs,
        elapsed: started.elapsed(),
        host_calls: state.call.host_calls,
        peak_memory: state.limiter.peak_memory,
        call: state.call,
    }
}
