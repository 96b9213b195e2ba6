//! Invoking plugin tools for a user, and listing a plugin's tools. Each
//! call gets a fresh store; its accesses, log and outcome come back with
//! the result and go to the audit log.

use serde::Serialize;

use super::Host;
use super::install::{LoadedPlugin, WorldPre};
use crate::bindings::healthplug::plugin::types::ToolError;
use crate::capabilities::{Access, AccessOutcome, Outcome, run};
use crate::error::HostError;
use crate::runtime::{LimitKind, LogLine, RunFailure};
use crate::vault::{AuditEvent, AuditKind};

/// The largest arguments text accepted, bytes.
const MAX_ARGS_BYTES: usize = 64 * 1024;

/// A tool a plugin offers.
#[derive(Clone, Debug, Serialize)]
pub struct ToolInfo {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// JSON schema of the arguments.
    pub args_schema: serde_json::Value,
    /// JSON schema of the result, if the plugin declares one.
    pub output_schema: Option<serde_json::Value>,
}

/// A tool that ran and reported failure (not a host problem).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ToolFailure {
    /// `unknown-tool`, `invalid-args` or `failed`.
    pub kind: String,
    /// The plugin's message.
    pub message: String,
}

/// The outcome of an invocation.
#[derive(Clone, Debug, Serialize)]
pub struct InvokeOutcome {
    /// Plugin id.
    pub plugin: String,
    /// Plugin version.
    pub version: String,
    /// Installed with `--dev`.
    pub dev: bool,
    /// Tool name.
    pub tool: String,
    /// The tool's output (usually JSON text) or its failure.
    #[serde(serialize_with = "serialize_result")]
    pub result: Result<String, ToolFailure>,
    /// What the plugin read, and what it was refused.
    pub accesses: Vec<Access>,
    /// The plugin's log.
    pub logs: Vec<LogLine>,
    /// Wall time, ms.
    pub elapsed_ms: f64,
    /// Host calls made.
    pub host_calls: u64,
}

fn serialize_result<S: serde::Serializer>(r: &Result<String, ToolFailure>, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(1))?;
    match r {
        Ok(output) => {
            let value = serde_json::from_str::<serde_json::Value>(output)
                .unwrap_or_else(|_| serde_json::Value::String(output.clone()));
            map.serialize_entry("output", &value)?;
        }
        Err(failure) => map.serialize_entry("error", failure)?,
    }
    map.end()
}

impl Host {
    fn plugin_failed(&self, plugin: &LoadedPlugin, failure: RunFailure) -> HostError {
        HostError::Plugin {
            plugin: plugin.record.id.clone(),
            failure,
        }
    }

    /// The tools `plugin` offers (called with no user: it sees no data).
    pub fn tools(&self, plugin: &str) -> Result<Vec<ToolInfo>, HostError> {
        let loaded = self.loaded(plugin)?;
        self.tools_of(&loaded)
    }

    /// The tools a loaded (or about to be installed) plugin offers.
    pub(crate) fn tools_of(&self, loaded: &LoadedPlugin) -> Result<Vec<ToolInfo>, HostError> {
        let WorldPre::Plugin(pre) = &loaded.pre else {
            return Ok(Vec::new());
        };
        let (call, _) = self.call_state(loaded, None);
        let outcome = run(self.runtime(), &loaded.limits, call, |store| {
            let instance = pre.instantiate(&mut *store)?;
            instance.call_tools(&mut *store)
        });
        let specs = outcome.value.map_err(|f| self.plugin_failed(loaded, f))?;
        Ok(specs
            .into_iter()
            .map(|t| ToolInfo {
                args_schema: serde_json::from_str(&t.args_schema).unwrap_or(serde_json::Value::String(t.args_schema)),
                name: t.name,
                description: t.description,
                // A schema that is not JSON stays as its text, so the
                // service leaves the tool out rather than skip the check.
                output_schema: t
                    .output_schema
                    .map(|s| serde_json::from_str(&s).unwrap_or(serde_json::Value::String(s))),
            })
            .collect())
    }

