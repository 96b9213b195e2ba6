//! What a long-running service needs of the platform beyond one command:
//! which plugins a user has enabled (granted anything to), and noticing
//! that another process (the CLI) upgraded, removed or re-approved a
//! plugin this process keeps loaded.

use std::collections::BTreeSet;

use super::Host;
use crate::error::HostError;
use crate::vault::{UserRecord, now_ms};

impl Host {
    /// The installed plugins `user` has an active grant for (a data type,
    /// storage or network), in id order.
    pub fn enabled_plugins(&self, user: &UserRecord) -> Result<BTreeSet<String>, HostError> {
        let now = now_ms();
        let granted: BTreeSet<String> = self
            .vault
            .consents_of(user.id)?
            .into_iter()
            .filter(|(_, g)| g.revoked_ms.is_none() && g.until_ms.is_none_or(|t| t > now))
            .map(|(plugin, _)| plugin)
            .collect();
        // The plugin list first: holding a pooled connection while asking
        // the pool for another deadlocks once every connection is held so.
        let plugins = self.vault.plugins()?;
        let conn = self.vault.store()?;
        let mut out = BTreeSet::new();
        for plugin in plugins {
            let enabled = granted.contains(&plugin.id)
                || conn
                    .capability_grants(user.id, &plugin.id)?
                    .iter()
                    .any(|g| g.revoked_ms.is_none());
            if enabled {
                out.insert(plugin.id);
            }
        }
        Ok(out)
    }

    /// Forgets this process's loaded copy of `id` if the vault's record
    /// changed since it was loaded (an upgrade, removal or new approval by
    /// another process), so the next call loads and checks it afresh.
    /// Returns whether it did.
    pub fn refresh_loaded(&self, id: &str) -> Result<bool, HostError> {
        let current = self.vault.plugin(id)?;
        let Ok(mut map) = self.loaded.lock() else {
            return Ok(false);
        };
        let stale = match (map.get(id), &current) {
            (Some(p), Some(r)) => {
                p.record.component_sha256 != r.component_sha256
                    || p.record.manifest_sha256 != r.manifest_sha256
                    || p.record.approval != r.approval
            }
            (Some(_), None) => true,
            (None, _) => false,
        };
        if stale {
            map.remove(id);
        }
        Ok(stale)
    }
}
