//! Crash safety: the host process is killed with SIGKILL in the middle of
//! an import and of an invocation that writes. After restart the vault
//! opens, no sample of the interrupted run exists (staged batches of the
//! dead process are purged), and the audit chain verifies.
//!
//! The host process is this test binary itself, re-run as a child with
//! `HEALTHPLUG_CRASH_CHILD` set: it opens the home and starts the work; the
//! parent kills it once batches are staged.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use healthplug_host::Host;
use healthplug_host::consent::PlatformPolicy;
use healthplug_host::platform::InstallOptions;
use healthplug_host::vault::NewSample;
use healthplug_tests::{
    DAY_MS, example_dir, fixture_dir, grant_writes, now_ms, shared_runtime, ty, types_of, write_apple_export,
};
use serde_json::json;

const CHILD: &str = "HEALTHPLUG_CRASH_CHILD";
const HOME: &str = "HEALTHPLUG_CRASH_HOME";
const BEFORE: f64 = 777.0;

fn open(home: &Path) -> anyhow::Result<Host> {
    Ok(Host::open_with(home, shared_runtime(), PlatformPolicy::default())?)
}

/// The child's side: starts the work the parent will interrupt.
#[test]
#[ignore = "run as a child process by the crash tests"]
fn crash_child() -> anyhow::Result<()> {
    let (Ok(mode), Ok(home)) = (std::env::var(CHILD), std::env::var(HOME)) else {
        return Ok(());
    };
    let home = PathBuf::from(home);
    let host = open(&home)?;
    match mode.as_str() {
        "import" => {
            host.import("alice", "apple-health", &home.join("export.xml"), &json!({}))?;
        }
        _ => {
            host.invoke("alice", "hostile-write-then-spin", "attack", "{}")?;
        }
    }
    // Reaching here means the parent was too slow to kill us; it notices.
    println!("CHILD FINISHED");
    Ok(())
}

fn spawn(mode: &str, home: &Path) -> anyhow::Result<Child> {
    Ok(Command::new(std::env::current_exe()?)
        .args([
            "--exact",
            "crash::crash_child",
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD, mode)
        .env(HOME, home)
        .stdout(std::process::Stdio::null())
        .spawn()?)
}

fn staged(home: &Path) -> u64 {
    rusqlite::Connection::open(home.join("vault.db"))
        .and_then(|c| c.query_row("SELECT COUNT(*) FROM staged_chunks", [], |r| r.get::<_, i64>(0)))
        .map(|n| u64::try_from(n).unwrap_or(0))
        .unwrap_or(0)
}

/// Runs `mode` in a child, kills it once it has staged writes, and checks
/// the vault after restart.
fn killed_mid_write(mode: &str, home: &Path) -> anyhow::Result<()> {
    let mut child = spawn(mode, home)?;
    let started = Instant::now();
    while staged(home) == 0 {
        if let Some(status) = child.try_wait()? {
            anyhow::bail!("the child ended ({status}) before staging anything");
        }
        anyhow::ensure!(started.elapsed() < Duration::from_secs(120), "nothing was staged");
        std::thread::sleep(Duration::from_millis(10));
    }
    // Let it get properly into the middle of the work.
    std::thread::sleep(Duration::from_millis(150));
    child.kill()?;
    let status = child.wait()?;
    assert!(!status.success(), "the child finished before the kill");
    let staged_at_kill = staged(home);
    assert!(staged_at_kill > 0);

    // Restart: the vault opens, the dead process's batches are gone, only
    // the sample stored before remains, and the audit chain verifies.
    let host = open(home)?;
    assert_eq!(
        staged(home),
        0,
        "staged batches of the killed process survived the restart"
    );
    let steps: Vec<f64> = host
        .records("alice", &types_of("steps"))?
        .iter()
        .filter_map(|r| r.value)
        .collect();
    assert_eq!(steps, vec![BEFORE], "a sample of the interrupted run is visible");
    let report = host.verify_audit()?;
    assert!(report.ok(), "{report:?}");
    println!("| kill -9 during {mode} | {staged_at_kill} staged chunks discarded on restart; audit verifies |");
    Ok(())
}

fn home_with_steps() -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new().prefix("healthplug-crash-").tempdir()?;
    let host = open(dir.path())?;
    let t = now_ms() - 3 * DAY_MS;
    host.store_samples("alice", "test", &[NewSample::quantity(ty("steps"), t, t, BEFORE)])?;
    Ok(dir)
}

#[test]
fn killing_the_host_mid_import_leaves_no_partial_batch() -> anyhow::Result<()> {
    let dir = home_with_steps()?;
    {
        let host = open(dir.path())?;
        host.install(&example_dir("apple-health"), InstallOptions::dev())?;
        grant_writes(&host, "alice", "apple-health", "steps,heart-rate,workout")?;
        let mut file = std::io::BufWriter::new(std::fs::File::create(dir.path().join("export.xml"))?);
        write_apple_export(&mut file, 300_000)?;
    }
    killed_mid_write("import", dir.path())
}

#[test]
fn killing_the_host_mid_invocation_leaves_no_partial_batch() -> anyhow::Result<()> {
    let dir = home_with_steps()?;
    {
        let host = open(dir.path())?;
        host.install(&fixture_dir("hostile/write-then-spin"), InstallOptions::dev())?;
        grant_writes(&host, "alice", "hostile-write-then-spin", "steps")?;
    }
    killed_mid_write("invoke", dir.path())
}
