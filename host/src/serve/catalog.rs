//! The tools a user sees: every tool of every installed plugin the user
//! has granted something to, named `<plugin-id>.<tool>` (or bare on a
//! plugin's own endpoint), with its input schema, the plugin's purposes in
//! the description and annotations derived from the manifest (never from
//! the plugin's say-so). Each plugin's tool list is asked of it once per
//! installed version and kept; the listing is in name order, in pages
//! whose cursors are opaque.
//!
//! A plugin's tool name or schema that MCP cannot carry (a name outside
//! `[A-Za-z0-9._-]{1,128}`, a schema that is not a JSON object) is left
//! out of the listing, never passed on.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rmcp::model::{Tool, ToolAnnotations};

use crate::error::HostError;
use crate::manifest::Manifest;
use crate::platform::{Host, ToolInfo};
use crate::text::sanitize_line;

/// The longest tool name MCP allows.
const MAX_NAME: usize = 128;

/// One plugin's tools, as listed.
pub struct PluginTools {
    /// The installed component these came from.
    pub component_sha256: String,
    /// The plugin's display name.
    pub name: String,
    /// Its tools, unqualified names, in name order.
    pub tools: Vec<Tool>,
    /// Output schema validators by unqualified name.
    pub validators: HashMap<String, Arc<jsonschema::Validator>>,
}

/// The per-plugin cache.
#[derive(Default)]
pub struct Catalog {
    plugins: Mutex<HashMap<String, Arc<PluginTools>>>,
}

/// Whether MCP can carry `name` as a tool name.
pub fn valid_tool_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Splits `<plugin-id>.<tool>` (plugin ids contain no dot).
pub fn split_name(name: &str) -> Option<(&str, &str)> {
    name.split_once('.').filter(|(p, t)| !p.is_empty() && !t.is_empty())
}

impl Catalog {
    /// The tools of `plugin`, from the cache when the installed component
    /// is the one they were listed from.
    pub fn plugin(&self, host: &Host, plugin: &str) -> Result<Arc<PluginTools>, HostError> {
        host.refresh_loaded(plugin)?;
        let loaded = host.loaded(plugin)?;
        let sha = &loaded.record.component_sha256;
        if let Ok(map) = self.plugins.lock()
            && let Some(entry) = map.get(plugin)
            && &entry.component_sha256 == sha
        {
            return Ok(entry.clone());
        }
        let infos = host.tools(plugin)?;
        let entry = Arc::new(describe(&loaded.manifest, sha, infos));
        if let Ok(mut map) = self.plugins.lock() {
            map.insert(plugin.to_string(), entry.clone());
        }
        Ok(entry)
    }

