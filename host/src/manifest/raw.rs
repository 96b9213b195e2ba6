//! The shape of `healthplug.toml` as serde reads it, before any checking:
//! every value keeps its span, so `parse.rs` can name the line and key of
//! whatever it refuses.

use serde::Deserialize;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawManifest {
    pub(super) plugin: RawPlugin,
    #[serde(default)]
    pub(super) read: Vec<RawRead>,
    #[serde(default)]
    pub(super) write: Vec<RawWrite>,
    #[serde(default)]
    pub(super) storage: Option<RawStorage>,
    #[serde(default)]
    pub(super) network: Option<RawNetwork>,
    #[serde(default)]
    pub(super) limits: Option<RawLimits>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawStorage {
    #[serde(default)]
    pub(super) purpose: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) max_bytes: Option<Spanned<i64>>,
    #[serde(default)]
    pub(super) max_keys: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawNetwork {
    pub(super) allow: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    pub(super) purpose: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) max_requests: Option<Spanned<i64>>,
    #[serde(default)]
    pub(super) max_response_bytes: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawPlugin {
    pub(super) id: Spanned<String>,
    pub(super) name: Spanned<String>,
    pub(super) version: Spanned<String>,
    pub(super) publisher: Spanned<String>,
    #[serde(default)]
    pub(super) description: Option<String>,
    pub(super) component: Spanned<String>,
    #[serde(default)]
    pub(super) sha256: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) world: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawRead {
    pub(super) types: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    pub(super) purpose: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) fields: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub(super) days: Option<Spanned<i64>>,
    #[serde(default)]
    pub(super) granularity: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawWrite {
    pub(super) types: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    pub(super) purpose: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawLimits {
    #[serde(default)]
    pub(super) memory_mib: Option<Spanned<i64>>,
    #[serde(default)]
    pub(super) timeout_ms: Option<Spanned<i64>>,
    #[serde(default)]
    pub(super) fuel: Option<Spanned<i64>>,
}
