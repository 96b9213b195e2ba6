//! The consent page: server-rendered HTML at `/` of `healthplug serve`,
//! where a signed-in user sees every installed plugin's requests in plain
//! words beside what they granted, grants or revokes field by field and
//! answers upgrades ("My plugins"), reads what each plugin read ("What
//! was read"), and downloads, imports or erases their data ("My data"),
//! all with plain forms (no JavaScript). Sign-in is by one-time link
//! (`healthplug login-link`), then a server-side session in an
//! `HttpOnly`, `SameSite=Strict` cookie.
//!
//! Rules:
//! 1. Pages read only the session cookie, never a bearer token; the MCP
//!    endpoint reads only the bearer token, never a cookie. The pages'
//!    JSON endpoints (`/activity.json`, `/data/export.json`) take either:
//!    the session, or a bearer credential with `records:read`
//!    (`access.rs`).
//! 2. The user is the session's, never a value from a URL or a form.
//! 3. Every state-changing POST carries the session's CSRF token and, if
//!    the browser sent an `Origin`, it is this server's (`csrf.rs`).
//! 4. Every response carries a strict Content-Security-Policy (no inline
//!    script or style, no third-party anything), `nosniff`, a
//!    `same-origin` referrer policy (not `no-referrer`: with that, browsers
//!    send `Origin: null` on every form post, which rule 3 refuses), and
//!    pages are `no-store`.
//! 5. Every manifest string is sanitised (`view.rs`) and HTML-escaped by
//!    the template engine (askama, checked at compile time).
//!
//! Layering: web sits beside `serve` at the top and calls the platform.

mod access;
mod activity;
mod csrf;
mod data;
mod form;
mod pages;
mod reconsent;
mod review;
mod session;
mod upload;
mod view;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::serve::ServeState;

pub use csrf::{CsrfError, check_token, own_origins};
pub use form::{FormError, RevokeChoice, grant_requests, revoke_choice};

/// The Content-Security-Policy of every response.
pub const CSP: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The stylesheet, served at `/static/app.css`.
const STYLESHEET: &str = include_str!("../../static/app.css");

/// A message shown once on the next page of a session.
#[derive(Clone, Debug)]
pub struct Flash {
    /// True for a refusal.
    pub error: bool,
    /// The text.
    pub text: String,
}

/// The state of the pages: the service's, and one pending flash message
/// per session (kept in memory: a restart loses at most a message).
#[derive(Clone)]
pub struct WebState {
    /// The service.
    pub serve: Arc<ServeState>,
    flashes: Arc<Mutex<HashMap<String, Flash>>>,
}

impl WebState {
    fn set_flash(&self, session: &str, flash: Flash) {
        let mut map = self.flashes.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() > 10_000 {
            map.clear();
        }
        map.insert(session.to_string(), flash);
    }

    fn take_flash(&self, session: &str) -> Option<Flash> {
        self.flashes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(session)
    }

    /// Whether cookies get `Secure`: everywhere but a loopback server
    /// whose public URL (if any) is not https.
    fn secure(&self) -> bool {
        let config = &self.serve.config;
        !config.listen.ip().is_loopback() || config.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
    }
}

/// An error of a page handler.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// The platform refused or failed.
    #[error(transparent)]
    Host(#[from] crate::HostError),
    /// A blocking task failed.
    #[error("the request could not be completed")]
    Task,
}

/// Runs platform work off the reactor.
async fn blocking<T: Send + 'static>(
    state: &WebState,
    f: impl FnOnce(&crate::Host) -> Result<T, crate::HostError> + Send + 'static,
) -> Result<T, WebError> {
    let serve = state.serve.clone();
    Ok(tokio::task::spawn_blocking(move || f(&serve.host))
        .await
        .map_err(|_| WebError::Task)??)
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// Adds the security headers to every response of the pages.
async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The pages' routes, to merge into the service's router.
pub fn router<S: Clone + Send + Sync + 'static>(serve: Arc<ServeState>) -> Router<S> {
    let state = WebState {
        serve,
        flashes: Arc::new(Mutex::new(HashMap::new())),
    };
    Router::new()
        .route("/", get(pages::index))
        .route("/static/app.css", get(stylesheet))
        .route("/login/{secret}", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route("/consent/{plugin}/grant", post(pages::grant))
        .route("/consent/{plugin}/revoke", post(pages::revoke))
        .route("/consent/{plugin}/accept", post(reconsent::accept))
        .route("/consent/{plugin}/decline", post(reconsent::decline))
        .route("/activity", get(activity::page))
        .route("/activity.json", get(activity::json))
        .route("/data", get(data::page))
        .route("/data/export.json", get(data::export))
        .route(
            "/data/import",
            post(upload::import).layer(axum::extract::DefaultBodyLimit::max(upload::UPLOAD_MAX)),
        )
        .route("/data/erase", post(data::erase))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// Where sign-in links point: `public_url`'s scheme and authority, else
/// `http://<listen>` (the CLI's `--base` overrides both).
pub fn link_base(public_url: Option<&str>, listen: SocketAddr) -> String {
    if let Some(url) = public_url
        && let Some((scheme, rest)) = url.split_once("://")
    {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
        return format!("{scheme}://{authority}");
    }
    format!("http://{listen}")
}

/// The sign-in URL of a link secret.
pub fn login_url(base: &str, secret: &str) -> String {
    format!("{}/login/{secret}", base.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_point_at_the_public_origin_or_the_listen_address() {
        let listen: SocketAddr = "127.0.0.1:8787".parse().unwrap();
        assert_eq!(link_base(None, listen), "http://127.0.0.1:8787");
        assert_eq!(
            link_base(Some("https://health.example/mcp"), listen),
            "https://health.example"
        );
        assert_eq!(
            login_url("https://h.example/", "hpl_x"),
            "https://h.example/login/hpl_x"
        );
    }
}
