//! Assembles installable plugin directories from a built workspace: for
//! every `healthplug.toml` under the source tree, a directory of the same
//! relative path under `out` holding a copy of the manifest and the built
//! component it names (`component = "<crate>.wasm"`, a file name: a plugin
//! directory holds its component, nothing outside it is read at install).
//! Shared by `host/build.rs` and `tests/build.rs` through `#[path]`.

use std::path::Path;

type BuildResult<T> = Result<T, String>;

/// The `component = "..."` value of a manifest text (a build-time scan of
/// one line; the host's parser validates manifests properly).
fn component_name(manifest: &str) -> Option<String> {
    manifest.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == "component").then(|| {
            let value = value.split('#').next().unwrap_or_default();
            value.trim().trim_matches('"').to_string()
        })
    })
}

/// Writes `bytes` to `path` unless it already holds them.
fn write_if_changed(path: &Path, bytes: &[u8]) -> BuildResult<()> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    std::fs::write(path, bytes).map_err(|e| format!("writing {}: {e}", path.display()))
}

/// Assembles every plugin under `src` (searching `depth` levels) into `out`,
/// taking components from `wasm_dir`.
pub fn assemble(src: &Path, wasm_dir: &Path, out: &Path, depth: usize) -> BuildResult<()> {
    let manifest = src.join("healthplug.toml");
    if manifest.is_file() {
        let text = std::fs::read_to_string(&manifest).map_err(|e| format!("reading {}: {e}", manifest.display()))?;
        let name = component_name(&text).ok_or_else(|| format!("{}: no `component`", manifest.display()))?;
        if name.contains('/') || name.contains('\\') || name.starts_with('.') {
            return Err(format!(
                "{}: `component = \"{name}\"` must be a file name in the plugin's directory",
                manifest.display()
            ));
        }
        let wasm = std::fs::read(wasm_dir.join(&name)).map_err(|e| format!("reading the built {name}: {e}"))?;
        std::fs::create_dir_all(out).map_err(|e| format!("creating {}: {e}", out.display()))?;
        write_if_changed(&out.join("healthplug.toml"), text.as_bytes())?;
        write_if_changed(&out.join(&name), &wasm)?;
        return Ok(());
    }
    if depth == 0 {
        return Ok(());
    }
    let entries = std::fs::read_dir(src).map_err(|e| format!("listing {}: {e}", src.display()))?;
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let skip = matches!(file_name.to_str(), Some("target" | "src" | ".git") | None);
        if !skip && entry.path().is_dir() {
            assemble(&entry.path(), wasm_dir, &out.join(&file_name), depth - 1)?;
        }
    }
    Ok(())
}
