//! `healthplug new` as a partner uses it (issue 17): generate a plugin and
//! a connector, run their native tests against the SDK's mock, build the
//! components, install them with `--dev`, grant what they ask, and invoke
//! or import, with no edit. The crates are generated under `target/` so
//! the checkout's `rust-toolchain.toml` (and its wasm target) applies, and
//! share one target directory so a second run is warm.

use std::path::{Path, PathBuf};
use std::process::Command;

use healthplug_host::cli::{Captured, run_captured};

fn cli(home: &Path, args: &[&str]) -> Captured {
    let mut all = vec!["healthplug", "--home", home.to_str().unwrap_or_default()];
    all.extend_from_slice(args);
    run_captured(all)
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs cargo in `dir` with the shared template target directory.
fn cargo(dir: &Path, args: &[&str]) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", root().join("target/template-target"))
        .env_remove("RUSTFLAGS")
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "cargo {args:?} in {}:\n{}\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// A fresh directory under target/template-check for `name`.
fn generate(kind: &str, name: &str) -> anyhow::Result<PathBuf> {
    let parent = root().join("target/template-check");
    let dir = parent.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&parent)?;
    let out = run_captured(["healthplug", "new", kind, name, "--dir", &dir.display().to_string()]);
    anyhow::ensure!(
        out.success && out.stdout.contains("created"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    Ok(dir)
}

/// The manifest points at the component cargo writes into the crate's
/// own `target/`: with a shared target dir, copy it there.
fn place_component(dir: &Path, krate: &str) -> anyhow::Result<()> {
    let built = root().join(format!("target/template-target/wasm32-wasip2/release/{krate}.wasm"));
    let release = dir.join("target/wasm32-wasip2/release");
    std::fs::create_dir_all(&release)?;
    std::fs::copy(built, release.join(format!("{krate}.wasm")))?;
    Ok(())
}

#[test]
fn a_new_plugin_tests_builds_installs_and_answers_with_no_edit() -> anyhow::Result<()> {
    let dir = generate("plugin", "tpl-steps")?;
    cargo(&dir, &["test", "--quiet"])?;
    cargo(&dir, &["build", "--release", "--quiet", "--target", "wasm32-wasip2"])?;
    place_component(&dir, "tpl_steps")?;
    let home = tempfile::tempdir()?;
    assert!(cli(home.path(), &["demo"]).success);
    let add = cli(home.path(), &["plugin", "add", &dir.display().to_string(), "--dev"]);
    assert!(add.success, "{}", add.stderr);
    let out = cli(
        home.path(),
        &["invoke", "demo", "tpl-steps", "daily-steps", "{\"days\": 7}"],
    );
    assert!(
        out.stdout.contains("steps not granted (not-granted)"),
        "before the grant: {}",
        out.stdout
    );
    assert!(cli(home.path(), &["consent", "grant", "demo", "tpl-steps", "--all"]).success);
    let out = cli(
        home.path(),
        &["--json", "invoke", "demo", "tpl-steps", "daily-steps", "{\"days\": 7}"],
    );
    assert!(out.success, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout)?;
    let result = &v["result"]["output"];
    // Seven whole local days, today (in progress) among them.
    assert_eq!(result["days"].as_array().map(Vec::len), Some(7), "{v}");
    assert!(result["total"].as_f64().unwrap_or_default() > 10_000.0, "{v}");
    Ok(())
}

#[test]
fn a_new_connector_tests_builds_installs_and_imports_with_no_edit() -> anyhow::Result<()> {
    let dir = generate("connector", "tpl-hr")?;
    cargo(&dir, &["test", "--quiet"])?;
    cargo(&dir, &["build", "--release", "--quiet", "--target", "wasm32-wasip2"])?;
    place_component(&dir, "tpl_hr")?;
    let home = tempfile::tempdir()?;
    assert!(cli(home.path(), &["user", "add", "ann"]).success);
    assert!(cli(home.path(), &["plugin", "add", &dir.display().to_string(), "--dev"]).success);
    assert!(cli(home.path(), &["consent", "grant", "ann", "tpl-hr", "--all"]).success);
    let file = home.path().join("hr.csv");
    std::fs::write(
        &file,
        "time,bpm\n2026-11-28T07:00:00Z,58\nnoon,61\n2026-11-28T08:00:00Z,61\n",
    )?;
    let out = cli(home.path(), &["import", "ann", "tpl-hr", &file.display().to_string()]);
    assert!(out.success, "{}", out.stderr);
    assert!(out.stdout.contains("line 3"), "the bad row by its line: {}", out.stdout);
    let out = cli(home.path(), &["--json", "records", "ann", "--type", "heart-rate"]);
    let records: serde_json::Value = serde_json::from_str(&out.stdout)?;
    assert_eq!(records.as_array().map(Vec::len), Some(2), "{records}");
    Ok(())
}

/// Generates a plugin with `healthplug new plugin <id> --lang <lang>`
/// under target/template-check, checking it wrote `entry` and no crate.
fn generate_lang(id: &str, lang: &str, entry: &str) -> anyhow::Result<PathBuf> {
    let parent = root().join("target/template-check");
    let dir = parent.join(id);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&parent)?;
    let out = run_captured([
        "healthplug",
        "new",
        "plugin",
        id,
        "--lang",
        lang,
        "--dir",
        &dir.display().to_string(),
    ]);
    anyhow::ensure!(out.success, "{}", out.stderr);
    anyhow::ensure!(dir.join(entry).is_file() && !dir.join("Cargo.toml").exists());
    Ok(dir)
}

/// Installs the built template `built` (id `id`) into a demo home, grants
/// it what it asks and checks `daily-steps` answers seven whole days.
fn answers_daily_steps(built: &Path, id: &str) -> anyhow::Result<()> {
    let home = tempfile::tempdir()?;
    assert!(cli(home.path(), &["demo"]).success);
    let add = cli(home.path(), &["plugin", "add", &built.display().to_string(), "--dev"]);
    assert!(add.success, "{}", add.stderr);
    assert!(cli(home.path(), &["consent", "grant", "demo", id, "--all"]).success);
    let out = cli(
        home.path(),
        &["--json", "invoke", "demo", id, "daily-steps", "{\"days\": 7}"],
    );
    assert!(out.success, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout)?;
    let result = &v["result"]["output"];
    assert_eq!(result["days"].as_array().map(Vec::len), Some(7), "{v}");
    assert!(result["total"].as_f64().unwrap_or_default() > 10_000.0, "{v}");
    Ok(())
}

#[test]
fn a_new_python_plugin_builds_installs_and_answers_with_no_edit() -> anyhow::Result<()> {
    let dir = generate_lang("tpl-py", "python", "app.py")?;
    let Some(built) = healthplug_tests::lang::python_plugin(&dir, "tpl-py")? else {
        return Ok(());
    };
    answers_daily_steps(&built, "tpl-py")?;
    let connector = run_captured(["healthplug", "new", "connector", "tpl-pyc", "--lang", "python"]);
    assert!(
        !connector.success && connector.stderr.contains("Rust"),
        "{}",
        connector.stderr
    );
    Ok(())
}

#[test]
fn a_new_javascript_plugin_builds_installs_and_answers_with_no_edit() -> anyhow::Result<()> {
    let dir = generate_lang("tpl-js", "js", "app.js")?;
    let Some(built) = healthplug_tests::lang::js_plugin(&dir, "tpl-js")? else {
        return Ok(());
    };
    answers_daily_steps(&built, "tpl-js")
}
