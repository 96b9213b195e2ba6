//! The vault: one SQLite database (WAL, bundled) under the home directory
//! holding users, installed plugins, consents, samples, access tokens and
//! the audit log, sealed with per-user keys wrapped by the master key. Security-relevant
//! rows carry MACs (`rowmac.rs`) and the audit head is anchored outside the
//! database (`anchor.rs`), against someone who can write the home's files
//! but not read the master key.

mod anchor;
pub mod audit;
mod audit_chain;
mod backend;
mod capabilities;
pub(crate) mod chunk;
mod chunks;
mod chunks_sql;
mod consents;
mod database;
mod group_commit;
mod home;
mod keys;
mod migrate;
mod migrate_v2;
mod pg;
mod plugins;
mod rowmac;
pub(crate) mod sample_read;
mod samples;
mod schema;
mod sqlite_backend;
mod storage;
mod storage_sql;
mod store;
mod store_sqlite;
#[cfg(test)]
mod store_suite;
pub(crate) mod tokens;
mod tokens_sql;
mod trust;
mod users;
pub(crate) mod web;
mod web_sql;
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
pub use database::{DATABASE_ENV, Database};
pub use keys::{MASTER_KEY_ENV, SecretKey, write_private_file};
pub use migrate_v2::MigrationReport;
pub use pg::{CONSENT_STALENESS_BOUND, DATABASE_CA_ENV, round_trips as database_round_trips};
pub use plugins::PluginRecord;
pub use rowmac::IntegrityError;
pub use sample_read::Cursor;
pub use samples::{Coding, InsertReport, NewSample, Origin, Provenance, SamplePayload, StoredSample};
pub use storage::{SealedEntry, Usage};
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

impl DerivedKeys {
    /// Every purpose's key from the master key, and the check value that
    /// tells whether a database belongs to this master key.
    pub(crate) fn from_master(master: &SecretKey) -> (DerivedKeys, String) {
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
        (keys, check)
    }
}

struct VaultInner {
    home: PathBuf,
    backend: Arc<dyn backend::Backend>,
    /// The same database when it is SQLite, for its migrations and tests.
    sqlite: Option<Arc<sqlite_backend::SqliteBackend>>,
    keys: DerivedKeys,
    user_keys: Mutex<HashMap<i64, users::CachedKey>>,
    migrated: Mutex<Option<MigrationReport>>,
    audit_queue: group_commit::AuditQueue,
    /// One anchor line at a time from this process.
    anchoring: Mutex<()>,
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
    /// handle (see `home.rs`), then the database the environment names
    /// ([`Database::from_env`]: SQLite in the home unless
    /// `HEALTHPLUG_DATABASE_URL` is set), migrated if older.
    pub fn open(home: &Path) -> Result<Vault> {
        Vault::open_on(home, &Database::from_env()?)
    }

    /// Opens the vault of `home` on `database`. On PostgreSQL the home
    /// keeps what stays on this host (master key file, audit anchor,
    /// compiled-component cache); everything else is in the database.
    pub fn open_on(home: &Path, database: &Database) -> Result<Vault> {
        self::home::prepare(home)?;
        let master = keys::load_master_key(&home.join("master.key"))?;
        let (keys, check) = DerivedKeys::from_master(&master);
        drop(master);

        let (backend, sqlite): (Arc<dyn backend::Backend>, _) = match database {
            Database::Embedded => {
                let sqlite = Arc::new(sqlite_backend::SqliteBackend::open(home, &keys)?);
                (sqlite.clone(), Some(sqlite))
            }
            Database::Postgres(url) => (Arc::new(pg::PgBackend::open(url, &keys, &check)?), None),
        };
        let vault = Vault {
            inner: Arc::new(VaultInner {
                home: home.to_path_buf(),
                backend,
                sqlite,
                keys,
                user_keys: Mutex::new(HashMap::new()),
                migrated: Mutex::new(None),
                audit_queue: group_commit::AuditQueue::default(),
                anchoring: Mutex::new(()),
            }),
        };
        if let Some(sqlite) = &vault.inner.sqlite {
            let migrated = migrate::run(&vault, sqlite.conn()?, &check)?;
            if let Ok(mut slot) = vault.inner.migrated.lock() {
                *slot = migrated;
            }
        }
        Ok(vault)
    }

    /// What opening this vault migrated from v1 to v2, if it did.
    pub fn migrated(&self) -> Option<MigrationReport> {
        self.inner.migrated.lock().ok().and_then(|m| *m)
    }

    /// A pooled connection for a test to inspect the database with SQL.
    #[cfg(test)]
    pub(crate) fn sql_for_tests(&self) -> Result<Conn> {
        self.inner
            .sqlite
            .as_ref()
            .context("this vault is not on SQLite")?
            .conn()
    }

    /// Runs one statement on the database as an attacker with write access
    /// to it would (the storage contract suite).
    #[cfg(test)]
    pub(crate) fn tamper_for_tests(&self, sql: &str) -> Result<usize> {
        self.inner.backend.tamper(sql)
    }

    /// The storage trait on one connection (reads, and writes that need no
    /// transaction).
    pub fn store(&self) -> Result<Box<dyn Store + '_>> {
        self.inner.backend.store(self.keys())
    }

    /// Runs `f` on one connection.
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
        let mut body = Some(f);
        let mut value = None;
        let after_commit = self.inner.backend.anchors_after_commit();
        let appended = self.inner.backend.transaction(self.keys(), &mut |tx| {
            let f = body.take().context("a write transaction's body ran twice")?;
            if after_commit {
                value = Some(f(tx)?);
                return Ok(());
            }
            let before = tx.audit_head()?;
            value = Some(f(tx)?);
            self.anchor_moved(before.as_ref(), tx.audit_head()?.as_ref())
        })?;
        if let Some((seq, hash)) = appended {
            // A shared log: anchored once committed (a crash before this
            // line leaves the anchor one write behind, never ahead).
            self.anchor(seq, &hash)?;
        }
        value.context("a write transaction's body did not run")
    }

    /// Anchors the audit head `after` if it moved from `before`.
    fn anchor_moved(&self, before: Option<&(i64, String)>, after: Option<&(i64, String)>) -> Result<()> {
        if let Some((seq, hash)) = after
            && after != before
        {
            self.anchor(*seq, hash)?;
        }
        Ok(())
    }

    /// Appends the head (`seq`, `hash`) to the anchor file, one line at a
    /// time from this process.
    fn anchor(&self, seq: i64, hash: &str) -> Result<()> {
        let _one = self
            .inner
            .anchoring
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        anchor::append(&self.anchor_path(), &self.keys().anchor, seq, hash).context("anchoring the audit head")
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
