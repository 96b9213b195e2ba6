//! Only vetted plugins run: approvals signed by trusted reviewers, pinned
//! to the component and manifest digests and checked at every load; the
//! static import check; the reviewer's report and the permission diff; and
//! upgrades that ask for more staying ungranted until the user consents.

use std::path::Path;

use healthplug_host::HostError;
use healthplug_host::platform::{GrantRequest, InstallOptions};
use healthplug_host::vetting::{ApprovalError, ReviewerKey, Severity, diff, review};
use healthplug_tests::{TestHome, example_dir, fixture_dir, fixture_wasm, shared_runtime, types_of};
use serde_json::json;

/// A copy of the probe fixture in a temp dir (manifest edited by `edit`).
pub(crate) fn probe_dir(edit: impl Fn(String) -> String) -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    std::fs::copy(fixture_wasm("probe"), dir.path().join("probe.wasm"))?;
    let manifest = std::fs::read_to_string(fixture_dir("probe").join("healthplug.toml"))?;
    std::fs::write(dir.path().join("healthplug.toml"), edit(manifest))?;
    Ok(dir)
}

pub(crate) fn sign(key: &ReviewerKey, dir: &Path) -> anyhow::Result<()> {
    let rt = shared_runtime();
    let report = review(dir, rt.engine(), &rt.config().platform)?;
    let m = &report.manifest;
    let approval = key.approve(&m.id, &m.version, &report.component_sha256, &report.manifest_sha256);
    std::fs::write(dir.join("healthplug.approval"), serde_json::to_string(&approval)?)?;
    Ok(())
}

fn not_approved(result: Result<impl std::fmt::Debug, HostError>) -> anyhow::Result<ApprovalError> {
    match result {
        Err(HostError::NotApproved(e)) => Ok(e),
        other => anyhow::bail!("expected an approval refusal, got {other:?}"),
    }
}

#[test]
fn only_plugins_approved_by_a_trusted_reviewer_install_and_load() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    let reviewer = ReviewerKey::generate()?;
    let stranger = ReviewerKey::generate()?;
    let dir = probe_dir(|m| m)?;

    // No approval at all.
    let e = not_approved(home.host.install(dir.path(), InstallOptions::default()))?;
    assert!(matches!(e, ApprovalError::Missing(_)), "{e}");

    // Signed, but by a key the platform does not trust.
    sign(&stranger, dir.path())?;
    let e = not_approved(home.host.install(dir.path(), InstallOptions::default()))?;
    assert!(matches!(e, ApprovalError::Untrusted(_)), "{e}");

    // Signed by a trusted reviewer: installs, not marked dev.
    home.host.vault().trust(&reviewer.public(), "alice")?;
    sign(&reviewer, dir.path())?;
    let report = home.host.install(dir.path(), InstallOptions::default())?;
    assert!(!report.plugin.dev);
    home.host.store_samples(
        "ann",
        "test",
        &[healthplug_host::vault::NewSample::quantity(
            healthplug_tests::ty("steps"),
            0,
            1,
            5.0,
        )],
    )?;
    home.grant("ann", "probe", "steps")?;
    let out = home.host.invoke(
        "ann",
        "probe",
        "read",
        &json!({ "types": ["steps"], "start": 0 }).to_string(),
    )?;
    assert!(!out.dev && out.result.is_ok());

    // An edited manifest no longer matches the approval.
    let text = std::fs::read_to_string(dir.path().join("healthplug.toml"))?;
    std::fs::write(dir.path().join("healthplug.toml"), text.replace("Probe\"", "Probe 2\""))?;
    let e = not_approved(home.host.install(dir.path(), InstallOptions::default()))?;
    assert!(matches!(e, ApprovalError::ManifestChanged { .. }), "{e}");
    std::fs::write(dir.path().join("healthplug.toml"), text)?;

    // One flipped byte in the component: refused at install...
    let mut wasm = std::fs::read(dir.path().join("probe.wasm"))?;
    let original = wasm.clone();
    let mid = wasm.len() / 3;
    wasm[mid] ^= 0x01;
    std::fs::write(dir.path().join("probe.wasm"), &wasm)?;
    let e = not_approved(home.host.install(dir.path(), InstallOptions::default()))?;
    assert!(matches!(e, ApprovalError::ComponentChanged { .. }), "{e}");
    std::fs::write(dir.path().join("probe.wasm"), &original)?;

    // ...and at load, if the installed bytes change on disk.
    let installed = home
        .path()
        .join("components")
        .join(format!("{}.wasm", report.plugin.component_sha256));
    std::fs::write(&installed, &wasm)?;
    let fresh = healthplug_host::Host::open_with(home.path(), shared_runtime(), Default::default())?;
    assert!(matches!(fresh.tools("probe"), Err(HostError::Tampered { .. })));
    std::fs::write(&installed, &original)?;

    // A reviewer no longer trusted: the plugin stops loading.
    home.host.vault().untrust("alice")?;
    let fresh = healthplug_host::Host::open_with(home.path(), shared_runtime(), Default::default())?;
    let e = not_approved(fresh.tools("probe"))?;
    assert!(matches!(e, ApprovalError::Untrusted(_)), "{e}");

    // Dev installs need no approval, and say so everywhere.
    let report = home
        .host
        .install(&example_dir("activity-coach"), InstallOptions::dev())?;
    assert!(report.plugin.dev);
    home.grant("ann", "activity-coach", "steps")?;
    let out = home.host.invoke("ann", "activity-coach", "step-goal", "{}")?;
    assert!(out.dev);
    let audit = home.host.audit_log(Some("ann"))?;
    assert!(
        audit
            .iter()
            .any(|e| e.event.kind.id() == "invoke" && e.event.detail.as_deref().is_some_and(|d| d.contains("dev")))
    );
    Ok(())
}

