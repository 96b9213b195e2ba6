// The user's health data: raw samples, host-computed aggregates and the
// grants this plugin holds. Every call is checked by the host against the
// user's consent; a refusal throws `NotGranted` with its reason.
//
//     const days = health.aggregate([DataType.STEPS]).daily().lastDays(7).fetch();
//     const night = health.query([DataType.SLEEP]).lastDays(1).fetch();
//
// Times are numbers of ms since the Unix epoch. The clock is read when a
// query is built, never when the module loads: componentize-js runs a
// module's top level once, at build time.

import * as wit from "healthplug:plugin/health-data@0.1.0";

import { Samples, aggregates, fieldFlags, fieldList } from "./batch.js";
import { call } from "./errors.js";

export const DAY_MS = 86_400_000;

/** The host's clock, ms since the Unix epoch. */
export function nowMs() {
  return Date.now();
}

const ms = (t) => BigInt(Math.trunc(Number(t)));

/**
 * What this plugin may read and write for the user now: one
 * `{ dataType, read, write, fields, granularity, visibleFrom, expiresAt, purpose }`
 * per type (`fields` a list like `["value", "time"]`, times in ms or `null`).
 */
export function grants() {
  return call(wit.grants).map((g) => ({
    dataType: g.dataType,
    read: g.read,
    write: g.write,
    fields: fieldList(g.fields),
    granularity: g.granularity,
    visibleFrom: g.visibleFrom == null ? null : Number(g.visibleFrom),
    expiresAt: g.expiresAt == null ? null : Number(g.expiresAt),
    purpose: g.purpose,
  }));
}

function fieldArgs(fields) {
  return fields.flat();
}

/**
 * A raw-sample query: `lastDays`, `between`, `fields`, `limit`, then
 * `fetch` (one page) or `pages` (every page).
 */
export class Query {
  constructor(types) {
    const now = nowMs();
    this.types = [...types];
    this.start = now - 30 * DAY_MS;
    this.end = now + 1;
    this.wanted = ["value", "unit", "time"];
    this.max = 0;
    this.cursor = 0n;
  }

  /** Samples from `days` × 24 h ago up to now. */
  lastDays(days) {
    const now = nowMs();
    this.start = now - days * DAY_MS;
    this.end = now + 1;
    return this;
  }

  /** Samples starting in [start, end) (ms). */
  between(start, end) {
    this.start = Number(start);
    this.end = Number(end);
    return this;
  }

  /** The fields wanted (intersected with the fields granted): `fields("value", "time")`. */
  fields(...fields) {
    this.wanted = fieldArgs(fields);
    return this;
  }

  /** At most `n` samples per page (0: the host's maximum). */
  limit(n) {
    this.max = n;
    return this;
  }

  /** Continue after a previous page's `nextCursor`. */
  after(cursor) {
    this.cursor = BigInt(cursor);
    return this;
  }

  /** One page. */
  fetch() {
    const q = {
      types: this.types,
      start: ms(this.start),
      end: ms(this.end),
      fields: fieldFlags(this.wanted),
      limit: this.max,
      cursor: this.cursor,
    };
    return new Samples(call(wit.query, q));
  }

  /** Every page, in order. */
  *pages() {
    for (;;) {
      const page = this.fetch();
      yield page;
      if (!page.more) return;
      this.cursor = page.nextCursor;
    }
  }
}

/** Host-computed counts, sums, means, mins and maxes per local day or hour. */
export class AggregateQuery {
  constructor(types) {
    const now = nowMs();
    this.types = [...types];
    this.start = now - 30 * DAY_MS;
    // A day past now: the host counts today's bucket in progress whole
    // only for an end past *its* clock, read after this one.
    this.end = now + DAY_MS;
    this.bucket = "daily";
  }

  /** One row per local calendar day (the default). */
  daily() {
    this.bucket = "daily";
    return this;
  }

  /** One row per local hour. */
  hourly() {
    this.bucket = "hourly";
    return this;
  }

  /** `days` whole local days up to today (today counts whole). */
  lastDays(days) {
    const now = nowMs();
    this.start = now - days * DAY_MS;
    this.end = now + DAY_MS;
    return this;
  }

  /** Buckets within [start, end) (ms; partial buckets are dropped). */
  between(start, end) {
    this.start = Number(start);
    this.end = Number(end);
    return this;
  }

  /** The rows: `{ dataType, bucketStart, utcOffset, count, sum, mean, min, max, unit }`. */
  fetch() {
    const q = { types: this.types, start: ms(this.start), end: ms(this.end), bucket: this.bucket };
    return aggregates(call(wit.aggregate, q));
  }
}

/** Starts a raw-sample query (default: the last 30 days; value, unit, time). */
export function query(types) {
  return new Query(types);
}

/** Starts an aggregate query (default: daily, the last 30 days). */
export function aggregate(types) {
  return new AggregateQuery(types);
}
