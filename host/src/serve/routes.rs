//! The HTTP surface: the router, binding, and graceful shutdown (stop
//! accepting, let in-flight calls finish up to the grace period, exit).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use super::mcp::McpServer;
use super::state::ServeState;
use super::{ServeError, auth, door};

fn mcp_service(
    state: &Arc<ServeState>,
    per_plugin: bool,
    cancel: &CancellationToken,
) -> StreamableHttpService<McpServer, LocalSessionManager> {
    let config = &state.config;
    let mut http = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_allowed_hosts(config.host_allowlist())
        .with_max_request_body_bytes(config.limits.max_body_bytes)
        .with_cancellation_token(cancel.child_token());
    http = http
        .with_allowed_origins(config.origin_allowlist())
        .enforce_origin_validation();
    let (st, fixed) = (state.clone(), state.local.clone());
    StreamableHttpService::new(
        move || Ok(McpServer::new(st.clone(), fixed.clone(), per_plugin)),
        Default::default(),
        http,
    )
}

/// The router: health, metrics, OAuth metadata and MCP, with `pages` (the
/// web pages, which sit above this module and are handed in) merged.
pub fn router(state: Arc<ServeState>, cancel: &CancellationToken, pages: Router<Arc<ServeState>>) -> Router {
    let mcp = Router::new()
        .route_service("/mcp", mcp_service(&state, false, cancel))
        .route_service("/plugins/{plugin}/mcp", mcp_service(&state, true, cancel))
        .layer(axum::middleware::from_fn_with_state(state.clone(), door::door));
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/.well-known/oauth-protected-resource", get(auth::resource_metadata))
        .route(
            "/.well-known/oauth-protected-resource/{*path}",
            get(auth::resource_metadata),
        )
        .merge(mcp)
        .merge(pages)
        .with_state(state)
}

async fn readyz(State(state): State<Arc<ServeState>>) -> Response {
    let st = state.clone();
    let ready = tokio::task::spawn_blocking(move || st.host.vault().store().map(|_| ()))
        .await
        .is_ok_and(|r| r.is_ok());
    if ready {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "the vault is not reachable\n").into_response()
    }
}

async fn metrics(State(state): State<Arc<ServeState>>) -> Response {
    state.gate.sweep();
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// How often the identity provider's keys are refetched.
const KEY_REFRESH: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Refetches the identity provider's keys now and then (an unknown `kid`
/// also triggers a rate-limited refetch), until shutdown.
fn spawn_key_refresh(state: &Arc<ServeState>, shutdown: &CancellationToken) {
    if state.jwt.is_none() {
        return;
    }
    let (state, stop) = (state.clone(), shutdown.clone());
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(KEY_REFRESH) => {}
            }
            if let Some(jwt) = &state.jwt
                && let Err(e) = jwt.refresh().await
            {
                tracing::warn!(reason = %e, "the identity provider's keys could not be refreshed; the old ones stay");
            }
        }
    });
}

/// A running server.
pub struct Server {
    /// The address it listens on.
    pub addr: SocketAddr,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), ServeError>>,
}

impl Server {
    /// Asks the server to stop (as SIGTERM does).
    pub fn shutdown(&self) {
        self.shutdown.cancel();
    }

    /// Waits until it has stopped.
    pub async fn stopped(self) -> Result<(), ServeError> {
        self.task
            .await
            .map_err(|e| ServeError::Io(format!("the server task failed: {e}")))?
    }
}

/// Binds and starts serving; stops when `shutdown` is cancelled, after
/// in-flight requests finish or the grace period ends.
pub async fn start(state: Arc<ServeState>, pages: Router<Arc<ServeState>>) -> Result<Server, ServeError> {
    let listener = tokio::net::TcpListener::bind(state.config.listen)
        .await
        .map_err(|e| ServeError::Io(format!("cannot listen on {}: {e}", state.config.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| ServeError::Io(format!("cannot read the listening address: {e}")))?;
    let _ = state.bound.set(addr);
    let shutdown = CancellationToken::new();
    let mcp_cancel = CancellationToken::new();
    let app = router(state.clone(), &mcp_cancel, pages);
    let grace = state.config.limits.shutdown_grace();
    spawn_key_refresh(&state, &shutdown);
    let stop = shutdown.clone();
    let task = tokio::spawn(async move {
        let graceful = axum::serve(listener, app).with_graceful_shutdown({
            let stop = stop.clone();
            async move { stop.cancelled().await }
        });
        let deadline = async {
            stop.cancelled().await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            r = graceful => r.map_err(|e| ServeError::Io(format!("the server failed: {e}"))),
            () = deadline => {
                tracing::warn!(grace_ms = grace.as_millis() as u64, "in-flight requests outlived the shutdown grace period");
                mcp_cancel.cancel();
                Ok(())
            }
        }
    });
    Ok(Server { addr, shutdown, task })
}
