//! The MCP server: `tools/list` and `tools/call` for the user a request
//! is authenticated as (over HTTP, the `Caller` the door put on the
//! request; over stdio, the one user the process serves). Every other
//! method is the SDK's (initialize, ping, server/discover). The handler
//! never takes a user from the request body: a caller reaches only their
//! own user's tools and data.

use std::sync::Arc;

use rmcp::model::{
    CacheScope, CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock as Content, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};

use super::state::{Admitted, Caller, ServeState};
use super::{call, catalog};
use crate::auth::Scope;

/// What the server tells a client about itself.
const INSTRUCTIONS: &str = "healthplug runs health plugins for one user. Each tool belongs to a plugin the user has \
granted access to some of their health data; a tool can read only what the user granted. When a result is an error \
naming something the user has not granted, tell the user what to grant rather than retrying.";

/// The MCP handler.
#[derive(Clone)]
pub struct McpServer {
    state: Arc<ServeState>,
    /// The user served when the transport carries no authentication
    /// (stdio, or a loopback server with `local-user`).
    fixed: Option<Caller>,
    /// Serve only the plugin the request path names
    /// (`/plugins/<id>/mcp`), under bare tool names.
    per_plugin: bool,
}

impl McpServer {
    /// A handler over `state`.
    pub fn new(state: Arc<ServeState>, fixed: Option<Caller>, per_plugin: bool) -> McpServer {
        McpServer {
            state,
            fixed,
            per_plugin,
        }
    }

    /// The one plugin this request is for, on a per-plugin endpoint.
    fn plugin(&self, context: &RequestContext<RoleServer>) -> Result<Option<String>, McpError> {
        if !self.per_plugin {
            return Ok(None);
        }
        context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|parts| super::door::plugin_of_path(parts.uri.path()).map(str::to_string))
            .map(Some)
            .ok_or_else(|| McpError::invalid_request("no plugin is named by this endpoint", None))
    }

    fn caller(&self, context: &RequestContext<RoleServer>, scope: Scope) -> Result<Caller, McpError> {
        let caller = context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Caller>().cloned())
            .or_else(|| self.fixed.clone())
            .ok_or_else(|| McpError::invalid_request("this request is not authenticated", None))?;
        if !caller.scopes.allows(scope) {
            return Err(McpError::invalid_request(
                format!("the credential does not carry the `{scope}` scope"),
                None,
            ));
        }
        Ok(caller)
    }

    fn admitted(context: &RequestContext<RoleServer>) -> bool {
        context
            .extensions
            .get::<http::request::Parts>()
            .is_some_and(|parts| parts.extensions.get::<Admitted>().is_some())
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(ServerCapabilities::builder().enable_tools().build());
        info.server_info = Implementation::new("healthplug", env!("CARGO_PKG_VERSION"));
        info.instructions = Some(INSTRUCTIONS.to_string());
        info
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let caller = self.caller(&context, Scope::ToolsList)?;
        let state = self.state.clone();
        let only = self.plugin(&context)?;
        let tools = tokio::task::spawn_blocking(move || {
            let enabled = state.host.enabled_plugins(&caller.user)?;
            let ids = enabled
                .iter()
                .map(String::as_str)
                .filter(|id| only.as_deref().is_none_or(|o| o == *id));
            Ok::<_, crate::error::HostError>(state.catalog.tools_of(&state.host, ids, only.is_some()))
        })
        .await
        .map_err(|_| McpError::internal_error("the tool listing was interrupted", None))?
        .map_err(|e| {
            tracing::error!(error = %e, "listing tools failed");
            McpError::internal_error("the tools could not be listed", None)
        })?;
        let cursor = request.and_then(|r| r.cursor);
        let (page, next) = catalog::page(tools, cursor.as_deref(), self.state.config.limits.page_size)
            .map_err(|e| McpError::invalid_params(e.to_string(), None))?;
        let mut result = ListToolsResult::with_all_items(page)
            .with_ttl_ms(0)
            .with_cache_scope(CacheScope::Private);
        result.next_cursor = next;
        Ok(result)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let caller = self.caller(&context, Scope::ToolsCall)?;
        let admitted = Self::admitted(&context);
        let target = match self.plugin(&context)? {
            Some(p) => Some((p, request.name.to_string())),
            None => catalog::split_name(&request.name).map(|(p, t)| (p.to_string(), t.to_string())),
        };
        let Some((plugin, tool)) = target else {
            return Err(McpError::invalid_params(
                format!(
                    "unknown tool `{}`: tools are named <plugin-id>.<tool>",
                    crate::text::sanitize_line(&request.name)
                ),
                None,
            ));
        };
        let target = call::Target {
            name: &request.name,
            plugin: &plugin,
            tool: &tool,
        };
        let result: CallToolResult = call::call(&self.state, &caller, target, request.arguments, admitted).await?;
        Ok(result.into())
    }
}

/// A one-line error result.
pub fn error_result(text: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![Content::text(text.into())])
}
