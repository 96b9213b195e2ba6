//! The wasmtime runtime: one engine per process, the compiled-component
//! cache, the per-invocation store state and the call runner.

mod cache;
mod engine;
mod limits;
pub mod logs;
mod run;
mod slots;
mod state;

pub(crate) use cache::write_atomically;
pub use cache::{CacheOutcome, ComponentCache};
pub use engine::{Runtime, RuntimeConfig, engine_config};
pub use limits::{EffectiveLimits, LimitKind, PlatformLimits};
pub use logs::LogLine;
pub use run::{Outcome, RunFailure, run};
pub use state::{
    Access, AccessOutcome, CallState, InvocationState, PluginIdentity, PluginLimiter, StorageState, UserSession,
};
