//! Strict parsing of `healthplug.toml` into a [`Manifest`], with errors
//! that name the file, line, column and key.

use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;

use toml::Spanned;

use super::error::{Locator, ManifestError, key_at, toml_message};
use super::raw::{RawManifest, RawNetwork, RawPlugin, RawRead};
use super::strings::{check_text, is_kebab_id, is_semver};
use super::{Manifest, ManifestLimits, NetworkRequest, Origin, ReadRequest, StorageRequest, World, WriteRequest};
use crate::consent::{Fields, Granularity};
use crate::registry::DataType;

pub(super) fn parse(source: &str, path: &Path) -> Result<Manifest, ManifestError> {
    let at = Locator { source, path };
    check_text(&at)?;
    let raw: RawManifest = toml::from_str(source).map_err(|e| {
        let span = e.span();
        let key = key_at(source, &span);
        at.error(span, &key, toml_message(&e))
    })?;
    let p = &raw.plugin;
    let header = parse_header(&at, p)?;
    let mut seen: HashSet<DataType> = HashSet::new();
    let reads = raw
        .read
        .iter()
        .enumerate()
        .map(|(i, r)| parse_read(&at, i, r, &mut seen))
        .collect::<Result<Vec<_>, _>>()?;
    let mut written: HashSet<DataType> = HashSet::new();
    let mut writes = Vec::new();
    for (i, w) in raw.write.iter().enumerate() {
        let key = |k: &str| format!("write[{}].{k}", i + 1);
        let types = parse_types(&at, &w.types, &key("types"), &mut written)?;
        let purpose = parse_purpose(&at, w.purpose.as_ref(), &key("purpose"), w.types.span())?;
        writes.push(WriteRequest { types, purpose });
    }
    let storage = match &raw.storage {
        None => None,
        Some(s) => Some(StorageRequest {
            purpose: parse_purpose(&at, s.purpose.as_ref(), "storage.purpose", 0..0)?,
            max_bytes: bounded(&at, s.max_bytes.as_ref(), "storage.max-bytes", 1, 1 << 30)?,
            max_keys: bounded(&at, s.max_keys.as_ref(), "storage.max-keys", 1, 1_000_000)?,
        }),
    };
    let network = raw.network.as_ref().map(|n| parse_network(&at, n)).transpose()?;
    let limits = match &raw.limits {
        None => ManifestLimits::default(),
        Some(l) => ManifestLimits {
            memory_mib: bounded(&at, l.memory_mib.as_ref(), "limits.memory-mib", 1, 4096)?,
            timeout_ms: bounded(&at, l.timeout_ms.as_ref(), "limits.timeout-ms", 1, 600_000)?,
            fuel: bounded(&at, l.fuel.as_ref(), "limits.fuel", 1_000, 10_000_000_000_000)?,
        },
    };
    Ok(Manifest {
        id: header.id,
        name: p.name.get_ref().trim().to_string(),
        version: header.version,
        publisher: p.publisher.get_ref().trim().to_string(),
        description: p.description.as_ref().map(|d| d.trim().to_string()),
        component: p.component.get_ref().trim().to_string(),
        sha256: header.sha256,
        world: header.world,
        reads,
        writes,
        storage,
        network,
        limits,
    })
}

/// The checked values of `[plugin]` that need more than trimming.
struct Header {
    id: String,
    version: String,
    sha256: Option<String>,
    world: World,
}

/// `[plugin]`: a kebab-case id, non-empty names, a semantic version, an
/// optional sha256, a known world.
fn parse_header(at: &Locator<'_>, p: &RawPlugin) -> Result<Header, ManifestError> {
    let id = p.id.get_ref().trim().to_string();
    if !is_kebab_id(&id) {
        return Err(at.error(Some(p.id.span()), "plugin.id", format!(
            "`{id}` is not a valid plugin id: use kebab-case (lowercase letters, digits and single dashes, starting with a letter, at most 64 characters)"
        )));
    }
    for (value, key) in [
        (&p.name, "plugin.name"),
        (&p.publisher, "plugin.publisher"),
        (&p.component, "plugin.component"),
    ] {
        if value.get_ref().trim().is_empty() {
            return Err(at.error(Some(value.span()), key, "must not be empty"));
        }
    }
    let version = p.version.get_ref().trim().to_string();
    if !is_semver(&version) {
        return Err(at.error(
            Some(p.version.span()),
            "plugin.version",
            format!("`{version}` is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.0.0)"),
        ));
    }
    let sha256 = match &p.sha256 {
        Some(s) => {
            let hex = s.get_ref().trim().to_ascii_lowercase();
            if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(at.error(
                    Some(s.span()),
                    "plugin.sha256",
                    "must be 64 hexadecimal digits (the sha256 of the component)",
                ));
            }
            Some(hex)
        }
        None => None,
    };
    let world = match p.world.as_ref().map(|w| (w, w.get_ref().as_str())) {
        None | Some((_, "plugin")) => World::Plugin,
        Some((_, "connector")) => World::Connector,
        Some((w, other)) => {
            return Err(at.error(
                Some(w.span()),
                "plugin.world",
                format!("unknown world `{other}` (use plugin or connector)"),
            ));
        }
    };
    Ok(Header {
        id,
        version,
        sha256,
        world,
    })
}

