//! Data types, field sets and granularities, with the ids and type codes
//! the host uses.

pub use crate::bindings::healthplug::plugin::types::{DataType, FieldSet as Fields, Granularity};

macro_rules! all_cases {
    ($($case:ident),* $(,)?) => {
        [$(DataType::$case),*]
    };
}

impl DataType {
    /// Every data type, in type-code order (the registry's list).
    pub const ALL: [DataType; healthplug_registry::DataType::COUNT] = healthplug_registry::with_wit_cases!(all_cases);

    /// The kebab-case id used in manifests and the CLI (`heart-rate`), from
    /// the registry.
    pub fn id(self) -> &'static str {
        self.registry().id()
    }

    /// The type with this kebab-case id.
    pub fn from_id(id: &str) -> Option<DataType> {
        DataType::ALL.iter().copied().find(|t| t.id() == id)
    }

    /// The type with this type code (its position in the WIT enum).
    pub fn from_code(code: u8) -> Option<DataType> {
        DataType::ALL.get(usize::from(code)).copied()
    }

    /// The type code (its position in the WIT enum).
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The registry entry: category, canonical unit, HealthKit identifier,
    /// Health Connect record, LOINC code or FHIR resource.
    pub fn info(self) -> &'static healthplug_registry::DataTypeInfo {
        self.registry().info()
    }

    /// The same type in the shared registry.
    pub fn registry(self) -> healthplug_registry::DataType {
        // `ALL` is the registry's list in order and covers it (checked at
        // compile time below).
        healthplug_registry::DataType::from_code(self.code())
            .unwrap_or_else(|| unreachable!("WIT data type {} without a registry entry", self.code()))
    }

    /// The type with this HealthKit identifier.
    pub fn from_healthkit(identifier: &str) -> Option<DataType> {
        healthplug_registry::DataType::from_healthkit(identifier).and_then(|t| DataType::from_code(t.code()))
    }

    /// The type with this LOINC code.
    pub fn from_loinc(code: &str) -> Option<DataType> {
        healthplug_registry::DataType::from_loinc(code).and_then(|t| DataType::from_code(t.code()))
    }

    /// `value` in `unit` converted to this type's canonical unit, as the
    /// host will convert it on write.
    pub fn to_canonical(self, value: f64, unit: &str) -> Result<f64, healthplug_registry::UnitError> {
        healthplug_registry::to_canonical(self.registry(), value, unit)
    }
}

// The `ALL` table must be in type-code order: checked at compile time.
const _: () = {
    let mut i = 0;
    while i < DataType::ALL.len() {
        assert!(DataType::ALL[i] as usize == i, "DataType::ALL is out of order");
        i += 1;
    }
    assert!(DataType::ALL.len() == healthplug_registry::DataType::COUNT);
};

impl std::fmt::Display for DataType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

impl std::str::FromStr for DataType {
    type Err = String;

    fn from_str(s: &str) -> Result<DataType, String> {
        DataType::from_id(s).ok_or_else(|| format!("unknown data type `{s}`"))
    }
}

impl Granularity {
    /// The kebab-case name (`raw`, `hourly`, `daily`).
    pub fn id(self) -> &'static str {
        match self {
            Granularity::Raw => "raw",
            Granularity::Hourly => "hourly",
            Granularity::Daily => "daily",
        }
    }
}
