//! Package files on disk: `healthplug pack` writes one from a plugin
//! directory, `review` and `plugin add` read one as they read a directory
//! (`source.rs` hands a `.hpkg` path here), and `review sign` puts the
//! approval inside it. A package is never half-written: each write goes to
//! a temporary file in the destination's directory, is synced, and is
//! renamed over the destination. The format and its checks are in
//! `package.rs`; a package is attacker-controlled input, read only through
//! [`Package::read_from`].

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::error::VettingError;
use super::package::{COMPONENT_MEMBER, PACKAGE_EXTENSION, Package};
use super::source::{PluginSource, check_component_name, read_plugin, sha256_hex};
use super::{APPROVAL_FILE, Approval};
use crate::manifest::{MANIFEST_FILE, Manifest};

/// What `pack` wrote.
#[derive(Clone, Debug, Serialize)]
pub struct Packed {
    /// The package file.
    pub path: PathBuf,
    /// Plugin id.
    pub plugin: String,
    /// Plugin version.
    pub version: String,
    /// sha256 of the manifest text.
    pub manifest_sha256: String,
    /// sha256 of the component.
    pub component_sha256: String,
    /// Whether the directory's approval went in.
    pub approval: bool,
    /// The package's size, bytes.
    pub bytes: u64,
}

/// Whether `path` names a package (a `.hpkg` file) rather than a plugin
/// directory or manifest.
pub fn is_package(path: &Path) -> bool {
    !path.is_dir()
        && path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case(PACKAGE_EXTENSION))
}

fn request(message: String) -> VettingError {
    VettingError::InvalidRequest(message)
}

/// Reads and verifies the package file at `path` (a regular file).
pub fn load(path: &Path) -> Result<Package, VettingError> {
    let cannot = |e: std::io::Error| request(format!("cannot read the package {}: {e}", path.display()));
    let file = File::open(path).map_err(cannot)?;
    if !file.metadata().map_err(cannot)?.is_file() {
        return Err(request(format!("{} is not a regular file", path.display())));
    }
    Package::read_from(BufReader::new(file)).map_err(|error| VettingError::Package {
        path: path.display().to_string(),
        error,
    })
}

/// Reads the package at `path` as `read_plugin` reads a directory: the
/// members are named `<package>/<member>` in messages.
pub fn read_package(path: &Path) -> Result<PluginSource, VettingError> {
    let package = load(path)?;
    let manifest_path = path.join(MANIFEST_FILE);
    let manifest = Manifest::parse(&package.manifest, &manifest_path)?;
    let component_path = path.join(COMPONENT_MEMBER);
    check_component_name(&manifest.component, path).map_err(|reason| VettingError::InvalidComponent {
        path: component_path.display().to_string(),
        reason,
    })?;
    Ok(PluginSource {
        manifest_path,
        manifest_source: package.manifest,
        manifest,
        component_path,
        component: package.component,
        approval: package.approval,
        approval_path: path.join(APPROVAL_FILE),
    })
}

/// Packs the plugin directory (or manifest) `dir` into
/// `<out_dir>/<id>-<version>.hpkg`, with its approval if it has one (which
/// must cover exactly this manifest and component).
pub fn pack(dir: &Path, out_dir: &Path) -> Result<Packed, VettingError> {
    if is_package(dir) {
        return Err(request(format!(
            "{} is already a package; pack a plugin directory",
            dir.display()
        )));
    }
    let source = read_plugin(dir)?;
    let m = &source.manifest;
    let (manifest_sha256, component_sha256) = (
        sha256_hex(source.manifest_source.as_bytes()),
        sha256_hex(&source.component),
    );
    if let Some(text) = &source.approval {
        let covers = Approval::parse(text).map_err(|e| e.to_string()).and_then(|a| {
            a.verify(
                std::slice::from_ref(&a.reviewer),
                &m.id,
                &m.version,
                &component_sha256,
                &manifest_sha256,
            )
            .map_err(|e| e.to_string())
        });
        if let Err(e) = covers {
            return Err(request(format!(
                "{} does not approve this plugin: {e}; sign it again with `healthplug review sign`, or delete it to pack without an approval",
                source.approval_path.display()
            )));
        }
    }
    // The manifest's id is kebab-case and its version semantic: a plain
    // file name.
    let path = out_dir.join(format!("{}-{}.{PACKAGE_EXTENSION}", m.id, m.version));
    std::fs::create_dir_all(out_dir).map_err(|e| request(format!("cannot create {}: {e}", out_dir.display())))?;
    let packed = Packed {
        path: path.clone(),
        plugin: m.id.clone(),
        version: m.version.clone(),
        manifest_sha256,
        component_sha256,
        approval: source.approval.is_some(),
        bytes: 0,
    };
    let package = Package {
        manifest: source.manifest_source,
        component: source.component,
        approval: source.approval,
    };
    let bytes = write_atomically(&path, &package)?;
    Ok(Packed { bytes, ..packed })
}

