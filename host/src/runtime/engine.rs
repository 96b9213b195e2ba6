//! The one wasmtime `Engine` of a process: epoch interruption driven by a
//! ticker thread, the pooling allocator, and the wasm features plugins do
//! not need switched off to shrink the attack surface.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::limits::PlatformLimits;

/// How the runtime is set up.
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    /// Platform limits applied to every plugin.
    pub platform: PlatformLimits,
    /// Pool slots (concurrently live instances); 0 disables pooling.
    pub pool_slots: u32,
    /// Epoch tick: the granularity of wall-time limits.
    pub epoch_tick: Duration,
    /// Meter fuel (deterministic CPU budgets, at some cost in speed).
    pub fuel: bool,
    /// How long an invocation waits for a free slot before the host
    /// answers that it is busy.
    pub slot_wait: Duration,
}

impl Default for RuntimeConfig {
    fn default() -> RuntimeConfig {
        RuntimeConfig {
            platform: PlatformLimits::default(),
            pool_slots: 128,
            epoch_tick: Duration::from_millis(10),
            fuel: true,
            slot_wait: Duration::from_secs(30),
        }
    }
}

/// Increments the engine's epoch every tick until dropped.
struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Counts the instances alive at once, so invocations wait for a pool
/// slot instead of failing when the pool is full.
struct Slots {
    free: Mutex<u32>,
    freed: Condvar,
}

/// A slot held for one invocation, given back when dropped.
pub struct SlotGuard<'a> {
    slots: &'a Slots,
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        let mut free = match self.slots.free.lock() {
            Ok(free) => free,
            Err(poisoned) => poisoned.into_inner(),
        };
        *free += 1;
        self.slots.freed.notify_one();
    }
}

/// The engine and its ticker.
pub struct Runtime {
    engine: Engine,
    config: RuntimeConfig,
    slots: Slots,
    _ticker: Ticker,
}

/// The wasmtime configuration every healthplug engine uses.
pub fn engine_config(config: &RuntimeConfig) -> Config {
    let mut c = Config::new();
    c.epoch_interruption(true);
    c.max_wasm_stack(config.platform.max_wasm_stack);
    c.wasm_component_model(true);
    // Features plugins do not need are off, so their bugs are not ours.
    // GC, threads, exceptions and component-model async are not even
    // compiled in (see the wasmtime features in Cargo.toml); these are the
    // remaining switches.
    c.wasm_gc(false);
    c.wasm_shared_everything_threads(false);
    c.wasm_stack_switching(false);
    c.wasm_memory64(false);
    c.wasm_relaxed_simd(false);
    c.wasm_wide_arithmetic(false);
    c.wasm_custom_page_sizes(false);
    c.consume_fuel(config.fuel);
    c.memory_init_cow(true);
    let max_memory = u64::from(config.platform.max_memory_mib) * 1024 * 1024;
    // Each memory reserves only what a plugin may ever use, so many
    // instances fit in the address space (vm.max_map_count is the next wall).
    c.memory_reservation(max_memory);
    c.memory_guard_size(32 * 1024 * 1024);
    c.memory_reservation_for_growth(0);
    if config.pool_slots > 0 {
        let slots = config.pool_slots;
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(slots)
            .total_core_instances(slots.saturating_mul(8))
            .total_memories(slots.saturating_mul(2))
            .total_tables(slots.saturating_mul(8))
            .max_memory_size(usize::try_from(max_memory).unwrap_or(usize::MAX))
            .max_unused_warm_slots(slots.min(64));
        c.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    c
}

impl Runtime {
    /// Builds the engine and starts the epoch ticker.
    pub fn new(config: RuntimeConfig) -> Result<Runtime> {
        let engine = Engine::new(&engine_config(&config))
            .map_err(anyhow::Error::from)
            .context("configuring wasmtime")?;
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let engine = engine.clone();
            let stop = stop.clone();
            let tick = config.epoch_tick;
            std::thread::Builder::new()
                .name("healthplug-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(tick);
                        engine.increment_epoch();
                    }
                })
                .context("starting the epoch ticker")?
        };
        let slots = Slots {
            free: Mutex::new(if config.pool_slots > 0 { config.pool_slots } else { 1024 }),
            freed: Condvar::new(),
        };
        Ok(Runtime {
            engine,
            config,
            slots,
            _ticker: Ticker {
                stop,
                thread: Some(thread),
            },
        })
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The configuration.
    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    /// Waits (up to `slot_wait`) for an instance slot; `None` when the
    /// host stays busy that long.
    pub fn acquire_slot(&self) -> Option<SlotGuard<'_>> {
        let deadline = Instant::now() + self.config.slot_wait;
        let mut free = match self.slots.free.lock() {
            Ok(free) => free,
            Err(poisoned) => poisoned.into_inner(),
        };
        while *free == 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            free = match self.slots.freed.wait_timeout(free, left) {
                Ok((free, _)) => free,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        *free -= 1;
        Some(SlotGuard { slots: &self.slots })
    }

    /// Epoch ticks for a wall-time limit (at least one tick).
    pub fn deadline_ticks(&self, timeout_ms: u32) -> u64 {
        let tick = self.config.epoch_tick.as_millis().max(1);
        u64::try_from(u128::from(timeout_ms).div_ceil(tick))
            .unwrap_or(u64::MAX)
            .max(1)
    }
}
