//! Turning a plugin's columnar `new-samples` into validated samples in
//! canonical units: every column the right length, every type code known,
//! times ordered, values finite, units convertible. One bad sample refuses
//! the whole batch, naming the sample and what is wrong.

use crate::bindings::healthplug::plugin::health_data::NewSamples;
use crate::bindings::healthplug::plugin::types::{CodingColumn, StringColumn};
use crate::registry::{DataType, to_canonical};
use crate::vault::{Coding, NewSample};

/// The most samples one write call may carry.
pub const MAX_WRITE_BATCH: usize = 10_000;

fn text(column: Option<&StringColumn>, i: usize) -> Result<Option<String>, String> {
    let Some(c) = column else { return Ok(None) };
    let index = *c.indices.get(i).ok_or("a string column is shorter than the batch")?;
    let entry = c
        .dictionary
        .get(index as usize)
        .ok_or_else(|| format!("sample {i}: dictionary index {index} is out of range"))?;
    Ok((!entry.is_empty()).then(|| entry.clone()))
}

fn check_len(name: &str, len: usize, n: usize) -> Result<(), String> {
    if len == n {
        Ok(())
    } else {
        Err(format!("the `{name}` column has {len} entries for {n} samples"))
    }
}

fn check_column(name: &str, c: Option<&StringColumn>, n: usize) -> Result<(), String> {
    match c {
        Some(c) => check_len(name, c.indices.len(), n),
        None => Ok(()),
    }
}

fn coding(c: Option<&CodingColumn>, i: usize) -> Result<Option<Coding>, String> {
    let Some(c) = c else { return Ok(None) };
    let Some(code) = text(Some(&c.codes), i)? else {
        return Ok(None);
    };
    Ok(Some(Coding {
        system: text(Some(&c.systems), i)?.unwrap_or_default(),
        code,
        display: text(Some(&c.displays), i)?.unwrap_or_default(),
    }))
}

/// Validates and normalises a batch; the error names the first bad sample.
pub fn decode(batch: &NewSamples) -> Result<Vec<NewSample>, String> {
    let n = batch.type_codes.len();
    if n > MAX_WRITE_BATCH {
        return Err(format!(
            "a write carries at most {MAX_WRITE_BATCH} samples, this one {n}"
        ));
    }
    check_len("start-times", batch.start_times.len(), n)?;
    check_len("end-times", batch.end_times.len(), n)?;
    check_len("values", batch.values.len(), n)?;
    check_column("units", Some(&batch.units), n)?;
    check_column("source-names", batch.source_names.as_ref(), n)?;
    check_column("devices", batch.devices.as_ref(), n)?;
    check_column("metadata", batch.metadata.as_ref(), n)?;
    check_column("notes", batch.notes.as_ref(), n)?;
    if let Some(c) = &batch.codings {
        for (name, col) in [
            ("coding systems", &c.systems),
            ("codes", &c.codes),
            ("coding displays", &c.displays),
        ] {
            check_len(name, col.indices.len(), n)?;
        }
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let data_type = DataType::from_code(batch.type_codes[i])
            .ok_or_else(|| format!("sample {i}: unknown type code {}", batch.type_codes[i]))?;
        let (start_ms, end_ms) = (batch.start_times[i], batch.end_times[i]);
        if end_ms < start_ms {
            return Err(format!("sample {i} ({data_type}): ends before it starts"));
        }
        let raw = batch.values[i];
        let given_unit = text(Some(&batch.units), i)?.unwrap_or_default();
        let (value, original_value, original_unit) = if raw.is_nan() {
            (None, None, None)
        } else if !raw.is_finite() {
            return Err(format!("sample {i} ({data_type}): the value is not finite"));
        } else {
            let canonical = to_canonical(data_type, raw, &given_unit).map_err(|e| format!("sample {i}: {e}"))?;
            if given_unit == data_type.info().unit || data_type.info().unit.is_empty() {
                (Some(canonical), None, None)
            } else {
                (Some(canonical), Some(raw), Some(given_unit.clone()))
            }
        };
        let unit = if data_type.info().unit.is_empty() {
            given_unit
        } else {
            data_type.info().unit.to_string()
        };
        let metadata = text(batch.metadata.as_ref(), i)?;
        if let Some(m) = &metadata
            && !matches!(
                serde_json::from_str::<serde_json::Value>(m),
                Ok(serde_json::Value::Object(_))
            )
        {
            return Err(format!("sample {i} ({data_type}): metadata must be a JSON object"));
        }
        out.push(NewSample {
            data_type,
            start_ms,
            end_ms,
            value,
            unit,
            coding: coding(batch.codings.as_ref(), i)?,
            source_name: text(batch.source_names.as_ref(), i)?,
            device: text(batch.devices.as_ref(), i)?,
            metadata,
            notes: text(batch.notes.as_ref(), i)?,
            original_value,
            original_unit,
        });
    }
    Ok(out)
}
