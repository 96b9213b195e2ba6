//! What a caller can reach through MCP: only their own user's enabled
//! plugins, only the data those were granted, with refusals as clean tool
//! errors and revocations biting on the next call of an open session.

use healthplug_tests::serve::{Served, call, text};
use rmcp::model::Tool;
use serde_json::{Value, json};

use super::{ALICE_STEPS, BOB_STEPS, World};

fn names(tools: &[Tool]) -> Vec<String> {
    tools.iter().map(|t| t.name.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_list_shows_only_the_plugins_a_user_enabled() {
    let world = World::new();
    let served = world.serve().await;
    let alice = served.client(&world.alice).await.unwrap();
    let tools = alice.list_all_tools().await.unwrap();
    let list = names(&tools);
    let mut sorted = list.clone();
    sorted.sort();
    assert_eq!(list, sorted, "the listing is in name order");
    for expected in [
        "activity-coach.step-goal",
        "conformance.steps-total",
        "probe.read",
        "probe.write",
    ] {
        assert!(list.contains(&expected.to_string()), "{expected} missing from {list:?}");
    }
    let coach = tools.iter().find(|t| t.name == "activity-coach.step-goal").unwrap();
    let hints = coach.annotations.clone().unwrap();
    assert_eq!(hints.read_only_hint, Some(true), "a plugin without writes is read-only");
    assert_eq!(hints.open_world_hint, Some(false));
    assert!(
        coach
            .description
            .as_deref()
            .unwrap()
            .contains("Summarise your weekly activity")
    );
    let probe_write = tools.iter().find(|t| t.name == "probe.write").unwrap();
    assert_eq!(probe_write.annotations.clone().unwrap().read_only_hint, Some(false));
    let total = tools.iter().find(|t| t.name == "conformance.steps-total").unwrap();
    assert!(total.output_schema.is_some(), "a declared output schema is advertised");

    let bob = served.client(&world.bob).await.unwrap();
    let bob_list = names(&bob.list_all_tools().await.unwrap());
    assert!(bob_list.iter().all(|n| n.starts_with("probe.")), "{bob_list:?}");
    let carol = served.client(&world.carol).await.unwrap();
    assert!(
        carol.list_all_tools().await.unwrap().is_empty(),
        "carol granted nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_cover_every_tool_once() {
    let world = World::new();
    let mut config = healthplug_host::serve::ServeConfig::default();
    config.limits.page_size = 2;
    let served = world.serve_with(config).await;
    let alice = served.client(&world.alice).await.unwrap();
    let all = names(&alice.list_all_tools().await.unwrap());
    let first = alice.list_tools(None).await.unwrap();
    assert_eq!(first.tools.len(), 2);
    assert!(first.next_cursor.is_some());
    assert!(all.len() > 4, "{all:?}");
    // A forged cursor is an error, not a page.
    let forged = alice
        .list_tools(Some(
            rmcp::model::PaginatedRequestParams::default().with_cursor(Some("!!".into())),
        ))
        .await;
    assert!(forged.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_granted_tool_returns_exactly_what_the_library_returns() {
    let world = World::new();
    let served = world.serve().await;
    let alice = served.client(&world.alice).await.unwrap();
    let args = json!({ "types": ["steps"], "fields": ["value", "unit"] });
    let result = call(&alice, "probe.read", args.clone()).await.unwrap();
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    let (direct, _) = world.home.invoke_json("alice", "probe", "read", args).unwrap();
    assert_eq!(result.structured_content.clone().unwrap(), direct);
    let over_mcp: Value = serde_json::from_str(&text(&result)).unwrap();
    assert_eq!(over_mcp, direct, "the text block carries the same JSON");
    let body = result.structured_content.unwrap().to_string();
    assert!(body.contains(&ALICE_STEPS.to_string()) || body.contains("4111"));
    assert!(!body.contains("7222"), "bob's canary reached alice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ungranted_type_is_a_clean_refusal() {
    let world = World::new();
    let served = world.serve().await;
    let alice = served.client(&world.alice).await.unwrap();
    let result = call(&alice, "conformance.heart-rate-peak", json!({})).await.unwrap();
    assert_eq!(result.is_error, Some(true));
    let line = text(&result);
    assert!(
        line.starts_with("Conformance may not read heart-rate: the user has not granted it"),
        "{line}"
    );
    // A plugin carol enabled nothing of: a refusal too, not its data.
    let carol = served.client(&world.carol).await.unwrap();
    let result = call(&carol, "probe.read", json!({ "types": ["steps"] })).await.unwrap();
    assert_eq!(result.is_error, Some(true));
    assert!(text(&result).contains("not enabled for this user"), "{}", text(&result));
    // An unknown tool is a protocol error.
    assert!(call(&alice, "probe.no-such-tool", json!({})).await.is_err());
    assert!(call(&alice, "nonsense", json!({})).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoke_bites_on_the_next_call_of_an_open_session() {
    let world = World::new();
    let served = world.serve().await;
    let alice = served.client(&world.alice).await.unwrap();
    let ok = call(&alice, "conformance.steps-total", json!({ "days": 3 }))
        .await
        .unwrap();
    assert_eq!(ok.is_error, Some(false), "{}", text(&ok));
    assert_eq!(ok.structured_content.unwrap()["steps"], json!(ALICE_STEPS));
    world.home.host.revoke("alice", "conformance", None).unwrap();
    let after = call(&alice, "conformance.steps-total", json!({ "days": 3 }))
        .await
        .unwrap();
    assert_eq!(after.is_error, Some(true), "{}", text(&after));
    assert!(!text(&after).contains("4111"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_are_checked_against_the_declared_output_schema() {
    let world = World::new();
    let served = world.serve().await;
    let alice = served.client(&world.alice).await.unwrap();
    let broken = call(&alice, "conformance.broken-output", json!({})).await.unwrap();
    assert_eq!(broken.is_error, Some(true));
    assert!(text(&broken).contains("output schema"), "{}", text(&broken));
    assert!(
        broken.structured_content.is_none(),
        "a result breaking its schema is not passed on"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugins_own_endpoint_serves_bare_names() {
    let world = World::new();
    let served = world.serve().await;
    let url = format!("{}/plugins/conformance/mcp", served.base);
    let alice = Served::connect(&url, Some(&world.alice)).await.unwrap();
    let list = names(&alice.list_all_tools().await.unwrap());
    assert!(list.contains(&"json_schema_2020_12_tool".to_string()), "{list:?}");
    let tool = alice
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.name == "json_schema_2020_12_tool")
        .unwrap();
    assert_eq!(
        tool.input_schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert!(tool.input_schema["$defs"]["address"].is_object());
    let error = call(&alice, "test_error_handling", json!({})).await.unwrap();
    assert_eq!(error.is_error, Some(true));
    // Bob did not enable the conformance plugin: its endpoint lists nothing.
    let bob = Served::connect(&url, Some(&world.bob)).await.unwrap();
    assert!(bob.list_all_tools().await.unwrap().is_empty());
    let _ = BOB_STEPS;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stateless_revision_needs_no_handshake() {
    let world = World::new();
    let served = world.serve().await;
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"}
    });
    let auth = format!("Bearer {}", world.alice);
    let headers = [
        ("authorization", auth.as_str()),
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "server/discover"),
    ];
    let discover = json!({"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": meta}});
    let (status, _, body) = served.post("/mcp", &headers, &discover).await.unwrap();
    assert_eq!(status, 200, "{body}");
    let doc: Value = serde_json::from_str(&body).unwrap();
    let versions = doc["result"]["supportedVersions"].to_string();
    assert!(
        versions.contains("2026-07-28") && versions.contains("2025-11-25"),
        "{body}"
    );
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "conformance.steps-total", "arguments": {"days": 3}, "_meta": meta}});
    let headers = [
        ("authorization", auth.as_str()),
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", "conformance.steps-total"),
    ];
    let (status, _, body) = served.post("/mcp", &headers, &call).await.unwrap();
    assert_eq!(status, 200, "{body}");
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        doc["result"]["structuredContent"]["steps"],
        json!(ALICE_STEPS),
        "{body}"
    );
    assert_eq!(doc["result"]["resultType"], "complete", "{body}");
}
