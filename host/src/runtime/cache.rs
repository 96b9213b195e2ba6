//! The on-disk cache of compiled components, keyed by the component's
//! sha256 and the engine's compatibility hash (wasmtime version and
//! settings), so a second load does not recompile. Each file starts with an
//! HMAC under a key derived from the master key: a cache file that was
//! altered is recompiled, never loaded.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::vault::SecretKey;

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
    dir: PathBuf,
    key: SecretKey,
}

fn engine_hash(engine: &Engine) -> String {
    let mut h = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    format!("{:016x}", h.finish())
}

impl ComponentCache {
    /// A cache in `dir`, authenticated with `key`.
    pub fn new(dir: &Path, key: SecretKey) -> ComponentCache {
        ComponentCache {
            dir: dir.to_path_buf(),
            key,
        }
    }

    fn path(&self, engine: &Engine, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}-{}.cwasm", engine_hash(engine)))
    }

    /// The component for `bytes` (whose sha256 is `sha256`), from the cache
    /// or compiled and cached.
    pub fn load(&self, engine: &Engine, sha256: &str, bytes: &[u8]) -> Result<(Component, CacheOutcome)> {
        let path = self.path(engine, sha256);
        if let Ok(file) = std::fs::read(&path)
            && let Some(component) = self.deserialize(engine, &file)
        {
            return Ok((component, CacheOutcome::Hit));
        }
        let component = Component::new(engine, bytes).map_err(anyhow::Error::from)?;
        if let Err(e) = self.store(&path, &component) {
            // A cache that cannot be written only costs speed.
            eprintln!("healthplug: warning: not caching the compiled component: {e:#}");
        }
        Ok((component, CacheOutcome::Compiled))
    }

    fn deserialize(&self, engine: &Engine, file: &[u8]) -> Option<Component> {
        if file.len() < 32 {
            return None;
        }
        let (mac, artifact) = file.split_at(32);
        if self.key.mac(artifact).as_slice() != mac {
            return None;
        }
        // SAFETY: `artifact` was written by `store` below from
        // `Component::serialize` on an engine with the same compatibility
        // hash (it is in the file name), and its HMAC under a key derived
        // from the vault's master key matches, so it is our own artifact,
        // unmodified.
        #[allow(unsafe_code)]
        let component = unsafe { Component::deserialize(engine, artifact) };
        component.ok()
    }

    fn store(&self, path: &Path, component: &Component) -> Result<()> {
        std::fs::create_dir_all(&self.dir).with_context(|| format!("creating {}", self.dir.display()))?;
        let artifact = component.serialize().map_err(anyhow::Error::from)?;
        let mut file = Vec::with_capacity(32 + artifact.len());
        file.extend_from_slice(&self.key.mac(&artifact));
        file.extend_from_slice(&artifact);
        let tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        std::fs::write(tmp.path(), &file)?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}
