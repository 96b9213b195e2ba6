// Log lines kept with the invocation (size-capped and stripped of control
// characters by the host, never printed by it). `console.log` and
// `console.error` go there too, as `stdout` and `stderr`.

import { log } from "healthplug:plugin/log@0.1.0";

const emit = (level) => (message) => log(level, String(message));

/** Very detailed tracing. */
export const trace = emit("trace");
/** A detail. */
export const debug = emit("debug");
/** Normal operation. */
export const info = emit("info");
/** Something unexpected but handled. */
export const warn = emit("warn");
/** A failure. */
export const error = emit("error");
