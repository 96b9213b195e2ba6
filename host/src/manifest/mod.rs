//! The plugin manifest (`healthplug.toml`): identity, the data a plugin
//! asks for and why, and its resource limits. Parsed strictly: unknown keys
//! and unknown types are errors naming the file, line and key, and no
//! string may hold a character that would conceal or rewrite what is shown.

mod error;
mod origin;
mod parse;
#[cfg(test)]
mod properties;
mod raw;
mod strings;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::consent::{Fields, Granularity, TypeRequest};
use crate::registry::DataType;

pub use error::ManifestError;
pub use origin::Origin;
pub use strings::is_kebab_id as is_plugin_id;

/// The file name of a manifest inside a plugin directory.
pub const MANIFEST_FILE: &str = "healthplug.toml";

/// Which WIT world a plugin's component implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum World {
    /// Offers tools (`tools`, `invoke`).
    Plugin,
    /// Imports exports from files (`ingest`).
    Connector,
}

impl World {
    /// The kebab-case name.
    pub fn id(self) -> &'static str {
        match self {
            World::Plugin => "plugin",
            World::Connector => "connector",
        }
    }
}

/// A request to read some types.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReadRequest {
    /// The types.
    pub types: Vec<DataType>,
    /// Why the plugin needs them (shown to users and reviewers).
    pub purpose: String,
    /// The fields it needs.
    pub fields: Fields,
    /// How much history it needs, in days (`None`: all).
    pub days: Option<u32>,
    /// The finest granularity it needs.
    pub granularity: Granularity,
}

/// A request to write some types.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WriteRequest {
    /// The types.
    pub types: Vec<DataType>,
    /// Why.
    pub purpose: String,
}

/// A request for private key-value storage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StorageRequest {
    /// Why.
    pub purpose: String,
    /// Byte quota asked for (keys + values).
    pub max_bytes: Option<u64>,
    /// Key quota asked for.
    pub max_keys: Option<u64>,
}

/// A request for HTTPS egress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NetworkRequest {
    /// The origins the plugin may reach.
    pub allow: Vec<Origin>,
    /// Why.
    pub purpose: String,
    /// Requests per invocation asked for.
    pub max_requests: Option<u32>,
    /// Largest response body asked for, bytes.
    pub max_response_bytes: Option<u64>,
}

/// Resource limits the manifest asks for (capped by platform policy).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ManifestLimits {
    /// Linear memory, MiB.
    pub memory_mib: Option<u32>,
    /// Wall-clock time per invocation, ms.
    pub timeout_ms: Option<u32>,
    /// Fuel (wasm instructions, roughly) per invocation.
    pub fuel: Option<u64>,
}

/// A parsed, validated manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Manifest {
    /// Kebab-case plugin id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Semantic version.
    pub version: String,
    /// Who publishes it.
    pub publisher: String,
    /// One-line description.
    pub description: Option<String>,
    /// Path of the component, relative to the manifest's directory.
    pub component: String,
    /// Expected sha256 of the component (hex), if pinned.
    pub sha256: Option<String>,
    /// The world the component implements.
    pub world: World,
    /// Read requests.
    pub reads: Vec<ReadRequest>,
    /// Write requests.
    pub writes: Vec<WriteRequest>,
    /// Storage, if asked for.
    pub storage: Option<StorageRequest>,
    /// Network, if asked for.
    pub network: Option<NetworkRequest>,
    /// Limits.
    pub limits: ManifestLimits,
}

impl Manifest {
    /// Parses manifest text; `path` names the file in errors.
    pub fn parse(source: &str, path: &Path) -> Result<Manifest, ManifestError> {
        parse::parse(source, path)
    }

    /// Reads and parses a manifest file.
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let source = std::fs::read_to_string(path).map_err(|e| ManifestError::io(path, &e))?;
        Manifest::parse(&source, path)
    }

    /// The component path resolved against the manifest's directory.
    pub fn component_path(&self, manifest_path: &Path) -> PathBuf {
        let base = manifest_path.parent().unwrap_or_else(|| Path::new("."));
        base.join(&self.component)
    }

    /// Per-type requests, merging read and write requests of the same type.
    pub fn type_requests(&self) -> Vec<TypeRequest> {
        let mut out: Vec<TypeRequest> = Vec::new();
        for r in &self.reads {
            for ty in &r.types {
                out.push(TypeRequest {
                    data_type: *ty,
                    read: true,
                    write: false,
                    fields: r.fields,
                    days: r.days,
                    granularity: r.granularity,
                    purpose: r.purpose.clone(),
                });
            }
        }
        for w in &self.writes {
            for ty in &w.types {
                if let Some(existing) = out.iter_mut().find(|t| t.data_type == *ty) {
                    existing.write = true;
                    if existing.purpose != w.purpose {
                        existing.purpose = format!("{}; writes: {}", existing.purpose, w.purpose);
                    }
                } else {
                    out.push(TypeRequest {
                        data_type: *ty,
                        read: false,
                        write: true,
                        fields: Fields::ALL,
                        days: None,
                        granularity: Granularity::Raw,
                        purpose: w.purpose.clone(),
                    });
                }
            }
        }
        out
    }

    /// The request for one type, if the manifest makes one.
    pub fn request_for(&self, ty: DataType) -> Option<TypeRequest> {
        self.type_requests().into_iter().find(|r| r.data_type == ty)
    }
}
