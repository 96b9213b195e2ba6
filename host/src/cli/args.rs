//! The command line: `healthplug <command>`, parsed with clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use super::args_partner::{NewKind, NewLang, RecordAddArgs, RecordsCommand};

/// healthplug: run sandboxed health plugins on consented data.
#[derive(Debug, Parser)]
#[command(name = "healthplug", version, about, long_about = None)]
pub struct Cli {
    /// Home directory (default: $HEALTHPLUG_HOME, else the OS data directory).
    #[arg(long, global = true, value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// The database several hosts share (`postgres://user@host/db`; TLS
    /// unless `sslmode=disable`). Default: SQLite in the home directory.
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "HEALTHPLUG_DATABASE_URL",
        hide_env_values = true
    )]
    pub database: Option<String>,
    /// Print machine-readable JSON.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the demo: synthetic data, both example plugins, a partial consent.
    Demo,
    /// Start a plugin or connector crate: SDK, manifest, one tool (or
    /// `ingest`), native tests with the mock host, a README.
    New {
        /// What to create.
        kind: NewKind,
        /// The plugin id (kebab-case); also the crate's directory.
        name: String,
        /// Where to create it (default: ./<name>).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// The healthplug SDK's directory (default: the one this binary was built from).
        #[arg(long, value_name = "DIR")]
        sdk: Option<PathBuf>,
        /// The language: rust (default), python or js.
        #[arg(long, value_enum, default_value = "rust")]
        lang: NewLang,
    },
    /// Install, list, inspect and remove plugins.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Grant, revoke and show consent.
    #[command(subcommand)]
    Consent(ConsentCommand),
    /// Invoke a plugin's tool for a user and print its result.
    Invoke {
        /// The user.
        user: String,
        /// The plugin id.
        plugin: String,
        /// The tool.
        tool: String,
        /// Arguments as a JSON object.
        args: Option<String>,
    },
    /// Import a partner's export file for a user through a connector.
    Import {
        /// The user.
        user: String,
        /// The connector's plugin id (e.g. apple-health, fhir-r4, myfitnesspal, gpx).
        connector: String,
        /// The export file.
        file: PathBuf,
        /// For FHIR files holding several patients: the one to import.
        #[arg(long)]
        patient: Option<String>,
    },
    /// Run a connector that fetches over the network (no file), e.g. cloud-sync.
    Sync {
        /// The user.
        user: String,
        /// The connector's plugin id.
        connector: String,
        /// Connector options as a JSON object.
        #[arg(long, value_name = "JSON")]
        options: Option<String>,
    },
    /// Show everything held about a user (`records <user>`), or type in a
    /// sample (`records add <user> ...`).
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Records {
        /// Add a sample instead of showing them.
        #[command(subcommand)]
        add: Option<RecordsCommand>,
        /// The user.
        #[arg(required = true)]
        user: Option<String>,
        /// Only these types (comma-separated).
        #[arg(long = "type", value_name = "TYPES")]
        types: Option<String>,
        /// Show at most this many records (human output only).
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Pack a plugin directory into one `<id>-<version>.hpkg` file to submit for review.
    Pack {
        /// The plugin directory (or its healthplug.toml).
        dir: PathBuf,
        /// Where to write the package (default: the current directory).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Review a plugin: its requests, imports and risks; sign approvals; diff versions.
    Review(ReviewArgs),
    /// Manage the reviewers whose approvals this platform trusts.
    #[command(subcommand)]
    Trust(TrustCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Create, list and revoke the bearer tokens of `healthplug serve`.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Print a one-time link that signs a user in to the consent page of `healthplug serve`.
    LoginLink {
        /// The user (must exist).
        user: String,
        /// How long the link works: a number and m or h (15m, 2h), at most 24h.
        #[arg(long, value_name = "DURATION", default_value = "15m")]
        expires: String,
        /// The server's address as the browser reaches it (default: the
        /// serve config's public URL, else http://127.0.0.1:8787).
        #[arg(long, value_name = "URL")]
        base: Option<String>,
    },
    /// List the health data types.
    Types {
        /// Print the Markdown reference table.
        #[arg(long)]
        markdown: bool,
    },
    /// Show or verify the audit log.
    Audit {
        /// Only entries about this user.
        user: Option<String>,
        /// Verify the hash chain instead of printing it.
        #[arg(long)]
        verify: bool,
    },
    /// Bring the home's vault to the current format (vault v1's per-sample
    /// rows into v2's sealed day chunks) and say what moved. Opening a home
    /// does the same; this only says so.
    Migrate,
    /// Erase a user: destroy their key and delete everything about them.
    Erase {
        /// The user.
        user: String,
    },
    /// Serve plugins to assistants over MCP (Streamable HTTP), for many users.
    Serve(ServeArgs),
    /// Serve one user's plugins over MCP on stdin/stdout, for a local assistant.
    Mcp {
        /// The user (or set HEALTHPLUG_TOKEN to a token of theirs).
        #[arg(long, env = "HEALTHPLUG_USER")]
        user: Option<String>,
    },
}

/// `healthplug serve ...`
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8787, or the config file's).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    /// Configuration file (default: serve.toml in the home directory, if present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The URL clients reach the MCP endpoint at (the tokens' audience).
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Serve this one user without credentials (loopback addresses only).
    #[arg(long, value_name = "USER")]
    pub local_user: Option<String>,
    /// Log as JSON lines instead of text (logs go to stderr).
    #[arg(long)]
    pub log_json: bool,
}

