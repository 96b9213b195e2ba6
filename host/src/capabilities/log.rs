//! Host side of the `log` interface: lines go to the invocation's log,
//! sanitised and size-capped, never to the host's stdout.

use crate::bindings::healthplug::plugin::log::Host;
use crate::bindings::healthplug::plugin::types::LogLevel;
use crate::runtime::{InvocationState, logs};

impl Host for InvocationState {
    fn log(&mut self, level: LogLevel, message: String) -> wasmtime::Result<()> {
        self.count_host_call()?;
        let level = match level {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        };
        logs::append(&self.log, level, &message);
        Ok(())
    }
}
