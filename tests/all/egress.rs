//! Network only by explicit grant: allowlisted HTTPS through the host's
//! send hook, SSRF refused (private, loopback, link-local and mapped
//! addresses), no redirects followed, caps on responses, sockets and name
//! lookup denied to every plugin. A real HTTPS server runs in-process on
//! 127.0.0.1, reachable only through the test-only switches.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use healthplug_host::network::NetworkPolicy;
use healthplug_host::platform::{GrantRequest, InstallOptions};
use healthplug_tests::https::TestServer;
use healthplug_tests::{TestHome, example_dir, fixture_dir, fixture_wasm, types_of};
use serde_json::{Value, json};

mod headers;
mod storage_revoke;

/// A home whose resolver maps test names to addresses; with a server, the
/// test-only switches let requests reach it on 127.0.0.1.
fn net_home(server: Option<&TestServer>, names: &[(&str, &str)]) -> anyhow::Result<TestHome> {
    let map: HashMap<String, Vec<IpAddr>> = names
        .iter()
        .map(|(h, ip)| Ok((h.to_string(), vec![ip.parse()?])))
        .collect::<anyhow::Result<_>>()?;
    let mut network = NetworkPolicy {
        resolver_for_tests: Some(Arc::new(move |host: &str, _port: u16| map.get(host).cloned())),
        ..NetworkPolicy::default()
    };
    if let Some(s) = server {
        network.allow_loopback_for_tests = true;
        network.extra_roots_for_tests = vec![s.ca_der.clone()];
    }
    TestHome::with_network(network)
}

/// Installs the netprobe fixture with its allowlist on `port`.
fn install_netprobe(home: &TestHome, port: u16) -> anyhow::Result<()> {
    let dir = fixture_dir("netprobe");
    let manifest = std::fs::read_to_string(dir.join("healthplug.toml"))?.replace("PORT", &port.to_string());
    let wasm = std::fs::read(fixture_wasm("netprobe"))?;
    home.host.install_parts(
        &manifest,
        &dir.join("healthplug.toml"),
        &fixture_wasm("netprobe"),
        &wasm,
        InstallOptions::dev(),
    )?;
    Ok(())
}

fn grant_all(home: &TestHome) -> anyhow::Result<()> {
    home.grant_with(
        "ann",
        "netprobe",
        GrantRequest {
            types: types_of("steps"),
            storage: true,
            network: Some(Vec::new()),
            ..GrantRequest::default()
        },
    )
}

fn call(home: &TestHome, tool: &str, args: Value) -> anyhow::Result<Value> {
    Ok(home.invoke_json("ann", "netprobe", tool, args)?.0)
}

fn egress_audit(home: &TestHome) -> anyhow::Result<Vec<String>> {
    Ok(home
        .host
        .audit_log(Some("ann"))?
        .into_iter()
        .filter(|e| e.event.kind.id() == "egress")
        .map(|e| {
            format!(
                "{} {} {}",
                e.event.outcome.unwrap_or_default(),
                e.event.fields.unwrap_or_default(),
                e.event.detail.unwrap_or_default()
            )
        })
        .collect())
}

#[test]
fn without_a_grant_every_network_path_fails() -> anyhow::Result<()> {
    let server = TestServer::start()?;
    let home = net_home(Some(&server), &[("api.partner.test", "127.0.0.1")])?;
    install_netprobe(&home, server.port)?;
    home.grant("ann", "netprobe", "steps")?; // data only: no network grant
    let out = call(
        &home,
        "fetch",
        json!({ "url": format!("https://api.partner.test:{}/hello", server.port) }),
    )?;
    assert_eq!(out["ok"], false, "{out}");
    assert!(
        out["error"].as_str().unwrap_or("").contains("HttpRequestDenied"),
        "{out}"
    );
    assert!(server.seen().is_empty(), "the server was reached without a grant");
    for (tool, args) in [
        ("tcp", json!({ "addr": "93.184.216.34:443" })),
        ("tcp", json!({ "addr": format!("127.0.0.1:{}", server.port) })),
        ("dns", json!({ "host": "example.com" })),
    ] {
        let out = call(&home, tool, args)?;
        assert_eq!(out["ok"], false, "{tool} must fail: {out}");
    }
    assert!(server.seen().is_empty());
    let audit = egress_audit(&home)?;
    assert!(
        audit.iter().any(|e| e.contains("refused") && e.contains("not granted")),
        "{audit:?}"
    );
    Ok(())
}

