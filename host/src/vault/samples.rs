//! Samples: what a sample is, and writing them. Samples are stored in
//! sealed day chunks (`chunks.rs`, `chunk.rs`): only user, type and UTC day
//! are plaintext. A keyed digest of the content, kept inside the chunk,
//! makes imports idempotent without revealing the content.

use super::store::Store;
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::chunk::{self, Entry};
use super::chunks::{self, Groups};
use super::keys::SecretKey;
use super::{UserRecord, Vault, now_ms};
use crate::registry::DataType;

/// A code from a code system (LOINC, SNOMED CT, RxNorm, CVX, an activity
/// or sleep-stage vocabulary).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coding {
    /// The code system URI.
    pub system: String,
    /// The code.
    pub code: String,
    /// Human-readable text.
    pub display: String,
}

/// Where a stored sample came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// The plugin, connector or tool that wrote it.
    pub origin: String,
    /// The sha256 of that plugin's component, if a plugin wrote it.
    pub origin_digest: Option<String>,
    /// When it was written (ms since epoch).
    pub written_ms: i64,
    /// The value as the source gave it, before unit normalisation.
    pub original_value: Option<f64>,
    /// The unit as the source gave it.
    pub original_unit: Option<String>,
}

/// The sealed part of a sample.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SamplePayload {
    /// Numeric value in the canonical unit (`None` for coded samples
    /// without one).
    pub value: Option<f64>,
    /// The canonical UCUM unit.
    pub unit: String,
    /// The coding of coded samples.
    pub coding: Option<Coding>,
    /// Recording app or organisation.
    pub source_name: Option<String>,
    /// Measuring device.
    pub device: Option<String>,
    /// Metadata as a JSON object text.
    pub metadata: Option<String>,
    /// Free-text notes.
    pub notes: Option<String>,
    /// Provenance.
    pub provenance: Provenance,
}

/// A sample to store.
#[derive(Clone, Debug, PartialEq)]
pub struct NewSample {
    /// The type.
    pub data_type: DataType,
    /// Start (ms since epoch).
    pub start_ms: i64,
    /// End (ms since epoch), at least `start_ms`.
    pub end_ms: i64,
    /// Value in the canonical unit.
    pub value: Option<f64>,
    /// Canonical unit.
    pub unit: String,
    /// Coding.
    pub coding: Option<Coding>,
    /// Source name.
    pub source_name: Option<String>,
    /// Device.
    pub device: Option<String>,
    /// Metadata JSON object.
    pub metadata: Option<String>,
    /// Notes.
    pub notes: Option<String>,
    /// Value before normalisation.
    pub original_value: Option<f64>,
    /// Unit before normalisation.
    pub original_unit: Option<String>,
}

impl NewSample {
    /// A plain quantity sample in the type's canonical unit.
    pub fn quantity(data_type: DataType, start_ms: i64, end_ms: i64, value: f64) -> NewSample {
        NewSample {
            data_type,
            start_ms,
            end_ms,
            value: Some(value),
            unit: data_type.info().unit.to_string(),
            coding: None,
            source_name: None,
            device: None,
            metadata: None,
            notes: None,
            original_value: None,
            original_unit: None,
        }
    }

    fn check(&self) -> Result<()> {
        if self.end_ms < self.start_ms {
            bail!("{} sample ends before it starts", self.data_type);
        }
        if self.value.is_some_and(|v| !v.is_finite()) {
            bail!("{} sample has a non-finite value", self.data_type);
        }
        for (name, text) in [
            ("source name", &self.source_name),
            ("device", &self.device),
            ("metadata", &self.metadata),
            ("notes", &self.notes),
        ] {
            if text.as_ref().is_some_and(|t| t.len() > 64 * 1024) {
                bail!("{} sample's {name} is longer than 64 KiB", self.data_type);
            }
        }
        Ok(())
    }
}

/// Who is writing samples.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// Plugin id, connector id or tool name.
    pub id: String,
    /// Component sha256 when a plugin writes.
    pub digest: Option<String>,
}

/// A stored sample; `payload` is `None` when only type and time were read
/// (and holds only the fields that were read otherwise).
#[derive(Clone, Debug, PartialEq)]
pub struct StoredSample {
    /// Type.
    pub data_type: DataType,
    /// Start.
    pub start_ms: i64,
    /// End.
    pub end_ms: i64,
    /// The keyed content digest (orders samples of equal start, and those
    /// whose time is withheld; carries no time information).
    pub(crate) digest: chunk::Digest,
    /// The unsealed payload.
    pub payload: Option<SamplePayload>,
}

/// What an insert stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct InsertReport {
    /// New samples stored.
    pub inserted: u64,
    /// Samples already present (same content), skipped.
    pub duplicates: u64,
}

/// The keyed content digest of a sample (what dedupe compares).
#[derive(Serialize)]
struct DigestContent<'a> {
    ty: u8,
    start: i64,
    end: i64,
    value: Option<u64>,
    unit: &'a str,
    coding: &'a Option<Coding>,
    source: &'a Option<String>,
    device: &'a Option<String>,
    metadata: &'a Option<String>,
    notes: &'a Option<String>,
}

