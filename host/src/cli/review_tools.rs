//! The tools a plugin under review offers, found the way a platform finds
//! them: installed (`--dev`) into a throwaway home and asked through its
//! `tools` export, in the sandbox, with no data and no grant. So a reviewer
//! sees the tool names and descriptions the assistant will see, and a name
//! the WIT does not allow (`sleep_Summary`, a duplicate) is reported with
//! its rename at review, and refused by `review sign`, as it is refused at
//! install.

use std::path::Path;

use serde::Serialize;

use crate::platform::{Host, InstallOptions};
use crate::text::sanitize_line;

/// What the tools check found.
#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub(super) enum ToolsCheck {
    /// The tools offered (none for a connector).
    Offered {
        /// (name, description), in the plugin's order.
        tools: Vec<(String, String)>,
    },
    /// The plugin cannot be installed as it is: why (a tool name the WIT
    /// refuses, a component that traps in `tools`, an import not allowed).
    Refused {
        /// The install error, naming the fix.
        problem: String,
    },
}

impl ToolsCheck {
    /// The problem, if the check failed.
    pub(super) fn problem(&self) -> Option<&str> {
        match self {
            ToolsCheck::Refused { problem } => Some(problem),
            ToolsCheck::Offered { .. } => None,
        }
    }
}

/// Installs `path` into a temporary home and lists its tools.
pub(super) fn check_tools(path: &Path) -> ToolsCheck {
    let refused = |problem: String| ToolsCheck::Refused { problem };
    let home = match tempfile::tempdir() {
        Ok(h) => h,
        Err(e) => return refused(format!("no temporary home for the check: {e}")),
    };
    let host = match Host::open(home.path()) {
        Ok(h) => h,
        Err(e) => return refused(format!("no temporary home for the check: {e}")),
    };
    let installed = match host.install(path, InstallOptions::dev()) {
        Ok(r) => r,
        Err(e) => return refused(e.to_string()),
    };
    match host.tools(&installed.plugin.id) {
        Ok(tools) => ToolsCheck::Offered {
            tools: tools.into_iter().map(|t| (t.name, t.description)).collect(),
        },
        Err(e) => refused(e.to_string()),
    }
}

/// Prints the check under the review report.
pub(super) fn print_tools(check: &ToolsCheck) {
    match check {
        ToolsCheck::Offered { tools } if tools.is_empty() => {}
        ToolsCheck::Offered { tools } => {
            println!("\ntools offered to the assistant:");
            for (name, description) in tools {
                println!("  {:<24} {}", sanitize_line(name), sanitize_line(description));
            }
        }
        ToolsCheck::Refused { problem } => {
            println!("\nREFUSED at install: {}", sanitize_line(problem));
        }
    }
}
