//! The example plugins, built from `plugins/` by the build script and
//! embedded so `healthplug demo` works from any directory.

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

/// The source directory of an example plugin in this checkout.
pub fn source_dir(id: &str) -> PathBuf {
    PathBuf::from(env!("HEALTHPLUG_PLUGINS_DIR")).join(id)
}

/// The directory the plugins' components are built into.
pub fn wasm_dir() -> PathBuf {
    PathBuf::from(env!("HEALTHPLUG_PLUGINS_WASM_DIR"))
}
