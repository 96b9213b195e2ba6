//! The `Plugin` trait partners implement, the tools it offers and their
//! arguments.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::bindings::healthplug::plugin::types as wit;

/// A tool handler: takes the validated arguments, returns a JSON result.
pub type ToolHandler = fn(&Args) -> Result<Value, ToolError>;

/// A healthplug plugin.
///
/// Implement [`tools`](Plugin::tools) and export the type with
/// [`export_plugin!`](crate::export_plugin). The default
/// [`invoke`](Plugin::invoke) validates the arguments against the tool's
/// parameters and calls its handler; override it to dispatch yourself.
pub trait Plugin {
    /// The tools this plugin offers.
    fn tools() -> Vec<Tool>;

    /// Runs `tool` with `args`. The default looks the tool up in
    /// [`tools`](Plugin::tools), checks the arguments and calls its handler.
    fn invoke(tool: &str, args: &Args) -> Result<Value, ToolError> {
        let tools = Self::tools();
        let Some(spec) = tools.iter().find(|t| t.name == tool) else {
            return Err(ToolError::UnknownTool(tool.to_string()));
        };
        spec.check_args(args)?;
        (spec.handler)(args)
    }
}

/// A tool: name, description, parameters and the function that runs it.
#[derive(Clone, Debug)]
pub struct Tool {
    name: String,
    description: String,
    properties: Map<String, Value>,
    required: Vec<String>,
    input_schema: Option<Value>,
    output_schema: Option<Value>,
    handler: ToolHandler,
}

impl Tool {
    /// A tool with no parameters yet.
    pub fn new(name: &str, description: &str, handler: ToolHandler) -> Tool {
        Tool {
            name: name.to_string(),
            description: description.to_string(),
            properties: Map::new(),
            required: Vec::new(),
            input_schema: None,
            output_schema: None,
            handler,
        }
    }

    /// Replaces the argument schema built from [`Tool::param`] with a
    /// whole JSON schema (for `$defs`, `$ref`, enums, nested objects...).
    pub fn input_schema(mut self, schema: Value) -> Tool {
        self.input_schema = Some(schema);
        self
    }

    /// Declares the JSON schema of the tool's result: the host checks every
    /// result against it and refuses one that does not match, and an
    /// assistant can read the shape before calling.
    pub fn output_schema(mut self, schema: Value) -> Tool {
        self.output_schema = Some(schema);
        self
    }

    /// Adds an optional parameter. `json_type` is a JSON-schema type:
    /// `integer`, `number`, `string`, `boolean`, `array` or `object`.
    pub fn param(mut self, name: &str, json_type: &str, description: &str) -> Tool {
        self.properties.insert(
            name.to_string(),
            json!({ "type": json_type, "description": description }),
        );
        self
    }

    /// Adds a required parameter.
    pub fn required_param(mut self, name: &str, json_type: &str, description: &str) -> Tool {
        self = self.param(name, json_type, description);
        self.required.push(name.to_string());
        self
    }

    /// The tool's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The JSON schema of the arguments.
    pub fn schema(&self) -> Value {
        if let Some(schema) = &self.input_schema {
            return schema.clone();
        }
        json!({
            "type": "object",
            "properties": self.properties,
            "required": self.required,
            "additionalProperties": false,
        })
    }

    /// Checks `args` against the parameters: required present, no unknown
    /// keys, JSON types matching. A tool with a whole
    /// [`Tool::input_schema`] checks its own arguments.
    pub fn check_args(&self, args: &Args) -> Result<(), ToolError> {
        if self.input_schema.is_some() {
            return Ok(());
        }
        for name in &self.required {
            if !args.0.contains_key(name) {
                return Err(ToolError::InvalidArgs(format!("missing required argument `{name}`")));
            }
        }
        for (name, value) in &args.0 {
            let Some(prop) = self.properties.get(name) else {
                return Err(ToolError::InvalidArgs(format!(
                    "unknown argument `{name}` for tool `{}`",
                    self.name
                )));
            };
            let expected = prop.get("type").and_then(Value::as_str).unwrap_or("");
            let ok = match expected {
                "integer" => value.is_i64() || value.is_u64(),
                "number" => value.is_number(),
                "string" => value.is_string(),
                "boolean" => value.is_boolean(),
                "array" => value.is_array(),
                "object" => value.is_object(),
                _ => true,
            };
            if !ok {
                return Err(ToolError::InvalidArgs(format!(
                    "argument `{name}` must be of type {expected}"
                )));
            }
        }
        Ok(())
    }
}

/// The arguments of a tool call: a JSON object.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Args(Map<String, Value>);

impl Args {
    /// Parses arguments from JSON text (an empty text is `{}`).
    pub fn from_json(text: &str) -> Result<Args, ToolError> {
        if text.trim().is_empty() {
            return Ok(Args::default());
        }
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Ok(Args(map)),
            Ok(_) => Err(ToolError::InvalidArgs("arguments must be a JSON object".into())),
            Err(e) => Err(ToolError::InvalidArgs(format!("arguments are not valid JSON: {e}"))),
        }
    }

    /// The raw JSON value of `name`.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    /// `name` deserialized as `T`, or `None` when absent.
    pub fn get<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, ToolError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => serde_json::from_value(v.clone())
                .map(Some)
                .map_err(|e| ToolError::InvalidArgs(format!("argument `{name}`: {e}"))),
        }
    }

    /// `name` as an unsigned integer, `default` when absent, checked to lie
    /// in `min..=max`.
    pub fn u32_in(&self, name: &str, default: u32, min: u32, max: u32) -> Result<u32, ToolError> {
        let value = self.get::<u32>(name)?.unwrap_or(default);
        if (min..=max).contains(&value) {
            Ok(value)
        } else {
            Err(ToolError::InvalidArgs(format!(
                "argument `{name}` must be between {min} and {max}, got {value}"
            )))
        }
    }
}

/// Why a tool call failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ToolError {
    /// No tool with this name.
    UnknownTool(String),
    /// Bad arguments.
    InvalidArgs(String),
    /// The tool could not produce a result.
    Failed(String),
}

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ToolError::UnknownTool(t) => write!(f, "unknown tool `{t}`"),
            ToolError::InvalidArgs(m) => write!(f, "invalid arguments: {m}"),
            ToolError::Failed(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for ToolError {}

impl From<crate::Error> for ToolError {
    fn from(e: crate::Error) -> ToolError {
        ToolError::Failed(e.to_string())
    }
}

impl From<ToolError> for wit::ToolError {
    fn from(e: ToolError) -> wit::ToolError {
        match e {
            ToolError::UnknownTool(t) => wit::ToolError::UnknownTool(t),
            ToolError::InvalidArgs(m) => wit::ToolError::InvalidArgs(m),
            ToolError::Failed(m) => wit::ToolError::Failed(m),
        }
    }
}

/// Implements the `tools` export for `P`.
#[doc(hidden)]
pub fn guest_tools<P: Plugin>() -> Vec<wit::ToolSpec> {
    P::tools()
        .into_iter()
        .map(|t| wit::ToolSpec {
            args_schema: t.schema().to_string(),
            output_schema: t.output_schema.as_ref().map(Value::to_string),
            name: t.name,
            description: t.description,
        })
        .collect()
}

/// Implements the `invoke` export for `P`.
#[doc(hidden)]
pub fn guest_invoke<P: Plugin>(tool: &str, args_json: &str) -> Result<String, wit::ToolError> {
    let args = Args::from_json(args_json)?;
    let value = P::invoke(tool, &args)?;
    Ok(match value {
        Value::String(text) => text,
        other => other.to_string(),
    })
}
