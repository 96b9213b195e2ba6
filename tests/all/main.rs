//! healthplug's integration tests, in one binary (as wasmtime does): each
//! module covers one concern.

mod foundation;
mod registry;
