//! What reaches the partner's server, and what an unaudited request gets:
//! every `X-Forwarded-*` header is stripped whatever its case, the `Host`
//! header keeps a non-443 port, and a request whose audit entry cannot be
//! written fails (the plugin never sees its response).

use healthplug_tests::https::TestServer;
use serde_json::json;

use super::{call, grant_all, install_netprobe, net_home};

#[test]
fn forwarding_headers_never_reach_the_server_and_the_host_keeps_its_port() -> anyhow::Result<()> {
    let server = TestServer::start()?;
    let home = net_home(Some(&server), &[("api.partner.test", "127.0.0.1")])?;
    install_netprobe(&home, server.port)?;
    grant_all(&home)?;
    let url = format!("https://api.partner.test:{}/hello", server.port);
    for header in [
        "X-Forwarded-Proto: https",
        "x-forwarded-port: 443",
        "X-Forwarded-Server: internal",
        "x-forwarded-prefix: /admin",
        "X-FORWARDED-FOR: 10.0.0.1",
    ] {
        let _ = call(&home, "fetch", json!({ "url": url, "header": header }))?;
    }
    let out = call(&home, "fetch", json!({ "url": url }))?;
    assert_eq!(out["ok"], true, "{out}");
    let seen = server.seen();
    assert!(!seen.is_empty());
    for s in &seen {
        assert!(
            !s.headers.iter().any(|h| h.starts_with("x-forwarded")),
            "a forwarding header reached the server: {s:?}"
        );
        assert_eq!(s.host, format!("api.partner.test:{}", server.port), "{s:?}");
    }
    Ok(())
}

#[test]
fn a_request_that_cannot_be_audited_fails() -> anyhow::Result<()> {
    let server = TestServer::start()?;
    let home = net_home(Some(&server), &[("api.partner.test", "127.0.0.1")])?;
    install_netprobe(&home, server.port)?;
    grant_all(&home)?;
    let url = format!("https://api.partner.test:{}/hello", server.port);
    assert_eq!(call(&home, "fetch", json!({ "url": url }))?["ok"], true);
    let sent = server.seen().len();
    let db = rusqlite::Connection::open(home.path().join("vault.db"))?;

    // The vault refuses every entry about a request (and only those: the
    // invocation's own entries, its egress summary included, are written):
    // the request is never sent.
    db.execute_batch(
        "CREATE TRIGGER no_request_audit BEFORE INSERT ON audit
         WHEN NEW.entry LIKE '%GET api.partner.test%'
         BEGIN SELECT RAISE(ABORT, 'request audit refused by the test'); END;",
    )?;
    let out = call(&home, "fetch", json!({ "url": url }))?;
    assert_eq!(out["ok"], false, "an unaudited request went out: {out}");
    assert_eq!(server.seen().len(), sent, "an unaudited request reached the server");

    // The vault refuses only the entry recording the response: the request
    // went out (audited), but the response never reaches the plugin.
    db.execute_batch(
        "DROP TRIGGER no_request_audit;
         CREATE TRIGGER no_response_audit BEFORE INSERT ON audit
         WHEN NEW.entry LIKE '%GET api.partner.test%' AND NEW.entry LIKE '%\"200\"%'
         BEGIN SELECT RAISE(ABORT, 'response audit refused by the test'); END;",
    )?;
    let out = call(&home, "fetch", json!({ "url": url }))?;
    assert_eq!(out["ok"], false, "an unaudited response reached the plugin: {out}");
    assert_eq!(server.seen().len(), sent + 1);
    Ok(())
}
