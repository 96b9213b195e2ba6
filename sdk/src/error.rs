//! The errors a plugin sees when the host refuses or cannot serve a call.

use std::fmt;

use crate::DataType;
use crate::bindings::healthplug::plugin::types as wit;

pub use wit::DenialReason;

/// An error from a health-data call.
#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// The user's consent does not cover this access. Match on it to tell the
    /// user what to grant, instead of treating it as "no data".
    NotGranted {
        /// The type that was refused.
        data_type: DataType,
        /// Why.
        reason: DenialReason,
    },
    /// The user has not granted this capability (storage, network).
    CapabilityNotGranted(String),
    /// The request was malformed.
    InvalidRequest(String),
    /// A per-invocation limit was reached.
    LimitExceeded(String),
    /// The host could not serve the request.
    Unavailable(String),
}

impl Error {
    /// True when this is a consent refusal.
    pub fn is_not_granted(&self) -> bool {
        matches!(self, Error::NotGranted { .. })
    }
}

impl From<wit::Error> for Error {
    fn from(e: wit::Error) -> Error {
        match e {
            wit::Error::NotGranted(d) => Error::NotGranted {
                data_type: d.data_type,
                reason: d.reason,
            },
            wit::Error::CapabilityNotGranted(m) => Error::CapabilityNotGranted(m),
            wit::Error::InvalidRequest(m) => Error::InvalidRequest(m),
            wit::Error::LimitExceeded(m) => Error::LimitExceeded(m),
            wit::Error::Unavailable(m) => Error::Unavailable(m),
        }
    }
}

impl DenialReason {
    /// The kebab-case name (`not-granted`, `revoked`, ...).
    pub fn id(self) -> &'static str {
        match self {
            DenialReason::NotRequested => "not-requested",
            DenialReason::NotGranted => "not-granted",
            DenialReason::Revoked => "revoked",
            DenialReason::Expired => "expired",
            DenialReason::AggregatesOnly => "aggregates-only",
            DenialReason::GranularityTooFine => "granularity-too-fine",
            DenialReason::WriteNotGranted => "write-not-granted",
            DenialReason::FieldNotGranted => "field-not-granted",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotGranted { data_type, reason } => {
                write!(f, "access to {data_type} refused: {}", reason.id())
            }
            Error::CapabilityNotGranted(m) => write!(f, "capability not granted: {m}"),
            Error::InvalidRequest(m) => write!(f, "invalid request: {m}"),
            Error::LimitExceeded(m) => write!(f, "limit exceeded: {m}"),
            Error::Unavailable(m) => write!(f, "unavailable: {m}"),
        }
    }
}

impl std::error::Error for Error {}
