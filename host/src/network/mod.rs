//! HTTPS egress for plugins that declare `[network]` and were granted it:
//! exact allowlisted origins, DNS resolved by the host with every address
//! checked to be global, a connection to the very address checked (no
//! second resolution, so no DNS rebinding), no redirects followed,
//! forbidden headers stripped, per-invocation caps on requests, bytes and
//! time, and an audit entry per request (never bodies).

mod addr;
mod capped;
mod policy;
mod send;

/// Allowlisted origins are parsed with the manifest; egress matches them.
pub use crate::manifest::Origin;
pub use addr::non_global_reason;
pub use policy::{EgressGrant, EgressStats, NetworkPolicy, Resolver};
pub use send::{EgressHooks, EgressParty};