/// Puts the approval `text` into the package at `path` (replacing any),
/// rewriting it atomically. Refused if the approval does not cover the
/// package's manifest and component as they are now. Returns `path`.
pub fn write_approval(path: &Path, text: &str) -> Result<PathBuf, VettingError> {
    let mut package = load(path)?;
    let approval = Approval::parse(text).map_err(|e| request(e.to_string()))?;
    if approval.manifest_sha256 != sha256_hex(package.manifest.as_bytes())
        || approval.component_sha256 != sha256_hex(&package.component)
    {
        return Err(request(format!(
            "the package {} changed while it was being signed; review it again",
            path.display()
        )));
    }
    package.approval = Some(text.to_string());
    write_atomically(path, &package)?;
    Ok(path.to_path_buf())
}

/// Writes `package` to `dest` through a synced temporary file renamed over
/// it: `dest` holds the old package or the new one, never part of one.
/// Returns the size written.
fn write_atomically(dest: &Path, package: &Package) -> Result<u64, VettingError> {
    let failed = |e: std::io::Error| request(format!("cannot write {}: {e}", dest.display()));
    let dir = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".hpkg-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(failed)?;
    let mut out = package.write_to(BufWriter::new(tmp.as_file_mut())).map_err(failed)?;
    out.flush().map_err(failed)?;
    drop(out);
    tmp.as_file().sync_all().map_err(failed)?;
    let bytes = tmp.as_file().metadata().map_err(failed)?.len();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(failed)?;
    }
    tmp.persist(dest).map_err(|e| failed(e.error))?;
    // The rename itself, durable (best effort: not every platform syncs a
    // directory).
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vetting::ReviewerKey;

    fn package() -> Package {
        Package {
            manifest: "[plugin]\nid = \"p\"\n".into(),
            component: b"\0asm component bytes".to_vec(),
            approval: None,
        }
    }

    #[test]
    fn write_approval_rewrites_the_package_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p-1.0.0.hpkg");
        let p = package();
        write_atomically(&file, &p).unwrap();
        let before = std::fs::read(&file).unwrap();
        let key = ReviewerKey::generate().unwrap();
        let m = sha256_hex(p.manifest.as_bytes());
        let c = sha256_hex(&p.component);

        // An approval of other bytes (the package changed after its
        // review) is refused and the package left as it was.
        let other = serde_json::to_string(&key.approve("p", "1.0.0", &c, &"0".repeat(64))).unwrap();
        let e = write_approval(&file, &other).unwrap_err();
        assert!(e.to_string().contains("changed while it was being signed"), "{e}");
        assert_eq!(std::fs::read(&file).unwrap(), before);

        // The right one goes in; nothing else is left in the directory.
        let text = serde_json::to_string(&key.approve("p", "1.0.0", &c, &m)).unwrap();
        assert_eq!(write_approval(&file, &text).unwrap(), file);
        assert_eq!(load(&file).unwrap().approval.as_deref(), Some(text.as_str()));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(is_package(&file) && !is_package(dir.path()));
    }

    #[test]
    fn what_is_not_a_regular_package_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let e = load(&dir.path().join("absent.hpkg")).unwrap_err();
        assert!(e.to_string().contains("cannot read the package"), "{e}");
        let e = load(dir.path()).unwrap_err();
        assert!(e.to_string().contains("is not a regular file"), "{e}");
        let junk = dir.path().join("junk.hpkg");
        std::fs::write(&junk, b"junk").unwrap();
        let e = read_package(&junk).unwrap_err();
        assert!(
            matches!(
                &e,
                VettingError::Package {
                    error: crate::vetting::PackageError::NotAPackage(_),
                    ..
                }
            ),
            "{e}"
        );
        assert!(
            e.to_string()
                .starts_with(&format!("{}: not a usable healthplug package", junk.display()))
        );
    }
}
