//! Turning an invocation into an MCP tool result. A result is JSON from a
//! plugin, so every string in it is cleaned of control, bidirectional and
//! invisible characters before a model reads it (text a person cannot see
//! must not steer an assistant), and it is checked against the tool's
//! declared output schema. A refusal, a limit hit, a trap or a busy host
//! becomes `isError` with one line a model can act on, naming the plugin
//! by its display name and never echoing a health value.

use rmcp::model::{CallToolResult, ContentBlock as Content};
use serde_json::Value;

use crate::capabilities::AccessOutcome;
use crate::error::HostError;
use crate::platform::{InvokeOutcome, ToolFailure};
use crate::runtime::RunFailure;
use crate::text::{sanitize_block, sanitize_line};

/// A check of a JSON result against a declared output schema: `Err`
/// names where it fails.
pub type OutputCheck<'a> = &'a dyn Fn(&Value) -> Result<(), String>;

/// A tool result, and what the metrics count of it.
pub struct Rendered {
    /// The MCP result.
    pub result: CallToolResult,
    /// `ok`, `tool-error`, `refused`, `limit`, `trap`, `violation`,
    /// `busy`, `invalid` or `unavailable`.
    pub outcome: &'static str,
    /// Refusals: (data type, reason).
    pub refusals: Vec<(String, String)>,
    /// The limit hit, if one was.
    pub limit: Option<String>,
}

/// The sentence for a refused access.
pub fn refusal_sentence(plugin: &str, data_type: &str, reason: &str) -> String {
    let (verb, why) = match reason {
        "not-granted" => ("read", "the user has not granted it"),
        "revoked" => ("read", "the user revoked access to it"),
        "expired" => ("read", "the user's grant for it has expired"),
        "not-requested" => ("read", "its manifest does not ask for it"),
        "aggregates-only" => (
            "read",
            "the user granted daily or hourly summaries only, not single samples",
        ),
        "granularity-too-fine" => ("read", "the user granted coarser summaries only"),
        "write-not-granted" => ("write", "the user has not allowed it to write"),
        "field-not-granted" => ("read", "a field it asked for is not granted"),
        other => ("use", other),
    };
    format!("{plugin} may not {verb} {data_type}: {why}")
}

fn error(text: String, outcome: &'static str) -> Rendered {
    Rendered {
        result: CallToolResult::error(vec![Content::text(text)]),
        outcome,
        refusals: Vec::new(),
        limit: None,
    }
}

/// Renders the outcome of calling `tool` of the plugin displayed as
/// `plugin`; `check` validates a JSON result against the tool's output
/// schema, if it declared one.
pub fn render(
    plugin: &str,
    tool: &str,
    outcome: Result<InvokeOutcome, HostError>,
    check: Option<OutputCheck<'_>>,
) -> Rendered {
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => return render_error(plugin, tool, &e),
    };
    let refusals: Vec<(String, String)> = outcome
        .accesses
        .iter()
        .filter_map(|a| match &a.outcome {
            AccessOutcome::Denied { reason } => Some((a.data_type.id().to_string(), reason.clone())),
            _ => None,
        })
        .collect();
    let sentences: Vec<String> = refusals.iter().map(|(t, r)| refusal_sentence(plugin, t, r)).collect();
    let mut rendered = match outcome.result {
        Ok(text) => render_output(plugin, &text, check, &sentences),
        Err(failure) => render_failure(plugin, tool, &failure, &sentences),
    };
    rendered.refusals = refusals;
    rendered
}

