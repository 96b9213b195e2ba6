//! The mock's samples: written batches decoded and checked as the host
//! decodes them (`host/src/capabilities/writes.rs`: every column the right
//! length, type codes known, times ordered, values finite, units
//! convertible, metadata a JSON object; one bad sample refuses the batch),
//! stored in the type's canonical unit, and delivered in columnar batches
//! built as the host builds them (`columns.rs`).

use crate::bindings::healthplug::plugin::health_data::NewSamples;
use crate::bindings::healthplug::plugin::types::{CodingColumn, SampleBatch, StringColumn};
use crate::write::Dictionary;
use crate::{DataType, Fields, NewCoding, NewSample, Timestamp};

use super::calendar::Calendar;

/// The most samples one write call may carry (the host's limit).
const MAX_WRITE_BATCH: usize = 10_000;

/// A sample as the mock stored it, as the host stores it: the value in the
/// type's canonical unit (the registry's), empty strings as `None`.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredSample {
    /// The sample: `value` converted to the canonical unit, `unit` the
    /// canonical unit (for types without one, such as `lab-result`, the
    /// unit as given).
    pub sample: NewSample,
    /// The value as written, when it was given in another unit.
    pub original_value: Option<f64>,
    /// The unit as written, when it was not the canonical one.
    pub original_unit: Option<String>,
}

/// A stored sample with what the host keeps beside it.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    /// The sample.
    pub(crate) stored: StoredSample,
    /// Who stored it (the connector or plugin id on the host).
    pub(crate) origin: String,
    /// A digest of its content: the order within equal start times (the
    /// host uses a keyed HMAC; the mock, FNV-1a).
    pub(crate) digest: u64,
    /// Its position in the store, the last tie-break.
    pub(crate) seq: usize,
}

impl Entry {
    pub(crate) fn data_type(&self) -> DataType {
        self.stored.sample.data_type
    }

    pub(crate) fn start_ms(&self) -> i64 {
        self.stored.sample.start.millis()
    }
}

/// Sample `i` of a batch, named `n` in messages.
#[derive(Clone, Copy)]
struct At {
    i: usize,
    n: usize,
}

fn text(column: Option<&StringColumn>, at: At) -> Result<Option<String>, String> {
    let Some(c) = column else { return Ok(None) };
    let index = *c.indices.get(at.i).ok_or("a string column is shorter than the batch")?;
    let entry = usize::try_from(index)
        .ok()
        .and_then(|k| c.dictionary.get(k))
        .ok_or_else(|| format!("sample {}: dictionary index {index} is out of range", at.n))?;
    Ok((!entry.is_empty()).then(|| entry.clone()))
}

fn check_len(name: &str, len: usize, n: usize) -> Result<(), String> {
    if len == n {
        Ok(())
    } else {
        Err(format!("the `{name}` column has {len} entries for {n} samples"))
    }
}

fn check_columns(batch: &NewSamples, n: usize) -> Result<(), String> {
    check_len("start-times", batch.start_times.len(), n)?;
    check_len("end-times", batch.end_times.len(), n)?;
    check_len("values", batch.values.len(), n)?;
    check_len("units", batch.units.indices.len(), n)?;
    for (name, column) in [
        ("source-names", &batch.source_names),
        ("devices", &batch.devices),
        ("metadata", &batch.metadata),
        ("notes", &batch.notes),
    ] {
        if let Some(c) = column {
            check_len(name, c.indices.len(), n)?;
        }
    }
    if let Some(c) = &batch.codings {
        for (name, col) in [
            ("coding systems", &c.systems),
            ("codes", &c.codes),
            ("coding displays", &c.displays),
        ] {
            check_len(name, col.indices.len(), n)?;
        }
    }
    Ok(())
}

fn coding(c: Option<&CodingColumn>, at: At) -> Result<Option<NewCoding>, String> {
    let Some(c) = c else { return Ok(None) };
    let Some(code) = text(Some(&c.codes), at)? else {
        return Ok(None);
    };
    Ok(Some(NewCoding {
        system: text(Some(&c.systems), at)?.unwrap_or_default(),
        code,
        display: text(Some(&c.displays), at)?.unwrap_or_default(),
    }))
}

/// The value in the canonical unit, and the original when it differed.
type Converted = (Option<f64>, Option<f64>, Option<String>);

fn convert(i: usize, data_type: DataType, raw: f64, given_unit: &str) -> Result<Converted, String> {
    if raw.is_nan() {
        return Ok((None, None, None));
    }
    if !raw.is_finite() {
        return Err(format!("sample {i} ({data_type}): the value is not finite"));
    }
    let canonical = data_type
        .to_canonical(raw, given_unit)
        .map_err(|e| format!("sample {i}: {e}"))?;
    let unit = data_type.info().unit;
    if given_unit == unit || unit.is_empty() {
        Ok((Some(canonical), None, None))
    } else {
        Ok((Some(canonical), Some(raw), Some(given_unit.to_string())))
    }
}

