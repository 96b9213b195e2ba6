//! The set of sample fields a grant covers (value, unit, time, source name,
//! device, metadata, notes), as a small bit set in WIT `field-set` order.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A set of sample fields. Bit `i` is the `i`-th flag of the WIT
/// `field-set`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Fields(u8);

/// A field name that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown field `{0}` (fields are: value, unit, time, source-name, device, metadata, notes)")]
pub struct UnknownField(pub String);

impl Fields {
    /// The numeric value and, for coded types, the coding.
    pub const VALUE: Fields = Fields(1);
    /// The unit.
    pub const UNIT: Fields = Fields(1 << 1);
    /// Start and end time.
    pub const TIME: Fields = Fields(1 << 2);
    /// The recording app or organisation.
    pub const SOURCE_NAME: Fields = Fields(1 << 3);
    /// The measuring device.
    pub const DEVICE: Fields = Fields(1 << 4);
    /// Key/value metadata.
    pub const METADATA: Fields = Fields(1 << 5);
    /// Free-text notes.
    pub const NOTES: Fields = Fields(1 << 6);
    /// No field.
    pub const NONE: Fields = Fields(0);
    /// Every field.
    pub const ALL: Fields = Fields(0x7f);
    /// What a request without a `fields` list asks for.
    pub const DEFAULT: Fields = Fields(0b111);

    const NAMES: [(&'static str, Fields); 7] = [
        ("value", Fields::VALUE),
        ("unit", Fields::UNIT),
        ("time", Fields::TIME),
        ("source-name", Fields::SOURCE_NAME),
        ("device", Fields::DEVICE),
        ("metadata", Fields::METADATA),
        ("notes", Fields::NOTES),
    ];

    /// The raw bits (WIT flag order).
    pub fn bits(self) -> u8 {
        self.0
    }

    /// Fields from raw bits; unknown bits are dropped.
    pub fn from_bits(bits: u8) -> Fields {
        Fields(bits & Fields::ALL.0)
    }

    /// True when every field of `other` is in `self`.
    pub fn contains(self, other: Fields) -> bool {
        self.0 & other.0 == other.0
    }

    /// Fields in both.
    pub fn intersect(self, other: Fields) -> Fields {
        Fields(self.0 & other.0)
    }

    /// Fields in either.
    pub fn union(self, other: Fields) -> Fields {
        Fields(self.0 | other.0)
    }

    /// Fields in `self` but not in `other`.
    pub fn minus(self, other: Fields) -> Fields {
        Fields(self.0 & !other.0)
    }

    /// True when no field is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The names of the fields set, in canonical order.
    pub fn names(self) -> Vec<&'static str> {
        Fields::NAMES
            .iter()
            .filter(|(_, f)| self.contains(*f))
            .map(|(n, _)| *n)
            .collect()
    }

    /// The field with this name.
    pub fn from_name(name: &str) -> Result<Fields, UnknownField> {
        Fields::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
            .ok_or_else(|| UnknownField(name.to_string()))
    }

    /// Parses a comma-separated list (`value,time`); `all` means every field.
    pub fn parse_list(list: &str) -> Result<Fields, UnknownField> {
        let mut out = Fields::NONE;
        for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            out = out.union(if name == "all" {
                Fields::ALL
            } else {
                Fields::from_name(name)?
            });
        }
        Ok(out)
    }
}

impl std::ops::BitOr for Fields {
    type Output = Fields;

    fn bitor(self, other: Fields) -> Fields {
        self.union(other)
    }
}

impl fmt::Display for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&self.names().join(","))
        }
    }
}

impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fields({self})")
    }
}

impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.names().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Fields, D::Error> {
        let names = Vec::<String>::deserialize(deserializer)?;
        let mut out = Fields::NONE;
        for name in names {
            out = out.union(Fields::from_name(&name).map_err(serde::de::Error::custom)?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        let f = Fields::parse_list("time, value").unwrap();
        assert_eq!(f.to_string(), "value,time");
        assert_eq!(Fields::parse_list("all").unwrap(), Fields::ALL);
        assert!(Fields::parse_list("value,colour").is_err());
        assert_eq!(Fields::ALL.names().len(), 7);
        assert!(Fields::ALL.contains(Fields::NOTES));
        assert_eq!(Fields::ALL.minus(Fields::NOTES).intersect(Fields::NOTES), Fields::NONE);
    }
}
