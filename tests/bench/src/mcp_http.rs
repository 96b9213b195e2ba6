//! B11: MCP `tools/call` over loopback HTTP (`healthplug serve`, started
//! in this process) with 1, 16, 64 and 256 concurrent clients on this
//! 2-core machine, side by side with the same tool invoked through the
//! library (`Host::invoke`) and with the same load generator against a
//! trivial HTTP handler (what loopback HTTP and the generator cost alone).
//!
//! The tool is `bench-sum`'s `sum` over 10 step samples of the caller's
//! user: cheap, deterministic, and a real read (consent check, vault
//! query, decryption, delivery), with an exact result per user that the
//! generator checks on every call. 64 users, each with its own grant, ten
//! samples of its own value and its own opaque token; client `i` acts for
//! user `i % 64`, so at 256 clients each user has 4 calls in flight, the
//! default per-user cap.
//!
//! Threads: the server runs on its own tokio runtime (2 workers, as
//! `healthplug serve` has on 2 cores, plus its blocking pool); the load
//! generator on another (1 worker): each client is one keep-alive
//! HTTP/1.1 connection (hyper) posting one call at a time. Both share the
//! 2 cores, so the CPU each used is read from `/proc` and printed.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use healthplug_host::Host;
use healthplug_host::auth::Scopes;
use healthplug_host::consent::PlatformPolicy;
use healthplug_host::platform::{GrantRequest, InstallOptions};
use healthplug_host::runtime::{Runtime, RuntimeConfig};
use healthplug_host::serve::{self, DoorLimits, ServeConfig};
use healthplug_host::vault::NewSample;
use healthplug_tests::{DAY_MS, fixture_dir, now_ms, ty, types_of};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

use crate::measure::{Report, Stats, measure, measure_rounds, stats};

/// Users (each with a grant, samples and a token).
const USERS: usize = 64;
/// Step samples per user.
const SAMPLES: usize = 10;
/// Concurrent clients.
const CLIENTS: [usize; 4] = [1, 16, 64, 256];
/// Calls before the measured window.
const WARMUP: Duration = Duration::from_millis(1_000);
/// The measured window.
const WINDOW: Duration = Duration::from_secs(4);
/// Worker threads of the server's runtime (tokio's default on 2 cores).
const SERVER_THREADS: usize = 2;
/// Worker threads of the load generator's runtime.
const CLIENT_THREADS: usize = 1;
/// The tool called.
const TOOL: &str = "bench-sum.sum";

/// One user of the bench home.
struct User {
    handle: String,
    token: String,
    /// `"sum":<value>` as the response must carry it.
    needle: Vec<u8>,
}

/// The bench home: bench-sum installed, 64 users with grants, samples and
/// tokens, and the `Host` the server and the direct invocations share.
struct World {
    _dir: tempfile::TempDir,
    host: Arc<Host>,
    users: Vec<User>,
}

impl World {
    /// A home in a new directory under `parent` (the system's temporary
    /// directory when `None`).
    fn new(runtime: &Arc<Runtime>, parent: Option<&Path>) -> anyhow::Result<World> {
        let mut builder = tempfile::Builder::new();
        builder.prefix("healthplug-b11-");
        let dir = match parent {
            Some(parent) => builder.tempdir_in(parent)?,
            None => builder.tempdir()?,
        };
        // One host for the server and the direct invocations, as one
        // service process has (plugins loaded once, one connection pool).
        let host = Arc::new(Host::open_with(dir.path(), runtime.clone(), PlatformPolicy::default())?);
        host.install(&fixture_dir("bench-sum"), InstallOptions::dev())?;
        let start = now_ms() - DAY_MS;
        let mut users = Vec::with_capacity(USERS);
        for u in 0..USERS {
            let handle = format!("user{u:02}");
            host.ensure_user(&handle)?;
            let grant = GrantRequest {
                types: types_of("steps"),
                ..GrantRequest::default()
            };
            host.grant(&handle, "bench-sum", &grant)?;
            let value = (100 + u) as f64;
            let samples: Vec<NewSample> = (0..SAMPLES as i64)
                .map(|i| NewSample::quantity(ty("steps"), start + i * 60_000, start + i * 60_000 + 1_000, value))
                .collect();
            host.store_samples(&handle, "bench", &samples)?;
            let (_, token) = host.create_token(
                &handle,
                Some(Duration::from_secs(24 * 3600)),
                &Scopes::all(),
                Some("bench B11"),
            )?;
            let needle = format!("\"sum\":{}", serde_json::to_string(&(value * SAMPLES as f64))?).into_bytes();
            users.push(User { handle, token, needle });
        }
        Ok(World { _dir: dir, host, users })
    }

