//! The vault: one SQLite database (WAL, bundled) under the home directory
//! holding users, installed plugins, consents, samples, access tokens and
//! the audit log, sealed with per-user keys wrapped by the master key. Security-relevant
//! rows carry MACs (`rowmac.rs`) and the audit head is anchored outside the
//! database (`anchor.rs`), against someone who can write the home's files
//! but not read the master key.

mod anchor;
pub mod audit;
mod capabilities;
pub(crate) mod chunk;
mod chunks;
mod consents;
mod group_commit;
mod home;
mod keys;
mod migrate;
mod migrate_v2;
mod plugins;
mod rowmac;
pub(crate) mod sample_read;
mod samples;
mod schema;
mod storage;
mod store;
mod store_sqlite;
#[cfg(test)]
mod store_suite;
pub(crate) mod tokens;
mod trust;
mod users;
pub(crate) mod web;
mod zones;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use r2d2_sqlite::SqliteConnectionManager;

pub use crate::consent::{Capability, CapabilityScope};
pub use audit::{AuditEntry, AuditEvent, AuditKind, VerifyReport};
pub use capabilities::CapabilityGrant;
pub use keys::{MASTER_KEY_ENV, SecretKey, write_private_file};
pub use migrate_v2::MigrationReport;
pub use plugins::PluginRecord;
pub use rowmac::IntegrityError;
pub use sample_read::Cursor;
pub use samples::{Coding, InsertReport, NewSample, Origin, Provenance, SamplePayload, StoredSample};
pub use storage::Usage;
pub use store::Store;
pub use trust::Reviewer;
pub use users::{EraseReport, ErasedRows, UserRecord, UserRow};

/// How long a connection waits for another one's lock.
const BUSY_WAIT: Duration = Duration::from_secs(30);

/// Staged writes older than this belong to an invocation that died.
const STALE_STAGED_MS: i64 = 3600 * 1000;

/// A pooled database connection.
pub type Conn = r2d2::PooledConnection<SqliteConnectionManager>;

/// Keys derived from the master key, one per purpose.
pub(crate) struct DerivedKeys {
    /// Pseudonymous user refs (HMAC of the handle).
    pub user_ref: SecretKey,
    /// Wraps user data keys.
    pub wrap: SecretKey,
    /// Seals user handles.
    pub handle: SecretKey,
    /// Authenticates the audit head.
    pub audit: SecretKey,
    /// Authenticates compiled-component cache files.
    pub cache: SecretKey,
    /// Authenticates security-relevant rows (`rowmac.rs`).
    pub row: SecretKey,
    /// Authenticates the lines of the audit head anchor (`anchor.rs`).
    pub anchor: SecretKey,
    /// Hashes access token secrets (`tokens.rs`).
    pub token: SecretKey,
    /// Hashes web sign-in link and session secrets (`web.rs`).
    pub web: SecretKey,
    /// Derives the CSRF token of a web session (`web.rs`).
    pub csrf: SecretKey,
}

struct VaultInner {
    home: PathBuf,
    pool: r2d2::Pool<SqliteConnectionManager>,
    keys: DerivedKeys,
    user_keys: Mutex<HashMap<i64, users::CachedKey>>,
    migrated: Mutex<Option<MigrationReport>>,
    audit_queue: group_commit::AuditQueue,
}

/// The vault of one healthplug home directory. Cheap to clone.
#[derive(Clone)]
pub struct Vault {
    inner: Arc<VaultInner>,
}

/// The current time in milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

