//! B11's home: bench-sum installed, 64 users each with a grant, ten
//! step samples of its own value and a token; the door limits of the
//! bench; the CPU time of this process's threads by name.

use super::*;

/// One user of the bench home.
pub(super) struct User {
    pub(super) handle: String,
    pub(super) token: String,
    /// `"sum":<value>` as the response must carry it.
    pub(super) needle: Vec<u8>,
}

/// The bench home: bench-sum installed, 64 users with grants, samples and
/// tokens, and the `Host` the server and the direct invocations share.
pub(super) struct World {
    pub(super) _dir: tempfile::TempDir,
    pub(super) host: Arc<Host>,
    pub(super) users: Vec<User>,
}

impl World {
    /// A home in a new directory under `parent` (the system's temporary
    /// directory when `None`).
    pub(super) fn new(runtime: &Arc<Runtime>, parent: Option<&Path>) -> anyhow::Result<World> {
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
    pub(super) fn path(&self) -> &Path {
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
pub(super) fn thread_cpu(prefix: &str) -> f64 {
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
