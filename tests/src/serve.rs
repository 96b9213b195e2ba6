//! Helpers for the service tests: a `healthplug serve` started in-process
//! on a free loopback port over a test home, MCP clients from the official
//! Rust SDK with or without a bearer token, and raw HTTP for what a
//! client SDK would hide (status codes, challenges, forged headers).

use std::path::Path;
use std::sync::Arc;

use healthplug_host::Host;
use healthplug_host::consent::PlatformPolicy;
use healthplug_host::serve::{self, ServeConfig, ServeState, Server};
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::Value;

/// A server running in this process.
pub struct Served {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The shared state (its host, metrics, gate).
    pub state: Arc<ServeState>,
    server: Option<Server>,
}

/// A connected MCP client.
pub type Client = RunningService<RoleClient, ()>;

impl Served {
    /// Starts a server over `home` (a second `Host` on the same directory,
    /// as a separate service process would have) on a free port.
    pub async fn start(home: &Path, config: ServeConfig) -> anyhow::Result<Served> {
        Served::start_on(home, config, crate::shared_runtime()).await
    }

    /// Starts a server with a runtime of its own (pool size, slot wait).
    pub async fn start_on(
        home: &Path,
        mut config: ServeConfig,
        runtime: Arc<healthplug_host::runtime::Runtime>,
    ) -> anyhow::Result<Served> {
        config.listen = "127.0.0.1:0".parse()?;
        let host = Arc::new(Host::open_with(home, runtime, PlatformPolicy::default())?);
        let state = serve::with_host(host, config).await?;
        let server = serve::start(state.clone(), healthplug_host::web::router(state.clone())).await?;
        Ok(Served {
            base: format!("http://{}", server.addr),
            state,
            server: Some(server),
        })
    }

    /// The aggregate MCP endpoint.
    pub fn mcp(&self) -> String {
        format!("{}/mcp", self.base)
    }

    /// A client of `url` with `token` (none: unauthenticated).
    pub async fn connect(url: &str, token: Option<&str>) -> anyhow::Result<Client> {
        let mut config = StreamableHttpClientTransportConfig::with_uri(url.to_string());
        if let Some(token) = token {
            config = config.auth_header(token.to_string());
        }
        let transport = StreamableHttpClientTransport::with_client(reqwest::Client::new(), config);
        Ok(().serve(transport).await?)
    }

    /// A client of the aggregate endpoint.
    pub async fn client(&self, token: &str) -> anyhow::Result<Client> {
        Served::connect(&self.mcp(), Some(token)).await
    }

    /// The `/metrics` exposition.
    pub async fn metrics(&self) -> anyhow::Result<String> {
        Ok(reqwest::get(format!("{}/metrics", self.base)).await?.text().await?)
    }

    /// Stops the server and waits for it.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(server) = self.server.take() {
            server.shutdown();
            server.stopped().await?;
        }
        Ok(())
    }

    /// Posts one JSON-RPC message with raw headers; returns the status,
    /// the headers and the body.
    pub async fn post(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: &Value,
    ) -> anyhow::Result<(u16, reqwest::header::HeaderMap, String)> {
        let mut request = reqwest::Client::new()
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body.to_string());
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("mcp-protocol-version"))
        {
            request = request.header("mcp-protocol-version", "2025-11-25");
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        Ok((status, headers, response.text().await?))
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            server.shutdown();
        }
    }
}

/// Calls `name` with `args`.
pub async fn call(client: &Client, name: &str, args: Value) -> anyhow::Result<CallToolResult> {
    let mut params = CallToolRequestParams::new(name.to_string());
    if let Value::Object(map) = args {
        params = params.with_arguments(map);
    }
    Ok(client.call_tool(params).await?)
}

/// The text blocks of a result, joined by newlines.
pub fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A `tools/call` JSON-RPC request body.
pub fn call_body(name: &str, args: Value) -> Value {
    serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": args}})
}

/// A `tools/list` JSON-RPC request body.
pub fn list_body() -> Value {
    serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
}

/// The `healthplug` binary cargo built beside this test binary.
pub fn healthplug_bin() -> anyhow::Result<std::path::PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| anyhow::anyhow!("no target directory above {}", exe.display()))?;
    let bin = dir.join(format!("healthplug{}", std::env::consts::EXE_SUFFIX));
    anyhow::ensure!(bin.exists(), "{} was not built", bin.display());
    Ok(bin)
}

/// A free loopback port (bound and released: good enough for a test).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
