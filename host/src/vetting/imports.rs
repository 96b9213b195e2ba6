//! The static capability check: what a component really imports and
//! exports, compared with what its manifest declares. Run at review, at
//! install and at every load. An import beyond the manifest (or outside the
//! healthplug and WASI set) is an error; a declared capability the
//! component never imports is a warning (over-asking).

use serde::Serialize;

use crate::manifest::{Manifest, World};

/// The outcome of the check.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportCheck {
    /// Every interface the component imports.
    pub imports: Vec<String>,
    /// Every name the component exports.
    pub exports: Vec<String>,
    /// Imports the manifest does not allow: the component is refused.
    pub errors: Vec<String>,
    /// Declared but unused capabilities, and other things to look at.
    pub warnings: Vec<String>,
}

impl ImportCheck {
    /// True when nothing refuses the component.
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// The interface name without its version: `wasi:http/types@0.2.6` →
/// `wasi:http/types`.
fn unversioned(name: &str) -> &str {
    name.split('@').next().unwrap_or(name)
}

/// WASI interfaces every plugin may import (files, env, clocks and random
/// are sandboxed by the host; sockets are linked but always denied).
const WASI: [&str; 8] = [
    "wasi:io/",
    "wasi:clocks/",
    "wasi:random/",
    "wasi:cli/",
    "wasi:filesystem/types",
    "wasi:filesystem/preopens",
    "wasi:sockets/",
    "wasi:http/",
];

/// Checks `imports` and `exports` against `manifest`.
pub fn check(manifest: &Manifest, imports: Vec<String>, exports: Vec<String>) -> ImportCheck {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let has = |prefix: &str| imports.iter().any(|i| unversioned(i).starts_with(prefix));
    for import in &imports {
        let name = unversioned(import);
        let allowed = match name {
            "healthplug:plugin/types" | "healthplug:plugin/health-data" | "healthplug:plugin/log" => Ok(()),
            "healthplug:plugin/source" if manifest.world == World::Connector => Ok(()),
            "healthplug:plugin/source" => Err("only connectors may import the input `source`".to_string()),
            "healthplug:plugin/storage" if manifest.storage.is_some() => Ok(()),
            "healthplug:plugin/storage" => {
                Err("it imports `healthplug:plugin/storage` but its manifest declares no [storage] (add [storage] with a purpose)".to_string())
            }
            n if n.starts_with("wasi:http/") && manifest.network.is_some() => Ok(()),
            n if n.starts_with("wasi:http/") => Err(format!(
                "it imports `{import}` but its manifest declares no [network] (add [network] with allow and purpose)"
            )),
            n if WASI.iter().any(|w| n.starts_with(w)) => Ok(()),
            _ => Err(format!("it imports `{import}`, which is outside the healthplug and WASI interfaces a plugin may use")),
        };
        if let Err(e) = allowed {
            errors.push(e);
        }
    }
    if has("wasi:sockets/") {
        warnings.push(
            "imports wasi:sockets: sockets and name lookup are always denied; use [network] (wasi:http) instead".into(),
        );
    }
    if manifest.network.is_some() && !has("wasi:http/outgoing-handler") {
        warnings.push("declares [network] but never imports wasi:http/outgoing-handler: over-asking".into());
    }
    if manifest.storage.is_some() && !has("healthplug:plugin/storage") {
        warnings.push("declares [storage] but never imports healthplug:plugin/storage: over-asking".into());
    }
    if (!manifest.reads.is_empty() || !manifest.writes.is_empty()) && !has("healthplug:plugin/health-data") {
        warnings.push("requests health data but never imports healthplug:plugin/health-data: over-asking".into());
    }
    let expected: &[&str] = match manifest.world {
        World::Plugin => &["tools", "invoke"],
        World::Connector => &["ingest"],
    };
    for e in expected {
        if !exports.iter().any(|x| x == e) {
            errors.push(format!(
                "it does not export `{e}`, which the `{}` world requires",
                manifest.world.id()
            ));
        }
    }
    ImportCheck {
        imports,
        exports,
        errors,
        warnings,
    }
}

/// The static capability check of a compiled component against its
/// manifest: what it imports and exports, read from its type.
pub fn inspect(
    engine: &wasmtime::Engine,
    manifest: &Manifest,
    component: &wasmtime::component::Component,
) -> ImportCheck {
    let ty = component.component_type();
    let imports = ty.imports(engine).map(|(name, _)| name.to_string()).collect();
    let exports = ty.exports(engine).map(|(name, _)| name.to_string()).collect();
    check(manifest, imports, exports)
}
