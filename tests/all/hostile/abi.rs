//! Malformed values at the canonical ABI (from plugins written by hand at
//! that level) and malformed components: each is a typed error, never a
//! host panic, and nothing is installed or run.

use healthplug_host::HostError;
use healthplug_host::runtime::RunFailure;
use healthplug_tests::{TestHome, fixture_wasm};
use serde_json::json;

use super::{Arena, Observed};

fn violation(case: &str, containing: &str) -> anyhow::Result<()> {
    let arena = Arena::new(case)?;
    arena.grant_steps()?;
    let observed = arena.attack("anything", json!({}))?;
    match &observed.failure {
        Some(RunFailure::Violation { message }) => {
            assert!(message.contains(containing), "{case}: {message}")
        }
        other => anyhow::bail!("{case}: expected a violation, got {other:?}"),
    }
    arena.contained(&observed, "violation")
}

#[test]
fn invalid_utf8_in_a_returned_string_is_rejected() -> anyhow::Result<()> {
    violation("abi-utf8", "utf-8")
}

#[test]
fn a_returned_pointer_outside_memory_is_rejected() -> anyhow::Result<()> {
    violation("abi-pointer", "out of bounds")
}

#[test]
fn an_out_of_range_result_discriminant_is_rejected() -> anyhow::Result<()> {
    violation("abi-discriminant", "discriminant")
}

#[test]
fn an_out_of_range_variant_case_is_rejected() -> anyhow::Result<()> {
    violation("abi-variant", "discriminant")
}

#[test]
fn a_list_longer_than_memory_is_rejected() -> anyhow::Result<()> {
    let arena = Arena::new("abi-length")?;
    let started = std::time::Instant::now();
    let failure = match arena.home.host.tools("hostile-abi-length") {
        Err(HostError::Plugin { failure, .. }) => failure,
        other => anyhow::bail!("expected a contained failure, got {other:?}"),
    };
    assert!(
        matches!(&failure, RunFailure::Violation { message } if message.contains("out of bounds")),
        "{failure:?}"
    );
    let observed = Observed {
        outcome: None,
        text: format!("{failure:?}"),
        failure: Some(failure),
        elapsed: started.elapsed(),
    };
    // Listing tools runs for no user and is not audited as an invocation:
    // check containment with a real one (which returns well-formed values).
    let invoked = arena.attack("anything", json!({}))?;
    assert!(invoked.failure.is_none(), "{:?}", invoked.failure);
    arena.contained(&observed, "ok")
}

/// Installs `bytes` as a plugin's component; returns the error.
fn install_bytes(home: &TestHome, name: &str, bytes: &[u8]) -> anyhow::Result<HostError> {
    let dir = home.path().join(format!("bad-{name}"));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("plugin.wasm"), bytes)?;
    std::fs::write(
        dir.join("healthplug.toml"),
        format!(
            "[plugin]\nid = \"bad-{name}\"\nname = \"Bad\"\nversion = \"1.0.0\"\npublisher = \"tests\"\ncomponent = \"plugin.wasm\"\n\n[[read]]\ntypes = [\"steps\"]\npurpose = \"Read steps to test a malformed component\"\n"
        ),
    )?;
    match home
        .host
        .install(&dir, healthplug_host::platform::InstallOptions::dev())
    {
        Ok(_) => anyhow::bail!("{name} was installed"),
        Err(e) => Ok(e),
    }
}

#[test]
fn malformed_components_are_refused_at_install_with_a_clear_error() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    let real = std::fs::read(fixture_wasm("hostile_loop"))?;
    let mut noise = Vec::with_capacity(1 << 20);
    let mut x: u32 = 0x1234_5678;
    for _ in 0..(1 << 20) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        noise.push(x as u8);
    }
    let mut flipped = real.clone();
    for i in (64..flipped.len()).step_by(997) {
        flipped[i] ^= 0xff;
    }
    let core_module = b"\0asm\x01\0\0\0".to_vec();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("noise", noise),
        ("truncated", real[..real.len() / 2].to_vec()),
        ("bit-flipped", flipped),
        ("core-module", core_module),
        (
            "connector-as-plugin",
            std::fs::read(fixture_wasm("hostile_connector_crash"))?,
        ),
    ];
    for (name, bytes) in cases {
        let started = std::time::Instant::now();
        let error = install_bytes(&home, name, &bytes)?;
        let text = error.to_string();
        assert!(matches!(error, HostError::InvalidComponent { .. }), "{name}: {text}");
        assert!(
            text.contains("plugin.wasm"),
            "{name}: the error does not name the file: {text}"
        );
        println!(
            "| malformed component: {name} | refused at install | {:.0} ms |",
            started.elapsed().as_secs_f64() * 1e3
        );
    }
    assert!(home.host.plugins()?.is_empty(), "something was installed");
    Ok(())
}
