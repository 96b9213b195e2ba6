//! Helpers shared by the mock's tests: times around the mock's default
//! clock and fixture samples.
#![allow(dead_code)]

use healthplug_sdk::testing::DEFAULT_NOW;
use healthplug_sdk::{DataType, NewSample, Timestamp};

pub const MINUTE: i64 = 60_000;
pub const HOUR: i64 = 3_600_000;
pub const DAY: i64 = 86_400_000;

/// The mock's default "now" (2026-11-28T12:00:00Z).
pub fn now() -> Timestamp {
    DEFAULT_NOW
}

/// Midnight UTC of the mock's default day.
pub fn today() -> Timestamp {
    DEFAULT_NOW.start_of_day()
}

/// `t` moved by `ms` milliseconds.
pub fn plus(t: Timestamp, ms: i64) -> Timestamp {
    Timestamp::from_millis(t.millis() + ms)
}

/// Steps walked over 10 minutes from `start`.
pub fn steps(start: Timestamp, count: f64) -> NewSample {
    NewSample::quantity(DataType::Steps, start, plus(start, 10 * MINUTE), count, "{steps}")
}

/// A heart-rate reading at `at`.
pub fn heart_rate(at: Timestamp, bpm: f64) -> NewSample {
    NewSample::quantity(DataType::HeartRate, at, at, bpm, "/min")
}