fn render_output(plugin: &str, text: &str, check: Option<OutputCheck<'_>>, refusals: &[String]) -> Rendered {
    let parsed = serde_json::from_str::<Value>(text).ok().map(|mut v| {
        clean(&mut v);
        v
    });
    if let Some(check) = check {
        let verdict = match &parsed {
            Some(v) => check(v),
            None => Err("it is not JSON".to_string()),
        };
        if let Err(why) = verdict {
            return error(
                format!(
                    "{plugin} returned a result that does not match its declared output schema: {}",
                    sanitize_line(&why)
                ),
                "invalid",
            );
        }
    }
    let mut result = match parsed {
        Some(Value::Object(map)) => CallToolResult::structured(Value::Object(map)),
        Some(other) => CallToolResult::success(vec![Content::text(other.to_string())]),
        None => CallToolResult::success(vec![Content::text(sanitize_block(text).into_owned())]),
    };
    if !refusals.is_empty() {
        result
            .content
            .push(Content::text(format!("Note: {}.", refusals.join("; "))));
    }
    Rendered {
        result,
        outcome: "ok",
        refusals: Vec::new(),
        limit: None,
    }
}

fn render_failure(plugin: &str, tool: &str, failure: &ToolFailure, refusals: &[String]) -> Rendered {
    let said = sanitize_line(&failure.message);
    if let Some(first) = refusals.first() {
        return error(format!("{first} (the tool said: {said})"), "refused");
    }
    let line = match failure.kind.as_str() {
        "invalid-args" => format!("{plugin} did not accept the arguments of {tool}: {said}"),
        "unknown-tool" => format!("{plugin} has no tool {tool}: {said}"),
        _ => format!("{plugin} could not complete {tool}: {said}"),
    };
    error(line, "tool-error")
}

fn render_error(plugin: &str, tool: &str, e: &HostError) -> Rendered {
    match e {
        HostError::Plugin { failure, .. } => match failure {
            RunFailure::Limit { limit, .. } => {
                let mut r = error(
                    format!(
                        "{plugin} was stopped while running {tool}: it exceeded its {} limit; a smaller request (fewer days, a coarser summary) may fit",
                        limit.id()
                    ),
                    "limit",
                );
                r.limit = Some(limit.id().to_string());
                r
            }
            RunFailure::Trap { .. } => error(format!("{plugin} crashed while running {tool}"), "trap"),
            RunFailure::Violation { .. } => error(
                format!("{plugin} broke the plugin contract while running {tool} and was stopped"),
                "violation",
            ),
            RunFailure::Busy { .. } => error(
                "healthplug is busy running other plugins; retry in a moment".to_string(),
                "busy",
            ),
        },
        HostError::InvalidRequest(m) => error(sanitize_line(m).into_owned(), "invalid"),
        HostError::UnknownUser(_) => error("this user no longer exists in healthplug".into(), "invalid"),
        HostError::Tampered { .. } | HostError::NotApproved(_) | HostError::InvalidComponent { .. } => error(
            format!("{plugin} cannot run: its installed copy failed its integrity or approval check"),
            "unavailable",
        ),
        HostError::UnknownPlugin(_) => error(format!("{plugin} is no longer installed"), "unavailable"),
        other => {
            tracing::error!(plugin, tool, error = %other, "a tool call failed inside the host");
            error(
                format!("{plugin} could not run {tool}: an internal error occurred"),
                "unavailable",
            )
        }
    }
}

