//! `healthplug new plugin|connector <name>`: a crate a partner starts
//! from (Cargo.toml with the SDK and its mock, a manifest, one tool or an
//! `ingest`, native tests, a README) that builds, installs with `--dev`
//! and answers `invoke` or `import` with no edit. The templates are in
//! `host/templates/`; this fills them in and writes them without ever
//! overwriting a file.

use std::fs;
use std::path::{Path, PathBuf};

use super::args::{NewKind, NewLang};
use super::output::print_json;
use super::{CliResult, usage};
use crate::manifest::is_plugin_id;

/// The SDK this binary was built with (a checkout's `sdk/`).
const BUILT_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../sdk");

/// The files of a template: (path in the crate, template text), or why
/// there is none.
fn template(kind: NewKind, lang: NewLang) -> Result<Vec<(&'static str, &'static str)>, &'static str> {
    Ok(match (kind, lang) {
        (NewKind::Plugin, NewLang::Python) => vec![
            ("app.py", include_str!("../../templates/python/app.py.tmpl")),
            (
                "healthplug.toml",
                include_str!("../../templates/python/healthplug.toml.tmpl"),
            ),
            ("README.md", include_str!("../../templates/python/README.md.tmpl")),
            (".gitignore", include_str!("../../templates/python/gitignore.tmpl")),
        ],
        (NewKind::Plugin, NewLang::Js) => vec![
            ("app.js", include_str!("../../templates/js/app.js.tmpl")),
            (
                "healthplug.toml",
                include_str!("../../templates/js/healthplug.toml.tmpl"),
            ),
            ("README.md", include_str!("../../templates/js/README.md.tmpl")),
            (".gitignore", include_str!("../../templates/js/gitignore.tmpl")),
        ],
        (NewKind::Connector, NewLang::Python | NewLang::Js) => {
            return Err("connectors are written in Rust for now: `healthplug new connector <name>`");
        }
        (NewKind::Plugin, NewLang::Rust) => vec![
            ("Cargo.toml", include_str!("../../templates/plugin/Cargo.toml.tmpl")),
            (
                "healthplug.toml",
                include_str!("../../templates/plugin/healthplug.toml.tmpl"),
            ),
            ("src/lib.rs", include_str!("../../templates/plugin/lib.rs.tmpl")),
            ("README.md", include_str!("../../templates/plugin/README.md.tmpl")),
            (".gitignore", "/target\n"),
        ],
        (NewKind::Connector, NewLang::Rust) => vec![
            ("Cargo.toml", include_str!("../../templates/connector/Cargo.toml.tmpl")),
            (
                "healthplug.toml",
                include_str!("../../templates/connector/healthplug.toml.tmpl"),
            ),
            ("src/lib.rs", include_str!("../../templates/connector/lib.rs.tmpl")),
            ("README.md", include_str!("../../templates/connector/README.md.tmpl")),
            (".gitignore", "/target\n"),
        ],
    })
}

/// `sleep-coach` → (`sleep_coach`, `SleepCoach`, `Sleep Coach`).
fn names(id: &str) -> (String, String, String) {
    let words: Vec<String> = id
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    (id.replace('-', "_"), words.concat(), words.join(" "))
}

/// The template's files filled in for `id`, the SDK at `sdk`.
pub fn render(kind: NewKind, lang: NewLang, id: &str, sdk: &Path) -> Result<Vec<(&'static str, String)>, &'static str> {
    let (krate, ty, title) = names(id);
    let sdk = sdk.display().to_string().replace('\\', "/");
    Ok(template(kind, lang)?
        .into_iter()
        .map(|(path, text)| {
            let text = text
                .replace("{{name}}", id)
                .replace("{{crate}}", &krate)
                .replace("{{type}}", &ty)
                .replace("{{title}}", &title)
                .replace("{{sdk}}", &sdk);
            (path, text)
        })
        .collect())
}

fn sdk_path(given: Option<&Path>) -> Result<PathBuf, super::CliError> {
    let path = given.map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from(BUILT_SDK));
    let ok = path.join("Cargo.toml").is_file() && path.join("src/lib.rs").is_file();
    if !ok {
        return Err(usage(
            format!(
                "{} is not the healthplug SDK (no Cargo.toml and src/lib.rs)",
                path.display()
            ),
            "give the SDK's directory with --sdk (the `sdk/` folder of a healthplug checkout)",
        ));
    }
    path.canonicalize().map_err(|e| {
        usage(
            format!("{}: {e}", path.display()),
            "give the SDK's directory with --sdk",
        )
    })
}

