//! Plugins written in other languages, built from source for the tests:
//! Python through componentize-py (`sdk/python/healthplug_build.py`, the
//! partner's own build command). The toolchain lives in a virtualenv that
//! `.ci/run` creates (`target/py-build`, from
//! `sdk/python/requirements-build.txt`); without it the tests say so and
//! pass, unless `HEALTHPLUG_LANGS=required` (as in CI). A build is reused
//! while its output is newer than every source it came from.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::SystemTime;

/// The environment variable that makes a missing toolchain a failure.
pub const LANGS_ENV: &str = "HEALTHPLUG_LANGS";

/// The checkout's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn newest(paths: &[PathBuf]) -> Option<SystemTime> {
    let mut newest = None;
    for path in paths {
        let mut stack = vec![path.clone()];
        while let Some(p) = stack.pop() {
            let Ok(meta) = std::fs::metadata(&p) else { continue };
            if meta.is_dir() {
                if let Ok(entries) = std::fs::read_dir(&p) {
                    stack.extend(
                        entries
                            .flatten()
                            .map(|e| e.path())
                            .filter(|e| !e.ends_with("__pycache__")),
                    );
                }
            } else if let Ok(m) = meta.modified() {
                newest = newest.max(Some(m));
            }
        }
    }
    newest
}

/// The Python that has componentize-py beside it, if installed.
fn python() -> Option<PathBuf> {
    let venv = root().join("target/py-build/bin");
    venv.join("componentize-py").exists().then(|| venv.join("python"))
}

/// Builds the Python plugin in `src` (a directory with `app.py` and
/// `healthplug.toml`) into `target/lang/python/<name>`, the installable
/// directory; `None` when the toolchain is missing and not required.
pub fn python_plugin(src: &Path, name: &str) -> anyhow::Result<Option<PathBuf>> {
    static BUILT: Mutex<Option<HashMap<String, PathBuf>>> = Mutex::new(None);
    let Some(python) = python() else {
        anyhow::ensure!(
            std::env::var(LANGS_ENV).as_deref() != Ok("required"),
            "componentize-py is not installed in target/py-build and {LANGS_ENV}=required"
        );
        eprintln!("skipped: no componentize-py in target/py-build (see docs/python.md; .ci/run installs it)");
        return Ok(None);
    };
    let mut built = BUILT.lock().map_err(|_| anyhow::anyhow!("a Python build panicked"))?;
    let out = root().join("target/lang/python").join(name);
    if let Some(dir) = built.get_or_insert_with(HashMap::new).get(name) {
        return Ok(Some(dir.clone()));
    }
    let sources = [src.to_path_buf(), root().join("sdk/python"), root().join("wit")];
    let fresh = match (newest(std::slice::from_ref(&out)), newest(&sources)) {
        (Some(o), Some(s)) => o > s,
        _ => false,
    };
    if !fresh {
        let status = Command::new(&python)
            .arg(root().join("sdk/python/healthplug_build.py"))
            .arg(src)
            .arg("--out")
            .arg(&out)
            .status()?;
        anyhow::ensure!(status.success(), "building the Python plugin {} failed", src.display());
    }
    built
        .get_or_insert_with(HashMap::new)
        .insert(name.to_string(), out.clone());
    Ok(Some(out))
}
