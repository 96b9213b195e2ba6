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
    let root = manifest_dir.parent().ok_or("tests/ has no parent")?;
    wasm_workspace::build_and_export(&wasm_workspace::Workspace {
        root,
        dir: manifest_dir.join("fixtures"),
        build_sources: root.join("host/build"),
        name: "fixtures",
        env: "FIXTURES",
        depth: 2,
    })
}
