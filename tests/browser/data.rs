//! The rest of a person's page, in the browser: "What was read" lists the
//! read an assistant made through MCP (and nothing for another plugin),
//! "My data" counts it and the export downloads it, the MyFitnessPal
//! export from `../shared/testdata` uploaded through the import form
//! stores its 780 samples, an upgrade's request is accepted by a click,
//! and the account is erased only after the user name is typed. Each page
//! is checked by axe and photographed.

use std::time::Duration;

use healthplug_host::auth::Scopes;
use healthplug_host::platform::InstallOptions;
use healthplug_host::vault::NewSample;
use healthplug_tests::serve::{call, text};
use healthplug_tests::web::{Site, daily_coach, variant};
use healthplug_tests::{DAY_MS, example_dir, now_ms, ty};
use serde_json::json;

use super::check::check_page;
use super::driver::Browser;
use super::{fill_steps, open, set_box, sign_in};

/// Ten days of alice's steps.
fn store_steps(site: &Site) {
    let now = now_ms();
    let samples: Vec<NewSample> = (1..=10)
        .map(|d| NewSample::quantity(ty("steps"), now - d * DAY_MS, now - d * DAY_MS + 60_000, 9000.0))
        .collect();
    site.home.host.store_samples("alice", "browser-test", &samples).unwrap();
}

/// The text of the element at `xpath`, once it is there.
async fn text_of(b: &Browser, xpath: &str) -> String {
    b.wait_for(xpath).await.unwrap().text().await.unwrap()
}

