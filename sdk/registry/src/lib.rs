//! The health data-type registry: ids, categories, canonical units and the
//! HealthKit / Health Connect / LOINC / FHIR names of every type, and unit
//! conversion to the canonical units. One source of truth, shared by the
//! host and the SDK (so connectors map and convert exactly as the host
//! checks).

mod docs;
mod table;
mod units;
pub mod vocab;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use docs::markdown_table;
pub use units::{UnitError, to_canonical};
pub use vocab::{Code, Coding, ExternalSystem, Vocabulary};

/// A health data category, used to group types for people.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// Movement and exercise.
    Activity,
    /// Vital signs.
    Vitals,
    /// Body measurements.
    Body,
    /// Food and drink.
    Nutrition,
    /// Sleep.
    Sleep,
    /// Reproductive health.
    Reproductive,
    /// Clinical records: labs, conditions, medications, allergies, immunizations.
    Clinical,
}

impl Category {
    /// The kebab-case id of the category.
    pub fn id(self) -> &'static str {
        match self {
            Category::Activity => "activity",
            Category::Vitals => "vitals",
            Category::Body => "body",
            Category::Nutrition => "nutrition",
            Category::Sleep => "sleep",
            Category::Reproductive => "reproductive",
            Category::Clinical => "clinical",
        }
    }
}

/// How the values of a type behave, which decides how they aggregate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    /// Amounts that add up over time (steps, energy, nutrients).
    Cumulative,
    /// Point measurements (heart rate, weight): mean, min and max make sense.
    Discrete,
    /// Coded samples (workouts, sleep stages, clinical records): the coding
    /// is the point; they are never aggregated.
    Coded,
}

/// Everything the registry knows about one data type.
#[derive(Debug)]
pub struct DataTypeInfo {
    /// The kebab-case id, as used in manifests, the CLI and the WIT enum.
    pub id: &'static str,
    /// A short human name.
    pub name: &'static str,
    /// The category.
    pub category: Category,
    /// The canonical UCUM unit values are stored in ("" when a type has no
    /// single unit, as for lab results, or no numeric value).
    pub unit: &'static str,
    /// How values behave.
    pub kind: ValueKind,
    /// The HealthKit identifier ("" if none).
    pub healthkit: &'static str,
    /// The Health Connect record type ("" if none).
    pub health_connect: &'static str,
    /// The LOINC code or FHIR resource ("" if none).
    pub code: &'static str,
}

/// A health data type: a code into the registry table.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DataType(u8);

/// A name that is not a registry data type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown data type `{name}`{hint}")]
pub struct UnknownDataType {
    /// The name given.
    pub name: String,
    hint: String,
}

impl DataType {
    /// The number of registered data types.
    pub const COUNT: usize = table::TABLE.len();

    /// The type with this type code, if there is one.
    pub fn from_code(code: u8) -> Option<DataType> {
        (usize::from(code) < Self::COUNT).then_some(DataType(code))
    }

    /// The type code (the WIT enum's case index).
    pub fn code(self) -> u8 {
        self.0
    }

    /// The type with this kebab-case id, if there is one.
    pub fn from_id(id: &str) -> Option<DataType> {
        table::TABLE
            .iter()
            .position(|info| info.id == id)
            .and_then(|i| u8::try_from(i).ok())
            .map(DataType)
    }

