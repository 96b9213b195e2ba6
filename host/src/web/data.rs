//! "My data" (`GET /data`): what the vault holds for the signed-in user,
//! counted per type and source; the download of everything as JSON
//! (`GET /data/export.json`, the CLI's `records --json` with provenance,
//! to the session or a bearer credential with `records:read`); the import
//! form (handled in `upload.rs`); and erasing the account
//! (`POST /data/erase`), which needs the user to type their user name.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::pages::{MessagePage, checked_post, not_signed_in, page_error, render};
use super::view::{line, type_words};
use super::{Flash, WebError, WebState, access, blocking, form, session};
use crate::platform::{HoldingCount, WebSession};

/// One row of the holdings table.
pub struct HoldingRow {
    data: String,
    origin: String,
    samples: u64,
    period: String,
}

/// An installed connector the import form offers.
pub struct ConnectorOpt {
    id: String,
    name: String,
}

#[derive(Template)]
#[template(path = "data.html")]
struct DataPage {
    title: String,
    user: Option<String>,
    csrf: String,
    flash: Option<Flash>,
    current: &'static str,
    holdings: Vec<HoldingRow>,
    total: u64,
    connectors: Vec<ConnectorOpt>,
}

fn holding_row(h: &HoldingCount) -> HoldingRow {
    let day = |t: &str| t.get(..10).unwrap_or(t).to_string();
    let (first, last) = (day(&h.first), day(&h.last));
    HoldingRow {
        data: type_words(&h.data_type),
        origin: line(&h.origin),
        samples: h.samples,
        period: if first == last {
            first
        } else {
            format!("{first} to {last}")
        },
    }
}

/// The "My data" page for `session` with `status` and a message.
pub async fn data_page(state: &WebState, session: WebSession, status: StatusCode, flash: Option<Flash>) -> Response {
    let handle = session.user.handle.clone();
    let loaded = blocking(state, move |host| {
        let holdings = host.holdings(&handle)?;
        let connectors = host
            .plugins()?
            .into_iter()
            .filter(|p| p.world == "connector")
            .map(|p| ConnectorOpt {
                name: line(&p.name),
                id: p.id,
            })
            .collect();
        Ok((holdings, connectors))
    })
    .await;
    match loaded {
        Ok((holdings, connectors)) => render(
            status,
            &DataPage {
                title: "My data".into(),
                user: Some(session.user.handle.clone()),
                csrf: session.csrf.clone(),
                flash,
                current: "data",
                total: holdings.iter().map(|h| h.samples).sum(),
                holdings: holdings.iter().map(holding_row).collect(),
                connectors,
            },
        ),
        Err(e) => page_error(&e),
    }
}

/// "My data" again with a refusal (`422`).
pub async fn data_refused(state: &WebState, session: WebSession, text: String) -> Response {
    data_page(
        state,
        session,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some(Flash { error: true, text }),
    )
    .await
}

/// `GET /data`.
pub async fn page(State(state): State<WebState>, headers: HeaderMap) -> Response {
    match session::current(&state, &headers).await {
        Ok(Some(session)) => {
            let flash = state.take_flash(&session.id);
            data_page(&state, session, StatusCode::OK, flash).await
        }
        Ok(None) => not_signed_in(),
        Err(e) => page_error(&e),
    }
}

/// `GET /data/export.json`: every record with its provenance, as a file.
pub async fn export(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let handle = match access::json_user(&state, &headers).await {
        Ok(h) => h,
        Err(refusal) => return refusal,
    };
    let who = handle.clone();
    let body = blocking(&state, move |host| {
        let records = host.records(&who, &[])?;
        serde_json::to_vec_pretty(&records).map_err(|e| crate::HostError::Internal(e.into()))
    })
    .await;
    match body {
        Ok(body) => {
            let name = format!("healthplug-export-{}.json", jiff::Timestamp::now().strftime("%Y-%m-%d"));
            let mut response = ([(header::CONTENT_TYPE, "application/json")], body).into_response();
            if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
                response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
            }
            response
        }
        Err(e) => page_error(&e),
    }
}

/// `POST /data/erase`: erases the account when `confirm` is the user's
/// own name; the session ends with it.
pub async fn erase(State(state): State<WebState>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let (session, pairs) = match checked_post(&state, &headers, &body).await {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    let typed = form::first(&pairs, "confirm").unwrap_or("").trim();
    if typed != session.user.handle {
        let text = format!(
            "Nothing was erased: type your user name ({}) exactly to confirm.",
            session.user.handle
        );
        return data_refused(&state, session, text).await;
    }
    let handle = session.user.handle.clone();
    let report = match blocking(&state, move |host| host.erase(&handle)).await {
        Ok(report) => report,
        Err(WebError::Host(e)) => return data_refused(&state, session, e.to_string()).await,
        Err(e) => return page_error(&e),
    };
    let text = format!(
        "Your account was erased: {} samples, {} consents, {} stored plugin entries and {} access tokens were deleted, and the key that encrypted your data was destroyed. You are signed out.",
        report.samples, report.consents, report.storage_entries, report.tokens
    );
    let mut response = render(StatusCode::OK, &MessagePage::new("Account erased", &text));
    if let Ok(value) = HeaderValue::from_str(&session::cleared_cookie(state.secure())) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}
