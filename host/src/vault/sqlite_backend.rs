//! The SQLite database under a vault: one file, `vault.db` in the home
//! directory (0600, WAL, bundled SQLite), opened through a pool whose
//! every connection registers the row-MAC functions (`rowmac.rs`) with the
//! row key, and the [`Backend`] the vault runs its reads and write
//! transactions on.

use std::path::Path;

use anyhow::{Context, Result};
use r2d2_sqlite::SqliteConnectionManager;

use super::backend::Backend;
use super::store::Store;
use super::store_sqlite::SqliteStore;
use super::{BUSY_WAIT, Conn, DerivedKeys, migrate, rowmac};

/// The pool of connections to one `vault.db`.
pub(crate) struct SqliteBackend {
    pool: r2d2::Pool<SqliteConnectionManager>,
}

impl SqliteBackend {
    /// Opens `vault.db` in `home` (created 0600 if missing), refusing a
    /// home reached through a symbolic link.
    pub(crate) fn open(home: &Path, keys: &DerivedKeys) -> Result<SqliteBackend> {
        let db = home.join("vault.db");
        migrate::private_db_files(&db)?;
        let row_key = keys.row.clone();
        let flags = rusqlite::OpenFlags::default() | rusqlite::OpenFlags::SQLITE_OPEN_NOFOLLOW;
        probe_open(&db, flags)?;
        let manager = SqliteConnectionManager::file(&db)
            .with_flags(flags)
            .with_init(move |c| {
                c.busy_timeout(BUSY_WAIT)?;
                c.execute_batch(
                    "PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = NORMAL;
                     PRAGMA foreign_keys = ON;
                     PRAGMA secure_delete = ON;
                     PRAGMA trusted_schema = OFF;",
                )?;
                rowmac::register(c, &row_key)
            });
        let pool = r2d2::Pool::builder()
            .max_size(16)
            .min_idle(Some(1))
            .build(manager)
            .with_context(|| format!("opening the vault database {}", db.display()))?;
        Ok(SqliteBackend { pool })
    }

    /// A connection from the pool.
    pub(crate) fn conn(&self) -> Result<Conn> {
        self.pool.get().context("no vault connection available")
    }
}

impl Backend for SqliteBackend {
    fn store<'a>(&'a self, keys: &'a DerivedKeys) -> Result<Box<dyn Store + 'a>> {
        Ok(Box::new(SqliteStore {
            conn: self.conn()?,
            keys,
        }))
    }

    fn transaction(
        &self,
        keys: &DerivedKeys,
        f: &mut dyn FnMut(&dyn Store) -> Result<()>,
    ) -> Result<Option<(i64, String)>> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        f(&SqliteStore { conn: &*tx, keys })?;
        tx.commit().context("committing to the vault")?;
        Ok(None)
    }

    #[cfg(test)]
    fn tamper(&self, sql: &str) -> Result<usize> {
        Ok(self.conn()?.execute(sql, [])?)
    }
}

/// Opens the database once, so a home the pool could never open fails at
/// once with the reason (the pool would retry for its whole timeout).
fn probe_open(db: &Path, flags: rusqlite::OpenFlags) -> Result<()> {
    match rusqlite::Connection::open_with_flags(db, flags) {
        Ok(_) => Ok(()),
        Err(e) => {
            let linked = db
                .parent()
                .and_then(|home| std::fs::canonicalize(home).ok())
                .is_some_and(|real| Some(real.as_path()) != db.parent());
            if linked {
                anyhow::bail!(
                    "cannot open the vault database {}: the home directory is reached through a symbolic link, \
                     which healthplug refuses (a link could be swapped under it); use its real path: {e}",
                    db.display()
                );
            }
            anyhow::bail!("cannot open the vault database {}: {e}", db.display())
        }
    }
}
