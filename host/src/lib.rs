//! healthplug: a WebAssembly plugin host for health apps.
//!
//! Plugins are sandboxed components whose only powers are WIT-defined
//! capabilities, each checked against the plugin's manifest and the user's
//! consent on every call.

pub mod auth;
mod bindings;
pub mod capabilities;
pub mod cli;
pub mod consent;
pub mod demo;
mod error;
pub mod examples;
pub mod manifest;
pub mod network;
pub mod platform;
pub mod ports;
pub mod runtime;
pub mod serve;
pub mod text;
pub mod vault;
pub mod vetting;
pub mod web;

pub use error::HostError;

/// The generated WIT bindings, for the benchmarks that drive a plugin on
/// bare wasmtime beside healthplug's own path. Not an API: the host's
/// callers go through `platform`.
#[doc(hidden)]
pub mod bench_bindings {
    pub use crate::bindings::*;
}
/// The data-type registry (shared with the SDK).
pub use healthplug_registry as registry;
pub use platform::Host;
