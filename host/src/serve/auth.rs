//! Who a request acts for: a bearer credential from the `Authorization`
//! header (never a query parameter, never a cookie), checked as an opaque
//! token of this service or as a JWT of the configured identity provider,
//! or the one local user of a loopback `local-user` server. Also the
//! protected-resource metadata (RFC 9728) clients read to find how to get
//! a token.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::door::Refusal;
use super::state::{Caller, Credential, ServeState};
use crate::auth::{Scope, Scopes};

/// The longest credential read, bytes.
const MAX_CREDENTIAL: usize = 16 * 1024;

/// The metadata URL for a resource (RFC 9728 §3.1: the well-known path
/// inserted between the host and the resource's path).
pub fn metadata_url(resource: &str) -> String {
    let (scheme, rest) = resource.split_once("://").unwrap_or(("http", resource));
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    format!("{scheme}://{authority}/.well-known/oauth-protected-resource{path}")
}

fn unauthenticated(presented: bool, reason: &str) -> Refusal {
    Refusal::Unauthenticated {
        presented,
        reason: reason.to_string(),
    }
}

/// The bearer credential of a request.
fn bearer(headers: &HeaderMap) -> Result<&str, Refusal> {
    let mut values = headers.get_all(axum::http::header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(unauthenticated(false, "a bearer token is required"));
    };
    if values.next().is_some() {
        return Err(unauthenticated(true, "more than one Authorization header"));
    }
    let value = value
        .to_str()
        .map_err(|_| unauthenticated(true, "the Authorization header is not ASCII"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| unauthenticated(true, "the Authorization header is not `Bearer <token>`"))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(unauthenticated(true, "only Bearer credentials are accepted"));
    }
    let token = token.trim();
    if token.is_empty() || token.len() > MAX_CREDENTIAL {
        return Err(unauthenticated(true, "the bearer token is empty or too long"));
    }
    Ok(token)
}

/// Authenticates a request.
pub async fn authenticate(state: &Arc<ServeState>, headers: &HeaderMap) -> Result<Caller, Refusal> {
    if let Some(local) = &state.local {
        return Ok(local.clone());
    }
    let token = bearer(headers)?.to_string();
    if token.starts_with("eyJ") && token.matches('.').count() == 2 {
        return jwt_caller(state, &token).await;
    }
    let st = state.clone();
    let grant = tokio::task::spawn_blocking(move || st.host.authenticate_token(&token))
        .await
        .map_err(|_| unauthenticated(true, "the token could not be checked"))?;
    match grant {
        Ok(grant) => Ok(Caller {
            user: grant.user,
            scopes: grant.scopes,
            credential: Credential::Token,
        }),
        Err(e) => {
            tracing::info!(reason = %e, "a bearer token was refused");
            Err(unauthenticated(true, "the token is not valid for this service"))
        }
    }
}

async fn jwt_caller(state: &Arc<ServeState>, token: &str) -> Result<Caller, Refusal> {
    let Some(verifier) = &state.jwt else {
        return Err(unauthenticated(true, "this service accepts no JWTs"));
    };
    let verified = verifier.verify(token).await.map_err(|e| {
        if e.is_token_problem() {
            tracing::info!(reason = %e, "a JWT was refused");
            unauthenticated(true, &e.to_string())
        } else {
            // The identity provider's keys could not be read: the detail
            // (URLs, network causes) is for the operator, not the caller.
            tracing::warn!(reason = %e, "a JWT could not be checked");
            unauthenticated(true, "the token could not be checked now; retry later")
        }
    })?;
    let st = state.clone();
    let handle = verified.user.clone();
    let user = tokio::task::spawn_blocking(move || st.host.vault().find_user(&handle))
        .await
        .map_err(|_| unauthenticated(true, "the token could not be checked"))?
        .map_err(|_| unauthenticated(true, "the token could not be checked"))?
        .ok_or_else(|| unauthenticated(true, "the token's user has no healthplug account"))?;
    Ok(Caller {
        user,
        scopes: verified.scopes,
        credential: Credential::Jwt,
    })
}

/// The caller of a request outside MCP that needs `scope` (the consent
/// page's JSON endpoints), or the `401`/`403` refusing it, with the same
/// challenge as the MCP endpoint.
pub async fn require(state: &Arc<ServeState>, headers: &HeaderMap, scope: Scope) -> Result<Caller, Response> {
    let caller = authenticate(state, headers)
        .await
        .map_err(|r| super::door::refuse(state, r))?;
    if !caller.scopes.allows(scope) {
        return Err(super::door::refuse(state, Refusal::Forbidden(scope)));
    }
    Ok(caller)
}

/// `GET /.well-known/oauth-protected-resource[/<path>]`.
pub async fn resource_metadata(State(state): State<Arc<ServeState>>) -> Response {
    let mut doc = serde_json::json!({
        "resource": state.resource(),
        "resource_name": "healthplug",
        "scopes_supported": Scopes::tools().iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "bearer_methods_supported": ["header"],
    });
    if let Some(jwt) = &state.jwt
        && let Some(obj) = doc.as_object_mut()
    {
        obj.insert("authorization_servers".into(), serde_json::json!([jwt.issuer()]));
    }
    axum::Json(doc).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metadata_url_inserts_the_well_known_path() {
        assert_eq!(
            metadata_url("https://health.example/mcp"),
            "https://health.example/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            metadata_url("http://127.0.0.1:8787"),
            "http://127.0.0.1:8787/.well-known/oauth-protected-resource"
        );
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(axum::http::header::AUTHORIZATION, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_one_bearer_header_is_read() {
        assert_eq!(bearer(&headers(&["Bearer abc"])).ok(), Some("abc"));
        assert_eq!(bearer(&headers(&["bearer  abc "])).ok(), Some("abc"));
        for bad in [vec![], vec!["Basic abc"], vec!["Bearer"], vec!["Bearer a", "Bearer b"]] {
            assert!(bearer(&headers(&bad)).is_err(), "{bad:?}");
        }
        let long = format!("Bearer {}", "a".repeat(MAX_CREDENTIAL + 1));
        assert!(bearer(&headers(&[&long])).is_err());
    }
}
