//! B11's load: HTTP clients on the generator's runtime, the same tool
//! through `Host::invoke` from threads or through one hop to a server
//! runtime's blocking pool, and a trivial handler for the floor.

use super::*;

/// What one run measured.
pub(super) struct Run {
    pub(super) calls_per_s: f64,
    pub(super) latency: Stats,
    pub(super) errors: u64,
    /// Share of the 2 cores (0..=1) used by the threads named `b11-client`
    /// and `b11-server` (direct runs: `b11-direct`) in the window.
    pub(super) client_cpu: f64,
    pub(super) server_cpu: f64,
}

/// Who a client calls as.
#[derive(Clone)]
pub(super) struct Target {
    pub(super) addr: SocketAddr,
    pub(super) authorization: Option<String>,
    pub(super) body: Bytes,
    pub(super) needle: Vec<u8>,
}

/// One client: a keep-alive HTTP/1.1 connection posting the call again
/// and again until `stop`; latencies of the calls started in the window.
pub(super) async fn client(target: Target, window: Instant, stop: Instant) -> anyhow::Result<(Vec<f64>, u64)> {
    let stream = tokio::net::TcpStream::connect(target.addr).await?;
    stream.set_nodelay(true)?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let host = target.addr.to_string();
    let mut latencies = Vec::with_capacity(16_384);
    let mut errors = 0;
    loop {
        let t = Instant::now();
        if t >= stop {
            break;
        }
        let mut request = Request::post("/mcp")
            .header("host", &host)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-11-25");
        if let Some(auth) = &target.authorization {
            request = request.header("authorization", auth);
        }
        let request = request.body(Full::new(target.body.clone()))?;
        sender.ready().await?;
        let response = sender.send_request(request).await?;
        let ok = response.status() == 200;
        let bytes = response.into_body().collect().await?.to_bytes();
        let elapsed = t.elapsed();
        if t >= window {
            if ok && contains(&bytes, &target.needle) {
                latencies.push(elapsed.as_nanos() as f64);
            } else {
                errors += 1;
            }
        }
    }
    Ok((latencies, errors))
}

pub(super) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// Runs `clients` clients against `targets` (client `i` uses target
/// `i % len`) on the generator's own runtime.
pub(super) fn load(targets: &[Target], clients: usize) -> anyhow::Result<Run> {
    load_for(targets, clients, WINDOW)
}

pub(super) fn load_for(targets: &[Target], clients: usize, window_len: Duration) -> anyhow::Result<Run> {
    let generator = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(CLIENT_THREADS)
        .thread_name("b11-client")
        .enable_all()
        .build()?;
    let window = Instant::now() + WARMUP;
    let stop = window + window_len;
    let handles: Vec<_> = (0..clients)
        .map(|i| {
            let target = targets[i % targets.len()].clone();
            generator.spawn(client(target, window, stop))
        })
        .collect();
    std::thread::sleep(window.saturating_duration_since(Instant::now()));
    let (c0, s0) = (thread_cpu("b11-client"), thread_cpu("b11-server"));
    std::thread::sleep(stop.saturating_duration_since(Instant::now()));
    let (c1, s1) = (thread_cpu("b11-client"), thread_cpu("b11-server"));
    let mut all = Vec::new();
    let mut errors = 0;
    generator.block_on(async {
        for handle in handles {
            let (latencies, errs) = handle.await??;
            all.extend(latencies);
            errors += errs;
        }
        Ok::<_, anyhow::Error>(())
    })?;
    generator.shutdown_timeout(Duration::from_secs(5));
    let cores = std::thread::available_parallelism().map_or(2, usize::from) as f64;
    let share = |cpu: f64| cpu / (window_len.as_secs_f64() * cores);
    Ok(Run {
        calls_per_s: all.len() as f64 / window_len.as_secs_f64(),
        latency: stats(&mut all),
        errors,
        client_cpu: share(c1 - c0),
        server_cpu: share(s1 - s0),
    })
}

/// The same tool through `Host::invoke` from `threads` threads.
pub(super) fn direct(world: &World, threads: usize) -> anyhow::Result<Run> {
    direct_for(world, threads, WINDOW, "sum")
}

