//! Builds the columnar batches sent to plugins: one list per column,
//! strings dictionary-encoded, and only the columns of granted fields.

use std::collections::HashMap;

use super::rows::RowRef;
use crate::bindings::healthplug::plugin::health_data::AggregateBatch;
use crate::bindings::healthplug::plugin::types::{CodingColumn, SampleBatch, StringColumn};
use crate::consent::{Calendar, Fields};

use super::convert::to_wit_fields;

/// Builds a dictionary-encoded string column; entry 0 is `""` (no value).
#[derive(Default)]
pub struct StringColumnBuilder {
    dictionary: Vec<String>,
    lookup: HashMap<String, u32>,
    indices: Vec<u32>,
}

impl StringColumnBuilder {
    /// A builder with room for `n` samples.
    pub fn with_capacity(n: usize) -> StringColumnBuilder {
        StringColumnBuilder {
            dictionary: vec![String::new()],
            lookup: HashMap::new(),
            indices: Vec::with_capacity(n),
        }
    }

    /// Appends one sample's value. Runs of one value (a day of samples in
    /// one unit, from one device) skip the lookup.
    pub fn push(&mut self, value: Option<&str>) {
        let index = match value {
            None | Some("") => 0,
            Some(text)
                if self
                    .indices
                    .last()
                    .and_then(|i| self.dictionary.get(*i as usize))
                    .is_some_and(|last| last == text) =>
            {
                self.indices.last().copied().unwrap_or(0)
            }
            Some(text) => match self.lookup.get(text) {
                Some(i) => *i,
                None => {
                    let i = u32::try_from(self.dictionary.len()).unwrap_or(0);
                    self.dictionary.push(text.to_string());
                    self.lookup.insert(text.to_string(), i);
                    i
                }
            },
        };
        self.indices.push(index);
    }

    /// The finished column.
    pub fn finish(self) -> StringColumn {
        StringColumn {
            dictionary: self.dictionary,
            indices: self.indices,
        }
    }
}

/// Assembles a sample batch from rows (already ordered and limited),
/// holding only the columns of `fields`; `page` is (more, next cursor).
pub fn sample_batch(rows: &[RowRef], fields: Fields, calendar: &Calendar, page: (bool, u64)) -> SampleBatch {
    let n = rows.len();
    let has = |f| fields.contains(f);
    let type_codes = rows.iter().map(|r| r.data_type().code()).collect();
    let (start_times, end_times, utc_offsets) = if has(Fields::TIME) {
        (
            Some(rows.iter().map(RowRef::start_ms).collect()),
            Some(rows.iter().map(RowRef::end_ms).collect()),
            Some(rows.iter().map(|r| calendar.offset_seconds(r.start_ms())).collect()),
        )
    } else {
        (None, None, None)
    };
    let values = has(Fields::VALUE).then(|| rows.iter().map(|r| r.value().unwrap_or(f64::NAN)).collect());
    let string_column = |field: Fields, get: &dyn Fn(&RowRef) -> Option<&str>| {
        has(field).then(|| {
            let mut b = StringColumnBuilder::with_capacity(n);
            for r in rows {
                b.push(get(r));
            }
            b.finish()
        })
    };
    let units = string_column(Fields::UNIT, &RowRef::unit);
    let codings = has(Fields::VALUE).then(|| coding_column(rows));
    let source_names = string_column(Fields::SOURCE_NAME, &RowRef::source_name);
    let origins = string_column(Fields::SOURCE_NAME, &RowRef::origin);
    let devices = string_column(Fields::DEVICE, &RowRef::device);
    let metadata = string_column(Fields::METADATA, &RowRef::metadata);
    let notes = string_column(Fields::NOTES, &RowRef::notes);
    SampleBatch {
        type_codes,
        start_times,
        end_times,
        values,
        units,
        codings,
        source_names,
        devices,
        metadata,
        notes,
        origins,
        utc_offsets,
        fields: to_wit_fields(fields),
        more: page.0,
        next_cursor: page.1,
    }
}

fn coding_column(rows: &[RowRef]) -> CodingColumn {
    let n = rows.len();
    let mut systems = StringColumnBuilder::with_capacity(n);
    let mut codes = StringColumnBuilder::with_capacity(n);
    let mut displays = StringColumnBuilder::with_capacity(n);
    for r in rows {
        let coding = r.coding();
        systems.push(coding.map(|c| c.system.as_str()));
        codes.push(coding.map(|c| c.code.as_str()));
        displays.push(coding.map(|c| c.display.as_str()));
    }
    CodingColumn {
        systems: systems.finish(),
        codes: codes.finish(),
        displays: displays.finish(),
    }
}

/// One aggregate row under construction.
#[derive(Clone, Copy, Debug)]
pub struct Bucket {
    /// Type code.
    pub type_code: u8,
    /// Bucket start.
    pub start_ms: i64,
    /// Samples.
    pub count: u32,
    /// Sum.
    pub sum: f64,
    /// Minimum.
    pub min: f64,
    /// Maximum.
    pub max: f64,
}

/// Folds values, in (type, time) order, into buckets.
#[derive(Default)]
pub struct Aggregator {
    buckets: Vec<Bucket>,
}

impl Aggregator {
    /// Adds one value of type `type_code` to the bucket starting at `start`.
    pub fn push(&mut self, type_code: u8, start: i64, value: f64) {
        match self.buckets.last_mut() {
            Some(b) if b.start_ms == start && b.type_code == type_code => {
                b.count = b.count.saturating_add(1);
                b.sum += value;
                b.min = b.min.min(value);
                b.max = b.max.max(value);
            }
            _ => self.buckets.push(Bucket {
                type_code,
                start_ms: start,
                count: 1,
                sum: value,
                min: value,
                max: value,
            }),
        }
    }

    /// Rows so far.
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    /// The rows.
    pub fn buckets(&self) -> &[Bucket] {
        &self.buckets
    }
}

/// The finished aggregate batch.
pub fn aggregate_batch(buckets: &[Bucket], calendar: &Calendar) -> AggregateBatch {
    let mut units = StringColumnBuilder::with_capacity(buckets.len());
    for b in buckets {
        units.push(crate::registry::DataType::from_code(b.type_code).map(|t| t.info().unit));
    }
    AggregateBatch {
        type_codes: buckets.iter().map(|b| b.type_code).collect(),
        bucket_starts: buckets.iter().map(|b| b.start_ms).collect(),
        utc_offsets: buckets.iter().map(|b| calendar.offset_seconds(b.start_ms)).collect(),
        counts: buckets.iter().map(|b| b.count).collect(),
        sums: buckets.iter().map(|b| b.sum).collect(),
        means: buckets.iter().map(|b| b.sum / f64::from(b.count.max(1))).collect(),
        mins: buckets.iter().map(|b| b.min).collect(),
        maxs: buckets.iter().map(|b| b.max).collect(),
        units: units.finish(),
    }
}
