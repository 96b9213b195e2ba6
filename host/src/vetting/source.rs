//! Reading a plugin directory: its manifest, the component the manifest
//! names and the approval beside it, all through one `cap_std` handle on
//! that directory, so no manifest path (`../x.wasm`, `/etc/passwd`), `..`
//! or symbolic link reaches a file outside it. Shared by `review` and
//! `plugin add`, which take a `.hpkg` package wherever they take a
//! directory (`package_file.rs` reads it).

use std::io::{ErrorKind, Read};
use std::path::{Component as PathPart, Path, PathBuf};

use cap_std::ambient_authority;
use cap_std::fs::Dir;

use super::APPROVAL_FILE;
use super::error::VettingError;
use super::package_file::{self, is_package};
use crate::manifest::{MANIFEST_FILE, Manifest};

/// The largest component accepted, bytes.
pub const MAX_COMPONENT_BYTES: usize = 64 * 1024 * 1024;

/// A plugin directory as read.
#[derive(Debug)]
pub struct PluginSource {
    /// The manifest's path (for messages).
    pub manifest_path: PathBuf,
    /// The manifest text.
    pub manifest_source: String,
    /// The manifest.
    pub manifest: Manifest,
    /// The component's path (for messages).
    pub component_path: PathBuf,
    /// The component bytes.
    pub component: Vec<u8>,
    /// The text of `healthplug.approval` beside the manifest, if there is one.
    pub approval: Option<String>,
    /// Where the approval would be (for messages).
    pub approval_path: PathBuf,
}

fn invalid(path: &Path, reason: String) -> VettingError {
    VettingError::InvalidComponent {
        path: path.display().to_string(),
        reason,
    }
}

/// Refuses a manifest `component` that is not a plain relative path below
/// the plugin directory (absolute, `..`, a drive prefix, empty).
pub fn check_component_name(name: &str, dir: &Path) -> Result<(), String> {
    let path = Path::new(name);
    let escapes = path
        .components()
        .any(|c| matches!(c, PathPart::ParentDir | PathPart::RootDir | PathPart::Prefix(_)));
    if name.is_empty() || escapes || path.is_absolute() {
        return Err(format!(
            "the manifest's `component = \"{name}\"` leads outside the plugin directory {}; it must name a file inside it (e.g. `component = \"my_plugin.wasm\"`)",
            dir.display()
        ));
    }
    Ok(())
}

