//! Vault rows against a local attacker who can write `vault.db` but not
//! read the master key: every security-relevant row (plugins and their
//! approvals, trusted reviewers, consents, consent versions, capability
//! grants) carries a MAC, so an edited, forged or copied row is refused
//! and named; consent versions come from one counter that never goes back.

use healthplug_host::consent::Fields;
use healthplug_host::platform::{GrantRequest, InstallOptions};
use healthplug_host::vault::NewSample;
use healthplug_host::vetting::ReviewerKey;
use healthplug_host::{Host, HostError};
use healthplug_tests::{TestHome, fixture_dir, fixture_wasm, now_ms, shared_runtime, ty, types_of};
use serde_json::json;

use crate::vetting::{probe_dir, sign};

fn db(home: &TestHome) -> anyhow::Result<rusqlite::Connection> {
    Ok(rusqlite::Connection::open(home.path().join("vault.db"))?)
}

/// `", mac"` when `table` has a MAC column (copied along by the attacks
/// below: a MAC moved with its row must not help), else `""`.
fn with_mac(conn: &rusqlite::Connection, table: &str) -> anyhow::Result<&'static str> {
    let has = conn
        .prepare(&format!(
            "SELECT 1 FROM pragma_table_info('{table}') WHERE name = 'mac'"
        ))?
        .exists([])?;
    Ok(if has { ", mac" } else { "" })
}

/// Asserts `result` is a refusal naming `row` as altered.
fn refused<T: std::fmt::Debug>(result: Result<T, impl std::fmt::Display>, row: &str) -> anyhow::Result<()> {
    match result {
        Ok(v) => anyhow::bail!("the altered row {row} was accepted: {v:?}"),
        Err(e) => {
            let text = e.to_string();
            anyhow::ensure!(
                text.contains(&format!("vault row {row} failed its integrity check")),
                "wrong refusal for {row}: {text}"
            );
            Ok(())
        }
    }
}

/// A home with a trusted reviewer and the probe installed with its approval.
fn reviewed_home() -> anyhow::Result<(TestHome, tempfile::TempDir)> {
    let home = TestHome::new()?;
    let reviewer = ReviewerKey::generate()?;
    home.host.vault().trust(&reviewer.public(), "rita")?;
    let dir = probe_dir(|m| m)?;
    sign(&reviewer, dir.path())?;
    let report = home.host.install(dir.path(), InstallOptions::default())?;
    assert!(!report.plugin.dev);
    Ok((home, dir))
}

fn reopen(home: &TestHome) -> anyhow::Result<Host> {
    Ok(Host::open_with(home.path(), shared_runtime(), Default::default())?)
}

#[test]
fn a_reviewed_plugin_flipped_to_dev_is_refused() -> anyhow::Result<()> {
    let (home, _dir) = reviewed_home()?;
    let n = db(&home)?.execute("UPDATE plugins SET dev = 1, approval = NULL WHERE id = 'probe'", [])?;
    assert_eq!(n, 1);
    refused(home.host.vault().plugin("probe"), "plugins(plugin probe)")?;
    refused(reopen(&home)?.tools("probe"), "plugins(plugin probe)")?;
    refused(home.host.plugins(), "plugins(plugin probe)")
}

#[test]
fn a_rewritten_approval_is_refused() -> anyhow::Result<()> {
    let (home, _dir) = reviewed_home()?;
    // Another reviewer's approval for the same digests, signed by a key the
    // attacker holds: only the row MAC stands in the way.
    let mallory = ReviewerKey::generate()?;
    let record = home
        .host
        .vault()
        .plugin("probe")?
        .ok_or_else(|| anyhow::anyhow!("no probe"))?;
    let forged = mallory.approve(
        "probe",
        &record.version,
        &record.component_sha256,
        &record.manifest_sha256,
    );
    db(&home)?.execute(
        "UPDATE plugins SET approval = ?1 WHERE id = 'probe'",
        [serde_json::to_string(&forged)?],
    )?;
    refused(reopen(&home)?.tools("probe"), "plugins(plugin probe)")
}

