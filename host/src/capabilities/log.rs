//! Host side of the `log` interface: lines go to the invocation's log,
//! sanitised and size-capped, never to the host's stdout.

use crate::bindings::healthplug::plugin::log::Host;
use crate::bindings::healthplug::plugin::types::LogLevel;
use wasmtime::component::HasData;

use super::invocation::InvocationState;
use crate::runtime::{Sandbox, logs};

/// What a `log` call gets: the sandbox, which holds the log and budgets.
pub struct LogView<'a>(&'a mut Sandbox);

/// `HasData` for [`LogView`].
pub struct LogData;

impl HasData for LogData {
    type Data<'a> = LogView<'a>;
}

/// The view `log` calls get.
pub(super) fn log_view(s: &mut InvocationState) -> LogView<'_> {
    LogView(&mut s.sandbox)
}

impl Host for LogView<'_> {
    fn log(&mut self, level: LogLevel, message: String) -> wasmtime::Result<()> {
        self.0.count_host_call()?;
        let level = match level {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        };
        logs::append(&self.0.log, level, &message);
        Ok(())
    }
}
