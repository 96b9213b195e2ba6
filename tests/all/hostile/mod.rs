//! The adversarial suite: every plugin in `tests/fixtures/hostile/` runs
//! against a home holding two users' data, and each test checks that the
//! plugin was contained: the error is typed and names the limit or the
//! fault, the host still serves a benign plugin correctly, nothing of the
//! other user (or of a withheld type or field) appears in anything the
//! plugin produced, and the audit log recorded the outcome.
//!
//! Each test prints one line of the containment table (`--nocapture`).

mod abi;
mod abuse;
mod cpu;
mod load;
mod memory;
mod probe;
mod sandbox;
mod terminal;

use std::time::{Duration, Instant};

use healthplug_host::HostError;
use healthplug_host::consent::PlatformPolicy;
use healthplug_host::platform::{GrantRequest, InvokeOutcome};
use healthplug_host::runtime::{LimitKind, RunFailure, Runtime};
use healthplug_host::vault::NewSample;
use healthplug_tests::{DAY_MS, TestHome, fixture_dir, now_ms, ty, types_of};
use serde_json::{Value, json};

/// Alice's steps: the value a benign read must return.
pub const ALICE_STEPS: f64 = 4_242.0;
/// Bob's steps: must never appear in anything a plugin run for Alice makes.
pub const BOB_CANARY: f64 = 31_337.75;
/// Bob's note, likewise.
pub const BOB_NOTE: &str = "CANARY-BOB-7f3a";
/// Alice's note: withheld whenever `notes` is not granted.
pub const ALICE_NOTE: &str = "ALICE-NOTE-5e1d";
/// Alice's device: withheld whenever `device` is not granted.
pub const ALICE_DEVICE: &str = "ALICE-WATCH-9c2b";
/// Alice's body mass: never granted to a hostile plugin.
pub const ALICE_BODY_MASS: f64 = 70.125;

/// A home with Alice's and Bob's data, the probe plugin (the benign
/// witness) and one hostile plugin installed.
pub struct Arena {
    /// The home.
    pub home: TestHome,
    /// The hostile plugin's id.
    pub plugin: String,
}

/// What a hostile invocation came to.
pub struct Observed {
    /// The outcome, when the plugin finished.
    pub outcome: Option<InvokeOutcome>,
    /// The failure, when it did not.
    pub failure: Option<RunFailure>,
    /// Everything it produced, as text (result, error, logs).
    pub text: String,
    /// Time to the answer.
    pub elapsed: Duration,
}

impl Observed {
    /// The result's JSON (the plugin finished with a result).
    pub fn json(&self) -> anyhow::Result<Value> {
        let outcome = self.outcome.as_ref().ok_or_else(|| anyhow::anyhow!("no outcome"))?;
        let text = outcome
            .result
            .as_ref()
            .map_err(|f| anyhow::anyhow!("tool failed: {} {}", f.kind, f.message))?;
        Ok(serde_json::from_str(text)?)
    }

    /// The limit hit.
    pub fn limit(&self) -> Option<LimitKind> {
        match &self.failure {
            Some(RunFailure::Limit { limit, .. }) => Some(*limit),
            _ => None,
        }
    }
}

fn samples_for(value: f64, note: &str, device: &str) -> Vec<NewSample> {
    let t = now_ms() - DAY_MS;
    let mut steps = NewSample::quantity(ty("steps"), t, t + 3_600_000, value);
    steps.notes = Some(note.into());
    steps.device = Some(device.into());
    steps.source_name = Some(format!("{device}-source"));
    vec![
        steps,
        NewSample::quantity(ty("heart-rate"), t, t, 61.0),
        NewSample::quantity(ty("body-mass"), t, t, ALICE_BODY_MASS),
    ]
}

impl Arena {
    /// A fresh arena for `tests/fixtures/hostile/<case>` on the shared
    /// runtime; Alice is granted the plugin's `steps` read.
    pub fn new(case: &str) -> anyhow::Result<Arena> {
        Arena::on(case, TestHome::new()?)
    }

    /// The same, on a runtime of its own.
    pub fn with_runtime(case: &str, runtime: std::sync::Arc<Runtime>) -> anyhow::Result<Arena> {
        Arena::on(case, TestHome::with_runtime(runtime, PlatformPolicy::default())?)
    }

    fn on(case: &str, home: TestHome) -> anyhow::Result<Arena> {
        Arena::at(
            &fixture_dir(&format!("hostile/{case}")),
            &format!("hostile-{case}"),
            home,
        )
    }

    /// An arena for the installable directory `dir` (a hostile plugin
    /// built elsewhere, e.g. in another language) whose id is `plugin`.
    pub fn at(dir: &std::path::Path, plugin: &str, home: TestHome) -> anyhow::Result<Arena> {
        home.install(&fixture_dir("probe"))?;
        home.install(dir)?;
        home.host
            .store_samples("alice", "test", &samples_for(ALICE_STEPS, ALICE_NOTE, ALICE_DEVICE))?;
        home.host
            .store_samples("bob", "test", &samples_for(BOB_CANARY, BOB_NOTE, "BOB-PHONE"))?;
        home.grant("alice", "probe", "steps")?;
        Ok(Arena {
            home,
            plugin: plugin.to_string(),
        })
    }

