//! Probing for data: every type and field not granted is refused and
//! absent everywhere the plugin can write (result, log, errors), and a
//! reused pool slot never shows the previous tenant's data.

use std::sync::Arc;

use healthplug_host::consent::{Fields, PlatformPolicy};
use healthplug_host::platform::GrantRequest;
use healthplug_host::runtime::{Runtime, RuntimeConfig};
use healthplug_tests::TestHome;
use serde_json::{Value, json};

use super::{ALICE_BODY_MASS, ALICE_DEVICE, ALICE_NOTE, ALICE_STEPS, Arena, assert_no_leak};

#[test]
fn probing_every_type_sees_only_the_granted_ones() -> anyhow::Result<()> {
    let arena = Arena::new("probe-types")?;
    arena.grant(
        "steps",
        GrantRequest {
            fields: Some(Fields::VALUE | Fields::TIME),
            ..GrantRequest::default()
        },
    )?;
    arena.grant("heart-rate", GrantRequest::default())?;
    let observed = arena.attack("attack", json!({}))?;
    let out = observed.json()?;
    let received = out["received"].as_array().cloned().unwrap_or_default();
    let kinds: Vec<String> = received
        .iter()
        .map(|r| format!("{} {}", r["type"], if r["raw"].is_null() { "daily" } else { "raw" }))
        .collect();
    // Steps raw and as aggregates; heart rate only as daily aggregates.
    assert_eq!(
        kinds,
        vec!["\"steps\" raw", "\"steps\" daily", "\"heart-rate\" daily"],
        "{out}"
    );
    assert_eq!(received[0]["raw"][0]["value"], ALICE_STEPS);
    assert_eq!(received[2]["daily-sums"], json!([61.0]));
    assert!(out["all-at-once"].is_string(), "a mixed query was answered: {out}");
    // Withheld fields and types are absent from result, log and errors.
    assert_no_leak(
        &observed.text,
        &[
            ALICE_NOTE,
            ALICE_DEVICE,
            &ALICE_BODY_MASS.to_string(),
            "\"source\":\"ALICE",
        ],
    );
    arena.contained(&observed, "ok")
}

#[test]
fn probing_every_field_sees_only_the_granted_ones() -> anyhow::Result<()> {
    let arena = Arena::new("probe-fields")?;
    arena.grant(
        "steps",
        GrantRequest {
            fields: Some(Fields::VALUE),
            ..GrantRequest::default()
        },
    )?;
    let observed = arena.attack("attack", json!({}))?;
    let out = observed.json()?;
    // Fields are intersected with the grant: asking for a withheld field
    // yields samples without it, never its value.
    for probe in out["probes"].as_array().cloned().unwrap_or_default() {
        let label = probe["fields"].as_str().unwrap_or_default();
        for sample in probe["outcome"]["samples"].as_array().cloned().unwrap_or_default() {
            for withheld in ["unit", "start", "end", "source", "device", "metadata", "notes"] {
                assert!(sample[withheld].is_null(), "{withheld} delivered: {probe}");
            }
            if label == "value" || label == "all" {
                assert_eq!(sample["value"], ALICE_STEPS, "{probe}");
            } else {
                assert!(sample["value"].is_null(), "value delivered unasked: {probe}");
            }
        }
    }
    assert_no_leak(&observed.text, &[ALICE_NOTE, ALICE_DEVICE, "ALICE-WATCH"]);
    arena.contained(&observed, "ok")
}

/// `bytes` XOR 0x5a, as hex: the scanner's needle format.
fn masked(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{:02x}", b ^ 0x5a)).collect()
}

#[test]
fn a_reused_pool_slot_never_shows_the_previous_users_data() -> anyhow::Result<()> {
    // One pool slot: every instance runs in the same slot, one after the
    // other.
    let runtime = Arc::new(Runtime::new(RuntimeConfig {
        pool_slots: 1,
        ..RuntimeConfig::default()
    })?);
    let arena = Arena::with_runtime("slot-scan", runtime)?;
    let all = GrantRequest {
        fields: Some(Fields::ALL),
        ..GrantRequest::default()
    };
    arena.grant("steps", all.clone())?;
    arena.home.grant_with(
        "bob",
        "hostile-slot-scan",
        GrantRequest {
            types: healthplug_tests::types_of("steps"),
            ..all
        },
    )?;
    let needles = json!({
        "needles": [masked(&super::BOB_CANARY.to_le_bytes()), masked(super::BOB_NOTE.as_bytes())]
    });
    // Control: in Bob's own instance, the scan finds what he planted.
    let control = arena
        .home
        .host
        .invoke("bob", "hostile-slot-scan", "plant-then-scan", &needles.to_string())?;
    let control: Value = serde_json::from_str(control.result.as_deref().unwrap_or("{}"))?;
    assert_eq!(
        control["found"].as_array().map(Vec::len),
        Some(2),
        "the scanner is blind: {control}"
    );
    // Bob plants; Alice's instance gets the same slot next and scans it.
    arena.home.host.invoke("bob", "hostile-slot-scan", "plant", "{}")?;
    let observed = arena.attack("scan", needles)?;
    let out = observed.json()?;
    assert!(out["scanned-bytes"].as_u64().unwrap_or(0) >= 32 << 20, "{out}");
    assert_eq!(out["found"], json!([]), "Bob's data survived in the slot: {out}");
    arena.contained(&observed, "ok")
}

#[test]
fn a_reused_pool_slot_never_crosses_vaults() -> anyhow::Result<()> {
    // The same check across homes sharing one runtime: the slot crosses
    // vaults, not only users.
    let runtime = Arc::new(Runtime::new(RuntimeConfig {
        pool_slots: 1,
        ..RuntimeConfig::default()
    })?);
    let first = TestHome::with_runtime(runtime.clone(), PlatformPolicy::default())?;
    let second = Arena::with_runtime("slot-scan", runtime)?;
    first.install(&healthplug_tests::fixture_dir("hostile/slot-scan"))?;
    let mut sample = healthplug_host::vault::NewSample::quantity(
        healthplug_tests::ty("steps"),
        healthplug_tests::now_ms() - 1000,
        healthplug_tests::now_ms() - 500,
        98_765.5,
    );
    sample.notes = Some("OTHER-VAULT-CANARY".into());
    first.host.store_samples("carol", "test", &[sample])?;
    first.grant_with(
        "carol",
        "hostile-slot-scan",
        GrantRequest {
            types: healthplug_tests::types_of("steps"),
            fields: Some(Fields::ALL),
            ..GrantRequest::default()
        },
    )?;
    first.host.invoke("carol", "hostile-slot-scan", "plant", "{}")?;
    second.grant_steps()?;
    let observed = second.attack(
        "scan",
        json!({ "needles": [masked(&98_765.5f64.to_le_bytes()), masked(b"OTHER-VAULT-CANARY")] }),
    )?;
    assert_eq!(observed.json()?["found"], json!([]));
    second.contained(&observed, "ok")
}
