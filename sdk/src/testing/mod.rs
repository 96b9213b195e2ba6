//! A mock health backend, so a plugin's tool functions (and a connector's
//! `ingest`) run natively under `cargo test`.
//!
//! Available with the SDK's `testing` feature on a native target:
//!
//! ```toml
//! [dev-dependencies]
//! healthplug-sdk = { path = "/path/to/healthplug/sdk", features = ["testing"] }
//! ```
//!
//! Build a [`MockHealth`] (the clock, the user's UTC offset, the samples
//! the user holds, the consent per data type, storage, a connector's
//! input), [`install`](MockHealth::install) it on the test's thread, call
//! your code, then look at what it did through the [`MockGuard`]:
//! [`written`](MockGuard::written), [`logs`](MockGuard::logs),
//! [`stored`](MockGuard::stored), [`refused`](MockGuard::refused). Call a
//! tool function directly, or through [`invoke`] (its arguments checked as
//! the host's `invoke` export checks them); run a connector with
//! [`ingest`]. The mock is thread-local, so tests running in parallel never
//! see each other's state; dropping the guard uninstalls it. On `wasm32` the
//! SDK always calls the real host, whatever the features.
//!
//! # What it follows
//!
//! The host's rules, so that a test passing against the mock means the
//! same against `healthplug invoke`:
//! - **consent**: a type is readable only as scripted. An unscripted type
//!   is refused `not-granted` (what the host says when the manifest
//!   declares the type and the user did not grant it; the mock has no
//!   manifest, so script `not-requested` with [`MockHealth::refuse`]). Raw
//!   samples need a `raw` grant (else `aggregates-only`), an aggregate a
//!   grant at its bucket or finer (else `granularity-too-fine`) with the
//!   `value` field, and `time` for hourly buckets (else
//!   `field-not-granted`). Every refusal is an
//!   [`Error::NotGranted`](crate::Error::NotGranted) and is recorded.
//! - **query**: each type's range `[start, end)` is clipped to its visible
//!   history (`days` before now); the fields are those requested ∩ those
//!   granted for every type in the query (the others are `None`); samples
//!   come oldest first (by start, type, content digest), at most `limit`
//!   per page (0: the host's 500,000), with `next_cursor` to continue; a
//!   grant without `time` snaps the range to whole local days and delivers
//!   day by day, in an order within the day that carries no time.
//! - **aggregate**: coded types are an invalid request
//!   ([`Error::InvalidRequest`](crate::Error::InvalidRequest), as on the
//!   host); the range is clipped to the history, then snapped inward to
//!   whole local buckets (a partial bucket at either edge is dropped,
//!   except the one in progress at "now", which counts whole); one row of
//!   sum, mean, min, max and count per (type, bucket) with a sample, types
//!   in query order.
//! - **write**: every batch decoded and checked as the host checks it
//!   (known units converted to the type's canonical unit, times ordered,
//!   values finite, metadata a JSON object: else `InvalidRequest`), then
//!   every type must be granted for writing: else `not-granted` for an
//!   unscripted type, `write-not-granted` for a type granted only for
//!   reading (the host's answer when the manifest requests writing it), or
//!   the scripted refusal.
//! - **storage**: refused with
//!   [`Error::CapabilityNotGranted`](crate::Error::CapabilityNotGranted)
//!   unless [`MockHealth::storage`] enabled it; keys checked as the host
//!   checks them; the quota defaults to the host's default for a
//!   `[storage]` table without limits (1 MiB in 1,000 keys).
//! - **input**: streamed as the host streams it (at most 1 MiB a read; no
//!   input: empty name, size 0, `InvalidRequest` on read).
//!
//! # What it does not model
//!
//! - **Time zones**: the user's zone is a fixed UTC offset
//!   ([`MockHealth::utc_offset_minutes`]), so there is no DST: every local
//!   day is 24 hours and every local hour 60 minutes. The host uses the
//!   user's IANA zone, with 23- and 25-hour days.
//! - **Manifests and the platform policy**: no manifest request is
//!   intersected with the grant (script the result), no grant expires or
//!   has a fixed start (`visible_from` is only `now − days`), and the
//!   platform's 3,650-day history cap is not applied.
//! - **Limits**: host calls, the decrypt budget, the deadline, memory,
//!   fuel, the result size and the log cap are not counted; log lines are
//!   kept as given (the host strips control characters and caps them).
//! - **The invocation's commit**: one installed mock is one long
//!   invocation. What the code writes is recorded (see
//!   [`MockGuard::written`]), never committed, so its own reads never see
//!   it (as on the host, which commits when the invocation succeeds), and
//!   exact duplicates are not skipped. Storage changes apply at once and
//!   are kept even when the code fails afterwards.
//! - **Digests**: the order of samples sharing a start time (or, without
//!   `time`, a day) follows an unkeyed content digest, not the host's keyed
//!   one: both are stable but differ, so do not depend on that order.
//!   Exact duplicate fixtures are stored once, as the host stores them.
//! - **Cursors** stay valid for the life of the mock (on the host, for one
//!   invocation).
//! - **Network**: `wasi:http` is not mocked, and a refused storage call
//!   always says "not granted by the user" (the host says "not available"
//!   when the manifest declares no `[storage]`: the same error variant).