    /// Invokes `tool` of `plugin` for `user` with JSON arguments.
    pub fn invoke(&self, user: &str, plugin: &str, tool: &str, args_json: &str) -> Result<InvokeOutcome, HostError> {
        let loaded = self.loaded(plugin)?;
        let WorldPre::Plugin(pre) = &loaded.pre else {
            return Err(HostError::InvalidRequest(format!(
                "`{plugin}` is a connector: run it with `healthplug import <user> {plugin} <file>`"
            )));
        };
        let user = self.user(user)?;
        if args_json.len() > MAX_ARGS_BYTES {
            return Err(HostError::InvalidRequest(format!(
                "the arguments are larger than {MAX_ARGS_BYTES} bytes"
            )));
        }
        let args = if args_json.trim().is_empty() { "{}" } else { args_json };
        if !matches!(
            serde_json::from_str::<serde_json::Value>(args),
            Ok(serde_json::Value::Object(_))
        ) {
            return Err(HostError::InvalidRequest(format!(
                "the arguments must be a JSON object, got `{args}`"
            )));
        }
        let (call, egress) = self.call_state(&loaded, Some(self.session(&user)?));
        let max_output = loaded.limits.output_bytes;
        let outcome: Outcome<Result<String, ToolError>> = run(self.runtime(), &loaded.limits, call, |store| {
            let instance = pre.instantiate(&mut *store)?;
            instance.call_invoke(&mut *store, tool, args)
        });
        let value = match outcome.value {
            Ok(Ok(text)) if text.len() > max_output => Err(RunFailure::Limit {
                limit: LimitKind::Output,
                detail: format!("the result is {} bytes; at most {max_output} are accepted", text.len()),
            }),
            other => other,
        };
        let outcome_text = match &value {
            Ok(Ok(_)) => "ok".to_string(),
            Ok(Err(e)) => format!("tool-error: {}", tool_failure(e).kind),
            Err(failure) => failure.audit_outcome(),
        };
        let mut event = AuditEvent::new(AuditKind::Invoke)
            .user(&user.user_ref)
            .plugin(&loaded.record.id, &loaded.record.component_sha256)
            .outcome(outcome_text)
            .detail(format!(
                "tool {tool}{}{}",
                if loaded.record.dev { "; dev" } else { "" },
                match &value {
                    Err(failure) => format!("; {}", failure.describe()),
                    Ok(_) => String::new(),
                }
            ));
        event.count = Some(outcome.host_calls);
        self.vault.audit(&event)?;
        let succeeded = matches!(value, Ok(Ok(_)));
        let committed = self.finish_invocation(&loaded, &user.user_ref, &outcome.call, egress.as_deref(), succeeded)?;
        // Writes are reported as written only once committed: a failed
        // invocation (or a revoke before its commit) wrote nothing.
        let mut accesses = outcome.accesses;
        accesses.extend(committed.into_iter().map(|(data_type, count)| Access {
            data_type,
            outcome: AccessOutcome::Written { count },
        }));
        let result = match value {
            Ok(Ok(text)) => Ok(text),
            Ok(Err(e)) => Err(tool_failure(&e)),
            Err(failure) => return Err(self.plugin_failed(&loaded, failure)),
        };
        Ok(InvokeOutcome {
            plugin: loaded.record.id.clone(),
            version: loaded.record.version.clone(),
            dev: loaded.record.dev,
            tool: tool.to_string(),
            result,
            accesses,
            logs: outcome.logs,
            elapsed_ms: outcome.elapsed.as_secs_f64() * 1e3,
            host_calls: outcome.host_calls,
        })
    }
}

fn tool_failure(e: &ToolError) -> ToolFailure {
    let (kind, message) = match e {
        ToolError::UnknownTool(m) => ("unknown-tool", m),
        ToolError::InvalidArgs(m) => ("invalid-args", m),
        ToolError::Failed(m) => ("failed", m),
    };
    ToolFailure {
        kind: kind.to_string(),
        message: crate::runtime::logs::sanitize(m_or(message)),
    }
}

fn m_or(m: &str) -> &str {
    if m.is_empty() { "(no message)" } else { m }
}
