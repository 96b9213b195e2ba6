//! The codings of the coded types: for each, either healthplug's own
//! vocabulary (a code system URI and every code with its meaning and its
//! HealthKit / Health Connect equivalents), which every connector maps its
//! source's codes onto, or the external code systems clinical records
//! carry as their source recorded them. `docs/data-types.md` is generated
//! from here, so a plugin author reads the codes instead of logging a
//! sample to discover them.

/// One code of a healthplug vocabulary.
#[derive(Debug)]
pub struct Code {
    /// The code, as it travels in a sample's coding.
    pub code: &'static str,
    /// The display text connectors write with it.
    pub display: &'static str,
    /// What it means.
    pub meaning: &'static str,
    /// The HealthKit value it corresponds to ("" if none).
    pub healthkit: &'static str,
    /// The Health Connect constant it corresponds to ("" if none).
    pub health_connect: &'static str,
}

/// A code system defined by healthplug.
#[derive(Debug)]
pub struct Vocabulary {
    /// The code system URI carried in each sample's coding.
    pub system: &'static str,
    /// What a sample's numeric `value` holds for this type.
    pub value: &'static str,
    /// Every code.
    pub codes: &'static [Code],
    /// What a connector does with a source code that has no equivalent.
    pub fallback: &'static str,
}

impl Vocabulary {
    /// The code entry for `code`, if it is one of this vocabulary's.
    pub fn code(&self, code: &str) -> Option<&'static Code> {
        self.codes.iter().find(|c| c.code == code)
    }

    /// The code whose HealthKit value is `value`.
    pub fn from_healthkit(&self, value: &str) -> Option<&'static Code> {
        self.codes
            .iter()
            .find(|c| !c.healthkit.is_empty() && c.healthkit.split(" / ").any(|hk| hk == value))
    }
}

/// An external code system a clinical record may carry.
#[derive(Debug)]
pub struct ExternalSystem {
    /// Its name.
    pub name: &'static str,
    /// Its URI, as FHIR writes it in `Coding.system`.
    pub uri: &'static str,
}

