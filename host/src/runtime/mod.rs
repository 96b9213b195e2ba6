//! The wasmtime runtime: one engine per process, the compiled-component
//! cache, the sandbox every store holds and the call runner. It knows
//! wasmtime, limits and slots only: `run` is generic over the store's data
//! (anything holding a [`Sandbox`]), and nothing here imports the vault,
//! consent, network or manifest.

mod cache;
mod engine;
mod limits;
pub mod logs;
mod run;
mod sandbox;
mod slots;

pub(crate) use cache::write_atomically;
pub use cache::{CacheOutcome, ComponentCache};
pub use engine::{Runtime, RuntimeConfig, engine_config};
pub use limits::{EffectiveLimits, LimitKind, PlatformLimits};
pub use logs::LogLine;
pub use run::{Outcome, RunFailure, run};
pub use sandbox::{PluginLimiter, Sandbox, Sandboxed};
