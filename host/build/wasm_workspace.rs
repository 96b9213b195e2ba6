//! Builds a cargo workspace of healthplug plugins for `wasm32-wasip2` from a
//! build script. Shared by `host/build.rs` (the example plugins and
//! connectors) and `tests/build.rs` (the test fixtures) through `#[path]`.
//!
//! The nested cargo runs with a clean environment (no wrapper, no outer
//! target, flags or sanitizers), into its own target directory, so the host
//! build and the plugin build never share locks or flags. It always runs on
//! the toolchain pinned in `rust-toolchain.toml`, whatever toolchain runs the
//! outer build: `cargo +nightly fuzz` builds the host with nightly, which has
//! no `wasm32-wasip2` here, while the plugins keep building with the pinned
//! stable one. The `wasm32-wasip2` target is installed with rustup when that
//! toolchain lacks it: rustup does not install a toolchain file's targets
//! during `cargo build`.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The target plugins are built for.
pub const WASM_TARGET: &str = "wasm32-wasip2";

type BuildResult<T> = Result<T, String>;

/// The cargo target directory of the outer build (the folder holding
/// `CACHEDIR.TAG`), found from `OUT_DIR`.
pub fn outer_target_dir() -> BuildResult<PathBuf> {
    let out_dir = PathBuf::from(env::var("OUT_DIR").map_err(|e| format!("OUT_DIR: {e}"))?);
    out_dir
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").exists())
        .map(Path::to_path_buf)
        .ok_or_else(|| format!("no cargo target directory above {}", out_dir.display()))
}

/// The toolchain channel pinned by the `rust-toolchain.toml` at or above
/// `dir`, if there is one.
pub fn pinned_toolchain(dir: &Path) -> Option<String> {
    let file = dir
        .ancestors()
        .map(|d| d.join("rust-toolchain.toml"))
        .find(|f| f.is_file())?;
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == "channel").then(|| value.trim().trim_matches('"').to_string())
    })
}

