//! `healthplug serve` and `healthplug mcp`: start the platform service (or
//! the stdio server) on a tokio runtime, with logs through `tracing` on
//! stderr, and stop cleanly on SIGTERM or SIGINT.

use std::path::Path;

use super::args::ServeArgs;
use super::{CliError, CliResult, usage};
use crate::platform::resolve_home;
use crate::serve::{self, ServeConfig, ServeError};
use crate::vault::Database;

/// The environment variable setting the log filter (`info` by default).
pub const LOG_ENV: &str = "HEALTHPLUG_LOG";

/// Libraries whose debug output could carry request bodies or headers
/// (health values, tokens): never more verbose than `warn`, whatever
/// `HEALTHPLUG_LOG` asks for.
const QUIET_LIBRARIES: [&str; 7] = ["rmcp", "hyper", "hyper_util", "h2", "reqwest", "axum", "tower"];

fn init_logs(json: bool) {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = tracing_subscriber::EnvFilter::try_from_env(LOG_ENV)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let clamp = tracing_subscriber::filter::filter_fn(|meta| {
        let target = meta.target();
        let library = QUIET_LIBRARIES
            .iter()
            .any(|l| target == *l || target.strip_prefix(l).is_some_and(|rest| rest.starts_with("::")));
        !library || *meta.level() <= tracing::Level::WARN
    });
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false);
    let layer = if json { layer.json().boxed() } else { layer.boxed() };
    // A second initialisation (tests running the CLI in-process) is fine.
    let _ = tracing_subscriber::registry()
        .with(layer.with_filter(filter).with_filter(clamp))
        .try_init();
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("healthplug-serve")
        .build()
        .map_err(|e| {
            usage(
                format!("cannot start the async runtime: {e}"),
                "check the process limits",
            )
        })
}

fn failed_as(command: &'static str) -> impl Fn(ServeError) -> CliError + Copy {
    move |e| match e {
        ServeError::Host(h) => CliError::Host(h),
        other => usage(other.to_string(), format!("see `healthplug {command} --help`")),
    }
}

/// `healthplug serve`.
pub fn serve(home: Option<&Path>, database: &Database, args: ServeArgs) -> CliResult {
    let failed = failed_as("serve");
    init_logs(args.log_json);
    let home = resolve_home(home);
    let mut config = match &args.config {
        Some(path) => ServeConfig::load(path, true),
        None => ServeConfig::load(&serve::default_config_path(&home), false),
    }
    .map_err(|e| failed(e.into()))?;
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(url) = args.public_url {
        config.public_url = Some(url);
    }
    if let Some(user) = args.local_user {
        config.local_user = Some(user);
    }
    runtime()?.block_on(async move {
        let state = serve::prepare_on(&home, database, config).await.map_err(failed)?;
        let server = serve::start(state.clone(), crate::web::router(state.clone()))
            .await
            .map_err(failed)?;
        tracing::info!(
            addr = %server.addr,
            resource = %state.resource(),
            home = %home.display(),
            "healthplug serve is listening"
        );
        shutdown_signal().await;
        tracing::info!("shutting down: no new connections; in-flight calls finish");
        server.shutdown();
        server.stopped().await.map_err(failed)?;
        tracing::info!("stopped");
        Ok(())
    })
}

/// `healthplug mcp`.
pub fn mcp(home: Option<&Path>, database: &Database, user: Option<&str>) -> CliResult {
    let failed = failed_as("mcp");
    init_logs(false);
    let home = resolve_home(home);
    let token = std::env::var(serve::TOKEN_ENV).ok().filter(|t| !t.is_empty());
    runtime()?.block_on(async move {
        let state = serve::prepare_on(&home, database, ServeConfig::default())
            .await
            .map_err(failed)?;
        let caller = serve::stdio_caller(&state, user, token.as_deref()).map_err(failed)?;
        serve::serve_stdio(state, caller).await.map_err(failed)
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
