//! Decoding a plaintext chunk (layout in `chunk.rs`): the index always,
//! the other sections only when asked for, every length checked against
//! the plaintext and every column against the sample count.

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use super::{
    Coding, Columns, DAY_MS, DIGEST_LEN, Dictionary, Digest, Entry, HEADER, Index, SECTIONS, VERSION, Written, count,
};
use crate::vault::samples::{Provenance, SamplePayload};

/// The sections of a plaintext chunk, checked against its length.
fn split(plain: &[u8]) -> Result<(usize, [&[u8]; SECTIONS])> {
    if plain.len() < HEADER {
        bail!("a chunk is truncated ({} bytes)", plain.len());
    }
    if plain[0] != VERSION {
        bail!("a chunk has version {}, not {VERSION}", plain[0]);
    }
    let n = count(plain)?;
    let mut sections = [&plain[0..0]; SECTIONS];
    let mut at = HEADER;
    for (i, section) in sections.iter_mut().enumerate() {
        let lo = 5 + 4 * i;
        let len = u32::from_le_bytes([plain[lo], plain[lo + 1], plain[lo + 2], plain[lo + 3]]) as usize;
        let end = at.checked_add(len).filter(|e| *e <= plain.len());
        let end = end.with_context(|| format!("chunk section {i} runs past the chunk"))?;
        *section = &plain[at..end];
        at = end;
    }
    Ok((n, sections))
}

fn section<'a, T: Deserialize<'a>>(bytes: &'a [u8], name: &str) -> Result<T> {
    postcard::from_bytes(bytes).with_context(|| format!("decoding a chunk's {name} column"))
}

fn sized<T>(v: Vec<T>, n: usize, name: &str) -> Result<Vec<T>> {
    if v.len() != n {
        bail!("a chunk's {name} column holds {} entries, not {n}", v.len());
    }
    Ok(v)
}

fn empty_payload() -> SamplePayload {
    SamplePayload {
        value: None,
        unit: String::new(),
        coding: None,
        source_name: None,
        device: None,
        metadata: None,
        notes: None,
        provenance: Provenance {
            origin: String::new(),
            origin_digest: None,
            written_ms: 0,
            original_value: None,
            original_unit: None,
        },
    }
}

/// A decoded chunk, as columns: the index always, the other columns only
/// when they were asked for (empty otherwise). Every decoded column holds
/// exactly one entry per sample (checked when decoding).
#[derive(Default)]
pub(crate) struct Decoded {
    pub starts: Vec<i64>,
    pub ends: Vec<i64>,
    pub digests: Vec<Digest>,
    values: Vec<Option<f64>>,
    units: Dictionary<String>,
    codings: Vec<Option<Coding>>,
    sources: Vec<Option<String>>,
    devices: Vec<Option<String>>,
    metadata: Vec<Option<String>>,
    notes: Vec<Option<String>>,
    origins: Dictionary<(String, Option<String>)>,
    written: Written,
}

impl Decoded {
    /// How many samples.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// Sample `i`'s value (`None` when absent or not decoded).
    pub fn value(&self, i: usize) -> Option<f64> {
        self.values.get(i).copied().flatten()
    }

    /// Sample `i`'s unit.
    pub fn unit(&self, i: usize) -> Option<&str> {
        self.units.get(i).ok().map(String::as_str)
    }

    /// Sample `i`'s coding.
    pub fn coding(&self, i: usize) -> Option<&Coding> {
        self.codings.get(i).and_then(Option::as_ref)
    }

    /// Sample `i`'s source name.
    pub fn source_name(&self, i: usize) -> Option<&str> {
        self.sources.get(i).and_then(|s| s.as_deref())
    }

    /// Sample `i`'s device.
    pub fn device(&self, i: usize) -> Option<&str> {
        self.devices.get(i).and_then(|s| s.as_deref())
    }

    /// Sample `i`'s metadata.
    pub fn metadata(&self, i: usize) -> Option<&str> {
        self.metadata.get(i).and_then(|s| s.as_deref())
    }

    /// Sample `i`'s notes.
    pub fn notes(&self, i: usize) -> Option<&str> {
        self.notes.get(i).and_then(|s| s.as_deref())
    }

    /// The plugin, connector or tool that wrote sample `i`.
    pub fn origin(&self, i: usize) -> Option<&str> {
        self.origins.get(i).ok().map(|(o, _)| o.as_str())
    }

