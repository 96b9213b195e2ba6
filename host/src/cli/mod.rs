//! The `healthplug` command line: parses arguments, runs one command
//! against the home directory, prints tidy text or `--json`, and turns any
//! error into one clear line with a hint and a non-zero exit.

mod args;
mod consent;
mod data;
mod demo;
mod output;
mod plugin;
mod review;

use std::process::ExitCode;

use clap::Parser;

use crate::error::HostError;
use crate::platform::{Host, resolve_home};

pub use args::{Cli, Command};

/// An error from a command: the host's, or a usage problem.
pub(crate) enum CliError {
    Host(HostError),
    Usage(String, Option<String>),
}

impl From<HostError> for CliError {
    fn from(e: HostError) -> CliError {
        CliError::Host(e)
    }
}

impl From<anyhow::Error> for CliError {
    fn from(e: anyhow::Error) -> CliError {
        CliError::Host(HostError::Internal(e))
    }
}

pub(crate) type CliResult = Result<(), CliError>;

/// A usage error with a hint.
pub(crate) fn usage(message: impl Into<String>, hint: impl Into<String>) -> CliError {
    CliError::Usage(message.into(), Some(hint.into()))
}

/// Runs the CLI with the process arguments.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let (message, hint) = match e {
                CliError::Host(e) => (e.to_string(), e.hint()),
                CliError::Usage(m, h) => (m, h),
            };
            if json {
                let value = serde_json::json!({ "error": message, "hint": hint });
                eprintln!("{value}");
            } else {
                eprintln!("error: {message}");
                if let Some(hint) = hint {
                    eprintln!("hint: {hint}");
                }
            }
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> CliResult {
    if let Command::Demo = cli.command {
        return demo::run(cli.home.as_deref(), cli.json);
    }
    if let Command::Types { markdown } = cli.command {
        return data::types(markdown, cli.json);
    }
    if let Command::Review(args) = cli.command {
        return review::run(args, cli.json);
    }
    let home = resolve_home(cli.home.as_deref());
    let host = Host::open(&home)?;
    let json = cli.json;
    match cli.command {
        Command::Plugin(cmd) => plugin::run(&host, cmd, json),
        Command::Consent(cmd) => consent::run(&host, cmd, json),
        Command::Invoke {
            user,
            plugin,
            tool,
            args,
        } => data::invoke(&host, &user, &plugin, &tool, args.as_deref(), json),
        Command::Import {
            user,
            connector,
            file,
            patient,
        } => data::import(&host, &user, &connector, &file, patient.as_deref(), json),
        Command::Sync {
            user,
            connector,
            options,
        } => data::sync(&host, &user, &connector, options.as_deref(), json),
        Command::Records { user, types, limit } => data::records(&host, &user, types.as_deref(), limit, json),
        Command::User(cmd) => data::user(&host, cmd, json),
        Command::Audit { user, verify } => data::audit(&host, user.as_deref(), verify, json),
        Command::Erase { user } => data::erase(&host, &user, json),
        Command::Trust(cmd) => review::trust(&host, cmd, json),
        Command::Demo | Command::Types { .. } | Command::Review(_) => Ok(()),
    }
}
