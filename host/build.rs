//! Builds the example plugins and connectors in `plugins/` for
//! `wasm32-wasip2`, so `healthplug demo` can embed them and the tests can
//! install them, and assembles each into an installable directory (its
//! manifest and its component) under `target/wasm/packages/plugins/`.
//! Never commits or reads prebuilt `.wasm` files.

#[path = "build/packages.rs"]
mod packages;
#[path = "build/wasm_workspace.rs"]
mod wasm_workspace;

use std::path::PathBuf;

fn main() {
    if let Err(message) = run() {
        println!("cargo:warning={message}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let root = manifest_dir.parent().ok_or("host/ has no parent")?.to_path_buf();
    let plugins = root.join("plugins");
    wasm_workspace::rerun_if_changed(&[
        root.join("wit"),
        root.join("sdk"),
        plugins.clone(),
        manifest_dir.join("build"),
    ]);
    wasm_workspace::ensure_wasm_target(&plugins)?;
    let target_dir = wasm_workspace::outer_target_dir()?.join("wasm");
    let wasm_dir = wasm_workspace::build_workspace(&plugins, &target_dir)?;
    let packages = target_dir.join("packages").join("plugins");
    packages::assemble(&plugins, &wasm_dir, &packages, 1)?;
    println!("cargo:rustc-env=HEALTHPLUG_PLUGINS_DIR={}", plugins.display());
    println!("cargo:rustc-env=HEALTHPLUG_PLUGINS_WASM_DIR={}", wasm_dir.display());
    println!("cargo:rustc-env=HEALTHPLUG_PLUGINS_PACKAGES_DIR={}", packages.display());
    Ok(())
}
