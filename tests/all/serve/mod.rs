//! `healthplug serve` through clients nobody here wrote: the official
//! Rust MCP SDK (rmcp) over Streamable HTTP and stdio, and raw HTTP for
//! what an SDK hides. Every guarantee is tried from the wrong side too: no
//! token, a forged or revoked one, another user's, a narrower scope, a
//! hostile plugin, a flood, a SIGTERM.
// Tests: a failed setup step should stop the test where it failed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod door;
mod hosts;
mod jwt;
mod load;
mod stdio;

use std::time::Duration;

use healthplug_host::auth::Scopes;
use healthplug_host::serve::ServeConfig;
use healthplug_tests::serve::Served;
use healthplug_tests::{DAY_MS, TestHome, example_dir, fixture_dir, grant_writes, now_ms};
use serde_json::json;

/// A home with the probe, the conformance fixture and activity-coach, and
/// users: alice (probe: steps; conformance: steps; activity-coach:
/// steps), bob (probe: steps) and carol (nothing). Alice's and Bob's step
/// values are distinct canaries.
pub struct World {
    pub home: TestHome,
    pub alice: String,
    pub bob: String,
    pub carol: String,
}

/// Alice's canary step value.
pub const ALICE_STEPS: f64 = 4111.0;
/// Bob's canary step value.
pub const BOB_STEPS: f64 = 7222.0;

pub fn token(home: &TestHome, user: &str, scopes: &Scopes) -> String {
    let (_, secret) = home
        .host
        .create_token(user, Some(Duration::from_secs(3600)), scopes, Some("test"))
        .unwrap();
    secret
}

fn write_steps(home: &TestHome, user: &str, value: f64) {
    let start = now_ms() - DAY_MS;
    let samples = json!([{ "type": "steps", "start": start, "end": start + 60_000, "value": value, "unit": "count" }]);
    let (out, _) = home
        .host
        .invoke(user, "probe", "write", &json!({ "samples": samples }).to_string())
        .map(|o| (o.result.clone(), o))
        .unwrap();
    assert!(out.unwrap().contains("\"accepted\":1"), "the canary was not written");
}

impl World {
    pub fn new() -> World {
        let home = TestHome::new().unwrap();
        home.install(&fixture_dir("probe")).unwrap();
        home.install(&fixture_dir("conformance")).unwrap();
        home.install(&example_dir("activity-coach")).unwrap();
        for user in ["alice", "bob", "carol"] {
            home.host.ensure_user(user).unwrap();
        }
        grant_writes(&home.host, "alice", "probe", "steps").unwrap();
        grant_writes(&home.host, "bob", "probe", "steps").unwrap();
        home.grant("alice", "conformance", "steps").unwrap();
        home.grant("alice", "activity-coach", "steps").unwrap();
        write_steps(&home, "alice", ALICE_STEPS);
        write_steps(&home, "bob", BOB_STEPS);
        let alice = token(&home, "alice", &Scopes::all());
        let bob = token(&home, "bob", &Scopes::all());
        let carol = token(&home, "carol", &Scopes::all());
        World {
            home,
            alice,
            bob,
            carol,
        }
    }

    pub async fn serve(&self) -> Served {
        self.serve_with(ServeConfig::default()).await
    }

    pub async fn serve_with(&self, config: ServeConfig) -> Served {
        Served::start(self.home.path(), config).await.unwrap()
    }
}