/// `healthplug plugin ...`
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Install a plugin from its directory or manifest.
    Add {
        /// A plugin directory, its healthplug.toml, or a .hpkg package.
        path: PathBuf,
        /// Install without review, for local testing (marked dev everywhere).
        #[arg(long)]
        dev: bool,
        /// The reviewer's approval (default: healthplug.approval beside the manifest).
        #[arg(long, value_name = "FILE")]
        approval: Option<PathBuf>,
    },
    /// List installed plugins.
    List,
    /// Show a plugin's manifest, limits and tools.
    Info {
        /// The plugin id.
        id: String,
    },
    /// Remove a plugin and every consent given to it.
    Remove {
        /// The plugin id.
        id: String,
    },
}

/// Options of a grant.
#[derive(Debug, Args)]
pub struct GrantArgs {
    /// The user (created if new).
    pub user: String,
    /// The plugin id.
    pub plugin: String,
    /// Types to grant (comma-separated).
    #[arg(long, value_name = "TYPES", conflicts_with = "all")]
    pub types: Option<String>,
    /// Grant exactly what the manifest asks: every type it reads or writes,
    /// each printed with its purpose first (storage and network still need
    /// --storage / --network).
    #[arg(long)]
    pub all: bool,
    /// Fields to grant (comma-separated: value,unit,time,source-name,device,metadata,notes or all).
    #[arg(long, value_name = "FIELDS")]
    pub fields: Option<String>,
    /// Only the last N days of history are visible.
    #[arg(long, value_name = "N")]
    pub days: Option<u32>,
    /// Only history since this date (YYYY-MM-DD or RFC 3339) is visible.
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// raw, hourly or daily (aggregates only).
    #[arg(long)]
    pub granularity: Option<String>,
    /// Also allow writing these types.
    #[arg(long)]
    pub write: bool,
    /// The grant ends at this date (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// Also grant the plugin's private storage (its manifest must declare [storage]).
    #[arg(long)]
    pub storage: bool,
    /// Also grant network access: to every origin the manifest declares, or
    /// only to the comma-separated origins given.
    #[arg(long, value_name = "ORIGINS", num_args = 0..=1, default_missing_value = "")]
    pub network: Option<String>,
}

/// `healthplug consent ...`
#[derive(Debug, Subcommand)]
pub enum ConsentCommand {
    /// Grant a plugin access to data types for a user.
    Grant(GrantArgs),
    /// Revoke a plugin's access (all types unless --types); effective on its next host call.
    Revoke {
        /// The user.
        user: String,
        /// The plugin id.
        plugin: String,
        /// Only these types (comma-separated).
        #[arg(long, value_name = "TYPES")]
        types: Option<String>,
        /// Only storage (its data is deleted).
        #[arg(long)]
        storage: bool,
        /// Only network access.
        #[arg(long)]
        network: bool,
    },
    /// Show a user's consents.
    Show {
        /// The user.
        user: String,
    },
}

/// `healthplug user ...`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user.
    Add {
        /// The user id.
        user: String,
        /// The user's IANA time zone (e.g. Europe/Paris): daily and hourly
        /// aggregates follow its local days and hours. Default UTC.
        #[arg(long)]
        tz: Option<String>,
    },
    /// Set a user's IANA time zone (e.g. America/Los_Angeles).
    SetTz {
        /// The user id.
        user: String,
        /// The zone.
        tz: String,
    },
    /// List users.
    List,
}

/// `healthplug token ...`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a bearer token for a user; its secret is printed once.
    Create {
        /// The user (must exist).
        user: String,
        /// How long it is valid: a number and m, h, d or w (90m, 12h, 30d),
        /// or `never`.
        #[arg(long, value_name = "DURATION", default_value = "30d")]
        expires: String,
        /// What it allows (space- or comma-separated; repeatable): tools:list,
        /// tools:call, records:read (the user's activity log and records
        /// export as JSON). Default: tools:list and tools:call.
        #[arg(long, value_name = "SCOPES")]
        scope: Vec<String>,
        /// A label to tell your tokens apart.
        #[arg(long, value_name = "TEXT")]
        label: Option<String>,
    },
    /// List tokens (never their secrets).
    List {
        /// Only this user's.
        #[arg(long)]
        user: Option<String>,
    },
    /// Revoke a token by its id (hpt_...); it stops working at once.
    Revoke {
        /// The token id, as `token list` shows it.
        id: String,
    },
}

/// `healthplug review ...`
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ReviewArgs {
    #[command(subcommand)]
    pub command: Option<ReviewCommand>,
    /// The plugin directory (or manifest, or .hpkg package) to report on.
    pub path: Option<PathBuf>,
}

/// `healthplug review sign|keygen|diff`
#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// Sign an approval of a plugin (written to healthplug.approval beside its
    /// manifest, or into its .hpkg package).
    Sign {
        /// The reviewer's key file (from `review keygen`).
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The plugin directory (or manifest, or .hpkg package).
        path: PathBuf,
        /// Write the approval here instead.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Create a reviewer key pair.
    Keygen {
        /// Where to write the private key (mode 0600).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// List every change between two versions of a plugin, escalations marked.
    Diff {
        /// The old version's directory (or manifest).
        old: PathBuf,
        /// The new version's directory (or manifest).
        new: PathBuf,
    },
}

/// `healthplug trust ...`
#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// Trust a reviewer's public key (ed25519:<hex>).
    Add {
        /// The public key.
        public_key: String,
        /// A name for people.
        #[arg(long)]
        name: Option<String>,
    },
    /// List trusted reviewers.
    List,
    /// Stop trusting a reviewer (by key or name); their approvals stop loading.
    Remove {
        /// The key or name.
        reviewer: String,
    },
}
