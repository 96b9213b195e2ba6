//! `healthplug pack <dir> [--out DIR]`: a plugin directory as one
//! `<id>-<version>.hpkg` file (manifest, component, digest, and the approval
//! if the directory has one), the file a partner submits. `review`,
//! `review sign` and `plugin add` take it wherever they take a directory.

use std::path::Path;

use super::output::print_json;
use super::{CliResult, usage};
use crate::vetting::pack;

pub(super) fn run(dir: &Path, out: Option<&Path>, json: bool) -> CliResult {
    if !dir.exists() {
        return Err(usage(
            format!("{} does not exist", dir.display()),
            "give a plugin directory (with healthplug.toml) or its manifest",
        ));
    }
    let packed = pack(dir, out.unwrap_or(Path::new(".")))?;
    if json {
        return Ok(print_json(&packed)?);
    }
    println!(
        "packed {} {} into {} ({} KB; manifest sha256 {}, component sha256 {}; {})",
        packed.plugin,
        packed.version,
        packed.path.display(),
        packed.bytes / 1024,
        &packed.manifest_sha256[..16],
        &packed.component_sha256[..16],
        if packed.approval {
            "with its approval"
        } else {
            "not yet approved"
        }
    );
    let file = packed.path.display();
    println!(
        "next: submit it; a reviewer runs `healthplug review {file}` and `healthplug review sign --key <key> {file}`,"
    );
    println!("      and the platform installs it with `healthplug plugin add {file}`");
    Ok(())
}
