//! The browser under test: Debian's `chromedriver` started as a child on
//! a free loopback port, one headless Chromium session on a fresh
//! profile through `fantoccini`, the skip rule for machines without a
//! browser, explicit waits, and the DevTools commands WebDriver lacks
//! (full-page screenshots, phone emulation). Closing the session ends
//! Chromium; dropping a [`Browser`] without closing it (a failed test)
//! kills chromedriver's whole process group, Chromium included.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::wd::{TimeoutConfiguration, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// How long any wait for the page may take (a loaded 2-core machine).
pub const PATIENCE: Duration = Duration::from_secs(60);

/// Set to `required` (as `.ci/run` does), a missing browser fails the
/// tests instead of skipping them.
pub const REQUIRED_ENV: &str = "HEALTHPLUG_BROWSER";

const SET_UP: &str = "set up with: apt-get install -y chromium chromium-driver && (cd tests/browser && npm ci)";

/// What the browser tests need on this machine.
pub struct Setup {
    /// The chromedriver binary.
    pub chromedriver: PathBuf,
    /// The Chromium binary.
    pub chromium: PathBuf,
    /// axe-core's `axe.min.js`.
    pub axe: PathBuf,
}

fn env_path(var: &str, default: &Path) -> PathBuf {
    std::env::var_os(var).map_or_else(|| default.to_path_buf(), PathBuf::from)
}

impl Setup {
    /// The setup, or `None` after saying why the test is skipped. With
    /// `HEALTHPLUG_BROWSER=required`, anything missing is a failure.
    pub fn find(test: &str) -> Option<Setup> {
        let setup = Setup {
            chromedriver: env_path("HEALTHPLUG_CHROMEDRIVER", Path::new("/usr/bin/chromedriver")),
            chromium: env_path("HEALTHPLUG_CHROMIUM", Path::new("/usr/bin/chromium")),
            axe: Path::new(env!("CARGO_MANIFEST_DIR")).join("browser/node_modules/axe-core/axe.min.js"),
        };
        let Some(missing) = [&setup.chromedriver, &setup.chromium, &setup.axe]
            .into_iter()
            .find(|p| !p.is_file())
        else {
            return Some(setup);
        };
        let why = format!("{} not found; {SET_UP}", missing.display());
        if std::env::var(REQUIRED_ENV).is_ok_and(|v| v == "required") {
            panic!("browser tests cannot run ({test}) and {REQUIRED_ENV}=required: {why}");
        }
        let line = format!("browser tests skipped ({test}): {why}");
        // Straight to the process's stderr, past the test harness's capture.
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "{line}");
        None
    }
}

/// A DevTools command through chromedriver's `goog/cdp/execute`.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/goog/cdp/execute", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// A chromedriver child in a process group of its own (Chromium
/// included), killed as a group when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn spawn(setup: &Setup) -> std::io::Result<Driver> {
        use std::os::unix::process::CommandExt;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(&setup.chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()?;
        Ok(Driver { child, port })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The group's id is the child's pid (`process_group(0)`); the
        // group holds chromedriver and any Chromium it left behind.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn capabilities(setup: &Setup, profile: &Path) -> serde_json::Map<String, Value> {
    let args = [
        "--headless=new".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-background-networking".into(),
        "--no-first-run".into(),
        "--hide-scrollbars".into(),
        format!("--user-data-dir={}", profile.display()),
    ];
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert(
        "goog:chromeOptions".into(),
        json!({ "binary": setup.chromium, "args": args }),
    );
    caps
}

/// A session of `driver`, retried while chromedriver starts listening.
async fn connect(driver: &Driver, caps: serde_json::Map<String, Value>) -> anyhow::Result<Client> {
    let url = format!("http://127.0.0.1:{}", driver.port);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        match ClientBuilder::new(HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => return Ok(client),
            Err(e) if tokio::time::Instant::now() > deadline => {
                anyhow::bail!("no WebDriver session from chromedriver at {url}: {e}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// chromedriver and one Chromium session on a fresh profile.
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    /// axe-core's source.
    pub axe: String,
    // Dropped after the client: the group is killed last.
    driver: Driver,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a session; `None` when the machine has no
    /// browser (see [`Setup::find`]).
    pub async fn start(test: &str) -> anyhow::Result<Option<Browser>> {
        let Some(setup) = Setup::find(test) else {
            return Ok(None);
        };
        let axe = std::fs::read_to_string(&setup.axe)?;
        let profile = tempfile::Builder::new().prefix("healthplug-chromium-").tempdir()?;
        let driver = Driver::spawn(&setup)?;
        let client = connect(&driver, capabilities(&setup, profile.path())).await?;
        let timeouts = TimeoutConfiguration::new(Some(PATIENCE * 2), Some(PATIENCE), Some(Duration::ZERO));
        client.update_timeouts(timeouts).await?;
        Ok(Some(Browser {
            client,
            axe,
            driver,
            _profile: profile,
        }))
    }

    /// Ends the session (Chromium exits), then chromedriver.
    pub async fn close(self) -> anyhow::Result<()> {
        let Browser { client, driver, .. } = self;
        client.close().await?;
        drop(driver);
        Ok(())
    }

    /// Opens `url`.
    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        Ok(self.client.goto(url).await?)
    }

    /// Waits for the element at `xpath`.
    pub async fn wait_for(&self, xpath: &str) -> anyhow::Result<Element> {
        self.client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::XPath(xpath))
            .await
            .map_err(|e| anyhow::anyhow!("waiting for {xpath}: {e}"))
    }

    /// The element with `id`.
    pub async fn by_id(&self, id: &str) -> anyhow::Result<Element> {
        Ok(self.client.find(Locator::Id(id)).await?)
    }

    /// Waits for an `<h1>` reading `title`.
    pub async fn wait_for_title(&self, title: &str) -> anyhow::Result<Element> {
        self.wait_for(&format!("//h1[normalize-space()='{title}']")).await
    }

    /// Runs `script` in the page (arguments: `args`).
    pub async fn run(&self, script: &str, args: Vec<Value>) -> anyhow::Result<Value> {
        Ok(self.client.execute(script, args).await?)
    }

    /// Runs a DevTools command.
    pub async fn cdp(&self, cmd: &'static str, params: Value) -> anyhow::Result<Value> {
        Ok(self.client.issue_cmd(Cdp { cmd, params }).await?)
    }

    /// Clicks the submit button of the form that `field` (an element id)
    /// belongs to, as a user would.
    pub async fn submit_form_of(&self, field: &str) -> anyhow::Result<()> {
        let button = self
            .client
            .find(Locator::XPath(&format!(
                "//input[@id='{field}']/ancestor::form//button[@type='submit']"
            )))
            .await?;
        Ok(button.click().await?)
    }
}