    /// The home directory.
    fn path(&self) -> &Path {
        self._dir.path()
    }
}

/// The door limits of the bench: wide enough that the gate never turns a
/// call away or makes it wait (the per-user cap stays at its default of 4,
/// which 256 clients over 64 users just reach).
pub fn bench_config() -> ServeConfig {
    ServeConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        limits: DoorLimits {
            per_user_calls: 4,
            per_plugin_calls: 1024,
            total_calls: 1024,
            queue_wait_ms: 60_000,
            ..DoorLimits::default()
        },
        ..ServeConfig::default()
    }
}

/// CPU seconds (user + system) used so far by this process's threads
/// whose name starts with `prefix`.
fn thread_cpu(prefix: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return f64::NAN;
    };
    let mut ticks = 0u64;
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ...`: comm may hold spaces, so split at the
        // last parenthesis; utime and stime are fields 14 and 15.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        if !stat[open + 1..close].starts_with(prefix) {
            continue;
        }
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        // After the comm: state is field 3, so utime (14) is index 11.
        for i in [11, 12] {
            ticks += fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
        }
    }
    // USER_HZ is 100 on Linux.
    ticks as f64 / 100.0
}

/// What one run measured.
struct Run {
    calls_per_s: f64,
    latency: Stats,
    errors: u64,
    /// Share of the 2 cores (0..=1) used by the threads named `b11-client`
    /// and `b11-server` (direct runs: `b11-direct`) in the window.
    client_cpu: f64,
    server_cpu: f64,
}

/// Who a client calls as.
#[derive(Clone)]
struct Target {
    addr: SocketAddr,
    authorization: Option<String>,
    body: Bytes,
    needle: Vec<u8>,
}

/// One client: a keep-alive HTTP/1.1 connection posting the call again
/// and again until `stop`; latencies of the calls started in the window.
async fn client(target: Target, window: Instant, stop: Instant) -> anyhow::Result<(Vec<f64>, u64)> {
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

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// Runs `clients` clients against `targets` (client `i` uses target
/// `i % len`) on the generator's own runtime.
fn load(targets: &[Target], clients: usize) -> anyhow::Result<Run> {
    load_for(targets, clients, WINDOW)
}

fn load_for(targets: &[Target], clients: usize, window_len: Duration) -> anyhow::Result<Run> {
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
fn direct(world: &World, threads: usize) -> anyhow::Result<Run> {
    direct_for(world, threads, WINDOW, "sum")
}

fn direct_for(world: &World, threads: usize, window_len: Duration, tool: &'static str) -> anyhow::Result<Run> {
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
fn server_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(SERVER_THREADS)
        .thread_name("b11-server")
        .enable_all()
        .build()?)
}

/// A trivial axum handler answering every POST to `/mcp` with `body`, on
/// a runtime like the server's: loopback HTTP and the generator alone.
fn trivial_server(rt: &tokio::runtime::Runtime, body: Bytes) -> anyhow::Result<SocketAddr> {
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

fn ms(ns: f64) -> f64 {
    ns / 1e6
}

fn pct(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

/// A `tools/call` request body.
fn call_body(tool: &str) -> Bytes {
    Bytes::from(
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": {}}})
            .to_string(),
    )
}

/// The service running over `world` on its own runtime.
struct Service {
    rt: tokio::runtime::Runtime,
    server: serve::Server,
}

impl Service {
    fn start(world: &World) -> anyhow::Result<Service> {
        let rt = server_runtime()?;
        let server = rt.block_on(async {
            let state = serve::with_host(world.host.clone(), bench_config()).await?;
            serve::start(state).await
        })?;
        Ok(Service { rt, server })
    }

    /// One target per user, calling `tool`.
    fn targets(&self, world: &World, tool: &str) -> Vec<Target> {
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

    fn stop(self) -> anyhow::Result<()> {
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
struct Connection {
    rt: tokio::runtime::Runtime,
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    target: Target,
}

impl Connection {
    fn open(target: &Target) -> anyhow::Result<Connection> {
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
    fn call(&mut self) -> anyhow::Result<(u16, Bytes)> {
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
    fn checked(&mut self) -> bool {
        matches!(self.call(), Ok((200, body)) if contains(&body, &self.target.needle))
    }
}

/// One call checked in full; returns the response body.
fn first_call(target: &Target) -> anyhow::Result<Bytes> {
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

/// The same call of user 0 four ways, in alternating rounds: on this
/// thread; on the server runtime's blocking pool; through the service's
/// own steps without HTTP (the token check, then the preflight and the
/// invoke, each on the blocking pool, from a worker); over HTTP. Fifth, an MCP
/// `ping` over HTTP: the door (token check) and rmcp without a tool.
fn overhead_steps(world: &World, service: &Service, target: &Target) -> anyhow::Result<Vec<Stats>> {
    let user = &world.users[0];
    let caller = world.host.user(&user.handle)?;
    let catalog = Arc::new(serve::catalog::Catalog::default());
    let check = |outcome: Result<healthplug_host::platform::InvokeOutcome, healthplug_host::HostError>| {
        outcome
            .ok()
            .and_then(|o| o.result.ok())
            .is_some_and(|t| contains(t.as_bytes(), &user.needle))
    };
    let invoke = {
        let (host, handle) = (world.host.clone(), user.handle.clone());
        move || host.invoke(&handle, "bench-sum", "sum", "{}")
    };
    let mut failures = [0u32; 5];
    let [f0, f1, f2, f3, f4] = &mut failures;
    let mut connection = Connection::open(target)?;
    let mut ping = Connection::open(&Target {
        body: Bytes::from(json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}).to_string()),
        needle: b"\"result\":{}".to_vec(),
        ..target.clone()
    })?;
    let rt = &service.rt;
    let stats = measure_rounds(
        50,
        10,
        150,
        &mut [
            &mut || *f0 += u32::from(!check(invoke())),
            &mut || {
                let invoke = invoke.clone();
                let ok = rt
                    .block_on(rt.spawn(async move { tokio::task::spawn_blocking(invoke).await }))
                    .is_ok_and(|r| r.is_ok_and(check));
                *f1 += u32::from(!ok);
            },
            &mut || {
                let (host, token, caller, catalog, invoke) = (
                    world.host.clone(),
                    user.token.clone(),
                    caller.clone(),
                    catalog.clone(),
                    invoke.clone(),
                );
                let steps = async move {
                    let h = host.clone();
                    tokio::task::spawn_blocking(move || h.authenticate_token(&token).is_ok())
                        .await
                        .ok()?
                        .then_some(())?;
                    tokio::task::spawn_blocking(move || {
                        let ready = host.enabled_plugins(&caller).is_ok_and(|e| e.contains("bench-sum"))
                            && catalog.plugin(&host, "bench-sum").is_ok();
                        ready.then(invoke)
                    })
                    .await
                    .ok()
                    .flatten()
                };
                let ok = rt.block_on(rt.spawn(steps)).ok().flatten().is_some_and(check);
                *f2 += u32::from(!ok);
            },
            &mut || *f3 += u32::from(!connection.checked()),
            &mut || *f4 += u32::from(!ping.checked()),
        ],
    );
    anyhow::ensure!(
        failures.iter().all(|f| *f == 0),
        "calls failed while measuring the overhead: {failures:?}"
    );
    Ok(stats)
}

/// p50 and p99 of `f` run sequentially, µs.
fn micros(runs: usize, mut f: impl FnMut()) -> Stats {
    measure(runs / 10, runs, &mut f)
}

/// The time of an fdatasync of a small append in `dir` (as the audit
/// anchor does on every audited write).
fn fdatasync_in(dir: &Path) -> anyhow::Result<Stats> {
    use std::io::Write;
    let path = dir.join("b11-fdatasync");
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&path)?;
    let mut failed = None;
    let stats = measure(20, 300, || {
        if let Err(e) = file
            .write_all(b"healthplug bench: one anchor-sized line, 100 bytes or so, appended and synced\n")
            .and_then(|()| file.sync_data())
        {
            failed = Some(e);
        }
    });
    drop(file);
    std::fs::remove_file(&path)?;
    match failed {
        Some(e) => Err(e.into()),
        None => Ok(stats),
    }
}

fn run_note(run: &Run) -> String {
    format!(
        "p50 {:.2} ms, p99 {:.2} ms; CPU: server {}, load generator {} of 2 cores{}",
        ms(run.latency.p50_ns),
        ms(run.latency.p99_ns),
        pct(run.server_cpu),
        pct(run.client_cpu),
        if run.errors > 0 {
            format!("; {} calls failed", run.errors)
        } else {
            String::new()
        }
    )
}

/// B11.
pub fn mcp_http(report: &mut Report) -> anyhow::Result<()> {
    let runtime = Arc::new(Runtime::new(RuntimeConfig::default())?);
    let world = World::new(&runtime, None)?;
    let service = Service::start(&world)?;
    let targets = service.targets(&world, TOOL);
    let sample_body = first_call(&targets[0])?;

    // At each concurrency, the same tool through the library (the server
    // idles meanwhile), then over HTTP: side by side, so the disk's sync
    // latency, which moves from minute to minute, drifts least between them.
    let mut mcp_runs = Vec::new();
    for clients in CLIENTS {
        let run = direct(&world, clients)?;
        anyhow::ensure!(run.errors == 0, "{} direct invocations failed", run.errors);
        let what = if clients == 1 {
            "Host::invoke of the same tool, sequential".to_string()
        } else {
            format!("Host::invoke of the same tool, {clients} threads")
        };
        report.add(
            "B11",
            &what,
            run.calls_per_s,
            "calls/s",
            format!(
                "p50 {:.2} ms, p99 {:.2} ms; CPU {} of 2 cores",
                ms(run.latency.p50_ns),
                ms(run.latency.p99_ns),
                pct(run.server_cpu)
            ),
        );
        let run = load(&targets, clients)?;
        let what = format!("MCP tools/call over loopback HTTP, {clients} client{}", plural(clients));
        let at_64 = |verdict_text: String| if clients == 64 { verdict_text } else { String::new() };
        report.add(
            "B11",
            &what,
            run.calls_per_s,
            "calls/s",
            format!(
                "CPU: server {}, load generator {} of 2 cores{}{}",
                pct(run.server_cpu),
                pct(run.client_cpu),
                if run.errors > 0 {
                    format!("; {} calls failed", run.errors)
                } else {
                    String::new()
                },
                at_64(format!("; target ≥ 5,000: {}", verdict(run.calls_per_s >= 5_000.0)))
            ),
        );
        report.add(
            "B11",
            &what,
            ms(run.latency.p50_ns),
            "ms p50",
            format!("mean {:.2} ms", ms(run.latency.mean_ns)),
        );
        report.add(
            "B11",
            &what,
            ms(run.latency.p99_ns),
            "ms p99",
            at_64(format!("target ≤ 20 ms: {}", verdict(ms(run.latency.p99_ns) <= 20.0))),
        );
        mcp_runs.push(run);
    }
    let rates: Vec<f64> = mcp_runs.iter().map(|r| r.calls_per_s).collect();
    let worst_step = rates.windows(2).map(|w| w[1] / w[0]).fold(f64::INFINITY, f64::min);
    report.add(
        "B11",
        "throughput as clients grow: the worst step (1→16→64→256)",
        worst_step,
        "x",
        format!(
            "{} calls/s; target: not falling (each step ≥ 0.95x): {}",
            rates.iter().map(|r| format!("{r:.0}")).collect::<Vec<_>>().join(" → "),
            verdict(worst_step >= 0.95)
        ),
    );

    let sync = fdatasync_in(world.path())?;
    service.stop()?;
    let service = Service::start(&world)?;
    let noop = load(&service.targets(&world, "bench-sum.noop"), 64)?;
    service.stop()?;
    drop(world);

    // The generator against a trivial handler: loopback HTTP alone.
    let trivial_rt = server_runtime()?;
    let trivial = trivial_server(&trivial_rt, sample_body)?;
    let trivial_target = [Target {
        addr: trivial,
        ..targets[0].clone()
    }];
    let mut floor_runs = Vec::new();
    for clients in CLIENTS {
        let run = load(&trivial_target, clients)?;
        report.add(
            "B11",
            &format!(
                "same generator, trivial axum handler, {clients} client{}",
                plural(clients)
            ),
            run.calls_per_s,
            "calls/s",
            run_note(&run).replace("server", "handler"),
        );
        floor_runs.push(run);
    }
    drop(trivial_rt);

    // What bounds the throughput.
    report.add(
        "B11",
        "fdatasync of a small append in the home (as the audit anchor)",
        sync.p50_ns / 1e3,
        "µs p50",
        format!(
            "p99 {:.0} µs, measured alone after the runs (this disk's sync latency moves 0.1–4 ms from minute to minute); `sum` makes 2 audited writes (access, invocation), each with one fdatasync under the vault's write lock",
            sync.p99_ns / 1e3,
        ),
    );
    report.add(
        "B11",
        "MCP tools/call of bench-sum.noop (1 audited write), 64 clients",
        noop.calls_per_s,
        "calls/s",
        format!(
            "{}; {:.2}x `sum` (2 audited writes)",
            run_note(&noop),
            noop.calls_per_s / mcp_runs[2].calls_per_s
        ),
    );

    // On tmpfs: the disk out of the picture (fdatasync ≈ free), for what
    // bounds the rest and for the service's own overhead, which the disk's
    // moving sync latency would swamp.
    let shm = Path::new("/dev/shm");
    let world = World::new(&runtime, shm.is_dir().then_some(shm))?;
    let where_ = if shm.is_dir() {
        "home on tmpfs"
    } else {
        "home on disk (no /dev/shm)"
    };
    let sync = fdatasync_in(world.path())?;
    let service = Service::start(&world)?;
    let targets = service.targets(&world, TOOL);
    let run = load(&targets, 64)?;
    report.add(
        "B11",
        &format!("{where_}: MCP tools/call, 64 clients"),
        run.calls_per_s,
        "calls/s",
        format!("{}; fdatasync p50 {:.1} µs", run_note(&run), sync.p50_ns / 1e3),
    );
    let run = direct(&world, 64)?;
    report.add(
        "B11",
        &format!("{where_}: Host::invoke, 64 threads"),
        run.calls_per_s,
        "calls/s",
        format!(
            "p50 {:.2} ms, p99 {:.2} ms; CPU {} of 2 cores",
            ms(run.latency.p50_ns),
            ms(run.latency.p99_ns),
            pct(run.server_cpu)
        ),
    );

    // The service's overhead at 1 client, taken apart: the same call of
    // the same user four ways, in alternating rounds.
    let steps = overhead_steps(&world, &service, &targets[0])?;
    let overhead_us = (steps[3].p50_ns - steps[0].p50_ns) / 1e3;
    // What the service adds per call, each measured alone.
    let user = &world.users[0];
    let caller = world.host.user(&user.handle)?;
    let catalog = serve::catalog::Catalog::default();
    let mut bad = 0u32;
    let auth = micros(2_000, || {
        bad += u32::from(world.host.authenticate_token(&user.token).is_err())
    });
    let preflight = micros(2_000, || {
        let ok = world
            .host
            .enabled_plugins(&caller)
            .is_ok_and(|e| e.contains("bench-sum"))
            && catalog.plugin(&world.host, "bench-sum").is_ok();
        bad += u32::from(!ok);
    });
    anyhow::ensure!(bad == 0, "{bad} service steps failed");
    service.stop()?;
    let labels = [
        "1 client: Host::invoke on the caller's thread",
        "1 client: Host::invoke on the server's blocking pool (one hop)",
        "1 client: the service's steps without HTTP (token; preflight + invoke: 2 hops)",
        "1 client: MCP tools/call over loopback HTTP",
        "1 client: MCP ping over loopback HTTP (the door and rmcp, no tool)",
    ];
    for (label, step) in labels.iter().zip(&steps) {
        report.add(
            "B11",
            &format!("{where_}, {label}"),
            step.p50_ns / 1e3,
            "µs p50",
            format!("p99 {:.0} µs; alternating rounds", step.p99_ns / 1e3),
        );
    }
    report.add(
        "B11",
        "service overhead at 1 client: MCP p50 − Host::invoke p50",
        overhead_us,
        "µs",
        format!(
            "one hop to the blocking pool {:.0} µs, token + preflight + 1 more hop {:.0} µs, HTTP + MCP (hyper, rmcp, JSON, door, render) {:.0} µs; target ≤ 100 µs: {}",
            (steps[1].p50_ns - steps[0].p50_ns) / 1e3,
            (steps[2].p50_ns - steps[1].p50_ns) / 1e3,
            (steps[3].p50_ns - steps[2].p50_ns) / 1e3,
            verdict(overhead_us <= 100.0)
        ),
    );
    report.add(
        "B11",
        "  of which loopback HTTP + generator (trivial handler, 1 client)",
        floor_runs[0].latency.p50_ns / 1e3,
        "µs p50",
        "",
    );
    report.add(
        "B11",
        "  of which the door's token check alone (Host::authenticate_token)",
        auth.p50_ns / 1e3,
        "µs p50",
        "",
    );
    report.add(
        "B11",
        "  of which the preflight alone (enabled_plugins + catalog entry)",
        preflight.p50_ns / 1e3,
        "µs p50",
        "",
    );
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `Host::invoke` one call at a time on a server-like runtime's blocking
/// pool, from one of its workers (as the service runs it).
fn hop_for(world: &World, window_len: Duration) -> anyhow::Result<Run> {
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

/// `--serve-load CLIENTS[,SECONDS[,MODE]]`: one B11 run alone, to watch
/// under `perf` (`perf stat -e 'syscalls:sys_enter_*'`, `perf record`):
/// the MCP load with `CLIENTS` clients for `SECONDS` (default 10); prints
/// one JSON line. `MODE` may name, joined by `+`: `direct` (`Host::invoke`
/// from as many threads instead), `noop` (the no-op tool), `tmpfs` (the
/// home in `/dev/shm`).
pub fn serve_load(spec: &str) -> anyhow::Result<()> {
    let mut parts = spec.split(',');
    let clients: usize = parts.next().unwrap_or("1").parse()?;
    let seconds: u64 = parts.next().map_or(Ok(10), str::parse)?;
    let mode = parts.next().unwrap_or("mcp");
    let runtime = Arc::new(Runtime::new(RuntimeConfig::default())?);
    let world = World::new(&runtime, mode.contains("tmpfs").then_some(Path::new("/dev/shm")))?;
    let window = Duration::from_secs(seconds);
    eprintln!(
        "pid {}: {mode} with {clients} clients for {seconds} s after 1 s",
        std::process::id()
    );
    let noop = mode.contains("noop");
    let run = if mode.contains("hop") {
        hop_for(&world, window)?
    } else if mode.contains("direct") {
        direct_for(&world, clients, window, if noop { "noop" } else { "sum" })?
    } else {
        let service = Service::start(&world)?;
        let tool = if noop { "bench-sum.noop" } else { TOOL };
        let run = load_for(&service.targets(&world, tool), clients, window)?;
        service.stop()?;
        run
    };
    println!(
        "{}",
        json!({
            "mode": mode, "clients": clients, "calls_per_s": run.calls_per_s,
            "p50_ms": ms(run.latency.p50_ns), "p99_ms": ms(run.latency.p99_ns), "mean_ms": ms(run.latency.mean_ns),
            "errors": run.errors, "server_cpu": run.server_cpu, "client_cpu": run.client_cpu,
        })
    );
    Ok(())
}
