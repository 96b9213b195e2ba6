//! A plugin's upgrade asking for more, on the page: the pending request in
//! plain words ("Now also asks for Sleep. Asks to read: …; the last 730
//! days; …"), with the technical diff beside it, and the answers
//! (`POST /consent/<plugin>/accept|decline`), through
//! `Host::accept_reconsent` / `Host::decline_reconsent`.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::pages::{checked_post, done, page_error, refused};
use super::view::{asked_text, line};
use super::{WebError, WebState, blocking};
use crate::error::HostError;
use crate::platform::Host;
use crate::vetting::{escalations, widening};

/// What `plugin` asks of `handle` beyond what they agreed to: plain
/// sentences, and the technical changes (one read of both manifests).
pub fn pending(host: &Host, handle: &str, plugin: &str) -> Result<(Vec<String>, Vec<String>), HostError> {
    let Some((old, new)) = host.consented_and_installed(handle, plugin)? else {
        return Ok((Vec::new(), Vec::new()));
    };
    let details: Vec<String> = escalations(&old, &new).into_iter().map(|c| line(&c.what)).collect();
    if details.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let widened = widening(&old, &new);
    let requests = new.type_requests();
    let mut plain: Vec<String> = widened
        .types
        .iter()
        .filter_map(|ty| requests.iter().find(|r| r.data_type == *ty))
        .map(|r| format!("Now also asks for {}. {}", r.data_type.info().name, asked_text(r)))
        .collect();
    if widened.storage {
        plain.push("Now also asks to keep its own notes between uses (storage).".into());
    }
    plain.extend(
        widened
            .origins
            .iter()
            .map(|o| format!("Now also asks to send requests to {}.", line(o))),
    );
    if plain.is_empty() {
        plain.push("Its new version asks for more than you agreed to (see the details).".into());
    }
    Ok((plain, details))
}

async fn answer(
    state: WebState,
    plugin: String,
    headers: HeaderMap,
    body: axum::body::Bytes,
    accept: bool,
) -> Response {
    let (session, _) = match checked_post(&state, &headers, &body).await {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    let (handle, id) = (session.user.handle.clone(), plugin.clone());
    let outcome = blocking(&state, move |host| {
        if accept {
            host.accept_reconsent(&handle, &id).map(Some)
        } else {
            host.decline_reconsent(&handle, &id).map(|()| None)
        }
    })
    .await;
    match outcome {
        Ok(Some(report)) => {
            let mut what: Vec<String> = report.types.iter().map(|t| t.info().name.to_string()).collect();
            if report.storage {
                what.push("storage".into());
            }
            what.extend(report.origins.iter().map(|o| format!("internet access to {o}")));
            done(
                &state,
                &session,
                format!("Accepted: {plugin} may now use {}.", what.join(", ")),
            )
        }
        Ok(None) => done(
            &state,
            &session,
            format!("Declined: {plugin} keeps only what you granted before."),
        ),
        Err(WebError::Host(e)) => refused(&state, session, e.to_string()).await,
        Err(e) => page_error(&e),
    }
}

/// `POST /consent/<plugin>/accept`.
pub async fn accept(
    State(state): State<WebState>,
    Path(plugin): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    answer(state, plugin, headers, body, true).await
}

/// `POST /consent/<plugin>/decline`.
pub async fn decline(
    State(state): State<WebState>,
    Path(plugin): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    answer(state, plugin, headers, body, false).await
}
