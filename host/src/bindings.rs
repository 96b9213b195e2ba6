//! Host bindings generated from the WIT in `wit/`. Imports are trappable:
//! the outer `Result` of a host function is a host fault (trap), the inner
//! one is the error the plugin sees.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "plugin",
    imports: { default: trappable },
});
