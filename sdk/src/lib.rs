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
#![deny(missing_docs)]

mod batch;
#[doc(hidden)]
pub mod bindings;
mod data_type;
mod error;
pub mod health;
pub mod log;
mod plugin;
mod time;
mod write;

pub use batch::{Aggregate, Aggregates, Coding, Sample, Samples};
pub use data_type::{DataType, Fields, Granularity};
pub use error::{DenialReason, Error};
pub use plugin::{Args, Plugin, Tool, ToolError, ToolHandler};
pub use time::Timestamp;
pub use write::{NewCoding, NewSample, WriteReport};

/// Re-exported so plugins build JSON results without naming another crate.
pub use serde_json;

/// Implementation details used by [`export_plugin!`]. Not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use crate::bindings;
    pub use crate::bindings::__export_plugin_world;
    pub use crate::bindings::Guest as PluginGuest;
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
