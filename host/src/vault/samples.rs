//! Samples: type and time in plaintext for the index, everything else
//! (value, unit, coding, source, device, metadata, notes, provenance)
//! sealed with the user's key and bound to its row. A keyed digest of the
//! content makes imports idempotent without revealing the content.

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

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

/// A stored sample; `payload` is `None` when only type and time were read.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredSample {
    /// Row id.
    pub id: i64,
    /// Type.
    pub data_type: DataType,
    /// Start.
    pub start_ms: i64,
    /// End.
    pub end_ms: i64,
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

impl InsertReport {
    /// Counts one sample: stored, or skipped as already present.
    fn count(&mut self, stored: bool) {
        if stored {
            self.inserted += 1;
        } else {
            self.duplicates += 1;
        }
    }
}

pub(crate) fn aad(user_id: i64, ty: DataType, start: i64, end: i64) -> Vec<u8> {
    format!("sample:{user_id}:{}:{start}:{end}", ty.code()).into_bytes()
}

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

/// A sample sealed and ready to store.
struct SealedRow {
    data_type: DataType,
    start_ms: i64,
    end_ms: i64,
    digest: [u8; 32],
    payload: Vec<u8>,
}

fn seal_rows(user_id: i64, key: &SecretKey, origin: &Origin, samples: &[NewSample]) -> Result<Vec<SealedRow>> {
    let dedupe = key.derive("sample dedupe v1");
    let written_ms = now_ms();
    let mut rows = Vec::with_capacity(samples.len());
    for s in samples {
        s.check()?;
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
        let digest = dedupe.mac(&postcard::to_stdvec(&content).context("encoding a sample digest")?);
        let payload = SamplePayload {
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
        };
        let plain = zeroize::Zeroizing::new(postcard::to_stdvec(&payload).context("encoding a sample")?);
        let payload = key.seal(&plain, &aad(user_id, s.data_type, s.start_ms, s.end_ms))?;
        rows.push(SealedRow {
            data_type: s.data_type,
            start_ms: s.start_ms,
            end_ms: s.end_ms,
            digest,
            payload,
        });
    }
    Ok(rows)
}