pub(super) fn direct_for(
    world: &World,
    threads: usize,
    window_len: Duration,
    tool: &'static str,
) -> anyhow::Result<Run> {
    let window = Instant::now() + WARMUP;
    let stop = window + window_len;
    // Workers run until told (after the CPU they used is read), so none
    // has exited, taking its CPU time along, when it is read.
    let done = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..threads)
        .map(|i| {
            let host = world.host.clone();
            let user = &world.users[i % world.users.len()];
            let (handle, done) = (user.handle.clone(), done.clone());
            let needle = if tool == "sum" { user.needle.clone() } else { Vec::new() };
            std::thread::Builder::new().name("b11-direct".into()).spawn(move || {
                let mut latencies = Vec::with_capacity(16_384);
                let mut errors = 0u64;
                while !done.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let outcome = host.invoke(&handle, "bench-sum", tool, "{}");
                    let elapsed = t.elapsed();
                    if t >= window && t < stop {
                        let ok = outcome
                            .ok()
                            .and_then(|o| o.result.ok())
                            .is_some_and(|text| contains(text.as_bytes(), &needle));
                        if ok {
                            latencies.push(elapsed.as_nanos() as f64);
                        } else {
                            errors += 1;
                        }
                    }
                }
                (latencies, errors)
            })
        })
        .collect::<Result<_, _>>()?;
    std::thread::sleep(window.saturating_duration_since(Instant::now()));
    let d0 = thread_cpu("b11-direct");
    std::thread::sleep(stop.saturating_duration_since(Instant::now()));
    let d1 = thread_cpu("b11-direct");
    done.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    let mut errors = 0;
    for w in workers {
        let (latencies, errs) = w.join().map_err(|_| anyhow::anyhow!("a direct worker panicked"))?;
        all.extend(latencies);
        errors += errs;
    }
    let cores = std::thread::available_parallelism().map_or(2, usize::from) as f64;
    Ok(Run {
        calls_per_s: all.len() as f64 / window_len.as_secs_f64(),
        latency: stats(&mut all),
        errors,
        client_cpu: 0.0,
        server_cpu: (d1 - d0) / (window_len.as_secs_f64() * cores),
    })
}

/// A server runtime like `healthplug serve`'s on this machine.
pub(super) fn server_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(SERVER_THREADS)
        .thread_name("b11-server")
        .enable_all()
        .build()?)
}

/// A trivial axum handler answering every POST to `/mcp` with `body`, on
/// a runtime like the server's: loopback HTTP and the generator alone.
pub(super) fn trivial_server(rt: &tokio::runtime::Runtime, body: Bytes) -> anyhow::Result<SocketAddr> {
    rt.block_on(async move {
        let app = axum::Router::new().route(
            "/mcp",
            axum::routing::post(move || {
                let body = body.clone();
                async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], body) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(addr)
    })
}

/// `Host::invoke` one call at a time on a server-like runtime's blocking
/// pool, from one of its workers (as the service runs it).
pub(super) fn hop_for(world: &World, window_len: Duration) -> anyhow::Result<Run> {
    let rt = server_runtime()?;
    let user = &world.users[0];
    let start = Instant::now();
    let window = start + WARMUP;
    let stop = window + window_len;
    let mut all = Vec::new();
    let mut errors = 0;
    let (s0, s1) = (std::cell::Cell::new(0.0), std::cell::Cell::new(0.0));
    loop {
        let t = Instant::now();
        if t >= stop {
            break;
        }
        if t >= window && s0.get() == 0.0 {
            s0.set(thread_cpu("b11-server"));
        }
        let (host, handle) = (world.host.clone(), user.handle.clone());
        let ok = rt
            .block_on(rt.spawn(async move {
                tokio::task::spawn_blocking(move || host.invoke(&handle, "bench-sum", "sum", "{}")).await
            }))
            .is_ok_and(|r| {
                r.is_ok_and(|o| o.is_ok_and(|o| o.result.is_ok_and(|t| contains(t.as_bytes(), &user.needle))))
            });
        if t >= window {
            if ok {
                all.push(t.elapsed().as_nanos() as f64);
            } else {
                errors += 1;
            }
        }
    }
    s1.set(thread_cpu("b11-server"));
    Ok(Run {
        calls_per_s: all.len() as f64 / window_len.as_secs_f64(),
        latency: stats(&mut all),
        errors,
        client_cpu: 0.0,
        server_cpu: (s1.get() - s0.get()) / (window_len.as_secs_f64() * 2.0),
    })
}
