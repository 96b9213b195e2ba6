//! The door, attacked: no token, a malformed, forged, revoked or expired
//! one, a narrower scope, another user's token, a browser on another
//! origin, a rebinding `Host`, an oversized body.

use healthplug_host::auth::{Scope, Scopes};
use healthplug_tests::serve::{call_body, list_body};
use serde_json::json;

use super::{World, token};

fn challenge(headers: &reqwest::header::HeaderMap) -> String {
    headers
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_or_a_bad_one_is_401_with_the_resource_metadata() {
    let world = World::new();
    let served = world.serve().await;
    let (status, headers, _) = served.post("/mcp", &[], &list_body()).await.unwrap();
    assert_eq!(status, 401);
    let c = challenge(&headers);
    let metadata = format!("{}/.well-known/oauth-protected-resource/mcp", served.base);
    assert!(c.starts_with("Bearer "), "{c}");
    assert!(c.contains(&format!("resource_metadata=\"{metadata}\"")), "{c}");
    let doc: serde_json::Value = reqwest::get(&metadata).await.unwrap().json().await.unwrap();
    assert_eq!(doc["resource"], format!("{}/mcp", served.base));
    assert_eq!(doc["scopes_supported"], json!(["tools:list", "tools:call"]));

    let forged = format!("hp_{}", "A".repeat(43));
    let revoked = token(&world.home, "alice", &Scopes::all());
    let id = world
        .home
        .host
        .tokens(Some("alice"))
        .unwrap()
        .last()
        .unwrap()
        .id
        .clone();
    world.home.host.revoke_token(&id).unwrap();
    for bad in [
        "Bearer garbage",
        &format!("Bearer {forged}"),
        &format!("Bearer {revoked}"),
        "Basic YTpi",
        "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.",
    ] {
        let (status, headers, body) = served
            .post("/mcp", &[("authorization", bad)], &list_body())
            .await
            .unwrap();
        assert_eq!(status, 401, "{bad}: {body}");
        assert!(challenge(&headers).contains("error=\"invalid_token\""), "{bad}");
        assert!(!body.contains(&revoked), "a token is never echoed");
    }
    // A token in the query string is not a credential.
    let url = format!("/mcp?access_token={}", world.alice);
    let (status, _, _) = served.post(&url, &[], &list_body()).await.unwrap();
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_only_token_is_403_on_tools_call_with_the_scope_needed() {
    let world = World::new();
    let served = world.serve().await;
    let list_only = token(&world.home, "alice", &Scopes::parse_strict("tools:list").unwrap());
    let auth = format!("Bearer {list_only}");
    let (status, _, body) = served
        .post("/mcp", &[("authorization", &auth)], &list_body())
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let (status, headers, _) = served
        .post(
            "/mcp",
            &[("authorization", &auth)],
            &call_body("probe.read", json!({"types": ["steps"]})),
        )
        .await
        .unwrap();
    assert_eq!(status, 403);
    let c = challenge(&headers);
    assert!(
        c.contains("error=\"insufficient_scope\"") && c.contains("scope=\"tools:call\""),
        "{c}"
    );
    let _ = Scope::ToolsCall;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_token_never_reaches_another_users_data() {
    let world = World::new();
    let served = world.serve().await;
    // Bob asks for alice's plugin and, through every argument he controls,
    // for alice: the server only ever acts for bob.
    let bob = format!("Bearer {}", world.bob);
    for args in [
        json!({"types": ["steps"]}),
        json!({"types": ["steps"], "user": "alice"}),
        json!({"types": ["steps"], "start": 0, "end": 9_999_999_999_999i64}),
    ] {
        let (status, _, body) = served
            .post("/mcp", &[("authorization", &bob)], &call_body("probe.read", args))
            .await
            .unwrap();
        assert_eq!(status, 200);
        assert!(!body.contains("4111"), "alice's canary reached bob: {body}");
    }
    let (_, _, body) = served
        .post(
            "/mcp",
            &[("authorization", &bob)],
            &call_body("conformance.steps-total", json!({})),
        )
        .await
        .unwrap();
    assert!(
        body.contains("not enabled for this user") && !body.contains("4111"),
        "{body}"
    );
    // A `_meta` or header naming another user changes nothing.
    let (_, _, body) = served
        .post(
            "/mcp",
            &[("authorization", &bob), ("x-healthplug-user", "alice")],
            &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": {"user": "alice"}}}),
        )
        .await
        .unwrap();
    assert!(!body.contains("conformance."), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_origin_or_a_rebinding_host_is_refused() {
    let world = World::new();
    let served = world.serve().await;
    let auth = format!("Bearer {}", world.alice);
    let (status, _, _) = served
        .post(
            "/mcp",
            &[("authorization", &auth), ("origin", "https://evil.example")],
            &list_body(),
        )
        .await
        .unwrap();
    assert_eq!(status, 403);
    let (status, _, _) = served
        .post(
            "/mcp",
            &[("authorization", &auth), ("host", "evil.example")],
            &list_body(),
        )
        .await
        .unwrap();
    assert!((400..500).contains(&status), "{status}");
    let port = served.base.rsplit(':').next().unwrap().to_string();
    let (status, _, _) = served
        .post(
            "/mcp",
            &[
                ("authorization", &auth),
                ("origin", &format!("http://localhost:{port}")),
            ],
            &list_body(),
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_is_refused_before_it_is_read() {
    let world = World::new();
    let served = world.serve().await;
    let auth = format!("Bearer {}", world.alice);
    let huge = call_body(
        "probe.read",
        json!({"types": ["steps"], "pad": "x".repeat(2 * 1024 * 1024)}),
    );
    let (status, _, _) = served.post("/mcp", &[("authorization", &auth)], &huge).await.unwrap();
    assert_eq!(status, 413);
    let metrics = served.metrics().await.unwrap();
    assert!(
        metrics.contains("healthplug_turned_away_total{reason=\"too-large\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("healthplug_turned_away_total{reason=\"unauthenticated\"}") || !metrics.contains("alice"));
    assert!(
        !metrics.contains(&world.alice) && !metrics.contains("alice"),
        "metrics name no user or token"
    );
}
