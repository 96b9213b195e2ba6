//! B11's service: `healthplug serve` over the bench home on its own
//! runtime, one keep-alive connection driven call by call, and the first
//! call checked in full.

use super::*;

/// The service running over `world` on its own runtime.
pub(super) struct Service {
    pub(super) rt: tokio::runtime::Runtime,
    pub(super) server: serve::Server,
}

impl Service {
    pub(super) fn start(world: &World) -> anyhow::Result<Service> {
        let rt = server_runtime()?;
        let server = rt.block_on(async {
            let state = serve::with_host(world.host.clone(), bench_config()).await?;
            serve::start(state.clone(), healthplug_host::web::router(state)).await
        })?;
        Ok(Service { rt, server })
    }

    /// One target per user, calling `tool`.
    pub(super) fn targets(&self, world: &World, tool: &str) -> Vec<Target> {
        let body = call_body(tool);
        world
            .users
            .iter()
            .map(|u| Target {
                addr: self.server.addr,
                authorization: Some(format!("Bearer {}", u.token)),
                body: body.clone(),
                needle: if tool == TOOL {
                    u.needle.clone()
                } else {
                    b"\"isError\":false".to_vec()
                },
            })
            .collect()
    }

    pub(super) fn stop(self) -> anyhow::Result<()> {
        let Service { rt, server } = self;
        rt.block_on(async {
            server.shutdown();
            server.stopped().await
        })?;
        Ok(())
    }
}

/// One keep-alive connection driven call by call from this thread (its
/// own current-thread runtime).
pub(super) struct Connection {
    pub(super) rt: tokio::runtime::Runtime,
    pub(super) sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    pub(super) target: Target,
}

impl Connection {
    pub(super) fn open(target: &Target) -> anyhow::Result<Connection> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let sender = rt.block_on(async {
            let stream = tokio::net::TcpStream::connect(target.addr).await?;
            stream.set_nodelay(true)?;
            let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(connection);
            Ok::<_, anyhow::Error>(sender)
        })?;
        Ok(Connection {
            rt,
            sender,
            target: target.clone(),
        })
    }

    /// One call; its status and body.
    pub(super) fn call(&mut self) -> anyhow::Result<(u16, Bytes)> {
        let target = &self.target;
        let mut request = Request::post("/mcp")
            .header("host", target.addr.to_string())
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-11-25");
        if let Some(auth) = &target.authorization {
            request = request.header("authorization", auth);
        }
        let request = request.body(Full::new(target.body.clone()))?;
        let sender = &mut self.sender;
        self.rt.block_on(async {
            sender.ready().await?;
            let response = sender.send_request(request).await?;
            let status = response.status().as_u16();
            let bytes = response.into_body().collect().await?.to_bytes();
            Ok((status, bytes))
        })
    }

    /// One call that must succeed with the target's result.
    pub(super) fn checked(&mut self) -> bool {
        matches!(self.call(), Ok((200, body)) if contains(&body, &self.target.needle))
    }
}

/// One call checked in full; returns the response body.
pub(super) fn first_call(target: &Target) -> anyhow::Result<Bytes> {
    let (status, bytes) = Connection::open(target)?.call()?;
    anyhow::ensure!(
        status == 200,
        "tools/call: {status} {}",
        String::from_utf8_lossy(&bytes)
    );
    let v: Value = serde_json::from_slice(&bytes)?;
    let result = &v["result"];
    anyhow::ensure!(
        result["isError"] == json!(false)
            && result["structuredContent"]["count"] == json!(SAMPLES)
            && contains(&bytes, &target.needle),
        "unexpected result: {v}"
    );
    Ok(bytes)
}
