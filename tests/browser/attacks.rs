//! The page from the wrong side, in the browser: a form altered by script
//! to ask more than the manifest does gets the CLI's own refusal and
//! grants nothing; a form stripped of (or carrying a forged) CSRF token
//! is refused and changes nothing; a manifest's `<script>` shows as text,
//! no dialog opens, and the CSP stops a script injected into the page.

use healthplug_host::platform::GrantRequest;
use healthplug_tests::ty;
use healthplug_tests::web::{HOSTILE_PURPOSE, Site};
use serde_json::json;

use super::{fill_steps, now_line, open, set_box, sign_in, steps_grant};

/// The first line of the CLI's refusal of `consent grant alice <plugin> <args>`.
fn cli_refusal(site: &Site, plugin: &str, args: &[&str]) -> String {
    let home = site.home.path().to_str().unwrap().to_string();
    let mut argv = vec!["healthplug", "--home", &home, "consent", "grant", "alice", plugin];
    argv.extend_from_slice(args);
    let out = healthplug_host::cli::run_captured(&argv);
    assert!(!out.success, "the CLI granted {args:?}");
    let line = out.stderr.lines().next().unwrap();
    line.strip_prefix("error: ").unwrap().to_string()
}

/// Adds an option `value` to the select `id` and chooses it.
const FORGE_OPTION: &str = "const [id, value] = arguments; const s = document.getElementById(id);
const o = document.createElement('option'); o.value = value; o.text = value; s.add(o); s.value = value;";

/// Adds a hidden input `name=value` to the form of the element `id`.
const FORGE_INPUT: &str = "const [id, name, value] = arguments; const f = document.getElementById(id).form;
const i = document.createElement('input'); i.type = 'hidden'; i.name = name; i.value = value; f.appendChild(i);";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_forged_to_ask_more_than_the_manifest_is_refused_with_the_clis_message() {
    let Some((site, b)) = open("forged over-grant").await else {
        return;
    };
    sign_in(&b, &site, "alice").await;
    let cases = [
        (
            "activity-coach",
            FORGE_OPTION,
            json!(["days-activity-coach-steps", "365"]),
            vec![
                "--types",
                "steps",
                "--fields",
                "value,time",
                "--days",
                "365",
                "--granularity",
                "daily",
            ],
        ),
        (
            "activity-coach",
            FORGE_INPUT,
            json!(["type-activity-coach-steps", "fields.steps", "notes"]),
            vec![
                "--types",
                "steps",
                "--fields",
                "value,time,notes",
                "--days",
                "30",
                "--granularity",
                "daily",
            ],
        ),
        (
            "daily-coach",
            FORGE_OPTION,
            json!(["gran-daily-coach-steps", "raw"]),
            vec![
                "--types",
                "steps",
                "--fields",
                "value,time",
                "--days",
                "30",
                "--granularity",
                "raw",
            ],
        ),
    ];
    for (plugin, script, args, cli) in cases {
        b.goto(&site.url("/")).await.unwrap();
        b.wait_for_title("My plugins").await.unwrap();
        let type_box = format!("type-{plugin}-steps");
        if plugin == "activity-coach" {
            fill_steps(&b).await;
        } else {
            set_box(&b, &type_box, true).await;
        }
        b.run(script, args.as_array().unwrap().clone()).await.unwrap();
        b.submit_form_of(&type_box).await.unwrap();
        let alert = b.wait_for("//div[@role='alert']").await.unwrap();
        let message = cli_refusal(&site, plugin, &cli);
        assert_eq!(
            alert.text().await.unwrap(),
            format!("Not done: {message}. Nothing was changed."),
            "{plugin} {args}"
        );
        assert_eq!(now_line(&b, plugin, "steps").await, "Not shared.");
    }
    assert!(
        site.home.host.consents("alice").unwrap().is_empty(),
        "a forged form granted something"
    );
    b.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_without_its_csrf_token_is_refused_and_changes_nothing() {
    let Some((site, b)) = open("csrf").await else { return };
    sign_in(&b, &site, "alice").await;
    let strip = "document.getElementById(arguments[0]).form.querySelector('input[name=csrf]').remove();";
    let forge = "document.getElementById(arguments[0]).form.querySelector('input[name=csrf]').value = 'A'.repeat(43);";
    for script in [strip, forge] {
        b.goto(&site.url("/")).await.unwrap();
        b.wait_for_title("My plugins").await.unwrap();
        fill_steps(&b).await;
        b.run(script, vec![json!("type-activity-coach-steps")]).await.unwrap();
        b.submit_form_of("type-activity-coach-steps").await.unwrap();
        b.wait_for_title("Refused").await.unwrap();
        let why = b.wait_for("//main/p").await.unwrap().text().await.unwrap();
        assert!(why.contains("CSRF token"), "{why}");
    }
    assert!(
        steps_grant(&site, "alice", "activity-coach").is_none(),
        "a grant without the token"
    );

    // The revoke form too: a grant made elsewhere survives a tokenless stop.
    let steps = GrantRequest {
        types: vec![ty("steps")],
        ..GrantRequest::default()
    };
    site.home.host.grant("alice", "activity-coach", &steps).unwrap();
    b.goto(&site.url("/")).await.unwrap();
    let stop = b
        .wait_for("//button[normalize-space()='Stop sharing everything with Activity Coach']")
        .await
        .unwrap();
    let strip_revoke = "arguments[0].form.querySelector('input[name=csrf]').remove();";
    b.run(strip_revoke, vec![serde_json::to_value(&stop).unwrap()])
        .await
        .unwrap();
    stop.click().await.unwrap();
    b.wait_for_title("Refused").await.unwrap();
    assert_eq!(steps_grant(&site, "alice", "activity-coach").unwrap().status, "active");
    b.close().await.unwrap();
}

/// Injects an inline script, resolving with the CSP directive that
/// stopped it and whether it ran.
const INJECT: &str = "const done = arguments[0];
const stopped = new Promise(r => document.addEventListener('securitypolicyviolation', e => r(e.effectiveDirective), { once: true }));
const s = document.createElement('script'); s.textContent = 'window.__pwned = true;'; document.body.appendChild(s);
Promise.race([stopped, new Promise(r => setTimeout(() => r('no violation reported'), 30000))])
  .then(d => done({ directive: d, ran: typeof window.__pwned !== 'undefined' }));";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_purpose_is_text_and_no_script_runs() {
    let Some((site, b)) = open("hostile purpose").await else {
        return;
    };
    sign_in(&b, &site, "alice").await;
    let why = b
        .wait_for("//section[@aria-labelledby='name-daily-coach']//dt[.='Why']/following-sibling::dd[1]")
        .await
        .unwrap();
    assert_eq!(
        why.text().await.unwrap(),
        HOSTILE_PURPOSE,
        "the purpose is not shown as text"
    );
    let scripts = b.run("return document.scripts.length;", vec![]).await.unwrap();
    assert_eq!(scripts, json!(0), "a <script> element reached the page");
    assert!(b.client.get_alert_text().await.is_err(), "a dialog opened");

    let outcome = b.client.execute_async(INJECT, vec![]).await.unwrap();
    assert_eq!(outcome["ran"], json!(false), "an injected inline script ran: {outcome}");
    assert_eq!(outcome["directive"], json!("script-src-elem"), "{outcome}");
    b.close().await.unwrap();
}
