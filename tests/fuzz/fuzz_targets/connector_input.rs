//! Fuzzes each connector (picked by the first byte) with arbitrary input,
//! run in the sandbox through the host.
#![no_main]

use std::sync::OnceLock;

use healthplug_tests::fuzz::ConnectorFuzzer;

static FUZZER: OnceLock<ConnectorFuzzer> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let fuzzer = FUZZER.get_or_init(|| ConnectorFuzzer::new().expect("connectors install"));
    fuzzer.run(data);
});
