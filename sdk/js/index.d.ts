// Types of the healthplug SDK for JavaScript and TypeScript plugins
// (index.js). See docs/javascript.md.

/** A health data type id (`"steps"`, `"dietary-water"`); docs/data-types.md lists them. */
export type DataTypeId =
  | "steps"
  | "distance-walking-running"
  | "distance-cycling"
  | "flights-climbed"
  | "active-energy"
  | "basal-energy"
  | "exercise-time"
  | "stand-time"
  | "workout"
  | "vo2-max"
  | "heart-rate"
  | "resting-heart-rate"
  | "walking-heart-rate-average"
  | "heart-rate-variability"
  | "respiratory-rate"
  | "oxygen-saturation"
  | "body-temperature"
  | "blood-pressure-systolic"
  | "blood-pressure-diastolic"
  | "blood-glucose"
  | "body-mass"
  | "height"
  | "body-mass-index"
  | "body-fat-percentage"
  | "lean-body-mass"
  | "waist-circumference"
  | "dietary-energy"
  | "dietary-protein"
  | "dietary-carbohydrate"
  | "dietary-fat"
  | "dietary-saturated-fat"
  | "dietary-sodium"
  | "dietary-fiber"
  | "dietary-sugar"
  | "dietary-cholesterol"
  | "dietary-potassium"
  | "dietary-water"
  | "sleep"
  | "menstrual-flow"
  | "basal-body-temperature"
  | "lab-result"
  | "condition"
  | "medication"
  | "allergy"
  | "immunization"
  | "heart-rate-variability-rmssd";

/** A sample field a grant may give or withhold. */
export type FieldId = "value" | "unit" | "time" | "source-name" | "device" | "metadata" | "notes";

/** A bucket size, or a grant's finest granularity. */
export type GranularityId = "raw" | "hourly" | "daily";

/** Why an access was refused. */
export type DenialReasonId =
  | "not-requested"
  | "not-granted"
  | "revoked"
  | "expired"
  | "aggregates-only"
  | "granularity-too-fine"
  | "write-not-granted"
  | "field-not-granted";

type Constant<S extends string> = S extends `${infer A}-${infer B}` ? `${Uppercase<A>}_${Constant<B>}` : Uppercase<S>;
type Constants<T extends string> = { readonly [K in T as Constant<K>]: K };

/** `DataType.DIETARY_WATER === "dietary-water"`. */
export declare const DataType: Constants<DataTypeId>;
/** `Fields.SOURCE_NAME === "source-name"`. */
export declare const Fields: Constants<FieldId>;
/** `Granularity.DAILY === "daily"`. */
export declare const Granularity: Constants<GranularityId>;
/** `DenialReason.NOT_GRANTED === "not-granted"`. */
export declare const DenialReason: Constants<DenialReasonId>;
/** Every data type in type-code order (a type's index is its code). */
export declare const TYPE_IDS: readonly DataTypeId[];

/** Any error the host returned. */
export declare class HealthplugError extends Error {}
/** The user's consent does not cover this access. */
export declare class NotGranted extends HealthplugError {
  constructor(dataType: DataTypeId, reason: DenialReasonId);
  readonly dataType: DataTypeId;
  readonly reason: DenialReasonId;
}
/** `storage` or `network` is not granted, or was revoked. */
export declare class CapabilityNotGranted extends HealthplugError {}
/** The request is malformed (bad time range, coded type aggregated, ...). */
export declare class InvalidRequest extends HealthplugError {}
/** A per-invocation limit was reached (host calls, samples, bytes). */
export declare class LimitExceeded extends HealthplugError {}
/** The host could not serve the request right now. */
export declare class Unavailable extends HealthplugError {}
/** A tool's arguments do not match its parameters (`invalid-args`). */
export declare class InvalidArgs extends Error {}

/** A coded sample's coding (docs/data-types.md lists the codes). */
export interface Coding {
  system: string;
  code: string;
  display: string;
}

/** One sample of a page; `null` for a field not granted. */
export declare class Sample {
  readonly dataType: DataTypeId;
  /** Start, ms since the Unix epoch (needs `time`). */
  readonly start: number | null;
  /** End, ms since the Unix epoch (needs `time`). */
  readonly end: number | null;
  /** The value in the type's canonical unit (needs `value`); NaN for a coded sample without one. */
  readonly value: number | null;
  /** The user's UTC offset at the start, seconds east of UTC (needs `time`). */
  readonly utcOffset: number | null;
  readonly unit: string | null;
  /** The coding of a coded sample (needs `value`). */
  readonly coding: Coding | null;
  readonly sourceName: string | null;
  readonly device: string | null;
  /** A JSON object as text. */
  readonly metadata: string | null;
  readonly notes: string | null;
  /** The connector or plugin that stored it. */
  readonly origin: string | null;
  toJSON(): Record<string, unknown>;
}

