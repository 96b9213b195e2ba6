//! "What was read" (`GET /activity`): from the audit log, what each plugin
//! read of the signed-in user's data (types, fields, samples, when, for
//! what purpose), what it wrote or was refused, and every network request
//! it made (method, host, outcome, bytes), filtered by plugin and period
//! with a plain GET form. `GET /activity.json` answers the same as JSON,
//! to the session or to a bearer credential with `records:read`.

use std::collections::HashMap;
use std::str::FromStr;

use askama::Template;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::pages::{not_signed_in, page_error, render};
use super::view::{field_label, line, type_words};
use super::{Flash, WebState, access, blocking, session};
use crate::platform::{ActivityEntry, ActivityFilter, ReadSummary};

/// The most entries a page lists (the newest).
const PAGE_LIMIT: usize = 500;

/// The periods offered, in days (`None`: everything).
const PERIODS: [(&str, Option<i64>, &str); 5] = [
    ("7d", Some(7), "the last 7 days"),
    ("30d", Some(30), "the last 30 days"),
    ("90d", Some(90), "the last 90 days"),
    ("365d", Some(365), "the last year"),
    ("all", None, "all time"),
];

/// The filter a query asks for: `plugin` (an id, or empty for all) and
/// `period` (one of [`PERIODS`], default 30 days). An unknown period is
/// the default; an unknown plugin simply matches nothing.
pub fn filter_of(query: &HashMap<String, String>, now_ms: i64, limit: Option<usize>) -> (ActivityFilter, &'static str) {
    let wanted = query.get("period").map(String::as_str).unwrap_or("30d");
    let (id, days, _) = PERIODS
        .iter()
        .find(|(id, _, _)| *id == wanted)
        .copied()
        .unwrap_or(PERIODS[1]);
    let filter = ActivityFilter {
        plugin: query.get("plugin").filter(|p| !p.is_empty()).cloned(),
        since_ms: days.map(|d| now_ms - d * 86_400_000),
        limit,
    };
    (filter, id)
}

/// One `<option>` of a filter.
pub struct Opt {
    value: String,
    label: String,
    selected: bool,
}

/// One row of the summary.
pub struct SummaryRow {
    plugin: String,
    data: String,
    reads: u64,
    samples: u64,
    last: String,
}

/// One row of the log.
pub struct Row {
    at: String,
    plugin: String,
    what: String,
    detail: String,
    refused: bool,
}

#[derive(Template)]
#[template(path = "activity.html")]
struct ActivityPage {
    title: String,
    user: Option<String>,
    csrf: String,
    flash: Option<Flash>,
    current: &'static str,
    plugins: Vec<Opt>,
    periods: Vec<Opt>,
    summary: Vec<SummaryRow>,
    rows: Vec<Row>,
    truncated: bool,
}

fn type_name(id: Option<&str>) -> String {
    id.map_or_else(|| "data".into(), type_words)
}

