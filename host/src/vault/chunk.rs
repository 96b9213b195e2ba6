//! Vault v2's unit of storage, as plaintext: one (user, type, UTC day)'s
//! samples as columns, so one AEAD open serves every sample of the day and
//! a reader decodes only the columns it delivers.
//!
//! Layout: a version byte (2), the sample count (u32 LE), one u32 LE
//! length per section, the sections, then zero padding up to a size
//! class (so a chunk's sealed size says little about how many samples it
//! holds). Sections, each postcard-encoded:
//!
//! | # | section     | holds                                             |
//! |---|-------------|---------------------------------------------------|
//! | 0 | index       | start (ms into the day), duration, keyed digest   |
//! | 1 | values      | value                                             |
//! | 2 | units       | a dictionary of units and an index per sample     |
//! | 3 | codings     | coding                                            |
//! | 4 | sources     | source name                                       |
//! | 5 | devices     | device                                            |
//! | 6 | metadata    | metadata                                          |
//! | 7 | notes       | notes                                             |
//! | 8 | origins     | a dictionary of (origin, origin digest), an index |
//! | 9 | provenance  | written at, original value, original unit         |
//!
//! Samples are kept in (start, digest) order. Decoding checks every length
//! against the plaintext and every column against the count: a chunk that
//! opened (so was written by us) but does not decode is an error naming
//! what is wrong, never a panic.

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::samples::{Coding, SamplePayload};

/// Milliseconds in a UTC day: chunks are per UTC day.
pub(crate) const DAY_MS: i64 = 86_400_000;

/// Bytes of the keyed content digest kept per sample (HMAC-SHA256
/// truncated to 128 bits: dedupe needs no more).
pub(crate) const DIGEST_LEN: usize = 16;

/// A sample's keyed content digest.
pub(crate) type Digest = [u8; DIGEST_LEN];

/// The UTC day (days since the epoch) of an instant.
pub(crate) fn day_of(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

const VERSION: u8 = 2;
const SECTIONS: usize = 10;
const HEADER: usize = 1 + 4 + 4 * SECTIONS;

/// Which sections to decode (the index is always decoded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Columns(u16);

impl Columns {
    /// Time and digest only.
    pub const INDEX: Columns = Columns(1);
    /// Every section.
    pub const ALL: Columns = Columns((1 << SECTIONS) - 1);
    /// Value and coding.
    pub const VALUE: Columns = Columns(1 | 1 << 1 | 1 << 3);
    /// Unit.
    pub const UNIT: Columns = Columns(1 | 1 << 2);
    /// Source name and origin.
    pub const SOURCE: Columns = Columns(1 | 1 << 4 | 1 << 8);
    /// Device.
    pub const DEVICE: Columns = Columns(1 | 1 << 5);
    /// Metadata.
    pub const METADATA: Columns = Columns(1 | 1 << 6);
    /// Notes.
    pub const NOTES: Columns = Columns(1 | 1 << 7);

    /// Both sets.
    pub const fn with(self, other: Columns) -> Columns {
        Columns(self.0 | other.0)
    }

    fn has(self, section: usize) -> bool {
        self.0 & (1 << section) != 0
    }

    /// Whether anything beyond time is decoded.
    pub fn beyond_index(self) -> bool {
        self.0 & !1 != 0
    }
}

/// One sample as a chunk holds it; with the columns not decoded left empty.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Entry {
    pub start_ms: i64,
    pub end_ms: i64,
    pub digest: Digest,
    pub payload: SamplePayload,
}

#[derive(Serialize, Deserialize, Default)]
struct Index {
    offsets: Vec<i64>,
    durations: Vec<u64>,
    digests: Vec<u8>,
}

/// A column of repeated words: each distinct word once, an index per sample.
#[derive(Serialize, Deserialize, Default)]
pub(crate) struct Dictionary<T> {
    words: Vec<T>,
    each: Vec<u32>,
}

impl<T: PartialEq + Clone> Dictionary<T> {
    fn push(&mut self, word: &T) {
        let at = match self.words.iter().position(|w| w == word) {
            Some(i) => i,
            None => {
                self.words.push(word.clone());
                self.words.len() - 1
            }
        };
        self.each.push(at as u32);
    }