/// Writes the crate for `id` into `dir` (default `./<id>`), refusing to
/// touch a directory that already has files.
pub(super) fn run(
    kind: NewKind,
    lang: NewLang,
    id: &str,
    dir: Option<&Path>,
    sdk: Option<&Path>,
    json: bool,
) -> CliResult {
    if !is_plugin_id(id) {
        return Err(usage(
            format!("`{id}` is not a valid plugin id"),
            "use kebab-case: lowercase letters, digits and single dashes, starting with a letter (e.g. sleep-coach)",
        ));
    }
    let sdk = sdk_path(sdk)?;
    let dir = dir.map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from(id));
    if dir.exists() && fs::read_dir(&dir).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(usage(
            format!("{} already exists and is not empty", dir.display()),
            "choose another name or --dir; nothing was written",
        ));
    }
    let files = render(kind, lang, id, &sdk).map_err(|why| usage(why, "see `healthplug new --help`"))?;
    for (path, text) in &files {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(|e| usage(format!("{}: {e}", parent.display()), "check the path"))?;
        }
        fs::write(&target, text).map_err(|e| usage(format!("{}: {e}", target.display()), "check the path"))?;
    }
    if json {
        let written: Vec<String> = files.iter().map(|(p, _)| dir.join(p).display().to_string()).collect();
        return Ok(print_json(
            &serde_json::json!({ "dir": dir.display().to_string(), "files": written }),
        )?);
    }
    let what = match kind {
        NewKind::Plugin => "plugin",
        NewKind::Connector => "connector",
    };
    println!("created {what} `{id}` in {}", dir.display());
    for (path, _) in &files {
        println!("  {path}");
    }
    println!(
        "next: cd {} && cargo test && cargo build --release --target wasm32-wasip2",
        dir.display()
    );
    println!("then follow its README.md: install with --dev, grant, invoke");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_placeholders_are_all_filled() {
        assert_eq!(
            names("sleep-coach"),
            ("sleep_coach".into(), "SleepCoach".into(), "Sleep Coach".into())
        );
        for (kind, lang) in [
            (NewKind::Plugin, NewLang::Rust),
            (NewKind::Connector, NewLang::Rust),
            (NewKind::Plugin, NewLang::Python),
            (NewKind::Plugin, NewLang::Js),
        ] {
            for (path, text) in render(kind, lang, "sleep-coach", Path::new("/sdk")).unwrap() {
                assert!(!text.contains("{{"), "{path} keeps a placeholder");
                if path == "healthplug.toml" {
                    assert!(text.contains("id = \"sleep-coach\""), "{text}");
                    assert!(text.contains("sleep_coach.wasm\""), "{text}");
                }
            }
        }
    }

    #[test]
    fn a_bad_name_or_a_used_directory_writes_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let sdk = Path::new(BUILT_SDK);
        let dir = tmp.path().join("x");
        assert!(
            run(
                NewKind::Plugin,
                NewLang::Rust,
                "Sleep_Coach",
                Some(&dir),
                Some(sdk),
                false
            )
            .is_err()
        );
        assert!(!dir.exists());
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("keep.txt"), "mine").unwrap();
        assert!(
            run(
                NewKind::Plugin,
                NewLang::Rust,
                "sleep-coach",
                Some(&dir),
                Some(sdk),
                false
            )
            .is_err()
        );
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "nothing written beside it");
        let not_sdk = tmp.path().join("nowhere");
        let y = tmp.path().join("y");
        assert!(
            run(
                NewKind::Plugin,
                NewLang::Rust,
                "sleep-coach",
                Some(&y),
                Some(&not_sdk),
                false
            )
            .is_err()
        );
        let z = tmp.path().join("z");
        assert!(run(NewKind::Connector, NewLang::Python, "x", Some(&z), Some(sdk), false).is_err());
        assert!(!z.exists(), "nothing written for a template that does not exist");
    }
}
