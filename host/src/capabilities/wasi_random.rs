//! Host side of `wasi:random/random` and `wasi:random/insecure`, shadowing
//! wasmtime-wasi's: the same generators, with a budget of random bytes per
//! invocation, so asking for 2^40 bytes (or 1 MiB a million times) is a
//! typed `random` limit instead of a host allocation or a busy host.

use wasmtime::component::HasData;
use wasmtime_wasi::p2::bindings::random::{insecure, random};
use wasmtime_wasi::random::WasiRandomCtx;

use crate::runtime::{LimitKind, Sandboxed};

/// The random generators of one invocation, with what is left of its budget.
pub struct RandomBudget<'a> {
    ctx: &'a mut WasiRandomCtx,
    used: &'a mut u64,
    max: u64,
    hit: &'a mut Option<LimitKind>,
}

/// `HasData` for [`RandomBudget`].
pub struct RandomBudgetData;

impl HasData for RandomBudgetData {
    type Data<'a> = RandomBudget<'a>;
}

/// The view `wasi:random` calls get.
fn random_budget<T: Sandboxed>(s: &mut T) -> RandomBudget<'_> {
    let sandbox = s.sandbox();
    RandomBudget {
        ctx: sandbox.wasi.random(),
        used: &mut sandbox.random_used,
        max: sandbox.limits.random_bytes,
        hit: &mut sandbox.limiter.hit,
    }
}

impl RandomBudget<'_> {
    /// Takes `len` bytes from the budget, or ends the invocation.
    fn take(&mut self, len: u64) -> wasmtime::Result<()> {
        let total = self.used.saturating_add(len);
        if total > self.max {
            self.hit.get_or_insert(LimitKind::Random);
            return Err(wasmtime::Error::msg(format!(
                "asked for {len} random bytes; an invocation may have at most {}",
                self.max
            )));
        }
        *self.used = total;
        Ok(())
    }
}

impl random::Host for RandomBudget<'_> {
    fn get_random_bytes(&mut self, len: u64) -> wasmtime::Result<Vec<u8>> {
        self.take(len)?;
        random::Host::get_random_bytes(self.ctx, len)
    }

    fn get_random_u64(&mut self) -> wasmtime::Result<u64> {
        random::Host::get_random_u64(self.ctx)
    }
}

impl insecure::Host for RandomBudget<'_> {
    fn get_insecure_random_bytes(&mut self, len: u64) -> wasmtime::Result<Vec<u8>> {
        self.take(len)?;
        insecure::Host::get_insecure_random_bytes(self.ctx, len)
    }

    fn get_insecure_random_u64(&mut self) -> wasmtime::Result<u64> {
        insecure::Host::get_insecure_random_u64(self.ctx)
    }
}

/// Replaces wasmtime-wasi's `wasi:random/random` and `wasi:random/insecure`
/// in `linker` with the budgeted ones.
pub fn shadow<T: Sandboxed>(linker: &mut wasmtime::component::Linker<T>) -> anyhow::Result<()> {
    linker.allow_shadowing(true);
    random::add_to_linker::<T, RandomBudgetData>(linker, random_budget::<T>)?;
    insecure::add_to_linker::<T, RandomBudgetData>(linker, random_budget::<T>)?;
    linker.allow_shadowing(false);
    Ok(())
}
