//! "What was read" over HTTP: a plugin's read shows with its type,
//! samples and purpose; another user's session or token never sees it;
//! the JSON endpoint takes the session or a `records:read` bearer token
//! and nothing less; a filter by another plugin hides it.

use std::time::Duration;

use healthplug_host::auth::Scopes;
use healthplug_host::platform::ActivityFilter;
use healthplug_host::vault::NewSample;
use healthplug_tests::{now_ms, ty};
use serde_json::{Value, json};

use super::{Site, assert_secure_headers, browser, get, sign_in};

/// alice granted steps to activity-coach, has 3 step samples on three
/// days, and the coach read them once.
async fn read_once() -> Site {
    let site = Site::new().await.unwrap();
    let t = now_ms() - 3_600_000;
    let samples: Vec<NewSample> = (0..3)
        .map(|i| NewSample::quantity(ty("steps"), t - i * 86_400_000, t - i * 86_400_000, 1000.0 + i as f64))
        .collect();
    site.home.host.store_samples("alice", "test", &samples).unwrap();
    site.home.grant("alice", "activity-coach", "steps").unwrap();
    site.home
        .invoke_json("alice", "activity-coach", "weekly-summary", json!({}))
        .unwrap();
    site
}

/// The samples of the one steps read the platform audited for `user`.
fn reads_of(site: &Site, user: &str) -> u64 {
    let all = site.home.host.activity(user, &ActivityFilter::default()).unwrap();
    let reads: Vec<_> = all.iter().filter(|e| e.kind == "read").collect();
    assert_eq!(reads.len(), 1, "{all:?}");
    reads[0].samples.unwrap()
}

fn token(site: &Site, user: &str, scopes: &str) -> String {
    let scopes = Scopes::parse_strict(scopes).unwrap();
    let (_, secret) = site
        .home
        .host
        .create_token(user, Some(Duration::from_secs(600)), &scopes, None)
        .unwrap();
    secret
}

#[tokio::test]
async fn a_read_shows_its_type_samples_and_purpose_to_its_user_only() {
    let site = read_once().await;
    let (alice, _) = sign_in(&site, "alice").await;
    let (status, headers, html) = get(&alice, &site.url("/activity")).await;
    assert_eq!(status, 200);
    assert_secure_headers(&headers, "/activity");
    let n = reads_of(&site, "alice");
    assert!(n >= 1);
    assert!(html.contains(&format!("Read {n} Steps sample")), "{html}");
    assert!(
        html.contains("Summarise your weekly activity and suggest goals"),
        "{html}"
    );
    assert!(
        html.contains("the measurement itself"),
        "the fields in plain words: {html}"
    );
    // The other types it asked for were not granted: refused, and shown so.
    assert!(html.contains("Was refused Heart rate"), "{html}");

    let (bob, _) = sign_in(&site, "bob").await;
    let (_, _, html) = get(&bob, &site.url("/activity?user=alice&plugin=activity-coach&period=all")).await;
    assert!(!html.contains("Read "), "bob sees alice's reads: {html}");
    assert!(html.contains("No plugin read any of your data"), "{html}");

    let (_, _, html) = get(&alice, &site.url("/activity?plugin=daily-coach&period=all")).await;
    assert!(!html.contains("Read "), "the plugin filter: {html}");
    let (_, _, html) = get(&alice, &site.url("/activity?plugin=%3Cscript%3E&period=%3Cb%3E")).await;
    assert!(!html.contains("<script>") && !html.contains("<b>"), "{html}");
}

#[tokio::test]
async fn the_json_takes_the_session_or_a_records_read_token_and_nothing_less() {
    let site = read_once().await;
    let url = site.url("/activity.json?period=all");
    let (alice, _) = sign_in(&site, "alice").await;
    let (status, _, body) = get(&alice, &url).await;
    assert_eq!(status, 200, "{body}");
    let doc: Value = serde_json::from_str(&body).unwrap();
    let reads: Vec<&Value> = doc["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "read")
        .collect();
    assert_eq!(reads.len(), 1, "{doc}");
    let n = reads_of(&site, "alice");
    assert_eq!(reads[0]["samples"], n);
    assert_eq!(doc["summary"][0]["samples"], n);

    let client = reqwest::Client::new();
    let with = |secret: &str| client.get(&url).bearer_auth(secret.to_string()).send();
    let r = with(&token(&site, "alice", "records:read")).await.unwrap();
    assert_eq!(r.status(), 200);
    let doc: Value = r.json().await.unwrap();
    assert!(doc["entries"].as_array().unwrap().iter().any(|e| e["kind"] == "read"));

    // A token for tools only is refused with the scope it lacks.
    let r = with(&token(&site, "alice", "tools:list tools:call")).await.unwrap();
    assert_eq!(r.status(), 403);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_string();
    assert!(
        challenge.contains("insufficient_scope") && challenge.contains("records:read"),
        "{challenge}"
    );

    // bob's token reads bob's log, whatever the query says.
    let r = client
        .get(site.url("/activity.json?period=all&user=alice"))
        .bearer_auth(token(&site, "bob", "records:read"))
        .send()
        .await
        .unwrap();
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["entries"], json!([]), "{doc}");

    // Nothing, a forged token, a cookie-less browser: 401 with a challenge.
    let r = client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    let r = with("hp_forged").await.unwrap();
    assert_eq!(r.status(), 401);
    let (status, _, _) = get(&browser(), &url).await;
    assert_eq!(status, 401);
}
