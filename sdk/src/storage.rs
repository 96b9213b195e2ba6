//! Private key-value storage: per user and per plugin, encrypted by the
//! host, bounded by the quotas of the manifest's `[storage]`. Needs
//! `[storage]` in the manifest and the user's grant; writes are committed
//! when the invocation succeeds.

use crate::Error;
use crate::host;

/// The value under `key`.
pub fn get(key: &str) -> Result<Option<Vec<u8>>, Error> {
    host::storage_get(key).map_err(Error::from)
}

/// The value under `key` as UTF-8 text.
pub fn get_string(key: &str) -> Result<Option<String>, Error> {
    Ok(get(key)?.map(|v| String::from_utf8_lossy(&v).into_owned()))
}

/// Stores `value` under `key`.
pub fn set(key: &str, value: &[u8]) -> Result<(), Error> {
    host::storage_set(key, value).map_err(Error::from)
}

/// Deletes `key`; returns whether it existed.
pub fn delete(key: &str) -> Result<bool, Error> {
    host::storage_delete(key).map_err(Error::from)
}

/// The keys starting with `prefix`, sorted.
pub fn list_keys(prefix: &str) -> Result<Vec<String>, Error> {
    host::storage_list_keys(prefix).map_err(Error::from)
}
