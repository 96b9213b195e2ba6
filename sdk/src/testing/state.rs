//! The installed mock: one per thread, holding the scripted consent, the
//! stored samples, storage, the input and what the code under test did.
//! Consent is checked as the host's `GrantSet` checks it
//! (`host/src/consent/grants.rs`), storage as `storage.rs` serves it, the
//! input as `source.rs` streams it.

use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::bindings::healthplug::plugin::health_data::{NewSamples, WriteReport};
use crate::bindings::healthplug::plugin::types::{self as wit, TypeGrant};
use crate::log::Level;
use crate::{DataType, DenialReason, Fields, Granularity};

use super::calendar::Calendar;
use super::samples::{Entry, StoredSample, decode};
use super::{LogLine, Refusal};

/// Milliseconds in one day.
const DAY_MS: i64 = 86_400_000;
/// The longest storage key, in bytes (the host's).
const MAX_KEY: usize = 256;
/// The most bytes one `source.read` returns (the host's).
const MAX_READ: u32 = 1024 * 1024;

/// What a read grant covers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct ReadGrant {
    pub(crate) fields: Fields,
    pub(crate) granularity: Granularity,
    pub(crate) days: Option<u32>,
}

/// The scripted consent for one type.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Script {
    pub(crate) read: Option<ReadGrant>,
    pub(crate) write: bool,
    pub(crate) refusal: Option<DenialReason>,
}

/// Storage: the entries and the quota.
#[derive(Clone, Debug)]
pub(crate) struct Storage {
    pub(crate) entries: BTreeMap<String, Vec<u8>>,
    pub(crate) max_bytes: u64,
    pub(crate) max_keys: u64,
}

/// The input file of a connector.
#[derive(Clone, Debug)]
pub(crate) struct Input {
    pub(crate) name: String,
    pub(crate) bytes: Vec<u8>,
    pub(crate) pos: usize,
}

/// The order raw samples are delivered in (the host's `plan::Order`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Order {
    /// By (start, type, digest): the `time` field is delivered.
    Timed,
    /// By (local day, type, digest): it is not.
    ByDay,
}

/// A sample's position in a delivery order.
pub(crate) type Key = (i64, u8, u64, usize);

/// The installed mock.
pub(crate) struct MockState {
    pub(crate) now_ms: i64,
    pub(crate) calendar: Calendar,
    pub(crate) scripts: BTreeMap<u8, Script>,
    /// The stored samples, ordered by (start, type, digest, seq).
    pub(crate) samples: Vec<Entry>,
    pub(crate) storage: Option<Storage>,
    pub(crate) input: Option<Input>,
    pub(crate) written: Vec<StoredSample>,
    pub(crate) logs: Vec<LogLine>,
    pub(crate) refused: Vec<Refusal>,
    /// The positions of the pages handed out: cursor `n` is entry `n - 1`.
    pub(crate) cursors: Vec<(Order, Key)>,
}

thread_local! {
    static MOCK: RefCell<Option<MockState>> = const { RefCell::new(None) };
}

/// Runs `f` on this thread's mock; `None` when none is installed.
pub(crate) fn with_mock<T>(f: impl FnOnce(&mut MockState) -> T) -> Option<T> {
    MOCK.try_with(|cell| {
        let mut slot = cell.try_borrow_mut().ok()?;
        slot.as_mut().map(f)
    })
    .ok()
    .flatten()
}

/// Installs `state` on this thread, unless a mock is installed already.
pub(crate) fn install(state: MockState) -> Result<(), String> {
    MOCK.try_with(|cell| {
        let mut slot = cell.try_borrow_mut().map_err(|_| "the mock is in use".to_string())?;
        if slot.is_some() {
            return Err("a MockHealth is already installed on this thread: drop its guard first".to_string());
        }
        *slot = Some(state);
        Ok(())
    })
    .map_err(|_| "this thread is shutting down".to_string())?
}

/// Removes this thread's mock.
pub(crate) fn uninstall() {
    let _ = MOCK.try_with(|cell| {
        if let Ok(mut slot) = cell.try_borrow_mut() {
            *slot = None;
        }
    });
}

fn check_key(key: &str) -> Result<(), wit::Error> {
    if key.is_empty() || key.len() > MAX_KEY || key.chars().any(char::is_control) {
        return Err(wit::Error::InvalidRequest(format!(
            "a storage key must be 1 to {MAX_KEY} bytes without control characters"
        )));
    }
    Ok(())
}

impl MockState {
    /// Records a refusal and returns the error the plugin sees.
    pub(crate) fn deny(&mut self, data_type: DataType, reason: DenialReason) -> wit::Error {
        self.refused.push(Refusal { data_type, reason });
        wit::Error::NotGranted(wit::Denial { data_type, reason })
    }

    /// Checks reading `ty` at `wanted` granularity (`Raw` for samples), as
    /// `GrantSet::check_read` does.
    pub(crate) fn check_read(&self, ty: DataType, wanted: Granularity) -> Result<ReadGrant, DenialReason> {
        let script = self.scripts.get(&ty.code());
        if let Some(reason) = script.and_then(|s| s.refusal) {
            return Err(reason);
        }
        let Some(grant) = script.and_then(|s| s.read) else {
            return Err(DenialReason::NotGranted);
        };
        if rank(wanted) < rank(grant.granularity) {
            return Err(if wanted == Granularity::Raw {
                DenialReason::AggregatesOnly
            } else {
                DenialReason::GranularityTooFine
            });
        }
        Ok(grant)
    }