/// Stores `samples` inside the caller's write transaction, skipping exact
/// duplicates of stored samples.
pub(crate) fn insert(
    tx: &Connection,
    user_id: i64,
    key: &SecretKey,
    origin: &Origin,
    samples: &[NewSample],
) -> Result<InsertReport> {
    let rows = seal_rows(user_id, key, origin, samples)?;
    let mut stmt = tx.prepare_cached(
        "INSERT OR IGNORE INTO samples (user_id, data_type, start_ms, end_ms, digest, payload)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut report = InsertReport::default();
    for r in rows {
        let n = stmt.execute(params![
            user_id,
            i64::from(r.data_type.code()),
            r.start_ms,
            r.end_ms,
            r.digest.as_slice(),
            r.payload
        ])?;
        report.count(n == 1);
    }
    Ok(report)
}

/// Stages `samples` for `invocation` inside the caller's write transaction.
/// Staging never looks at what is stored (a plugin timing its writes must
/// not learn whether a sample exists): samples already stored are skipped
/// at commit. Only samples this invocation already staged count as
/// duplicates here.
pub(crate) fn stage(
    tx: &Connection,
    invocation: &str,
    user_id: i64,
    key: &SecretKey,
    origin: &Origin,
    samples: &[NewSample],
) -> Result<InsertReport> {
    let rows = seal_rows(user_id, key, origin, samples)?;
    let mut stmt = tx.prepare_cached(
        "INSERT OR IGNORE INTO staged_samples (invocation, user_id, data_type, start_ms, end_ms, digest, payload, staged_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let staged_ms = now_ms();
    let mut report = InsertReport::default();
    for r in rows {
        let n = stmt.execute(params![
            invocation,
            user_id,
            i64::from(r.data_type.code()),
            r.start_ms,
            r.end_ms,
            r.digest.as_slice(),
            r.payload,
            staged_ms
        ])?;
        report.count(n == 1);
    }
    Ok(report)
}

/// Moves the samples staged by `invocation` into `samples`, inside the
/// caller's write transaction; returns how many were stored per type.
pub(crate) fn commit_staged(tx: &Connection, invocation: &str) -> Result<Vec<(DataType, u64)>> {
    let mut types =
        tx.prepare_cached("SELECT DISTINCT data_type FROM staged_samples WHERE invocation = ?1 ORDER BY data_type")?;
    let codes: Vec<i64> = types
        .query_map(params![invocation], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::new();
    for code in codes {
        let n = tx.execute(
            "INSERT OR IGNORE INTO samples (user_id, data_type, start_ms, end_ms, digest, payload)
             SELECT user_id, data_type, start_ms, end_ms, digest, payload FROM staged_samples
             WHERE invocation = ?1 AND data_type = ?2 ORDER BY rowid",
            params![invocation, code],
        )?;
        if let Some(ty) = u8::try_from(code).ok().and_then(DataType::from_code) {
            out.push((ty, n as u64));
        }
    }
    tx.execute("DELETE FROM staged_samples WHERE invocation = ?1", params![invocation])?;
    Ok(out)
}

/// Whether process `pid` is running (on Linux; elsewhere every process is
/// assumed alive and only the age rule purges).
fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

/// Deletes the staged writes of invocations whose process is gone (killed
/// in the middle of an import or invocation): they were never visible and
/// never will be. Returns the rows deleted.
pub(crate) fn purge_orphaned_staged(tx: &Connection) -> Result<u64> {
    let own = std::process::id();
    let invocations: Vec<String> = tx
        .prepare("SELECT DISTINCT invocation FROM staged_samples")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut deleted = 0;
    for invocation in invocations {
        let pid = invocation.split_once('-').and_then(|(pid, _)| pid.parse::<u32>().ok());
        if let Some(pid) = pid
            && pid != own
            && !process_alive(pid)
        {
            deleted += tx.execute("DELETE FROM staged_samples WHERE invocation = ?1", params![invocation])? as u64;
        }
    }
    Ok(deleted)
}

/// Deletes what `invocation` staged (it failed).
pub(crate) fn discard_staged(conn: &Connection, invocation: &str) -> Result<u64> {
    Ok(conn.execute("DELETE FROM staged_samples WHERE invocation = ?1", params![invocation])? as u64)
}

impl Vault {
    /// Stores samples for `user` in one transaction: all or nothing.
    pub fn insert_samples(&self, user: &UserRecord, origin: &Origin, samples: &[NewSample]) -> Result<InsertReport> {
        let key = self.user_key(user.id)?;
        self.write(|tx| insert(tx, user.id, &key, origin, samples))
    }

    /// Unsealed samples of `user`, by type then time (every type when
    /// `types` is empty), at most `limit` per type.
    pub fn samples(&self, user: &UserRecord, types: &[DataType], limit: usize) -> Result<Vec<StoredSample>> {
        let key = self.user_key(user.id)?;
        let conn = self.conn()?;
        let all: Vec<DataType> = if types.is_empty() {
            DataType::all().collect()
        } else {
            types.to_vec()
        };
        let mut out = Vec::new();
        for ty in all {
            out.extend(super::sample_read::query(
                &conn,
                user.id,
                &key,
                super::sample_read::RangeQuery {
                    data_type: ty,
                    start_ms: i64::MIN,
                    end_ms: i64::MAX,
                    limit,
                    unseal: true,
                },
            )?);
        }
        Ok(out)
    }

    /// Number of samples stored for `user`, per type code.
    pub fn sample_counts(&self, user: &UserRecord) -> Result<Vec<(DataType, u64)>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT data_type, COUNT(*) FROM samples WHERE user_id = ?1 GROUP BY data_type ORDER BY data_type",
        )?;
        let rows = stmt.query_map(params![user.id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (code, n) = row?;
            if let Some(ty) = u8::try_from(code).ok().and_then(DataType::from_code) {
                out.push((ty, u64::try_from(n).unwrap_or(0)));
            }
        }
        Ok(out)
    }
}