pub(crate) mod backend;
mod calendar;
mod guard;
mod read;
mod samples;
mod state;

use std::collections::{BTreeMap, HashMap};

pub use guard::{LogLine, MockError, MockGuard, Refusal, ingest, invoke};
pub use samples::StoredSample;

use crate::{DataType, DenialReason, Fields, Granularity, NewSample, Timestamp};
use calendar::Calendar;
use samples::Entry;
use state::{MockState, ReadGrant, Script, Storage};

/// The mock's clock unless [`MockHealth::now`] sets it:
/// 2026-11-28T12:00:00Z.
pub const DEFAULT_NOW: Timestamp = Timestamp::from_millis(1_795_867_200_000);

/// The origin recorded for the fixtures of [`MockHealth::sample`] and
/// [`MockHealth::samples`].
pub const FIXTURE_ORIGIN: &str = "fixture";

/// The purpose every scripted grant reports in
/// [`health::grants`](crate::health::grants).
pub const PURPOSE: &str = "test";

/// The host's default storage quota: bytes.
const STORAGE_BYTES: u64 = 1024 * 1024;
/// The host's default storage quota: keys.
const STORAGE_KEYS: u64 = 1_000;
/// The widest UTC offset accepted, in minutes.
const MAX_OFFSET_MINUTES: u32 = 18 * 60;

/// A mock health backend under construction: the clock, the user's
/// calendar, the samples the user holds, the consent per data type,
/// storage and a connector's input.
///
/// ```
/// use healthplug_sdk::testing::MockHealth;
/// use healthplug_sdk::{DataType, DenialReason, Error, NewSample, health};
///
/// let now = healthplug_sdk::testing::DEFAULT_NOW;
/// let hour = 3_600_000;
/// let walk = |days_ago: u32, steps: f64| {
///     let start = now.start_of_day().days_before(days_ago);
///     let end = healthplug_sdk::Timestamp::from_millis(start.millis() + hour);
///     NewSample::quantity(DataType::Steps, start, end, steps, "{steps}")
/// };
/// let mock = MockHealth::new()
///     .samples([walk(1, 9000.0), walk(2, 4000.0)])
///     .grant(DataType::Steps)
///     .refuse(DataType::HeartRate, DenialReason::Revoked)
///     .install()?;
///
/// let days = health::aggregate([DataType::Steps]).daily().last_days(7).fetch()?;
/// assert_eq!(days.iter().map(|d| d.sum).collect::<Vec<_>>(), [4000.0, 9000.0]);
///
/// let refused = health::query([DataType::HeartRate]).fetch().unwrap_err();
/// assert!(matches!(refused, Error::NotGranted { reason: DenialReason::Revoked, .. }));
/// assert_eq!(mock.refused().len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "a MockHealth does nothing until `install` is called"]
pub struct MockHealth {
    now: Timestamp,
    offset_minutes: i32,
    scripts: BTreeMap<u8, Script>,
    fixtures: Vec<(String, NewSample)>,
    input: Option<(String, Vec<u8>)>,
    storage: Option<Storage>,
}