/// The keyed digest of a sample's content: HMAC-SHA256 under the user's
/// dedupe key, truncated to [`chunk::DIGEST_LEN`] bytes.
pub(crate) fn digest(dedupe: &SecretKey, s: &NewSample) -> Result<chunk::Digest> {
    let content = DigestContent {
        ty: s.data_type.code(),
        start: s.start_ms,
        end: s.end_ms,
        value: s.value.map(f64::to_bits),
        unit: &s.unit,
        coding: &s.coding,
        source: &s.source_name,
        device: &s.device,
        metadata: &s.metadata,
        notes: &s.notes,
    };
    let mac = dedupe.mac(&postcard::to_stdvec(&content).context("encoding a sample digest")?);
    let mut out = [0u8; chunk::DIGEST_LEN];
    out.copy_from_slice(&mac[..chunk::DIGEST_LEN]);
    Ok(out)
}

/// The key sample digests are computed with.
pub(crate) fn dedupe_key(key: &SecretKey) -> SecretKey {
    key.derive("sample dedupe v1")
}

/// Checks `samples` and groups them as chunk entries by (type, UTC day),
/// each group in (start, digest) order without repeats; returns the groups
/// and how many repeats within `samples` were dropped.
fn group(key: &SecretKey, origin: &Origin, samples: &[NewSample]) -> Result<(Groups, u64)> {
    let dedupe = dedupe_key(key);
    let written_ms = now_ms();
    let mut groups = Groups::new();
    for s in samples {
        s.check()?;
        let entry = Entry {
            start_ms: s.start_ms,
            end_ms: s.end_ms,
            digest: digest(&dedupe, s)?,
            payload: SamplePayload {
                value: s.value,
                unit: s.unit.clone(),
                coding: s.coding.clone(),
                source_name: s.source_name.clone(),
                device: s.device.clone(),
                metadata: s.metadata.clone(),
                notes: s.notes.clone(),
                provenance: Provenance {
                    origin: origin.id.clone(),
                    origin_digest: origin.digest.clone(),
                    written_ms,
                    original_value: s.original_value,
                    original_unit: s.original_unit.clone(),
                },
            },
        };
        let at = (s.data_type.code(), chunk::day_of(s.start_ms));
        groups.entry(at).or_default().push(entry);
    }
    let mut repeats = 0;
    for entries in groups.values_mut() {
        let before = entries.len();
        chunks::sort_dedup(entries);
        repeats += (before - entries.len()) as u64;
    }
    Ok((groups, repeats))
}

/// Stores `samples` inside the caller's write transaction, skipping exact
/// duplicates of stored samples (and repeats within `samples`).
pub(crate) fn insert<S: Store + ?Sized>(
    tx: &S,
    user_id: i64,
    key: &SecretKey,
    origin: &Origin,
    samples: &[NewSample],
) -> Result<InsertReport> {
    let (groups, repeats) = group(key, origin, samples)?;
    let mut report = InsertReport {
        inserted: 0,
        duplicates: repeats,
    };
    for (at, entries) in groups {
        let offered = entries.len() as u64;
        let added = chunks::merge(tx, key, user_id, at, entries)?;
        report.inserted += added;
        report.duplicates += offered - added;
    }
    Ok(report)
}

/// Stages `samples` for `invocation` inside the caller's write transaction,
/// as sealed chunks of their own. Staging never looks at what is stored (a
/// plugin timing its writes must not learn whether a sample exists): what
/// is already stored is skipped at commit (`chunks::commit_staged`).
pub(crate) fn stage<S: Store + ?Sized>(
    tx: &S,
    invocation: &str,
    user_id: i64,
    key: &SecretKey,
    origin: &Origin,
    samples: &[NewSample],
) -> Result<()> {
    let (groups, _) = group(key, origin, samples)?;
    chunks::stage(tx, invocation, user_id, key, &groups)
}

impl Vault {
    /// Stores samples for `user` in one transaction: all or nothing.
    pub fn insert_samples(&self, user: &UserRecord, origin: &Origin, samples: &[NewSample]) -> Result<InsertReport> {
        let key = self.user_key(user.id)?;
        self.write(|tx| tx.insert_samples(user.id, &key, origin, samples))
    }

    /// Unsealed samples of `user`, by type then time (every type when
    /// `types` is empty), at most `limit` per type.
    pub fn samples(&self, user: &UserRecord, types: &[DataType], limit: usize) -> Result<Vec<StoredSample>> {
        let key = self.user_key(user.id)?;
        let store = self.store()?;
        let all: Vec<DataType> = if types.is_empty() {
            DataType::all().collect()
        } else {
            types.to_vec()
        };
        let mut out = Vec::new();
        for ty in all {
            out.extend(super::sample_read::query(
                &*store,
                user.id,
                &key,
                super::sample_read::RangeQuery {
                    data_type: ty,
                    start_ms: i64::MIN,
                    end_ms: i64::MAX,
                    limit,
                    cols: chunk::Columns::ALL,
                },
            )?);
        }
        Ok(out)
    }

    /// Number of samples stored for `user`, per type (each of the user's
    /// chunks is opened: counts are not plaintext).
    pub fn sample_counts(&self, user: &UserRecord) -> Result<Vec<(DataType, u64)>> {
        let key = self.user_key(user.id)?;
        chunks::counts(&*self.store()?, user.id, &key)
    }
}