/// How a coded type's samples are coded.
#[derive(Debug)]
pub enum Coding {
    /// Codes from a healthplug vocabulary.
    Vocabulary(&'static Vocabulary),
    /// Codes from the source record's own system (one of these, usually).
    External {
        /// What the coding names and what `value` holds.
        describes: &'static str,
        /// The systems seen, most common first.
        systems: &'static [ExternalSystem],
    },
}

const fn c(
    code: &'static str,
    display: &'static str,
    meaning: &'static str,
    healthkit: &'static str,
    health_connect: &'static str,
) -> Code {
    Code {
        code,
        display,
        meaning,
        healthkit,
        health_connect,
    }
}

/// Sleep stages (`sleep`).
#[rustfmt::skip]
pub static SLEEP_STAGE: Vocabulary = Vocabulary {
    system: "https://healthplug.dev/vocab/sleep-stage",
    value: "the stage's length in minutes (`min`); `start` and `end` bound it",
    codes: &[
        c("inBed", "In bed", "In bed, asleep or not (a tracker that does not tell stages apart)", "HKCategoryValueSleepAnalysisInBed", "SleepSessionRecord.STAGE_TYPE_AWAKE_IN_BED"),
        c("awake", "Awake", "Awake during the sleep session", "HKCategoryValueSleepAnalysisAwake", "SleepSessionRecord.STAGE_TYPE_AWAKE"),
        c("asleepUnspecified", "Asleep", "Asleep, stage not known", "HKCategoryValueSleepAnalysisAsleepUnspecified / HKCategoryValueSleepAnalysisAsleep", "SleepSessionRecord.STAGE_TYPE_SLEEPING"),
        c("asleepCore", "Core sleep", "Light (core) sleep: NREM stages 1 and 2", "HKCategoryValueSleepAnalysisAsleepCore", "SleepSessionRecord.STAGE_TYPE_LIGHT"),
        c("asleepDeep", "Deep sleep", "Deep sleep: NREM stage 3 (slow-wave)", "HKCategoryValueSleepAnalysisAsleepDeep", "SleepSessionRecord.STAGE_TYPE_DEEP"),
        c("asleepREM", "REM sleep", "Rapid-eye-movement sleep", "HKCategoryValueSleepAnalysisAsleepREM", "SleepSessionRecord.STAGE_TYPE_REM"),
    ],
    fallback: "a stage with no equivalent is reported as a problem by the connector, never guessed",
};

/// Menstrual flow levels (`menstrual-flow`).
#[rustfmt::skip]
pub static MENSTRUAL_FLOW: Vocabulary = Vocabulary {
    system: "https://healthplug.dev/vocab/menstrual-flow",
    value: "the level as a number (`{level}`): none 0, light 1, medium 2, heavy 3; absent for `unspecified`",
    codes: &[
        c("unspecified", "Unspecified", "Flow recorded without a level", "HKCategoryValueMenstrualFlowUnspecified", "MenstruationFlowRecord.FLOW_UNKNOWN"),
        c("none", "None", "No flow", "HKCategoryValueMenstrualFlowNone", ""),
        c("light", "Light", "Light flow", "HKCategoryValueMenstrualFlowLight", "MenstruationFlowRecord.FLOW_LIGHT"),
        c("medium", "Medium", "Medium flow", "HKCategoryValueMenstrualFlowMedium", "MenstruationFlowRecord.FLOW_MEDIUM"),
        c("heavy", "Heavy", "Heavy flow", "HKCategoryValueMenstrualFlowHeavy", "MenstruationFlowRecord.FLOW_HEAVY"),
    ],
    fallback: "a level with no equivalent is reported as a problem by the connector",
};

/// Workout activities (`workout`).
#[rustfmt::skip]
pub static ACTIVITY: Vocabulary = Vocabulary {
    system: "https://healthplug.dev/vocab/activity",
    value: "the workout's duration in minutes (`min`); distance, energy and the like are in its `metadata` (`distance_m`, `energy_kcal`, ...)",
    codes: &[
        c("running", "Running", "Running, outdoors or on a treadmill", "HKWorkoutActivityTypeRunning", "ExerciseSessionRecord.EXERCISE_TYPE_RUNNING"),
        c("walking", "Walking", "Walking", "HKWorkoutActivityTypeWalking", "ExerciseSessionRecord.EXERCISE_TYPE_WALKING"),
        c("hiking", "Hiking", "Hiking", "HKWorkoutActivityTypeHiking", "ExerciseSessionRecord.EXERCISE_TYPE_HIKING"),
        c("cycling", "Cycling", "Cycling, outdoors or on a stationary bike", "HKWorkoutActivityTypeCycling", "ExerciseSessionRecord.EXERCISE_TYPE_BIKING"),
        c("swimming", "Swimming", "Swimming, pool or open water", "HKWorkoutActivityTypeSwimming", "ExerciseSessionRecord.EXERCISE_TYPE_SWIMMING_POOL"),
        c("rowing", "Rowing", "Rowing, on water or a machine", "HKWorkoutActivityTypeRowing", "ExerciseSessionRecord.EXERCISE_TYPE_ROWING_MACHINE"),
        c("elliptical", "Elliptical", "Elliptical trainer", "HKWorkoutActivityTypeElliptical", "ExerciseSessionRecord.EXERCISE_TYPE_ELLIPTICAL"),
        c("stair-climbing", "Stair climbing", "Stairs or a stair machine", "HKWorkoutActivityTypeStairClimbing / HKWorkoutActivityTypeStairs", "ExerciseSessionRecord.EXERCISE_TYPE_STAIR_CLIMBING"),
        c("strength-training", "Strength training", "Weights, machines or body weight", "HKWorkoutActivityTypeTraditionalStrengthTraining / HKWorkoutActivityTypeFunctionalStrengthTraining", "ExerciseSessionRecord.EXERCISE_TYPE_STRENGTH_TRAINING"),
        c("hiit", "HIIT", "High-intensity interval training", "HKWorkoutActivityTypeHighIntensityIntervalTraining", "ExerciseSessionRecord.EXERCISE_TYPE_HIGH_INTENSITY_INTERVAL_TRAINING"),
        c("cross-training", "Cross training", "Mixed formats such as boot camps", "HKWorkoutActivityTypeCrossTraining", "ExerciseSessionRecord.EXERCISE_TYPE_BOOT_CAMP"),
        c("cardio", "Cardio", "Mixed cardio classes", "HKWorkoutActivityTypeMixedCardio", ""),
        c("yoga", "Yoga", "Yoga", "HKWorkoutActivityTypeYoga", "ExerciseSessionRecord.EXERCISE_TYPE_YOGA"),
        c("pilates", "Pilates", "Pilates", "HKWorkoutActivityTypePilates", "ExerciseSessionRecord.EXERCISE_TYPE_PILATES"),
        c("stretching", "Stretching", "Stretching and flexibility", "HKWorkoutActivityTypeFlexibility", "ExerciseSessionRecord.EXERCISE_TYPE_STRETCHING"),
        c("mind-and-body", "Mind and body", "Meditation, breathing, tai chi", "HKWorkoutActivityTypeMindAndBody", "ExerciseSessionRecord.EXERCISE_TYPE_GUIDED_BREATHING"),
        c("dance", "Dance", "Dance", "HKWorkoutActivityTypeDance / HKWorkoutActivityTypeCardioDance / HKWorkoutActivityTypeSocialDance", "ExerciseSessionRecord.EXERCISE_TYPE_DANCING"),
        c("other", "Other", "Any other activity: the display text keeps the source's own name", "HKWorkoutActivityTypeOther", "ExerciseSessionRecord.EXERCISE_TYPE_OTHER_WORKOUT"),
    ],
    fallback: "an activity with no equivalent is coded `other`, its display text the source's name (\"Traditional Strength Training\", \"Bike Bootcamp\")",
};

const LOINC: ExternalSystem = ExternalSystem {
    name: "LOINC",
    uri: "http://loinc.org",
};
const SNOMED: ExternalSystem = ExternalSystem {
    name: "SNOMED CT",
    uri: "http://snomed.info/sct",
};
const ICD10CM: ExternalSystem = ExternalSystem {
    name: "ICD-10-CM",
    uri: "http://hl7.org/fhir/sid/icd-10-cm",
};
const RXNORM: ExternalSystem = ExternalSystem {
    name: "RxNorm",
    uri: "http://www.nlm.nih.gov/research/umls/rxnorm",
};
const CVX: ExternalSystem = ExternalSystem {
    name: "CVX",
    uri: "http://hl7.org/fhir/sid/cvx",
};

/// The coding of each coded type, by type id.
pub(crate) fn coding_of(id: &str) -> Option<Coding> {
    Some(match id {
        "sleep" => Coding::Vocabulary(&SLEEP_STAGE),
        "menstrual-flow" => Coding::Vocabulary(&MENSTRUAL_FLOW),
        "workout" => Coding::Vocabulary(&ACTIVITY),
        "lab-result" => Coding::External {
            describes: "the test (HbA1c is LOINC 4548-4); `value` and `unit` are the result in the unit the laboratory reported",
            systems: &[LOINC],
        },
        "condition" => Coding::External {
            describes: "the diagnosis; `start` is its onset, no `value`",
            systems: &[SNOMED, ICD10CM],
        },
        "medication" => Coding::External {
            describes: "the medicine prescribed or taken; `start` is when it was ordered or began, no `value`",
            systems: &[RXNORM, SNOMED],
        },
        "allergy" => Coding::External {
            describes: "the substance; `start` is when it was recorded, no `value`",
            systems: &[SNOMED, RXNORM],
        },
        "immunization" => Coding::External {
            describes: "the vaccine; `start` is when it was given, no `value`",
            systems: &[CVX],
        },
        _ => return None,
    })
}
