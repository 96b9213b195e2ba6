//! The consent page of `healthplug serve` over HTTP, as a browser without
//! JavaScript would use it (reqwest with a cookie store, redirects not
//! followed so every status and header is seen): sign-in by one-time
//! link, the session cookie, grant and revoke forms, CSRF, escaping,
//! security headers, the wall between the pages (cookie) and MCP
//! (bearer), "What was read", "My data" (export, upload, erase) and the
//! re-consent answers. The site itself is `healthplug_tests::web`, shared
//! with the real-browser tests of `tests/browser` (Chromium, axe-core,
//! screenshots).
// Tests: a failed setup step should stop the test where it failed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod activity;
mod consent;
mod data;
mod reconsent;
mod signin;

use std::path::Path;
use std::time::Duration;

use reqwest::header::HeaderMap;

pub use healthplug_tests::web::{HOSTILE_PURPOSE, Site, daily_coach};

/// The Content-Security-Policy every page must carry.
pub const CSP: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Copies activity-coach under `dir` with its manifest replaced.
pub fn variant(dir: &Path, manifest: &str) -> std::path::PathBuf {
    healthplug_tests::web::variant(dir, manifest).unwrap()
}

/// A browser signed in as `user`, and the `Set-Cookie` it got.
pub async fn sign_in(site: &Site, user: &str) -> (reqwest::Client, String) {
    let browser = browser();
    let secret = site.link(user, Duration::from_secs(900)).unwrap();
    let r = browser
        .post(site.url(&format!("/login/{secret}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "signing in");
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    (browser, cookie)
}

/// A browser: a cookie store, no redirects followed.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// GETs `url`: status, headers, body.
pub async fn get(browser: &reqwest::Client, url: &str) -> (u16, HeaderMap, String) {
    let r = browser.get(url).send().await.unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    (status, headers, r.text().await.unwrap())
}

/// POSTs a form (`pairs`) to `url`: status, headers, body.
pub async fn post(browser: &reqwest::Client, url: &str, pairs: &[(&str, &str)]) -> (u16, HeaderMap, String) {
    let r = browser.post(url).form(pairs).send().await.unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    (status, headers, r.text().await.unwrap())
}

/// The CSRF token in a page's forms.
pub fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + 19;
    html[at..].split('"').next().unwrap().to_string()
}

/// `text` as askama's HTML escaping writes it.
pub fn escaped(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// Asserts the security headers of a page.
pub fn assert_secure_headers(headers: &HeaderMap, what: &str) {
    assert_eq!(headers["content-security-policy"], CSP, "{what}");
    assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
    // Not `no-referrer`: browsers then post forms with `Origin: null`.
    assert_eq!(headers["referrer-policy"], "same-origin", "{what}");
}
