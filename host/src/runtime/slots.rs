//! The instance slots of a runtime: at most as many invocations run at
//! once as the pool has slots, and the rest wait for one (for a while)
//! instead of failing on a full pool.

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// Counts the free slots.
pub struct Slots {
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

impl Slots {
    /// `count` free slots.
    pub fn new(count: u32) -> Slots {
        Slots {
            free: Mutex::new(count),
            freed: Condvar::new(),
        }
    }

    /// Waits up to `wait` for a slot; `None` when none frees up.
    pub fn acquire(&self, wait: Duration) -> Option<SlotGuard<'_>> {
        let deadline = Instant::now() + wait;
        let mut free = match self.free.lock() {
            Ok(free) => free,
            Err(poisoned) => poisoned.into_inner(),
        };
        while *free == 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            free = match self.freed.wait_timeout(free, left) {
                Ok((free, _)) => free,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        *free -= 1;
        Some(SlotGuard { slots: self })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_frees_when_its_guard_drops() {
        let slots = Slots::new(1);
        let held = slots.acquire(Duration::ZERO).unwrap();
        assert!(slots.acquire(Duration::from_millis(10)).is_none());
        drop(held);
        assert!(slots.acquire(Duration::ZERO).is_some());
    }
}
