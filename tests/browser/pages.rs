//! Every page a person can reach today, checked by axe-core at desktop
//! and phone widths and photographed (one `check_page` line per page),
//! and the keyboard: Tab from the top walks the page in document order
//! with the focus always drawn, and the skip link skips.

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use serde_json::{Value, json};

use super::check::check_page;
use super::driver::Browser;
use super::{fill_steps, open, sign_in};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_at_desktop_and_phone_widths() {
    let Some((site, b)) = open("axe").await else { return };
    let mut passed = Vec::new();
    b.goto(&site.url("/")).await.unwrap();
    b.wait_for_title("Please sign in").await.unwrap();
    passed.push(("please-sign-in", check_page(&b, "please-sign-in").await.unwrap()));

    let secret = site.link("alice", std::time::Duration::from_secs(900)).unwrap();
    let link = site.url(&format!("/login/{secret}"));
    b.goto(&link).await.unwrap();
    let sign_in_button = b.wait_for("//button[normalize-space()='Sign in']").await.unwrap();
    passed.push(("sign-in", check_page(&b, "sign-in").await.unwrap()));
    sign_in_button.click().await.unwrap();
    b.wait_for_title("My plugins").await.unwrap();
    passed.push(("my-plugins", check_page(&b, "my-plugins").await.unwrap()));

    fill_steps(&b).await;
    b.submit_form_of("type-activity-coach-steps").await.unwrap();
    b.wait_for("//div[@role='status']").await.unwrap();
    passed.push(("granted", check_page(&b, "granted").await.unwrap()));

    b.goto(&site.url("/")).await.unwrap();
    b.wait_for_title("My plugins").await.unwrap();
    b.run(
        "document.getElementById('days-activity-coach-steps').options[0].value = '365';",
        vec![],
    )
    .await
    .unwrap();
    b.by_id("days-activity-coach-steps")
        .await
        .unwrap()
        .select_by_value("365")
        .await
        .unwrap();
    b.submit_form_of("type-activity-coach-steps").await.unwrap();
    b.wait_for("//div[@role='alert']").await.unwrap();
    passed.push(("grant-refused", check_page(&b, "grant-refused").await.unwrap()));

    b.run(
        "document.querySelector('form.grant input[name=csrf]').remove();",
        vec![],
    )
    .await
    .unwrap();
    b.submit_form_of("type-activity-coach-steps").await.unwrap();
    b.wait_for_title("Refused").await.unwrap();
    passed.push(("refused", check_page(&b, "refused").await.unwrap()));

    b.goto(&site.url("/")).await.unwrap();
    b.wait_for("//button[normalize-space()='Sign out']")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for("//main/p[contains(., 'signed out')]").await.unwrap();
    passed.push(("signed-out", check_page(&b, "signed-out").await.unwrap()));

    b.goto(&link).await.unwrap();
    b.wait_for_title("This sign-in link was used already").await.unwrap();
    passed.push(("link-used", check_page(&b, "link-used").await.unwrap()));

    for (page, counts) in &passed {
        println!("axe rules passed on {page}: desktop {}, phone {}", counts[0], counts[1]);
    }
    b.close().await.unwrap();
}

/// What the focused element is, and whether it is the one focused before
/// (Tab walks a date's parts), came after it, is on screen and has its
/// focus ring drawn.
const FOCUSED: &str = "const el = document.activeElement;
const prev = window.__prevFocus; window.__prevFocus = el;
const r = el.getBoundingClientRect(); const cs = getComputedStyle(el);
return { id: el.id, tag: el.tagName.toLowerCase(), text: (el.innerText || '').trim().slice(0, 80),
  same: prev === el,
  follows: !prev || !!(prev.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING),
  on_screen: r.width > 0 && r.height > 0 && r.left >= 0 && r.right <= window.innerWidth,
  ring: cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2 };";

/// Presses `key` and describes what has the focus then.
async fn press(b: &Browser, key: Key) -> Value {
    let c: char = key.into();
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: c })
        .then(KeyAction::Up { value: c });
    b.client.perform_actions(keys).await.unwrap();
    b.run(FOCUSED, vec![]).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tab_walks_my_plugins_in_document_order_with_the_focus_drawn() {
    let Some((site, b)) = open("keyboard").await else {
        return;
    };
    sign_in(&b, &site, "alice").await;
    b.goto(&site.url("/")).await.unwrap();
    b.wait_for_title("My plugins").await.unwrap();
    let mut walk = Vec::new();
    for _ in 0..100 {
        let focused = press(&b, Key::Tab).await;
        if focused["same"] == json!(true) {
            // The parts of one control (a date's day, month and year).
            continue;
        }
        let done = focused["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("Grant what is ticked to Activity Coach"));
        walk.push(focused);
        if done {
            break;
        }
    }
    let names: Vec<String> = walk
        .iter()
        .map(|f| format!("{} #{} {}", f["tag"], f["id"], f["text"]))
        .collect();
    assert_eq!(walk[0]["text"], json!("Skip to the content"), "{names:#?}");
    assert_eq!(walk[1]["text"], json!("Sign out"), "{names:#?}");
    let nav: Vec<&Value> = walk[2..5].iter().map(|f| &f["text"]).collect();
    assert_eq!(
        nav,
        [&json!("My plugins"), &json!("What was read"), &json!("My data")],
        "{names:#?}"
    );
    assert_eq!(walk[5]["id"], json!("type-activity-coach-steps"), "{names:#?}");
    assert!(
        walk.last().unwrap()["tag"] == json!("button"),
        "Tab never reached the grant button: {names:#?}"
    );
    for (f, name) in walk.iter().zip(&names) {
        assert_eq!(f["follows"], json!(true), "focus went backwards at {name}: {names:#?}");
        assert_eq!(f["on_screen"], json!(true), "focused but not on screen: {name}");
        assert_eq!(f["ring"], json!(true), "no focus ring on {name}");
    }

    // The skip link skips the header: Enter on it, then Tab, is in main.
    b.goto(&site.url("/")).await.unwrap();
    b.wait_for_title("My plugins").await.unwrap();
    assert_eq!(press(&b, Key::Tab).await["text"], json!("Skip to the content"));
    press(&b, Key::Enter).await;
    let next = press(&b, Key::Tab).await;
    assert_eq!(next["id"], json!("type-activity-coach-steps"), "{next}");
    b.close().await.unwrap();
}
