//! Fuzzes installing arbitrary bytes as a plugin's component.
#![no_main]

use std::sync::OnceLock;

use healthplug_tests::fuzz::ComponentFuzzer;

static FUZZER: OnceLock<ComponentFuzzer> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let fuzzer = FUZZER.get_or_init(|| ComponentFuzzer::new().expect("a fresh home"));
    fuzzer.run(data);
});
