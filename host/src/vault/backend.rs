//! What a database gives the vault: a connection to read on, and write
//! transactions that are all or nothing, both as the storage trait
//! ([`Store`]). The vault keeps everything else on its side of the line:
//! keys, sealing, the audit chain's anchor, the group commit. SQLite is
//! `sqlite_backend.rs`; a second database is a module implementing this
//! and [`Store`], checked by `store_suite.rs`.

use anyhow::Result;

use super::DerivedKeys;
use super::store::Store;

/// A database holding vaults.
pub(crate) trait Backend: Send + Sync {
    /// One connection, for reads (and writes that need no transaction).
    fn store<'a>(&'a self, keys: &'a DerivedKeys) -> Result<Box<dyn Store + 'a>>;

    /// Runs `f` in one write transaction and commits it when `f` returns
    /// `Ok`; otherwise nothing `f` did is kept.
    fn transaction(&self, keys: &DerivedKeys, f: &mut dyn FnMut(&dyn Store) -> Result<()>) -> Result<()>;
}