    /// Checks writing `ty`, as `GrantSet::check_write` does for a manifest
    /// that requests writing it.
    fn check_write(&self, ty: DataType) -> Result<(), DenialReason> {
        match self.scripts.get(&ty.code()) {
            None => Err(DenialReason::NotGranted),
            Some(Script {
                refusal: Some(reason), ..
            }) => Err(*reason),
            Some(Script { write: true, .. }) => Ok(()),
            Some(_) => Err(DenialReason::WriteNotGranted),
        }
    }

    /// The earliest visible sample start under `grant`.
    pub(crate) fn visible_from(&self, grant: &ReadGrant) -> Option<i64> {
        grant
            .days
            .map(|d| self.now_ms.saturating_sub(i64::from(d).saturating_mul(DAY_MS)))
    }

    pub(crate) fn grants(&self) -> Vec<TypeGrant> {
        self.scripts
            .iter()
            .filter(|(_, s)| s.refusal.is_none() && (s.read.is_some() || s.write))
            .filter_map(|(code, s)| {
                let read = s.read.as_ref();
                Some(TypeGrant {
                    data_type: DataType::from_code(*code)?,
                    read: read.is_some(),
                    write: s.write,
                    fields: read.map_or(Fields::empty(), |g| g.fields),
                    granularity: read.map_or(Granularity::Raw, |g| g.granularity),
                    visible_from: read.and_then(|g| self.visible_from(g)),
                    expires_at: None,
                    purpose: super::PURPOSE.to_string(),
                })
            })
            .collect()
    }

    pub(crate) fn write(&mut self, batch: &NewSamples) -> Result<WriteReport, wit::Error> {
        let samples = decode(batch, 0).map_err(wit::Error::InvalidRequest)?;
        let mut types: Vec<DataType> = samples.iter().map(|s| s.sample.data_type).collect();
        types.sort_by_key(|t| t.code());
        types.dedup();
        for ty in types {
            if let Err(reason) = self.check_write(ty) {
                return Err(self.deny(ty, reason));
            }
        }
        let accepted = u32::try_from(samples.len()).unwrap_or(u32::MAX);
        self.written.extend(samples);
        Ok(WriteReport { accepted })
    }

    pub(crate) fn log(&mut self, level: Level, message: &str) {
        self.logs.push(LogLine {
            level,
            message: message.to_string(),
        });
    }

    fn storage(&mut self) -> Result<&mut Storage, wit::Error> {
        self.storage
            .as_mut()
            .ok_or_else(|| wit::Error::CapabilityNotGranted("storage is not granted by the user".into()))
    }

    pub(crate) fn storage_get(&mut self, key: &str) -> Result<Option<Vec<u8>>, wit::Error> {
        check_key(key)?;
        Ok(self.storage()?.entries.get(key).cloned())
    }

    pub(crate) fn storage_set(&mut self, key: &str, value: &[u8]) -> Result<(), wit::Error> {
        check_key(key)?;
        let storage = self.storage()?;
        let size = |k: &str, v: &[u8]| (k.len() + v.len()) as u64;
        let others = storage.entries.iter().filter(|(k, _)| k.as_str() != key);
        let bytes = others.clone().map(|(k, v)| size(k, v)).sum::<u64>() + size(key, value);
        let keys = others.count() as u64 + 1;
        if bytes > storage.max_bytes || keys > storage.max_keys {
            return Err(wit::Error::LimitExceeded(format!(
                "storage quota exceeded: this write needs {bytes} bytes in {keys} keys, the quota is {} bytes in {} keys; nothing was written",
                storage.max_bytes, storage.max_keys
            )));
        }
        storage.entries.insert(key.to_string(), value.to_vec());
        Ok(())
    }

    pub(crate) fn storage_delete(&mut self, key: &str) -> Result<bool, wit::Error> {
        check_key(key)?;
        Ok(self.storage()?.entries.remove(key).is_some())
    }

    pub(crate) fn storage_list_keys(&mut self, prefix: &str) -> Result<Vec<String>, wit::Error> {
        let storage = self.storage()?;
        Ok(storage
            .entries
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect())
    }

    fn input(&mut self) -> Result<&mut Input, wit::Error> {
        self.input
            .as_mut()
            .ok_or_else(|| wit::Error::InvalidRequest("this invocation has no input file".into()))
    }

    pub(crate) fn source_read(&mut self, max_bytes: u32) -> Result<Vec<u8>, wit::Error> {
        let input = self.input()?;
        let want = usize::try_from(max_bytes.min(MAX_READ)).unwrap_or(0);
        let start = input.pos.min(input.bytes.len());
        let end = start.saturating_add(want).min(input.bytes.len());
        input.pos = end;
        Ok(input.bytes[start..end].to_vec())
    }

    pub(crate) fn source_rewind(&mut self) -> Result<(), wit::Error> {
        self.input()?.pos = 0;
        Ok(())
    }
}

/// Granularities from finest (0) to coarsest.
pub(crate) fn rank(g: Granularity) -> u8 {
    match g {
        Granularity::Raw => 0,
        Granularity::Hourly => 1,
        Granularity::Daily => 2,
    }
}
