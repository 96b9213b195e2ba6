//! Installing over an installed plugin, the compiled-component cache and
//! the plugin directory boundary: a `--dev` build never takes over a
//! reviewed plugin's users, a component signed by another publisher key
//! starts without grants, the platform can forbid `--dev`, a cache file
//! copied over another component's name never runs, and no manifest path
//! or symbolic link reads a file outside the plugin directory.

use std::path::Path;

use healthplug_host::platform::InstallOptions;
use healthplug_host::vault::NewSample;
use healthplug_host::vetting::{ApprovalError, ReviewerKey, review};
use healthplug_host::{Host, HostError};
use healthplug_tests::{TestHome, example_dir, fixture_dir, fixture_wasm, now_ms, shared_runtime, ty};
use serde_json::json;

/// A copy of the probe fixture in a temp dir, its component extended by a
/// custom section holding `tag` (a valid component with another digest).
fn probe_dir(tag: &str) -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    let mut wasm = std::fs::read(fixture_wasm("probe"))?;
    if !tag.is_empty() {
        let name = b"healthplug-test";
        let mut content = vec![name.len() as u8];
        content.extend_from_slice(name);
        content.extend_from_slice(tag.as_bytes());
        anyhow::ensure!(content.len() < 128, "tag too long for a one-byte size");
        wasm.push(0);
        wasm.push(content.len() as u8);
        wasm.extend_from_slice(&content);
    }
    std::fs::write(dir.path().join("probe.wasm"), wasm)?;
    std::fs::copy(
        fixture_dir("probe").join("healthplug.toml"),
        dir.path().join("healthplug.toml"),
    )?;
    Ok(dir)
}

fn sign(key: &ReviewerKey, dir: &Path) -> anyhow::Result<()> {
    let rt = shared_runtime();
    let report = review(dir, rt.engine(), &rt.config().platform)?;
    let m = &report.manifest;
    let approval = key.approve(&m.id, &m.version, &report.component_sha256, &report.manifest_sha256);
    std::fs::write(dir.join("healthplug.approval"), serde_json::to_string(&approval)?)?;
    Ok(())
}

/// Ann's steps read through the probe: the number of samples it received.
fn probe_reads(host: &Host) -> anyhow::Result<usize> {
    let out = host.invoke(
        "ann",
        "probe",
        "read",
        &json!({ "types": ["steps"], "start": 0 }).to_string(),
    )?;
    let text = out.result.map_err(|f| anyhow::anyhow!("{} {}", f.kind, f.message))?;
    let v: serde_json::Value = serde_json::from_str(&text)?;
    Ok(v["count"].as_u64().unwrap_or(0) as usize)
}

/// A home with a reviewed probe (signed by `key`) that ann granted steps.
fn reviewed_probe(key: &ReviewerKey) -> anyhow::Result<TestHome> {
    let home = TestHome::new()?;
    let now = now_ms();
    home.host.vault().trust(&key.public(), "alice")?;
    let dir = probe_dir("")?;
    sign(key, dir.path())?;
    home.host.install(dir.path(), InstallOptions::default())?;
    home.host.store_samples(
        "ann",
        "test",
        &[NewSample::quantity(ty("steps"), now - 60_000, now - 1, 5.0)],
    )?;
    home.grant("ann", "probe", "steps")?;
    assert_eq!(probe_reads(&home.host)?, 1);
    Ok(home)
}