/** A page of raw samples; iterate it for `Sample`s. */
export declare class Samples implements Iterable<Sample> {
  readonly length: number;
  at(i: number): Sample | undefined;
  [Symbol.iterator](): Iterator<Sample>;
  /** The value column, `null` without `value`. */
  readonly values: Float64Array | null;
  /** The fields present in this page. */
  readonly fields: FieldId[];
  /** Another page follows. */
  readonly more: boolean;
  readonly nextCursor: bigint;
  /** The WIT `sample-batch` itself. */
  readonly batch: unknown;
}

/** A host-computed (type, bucket) row. */
export interface Aggregate {
  dataType: DataTypeId;
  /** Start of the bucket, ms since the Unix epoch. */
  bucketStart: number;
  /** The user's UTC offset at the bucket start, seconds east of UTC. */
  utcOffset: number;
  count: number;
  sum: number;
  mean: number;
  min: number;
  max: number;
  unit: string;
}

/** What the plugin may read and write for one type now. */
export interface Grant {
  dataType: DataTypeId;
  read: boolean;
  write: boolean;
  fields: FieldId[];
  granularity: GranularityId;
  /** The earliest sample time visible (ms), if the grant has a history window. */
  visibleFrom: number | null;
  /** When the grant ends (ms), if it expires. */
  expiresAt: number | null;
  purpose: string;
}

/** Time: ms since the Unix epoch. */
type Millis = number | bigint;

export declare namespace health {
  const DAY_MS: 86400000;
  /** The host's clock, ms since the Unix epoch. */
  function nowMs(): number;
  /** What this plugin may read and write for the user now. */
  function grants(): Grant[];
  /** A raw-sample query (default: the last 30 days; value, unit, time). */
  function query(types: readonly DataTypeId[]): Query;
  /** An aggregate query (default: daily, the last 30 days). */
  function aggregate(types: readonly DataTypeId[]): AggregateQuery;

  class Query {
    /** Samples from `days` × 24 h ago up to now. */
    lastDays(days: number): this;
    /** Samples starting in [start, end). */
    between(start: Millis, end: Millis): this;
    /** The fields wanted (intersected with the fields granted). */
    fields(...fields: (FieldId | readonly FieldId[])[]): this;
    /** At most `n` samples per page (0: the host's maximum). */
    limit(n: number): this;
    /** Continue after a previous page's `nextCursor`. */
    after(cursor: bigint | number): this;
    /** One page. */
    fetch(): Samples;
    /** Every page, in order. */
    pages(): Generator<Samples, void, void>;
  }

  class AggregateQuery {
    daily(): this;
    hourly(): this;
    /** `days` whole local days up to today (today counts whole). */
    lastDays(days: number): this;
    /** Buckets within [start, end) (partial buckets are dropped). */
    between(start: Millis, end: Millis): this;
    fetch(): Aggregate[];
  }
}

export declare namespace log {
  function trace(message: unknown): void;
  function debug(message: unknown): void;
  function info(message: unknown): void;
  function warn(message: unknown): void;
  function error(message: unknown): void;
}

/** A JSON schema for one argument. */
export interface ParamSchema {
  type?: "integer" | "number" | "string" | "boolean" | "array" | "object";
  minimum?: number;
  maximum?: number;
  enum?: readonly unknown[];
  /** Filled in when the argument is not given. */
  default?: unknown;
  description?: string;
  [keyword: string]: unknown;
}

export interface ToolOptions {
  /** Argument name → JSON schema. */
  params?: Record<string, ParamSchema>;
  /** The arguments that must be given. */
  required?: readonly string[];
}

/** A tool (made by `tool(...)`). */
export declare class Tool<A = Record<string, any>> {
  readonly name: string;
  readonly description: string;
  schema(): object;
}

/** A tool: the handler gets the checked arguments; what it returns (or resolves to) is sent as JSON. */
export declare function tool<A = Record<string, any>>(
  name: string,
  description: string,
  options: ToolOptions,
  handler: (args: A) => unknown,
): Tool<A>;
export declare function tool(name: string, description: string, handler: () => unknown): Tool<{}>;

/** The WIT exports componentize-js builds: `export const { tools, invoke } = exportPlugin(...)`. */
export interface PluginExports {
  tools(): { name: string; description: string; argsSchema: string; outputSchema?: string }[];
  invoke(tool: string, argsJson: string): Promise<{ tag: "ok"; val: string } | { tag: "err"; val: { tag: string; val: string } }>;
}

export declare function exportPlugin(...tools: (Tool<any> | readonly Tool<any>[])[]): PluginExports;