#[test]
fn an_allowlisted_host_works_and_nothing_else_does() -> anyhow::Result<()> {
    let server = TestServer::start()?;
    let home = net_home(
        Some(&server),
        &[("api.partner.test", "127.0.0.1"), ("evil.test", "127.0.0.1")],
    )?;
    install_netprobe(&home, server.port)?;
    grant_all(&home)?;
    let port = server.port;
    let out = call(
        &home,
        "fetch",
        json!({ "url": format!("https://api.partner.test:{port}/hello") }),
    )?;
    assert_eq!(out, json!({ "ok": true, "status": 200, "bytes": 5, "location": null }));

    let refused = |url: String| -> anyhow::Result<String> {
        let out = call(&home, "fetch", json!({ "url": url }))?;
        assert_eq!(out["ok"], false, "{url} must be refused: {out}");
        Ok(out["error"].as_str().unwrap_or("").to_string())
    };
    assert!(refused(format!("https://evil.test:{port}/hello"))?.contains("HttpRequestDenied"));
    assert!(refused(format!("https://api.partner.test:{}/hello", port + 1))?.contains("HttpRequestDenied"));
    assert!(refused(format!("http://api.partner.test:{port}/hello"))?.contains("HttpRequestDenied"));

    // A redirect is handed to the plugin, not followed; following it to
    // another host is refused.
    let out = call(
        &home,
        "fetch",
        json!({ "url": format!("https://api.partner.test:{port}/redirect"), "follow": true }),
    )?;
    assert_eq!(out["status"], 302, "{out}");
    assert_eq!(out["redirect"]["ok"], false, "{out}");
    assert!(
        out["redirect"]["error"]
            .as_str()
            .unwrap_or("")
            .contains("HttpRequestDenied"),
        "{out}"
    );

    // Oversized responses, announced or streamed, are cut off.
    for path in ["/big", "/chunked-big"] {
        let out = call(
            &home,
            "fetch",
            json!({ "url": format!("https://api.partner.test:{port}{path}") }),
        )?;
        assert_eq!(out["ok"], false, "{path}: {out}");
        // Announced: refused before the body (HttpResponseBodySize); streamed:
        // the body stream fails at the cap.
        let error = out["error"].as_str().unwrap_or("");
        assert!(
            error.contains("HttpResponseBodySize") || error.contains("body size exceeds limit"),
            "{path}: {out}"
        );
    }

    // A forbidden header never reaches the server.
    let _ = call(
        &home,
        "fetch",
        json!({ "url": format!("https://api.partner.test:{port}/hello"), "header": "x-forwarded-for: 10.0.0.1" }),
    )?;
    let seen = server.seen();
    assert!(
        seen.iter().all(|s| s.host.starts_with("api.partner.test")),
        "only the allowlisted host was reached: {seen:?}"
    );
    assert!(
        seen.iter().all(|s| !s.headers.iter().any(|h| h == "x-forwarded-for")),
        "{seen:?}"
    );

    // Every request is audited (method and host, never bodies).
    let audit = egress_audit(&home)?;
    assert!(
        audit.iter().any(|e| e.starts_with("200 GET api.partner.test")),
        "{audit:?}"
    );
    assert!(
        audit.iter().any(|e| e.starts_with("refused GET evil.test")),
        "{audit:?}"
    );
    Ok(())
}

#[test]
fn hostnames_resolving_to_internal_addresses_are_refused() -> anyhow::Result<()> {
    // The default policy: no test-only switch, so loopback is refused too.
    let names = [
        ("loop.partner.test", "127.0.0.1"),
        ("ten.partner.test", "10.0.0.1"),
        ("metadata.partner.test", "169.254.169.254"),
        ("mapped.partner.test", "::ffff:127.0.0.1"),
        ("cgnat.partner.test", "100.64.1.1"),
        ("mapped-global.partner.test", "::ffff:8.8.8.8"),
        ("nat64-local.partner.test", "64:ff9b:1::808:808"),
    ];
    let home = net_home(None, &names)?;
    install_netprobe(&home, 443)?;
    grant_all(&home)?;
    for (host, ip) in names {
        let out = call(&home, "fetch", json!({ "url": format!("https://{host}/") }))?;
        assert_eq!(out["ok"], false, "{host} ({ip}) must be refused: {out}");
        assert!(
            out["error"].as_str().unwrap_or("").contains("DestinationIpProhibited"),
            "{host}: {out}"
        );
    }
    let audit = egress_audit(&home)?;
    assert!(
        audit
            .iter()
            .any(|e| e.contains("169.254.169.254") && e.contains("link-local")),
        "{audit:?}"
    );
    assert!(audit.iter().any(|e| e.contains("IPv4-mapped")), "{audit:?}");
    Ok(())
}

