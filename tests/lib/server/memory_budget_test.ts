// The memory budget: the estimate follows the UNet's attention layout and refuses what is over --max-memory.
import { deepStrictEqual as assertEquals, ok, throws } from "node:assert";
import { DEFAULT_MODEL_DIR } from "../../../lib/models/defaults.ts";
import { attentionLayout, checkMemoryBudget, estimatePeakBytes } from "../../../lib/server/memory_budget.ts";

const GB = 2 ** 30;

Deno.test("the tiny demo's layout: 4 heads at full latent resolution", async () => {
  const layout = (await attentionLayout(DEFAULT_MODEL_DIR))!;
  assertEquals([layout.heads, layout.level], [4, 0]);
  ok(layout.weightBytes > 1e6 && layout.weightBytes < 1e8, String(layout.weightBytes));
});

Deno.test("the estimate covers what was measured and grows with the square of the area and with the batch", () => {
  const layout = { heads: 4, level: 0, weightBytes: 4e6 };
  const at = (s: number, batchSize = 1) => estimatePeakBytes(layout, { width: s, height: s, batchSize });
  // Measured peaks (CPU, Euler, 1 step): 384² 1.0 GB, 448² 1.7 GB, 512² 2.7 GB, 384² batch 2 1.8 GB.
  for (const [s, b, measured] of [[384, 1, 1.0], [448, 1, 1.7], [512, 1, 2.7], [384, 2, 1.8]]) {
    ok(at(s, b) >= measured * GB, `${s}² batch ${b}: ${at(s, b) / GB} GB`);
    ok(at(s, b) < 2 * measured * GB, `not wildly above the measure at ${s}²`);
  }
  ok(at(1024) > 16 * (at(512) - at(8)) / 1.01);
});

Deno.test("over the budget: a 422 naming --max-memory and the width", () => {
  const layout = { heads: 4, level: 0, weightBytes: 4e6 };
  checkMemoryBudget(layout, { width: 512, height: 512, batchSize: 1 }, 8 * GB);
  throws(
    () => checkMemoryBudget(layout, { width: 2048, height: 2048, batchSize: 1 }, 8 * GB),
    (e: Error & { loc?: unknown }) =>
      /2048×2048 with batch size 1 needs about [\d.]+ GB .*--max-memory/.test(e.message),
  );
});