#[test]
fn a_dev_build_over_a_reviewed_plugin_is_refused_and_its_users_keep_everything() -> anyhow::Result<()> {
    let key = ReviewerKey::generate()?;
    let home = reviewed_probe(&key)?;
    let installed = home.host.vault().plugin("probe")?;

    // Another build claiming the id, installed --dev: refused, naming why.
    let impostor = probe_dir("impostor")?;
    let err = match home.host.install(impostor.path(), InstallOptions::dev()) {
        Ok(r) => anyhow::bail!("a dev build replaced the reviewed probe: {}", r.plugin.component_sha256),
        Err(e) => e,
    };
    assert!(
        matches!(&err, HostError::NotApproved(ApprovalError::DevOverReviewed { reviewer, .. }) if *reviewer == key.public()),
        "{err}"
    );
    assert!(err.to_string().contains("--dev build may not replace it"), "{err}");
    // The same bytes as the reviewed build, --dev: refused too.
    let same = probe_dir("")?;
    assert!(home.host.install(same.path(), InstallOptions::dev()).is_err());

    // Nothing changed: the record, ann's grant, and invoking (also after a
    // restart, from disk).
    assert_eq!(home.host.vault().plugin("probe")?, installed);
    let consents = home.host.consents("ann")?;
    assert!(
        consents
            .iter()
            .any(|c| c.plugin == "probe" && c.status == "active" && !c.dev)
    );
    assert_eq!(probe_reads(&home.host)?, 1);
    let fresh = Host::open_with(home.path(), shared_runtime(), Default::default())?;
    assert_eq!(probe_reads(&fresh)?, 1);
    Ok(())
}

#[test]
fn a_new_component_signed_by_another_key_is_a_new_plugin_without_grants() -> anyhow::Result<()> {
    let (publisher, other) = (ReviewerKey::generate()?, ReviewerKey::generate()?);
    let home = reviewed_probe(&publisher)?;
    home.host.vault().trust(&other.public(), "mallory")?;

    // An update signed by the same key keeps ann's grant.
    let update = probe_dir("update")?;
    sign(&publisher, update.path())?;
    let report = home.host.install(update.path(), InstallOptions::default())?;
    assert!(!report.consents_reset);
    assert_eq!(probe_reads(&home.host)?, 1);

    // A new digest signed by another key: a new plugin; nothing carries over.
    let takeover = probe_dir("takeover")?;
    sign(&other, takeover.path())?;
    let report = home.host.install(takeover.path(), InstallOptions::default())?;
    assert!(
        report.consents_reset,
        "the install report must say the grants were reset"
    );
    assert!(
        home.host.consents("ann")?.iter().all(|c| c.plugin != "probe"),
        "the new publisher inherited ann's grant"
    );
    assert!(
        probe_reads(&home.host).map_or(true, |n| n == 0),
        "the new publisher read ann's steps"
    );
    let audit = home.host.audit_log(None)?;
    assert!(
        audit.iter().any(|e| format!("{e:?}").contains("new publisher key")),
        "the audit log does not record the reset"
    );
    Ok(())
}

#[test]
fn the_platform_can_forbid_dev_installs_and_consent_views_mark_dev_builds() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    home.install(&fixture_dir("probe"))?;
    home.grant("ann", "probe", "steps")?;
    assert!(
        home.host.consents("ann")?.iter().all(|c| c.dev),
        "a dev build's grant is not marked dev"
    );

    let strict = Host::open_with(home.path(), shared_runtime(), Default::default())?.with_dev_allowed(false);
    let err = match strict.install(&example_dir("activity-coach"), InstallOptions::dev()) {
        Ok(_) => anyhow::bail!("a dev install succeeded on a platform that forbids them"),
        Err(e) => e,
    };
    assert!(
        matches!(err, HostError::NotApproved(ApprovalError::DevDisabled)),
        "{err}"
    );
    assert!(err.to_string().contains("HEALTHPLUG_ALLOW_DEV=0"), "{err}");
    assert!(strict.vault().plugin("activity-coach")?.is_none());
    Ok(())
}

/// The cache files of the component `sha256` in `home`.
fn cache_files(home: &Path, sha256: &str) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(home.join("cache"))? {
        let path = entry?.path();
        if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(sha256))
        {
            out.push(path);
        }
    }
    Ok(out)
}

