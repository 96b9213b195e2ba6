// The WIT's enums as JavaScript values. componentize-js passes a WIT enum
// as its kebab-case case name ("heart-rate"), so these are plain strings;
// the constants only save typing them.

/**
 * Every data type, in the WIT's case order: a type's index here is its
 * *type code*, the number in a batch's `typeCodes` column. The order is
 * fixed by wit/types.wit (tests/all/javascript.rs checks it against the
 * host's registry).
 */
export const TYPE_IDS = Object.freeze([
  "steps",
  "distance-walking-running",
  "distance-cycling",
  "flights-climbed",
  "active-energy",
  "basal-energy",
  "exercise-time",
  "stand-time",
  "workout",
  "vo2-max",
  "heart-rate",
  "resting-heart-rate",
  "walking-heart-rate-average",
  "heart-rate-variability",
  "respiratory-rate",
  "oxygen-saturation",
  "body-temperature",
  "blood-pressure-systolic",
  "blood-pressure-diastolic",
  "blood-glucose",
  "body-mass",
  "height",
  "body-mass-index",
  "body-fat-percentage",
  "lean-body-mass",
  "waist-circumference",
  "dietary-energy",
  "dietary-protein",
  "dietary-carbohydrate",
  "dietary-fat",
  "dietary-saturated-fat",
  "dietary-sodium",
  "dietary-fiber",
  "dietary-sugar",
  "dietary-cholesterol",
  "dietary-potassium",
  "dietary-water",
  "sleep",
  "menstrual-flow",
  "basal-body-temperature",
  "lab-result",
  "condition",
  "medication",
  "allergy",
  "immunization",
  "heart-rate-variability-rmssd",
]);

const constant = (id) => id.toUpperCase().replaceAll("-", "_");

/** `DataType.DIETARY_WATER` is `"dietary-water"`. */
export const DataType = Object.freeze(Object.fromEntries(TYPE_IDS.map((id) => [constant(id), id])));

/** The fields of a sample a grant may give or withhold. */
export const FIELD_IDS = Object.freeze(["value", "unit", "time", "source-name", "device", "metadata", "notes"]);

/** `Fields.SOURCE_NAME` is `"source-name"`. */
export const Fields = Object.freeze(Object.fromEntries(FIELD_IDS.map((id) => [constant(id), id])));

/** Aggregate bucket sizes (and a grant's finest granularity). */
export const Granularity = Object.freeze({ RAW: "raw", HOURLY: "hourly", DAILY: "daily" });

/** Why a data access was refused (`NotGranted.reason`). */
export const DenialReason = Object.freeze(
  Object.fromEntries(
    [
      "not-requested",
      "not-granted",
      "revoked",
      "expired",
      "aggregates-only",
      "granularity-too-fine",
      "write-not-granted",
      "field-not-granted",
    ].map((id) => [constant(id), id]),
  ),
);

/** The data type of type code `code` (`undefined` for a code this SDK does not know). */
export function typeOfCode(code) {
  return TYPE_IDS[code];
}