impl Default for MockHealth {
    fn default() -> MockHealth {
        MockHealth::new()
    }
}

impl MockHealth {
    /// An empty mock: the clock at [`DEFAULT_NOW`], UTC, no sample, nothing
    /// granted, no storage, no input.
    pub fn new() -> MockHealth {
        MockHealth {
            now: DEFAULT_NOW,
            offset_minutes: 0,
            scripts: BTreeMap::new(),
            fixtures: Vec::new(),
            input: None,
            storage: None,
        }
    }

    /// Pins the clock: [`Timestamp::now`] and every "now" of the host's
    /// rules (history windows, the bucket in progress).
    pub fn now(mut self, now: Timestamp) -> MockHealth {
        self.now = now;
        self
    }

    /// The user's time zone as a fixed offset, in minutes east of UTC
    /// (`60` for Paris in winter, `-300` for New York in winter): local
    /// hours and days are computed at this offset all year (no DST).
    pub fn utc_offset_minutes(mut self, minutes: i32) -> MockHealth {
        self.offset_minutes = minutes;
        self
    }

    /// Adds a sample the user holds, stored as the host stores a written
    /// one (value in the type's canonical unit).
    pub fn sample(self, sample: NewSample) -> MockHealth {
        self.samples([sample])
    }

    /// Adds samples the user holds.
    pub fn samples(self, samples: impl IntoIterator<Item = NewSample>) -> MockHealth {
        self.samples_from(FIXTURE_ORIGIN, samples)
    }

    /// Adds samples stored by `origin` (the connector or plugin id that
    /// [`Sample::origin`](crate::Sample::origin) reports).
    pub fn samples_from(mut self, origin: &str, samples: impl IntoIterator<Item = NewSample>) -> MockHealth {
        self.fixtures
            .extend(samples.into_iter().map(|s| (origin.to_string(), s)));
        self
    }

    fn script(&mut self, data_type: DataType) -> &mut Script {
        self.scripts.entry(data_type.code()).or_default()
    }

    /// Grants reading `data_type`: every field, raw samples, all history.
    pub fn grant(self, data_type: DataType) -> MockHealth {
        self.grant_with(data_type, Fields::all(), Granularity::Raw, None)
    }

    /// Grants reading `data_type` with these fields, this finest
    /// granularity and a history window of `days` days before now (`None`:
    /// all history).
    pub fn grant_with(
        mut self,
        data_type: DataType,
        fields: Fields,
        granularity: Granularity,
        days: Option<u32>,
    ) -> MockHealth {
        let script = self.script(data_type);
        script.refusal = None;
        script.read = Some(ReadGrant {
            fields,
            granularity,
            days,
        });
        self
    }

    /// Grants writing `data_type` (on top of any read grant).
    pub fn grant_write(mut self, data_type: DataType) -> MockHealth {
        let script = self.script(data_type);
        script.refusal = None;
        script.write = true;
        self
    }

    /// Refuses every read and write of `data_type` with `reason`
    /// (`NotGranted`, `Revoked`, `Expired`, `NotRequested`), replacing any
    /// grant; the type leaves [`health::grants`](crate::health::grants).
    /// The other reasons follow from a grant's shape (see
    /// [`grant_with`](MockHealth::grant_with)), though any given here is
    /// returned as is.
    pub fn refuse(mut self, data_type: DataType, reason: DenialReason) -> MockHealth {
        *self.script(data_type) = Script {
            read: None,
            write: false,
            refusal: Some(reason),
        };
        self
    }

