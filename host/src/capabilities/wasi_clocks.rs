//! The clocks a plugin reads through `wasi:clocks`: wall and monotonic
//! time rounded down to whole milliseconds, so a plugin cannot time the
//! host (or other tenants) finely enough for cache side channels. Sleeping
//! on a clock is bounded by the invocation's deadline in `wasi_io`.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use wasmtime_wasi::{HostMonotonicClock, HostWallClock};

/// The resolution both clocks report and round to.
pub const RESOLUTION: Duration = Duration::from_millis(1);

fn coarse(d: Duration) -> Duration {
    let step = RESOLUTION.as_nanos();
    let nanos = d.as_nanos() / step * step;
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// Wall-clock time, to the millisecond.
pub struct CoarseWallClock;

impl HostWallClock for CoarseWallClock {
    fn resolution(&self) -> Duration {
        RESOLUTION
    }

    fn now(&self) -> Duration {
        coarse(SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default())
    }
}

/// Monotonic time since the invocation began, to the millisecond.
pub struct CoarseMonotonicClock {
    origin: Instant,
}

impl CoarseMonotonicClock {
    /// A clock starting now.
    pub fn new() -> CoarseMonotonicClock {
        CoarseMonotonicClock { origin: Instant::now() }
    }
}

impl Default for CoarseMonotonicClock {
    fn default() -> CoarseMonotonicClock {
        CoarseMonotonicClock::new()
    }
}

impl HostMonotonicClock for CoarseMonotonicClock {
    fn resolution(&self) -> u64 {
        u64::try_from(RESOLUTION.as_nanos()).unwrap_or(u64::MAX)
    }

    fn now(&self) -> u64 {
        u64::try_from(coarse(self.origin.elapsed()).as_nanos()).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_round_to_the_millisecond() {
        assert_eq!(coarse(Duration::from_nanos(1_999_999)), Duration::from_millis(1));
        let wall = CoarseWallClock.now();
        assert_eq!(wall.subsec_nanos() % 1_000_000, 0);
        let mono = CoarseMonotonicClock::new();
        assert_eq!(mono.now() % 1_000_000, 0);
        assert_eq!(mono.resolution(), 1_000_000);
    }
}
