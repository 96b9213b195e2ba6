//! One package from partner to platform (issue 17): `healthplug pack`
//! writes `<id>-<version>.hpkg`, `review` reports on it as on the
//! directory, `review sign` puts the approval inside it, and `plugin add`
//! installs it on a platform that requires approvals; a package altered
//! after signing, or one that is not a package, is refused and nothing is
//! installed. All through the CLI, as a partner, a reviewer and an operator
//! run it.

use std::path::{Path, PathBuf};

use healthplug_host::cli::{Captured, run_captured};
use healthplug_host::vetting::Package;
use healthplug_tests::example_dir;

fn cli(home: &Path, args: &[&str]) -> Captured {
    let mut all = vec!["healthplug", "--home", home.to_str().unwrap_or_default()];
    all.extend_from_slice(args);
    run_captured(all)
}

fn both(out: &Captured) -> String {
    format!("{}\n{}", out.stdout, out.stderr)
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap_or_default()
}

/// Packs activity-coach into `out`; returns the package's path.
fn pack(home: &Path, out: &Path) -> PathBuf {
    let dir = example_dir("activity-coach");
    let packed = cli(home, &["pack", s(&dir), "--out", s(out)]);
    assert!(packed.success, "{}", both(&packed));
    let file = out.join("activity-coach-0.1.0.hpkg");
    assert!(packed.stdout.contains(s(&file)), "{}", packed.stdout);
    file
}

/// A reviewer key in `dir`: its file and its public key.
fn keygen(home: &Path, dir: &Path) -> (PathBuf, String) {
    let key = dir.join("reviewer.key");
    let out = cli(home, &["--json", "review", "keygen", "--out", s(&key)]);
    assert!(out.success, "{}", both(&out));
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap_or_default();
    let public = v["public_key"].as_str().unwrap_or_default().to_string();
    assert!(public.starts_with("ed25519:"), "{}", out.stdout);
    (key, public)
}

fn installed(home: &Path) -> String {
    let list = cli(home, &["plugin", "list"]);
    assert!(list.success, "{}", both(&list));
    list.stdout
}

#[test]
fn a_package_is_packed_reviewed_signed_installed_and_invoked() {
    let (partner, reviewer, platform) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let submitted = tempfile::tempdir().unwrap();
    // The partner packs; packing again gives the same bytes.
    let file = pack(partner.path(), submitted.path());
    let first = std::fs::read(&file).unwrap();
    pack(partner.path(), submitted.path());
    assert_eq!(std::fs::read(&file).unwrap(), first, "pack is not deterministic");

    // The reviewer's report on the package is the report on the directory.
    let on_dir = cli(reviewer.path(), &["review", s(&example_dir("activity-coach"))]);
    let on_package = cli(reviewer.path(), &["review", s(&file)]);
    assert!(on_package.success, "{}", both(&on_package));
    assert_eq!(on_package.stdout, on_dir.stdout);
    assert!(on_package.stdout.contains("approval: none"), "{}", on_package.stdout);

    // Signing puts the approval inside the package, atomically: no other
    // file appears beside it, and the report now shows the approval.
    let (key, public) = keygen(reviewer.path(), reviewer.path());
    let signed = cli(reviewer.path(), &["review", "sign", "--key", s(&key), s(&file)]);
    assert!(signed.success, "{}", both(&signed));
    assert!(
        signed.stdout.contains(&format!("wrote {}", s(&file))),
        "{}",
        signed.stdout
    );
    let beside: Vec<_> = std::fs::read_dir(submitted.path()).unwrap().collect();
    assert_eq!(beside.len(), 1, "{beside:?}");
    let package = Package::read_from(std::fs::File::open(&file).unwrap()).unwrap();
    assert!(package.approval.as_deref().unwrap_or_default().contains(&public));
    let report = cli(reviewer.path(), &["review", s(&file)]);
    assert!(report.stdout.contains("matches these bytes"), "{}", report.stdout);

    // The platform installs only once it trusts the reviewer.
    let refused = cli(platform.path(), &["plugin", "add", s(&file)]);
    assert!(
        !refused.success && refused.stderr.contains("not a trusted reviewer"),
        "{}",
        both(&refused)
    );
    assert!(!installed(platform.path()).contains("activity-coach"));
    assert!(cli(platform.path(), &["trust", "add", &public, "--name", "alice"]).success);
    let added = cli(platform.path(), &["plugin", "add", s(&file)]);
    assert!(added.success, "{}", both(&added));
    assert!(
        added.stdout.contains("installed activity-coach 0.1.0"),
        "{}",
        added.stdout
    );
    assert!(!added.stdout.contains("[dev]"), "{}", added.stdout);
    let granted = cli(
        platform.path(),
        &["consent", "grant", "ann", "activity-coach", "--types", "steps"],
    );
    assert!(granted.success, "{}", both(&granted));
    let invoked = cli(platform.path(), &["invoke", "ann", "activity-coach", "step-goal"]);
    assert!(invoked.success, "{}", both(&invoked));

    // A partner's own test install of the unsigned package works with --dev.
    let unsigned = pack(partner.path(), &partner.path().join("out"));
    let dev = cli(partner.path(), &["plugin", "add", s(&unsigned), "--dev"]);
    assert!(dev.success && dev.stdout.contains("[dev]"), "{}", both(&dev));
}

