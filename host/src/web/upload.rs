//! Importing an export file from the browser (`POST /data/import`,
//! `multipart/form-data`). The body is read as a stream: the session,
//! origin and CSRF token are checked before a single byte of the file is
//! kept (the form puts `csrf` and `connector` before `file`, and a body in
//! another order is refused), then the file is written chunk by chunk to
//! a private temporary file in the home directory (mode 0600, deleted
//! when the import ends, whatever happens) and imported through the chosen
//! connector exactly as `healthplug import` does, with the same per-type
//! report. The connector needs the user's write grant, as on the CLI.

use askama::Template;
use axum::extract::multipart::Field;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use tokio::io::AsyncWriteExt;

use super::data::data_refused;
use super::pages::{MessagePage, not_signed_in, page_error, render};
use super::view::{line, type_words};
use super::{Flash, WebError, WebState, blocking, csrf, session};
use crate::platform::{ImportReport, WebSession};

/// The largest upload, bytes (an Apple Health export can pass 1 GB).
pub const UPLOAD_MAX: usize = 2 * 1024 * 1024 * 1024;

/// One row of the report.
pub struct CountRow {
    what: String,
    count: String,
}

#[derive(Template)]
#[template(path = "imported.html")]
struct ImportedPage {
    title: String,
    user: Option<String>,
    csrf: String,
    flash: Option<Flash>,
    current: &'static str,
    file: String,
    connector: String,
    total: u64,
    duplicates: u64,
    read: u64,
    imported: Vec<CountRow>,
    skipped: Vec<CountRow>,
    problems: Vec<CountRow>,
    problems_total: u32,
}

fn report_page(session: &WebSession, report: &ImportReport) -> ImportedPage {
    ImportedPage {
        title: "Import done".into(),
        user: Some(session.user.handle.clone()),
        csrf: session.csrf.clone(),
        flash: None,
        current: "data",
        file: line(&report.file),
        connector: line(&report.connector),
        total: report.total_imported,
        duplicates: report.duplicates,
        read: report.records_read,
        imported: report
            .imported
            .iter()
            .map(|c| CountRow {
                what: type_words(&c.data_type),
                count: c.count.to_string(),
            })
            .collect(),
        skipped: report
            .skipped
            .iter()
            .map(|s| CountRow {
                what: line(&s.reason),
                count: s.count.to_string(),
            })
            .collect(),
        problems: report
            .problems
            .iter()
            .take(20)
            .map(|p| CountRow {
                what: line(&p.reason),
                count: p.line.to_string(),
            })
            .collect(),
        problems_total: report.problems_total,
    }
}

/// A refused upload (`400`/`403`), nothing kept.
fn refused(status: StatusCode, text: &str) -> Response {
    render(status, &MessagePage::new("Not imported", text))
}

/// The text of the next field named `name`, or why the form is wrong.
async fn text_field(form: &mut Multipart, name: &str) -> Result<String, String> {
    match form.next_field().await {
        Ok(Some(field)) if field.name() == Some(name) => field
            .text()
            .await
            .map_err(|e| format!("the form could not be read: {e}")),
        Ok(_) => Err(format!("the form is not the import form (expected `{name}` here)")),
        Err(e) => Err(format!("the form could not be read: {e}")),
    }
}

/// A file name's extension, if short and plain (kept so a connector that
/// tells formats apart by it sees the same name ending).
fn extension(name: &str) -> String {
    match name.rsplit_once('.') {
        Some((_, ext)) if !ext.is_empty() && ext.len() <= 8 && ext.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            format!(".{}", ext.to_ascii_lowercase())
        }
        _ => String::new(),
    }
}

/// Streams `field` into a private temporary file under `home`.
async fn save(field: &mut Field<'_>, home: &std::path::Path, ext: &str) -> Result<tempfile::NamedTempFile, String> {
    let dir = home.join("uploads");
    let temp = std::fs::create_dir_all(&dir)
        .and_then(|()| tempfile::Builder::new().prefix("upload-").suffix(ext).tempfile_in(&dir))
        .map_err(|e| format!("the upload could not be stored: {e}"))?;
    let mut out = temp
        .reopen()
        .map(tokio::fs::File::from_std)
        .map_err(|e| format!("the upload could not be stored: {e}"))?;
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| format!("the upload was cut short: {e}"))?
    {
        out.write_all(&chunk)
            .await
            .map_err(|e| format!("the upload could not be stored: {e}"))?;
    }
    out.flush()
        .await
        .map_err(|e| format!("the upload could not be stored: {e}"))?;
    Ok(temp)
}

/// `POST /data/import`.
pub async fn import(State(state): State<WebState>, headers: HeaderMap, mut form: Multipart) -> Response {
    let session = match session::current(&state, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return not_signed_in(),
        Err(e) => return page_error(&e),
    };
    let token = match text_field(&mut form, "csrf").await {
        Ok(t) => t,
        Err(text) => return refused(StatusCode::FORBIDDEN, &format!("Refused: {text}")),
    };
    if let Err(e) =
        csrf::check_request_origin(&state.serve, &headers).and_then(|()| csrf::check_token(&session.csrf, Some(&token)))
    {
        return refused(StatusCode::FORBIDDEN, &e.to_string());
    }
    let connector = match text_field(&mut form, "connector").await {
        Ok(c) => c,
        Err(text) => return refused(StatusCode::BAD_REQUEST, &text),
    };
    let mut field = match form.next_field().await {
        Ok(Some(f)) if f.name() == Some("file") => f,
        _ => return refused(StatusCode::BAD_REQUEST, "the form carries no file to import"),
    };
    let original = line(field.file_name().unwrap_or("upload"));
    let temp = match save(&mut field, state.serve.host.home(), &extension(&original)).await {
        Ok(t) => t,
        Err(text) => return refused(StatusCode::BAD_REQUEST, &text),
    };
    let (handle, path) = (session.user.handle.clone(), temp.path().to_path_buf());
    let id = connector.clone();
    let outcome = blocking(&state, move |host| {
        host.import(&handle, &id, &path, &serde_json::json!({}))
    })
    .await;
    drop(temp);
    match outcome {
        Ok(mut report) => {
            report.file = original;
            render(StatusCode::OK, &report_page(&session, &report))
        }
        Err(WebError::Host(e)) => {
            let text = format!("{} could not import {original}: {e}", line(&connector));
            data_refused(&state, session, text).await
        }
        Err(e) => page_error(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_short_extensions_are_kept() {
        assert_eq!(extension("export.XML"), ".xml");
        assert_eq!(extension("mfp.csv"), ".csv");
        assert_eq!(extension("noext"), "");
        assert_eq!(extension("a.tar/../../x"), "");
        assert_eq!(extension("a.verylongextension"), "");
        assert_eq!(extension("a.c v"), "");
    }
}
