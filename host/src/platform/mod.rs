//! The platform: one home directory's vault, the runtime, and the
//! operations the CLI and embedding services call (install, consent,
//! invoke, records, audit, erase, access tokens, consent-page sign-in).

mod activity;
mod components;
mod consent;
mod grant;
mod import;
mod install;
mod invoke;
mod load;
mod manual;
mod ports;
mod reconsent;
mod records;
mod serving;
mod session;
mod succession;
mod tokens;
mod web;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use components::ComponentStore;

use crate::consent::PlatformPolicy;
use crate::error::HostError;
use crate::network::NetworkPolicy;
use crate::runtime::{ComponentCache, Runtime, RuntimeConfig};
use crate::vault::{Database, UserRecord, Vault};

pub use activity::{ActivityEntry, ActivityFilter, HoldingCount, ReadSummary};
pub use consent::{CapabilityView, ConsentView, GrantRequest, RevokeReport};
pub use import::{ImportReport, Problem, SkipCount, TypeCount};
pub use install::{InstallOptions, InstallReport};
pub use invoke::{InvokeOutcome, ToolFailure, ToolInfo};
pub use load::LoadedPlugin;
pub use manual::{MANUAL_ORIGIN, RecordEntry};
pub use reconsent::ReconsentReport;
pub use records::RecordView;
pub use tokens::{ID_PREFIX, LABEL_MAX, SECRET_PREFIX, TokenError, TokenGrant, TokenInfo, TokenStatus};
pub use web::{LINK_MAX_LIFETIME, LinkStatus, LoginLink, SESSION_LIFETIME, SignedIn, WebSession};

/// The environment variable naming the home directory.
pub const HOME_ENV: &str = "HEALTHPLUG_HOME";

/// The environment variable that forbids `--dev` installs when set to `0`
/// (or `false`, `no`, `off`; any value other than `1`, `true`, `yes`, `on`
/// forbids them too: the setting fails closed).
pub const ALLOW_DEV_ENV: &str = "HEALTHPLUG_ALLOW_DEV";

/// Whether the environment allows `--dev` installs (yes when
/// `HEALTHPLUG_ALLOW_DEV` is unset or empty).
pub fn dev_allowed_by_env() -> bool {
    match std::env::var(ALLOW_DEV_ENV) {
        Err(std::env::VarError::NotPresent) => true,
        Err(std::env::VarError::NotUnicode(_)) => false,
        Ok(v) => matches!(v.trim().to_ascii_lowercase().as_str(), "" | "1" | "true" | "yes" | "on"),
    }
}

/// The home directory to use: `explicit`, else `$HEALTHPLUG_HOME`, else the
/// OS data directory.
pub fn resolve_home(explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os(HOME_ENV).filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    dirs::data_dir()
        .map(|d| d.join("healthplug"))
        .unwrap_or_else(|| PathBuf::from(".healthplug"))
}

/// A healthplug host over one home directory.
pub struct Host {
    vault: Vault,
    runtime: Arc<Runtime>,
    cache: ComponentCache,
    components: ComponentStore,
    policy: PlatformPolicy,
    network: NetworkPolicy,
    allow_dev: bool,
    loaded: Mutex<HashMap<String, Arc<LoadedPlugin>>>,
}

impl Host {
    /// Opens the home directory with a runtime of its own.
    pub fn open(home: &Path) -> Result<Host, HostError> {
        let runtime = Arc::new(Runtime::new(RuntimeConfig::default())?);
        Host::open_with(home, runtime, PlatformPolicy::default())
    }

    /// Opens the home directory sharing `runtime` (one engine per process).
    pub fn open_with(home: &Path, runtime: Arc<Runtime>, policy: PlatformPolicy) -> Result<Host, HostError> {
        Host::open_shared(home, &Database::from_env()?, runtime, policy)
    }

    /// Opens the home directory on `database` with a runtime of its own.
    pub fn open_on(home: &Path, database: &Database) -> Result<Host, HostError> {
        let runtime = Arc::new(Runtime::new(RuntimeConfig::default())?);
        Host::open_shared(home, database, runtime, PlatformPolicy::default())
    }

    /// Opens the home directory on `database`, sharing `runtime`.
    pub fn open_shared(
        home: &Path,
        database: &Database,
        runtime: Arc<Runtime>,
        policy: PlatformPolicy,
    ) -> Result<Host, HostError> {
        let vault = Vault::open_on(home, database)?;
        let cache = ComponentCache::new(
            &vault.home().join("cache"),
            vault.keys().cache.derive_bytes(b"healthplug cache entry mac key v1"),
        )?;
        let components = ComponentStore::open(vault.home())?;
        Ok(Host {
            vault,
            runtime,
            cache,
            components,
            policy,
            network: NetworkPolicy::default(),
            allow_dev: dev_allowed_by_env(),
            loaded: Mutex::new(HashMap::new()),
        })
    }

    /// Uses `network` for every plugin's egress (caps, and the test-only
    /// switches no manifest can set); the default otherwise.
    pub fn with_network(mut self, network: NetworkPolicy) -> Host {
        self.network = network;
        self
    }

    /// Allows or forbids `--dev` installs (the default comes from
    /// `HEALTHPLUG_ALLOW_DEV`).
    pub fn with_dev_allowed(mut self, allow: bool) -> Host {
        self.allow_dev = allow;
        self
    }

    /// Whether `--dev` installs are allowed.
    pub fn dev_allowed(&self) -> bool {
        self.allow_dev
    }

    /// The vault.
    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    /// The runtime.
    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// The home directory.
    pub fn home(&self) -> &Path {
        self.vault.home()
    }

    /// The user with this handle, or `UnknownUser`.
    pub fn user(&self, handle: &str) -> Result<UserRecord, HostError> {
        self.vault
            .find_user(handle)?
            .ok_or_else(|| HostError::UnknownUser(handle.to_string()))
    }

    /// The user with this handle, created if new (returns whether created).
    pub fn ensure_user(&self, handle: &str) -> Result<(UserRecord, bool), HostError> {
        self.vault
            .ensure_user(handle)
            .map_err(|e| HostError::InvalidRequest(format!("{e:#}")))
    }

    /// Every user.
    pub fn users(&self) -> Result<Vec<UserRecord>, HostError> {
        Ok(self.vault.list_users()?)
    }
}