#[test]
fn sign_with_out_leaves_the_package_as_it_was() {
    let (home, out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let file = pack(home.path(), out.path());
    let before = std::fs::read(&file).unwrap();
    let (key, _) = keygen(home.path(), home.path());
    let approval = home.path().join("separate.approval");
    let signed = cli(
        home.path(),
        &["review", "sign", "--key", s(&key), s(&file), "--out", s(&approval)],
    );
    assert!(signed.success, "{}", both(&signed));
    assert_eq!(std::fs::read(&file).unwrap(), before);
    assert!(
        std::fs::read_to_string(&approval)
            .unwrap()
            .contains("healthplug-approval-v1")
    );

    // A directory with that approval packs with it; once its manifest
    // changes, the approval no longer approves it and pack refuses.
    let dir = tempfile::tempdir().unwrap();
    for name in ["healthplug.toml", "activity_coach.wasm"] {
        std::fs::copy(example_dir("activity-coach").join(name), dir.path().join(name)).unwrap();
    }
    std::fs::copy(&approval, dir.path().join("healthplug.approval")).unwrap();
    let dist = dir.path().join("dist");
    let out = cli(home.path(), &["pack", s(dir.path()), "--out", s(&dist)]);
    assert!(
        out.success && out.stdout.contains("with its approval"),
        "{}",
        both(&out)
    );
    let manifest = dir.path().join("healthplug.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("days = 90", "days = 30")).unwrap();
    let out = cli(home.path(), &["pack", s(dir.path()), "--out", s(&dist)]);
    assert!(!out.success, "{}", out.stdout);
    assert!(
        out.stderr
            .contains("does not approve this plugin: the manifest changed since it was approved"),
        "{}",
        out.stderr
    );
}

/// A signed package from a fresh reviewer, and a platform trusting them.
fn signed_package() -> std::io::Result<(tempfile::TempDir, PathBuf, tempfile::TempDir)> {
    let work = tempfile::tempdir()?;
    let file = pack(work.path(), work.path());
    let (key, public) = keygen(work.path(), work.path());
    assert!(cli(work.path(), &["review", "sign", "--key", s(&key), s(&file)]).success);
    let platform = tempfile::tempdir()?;
    assert!(cli(platform.path(), &["trust", "add", &public]).success);
    Ok((work, file, platform))
}

/// Installs `bytes` as a package on `platform`; it must be refused with
/// `says`, leaving nothing installed.
fn refused(platform: &Path, dir: &Path, bytes: &[u8], says: &str) {
    let file = dir.join("altered.hpkg");
    assert!(std::fs::write(&file, bytes).is_ok());
    let out = cli(platform, &["plugin", "add", s(&file)]);
    assert!(!out.success, "an altered package installed: {}", out.stdout);
    assert!(out.stderr.contains(says), "expected `{says}`: {}", out.stderr);
    assert!(!installed(platform).contains("activity-coach"));
}

#[test]
fn a_package_altered_after_signing_is_refused_at_install() {
    let (work, file, platform) = signed_package().unwrap();
    let original = std::fs::read(&file).unwrap();
    let package = Package::read_from(original.as_slice()).unwrap();

    // A flipped byte in the component: the digest no longer matches.
    let mut flipped = original.clone();
    let block = |n: usize| n.div_ceil(512) * 512;
    let at = 512 + block(package.manifest.len()) + 512 + package.component.len() / 2;
    flipped[at] ^= 0x01;
    refused(
        platform.path(),
        work.path(),
        &flipped,
        "member `component.wasm` was altered",
    );

    // A new component with a digest to match: the approval does not.
    let mut swapped = package.clone();
    let mid = swapped.component.len() / 2;
    swapped.component[mid] ^= 0x01;
    let bytes = swapped.to_bytes().unwrap();
    refused(
        platform.path(),
        work.path(),
        &bytes,
        "the component changed since it was approved",
    );

    // A manifest asking for more, digest recomputed: the approval does not
    // cover it.
    let mut widened = package.clone();
    widened.manifest = widened.manifest.replace("days = 90", "days = 3650");
    assert_ne!(widened.manifest, package.manifest);
    let bytes = widened.to_bytes().unwrap();
    refused(
        platform.path(),
        work.path(),
        &bytes,
        "the manifest changed since it was approved",
    );

    // The approval taken out: none.
    let mut stripped = package.clone();
    stripped.approval = None;
    refused(
        platform.path(),
        work.path(),
        &stripped.to_bytes().unwrap(),
        "no approval",
    );

    // Cut short, and something that is not a package at all.
    refused(
        platform.path(),
        work.path(),
        &original[..original.len() / 2],
        "truncated",
    );
    refused(
        platform.path(),
        work.path(),
        b"not a package",
        "not a usable healthplug package",
    );

    // The package as signed still installs.
    let out = cli(platform.path(), &["plugin", "add", s(&file)]);
    assert!(out.success, "{}", both(&out));
}

#[test]
fn review_refuses_what_is_not_a_package_naming_why() {
    let dir = tempfile::tempdir().unwrap();
    let file = pack(dir.path(), dir.path());
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.extend_from_slice(b"appended");
    let bad = dir.path().join("bad.hpkg");
    std::fs::write(&bad, &bytes).unwrap();
    let out = cli(dir.path(), &["review", s(&bad)]);
    assert!(!out.success);
    assert!(
        out.stderr
            .contains("bad.hpkg: not a usable healthplug package: the package has data after its end"),
        "{}",
        out.stderr
    );
    // Signing it is refused too, and leaves it as it was.
    let (key, _) = keygen(dir.path(), dir.path());
    let out = cli(dir.path(), &["review", "sign", "--key", s(&key), s(&bad)]);
    assert!(!out.success, "{}", out.stdout);
    assert_eq!(std::fs::read(&bad).unwrap(), bytes);
    // Packing a package is refused.
    let out = cli(dir.path(), &["pack", s(&file), "--out", s(dir.path())]);
    assert!(
        !out.success && out.stderr.contains("already a package"),
        "{}",
        both(&out)
    );
}
