//! The capabilities a plugin may import, one file per WIT interface, the
//! invocation state assembled from one state per capability around the
//! runtime's sandbox, and the linker that provides exactly those its
//! manifest declares, each through a borrowed view of its own state.

mod columns;
mod convert;
mod health_data;
mod health_state;
mod invocation;
mod limits;
mod log;
mod paging;
pub mod plan;
mod reading;
mod rows;
mod source;
mod storage;
mod wasi_clocks;
mod wasi_io;
mod wasi_random;
mod writes;

use anyhow::Result;
use wasmtime::Engine;
use wasmtime::component::Linker;

use crate::bindings::connector::healthplug::plugin::source as source_wit;
use crate::bindings::healthplug::plugin::{
    health_data as health_data_wit, log as log_wit, storage as storage_wit, types as types_wit,
};
use crate::manifest::{Manifest, World};

pub(crate) use convert::{from_wit_denial_reason, from_wit_type};
pub use health_state::{Access, AccessOutcome, HealthState};
pub use invocation::{CallState, InvocationState, Outcome, Party, PluginIdentity, UserSession, run};
pub use limits::resolve_limits;
pub use paging::Cursor;
pub use source::SourceFile;
pub use storage::StorageState;
pub use wasi_clocks::{CoarseMonotonicClock, CoarseWallClock};

/// A linker with WASI (sandboxed by the `WasiCtx`) and the healthplug
/// interfaces `manifest` is entitled to.
pub fn linker_for(engine: &Engine, manifest: &Manifest) -> Result<Linker<InvocationState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    wasi_io::shadow(&mut linker)?;
    wasi_random::shadow(&mut linker)?;
    types_wit::add_to_linker::<_, health_state::HealthData>(&mut linker, health_state::health_view)?;
    health_data_wit::add_to_linker::<_, health_state::HealthData>(&mut linker, health_state::health_view)?;
    log_wit::add_to_linker::<_, log::LogData>(&mut linker, log::log_view)?;
    if manifest.world == World::Connector {
        source_wit::add_to_linker::<_, source::SourceData>(&mut linker, source::source_view)?;
    }
    if manifest.storage.is_some() {
        storage_wit::add_to_linker::<_, storage::StorageData>(&mut linker, storage::storage_view)?;
    }
    if manifest.network.is_some() {
        wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut linker)?;
    }
    Ok(linker)
}
