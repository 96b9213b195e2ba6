// Columnar batches as the host sends them, with per-sample views.
//
// A `Samples` page keeps the host's columns (one typed array per field,
// dictionary-encoded strings); iterating gives `Sample` views whose
// properties are `null` for every field the plugin was not granted.

import { typeOfCode } from "./types.js";

function text(column, i) {
  if (column == null) return null;
  return column.dictionary[column.indices[i]] || null;
}

function number(column, i) {
  return column == null ? null : Number(column[i]);
}

/** One sample of a page; `null` for a field not granted. */
export class Sample {
  constructor(batch, i) {
    this._batch = batch;
    this._i = i;
  }

  /** The data type (`"steps"`). */
  get dataType() {
    return typeOfCode(this._batch.typeCodes[this._i]);
  }

  /** Start, ms since the Unix epoch (needs `time`). */
  get start() {
    return number(this._batch.startTimes, this._i);
  }

  /** End, ms since the Unix epoch (needs `time`). */
  get end() {
    return number(this._batch.endTimes, this._i);
  }

  /** The value in the type's canonical unit (needs `value`); NaN for a coded sample without one. */
  get value() {
    return number(this._batch.values, this._i);
  }

  /** The user's UTC offset at the start, seconds east of UTC (needs `time`). */
  get utcOffset() {
    return number(this._batch.utcOffsets, this._i);
  }

  /** The UCUM unit (needs `unit`). */
  get unit() {
    return text(this._batch.units, this._i);
  }

  /** `{ system, code, display }` of a coded sample (needs `value`), else `null`. */
  get coding() {
    const c = this._batch.codings;
    if (c == null) return null;
    const code = text(c.codes, this._i);
    if (code === null) return null;
    return { system: text(c.systems, this._i) ?? "", code, display: text(c.displays, this._i) ?? "" };
  }

  /** The app or organisation that recorded it (needs `source-name`). */
  get sourceName() {
    return text(this._batch.sourceNames, this._i);
  }

  /** The device that measured it (needs `device`). */
  get device() {
    return text(this._batch.devices, this._i);
  }

  /** Its metadata, a JSON object as text (needs `metadata`). */
  get metadata() {
    return text(this._batch.metadata, this._i);
  }

  /** Free-text notes (needs `notes`). */
  get notes() {
    return text(this._batch.notes, this._i);
  }

  /** The connector or plugin that stored it, as the host recorded it (needs `source-name`). */
  get origin() {
    return text(this._batch.origins, this._i);
  }

  /** The fields present, as a plain object (for `JSON.stringify`). */
  toJSON() {
    return {
      dataType: this.dataType,
      start: this.start,
      end: this.end,
      value: this.value,
      unit: this.unit,
      coding: this.coding,
      sourceName: this.sourceName,
      device: this.device,
      metadata: this.metadata,
      notes: this.notes,
      origin: this.origin,
      utcOffset: this.utcOffset,
    };
  }
}

/** A page of raw samples in columnar form; iterate it for `Sample`s. */
export class Samples {
  constructor(batch) {
    /** The WIT `sample-batch` itself. */
    this.batch = batch;
  }

  /** Samples in this page. */
  get length() {
    return this.batch.typeCodes.length;
  }

  /** Sample `i` of this page. */
  at(i) {
    return i >= 0 && i < this.length ? new Sample(this.batch, i) : undefined;
  }

  *[Symbol.iterator]() {
    for (let i = 0; i < this.length; i++) yield new Sample(this.batch, i);
  }

  /** The value column (a `Float64Array`; `null` without `value`): sum it without a view per sample. */
  get values() {
    return this.batch.values ?? null;
  }

  /** The fields actually present in this page (`["value", "time"]`). */
  get fields() {
    return fieldList(this.batch.fields);
  }

  /** True when another page follows (`Query.after(nextCursor)`; `pages()` follows it for you). */
  get more() {
    return this.batch.more;
  }

  /** The cursor of the next page (a `bigint`, 0n when `more` is false). */
  get nextCursor() {
    return this.batch.nextCursor;
  }
}

const FLAG_KEYS = {
  value: "value",
  unit: "unit",
  time: "time",
  "source-name": "sourceName",
  device: "device",
  metadata: "metadata",
  notes: "notes",
};

/** `["value", "time"]` → the WIT `field-set` flags (`{ value: true, time: true }`). */
export function fieldFlags(fields) {
  const flags = {};
  for (const f of fields) {
    const key = FLAG_KEYS[f];
    if (key === undefined) throw new TypeError(`unknown field \`${f}\` (fields: ${Object.keys(FLAG_KEYS).join(", ")})`);
    flags[key] = true;
  }
  return flags;
}

/** The WIT `field-set` flags → `["value", "time"]`. */
export function fieldList(flags) {
  return Object.entries(FLAG_KEYS)
    .filter(([, key]) => flags?.[key])
    .map(([id]) => id);
}

/**
 * The rows of an aggregate batch: `{ dataType, bucketStart, utcOffset,
 * count, sum, mean, min, max, unit }` each, times in ms since the epoch,
 * `utcOffset` in seconds east of UTC.
 */
export function aggregates(batch) {
  const rows = [];
  for (let i = 0; i < batch.typeCodes.length; i++) {
    rows.push({
      dataType: typeOfCode(batch.typeCodes[i]),
      bucketStart: Number(batch.bucketStarts[i]),
      utcOffset: batch.utcOffsets[i],
      count: batch.counts[i],
      sum: batch.sums[i],
      mean: batch.means[i],
      min: batch.mins[i],
      max: batch.maxs[i],
      unit: batch.units.dictionary[batch.units.indices[i]],
    });
  }
  return rows;
}