#[test]
fn imports_are_checked_against_the_manifest() -> anyhow::Result<()> {
    let rt = shared_runtime();
    // Over-asking: [storage] declared, never imported: a warning.
    let dir = probe_dir(|m| {
        m.replace(
            "[limits]",
            "[storage]\npurpose = \"Keep nothing, just asking\"\n\n[limits]",
        )
    })?;
    let report = review(dir.path(), rt.engine(), &rt.config().platform)?;
    assert!(report.check.ok());
    assert!(
        report
            .check
            .warnings
            .iter()
            .any(|w| w.contains("[storage]") && w.contains("over-asking")),
        "{:?}",
        report.check.warnings
    );
    assert!(report.risks.iter().any(|r| r.flag == "over-asking"));
    let home = TestHome::new()?;
    home.host.install(dir.path(), InstallOptions::dev())?;

    // Mismatch: the netprobe component imports wasi:http and storage; without
    // [network] and [storage] it is refused, naming both.
    let dir = tempfile::tempdir()?;
    std::fs::copy(fixture_wasm("netprobe"), dir.path().join("netprobe.wasm"))?;
    let manifest = std::fs::read_to_string(fixture_dir("netprobe").join("healthplug.toml"))?;
    let cut = manifest
        .find("[network]")
        .ok_or_else(|| anyhow::anyhow!("no [network]"))?;
    let end = manifest
        .find("[limits]")
        .ok_or_else(|| anyhow::anyhow!("no [limits]"))?;
    std::fs::write(
        dir.path().join("healthplug.toml"),
        format!("{}{}", &manifest[..cut], &manifest[end..]),
    )?;
    let report = review(dir.path(), rt.engine(), &rt.config().platform)?;
    assert!(!report.check.ok());
    let errors = report.check.errors.join("\n");
    assert!(errors.contains("[network]") && errors.contains("[storage]"), "{errors}");
    assert!(matches!(
        home.host.install(dir.path(), InstallOptions::dev()),
        Err(HostError::InvalidComponent { .. })
    ));
    Ok(())
}

#[test]
fn the_report_flags_the_risks_of_each_example() -> anyhow::Result<()> {
    let rt = shared_runtime();
    let flags = |id: &str| -> anyhow::Result<Vec<(Severity, String)>> {
        let report = review(&example_dir(id), rt.engine(), &rt.config().platform)?;
        assert!(report.check.ok(), "{id}: {:?}", report.check.errors);
        assert_eq!(report.manifest.id, id);
        assert_eq!(report.component_sha256.len(), 64);
        Ok(report.risks.into_iter().map(|r| (r.severity, r.flag)).collect())
    };
    assert!(
        flags("activity-coach")?.is_empty(),
        "a narrow read-only plugin has no flags"
    );
    let fhir = flags("fhir-r4")?;
    assert!(fhir.contains(&(Severity::High, "clinical-data".into())), "{fhir:?}");
    assert!(fhir.contains(&(Severity::Medium, "write-access".into())), "{fhir:?}");
    let sync = flags("cloud-sync")?;
    assert!(sync.contains(&(Severity::Medium, "write-access".into())), "{sync:?}");
    assert!(sync.contains(&(Severity::Low, "network-egress".into())), "{sync:?}");
    assert!(sync.contains(&(Severity::Low, "persistent-storage".into())), "{sync:?}");
    assert!(
        !sync.iter().any(|(_, f)| f == "health-reads-with-egress"),
        "cloud-sync reads nothing: {sync:?}"
    );
    // A plugin that reads health data and reaches the network, with a wide
    // wildcard and a vague purpose, is flagged on each count.
    let dir = probe_dir(|m| {
        m.replace(
            "[limits]",
            "[network]\nallow = [\"https://*.tracker.example\"]\npurpose = \"Improve our service\"\n\n[limits]",
        )
    })?;
    let report = review(dir.path(), rt.engine(), &rt.config().platform)?;
    let ids: Vec<&str> = report.risks.iter().map(|r| r.flag.as_str()).collect();
    for flag in [
        "health-reads-with-egress",
        "broad-wildcard",
        "vague-purpose",
        "clinical-data",
        "long-history",
        "over-asking",
    ] {
        assert!(ids.contains(&flag), "{flag} missing from {ids:?}");
    }
    assert!(
        !ids.contains(&"network-egress"),
        "reads with egress is flagged once, as the high risk: {ids:?}"
    );
    assert_eq!(report.risks[0].severity, Severity::High, "most serious first");
    Ok(())
}

