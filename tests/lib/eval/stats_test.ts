// Means and 95 % intervals of the eval's summary, against values worked out by hand (Student's t).
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { summarize, t95 } from "../../../lib/eval/stats.ts";

Deno.test("the 95 % interval uses Student's t for small samples and 1.96 for large ones", () => {
  // n = 4: mean 2.5, sample sd √(5/3), half-width 3.182 · sd / 2.
  const s = summarize([1, 2, 3, 4]);
  const half = 3.182 * Math.sqrt(5 / 3) / 2;
  assert(Math.abs(s.mean - 2.5) < 1e-12 && Math.abs(s.high - (2.5 + half)) < 1e-12 && s.n === 4);
  assert(Math.abs(s.low - (2.5 - half)) < 1e-12);
  assertEquals(t95(1), 12.706);
  assertEquals(t95(100), 1.96);
});

Deno.test("one value has no spread and none has no mean", () => {
  assertEquals(summarize([0.3]), { n: 1, mean: 0.3, low: 0.3, high: 0.3 });
  assert(Number.isNaN(summarize([]).mean));
});