#[test]
fn a_component_importing_wasi_http_without_network_is_refused_at_install() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    let dir = fixture_dir("netprobe");
    let manifest = std::fs::read_to_string(dir.join("healthplug.toml"))?.replace("PORT", "443");
    let start = manifest
        .find("[network]")
        .ok_or_else(|| anyhow::anyhow!("no [network]"))?;
    let end = manifest
        .find("[storage]")
        .ok_or_else(|| anyhow::anyhow!("no [storage]"))?;
    let without = format!("{}{}", &manifest[..start], &manifest[end..]);
    let wasm = std::fs::read(fixture_wasm("netprobe"))?;
    let err = match home.host.install_parts(
        &without,
        &dir.join("healthplug.toml"),
        &fixture_wasm("netprobe"),
        &wasm,
        InstallOptions::dev(),
    ) {
        Ok(_) => anyhow::bail!("installed a wasi:http component without [network]"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("wasi:http") && err.contains("[network]"), "{err}");
    assert!(home.host.plugins()?.is_empty());
    Ok(())
}

#[test]
fn storage_quotas_isolation_failure_and_revocation() -> anyhow::Result<()> {
    let home = net_home(None, &[])?;
    install_netprobe(&home, 443)?;
    // The same component under another id: another plugin.
    let dir = fixture_dir("netprobe");
    let other = std::fs::read_to_string(dir.join("healthplug.toml"))?
        .replace("PORT", "443")
        .replace("id = \"netprobe\"", "id = \"netprobe-b\"");
    home.host.install_parts(
        &other,
        &dir.join("healthplug.toml"),
        &fixture_wasm("netprobe"),
        &std::fs::read(fixture_wasm("netprobe"))?,
        InstallOptions::dev(),
    )?;
    for (user, plugin) in [("ann", "netprobe"), ("ann", "netprobe-b"), ("bob", "netprobe")] {
        home.grant_with(
            user,
            plugin,
            GrantRequest {
                storage: true,
                ..GrantRequest::default()
            },
        )?;
    }
    let put = |user: &str, plugin: &str, key: &str, value: &str| -> anyhow::Result<Value> {
        Ok(home
            .invoke_json(user, plugin, "put", json!({ "key": key, "value": value }))?
            .0)
    };
    let get = |user: &str, plugin: &str, key: &str| -> anyhow::Result<Value> {
        Ok(home.invoke_json(user, plugin, "get", json!({ "key": key }))?.0)
    };
    assert_eq!(put("ann", "netprobe", "token", "ann-secret-QX9")?["ok"], true);
    assert_eq!(
        get("ann", "netprobe", "token")?["result"],
        "ann-secret-QX9",
        "persisted across invocations"
    );
    assert_eq!(
        get("ann", "netprobe-b", "token")?["result"],
        Value::Null,
        "plugin B cannot read plugin A's key"
    );
    assert_eq!(
        get("bob", "netprobe", "token")?["result"],
        Value::Null,
        "user Y cannot read user X's key"
    );

    // Over the quota (2048 bytes, 8 keys): refused, and the refused write
    // stores nothing.
    let (out, _) = home.invoke_json("ann", "netprobe", "fill", json!({ "count": 8, "size": 400 }))?;
    assert_eq!(out["ok"], false, "{out}");
    assert!(out["error"].as_str().unwrap_or("").contains("quota"), "{out}");
    let stored = out["stored"].as_u64().unwrap_or(0);
    let (keys, _) = home.invoke_json("ann", "netprobe", "keys", json!({ "prefix": "fill-" }))?;
    assert_eq!(keys["result"].as_array().map(Vec::len), Some(stored as usize), "{keys}");

    // A failed invocation leaves no storage write behind.
    let out = home.host.invoke(
        "ann",
        "netprobe",
        "put",
        &json!({ "key": "late", "value": "x", "then": "fail" }).to_string(),
    )?;
    assert!(out.result.is_err());
    assert_eq!(get("ann", "netprobe", "late")?["result"], Value::Null);

    // No stored value is readable on disk.
    let files = scan_for(home.path(), b"ann-secret-QX9")?;
    assert!(files.is_empty(), "plaintext storage in {files:?}");

    // Revoking the plugin deletes its storage.
    let report = home.host.revoke("ann", "netprobe", None)?;
    assert!(report.storage_entries_deleted >= 1, "{report:?}");
    home.grant_with(
        "ann",
        "netprobe",
        GrantRequest {
            storage: true,
            ..GrantRequest::default()
        },
    )?;
    assert_eq!(
        get("ann", "netprobe", "token")?["result"],
        Value::Null,
        "storage was deleted with the revoke"
    );
    assert_eq!(get("ann", "netprobe-b", "token")?["result"], Value::Null);
    // Without the grant, storage is refused, not empty.
    home.host
        .revoke_capability("bob", "netprobe", healthplug_host::vault::Capability::Storage)?;
    let out = get("bob", "netprobe", "token")?;
    assert!(out["error"].as_str().unwrap_or("").contains("not granted"), "{out}");
    Ok(())
}

