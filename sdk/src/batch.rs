//! Typed views over the columnar batches the host delivers.
//!
//! The host sends one list per column (no string per sample); these types
//! give per-sample iterators and direct column access on top.

use crate::bindings::healthplug::plugin::health_data::AggregateBatch;
use crate::bindings::healthplug::plugin::types::{CodingColumn, SampleBatch, StringColumn};
use crate::{DataType, Fields, Timestamp};

/// Raw samples returned by a query.
#[derive(Clone, Debug)]
pub struct Samples {
    batch: SampleBatch,
}

impl Samples {
    pub(crate) fn new(batch: SampleBatch) -> Samples {
        Samples { batch }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.batch.type_codes.len()
    }

    /// True when the query matched nothing visible.
    pub fn is_empty(&self) -> bool {
        self.batch.type_codes.is_empty()
    }

    /// The fields present (requested ∩ granted).
    pub fn fields(&self) -> Fields {
        self.batch.fields
    }

    /// True when more samples matched than the query's limit.
    pub fn has_more(&self) -> bool {
        self.batch.more
    }

    /// The cursor of the next page (see [`Query::after`](crate::health::Query::after)).
    pub fn next_cursor(&self) -> u64 {
        self.batch.next_cursor
    }

    /// The value column, when the `value` field is present.
    pub fn values(&self) -> Option<&[f64]> {
        self.batch.values.as_deref()
    }

    /// The start-time column (ms since the epoch), when `time` is present.
    pub fn start_times(&self) -> Option<&[i64]> {
        self.batch.start_times.as_deref()
    }

    /// The sample at `index`.
    pub fn get(&self, index: usize) -> Option<Sample<'_>> {
        (index < self.len()).then_some(Sample {
            batch: &self.batch,
            index,
        })
    }

    /// Iterates over the samples in delivery order: oldest first when the
    /// `time` field is delivered; otherwise day by day, in an order within a
    /// day that carries no time information.
    pub fn iter(&self) -> impl Iterator<Item = Sample<'_>> + '_ {
        (0..self.len()).map(move |index| Sample {
            batch: &self.batch,
            index,
        })
    }
}

/// One sample of a [`Samples`] batch. Accessors return `None` for fields
/// that were not granted (or not requested).
#[derive(Clone, Copy, Debug)]
pub struct Sample<'a> {
    batch: &'a SampleBatch,
    index: usize,
}

/// The coding of a coded sample (workout activity, sleep stage, diagnosis,
/// medication, lab test, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Coding<'a> {
    /// The code system URI.
    pub system: &'a str,
    /// The code.
    pub code: &'a str,
    /// Human-readable text.
    pub display: &'a str,
}

fn column_str(column: Option<&StringColumn>, index: usize) -> Option<&str> {
    let column = column?;
    let entry = *column.indices.get(index)?;
    let text = column.dictionary.get(usize::try_from(entry).ok()?)?;
    (!text.is_empty()).then_some(text.as_str())
}

fn coding_at(column: Option<&CodingColumn>, index: usize) -> Option<Coding<'_>> {
    let column = column?;
    let code = column_str(Some(&column.codes), index)?;
    Some(Coding {
        system: column_str(Some(&column.systems), index).unwrap_or(""),
        code,
        display: column_str(Some(&column.displays), index).unwrap_or(""),
    })
}

impl<'a> Sample<'a> {
    /// The sample's data type.
    pub fn data_type(&self) -> Option<DataType> {
        DataType::from_code(*self.batch.type_codes.get(self.index)?)
    }

    /// When the sample starts.
    pub fn start(&self) -> Option<Timestamp> {
        let times = self.batch.start_times.as_ref()?;
        times.get(self.index).copied().map(Timestamp::from_millis)
    }

    /// When the sample ends.
    pub fn end(&self) -> Option<Timestamp> {
        let times = self.batch.end_times.as_ref()?;
        times.get(self.index).copied().map(Timestamp::from_millis)
    }

