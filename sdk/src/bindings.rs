//! The generated WIT bindings. Hidden from the docs: partners use the SDK's
//! own types; only `export_plugin!` reaches in here.

wit_bindgen::generate!({
    path: "../wit",
    world: "plugin",
    pub_export_macro: true,
    export_macro_name: "__export_plugin_world",
    default_bindings_module: "healthplug_sdk::__private::bindings",
});
