#!/usr/bin/env python3
"""Independent expectations for the real-data import tests.

Reads the shared test exports with Python's standard library only (no
healthplug code) and prints, per file, the samples each connector should
store per type (distinct by content) and the sum of their values in the
registry's canonical unit. The numbers asserted in tests/all/realdata.rs
come from this script:

    python3 tests/realdata/expected.py "$HEALTHPLUG_TESTDATA"
"""
import csv, json, math, sys, xml.etree.ElementTree as ET
from collections import defaultdict

root = sys.argv[1] if len(sys.argv) > 1 else "../shared/testdata"

LB, MI, IN = 0.45359237, 1609.344, 2.54

def show(name, per_type):
    print(name)
    for ty in sorted(per_type):
        vals = per_type[ty]
        total = sum(v for v in vals if v is not None and not math.isnan(v))
        print(f"  {ty:28} count={len(vals):4} sum={total:.6f}")

# --- Apple Health -----------------------------------------------------------
HK = {
    "HKQuantityTypeIdentifierStepCount": ("steps", 1),
    "HKQuantityTypeIdentifierDistanceWalkingRunning": ("distance-walking-running", {"mi": MI, "km": 1000, "m": 1}),
    "HKQuantityTypeIdentifierBodyMass": ("body-mass", {"lb": LB, "kg": 1}),
    "HKQuantityTypeIdentifierLeanBodyMass": ("lean-body-mass", {"lb": LB, "kg": 1}),
    "HKQuantityTypeIdentifierBodyFatPercentage": ("body-fat-percentage", 1),   # already a fraction
    "HKQuantityTypeIdentifierBodyMassIndex": ("body-mass-index", 1),
    "HKQuantityTypeIdentifierHeight": ("height", {"cm": 1, "m": 100, "in": IN, "ft": 30.48}),
    "HKQuantityTypeIdentifierVO2Max": ("vo2-max", 1),
    "HKQuantityTypeIdentifierWalkingHeartRateAverage": ("walking-heart-rate-average", 1),
    "HKQuantityTypeIdentifierHeartRate": ("heart-rate", 1),
    "HKQuantityTypeIdentifierHeartRateVariabilitySDNN": ("heart-rate-variability", 1),
    "HKQuantityTypeIdentifierActiveEnergyBurned": ("active-energy", {"kcal": 1, "Cal": 1}),
    "HKQuantityTypeIdentifierAppleExerciseTime": ("exercise-time", 1),
}

def apple(path):
    per_type = defaultdict(list)
    seen = set()
    covered = set()
    tree = ET.parse(path)
    for el in tree.getroot():
        a = el.attrib
        if el.tag == "Record" and a.get("type") in HK:
            ty, factor = HK[a["type"]]
            v = float(a["value"])
            f = factor[a.get("unit")] if isinstance(factor, dict) else factor
            key = tuple(sorted(a.items())) + tuple(sorted((m.get("key"), m.get("value")) for m in el.findall("MetadataEntry")))
            if key in seen:
                continue
            seen.add(key)
            per_type[ty].append(v * f)
            if ty in ("active-energy", "exercise-time"):
                covered.add((ty, a["startDate"][:10]))
        elif el.tag == "Workout":
            d = float(a["duration"]) if "duration" in a else None
            unit = a.get("durationUnit", "min")
            per_type["workout"].append(d * {"min": 1, "s": 1 / 60, "hr": 60, "h": 60}[unit])
    for el in tree.getroot().iter("ActivitySummary"):
        a = el.attrib
        for ty, key in (("active-energy", "activeEnergyBurned"), ("exercise-time", "appleExerciseTime")):
            if key in a and (ty, a["dateComponents"]) not in covered:
                per_type[ty].append(float(a[key]))
    return per_type

# --- FHIR ---------------------------------------------------------------------
VITALS = {"8867-4": "heart-rate", "9279-1": "respiratory-rate", "2708-6": "oxygen-saturation",
          "59408-5": "oxygen-saturation", "8310-5": "body-temperature", "8480-6": "blood-pressure-systolic",
          "8462-4": "blood-pressure-diastolic", "29463-7": "body-mass", "8302-2": "height", "39156-5": "body-mass-index",
          "2339-0": "blood-glucose"}
CODED = {"Condition": "condition", "MedicationRequest": "medication", "AllergyIntolerance": "allergy",
         "Immunization": "immunization"}

