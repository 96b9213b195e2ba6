//! The foundation: a plugin sees granted types and nothing else, revocation
//! holds, users are isolated, bad input changes nothing, the demo runs.

use healthplug_host::HostError;
use healthplug_host::platform::InstallOptions;
use healthplug_host::vault::NewSample;
use healthplug_tests::{DAY_MS, TestHome, example_dir, fixture_dir, now_ms, ty};
use serde_json::{Value, json};

fn steps_and_hr(user_value: f64) -> Vec<NewSample> {
    let now = now_ms();
    vec![
        NewSample::quantity(ty("steps"), now - DAY_MS, now - DAY_MS + 3_600_000, user_value),
        NewSample::quantity(ty("heart-rate"), now - DAY_MS, now - DAY_MS, 61.0),
    ]
}

fn read(home: &TestHome, user: &str, types: &[&str]) -> anyhow::Result<Value> {
    let (out, _) = home.invoke_json(user, "probe", "read", json!({ "types": types }))?;
    Ok(out)
}

#[test]
fn a_plugin_sees_granted_types_and_is_refused_the_rest() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    home.install(&fixture_dir("probe"))?;
    home.host.store_samples("alice", "test", &steps_and_hr(4321.0))?;
    home.grant("alice", "probe", "steps")?;

    let out = read(&home, "alice", &["steps"])?;
    assert_eq!(out["ok"], true, "{out}");
    assert_eq!(out["count"], 1);
    assert_eq!(out["samples"][0]["value"], 4321.0);
    assert_eq!(out["samples"][0]["unit"], "{steps}");

    let out = read(&home, "alice", &["heart-rate"])?;
    assert_eq!(out["ok"], false, "{out}");
    assert_eq!(
        out["error"],
        json!({ "kind": "not-granted", "type": "heart-rate", "reason": "not-granted" })
    );

    // A query mixing a granted and a refused type is refused as a whole.
    let out = read(&home, "alice", &["steps", "heart-rate"])?;
    assert_eq!(out["error"]["type"], "heart-rate", "{out}");

    // A type the manifest never asked for is refused as not requested.
    let out = read(&home, "alice", &["dietary-fat"])?;
    assert_eq!(out["error"]["reason"], "not-requested", "{out}");
    Ok(())
}

#[test]
fn a_revoked_grant_holds_on_the_next_invocation() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    home.install(&fixture_dir("probe"))?;
    home.host.store_samples("alice", "test", &steps_and_hr(100.0))?;
    home.grant("alice", "probe", "steps,heart-rate")?;
    assert_eq!(read(&home, "alice", &["steps"])?["ok"], true);

    let revoked = home.host.revoke("alice", "probe", None)?;
    assert_eq!(revoked.types.len(), 2);
    let out = read(&home, "alice", &["steps"])?;
    assert_eq!(
        out["error"],
        json!({ "kind": "not-granted", "type": "steps", "reason": "revoked" })
    );
    // Granting again restores access.
    home.grant("alice", "probe", "steps")?;
    assert_eq!(read(&home, "alice", &["steps"])?["ok"], true);
    Ok(())
}

#[test]
fn two_users_never_see_each_others_data() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    home.install(&fixture_dir("probe"))?;
    home.host.store_samples("alice", "test", &steps_and_hr(11_111.0))?;
    home.host.store_samples("bob", "test", &steps_and_hr(22_222.0))?;
    home.grant("alice", "probe", "steps")?;
    home.grant("bob", "probe", "steps")?;

    let alice = read(&home, "alice", &["steps"])?;
    let bob = read(&home, "bob", &["steps"])?;
    assert_eq!(alice["count"], 1);
    assert_eq!(bob["count"], 1);
    assert_eq!(alice["samples"][0]["value"], 11_111.0);
    assert_eq!(bob["samples"][0]["value"], 22_222.0);
    assert!(!alice.to_string().contains("22222"));
    assert!(!bob.to_string().contains("11111"));

    // Bob's grant does not extend to Alice: carol has no grant at all.
    home.host.store_samples("carol", "test", &steps_and_hr(33_333.0))?;
    assert_eq!(read(&home, "carol", &["steps"])?["error"]["reason"], "not-granted");
    Ok(())
}

/// Installs `dir` and expects an error, checking nothing was written.
fn install_fails(home: &TestHome, dir: &std::path::Path) -> anyhow::Result<HostError> {
    let plugins_before = home.host.plugins()?;
    let audit_before = home.host.audit_log(None)?.len();
    let components = home.path().join("components");
    let files_before = std::fs::read_dir(&components).map(|d| d.count()).unwrap_or(0);
    let err = match home.host.install(dir, InstallOptions::dev()) {
        Ok(r) => anyhow::bail!("install of {} should fail, installed {}", dir.display(), r.plugin.id),
        Err(e) => e,
    };
    assert_eq!(home.host.plugins()?, plugins_before, "plugin list changed");
    assert_eq!(home.host.audit_log(None)?.len(), audit_before, "audit changed");
    let files_after = std::fs::read_dir(&components).map(|d| d.count()).unwrap_or(0);
    assert_eq!(files_after, files_before, "a component file was written");
    Ok(err)
}

/// A copy of the probe plugin in a temp dir, with its component beside it.
fn probe_copy(
    edit_manifest: impl Fn(String) -> String,
    edit_wasm: impl Fn(&mut Vec<u8>),
) -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    let mut wasm = std::fs::read(healthplug_tests::fixture_wasm("probe"))?;
    edit_wasm(&mut wasm);
    std::fs::write(dir.path().join("probe.wasm"), &wasm)?;
    let manifest = std::fs::read_to_string(fixture_dir("probe").join("healthplug.toml"))?;
    std::fs::write(dir.path().join("healthplug.toml"), edit_manifest(manifest))?;
    Ok(dir)
}

