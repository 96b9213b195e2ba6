//! One source of truth for data types: the registry, the WIT enum and the
//! generated reference table in the docs must agree.

use std::path::PathBuf;

use healthplug_host::registry::{DataType, markdown_table};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn the_wit_enum_matches_the_registry_case_for_case() -> anyhow::Result<()> {
    let mut resolve = wit_parser::Resolve::default();
    let (package, _) = resolve.push_dir(root().join("wit"))?;
    let types = resolve.packages[package]
        .interfaces
        .get("types")
        .copied()
        .ok_or_else(|| anyhow::anyhow!("no types interface"))?;
    let data_type = resolve.interfaces[types]
        .types
        .get("data-type")
        .copied()
        .ok_or_else(|| anyhow::anyhow!("no data-type enum"))?;
    let wit_parser::TypeDefKind::Enum(e) = &resolve.types[data_type].kind else {
        anyhow::bail!("data-type is not an enum");
    };
    let wit_names: Vec<&str> = e.cases.iter().map(|c| c.name.as_str()).collect();
    let registry: Vec<&str> = DataType::all().map(|t| t.id()).collect();
    assert_eq!(wit_names, registry);
    for case in &e.cases {
        assert!(
            case.docs.contents.as_deref().is_some_and(|d| !d.is_empty()),
            "{} has no doc",
            case.name
        );
    }
    Ok(())
}

#[test]
fn the_docs_table_is_generated_from_the_registry() -> anyhow::Result<()> {
    let path = root().join("docs/data-types.md");
    let on_disk = std::fs::read_to_string(&path)?;
    assert!(
        on_disk == markdown_table(),
        "{} is stale: regenerate it with `cargo run -p healthplug-host -- types --markdown > docs/data-types.md`",
        path.display()
    );
    Ok(())
}

#[test]
fn every_wit_item_has_a_doc_comment() -> anyhow::Result<()> {
    for entry in std::fs::read_dir(root().join("wit"))? {
        let path = entry?.path();
        let text = std::fs::read_to_string(&path)?;
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            let is_item = [
                "interface ",
                "world ",
                "record ",
                "enum ",
                "variant ",
                "flags ",
                "import ",
                "export ",
            ]
            .iter()
            .any(|k| t.starts_with(k))
                || (t.contains(": func(") && !t.starts_with("//"));
            if is_item {
                let prev = lines[..i]
                    .iter()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .map(|l| l.trim_start())
                    .unwrap_or("");
                assert!(
                    prev.starts_with("///"),
                    "{}:{} `{}` has no /// doc",
                    path.display(),
                    i + 1,
                    t
                );
            }
        }
    }
    Ok(())
}
