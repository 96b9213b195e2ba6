//! The consent page's test site, shared by the HTTP-level tests
//! (`tests/all/web`) and the real-browser tests (`tests/browser`): a home
//! with activity-coach and a hostile-purpose `daily-coach` variant, users
//! alice and bob, a `healthplug serve` on it, and sign-in links.

use std::path::{Path, PathBuf};
use std::time::Duration;

use healthplug_host::serve::ServeConfig;

use crate::serve::Served;
use crate::{TestHome, example_dir};

/// The hostile purpose of the `daily-coach` fixture.
pub const HOSTILE_PURPOSE: &str = "Daily step totals <script>alert(1)</script> for your weekly goal";

/// A home with activity-coach (steps, workout, heart rate: value, unit,
/// time; 90 days; raw) and daily-coach (activity-coach's component under
/// a manifest asking steps at daily granularity with a hostile purpose),
/// users alice and bob, and a server on it.
pub struct Site {
    /// The home (its host reads what the pages changed).
    pub home: TestHome,
    /// The server.
    pub served: Served,
    _dir: tempfile::TempDir,
}

/// Copies activity-coach under `dir` with its manifest replaced.
pub fn variant(dir: &Path, manifest: &str) -> anyhow::Result<PathBuf> {
    let src = example_dir("activity-coach");
    std::fs::create_dir_all(dir)?;
    for entry in std::fs::read_dir(&src)? {
        let entry = entry?;
        if entry.file_name() != "healthplug.toml" && entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), dir.join(entry.file_name()))?;
        }
    }
    std::fs::write(dir.join("healthplug.toml"), manifest)?;
    Ok(dir.to_path_buf())
}

/// daily-coach's manifest with `purpose`.
pub fn daily_coach(purpose: &str) -> String {
    format!(
        "[plugin]\nid = \"daily-coach\"\nname = \"Daily Coach\"\nversion = \"0.1.0\"\npublisher = \"web tests\"\n\
         component = \"activity_coach.wasm\"\n\n[[read]]\ntypes = [\"steps\"]\npurpose = \"{purpose}\"\n\
         fields = [\"value\", \"time\"]\ndays = 30\ngranularity = \"daily\"\n"
    )
}

impl Site {
    /// The site, served on a free loopback port.
    pub async fn new() -> anyhow::Result<Site> {
        let home = TestHome::new()?;
        home.install(&example_dir("activity-coach"))?;
        let dir = tempfile::tempdir()?;
        let daily = variant(&dir.path().join("daily-coach"), &daily_coach(HOSTILE_PURPOSE))?;
        home.install(&daily)?;
        for user in ["alice", "bob"] {
            home.host.ensure_user(user)?;
        }
        let served = Served::start(home.path(), ServeConfig::default()).await?;
        Ok(Site {
            home,
            served,
            _dir: dir,
        })
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.served.base)
    }

    /// A fresh sign-in link secret for `user`.
    pub fn link(&self, user: &str, valid: Duration) -> anyhow::Result<String> {
        Ok(self.home.host.create_login_link(user, valid)?.secret)
    }
}
