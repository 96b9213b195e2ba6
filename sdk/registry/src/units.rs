//! Unit normalisation: converts a value in the unit a source gave (UCUM or
//! a common spelling: `lb`, `Cal`, `kJ`, `mmol/L`, `%`, `count/min`, ...)
//! to the canonical unit of its data type. Sources disagree on spelling;
//! the registry stores one unit per type.

use super::DataType;

/// What a unit measures; only units of the same dimension convert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dimension {
    Mass,
    Length,
    Energy,
    Volume,
    Time,
    Count,
    Rate,
    Fraction,
    Temperature,
    Pressure,
    Glucose,
    Vo2,
    Bmi,
    Level,
}

/// A unit: dimension, and `base = value * factor + offset`.
#[derive(Clone, Copy, Debug)]
struct Unit {
    dimension: Dimension,
    factor: f64,
    offset: f64,
}

fn unit(spelling: &str) -> Option<Unit> {
    use Dimension::*;
    let u = |dimension, factor| {
        Some(Unit {
            dimension,
            factor,
            offset: 0.0,
        })
    };
    match spelling.trim() {
        "kg" => u(Mass, 1.0),
        "g" => u(Mass, 1e-3),
        "mg" => u(Mass, 1e-6),
        "ug" | "mcg" | "µg" => u(Mass, 1e-9),
        "lb" | "lbs" | "[lb_av]" => u(Mass, 0.453_592_37),
        "oz" | "[oz_av]" => u(Mass, 0.028_349_523_125),
        "st" | "[stone_av]" => u(Mass, 6.350_293_18),
        "m" => u(Length, 1.0),
        "cm" => u(Length, 0.01),
        "mm" => u(Length, 0.001),
        "km" => u(Length, 1000.0),
        "in" | "[in_i]" => u(Length, 0.0254),
        "ft" | "[ft_i]" => u(Length, 0.3048),
        "yd" | "[yd_i]" => u(Length, 0.9144),
        "mi" | "[mi_i]" => u(Length, 1609.344),
        "kcal" | "Cal" | "kilocalorie" | "kilocalories" | "[Cal]" => u(Energy, 1.0),
        "cal" => u(Energy, 1e-3),
        "kJ" => u(Energy, 1.0 / 4.184),
        "J" => u(Energy, 1.0 / 4184.0),
        "mL" | "ml" => u(Volume, 1.0),
        "L" | "l" => u(Volume, 1000.0),
        "dL" => u(Volume, 100.0),
        "fl_oz_us" | "fl oz" | "[foz_us]" => u(Volume, 29.573_529_562_5),
        "cup_us" | "[cup_us]" => u(Volume, 236.588_236_5),
        "min" => u(Time, 1.0),
        "s" | "sec" => u(Time, 1.0 / 60.0),
        "ms" => u(Time, 1.0 / 60_000.0),
        "h" | "hr" => u(Time, 60.0),
        "d" => u(Time, 1440.0),
        "count" | "{count}" | "{steps}" | "steps" | "{flights}" | "flights" => u(Count, 1.0),
        "/min" | "count/min" | "bpm" | "{beats}/min" | "/[min]" | "breaths/min" | "{breaths}/min" => u(Rate, 1.0),
        "1" | "{fraction}" => u(Fraction, 1.0),
        "%" => u(Fraction, 0.01),
        "Cel" | "degC" | "°C" => u(Temperature, 1.0),
        "degF" | "[degF]" | "°F" => Some(Unit {
            dimension: Temperature,
            factor: 5.0 / 9.0,
            offset: -32.0 * 5.0 / 9.0,
        }),
        "mm[Hg]" | "mmHg" => u(Pressure, 1.0),
        "kPa" => u(Pressure, 7.500_616_83),
        "mg/dL" => u(Glucose, 1.0),
        "mmol/L" => u(Glucose, 18.0182),
        "mL/kg/min" | "mL/(kg.min)" | "mL/min·kg" | "ml/(kg·min)" | "mL/min/kg" => u(Vo2, 1.0),
        "kg/m2" | "kg/m^2" => u(Bmi, 1.0),
        "{level}" => u(Level, 1.0),
        _ => None,
    }
}