def canonical(ty, q):
    v, unit = q["value"], q.get("code", q.get("unit"))
    if ty == "oxygen-saturation" and unit == "%":
        return v / 100
    if ty == "height" and unit == "m":
        return v * 100
    return v

def fhir_resources(resources, patient):
    per_type = defaultdict(list)
    other = 0
    for r in resources:
        subj = (r.get("subject") or r.get("patient") or {}).get("reference", "")
        owner = r["id"] if r["resourceType"] == "Patient" else subj.split("/")[-1].replace("urn:uuid:", "")
        if patient and owner and owner != patient:
            other += 1
            continue
        t = r["resourceType"]
        if t in CODED:
            if t == "Immunization" and r.get("status") == "not-done":
                continue
            per_type[CODED[t]].append(None)
        elif t == "Observation":
            cats = [c["code"] for cat in r.get("category", []) for c in cat.get("coding", [])]
            if "laboratory" in cats:
                per_type["lab-result"].append(r.get("valueQuantity", {}).get("value"))
            elif "vital-signs" in cats:
                for comp in r.get("component", []):
                    code = comp["code"]["coding"][0]["code"]
                    if code in VITALS:
                        per_type[VITALS[code]].append(canonical(VITALS[code], comp["valueQuantity"]))
                code = r["code"]["coding"][0]["code"]
                if code in VITALS and "valueQuantity" in r:
                    per_type[VITALS[code]].append(canonical(VITALS[code], r["valueQuantity"]))
    return per_type, other

# --- MyFitnessPal -------------------------------------------------------------
MFP = {"Calories": "dietary-energy", "Fat (g)": "dietary-fat", "Carbohydrates (g)": "dietary-carbohydrate",
       "Protein (g)": "dietary-protein", "Sodium (mg)": "dietary-sodium"}

def mfp(path):
    per_type = defaultdict(list)
    with open(path, encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            for col, ty in MFP.items():
                if row.get(col, "").strip():
                    per_type[ty].append(float(row[col]))
    return per_type

# --- GPX ----------------------------------------------------------------------
def gpx(path):
    per_type = defaultdict(list)
    tree = ET.parse(path)
    local = lambda tag: tag.rsplit("}", 1)[-1]
    for el in tree.getroot().iter():
        if local(el.tag) == "trk":
            times = [t.text for t in el.iter() if local(t.tag) == "time"]
            if times:
                from datetime import datetime
                ts = [datetime.fromisoformat(t.replace("Z", "+00:00")) for t in times]
                per_type["workout"].append((max(ts) - min(ts)).total_seconds() / 60)
        if local(el.tag) in ("trkpt", "wpt"):
            hrs = [h.text for h in el.iter() if local(h.tag) == "hr"]
            if hrs:
                per_type["heart-rate"].append(float(hrs[0]))
    return per_type

if __name__ == "__main__":
    for f in ["apple-health/dogsheep/export.xml", "apple-health/opendroid-hk/sampleexport.xml",
              "apple-health/opendroid-hk/sampleexport-2.xml"]:
        show(f, apple(f"{root}/{f}"))
    bundle = json.load(open(f"{root}/fhir/synthea_sample_complete_patient.json"))
    per_type, other = fhir_resources([e["resource"] for e in bundle["entry"]], None)
    show("fhir/synthea_sample_complete_patient.json", per_type)
    patient = "cbc86e51-9eca-3855-76ec-c058f72c5761"
    for name in ["Condition", "MedicationRequest", "AllergyIntolerance", "Immunization", "Patient"]:
        lines = [json.loads(l) for l in open(f"{root}/fhir/bulk-10-patients/{name}.000.ndjson")]
        per_type, other = fhir_resources(lines, patient)
        show(f"fhir/bulk-10-patients/{name}.000.ndjson --patient {patient} (other patients: {other}, "
             f"patients: {len({(r.get('subject') or r.get('patient') or {}).get('reference', r['id']) for r in lines})})", per_type)
    show("myfitnesspal/mfp.csv", mfp(f"{root}/myfitnesspal/mfp.csv"))
    for f in ["gpx/gpx_with_garmin_extension.gpx", "gpx/track-with-less-sec-time.gpx", "gpx/track_with_speed.gpx",
              "apple-health/dogsheep/zip_contents/apple_health_export/workout-routes/route_2019-06-11_3.00pm.gpx"]:
        show(f, gpx(f"{root}/{f}"))
