//! Host side of the `storage` interface: a private key-value store per user
//! and plugin, encrypted with the user's key, within the manifest's byte and
//! key quotas. Writes go to the invocation's overlay and are committed when
//! it succeeds (`commit`), so a failed invocation leaves nothing behind.

use crate::bindings::healthplug::plugin::storage::Host;
use crate::bindings::healthplug::plugin::types as wit;
use wasmtime::component::HasData;

use super::health_data::unavailable as vault_unavailable;
use super::invocation::{InvocationState, Party};
use crate::consent::Capability;
use crate::runtime::Sandbox;
use crate::vault::SecretKey;

/// A plugin's storage during one invocation: writes are kept here and
/// committed when the invocation succeeds.
#[derive(Debug)]
pub struct StorageState {
    /// The consent version `granted` was read at (-1: not yet).
    consent_version: i64,
    /// The user granted storage (refreshed with the consent version).
    pub granted: bool,
    /// Pending writes: `Some(value)` to set, `None` to delete.
    pub overlay: std::collections::BTreeMap<String, Option<Vec<u8>>>,
    /// Bytes the overlay adds to what is stored (may be negative).
    pub bytes_delta: i64,
    /// Keys the overlay adds (may be negative).
    pub keys_delta: i64,
    /// The byte quota the user granted (never more than the manifest's).
    pub granted_bytes: u64,
    /// The key quota the user granted.
    pub granted_keys: u64,
}

impl Default for StorageState {
    fn default() -> StorageState {
        StorageState {
            consent_version: -1,
            granted: false,
            overlay: Default::default(),
            bytes_delta: 0,
            keys_delta: 0,
            granted_bytes: 0,
            granted_keys: 0,
        }
    }
}

impl StorageState {
    /// Re-reads the storage grant if the consent changed since the last
    /// call: a revoke bites on the next storage call.
    fn refresh(&mut self, party: &Party, user_id: i64) -> anyhow::Result<()> {
        let version = party.grants.version(user_id, &party.plugin.id)?;
        if version != self.consent_version {
            let scope = party
                .grants
                .capability(user_id, &party.plugin.id, Capability::Storage)?;
            self.granted = scope.is_some();
            (self.granted_bytes, self.granted_keys) = scope.map_or((0, 0), |s| s.storage_quota());
            self.consent_version = version;
        }
        Ok(())
    }
}

/// What a `storage` call gets.
pub struct StorageView<'a> {
    sandbox: &'a mut Sandbox,
    party: &'a Party,
    state: Option<&'a mut StorageState>,
}

/// `HasData` for [`StorageView`].
pub struct StorageData;

impl HasData for StorageData {
    type Data<'a> = StorageView<'a>;
}

/// The view `storage` calls get.
pub(super) fn storage_view(s: &mut InvocationState) -> StorageView<'_> {
    StorageView {
        sandbox: &mut s.sandbox,
        party: &s.call.party,
        state: s.call.storage.as_mut(),
    }
}

/// The longest key, bytes.
const MAX_KEY: usize = 256;

fn unavailable(e: &anyhow::Error) -> wit::Error {
    eprintln!("healthplug: storage error during a host call: {e:#}");
    wit::Error::Unavailable("storage is unavailable; try again later".into())
}

fn check_key(key: &str) -> Result<(), wit::Error> {
    if key.is_empty() || key.len() > MAX_KEY || key.chars().any(char::is_control) {
        return Err(wit::Error::InvalidRequest(format!(
            "a storage key must be 1 to {MAX_KEY} bytes without control characters"
        )));
    }
    Ok(())
}

/// What a storage call needs: the user, the key and the state.
struct Ctx<'a> {
    user_id: i64,
    key: SecretKey,
    plugin: String,
    vault: crate::vault::Vault,
    state: &'a mut StorageState,
    bytes_quota: u64,
    keys_quota: u64,
}

impl StorageView<'_> {
    fn storage_ctx(&mut self) -> Result<Ctx<'_>, wit::Error> {
        let party = self.party;
        let (Some(session), Some(state)) = (party.user.as_ref(), self.state.as_deref_mut()) else {
            return Err(wit::Error::CapabilityNotGranted(
                "storage is not available to this plugin".into(),
            ));
        };
        state
            .refresh(party, session.user.id)
            .map_err(|e| vault_unavailable(&e))?;
        if !state.granted {
            return Err(wit::Error::CapabilityNotGranted(
                "storage is not granted by the user".into(),
            ));
        }
        let (bytes_quota, keys_quota) = (
            self.sandbox.limits.storage_bytes.min(state.granted_bytes),
            self.sandbox.limits.storage_keys.min(state.granted_keys),
        );
        Ok(Ctx {
            user_id: session.user.id,
            key: session.key.clone(),
            plugin: party.plugin.id.clone(),
            vault: party.vault.clone(),
            state,
            bytes_quota,
            keys_quota,
        })
    }

    /// Runs `f` (which reads the vault) under the grant, then checks the
    /// grant again: a revoke that committed between the first check and
    /// the read (and deleted the data with it) makes the call refused,
    /// never an answer of "absent" that would tell the plugin of it.
    fn checked<T>(&mut self, f: impl FnOnce(&mut Ctx<'_>) -> Result<T, wit::Error>) -> Result<T, wit::Error> {
        let value = f(&mut self.storage_ctx()?)?;
        self.storage_ctx()?;
        Ok(value)
    }
}

