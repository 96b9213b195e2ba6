//! What reading a plugin directory or package for review or install can
//! fail with. The host's `HostError` wraps it (`error.rs`); vetting does not know the
//! host's error type.

use super::PackageError;
use crate::manifest::ManifestError;

/// A plugin directory that cannot be reviewed or installed.
#[derive(Debug, thiserror::Error)]
pub enum VettingError {
    /// The manifest is invalid.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The component file is missing, corrupt, outside the directory or
    /// does not implement the world its manifest names.
    #[error("{path}: not a usable healthplug component: {reason}")]
    InvalidComponent {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A `.hpkg` file that is not a whole, unaltered package.
    #[error("{path}: not a usable healthplug package: {error}")]
    Package {
        /// The package file.
        path: String,
        /// What is wrong with it.
        #[source]
        error: PackageError,
    },
    /// A directory, manifest or approval that cannot be read or written.
    #[error("{0}")]
    InvalidRequest(String),
}