fn fields_text(fields: Option<&str>) -> String {
    fields
        .map(|f| {
            f.split(',')
                .map(|n| field_label(n.trim()))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// An entry in plain words: what happened, and the details.
pub fn row(e: &ActivityEntry) -> Row {
    let ty = type_name(e.data_type.as_deref());
    let n = e.samples.unwrap_or(0);
    let purpose = e.purpose.as_deref().map(|p| format!("for \u{201c}{}\u{201d}", line(p)));
    let outcome = e.outcome.as_deref().map(line).unwrap_or_default();
    let (what, detail) = match e.kind {
        "read" => (
            format!("Read {n} {ty} sample{}", if n == 1 { "" } else { "s" }),
            [Some(fields_text(e.fields.as_deref())), purpose]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("; "),
        ),
        "write" if outcome == "ok" => (
            format!("Added {n} {ty} sample{}", if n == 1 { "" } else { "s" }),
            purpose.unwrap_or_default(),
        ),
        "write" => (
            "A write was undone".into(),
            e.detail.as_deref().map(line).unwrap_or_default(),
        ),
        "refused" => (format!("Was refused {ty}"), format!("reason: {outcome}")),
        "network" => (
            format!("Sent a request: {}", e.fields.as_deref().map(line).unwrap_or_default()),
            format!(
                "answer: {outcome}; {}",
                e.detail.as_deref().map(line).unwrap_or_default()
            ),
        ),
        _ => (
            format!("Imported a file ({outcome})"),
            e.detail.as_deref().map(line).unwrap_or_default(),
        ),
    };
    Row {
        at: minute(e.at_ms),
        plugin: line(&e.plugin),
        what,
        detail,
        refused: e.kind == "refused" || (e.kind == "network" && outcome == "refused"),
    }
}

/// `ms` as `YYYY-MM-DD HH:MM` (UTC).
fn minute(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map_or_else(|_| ms.to_string(), |t| t.strftime("%Y-%m-%d %H:%M").to_string())
}

fn summary_row(s: &ReadSummary) -> SummaryRow {
    SummaryRow {
        plugin: line(&s.plugin),
        data: type_name(Some(&s.data_type)),
        reads: s.reads,
        samples: s.samples,
        last: jiff::Timestamp::from_str(&s.last).map_or_else(|_| line(&s.last), |t| minute(t.as_millisecond())),
    }
}

type Loaded = (Vec<ActivityEntry>, Vec<ReadSummary>, Vec<(String, String)>);

async fn load(state: &WebState, handle: String, filter: ActivityFilter) -> Result<Loaded, super::WebError> {
    blocking(state, move |host| {
        let (entries, summary) = host.activity_with_summary(&handle, &filter)?;
        let plugins = host.plugins()?.into_iter().map(|p| (p.id, p.name)).collect();
        Ok((entries, summary, plugins))
    })
    .await
}

/// `GET /activity`.
pub async fn page(
    State(state): State<WebState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let session = match session::current(&state, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return not_signed_in(),
        Err(e) => return page_error(&e),
    };
    let (filter, period) = filter_of(&query, crate::vault::now_ms(), Some(PAGE_LIMIT + 1));
    let chosen = filter.plugin.clone().unwrap_or_default();
    let (mut entries, summary, installed) = match load(&state, session.user.handle.clone(), filter).await {
        Ok(loaded) => loaded,
        Err(e) => return page_error(&e),
    };
    let truncated = entries.len() > PAGE_LIMIT;
    entries.truncate(PAGE_LIMIT);
    let mut plugins = vec![Opt {
        value: String::new(),
        label: "All plugins".into(),
        selected: chosen.is_empty(),
    }];
    plugins.extend(installed.into_iter().map(|(id, name)| Opt {
        selected: id == chosen,
        label: line(&name),
        value: id,
    }));
    let periods = PERIODS
        .iter()
        .map(|(id, _, label)| Opt {
            value: (*id).into(),
            label: (*label).into(),
            selected: *id == period,
        })
        .collect();
    render(
        StatusCode::OK,
        &ActivityPage {
            title: "What was read".into(),
            user: Some(session.user.handle.clone()),
            csrf: session.csrf.clone(),
            flash: state.take_flash(&session.id),
            current: "activity",
            plugins,
            periods,
            summary: summary.iter().map(summary_row).collect(),
            rows: entries.iter().map(row).collect(),
            truncated,
        },
    )
}

/// `GET /activity.json`: `{"entries": [...], "summary": [...]}`, newest
/// first, every entry of the period (no page limit).
pub async fn json(
    State(state): State<WebState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let handle = match access::json_user(&state, &headers).await {
        Ok(h) => h,
        Err(refusal) => return refusal,
    };
    let (filter, _) = filter_of(&query, crate::vault::now_ms(), None);
    match load(&state, handle, filter).await {
        Ok((entries, summary, _)) => Json(serde_json::json!({"entries": entries, "summary": summary})).into_response(),
        Err(e) => page_error(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_period_defaults_to_30_days_and_unknown_ones_fall_back() {
        let q = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let (f, p) = filter_of(&q(&[]), 100 * 86_400_000, None);
        assert_eq!((p, f.since_ms, f.plugin), ("30d", Some(70 * 86_400_000), None));
        let (f, p) = filter_of(&q(&[("period", "1y; DROP"), ("plugin", "")]), 0, None);
        assert_eq!((p, f.plugin), ("30d", None));
        let (f, p) = filter_of(&q(&[("period", "all"), ("plugin", "a")]), 0, Some(3));
        assert_eq!(
            (p, f.since_ms, f.plugin.as_deref(), f.limit),
            ("all", None, Some("a"), Some(3))
        );
    }

    #[test]
    fn reads_say_what_how_many_and_why() {
        let e = ActivityEntry {
            seq: 1,
            at: "2026-11-30T01:02:03Z".into(),
            at_ms: 0,
            plugin: "coach".into(),
            kind: "read",
            data_type: Some("steps".into()),
            fields: Some("value,time".into()),
            samples: Some(30),
            purpose: Some("Weekly goal\u{1b}[2J".into()),
            outcome: Some("ok".into()),
            detail: None,
        };
        let r = row(&e);
        assert_eq!(r.what, "Read 30 Steps samples");
        assert!(
            r.detail.starts_with("the measurement itself, when it was taken; for"),
            "{}",
            r.detail
        );
        assert!(
            r.detail.contains("\\u{1b}"),
            "escapes are shown, not obeyed: {}",
            r.detail
        );
        assert!(!r.refused);
    }
}
