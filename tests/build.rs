//! Builds the test fixtures in `tests/fixtures/` (plugins written for the
//! tests) for `wasm32-wasip2` and assembles each into an installable
//! directory (manifest and component) under `target/wasm/packages/fixtures/`.
//! Never reads prebuilt `.wasm` files.

#[path = "../host/build/packages.rs"]
mod packages;
#[path = "../host/build/wasm_workspace.rs"]
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
    let root = manifest_dir.parent().ok_or("tests/ has no parent")?.to_path_buf();
    let fixtures = manifest_dir.join("fixtures");
    wasm_workspace::rerun_if_changed(&[
        root.join("wit"),
        root.join("sdk"),
        fixtures.clone(),
        root.join("host/build"),
    ]);
    wasm_workspace::ensure_wasm_target(&fixtures)?;
    let target_dir = wasm_workspace::outer_target_dir()?.join("wasm");
    let wasm_dir = wasm_workspace::build_workspace(&fixtures, &target_dir)?;
    let packages = target_dir.join("packages").join("fixtures");
    packages::assemble(&fixtures, &wasm_dir, &packages, 2)?;
    println!("cargo:rustc-env=HEALTHPLUG_FIXTURES_DIR={}", fixtures.display());
    println!("cargo:rustc-env=HEALTHPLUG_FIXTURES_WASM_DIR={}", wasm_dir.display());
    println!(
        "cargo:rustc-env=HEALTHPLUG_FIXTURES_PACKAGES_DIR={}",
        packages.display()
    );
    Ok(())
}
