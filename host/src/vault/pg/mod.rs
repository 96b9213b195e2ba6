//! The PostgreSQL backend: several hosts on one database behave as one
//! platform. `tokio-postgres` connections in a `deadpool-postgres` pool,
//! driven by a small runtime of the backend's own, so the vault's
//! synchronous storage trait can be called from any thread (a blocking
//! task, a plugin's host call, a CLI command) without nesting runtimes:
//! a pool checkout runs on that runtime, a query's future only talks to
//! its connection's task over channels and is waited for in place.
//!
//! TLS: `sslmode=disable` in the URL connects in the clear (a trusted
//! network only); any other mode negotiates TLS with rustls and always
//! verifies the server's certificate, against the web PKI roots and the
//! PEM file named by `HEALTHPLUG_DATABASE_CA`, if set.
//!
//! What stays on each host: the master key (never in the database), the
//! audit anchor file, the compiled-component cache, and the consent
//! version cache (`versions.rs`), kept fresh by `LISTEN/NOTIFY`.

mod audit;
mod auth;
mod catalog;
mod data;
mod db;
mod grants;
#[cfg(test)]
mod hosts_tests;
mod schema;
mod store;
#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tls_tests;
mod versions;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};

use super::DerivedKeys;
use super::backend::Backend;
use super::store::Store;
pub(crate) use db::Db;
pub use db::round_trips;
use store::PgStore;
pub use versions::MAX_AGE as CONSENT_STALENESS_BOUND;
use versions::VersionCache;

/// The environment variable naming a PEM file of CA certificates trusted
/// for the database's TLS certificate (beside the web PKI roots).
pub const DATABASE_CA_ENV: &str = "HEALTHPLUG_DATABASE_CA";

/// How long a request waits for a pooled connection, and for a new one to
/// be made, before it fails with an error naming the database.
const POOL_WAIT: Duration = Duration::from_secs(10);

/// How many connections one host keeps at most.
const POOL_SIZE: usize = 16;

/// The backend's own runtime, shut down without blocking when dropped
/// (the vault may be dropped inside another runtime's task).
struct OwnRuntime(Option<tokio::runtime::Runtime>);

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// A PostgreSQL database holding vaults.
pub(crate) struct PgBackend {
    pool: Pool,
    versions: Arc<VersionCache>,
    rt: OwnRuntime,
}

/// Where to connect, with the password (if any) kept out of messages.
pub(crate) struct Target {
    config: tokio_postgres::Config,
    tls: bool,
    shown: String,
}

impl Target {
    /// Parses a `postgres://` URL (or a `key=value` connection string).
    pub(crate) fn parse(url: &str) -> Result<Target> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| anyhow::anyhow!("the database URL is not a PostgreSQL URL: {e}"))?;
        let tls = !matches!(config.get_ssl_mode(), tokio_postgres::config::SslMode::Disable);
        let host = config.get_hosts().first().map_or_else(
            || "localhost".to_string(),
            |h| match h {
                tokio_postgres::config::Host::Tcp(name) => name.clone(),
                #[cfg(unix)]
                tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
            },
        );
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let db = config.get_dbname().unwrap_or("(default)");
        let shown = format!("postgres://{host}:{port}/{db}");
        Ok(Target { config, tls, shown })
    }

    /// The database as messages name it (no user, no password).
    pub(crate) fn shown(&self) -> &str {
        &self.shown
    }
}

/// The CA file `HEALTHPLUG_DATABASE_CA` names, if any.
fn ca_from_env() -> Option<PathBuf> {
    std::env::var_os(DATABASE_CA_ENV)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
}

