//! Plugins written in other languages, built from source for the tests
//! with the partner's own build commands: Python through componentize-py
//! (`sdk/python/healthplug_build.py`), JavaScript through componentize-js
//! (`sdk/js/build.mjs`). The toolchains are installed by `.ci/run`: a
//! virtualenv in `target/py-build` (from `sdk/python/requirements-build.txt`)
//! and `sdk/js/node_modules` (`npm ci` from `sdk/js/package-lock.json`);
//! without one the tests say so and pass, unless `HEALTHPLUG_LANGS=required`
//! (as in CI). A build is reused while its output is newer than every
//! source it came from.

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
                            .filter(|e| !e.ends_with("__pycache__") && !e.ends_with("node_modules")),
                    );
                }
            } else if let Ok(m) = meta.modified() {
                newest = newest.max(Some(m));
            }
        }
    }
    newest
}

/// A language's build: the command that turns a plugin directory into an
/// installable one, and what its output depends on.
struct Toolchain {
    /// `python`, `js`: the directory under `target/lang`.
    lang: &'static str,
    /// The build command without its `<src> --out <dir>` arguments; `None`
    /// when the toolchain is not installed.
    command: Option<(PathBuf, PathBuf)>,
    /// What is missing, and where the docs say how to install it.
    missing: &'static str,
    /// The SDK the plugin is built with (a source of every build).
    sdk: PathBuf,
}

impl Toolchain {
    fn python() -> Toolchain {
        let venv = root().join("target/py-build/bin");
        Toolchain {
            lang: "python",
            command: venv
                .join("componentize-py")
                .exists()
                .then(|| (venv.join("python"), root().join("sdk/python/healthplug_build.py"))),
            missing: "no componentize-py in target/py-build (see docs/python.md; .ci/run installs it)",
            sdk: root().join("sdk/python"),
        }
    }

    fn js() -> Toolchain {
        let sdk = root().join("sdk/js");
        let installed = sdk
            .join("node_modules/@bytecodealliance/componentize-js/package.json")
            .exists();
        Toolchain {
            lang: "js",
            command: installed.then(|| (PathBuf::from("node"), sdk.join("build.mjs"))),
            missing: "no componentize-js in sdk/js/node_modules (see docs/javascript.md; .ci/run installs it with `npm ci`)",
            sdk,
        }
    }

    /// Builds the plugin in `src` into `target/lang/<lang>/<name>`; `None`
    /// when the toolchain is missing and not required.
    fn build(&self, src: &Path, name: &str) -> anyhow::Result<Option<PathBuf>> {
        static BUILT: Mutex<Option<HashMap<String, PathBuf>>> = Mutex::new(None);
        let Some((program, script)) = &self.command else {
            anyhow::ensure!(
                std::env::var(LANGS_ENV).as_deref() != Ok("required"),
                "{} and {LANGS_ENV}=required",
                self.missing
            );
            eprintln!("skipped: {}", self.missing);
            return Ok(None);
        };
        let mut built = BUILT.lock().map_err(|_| anyhow::anyhow!("a plugin build panicked"))?;
        let out = root().join("target/lang").join(self.lang).join(name);
        let key = format!("{}/{name}", self.lang);
        if let Some(dir) = built.get_or_insert_with(HashMap::new).get(&key) {
            return Ok(Some(dir.clone()));
        }
        let sources = [src.to_path_buf(), self.sdk.clone(), root().join("wit")];
        let fresh = match (newest(std::slice::from_ref(&out)), newest(&sources)) {
            (Some(o), Some(s)) => o > s,
            _ => false,
        };
        if !fresh {
            let status = Command::new(program)
                .arg(script)
                .arg(src)
                .arg("--out")
                .arg(&out)
                .status()
                .map_err(|e| anyhow::anyhow!("running {}: {e}", program.display()))?;
            anyhow::ensure!(
                status.success(),
                "building the {} plugin {} failed",
                self.lang,
                src.display()
            );
        }
        built.get_or_insert_with(HashMap::new).insert(key, out.clone());
        Ok(Some(out))
    }
}

/// Builds the Python plugin in `src` (a directory with `app.py` and
/// `healthplug.toml`) into `target/lang/python/<name>`, the installable
/// directory; `None` when the toolchain is missing and not required.
pub fn python_plugin(src: &Path, name: &str) -> anyhow::Result<Option<PathBuf>> {
    Toolchain::python().build(src, name)
}

/// Builds the JavaScript plugin in `src` (a directory with `app.js` and
/// `healthplug.toml`) into `target/lang/js/<name>`, the installable
/// directory; `None` when the toolchain is missing and not required.
pub fn js_plugin(src: &Path, name: &str) -> anyhow::Result<Option<PathBuf>> {
    Toolchain::js().build(src, name)
}