    /// The samples as entries (columns not decoded left empty).
    pub fn into_entries(self) -> Vec<Entry> {
        let n = self.len();
        let mut out = Vec::with_capacity(n);
        let index = self.starts.iter().zip(&self.ends).zip(&self.digests);
        for (i, ((start_ms, end_ms), digest)) in index.enumerate() {
            let mut payload = empty_payload();
            payload.value = self.value(i);
            if let Some(unit) = self.unit(i) {
                payload.unit = unit.to_string();
            }
            payload.coding = self.coding(i).cloned();
            payload.source_name = self.source_name(i).map(str::to_string);
            payload.device = self.device(i).map(str::to_string);
            payload.metadata = self.metadata(i).map(str::to_string);
            payload.notes = self.notes(i).map(str::to_string);
            if let Ok((origin, digest)) = self.origins.get(i) {
                payload.provenance.origin.clone_from(origin);
                payload.provenance.origin_digest.clone_from(digest);
            }
            if let Some(at) = self.written.at.get(i) {
                payload.provenance.written_ms = *at;
                payload.provenance.original_value = self.written.original_values.get(i).copied().flatten();
                payload.provenance.original_unit = self.written.original_units.get(i).cloned().flatten();
            }
            out.push(Entry {
                start_ms: *start_ms,
                end_ms: *end_ms,
                digest: *digest,
                payload,
            });
        }
        out
    }
}

/// Decodes the index of a plaintext chunk of UTC day `day` and the
/// sections `cols` asks for, as entries.
pub(crate) fn decode(day: i64, plain: &[u8], cols: Columns) -> Result<Vec<Entry>> {
    Ok(decode_columns(day, plain, cols)?.into_entries())
}

/// Decodes the index of a plaintext chunk of UTC day `day` and the
/// sections `cols` asks for, as columns.
pub(crate) fn decode_columns(day: i64, plain: &[u8], cols: Columns) -> Result<Decoded> {
    let (n, s) = split(plain)?;
    let index: Index = section(s[0], "index")?;
    let (offsets, durations) = (
        sized(index.offsets, n, "start")?,
        sized(index.durations, n, "duration")?,
    );
    if index.digests.len() != n * DIGEST_LEN {
        bail!(
            "a chunk's digest column is {} bytes for {n} samples",
            index.digests.len()
        );
    }
    let day_start = day.wrapping_mul(DAY_MS);
    let mut out = Decoded {
        starts: Vec::with_capacity(n),
        ends: Vec::with_capacity(n),
        digests: Vec::with_capacity(n),
        ..Decoded::default()
    };
    for (offset, duration) in offsets.iter().zip(&durations) {
        let start_ms = day_start.wrapping_add(*offset);
        let end_ms = start_ms
            .checked_add_unsigned(*duration)
            .context("a chunk's duration is out of range")?;
        out.starts.push(start_ms);
        out.ends.push(end_ms);
    }
    for digest in index.digests.chunks_exact(DIGEST_LEN) {
        let mut d = [0u8; DIGEST_LEN];
        d.copy_from_slice(digest);
        out.digests.push(d);
    }
    decode_sections(&mut out, &s, cols)?;
    Ok(out)
}

fn strings(bytes: &[u8], n: usize, name: &str) -> Result<Vec<Option<String>>> {
    sized(section(bytes, name)?, n, name)
}

fn dictionary<T: for<'de> Deserialize<'de>>(bytes: &[u8], n: usize, name: &str) -> Result<Dictionary<T>> {
    let d: Dictionary<T> = section(bytes, name)?;
    if d.each.len() != n || d.each.iter().any(|&i| i as usize >= d.words.len()) {
        bail!("a chunk's {name} column does not match its {n} samples");
    }
    Ok(d)
}

fn decode_sections(out: &mut Decoded, s: &[&[u8]; SECTIONS], cols: Columns) -> Result<()> {
    let n = out.len();
    if cols.has(1) {
        out.values = sized(section(s[1], "value")?, n, "value")?;
    }
    if cols.has(2) {
        out.units = dictionary(s[2], n, "unit")?;
    }
    if cols.has(3) {
        out.codings = sized(section(s[3], "coding")?, n, "coding")?;
    }
    if cols.has(4) {
        out.sources = strings(s[4], n, "source")?;
    }
    if cols.has(5) {
        out.devices = strings(s[5], n, "device")?;
    }
    if cols.has(6) {
        out.metadata = strings(s[6], n, "metadata")?;
    }
    if cols.has(7) {
        out.notes = strings(s[7], n, "notes")?;
    }
    if cols.has(8) {
        out.origins = dictionary(s[8], n, "origin")?;
    }
    if cols.has(9) {
        let w: Written = section(s[9], "provenance")?;
        out.written = Written {
            at: sized(w.at, n, "written-at")?,
            original_values: sized(w.original_values, n, "original value")?,
            original_units: sized(w.original_units, n, "original unit")?,
        };
    }
    Ok(())
}
