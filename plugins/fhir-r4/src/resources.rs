//! Mapping FHIR R4 resources to healthplug samples: vital-sign
//! Observations by LOINC (blood-pressure panels split into systolic and
//! diastolic), laboratory Observations as lab results, Conditions,
//! MedicationRequests / MedicationStatements, AllergyIntolerances and
//! Immunizations as coded samples. Everything else is counted as skipped.

use std::collections::{BTreeMap, HashMap};

use healthplug_sdk::serde_json::{self, Value};
use healthplug_sdk::{DataType, NewSample, Timestamp};

use crate::dates;

/// What one resource becomes.
pub enum Outcome {
    /// Samples to write.
    Samples(Vec<NewSample>),
    /// Skipped on purpose, with a reason.
    Skip(String),
    /// Malformed, with a reason.
    Problem(String),
}

/// Medication resources of a bundle, by reference, for MedicationRequests
/// that point at one.
#[derive(Default)]
pub struct Medications(HashMap<String, Value>);

impl Medications {
    pub fn new(map: HashMap<String, Value>) -> Medications {
        Medications(map)
    }
}

/// LOINC codes used for vital signs besides the registry's own.
fn loinc_alias(code: &str) -> Option<DataType> {
    match code {
        "2708-6" => Some(DataType::OxygenSaturation),
        "41653-7" => Some(DataType::BloodGlucose),
        "3141-9" => Some(DataType::BodyMass),
        "8306-3" => Some(DataType::Height),
        "8331-1" | "8332-9" | "8333-7" => Some(DataType::BodyTemperature),
        "41950-7" => Some(DataType::Steps),
        _ => None,
    }
}

fn vital_type(code: &str) -> Option<DataType> {
    DataType::from_loinc(code).or_else(|| loinc_alias(code))
}

/// The first coding of a CodeableConcept (preferring `system`), as
/// (system, code, display).
fn coding(concept: &Value, prefer: Option<&str>) -> Option<(String, String, String)> {
    let codings = concept["coding"].as_array()?;
    let pick = prefer
        .and_then(|p| codings.iter().find(|c| c["system"] == p))
        .or_else(|| codings.iter().find(|c| c["code"].is_string()))?;
    let code = pick["code"].as_str()?.to_string();
    let display = pick["display"]
        .as_str()
        .or_else(|| concept["text"].as_str())
        .unwrap_or("")
        .to_string();
    Some((pick["system"].as_str().unwrap_or("").to_string(), code, display))
}

/// The code of each coding of a CodeableConcept list (e.g. categories).
fn codes(list: &Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["coding"].as_array().into_iter().flatten())
        .filter_map(|c| c["code"].as_str().map(str::to_string))
        .collect()
}

fn time(resource: &Value, keys: &[&str]) -> Option<(Timestamp, Timestamp)> {
    for key in keys {
        let v = &resource[*key];
        if let Some(t) = v.as_str().and_then(dates::parse) {
            return Some((t, t));
        }
        if let Some(start) = v["start"].as_str().and_then(dates::parse) {
            let end = v["end"]
                .as_str()
                .and_then(dates::parse)
                .filter(|e| *e >= start)
                .unwrap_or(start);
            return Some((start, end));
        }
    }
    None
}

fn metadata(resource: &Value, fields: &[(&str, Value)]) -> Option<String> {
    let mut map = BTreeMap::new();
    if let (Some(t), Some(id)) = (resource["resourceType"].as_str(), resource["id"].as_str()) {
        map.insert("fhir".to_string(), Value::String(format!("{t}/{id}")));
    }
    for (k, v) in fields {
        if !v.is_null() {
            map.insert((*k).to_string(), v.clone());
        }
    }
    serde_json::to_string(&map).ok()
}

fn status_code(v: &Value) -> Value {
    codes(&Value::Array(vec![v.clone()]))
        .into_iter()
        .next()
        .map(Value::String)
        .unwrap_or(Value::Null)
}

fn quantity(ty: DataType, v: &Value, start: Timestamp, end: Timestamp) -> Result<NewSample, String> {
    let value = v["value"].as_f64().ok_or("valueQuantity has no number")?;
    let unit = v["code"].as_str().or_else(|| v["unit"].as_str()).unwrap_or("");
    ty.to_canonical(value, unit).map_err(|e| e.to_string())?;
    Ok(NewSample::quantity(ty, start, end, value, unit))
}

