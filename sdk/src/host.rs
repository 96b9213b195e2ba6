//! The one place the SDK calls its host.
//!
//! Every host call the SDK makes goes through a function of this module:
//! `health-data` (`grants`, `query`, `aggregate`, `write`), `log`, `storage`
//! (`get`, `set`, `delete`, `list-keys`), the connector's `source` input
//! (`name`, `size`, `read`, `rewind`), and the clock behind
//! [`Timestamp::now`](crate::Timestamp::now). The rest of the SDK
//! (`health.rs`, `write.rs`, `storage.rs`, `log.rs`, `connector.rs`,
//! `time.rs`) never names an import itself.
//!
//! Where each call goes:
//! - on `wasm32` (a real plugin or connector): to the WIT imports,
//!   unchanged, whatever features are enabled;
//! - on a native target with the `testing` feature: to the thread's
//!   `testing::MockHealth` (`testing/backend.rs`), so `cargo test` runs
//!   tool functions natively;
//! - on a native target without the feature: to the WIT imports, as before
//!   (they cannot run there).
//!
//! The functions take and return the WIT types, so the SDK's encoding of
//! writes and its views over the returned batches are the same code
//! whichever backend answers.

use crate::bindings::healthplug::plugin::health_data::{
    AggregateBatch, AggregateQuery, NewSamples, SampleQuery, WriteReport,
};
use crate::bindings::healthplug::plugin::types::{Error, LogLevel, SampleBatch, TypeGrant};

#[cfg(any(target_arch = "wasm32", not(feature = "testing")))]
use self::imports as backend;
#[cfg(all(not(target_arch = "wasm32"), feature = "testing"))]
use crate::testing::backend;

/// `health-data.grants`.
pub(crate) fn grants() -> Vec<TypeGrant> {
    backend::grants()
}

/// `health-data.query`.
pub(crate) fn query(q: &SampleQuery) -> Result<SampleBatch, Error> {
    backend::query(q)
}

/// `health-data.aggregate`.
pub(crate) fn aggregate(q: &AggregateQuery) -> Result<AggregateBatch, Error> {
    backend::aggregate(q)
}

/// `health-data.write`.
pub(crate) fn write(samples: &NewSamples) -> Result<WriteReport, Error> {
    backend::write(samples)
}

/// `log.log`.
pub(crate) fn log(level: LogLevel, message: &str) {
    backend::log(level, message);
}

/// `storage.get`.
pub(crate) fn storage_get(key: &str) -> Result<Option<Vec<u8>>, Error> {
    backend::storage_get(key)
}

/// `storage.set`.
pub(crate) fn storage_set(key: &str, value: &[u8]) -> Result<(), Error> {
    backend::storage_set(key, value)
}

/// `storage.delete`.
pub(crate) fn storage_delete(key: &str) -> Result<bool, Error> {
    backend::storage_delete(key)
}

/// `storage.list-keys`.
pub(crate) fn storage_list_keys(prefix: &str) -> Result<Vec<String>, Error> {
    backend::storage_list_keys(prefix)
}

/// `source.name`.
pub(crate) fn source_name() -> String {
    backend::source_name()
}

/// `source.size`.
pub(crate) fn source_size() -> u64 {
    backend::source_size()
}

/// `source.read`.
pub(crate) fn source_read(max_bytes: u32) -> Result<Vec<u8>, Error> {
    backend::source_read(max_bytes)
}

/// `source.rewind`.
pub(crate) fn source_rewind() -> Result<(), Error> {
    backend::source_rewind()
}

/// The current time in milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    backend::now_ms()
}

/// The current time from the system clock (on `wasm32`, the host's
/// `wasi:clocks`).
pub(crate) fn system_now_ms() -> i64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The WIT imports: what a component calls.
#[cfg(any(target_arch = "wasm32", not(feature = "testing")))]
mod imports {
    use super::{AggregateBatch, AggregateQuery, Error, LogLevel, NewSamples, SampleBatch, SampleQuery, TypeGrant};
    use super::{WriteReport, system_now_ms};
    use crate::bindings::healthplug::plugin::{health_data, log as wit_log, source, storage};

    pub(super) fn grants() -> Vec<TypeGrant> {
        health_data::grants()
    }

    pub(super) fn query(q: &SampleQuery) -> Result<SampleBatch, Error> {
        health_data::query(q)
    }

    pub(super) fn aggregate(q: &AggregateQuery) -> Result<AggregateBatch, Error> {
        health_data::aggregate(q)
    }

    pub(super) fn write(samples: &NewSamples) -> Result<WriteReport, Error> {
        health_data::write(samples)
    }

    pub(super) fn log(level: LogLevel, message: &str) {
        wit_log::log(level, message);
    }

    pub(super) fn storage_get(key: &str) -> Result<Option<Vec<u8>>, Error> {
        storage::get(key)
    }

    pub(super) fn storage_set(key: &str, value: &[u8]) -> Result<(), Error> {
        storage::set(key, value)
    }

    pub(super) fn storage_delete(key: &str) -> Result<bool, Error> {
        storage::delete(key)
    }

    pub(super) fn storage_list_keys(prefix: &str) -> Result<Vec<String>, Error> {
        storage::list_keys(prefix)
    }

    pub(super) fn source_name() -> String {
        source::name()
    }

    pub(super) fn source_size() -> u64 {
        source::size()
    }

    pub(super) fn source_read(max_bytes: u32) -> Result<Vec<u8>, Error> {
        source::read(max_bytes)
    }

    pub(super) fn source_rewind() -> Result<(), Error> {
        source::rewind()
    }

    pub(super) fn now_ms() -> i64 {
        system_now_ms()
    }
}
