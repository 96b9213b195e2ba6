//! Bare wasmtime: the same components with no policy layer, the baseline
//! the benchmarks compare healthplug with. A default-config engine with the
//! pooling allocator, WASI, and the healthplug interfaces answered by
//! trivial host functions: `query` hands out a prebuilt columnar batch,
//! `log` does nothing, everything else is refused.

use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use healthplug_host::bench_bindings::healthplug::plugin::health_data::{
    AggregateBatch, AggregateQuery, Host as HealthData, NewSamples, SampleQuery, WriteReport,
};
use healthplug_host::bench_bindings::healthplug::plugin::types::{self as wit, FieldSet, SampleBatch, TypeGrant};
use healthplug_host::bench_bindings::healthplug::plugin::{log, storage, types};
use healthplug_host::bench_bindings::{Plugin, PluginPre};

/// The data of a bare store.
pub struct BareState {
    wasi: WasiCtx,
    table: ResourceTable,
    /// The batch `query` returns (cloned each call, as a host would copy
    /// data it holds).
    pub batch: Option<SampleBatch>,
}

impl BareState {
    /// A state with a default `WasiCtx`.
    pub fn new(batch: Option<SampleBatch>) -> BareState {
        BareState {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            batch,
        }
    }
}

impl WasiView for BareState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

fn refused() -> wit::Error {
    wit::Error::CapabilityNotGranted("not in the bare harness".into())
}

impl types::Host for BareState {}

impl HealthData for BareState {
    fn grants(&mut self) -> wasmtime::Result<Vec<TypeGrant>> {
        Ok(Vec::new())
    }

    fn query(&mut self, _q: SampleQuery) -> wasmtime::Result<Result<SampleBatch, wit::Error>> {
        Ok(self.batch.clone().ok_or_else(refused))
    }

    fn aggregate(&mut self, _q: AggregateQuery) -> wasmtime::Result<Result<AggregateBatch, wit::Error>> {
        Ok(Err(refused()))
    }

    fn write(&mut self, _samples: NewSamples) -> wasmtime::Result<Result<WriteReport, wit::Error>> {
        Ok(Err(refused()))
    }
}

impl log::Host for BareState {
    fn log(&mut self, _level: wit::LogLevel, _message: String) -> wasmtime::Result<()> {
        Ok(())
    }
}

impl storage::Host for BareState {
    fn get(&mut self, _key: String) -> wasmtime::Result<Result<Option<Vec<u8>>, wit::Error>> {
        Ok(Err(refused()))
    }

    fn set(&mut self, _key: String, _value: Vec<u8>) -> wasmtime::Result<Result<(), wit::Error>> {
        Ok(Err(refused()))
    }

    fn delete(&mut self, _key: String) -> wasmtime::Result<Result<bool, wit::Error>> {
        Ok(Err(refused()))
    }

    fn list_keys(&mut self, _prefix: String) -> wasmtime::Result<Result<Vec<String>, wit::Error>> {
        Ok(Err(refused()))
    }
}

/// A default wasmtime configuration with the pooling allocator (and
/// optionally epoch interruption and fuel, for the overhead benchmark).
pub fn engine(epoch: bool, fuel: bool) -> anyhow::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(epoch);
    config.consume_fuel(fuel);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(PoolingAllocationConfig::default()));
    Ok(Engine::new(&config)?)
}

/// The bare pre-instantiated plugin world for `bytes`.
pub fn plugin_pre(engine: &Engine, bytes: &[u8]) -> anyhow::Result<PluginPre<BareState>> {
    let component = Component::new(engine, bytes)?;
    let mut linker: Linker<BareState> = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    Plugin::add_to_linker::<BareState, HasSelf<BareState>>(&mut linker, |s| s)?;
    Ok(PluginPre::new(linker.instantiate_pre(&component)?)?)
}

/// A fresh store (with unlimited fuel when the engine meters it, and an
/// epoch deadline far away when it interrupts).
pub fn store(engine: &Engine, batch: Option<SampleBatch>) -> Store<BareState> {
    let mut store = Store::new(engine, BareState::new(batch));
    let _ = store.set_fuel(u64::MAX);
    store.set_epoch_deadline(u64::MAX / 2);
    store
}

/// A columnar batch of `n` steps samples as the host delivers it to a
/// plugin asking for values only: type codes and values, nothing else.
pub fn steps_batch(n: usize) -> SampleBatch {
    SampleBatch {
        type_codes: vec![0; n],
        start_times: None,
        end_times: None,
        values: Some((0..n).map(|i| (i % 97) as f64).collect()),
        units: None,
        codings: None,
        source_names: None,
        devices: None,
        metadata: None,
        notes: None,
        origins: None,
        utc_offsets: None,
        fields: FieldSet::VALUE,
        more: false,
        next_cursor: 0,
    }
}

/// The sum `steps_batch(n)` holds.
pub fn expected_sum(n: usize) -> f64 {
    (0..n).map(|i| (i % 97) as f64).sum()
}