/// Cleans every string (keys included) of a JSON value.
pub fn clean(value: &mut Value) {
    match value {
        Value::String(s) => {
            if let std::borrow::Cow::Owned(c) = sanitize_block(s) {
                *s = c;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(clean),
        Value::Object(map) => {
            let dirty = map
                .keys()
                .any(|k| matches!(sanitize_line(k), std::borrow::Cow::Owned(_)));
            if dirty {
                let old = std::mem::take(map);
                for (k, v) in old {
                    map.insert(sanitize_line(&k).into_owned(), v);
                }
            }
            map.values_mut().for_each(clean);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::Access;
    use crate::consent::Fields;
    use crate::registry::DataType;

    fn outcome(result: Result<String, ToolFailure>, accesses: Vec<Access>) -> InvokeOutcome {
        InvokeOutcome {
            plugin: "sleep-coach".into(),
            version: "1.0.0".into(),
            dev: false,
            tool: "t".into(),
            result,
            accesses,
            logs: Vec::new(),
            elapsed_ms: 0.1,
            host_calls: 1,
        }
    }

    fn text_of(r: &CallToolResult) -> String {
        r.content
            .iter()
            .filter_map(|c| c.as_text().map(|t| t.text.clone()))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn denied(t: &str, reason: &str) -> Access {
        Access {
            data_type: DataType::from_id(t).unwrap(),
            outcome: AccessOutcome::Denied { reason: reason.into() },
        }
    }

    #[test]
    fn a_refusal_is_an_error_naming_plugin_type_and_reason() {
        let failure = ToolFailure {
            kind: "failed".into(),
            message: "heart-rate: not-granted".into(),
        };
        let r = render(
            "Sleep Coach",
            "t",
            Ok(outcome(Err(failure), vec![denied("heart-rate", "not-granted")])),
            None,
        );
        assert_eq!(r.result.is_error, Some(true));
        assert_eq!(r.outcome, "refused");
        let text = text_of(&r.result);
        assert!(
            text.starts_with("Sleep Coach may not read heart-rate: the user has not granted it"),
            "{text}"
        );
    }

    #[test]
    fn json_results_are_structured_and_cleaned() {
        let out = r#"{"summary":"ok\u202e evil","n":3,"k\u0007":1}"#.to_string();
        let allowed = Access {
            data_type: DataType::from_id("steps").unwrap(),
            outcome: AccessOutcome::Allowed {
                count: 3,
                fields: Fields::ALL,
                granularity: "raw".into(),
            },
        };
        let r = render("Coach", "t", Ok(outcome(Ok(out), vec![allowed])), None);
        assert_eq!(r.result.is_error, Some(false));
        let v = r.result.structured_content.unwrap();
        let s = v["summary"].as_str().unwrap();
        assert!(!s.contains('\u{202e}'), "{s:?}");
        assert!(v.as_object().unwrap().keys().all(|k| !k.contains('\u{7}')));
        assert_eq!(v["n"], 3);
    }

    #[test]
    fn an_output_that_breaks_its_schema_is_an_error() {
        let check = |v: &Value| {
            if v.get("n").is_some_and(Value::is_number) {
                Ok(())
            } else {
                Err("/n: required".to_string())
            }
        };
        let bad = render("Coach", "t", Ok(outcome(Ok("{}".into()), vec![])), Some(&check));
        assert_eq!(bad.result.is_error, Some(true));
        assert_eq!(bad.outcome, "invalid");
        assert!(text_of(&bad.result).contains("output schema"));
        let not_json = render("Coach", "t", Ok(outcome(Ok("hello".into()), vec![])), Some(&check));
        assert_eq!(not_json.result.is_error, Some(true));
        let good = render("Coach", "t", Ok(outcome(Ok("{\"n\":1}".into()), vec![])), Some(&check));
        assert_eq!(good.result.is_error, Some(false));
    }

    #[test]
    fn limits_traps_and_busy_are_one_line_errors() {
        use crate::runtime::LimitKind;
        let plugin_err = |failure| HostError::Plugin {
            plugin: "p".into(),
            failure,
        };
        let r = render(
            "Coach",
            "t",
            Err(plugin_err(RunFailure::Limit {
                limit: LimitKind::Timeout,
                detail: "secret detail 42 bpm".into(),
            })),
            None,
        );
        assert_eq!((r.outcome, r.limit.as_deref()), ("limit", Some("timeout")));
        let text = text_of(&r.result);
        assert!(
            text.contains("timeout") && !text.contains("42 bpm") && !text.contains('\n'),
            "{text}"
        );
        let trap = render(
            "Coach",
            "t",
            Err(plugin_err(RunFailure::Trap {
                message: "wasm backtrace ...".into(),
            })),
            None,
        );
        assert_eq!(trap.outcome, "trap");
        assert!(!text_of(&trap.result).contains("backtrace"));
        let busy = render(
            "Coach",
            "t",
            Err(plugin_err(RunFailure::Busy { detail: "slots".into() })),
            None,
        );
        assert_eq!(busy.outcome, "busy");
        assert!(text_of(&busy.result).contains("retry"));
    }
}