/// Maps one resource.
pub fn map(r: &Value, meds: &Medications) -> Outcome {
    let kind = r["resourceType"].as_str().unwrap_or("");
    match kind {
        "Observation" => observation(r),
        "Condition" => coded(
            r,
            DataType::Condition,
            &r["code"],
            &["onsetDateTime", "onsetPeriod", "recordedDate"],
            &[
                ("clinicalStatus", status_code(&r["clinicalStatus"])),
                ("verificationStatus", status_code(&r["verificationStatus"])),
                ("abatement", r["abatementDateTime"].clone()),
            ],
            Some(&["abatementDateTime"]),
        ),
        "MedicationRequest" | "MedicationStatement" => {
            let concept = if r["medicationCodeableConcept"].is_object() {
                r["medicationCodeableConcept"].clone()
            } else {
                let reference = r["medicationReference"]["reference"].as_str().unwrap_or("");
                match meds.0.get(reference) {
                    Some(c) => c.clone(),
                    None => return Outcome::Problem(format!("medication `{reference}` is not in the file")),
                }
            };
            coded(
                r,
                DataType::Medication,
                &concept,
                &["authoredOn", "effectiveDateTime", "effectivePeriod", "dateAsserted"],
                &[("status", r["status"].clone()), ("intent", r["intent"].clone())],
                None,
            )
        }
        "AllergyIntolerance" => coded(
            r,
            DataType::Allergy,
            &r["code"],
            &["recordedDate", "onsetDateTime", "onsetPeriod"],
            &[
                ("clinicalStatus", status_code(&r["clinicalStatus"])),
                ("type", r["type"].clone()),
                ("category", r["category"].clone()),
                ("criticality", r["criticality"].clone()),
            ],
            None,
        ),
        "Immunization" if r["status"] == "not-done" => Outcome::Skip("Immunization not done".into()),
        "Immunization" => coded(
            r,
            DataType::Immunization,
            &r["vaccineCode"],
            &["occurrenceDateTime", "recorded"],
            &[("status", r["status"].clone())],
            None,
        ),
        "Patient" => Outcome::Skip("Patient (demographics are not imported)".into()),
        "" => Outcome::Problem("a resource without resourceType".into()),
        other => Outcome::Skip(format!("{other} (no healthplug type)")),
    }
}

fn coded(
    r: &Value,
    ty: DataType,
    concept: &Value,
    time_keys: &[&str],
    meta: &[(&str, Value)],
    end_keys: Option<&[&str]>,
) -> Outcome {
    let kind = r["resourceType"].as_str().unwrap_or("");
    let Some((system, code, display)) = coding(concept, None) else {
        return Outcome::Problem(format!("{kind} without a code"));
    };
    let Some((start, end)) = time(r, time_keys) else {
        return Outcome::Problem(format!("{kind} without a date ({})", time_keys.join(", ")));
    };
    let end = end_keys
        .and_then(|keys| time(r, keys))
        .map(|(e, _)| e)
        .filter(|e| *e >= start)
        .unwrap_or(end);
    let mut s = NewSample::coded(ty, start, end, &system, &code, &display);
    s.metadata = metadata(r, meta);
    Outcome::Samples(vec![s])
}

fn observation(r: &Value) -> Outcome {
    if r["status"] == "entered-in-error" || r["status"] == "cancelled" {
        return Outcome::Skip(format!("Observation {}", r["status"].as_str().unwrap_or("")));
    }
    let Some((start, end)) = time(
        r,
        &["effectiveDateTime", "effectiveInstant", "effectivePeriod", "issued"],
    ) else {
        return Outcome::Problem("Observation without an effective time".into());
    };
    let categories = codes(&r["category"]);
    let Some((system, code, display)) = coding(&r["code"], Some("http://loinc.org")) else {
        return Outcome::Problem("Observation without a code".into());
    };
    let is_lab = categories.iter().any(|c| c == "laboratory");
    let is_vital = categories.is_empty() || categories.iter().any(|c| c == "vital-signs");
    let meta = metadata(r, &[]);
    if is_lab {
        let mut s = NewSample::coded(DataType::LabResult, start, end, &system, &code, &display);
        if let Some(v) = r["valueQuantity"]["value"].as_f64() {
            let unit = r["valueQuantity"]["code"]
                .as_str()
                .or_else(|| r["valueQuantity"]["unit"].as_str())
                .unwrap_or("");
            s = s.with_value(v, unit);
            s.metadata = meta;
        } else {
            let text = coding(&r["valueCodeableConcept"], None)
                .map(|(_, _, d)| d)
                .or_else(|| r["valueString"].as_str().map(str::to_string));
            s.metadata = metadata(r, &[("value", text.map(Value::String).unwrap_or(Value::Null))]);
        }
        return Outcome::Samples(vec![s]);
    }
    if !is_vital {
        return Outcome::Skip(format!(
            "Observation category {} (no healthplug type)",
            categories.join("/")
        ));
    }
    if let Some(components) = r["component"].as_array() {
        let mut out = Vec::new();
        for c in components {
            let Some((_, ccode, _)) = coding(&c["code"], Some("http://loinc.org")) else {
                continue;
            };
            let Some(ty) = vital_type(&ccode) else { continue };
            match quantity(ty, &c["valueQuantity"], start, end) {
                Ok(mut s) => {
                    s.metadata = meta.clone();
                    out.push(s);
                }
                Err(e) => return Outcome::Problem(format!("{display} component {ccode}: {e}")),
            }
        }
        if !out.is_empty() {
            return Outcome::Samples(out);
        }
    }
    let Some(ty) = vital_type(&code) else {
        return Outcome::Skip(format!("Observation {code} {display} (no healthplug type)"));
    };
    match quantity(ty, &r["valueQuantity"], start, end) {
        Ok(mut s) => {
            s.metadata = meta;
            Outcome::Samples(vec![s])
        }
        Err(e) => Outcome::Problem(format!("{display} ({code}): {e}")),
    }
}
