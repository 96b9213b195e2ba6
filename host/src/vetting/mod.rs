//! Vetting: what a plugin really asks for and imports, checked at review,
//! install and every load.

pub mod imports;

pub use imports::{ImportCheck, check as check_imports};
