//! Who a JSON endpoint of the page answers for: the signed-in session of
//! the request's cookie, else a bearer credential carrying `records:read`
//! (the same tokens and identity-provider JWTs as the MCP endpoint). The
//! user is always the credential's; no query parameter names one.
//!
//! A JSON endpoint changes nothing, so it needs no CSRF token; the
//! session cookie is `SameSite=Strict` and no CORS header is ever sent, so
//! another site can neither send the cookie nor read the answer.

use axum::http::{HeaderMap, header};
use axum::response::Response;

use super::{WebState, pages, session};
use crate::auth::Scope;

/// The user handle a JSON request is for, or the response refusing it
/// (`401`/`403` with the bearer challenge, as the MCP endpoint answers).
pub async fn json_user(state: &WebState, headers: &HeaderMap) -> Result<String, Response> {
    if !headers.contains_key(header::AUTHORIZATION) {
        match session::current(state, headers).await {
            Ok(Some(s)) => return Ok(s.user.handle),
            Ok(None) => {}
            Err(e) => return Err(pages::page_error(&e)),
        }
    }
    let caller = crate::serve::require(&state.serve, headers, Scope::RecordsRead).await?;
    Ok(caller.user.handle)
}
