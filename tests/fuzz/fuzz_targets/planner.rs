//! Fuzzes the query planner with hostile ranges, grants and time zones.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| healthplug_tests::fuzz_planner::planner(data));
