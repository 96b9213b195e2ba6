//! Vetting: what a plugin really asks for and imports, checked at review,
//! install and every load; and the `.hpkg` package a partner submits.

pub mod approval;
pub mod diff;
mod error;
pub mod imports;
pub mod package;
pub mod package_file;
pub mod report;
pub mod source;

pub use approval::{APPROVAL_FILE, Approval, ApprovalError, ReviewerKey};
pub use diff::{Change, Widening, diff, escalations, widening};
pub use error::VettingError;
pub use imports::{ImportCheck, check as check_imports, inspect};
pub use package::{PACKAGE_EXTENSION, Package, PackageError};
pub use package_file::{Packed, is_package, pack};
pub use report::{ReviewReport, Risk, Severity, review};
pub use source::{MAX_COMPONENT_BYTES, PluginSource, read_plugin, sha256_hex};