#[test]
fn a_cache_file_copied_over_another_components_name_never_runs() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    let a = home
        .host
        .install(&example_dir("activity-coach"), InstallOptions::dev())?;
    let b = home
        .host
        .install(&example_dir("nutrition-coach"), InstallOptions::dev())?;
    let names = |tools: Vec<healthplug_host::platform::ToolInfo>| -> Vec<String> {
        tools.into_iter().map(|t| t.name).collect()
    };
    let b_tools = names(home.host.tools("nutrition-coach")?);
    let a_tools = names(home.host.tools("activity-coach")?);
    assert_ne!(a_tools, b_tools);

    // Someone who can write the home (not read the key) copies A's compiled
    // artifact over B's cache file.
    let a_files = cache_files(home.path(), &a.plugin.component_sha256)?;
    let b_files = cache_files(home.path(), &b.plugin.component_sha256)?;
    anyhow::ensure!(a_files.len() == 1 && b_files.len() == 1, "{a_files:?} {b_files:?}");
    std::fs::copy(&a_files[0], &b_files[0])?;

    // B still behaves as B (recompiled), never as A.
    let fresh = Host::open_with(home.path(), shared_runtime(), Default::default())?;
    assert_eq!(names(fresh.tools("nutrition-coach")?), b_tools, "B ran A's code");

    // Removing a plugin leaves neither its component nor its cache file.
    fresh.remove("nutrition-coach")?;
    assert!(cache_files(home.path(), &b.plugin.component_sha256)?.is_empty());
    let component = home
        .path()
        .join("components")
        .join(format!("{}.wasm", b.plugin.component_sha256));
    assert!(!component.exists(), "the removed plugin's component is still stored");
    Ok(())
}

#[test]
fn refused_installs_and_loads_leave_no_compiled_artifact() -> anyhow::Result<()> {
    let key = ReviewerKey::generate()?;
    let home = reviewed_probe(&key)?;
    let sha = home
        .host
        .vault()
        .plugin("probe")?
        .map(|p| p.component_sha256)
        .unwrap_or_default();
    assert_eq!(cache_files(home.path(), &sha)?.len(), 1);
    // The reviewer is no longer trusted: the load is refused and the cache
    // entry deleted.
    home.host.vault().untrust("alice")?;
    let fresh = Host::open_with(home.path(), shared_runtime(), Default::default())?;
    assert!(matches!(fresh.tools("probe"), Err(HostError::NotApproved(_))));
    assert!(
        cache_files(home.path(), &sha)?.is_empty(),
        "a refused load left its cache file"
    );

    // An install refused after compiling (imports its manifest does not
    // declare) leaves no cache file either.
    let dir = tempfile::tempdir()?;
    std::fs::copy(fixture_wasm("netprobe"), dir.path().join("netprobe.wasm"))?;
    let manifest = std::fs::read_to_string(fixture_dir("netprobe").join("healthplug.toml"))?.replace("PORT", "443");
    let cut = manifest.find("[network]").unwrap_or(manifest.len());
    std::fs::write(dir.path().join("healthplug.toml"), &manifest[..cut])?;
    let before = std::fs::read_dir(home.path().join("cache"))?.count();
    assert!(home.host.install(dir.path(), InstallOptions::dev()).is_err());
    assert_eq!(std::fs::read_dir(home.path().join("cache"))?.count(), before);
    Ok(())
}

/// `root/outside.wasm` (a real component) and `root/plugin/` holding a
/// manifest whose `component` is `component`.
fn escaping_plugin(component: &str) -> anyhow::Result<tempfile::TempDir> {
    let root = tempfile::tempdir()?;
    std::fs::copy(fixture_wasm("probe"), root.path().join("outside.wasm"))?;
    let plugin = root.path().join("plugin");
    std::fs::create_dir(&plugin)?;
    let manifest = std::fs::read_to_string(fixture_dir("probe").join("healthplug.toml"))?
        .replace("component = \"probe.wasm\"", &format!("component = {component:?}"));
    anyhow::ensure!(manifest.contains(component), "the fixture's component line changed");
    std::fs::write(plugin.join("healthplug.toml"), manifest)?;
    Ok(root)
}