/// Reads `name` in `dir` (at most `MAX_COMPONENT_BYTES`), refusing what is
/// not a regular file inside `dir`.
fn read_component(dir: &Dir, dir_path: &Path, name: &str) -> Result<Vec<u8>, String> {
    let outside = |e: std::io::Error| {
        let symlink = dir.symlink_metadata(name).is_ok_and(|m| m.is_symlink());
        if symlink {
            format!(
                "cannot read the component: `{name}` is a symbolic link leading outside the plugin directory {} ({e})",
                dir_path.display()
            )
        } else {
            format!(
                "cannot read the component `{name}` in the plugin directory {}: {e}",
                dir_path.display()
            )
        }
    };
    let file = dir.open(name).map_err(outside)?;
    let meta = file.metadata().map_err(outside)?;
    if !meta.is_file() {
        return Err(format!("`{name}` is not a file"));
    }
    let mut bytes = Vec::new();
    file.take(MAX_COMPONENT_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(outside)?;
    if bytes.len() > MAX_COMPONENT_BYTES {
        return Err(format!("larger than {} MiB", MAX_COMPONENT_BYTES >> 20));
    }
    Ok(bytes)
}

/// The plugin directory of `path` (a plugin directory, or a manifest file
/// in one) and the manifest's file name in it.
fn split(path: &Path) -> (PathBuf, String) {
    if path.is_dir() {
        return (path.to_path_buf(), MANIFEST_FILE.to_string());
    }
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (parent.to_path_buf(), name)
}

fn open_dir(dir_path: &Path) -> Result<Dir, VettingError> {
    Dir::open_ambient_dir(dir_path, ambient_authority()).map_err(|e| {
        VettingError::InvalidRequest(format!("cannot open the plugin directory {}: {e}", dir_path.display()))
    })
}

/// Reads and parses the manifest named `name` in `dir`.
fn manifest_in(dir: &Dir, dir_path: &Path, name: &str) -> Result<(String, Manifest, PathBuf), VettingError> {
    let manifest_path = dir_path.join(name);
    let source = dir.read_to_string(name).map_err(|e| {
        VettingError::InvalidRequest(format!("cannot read the manifest {}: {e}", manifest_path.display()))
    })?;
    let manifest = Manifest::parse(&source, &manifest_path)?;
    Ok((source, manifest, manifest_path))
}

/// Reads only the manifest of the plugin at `path` (a plugin directory or
/// a manifest file in one).
pub fn read_manifest(path: &Path) -> Result<Manifest, VettingError> {
    if is_package(path) {
        return Ok(package_file::read_package(path)?.manifest);
    }
    let (dir_path, name) = split(path);
    Ok(manifest_in(&open_dir(&dir_path)?, &dir_path, &name)?.1)
}

/// Writes `text` as the approval beside the manifest of the plugin at
/// `path`, through the directory handle: an approval file that is a
/// symbolic link leading outside the plugin directory is refused, never
/// written through. A package gets it inside, rewritten atomically.
/// Returns the file written.
pub fn write_approval(path: &Path, text: &str) -> Result<PathBuf, VettingError> {
    if is_package(path) {
        return package_file::write_approval(path, text);
    }
    let (dir_path, _) = split(path);
    let file = dir_path.join(APPROVAL_FILE);
    open_dir(&dir_path)?.write(APPROVAL_FILE, text).map_err(|e| {
        VettingError::InvalidRequest(format!(
            "cannot write {}: {e} (it must be a file inside the plugin directory)",
            file.display()
        ))
    })?;
    Ok(file)
}

/// Reads the plugin at `path`: a plugin directory, a manifest file in one
/// (the directory is then the manifest's), or a `.hpkg` package.
pub fn read_plugin(path: &Path) -> Result<PluginSource, VettingError> {
    if is_package(path) {
        return package_file::read_package(path);
    }
    let (dir_path, manifest_name) = split(path);
    let dir = open_dir(&dir_path)?;
    let (manifest_source, manifest, manifest_path) = manifest_in(&dir, &dir_path, &manifest_name)?;
    let component_path = dir_path.join(&manifest.component);
    check_component_name(&manifest.component, &dir_path).map_err(|r| invalid(&component_path, r))?;
    let component = read_component(&dir, &dir_path, &manifest.component).map_err(|r| invalid(&component_path, r))?;
    let approval = match dir.read_to_string(APPROVAL_FILE) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        Err(e) => {
            return Err(VettingError::InvalidRequest(format!(
                "cannot read the approval {}: {e} (it must be a file inside the plugin directory)",
                dir_path.join(APPROVAL_FILE).display()
            )));
        }
    };
    Ok(PluginSource {
        manifest_path,
        manifest_source,
        manifest,
        component_path,
        component,
        approval,
        approval_path: dir_path.join(APPROVAL_FILE),
    })
}

/// The lowercase hex sha256 of `bytes` (component and manifest digests).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_names_outside_the_directory_are_refused() {
        let dir = Path::new("/plugins/p");
        for bad in ["../outside.wasm", "a/../../b.wasm", "/etc/passwd", "", "sub/../../x"] {
            let e = check_component_name(bad, dir).err().unwrap_or_default();
            assert!(
                e.contains("leads outside the plugin directory /plugins/p"),
                "{bad}: {e}"
            );
        }
        for good in ["p.wasm", "build/p.wasm", "./p.wasm"] {
            assert_eq!(check_component_name(good, dir), Ok(()), "{good}");
        }
    }
}
