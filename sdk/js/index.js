// healthplug SDK for JavaScript plugins.
//
// A plugin is a set of tools; `export const { tools, invoke } =
// exportPlugin(...)` gives the exports componentize-js builds into a
// WebAssembly component against healthplug's WIT. `node build.mjs <dir>
// --out <dir>` bundles `app.js` with this SDK, picks the world that matches
// the manifest (no `storage` import unless it declares `[storage]`, no
// `wasi:http` unless `[network]`) and runs componentize-js. See
// docs/javascript.md.

export * as health from "./src/health.js";
export * as log from "./src/log.js";
export { Sample, Samples } from "./src/batch.js";
export { DataType, DenialReason, Fields, Granularity, TYPE_IDS } from "./src/types.js";
export {
  CapabilityNotGranted,
  HealthplugError,
  InvalidArgs,
  InvalidRequest,
  LimitExceeded,
  NotGranted,
  Unavailable,
} from "./src/errors.js";
export { Tool, exportPlugin, tool } from "./src/plugin.js";
