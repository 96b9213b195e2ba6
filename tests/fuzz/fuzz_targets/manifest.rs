//! Fuzzes the manifest parser with arbitrary bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| healthplug_tests::fuzz::manifest(data));
