//! A sample of a decoded day chunk, by reference: pages move these (a
//! shared pointer to the day's columns and an index), never copies of the
//! samples, and the batch for the plugin is built from the columns.

use std::rc::Rc;

use crate::registry::DataType;
use crate::vault::Coding;
use crate::vault::chunk::Digest;
use crate::vault::sample_read::DayRows;

/// Sample `at` of a decoded day.
#[derive(Clone)]
pub(crate) struct RowRef {
    day: Rc<DayRows>,
    at: usize,
}

impl RowRef {
    /// References to the samples of `day` whose (start, digest) `keep`
    /// accepts, in the day's (start, digest) order.
    pub fn all<'a>(
        day: &'a Rc<DayRows>,
        keep: impl Fn(i64, &Digest) -> bool + 'a,
    ) -> impl Iterator<Item = RowRef> + 'a {
        let cols = &day.cols;
        cols.starts
            .iter()
            .zip(&cols.digests)
            .enumerate()
            .filter(move |(_, (start, digest))| keep(**start, digest))
            .map(|(at, _)| RowRef { day: day.clone(), at })
    }

    /// The sample's type.
    pub fn data_type(&self) -> DataType {
        self.day.data_type
    }

    /// Its start (ms since epoch).
    pub fn start_ms(&self) -> i64 {
        self.day.cols.starts.get(self.at).copied().unwrap_or_default()
    }

    /// Its end (ms since epoch).
    pub fn end_ms(&self) -> i64 {
        self.day.cols.ends.get(self.at).copied().unwrap_or_default()
    }

    /// Its keyed content digest.
    pub fn digest(&self) -> Digest {
        self.day.cols.digests.get(self.at).copied().unwrap_or_default()
    }

    /// Its value, if decoded and present.
    pub fn value(&self) -> Option<f64> {
        self.day.cols.value(self.at)
    }

    /// Its unit, if decoded.
    pub fn unit(&self) -> Option<&str> {
        self.day.cols.unit(self.at)
    }

    /// Its coding, if decoded and present.
    pub fn coding(&self) -> Option<&Coding> {
        self.day.cols.coding(self.at)
    }

    /// Its source name, if decoded and present.
    pub fn source_name(&self) -> Option<&str> {
        self.day.cols.source_name(self.at)
    }

    /// The plugin, connector or tool that wrote it, if decoded.
    pub fn origin(&self) -> Option<&str> {
        self.day.cols.origin(self.at)
    }

    /// Its device, if decoded and present.
    pub fn device(&self) -> Option<&str> {
        self.day.cols.device(self.at)
    }

    /// Its metadata, if decoded and present.
    pub fn metadata(&self) -> Option<&str> {
        self.day.cols.metadata(self.at)
    }

    /// Its notes, if decoded and present.
    pub fn notes(&self) -> Option<&str> {
        self.day.cols.notes(self.at)
    }
}
