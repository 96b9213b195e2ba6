//! Capabilities a user may grant beyond data (`storage`, `network`) and
//! what a grant of each covers, as types: the storage quota, the network
//! origins. Only the vault turns a scope into text (`vault/capabilities.rs`);
//! everything above it reads these.

use std::fmt;

use serde::Serialize;

/// A capability a user may grant a plugin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// Private key-value storage.
    Storage,
    /// HTTPS egress to allowlisted origins.
    Network,
}

impl Capability {
    /// The kebab-case name.
    pub fn id(self) -> &'static str {
        match self {
            Capability::Storage => "storage",
            Capability::Network => "network",
        }
    }

    /// The capability named `id`.
    pub fn from_id(id: &str) -> Option<Capability> {
        match id {
            "storage" => Some(Capability::Storage),
            "network" => Some(Capability::Network),
            _ => None,
        }
    }
}

/// What one capability grant covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "capability", rename_all = "kebab-case")]
pub enum CapabilityScope {
    /// Storage within a quota (never more than the manifest's).
    Storage {
        /// Bytes.
        max_bytes: u64,
        /// Keys.
        max_keys: u64,
    },
    /// HTTPS to exactly these origins (`https://host[:port]`).
    Network {
        /// The origins granted.
        origins: Vec<String>,
    },
}

impl CapabilityScope {
    /// The capability this scope belongs to.
    pub fn capability(&self) -> Capability {
        match self {
            CapabilityScope::Storage { .. } => Capability::Storage,
            CapabilityScope::Network { .. } => Capability::Network,
        }
    }

    /// The storage quota, `(bytes, keys)`; `(0, 0)` for another capability.
    pub fn storage_quota(&self) -> (u64, u64) {
        match self {
            CapabilityScope::Storage { max_bytes, max_keys } => (*max_bytes, *max_keys),
            CapabilityScope::Network { .. } => (0, 0),
        }
    }

    /// Whether this scope grants `origin` (exact match); never for storage.
    pub fn allows_origin(&self, origin: &str) -> bool {
        match self {
            CapabilityScope::Network { origins } => origins.iter().any(|o| o == origin),
            CapabilityScope::Storage { .. } => false,
        }
    }
}

/// For people: `1048576 bytes in 1000 keys`, or the origins, comma-separated.
impl fmt::Display for CapabilityScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CapabilityScope::Storage { max_bytes, max_keys } => write!(f, "{max_bytes} bytes in {max_keys} keys"),
            CapabilityScope::Network { origins } => f.write_str(&origins.join(", ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for c in [Capability::Storage, Capability::Network] {
            assert_eq!(Capability::from_id(c.id()), Some(c));
        }
        assert_eq!(Capability::from_id("Storage"), None);
    }

    #[test]
    fn a_scope_grants_only_what_it_names() {
        let net = CapabilityScope::Network {
            origins: vec!["https://api.example".into()],
        };
        assert!(net.allows_origin("https://api.example"));
        assert!(!net.allows_origin("https://api.example:8443"));
        assert!(!net.allows_origin("https://api.example.evil"));
        assert_eq!(net.storage_quota(), (0, 0));
        let storage = CapabilityScope::Storage {
            max_bytes: 10,
            max_keys: 2,
        };
        assert!(!storage.allows_origin("https://api.example"));
        assert_eq!(storage.storage_quota(), (10, 2));
    }
}
