//! Resource limits: platform defaults and caps, and the effective limits
//! of one plugin (its manifest's `[limits]` capped by the platform, which
//! `capabilities::limits` works out).
//!
//! | limit | default | cap | enforced by |
//! |---|---|---|---|
//! | linear memory | 64 MiB | 256 MiB | `ResourceLimiter` + pooling `max_memory_size` |
//! | wall time per invocation | 1 s | 10 s | epoch deadline (10 ms ticker); blocking WASI calls give up at the same deadline |
//! | fuel per invocation | none (opt-in) | 2·10¹¹ | `consume_fuel` on a second engine, for plugins whose manifest sets `fuel` (deterministic; costs ~1.8x on compute) |
//! | wasm stack | 512 KiB | - | `Config::max_wasm_stack` |
//! | data copied to the host in one call | 16 MiB | - | `Store::set_hostcall_fuel` |
//! | result size | 1 MiB | - | checked after the call |
//! | log size | 64 KiB | - | log buffer truncates, strips control characters |
//! | host calls per invocation | 10,000 | - | counted in every healthplug host call |
//! | resource handles | 1,000 | - | `ResourceTable::set_max_capacity` |
//! | random bytes per invocation | 1 MiB | - | `wasi:random` shadowed with a budget |
//! | connector wall time per import | 60 s | 600 s | epoch deadline |
//! | connector fuel per import | none (opt-in) | 2·10¹³ | likewise |
//! | connector host calls per import | 1,000,000 | - | counted in every healthplug host call |
//! | samples per query | 500,000 | - | query planner |
//! | table elements | 20,000 | - | `ResourceLimiter` |

use serde::Serialize;

/// Limits the platform applies to every plugin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlatformLimits {
    /// Memory for plugins whose manifest sets none, MiB.
    pub default_memory_mib: u32,
    /// The most memory any plugin may have, MiB.
    pub max_memory_mib: u32,
    /// Wall time for plugins whose manifest sets none, ms.
    pub default_timeout_ms: u32,
    /// The longest wall time any plugin may have, ms.
    pub max_timeout_ms: u32,
    /// Largest tool result, bytes.
    pub max_output_bytes: usize,
    /// Largest log per invocation, bytes.
    pub max_log_bytes: usize,
    /// Host calls per invocation.
    pub max_host_calls: u64,
    /// Samples returned by one query.
    pub max_samples_per_query: usize,
    /// Wasm stack, bytes.
    pub max_wasm_stack: usize,
    /// Elements per table.
    pub max_table_elements: usize,
    /// Wall time for connectors whose manifest sets none, ms.
    pub default_import_timeout_ms: u32,
    /// The longest wall time any connector may have, ms.
    pub max_import_timeout_ms: u32,
    /// Host calls per import.
    pub max_import_host_calls: u64,
    /// Storage bytes for plugins whose manifest sets no quota.
    pub default_storage_bytes: u64,
    /// The largest storage quota, bytes.
    pub max_storage_bytes: u64,
    /// Storage keys for plugins whose manifest sets no quota.
    pub default_storage_keys: u64,
    /// The largest key quota.
    pub max_storage_keys: u64,
    /// The most fuel a plugin's manifest may set.
    pub max_fuel: u64,
    /// The most fuel a connector's manifest may set.
    pub max_import_fuel: u64,
    /// Bytes the host lifts from the guest in one call (arguments of a
    /// host call, or a returned value).
    pub max_hostcall_bytes: usize,
    /// Live resource handles (streams, pollables, ...).
    pub max_handles: usize,
    /// Random bytes per invocation.
    pub max_random_bytes: u64,
    /// Samples the host unseals for one invocation (queries and aggregates
    /// together): bounds the host work a plugin can cause, whatever it asks.
    pub max_decrypts: u64,
}

impl Default for PlatformLimits {
    fn default() -> PlatformLimits {
        PlatformLimits {
            default_memory_mib: 64,
            max_memory_mib: 256,
            default_timeout_ms: 1_000,
            max_timeout_ms: 10_000,
            max_output_bytes: 1024 * 1024,
            max_log_bytes: 64 * 1024,
            max_host_calls: 10_000,
            max_samples_per_query: 500_000,
            max_wasm_stack: 512 * 1024,
            max_table_elements: 20_000,
            default_import_timeout_ms: 60_000,
            max_import_timeout_ms: 600_000,
            max_import_host_calls: 1_000_000,
            default_storage_bytes: 1024 * 1024,
            max_storage_bytes: 16 * 1024 * 1024,
            default_storage_keys: 1_000,
            max_storage_keys: 10_000,
            max_fuel: 200_000_000_000,
            max_import_fuel: 20_000_000_000_000,
            max_hostcall_bytes: 16 * 1024 * 1024,
            max_handles: 1_000,
            max_random_bytes: 1024 * 1024,
            max_decrypts: 2_000_000,
        }
    }
}

/// The limits one plugin runs under.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EffectiveLimits {
    /// Linear memory, bytes.
    pub memory_bytes: u64,
    /// Wall time, ms.
    pub timeout_ms: u32,
    /// Result size, bytes.
    pub output_bytes: usize,
    /// Log size, bytes.
    pub log_bytes: usize,
    /// Host calls per invocation.
    pub host_calls: u64,
    /// Samples per query.
    pub samples_per_query: usize,
    /// Table elements.
    pub table_elements: usize,
    /// Storage quota, bytes (0 without `[storage]`).
    pub storage_bytes: u64,
    /// Storage quota, keys (0 without `[storage]`).
    pub storage_keys: u64,
    /// Fuel, for plugins whose manifest sets a budget (they run on the
    /// fuel-metering engine); `None`: the epoch deadline alone.
    pub fuel: Option<u64>,
    /// Bytes lifted from the guest in one call.
    pub hostcall_bytes: usize,
    /// Live resource handles.
    pub handles: usize,
    /// Random bytes per invocation.
    pub random_bytes: u64,
    /// Samples unsealed per invocation.
    pub decrypts: u64,
}

/// Which limit a plugin hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LimitKind {
    /// Wall time.
    Timeout,
    /// Linear memory.
    Memory,
    /// Wasm stack.
    Stack,
    /// Result size.
    Output,
    /// Host calls.
    HostCalls,
    /// Table elements.
    Table,
    /// Fuel.
    Fuel,
    /// Data copied from the guest to the host in one call.
    HostcallData,
    /// Live resource handles.
    Handles,
    /// Random bytes.
    Random,
    /// Samples unsealed.
    Decrypts,
}

impl LimitKind {
    /// The kebab-case name.
    pub fn id(self) -> &'static str {
        match self {
            LimitKind::Timeout => "timeout",
            LimitKind::Memory => "memory",
            LimitKind::Stack => "stack",
            LimitKind::Output => "output",
            LimitKind::HostCalls => "host-calls",
            LimitKind::Table => "table",
            LimitKind::Fuel => "fuel",
            LimitKind::HostcallData => "hostcall-data",
            LimitKind::Handles => "handles",
            LimitKind::Random => "random",
            LimitKind::Decrypts => "decrypts",
        }
    }
}
