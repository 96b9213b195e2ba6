//! The service's overhead at one client, taken apart (the same call
//! four ways in alternating rounds), and the timing helpers it uses.

use super::*;

/// The same call of user 0 four ways, in alternating rounds: on this
/// thread; on the server runtime's blocking pool; through the service's
/// own steps without HTTP (the token check, then the preflight and the
/// invoke, each on the blocking pool, from a worker); over HTTP. Fifth, an MCP
/// `ping` over HTTP: the door (token check) and rmcp without a tool.
pub(super) fn overhead_steps(world: &World, service: &Service, target: &Target) -> anyhow::Result<Vec<Stats>> {
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
pub(super) fn micros(runs: usize, mut f: impl FnMut()) -> Stats {
    measure(runs / 10, runs, &mut f)
}

/// The time of an fdatasync of a small append in `dir` (as the audit
/// anchor does on every audited write).
pub(super) fn fdatasync_in(dir: &Path) -> anyhow::Result<Stats> {
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
