//! The consent page of `healthplug serve` in a real browser: headless
//! Chromium driven through chromedriver by `fantoccini`, against the
//! in-process server of `healthplug_tests::web::Site`. Signing in by
//! link, granting and revoking by clicking (and what MCP then sees),
//! forged forms, a missing CSRF token, a hostile manifest string, axe-core
//! on every page at desktop and phone widths with screenshots, and the
//! keyboard order. Without Chromium, chromedriver or axe-core (npm ci in
//! tests/browser) each test says so and passes, unless
//! `HEALTHPLUG_BROWSER=required` (see README.md beside this file).
// Tests: a failed setup step should stop the test where it failed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod attacks;
mod check;
mod data;
mod driver;
mod flow;
mod pages;

use std::time::Duration;

use driver::Browser;
use fantoccini::Locator;
use healthplug_host::consent::Granularity;
use healthplug_host::platform::ConsentView;
use healthplug_tests::ty;
use healthplug_tests::web::Site;

/// The site and a browser on it, or `None` when this machine has no
/// browser (the test then passes after saying so).
pub async fn open(test: &str) -> Option<(Site, Browser)> {
    let browser = Browser::start(test).await.unwrap()?;
    let site = Site::new().await.unwrap();
    Some((site, browser))
}

/// Signs `user` in the way a person would: opens a fresh link, sees the
/// "Sign in" button, presses it, lands on "My plugins".
pub async fn sign_in(b: &Browser, site: &Site, user: &str) {
    let secret = site.link(user, Duration::from_secs(900)).unwrap();
    b.goto(&site.url(&format!("/login/{secret}"))).await.unwrap();
    let button = b.wait_for("//button[normalize-space()='Sign in']").await.unwrap();
    button.click().await.unwrap();
    b.wait_for_title("My plugins").await.unwrap();
    let who = b.wait_for("//header//strong").await.unwrap();
    assert_eq!(who.text().await.unwrap(), user);
}

/// Ticks or unticks the checkbox `id` to `on`, by clicking it.
pub async fn set_box(b: &Browser, id: &str, on: bool) {
    let input = b.by_id(id).await.unwrap();
    if input.is_selected().await.unwrap() != on {
        input.click().await.unwrap();
    }
    assert_eq!(input.is_selected().await.unwrap(), on, "{id}");
}

/// Fills activity-coach's grant form for steps: only value and time, 30
/// days, daily totals (the plugin asks value, unit, time; 90 days; raw).
pub async fn fill_steps(b: &Browser) {
    set_box(b, "type-activity-coach-steps", true).await;
    for (field, on) in [("value", true), ("unit", false), ("time", true)] {
        set_box(b, &format!("field-activity-coach-steps-{field}"), on).await;
    }
    let days = b.by_id("days-activity-coach-steps").await.unwrap();
    days.select_by_value("30").await.unwrap();
    let gran = b.by_id("gran-activity-coach-steps").await.unwrap();
    gran.select_by_value(Granularity::Daily.id()).await.unwrap();
}

/// The "Now" line of `plugin`'s `type_id` request on the page.
pub async fn now_line(b: &Browser, plugin: &str, type_id: &str) -> String {
    let xpath = format!("//input[@id='type-{plugin}-{type_id}']/ancestor::fieldset[1]//dd[@class='now']");
    b.client
        .find(Locator::XPath(&xpath))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// `user`'s steps grant for `plugin`, if any.
pub fn steps_grant(site: &Site, user: &str, plugin: &str) -> Option<ConsentView> {
    site.home
        .host
        .consents(user)
        .unwrap()
        .into_iter()
        .find(|c| c.plugin == plugin && c.grant.data_type == ty("steps"))
}
