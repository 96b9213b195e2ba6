//! Writing samples: [`NewSample`]s are sent to the host in columnar
//! batches (strings dictionary-encoded). The host converts units to each
//! type's canonical unit, keeps the originals as provenance, and commits
//! the invocation's writes together when it succeeds.

use std::collections::HashMap;

use crate::bindings::healthplug::plugin::health_data::NewSamples;
use crate::bindings::healthplug::plugin::types::{CodingColumn, StringColumn};
use crate::{DataType, Error, Timestamp};

/// The most samples sent in one host call (the host's limit).
pub const MAX_BATCH: usize = 10_000;

/// A code from a code system, owned (for writing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCoding {
    /// Code system URI.
    pub system: String,
    /// Code.
    pub code: String,
    /// Display text.
    pub display: String,
}

/// A sample to write.
#[derive(Clone, Debug, PartialEq)]
pub struct NewSample {
    /// The type.
    pub data_type: DataType,
    /// Start.
    pub start: Timestamp,
    /// End (not before start).
    pub end: Timestamp,
    /// The value, in `unit`.
    pub value: Option<f64>,
    /// The unit the value is in, as the source gave it.
    pub unit: String,
    /// The coding of a coded sample.
    pub coding: Option<NewCoding>,
    /// Recording app or organisation.
    pub source_name: Option<String>,
    /// Measuring device.
    pub device: Option<String>,
    /// Metadata as a JSON object text.
    pub metadata: Option<String>,
    /// Free-text notes.
    pub notes: Option<String>,
}

impl NewSample {
    /// A quantity: `value` in `unit` over `[start, end]`.
    pub fn quantity(data_type: DataType, start: Timestamp, end: Timestamp, value: f64, unit: &str) -> NewSample {
        NewSample {
            data_type,
            start,
            end,
            value: Some(value),
            unit: unit.to_string(),
            coding: None,
            source_name: None,
            device: None,
            metadata: None,
            notes: None,
        }
    }

    /// A coded sample (condition, medication, workout, sleep stage, ...).
    pub fn coded(
        data_type: DataType,
        start: Timestamp,
        end: Timestamp,
        system: &str,
        code: &str,
        display: &str,
    ) -> NewSample {
        NewSample {
            data_type,
            start,
            end,
            value: None,
            unit: String::new(),
            coding: Some(NewCoding {
                system: system.to_string(),
                code: code.to_string(),
                display: display.to_string(),
            }),
            source_name: None,
            device: None,
            metadata: None,
            notes: None,
        }
    }

    /// Sets the value and its unit.
    pub fn with_value(mut self, value: f64, unit: &str) -> NewSample {
        self.value = Some(value);
        self.unit = unit.to_string();
        self
    }

    /// Sets the source name.
    pub fn with_source(mut self, source: &str) -> NewSample {
        self.source_name = Some(source.to_string());
        self
    }

    /// Sets the device.
    pub fn with_device(mut self, device: &str) -> NewSample {
        self.device = Some(device.to_string());
        self
    }

    /// Sets the metadata (a JSON object text).
    pub fn with_metadata(mut self, metadata: &str) -> NewSample {
        self.metadata = Some(metadata.to_string());
        self
    }

    /// Sets the notes.
    pub fn with_notes(mut self, notes: &str) -> NewSample {
        self.notes = Some(notes.to_string());
        self
    }
}

/// What writing did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteReport {
    /// Samples accepted (every sample handed over; exact duplicates of
    /// what the user already holds are skipped by the host without telling
    /// the plugin).
    pub accepted: u64,
}

/// A dictionary-encoded string column under construction (entry 0 is
/// `""`, no value).
#[derive(Default)]
pub(crate) struct Dictionary {
    dictionary: Vec<String>,
    lookup: HashMap<String, u32>,
    indices: Vec<u32>,
}

impl Dictionary {
    pub(crate) fn new() -> Dictionary {
        Dictionary {
            dictionary: vec![String::new()],
            ..Dictionary::default()
        }
    }

    pub(crate) fn push(&mut self, value: Option<&str>) {
        let index = match value {
            None | Some("") => 0,
            Some(v) => *self.lookup.entry(v.to_string()).or_insert_with(|| {
                self.dictionary.push(v.to_string());
                u32::try_from(self.dictionary.len() - 1).unwrap_or(0)
            }),
        };
        self.indices.push(index);
    }

    pub(crate) fn finish(self) -> StringColumn {
        StringColumn {
            dictionary: self.dictionary,
            indices: self.indices,
        }
    }

    /// The column, or `None` when every entry is empty.
    fn finish_optional(self) -> Option<StringColumn> {
        (self.dictionary.len() > 1).then(|| self.finish())
    }
}

pub(crate) fn encode(samples: &[NewSample]) -> NewSamples {
    let mut units = Dictionary::new();
    let (mut systems, mut codes, mut displays) = (Dictionary::new(), Dictionary::new(), Dictionary::new());
    let (mut sources, mut devices, mut metadata, mut notes) = (
        Dictionary::new(),
        Dictionary::new(),
        Dictionary::new(),
        Dictionary::new(),
    );
    for s in samples {
        units.push(Some(&s.unit));
        systems.push(s.coding.as_ref().map(|c| c.system.as_str()));
        codes.push(s.coding.as_ref().map(|c| c.code.as_str()));
        displays.push(s.coding.as_ref().map(|c| c.display.as_str()));
        sources.push(s.source_name.as_deref());
        devices.push(s.device.as_deref());
        metadata.push(s.metadata.as_deref());
        notes.push(s.notes.as_deref());
    }
    let codings = (codes.dictionary.len() > 1).then(|| CodingColumn {
        systems: systems.finish(),
        codes: codes.finish(),
        displays: displays.finish(),
    });
    NewSamples {
        type_codes: samples.iter().map(|s| s.data_type.code()).collect(),
        start_times: samples.iter().map(|s| s.start.millis()).collect(),
        end_times: samples.iter().map(|s| s.end.millis()).collect(),
        values: samples.iter().map(|s| s.value.unwrap_or(f64::NAN)).collect(),
        units: units.finish(),
        codings,
        source_names: sources.finish_optional(),
        devices: devices.finish_optional(),
        metadata: metadata.finish_optional(),
        notes: notes.finish_optional(),
    }
}

/// Writes `samples`, in batches of at most [`MAX_BATCH`]. Each batch is all
/// or nothing; the first refused batch stops the write with its error.
pub fn write(samples: &[NewSample]) -> Result<WriteReport, Error> {
    let mut report = WriteReport::default();
    for chunk in samples.chunks(MAX_BATCH) {
        let r = crate::host::write(&encode(chunk)).map_err(Error::from)?;
        report.accepted += u64::from(r.accepted);
    }
    Ok(report)
}
