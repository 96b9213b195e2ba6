//! healthplug's integration tests, in one binary (as wasmtime does): each
//! module covers one concern.

mod audit;
mod connectors;
mod consent;
mod crash;
mod egress;
mod foundation;
mod fuzz_corpus;
mod hints;
mod hostile;
mod install;
mod integrity;
mod javascript;
mod layering;
mod leaks;
mod local_attacker;
mod migrate;
mod pack;
mod parsers;
mod privacy;
mod python;
mod realdata;
mod registry;
mod seeding;
mod serve;
mod template;
mod tokens;
mod vault_v2;
mod vetting;
mod web;
