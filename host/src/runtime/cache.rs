//! The on-disk cache of compiled components, keyed by the component's
//! sha256 and the engine's compatibility hash (wasmtime version and
//! settings), so a second load does not recompile. Every file is reached
//! through one `cap_std` handle on the cache directory (no path escapes
//! it) and starts with an HMAC, under a key derived from the master key,
//! over a label, the component sha256, the engine hash and the artifact:
//! an altered file, or one copied over another component's name, fails the
//! (constant-time) check and is recompiled, never loaded.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::ErrorKind;
use std::path::Path;

use anyhow::{Context, Result};
use cap_std::ambient_authority;
use cap_std::fs::Dir;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use wasmtime::Engine;
use wasmtime::component::Component;
use zeroize::Zeroizing;

/// What every cache entry's MAC starts with (domain separation).
const ENTRY_LABEL: &[u8] = b"healthplug-cache-entry-v1";
/// Length of the MAC at the start of each file.
const MAC_LEN: usize = 32;

/// Whether a load compiled or came from the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded a cached artifact.
    Hit,
    /// Compiled (and cached the result).
    Compiled,
}

/// Compiled-component cache in a directory.
pub struct ComponentCache {
    dir: Dir,
    /// The HMAC key of cache entries (derived from the vault's cache key).
    key: Zeroizing<[u8; 32]>,
}

fn engine_hash(engine: &Engine) -> String {
    let mut h = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    format!("{:016x}", h.finish())
}

/// Whether `sha256` is a component digest (64 lowercase hex digits): only
/// those name cache files.
fn is_digest(sha256: &str) -> bool {
    sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl ComponentCache {
    /// A cache in `dir` (created if missing), its entries authenticated
    /// with HMAC-SHA256 under `mac_key` (the caller derives it from a
    /// secret of its own; anyone holding it can forge entries).
    pub fn new(dir: &Path, mac_key: Zeroizing<[u8; 32]>) -> Result<ComponentCache> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let handle =
            Dir::open_ambient_dir(dir, ambient_authority()).with_context(|| format!("opening {}", dir.display()))?;
        Ok(ComponentCache {
            dir: handle,
            key: mac_key,
        })
    }

    fn name(engine: &Engine, sha256: &str) -> String {
        format!("{sha256}-{}.cwasm", engine_hash(engine))
    }

    fn entry_mac(&self, sha256: &str, engine_hash: &str, artifact: &[u8]) -> Hmac<Sha256> {
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(self.key.as_ref()) else {
            unreachable!("HMAC accepts keys of any length")
        };
        for part in [ENTRY_LABEL, sha256.as_bytes(), engine_hash.as_bytes(), artifact] {
            mac.update(&(part.len() as u64).to_le_bytes());
            mac.update(part);
        }
        mac
    }

    /// The component for `bytes` (whose sha256 is `sha256`), from the cache
    /// or compiled and cached.
    pub fn load(&self, engine: &Engine, sha256: &str, bytes: &[u8]) -> Result<(Component, CacheOutcome)> {
        let name = Self::name(engine, sha256);
        if is_digest(sha256)
            && let Ok(file) = self.dir.read(&name)
            && let Some(component) = self.deserialize(engine, sha256, &file)
        {
            return Ok((component, CacheOutcome::Hit));
        }
        let component = Component::new(engine, bytes).map_err(anyhow::Error::from)?;
        if is_digest(sha256)
            && let Err(e) = self.store(engine, sha256, &name, &component)
        {
            // A cache that cannot be written only costs speed.
            eprintln!("healthplug: warning: not caching the compiled component: {e:#}");
        }
        Ok((component, CacheOutcome::Compiled))
    }

    fn deserialize(&self, engine: &Engine, sha256: &str, file: &[u8]) -> Option<Component> {
        if file.len() < MAC_LEN {
            return None;
        }
        let (tag, artifact) = file.split_at(MAC_LEN);
        self.entry_mac(sha256, &engine_hash(engine), artifact)
            .verify_slice(tag)
            .ok()?;
        // SAFETY: `artifact` was written by `store` below from
        // `Component::serialize` on an engine with the same compatibility
        // hash, for the component with this sha256: the HMAC, under a key
        // derived from the vault's master key, covers both and the artifact,
        // so it is our own artifact of this component, unmodified.
        #[allow(unsafe_code)]
        let component = unsafe { Component::deserialize(engine, artifact) };
        component.ok()
    }

    fn store(&self, engine: &Engine, sha256: &str, name: &str, component: &Component) -> Result<()> {
        let artifact = component.serialize().map_err(anyhow::Error::from)?;
        let tag = self
            .entry_mac(sha256, &engine_hash(engine), &artifact)
            .finalize()
            .into_bytes();
        let mut file = Vec::with_capacity(MAC_LEN + artifact.len());
        file.extend_from_slice(&tag);
        file.extend_from_slice(&artifact);
        write_atomically(&self.dir, name, &file)
    }

    /// Deletes every cache entry of the component `sha256` (for any engine).
    /// Returns how many files were deleted.
    pub fn remove(&self, sha256: &str) -> Result<usize> {
        if !is_digest(sha256) {
            return Ok(0);
        }
        let prefix = format!("{sha256}-");
        let mut removed = 0;
        for entry in self.dir.entries().context("listing the component cache")? {
            let entry = entry.context("listing the component cache")?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if name.starts_with(&prefix) && name.ends_with(".cwasm") {
                match self.dir.remove_file(name) {
                    Ok(()) => removed += 1,
                    Err(e) if e.kind() == ErrorKind::NotFound => {}
                    Err(e) => return Err(e).with_context(|| format!("deleting the cache entry {name}")),
                }
            }
        }
        Ok(removed)
    }
}

/// Writes `name` in `dir` through a temporary file and a rename, so a
/// reader never sees half a file.
pub(crate) fn write_atomically(dir: &Dir, name: &str, bytes: &[u8]) -> Result<()> {
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
    let tmp = format!(".tmp-{}", hex::encode(nonce));
    dir.write(&tmp, bytes).with_context(|| format!("writing {name}"))?;
    if let Err(e) = dir.rename(&tmp, dir, name) {
        let _ = dir.remove_file(&tmp);
        return Err(e).with_context(|| format!("storing {name}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_digests_name_entries() {
        assert!(is_digest(&"ab".repeat(32)));
        assert!(!is_digest("../../etc/passwd"));
        assert!(!is_digest(&"AB".repeat(32)));
        assert!(!is_digest(&"ab".repeat(31)));
    }
}
