// Bench Sum in JavaScript: queries samples and sums their values in the
// guest, as the Rust bench-sum fixture does (B4, B13).

import { DataType, exportPlugin, health, tool } from "healthplug";

const sum = tool("sum", "Query raw samples and sum their values", { params: { count_only: { type: "boolean" } } }, (args) => {
  const samples = health.query([DataType.STEPS]).between(0, Number.MAX_SAFE_INTEGER).fields("value").fetch();
  if (args.count_only) return { count: samples.length };
  let total = 0;
  for (const v of samples.values ?? []) total += v;
  return { count: samples.length, sum: total };
});

const noop = tool("noop", "Return at once", () => ({}));

export const { tools, invoke } = exportPlugin(sum, noop);