#[test]
fn an_upgrade_that_asks_for_more_gets_nothing_new_until_the_user_consents() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    let narrow = |m: String| {
        m.replace(
            "types = [\"steps\", \"heart-rate\", \"body-mass\", \"dietary-energy\", \"workout\", \"sleep\", \"condition\", \"medication\", \"lab-result\"]",
            "types = [\"steps\"]",
        )
        .replace(
            "fields = [\"value\", \"unit\", \"time\", \"source-name\", \"device\", \"metadata\", \"notes\"]",
            "fields = [\"value\", \"time\"]\ndays = 30",
        )
    };
    let v1 = probe_dir(narrow)?;
    home.host.install(v1.path(), InstallOptions::dev())?;
    let now = healthplug_tests::now_ms();
    let mut s = healthplug_host::vault::NewSample::quantity(healthplug_tests::ty("steps"), now - 3_600_000, now, 42.0);
    s.notes = Some("private note".into());
    home.host.store_samples("ann", "test", &[s])?;
    home.host.store_samples(
        "ann",
        "test",
        &[healthplug_host::vault::NewSample::quantity(
            healthplug_tests::ty("heart-rate"),
            now - 1000,
            now - 1000,
            70.0,
        )],
    )?;
    home.grant("ann", "probe", "steps")?;
    assert!(home.host.pending_reconsent("ann", "probe")?.is_empty());

    // v2 asks for heart-rate, notes and a year of history.
    let v2 = probe_dir(|m| {
        narrow(m)
            .replace("version = \"1.0.0\"", "version = \"1.1.0\"")
            .replace("types = [\"steps\"]", "types = [\"steps\", \"heart-rate\"]")
            .replace(
                "fields = [\"value\", \"time\"]\ndays = 30",
                "fields = [\"value\", \"time\", \"notes\"]\ndays = 365",
            )
    })?;
    let changes = diff(
        &healthplug_host::manifest::Manifest::load(&v1.path().join("healthplug.toml"))?,
        &healthplug_host::manifest::Manifest::load(&v2.path().join("healthplug.toml"))?,
    );
    let escalated: Vec<&str> = changes
        .iter()
        .filter(|c| c.escalation)
        .map(|c| c.what.as_str())
        .collect();
    assert_eq!(escalated.len(), 3, "{changes:?}");
    assert!(
        escalated.contains(&"steps: history 30 days -> 365 days"),
        "{escalated:?}"
    );
    let upgrade = home.host.install(v2.path(), InstallOptions::dev())?;
    assert_eq!(upgrade.previous_version.as_deref(), Some("1.0.0"));

    // The old grant keeps its scope: no notes, no heart-rate.
    let (out, _) = home.invoke_json("ann", "probe", "read", json!({ "types": ["steps"], "start": 0 }))?;
    assert_eq!(out["fields"], json!(["value", "time"]), "{out}");
    assert!(!out.to_string().contains("private note"));
    let (out, _) = home.invoke_json("ann", "probe", "read", json!({ "types": ["heart-rate"], "start": 0 }))?;
    assert_eq!(out["error"]["reason"], "not-granted", "{out}");
    let pending = home.host.pending_reconsent("ann", "probe")?;
    let what: Vec<&str> = pending.iter().map(|c| c.what.as_str()).collect();
    assert!(what.iter().any(|w| w.contains("new type heart-rate")), "{what:?}");
    assert!(what.iter().any(|w| w.contains("new fields notes")), "{what:?}");

    // After the user consents again, the new scope applies.
    home.grant_with(
        "ann",
        "probe",
        GrantRequest {
            types: types_of("steps,heart-rate"),
            ..GrantRequest::default()
        },
    )?;
    assert!(home.host.pending_reconsent("ann", "probe")?.is_empty());
    let (out, _) = home.invoke_json("ann", "probe", "read", json!({ "types": ["steps"], "start": 0 }))?;
    assert_eq!(out["samples"][0]["notes"], "private note");
    Ok(())
}
