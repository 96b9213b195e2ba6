//! The errors the host returns to its callers (the CLI, the platform, the
//! tests): each names what is wrong, and most carry a hint saying what to
//! do about it.

use std::fmt;

use crate::manifest::ManifestError;
use crate::runtime::RunFailure;

impl fmt::Display for RunFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl From<crate::vetting::VettingError> for HostError {
    fn from(e: crate::vetting::VettingError) -> HostError {
        use crate::vetting::VettingError;
        match e {
            VettingError::Manifest(e) => HostError::Manifest(e),
            VettingError::InvalidComponent { path, reason } => HostError::InvalidComponent { path, reason },
            VettingError::InvalidRequest(message) => HostError::InvalidRequest(message),
            e @ VettingError::Package { .. } => HostError::InvalidRequest(e.to_string()),
        }
    }
}

/// An error from the host.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The manifest is invalid.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// No such plugin.
    #[error("no plugin `{0}` is installed")]
    UnknownPlugin(String),
    /// No such user.
    #[error("no user `{0}`")]
    UnknownUser(String),
    /// The component file is missing, corrupt or does not implement the
    /// world its manifest names.
    #[error("{path}: not a usable healthplug component: {reason}")]
    InvalidComponent {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The component does not match the digest its manifest pins.
    #[error("{path}: the component's sha256 is {actual} but the manifest pins {expected}")]
    DigestMismatch {
        /// The file.
        path: String,
        /// From the manifest.
        expected: String,
        /// Of the bytes.
        actual: String,
    },
    /// The installed component changed since it was installed.
    #[error(
        "the installed component of `{plugin}` was modified: its sha256 is {actual}, {expected} was recorded at install"
    )]
    Tampered {
        /// The plugin.
        plugin: String,
        /// Recorded.
        expected: String,
        /// Found.
        actual: String,
    },
    /// The plugin has no valid approval from a trusted reviewer.
    #[error("not approved: {0}")]
    NotApproved(crate::vetting::ApprovalError),
    /// A grant or revoke the manifest or the user's state does not allow.
    #[error("{0}")]
    Consent(String),
    /// A malformed request (bad arguments, wrong world, ...).
    #[error("{0}")]
    InvalidRequest(String),
    /// The plugin failed: a limit or a trap. The host is unaffected.
    #[error("plugin `{plugin}` {failure}")]
    Plugin {
        /// The plugin.
        plugin: String,
        /// What happened.
        failure: RunFailure,
    },
    /// A connector could not import the file (wrong format, bad options, a
    /// refused write). Nothing was stored.
    #[error("{connector} could not import the file: {message}")]
    Import {
        /// The connector.
        connector: String,
        /// What went wrong.
        message: String,
        /// What to do about it.
        hint: Option<String>,
    },
    /// Anything else (I/O, database).
    #[error("{0:#}")]
    Internal(#[from] anyhow::Error),
}

impl HostError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            HostError::Manifest(_) => "fix the manifest; `healthplug.toml` keys are listed in the README".into(),
            HostError::UnknownPlugin(_) => "`healthplug plugin list` shows what is installed".into(),
            HostError::UnknownUser(_) => "users are created by `healthplug consent grant` or `healthplug user add`".into(),
            HostError::InvalidComponent { .. } => {
                "build the plugin with `cargo build --release --target wasm32-wasip2` and name the .wasm, a file inside the plugin directory, in the manifest's `component`".into()
            }
            HostError::DigestMismatch { .. } => {
                "rebuild the component or update `sha256` in the manifest (`sha256sum` the .wasm)".into()
            }
            HostError::Tampered { plugin, .. } => format!("reinstall it with `healthplug plugin add` (plugin `{plugin}`)"),
            HostError::Consent(_) => "`healthplug consent show <user>` shows what is granted".into(),
            HostError::NotApproved(
                crate::vetting::ApprovalError::DevDisabled | crate::vetting::ApprovalError::DevOverReviewed { .. },
            ) => "install a build a trusted reviewer approved (`healthplug review sign`)".into(),
            HostError::NotApproved(_) => {
                "a reviewer approves a plugin with `healthplug review sign`; partners testing locally install with --dev".into()
            }
            HostError::Plugin { .. } => "the plugin's log (`--json`) may say more; the host kept running".into(),
            HostError::Import { hint, .. } => return hint.clone(),
            HostError::InvalidRequest(_) | HostError::Internal(_) => return None,
        })
    }
}
