//! Granting and revoking through the forms: what the form grants is what
//! `Host::consents` then holds; a forged form asking more than the
//! manifest gets the CLI's own refusal; a post without the session's CSRF
//! token or from another origin changes nothing; one user's session never
//! reaches another's consents; a hostile manifest string is text.

use healthplug_host::consent::{Fields, Granularity};
use healthplug_host::platform::{ConsentView, GrantRequest};
use healthplug_tests::{TestHome, ty};

use super::{
    HOSTILE_PURPOSE, Site, assert_secure_headers, browser, csrf_of, daily_coach, escaped, get, post, sign_in, variant,
};

fn steps(consents: &[ConsentView], plugin: &str) -> Option<ConsentView> {
    consents
        .iter()
        .find(|c| c.plugin == plugin && c.grant.data_type == ty("steps"))
        .cloned()
}

const GRANT_STEPS: [(&str, &str); 5] = [
    ("type", "steps"),
    ("fields.steps", "value"),
    ("fields.steps", "time"),
    ("days.steps", "30"),
    ("granularity.steps", "daily"),
];

fn with_csrf<'a>(csrf: &'a str, pairs: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut out = vec![("csrf", csrf)];
    out.extend_from_slice(pairs);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grant_steps_field_by_field_then_revoke_through_the_forms() {
    let site = Site::new().await.unwrap();
    let (b, _) = sign_in(&site, "alice").await;
    let (status, headers, html) = get(&b, &site.url("/")).await;
    assert_eq!(status, 200);
    assert_secure_headers(&headers, "my plugins");
    assert_eq!(headers["cache-control"], "no-store");
    for shown in [
        "Activity Coach",
        "by healthplug examples",
        "version 0.1.0",
        "Development build: not reviewed",
        "Steps",
        "Summarise your weekly activity and suggest goals",
        "the last 90 days",
        "Not shared.",
        "<label for=\"field-activity-coach-steps-time\">",
    ] {
        assert!(html.contains(shown), "{shown} missing");
    }
    let csrf = csrf_of(&html);
    let url = site.url("/consent/activity-coach/grant");
    let (status, headers, body) = post(&b, &url, &with_csrf(&csrf, &GRANT_STEPS)).await;
    assert_eq!(status, 303, "{body}");
    assert_eq!(headers["location"], "/");

    let grant = steps(&site.home.host.consents("alice").unwrap(), "activity-coach").unwrap();
    assert_eq!(grant.status, "active");
    assert_eq!(grant.grant.fields, Fields::VALUE | Fields::TIME);
    assert_eq!(grant.grant.days, Some(30));
    assert_eq!(grant.grant.granularity, Granularity::Daily);
    assert!(!grant.grant.write);
    let (_, _, html) = get(&b, &site.url("/")).await;
    assert!(html.contains("Granted activity-coach: Steps."), "no flash");
    assert!(
        html.contains("Shared: the measurement itself, when it was taken; the last 30 days; daily totals only."),
        "the grant is not shown"
    );
    assert!(
        !get(&b, &site.url("/")).await.2.contains("Granted activity-coach"),
        "a flash shows once"
    );

    let revoke = site.url("/consent/activity-coach/revoke");
    let (status, _, _) = post(&b, &revoke, &[("csrf", &csrf), ("what", "type:steps")]).await;
    assert_eq!(status, 303);
    let grant = steps(&site.home.host.consents("alice").unwrap(), "activity-coach").unwrap();
    assert_eq!(grant.status, "revoked");
    let (_, _, html) = get(&b, &site.url("/")).await;
    assert!(html.contains("Stopped sharing Steps with activity-coach"), "no flash");
    assert!(html.contains("Not shared (stopped on"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_without_the_sessions_csrf_token_or_from_elsewhere_is_403() {
    let site = Site::new().await.unwrap();
    let (alice, _) = sign_in(&site, "alice").await;
    let (bob, _) = sign_in(&site, "bob").await;
    let alice_csrf = csrf_of(&get(&alice, &site.url("/")).await.2);
    let bob_csrf = csrf_of(&get(&bob, &site.url("/")).await.2);
    assert_ne!(alice_csrf, bob_csrf, "tokens are per session");
    let url = site.url("/consent/activity-coach/grant");
    for (what, csrf) in [
        ("none", None),
        ("wrong", Some("AAAA")),
        ("bob's", Some(bob_csrf.as_str())),
    ] {
        let mut pairs = GRANT_STEPS.to_vec();
        if let Some(c) = csrf {
            pairs.push(("csrf", c));
        }
        let (status, headers, html) = post(&alice, &url, &pairs).await;
        assert_eq!(status, 403, "{what} token");
        assert_secure_headers(&headers, "a refusal");
        assert!(html.contains("CSRF token"), "{html}");
    }
    let (status, _, html) = post(&alice, &site.url("/consent/activity-coach/revoke"), &[("what", "all")]).await;
    assert_eq!(status, 403, "{html}");
    // The right token from another site's page is refused too.
    let r = alice
        .post(&url)
        .header("origin", "https://evil.example")
        .form(&with_csrf(&alice_csrf, &GRANT_STEPS))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // No session at all: not signed in.
    assert_eq!(
        post(&browser(), &url, &with_csrf(&alice_csrf, &GRANT_STEPS)).await.0,
        401
    );
    assert!(
        site.home.host.consents("alice").unwrap().is_empty(),
        "something changed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_over_grant_is_refused_with_the_clis_message() {
    let site = Site::new().await.unwrap();
    let (b, _) = sign_in(&site, "alice").await;
    let csrf = csrf_of(&get(&b, &site.url("/")).await.2);
    let home = site.home.path().to_str().unwrap().to_string();
    for (plugin, form, cli) in [
        (
            "activity-coach",
            vec![("type", "steps"), ("fields.steps", "value"), ("fields.steps", "notes")],
            vec!["--types", "steps", "--fields", "value,notes"],
        ),
        (
            "activity-coach",
            vec![("type", "steps"), ("fields.steps", "value"), ("days.steps", "365")],
            vec!["--types", "steps", "--fields", "value", "--days", "365"],
        ),
        (
            "daily-coach",
            vec![
                ("type", "steps"),
                ("fields.steps", "value"),
                ("granularity.steps", "raw"),
            ],
            vec!["--types", "steps", "--fields", "value", "--granularity", "raw"],
        ),
        (
            "daily-coach",
            vec![("type", "sleep"), ("fields.sleep", "value")],
            vec!["--types", "sleep", "--fields", "value"],
        ),
    ] {
        let mut args = vec!["healthplug", "--home", &home, "consent", "grant", "alice", plugin];
        args.extend(cli.iter().copied());
        let out = healthplug_host::cli::run_captured(&args);
        assert!(!out.success);
        let message = out
            .stderr
            .lines()
            .next()
            .unwrap()
            .strip_prefix("error: ")
            .unwrap()
            .to_string();
        let (status, _, html) = post(
            &b,
            &site.url(&format!("/consent/{plugin}/grant")),
            &with_csrf(&csrf, &form),
        )
        .await;
        assert_eq!(status, 422, "{form:?}");
        assert!(
            html.contains(&escaped(&message)),
            "the page lacks the CLI's `{message}`"
        );
        assert!(html.contains("role=\"alert\""));
    }
    assert!(
        site.home.host.consents("alice").unwrap().is_empty(),
        "an over-grant was stored"
    );
}

/// A form granting two types, the second over-asked: neither is granted
/// (one transaction), and the page says nothing changed.
#[tokio::test]
async fn a_form_with_one_over_grant_grants_nothing() {
    let site = Site::new().await.unwrap();
    let (b, _) = sign_in(&site, "alice").await;
    let csrf = csrf_of(&get(&b, &site.url("/")).await.2);
    let form = [
        ("type", "steps"),
        ("fields.steps", "value"),
        ("type", "heart-rate"),
        ("fields.heart-rate", "value"),
        ("days.heart-rate", "365"),
    ];
    let (status, _, html) = post(&b, &site.url("/consent/activity-coach/grant"), &with_csrf(&csrf, &form)).await;
    assert_eq!(status, 422);
    assert!(html.contains("Nothing was changed."), "{html}");
    assert!(
        site.home.host.consents("alice").unwrap().is_empty(),
        "steps was granted alone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_session_never_reaches_another_users_consents() {
    let site = Site::new().await.unwrap();
    site.home
        .host
        .grant(
            "alice",
            "daily-coach",
            &GrantRequest {
                types: vec![ty("steps")],
                ..GrantRequest::default()
            },
        )
        .unwrap();
    let (bob, _) = sign_in(&site, "bob").await;
    let (_, _, html) = get(&bob, &site.url("/")).await;
    assert!(html.contains("Signed in as <strong>bob</strong>"));
    assert!(!html.contains("Shared:"), "bob sees alice's grant");
    assert!(!html.contains("alice"), "alice is named on bob's page");
    let csrf = csrf_of(&html);
    // A form naming alice still acts for bob, the session's user.
    let mut pairs = with_csrf(&csrf, &GRANT_STEPS);
    pairs.extend([("user", "alice"), ("handle", "alice")]);
    assert_eq!(
        post(&bob, &site.url("/consent/activity-coach/grant"), &pairs).await.0,
        303
    );
    let revoke = [("csrf", csrf.as_str()), ("what", "all"), ("user", "alice")];
    assert_eq!(
        post(&bob, &site.url("/consent/daily-coach/revoke"), &revoke).await.0,
        303
    );
    let alice = site.home.host.consents("alice").unwrap();
    assert_eq!(alice.len(), 1, "{alice:?}");
    assert_eq!(
        steps(&alice, "daily-coach").unwrap().status,
        "active",
        "bob revoked alice's grant"
    );
    assert!(steps(&alice, "activity-coach").is_none(), "bob granted for alice");
    let bobs = site.home.host.consents("bob").unwrap();
    assert_eq!(steps(&bobs, "activity-coach").unwrap().status, "active");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_purpose_is_text_and_every_response_has_the_csp() {
    let site = Site::new().await.unwrap();
    let (b, _) = sign_in(&site, "alice").await;
    let (_, _, html) = get(&b, &site.url("/")).await;
    assert!(
        html.contains(&escaped(HOSTILE_PURPOSE)),
        "the purpose is not shown as text"
    );
    assert!(
        !html.to_lowercase().contains("<script"),
        "a raw <script reached the page"
    );
    assert!(!html.contains("style="), "inline style");

    // An escape sequence never gets that far: the manifest is refused at
    // install (the page also sanitises, see the web::view unit test).
    let home = TestHome::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ansi = variant(
        &dir.path().join("daily-coach"),
        &daily_coach("Steps \\u001b[2J for your goal"),
    );
    let refused = home.install(&ansi).unwrap_err().to_string();
    assert!(refused.contains("control character"), "{refused}");

    let anonymous = browser();
    for (what, response) in [
        ("my plugins", get(&b, &site.url("/")).await),
        ("not signed in", get(&anonymous, &site.url("/")).await),
        ("an unknown link", get(&anonymous, &site.url("/login/hpl_x")).await),
        ("the stylesheet", get(&anonymous, &site.url("/static/app.css")).await),
        (
            "a post without a session",
            post(&anonymous, &site.url("/logout"), &[]).await,
        ),
    ] {
        assert_secure_headers(&response.1, what);
    }
    let (status, headers, css) = get(&anonymous, &site.url("/static/app.css")).await;
    assert_eq!(status, 200);
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/css"));
    assert!(css.contains(":focus-visible"));
    assert!(!css.contains("url("), "the stylesheet loads nothing");
}