/// Whether the `rustup` proxy can be run.
fn have_rustup() -> bool {
    Command::new("rustup")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A command running `tool` (`cargo` or `rustc`) of the pinned toolchain:
/// through `rustup run <channel>` when rustup and a pin exist, else the
/// outer build's own (`fallback`).
fn toolchain_command(tool: &str, pin: Option<&str>, fallback: &str) -> Command {
    match pin {
        Some(channel) if have_rustup() => {
            let mut cmd = Command::new("rustup");
            cmd.args(["run", channel, tool]).env_remove("RUSTUP_TOOLCHAIN");
            cmd
        }
        _ => Command::new(fallback),
    }
}

/// Installs the wasm target into the pinned toolchain (the toolchain
/// building `workspace`) if it is missing.
pub fn ensure_wasm_target(workspace: &Path) -> BuildResult<()> {
    let pin = pinned_toolchain(workspace);
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let output = toolchain_command("rustc", pin.as_deref(), &rustc)
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("running rustc --print sysroot: {e}"))?;
    let sysroot = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let lib = Path::new(&sysroot).join("lib/rustlib").join(WASM_TARGET).join("lib");
    if lib.is_dir() {
        return Ok(());
    }
    println!(
        "cargo:warning=installing the {WASM_TARGET} target with rustup (not found in {})",
        lib.display()
    );
    let mut add = Command::new("rustup");
    add.args(["target", "add", WASM_TARGET]).env_remove("RUSTUP_TOOLCHAIN");
    if let Some(channel) = &pin {
        add.args(["--toolchain", channel]);
    }
    let status = add
        .status()
        .map_err(|e| format!("the {WASM_TARGET} target is missing and rustup could not run ({e}); install it with `rustup target add {WASM_TARGET}`"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`rustup target add {WASM_TARGET}` failed ({status})"))
    }
}

/// Re-run the build script when anything under these paths changes.
pub fn rerun_if_changed(paths: &[PathBuf]) {
    for path in paths {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// Builds every package of the workspace at `workspace` in release mode into
/// `target_dir`, returning the directory holding the `.wasm` files.
pub fn build_workspace(workspace: &Path, target_dir: &Path) -> BuildResult<PathBuf> {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut cmd = toolchain_command("cargo", pinned_toolchain(workspace).as_deref(), &cargo);
    cmd.current_dir(workspace)
        .args(["build", "--release", "--workspace", "--target", WASM_TARGET])
        .arg("--target-dir")
        .arg(target_dir);
    for (key, _) in env::vars_os() {
        let key = key.to_string_lossy().to_string();
        let keep = matches!(key.as_str(), "CARGO_HOME" | "CARGO_MAKEFLAGS")
            || key.starts_with("CARGO_NET_")
            || key.starts_with("CARGO_HTTP_")
            || key.starts_with("CARGO_REGISTRIES_")
            || key.starts_with("CARGO_REGISTRY_")
            || key.starts_with("CARGO_TERM_");
        let drop = (key.starts_with("CARGO") && !keep)
            || matches!(
                key.as_str(),
                "RUSTC"
                    | "RUSTUP_TOOLCHAIN"
                    | "RUSTC_BOOTSTRAP"
                    | "RUSTC_WRAPPER"
                    | "RUSTC_WORKSPACE_WRAPPER"
                    | "RUSTFLAGS"
                    | "RUSTDOCFLAGS"
                    | "CLIPPY_ARGS"
                    | "CLIPPY_CONF_DIR"
                    | "__CARGO_FIX_PLZ"
            );
        if drop {
            cmd.env_remove(&key);
        }
    }
    let status = cmd
        .status()
        .map_err(|e| format!("running cargo in {}: {e}", workspace.display()))?;
    if !status.success() {
        return Err(format!(
            "building the plugins in {} for {WASM_TARGET} failed ({status}); the compiler output is above",
            workspace.display()
        ));
    }
    Ok(target_dir.join(WASM_TARGET).join("release"))
}

/// What a build script builds: a wasm workspace under the repository
/// root, the build-script sources it also depends on, the name of its
/// packages folder, its environment prefix and its manifests' depth.
pub struct Workspace<'a> {
    /// The repository root.
    pub root: &'a Path,
    /// The workspace to build (`plugins/`, `tests/fixtures/`).
    pub dir: PathBuf,
    /// Where these shared build sources live (`host/build`).
    pub build_sources: PathBuf,
    /// `target/wasm/packages/<name>`.
    pub name: &'a str,
    /// `HEALTHPLUG_<ENV>_DIR`, `_WASM_DIR`, `_PACKAGES_DIR`.
    pub env: &'a str,
    /// How deep the manifests sit below `dir`.
    pub depth: usize,
}

/// Builds `w` for wasm, assembles its installable packages, and tells the
/// crate where the workspace, the `.wasm` files and the packages are.
pub fn build_and_export(w: &Workspace<'_>) -> BuildResult<()> {
    rerun_if_changed(&[
        w.root.join("wit"),
        w.root.join("sdk"),
        w.dir.clone(),
        w.build_sources.clone(),
    ]);
    ensure_wasm_target(&w.dir)?;
    let target_dir = outer_target_dir()?.join("wasm");
    let wasm_dir = build_workspace(&w.dir, &target_dir)?;
    let packages = target_dir.join("packages").join(w.name);
    crate::packages::assemble(&w.dir, &wasm_dir, &packages, w.depth)?;
    let env = w.env;
    println!("cargo:rustc-env=HEALTHPLUG_{env}_DIR={}", w.dir.display());
    println!("cargo:rustc-env=HEALTHPLUG_{env}_WASM_DIR={}", wasm_dir.display());
    println!("cargo:rustc-env=HEALTHPLUG_{env}_PACKAGES_DIR={}", packages.display());
    Ok(())
}
