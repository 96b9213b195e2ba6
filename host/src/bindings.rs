//! Host bindings generated from the WIT in `wit/`. Imports are trappable:
//! the outer `Result` of a host function is a host fault (trap), the inner
//! one is the error the plugin sees.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "plugin",
    imports: { default: trappable },
});

/// The `connector` world, sharing the `plugin` world's interfaces.
pub mod connector {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "connector",
        imports: { default: trappable },
        with: {
            "healthplug:plugin/types": crate::bindings::healthplug::plugin::types,
            "healthplug:plugin/health-data": crate::bindings::healthplug::plugin::health_data,
            "healthplug:plugin/log": crate::bindings::healthplug::plugin::log,
        },
    });
}
