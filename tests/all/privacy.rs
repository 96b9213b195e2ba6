//! Data at rest: no health value, identifier or free text is readable in
//! any file under the home directory; erasure removes a user entirely; and
//! many users invoked at once never see each other's values.

use std::path::Path;

use healthplug_host::vault::{Coding, NewSample};
use healthplug_tests::{DAY_MS, TestHome, fixture_dir, now_ms, ty};
use serde_json::json;

const CANARY_USER: &str = "user-canary-KX41";
const CANARY_VALUE: f64 = 271_828.182_845_9;
const CANARY_TEXT: [&str; 5] = [
    "source-canary-KX42",
    "device-canary-KX43",
    "notes-canary-KX44",
    "metadata-canary-KX45",
    "coding-canary-KX46",
];

/// Every byte pattern a canary could leave in a file.
fn patterns() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = vec![
        (CANARY_USER.into(), CANARY_USER.as_bytes().to_vec()),
        ("value as text".into(), b"271828.18".to_vec()),
        ("value as f64 LE".into(), CANARY_VALUE.to_le_bytes().to_vec()),
        ("value as f64 BE".into(), CANARY_VALUE.to_be_bytes().to_vec()),
    ];
    for t in CANARY_TEXT {
        out.push((t.into(), t.as_bytes().to_vec()));
        let utf16: Vec<u8> = t.encode_utf16().flat_map(u16::to_le_bytes).collect();
        out.push((format!("{t} (UTF-16)"), utf16));
    }
    out
}

/// Every file under `dir` containing a canary, with the canary.
fn scan(dir: &Path) -> anyhow::Result<(usize, u64, Vec<String>)> {
    let mut files = 0;
    let mut bytes = 0u64;
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let data = std::fs::read(&path)?;
            files += 1;
            bytes += data.len() as u64;
            for (name, p) in patterns() {
                if data.windows(p.len()).any(|w| w == p.as_slice()) {
                    found.push(format!("{} contains {name}", path.display()));
                }
            }
        }
    }
    Ok((files, bytes, found))
}

fn canary_sample() -> NewSample {
    let t = now_ms() - DAY_MS;
    let mut s = NewSample::quantity(ty("body-mass"), t, t, CANARY_VALUE);
    s.source_name = Some(CANARY_TEXT[0].into());
    s.device = Some(CANARY_TEXT[1].into());
    s.notes = Some(CANARY_TEXT[2].into());
    s.metadata = Some(format!("{{\"tag\":\"{}\"}}", CANARY_TEXT[3]));
    s.coding = Some(Coding {
        system: "http://loinc.org".into(),
        code: "29463-7".into(),
        display: CANARY_TEXT[4].into(),
    });
    s
}

#[test]
fn no_canary_is_readable_anywhere_under_the_home() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    home.install(&fixture_dir("probe"))?;
    home.host.store_samples(CANARY_USER, "test", &[canary_sample()])?;
    home.grant(CANARY_USER, "probe", "body-mass")?;
    // Read it back through a plugin and a records export, so every code path
    // that touches it (audit, staging, caches) has run.
    let (out, _) = home.invoke_json(CANARY_USER, "probe", "read", json!({ "types": ["body-mass"] }))?;
    assert_eq!(out["samples"][0]["value"], CANARY_VALUE, "the plugin sees the value");
    let (out, _) = home.invoke_json(CANARY_USER, "probe", "write", json!({ "samples": [{
        "type": "body-mass", "start": now_ms() - 2 * DAY_MS, "value": CANARY_VALUE, "unit": "kg", "notes": CANARY_TEXT[2]
    }] }))?;
    assert_eq!(out["ok"], false, "write was not granted: {out}");
    let records = home.host.records(CANARY_USER, &[])?;
    assert_eq!(
        records[0].notes.as_deref(),
        Some(CANARY_TEXT[2]),
        "the user can read their data"
    );

    let (files, bytes, found) = scan(home.path())?;
    assert!(files >= 3, "scanned {files} files");
    // The scan itself finds a canary where there is one.
    let control = tempfile::tempdir()?;
    std::fs::write(
        control.path().join("leak"),
        [b"x".as_slice(), &CANARY_VALUE.to_le_bytes(), CANARY_TEXT[1].as_bytes()].concat(),
    )?;
    assert_eq!(
        scan(control.path())?.2.len(),
        2,
        "the scan must see the control canaries"
    );
    assert!(
        found.is_empty(),
        "plaintext canaries on disk after scanning {files} files, {bytes} bytes: {found:#?}"
    );
    println!("canary scan: {files} files, {bytes} bytes under the home, no plaintext canary; control: 2 of 2 found");
    Ok(())
}

#[test]
fn erasing_a_user_removes_everything_about_them() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    home.install(&fixture_dir("probe"))?;
    home.host.store_samples(CANARY_USER, "test", &[canary_sample()])?;
    home.host
        .store_samples("bob", "test", &[NewSample::quantity(ty("steps"), 0, 1, 5.0)])?;
    home.grant(CANARY_USER, "probe", "body-mass")?;
    let report = home.host.erase(CANARY_USER)?;
    assert_eq!(report.samples, 1);
    assert_eq!(report.consents, 1);
    assert!(report.key_destroyed);
    assert!(matches!(
        home.host.records(CANARY_USER, &[]),
        Err(healthplug_host::HostError::UnknownUser(_))
    ));
    assert_eq!(home.host.records("bob", &[])?.len(), 1, "other users are untouched");
    let (_, _, found) = scan(home.path())?;
    assert!(found.is_empty(), "{found:#?}");
    // The erasure itself is audited, and the log still verifies.
    assert!(home.host.audit_log(None)?.iter().any(|e| e.event.kind.id() == "erase"));
    assert!(home.host.verify_audit()?.ok());
    // A user created again with the same id starts empty.
    home.host.ensure_user(CANARY_USER)?;
    assert!(home.host.records(CANARY_USER, &[])?.is_empty());
    Ok(())
}

#[test]
fn many_users_invoked_concurrently_see_only_their_own_values() -> anyhow::Result<()> {
    let home = std::sync::Arc::new(TestHome::new()?);
    home.install(&fixture_dir("probe"))?;
    let users: Vec<(String, f64)> = (0..16)
        .map(|i| (format!("user-{i}"), 100_000.0 + f64::from(i) * 1111.0))
        .collect();
    for (user, value) in &users {
        let t = now_ms() - DAY_MS;
        home.host
            .store_samples(user, "test", &[NewSample::quantity(ty("steps"), t, t, *value)])?;
        home.grant(user, "probe", "steps")?;
    }
    let mut threads = Vec::new();
    for round in 0..3 {
        for (user, value) in users.clone() {
            let home = home.clone();
            threads.push(std::thread::spawn(move || -> anyhow::Result<()> {
                let (out, _) = home.invoke_json(&user, "probe", "read", json!({ "types": ["steps"] }))?;
                assert_eq!(out["count"], 1, "{user} round {round}: {out}");
                assert_eq!(out["samples"][0]["value"], value, "{user}: {out}");
                Ok(())
            }));
        }
    }
    for t in threads {
        t.join().map_err(|_| anyhow::anyhow!("a thread panicked"))??;
    }
    Ok(())
}
