//! Data types, field sets and granularities, with the ids and type codes
//! the host uses.

pub use crate::bindings::healthplug::plugin::types::{DataType, FieldSet as Fields, Granularity};

impl DataType {
    /// Every data type, in type-code order.
    pub const ALL: [DataType; 45] = [
        DataType::Steps,
        DataType::DistanceWalkingRunning,
        DataType::DistanceCycling,
        DataType::FlightsClimbed,
        DataType::ActiveEnergy,
        DataType::BasalEnergy,
        DataType::ExerciseTime,
        DataType::StandTime,
        DataType::Workout,
        DataType::Vo2Max,
        DataType::HeartRate,
        DataType::RestingHeartRate,
        DataType::WalkingHeartRateAverage,
        DataType::HeartRateVariability,
        DataType::RespiratoryRate,
        DataType::OxygenSaturation,
        DataType::BodyTemperature,
        DataType::BloodPressureSystolic,
        DataType::BloodPressureDiastolic,
        DataType::BloodGlucose,
        DataType::BodyMass,
        DataType::Height,
        DataType::BodyMassIndex,
        DataType::BodyFatPercentage,
        DataType::LeanBodyMass,
        DataType::WaistCircumference,
        DataType::DietaryEnergy,
        DataType::DietaryProtein,
        DataType::DietaryCarbohydrate,
        DataType::DietaryFat,
        DataType::DietarySaturatedFat,
        DataType::DietarySodium,
        DataType::DietaryFiber,
        DataType::DietarySugar,
        DataType::DietaryCholesterol,
        DataType::DietaryPotassium,
        DataType::DietaryWater,
        DataType::Sleep,
        DataType::MenstrualFlow,
        DataType::BasalBodyTemperature,
        DataType::LabResult,
        DataType::Condition,
        DataType::Medication,
        DataType::Allergy,
        DataType::Immunization,
    ];

    /// The kebab-case id used in manifests and the CLI (`heart-rate`).
    pub fn id(self) -> &'static str {
        match self {
            DataType::Steps => "steps",
            DataType::DistanceWalkingRunning => "distance-walking-running",
            DataType::DistanceCycling => "distance-cycling",
            DataType::FlightsClimbed => "flights-climbed",
            DataType::ActiveEnergy => "active-energy",
            DataType::BasalEnergy => "basal-energy",
            DataType::ExerciseTime => "exercise-time",
            DataType::StandTime => "stand-time",
            DataType::Workout => "workout",
            DataType::Vo2Max => "vo2-max",
            DataType::HeartRate => "heart-rate",
            DataType::RestingHeartRate => "resting-heart-rate",
            DataType::WalkingHeartRateAverage => "walking-heart-rate-average",
            DataType::HeartRateVariability => "heart-rate-variability",
            DataType::RespiratoryRate => "respiratory-rate",
            DataType::OxygenSaturation => "oxygen-saturation",
            DataType::BodyTemperature => "body-temperature",
            DataType::BloodPressureSystolic => "blood-pressure-systolic",
            DataType::BloodPressureDiastolic => "blood-pressure-diastolic",
            DataType::BloodGlucose => "blood-glucose",
            DataType::BodyMass => "body-mass",
            DataType::Height => "height",
            DataType::BodyMassIndex => "body-mass-index",
            DataType::BodyFatPercentage => "body-fat-percentage",
            DataType::LeanBodyMass => "lean-body-mass",
            DataType::WaistCircumference => "waist-circumference",
            DataType::DietaryEnergy => "dietary-energy",
            DataType::DietaryProtein => "dietary-protein",
            DataType::DietaryCarbohydrate => "dietary-carbohydrate",
            DataType::DietaryFat => "dietary-fat",
            DataType::DietarySaturatedFat => "dietary-saturated-fat",
            DataType::DietarySodium => "dietary-sodium",
            DataType::DietaryFiber => "dietary-fiber",
            DataType::DietarySugar => "dietary-sugar",
            DataType::DietaryCholesterol => "dietary-cholesterol",
            DataType::DietaryPotassium => "dietary-potassium",
            DataType::DietaryWater => "dietary-water",
            DataType::Sleep => "sleep",
            DataType::MenstrualFlow => "menstrual-flow",
            DataType::BasalBodyTemperature => "basal-body-temperature",
            DataType::LabResult => "lab-result",
            DataType::Condition => "condition",
            DataType::Medication => "medication",
            DataType::Allergy => "allergy",
            DataType::Immunization => "immunization",
        }
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
        // The WIT enum and the registry hold the same types in the same
        // order (checked by the host's test suite).
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