/// The `i`th `[[read]]` (types not asked before, a purpose, fields,
/// history, granularity).
fn parse_read(
    at: &Locator<'_>,
    i: usize,
    r: &RawRead,
    seen: &mut HashSet<DataType>,
) -> Result<ReadRequest, ManifestError> {
    let key = |k: &str| format!("read[{}].{k}", i + 1);
    let types = parse_types(at, &r.types, &key("types"), seen)?;
    let purpose = parse_purpose(at, r.purpose.as_ref(), &key("purpose"), r.types.span())?;
    let fields = match &r.fields {
        None => Fields::DEFAULT,
        Some(list) => {
            let mut out = Fields::NONE;
            for f in list.get_ref() {
                out = out.union(
                    Fields::from_name(f.get_ref())
                        .map_err(|e| at.error(Some(f.span()), &key("fields"), e.to_string()))?,
                );
            }
            if out.is_empty() {
                return Err(at.error(Some(list.span()), &key("fields"), "must list at least one field"));
            }
            out
        }
    };
    let days = match &r.days {
        None => None,
        Some(d) => {
            let v = *d.get_ref();
            if !(1..=36_500).contains(&v) {
                return Err(at.error(
                    Some(d.span()),
                    &key("days"),
                    format!("must be between 1 and 36500, got {v}"),
                ));
            }
            u32::try_from(v).ok()
        }
    };
    let granularity = match &r.granularity {
        None => Granularity::Raw,
        Some(g) => g
            .get_ref()
            .parse()
            .map_err(|e: String| at.error(Some(g.span()), &key("granularity"), e))?,
    };
    Ok(ReadRequest {
        types,
        purpose,
        fields,
        days,
        granularity,
    })
}

/// `[network]`: at least one https origin, a purpose, bounds.
fn parse_network(at: &Locator<'_>, n: &RawNetwork) -> Result<NetworkRequest, ManifestError> {
    if n.allow.get_ref().is_empty() {
        return Err(at.error(Some(n.allow.span()), "network.allow", "must list at least one origin"));
    }
    let mut allow = Vec::new();
    for origin in n.allow.get_ref() {
        let parsed = Origin::parse(origin.get_ref()).map_err(|e| at.error(Some(origin.span()), "network.allow", e))?;
        if parsed.scheme != "https" {
            return Err(at.error(
                Some(origin.span()),
                "network.allow",
                "only https:// origins may be declared",
            ));
        }
        allow.push(parsed);
    }
    Ok(NetworkRequest {
        allow,
        purpose: parse_purpose(at, n.purpose.as_ref(), "network.purpose", n.allow.span())?,
        max_requests: bounded(at, n.max_requests.as_ref(), "network.max-requests", 1, 10_000)?,
        max_response_bytes: bounded(
            at,
            n.max_response_bytes.as_ref(),
            "network.max-response-bytes",
            1,
            1 << 30,
        )?,
    })
}

fn parse_types(
    at: &Locator<'_>,
    list: &Spanned<Vec<Spanned<String>>>,
    key: &str,
    seen: &mut HashSet<DataType>,
) -> Result<Vec<DataType>, ManifestError> {
    if list.get_ref().is_empty() {
        return Err(at.error(Some(list.span()), key, "must list at least one data type"));
    }
    let mut out = Vec::new();
    for name in list.get_ref() {
        let ty: DataType = name
            .get_ref()
            .parse()
            .map_err(|e: crate::registry::UnknownDataType| at.error(Some(name.span()), key, e.to_string()))?;
        if !seen.insert(ty) {
            return Err(at.error(
                Some(name.span()),
                key,
                format!("`{ty}` is requested twice; list each type once"),
            ));
        }
        out.push(ty);
    }
    Ok(out)
}

fn parse_purpose(
    at: &Locator<'_>,
    purpose: Option<&Spanned<String>>,
    key: &str,
    fallback_span: Range<usize>,
) -> Result<String, ManifestError> {
    match purpose {
        None => Err(at.error(
            (fallback_span.end > 0).then_some(fallback_span),
            key,
            "a purpose is required: say why the plugin needs this",
        )),
        Some(p) if p.get_ref().trim().len() < 8 => Err(at.error(
            Some(p.span()),
            key,
            "the purpose is too short: say in a sentence why the plugin needs this data",
        )),
        Some(p) => Ok(p.get_ref().trim().to_string()),
    }
}

