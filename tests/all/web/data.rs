//! "My data" over HTTP: counts per type and source, the JSON export (the
//! session's user only), the streamed import upload (CSRF checked before
//! any byte is kept, no upload left behind, the connector's write grant
//! needed), and erasure behind a typed confirmation.

use std::io::Write;

use healthplug_host::vault::NewSample;
use healthplug_tests::{example_dir, grant_writes, now_ms, ty, write_apple_export};
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use super::{Site, csrf_of, get, post, sign_in};

fn store_steps(site: &Site, user: &str, n: i64) {
    let t = now_ms() - 3_600_000;
    let samples: Vec<NewSample> = (0..n)
        .map(|i| NewSample::quantity(ty("steps"), t + i * 60_000, t + i * 60_000, 500.0))
        .collect();
    site.home.host.store_samples(user, "test", &samples).unwrap();
}

fn export_file(records: usize) -> (tempfile::TempDir, Vec<u8>, usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = Vec::new();
    let (steps, hr, workouts) = write_apple_export(&mut bytes, records).unwrap();
    bytes.flush().unwrap();
    (dir, bytes, steps + hr + workouts)
}

fn upload_form(csrf: Option<&str>, connector: &str, bytes: Vec<u8>) -> Form {
    let mut form = Form::new();
    if let Some(csrf) = csrf {
        form = form.text("csrf", csrf.to_string());
    }
    form.text("connector", connector.to_string())
        .part("file", Part::bytes(bytes).file_name("export.xml"))
}

fn uploads_left(site: &Site) -> usize {
    std::fs::read_dir(site.home.path().join("uploads")).map_or(0, |d| d.count())
}

#[tokio::test]
async fn counts_and_the_export_are_the_users_own() {
    let site = Site::new().await.unwrap();
    store_steps(&site, "alice", 3);
    store_steps(&site, "bob", 5);
    let (alice, _) = sign_in(&site, "alice").await;
    let (status, _, html) = get(&alice, &site.url("/data")).await;
    assert_eq!(status, 200);
    assert!(html.contains("3 samples in all"), "{html}");
    let r = alice.get(site.url("/data/export.json")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"healthplug-export-")
    );
    let records: Vec<Value> = r.json().await.unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(records[0]["provenance"]["origin"], "test");
    assert_eq!(records[0]["type"], "steps");
    let r = alice.get(site.url("/data/export.json?user=bob")).send().await.unwrap();
    assert_eq!(r.json::<Vec<Value>>().await.unwrap().len(), 3, "a query names no user");
}

#[tokio::test]
async fn an_upload_is_imported_through_the_connector_with_its_report() {
    let site = Site::new().await.unwrap();
    site.home.install(&example_dir("apple-health")).unwrap();
    grant_writes(&site.home.host, "alice", "apple-health", "steps,heart-rate,workout").unwrap();
    let (alice, _) = sign_in(&site, "alice").await;
    let (_, _, html) = get(&alice, &site.url("/data")).await;
    let csrf = csrf_of(&html);
    let (_dir, bytes, total) = export_file(400);
    let r = alice
        .post(site.url("/data/import"))
        .multipart(upload_form(Some(&csrf), "apple-health", bytes))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&format!("{total} new samples stored from export.xml")),
        "{html}"
    );
    assert_eq!(uploads_left(&site), 0, "the upload was not deleted");
    assert_eq!(site.home.host.records("alice", &[]).unwrap().len(), total);
    assert!(site.home.host.records("bob", &[]).unwrap().is_empty());
}

#[tokio::test]
async fn an_upload_without_the_token_or_the_grant_keeps_nothing() {
    let site = Site::new().await.unwrap();
    site.home.install(&example_dir("apple-health")).unwrap();
    let (alice, _) = sign_in(&site, "alice").await;
    let (_, _, html) = get(&alice, &site.url("/data")).await;
    let csrf = csrf_of(&html);
    let (_dir, bytes, _) = export_file(50);

    // No token; a wrong token; the token after the file: 403, nothing read.
    for form in [
        upload_form(None, "apple-health", bytes.clone()),
        upload_form(Some("wrong"), "apple-health", bytes.clone()),
        Form::new()
            .part("file", Part::bytes(bytes.clone()).file_name("export.xml"))
            .text("csrf", csrf.clone()),
    ] {
        let r = alice
            .post(site.url("/data/import"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{}", r.text().await.unwrap());
    }
    // With the token but no write grant: every write is refused, and the
    // report says so per type.
    let r = alice
        .post(site.url("/data/import"))
        .multipart(upload_form(Some(&csrf), "apple-health", bytes.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("0 new samples stored from export.xml"), "{html}");
    assert!(html.contains("steps (writing not granted by the user)"), "{html}");
    // A tool plugin is not an importer; an unknown one is not installed.
    for connector in ["activity-coach", "../../etc"] {
        let r = alice
            .post(site.url("/data/import"))
            .multipart(upload_form(Some(&csrf), connector, bytes.clone()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{connector}");
        let html = r.text().await.unwrap();
        assert!(html.contains("could not import export.xml"), "{html}");
    }
    assert!(site.home.host.records("alice", &[]).unwrap().is_empty());
    assert_eq!(uploads_left(&site), 0);
}

#[tokio::test]
async fn erasing_needs_the_typed_name_and_ends_the_session() {
    let site = Site::new().await.unwrap();
    store_steps(&site, "alice", 2);
    store_steps(&site, "bob", 2);
    let (alice, cookie) = sign_in(&site, "alice").await;
    let (_, _, html) = get(&alice, &site.url("/data")).await;
    let csrf = csrf_of(&html);
    let url = site.url("/data/erase");
    for typed in ["", "bob", "ALICE", "alice2"] {
        let (status, _, html) = post(&alice, &url, &[("csrf", &csrf), ("confirm", typed)]).await;
        assert_eq!(status, 422, "{typed:?}");
        assert!(html.contains("Nothing was erased"), "{html}");
    }
    let (status, _, _) = post(&alice, &url, &[("confirm", "alice")]).await;
    assert_eq!(status, 403, "no CSRF token");
    assert_eq!(site.home.host.records("alice", &[]).unwrap().len(), 2);

    let (status, headers, html) = post(&alice, &url, &[("csrf", &csrf), ("confirm", "alice")]).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Your account was erased: 2 samples"), "{html}");
    assert!(headers["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    // The old cookie, replayed by hand, opens nothing.
    let replay = reqwest::Client::new()
        .get(site.url("/data"))
        .header("cookie", cookie.split(';').next().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 401, "the session ended with the account");
    assert!(site.home.host.user("alice").is_err());
    assert_eq!(site.home.host.records("bob", &[]).unwrap().len(), 2, "bob untouched");
}