/// Clicks "Download everything as JSON" and reads the file the browser
/// saved.
async fn download_export(b: &Browser) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().unwrap();
    b.cdp(
        "Browser.setDownloadBehavior",
        json!({"behavior": "allow", "downloadPath": dir.path().to_str().unwrap()}),
    )
    .await
    .unwrap();
    b.wait_for("//a[normalize-space()='Download everything as JSON']")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    for _ in 0..600 {
        let done = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "json"));
        if let Some(path) = done {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            assert!(name.starts_with("healthplug-export-"), "{name}");
            return serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the export was not downloaded within 60 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_was_read_shows_the_assistants_read_and_my_data_exports_it() {
    let Some((site, b)) = open("what was read").await else {
        return;
    };
    store_steps(&site);
    sign_in(&b, &site, "alice").await;
    fill_steps(&b).await;
    b.submit_form_of("type-activity-coach-steps").await.unwrap();
    b.wait_for("//div[@role='status']").await.unwrap();
    let (_, token) = site
        .home
        .host
        .create_token("alice", Some(Duration::from_secs(600)), &Scopes::tools(), None)
        .unwrap();
    let mcp = site.served.client(&token).await.unwrap();
    let read = call(&mcp, "activity-coach.step-goal", json!({})).await.unwrap();
    assert_eq!(read.is_error, Some(false), "{}", text(&read));

    b.wait_for("//nav//a[normalize-space()='What was read']")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for_title("What was read").await.unwrap();
    let entry = text_of(&b, "//ol[@class='log']/li[contains(., 'Steps sample')]").await;
    assert!(entry.contains("activity-coach: Read 10 Steps samples"), "{entry}");
    assert!(
        entry.contains("the measurement itself; for"),
        "daily totals carry the value only: {entry}"
    );
    assert!(
        entry.contains("Summarise your weekly activity and suggest goals"),
        "{entry}"
    );
    let summary = text_of(&b, "//table[@class='summary']/tbody/tr[1]").await;
    assert!(summary.contains("activity-coach Steps 1 10"), "{summary}");
    check_page(&b, "what-was-read").await.unwrap();

    // Another plugin's filter shows nothing of it.
    b.by_id("filter-plugin")
        .await
        .unwrap()
        .select_by_value("daily-coach")
        .await
        .unwrap();
    b.wait_for("//form[@class='filters']//button[normalize-space()='Show']")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for("//p[@id='no-reads']").await.unwrap();

    b.wait_for("//nav//a[normalize-space()='My data']")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for_title("My data").await.unwrap();
    assert_eq!(text_of(&b, "//p[@id='holdings-total']").await, "10 samples in all.");
    check_page(&b, "my-data").await.unwrap();
    // The page's CSP lets no script fetch anything (connect-src falls
    // back to 'none'), so the export leaves only as a download.
    let blocked = b
        .client
        .execute_async(
            "const done = arguments[0]; fetch('/data/export.json').then(() => done('fetched'), e => done(String(e)));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(blocked, json!("TypeError: Failed to fetch"));
    let records = download_export(&b).await;
    assert_eq!(records.len(), 10);
    assert_eq!(records[0]["provenance"]["origin"], "browser-test");
    assert_eq!(records[0]["type"], "steps");
    b.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mfp_export_uploaded_through_the_form_stores_780_samples() {
    let Some(root) = std::env::var_os("HEALTHPLUG_TESTDATA").filter(|v| !v.is_empty()) else {
        eprintln!("skipped: HEALTHPLUG_TESTDATA is not set (the shared real exports)");
        return;
    };
    let file = std::path::PathBuf::from(root).join("myfitnesspal/mfp.csv");
    assert!(
        file.is_file(),
        "HEALTHPLUG_TESTDATA is set but {} is missing",
        file.display()
    );
    let Some((site, b)) = open("mfp upload").await else {
        return;
    };
    site.home.install(&example_dir("myfitnesspal")).unwrap();
    sign_in(&b, &site, "alice").await;
    for t in [
        "dietary-energy",
        "dietary-fat",
        "dietary-saturated-fat",
        "dietary-cholesterol",
        "dietary-sodium",
        "dietary-potassium",
        "dietary-carbohydrate",
        "dietary-fiber",
        "dietary-sugar",
        "dietary-protein",
    ] {
        set_box(&b, &format!("type-myfitnesspal-{t}"), true).await;
    }
    b.submit_form_of("type-myfitnesspal-dietary-energy").await.unwrap();
    b.wait_for("//div[@role='status']").await.unwrap();

    b.goto(&site.url("/data")).await.unwrap();
    b.wait_for_title("My data").await.unwrap();
    b.by_id("import-connector")
        .await
        .unwrap()
        .select_by_value("myfitnesspal")
        .await
        .unwrap();
    b.by_id("import-file")
        .await
        .unwrap()
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    b.submit_form_of("import-file").await.unwrap();
    let total = text_of(&b, "//p[@id='import-total']").await;
    assert_eq!(total, "780 new samples stored from mfp.csv by myfitnesspal.");
    check_page(&b, "imported").await.unwrap();
    assert_eq!(site.home.host.records("alice", &[]).unwrap().len(), 780);
    assert!(site.home.host.records("bob", &[]).unwrap().is_empty());
    b.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_is_accepted_by_a_click_and_erasing_needs_the_name() {
    let Some((site, b)) = open("re-consent and erase").await else {
        return;
    };
    site.home.grant("alice", "daily-coach", "steps").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let manifest = daily_coach("Daily step totals for your weekly goal")
        .replace("0.1.0", "0.2.0")
        .replace("types = [\"steps\"]", "types = [\"steps\", \"sleep\"]");
    let v2 = variant(&dir.path().join("daily-coach-2"), &manifest).unwrap();
    site.home.host.install(&v2, InstallOptions::dev()).unwrap();

    sign_in(&b, &site, "alice").await;
    let pending = text_of(&b, "//div[@class='pending']").await;
    assert!(pending.contains("Now also asks for Sleep."), "{pending}");
    check_page(&b, "re-consent").await.unwrap();
    b.wait_for("//button[starts-with(normalize-space(), 'Accept what Daily Coach now asks')]")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let done = text_of(&b, "//div[@role='status']").await;
    assert_eq!(done, "Accepted: daily-coach may now use Sleep.");
    assert!(
        site.home
            .host
            .pending_reconsent("alice", "daily-coach")
            .unwrap()
            .is_empty()
    );

    b.goto(&site.url("/data")).await.unwrap();
    b.wait_for_title("My data").await.unwrap();
    let confirm = b.by_id("erase-confirm").await.unwrap();
    confirm.send_keys("bob").await.unwrap();
    b.submit_form_of("erase-confirm").await.unwrap();
    let refused = text_of(&b, "//div[@role='alert']").await;
    assert!(refused.contains("Nothing was erased"), "{refused}");
    assert!(site.home.host.user("alice").is_ok());
    b.by_id("erase-confirm")
        .await
        .unwrap()
        .send_keys("alice")
        .await
        .unwrap();
    b.submit_form_of("erase-confirm").await.unwrap();
    b.wait_for_title("Account erased").await.unwrap();
    check_page(&b, "erased").await.unwrap();
    assert!(site.home.host.user("alice").is_err());
    b.goto(&site.url("/")).await.unwrap();
    b.wait_for_title("Please sign in").await.unwrap();
    b.close().await.unwrap();
}
