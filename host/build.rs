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
    let root = manifest_dir.parent().ok_or("host/ has no parent")?;
    wasm_workspace::build_and_export(&wasm_workspace::Workspace {
        root,
        dir: root.join("plugins"),
        build_sources: manifest_dir.join("build"),
        name: "plugins",
        env: "PLUGINS",
        depth: 1,
    })
}