/// Validates and normalises a batch, as the host does; the error names the
/// first bad sample, numbering the batch's samples from `first`.
pub(crate) fn decode(batch: &NewSamples, first: usize) -> Result<Vec<StoredSample>, String> {
    let n = batch.type_codes.len();
    if n > MAX_WRITE_BATCH {
        return Err(format!(
            "a write carries at most {MAX_WRITE_BATCH} samples, this one {n}"
        ));
    }
    check_columns(batch, n)?;
    let mut out = Vec::with_capacity(n);
    for (i, code) in batch.type_codes.iter().enumerate() {
        let at = At { i, n: first + i };
        let n = at.n;
        let data_type = DataType::from_code(*code).ok_or_else(|| format!("sample {n}: unknown type code {code}"))?;
        let (start, end) = (batch.start_times[i], batch.end_times[i]);
        if end < start {
            return Err(format!("sample {n} ({data_type}): ends before it starts"));
        }
        let given_unit = text(Some(&batch.units), at)?.unwrap_or_default();
        let (value, original_value, original_unit) = convert(n, data_type, batch.values[i], &given_unit)?;
        let canonical_unit = data_type.info().unit;
        let unit = if canonical_unit.is_empty() {
            given_unit
        } else {
            canonical_unit.to_string()
        };
        let metadata = text(batch.metadata.as_ref(), at)?;
        if let Some(m) = &metadata
            && !matches!(
                serde_json::from_str::<serde_json::Value>(m),
                Ok(serde_json::Value::Object(_))
            )
        {
            return Err(format!("sample {n} ({data_type}): metadata must be a JSON object"));
        }
        let sample = NewSample {
            data_type,
            start: Timestamp::from_millis(start),
            end: Timestamp::from_millis(end),
            value,
            unit,
            coding: coding(batch.codings.as_ref(), at)?,
            source_name: text(batch.source_names.as_ref(), at)?,
            device: text(batch.devices.as_ref(), at)?,
            metadata,
            notes: text(batch.notes.as_ref(), at)?,
        };
        out.push(StoredSample {
            sample,
            original_value,
            original_unit,
        });
    }
    Ok(out)
}

/// FNV-1a over a sample's content (what the host's digest covers: not its
/// origin, not the original value).
pub(crate) fn digest(s: &NewSample) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes.iter().chain(&[0xff]) {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(&[s.data_type.code()]);
    eat(&s.start.millis().to_le_bytes());
    eat(&s.end.millis().to_le_bytes());
    eat(&s.value.map_or(u64::MAX, f64::to_bits).to_le_bytes());
    eat(s.unit.as_bytes());
    if let Some(c) = &s.coding {
        for part in [&c.system, &c.code, &c.display] {
            eat(part.as_bytes());
        }
    }
    for part in [&s.source_name, &s.device, &s.metadata, &s.notes] {
        eat(part.as_deref().unwrap_or("").as_bytes());
    }
    hash
}

fn string_column(rows: &[&Entry], get: impl Fn(&Entry) -> Option<&str>) -> StringColumn {
    let mut column = Dictionary::new();
    for r in rows {
        column.push(get(r));
    }
    column.finish()
}

fn coding_of(r: &Entry) -> Option<&NewCoding> {
    r.stored.sample.coding.as_ref()
}

fn coding_column(rows: &[&Entry]) -> CodingColumn {
    CodingColumn {
        systems: string_column(rows, |r| coding_of(r).map(|c| c.system.as_str())),
        codes: string_column(rows, |r| coding_of(r).map(|c| c.code.as_str())),
        displays: string_column(rows, |r| coding_of(r).map(|c| c.display.as_str())),
    }
}

/// A sample batch holding only the columns of `fields`, as the host
/// builds it; `page` is (more, next cursor).
pub(crate) fn sample_batch(rows: &[&Entry], fields: Fields, calendar: Calendar, page: (bool, u64)) -> SampleBatch {
    let has = |f: Fields| fields.contains(f);
    let (start_times, end_times, utc_offsets) = if has(Fields::TIME) {
        (
            Some(rows.iter().map(|r| r.start_ms()).collect()),
            Some(rows.iter().map(|r| r.stored.sample.end.millis()).collect()),
            Some(rows.iter().map(|_| calendar.offset_seconds()).collect()),
        )
    } else {
        (None, None, None)
    };
    let optional = |field: Fields, get: &dyn Fn(&Entry) -> Option<&str>| has(field).then(|| string_column(rows, get));
    SampleBatch {
        type_codes: rows.iter().map(|r| r.data_type().code()).collect(),
        start_times,
        end_times,
        values: has(Fields::VALUE).then(|| rows.iter().map(|r| r.stored.sample.value.unwrap_or(f64::NAN)).collect()),
        units: optional(Fields::UNIT, &|r| Some(r.stored.sample.unit.as_str())),
        codings: has(Fields::VALUE).then(|| coding_column(rows)),
        source_names: optional(Fields::SOURCE_NAME, &|r| r.stored.sample.source_name.as_deref()),
        devices: optional(Fields::DEVICE, &|r| r.stored.sample.device.as_deref()),
        metadata: optional(Fields::METADATA, &|r| r.stored.sample.metadata.as_deref()),
        notes: optional(Fields::NOTES, &|r| r.stored.sample.notes.as_deref()),
        origins: optional(Fields::SOURCE_NAME, &|r| Some(r.origin.as_str())),
        utc_offsets,
        fields,
        more: page.0,
        next_cursor: page.1,
    }
}
