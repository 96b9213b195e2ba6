#!/usr/bin/env node
// Builds a JavaScript plugin directory into an installable directory: its
// manifest beside the component componentize-js makes from its `app.js`.
//
//     node sdk/js/build.mjs plugins/js/hydration-coach --out build/hydration-coach
//
// componentize-js builds one ES module, so `app.js` is first bundled with
// this SDK (esbuild; `import ... from "healthplug"` resolves here, the WIT
// imports `healthplug:plugin/...` stay imports). The world follows the
// manifest, because componentize-js imports every function of the world it
// builds against whether the code calls it or not: `plugin-core` /
// `connector-core` (no `storage`) unless the manifest declares `[storage]`.
// Without `[network]` the engine's `http` and `fetch-event` features are
// disabled, so the component imports no `wasi:http`; `stdio`, `random` and
// `clocks` stay (without them `console.log` goes nowhere, `Math.random` is
// the same sequence every run and `Date.now()` is frozen at build time).

import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const HERE = dirname(fileURLToPath(import.meta.url));
const WIT = resolve(HERE, "../../wit");

function fail(message) {
  console.error(`error: ${message}`);
  process.exit(1);
}

async function toolchain() {
  try {
    const { componentize } = await import("@bytecodealliance/componentize-js");
    const esbuild = await import("esbuild");
    const { parse } = await import("smol-toml");
    return { componentize, esbuild, parseToml: parse };
  } catch (e) {
    fail(`the build toolchain is not installed (${e.message}); install it: (cd ${HERE} && npm ci)`);
  }
}

/** The world to build against, and the engine features to disable. */
export function plan(manifest) {
  const kind = manifest.plugin?.world ?? "plugin";
  if (kind !== "plugin" && kind !== "connector") fail(`unknown world \`${kind}\` in the manifest`);
  const world = "storage" in manifest ? kind : `${kind}-core`;
  const disable = "network" in manifest ? ["fetch-event"] : ["http", "fetch-event"];
  return { world, disable };
}

async function exists(path) {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { out: { type: "string" }, wit: { type: "string", default: WIT }, help: { type: "boolean", short: "h" } },
  });
  if (values.help || positionals.length !== 1 || !values.out) {
    console.error("usage: node build.mjs <plugin-dir> --out <dir> [--wit <dir>]");
    process.exit(values.help ? 0 : 2);
  }
  const { componentize, esbuild, parseToml } = await toolchain();
  const pluginDir = resolve(positionals[0]);
  const out = resolve(values.out);
  const manifestPath = join(pluginDir, "healthplug.toml");
  let manifest;
  try {
    manifest = parseToml(await readFile(manifestPath, "utf8"));
  } catch (e) {
    fail(`${manifestPath}: ${e.message}`);
  }
  const component = manifest.plugin?.component;
  if (typeof component !== "string" || !component || component.includes("/") || component.startsWith(".")) {
    fail("the manifest's `component` must be a plain file name, e.g. plugin.wasm");
  }
  const entry = join(pluginDir, "app.js");
  if (!(await exists(entry))) fail(`${entry} not found (the module componentize-js builds)`);
  const { world, disable } = plan(manifest);

  const work = await mkdtemp(join(tmpdir(), "healthplug-js-"));
  try {
    const bundle = join(work, "app.js");
    await esbuild.build({
      entryPoints: [entry],
      outfile: bundle,
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      alias: { healthplug: join(HERE, "index.js") },
      external: ["healthplug:*"],
      logLevel: "warning",
    });
    const started = performance.now();
    // componentize-js maps the current directory into the build sandbox
    // when the source is under it: build from the scratch directory.
    const cwd = process.cwd();
    process.chdir(work);
    let built;
    try {
      built = await componentize({ sourcePath: bundle, witPath: resolve(values.wit), worldName: world, disableFeatures: disable });
    } finally {
      process.chdir(cwd);
    }
    await mkdir(out, { recursive: true });
    await writeFile(join(out, component), built.component);
    await copyFile(manifestPath, join(out, "healthplug.toml"));
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const mb = (built.component.length / 1e6).toFixed(1);
    console.log(`built ${join(out, component)} (world ${world}, without ${disable.join(", ")}; ${mb} MB in ${seconds} s)`);
  } catch (e) {
    fail(`building ${basename(pluginDir)}: ${e.message}`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
