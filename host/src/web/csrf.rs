//! Cross-site request forgery: every state-changing POST of a signed-in
//! page carries its session's CSRF token (`csrf` in the form), compared in
//! constant time with the one the platform derives for the session; and a
//! request whose `Origin` header is present must come from this server's
//! own origin. Either failing is `403` and nothing changes.
//!
//! The session cookie is `SameSite=Strict` too, so a cross-site form post
//! carries no session at all in current browsers: the token is the second
//! wall, for browsers and proxies that do not honour SameSite.

use std::net::SocketAddr;

use axum::http::{HeaderMap, header};

use crate::serve::ServeState;

/// Why a state-changing request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsrfError {
    /// The form had no `csrf` field.
    #[error("the form carries no CSRF token; reload the page and try again")]
    Missing,
    /// The token is not this session's.
    #[error("the form's CSRF token is not this session's; reload the page and try again")]
    Wrong,
    /// The request came from another site.
    #[error("the request came from another site ({0}); it was not carried out")]
    ForeignOrigin(String),
}

/// Compares the token a form carried with the session's, in constant time.
pub fn check_token(expected: &str, given: Option<&str>) -> Result<(), CsrfError> {
    let given = given.ok_or(CsrfError::Missing)?;
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    let mut diff = a.len() ^ b.len();
    for (i, x) in a.iter().enumerate() {
        diff |= usize::from(x ^ b.get(i).copied().unwrap_or(0));
    }
    if diff == 0 && !a.is_empty() {
        Ok(())
    } else {
        Err(CsrfError::Wrong)
    }
}

/// This server's own origins: the public URL's, and the bound address's
/// (on loopback also under `localhost` and both loopback addresses).
pub fn own_origins(public_url: Option<&str>, bound: Option<SocketAddr>) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(url) = public_url
        && let Some((scheme, rest)) = url.split_once("://")
    {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
        out.push(format!(
            "{}://{}",
            scheme.to_ascii_lowercase(),
            authority.to_ascii_lowercase()
        ));
    }
    if let Some(addr) = bound {
        out.push(format!("http://{addr}"));
        if addr.ip().is_loopback() {
            let port = addr.port();
            out.extend([
                format!("http://localhost:{port}"),
                format!("http://127.0.0.1:{port}"),
                format!("http://[::1]:{port}"),
            ]);
        }
    }
    out
}

/// Refuses a request whose `Origin` header (if any) is not one of `own`.
pub fn check_origin(headers: &HeaderMap, own: &[String]) -> Result<(), CsrfError> {
    let mut values = headers.get_all(header::ORIGIN).iter();
    let Some(value) = values.next() else { return Ok(()) };
    let text = value.to_str().unwrap_or("(not text)");
    if values.next().is_some() || !own.iter().any(|o| o.eq_ignore_ascii_case(text)) {
        return Err(CsrfError::ForeignOrigin(
            crate::text::sanitize_line(text).chars().take(100).collect(),
        ));
    }
    Ok(())
}

/// [`check_origin`] against the server of `state`.
pub fn check_request_origin(state: &ServeState, headers: &HeaderMap) -> Result<(), CsrfError> {
    let own = own_origins(state.config.public_url.as_deref(), state.bound.get().copied());
    check_origin(headers, &own)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_sessions_own_token_passes() {
        assert_eq!(check_token("abc123", Some("abc123")), Ok(()));
        assert_eq!(check_token("abc123", None), Err(CsrfError::Missing));
        for wrong in ["", "abc12", "abc1234", "abc124", "ABC123"] {
            assert_eq!(check_token("abc123", Some(wrong)), Err(CsrfError::Wrong), "{wrong}");
        }
        // An empty expected token (never issued) matches nothing.
        assert_eq!(check_token("", Some("")), Err(CsrfError::Wrong));
    }

    fn origin(value: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(v) = value {
            h.insert(header::ORIGIN, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_our_own_origin_or_none_passes() {
        let own = own_origins(
            Some("https://health.example/mcp"),
            Some("127.0.0.1:8787".parse().unwrap()),
        );
        assert!(own.contains(&"https://health.example".to_string()));
        assert!(own.contains(&"http://localhost:8787".to_string()));
        assert!(check_origin(&origin(None), &own).is_ok());
        assert!(check_origin(&origin(Some("https://health.example")), &own).is_ok());
        assert!(check_origin(&origin(Some("http://127.0.0.1:8787")), &own).is_ok());
        for foreign in [
            "https://evil.example",
            "null",
            "http://127.0.0.1:9999",
            "https://health.example.evil",
        ] {
            assert!(
                matches!(
                    check_origin(&origin(Some(foreign)), &own),
                    Err(CsrfError::ForeignOrigin(_))
                ),
                "{foreign}"
            );
        }
        let public = own_origins(None, Some("0.0.0.0:443".parse().unwrap()));
        assert_eq!(public, ["http://0.0.0.0:443"]);
    }
}
