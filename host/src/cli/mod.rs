//! The `healthplug` command line: parses arguments, runs one command
//! against the home directory, prints tidy text or `--json`, and turns any
//! error into one clear line with a hint and a non-zero exit. All of its
//! output goes through [`output`] (sanitised, quiet on a closed pipe): its
//! `println!`-style macros shadow std's in every module below.

#[macro_use]
mod output;
mod args;
mod args_partner;
mod consent;
mod data;
mod demo;
mod hints;
mod new;
mod pack;
mod plugin;
mod review;
mod review_tools;
mod serve;
mod tokens;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

use crate::error::HostError;
use crate::platform::{Host, resolve_home};
use crate::vault::Database;

use args::RecordsCommand;
pub use args::{Cli, Command};

/// An error from a command: the host's, or a usage problem.
pub(crate) enum CliError {
    Host(HostError),
    Usage(String, Option<String>),
}

impl From<crate::vetting::VettingError> for CliError {
    fn from(e: crate::vetting::VettingError) -> CliError {
        CliError::from(HostError::from(e))
    }
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
    if execute(Cli::parse()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// What a run printed, and whether it succeeded.
#[derive(Debug)]
pub struct Captured {
    /// The command succeeded.
    pub success: bool,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

/// Runs the CLI with `args` (the program name first), collecting what it
/// prints instead of writing it: for tests and embedders.
pub fn run_captured<I, T>(args: I) -> Captured
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let (success, stdout, stderr) = output::capture(|| match Cli::try_parse_from(args) {
        Ok(cli) => execute(cli),
        Err(e) => {
            eprintln!("{e}");
            false
        }
    });
    Captured {
        success,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Runs one command and reports its error; true on success.
fn execute(cli: Cli) -> bool {
    let json = cli.json;
    let result = run(cli);
    let written = output::finish();
    let (message, hint) = match (result, written) {
        (Ok(()), Ok(())) => return true,
        (Err(CliError::Host(e)), _) => (e.to_string(), e.hint()),
        (Err(CliError::Usage(m, h)), _) => (m, h),
        (Ok(()), Err(e)) => (e, None),
    };
    if json {
        let value = serde_json::json!({ "error": message, "hint": hint });
        output::emit_json(output::Stream::Err, &value.to_string());
    } else {
        eprintln!("error: {message}");
        if let Some(hint) = hint {
            eprintln!("hint: {hint}");
        }
    }
    false
}

fn run(cli: Cli) -> CliResult {
    if let Command::Demo = cli.command {
        return demo::run(cli.home.as_deref(), cli.json);
    }
    if let Command::New {
        kind,
        name,
        dir,
        sdk,
        lang,
    } = &cli.command
    {
        return new::run(*kind, *lang, name, dir.as_deref(), sdk.as_deref(), cli.json);
    }
    if let Command::Types { markdown } = cli.command {
        return data::types(markdown, cli.json);
    }
    if let Command::Review(args) = cli.command {
        return review::run(args, cli.json);
    }
    if let Command::Pack { dir, out } = &cli.command {
        return pack::run(dir, out.as_deref(), cli.json);
    }
    let database = Database::parse(cli.database.as_deref().unwrap_or(""))
        .map_err(|e| usage(format!("{e:#}"), "see `healthplug --help` for --database"))?;
    if let Command::Serve(args) = cli.command {
        return serve::serve(cli.home.as_deref(), &database, args);
    }
    if let Command::Mcp { user } = cli.command {
        return serve::mcp(cli.home.as_deref(), &database, user.as_deref());
    }
    let home = resolve_home(cli.home.as_deref());
    let host = Host::open_on(&home, &database)?;
    on_host(&host, cli.command, cli.json)
}

/// The commands that work on an opened home.
fn on_host(host: &Host, command: Command, json: bool) -> CliResult {
    match command {
        Command::Plugin(cmd) => plugin::run(host, cmd, json),
        Command::Consent(cmd) => consent::run(host, cmd, json),
        Command::Invoke {
            user,
            plugin,
            tool,
            args,
        } => data::invoke(host, &user, &plugin, &tool, args.as_deref(), json),
        Command::Import {
            user,
            connector,
            file,
            patient,
        } => data::import(host, &user, &connector, &file, patient.as_deref(), json),
        Command::Sync {
            user,
            connector,
            options,
        } => data::sync(host, &user, &connector, options.as_deref(), json),
        Command::Records {
            add: Some(RecordsCommand::Add(entry)),
            ..
        } => data::add_record(host, entry, json),
        Command::Records { user, types, limit, .. } => {
            data::records(host, user.as_deref().unwrap_or_default(), types.as_deref(), limit, json)
        }
        Command::User(cmd) => data::user(host, cmd, json),
        Command::Token(cmd) => tokens::run(host, cmd, json),
        Command::LoginLink { user, expires, base } => tokens::login_link(host, &user, &expires, base.as_deref(), json),
        Command::Audit { user, verify } => data::audit(host, user.as_deref(), verify, json),
        Command::Erase { user } => data::erase(host, &user, json),
        Command::Migrate => data::migrate(host, json),
        Command::Trust(cmd) => review::trust(host, cmd, json),
        Command::Demo
        | Command::New { .. }
        | Command::Types { .. }
        | Command::Review(_)
        | Command::Pack { .. }
        | Command::Serve(_)
        | Command::Mcp { .. } => Ok(()),
    }
}
