//! The two doors through which `capabilities` and `network` reach the
//! platform's records, so neither reads a grant table or writes the audit
//! log itself: a [`GrantSource`] answers what the user has granted the
//! plugin right now, an [`AuditSink`] takes the entries that must be
//! durable before anything is delivered or sent. The platform implements
//! both over its vault (`platform/ports.rs`); a test or another backend
//! can implement them over anything else.

use crate::consent::{Capability, CapabilityScope, UserGrant};

/// What a user has granted a plugin, read afresh whenever asked (a revoke
/// bites on the next read).
pub trait GrantSource: Send + Sync {
    /// The consent version of (user, plugin): it changes with every grant
    /// or revoke, so a caller re-reads the grants only when it moved.
    fn version(&self, user_id: i64, plugin: &str) -> anyhow::Result<i64>;

    /// The user's data grants to the plugin (revoked ones included, as
    /// consent computes what is in force).
    fn grants(&self, user_id: i64, plugin: &str) -> anyhow::Result<Vec<UserGrant>>;

    /// The scope of `capability` in force, if it is granted.
    fn capability(&self, user_id: i64, plugin: &str, capability: Capability)
    -> anyhow::Result<Option<CapabilityScope>>;
}

/// Where audit entries go. `record` returns only once they are durable;
/// an `Err` means they are not, and the caller must not go on with what
/// they describe (fail closed).
pub trait AuditSink: Send + Sync {
    /// Appends `events`, in order.
    fn record(&self, events: Vec<AuditEvent>) -> anyhow::Result<()>;
}

/// The entries an [`AuditSink`] takes.
pub use crate::vault::{AuditEvent, AuditKind};
