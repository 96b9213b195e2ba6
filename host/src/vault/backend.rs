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
    /// `Ok`; otherwise nothing `f` did is kept. Returns the audit head the
    /// transaction appended when the backend anchors after the commit
    /// ([`Backend::anchors_after_commit`]), else `None`.
    fn transaction(
        &self,
        keys: &DerivedKeys,
        f: &mut dyn FnMut(&dyn Store) -> Result<()>,
    ) -> Result<Option<(i64, String)>>;

    /// Whether the audit head is anchored after the commit: a log several
    /// hosts append to, where an anchored head must be a committed one
    /// (`anchor::check_shared`). A log only this host appends to is
    /// anchored before the commit (`anchor.rs`'s crash rule).
    fn anchors_after_commit(&self) -> bool {
        false
    }

    /// Runs one statement as someone with write access to the database
    /// but not the master key (the contract suite's attacker); how many
    /// rows it changed.
    #[cfg(test)]
    fn tamper(&self, sql: &str) -> Result<usize>;
}
