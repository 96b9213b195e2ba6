//! One tool call, from an authenticated caller to a rendered result:
//! check the plugin is one the caller's user enabled and the tool is one
//! it lists, take the call's turn at the gate (unless the door already
//! did), invoke on the blocking pool so the reactor never waits on a
//! plugin, check the result against the tool's output schema, count it.

use std::sync::Arc;
use std::time::Instant;

use rmcp::ErrorData as McpError;
use rmcp::model::{CallToolResult, JsonObject};
use serde_json::Value;

use super::catalog::PluginTools;
use super::mcp::error_result;
use super::render::{Rendered, render};
use super::state::{Caller, ServeState};
use crate::error::HostError;
use crate::text::sanitize_line;

/// Before the call: its plugin's tools, or a result that ends it.
enum Preflight {
    Ready(Arc<PluginTools>),
    Refused(CallToolResult),
}

/// The target of a call: the name the client sent, and what it names.
pub struct Target<'a> {
    /// As sent (qualified on `/mcp`, bare on a plugin's own endpoint).
    pub name: &'a str,
    /// The plugin id.
    pub plugin: &'a str,
    /// The plugin's own tool name.
    pub tool: &'a str,
}

fn unknown_tool(name: &str) -> McpError {
    McpError::invalid_params(format!("unknown tool `{}`", sanitize_line(name)), None)
}

fn preflight(state: &ServeState, caller: &Caller, name: &str, plugin: &str, tool: &str) -> Result<Preflight, McpError> {
    let internal = |e: HostError| {
        tracing::error!(error = %e, "a tool call could not be prepared");
        McpError::internal_error("the tool call could not be prepared", None)
    };
    let enabled = state.host.enabled_plugins(&caller.user).map_err(internal)?;
    if !enabled.contains(plugin) {
        return match state.host.vault().plugin(plugin) {
            Ok(Some(record)) => Ok(Preflight::Refused(error_result(format!(
                "{} is not enabled for this user: they have granted it nothing yet",
                sanitize_line(&record.name)
            )))),
            _ => Err(unknown_tool(name)),
        };
    }
    let entry = match state.catalog.plugin(&state.host, plugin) {
        Ok(entry) => entry,
        Err(HostError::UnknownPlugin(_)) => return Err(unknown_tool(name)),
        Err(e) => {
            let rendered = render(plugin, tool, Err(e), None);
            return Ok(Preflight::Refused(rendered.result));
        }
    };
    if !entry.tools.iter().any(|t| t.name == tool) {
        return Err(unknown_tool(name));
    }
    Ok(Preflight::Ready(entry))
}

/// Calls `tool` of `plugin` for `caller` with `args`.
pub async fn call(
    state: &Arc<ServeState>,
    caller: &Caller,
    target: Target<'_>,
    args: Option<JsonObject>,
    admitted: bool,
) -> Result<CallToolResult, McpError> {
    let Target { name, plugin, tool } = target;
    let started = Instant::now();
    let entry = {
        let (st, who, n, p, t) = (
            state.clone(),
            caller.clone(),
            name.to_string(),
            plugin.to_string(),
            tool.to_string(),
        );
        match tokio::task::spawn_blocking(move || preflight(&st, &who, &n, &p, &t))
            .await
            .map_err(|_| McpError::internal_error("the tool call was interrupted", None))??
        {
            Preflight::Ready(entry) => entry,
            Preflight::Refused(result) => return Ok(result),
        }
    };
    let _admission = if admitted {
        None
    } else {
        match state.gate.admit(&caller.user.user_ref, plugin).await {
            Ok(a) => Some(a),
            Err(crowded) => {
                state.metrics.turned_away(&format!("crowded-{}", crowded.label()));
                return Ok(error_result(crowded.message()));
            }
        }
    };
    let _in_flight = state.metrics.started();
    let args_json = Value::Object(args.unwrap_or_default()).to_string();
    let outcome = {
        let (st, handle, p, t) = (
            state.clone(),
            caller.user.handle.clone(),
            plugin.to_string(),
            tool.to_string(),
        );
        tokio::task::spawn_blocking(move || st.host.invoke(&handle, &p, &t, &args_json))
            .await
            .map_err(|_| McpError::internal_error("the tool call was interrupted", None))?
    };
    let validator = entry.validators.get(tool).cloned();
    let check = validator.as_ref().map(|v| {
        move |value: &Value| {
            v.validate(value)
                .map_err(|e| format!("at `{}` (schema `{}`)", e.instance_path, e.schema_path))
        }
    });
    let rendered = render(
        &entry.name,
        tool,
        outcome,
        check.as_ref().map(|c| c as super::render::OutputCheck<'_>),
    );
    count(state, plugin, tool, &caller.user.user_ref, &rendered, started);
    Ok(rendered.result)
}

fn count(state: &ServeState, plugin: &str, tool: &str, user_ref: &str, rendered: &Rendered, started: Instant) {
    let elapsed = started.elapsed();
    state.metrics.call(plugin, rendered.outcome, elapsed);
    if let Some(limit) = &rendered.limit {
        state.metrics.limit(plugin, limit);
    }
    for (_, reason) in &rendered.refusals {
        state.metrics.refusal(plugin, reason);
    }
    tracing::info!(
        plugin,
        tool = %sanitize_line(tool),
        user = user_ref,
        outcome = rendered.outcome,
        elapsed_us = elapsed.as_micros() as u64,
        "tool call"
    );
}