#[test]
fn a_planted_trusted_reviewer_is_refused() -> anyhow::Result<()> {
    let (home, _dir) = reviewed_home()?;
    let mallory = ReviewerKey::generate()?;
    // Planted with the MAC of the honest row copied over: still refused.
    let conn = db(&home)?;
    let mac = with_mac(&conn, "trusted_reviewers")?;
    conn.execute(
        &format!(
            "INSERT INTO trusted_reviewers (public_key, name, added_ms{mac})
             SELECT ?1, 'mallory', added_ms{mac} FROM trusted_reviewers"
        ),
        [mallory.public()],
    )?;
    let row = format!("trusted_reviewers(key {})", mallory.public());
    refused(home.host.vault().reviewers(), &row)?;
    // A plugin signed by the planted key does not install.
    let dir = probe_dir(|m| m.replace("Probe\"", "Probe 2\""))?;
    sign(&mallory, dir.path())?;
    refused(home.host.install(dir.path(), InstallOptions::default()), &row)
}

/// The probe (dev) with steps history, granted value and time only.
fn consent_home() -> anyhow::Result<TestHome> {
    let home = TestHome::new()?;
    home.install(&fixture_dir("probe"))?;
    let t = now_ms() - 3_600_000;
    home.host
        .store_samples("alice", "test", &[NewSample::quantity(ty("steps"), t, t, 4242.0)])?;
    home.grant_with(
        "alice",
        "probe",
        GrantRequest {
            types: types_of("steps"),
            fields: Some(Fields::VALUE | Fields::TIME),
            ..GrantRequest::default()
        },
    )?;
    Ok(home)
}

/// Reading steps through the plugin must not succeed with data.
fn no_data_reaches_the_plugin(home: &TestHome, user: &str) -> anyhow::Result<()> {
    if let Ok((out, _)) = home.invoke_json(user, "probe", "read", json!({ "types": ["steps"], "start": 0 })) {
        anyhow::ensure!(
            !out.to_string().contains("4242"),
            "a forged consent let data through: {out}"
        );
    }
    Ok(())
}

fn user_id(home: &TestHome, handle: &str) -> anyhow::Result<i64> {
    Ok(home.host.user(handle)?.id)
}

#[test]
fn a_widened_consent_row_is_refused() -> anyhow::Result<()> {
    let home = consent_home()?;
    let alice = user_id(&home, "alice")?;
    db(&home)?.execute("UPDATE consents SET fields = 255, days = NULL", [])?;
    let row = format!("consents(user {alice}, plugin probe, type steps)");
    refused(home.host.consents("alice"), &row)?;
    refused(home.host.vault().grants(alice, "probe"), &row)?;
    no_data_reaches_the_plugin(&home, "alice")
}

#[test]
fn a_revoked_consent_cannot_be_revived() -> anyhow::Result<()> {
    let home = consent_home()?;
    let alice = user_id(&home, "alice")?;
    home.host.revoke("alice", "probe", None)?;
    db(&home)?.execute("UPDATE consents SET revoked_ms = NULL", [])?;
    refused(
        home.host.consents("alice"),
        &format!("consents(user {alice}, plugin probe, type steps)"),
    )?;
    no_data_reaches_the_plugin(&home, "alice")
}

#[test]
fn a_forged_consent_row_is_refused() -> anyhow::Result<()> {
    let home = consent_home()?;
    let alice = user_id(&home, "alice")?;
    let heart = i64::from(ty("heart-rate").code());
    let conn = db(&home)?;
    let mac = with_mac(&conn, "consents")?;
    conn.execute(
        &format!(
            "INSERT INTO consents SELECT user_id, plugin_id, ?1, read, write, fields, days, since_ms,
                    granularity, until_ms, purpose, granted_ms, revoked_ms{mac}
             FROM consents WHERE data_type = ?2"
        ),
        [heart, i64::from(ty("steps").code())],
    )?;
    refused(
        home.host.consents("alice"),
        &format!("consents(user {alice}, plugin probe, type heart-rate)"),
    )
}