    /// Every tool `plugins` offer, qualified by plugin id unless `bare`,
    /// in name order. A plugin that cannot list its tools (it traps, or its
    /// component no longer loads) is left out and logged.
    pub fn tools_of<'a>(&self, host: &Host, plugins: impl IntoIterator<Item = &'a str>, bare: bool) -> Vec<Tool> {
        let mut out = Vec::new();
        for id in plugins {
            match self.plugin(host, id) {
                Ok(entry) => out.extend(entry.tools.iter().filter_map(|t| {
                    let mut t = t.clone();
                    if !bare {
                        let name = format!("{id}.{}", t.name);
                        if !valid_tool_name(&name) {
                            return None;
                        }
                        t.name = name.into();
                    }
                    Some(t)
                })),
                Err(e) => tracing::warn!(plugin = id, error = %e, "a plugin's tools could not be listed"),
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }
}

/// The MCP tools of one plugin from what it says and what its manifest
/// asks for.
pub fn describe(manifest: &Manifest, component_sha256: &str, infos: Vec<ToolInfo>) -> PluginTools {
    let read_only = manifest.writes.is_empty() && manifest.storage.is_none() && manifest.network.is_none();
    let mut annotations = ToolAnnotations::with_title(sanitize_line(&manifest.name).into_owned())
        .read_only(read_only)
        .open_world(manifest.network.is_some());
    if !read_only && manifest.storage.is_none() {
        // Writes only ever add samples.
        annotations = annotations.destructive(false);
    }
    let purposes = purposes(manifest);
    let mut tools = Vec::new();
    let mut validators = HashMap::new();
    for info in infos {
        if !valid_tool_name(&info.name) {
            tracing::warn!(plugin = %manifest.id, "a tool name MCP cannot carry was left out");
            continue;
        }
        let serde_json::Value::Object(schema) = info.args_schema else {
            tracing::warn!(plugin = %manifest.id, tool = %info.name, "a tool whose input schema is not a JSON object was left out");
            continue;
        };
        let description = format!(
            "{} ({} by {}; purpose: {purposes})",
            sanitize_line(info.description.trim()),
            sanitize_line(&manifest.name),
            sanitize_line(&manifest.publisher),
        );
        let mut tool = Tool::new(info.name.clone(), description, Arc::new(schema));
        if let Some(out) = &info.output_schema {
            // A declared output schema must be one results can be checked
            // against (an object, compilable, no remote references).
            let validator = match out {
                serde_json::Value::Object(_) => jsonschema::validator_for(out).ok(),
                _ => None,
            };
            let (Some(validator), serde_json::Value::Object(map)) = (validator, out) else {
                tracing::warn!(plugin = %manifest.id, tool = %info.name, "a tool whose output schema cannot be checked was left out");
                continue;
            };
            tool.output_schema = Some(Arc::new(map.clone()));
            validators.insert(info.name.clone(), Arc::new(validator));
        }
        tool.annotations = Some(annotations.clone());
        tools.push(tool);
    }
    tools.sort_by(|a, b| a.name.cmp(&b.name));
    tools.dedup_by(|a, b| a.name == b.name);
    PluginTools {
        component_sha256: component_sha256.to_string(),
        name: sanitize_line(&manifest.name).into_owned(),
        tools,
        validators,
    }
}

fn purposes(manifest: &Manifest) -> String {
    let mut all: Vec<String> = manifest
        .reads
        .iter()
        .map(|r| r.purpose.clone())
        .chain(manifest.writes.iter().map(|w| w.purpose.clone()))
        .chain(manifest.network.iter().map(|n| n.purpose.clone()))
        .chain(manifest.storage.iter().map(|s| s.purpose.clone()))
        .map(|p| sanitize_line(p.trim()).into_owned())
        .filter(|p| !p.is_empty())
        .collect();
    all.dedup();
    if all.is_empty() {
        "none stated".into()
    } else {
        all.join("; ")
    }
}

/// A cursor that is not one this service handed out.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid cursor: pass back the `nextCursor` of the previous page unchanged")]
pub struct BadCursor;

/// One page of `tools` (sorted by name) after `cursor`: the cursor is the
/// last name of the previous page, encoded, so pages stay consistent
/// while plugins come and go.
pub fn page(tools: Vec<Tool>, cursor: Option<&str>, size: usize) -> Result<(Vec<Tool>, Option<String>), BadCursor> {
    let after = match cursor {
        None => None,
        Some(c) => {
            let bytes = URL_SAFE_NO_PAD.decode(c).map_err(|_| BadCursor)?;
            let name = String::from_utf8(bytes).map_err(|_| BadCursor)?;
            if !valid_tool_name(&name) {
                return Err(BadCursor);
            }
            Some(name)
        }
    };
    let start = match &after {
        None => 0,
        Some(name) => tools.partition_point(|t| t.name.as_ref() <= name.as_str()),
    };
    let rest: Vec<Tool> = tools.into_iter().skip(start).collect();
    let more = rest.len() > size;
    let page: Vec<Tool> = rest.into_iter().take(size).collect();
    let next = match page.last() {
        Some(last) if more => Some(URL_SAFE_NO_PAD.encode(last.name.as_bytes())),
        _ => None,
    };
    Ok((page, next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::JsonObject;

    fn tool(name: &str) -> Tool {
        Tool::new(name.to_string(), "d", Arc::new(JsonObject::new()))
    }

    #[test]
    fn names_mcp_cannot_carry_are_refused() {
        assert!(valid_tool_name("sleep-coach.weekly_summary"));
        assert!(!valid_tool_name(""));
        assert!(!valid_tool_name("a b"));
        assert!(!valid_tool_name("tool\u{202e}"));
        assert!(!valid_tool_name(&"x".repeat(129)));
        assert_eq!(split_name("p.t.u"), Some(("p", "t.u")));
        assert_eq!(split_name(".t"), None);
        assert_eq!(split_name("p."), None);
        assert_eq!(split_name("p"), None);
    }

    #[test]
    fn pages_cover_every_tool_once_in_order() {
        let names: Vec<String> = (0..25).map(|i| format!("p{i:02}.t")).collect();
        let all: Vec<Tool> = names.iter().map(|n| tool(n)).collect();
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let (page, next) = page(all.clone(), cursor.as_deref(), 10).unwrap();
            assert!(page.len() <= 10);
            seen.extend(page.iter().map(|t| t.name.to_string()));
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, names);
    }

    #[test]
    fn a_page_cursor_survives_a_plugin_disappearing() {
        let all: Vec<Tool> = ["a.t", "b.t", "c.t", "d.t"].into_iter().map(tool).collect();
        let (_, next) = page(all.clone(), None, 2).unwrap();
        let fewer: Vec<Tool> = all.into_iter().filter(|t| t.name != "b.t").collect();
        let (rest, end) = page(fewer, next.as_deref(), 2).unwrap();
        let names: Vec<&str> = rest.iter().map(|t| t.name.as_ref()).collect();
        assert_eq!(names, ["c.t", "d.t"]);
        assert_eq!(end, None);
    }

    #[test]
    fn forged_cursors_are_refused() {
        let all = vec![tool("a.t")];
        assert_eq!(page(all.clone(), Some("!!"), 2).unwrap_err(), BadCursor);
        let bad = URL_SAFE_NO_PAD.encode("a b");
        assert_eq!(page(all, Some(&bad), 2).unwrap_err(), BadCursor);
    }
}
