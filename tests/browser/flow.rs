//! The whole flow by clicking: sign in by link, grant steps with only
//! value and time for 30 days at daily totals, watch an MCP client read
//! them through activity-coach with a bearer token of the same user, stop
//! sharing, and watch the next call of the same MCP session refused.

use std::time::Duration;

use healthplug_host::auth::Scopes;
use healthplug_host::consent::{Fields, Granularity};
use healthplug_host::vault::NewSample;
use healthplug_tests::serve::{call, text};
use healthplug_tests::{DAY_MS, now_ms, ty};
use serde_json::json;

use super::{fill_steps, now_line, open, sign_in, steps_grant};

/// Alice's daily steps: ten days of 8000.
fn store_steps(site: &healthplug_tests::web::Site) {
    let now = now_ms();
    let samples: Vec<NewSample> = (1..=10)
        .map(|d| NewSample::quantity(ty("steps"), now - d * DAY_MS, now - d * DAY_MS + 60_000, 8000.0))
        .collect();
    let report = site.home.host.store_samples("alice", "browser-test", &samples).unwrap();
    assert_eq!(report.inserted, 10, "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grant_by_clicking_reaches_mcp_and_a_revoke_bites_on_the_next_call() {
    let Some((site, b)) = open("flow").await else { return };
    store_steps(&site);
    let (_, token) = site
        .home
        .host
        .create_token(
            "alice",
            Some(Duration::from_secs(3600)),
            &Scopes::all(),
            Some("browser"),
        )
        .unwrap();
    let mcp = site.served.client(&token).await.unwrap();
    let before = call(&mcp, "activity-coach.step-goal", json!({})).await;
    assert!(
        before.as_ref().map_or(true, |r| r.is_error == Some(true)),
        "read before any grant: {before:?}"
    );

    sign_in(&b, &site, "alice").await;
    assert_eq!(now_line(&b, "activity-coach", "steps").await, "Not shared.");
    fill_steps(&b).await;
    b.submit_form_of("type-activity-coach-steps").await.unwrap();
    let flash = b.wait_for("//div[@role='status']").await.unwrap();
    assert_eq!(flash.text().await.unwrap(), "Granted activity-coach: Steps.");
    assert_eq!(
        now_line(&b, "activity-coach", "steps").await,
        "Shared: the measurement itself, when it was taken; the last 30 days; daily totals only."
    );
    let grant = steps_grant(&site, "alice", "activity-coach").unwrap();
    assert_eq!(grant.status, "active");
    assert_eq!(grant.grant.fields, Fields::VALUE | Fields::TIME);
    assert_eq!(grant.grant.days, Some(30));
    assert_eq!(grant.grant.granularity, Granularity::Daily);

    let read = call(&mcp, "activity-coach.step-goal", json!({})).await.unwrap();
    assert_eq!(read.is_error, Some(false), "{}", text(&read));
    let goal = read.structured_content.clone().unwrap();
    assert_eq!(goal["median_daily_steps"], json!(8000.0), "{goal}");
    assert_eq!(goal["days_considered"], json!(10), "{goal}");

    let stop = b
        .wait_for("//button[normalize-space()='Stop sharing Steps']")
        .await
        .unwrap();
    stop.click().await.unwrap();
    b.wait_for("//div[@role='status'][starts-with(normalize-space(), 'Stopped sharing Steps with activity-coach')]")
        .await
        .unwrap();
    assert!(
        now_line(&b, "activity-coach", "steps")
            .await
            .starts_with("Not shared (stopped on")
    );
    assert_eq!(steps_grant(&site, "alice", "activity-coach").unwrap().status, "revoked");

    let after = call(&mcp, "activity-coach.step-goal", json!({})).await;
    let refusal = match &after {
        Ok(r) => {
            assert_eq!(r.is_error, Some(true), "read after the revoke: {}", text(r));
            text(r)
        }
        Err(e) => e.to_string(),
    };
    assert!(
        refusal.contains("not granted") || refusal.contains("not enabled"),
        "{refusal}"
    );
    assert!(!refusal.contains("8000"), "{refusal}");
    b.close().await.unwrap();
}
