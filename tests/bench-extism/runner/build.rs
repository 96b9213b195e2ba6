//! Builds the Extism plugin in `../plugin` (its own cargo workspace) for
//! `wasm32-unknown-unknown` and hands its path to the runner as
//! `EXTISM_SUM_WASM`.
//!
//! The nested cargo runs with the outer build's flags, target and wrappers
//! cleared, into `<outer target dir>/extism-plugin`, so the two builds never
//! share locks or flags. The wasm target is installed with rustup when the
//! toolchain lacks it.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The target the plugin is built for.
const WASM_TARGET: &str = "wasm32-unknown-unknown";

type BuildResult<T> = Result<T, String>;

fn main() {
    if let Err(message) = run() {
        println!("cargo:warning={message}");
        std::process::exit(1);
    }
}

fn run() -> BuildResult<()> {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").map_err(|e| format!("CARGO_MANIFEST_DIR: {e}"))?);
    let bench_dir = manifest_dir.parent().ok_or("the runner has no parent folder")?;
    let plugin_dir = bench_dir.join("plugin");
    for path in [
        plugin_dir.join("src"),
        plugin_dir.join("Cargo.toml"),
        plugin_dir.join("Cargo.lock"),
        plugin_dir.join(".cargo/config.toml"),
    ] {
        println!("cargo:rerun-if-changed={}", path.display());
    }

    ensure_wasm_target()?;
    let target_dir = outer_target_dir()?.join("extism-plugin");
    build_plugin(&plugin_dir, &target_dir)?;
    let wasm = target_dir.join(WASM_TARGET).join("release").join("extism_sum.wasm");
    if !wasm.is_file() {
        return Err(format!("the plugin build succeeded but {} is missing", wasm.display()));
    }
    println!("cargo:rustc-env=EXTISM_SUM_WASM={}", wasm.display());
    Ok(())
}

/// The cargo target directory of the outer build (the folder holding
/// `CACHEDIR.TAG`), found from `OUT_DIR`.
fn outer_target_dir() -> BuildResult<PathBuf> {
    let out_dir = PathBuf::from(env::var("OUT_DIR").map_err(|e| format!("OUT_DIR: {e}"))?);
    out_dir
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").exists())
        .map(Path::to_path_buf)
        .ok_or_else(|| format!("no cargo target directory above {}", out_dir.display()))
}

/// Installs the wasm target into the active toolchain if it is missing.
fn ensure_wasm_target() -> BuildResult<()> {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let output = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("running {rustc} --print sysroot: {e}"))?;
    if !output.status.success() {
        return Err(format!("`{rustc} --print sysroot` failed ({})", output.status));
    }
    let sysroot = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if Path::new(&sysroot).join("lib/rustlib").join(WASM_TARGET).is_dir() {
        return Ok(());
    }
    println!("cargo:warning=installing the {WASM_TARGET} target with rustup");
    let status = Command::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .status()
        .map_err(|e| {
            format!(
                "the {WASM_TARGET} target is missing and rustup could not run ({e}); \
                 install it with `rustup target add {WASM_TARGET}`"
            )
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`rustup target add {WASM_TARGET}` failed ({status})"))
    }
}

/// Whether the nested cargo must not see the environment variable `key`:
/// the outer build's flags, target, wrappers, jobserver and package facts.
fn leaks_from_outer_cargo(key: &str) -> bool {
    let keep = matches!(key, "CARGO_HOME")
        || key.starts_with("CARGO_NET_")
        || key.starts_with("CARGO_HTTP_")
        || key.starts_with("CARGO_REGISTRIES_")
        || key.starts_with("CARGO_REGISTRY_")
        || key.starts_with("CARGO_TERM_");
    (key.starts_with("CARGO") && !keep)
        || matches!(
            key,
            "RUSTC"
                | "RUSTC_WRAPPER"
                | "RUSTC_WORKSPACE_WRAPPER"
                | "RUSTC_LINKER"
                | "RUSTFLAGS"
                | "RUSTDOCFLAGS"
                | "CLIPPY_ARGS"
                | "CLIPPY_CONF_DIR"
                | "__CARGO_FIX_PLZ"
        )
}

/// Builds the plugin workspace at `plugin_dir` in release mode into `target_dir`.
fn build_plugin(plugin_dir: &Path, target_dir: &Path) -> BuildResult<()> {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(plugin_dir)
        .args(["build", "--release", "--target", WASM_TARGET])
        .arg("--target-dir")
        .arg(target_dir);
    for (key, _) in env::vars_os() {
        let key = key.to_string_lossy().to_string();
        if leaks_from_outer_cargo(&key) {
            cmd.env_remove(&key);
        }
    }
    let status = cmd
        .status()
        .map_err(|e| format!("running cargo in {}: {e}", plugin_dir.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "building the Extism plugin in {} for {WASM_TARGET} failed ({status}); the compiler output is above",
            plugin_dir.display()
        ))
    }
}