#[test]
fn a_consent_copied_to_another_user_is_refused() -> anyhow::Result<()> {
    let home = consent_home()?;
    let t = now_ms() - 3_600_000;
    home.host
        .store_samples("bob", "test", &[NewSample::quantity(ty("steps"), t, t, 4242.0)])?;
    let bob = user_id(&home, "bob")?;
    let conn = db(&home)?;
    let mac = with_mac(&conn, "consents")?;
    conn.execute(
        &format!(
            "INSERT INTO consents SELECT ?1, plugin_id, data_type, read, write, fields, days, since_ms,
                    granularity, until_ms, purpose, granted_ms, revoked_ms{mac} FROM consents"
        ),
        [bob],
    )?;
    conn.execute(
        &format!(
            "INSERT INTO consent_versions SELECT ?1, plugin_id, version, consented_manifest{mac} FROM consent_versions"
        ),
        [bob],
    )?;
    refused(
        home.host.consents("bob"),
        &format!("consents(user {bob}, plugin probe, type steps)"),
    )?;
    no_data_reaches_the_plugin(&home, "bob")
}

#[test]
fn an_altered_capability_scope_is_refused() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    let dir = fixture_dir("netprobe");
    let manifest = std::fs::read_to_string(dir.join("healthplug.toml"))?.replace("PORT", "8443");
    let wasm = std::fs::read(fixture_wasm("netprobe"))?;
    home.host.install_parts(
        &manifest,
        &dir.join("healthplug.toml"),
        &fixture_wasm("netprobe"),
        &wasm,
        InstallOptions::dev(),
    )?;
    home.grant_with(
        "ann",
        "netprobe",
        GrantRequest {
            storage: true,
            network: Some(vec!["https://api.partner.test:8443".into()]),
            ..GrantRequest::default()
        },
    )?;
    assert_eq!(home.host.capability_grants("ann")?.len(), 2);
    let ann = user_id(&home, "ann")?;
    db(&home)?.execute(
        "UPDATE capability_grants SET scope = 'https://api.partner.test:8443,https://evil.test:443'
         WHERE capability = 'network'",
        [],
    )?;
    refused(
        home.host.capability_grants("ann"),
        &format!("capability_grants(user {ann}, plugin netprobe, capability network)"),
    )
}

fn versions(home: &TestHome) -> anyhow::Result<Vec<i64>> {
    let conn = db(home)?;
    let mut stmt = conn.prepare("SELECT version FROM consent_versions")?;
    Ok(stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?)
}

#[test]
fn consent_versions_never_go_back() -> anyhow::Result<()> {
    let home = consent_home()?;
    home.host.revoke("alice", "probe", None)?;
    home.grant("alice", "probe", "steps")?;
    let seen = versions(&home)?.into_iter().max().unwrap_or(0);
    assert!(seen >= 3, "{seen}");

    // Removing and reinstalling the plugin, then granting again.
    home.host.remove("probe")?;
    assert!(versions(&home)?.is_empty());
    home.install(&fixture_dir("probe"))?;
    home.grant("alice", "probe", "steps")?;
    let after_reinstall = versions(&home)?;
    assert!(
        after_reinstall.iter().all(|v| *v > seen),
        "a version was handed out again after a reinstall: {after_reinstall:?} after {seen}"
    );

    // Erasing the user does not reset it either.
    let seen = after_reinstall.into_iter().max().unwrap_or(0);
    home.host.erase("alice")?;
    home.grant("alice", "probe", "steps")?;
    assert!(versions(&home)?.iter().all(|v| *v > seen));

    // Nor can the counter be rewound in the database.
    db(&home)?.execute("UPDATE meta SET value = '0' WHERE key = 'consent_version'", [])?;
    match home.host.revoke("alice", "probe", None) {
        Err(HostError::Internal(e)) => {
            assert!(e.to_string().contains("meta(consent_version)"), "{e}");
        }
        other => anyhow::bail!("a rewound counter was used: {other:?}"),
    }
    Ok(())
}