#[test]
fn bad_plugins_give_clear_errors_and_change_nothing() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    home.install(&example_dir("activity-coach"))?;

    // A corrupt component.
    let corrupt = probe_copy(
        |m| m,
        |w| {
            w.truncate(w.len() / 2);
        },
    )?;
    let err = install_fails(&home, corrupt.path())?;
    let text = err.to_string();
    assert!(matches!(err, HostError::InvalidComponent { .. }), "{text}");
    assert!(
        text.contains("probe.wasm") && text.contains("not a valid WebAssembly component"),
        "{text}"
    );

    // Not wasm at all.
    let garbage = probe_copy(|m| m, |w| *w = b"this is not wasm".to_vec())?;
    assert!(matches!(
        install_fails(&home, garbage.path())?,
        HostError::InvalidComponent { .. }
    ));

    // A manifest with an unknown key names the file, line and key.
    let unknown = probe_copy(|m| m.replace("publisher = ", "colour = \"red\"\npublisher = "), |_| {})?;
    let err = install_fails(&home, unknown.path())?;
    let text = err.to_string();
    assert!(matches!(err, HostError::Manifest(_)), "{text}");
    assert!(
        text.contains("healthplug.toml:6:") && text.contains("plugin.colour"),
        "{text}"
    );

    // A pinned sha256 that does not match.
    let pinned = probe_copy(
        |m| {
            m.replace(
                "component = \"probe.wasm\"",
                &format!("component = \"probe.wasm\"\nsha256 = \"{}\"", "ab".repeat(32)),
            )
        },
        |_| {},
    )?;
    let err = install_fails(&home, pinned.path())?;
    assert!(matches!(err, HostError::DigestMismatch { .. }), "{err}");
    assert!(err.to_string().contains(&"ab".repeat(32)), "{err}");

    // A missing component.
    let missing = probe_copy(|m| m.replace("probe.wasm", "nope.wasm"), |_| {})?;
    assert!(matches!(
        install_fails(&home, missing.path())?,
        HostError::InvalidComponent { .. }
    ));

    // The installed plugin still works.
    home.host.store_samples("alice", "test", &steps_and_hr(1.0))?;
    home.grant("alice", "activity-coach", "steps")?;
    assert!(
        home.host
            .invoke("alice", "activity-coach", "weekly-summary", "{}")?
            .result
            .is_ok()
    );
    Ok(())
}

#[test]
fn a_matching_sha256_pin_installs_and_a_tampered_install_is_refused() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    let wasm = std::fs::read(healthplug_tests::fixture_wasm("probe"))?;
    let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&wasm));
    let pinned = probe_copy(
        |m| {
            m.replace(
                "component = \"probe.wasm\"",
                &format!("component = \"probe.wasm\"\nsha256 = \"{digest}\""),
            )
        },
        |_| {},
    )?;
    let report = home.host.install(pinned.path(), InstallOptions::dev())?;
    assert_eq!(report.plugin.component_sha256, digest);

    // Flip a byte of the installed component: a fresh host refuses to load it.
    let installed = home.path().join("components").join(format!("{digest}.wasm"));
    let mut bytes = std::fs::read(&installed)?;
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&installed, &bytes)?;
    let fresh = healthplug_host::Host::open_with(home.path(), healthplug_tests::shared_runtime(), Default::default())?;
    match fresh.tools("probe") {
        Err(HostError::Tampered { plugin, expected, .. }) => {
            assert_eq!(plugin, "probe");
            assert_eq!(expected, digest);
        }
        other => anyhow::bail!("expected a tamper error, got {:?}", other.map(|t| t.len())),
    }
    Ok(())
}

#[test]
fn the_demo_runs_and_shows_allowed_and_refused_types() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    let report = healthplug_host::demo::run(&home.host, home.path())?;
    assert_eq!(report.plugins.len(), 2);
    let activity = &report.plugins[0];
    assert_eq!(activity.plugin, "activity-coach");
    assert_eq!(activity.not_granted, vec!["workout".to_string()]);
    let out: Value = serde_json::from_str(
        activity
            .invocation
            .result
            .as_ref()
            .map_err(|f| anyhow::anyhow!("{f:?}"))?,
    )?;
    assert_eq!(out["refused"][0]["type"], "workout", "{out}");
    assert!(out["steps"]["total"].as_f64().unwrap_or(0.0) > 10_000.0, "{out}");
    assert!(out["workouts"].is_null(), "a refused type must not be guessed: {out}");

    let nutrition = &report.plugins[1];
    let out: Value = serde_json::from_str(
        nutrition
            .invocation
            .result
            .as_ref()
            .map_err(|f| anyhow::anyhow!("{f:?}"))?,
    )?;
    let refused: Vec<&str> = out["refused"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["type"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(refused, vec!["dietary-carbohydrate", "dietary-fat"]);
    assert!(out["body_mass_kg"].as_f64().is_some(), "{out}");
    // The host's own record of accesses agrees with what the plugin says.
    let denied: Vec<String> = nutrition
        .invocation
        .accesses
        .iter()
        .filter(|a| matches!(a.outcome, healthplug_host::capabilities::AccessOutcome::Denied { .. }))
        .map(|a| a.data_type.to_string())
        .collect();
    assert_eq!(denied, vec!["dietary-carbohydrate", "dietary-fat"]);
    Ok(())
}
