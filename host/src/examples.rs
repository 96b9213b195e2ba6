//! The example plugins, built from `plugins/` by the build script and
//! embedded so `healthplug demo` works from any directory. The build script
//! also assembles each into an installable directory (manifest and
//! component side by side): `package_dir`.

use std::path::PathBuf;

/// An example plugin: its manifest and component.
#[derive(Clone, Copy, Debug)]
pub struct ExamplePlugin {
    /// Plugin id (its folder name in `plugins/`).
    pub id: &'static str,
    /// The manifest text.
    pub manifest: &'static str,
    /// The component bytes.
    pub component: &'static [u8],
}

/// Activity Coach.
pub const ACTIVITY_COACH: ExamplePlugin = ExamplePlugin {
    id: "activity-coach",
    manifest: include_str!("../../plugins/activity-coach/healthplug.toml"),
    component: include_bytes!(concat!(env!("HEALTHPLUG_PLUGINS_WASM_DIR"), "/activity_coach.wasm")),
};

/// Nutrition Coach.
pub const NUTRITION_COACH: ExamplePlugin = ExamplePlugin {
    id: "nutrition-coach",
    manifest: include_str!("../../plugins/nutrition-coach/healthplug.toml"),
    component: include_bytes!(concat!(env!("HEALTHPLUG_PLUGINS_WASM_DIR"), "/nutrition_coach.wasm")),
};

/// CSV import: the generic connector that seeds a home with test data
/// (`healthplug import <user> csv FILE`); the demo installs it.
pub const CSV_IMPORT: ExamplePlugin = ExamplePlugin {
    id: "csv",
    manifest: include_str!("../../plugins/csv/healthplug.toml"),
    component: include_bytes!(concat!(env!("HEALTHPLUG_PLUGINS_WASM_DIR"), "/csv.wasm")),
};

/// The source directory of an example plugin in this checkout (its
/// manifest; the component is built elsewhere, see `package_dir`).
pub fn source_dir(id: &str) -> PathBuf {
    PathBuf::from(env!("HEALTHPLUG_PLUGINS_DIR")).join(id)
}

/// The installable directory of an example plugin: its manifest and its
/// built component, side by side (assembled by the build script under
/// `target/wasm/packages/plugins/`).
pub fn package_dir(id: &str) -> PathBuf {
    PathBuf::from(env!("HEALTHPLUG_PLUGINS_PACKAGES_DIR")).join(id)
}

/// The directory the plugins' components are built into.
pub fn wasm_dir() -> PathBuf {
    PathBuf::from(env!("HEALTHPLUG_PLUGINS_WASM_DIR"))
}
