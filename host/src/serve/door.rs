//! The door of the MCP endpoint: every request is authenticated before
//! the MCP server sees it, and a tool call takes its turn at the gate.
//!
//! Rules:
//! 1. No credential, or one that does not verify, is `401` with
//!    `WWW-Authenticate: Bearer resource_metadata=...` (RFC 9728 §5.1);
//!    the response never says whether a token exists, only that it is
//!    not accepted.
//! 2. A credential is accepted only if it was issued for this resource:
//!    opaque tokens are this service's own; a JWT must name this
//!    resource as its audience (RFC 8707). Tokens are never passed on.
//! 3. A valid credential without the scope the method needs is `403`
//!    with `error="insufficient_scope"` and the scope needed.
//! 4. A `tools/call` that cannot get its user's, plugin's and the
//!    service's permits within the queue wait is `429` with
//!    `Retry-After`.
//! 5. The body is capped before it is read; the request has a deadline.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::state::{Admitted, ServeState};
use super::{auth, catalog};
use crate::auth::Scope;

/// Why a request was turned away at the door.
#[derive(Debug)]
pub enum Refusal {
    /// No usable credential (`401`).
    Unauthenticated {
        /// `invalid_token` when one was presented.
        presented: bool,
        /// A short reason (never the token).
        reason: String,
    },
    /// The credential lacks a scope (`403`).
    Forbidden(Scope),
    /// The call could not get its turn (`429`).
    Crowded(super::gate::Crowded),
    /// The body is over the cap (`413`).
    TooLarge,
}

/// The first fields of a JSON-RPC request, read to route it at the door.
#[derive(Deserialize)]
struct Peek {
    method: Option<String>,
    params: Option<PeekParams>,
}

#[derive(Deserialize)]
struct PeekParams {
    name: Option<String>,
}

/// The scope a JSON-RPC method needs.
pub fn scope_for(method: &str) -> Scope {
    match method {
        "tools/call" => Scope::ToolsCall,
        _ => Scope::ToolsList,
    }
}

/// The plugin a per-plugin endpoint path names (`/plugins/<id>/mcp`).
pub fn plugin_of_path(path: &str) -> Option<&str> {
    path.strip_prefix("/plugins/")?
        .strip_suffix("/mcp")
        .filter(|id| !id.is_empty() && !id.contains('/'))
}

/// The middleware.
pub async fn door(State(state): State<Arc<ServeState>>, request: Request, next: Next) -> Response {
    let caller = match auth::authenticate(&state, request.headers()).await {
        Ok(caller) => caller,
        Err(refusal) => return refuse(&state, refusal),
    };
    let (mut parts, body) = request.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, state.config.limits.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => return refuse(&state, Refusal::TooLarge),
    };
    let peek = serde_json::from_slice::<Peek>(&bytes).ok();
    let method = peek.as_ref().and_then(|p| p.method.as_deref()).unwrap_or("");
    if !method.is_empty() && !caller.scopes.allows(scope_for(method)) {
        return refuse(&state, Refusal::Forbidden(scope_for(method)));
    }
    if method == "tools/call" {
        let name = peek
            .as_ref()
            .and_then(|p| p.params.as_ref())
            .and_then(|p| p.name.as_deref());
        let plugin = plugin_of_path(parts.uri.path()).or_else(|| name.and_then(catalog::split_name).map(|(p, _)| p));
        if let Some(plugin) = plugin {
            match state.gate.admit(&caller.user.user_ref, plugin).await {
                Ok(admission) => {
                    parts.extensions.insert(Admitted(Arc::new(admission)));
                }
                Err(crowded) => return refuse(&state, Refusal::Crowded(crowded)),
            }
        }
    }
    parts.extensions.insert(caller);
    let request = Request::from_parts(parts, Body::from(bytes));
    match tokio::time::timeout(state.config.limits.request_timeout(), next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            state.metrics.turned_away("timeout");
            (
                StatusCode::GATEWAY_TIMEOUT,
                "the request took longer than its deadline\n",
            )
                .into_response()
        }
    }
}

/// The `WWW-Authenticate` challenge.
fn challenge(state: &ServeState, error: Option<(&str, &str)>, scope: &str) -> String {
    let mut value = format!(
        "Bearer resource_metadata=\"{}\", scope=\"{scope}\"",
        auth::metadata_url(&state.resource())
    );
    if let Some((code, description)) = error {
        value.push_str(&format!(
            ", error=\"{code}\", error_description=\"{}\"",
            description.replace('"', "'")
        ));
    }
    value
}

/// The response for a refusal.
pub fn refuse(state: &ServeState, refusal: Refusal) -> Response {
    let all = crate::auth::Scopes::tools().to_string();
    let (status, reason, header_value, body) = match &refusal {
        Refusal::Unauthenticated { presented, reason } => {
            let error = presented.then_some(("invalid_token", reason.as_str()));
            (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                Some(challenge(state, error, &all)),
                serde_json::json!({"error": if *presented {"invalid_token"} else {"unauthorized"}, "error_description": reason}),
            )
        }
        Refusal::Forbidden(scope) => (
            StatusCode::FORBIDDEN,
            "forbidden",
            Some(challenge(
                state,
                Some(("insufficient_scope", &format!("this request needs the `{scope}` scope"))),
                scope.as_str(),
            )),
            serde_json::json!({"error": "insufficient_scope", "error_description": format!("this request needs the `{scope}` scope")}),
        ),
        Refusal::Crowded(c) => (
            StatusCode::TOO_MANY_REQUESTS,
            match c {
                super::gate::Crowded::User => "crowded-user",
                super::gate::Crowded::Plugin => "crowded-plugin",
                super::gate::Crowded::Service => "crowded-service",
            },
            None,
            serde_json::json!({"error": "too_many_requests", "error_description": c.message()}),
        ),
        Refusal::TooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            None,
            serde_json::json!({"error": "too_large", "error_description": format!("the body is larger than {} bytes", state.config.limits.max_body_bytes)}),
        ),
    };
    state.metrics.turned_away(reason);
    let mut response = (status, axum::Json(body)).into_response();
    let headers: &mut HeaderMap = response.headers_mut();
    if let Some(value) = header_value.and_then(|v| HeaderValue::from_str(&v).ok()) {
        headers.insert(header::WWW_AUTHENTICATE, value);
    }
    if matches!(refusal, Refusal::Crowded(_)) {
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_plugin_paths_name_one_plugin() {
        assert_eq!(plugin_of_path("/plugins/sleep-coach/mcp"), Some("sleep-coach"));
        assert_eq!(plugin_of_path("/plugins//mcp"), None);
        assert_eq!(plugin_of_path("/plugins/a/b/mcp"), None);
        assert_eq!(plugin_of_path("/mcp"), None);
    }

    #[test]
    fn only_tools_call_needs_the_call_scope() {
        assert_eq!(scope_for("tools/call"), Scope::ToolsCall);
        for m in ["tools/list", "initialize", "ping", "server/discover", "anything"] {
            assert_eq!(scope_for(m), Scope::ToolsList);
        }
    }
}