/// Why a value cannot be normalised.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    /// The unit is not one healthplug knows.
    #[error("unknown unit `{0}`")]
    Unknown(String),
    /// The unit measures something else than the type.
    #[error("`{from}` cannot be converted to `{to}`, the unit of {data_type}")]
    Incompatible {
        /// Given unit.
        from: String,
        /// Canonical unit.
        to: String,
        /// The type.
        data_type: DataType,
    },
}

/// `value` in `given` converted to the canonical unit of `ty`. Types
/// without a single unit (lab results, clinical records) keep the value
/// as given.
pub fn to_canonical(ty: DataType, value: f64, given: &str) -> Result<f64, UnitError> {
    let canonical = ty.info().unit;
    if canonical.is_empty() || given.trim() == canonical {
        return Ok(value);
    }
    // Apple Health writes body mass index with unit "count".
    if ty.id() == "body-mass-index" && matches!(given.trim(), "count" | "1" | "") {
        return Ok(value);
    }
    let from = unit(given).ok_or_else(|| UnitError::Unknown(given.to_string()))?;
    let to = unit(canonical).ok_or_else(|| UnitError::Unknown(canonical.to_string()))?;
    if from.dimension != to.dimension || (from.dimension == Dimension::Glucose && ty.id() != "blood-glucose") {
        return Err(UnitError::Incompatible {
            from: given.to_string(),
            to: canonical.to_string(),
            data_type: ty,
        });
    }
    let base = value * from.factor + from.offset;
    Ok((base - to.offset) / to.factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(id: &str) -> DataType {
        DataType::from_id(id).unwrap()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6 * b.abs().max(1.0)
    }

    #[test]
    fn conversions() {
        assert!(close(to_canonical(t("body-mass"), 176.0, "lb").unwrap(), 79.832_257_12));
        assert!(close(to_canonical(t("dietary-energy"), 250.0, "Cal").unwrap(), 250.0));
        assert!(close(to_canonical(t("dietary-energy"), 4184.0, "kJ").unwrap(), 1000.0));
        assert!(close(to_canonical(t("blood-glucose"), 5.5, "mmol/L").unwrap(), 99.1001));
        assert!(close(to_canonical(t("body-fat-percentage"), 16.1, "%").unwrap(), 0.161));
        assert!(close(to_canonical(t("oxygen-saturation"), 0.97, "1").unwrap(), 0.97));
        assert!(close(to_canonical(t("heart-rate"), 61.0, "count/min").unwrap(), 61.0));
        assert!(close(to_canonical(t("body-temperature"), 98.6, "degF").unwrap(), 37.0));
        assert!(close(to_canonical(t("height"), 1.8, "m").unwrap(), 180.0));
        assert!(close(
            to_canonical(t("distance-walking-running"), 1.0, "mi").unwrap(),
            1609.344
        ));
        assert!(close(
            to_canonical(t("heart-rate-variability"), 48.0, "ms").unwrap(),
            48.0
        ));
        assert!(close(to_canonical(t("workout"), 1800.0, "s").unwrap(), 30.0));
        assert!(close(to_canonical(t("vo2-max"), 42.0, "mL/min·kg").unwrap(), 42.0));
        assert!(close(to_canonical(t("body-mass-index"), 24.3, "count").unwrap(), 24.3));
        assert!(close(to_canonical(t("steps"), 120.0, "count").unwrap(), 120.0));
        assert!(
            close(to_canonical(t("lab-result"), 5.4, "%").unwrap(), 5.4),
            "lab units are kept"
        );
    }

    #[test]
    fn refusals() {
        assert_eq!(
            to_canonical(t("body-mass"), 1.0, "furlong"),
            Err(UnitError::Unknown("furlong".into()))
        );
        assert!(matches!(
            to_canonical(t("body-mass"), 1.0, "kcal"),
            Err(UnitError::Incompatible { .. })
        ));
        assert!(matches!(
            to_canonical(t("blood-pressure-systolic"), 1.0, "mmol/L"),
            Err(UnitError::Incompatible { .. })
        ));
    }
}
