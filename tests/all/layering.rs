//! The host's layering, checked from its source: every `crate::<module>`
//! a file of `host/src` names must be a module its own module may depend
//! on (the table below, drawn in the README's architecture section), and
//! the table itself must have no cycle. A new upward import fails here,
//! naming the file and the module it reached for.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What each top-level module of `host/src` may import, besides itself.
/// Bottom first.
const LAYERS: &[(&str, &[&str])] = &[
    ("text", &[]),
    ("registry", &[]),
    ("examples", &[]),
    ("bindings", &[]),
    ("auth", &["text"]),
    ("consent", &["registry"]),
    ("manifest", &["consent", "registry", "text"]),
    ("vault", &["consent", "registry", "text"]),
    ("runtime", &["text"]),
    ("ports", &["consent", "vault"]),
    ("network", &["consent", "manifest", "ports", "registry", "text"]),
    (
        "capabilities",
        &[
            "bindings", "consent", "manifest", "ports", "registry", "runtime", "text", "vault",
        ],
    ),
    (
        "vetting",
        &[
            "capabilities",
            "consent",
            "manifest",
            "registry",
            "runtime",
            "text",
            "vault",
        ],
    ),
    ("error", &["manifest", "runtime", "vetting"]),
    (
        "platform",
        &[
            "auth",
            "bindings",
            "capabilities",
            "consent",
            "error",
            "manifest",
            "network",
            "ports",
            "registry",
            "runtime",
            "text",
            "vault",
            "vetting",
        ],
    ),
    (
        "serve",
        &[
            "auth",
            "capabilities",
            "consent",
            "error",
            "manifest",
            "platform",
            "registry",
            "runtime",
            "text",
            "vault",
        ],
    ),
    (
        "web",
        &[
            "auth",
            "capabilities",
            "consent",
            "error",
            "manifest",
            "platform",
            "registry",
            "runtime",
            "serve",
            "text",
            "vault",
            "vetting",
        ],
    ),
    (
        "demo",
        &["error", "examples", "manifest", "platform", "registry", "vault"],
    ),
    (
        "cli",
        &[
            "auth",
            "capabilities",
            "consent",
            "demo",
            "error",
            "manifest",
            "network",
            "platform",
            "registry",
            "runtime",
            "serve",
            "text",
            "vault",
            "vetting",
            "web",
        ],
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// The modules `text` names as `crate::<name>`.
fn crate_refs(text: &str) -> BTreeSet<String> {
    text.match_indices("crate::")
        .filter(|(i, _)| !text[..*i].ends_with(|c: char| c.is_alphanumeric() || c == '_'))
        .map(|(i, m)| {
            text[i + m.len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .filter(|name| !name.is_empty())
        .collect()
}

/// Every file of `host/src`: its path below `src` and its text.
fn host_files() -> anyhow::Result<Vec<(String, String)>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../host/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files)?;
    let mut out = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&src)?.to_string_lossy().replace('\\', "/");
        out.push((rel, std::fs::read_to_string(&file)?));
    }
    Ok(out)
}

/// Every import of `host/src` that its module may not make:
/// `(file, module, imported)`.
fn violations() -> anyhow::Result<Vec<(String, String, String)>> {
    let allowed: BTreeMap<&str, &[&str]> = LAYERS.iter().copied().collect();
    let mut out = Vec::new();
    for (rel, text) in host_files()? {
        let top = rel
            .split('/')
            .next()
            .unwrap_or_default()
            .trim_end_matches(".rs")
            .to_string();
        if top == "lib" || top == "main" {
            continue;
        }
        let Some(deps) = allowed.get(top.as_str()) else {
            out.push((rel, top, "(a module missing from LAYERS)".into()));
            continue;
        };
        for name in crate_refs(&text) {
            let known = allowed.contains_key(name.as_str());
            if known && name != top && !deps.contains(&name.as_str()) {
                out.push((rel.clone(), top.clone(), name));
            }
        }
    }
    Ok(out)
}

#[test]
fn no_module_imports_one_above_it() -> anyhow::Result<()> {
    let found = violations()?;
    assert!(
        found.is_empty(),
        "imports against the layering (file: module -> imported):\n{}",
        found
            .iter()
            .map(|(f, m, i)| format!("  {f}: {m} -> {i}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    Ok(())
}

#[test]
fn no_sql_above_the_storage_trait() -> anyhow::Result<()> {
    // Above the vault, the database is reached through `vault::Store`
    // only: no file outside `host/src/vault/` names a database driver
    // (SQLite's or PostgreSQL's), and no backend names the other's.
    let drivers = ["rusqlite", "tokio_postgres", "deadpool_postgres"];
    let found: Vec<String> = host_files()?
        .into_iter()
        .filter(|(rel, text)| {
            let outside = !rel.starts_with("vault/") && drivers.iter().any(|d| text.contains(d));
            let crossed = rel.starts_with("vault/pg/") && text.contains("rusqlite");
            outside || crossed
        })
        .map(|(rel, _)| rel)
        .collect();
    assert!(found.is_empty(), "SQL above the storage trait in: {found:?}");
    Ok(())
}

#[test]
fn the_layers_have_no_cycle() {
    // Each module may depend only on modules listed before it.
    let mut seen = BTreeSet::new();
    for (module, deps) in LAYERS {
        for dep in *deps {
            assert!(
                seen.contains(dep),
                "`{module}` depends on `{dep}`, which is not below it"
            );
        }
        seen.insert(*module);
    }
}

#[test]
fn the_check_sees_an_upward_import() {
    // The scanner itself: a runtime file reaching for the vault is caught,
    // and `healthplug_crate::` or `mycrate::` are not mistaken for `crate::`.
    let refs = crate_refs("use crate::vault::SecretKey; let x = mycrate::y; crate::text::f();");
    assert_eq!(refs, BTreeSet::from(["vault".to_string(), "text".to_string()]));
    let allowed: BTreeMap<&str, &[&str]> = LAYERS.iter().copied().collect();
    assert!(!allowed["runtime"].contains(&"vault"));
}
