//! An upgrade asking for more, answered on the page: the request in plain
//! words, accept grants exactly what widened, decline keeps the earlier
//! grant and stops asking; a stale or forged answer changes nothing.

use healthplug_host::platform::InstallOptions;

use super::{Site, csrf_of, daily_coach, get, post, sign_in, variant};

/// daily-coach 0.2.0: steps for 730 days (was 30), and sleep.
fn upgrade(site: &Site, dir: &std::path::Path) {
    let manifest = daily_coach("Daily step totals for your weekly goal")
        .replace("0.1.0", "0.2.0")
        .replace("days = 30", "days = 730")
        .replace("types = [\"steps\"]", "types = [\"steps\", \"sleep\"]");
    let v2 = variant(&dir.join("daily-coach-2"), &manifest);
    site.home.host.install(&v2, InstallOptions::dev()).unwrap();
}

fn granted(site: &Site, user: &str) -> Vec<(String, Option<u32>)> {
    let mut out: Vec<(String, Option<u32>)> = site
        .home
        .host
        .consents(user)
        .unwrap()
        .into_iter()
        .filter(|c| c.plugin == "daily-coach" && c.status == "active")
        .map(|c| (c.grant.data_type.id().to_string(), c.grant.days))
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn accept_grants_what_widened_and_decline_keeps_the_old_grant() {
    let site = Site::new().await.unwrap();
    for user in ["alice", "bob"] {
        site.home.grant(user, "daily-coach", "steps").unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    upgrade(&site, dir.path());

    let (alice, _) = sign_in(&site, "alice").await;
    let (_, _, html) = get(&alice, &site.url("/")).await;
    assert!(html.contains("Now also asks for Sleep."), "{html}");
    assert!(html.contains("Now also asks for Steps. Asks to read:"), "{html}");
    assert!(html.contains("the last 730 days"), "{html}");
    let csrf = csrf_of(&html);
    let (status, _, _) = post(&alice, &site.url("/consent/daily-coach/accept"), &[]).await;
    assert_eq!(status, 403, "no CSRF token");
    assert_eq!(granted(&site, "alice"), [("steps".into(), Some(30))]);
    let (status, _, _) = post(&alice, &site.url("/consent/daily-coach/accept"), &[("csrf", &csrf)]).await;
    assert_eq!(status, 303);
    assert_eq!(
        granted(&site, "alice"),
        [("sleep".into(), Some(730)), ("steps".into(), Some(730))]
    );
    let (_, _, html) = get(&alice, &site.url("/")).await;
    assert!(html.contains("Accepted: daily-coach may now use"), "{html}");
    assert!(!html.contains("Now also asks"), "{html}");
    // Answering again: nothing is pending, nothing changes.
    let (status, _, html) = post(&alice, &site.url("/consent/daily-coach/accept"), &[("csrf", &csrf)]).await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("asks for nothing new"), "{html}");

    let (bob, _) = sign_in(&site, "bob").await;
    let (_, _, html) = get(&bob, &site.url("/")).await;
    let csrf = csrf_of(&html);
    let (status, _, _) = post(&bob, &site.url("/consent/daily-coach/decline"), &[("csrf", &csrf)]).await;
    assert_eq!(status, 303);
    assert_eq!(
        granted(&site, "bob"),
        [("steps".into(), Some(30))],
        "the old grant stays"
    );
    let (_, _, html) = get(&bob, &site.url("/")).await;
    assert!(html.contains("Declined"), "{html}");
    assert!(!html.contains("Now also asks"), "declined: not asked again");
}

#[tokio::test]
async fn nothing_pending_means_nothing_to_answer() {
    let site = Site::new().await.unwrap();
    site.home.grant("alice", "daily-coach", "steps").unwrap();
    let (alice, _) = sign_in(&site, "alice").await;
    let (_, _, html) = get(&alice, &site.url("/")).await;
    let csrf = csrf_of(&html);
    for answer in ["accept", "decline"] {
        let (status, _, html) = post(
            &alice,
            &site.url(&format!("/consent/daily-coach/{answer}")),
            &[("csrf", &csrf)],
        )
        .await;
        assert_eq!(status, 422, "{answer}: {html}");
    }
    // A plugin the user never granted anything has nothing pending either.
    let (status, _, _) = post(&alice, &site.url("/consent/activity-coach/accept"), &[("csrf", &csrf)]).await;
    assert_eq!(status, 422);
    assert_eq!(granted(&site, "alice"), [("steps".into(), Some(30))]);
}
