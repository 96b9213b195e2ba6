//! The generated WIT bindings. Hidden from the docs: partners use the SDK's
//! own types; only `export_plugin!` and `export_connector!` reach in here.
//!
//! The `plugin` world (plus the `source` import connectors use) is
//! generated once; the `connector` world reuses its import bindings, so both
//! worlds share one set of types.

wit_bindgen::generate!({
    path: "../wit",
    inline: "
        package healthplug:sdk;
        world plugin-and-source {
            include healthplug:plugin/plugin@0.1.0;
            import healthplug:plugin/source@0.1.0;
        }
    ",
    world: "healthplug:sdk/plugin-and-source",
    generate_all,
    pub_export_macro: true,
    export_macro_name: "__export_plugin_world",
    default_bindings_module: "healthplug_sdk::bindings",
});

/// The connector world's export bindings.
pub mod connector {
    wit_bindgen::generate!({
        path: "../wit",
        world: "healthplug:plugin/connector",
        pub_export_macro: true,
        export_macro_name: "__export_connector_world",
        default_bindings_module: "healthplug_sdk::bindings::connector",
        type_section_suffix: "connector",
        with: {
            "healthplug:plugin/types@0.1.0": crate::bindings::healthplug::plugin::types,
            "healthplug:plugin/health-data@0.1.0": crate::bindings::healthplug::plugin::health_data,
            "healthplug:plugin/log@0.1.0": crate::bindings::healthplug::plugin::log,
            "healthplug:plugin/source@0.1.0": crate::bindings::healthplug::plugin::source,
            "healthplug:plugin/storage@0.1.0": crate::bindings::healthplug::plugin::storage,
        },
    });
}