impl Ctx<'_> {
    /// The stored size of `key` (overlay first), or `None` if absent.
    fn current_size(&self, key: &str) -> Result<Option<u64>, wit::Error> {
        match self.state.overlay.get(key) {
            Some(Some(v)) => Ok(Some((key.len() + v.len()) as u64)),
            Some(None) => Ok(None),
            None => {
                let store = self.vault.store().map_err(|e| unavailable(&e))?;
                store
                    .kv_size_of(self.user_id, &self.plugin, &self.key, key)
                    .map_err(|e| unavailable(&e))
            }
        }
    }

    fn stage(&mut self, key: &str, value: Option<Vec<u8>>) -> Result<bool, wit::Error> {
        let old = self.current_size(key)?;
        let new = value.as_ref().map(|v| (key.len() + v.len()) as u64);
        let bytes_delta = new.unwrap_or(0) as i64 - old.unwrap_or(0) as i64;
        let keys_delta = i64::from(new.is_some()) - i64::from(old.is_some());
        if value.is_some() {
            let store = self.vault.store().map_err(|e| unavailable(&e))?;
            let usage = store
                .kv_usage(self.user_id, &self.plugin)
                .map_err(|e| unavailable(&e))?;
            let bytes = usage.bytes as i64 + self.state.bytes_delta + bytes_delta;
            let keys = usage.keys as i64 + self.state.keys_delta + keys_delta;
            if bytes > self.bytes_quota as i64 || keys > self.keys_quota as i64 {
                return Err(wit::Error::LimitExceeded(format!(
                    "storage quota exceeded: this write needs {bytes} bytes in {keys} keys, the quota is {} bytes in {} keys; nothing was written",
                    self.bytes_quota, self.keys_quota
                )));
            }
        }
        self.state.bytes_delta += bytes_delta;
        self.state.keys_delta += keys_delta;
        self.state.overlay.insert(key.to_string(), value);
        Ok(old.is_some())
    }
}

impl Host for StorageView<'_> {
    fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<Vec<u8>>, wit::Error>> {
        self.sandbox.count_host_call()?;
        let mut run = || -> Result<Option<Vec<u8>>, wit::Error> {
            check_key(&key)?;
            self.checked(|ctx| {
                if let Some(pending) = ctx.state.overlay.get(&key) {
                    return Ok(pending.clone());
                }
                let store = ctx.vault.store().map_err(|e| unavailable(&e))?;
                store
                    .kv_get(ctx.user_id, &ctx.plugin, &ctx.key, &key)
                    .map_err(|e| unavailable(&e))
            })
        };
        Ok(run())
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> wasmtime::Result<Result<(), wit::Error>> {
        self.sandbox.count_host_call()?;
        let run = || -> Result<(), wit::Error> {
            check_key(&key)?;
            self.storage_ctx()?.stage(&key, Some(value)).map(|_| ())
        };
        Ok(run())
    }

    fn delete(&mut self, key: String) -> wasmtime::Result<Result<bool, wit::Error>> {
        self.sandbox.count_host_call()?;
        let mut run = || -> Result<bool, wit::Error> {
            check_key(&key)?;
            self.checked(|ctx| {
                if ctx.current_size(&key)?.is_none() {
                    return Ok(false);
                }
                ctx.stage(&key, None)
            })
        };
        Ok(run())
    }

    fn list_keys(&mut self, prefix: String) -> wasmtime::Result<Result<Vec<String>, wit::Error>> {
        self.sandbox.count_host_call()?;
        let mut run = || -> Result<Vec<String>, wit::Error> {
            self.checked(|ctx| {
                let store = ctx.vault.store().map_err(|e| unavailable(&e))?;
                let mut keys: std::collections::BTreeSet<String> = store
                    .kv_keys(ctx.user_id, &ctx.plugin, &ctx.key)
                    .map_err(|e| unavailable(&e))?
                    .into_iter()
                    .collect();
                for (k, v) in &ctx.state.overlay {
                    if v.is_some() {
                        keys.insert(k.clone());
                    } else {
                        keys.remove(k);
                    }
                }
                Ok(keys.into_iter().filter(|k| k.starts_with(&prefix)).collect())
            })
        };
        Ok(run())
    }
}