fn refusal(home: &TestHome, dir: &Path) -> anyhow::Result<String> {
    let rt = shared_runtime();
    let reviewed = review(dir, rt.engine(), &rt.config().platform);
    anyhow::ensure!(reviewed.is_err(), "review read a component outside {}", dir.display());
    match home.host.install(dir, InstallOptions::dev()) {
        Ok(_) => anyhow::bail!("installed a component outside {}", dir.display()),
        Err(e @ HostError::InvalidComponent { .. }) => Ok(e.to_string()),
        Err(e) => anyhow::bail!("not an invalid-component error: {e}"),
    }
}

#[test]
fn no_manifest_path_or_symlink_reads_outside_the_plugin_directory() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    let root = escaping_plugin("../outside.wasm")?;
    let e = refusal(&home, &root.path().join("plugin"))?;
    assert!(
        e.contains("../outside.wasm") && e.contains("outside the plugin directory"),
        "{e}"
    );

    let absolute = root.path().join("outside.wasm").display().to_string();
    let root = escaping_plugin(&absolute)?;
    let e = refusal(&home, &root.path().join("plugin"))?;
    assert!(
        e.contains(&absolute) && e.contains("outside the plugin directory"),
        "{e}"
    );

    #[cfg(unix)]
    {
        let root = escaping_plugin("probe.wasm")?;
        std::os::unix::fs::symlink(root.path().join("outside.wasm"), root.path().join("plugin/probe.wasm"))?;
        let e = refusal(&home, &root.path().join("plugin"))?;
        assert!(
            e.contains("probe.wasm") && e.contains("symbolic link leading outside"),
            "{e}"
        );

        // `review sign` never writes an approval through a link out of the
        // directory.
        let victim = root.path().join("victim.txt");
        std::fs::write(&victim, "keep me")?;
        std::os::unix::fs::symlink(&victim, root.path().join("plugin/healthplug.approval"))?;
        let written = healthplug_host::vetting::source::write_approval(&root.path().join("plugin"), "{}");
        assert!(written.is_err(), "wrote an approval through a symbolic link");
        assert_eq!(std::fs::read_to_string(&victim)?, "keep me");
    }
    assert!(home.host.plugins()?.is_empty());
    Ok(())
}

#[test]
fn every_example_installs_from_its_own_directory() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    for id in [
        "activity-coach",
        "apple-health",
        "cloud-sync",
        "fhir-r4",
        "gpx",
        "myfitnesspal",
        "nutrition-coach",
    ] {
        let source = healthplug_host::examples::source_dir(id).join("healthplug.toml");
        let manifest = healthplug_host::manifest::Manifest::load(&source)?;
        healthplug_host::vetting::source::check_component_name(&manifest.component, &source)
            .map_err(anyhow::Error::msg)?;
        assert!(!manifest.component.contains('/'), "{id}: {}", manifest.component);
        home.install(&example_dir(id))?;
    }
    Ok(())
}

#[test]
fn reinstalling_repairs_a_modified_stored_component() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    let report = home.host.install(&fixture_dir("probe"), InstallOptions::dev())?;
    let stored = home
        .path()
        .join("components")
        .join(format!("{}.wasm", report.plugin.component_sha256));
    let mut wasm = std::fs::read(&stored)?;
    let mid = wasm.len() / 3;
    wasm[mid] ^= 0x01;
    std::fs::write(&stored, &wasm)?;
    let fresh = Host::open_with(home.path(), shared_runtime(), Default::default())?;
    assert!(matches!(fresh.tools("probe"), Err(HostError::Tampered { .. })));

    // The hint says "reinstall it": that must work.
    fresh.install(&fixture_dir("probe"), InstallOptions::dev())?;
    let again = Host::open_with(home.path(), shared_runtime(), Default::default())?;
    assert!(
        again.tools("probe").is_ok(),
        "reinstalling left the modified component in place"
    );
    Ok(())
}
