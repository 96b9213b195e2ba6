//! The instance slots of a runtime: at most as many invocations run at
//! once as the pool has slots, and the rest wait for one (for a while)
//! instead of failing on a full pool.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Counts the free slots.
pub struct Slots {
    state: Mutex<SlotCount>,
    freed: Condvar,
}

/// Free slots, and how many invocations wait for one (so a release wakes
/// someone only when someone waits: no futex call on the common path).
struct SlotCount {
    free: u32,
    waiting: u32,
}

/// A slot held for one invocation, given back when dropped.
pub struct SlotGuard<'a> {
    slots: &'a Slots,
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        let mut state = self.slots.lock();
        state.free += 1;
        if state.waiting > 0 {
            self.slots.freed.notify_one();
        }
    }
}

impl Slots {
    /// `count` free slots.
    pub fn new(count: u32) -> Slots {
        Slots {
            state: Mutex::new(SlotCount {
                free: count,
                waiting: 0,
            }),
            freed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, SlotCount> {
        // The count stays consistent whatever panicked while holding it.
        match self.state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Waits up to `wait` for a slot; `None` when none frees up.
    pub fn acquire(&self, wait: Duration) -> Option<SlotGuard<'_>> {
        let mut state = self.lock();
        if state.free == 0 {
            let deadline = Instant::now() + wait;
            state.waiting += 1;
            while state.free == 0 {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                state = match self.freed.wait_timeout(state, left) {
                    Ok((state, _)) => state,
                    Err(poisoned) => poisoned.into_inner().0,
                };
            }
            state.waiting -= 1;
            if state.free == 0 {
                return None;
            }
        }
        state.free -= 1;
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

    #[test]
    fn a_waiter_gets_the_slot_another_gives_back() {
        let slots = Slots::new(1);
        let held = slots.acquire(Duration::ZERO).unwrap();
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| slots.acquire(Duration::from_secs(10)).is_some());
            std::thread::sleep(Duration::from_millis(50));
            drop(held);
            assert!(waiter.join().unwrap());
        });
        assert_eq!(slots.lock().waiting, 0);
        assert_eq!(slots.lock().free, 1);
    }
}
