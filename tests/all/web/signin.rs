//! Signing in and out: the link printed by `healthplug login-link` works
//! once and only before its expiry, a GET of it uses nothing, the cookie
//! is `HttpOnly` and `SameSite=Strict` (no `Secure` on loopback), sign-out
//! ends the session server-side, and cookies and bearer tokens each open
//! only their own door.

use std::time::Duration;

use healthplug_host::auth::Scopes;
use healthplug_tests::serve::list_body;

use super::{Site, assert_secure_headers, browser, csrf_of, get, post, sign_in};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_printed_link_signs_in_once_and_a_get_uses_nothing() {
    let site = Site::new().await.unwrap();
    let home = site.home.path().to_str().unwrap().to_string();
    let out = healthplug_host::cli::run_captured([
        "healthplug",
        "--home",
        &home,
        "login-link",
        "alice",
        "--expires",
        "15m",
        "--base",
        &site.served.base,
    ]);
    assert!(out.success, "{}", out.stderr);
    let url = out.stdout.lines().next().unwrap().to_string();
    assert!(url.starts_with(&format!("{}/login/hpl_", site.served.base)), "{url}");

    let b = browser();
    // A previewer fetching the link twice uses nothing: it gets a button.
    for _ in 0..2 {
        let (status, headers, html) = get(&b, &url).await;
        assert_eq!(status, 200);
        assert_secure_headers(&headers, "the sign-in page");
        assert!(headers.get("set-cookie").is_none());
        assert!(
            html.contains("<form method=\"post\"") && html.contains(">Sign in</button>"),
            "{html}"
        );
    }
    let (status, headers, _) = post(&b, &url, &[]).await;
    assert_eq!(status, 303);
    assert_eq!(headers["location"], "/");
    let cookie = headers["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("healthplug_session=hps_"), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(
            cookie.split("; ").any(|a| a == attribute),
            "{attribute} missing: {cookie}"
        );
    }
    assert!(!cookie.contains("Secure"), "no Secure on loopback: {cookie}");
    let (status, _, html) = get(&b, &site.url("/")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Signed in as <strong>alice</strong>"), "{html}");

    // The second use, from any browser, is refused and opens nothing.
    let other = browser();
    let (status, headers, html) = post(&other, &url, &[]).await;
    assert_eq!(status, 410);
    assert!(headers.get("set-cookie").is_none());
    assert!(html.contains("used already"), "{html}");
    assert_eq!(get(&other, &url).await.0, 410, "a used link's page says so");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_and_unknown_links_are_refused() {
    let site = Site::new().await.unwrap();
    let secret = site.link("alice", Duration::from_millis(1)).unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let b = browser();
    let (status, headers, html) = post(&b, &site.url(&format!("/login/{secret}")), &[]).await;
    assert_eq!(status, 410);
    assert!(headers.get("set-cookie").is_none());
    assert!(html.contains("expired"), "{html}");
    for bad in ["hpl_nope", "hps_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "x"] {
        let (status, headers, _) = post(&b, &site.url(&format!("/login/{bad}")), &[]).await;
        assert_eq!(status, 404, "{bad}");
        assert!(headers.get("set-cookie").is_none());
    }
    assert_eq!(get(&b, &site.url("/")).await.0, 401, "nothing signed in");
    // A link for nobody cannot be made.
    assert!(
        site.home
            .host
            .create_login_link("mallory", Duration::from_secs(60))
            .is_err()
    );
    assert!(
        site.home
            .host
            .create_login_link("alice", Duration::from_secs(25 * 3600))
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_ends_the_session_and_the_log_names_no_secret() {
    let site = Site::new().await.unwrap();
    let (b, set_cookie) = sign_in(&site, "alice").await;
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    let (_, _, html) = get(&b, &site.url("/")).await;
    // Without the token, sign-out is refused and the session lives.
    assert_eq!(post(&b, &site.url("/logout"), &[]).await.0, 403);
    assert_eq!(get(&b, &site.url("/")).await.0, 200);
    let (status, headers, html) = post(&b, &site.url("/logout"), &[("csrf", &csrf_of(&html))]).await;
    assert_eq!(status, 200, "{html}");
    assert!(headers["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert!(html.contains("signed out"), "{html}");
    // The old cookie, replayed by hand, opens nothing any more.
    let replay = reqwest::Client::new()
        .get(site.url("/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 401);

    let log = site.home.host.audit_log(Some("alice")).unwrap();
    let text = serde_json::to_string(&log).unwrap();
    for outcome in ["login link issued", "login link used", "signed in", "signed out"] {
        assert!(text.contains(outcome), "{outcome} not audited: {text}");
    }
    let secret = cookie.split_once('=').unwrap().1;
    assert!(!text.contains(secret), "the session secret reached the audit log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bearer_token_opens_no_page_and_a_cookie_opens_no_mcp() {
    let site = Site::new().await.unwrap();
    let (_, token) = site
        .home
        .host
        .create_token("alice", Some(Duration::from_secs(600)), &Scopes::all(), None)
        .unwrap();
    let page = reqwest::Client::new()
        .get(site.url("/"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 401, "a bearer token is not a session");
    assert!(page.text().await.unwrap().contains("Please sign in"));

    let (_, set_cookie) = sign_in(&site, "alice").await;
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    let (status, headers, _) = site
        .served
        .post("/mcp", &[("cookie", cookie.as_str())], &list_body())
        .await
        .unwrap();
    assert_eq!(status, 401, "a session cookie is not a bearer token");
    assert!(headers.contains_key("www-authenticate"));
    // The token still works where it belongs.
    let (status, _, _) = site
        .served
        .post("/mcp", &[("authorization", &format!("Bearer {token}"))], &list_body())
        .await
        .unwrap();
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_row_edited_in_the_file_opens_nothing() {
    let site = Site::new().await.unwrap();
    let (b, _) = sign_in(&site, "alice").await;
    assert_eq!(get(&b, &site.url("/")).await.0, 200);
    let db = rusqlite::Connection::open(site.home.path().join("vault.db")).unwrap();
    // Point alice's session at bob, his ref included (the row's MAC no
    // longer matches), then prolong an expired link: both refused.
    let bob: i64 = db
        .query_row("SELECT id FROM users ORDER BY id DESC LIMIT 1", [], |r| r.get(0))
        .unwrap();
    db.execute(
        "UPDATE web_sessions SET user_id = ?1, user_ref = (SELECT ref FROM users WHERE id = ?1)",
        [bob],
    )
    .unwrap();
    let (status, _, html) = get(&b, &site.url("/")).await;
    assert_ne!(status, 200, "an edited session opened a page");
    assert!(!html.contains("bob") && !html.contains("alice"), "{html}");

    let secret = site.link("alice", Duration::from_millis(1)).unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    db.execute("UPDATE web_login_links SET expires_ms = expires_ms + 86400000", [])
        .unwrap();
    let (status, headers, _) = post(&browser(), &site.url(&format!("/login/{secret}")), &[]).await;
    assert_ne!(status, 303, "a prolonged link signed in");
    assert!(headers.get("set-cookie").is_none());
}
