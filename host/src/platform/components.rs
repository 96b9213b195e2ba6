//! The home's store of installed components (`components/<sha256>.wasm`),
//! content-addressed and reached only through a `cap_std` handle on that
//! directory: a name is always a digest, so nothing reads or writes
//! outside it.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use cap_std::ambient_authority;
use cap_std::fs::Dir;

use super::load::sha256_hex;
use crate::runtime::write_atomically;

/// The store's directory name in the home.
const DIR: &str = "components";

/// Installed components, by sha256.
pub(crate) struct ComponentStore {
    dir: Dir,
    path: PathBuf,
}

fn name_of(sha256: &str) -> Result<String> {
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        bail!("`{sha256}` is not a component digest");
    }
    Ok(format!("{sha256}.wasm"))
}

impl ComponentStore {
    /// The store in `home` (created if missing).
    pub(crate) fn open(home: &Path) -> Result<ComponentStore> {
        let path = home.join(DIR);
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        let dir =
            Dir::open_ambient_dir(&path, ambient_authority()).with_context(|| format!("opening {}", path.display()))?;
        Ok(ComponentStore { dir, path })
    }

    /// Where the component `sha256` is (for messages).
    pub(crate) fn path(&self, sha256: &str) -> PathBuf {
        self.path.join(format!("{sha256}.wasm"))
    }

    /// The bytes of component `sha256`.
    pub(crate) fn read(&self, sha256: &str) -> Result<Vec<u8>> {
        Ok(self.dir.read(name_of(sha256)?)?)
    }

    /// Stores `bytes` as component `sha256` unless it is there already,
    /// intact (a modified file is replaced, so reinstalling repairs it).
    pub(crate) fn write(&self, sha256: &str, bytes: &[u8]) -> Result<()> {
        let name = name_of(sha256)?;
        if self.dir.read(&name).is_ok_and(|stored| sha256_hex(&stored) == sha256) {
            return Ok(());
        }
        write_atomically(&self.dir, &name, bytes).context("storing the component")
    }

    /// Deletes component `sha256` (a missing one is fine).
    pub(crate) fn remove(&self, sha256: &str) -> Result<()> {
        match self.dir.remove_file(name_of(sha256)?) {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(e).context("deleting the component"),
            _ => Ok(()),
        }
    }
}
