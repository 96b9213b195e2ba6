//! The capabilities a plugin may import, one file per WIT interface, and
//! the linker that provides exactly those its manifest declares.

mod columns;
mod convert;
mod health_data;
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
use wasmtime::component::{HasSelf, Linker};

use crate::bindings::connector::healthplug::plugin::source as source_wit;
use crate::bindings::healthplug::plugin::{
    health_data as health_data_wit, log as log_wit, storage as storage_wit, types as types_wit,
};
use crate::manifest::{Manifest, World};
use crate::runtime::InvocationState;

pub use convert::{from_wit_denial_reason, from_wit_type, to_wit_type};
pub use paging::Cursor;
pub use source::SourceFile;
pub use wasi_clocks::{CoarseMonotonicClock, CoarseWallClock};

/// A linker with WASI (sandboxed by the `WasiCtx`) and the healthplug
/// interfaces `manifest` is entitled to.
pub fn linker_for(engine: &Engine, manifest: &Manifest) -> Result<Linker<InvocationState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    wasi_io::shadow(&mut linker)?;
    wasi_random::shadow(&mut linker)?;
    types_wit::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
    health_data_wit::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
    log_wit::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
    if manifest.world == World::Connector {
        source_wit::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
    }
    if manifest.storage.is_some() {
        storage_wit::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
    }
    if manifest.network.is_some() {
        wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut linker)?;
    }
    Ok(linker)
}
