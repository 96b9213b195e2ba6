//! healthplug's integration tests, in one binary (as wasmtime does): each
//! module covers one concern.

mod audit;
mod connectors;
mod consent;
mod egress;
mod foundation;
mod privacy;
mod realdata;
mod registry;
mod vetting;
