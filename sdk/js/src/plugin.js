// Tools the assistant can invoke, and the exports componentize-js builds.
//
//     const steps = tool("steps-this-week", "Total steps over the last days",
//       { params: { days: { type: "integer", minimum: 1, maximum: 30, default: 7 } } },
//       ({ days }) => {
//         const rows = health.aggregate([DataType.STEPS]).daily().lastDays(days).fetch();
//         return { steps: rows.reduce((n, r) => n + r.sum, 0) };
//       });
//
//     export const { tools, invoke } = exportPlugin(steps);
//
// Arguments are checked against each tool's JSON-schema parameters before
// the handler runs (unknown, missing, mistyped or out-of-range ones are
// `invalid-args`); the handler's return value (or what its promise
// resolves to) is sent as JSON.

import { HealthplugError, InvalidArgs } from "./errors.js";
import * as log from "./log.js";

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

const TYPES = {
  integer: Number.isInteger,
  number: (v) => typeof v === "number" && Number.isFinite(v),
  string: (v) => typeof v === "string",
  boolean: (v) => typeof v === "boolean",
  array: Array.isArray,
  object: isObject,
};

/** A tool: name, description, JSON-schema parameters, the handler. */
export class Tool {
  constructor(name, description, { params = {}, required = [] } = {}, handler) {
    if (typeof handler !== "function") throw new TypeError(`tool \`${name}\`: the handler must be a function`);
    for (const [arg, spec] of Object.entries(params)) {
      if (spec.type !== undefined && !(spec.type in TYPES)) {
        throw new TypeError(`tool \`${name}\`: \`${arg}\` has type \`${spec.type}\` (types: ${Object.keys(TYPES).join(", ")})`);
      }
    }
    for (const arg of required) {
      if (!(arg in params)) throw new TypeError(`tool \`${name}\`: required \`${arg}\` is not a parameter`);
    }
    this.name = name;
    this.description = description;
    this.params = { ...params };
    this.required = [...required];
    this.handler = handler;
  }

  /** The JSON schema of the arguments. */
  schema() {
    return { type: "object", properties: this.params, required: this.required, additionalProperties: false };
  }

  /**
   * The arguments with the parameters' `default`s filled in; throws
   * `InvalidArgs` naming the first problem.
   */
  check(args) {
    if (!isObject(args)) throw new InvalidArgs("arguments must be a JSON object");
    const names = Object.keys(this.params);
    for (const name of Object.keys(args)) {
      if (!Object.hasOwn(this.params, name)) {
        throw new InvalidArgs(`unknown argument \`${name}\` (takes: ${names.join(", ") || "none"})`);
      }
    }
    for (const name of this.required) {
      if (!Object.hasOwn(args, name)) throw new InvalidArgs(`missing argument \`${name}\``);
    }
    const checked = {};
    for (const [name, spec] of Object.entries(this.params)) {
      if (!Object.hasOwn(args, name)) {
        if (spec.default !== undefined) checked[name] = structuredClone(spec.default);
        continue;
      }
      const value = args[name];
      if (spec.type !== undefined && !TYPES[spec.type](value)) {
        throw new InvalidArgs(`\`${name}\` must be of type ${spec.type}`);
      }
      if (spec.minimum !== undefined && !(value >= spec.minimum)) {
        throw new InvalidArgs(`\`${name}\` must be at least ${spec.minimum}`);
      }
      if (spec.maximum !== undefined && !(value <= spec.maximum)) {
        throw new InvalidArgs(`\`${name}\` must be at most ${spec.maximum}`);
      }
      if (spec.enum !== undefined && !spec.enum.includes(value)) {
        throw new InvalidArgs(`\`${name}\` must be one of ${JSON.stringify(spec.enum)}`);
      }
      checked[name] = value;
    }
    return checked;
  }
}

/**
 * A tool. `params` maps argument names to JSON schemas (`type`, `minimum`,
 * `maximum`, `enum`, `default`, `description`); `required` lists the ones
 * that must be given. The handler gets the checked arguments as one object.
 */
export function tool(name, description, options, handler) {
  if (typeof options === "function") return new Tool(name, description, {}, options);
  return new Tool(name, description, options, handler);
}

const ok = (val) => ({ tag: "ok", val });
const err = (tag, val) => ({ tag: "err", val: { tag, val } });

/**
 * The `tools` and `invoke` exports componentize-js builds into the
 * component (`export const { tools, invoke } = exportPlugin(a, b)`).
 * Tools may also be given as arrays. A handler's `HealthplugError` (a
 * refusal it did not catch) is the tool error `failed`; `InvalidArgs`
 * is `invalid-args`; any other error is a bug: it is logged and the
 * invocation traps.
 */
export function exportPlugin(...given) {
  const list = given.flat();
  const byName = new Map();
  for (const t of list) {
    if (!(t instanceof Tool)) throw new TypeError("exportPlugin takes tools made by `tool(...)`");
    if (byName.has(t.name)) throw new TypeError(`two tools are named \`${t.name}\``);
    byName.set(t.name, t);
  }

  function tools() {
    return list.map((t) => ({
      name: t.name,
      description: t.description,
      argsSchema: JSON.stringify(t.schema()),
      outputSchema: undefined,
    }));
  }

  async function invoke(name, argsJson) {
    const found = byName.get(name);
    if (found === undefined) return err("unknown-tool", name);
    let args;
    try {
      args = found.check(JSON.parse(argsJson || "{}"));
    } catch (e) {
      if (e instanceof InvalidArgs || e instanceof SyntaxError) return err("invalid-args", e.message);
      throw e;
    }
    let result;
    try {
      result = await found.handler(args);
    } catch (e) {
      if (e instanceof InvalidArgs) return err("invalid-args", e.message);
      if (e instanceof HealthplugError) return err("failed", e.message);
      log.error(`${name}: uncaught ${e?.name ?? typeof e}: ${e?.message ?? e}\n${e?.stack ?? ""}`);
      throw e;
    }
    return ok(JSON.stringify(result ?? null));
  }

  return { tools, invoke };
}