fn scan_for(dir: &std::path::Path, needle: &[u8]) -> anyhow::Result<Vec<String>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            found.extend(scan_for(&path, needle)?);
        } else if std::fs::read(&path)?.windows(needle.len()).any(|w| w == needle) {
            found.push(path.display().to_string());
        }
    }
    Ok(found)
}

#[test]
fn cloud_sync_fetches_writes_and_remembers_its_cursor() -> anyhow::Result<()> {
    let server = TestServer::start()?;
    let home = net_home(Some(&server), &[("api.partner.test", "127.0.0.1")])?;
    let dir = example_dir("cloud-sync");
    let origin = format!("https://api.partner.test:{}", server.port);
    let manifest =
        std::fs::read_to_string(dir.join("healthplug.toml"))?.replace("https://api.partner.example", &origin);
    let wasm_path = healthplug_host::examples::wasm_dir().join("cloud_sync.wasm");
    home.host.install_parts(
        &manifest,
        &dir.join("healthplug.toml"),
        &wasm_path,
        &std::fs::read(&wasm_path)?,
        InstallOptions::dev(),
    )?;
    home.grant_with(
        "ann",
        "cloud-sync",
        GrantRequest {
            types: types_of("steps,heart-rate,body-mass"),
            write: true,
            storage: true,
            network: Some(Vec::new()),
            ..GrantRequest::default()
        },
    )?;
    let options = json!({ "base_url": origin });
    let report = home.host.sync("ann", "cloud-sync", &options)?;
    assert_eq!(report.total_imported, 4, "{report:?}");
    assert_eq!(report.problems_total, 1);
    assert!(
        report.problems[0].reason.contains("unknown type `blood-type`"),
        "{:?}",
        report.problems
    );
    let mass = home.host.records("ann", &types_of("body-mass"))?;
    assert!(
        (mass[0].value.unwrap_or(0.0) - 69.853_225).abs() < 1e-5,
        "154 lb in kg: {:?}",
        mass[0].value
    );
    assert_eq!(mass[0].provenance.origin, "cloud-sync");
    // The second sync starts from the stored cursor: nothing new is fetched.
    let again = home.host.sync("ann", "cloud-sync", &options)?;
    assert_eq!(again.total_imported, 0);
    assert_eq!(again.records_read, 0);
    assert!(
        server.seen().iter().any(|s| s.path == "/v1/samples?since=200"),
        "{:?}",
        server.seen()
    );
    // Without the network grant the sync fails clearly and stores nothing.
    home.host
        .revoke_capability("ann", "cloud-sync", healthplug_host::vault::Capability::Network)?;
    let err = home
        .host
        .sync("ann", "cloud-sync", &json!({ "base_url": origin }))
        .map(|r| r.total_imported);
    assert!(
        err.is_err_and(|e| e.to_string().contains("HttpRequestDenied")),
        "refused without the grant"
    );
    Ok(())
}
