// Hostile JavaScript plugin: one attack per tool (see healthplug.toml).

import { DataType, NotGranted, exportPlugin, health, log, tool } from "healthplug";

// What a JavaScript plugin could reach the outside world through, if the
// runtime gave it any: Node's, Deno's and Bun's globals, sockets, nested
// WebAssembly, workers.
const GLOBALS = ["process", "require", "Deno", "Bun", "WebSocket", "XMLHttpRequest", "WebAssembly", "Worker", "importScripts"];

export const { tools, invoke } = exportPlugin(
  tool("spin", "An endless loop", () => {
    let n = 0;
    for (;;) n++;
  }),

  tool("grow", "Allocates until something stops it", () => {
    const hoard = [];
    for (;;) hoard.push(new Uint8Array(1 << 20).fill(1));
  }),

  tool("sleep", "Waits on a timer far past the deadline", async () => {
    await new Promise((resolve) => setTimeout(resolve, 60_000));
    return { slept: true };
  }),

  tool("probe", "The globals that reach files, environment, sockets, processes", () => ({
    globals: Object.fromEntries(GLOBALS.map((name) => [name, typeof globalThis[name]])),
  })),

  tool("read-file", "Loads /etc/passwd as a module", async () => {
    // A specifier computed at run time: a literal one the bundler would
    // resolve (and refuse) at build time.
    const path = ["", "etc", "passwd"].join("/");
    const passwd = await import(path);
    return { read: String(passwd) };
  }),

  tool("fetch", "An HTTP request without [network]", async () => {
    const response = await fetch("http://93.184.216.34/");
    return { status: response.status };
  }),

  tool("ungranted", "Reads a type the user did not grant", () => {
    try {
      health.query([DataType.BODY_MASS]).lastDays(30).fetch();
      return { read: true };
    } catch (e) {
      if (e instanceof NotGranted) return { refused: e.reason };
      throw e;
    }
  }),

  tool("refused", "Reads a type the user did not grant, without catching the refusal", () => {
    health.query([DataType.BODY_MASS]).lastDays(30).fetch();
    return { read: true };
  }),

  tool("throw", "A bug: an uncaught TypeError", () => {
    const nothing = null;
    return nothing.field;
  }),

  tool("steps", "A benign read, in an async handler", async () => {
    await Promise.resolve();
    let steps = 0;
    for (const s of health.query([DataType.STEPS]).lastDays(30).fetch()) steps += s.value;
    return { steps };
  }),

  // 1.2 MB of JSON over the 1 MiB cap, in rows: componentize-js hands a
  // result over at a few MB/s, and one multi-MB string can exhaust 64 MiB
  // inside JSON.stringify before the cap is reached.
  tool("huge", "A result over the output cap", () => ({ rows: Array.from({ length: 12_000 }, () => "x".repeat(100)) })),

  tool("flood", "Logs far over the log cap, with escapes", () => {
    // Under the host-call cap (10,000), far over the 64 KiB log cap;
    // console.log goes to the same log, as `stdout`.
    console.log("STDOUT \x1b[2J\x1b]0;pwned\x07 cleared?");
    for (let i = 0; i < 5_000; i++) log.info(`FLOOD ${i} \x1b]0;pwned\x07 ` + "x".repeat(100));
    return { logged: 5_000 };
  }),
);
