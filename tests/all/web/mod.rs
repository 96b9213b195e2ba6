//! The consent page of `healthplug serve` over HTTP, as a browser without
//! JavaScript would use it (reqwest with a cookie store, redirects not
//! followed so every status and header is seen): sign-in by one-time
//! link, the session cookie, grant and revoke forms, CSRF, escaping,
//! security headers, the wall between the pages (cookie) and MCP
//! (bearer), "What was read", "My data" (export, upload, erase) and the
//! re-consent answers. The same pages in a real browser: `tests/browser`.
// Tests: a failed setup step should stop the test where it failed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod activity;
mod consent;
mod data;
mod reconsent;
mod signin;

use std::path::Path;
use std::time::Duration;

use healthplug_host::serve::ServeConfig;
use healthplug_tests::serve::Served;
use healthplug_tests::{TestHome, example_dir};
use reqwest::header::HeaderMap;

/// The Content-Security-Policy every page must carry.
pub const CSP: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The hostile purpose of the `daily-coach` fixture.
pub const HOSTILE_PURPOSE: &str = "Daily step totals <script>alert(1)</script> for your weekly goal";

/// A home with activity-coach (steps, workout, heart rate: value, unit,
/// time; 90 days; raw) and daily-coach (activity-coach's component under
/// a manifest asking steps at daily granularity with a hostile purpose),
/// users alice and bob, and a server on it.
pub struct Site {
    pub home: TestHome,
    pub served: Served,
    _dir: tempfile::TempDir,
}

/// Copies activity-coach under `dir` with its manifest replaced.
pub fn variant(dir: &Path, manifest: &str) -> std::path::PathBuf {
    let src = example_dir("activity-coach");
    std::fs::create_dir_all(dir).unwrap();
    for entry in std::fs::read_dir(&src).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != "healthplug.toml" && entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
        }
    }
    std::fs::write(dir.join("healthplug.toml"), manifest).unwrap();
    dir.to_path_buf()
}

/// daily-coach's manifest with `purpose`.
pub fn daily_coach(purpose: &str) -> String {
    format!(
        "[plugin]\nid = \"daily-coach\"\nname = \"Daily Coach\"\nversion = \"0.1.0\"\npublisher = \"web tests\"\n\
         component = \"activity_coach.wasm\"\n\n[[read]]\ntypes = [\"steps\"]\npurpose = \"{purpose}\"\n\
         fields = [\"value\", \"time\"]\ndays = 30\ngranularity = \"daily\"\n"
    )
}

impl Site {
    pub async fn new() -> Site {
        let home = TestHome::new().unwrap();
        home.install(&example_dir("activity-coach")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let daily = variant(&dir.path().join("daily-coach"), &daily_coach(HOSTILE_PURPOSE));
        home.install(&daily).unwrap();
        for user in ["alice", "bob"] {
            home.host.ensure_user(user).unwrap();
        }
        let served = Served::start(home.path(), ServeConfig::default()).await.unwrap();
        Site {
            home,
            served,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.served.base)
    }

    /// A fresh sign-in link secret for `user`.
    pub fn link(&self, user: &str, valid: Duration) -> String {
        self.home.host.create_login_link(user, valid).unwrap().secret
    }

    /// A browser signed in as `user`, and the `Set-Cookie` it got.
    pub async fn sign_in(&self, user: &str) -> (reqwest::Client, String) {
        let browser = browser();
        let secret = self.link(user, Duration::from_secs(900));
        let r = browser
            .post(self.url(&format!("/login/{secret}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "signing in");
        let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
        (browser, cookie)
    }
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
    assert_eq!(headers["referrer-policy"], "no-referrer", "{what}");
}
