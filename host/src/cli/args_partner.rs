//! The arguments of the partner's commands: `healthplug new` (kind and
//! language) and `healthplug records add` (one typed-in sample).

use clap::{Args, Subcommand};

/// The language of a `healthplug new` crate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum NewLang {
    /// Rust, with the SDK's mock for native tests.
    Rust,
    /// Python, built with componentize-py (docs/python.md).
    Python,
    /// JavaScript, built with componentize-js (docs/javascript.md).
    Js,
}

/// What `healthplug new` creates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum NewKind {
    /// A plugin offering tools to the assistant.
    Plugin,
    /// A connector importing a partner's export file.
    Connector,
}

/// `healthplug records add`.
#[derive(Debug, Subcommand)]
pub enum RecordsCommand {
    /// Type in one sample for a user (e.g. to seed a local home for testing
    /// a plugin): `--type resting-heart-rate --value 52 --at 2026-11-28T07:00:00Z`.
    Add(RecordAddArgs),
}

/// One typed-in sample.
#[derive(Debug, Args)]
pub struct RecordAddArgs {
    /// The user (must exist).
    pub user: String,
    /// The data type (`healthplug types` lists them).
    #[arg(long = "type", value_name = "TYPE")]
    pub data_type: String,
    /// The value (default unit: the type's canonical unit).
    #[arg(long, allow_negative_numbers = true)]
    pub value: Option<f64>,
    /// The unit of --value (converted to the canonical unit, e.g. lb for body-mass).
    #[arg(long)]
    pub unit: Option<String>,
    /// When, for a point sample: RFC 3339 with an offset, or `now` (the default).
    #[arg(long, value_name = "TIME", conflicts_with_all = ["start", "end"])]
    pub at: Option<String>,
    /// The start of an interval (RFC 3339 with an offset).
    #[arg(long, value_name = "TIME")]
    pub start: Option<String>,
    /// The end of an interval (RFC 3339 with an offset).
    #[arg(long, value_name = "TIME", requires = "start")]
    pub end: Option<String>,
    /// The code of a coded type (`sleep`: asleepDeep, ...; see docs/data-types.md).
    #[arg(long)]
    pub code: Option<String>,
    /// The code system, for clinical types only (e.g. http://loinc.org).
    #[arg(long)]
    pub system: Option<String>,
}