    /// The kebab-case id.
    pub fn id(self) -> &'static str {
        self.info().id
    }

    /// Everything the registry knows about this type.
    pub fn info(self) -> &'static DataTypeInfo {
        &table::TABLE[usize::from(self.0)]
    }

    /// Every registered type, in type-code order.
    pub fn all() -> impl Iterator<Item = DataType> {
        (0..Self::COUNT).filter_map(|i| u8::try_from(i).ok().map(DataType))
    }

    /// The type whose HealthKit identifier is `identifier`.
    pub fn from_healthkit(identifier: &str) -> Option<DataType> {
        DataType::all().find(|t| !t.info().healthkit.is_empty() && t.info().healthkit == identifier)
    }

    /// The type whose LOINC code is `code` (e.g. `8867-4`).
    pub fn from_loinc(code: &str) -> Option<DataType> {
        DataType::all().find(|t| t.info().code.strip_prefix("LOINC ") == Some(code))
    }

    /// The LOINC code of this type, if it has one.
    pub fn loinc(self) -> Option<&'static str> {
        self.info().code.strip_prefix("LOINC ")
    }

    /// How samples of a coded type are coded (`None` for numeric types).
    pub fn coding(self) -> Option<Coding> {
        vocab::coding_of(self.id())
    }

    /// The healthplug vocabulary of a coded type, if it has one (sleep
    /// stages, menstrual flow, workout activities).
    pub fn vocabulary(self) -> Option<&'static Vocabulary> {
        match self.coding() {
            Some(Coding::Vocabulary(v)) => Some(v),
            _ => None,
        }
    }

    /// Whether values of this type may be aggregated.
    pub fn aggregatable(self) -> bool {
        self.info().kind != ValueKind::Coded
    }
}

impl fmt::Debug for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for DataType {
    type Err = UnknownDataType;

    fn from_str(name: &str) -> Result<DataType, UnknownDataType> {
        DataType::from_id(name).ok_or_else(|| {
            let close: Vec<&str> = table::TABLE
                .iter()
                .map(|info| info.id)
                .filter(|id| id.contains(name) || name.contains(id) || edit_distance(id, name) <= 2)
                .take(3)
                .collect();
            let hint = if close.is_empty() {
                " (run `healthplug types` for the list)".to_string()
            } else {
                format!(" (did you mean {}?)", close.join(", "))
            };
            UnknownDataType {
                name: name.to_string(),
                hint,
            }
        })
    }
}

impl Serialize for DataType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

impl<'de> Deserialize<'de> for DataType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<DataType, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// Parses a comma-separated list of type ids (`steps,heart-rate`).
pub fn parse_type_list(list: &str) -> Result<Vec<DataType>, UnknownDataType> {
    let mut out = Vec::new();
    for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let ty: DataType = name.parse()?;
        if !out.contains(&ty) {
            out.push(ty);
        }
    }
    Ok(out)
}

/// Levenshtein distance, for "did you mean" hints on short ids.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let value = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            cur.push(value);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case_and_round_trip() {
        const { assert!(DataType::COUNT >= 30) };
        for ty in DataType::all() {
            let id = ty.id();
            assert!(
                id.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{id} is not kebab-case"
            );
            assert_eq!(DataType::from_id(id), Some(ty));
            assert_eq!(DataType::from_code(ty.code()), Some(ty));
        }
        assert_eq!(DataType::from_code(u8::try_from(DataType::COUNT).unwrap()), None);
    }

    #[test]
    fn unknown_type_suggests_close_names() {
        let err = "hart-rate".parse::<DataType>().unwrap_err();
        assert!(err.to_string().contains("heart-rate"), "{err}");
        let err = "xyzzy".parse::<DataType>().unwrap_err();
        assert!(err.to_string().contains("healthplug types"), "{err}");
    }

    #[test]
    fn external_identifiers() {
        assert_eq!(
            DataType::from_healthkit("HKQuantityTypeIdentifierStepCount"),
            DataType::from_id("steps")
        );
        assert_eq!(
            DataType::from_healthkit("HKWorkoutTypeIdentifier"),
            DataType::from_id("workout")
        );
        assert_eq!(
            DataType::from_healthkit("HKQuantityTypeIdentifierWalkingStepLength"),
            None
        );
        assert_eq!(DataType::from_loinc("8867-4"), DataType::from_id("heart-rate"));
        assert_eq!(DataType::from_loinc("29463-7"), DataType::from_id("body-mass"));
        assert_eq!(DataType::from_id("body-mass").and_then(|t| t.loinc()), Some("29463-7"));
    }

    #[test]
    fn clinical_types_are_coded() {
        for ty in DataType::all().filter(|t| t.info().category == Category::Clinical) {
            assert_eq!(ty.info().kind, ValueKind::Coded, "{ty}");
            assert!(!ty.aggregatable());
        }
    }
}
