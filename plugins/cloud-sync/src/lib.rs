//! Cloud Sync: a connector that fetches new samples from a partner's HTTPS
//! API (JSON, paged by a cursor) with an ordinary guest HTTP client (wstd
//! over `wasi:http`), writes them, and keeps the cursor in its private
//! storage. Every request goes through the host's allowlist and SSRF checks.
//!
//! The API: `GET {base}/v1/samples?since={cursor}` returns
//! `{"samples": [{"type", "start", "end", "value", "unit", "source"}], "cursor": n, "more": bool}`.

use healthplug_sdk::{
    Args, Connector, DataType, IngestError, Input, NewSample, Report, Timestamp, Writer, export_connector, storage,
};
use serde_json::Value;
use wstd::http::{Client, Request};

struct CloudSync;

export_connector!(CloudSync);

const DEFAULT_BASE: &str = "https://api.partner.example";
const MAX_PAGES: u32 = 10;

fn time(v: &Value) -> Option<Timestamp> {
    let t: jiff::Timestamp = v.as_str()?.parse().ok()?;
    Some(Timestamp::from_millis(t.as_millisecond()))
}

fn sample(v: &Value) -> Result<NewSample, String> {
    let id = v["type"].as_str().ok_or("no type")?;
    let ty = DataType::from_id(id).ok_or_else(|| format!("unknown type `{id}`"))?;
    let start = time(&v["start"]).ok_or("no start time")?;
    let end = time(&v["end"]).unwrap_or(start);
    let value = v["value"].as_f64().ok_or("no numeric value")?;
    let unit = v["unit"].as_str().unwrap_or("");
    ty.to_canonical(value, unit).map_err(|e| e.to_string())?;
    let mut s = NewSample::quantity(ty, start, end, value, unit);
    s.source_name = v["source"].as_str().map(str::to_string);
    Ok(s)
}

async fn fetch(url: String) -> Result<Value, IngestError> {
    let client = Client::new();
    let request = Request::get(&url)
        .header("accept", "application/json")
        .body(wstd::io::empty())
        .map_err(|e| IngestError::InvalidOptions(format!("bad URL {url}: {e}")))?;
    let mut response = client
        .send(request)
        .await
        .map_err(|e| IngestError::ReadFailed(format!("GET {url}: {e}")))?;
    let status = response.status();
    if !status.is_success() {
        return Err(IngestError::ReadFailed(format!("GET {url}: HTTP {status}")));
    }
    response
        .body_mut()
        .json::<Value>()
        .await
        .map_err(|e| IngestError::ReadFailed(format!("GET {url}: the response is not JSON: {e}")))
}

impl Connector for CloudSync {
    fn ingest(_input: &mut Input, options: &Args) -> Result<Report, IngestError> {
        let base: String = options
            .get("base_url")
            .map_err(|e| IngestError::InvalidOptions(e.to_string()))?
            .unwrap_or_else(|| DEFAULT_BASE.to_string());
        let mut cursor: i64 = storage::get_string("cursor")?.and_then(|c| c.parse().ok()).unwrap_or(0);
        let mut report = Report::new();
        let mut writer = Writer::new();
        let mut index = 0u32;
        for _ in 0..MAX_PAGES {
            let url = format!("{}/v1/samples?since={cursor}", base.trim_end_matches('/'));
            let page = wstd::runtime::block_on(fetch(url))?;
            for v in page["samples"].as_array().into_iter().flatten() {
                index += 1;
                report.records_read += 1;
                match sample(v) {
                    Ok(s) => writer.push(s, &mut report)?,
                    Err(reason) => report.problem(index, format!("sample {index}: {reason}")),
                }
            }
            if let Some(next) = page["cursor"].as_i64() {
                cursor = cursor.max(next);
            }
            if page["more"] != true {
                break;
            }
        }
        let written = writer.finish()?;
        report.samples_written = written.accepted;
        storage::set("cursor", cursor.to_string().as_bytes())?;
        Ok(report)
    }
}