    /// The connector's input file: its base name and content.
    pub fn input(mut self, name: &str, bytes: impl Into<Vec<u8>>) -> MockHealth {
        self.input = Some((name.to_string(), bytes.into()));
        self
    }

    fn storage_mut(&mut self) -> &mut Storage {
        self.storage.get_or_insert_with(|| Storage {
            entries: BTreeMap::new(),
            max_bytes: STORAGE_BYTES,
            max_keys: STORAGE_KEYS,
        })
    }

    /// Grants storage (empty, with the host's default quota).
    pub fn storage(mut self) -> MockHealth {
        self.storage_mut();
        self
    }

    /// Grants storage with this quota: bytes (keys plus values) and keys.
    pub fn storage_quota(mut self, max_bytes: u64, max_keys: u64) -> MockHealth {
        let storage = self.storage_mut();
        (storage.max_bytes, storage.max_keys) = (max_bytes, max_keys);
        self
    }

    /// Grants storage holding `value` under `key` (from an earlier run).
    pub fn storage_entry(mut self, key: &str, value: impl Into<Vec<u8>>) -> MockHealth {
        self.storage_mut().entries.insert(key.to_string(), value.into());
        self
    }

    /// Installs the mock on the current thread until the returned guard is
    /// dropped.
    ///
    /// Fails when a fixture sample is one the host would refuse (unknown
    /// unit, end before start, ...), the offset is beyond ±18 hours, or a
    /// mock is already installed on this thread.
    pub fn install(self) -> Result<MockGuard, MockError> {
        if self.offset_minutes.unsigned_abs() > MAX_OFFSET_MINUTES {
            return Err(MockError::new(format!(
                "utc_offset_minutes({}) is beyond ±18 hours",
                self.offset_minutes
            )));
        }
        let state = MockState {
            now_ms: self.now.millis(),
            calendar: Calendar::new(self.offset_minutes),
            scripts: self.scripts,
            samples: store(&self.fixtures)?,
            storage: self.storage,
            input: self.input.map(|(name, bytes)| state::Input { name, bytes, pos: 0 }),
            written: Vec::new(),
            logs: Vec::new(),
            refused: Vec::new(),
            cursors: Vec::new(),
        };
        state::install(state).map_err(MockError::new)?;
        Ok(MockGuard::new())
    }
}

/// The fixtures as stored samples, decoded and checked as written ones,
/// exact duplicates once, in (start, type, digest) order.
fn store(fixtures: &[(String, NewSample)]) -> Result<Vec<Entry>, MockError> {
    const CHUNK: usize = 10_000;
    let mut entries: Vec<Entry> = Vec::with_capacity(fixtures.len());
    let mut seen: HashMap<u64, Vec<usize>> = HashMap::new();
    for (c, chunk) in fixtures.chunks(CHUNK).enumerate() {
        let batch: Vec<NewSample> = chunk.iter().map(|(_, s)| s.clone()).collect();
        let decoded = samples::decode(&crate::write::encode(&batch), c * CHUNK)
            .map_err(|e| MockError::new(format!("a fixture the host would refuse: {e}")))?;
        for ((origin, _), stored) in chunk.iter().zip(decoded) {
            let digest = samples::digest(&stored.sample);
            let same = seen.entry(digest).or_default();
            if same.iter().any(|i| entries[*i].stored.sample == stored.sample) {
                continue;
            }
            same.push(entries.len());
            entries.push(Entry {
                stored,
                origin: origin.clone(),
                digest,
                seq: entries.len(),
            });
        }
    }
    entries.sort_by_key(|e| (e.start_ms(), e.data_type().code(), e.digest, e.seq));
    Ok(entries)
}