/// The TLS connector: rustls, verifying the server certificate against
/// the web PKI roots and the certificates in `ca`.
fn tls_connector(ca: Option<&Path>) -> Result<tokio_postgres_rustls::MakeRustlsConnect> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.into(),
    };
    if let Some(path) = ca {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let shown = path.display().to_string();
        let certs = CertificateDer::pem_file_iter(path)
            .with_context(|| format!("reading the database CA file {shown} ({DATABASE_CA_ENV})"))?;
        for cert in certs {
            let cert = cert.with_context(|| format!("the database CA file {shown} holds a malformed certificate"))?;
            roots
                .add(cert)
                .with_context(|| format!("the database CA file {shown} holds an unusable certificate"))?;
        }
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

impl PgBackend {
    /// Connects to the database at `url`, migrates it, checks that it
    /// belongs to this master key (`check`), and starts listening for
    /// consent changes made by other hosts.
    pub(crate) fn open(url: &str, keys: &DerivedKeys, check: &str) -> Result<PgBackend> {
        PgBackend::open_with_ca(url, keys, check, ca_from_env().as_deref())
    }

    /// As [`PgBackend::open`], trusting the certificates in `ca` too.
    pub(crate) fn open_with_ca(url: &str, keys: &DerivedKeys, check: &str, ca: Option<&Path>) -> Result<PgBackend> {
        let target = Target::parse(url)?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("healthplug-pg")
            .enable_all()
            .build()
            .context("starting the database runtime")?;
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = if target.tls {
            Manager::from_config(target.config.clone(), tls_connector(ca)?, manager_config)
        } else {
            Manager::from_config(target.config.clone(), tokio_postgres::NoTls, manager_config)
        };
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_WAIT))
            .create_timeout(Some(POOL_WAIT))
            .recycle_timeout(Some(POOL_WAIT))
            .build()
            .context("building the database pool")?;
        let versions = VersionCache::start(
            rt.handle(),
            &target,
            if target.tls { Some(tls_connector(ca)?) } else { None },
        );
        let backend = PgBackend {
            pool,
            versions,
            rt: OwnRuntime(Some(rt)),
        };
        let client = backend.client().with_context(|| {
            let tls = if target.tls {
                format!(
                    " over TLS (its certificate must verify against the web PKI roots or {DATABASE_CA_ENV}; \
                     sslmode=disable only on a trusted network)"
                )
            } else {
                String::new()
            };
            format!("connecting to the vault database {}{tls}", target.shown())
        })?;
        schema::migrate(&Db::Conn(Box::new(client)), keys, check)?;
        Ok(backend)
    }

    /// A pooled connection, checked out on the backend's runtime.
    fn client(&self) -> Result<deadpool_postgres::Object> {
        let Some(rt) = self.rt.0.as_ref() else {
            bail!("the database runtime has stopped");
        };
        let pool = self.pool.clone();
        let got = futures_executor::block_on(rt.spawn(async move { pool.get().await }))
            .context("the database runtime stopped")?;
        got.map_err(|e| anyhow::Error::new(e).context("no connection to the vault database"))
    }
}

impl Backend for PgBackend {
    fn store<'a>(&'a self, keys: &'a DerivedKeys) -> Result<Box<dyn Store + 'a>> {
        Ok(Box::new(PgStore::new(
            Db::Conn(Box::new(self.client()?)),
            keys,
            &self.versions,
        )))
    }

    fn transaction(
        &self,
        keys: &DerivedKeys,
        f: &mut dyn FnMut(&dyn Store) -> Result<()>,
    ) -> Result<Option<(i64, String)>> {
        let mut client = self.client()?;
        let tx = futures_executor::block_on(client.transaction()).context("starting a vault transaction")?;
        db::counted(2); // BEGIN, and COMMIT or ROLLBACK
        let (touched, appended) = {
            let store = PgStore::new(Db::Tx(&tx), keys, &self.versions);
            f(&store)?;
            store.finish()
        };
        futures_executor::block_on(tx.commit()).context("committing to the vault")?;
        // This host sees its own grant changes at once, without waiting
        // for its notification to come back.
        self.versions.forget(&touched);
        Ok(appended)
    }

    fn anchors_after_commit(&self) -> bool {
        true
    }

    #[cfg(test)]
    fn tamper(&self, sql: &str) -> Result<usize> {
        let client = self.client()?;
        let n = futures_executor::block_on(client.execute(sql, &[]))?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }
}
