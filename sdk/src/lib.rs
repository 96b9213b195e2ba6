//! The healthplug partner SDK.
//!
//! A healthplug plugin is a WebAssembly component that offers *tools* to a
//! health assistant. It sees only the health data types, fields and history
//! the user consented to; everything else is refused with a typed
//! [`Error::NotGranted`], never a crash.
//!
//! ```ignore
//! use healthplug_sdk::{export_plugin, health, Args, DataType, Plugin, Tool, ToolError};
//!
//! struct StepCounter;
//!
//! impl Plugin for StepCounter {
//!     fn tools() -> Vec<Tool> {
//!         vec![Tool::new("steps-this-week", "Total steps over the last 7 days", steps)]
//!     }
//! }
//!
//! fn steps(_args: &Args) -> Result<serde_json::Value, ToolError> {
//!     let days = health::aggregate([DataType::Steps]).daily().last_days(7).fetch()?;
//!     Ok(serde_json::json!({ "steps": days.iter().map(|d| d.sum).sum::<f64>() }))
//! }
//!
//! export_plugin!(StepCounter);
//! ```
//!
//! See `sdk/README.md` for the walk from `cargo new` to `healthplug invoke`.
//!
//! With the `testing` feature, on a native target, the `testing` module's
//! `MockHealth` answers the host calls, so `cargo test` runs tool functions
//! (and connectors) without a host.
#![deny(missing_docs)]

mod batch;
#[doc(hidden)]
pub mod bindings;
mod connector;
mod data_type;
mod error;
pub mod health;
mod host;
pub mod log;
mod plugin;
pub mod storage;
#[cfg(all(feature = "testing", not(target_arch = "wasm32")))]
pub mod testing;
mod time;
mod write;

pub use batch::{Aggregate, Aggregates, Coding, Sample, Samples};
pub use connector::{Connector, IngestError, Input, Report, Writer};
pub use data_type::{DataType, Fields, Granularity};
pub use error::{DenialReason, Error};
pub use plugin::{Args, Plugin, Tool, ToolError, ToolHandler};
pub use time::Timestamp;
pub use write::{NewCoding, NewSample, WriteReport};

/// Re-exported so plugins build JSON results without naming another crate.
pub use serde_json;

/// The shared data-type registry (HealthKit / LOINC names, units, unit
/// conversion), exactly as the host uses it.
pub use healthplug_registry as registry;

/// Implementation details used by [`export_plugin!`]. Not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use crate::bindings;
    pub use crate::bindings::__export_plugin_world;
    pub use crate::bindings::Guest as PluginGuest;
    pub use crate::bindings::connector::__export_connector_world;
    pub use crate::bindings::connector::Guest as ConnectorGuest;
    pub use crate::connector::guest_ingest;
    pub use crate::plugin::{guest_invoke, guest_tools};
}

/// Exports a type implementing [`Plugin`] as the component's `plugin` world.
///
/// Call it once, at the crate root of a `cdylib` built for
/// `wasm32-wasip2`.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        const _: () = {
            struct __HealthplugExport;

            impl $crate::__private::PluginGuest for __HealthplugExport {
                fn tools() -> ::std::vec::Vec<$crate::__private::bindings::healthplug::plugin::types::ToolSpec> {
                    $crate::__private::guest_tools::<$plugin>()
                }

                fn invoke(
                    tool: ::std::string::String,
                    args_json: ::std::string::String,
                ) -> ::std::result::Result<
                    ::std::string::String,
                    $crate::__private::bindings::healthplug::plugin::types::ToolError,
                > {
                    $crate::__private::guest_invoke::<$plugin>(&tool, &args_json)
                }
            }

    $crate::__private::__export_plugin_world!(__HealthplugExport with_types_in $crate::__private::bindings);
        };
    };
}

/// Exports a type implementing [`Connector`] as the component's `connector`
/// world.
///
/// Call it once, at the crate root of a `cdylib` built for
/// `wasm32-wasip2`.
#[macro_export]
macro_rules! export_connector {
    ($connector:ty) => {
        const _: () = {
            struct __HealthplugExport;

            impl $crate::__private::ConnectorGuest for __HealthplugExport {
                fn ingest(
                    options_json: ::std::string::String,
                ) -> ::std::result::Result<
                    $crate::__private::bindings::healthplug::plugin::types::IngestReport,
                    $crate::__private::bindings::healthplug::plugin::types::IngestError,
                > {
                    $crate::__private::guest_ingest::<$connector>(&options_json)
                }
            }

            $crate::__private::__export_connector_world!(__HealthplugExport with_types_in $crate::__private::bindings::connector);
        };
    };
}