    /// Grants Alice `types` of the hostile plugin with `req`'s options.
    pub fn grant(&self, types: &str, req: GrantRequest) -> anyhow::Result<()> {
        self.home.grant_with(
            "alice",
            &self.plugin,
            GrantRequest {
                types: types_of(types),
                ..req
            },
        )
    }

    /// Grants Alice reading and writing `types` of the hostile plugin.
    pub fn grant_writes(&self, types: &str) -> anyhow::Result<()> {
        healthplug_tests::grant_writes(&self.home.host, "alice", &self.plugin, types)
    }

    /// Grants Alice the plugin's `steps` read with the manifest's defaults.
    pub fn grant_steps(&self) -> anyhow::Result<()> {
        self.grant("steps", GrantRequest::default())
    }

    /// Runs `tool` of the hostile plugin for Alice.
    pub fn attack(&self, tool: &str, args: Value) -> anyhow::Result<Observed> {
        let started = Instant::now();
        let result = self.home.host.invoke("alice", &self.plugin, tool, &args.to_string());
        let elapsed = started.elapsed();
        Ok(match result {
            Ok(outcome) => Observed {
                text: serde_json::to_string(&outcome)?,
                outcome: Some(outcome),
                failure: None,
                elapsed,
            },
            Err(HostError::Plugin { failure, .. }) => Observed {
                text: format!("{failure} {failure:?}"),
                outcome: None,
                failure: Some(failure),
                elapsed,
            },
            Err(other) => anyhow::bail!("{} failed outside the sandbox: {other}", self.plugin),
        })
    }

    /// Checks containment after `observed`: the host serves the benign
    /// probe correctly, nothing of Bob's leaked, the audit recorded
    /// `audit_outcome`; prints the table line.
    pub fn contained(&self, observed: &Observed, audit_outcome: &str) -> anyhow::Result<()> {
        let (out, _) = self
            .home
            .invoke_json("alice", "probe", "read", json!({ "types": ["steps"] }))?;
        let values: Vec<f64> = out["samples"]
            .as_array()
            .map(|a| a.iter().filter_map(|s| s["value"].as_f64()).collect())
            .unwrap_or_default();
        assert!(values.contains(&ALICE_STEPS), "the host stopped serving: {out}");
        assert_no_leak(&observed.text, &[&BOB_CANARY.to_string(), BOB_NOTE, "BOB-PHONE"]);
        let entries = self.home.host.audit_log(Some("alice"))?;
        let last = entries
            .iter()
            .rev()
            .find(|e| {
                matches!(e.event.kind.id(), "invoke" | "import") && e.event.plugin.as_deref() == Some(&self.plugin)
            })
            .ok_or_else(|| anyhow::anyhow!("no audit entry for {}", self.plugin))?;
        let recorded = last.event.outcome.clone().unwrap_or_default();
        assert!(
            recorded.starts_with(audit_outcome),
            "{}: audit says `{recorded}`, expected `{audit_outcome}`",
            self.plugin
        );
        assert!(self.home.host.verify_audit()?.ok());
        let what = match &observed.failure {
            Some(f) => f.audit_outcome(),
            None => "finished; nothing leaked".into(),
        };
        println!(
            "| {} | {what} | {:.0} ms |",
            self.plugin,
            observed.elapsed.as_secs_f64() * 1e3
        );
        Ok(())
    }
}

/// Fails if any of `needles` occurs in `text`.
pub fn assert_no_leak(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(
            !text.contains(needle),
            "`{needle}` leaked into: {}",
            excerpt(text, needle)
        );
    }
}

fn excerpt<'a>(text: &'a str, needle: &str) -> &'a str {
    let at = text.find(needle).unwrap_or(0);
    let start = text.floor_char_boundary(at.saturating_sub(200));
    let end = text.ceil_char_boundary((at + 200).min(text.len()));
    &text[start..end]
}

/// Asserts `observed` failed with `limit`, within `deadline`.
/// Checks a log flood's outcome, in any language: the kept log is capped
/// at 64 KiB, starts with the flood's first line, says it was truncated,
/// and holds no control character. Returns the outcome for more checks.
pub fn assert_log_capped(observed: &Observed) -> anyhow::Result<&InvokeOutcome> {
    let outcome = observed
        .outcome
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("no outcome: {}", observed.text))?;
    let bytes: usize = outcome.logs.iter().map(|l| l.message.len()).sum();
    assert!(bytes <= 64 * 1024 + 200, "{bytes} bytes of log kept");
    assert!(outcome.logs.iter().any(|l| l.message.contains("FLOOD 0")));
    assert!(outcome.logs.iter().any(|l| l.message.starts_with("log truncated")));
    for line in &outcome.logs {
        assert!(
            !line.message.chars().any(char::is_control),
            "a control character survived: {:?}",
            line.message
        );
    }
    Ok(outcome)
}

pub fn assert_limit(observed: &Observed, limit: LimitKind) {
    assert_eq!(
        observed.limit(),
        Some(limit),
        "expected the {} limit, got {:?}",
        limit.id(),
        observed.failure
    );
}