    fn get(&self, i: usize) -> Result<&T> {
        let at = *self.each.get(i).context("a dictionary column is short")?;
        self.words
            .get(at as usize)
            .context("a dictionary index is out of range")
    }
}

/// When each sample was written, and its value and unit as the source gave them.
#[derive(Serialize, Deserialize, Default)]
pub(crate) struct Written {
    at: Vec<i64>,
    original_values: Vec<Option<f64>>,
    original_units: Vec<Option<String>>,
}

/// Encodes `entries` (of the UTC day `day`, in (start, digest) order) as a
/// padded plaintext chunk.
pub(crate) fn encode(day: i64, entries: &[Entry]) -> Result<Vec<u8>> {
    let day_start = day.wrapping_mul(DAY_MS);
    let mut index = Index::default();
    let mut units = Dictionary::<String>::default();
    let mut origins = Dictionary::<(String, Option<String>)>::default();
    let mut written = Written::default();
    for e in entries {
        if e.end_ms < e.start_ms {
            bail!("a sample ends before it starts");
        }
        index.offsets.push(e.start_ms.wrapping_sub(day_start));
        index.durations.push(e.end_ms.abs_diff(e.start_ms));
        index.digests.extend_from_slice(&e.digest);
        units.push(&e.payload.unit);
        let p = &e.payload.provenance;
        origins.push(&(p.origin.clone(), p.origin_digest.clone()));
        written.at.push(p.written_ms);
        written.original_values.push(p.original_value);
        written.original_units.push(p.original_unit.clone());
    }
    let column = |f: &dyn Fn(&SamplePayload) -> Option<String>| entries.iter().map(|e| f(&e.payload)).collect();
    let sources: Vec<Option<String>> = column(&|p| p.source_name.clone());
    let devices: Vec<Option<String>> = column(&|p| p.device.clone());
    let metadata: Vec<Option<String>> = column(&|p| p.metadata.clone());
    let notes: Vec<Option<String>> = column(&|p| p.notes.clone());
    let values: Vec<Option<f64>> = entries.iter().map(|e| e.payload.value).collect();
    let codings: Vec<Option<&Coding>> = entries.iter().map(|e| e.payload.coding.as_ref()).collect();
    let sections: [Vec<u8>; SECTIONS] = [
        postcard::to_stdvec(&index)?,
        postcard::to_stdvec(&values)?,
        postcard::to_stdvec(&units)?,
        postcard::to_stdvec(&codings)?,
        postcard::to_stdvec(&sources)?,
        postcard::to_stdvec(&devices)?,
        postcard::to_stdvec(&metadata)?,
        postcard::to_stdvec(&notes)?,
        postcard::to_stdvec(&origins)?,
        postcard::to_stdvec(&written)?,
    ];
    let body: usize = sections.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(padded_len(HEADER + body));
    out.push(VERSION);
    out.extend_from_slice(
        &u32::try_from(entries.len())
            .context("too many samples in a day")?
            .to_le_bytes(),
    );
    for s in &sections {
        out.extend_from_slice(
            &u32::try_from(s.len())
                .context("a chunk section over 4 GiB")?
                .to_le_bytes(),
        );
    }
    for s in &sections {
        out.extend_from_slice(s);
    }
    out.resize(padded_len(out.len()), 0);
    Ok(out)
}

/// The size class of a plaintext of `len` bytes: at least 256, then steps
/// of an eighth of the power of two below (at most 12.5% padding).
pub(crate) fn padded_len(len: usize) -> usize {
    if len <= 256 {
        return 256;
    }
    let below = 1usize << (usize::BITS - 1 - len.leading_zeros());
    let step = below / 8;
    len.div_ceil(step) * step
}

/// The sample count of a plaintext chunk, without decoding it.
pub(crate) fn count(plain: &[u8]) -> Result<usize> {
    let head: [u8; 4] = plain
        .get(1..5)
        .and_then(|b| b.try_into().ok())
        .context("a chunk is truncated")?;
    Ok(u32::from_le_bytes(head) as usize)
}

mod decode;
pub(crate) use decode::{Decoded, decode, decode_columns};

#[cfg(test)]
mod tests;
