//! `healthplug mcp`: the MCP server over stdio for a local assistant that
//! starts healthplug as a child process. One user per process, taken from
//! the environment as the MCP spec asks of stdio servers: either
//! `HEALTHPLUG_TOKEN` (an opaque token, which also limits the scopes) or
//! the `--user` the process owner names (who holds the home directory and
//! its key, and so could act for any user anyway). Nothing but protocol
//! messages goes to stdout; logs go to stderr.

use std::sync::Arc;

use rmcp::ServiceExt;

use super::ServeError;
use super::mcp::McpServer;
use super::state::{Caller, Credential, ServeState};

/// The environment variable holding a token for `healthplug mcp`.
pub const TOKEN_ENV: &str = "HEALTHPLUG_TOKEN";

/// The caller of a stdio server: the token's user if `token` is given
/// (and must match `user` if both are), else `user`.
pub fn stdio_caller(state: &ServeState, user: Option<&str>, token: Option<&str>) -> Result<Caller, ServeError> {
    if let Some(token) = token {
        let grant = state
            .host
            .authenticate_token(token)
            .map_err(|e| ServeError::Io(format!("{TOKEN_ENV} is not accepted: {e}")))?;
        if let Some(user) = user
            && user != grant.user.handle
        {
            return Err(ServeError::Io(format!(
                "{TOKEN_ENV} belongs to another user than --user {}",
                crate::text::sanitize_line(user)
            )));
        }
        return Ok(Caller {
            user: grant.user,
            scopes: grant.scopes,
            credential: Credential::Token,
        });
    }
    let Some(user) = user else {
        return Err(ServeError::Io(format!("name the user with --user, or set {TOKEN_ENV}")));
    };
    Ok(Caller {
        user: state.host.user(user)?,
        scopes: crate::auth::Scopes::all(),
        credential: Credential::Local,
    })
}

/// Serves `caller` over stdin/stdout until the client closes the stream.
pub async fn serve_stdio(state: Arc<ServeState>, caller: Caller) -> Result<(), ServeError> {
    let server = McpServer::new(state, Some(caller), false);
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| ServeError::Io(format!("the MCP session could not start: {e}")))?;
    running
        .waiting()
        .await
        .map_err(|e| ServeError::Io(format!("the MCP session failed: {e}")))?;
    Ok(())
}
