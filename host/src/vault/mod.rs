//! The vault: one SQLite database (WAL, bundled) under the home directory
//! holding users, installed plugins, consents, samples and the audit log,
//! sealed with per-user keys wrapped by the master key.

pub mod audit;
pub(crate) mod capabilities;
pub(crate) mod consents;
mod keys;
pub(crate) mod plugins;
pub(crate) mod sample_read;
pub(crate) mod samples;
mod schema;
pub(crate) mod storage;
mod trust;
mod users;
mod zones;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{OptionalExtension, params};

pub use audit::{AuditEntry, AuditEvent, AuditKind, VerifyReport};
pub use capabilities::{Capability, CapabilityGrant};
pub use keys::{MASTER_KEY_ENV, SecretKey, write_private_file};
pub use plugins::PluginRecord;
pub use samples::{Coding, InsertReport, NewSample, Origin, Provenance, SamplePayload, StoredSample};
pub use trust::Reviewer;
pub use users::{EraseReport, UserRecord};

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
}

struct VaultInner {
    home: PathBuf,
    pool: r2d2::Pool<SqliteConnectionManager>,
    keys: DerivedKeys,
    user_keys: Mutex<HashMap<i64, SecretKey>>,
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
    /// Opens (creating if needed) the vault in `home`.
    pub fn open(home: &Path) -> Result<Vault> {
        std::fs::create_dir_all(home).with_context(|| format!("creating the home directory {}", home.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(home, std::fs::Permissions::from_mode(0o700));
        }
        let master = keys::load_master_key(&home.join("master.key"))?;
        let keys = DerivedKeys {
            user_ref: master.derive("healthplug user ref v1"),
            wrap: master.derive("healthplug user key wrap v1"),
            handle: master.derive("healthplug user handle v1"),
            audit: master.derive("healthplug audit head v1"),
            cache: master.derive("healthplug component cache v1"),
        };
        let check = hex::encode(master.derive("healthplug key check v1").mac(b"healthplug vault"));
        drop(master);

        let db = home.join("vault.db");
        let manager = SqliteConnectionManager::file(&db).with_init(|c| {
            c.busy_timeout(Duration::from_secs(30))?;
            c.execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = NORMAL;
                 PRAGMA foreign_keys = ON;
                 PRAGMA secure_delete = ON;",
            )
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
            }),
        };
        vault.migrate(&check)?;
        Ok(vault)
    }

    fn migrate(&self, check: &str) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(schema::SCHEMA).context("creating the vault schema")?;
        for (table, column, ty) in schema::ADDED_COLUMNS {
            let has: bool = tx
                .prepare(&format!("SELECT 1 FROM pragma_table_info('{table}') WHERE name = ?1"))?
                .exists(params![column])?;
            if !has {
                tx.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {ty}"))?;
            }
        }
        // Writes of invocations that never finished (the process died): they
        // were never visible; drop them.
        tx.execute(
            "DELETE FROM staged_samples WHERE staged_ms < ?1",
            params![now_ms() - STALE_STAGED_MS],
        )?;
        samples::purge_orphaned_staged(&tx)?;
        let stored: Option<String> = tx
            .query_row("SELECT value FROM meta WHERE key = 'key_check'", [], |r| r.get(0))
            .optional()?;
        match stored {
            Some(stored) if stored != check => bail!(
                "the master key does not match this vault ({}): was {} or master.key changed?",
                self.home().display(),
                MASTER_KEY_ENV
            ),
            Some(_) => {}
            None => {
                tx.execute("INSERT INTO meta (key, value) VALUES ('key_check', ?1)", params![check])?;
            }
        }
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', ?1)",
            params![schema::SCHEMA_VERSION],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// A connection from the pool.
    pub fn conn(&self) -> Result<Conn> {
        self.inner.pool.get().context("no vault connection available")
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
    /// Runs `f` in an immediate (write) transaction and commits it; on error
    /// nothing `f` did is kept.
    pub fn write<T>(&self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit().context("committing to the vault")?;
        Ok(value)
    }

    /// Appends one audit entry in its own transaction.
    pub fn audit(&self, event: &AuditEvent) -> Result<i64> {
        self.write(|tx| audit::append(tx, self.keys(), event))
    }
}
