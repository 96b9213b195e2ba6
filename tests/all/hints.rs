//! The CLI names the fix (issue 17): a refused access says which manifest
//! table to add the type to, or which `consent grant` a user would run,
//! instead of sending the developer to `plugin info`; `consent grant
//! --all` grants exactly what the manifest asks, purposes printed first.

use std::path::Path;

use healthplug_host::cli::{Captured, run_captured};
use healthplug_tests::fixture_dir;

fn cli(home: &Path, args: &[&str]) -> Captured {
    let mut all = vec!["healthplug", "--home", home.to_str().unwrap_or_default()];
    all.extend_from_slice(args);
    run_captured(all)
}

fn both(out: &Captured) -> String {
    format!("{}\n{}", out.stdout, out.stderr)
}

#[test]
fn grant_all_grants_exactly_the_manifest_and_says_why_first() {
    let home = tempfile::tempdir().unwrap();
    let probe = fixture_dir("probe");
    assert!(cli(home.path(), &["plugin", "add", probe.to_str().unwrap(), "--dev"]).success);
    let out = cli(home.path(), &["consent", "grant", "ann", "probe", "--all"]);
    assert!(out.success, "{}", both(&out));
    let asks = out
        .stdout
        .find("probe asks to read and write steps")
        .expect("purposes first");
    let granted = out.stdout.find("granted").expect("then the grants");
    assert!(asks < granted, "{}", out.stdout);
    // 9 types read (3 of them written too) and blood-glucose written only.
    assert_eq!(out.stdout.matches("granted ").count(), 10, "{}", out.stdout);
    assert!(out.stdout.contains("granted write of blood-glucose"), "{}", out.stdout);
    assert!(out.stdout.contains("granted read of heart-rate"), "{}", out.stdout);
    assert!(
        !out.stdout.contains("read+write of heart-rate"),
        "a read-only type became writable"
    );
    // --all with --types or --write is refused, naming why.
    assert!(
        !cli(
            home.path(),
            &["consent", "grant", "ann", "probe", "--all", "--types", "steps"]
        )
        .success
    );
    let write = cli(home.path(), &["consent", "grant", "ann", "probe", "--all", "--write"]);
    assert!(
        !write.success && write.stderr.contains("drop --write"),
        "{}",
        write.stderr
    );
}

#[test]
fn a_refused_read_names_the_manifest_table_or_the_grant_not_plugin_info() {
    let home = tempfile::tempdir().unwrap();
    let probe = fixture_dir("probe");
    assert!(cli(home.path(), &["plugin", "add", probe.to_str().unwrap(), "--dev"]).success);
    assert!(cli(home.path(), &["consent", "grant", "ann", "probe", "--types", "steps"]).success);
    // A type the manifest does not declare.
    let out = cli(
        home.path(),
        &["invoke", "ann", "probe", "read", r#"{"types":["resting-heart-rate"]}"#],
    );
    let text = both(&out);
    assert!(text.contains("[[read]]") && text.contains("healthplug.toml"), "{text}");
    assert!(!text.contains("plugin info"), "{text}");
    // A declared type the user has not granted.
    let out = cli(
        home.path(),
        &["invoke", "ann", "probe", "read", r#"{"types":["heart-rate"]}"#],
    );
    let text = both(&out);
    assert!(
        text.contains("healthplug consent grant ann probe --types heart-rate"),
        "{text}"
    );
}

#[test]
fn a_tool_name_the_wit_does_not_allow_is_refused_at_install_with_its_rename() {
    // `sleep_summary` is allowed (MCP clients use snake_case); the bidi
    // override after it is not.
    let home = tempfile::tempdir().unwrap();
    let plugin = fixture_dir("hostile/tool-names");
    let out = cli(home.path(), &["plugin", "add", plugin.to_str().unwrap(), "--dev"]);
    assert!(
        !out.success,
        "a tool name with a bidi override installed: {}",
        out.stdout
    );
    assert!(out.stderr.contains("rename it `sleep_summary`"), "{}", out.stderr);
    assert!(
        out.stderr.contains("sleep_summary\\u{202e}"),
        "the name is shown made visible: {}",
        out.stderr
    );
    assert!(
        !out.stderr.contains('\u{202e}'),
        "a raw bidi override reached the terminal"
    );
    // Nothing of it was kept.
    let list = cli(home.path(), &["plugin", "list"]);
    assert!(!list.stdout.contains("hostile-tool-names"), "{}", list.stdout);
}

/// The reviewer sees the same: `review` lists the tools the assistant
/// will see, reports a name the WIT refuses with its rename, and `review
/// sign` refuses to approve it, so no approval exists for what no platform
/// would install.
#[test]
fn review_lists_tools_and_refuses_to_sign_a_bad_tool_name() {
    let home = tempfile::tempdir().unwrap();
    let good = healthplug_tests::example_dir("activity-coach");
    let out = cli(home.path(), &["review", good.to_str().unwrap()]);
    assert!(out.success, "{}", out.stderr);
    assert!(out.stdout.contains("tools offered to the assistant:"), "{}", out.stdout);
    assert!(out.stdout.contains("weekly-summary"), "{}", out.stdout);

    let bad = fixture_dir("hostile/tool-names");
    let out = cli(home.path(), &["review", bad.to_str().unwrap()]);
    assert!(out.stdout.contains("REFUSED at install"), "{}", out.stdout);
    assert!(out.stdout.contains("rename it `sleep_summary`"), "{}", out.stdout);
    assert!(
        !out.stdout.contains('\u{202e}'),
        "a raw bidi override reached the terminal"
    );
    let json = cli(home.path(), &["--json", "review", bad.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["tools"]["status"], "refused", "{v}");

    let key = home.path().join("reviewer.key");
    assert!(cli(home.path(), &["review", "keygen", "--out", key.to_str().unwrap()]).success);
    let approval = home.path().join("approval.json");
    let out = cli(
        home.path(),
        &[
            "review",
            "sign",
            "--key",
            key.to_str().unwrap(),
            bad.to_str().unwrap(),
            "--out",
            approval.to_str().unwrap(),
        ],
    );
    assert!(
        !out.success && out.stderr.contains("refusing to sign"),
        "{}",
        out.stderr
    );
    assert!(!approval.exists(), "no approval written");
}
