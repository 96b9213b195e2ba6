//! Signing in and out. `GET /login/<secret>` only shows a page with a
//! "Sign in" button (a link previewer or a mail scanner fetching the link
//! cannot use it up); its `POST` uses the link once and sets the session
//! cookie. `POST /logout` ends the session. The cookie is `HttpOnly`,
//! `SameSite=Strict`, `Path=/`, and `Secure` unless the server listens on
//! loopback (where browsers allow plain http) without an https public URL.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::pages::{MessagePage, page_error, render};
use super::{WebState, blocking, csrf, form};
use crate::platform::{LinkStatus, SESSION_LIFETIME, WebSession};

/// The session cookie's name.
pub const COOKIE: &str = "healthplug_session";

/// The session cookie's value, if the request carries one.
fn cookie_secret(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().to_string())
}

/// The open session of a request (from its cookie only), if any.
pub async fn current(state: &WebState, headers: &HeaderMap) -> Result<Option<WebSession>, super::WebError> {
    let Some(secret) = cookie_secret(headers) else {
        return Ok(None);
    };
    blocking(state, move |host| host.web_session(&secret)).await
}

/// The `Set-Cookie` value opening a session.
pub fn session_cookie(secret: &str, secure: bool) -> String {
    format!(
        "{COOKIE}={secret}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{}",
        SESSION_LIFETIME.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value clearing it.
pub(super) fn cleared_cookie(secure: bool) -> String {
    format!(
        "{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

fn link_refusal(status: &LinkStatus) -> Response {
    let (code, heading, text) = match status {
        LinkStatus::Used => (
            StatusCode::GONE,
            "This sign-in link was used already",
            "Each link signs in once. Ask for a new one: healthplug login-link <your name>.",
        ),
        LinkStatus::Expired => (
            StatusCode::GONE,
            "This sign-in link has expired",
            "Links work for a short time only. Ask for a new one: healthplug login-link <your name>.",
        ),
        LinkStatus::Unknown | LinkStatus::Valid(_) => (
            StatusCode::NOT_FOUND,
            "This sign-in link is not valid",
            "Check that the whole link was copied, or ask for a new one: healthplug login-link <your name>.",
        ),
    };
    render(code, &MessagePage::new(heading, text))
}

/// The page a sign-in link opens: a button, nothing used yet.
#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    title: String,
    user: Option<String>,
    csrf: String,
    flash: Option<super::Flash>,
    current: &'static str,
    action: String,
}

/// `GET /login/<secret>`.
pub async fn login_page(State(state): State<WebState>, Path(secret): Path<String>) -> Response {
    let check = secret.clone();
    match blocking(&state, move |host| host.login_link_status(&check)).await {
        Ok(LinkStatus::Valid(_)) => render(
            StatusCode::OK,
            &LoginPage {
                title: "Sign in".into(),
                user: None,
                csrf: String::new(),
                flash: None,
                current: "",
                action: format!("/login/{secret}"),
            },
        ),
        Ok(status) => link_refusal(&status),
        Err(e) => page_error(&e),
    }
}

/// `POST /login/<secret>`: uses the link, opens the session.
pub async fn login(State(state): State<WebState>, Path(secret): Path<String>, headers: HeaderMap) -> Response {
    if let Err(e) = csrf::check_request_origin(&state.serve, &headers) {
        return render(
            StatusCode::FORBIDDEN,
            &MessagePage::new("Not signed in", &e.to_string()),
        );
    }
    match blocking(&state, move |host| host.sign_in(&secret)).await {
        Ok(Ok(signed_in)) => {
            let mut response = Redirect::to("/").into_response();
            if let Ok(value) = HeaderValue::from_str(&session_cookie(&signed_in.secret, state.secure())) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Ok(Err(status)) => link_refusal(&status),
        Err(e) => page_error(&e),
    }
}

/// `POST /logout`: ends the session (CSRF-checked) and clears the cookie.
pub async fn logout(State(state): State<WebState>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let session = match current(&state, &headers).await {
        Ok(Some(session)) => session,
        Ok(None) => return super::pages::not_signed_in(),
        Err(e) => return page_error(&e),
    };
    let pairs = form::pairs(&body);
    if let Err(e) = csrf::check_request_origin(&state.serve, &headers)
        .and_then(|()| csrf::check_token(&session.csrf, form::first(&pairs, "csrf")))
    {
        return render(StatusCode::FORBIDDEN, &MessagePage::new("Refused", &e.to_string()));
    }
    if let Err(e) = blocking(&state, move |host| host.sign_out(&session)).await {
        return page_error(&e);
    }
    let mut response = render(
        StatusCode::OK,
        &MessagePage::new(
            "Signed out",
            "You are signed out. Close this tab, or sign in again with a new link.",
        ),
    );
    if let Ok(value) = HeaderValue::from_str(&cleared_cookie(state.secure())) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_read_from_any_cookie_header_and_set_strict() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, "a=1; healthplug_session=hps_x".parse().unwrap());
        assert_eq!(cookie_secret(&h).as_deref(), Some("hps_x"));
        assert_eq!(cookie_secret(&HeaderMap::new()), None);
        let c = session_cookie("hps_y", false);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Path=/"));
        assert!(!c.contains("Secure"));
        assert!(session_cookie("hps_y", true).ends_with("; Secure"));
    }
}