    /// The numeric value, if granted and the sample has one.
    pub fn value(&self) -> Option<f64> {
        let values = self.batch.values.as_ref()?;
        values.get(self.index).copied().filter(|v| !v.is_nan())
    }

    /// The UCUM unit.
    pub fn unit(&self) -> Option<&'a str> {
        column_str(self.batch.units.as_ref(), self.index)
    }

    /// The coding of a coded sample.
    pub fn coding(&self) -> Option<Coding<'a>> {
        coding_at(self.batch.codings.as_ref(), self.index)
    }

    /// The recording app or organisation.
    pub fn source_name(&self) -> Option<&'a str> {
        column_str(self.batch.source_names.as_ref(), self.index)
    }

    /// The measuring device.
    pub fn device(&self) -> Option<&'a str> {
        column_str(self.batch.devices.as_ref(), self.index)
    }

    /// Metadata as a JSON object text.
    pub fn metadata(&self) -> Option<&'a str> {
        column_str(self.batch.metadata.as_ref(), self.index)
    }

    /// Free-text notes.
    pub fn notes(&self) -> Option<&'a str> {
        column_str(self.batch.notes.as_ref(), self.index)
    }

    /// Who stored the sample: the connector or plugin id the host recorded
    /// (present with `source-name`). Unlike the source name, the writer
    /// cannot choose it.
    pub fn origin(&self) -> Option<&'a str> {
        column_str(self.batch.origins.as_ref(), self.index)
    }

    /// The user's UTC offset at the sample's start, in seconds east of UTC
    /// (present with `time`).
    pub fn utc_offset(&self) -> Option<i32> {
        self.batch.utc_offsets.as_ref()?.get(self.index).copied()
    }
}

/// Aggregates computed by the host, one row per (type, bucket).
#[derive(Clone, Debug)]
pub struct Aggregates {
    batch: AggregateBatch,
}

/// One aggregate row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Aggregate {
    /// The data type.
    pub data_type: Option<DataType>,
    /// Start of the bucket (a local hour or day of the user).
    pub bucket_start: Timestamp,
    /// The user's UTC offset at the bucket's start, seconds east of UTC.
    pub utc_offset: i32,
    /// Number of samples in the bucket.
    pub count: u32,
    /// Sum of the values.
    pub sum: f64,
    /// Mean of the values.
    pub mean: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

impl Aggregates {
    pub(crate) fn new(batch: AggregateBatch) -> Aggregates {
        Aggregates { batch }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.batch.type_codes.len()
    }

    /// True when no bucket had a sample.
    pub fn is_empty(&self) -> bool {
        self.batch.type_codes.is_empty()
    }

    /// The canonical unit of row `index`.
    pub fn unit(&self, index: usize) -> Option<&str> {
        column_str(Some(&self.batch.units), index)
    }

    /// Iterates over the rows in (type, bucket) order.
    pub fn iter(&self) -> impl Iterator<Item = Aggregate> + '_ {
        let b = &self.batch;
        (0..self.len()).map(move |i| Aggregate {
            data_type: b.type_codes.get(i).and_then(|c| DataType::from_code(*c)),
            bucket_start: Timestamp::from_millis(b.bucket_starts.get(i).copied().unwrap_or(0)),
            utc_offset: b.utc_offsets.get(i).copied().unwrap_or(0),
            count: b.counts.get(i).copied().unwrap_or(0),
            sum: b.sums.get(i).copied().unwrap_or(f64::NAN),
            mean: b.means.get(i).copied().unwrap_or(f64::NAN),
            min: b.mins.get(i).copied().unwrap_or(f64::NAN),
            max: b.maxs.get(i).copied().unwrap_or(f64::NAN),
        })
    }

    /// The rows of one data type.
    pub fn of(&self, data_type: DataType) -> impl Iterator<Item = Aggregate> + '_ {
        self.iter().filter(move |a| a.data_type == Some(data_type))
    }
}
