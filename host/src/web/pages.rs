//! The pages: "My plugins" (`GET /`), the grant and revoke forms' posts
//! (`POST /consent/<plugin>/grant|revoke`), and the plain message page
//! every refusal uses. A post that changes something answers `303` back
//! to `/` with a flash message; a refusal (the platform's, with the CLI's
//! words) is shown on the page with `422`; a missing or wrong CSRF token
//! or a foreign origin is `403` and changes nothing.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::view::{self, PluginView};
use super::{Flash, WebError, WebState, blocking, csrf, form, session};
use crate::platform::{GrantRequest, WebSession};
use crate::vault::Capability;

/// A page with a heading and a paragraph.
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    title: String,
    user: Option<String>,
    csrf: String,
    flash: Option<Flash>,
    current: &'static str,
    text: String,
}

impl MessagePage {
    /// A message for someone not (or no longer) signed in.
    pub fn new(heading: &str, text: &str) -> MessagePage {
        MessagePage {
            title: heading.into(),
            user: None,
            csrf: String::new(),
            flash: None,
            current: "",
            text: text.into(),
        }
    }
}

/// "My plugins".
#[derive(Template)]
#[template(path = "plugins.html")]
struct PluginsPage {
    title: String,
    user: Option<String>,
    csrf: String,
    flash: Option<Flash>,
    current: &'static str,
    plugins: Vec<PluginView>,
}

/// Renders `page` with `status` as HTML.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::warn!(reason = %e, "a page could not be rendered");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be rendered\n").into_response()
        }
    }
}

/// The page for an unexpected failure (details to the log only).
pub fn page_error(e: &WebError) -> Response {
    tracing::warn!(reason = %e, "a page failed");
    render(
        StatusCode::INTERNAL_SERVER_ERROR,
        &MessagePage::new(
            "Something went wrong",
            "The request could not be completed. Try again later.",
        ),
    )
}

/// `401` for a page that needs a session.
pub fn not_signed_in() -> Response {
    render(
        StatusCode::UNAUTHORIZED,
        &MessagePage::new(
            "Please sign in",
            "You are not signed in. Ask for a sign-in link (healthplug login-link <your name>) and open it in this browser.",
        ),
    )
}

/// The "My plugins" page for `session` with `status`.
async fn plugins_page(state: &WebState, session: WebSession, status: StatusCode, flash: Option<Flash>) -> Response {
    let handle = session.user.handle.clone();
    match blocking(state, move |host| view::plugins(host, &handle)).await {
        Ok(plugins) => render(
            status,
            &PluginsPage {
                title: "My plugins".into(),
                user: Some(session.user.handle.clone()),
                csrf: session.csrf.clone(),
                flash,
                current: "plugins",
                plugins,
            },
        ),
        Err(e) => page_error(&e),
    }
}

/// `GET /`.
pub async fn index(State(state): State<WebState>, headers: HeaderMap) -> Response {
    match session::current(&state, &headers).await {
        Ok(Some(session)) => {
            let flash = state.take_flash(&session.id);
            plugins_page(&state, session, StatusCode::OK, flash).await
        }
        Ok(None) => not_signed_in(),
        Err(e) => page_error(&e),
    }
}

/// The session and form pairs of a state-changing post, or the response
/// refusing it (`401` without a session, `403` without the right token or
/// from another origin).
pub(super) async fn checked_post(
    state: &WebState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(WebSession, Vec<(String, String)>), Response> {
    let session = match session::current(state, headers).await {
        Ok(Some(session)) => session,
        Ok(None) => return Err(not_signed_in()),
        Err(e) => return Err(page_error(&e)),
    };
    let pairs = form::pairs(body);
    csrf::check_request_origin(&state.serve, headers)
        .and_then(|()| csrf::check_token(&session.csrf, form::first(&pairs, "csrf")))
        .map_err(|e| render(StatusCode::FORBIDDEN, &MessagePage::new("Refused", &e.to_string())))?;
    Ok((session, pairs))
}

/// Back to `/` with a flash message.
pub(super) fn done(state: &WebState, session: &WebSession, text: String) -> Response {
    state.set_flash(&session.id, Flash { error: false, text });
    Redirect::to("/").into_response()
}

/// The page again with a refusal (`422`).
pub(super) async fn refused(state: &WebState, session: WebSession, text: String) -> Response {
    plugins_page(
        state,
        session,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some(Flash { error: true, text }),
    )
    .await
}

fn granted_words(plugin: &str, req: &GrantRequest) -> String {
    let mut what: Vec<String> = req.types.iter().map(|t| t.info().name.to_string()).collect();
    if req.storage {
        what.push("storage".into());
    }
    if let Some(origins) = &req.network {
        what.push(format!("internet access to {}", origins.join(", ")));
    }
    format!("{plugin}: {}", what.join(", "))
}

/// `POST /consent/<plugin>/grant`.
pub async fn grant(
    State(state): State<WebState>,
    Path(plugin): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (session, pairs) = match checked_post(&state, &headers, &body).await {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    let requests = match form::grant_requests(&pairs) {
        Ok(r) => r,
        Err(e) => return refused(&state, session, e.to_string()).await,
    };
    let words: Vec<String> = requests.iter().map(|r| granted_words(&plugin, r)).collect();
    let (handle, id) = (session.user.handle.clone(), plugin.clone());
    match blocking(&state, move |host| host.grant_all(&handle, &id, &requests)).await {
        Ok(_) => done(&state, &session, format!("Granted {}.", words.join("; "))),
        Err(WebError::Host(e)) => {
            let text = format!("{}. Nothing was changed.", e.to_string().trim_end_matches('.'));
            refused(&state, session, text).await
        }
        Err(e) => page_error(&e),
    }
}

/// `POST /consent/<plugin>/revoke`.
pub async fn revoke(
    State(state): State<WebState>,
    Path(plugin): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (session, pairs) = match checked_post(&state, &headers, &body).await {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    let choice = match form::revoke_choice(&pairs) {
        Ok(c) => c,
        Err(e) => return refused(&state, session, e.to_string()).await,
    };
    let (handle, id) = (session.user.handle.clone(), plugin.clone());
    let outcome = blocking(&state, move |host| match choice {
        form::RevokeChoice::All => host.revoke(&handle, &id, None),
        form::RevokeChoice::Type(ty) => host.revoke(&handle, &id, Some(&[ty])),
        form::RevokeChoice::Storage => host.revoke_capability(&handle, &id, Capability::Storage),
        form::RevokeChoice::Network => host.revoke_capability(&handle, &id, Capability::Network),
    })
    .await;
    match outcome {
        Ok(report) => {
            let mut what: Vec<String> = report.types.iter().map(|t| t.info().name.to_string()).collect();
            what.extend(report.capabilities.iter().map(|c| c.id().to_string()));
            let text = if what.is_empty() {
                format!("Nothing to stop: {plugin} had no active grant.")
            } else {
                format!(
                    "Stopped sharing {} with {plugin}; effective on its next use.",
                    what.join(", ")
                )
            };
            done(&state, &session, text)
        }
        Err(WebError::Host(e)) => refused(&state, session, e.to_string()).await,
        Err(e) => page_error(&e),
    }
}