fn bounded<T: TryFrom<i64>>(
    at: &Locator<'_>,
    value: Option<&Spanned<i64>>,
    key: &str,
    min: i64,
    max: i64,
) -> Result<Option<T>, ManifestError> {
    match value {
        None => Ok(None),
        Some(v) => {
            let n = *v.get_ref();
            if (min..=max).contains(&n) {
                Ok(T::try_from(n).ok())
            } else {
                Err(at.error(Some(v.span()), key, format!("must be between {min} and {max}, got {n}")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[plugin]
id = "step-coach"
name = "Step Coach"
version = "1.2.3"
publisher = "Acme Health"
component = "target/step_coach.wasm"

[[read]]
types = ["steps", "heart-rate"]
purpose = "Summarise your weekly activity"
fields = ["value", "time"]
days = 30
granularity = "hourly"

[limits]
memory-mib = 16
timeout-ms = 500
"#;

    fn parse_str(s: &str) -> Result<Manifest, ManifestError> {
        parse(s, Path::new("healthplug.toml"))
    }

    #[test]
    fn parses_a_good_manifest() {
        let m = parse_str(GOOD).unwrap();
        assert_eq!(m.id, "step-coach");
        assert_eq!(m.reads[0].types.len(), 2);
        assert_eq!(m.reads[0].fields, Fields::VALUE | Fields::TIME);
        assert_eq!(m.reads[0].granularity, Granularity::Hourly);
        assert_eq!(m.limits.memory_mib, Some(16));
        assert_eq!(m.world, World::Plugin);
        assert_eq!(m.type_requests().len(), 2);
    }

    #[test]
    fn unknown_key_names_line_and_key() {
        let bad = GOOD.replace(
            "publisher = \"Acme Health\"",
            "publisher = \"Acme Health\"\ncolour = \"red\"",
        );
        let e = parse_str(&bad).unwrap_err();
        assert_eq!(e.line, 7, "{e}");
        assert_eq!(e.key, "plugin.colour", "{e}");
        assert!(e.to_string().contains("colour"), "{e}");
        assert!(e.to_string().starts_with("healthplug.toml:7:"), "{e}");
    }

    #[test]
    fn unknown_type_is_rejected_with_a_hint() {
        let bad = GOOD.replace("\"heart-rate\"", "\"hart-rate\"");
        let e = parse_str(&bad).unwrap_err();
        assert_eq!(e.line, 10);
        assert_eq!(e.key, "read[1].types");
        assert!(e.message.contains("did you mean heart-rate"), "{e}");
    }

    #[test]
    fn purpose_is_required() {
        let bad = GOOD.replace("purpose = \"Summarise your weekly activity\"\n", "");
        let e = parse_str(&bad).unwrap_err();
        assert_eq!(e.key, "read[1].purpose");
        assert!(e.message.contains("purpose is required"), "{e}");
    }

    #[test]
    fn invalid_values_are_rejected() {
        for (from, to, key) in [
            ("id = \"step-coach\"", "id = \"Step_Coach\"", "plugin.id"),
            ("version = \"1.2.3\"", "version = \"one\"", "plugin.version"),
            ("days = 30", "days = 0", "read[1].days"),
            (
                "granularity = \"hourly\"",
                "granularity = \"weekly\"",
                "read[1].granularity",
            ),
            (
                "fields = [\"value\", \"time\"]",
                "fields = [\"value\", \"blood\"]",
                "read[1].fields",
            ),
            ("memory-mib = 16", "memory-mib = 100000", "limits.memory-mib"),
            (
                "types = [\"steps\", \"heart-rate\"]",
                "types = [\"steps\", \"steps\"]",
                "read[1].types",
            ),
        ] {
            let e = parse_str(&GOOD.replace(from, to)).unwrap_err();
            assert_eq!(e.key, key, "{to}: {e}");
            assert!(e.line > 0, "{e}");
        }
    }

    #[test]
    fn storage_and_network() {
        let with = format!(
            "{GOOD}\n[storage]\npurpose = \"Remember your last sync\"\nmax-bytes = 4096\n\n[network]\nallow = [\"https://api.partner.example\", \"https://*.cdn.partner.example:8443\"]\npurpose = \"Fetch your workouts from Partner\"\n"
        );
        let m = parse_str(&with).unwrap();
        assert_eq!(m.storage.as_ref().unwrap().max_bytes, Some(4096));
        let n = m.network.unwrap();
        assert_eq!(n.allow.len(), 2);
        assert_eq!(n.allow[1].port, 8443);
        let http = with.replace("https://api.partner.example", "http://api.partner.example");
        let e = parse_str(&http).unwrap_err();
        assert_eq!(e.key, "network.allow");
        assert!(e.message.contains("only https"), "{e}");
        let no_purpose = with.replace("purpose = \"Fetch your workouts from Partner\"\n", "");
        assert_eq!(parse_str(&no_purpose).unwrap_err().key, "network.purpose");
        let path = with.replace("https://api.partner.example", "https://api.partner.example/v1");
        assert!(parse_str(&path).unwrap_err().message.contains("no path"));
    }

    #[test]
    fn syntax_errors_have_positions() {
        let e = parse_str("[plugin\nid = 1").unwrap_err();
        assert_eq!(e.line, 1, "{e}");
        let e = parse_str("").unwrap_err();
        assert!(e.message.contains("plugin"), "{e}");
    }
}
