//! The mock side of [`crate::host`]: each host call served by this
//! thread's mock. Without one installed, the calls that return a result
//! fail with `unavailable` naming the fix, `grants` is empty, the input is
//! absent, log lines go to stderr, and the clock is the system's.

use crate::bindings::healthplug::plugin::health_data::{
    AggregateBatch, AggregateQuery, NewSamples, SampleQuery, WriteReport,
};
use crate::bindings::healthplug::plugin::types::{Error, LogLevel, SampleBatch, TypeGrant};
use crate::host::system_now_ms;

use super::state::with_mock;

fn not_installed() -> Error {
    Error::Unavailable(
        "no MockHealth is installed on this thread: build one and keep the guard of `MockHealth::install()` alive \
         while the code under test runs"
            .into(),
    )
}

fn served<T>(f: impl FnOnce(&mut super::state::MockState) -> Result<T, Error>) -> Result<T, Error> {
    with_mock(f).unwrap_or_else(|| Err(not_installed()))
}

pub(crate) fn grants() -> Vec<TypeGrant> {
    with_mock(|m| m.grants()).unwrap_or_default()
}

pub(crate) fn query(q: &SampleQuery) -> Result<SampleBatch, Error> {
    served(|m| m.query(q))
}

pub(crate) fn aggregate(q: &AggregateQuery) -> Result<AggregateBatch, Error> {
    served(|m| m.aggregate(q))
}

pub(crate) fn write(samples: &NewSamples) -> Result<WriteReport, Error> {
    served(|m| m.write(samples))
}

pub(crate) fn log(level: LogLevel, message: &str) {
    if with_mock(|m| m.log(level, message)).is_none() {
        eprintln!("[{level:?}] {message}");
    }
}

pub(crate) fn storage_get(key: &str) -> Result<Option<Vec<u8>>, Error> {
    served(|m| m.storage_get(key))
}

pub(crate) fn storage_set(key: &str, value: &[u8]) -> Result<(), Error> {
    served(|m| m.storage_set(key, value))
}

pub(crate) fn storage_delete(key: &str) -> Result<bool, Error> {
    served(|m| m.storage_delete(key))
}

pub(crate) fn storage_list_keys(prefix: &str) -> Result<Vec<String>, Error> {
    served(|m| m.storage_list_keys(prefix))
}

pub(crate) fn source_name() -> String {
    with_mock(|m| m.input.as_ref().map(|i| i.name.clone()))
        .flatten()
        .unwrap_or_default()
}

pub(crate) fn source_size() -> u64 {
    with_mock(|m| m.input.as_ref().map(|i| i.bytes.len() as u64))
        .flatten()
        .unwrap_or(0)
}

pub(crate) fn source_read(max_bytes: u32) -> Result<Vec<u8>, Error> {
    served(|m| m.source_read(max_bytes))
}

pub(crate) fn source_rewind() -> Result<(), Error> {
    served(|m| m.source_rewind())
}

pub(crate) fn now_ms() -> i64 {
    with_mock(|m| m.now_ms).unwrap_or_else(system_now_ms)
}