impl Vault {
    /// Opens (creating if needed) the vault in `home`: a private (0700)
    /// directory of this user's, the master key file checked on its open
    /// handle (see `home.rs`), then the database, migrated if older.
    pub fn open(home: &Path) -> Result<Vault> {
        self::home::prepare(home)?;
        let master = keys::load_master_key(&home.join("master.key"))?;
        let keys = DerivedKeys {
            user_ref: master.derive("healthplug user ref v1"),
            wrap: master.derive("healthplug user key wrap v1"),
            handle: master.derive("healthplug user handle v1"),
            audit: master.derive("healthplug audit head v1"),
            cache: master.derive("healthplug component cache v1"),
            row: master.derive("healthplug row mac v1"),
            anchor: master.derive("healthplug audit anchor v1"),
            token: master.derive("healthplug access token v1"),
            web: master.derive("healthplug web secret v1"),
            csrf: master.derive("healthplug web csrf v1"),
        };
        let check = hex::encode(master.derive("healthplug key check v1").mac(b"healthplug vault"));
        drop(master);

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
        let vault = Vault {
            inner: Arc::new(VaultInner {
                home: home.to_path_buf(),
                pool,
                keys,
                user_keys: Mutex::new(HashMap::new()),
                migrated: Mutex::new(None),
                audit_queue: group_commit::AuditQueue::default(),
            }),
        };
        let migrated = migrate::run(&vault, &check)?;
        if let Ok(mut slot) = vault.inner.migrated.lock() {
            *slot = migrated;
        }
        Ok(vault)
    }

    /// What opening this vault migrated from v1 to v2, if it did.
    pub fn migrated(&self) -> Option<MigrationReport> {
        self.inner.migrated.lock().ok().and_then(|m| *m)
    }

    /// A connection from the pool (SQL stays inside the vault: the layers
    /// above use [`Store`]).
    pub(in crate::vault) fn conn(&self) -> Result<Conn> {
        self.inner.pool.get().context("no vault connection available")
    }

    /// A pooled connection for a test to inspect the database with SQL.
    #[cfg(test)]
    pub(crate) fn sql_for_tests(&self) -> Result<Conn> {
        self.conn()
    }

    /// The storage trait on one pooled connection (reads, and writes that
    /// need no transaction).
    pub fn store(&self) -> Result<Box<dyn Store + '_>> {
        Ok(Box::new(store_sqlite::SqliteStore {
            conn: self.conn()?,
            keys: self.keys(),
        }))
    }

    /// Runs `f` on one pooled connection.
    pub fn read<T>(&self, f: impl FnOnce(&dyn Store) -> Result<T>) -> Result<T> {
        f(&*self.store()?)
    }

    /// The home directory.
    pub fn home(&self) -> &Path {
        &self.inner.home
    }

    pub(crate) fn keys(&self) -> &DerivedKeys {
        &self.inner.keys
    }
}

impl Vault {
    /// Runs `f` in one write transaction of the storage trait and commits
    /// it; on error nothing `f` did is kept. If `f` appended to the audit
    /// log, the new head is anchored (`anchor.rs`) before the commit.
    pub fn write<T>(&self, f: impl FnOnce(&dyn Store) -> Result<T>) -> Result<T> {
        self.write_sql(|tx| {
            f(&store_sqlite::SqliteStore {
                conn: &**tx,
                keys: self.keys(),
            })
        })
    }

    /// [`Vault::write`] with the SQLite transaction itself, for the vault's
    /// own modules.
    pub(in crate::vault) fn write_sql<T>(&self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let before = audit::head(&tx)?;
        let value = f(&tx)?;
        self.anchor_head(&tx, before.as_ref())?;
        tx.commit().context("committing to the vault")?;
        Ok(value)
    }

    /// Anchors the audit head of `tx` if it moved from `before`.
    fn anchor_head(&self, tx: &rusqlite::Connection, before: Option<&(i64, String)>) -> Result<()> {
        let after = audit::head(tx)?;
        if let Some((seq, hash)) = &after
            && after.as_ref() != before
        {
            anchor::append(&self.anchor_path(), &self.keys().anchor, *seq, hash).context("anchoring the audit head")?;
        }
        Ok(())
    }

    /// The audit head anchor file.
    fn anchor_path(&self) -> PathBuf {
        self.home().join(anchor::FILE)
    }

    /// Appends one audit entry, committed (group-committed with others
    /// written at the same time, see `group_commit.rs`) before it returns.
    pub fn audit(&self, event: &AuditEvent) -> Result<i64> {
        let seqs = self.audit_all(vec![event.clone()])?;
        seqs.first()
            .copied()
            .context("the audit log returned no sequence number")
    }

    /// Verifies the audit log: its chain, its authenticated head, and the
    /// head against the anchor outside the database.
    pub fn verify_audit(&self) -> Result<VerifyReport> {
        self.store()?.audit_verify(&self.anchor_path())
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
