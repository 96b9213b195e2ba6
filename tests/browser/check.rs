//! What every page must pass, in one call per page: axe-core's WCAG 2.1
//! A/AA rules at desktop (1280×900) and phone (390×844) widths with no
//! violation, and a full-page screenshot at each width saved as
//! `target/screenshots/<page>-<desktop|phone>.png` (also under
//! `docs/screenshots/` with `HEALTHPLUG_SCREENSHOTS=docs`), beside a
//! small JSON record of axe's result.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::{Value, json};

use crate::driver::Browser;

/// A viewport the pages must read well at.
struct Width {
    name: &'static str,
    width: u32,
    height: u32,
    mobile: bool,
}

const WIDTHS: [Width; 2] = [
    Width {
        name: "desktop",
        width: 1280,
        height: 900,
        mobile: false,
    },
    Width {
        name: "phone",
        width: 390,
        height: 844,
        mobile: true,
    },
];

/// The WCAG 2.1 A and AA rule tags.
const TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/// Runs axe in the page and hands back only what the test reads.
const AXE_RUN: &str = r#"
const [tags, done] = arguments;
axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })
  .then(r => done({
    passes: r.passes.map(p => p.id),
    incomplete: r.incomplete.map(p => p.id),
    violations: r.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map(n => ({ target: n.target.join(' '), summary: n.failureSummary })),
    })),
  }))
  .catch(e => done({ error: String(e) }));
"#;

/// The workspace's target directory.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    )
}

/// Where screenshots go: `target/screenshots`, and `docs/screenshots`
/// when `HEALTHPLUG_SCREENSHOTS=docs`.
fn shot_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![target_dir().join("screenshots")];
    if std::env::var("HEALTHPLUG_SCREENSHOTS").is_ok_and(|v| v == "docs") {
        dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots"));
    }
    dirs
}

/// Emulates `w` (CSS pixels, device scale 1, touch and mobile viewport
/// for the phone) so both widths are exact whatever the window manager.
async fn emulate(browser: &Browser, w: &Width) -> anyhow::Result<()> {
    let metrics = json!({
        "width": w.width, "height": w.height, "deviceScaleFactor": 1, "mobile": w.mobile,
    });
    browser.cdp("Emulation.setDeviceMetricsOverride", metrics).await?;
    let inner = browser.run("return window.innerWidth;", vec![]).await?;
    anyhow::ensure!(inner == json!(w.width), "the {} viewport is {inner} wide", w.name);
    Ok(())
}

/// The whole page (beyond the viewport) as PNG bytes.
async fn full_page_png(browser: &Browser) -> anyhow::Result<Vec<u8>> {
    let layout = browser.cdp("Page.getLayoutMetrics", json!({})).await?;
    let size = &layout["cssContentSize"];
    let clip = json!({
        "x": 0, "y": 0, "scale": 1,
        "width": size["width"].as_f64().unwrap_or(1.0).ceil(),
        "height": size["height"].as_f64().unwrap_or(1.0).ceil(),
    });
    let shot = browser
        .cdp(
            "Page.captureScreenshot",
            json!({ "format": "png", "captureBeyondViewport": true, "clip": clip }),
        )
        .await?;
    let data = shot["data"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no screenshot data: {shot}"))?;
    Ok(base64::engine::general_purpose::STANDARD.decode(data)?)
}

fn save(name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    for dir in shot_dirs() {
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(name), bytes)?;
    }
    Ok(())
}

/// Injects axe-core (once per document) and runs the WCAG 2.1 A/AA rules.
async fn axe(browser: &Browser) -> anyhow::Result<Value> {
    let loaded = browser.run("return typeof window.axe;", vec![]).await?;
    if loaded != json!("object") {
        // Through WebDriver (DevTools), so the page's CSP does not apply.
        browser
            .run(&format!("{}\n;return typeof window.axe;", browser.axe), vec![])
            .await?;
    }
    let result = browser.client.execute_async(AXE_RUN, vec![json!(TAGS)]).await?;
    if let Some(error) = result.get("error") {
        anyhow::bail!("axe failed: {error}");
    }
    Ok(result)
}

/// The violations of an axe result, one readable block each.
fn violations(result: &Value) -> Vec<String> {
    let list = result["violations"].as_array().cloned().unwrap_or_default();
    list.iter()
        .map(|v| {
            let nodes: Vec<String> = v["nodes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|n| format!("    at {}: {}", n["target"], n["summary"]))
                .collect();
            format!("{} ({}): {}\n{}", v["id"], v["impact"], v["help"], nodes.join("\n"))
        })
        .collect()
}

/// axe finds no WCAG 2.1 A/AA violation on the current page at either
/// width, and both widths are photographed. Returns the number of rules
/// passed at each width.
pub async fn check_page(browser: &Browser, page: &str) -> anyhow::Result<Vec<usize>> {
    let mut passed = Vec::new();
    for w in &WIDTHS {
        emulate(browser, w).await?;
        let result = axe(browser).await?;
        let count = result["passes"].as_array().map_or(0, Vec::len);
        let incomplete = result["incomplete"].as_array().map_or(0, Vec::len);
        let found = violations(&result);
        println!(
            "axe {page} {}: {count} rules passed, {} violations, {incomplete} to review by hand",
            w.name,
            found.len()
        );
        save(&format!("{page}-{}.png", w.name), &full_page_png(browser).await?)?;
        let record = json!({ "page": page, "width": w.name, "axe": result });
        let dir = target_dir().join("screenshots");
        std::fs::write(
            dir.join(format!("{page}-{}.axe.json", w.name)),
            serde_json::to_vec_pretty(&record)?,
        )?;
        anyhow::ensure!(
            found.is_empty(),
            "axe: {} WCAG 2.1 A/AA violation(s) on {page} at {} width:\n{}",
            found.len(),
            w.name,
            found.join("\n")
        );
        anyhow::ensure!(count > 0, "axe passed no rule on {page}: did it run?");
        passed.push(count);
    }
    browser.cdp("Emulation.clearDeviceMetricsOverride", json!({})).await?;
    Ok(passed)
}
