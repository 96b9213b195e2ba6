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

mod drive;
mod overhead;
mod service;
mod world;

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

use drive::*;
use overhead::*;
use service::*;
use world::*;

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
    let mcp_runs = scaling(report, &world, &targets)?;
    let sync = fdatasync_in(world.path())?;
    service.stop()?;
    let service = Service::start(&world)?;
    let noop = load(&service.targets(&world, "bench-sum.noop"), 64)?;
    service.stop()?;
    drop(world);
    let floor_runs = trivial_floor(report, &targets[0], sample_body)?;
    bounds(report, &sync, &noop, &mcp_runs);
    on_tmpfs(report, &runtime, &floor_runs)
}

/// At each concurrency, the same tool through the library (the server
/// idles meanwhile), then over HTTP: side by side, so the disk's sync
/// latency, which moves from minute to minute, drifts least between them.
fn scaling(report: &mut Report, world: &World, targets: &[Target]) -> anyhow::Result<Vec<Run>> {
    let mut mcp_runs = Vec::new();
    for clients in CLIENTS {
        let run = direct(world, clients)?;
        anyhow::ensure!(run.errors == 0, "{} direct invocations failed", run.errors);
        let what = if clients == 1 {
            "Host::invoke of the same tool, sequential".to_string()
        } else {
            format!("Host::invoke of the same tool, {clients} threads")
        };
        report.add("B11", &what, run.calls_per_s, "calls/s", direct_note(&run));
        let run = load(targets, clients)?;
        report_mcp_run(report, clients, &run);
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
    Ok(mcp_runs)
}

/// The note of a run through `Host::invoke`.
fn direct_note(run: &Run) -> String {
    format!(
        "p50 {:.2} ms, p99 {:.2} ms; CPU {} of 2 cores",
        ms(run.latency.p50_ns),
        ms(run.latency.p99_ns),
        pct(run.server_cpu)
    )
}

/// The three rows of an MCP run (rate, p50, p99), with the targets at 64.
fn report_mcp_run(report: &mut Report, clients: usize, run: &Run) {
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
}

/// The generator against a trivial handler: loopback HTTP alone.
fn trivial_floor(report: &mut Report, like: &Target, sample_body: Bytes) -> anyhow::Result<Vec<Run>> {
    let trivial_rt = server_runtime()?;
    let trivial = trivial_server(&trivial_rt, sample_body)?;
    let trivial_target = [Target {
        addr: trivial,
        ..like.clone()
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
    Ok(floor_runs)
}

/// What bounds the throughput: the disk's sync, and a tool with one
/// audited write instead of two.
fn bounds(report: &mut Report, sync: &Stats, noop: &Run, mcp_runs: &[Run]) {
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
            run_note(noop),
            noop.calls_per_s / mcp_runs[2].calls_per_s
        ),
    );
}

/// On tmpfs: the disk out of the picture (fdatasync ≈ free), for what
/// bounds the rest and for the service's own overhead, which the disk's
/// moving sync latency would swamp.
fn on_tmpfs(report: &mut Report, runtime: &Arc<Runtime>, floor_runs: &[Run]) -> anyhow::Result<()> {
    let shm = Path::new("/dev/shm");
    let world = World::new(runtime, shm.is_dir().then_some(shm))?;
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
        direct_note(&run),
    );
    // The service's overhead at 1 client, taken apart: the same call of
    // the same user four ways, in alternating rounds.
    let steps = overhead_steps(&world, &service, &targets[0])?;
    let (auth, preflight) = service_steps(&world)?;
    service.stop()?;
    report_overhead(report, where_, &steps, floor_runs, &auth, &preflight);
    Ok(())
}

/// What the service adds per call, each measured alone: the door's token
/// check and the preflight.
fn service_steps(world: &World) -> anyhow::Result<(Stats, Stats)> {
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
    Ok((auth, preflight))
}

/// The overhead rows: each step's p50, the total, and what it is made of.
fn report_overhead(
    report: &mut Report,
    where_: &str,
    steps: &[Stats],
    floor_runs: &[Run],
    auth: &Stats,
    preflight: &Stats,
) {
    let overhead_us = (steps[3].p50_ns - steps[0].p50_ns) / 1e3;
    let labels = [
        "1 client: Host::invoke on the caller's thread",
        "1 client: Host::invoke on the server's blocking pool (one hop)",
        "1 client: the service's steps without HTTP (token; preflight + invoke: 2 hops)",
        "1 client: MCP tools/call over loopback HTTP",
        "1 client: MCP ping over loopback HTTP (the door and rmcp, no tool)",
    ];
    for (label, step) in labels.iter().zip(steps) {
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
    for (label, value) in [
        (
            "  of which loopback HTTP + generator (trivial handler, 1 client)",
            floor_runs[0].latency.p50_ns,
        ),
        (
            "  of which the door's token check alone (Host::authenticate_token)",
            auth.p50_ns,
        ),
        (
            "  of which the preflight alone (enabled_plugins + catalog entry)",
            preflight.p50_ns,
        ),
    ] {
        report.add("B11", label, value / 1e3, "µs p50", "");
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
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
