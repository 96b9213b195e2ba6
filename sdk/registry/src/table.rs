//! The data-type table: the one source of truth for every health data type
//! healthplug knows. The WIT `data-type` enum, the manifest's type names and
//! `docs/data-types.md` are checked against it by tests.

use super::{Category, DataTypeInfo, ValueKind};

use Category::*;
use ValueKind::*;

// A table row constructor: one argument per column keeps the table readable.
#[allow(clippy::too_many_arguments)]
const fn t(
    id: &'static str,
    name: &'static str,
    category: Category,
    unit: &'static str,
    kind: ValueKind,
    healthkit: &'static str,
    health_connect: &'static str,
    code: &'static str,
) -> DataTypeInfo {
    DataTypeInfo {
        id,
        name,
        category,
        unit,
        kind,
        healthkit,
        health_connect,
        code,
    }
}

/// Every data type, in type-code order (the WIT enum's case order).
#[rustfmt::skip]
pub(super) const TABLE: &[DataTypeInfo] = &[
    t("steps", "Steps", Activity, "{steps}", Cumulative, "HKQuantityTypeIdentifierStepCount", "StepsRecord", "LOINC 55423-8"),
    t("distance-walking-running", "Walking + running distance", Activity, "m", Cumulative, "HKQuantityTypeIdentifierDistanceWalkingRunning", "DistanceRecord", ""),
    t("distance-cycling", "Cycling distance", Activity, "m", Cumulative, "HKQuantityTypeIdentifierDistanceCycling", "DistanceRecord", ""),
    t("flights-climbed", "Flights climbed", Activity, "{flights}", Cumulative, "HKQuantityTypeIdentifierFlightsClimbed", "FloorsClimbedRecord", ""),
    t("active-energy", "Active energy", Activity, "kcal", Cumulative, "HKQuantityTypeIdentifierActiveEnergyBurned", "ActiveCaloriesBurnedRecord", "LOINC 41981-2"),
    t("basal-energy", "Basal energy", Activity, "kcal", Cumulative, "HKQuantityTypeIdentifierBasalEnergyBurned", "BasalMetabolicRateRecord", ""),
    t("exercise-time", "Exercise minutes", Activity, "min", Cumulative, "HKQuantityTypeIdentifierAppleExerciseTime", "ExerciseSessionRecord", "LOINC 55411-3"),
    t("stand-time", "Stand minutes", Activity, "min", Cumulative, "HKQuantityTypeIdentifierAppleStandTime", "", ""),
    t("workout", "Workout", Activity, "min", Coded, "HKWorkoutTypeIdentifier", "ExerciseSessionRecord", ""),
    t("vo2-max", "VO2 max", Vitals, "mL/kg/min", Discrete, "HKQuantityTypeIdentifierVO2Max", "Vo2MaxRecord", "LOINC 60842-2"),
    t("heart-rate", "Heart rate", Vitals, "/min", Discrete, "HKQuantityTypeIdentifierHeartRate", "HeartRateRecord", "LOINC 8867-4"),
    t("resting-heart-rate", "Resting heart rate", Vitals, "/min", Discrete, "HKQuantityTypeIdentifierRestingHeartRate", "RestingHeartRateRecord", "LOINC 40443-4"),
    t("walking-heart-rate-average", "Walking heart rate average", Vitals, "/min", Discrete, "HKQuantityTypeIdentifierWalkingHeartRateAverage", "", ""),
    t("heart-rate-variability", "Heart rate variability, SDNN", Vitals, "ms", Discrete, "HKQuantityTypeIdentifierHeartRateVariabilitySDNN", "", "LOINC 80404-7"),
    t("respiratory-rate", "Respiratory rate", Vitals, "/min", Discrete, "HKQuantityTypeIdentifierRespiratoryRate", "RespiratoryRateRecord", "LOINC 9279-1"),
    t("oxygen-saturation", "Oxygen saturation", Vitals, "1", Discrete, "HKQuantityTypeIdentifierOxygenSaturation", "OxygenSaturationRecord", "LOINC 59408-5"),
    t("body-temperature", "Body temperature", Vitals, "Cel", Discrete, "HKQuantityTypeIdentifierBodyTemperature", "BodyTemperatureRecord", "LOINC 8310-5"),
    t("blood-pressure-systolic", "Systolic blood pressure", Vitals, "mm[Hg]", Discrete, "HKQuantityTypeIdentifierBloodPressureSystolic", "BloodPressureRecord", "LOINC 8480-6"),
    t("blood-pressure-diastolic", "Diastolic blood pressure", Vitals, "mm[Hg]", Discrete, "HKQuantityTypeIdentifierBloodPressureDiastolic", "BloodPressureRecord", "LOINC 8462-4"),
    t("blood-glucose", "Blood glucose", Vitals, "mg/dL", Discrete, "HKQuantityTypeIdentifierBloodGlucose", "BloodGlucoseRecord", "LOINC 2339-0"),
    t("body-mass", "Body mass", Body, "kg", Discrete, "HKQuantityTypeIdentifierBodyMass", "WeightRecord", "LOINC 29463-7"),
    t("height", "Height", Body, "cm", Discrete, "HKQuantityTypeIdentifierHeight", "HeightRecord", "LOINC 8302-2"),
    t("body-mass-index", "Body mass index", Body, "kg/m2", Discrete, "HKQuantityTypeIdentifierBodyMassIndex", "", "LOINC 39156-5"),
    t("body-fat-percentage", "Body fat", Body, "1", Discrete, "HKQuantityTypeIdentifierBodyFatPercentage", "BodyFatRecord", "LOINC 41982-0"),
    t("lean-body-mass", "Lean body mass", Body, "kg", Discrete, "HKQuantityTypeIdentifierLeanBodyMass", "LeanBodyMassRecord", "LOINC 91557-9"),
    t("waist-circumference", "Waist circumference", Body, "cm", Discrete, "HKQuantityTypeIdentifierWaistCircumference", "", "LOINC 8280-0"),
    t("dietary-energy", "Dietary energy", Nutrition, "kcal", Cumulative, "HKQuantityTypeIdentifierDietaryEnergyConsumed", "NutritionRecord.energy", "LOINC 9052-2"),
    t("dietary-protein", "Protein", Nutrition, "g", Cumulative, "HKQuantityTypeIdentifierDietaryProtein", "NutritionRecord.protein", "LOINC 9079-5"),
    t("dietary-carbohydrate", "Carbohydrate", Nutrition, "g", Cumulative, "HKQuantityTypeIdentifierDietaryCarbohydrates", "NutritionRecord.totalCarbohydrate", "LOINC 9059-7"),
    t("dietary-fat", "Total fat", Nutrition, "g", Cumulative, "HKQuantityTypeIdentifierDietaryFatTotal", "NutritionRecord.totalFat", "LOINC 9066-2"),
    t("dietary-saturated-fat", "Saturated fat", Nutrition, "g", Cumulative, "HKQuantityTypeIdentifierDietaryFatSaturated", "NutritionRecord.saturatedFat", ""),
    t("dietary-sodium", "Sodium", Nutrition, "mg", Cumulative, "HKQuantityTypeIdentifierDietarySodium", "NutritionRecord.sodium", "LOINC 9086-0"),
    t("dietary-fiber", "Fiber", Nutrition, "g", Cumulative, "HKQuantityTypeIdentifierDietaryFiber", "NutritionRecord.dietaryFiber", ""),
    t("dietary-sugar", "Sugar", Nutrition, "g", Cumulative, "HKQuantityTypeIdentifierDietarySugar", "NutritionRecord.sugar", ""),
    t("dietary-cholesterol", "Cholesterol", Nutrition, "mg", Cumulative, "HKQuantityTypeIdentifierDietaryCholesterol", "NutritionRecord.cholesterol", ""),
    t("dietary-potassium", "Potassium", Nutrition, "mg", Cumulative, "HKQuantityTypeIdentifierDietaryPotassium", "NutritionRecord.potassium", ""),
    t("dietary-water", "Water", Nutrition, "mL", Cumulative, "HKQuantityTypeIdentifierDietaryWater", "HydrationRecord", ""),
    t("sleep", "Sleep", Sleep, "min", Coded, "HKCategoryTypeIdentifierSleepAnalysis", "SleepSessionRecord", "LOINC 93832-4"),
    t("menstrual-flow", "Menstrual flow", Reproductive, "{level}", Coded, "HKCategoryTypeIdentifierMenstrualFlow", "MenstruationFlowRecord", ""),
    t("basal-body-temperature", "Basal body temperature", Reproductive, "Cel", Discrete, "HKQuantityTypeIdentifierBasalBodyTemperature", "BasalBodyTemperatureRecord", ""),
    t("lab-result", "Lab result", Clinical, "", Coded, "HKClinicalTypeIdentifierLabResultRecord", "MedicalResource LABORATORY_RESULTS", "FHIR Observation (laboratory)"),
    t("condition", "Condition", Clinical, "", Coded, "HKClinicalTypeIdentifierConditionRecord", "MedicalResource CONDITIONS", "FHIR Condition"),
    t("medication", "Medication", Clinical, "", Coded, "HKClinicalTypeIdentifierMedicationRecord", "MedicalResource MEDICATIONS", "FHIR MedicationRequest"),
    t("allergy", "Allergy", Clinical, "", Coded, "HKClinicalTypeIdentifierAllergyRecord", "MedicalResource ALLERGIES_INTOLERANCES", "FHIR AllergyIntolerance"),
    t("immunization", "Immunization", Clinical, "", Coded, "HKClinicalTypeIdentifierImmunizationRecord", "MedicalResource VACCINES", "FHIR Immunization"),
    t("heart-rate-variability-rmssd", "Heart rate variability, RMSSD", Vitals, "ms", Discrete, "", "HeartRateVariabilityRmssdRecord", ""),
];

