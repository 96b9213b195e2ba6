//! Plugin storage: one user x one plugin, keys looked up by a keyed MAC,
//! keys and values sealed with the user's key and bound to their (user,
//! plugin) so a row cannot be moved to another plugin or user. This is the
//! sealing side, over the storage trait's keyless primitives (`kv_sealed`,
//! `kv_put_sealed`, ...): a backend only ever holds MACs and ciphertext.

use anyhow::{Context, Result};

use super::SecretKey;
use super::store::Store;

/// Byte and key totals of a plugin's storage for a user.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Bytes (keys + values).
    pub bytes: u64,
    /// Keys.
    pub keys: u64,
}

/// One entry as a backend stores it.
#[derive(Clone, Copy, Debug)]
pub struct SealedEntry<'a> {
    /// The key name, sealed.
    pub key: &'a [u8],
    /// The value, sealed.
    pub value: &'a [u8],
    /// Plaintext key and value length, for quotas.
    pub size: u64,
}

fn key_mac(key: &SecretKey, plugin: &str, name: &str) -> [u8; 32] {
    let mut data = Vec::with_capacity(plugin.len() + name.len() + 1);
    data.extend_from_slice(plugin.as_bytes());
    data.push(0);
    data.extend_from_slice(name.as_bytes());
    key.derive("plugin storage key v1").mac(&data)
}

fn aad(user_id: i64, plugin: &str, what: &str, mac: &[u8]) -> Vec<u8> {
    format!("storage:{what}:{user_id}:{plugin}:{}", hex::encode(mac)).into_bytes()
}

/// The value under `name`.
pub(super) fn get<S: Store + ?Sized>(
    store: &S,
    user_id: i64,
    plugin: &str,
    key: &SecretKey,
    name: &str,
) -> Result<Option<Vec<u8>>> {
    let mac = key_mac(key, plugin, name);
    match store.kv_sealed(user_id, plugin, &mac)? {
        None => Ok(None),
        Some(s) => Ok(Some(
            key.open(&s, &aad(user_id, plugin, "value", &mac))
                .context("unsealing a stored value")?
                .to_vec(),
        )),
    }
}

/// The size of the entry under `name`, if any.
pub(super) fn size_of<S: Store + ?Sized>(
    store: &S,
    user_id: i64,
    plugin: &str,
    key: &SecretKey,
    name: &str,
) -> Result<Option<u64>> {
    store.kv_size(user_id, plugin, &key_mac(key, plugin, name))
}

/// Every key (unsealed), sorted.
pub(super) fn keys<S: Store + ?Sized>(store: &S, user_id: i64, plugin: &str, key: &SecretKey) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for (mac, sealed) in store.kv_sealed_keys(user_id, plugin)? {
        let plain = key
            .open(&sealed, &aad(user_id, plugin, "key", &mac))
            .context("unsealing a stored key")?;
        out.push(String::from_utf8(plain.to_vec()).context("a stored key is not UTF-8")?);
    }
    out.sort();
    Ok(out)
}

/// Sets (`Some`) or deletes (`None`) `name`.
pub(super) fn put<S: Store + ?Sized>(
    store: &S,
    user_id: i64,
    plugin: &str,
    key: &SecretKey,
    name: &str,
    value: Option<&[u8]>,
) -> Result<()> {
    let mac = key_mac(key, plugin, name);
    let Some(v) = value else {
        return store.kv_put_sealed(user_id, plugin, &mac, None);
    };
    let sealed_key = key.seal(name.as_bytes(), &aad(user_id, plugin, "key", &mac))?;
    let sealed_value = key.seal(v, &aad(user_id, plugin, "value", &mac))?;
    let entry = SealedEntry {
        key: &sealed_key,
        value: &sealed_value,
        size: (name.len() + v.len()) as u64,
    };
    store.kv_put_sealed(user_id, plugin, &mac, Some(entry))
}
