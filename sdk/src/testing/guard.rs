//! The installed mock's guard (what the code under test did), the records
//! it returns, and helpers that run a plugin's tool or a connector's import
//! the way the host's exports do.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde_json::Value;

use crate::log::Level;
use crate::{Args, Connector, DataType, DenialReason, IngestError, Plugin, Report, ToolError};

use super::samples::StoredSample;
use super::state::{self, with_mock};

/// A mock that could not be installed: a fixture the host would refuse, an
/// offset out of range, or a mock already installed on this thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MockError(String);

impl MockError {
    pub(crate) fn new(message: impl Into<String>) -> MockError {
        MockError(message.into())
    }
}

impl fmt::Display for MockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MockHealth: {}", self.0)
    }
}

impl std::error::Error for MockError {}

/// One line the code logged.
#[derive(Clone, Debug)]
pub struct LogLine {
    /// Its level.
    pub level: Level,
    /// Its text, as given.
    pub message: String,
}

/// One refused access, as `healthplug invoke` lists it under `refused`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The type refused.
    pub data_type: DataType,
    /// Why.
    pub reason: DenialReason,
}

/// The installed mock: uninstalls it when dropped, and tells what the code
/// under test did. Tied to the thread that installed it.
#[must_use = "the mock is uninstalled as soon as its guard is dropped"]
#[derive(Debug)]
pub struct MockGuard {
    /// Not `Send`: the mock lives in the installing thread.
    _thread: PhantomData<*const ()>,
}

impl MockGuard {
    pub(crate) fn new() -> MockGuard {
        MockGuard { _thread: PhantomData }
    }

    /// The samples the code wrote, in order, as the host would store them
    /// (value in the canonical unit; see [`StoredSample`]). Every sample of
    /// every accepted batch, duplicates included.
    pub fn written(&self) -> Vec<StoredSample> {
        with_mock(|m| m.written.clone()).unwrap_or_default()
    }

    /// The lines the code logged, in order.
    pub fn logs(&self) -> Vec<LogLine> {
        with_mock(|m| m.logs.clone()).unwrap_or_default()
    }

    /// The storage contents now (empty when storage is not granted).
    pub fn stored(&self) -> BTreeMap<String, Vec<u8>> {
        with_mock(|m| m.storage.as_ref().map(|s| s.entries.clone()))
            .flatten()
            .unwrap_or_default()
    }

    /// The refused accesses (reads and writes), in call order.
    pub fn refused(&self) -> Vec<Refusal> {
        with_mock(|m| m.refused.clone()).unwrap_or_default()
    }

    /// Changes the consent while the mock is installed, as a user revoking
    /// between two calls: the next call of the code is refused with
    /// `reason`.
    pub fn refuse(&self, data_type: DataType, reason: DenialReason) {
        with_mock(|m| {
            *m.scripts.entry(data_type.code()).or_default() = state::Script {
                read: None,
                write: false,
                refusal: Some(reason),
            };
        });
    }
}

impl Drop for MockGuard {
    fn drop(&mut self) {
        state::uninstall();
    }
}

/// Runs `P`'s tool `tool` with `args_json` as `healthplug invoke` does:
/// the arguments parsed (an empty text is `{}`) and checked against the
/// tool's parameters, then its handler called.
pub fn invoke<P: Plugin>(tool: &str, args_json: &str) -> Result<Value, ToolError> {
    let args = Args::from_json(args_json)?;
    P::invoke(tool, &args)
}

/// Runs connector `C` on the mock's input (see
/// [`MockHealth::input`](super::MockHealth::input)) with `options_json`,
/// as `healthplug import` does.
pub fn ingest<C: Connector>(options_json: &str) -> Result<Report, IngestError> {
    let options = Args::from_json(options_json).map_err(|e| IngestError::InvalidOptions(e.to_string()))?;
    let mut input = crate::Input::new();
    C::ingest(&mut input, &options)
}