/// Expands to `$callback!(Steps, DistanceWalkingRunning, ...)`: the WIT
/// `data-type` enum's case names in type-code order, which is the table's
/// order (a test checks each name against its row's id). The host's and the
/// SDK's WIT tables are derived from it instead of being copied.
#[macro_export]
macro_rules! with_wit_cases {
    ($callback:ident) => {
        $callback!(
            Steps,
            DistanceWalkingRunning,
            DistanceCycling,
            FlightsClimbed,
            ActiveEnergy,
            BasalEnergy,
            ExerciseTime,
            StandTime,
            Workout,
            Vo2Max,
            HeartRate,
            RestingHeartRate,
            WalkingHeartRateAverage,
            HeartRateVariability,
            RespiratoryRate,
            OxygenSaturation,
            BodyTemperature,
            BloodPressureSystolic,
            BloodPressureDiastolic,
            BloodGlucose,
            BodyMass,
            Height,
            BodyMassIndex,
            BodyFatPercentage,
            LeanBodyMass,
            WaistCircumference,
            DietaryEnergy,
            DietaryProtein,
            DietaryCarbohydrate,
            DietaryFat,
            DietarySaturatedFat,
            DietarySodium,
            DietaryFiber,
            DietarySugar,
            DietaryCholesterol,
            DietaryPotassium,
            DietaryWater,
            Sleep,
            MenstrualFlow,
            BasalBodyTemperature,
            LabResult,
            Condition,
            Medication,
            Allergy,
            Immunization,
            HeartRateVariabilityRmssd
        )
    };
}

#[cfg(test)]
mod tests {
    use super::TABLE;

    macro_rules! names {
        ($($case:ident),* $(,)?) => {
            [$(stringify!($case)),*]
        };
    }

    /// `DistanceWalkingRunning` -> `distance-walking-running`.
    fn kebab(case: &str) -> String {
        let mut out = String::new();
        for (i, c) in case.chars().enumerate() {
            if c.is_ascii_uppercase() {
                if i > 0 {
                    out.push('-');
                }
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn the_wit_cases_are_the_table_in_order() {
        let cases = crate::with_wit_cases!(names);
        assert_eq!(cases.len(), TABLE.len());
        for (case, row) in cases.iter().zip(TABLE) {
            assert_eq!(kebab(case), row.id, "case {case}");
        }
    }
}
