//! The limits one plugin runs under: its manifest's `[limits]` and
//! `[storage]` quotas, defaulted and capped by the platform's. The runtime
//! enforces them without knowing where they came from.

use crate::manifest::{ManifestLimits, StorageRequest, World};
use crate::runtime::{EffectiveLimits, PlatformLimits};

const MIB: u64 = 1024 * 1024;

/// The manifest's limits, defaulted and capped by the platform.
/// Connectors (which stream whole exports) get longer defaults and caps
/// for wall time and host calls.
pub fn resolve_limits(
    manifest: &ManifestLimits,
    storage: Option<&StorageRequest>,
    platform: &PlatformLimits,
    world: World,
) -> EffectiveLimits {
    let memory_mib = manifest
        .memory_mib
        .unwrap_or(platform.default_memory_mib)
        .min(platform.max_memory_mib);
    let (default_timeout, max_timeout, host_calls, max_fuel) = match world {
        World::Plugin => (
            platform.default_timeout_ms,
            platform.max_timeout_ms,
            platform.max_host_calls,
            platform.max_fuel,
        ),
        World::Connector => (
            platform.default_import_timeout_ms,
            platform.max_import_timeout_ms,
            platform.max_import_host_calls,
            platform.max_import_fuel,
        ),
    };
    let timeout_ms = manifest.timeout_ms.unwrap_or(default_timeout).min(max_timeout);
    EffectiveLimits {
        memory_bytes: u64::from(memory_mib) * MIB,
        timeout_ms,
        output_bytes: platform.max_output_bytes,
        log_bytes: platform.max_log_bytes,
        host_calls,
        samples_per_query: platform.max_samples_per_query,
        table_elements: platform.max_table_elements,
        storage_bytes: storage.map_or(0, |s| {
            s.max_bytes
                .unwrap_or(platform.default_storage_bytes)
                .min(platform.max_storage_bytes)
        }),
        storage_keys: storage.map_or(0, |s| {
            s.max_keys
                .unwrap_or(platform.default_storage_keys)
                .min(platform.max_storage_keys)
        }),
        fuel: manifest.fuel.map(|f| f.min(max_fuel)),
        hostcall_bytes: platform.max_hostcall_bytes,
        handles: platform.max_handles,
        random_bytes: platform.max_random_bytes,
        decrypts: platform.max_decrypts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_caps() {
        let p = PlatformLimits::default();
        let none = resolve_limits(&ManifestLimits::default(), None, &p, World::Plugin);
        assert_eq!(none.memory_bytes, 64 * MIB);
        assert_eq!(none.timeout_ms, 1_000);
        let greedy = resolve_limits(
            &ManifestLimits {
                memory_mib: Some(4096),
                timeout_ms: Some(600_000),
                fuel: Some(u64::MAX),
            },
            None,
            &p,
            World::Plugin,
        );
        assert_eq!(greedy.memory_bytes, 256 * MIB);
        assert_eq!(greedy.timeout_ms, 10_000);
        assert_eq!(greedy.fuel, Some(p.max_fuel));
        let modest = resolve_limits(
            &ManifestLimits {
                memory_mib: Some(8),
                timeout_ms: Some(50),
                fuel: Some(1_000_000),
            },
            None,
            &p,
            World::Plugin,
        );
        assert_eq!(modest.memory_bytes, 8 * MIB);
        assert_eq!(modest.timeout_ms, 50);
        assert_eq!(modest.fuel, Some(1_000_000));
        let import = resolve_limits(&ManifestLimits::default(), None, &p, World::Connector);
        assert_eq!(import.timeout_ms, 60_000);
        assert_eq!(import.host_calls, 1_000_000);
        assert_eq!(import.fuel, None);
    }
}
