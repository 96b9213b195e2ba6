//! The wasmtime engines of a process: epoch interruption driven by a
//! ticker thread, the pooling allocator, and the wasm features plugins do
//! not need switched off to shrink the attack surface. Plugins whose
//! manifest sets a fuel budget run on a second, fuel-metering engine.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::limits::PlatformLimits;
use super::slots::{SlotGuard, Slots};

/// How the runtime is set up.
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    /// Platform limits applied to every plugin.
    pub platform: PlatformLimits,
    /// Pool slots (concurrently live instances); 0 disables pooling. The
    /// default, 12,288, stays below what Linux's default
    /// `vm.max_map_count` (65,530) allows at ~4 mappings per live instance.
    pub pool_slots: u32,
    /// Epoch tick: the granularity of wall-time limits.
    pub epoch_tick: Duration,
    /// How long an invocation waits for a free slot before the host
    /// answers that it is busy.
    pub slot_wait: Duration,
}

impl Default for RuntimeConfig {
    fn default() -> RuntimeConfig {
        RuntimeConfig {
            platform: PlatformLimits::default(),
            pool_slots: 12_288,
            epoch_tick: Duration::from_millis(10),
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

/// The engines and their ticker.
pub struct Runtime {
    engine: Engine,
    /// The engine of plugins whose manifest sets a fuel budget, created on
    /// first use (metering fuel slows every instruction, so only they pay).
    fuel_engine: Arc<OnceLock<Engine>>,
    config: RuntimeConfig,
    slots: Slots,
    _ticker: Ticker,
}

/// The wasmtime configuration of healthplug's engines; `fuel` meters fuel
/// (the engine of plugins that set a fuel budget).
pub fn engine_config(config: &RuntimeConfig, fuel: bool) -> Config {
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
    c.consume_fuel(fuel);
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
        let engine = Engine::new(&engine_config(&config, false))
            .map_err(anyhow::Error::from)
            .context("configuring wasmtime")?;
        let fuel_engine: Arc<OnceLock<Engine>> = Arc::new(OnceLock::new());
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let engine = engine.clone();
            let fuel_engine = fuel_engine.clone();
            let stop = stop.clone();
            let tick = config.epoch_tick;
            std::thread::Builder::new()
                .name("healthplug-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(tick);
                        engine.increment_epoch();
                        if let Some(fuel) = fuel_engine.get() {
                            fuel.increment_epoch();
                        }
                    }
                })
                .context("starting the epoch ticker")?
        };
        let slots = Slots::new(if config.pool_slots > 0 { config.pool_slots } else { 1024 });
        Ok(Runtime {
            engine,
            fuel_engine,
            config,
            slots,
            _ticker: Ticker {
                stop,
                thread: Some(thread),
            },
        })
    }

    /// The engine of plugins without a fuel budget.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The engine for a plugin with (`fuel`) or without a fuel budget.
    pub fn engine_for(&self, fuel: bool) -> Result<&Engine> {
        if !fuel {
            return Ok(&self.engine);
        }
        if let Some(engine) = self.fuel_engine.get() {
            return Ok(engine);
        }
        let engine = Engine::new(&engine_config(&self.config, true))
            .map_err(anyhow::Error::from)
            .context("configuring the fuel-metering engine")?;
        Ok(self.fuel_engine.get_or_init(|| engine))
    }

    /// The configuration.
    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    /// Waits (up to `slot_wait`) for an instance slot; `None` when the
    /// host stays busy that long.
    pub fn acquire_slot(&self) -> Option<SlotGuard<'_>> {
        self.slots.acquire(self.config.slot_wait)
    }

    /// Epoch ticks for a wall-time limit (at least one tick).
    pub fn deadline_ticks(&self, timeout_ms: u32) -> u64 {
        let tick = self.config.epoch_tick.as_millis().max(1);
        u64::try_from(u128::from(timeout_ms).div_ceil(tick))
            .unwrap_or(u64::MAX)
            .max(1)
    }
}
